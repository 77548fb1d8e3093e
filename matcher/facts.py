"""Clinical facts (steroid equivalence, half-lives, taper schedule, action burdens).

Defaults ship in ``matcher/data/facts.yaml``; a trial overrides them under
``defaults:`` in its YAML file, and the merged facts are what its rules use.
"""

from __future__ import annotations

import os
from functools import cache, cached_property
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from matcher.errors import FactsError
from matcher.names import drug_key, drug_list_parts, holds_stem, spelling_key
from matcher.site_facts import laid_over

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
    high_dose_since: str  # the start of a current >= 1 mg/kg/day course: a taper below it ends the course
    high_dose_received: str  # ... which was received all the same


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
    # A drug the class holds that also has its own last-dose column: stopping it dates that column and leaves
    # the record of an earlier stop as it is (review 27 M1: a stopped cyclophosphamide written as the stopped
    # conventional drug fell outside the washout that reads it).
    own_last_dose: dict[str, str] = {}

    @property
    def columns(self) -> set[str]:
        """Every column a stop may write."""
        return {self.name, self.start, self.changed, self.last_dose, self.stopped_name, *self.own_last_dose.values()}


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
    ruled_out_when: str | None = None  # a flag recorded true that a repeat may not overturn (a positive test)
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
    biologic_name_stems: tuple[str, ...] = ()  # INN stems: no drug a known_names_only column takes holds one
    placeholders: tuple[str, ...] = ()  # what a record writes for a value it does not give ("n/a")

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
        """No drug named as a biologic (``biologic_name_stems``) is one a column of conventional drugs takes
        (``known_names_only``): a trial that reads each biologic's own column would pass it there unchecked (round
        20: a site's epratuzumab in the conventional class)."""
        for column, names in self.known_names_only.items():
            taken = [drug for name in names for drug in self.drug_classes.get(name, (name,))]
            biologics = sorted(drug for drug in taken if holds_stem(drug, self.biologic_name_stems))
            if biologics:
                raise ValueError(
                    f"{column} takes {', '.join(biologics)}, named as a biologic (its name holds an INN stem of"
                    " biologic_name_stems): a biologic belongs in the biologic class, and the cohort records it in"
                    " other_biologic"
                )
        return self

    @model_validator(mode="after")
    def _own_last_dose_of_a_current_drug(self) -> Facts:
        """A drug stopped into its own last-dose column is one the current-drug column takes, and the column is a
        withheld drug's: a stop writes the column the trials' washouts of that drug read."""
        stop = self.change.immunosuppressant
        taken = {
            drug for name in self.known_names_only.get(stop.name, ()) for drug in self.drug_classes.get(name, (name,))
        }
        withheld = {drug.column for drug in self.change.withheld_drugs}
        for drug, column in stop.own_last_dose.items():
            if drug not in taken:
                raise ValueError(f"change: own_last_dose: {drug} is not a drug {stop.name} takes")
            if column not in withheld:
                raise ValueError(f"change: own_last_dose: {column} is not a withheld drug's last-dose column")
        return self

    def is_placeholder(self, text: str) -> bool:
        return drug_key(text) in {drug_key(word) for word in self.placeholders}

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
        parts = [drug_key(part) for part in drug_list_parts(text)]
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
        for part in drug_list_parts(text):
            key = drug_key(part)
            if key in self._drug_by_key:
                known.add(self._drug_by_key[key])
            else:
                unread.append(part)
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
        if drug_class is not None and self.of_another_class(drug_class, word):
            return False  # the record contradicts itself
        return self.knows_drug(word)

    def of_another_class(self, drug_class: str, word: str) -> bool:
        """Whether ``word`` (lower-cased, canonical) is a drug the facts know that is not of ``drug_class``: written
        where that class is recorded, the record contradicts itself, and the words say so (review 78 M3)."""
        return word not in self.drug_classes.get(drug_class, ()) and self.knows_drug(word)

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
    half-lives, class members, spellings.  Nothing it writes may end a washout early or read a dose or a code
    otherwise (``site_facts.laid_over``).
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
            document = laid_over(document, overrides)
        except ValueError as exc:
            raise FactsError(f"{SITE_FACTS}={site}: {exc}") from exc
    try:
        return Facts.model_validate(document)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        message = str(first["msg"]).removeprefix("Value error, ")  # a validator's own words, which name the entry
        raise FactsError(f"{SITE_FACTS}={site}: {f'{where}: ' if where else ''}{message}") from exc
