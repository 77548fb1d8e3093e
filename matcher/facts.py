"""Clinical facts (steroid equivalence, half-lives, taper schedule, action burdens).

Defaults ship in ``matcher/data/facts.yaml``; a trial overrides them under
``defaults:`` in its YAML file, and the merged facts are what its rules use.
"""

from __future__ import annotations

import os
import re
import unicodedata
from functools import cache, cached_property
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from matcher.errors import FactsError

Positive = Annotated[float, Field(gt=0, le=10_000, allow_inf_nan=False)]  # a half-life, an equivalence, a tablet


class TaperStep(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    above: float = Field(ge=0, le=10_000, allow_inf_nan=False)
    step_mg: Positive
    every_days: int = Field(gt=0, le=365)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class GlucocorticoidColumns(_Frozen):
    dose: str
    drug: str
    changed: str
    taper_failed: str


class WithheldDrug(_Frozen):
    column: str
    drug: str
    besides: str = ""  # doses the withholding does not stop ("the trial's own lymphodepletion")
    name_column: str | None = None  # where the record names the drug (the note says "rituximab", not the class)


class ImmunosuppressantColumns(_Frozen):
    name: str
    start: str
    changed: str
    last_dose: str
    stopped_name: str


class Contraindication(_Frozen):
    """A known value (``field op value``): one that rules an invasive test out, or makes a judgement relevant."""

    field: str
    op: str
    value: float
    reason: str


class RepeatableTest(_Frozen):
    name: str
    date: str
    sets: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    pending: tuple[str, ...] = ()
    condition: str
    applies_when: str | None = None
    invasive: bool = False
    lead_days: int = Field(0, ge=0)
    contraindications: tuple[Contraindication, ...] = ()


class AdministrativeStep(_Frozen):
    column: str
    name: str


class Lab(_Frozen):
    name: str
    columns: tuple[str, ...]  # what a new draw changes, values computed from it included


class LabRetests(_Frozen):
    """Labs that can change between two draws: repeated only when the value lies near a limit the trial sets."""

    near_pct: float = Field(gt=0)
    labs: tuple[Lab, ...]


class Judgement(_Frozen):
    """An attribution the investigator makes (a cytopenia due to the disease), asked only when a finding is there."""

    column: str
    name: str
    when_any: tuple[Contraindication, ...]


class ChangeModel(_Frozen):
    """Which columns what-if actions may change; every other column is immutable."""

    glucocorticoid: GlucocorticoidColumns
    withheld_drugs: tuple[WithheldDrug, ...]
    immunosuppressant: ImmunosuppressantColumns
    tests: tuple[RepeatableTest, ...]
    administrative: tuple[AdministrativeStep, ...]
    retests: LabRetests
    judgements: tuple[Judgement, ...] = ()


def spelling_key(name: str) -> str:
    """A spelling as it is matched: lower case, without spaces, dashes or underscores ("IV-G" as "ivg").

    Unicode variants read as the plain letters (full-width "ｒｉｔｕｘｉｍａｂ", an accent, a zero-width space or a
    soft hyphen inside a name), so that no variant of a known name can be made to spell another drug or code."""
    text = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", name)).casefold()
    return "".join(ch for ch in text if ch not in _BLANK_LETTERS and unicodedata.category(ch) not in _NOT_SPELLED)


def drug_key(name: str) -> str:
    """A drug's name as it is matched: as ``spelling_key``, and without dots ("ritu.ximab"); codes keep theirs, as
    "II.I" is no class III."""
    return spelling_key(name).replace(".", "").strip(",;:")


# What separates the drugs of a list written in one cell ("tacrolimus with prednisone", "MMF (prednisone)").
DRUG_LIST_SEPARATORS = r"[;,+/&|()\[\]\n]| and | with | plus "

# Combining marks, format characters (zero-width space, soft hyphen), separators, dashes and control characters;
# the underscore, and characters drawn blank though counted as letters or symbols (Hangul fillers, braille blank).
_NOT_SPELLED = frozenset({"Mn", "Me", "Cf", "Cc", "Zs", "Zl", "Zp", "Pd"})
_BLANK_LETTERS = frozenset("_\u115f\u1160\u3164\uffa0\u2800")


class DrugNames(BaseModel):
    """The spellings a site may record for each drug, and the columns that hold drug names."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    columns: tuple[str, ...]
    class_of_column: dict[str, str] = Field(default_factory=dict)
    unknown_name_classes: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    spellings: dict[str, tuple[str, ...]]

    @model_validator(mode="after")
    def _one_drug_per_spelling(self) -> DrugNames:
        """A spelling names one drug: "belimumab" added as a spelling of telitacicept would wash belimumab out
        by telitacicept's shorter half-life."""
        owner: dict[str, str] = {}
        for name, others in self.spellings.items():
            for spelling in {drug_key(name), *map(drug_key, others)}:
                if not spelling:  # "-" would spell the placeholder a record writes for nothing
                    raise ValueError(f"a spelling of {name} has no letter or digit")
                if owner.setdefault(spelling, name) != name:
                    raise ValueError(f"{spelling!r} is a spelling of both {owner[spelling]} and {name}")
        return self


class RecordedElsewhere(BaseModel):
    """Drugs the cohort contract records in columns of their own, so a drug column that names one is misread."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    drugs: tuple[str, ...] = Field(min_length=1)
    record_in: tuple[str, ...] = Field(min_length=1)


class Facts(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    steroid_equivalent_mg: dict[str, Positive]
    half_lives_days: dict[str, Positive]
    drug_classes: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    open_drug_classes: tuple[str, ...] = ()  # classes whose members the facts do not all list
    drug_names: DrugNames
    none_contradicted_by: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    recorded_elsewhere: dict[str, tuple[RecordedElsewhere, ...]] = Field(default_factory=dict)
    known_names_only: dict[str, tuple[str, ...]] = Field(default_factory=dict)  # column: the drugs, classes it takes
    biologic_name_endings: tuple[str, ...] = ()  # INN stems: no class a known_names_only column takes has one

    def takes(self, column: str, word: str) -> bool:
        """Whether a ``known_names_only`` column takes ``word`` (lower-cased, canonical): a drug it lists, a member
        of a class it lists, or ``none``."""
        allowed = self.known_names_only.get(column)
        if allowed is None or word == "none":
            return True
        return any(word == name or word in self.drug_classes.get(name, ()) for name in allowed)

    spellings: dict[str, dict[str, tuple[str, ...]]] = Field(default_factory=dict)
    taper_schedule: tuple[TaperStep, ...] = Field(min_length=1)
    action_burden_days: dict[str, Annotated[int, Field(ge=0, le=10_000)]]
    tablet_mg: dict[str, Positive]
    change: ChangeModel

    @model_validator(mode="after")
    def _taper_to_zero(self) -> Facts:
        """Every dose has a band: the last one applies above 0 mg."""
        if min(step.above for step in self.taper_schedule) > 0:
            raise ValueError("taper_schedule: no band applies at the lowest doses (the last band is above: 0)")
        return self

    @model_validator(mode="after")
    def _one_code_per_spelling(self) -> Facts:
        """A coded column's spelling names one code ("ii" also spelling class IV would pass class II)."""
        for column, codes in self.spellings.items():
            owner: dict[str, str] = {}
            for code, others in codes.items():
                for spelling in {spelling_key(code), *map(spelling_key, others)}:
                    if owner.setdefault(spelling, code) != code:
                        raise ValueError(f"{column}: {spelling!r} is a spelling of both {owner[spelling]} and {code}")
        return self

    @model_validator(mode="after")
    def _recorded_elsewhere_from_drug_columns(self) -> Facts:
        """Only a drug-name column can name a drug that belongs elsewhere, and only a drug the facts know."""
        for column, groups in self.recorded_elsewhere.items():
            if column not in self.drug_names.columns:
                raise ValueError(f"recorded_elsewhere: {column} is not a drug-name column")
            unknown = sorted(
                drug
                for group in groups
                for drug in group.drugs
                if not self.knows_drug(drug) and drug not in self.drug_classes
            )
            if unknown:
                raise ValueError(f"recorded_elsewhere: {', '.join(unknown)} is not a drug these facts know")
        return self

    @model_validator(mode="after")
    def _no_biologic_taken_as_conventional(self) -> Facts:
        """No drug named as a biologic (``biologic_name_endings``) is one a column of conventional drugs takes
        (``known_names_only``): a trial that reads each biologic's own column would pass it there unchecked (round
        20: a site's epratuzumab in the conventional class)."""
        endings = self.biologic_name_endings
        for column, names in self.known_names_only.items():
            taken = [drug for name in names for drug in self.drug_classes.get(name, (name,))]
            biologics = sorted(drug for drug in taken if endings and drug_key(drug).endswith(endings))
            if biologics:
                raise ValueError(
                    f"{column} takes {', '.join(biologics)}, named as a biologic (-{', -'.join(endings)}): a"
                    " biologic belongs in the biologic class, and the cohort records it in other_biologic"
                )
        return self

    @model_validator(mode="after")
    def _no_half_life_for_a_class(self) -> Facts:
        """A class's half-lives are its members' (a site's ``anti_cd20: 1`` would replace the class's range)."""
        classes = sorted(set(self.half_lives_days) & set(self.drug_classes))
        if classes:
            raise ValueError(f"half_lives_days: {', '.join(classes)} is a drug class: give its members' half-lives")
        return self

    @model_validator(mode="after")
    def _spellings_name_no_other_drug(self) -> Facts:
        """A spelling is never another drug's own name (tocilizumab as a spelling of telitacicept would wash it out
        by the shorter half-life)."""
        drugs = {drug_key(name): name for name in self._known_drugs}
        drugs.update({drug_key(word): word for word in (*self.drug_classes, "none")})
        for name, others in self.drug_names.spellings.items():
            for other in others:
                key, own = drug_key(other), drug_key(name)
                # "rituximab 500 mg" as a spelling of hydroxychloroquine names rituximab all the same (a name
                # within the drug's own, chloroquine in hydroxychloroquine sulfate, does not)
                named = drugs.get(key, name) if drugs.get(key, name) != name else None
                named = named or next((d for k, d in drugs.items() if k in key and k not in own and d != name), None)
                if named is not None:
                    raise ValueError(f"{other!r}, a spelling of {name}, names {named!r}")
        return self

    def with_overrides(self, half_lives_days: dict[str, float], steroid_equivalent_mg: dict[str, float]) -> Facts:
        if not half_lives_days and not steroid_equivalent_mg:
            return self
        longest = {drug: max(days, self.half_lives_days.get(drug, days)) for drug, days in half_lives_days.items()}
        return self.model_copy(
            update={
                # a trial's default never shortens a half-life a site lengthened or gave (review round 17)
                "half_lives_days": {**self.half_lives_days, **longest},
                "steroid_equivalent_mg": {**self.steroid_equivalent_mg, **steroid_equivalent_mg},
            }
        )

    def belongs_elsewhere(self, column: str, text: str) -> tuple[str, tuple[str, ...]] | None:
        """The first drug that ``text`` (a lower-cased cell of drug column ``column``) names and that the contract
        records in columns of its own, with those columns; None if it names none.

        Each part of a list ("prednisone; mycophenolate") is read, and a part counts when it begins with the
        drug's name or a spelling of it ("dexamethasone sodium phosphate", "privigen 10%"), so that no salt,
        strength or companion drug lets a misplaced one through."""
        parts = [drug_key(part) for part in re.split(DRUG_LIST_SEPARATORS, text) if drug_key(part)]
        for starts, drug, columns in self._placed_elsewhere.get(column, ()):
            if any(part.startswith(starts) for part in parts):
                return drug, columns
        return None

    @cached_property
    def _placed_elsewhere(self) -> dict[str, list[tuple[str, str, tuple[str, ...]]]]:
        """Per column, (a spelling key, its drug, where the drug belongs): a class stands for its members, and a
        drug an earlier group places is not placed again by a later class ("biologic" after belimumab's own)."""
        spelled: dict[str, set[str]] = {}
        for drug, others in self.drug_names.spellings.items():
            spelled[drug] = {drug_key(other) for other in others}
        placed: dict[str, list[tuple[str, str, tuple[str, ...]]]] = {}
        for column, groups in self.recorded_elsewhere.items():
            seen: set[str] = set()
            for group in groups:
                for name in group.drugs:
                    for drug in self.drug_classes.get(name, (name,)):
                        if drug not in seen:
                            seen.add(drug)
                            keys = {drug_key(drug)} | spelled.get(drug, set())
                            placed.setdefault(column, []).extend((key, drug, group.record_in) for key in keys)
        return placed

    def half_life_range(self, drug: str) -> tuple[float, float] | None:
        """Shortest and longest half-life (days) a drug or drug class may have; None if not known.

        A class (``drug_classes``) spans its members, so a washout whose drug is not named
        is decided only where every member would decide it the same way.
        """
        name = drug.lower()
        if name in self.half_lives_days:
            return self.half_lives_days[name], self.half_lives_days[name]
        members = [self.half_lives_days[m] for m in self.drug_classes.get(name, ()) if m in self.half_lives_days]
        return (min(members), max(members)) if members else None

    @cached_property
    def _known_drugs(self) -> frozenset[str]:
        members = (m for group in self.drug_classes.values() for m in group)
        return frozenset([*self.drug_names.spellings, *self.half_lives_days, *self.steroid_equivalent_mg, *members])

    @cached_property
    def _drug_by_key(self) -> dict[str, str]:
        """Every name and spelling of a drug the facts know (and ``none``), by ``drug_key``, to the drug's name."""
        names = {drug_key(name): name for name in self._known_drugs}
        for name, others in self.drug_names.spellings.items():
            names.update((drug_key(other), name) for other in others)
        names["none"] = "none"
        return names

    def drugs_in(self, text: str) -> tuple[set[str], list[str]]:
        """The drugs the facts know (or ``none``) that a cell's parts name, each by its name in the facts, and
        the parts that name none of them ("oral" in "MTX (oral)"; a drug the facts lack)."""
        known: set[str] = set()
        unread: list[str] = []
        for part in re.split(DRUG_LIST_SEPARATORS, text):
            key = drug_key(part)
            if key in self._drug_by_key:
                known.add(self._drug_by_key[key])
            elif key:
                unread.append(part.strip())
        return known, unread

    def canonical_names(self, column: str, words: list[str]) -> list[str]:
        """``words`` of ``column`` (lower-cased), in a drug-name column each as the name facts.yaml uses for the
        one drug it names: a spelling ("mmf"), or the drug with its brand or a trailing comma ("azathioprine
        (imuran)").  A word naming no drug the facts know, more than one, or one beside words not read stays as
        written, so that every criterion and half-life sees one name per drug and no name hides another."""
        if column not in self.drug_names.columns:
            return words
        return [self._one_drug(word) or word for word in words]

    def _one_drug(self, word: str) -> str | None:
        whole = self._drug_by_key.get(drug_key(word))
        if whole is not None:
            return whole
        known, unread = self.drugs_in(word)
        return next(iter(known)) if len(known) == 1 and not unread else None

    def recognises(self, column: str, word: str) -> bool:
        """Whether ``word`` (lower-cased, canonical) in ``column`` says what it is.

        In a drug-name column, a name outside facts.yaml could be any drug, so which drug it is
        stays unknown: never taken for "not rituximab".  ``none`` says there is none.
        """
        if column not in self.drug_names.columns or word == "none":
            return True
        drug_class = self.drug_names.class_of_column.get(column)
        if drug_class is not None and word not in self.drug_classes.get(drug_class, ()):
            return False  # a drug the facts know of another kind: the record contradicts itself
        return self.knows_drug(word)

    def code_of(self, column: str) -> dict[str, str]:
        """Column ``column``'s other spellings (as ``spelling_key`` makes them), each to its code."""
        codes = self.spellings.get(column, {})
        return {spelling_key(other): code for code, others in codes.items() for other in (code, *others)}

    def knows_drug(self, name: str) -> bool:
        """Whether ``name`` (lower-cased, canonical) is a drug these facts know."""
        return name in self._known_drugs

    def cache_key(self) -> tuple[Any, ...]:
        return tuple(sorted(self.steroid_equivalent_mg.items())), tuple(sorted(self.half_lives_days.items()))


SITE_FACTS = "MATCHER_SITE_FACTS"


@cache
def default_facts() -> Facts:
    """The bundled facts, with a site's own entries (``$MATCHER_SITE_FACTS``, a YAML file) laid over them.

    A site sets its own practice (``action_burden_days``, ``tablet_mg``, ``taper_schedule``) and adds drugs:
    half-lives, class members, spellings (``_SITE_MAY``).  Nothing it writes may end a washout early or read
    a dose or a code otherwise (``_lay_over``, ``_new_names_name_no_known_drug``).
    """
    text = resources.files("matcher").joinpath("data/facts.yaml").read_text("utf-8")
    document = yaml.safe_load(text)
    site = os.environ.get(SITE_FACTS)
    if site:
        try:
            overrides = yaml.safe_load(Path(site).read_text("utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise FactsError(f"{SITE_FACTS}={site}: cannot be read: {exc}") from exc
        if not isinstance(overrides, dict):
            raise FactsError(f"{SITE_FACTS}={site}: expected a mapping of facts.yaml entries")
        try:
            _only_what_a_site_may(overrides)
            bundled = document  # _lay_over builds a new document and leaves this one as it is
            document = _lay_over(document, overrides, ())
            _new_names_name_no_known_drug(bundled, overrides)
            _no_drug_moved(bundled, document["drug_classes"])
        except ValueError as exc:
            raise FactsError(f"{SITE_FACTS}={site}: {exc}") from exc
    try:
        return Facts.model_validate(document)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        message = str(first["msg"]).removeprefix("Value error, ")  # a validator's own words, which name the entry
        raise FactsError(f"{SITE_FACTS}={site}: {f'{where}: ' if where else ''}{message}") from exc


# A site's own practice, which it sets as it likes: what a plan's actions cost, the tablets it stocks, its taper.
_PRACTICE = ("action_burden_days", "tablet_mg", "taper_schedule")
# What a site may write: its practice, and drugs the bundled facts lack (half-lives, class members, spellings).
# Codes' spellings, steroid equivalences, the columns holding drug names and the what-if change model are not a
# site's: reviewers re-read a diagnosis, a dose and a biopsy result through each of them.
_SITE_MAY = {**dict.fromkeys(_PRACTICE, ()), "half_lives_days": (), "drug_classes": (), "drug_names": ("spellings",)}


def _only_what_a_site_may(site: dict[str, Any]) -> None:
    for key, value in site.items():
        if key not in _SITE_MAY:
            raise ValueError(f"{key}: not a site's to change (a site sets {', '.join(_PRACTICE)} and adds drugs)")
        inner = _SITE_MAY[key]
        if inner and isinstance(value, dict) and set(value) - set(inner):
            raise ValueError(f"{key}: a site may set only {', '.join(inner)} here")


def _new_names_name_no_known_drug(bundled: dict[str, Any], site: dict[str, Any]) -> None:
    """A drug or spelling a site adds names no drug the bundled facts know, once its own drug's names are taken
    out ("mabthera sc" as ofatumumab is rituximab; "chloroquine diphosphate" as hydroxychloroquine is chloroquine;
    "prednisone acetate" as a new drug is prednisone)."""
    spellings = bundled["drug_names"]["spellings"]
    known: dict[str, str] = {}
    for name in [*bundled["half_lives_days"], *bundled["steroid_equivalent_mg"], *spellings]:
        known[drug_key(name)] = name
    for members in bundled["drug_classes"].values():
        known.update((drug_key(member), member) for member in members)
    for name, others in spellings.items():
        known.update((drug_key(other), name) for other in others)
    added: list[tuple[Any, Any]] = [(name, name) for name in site.get("half_lives_days", {})]
    added += [(m, m) for members in site.get("drug_classes", {}).values() for m in members or ()]
    for name, others in (site.get("drug_names", {}).get("spellings") or {}).items():
        added += [(name, name)] + [(name, other) for other in others or ()]
    not_drugs = {drug_key(word) for word in bundled["drug_classes"]} | {"none"}
    for drug, word in added:
        if not isinstance(word, str) or not isinstance(drug, str):  # a null, a number, a date or !!binary bytes
            raise ValueError(f"{word!r} ({drug!r}): a drug's name is text")
        key = drug_key(word)
        if not key or key in not_drugs or drug_key(drug) in not_drugs:
            raise ValueError(f"{word!r} ({drug}): a drug's name, not a class, `none` or a word without letters")
        if _mixes_scripts(word):
            raise ValueError(f"{word!r} ({drug}) mixes Latin letters with look-alikes of another script")
        own = {k for k, v in known.items() if v == drug}  # the names the bundled facts give this drug, if any
        rest = key
        for part in sorted(own, key=len, reverse=True):
            rest = rest.replace(part, " ")
        named = next((known[k] for k in known if known[k] != drug and _names(k, key, rest, own)), None)
        if named is not None:
            raise ValueError(f"{word!r} ({drug}) names {named!r}, a drug the facts know")
    given = {drug_key(str(name)) for name in site.get("half_lives_days", {})}
    for name in site.get("drug_names", {}).get("spellings") or {}:
        if drug_key(str(name)) not in set(known) | given:
            # a name only a trial's defaults give a half-life (other_b_cell_depletion) would lend it to the spelling
            raise ValueError(f"drug_names.spellings.{name}: spell a drug the facts know, or give it a half-life")


def _names(known: str, key: str, rest: str, own: set[str]) -> bool:
    """Whether a new name (``key``; ``rest`` once its drug's own names are taken out) names the drug ``known``
    spells: it holds that name outside its own drug's names ("chloroquine diphosphate" as hydroxychloroquine),
    or anywhere except as part of one of them ("campath 1h" as mycophenolate, whose "mpa" cuts "campath"), or
    begins with its first letters ("ritux", "ritux 1g" as ofatumumab)."""
    inside_own = any(known in name for name in own)
    lead = re.split(r"\d", key, maxsplit=1)[0]  # "ritux" of "ritux 1g": a dose after the first letters
    return known in rest or (known in key and not inside_own) or (len(lead) >= 4 and known.startswith(lead))


def _mixes_scripts(word: str) -> bool:
    """Plain Latin letters beside any other letter: a look-alike of a Latin name ("rіtuximab" with a Cyrillic і,
    "rıtuximab" with a dotless ı).  A name wholly in another script (利妥昔单抗) is not a look-alike."""
    letters = [ch for ch in drug_key(word) if ch.isalpha()]
    return any(ch.isascii() for ch in letters) and not all(ch.isascii() for ch in letters)


def _lay_over(bundled: Any, site: Any, path: tuple[str, ...]) -> Any:
    """The site's entry over the bundled one.  Its own practice (``_PRACTICE``) it sets: mappings merged key by
    key, other values replaced.  Elsewhere, clinical facts, it may only add: new keys, new list items, a
    longer half-life.  Removing or changing one could end a washout early or read a dose or a code otherwise
    (a shorter half-life, a class emptied, a steroid equivalence changed)."""
    where = ".".join(path)
    if isinstance(bundled, dict) and isinstance(site, dict):
        merged = dict(bundled)
        for key, value in site.items():
            if key not in bundled and path[:1] and path[0] in _PRACTICE:  # a misspelt action or drug changes nothing
                raise ValueError(f"{where}.{key}: not one of {', '.join(map(str, bundled))}")
            merged[key] = _lay_over(bundled[key], value, (*path, str(key))) if key in bundled else value
        return merged
    if isinstance(bundled, dict):
        raise ValueError(f"{where}: a mapping of entries, as in the bundled facts")
    if path[:1] and path[0] in _PRACTICE:
        return site
    if isinstance(bundled, list):
        if not isinstance(site, list):
            raise ValueError(f"{where}: a list of entries to add to the bundled ones")
        return bundled + [item for item in site if item not in bundled]
    if path[:1] == ("half_lives_days",):
        if _number(site) >= bundled:
            return site
        raise ValueError(f"{where}: {site} days is shorter than the bundled {bundled}; a site may only lengthen it")
    if site != bundled:
        raise ValueError(f"{where}: a site may add to the bundled facts, not change them (bundled: {bundled})")
    return site


def _number(value: Any) -> float:
    """A site's value as the facts will read it ("1" is 1); NaN where it is no number (validation refuses it)."""
    try:
        return float(value)
    except (TypeError, ValueError, OverflowError):
        return float("nan")


def _no_drug_moved(bundled: dict[str, Any], merged: dict[str, list[str]]) -> None:
    """A site adds to a class only drugs the bundled facts do not know: a known one keeps its classes, or its
    having none (mycophenolate, or cyclophosphamide, added to the anti-CD20 class would be washed out by its own
    few days there)."""
    spellings = bundled["drug_names"]["spellings"]
    held = {drug for members in bundled["drug_classes"].values() for drug in members}
    held |= {*bundled["half_lives_days"], *bundled["steroid_equivalent_mg"], *spellings}
    held |= {other for others in spellings.values() for other in others}
    held_keys = {drug_key(drug) for drug in held}
    for name, members in merged.items():
        moved = sorted(m for m in set(members) - set(bundled["drug_classes"].get(name, ())) if drug_key(m) in held_keys)
        if moved:
            raise ValueError(
                f"drug_classes.{name}: {', '.join(moved)} is a drug the bundled facts know, of its own class"
            )
