"""Clinical facts (steroid equivalence, half-lives, taper schedule, action burdens).

Defaults ship in ``matcher/data/facts.yaml``; a trial overrides them under
``defaults:`` in its YAML file, and the merged facts are what its rules use.
"""

from __future__ import annotations

import os
import re
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
    above: float
    step_mg: float = Field(gt=0)
    every_days: int = Field(gt=0)


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
    """A spelling as it is matched: lower case, without spaces, hyphens or underscores ("IV-G" as "ivg")."""
    return re.sub(r"[\s_-]+", "", name.strip().lower())


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
            for spelling in {spelling_key(name), *map(spelling_key, others)}:
                if owner.setdefault(spelling, name) != name:
                    raise ValueError(f"{spelling!r} is a spelling of both {owner[spelling]} and {name}")
        return self

    @cached_property
    def _canonical(self) -> dict[str, str]:
        names = {spelling_key(name): name for name in self.spellings}
        for name, others in self.spellings.items():
            names.update((spelling_key(other), name) for other in others)
        return names

    def canonical(self, column: str, words: list[str]) -> list[str]:
        """``words`` of ``column`` (lower-cased), each drug spelling replaced by the name facts.yaml uses."""
        if column not in self.columns:
            return words
        return [self._canonical.get(spelling_key(word), word) for word in words]


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
    spellings: dict[str, dict[str, tuple[str, ...]]] = Field(default_factory=dict)
    taper_schedule: tuple[TaperStep, ...] = Field(min_length=1)
    action_burden_days: dict[str, int]
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
            unknown = sorted(drug for group in groups for drug in group.drugs if not self.knows_drug(drug))
            if unknown:
                raise ValueError(f"recorded_elsewhere: {', '.join(unknown)} is not a drug these facts know")
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
        drugs = {spelling_key(name): name for name in self._known_drugs}
        drugs.update({spelling_key(word): word for word in (*self.drug_classes, "none")})
        for name, others in self.drug_names.spellings.items():
            for other in others:
                key, own = spelling_key(other), spelling_key(name)
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
        return self.model_copy(
            update={
                "half_lives_days": {**self.half_lives_days, **half_lives_days},
                "steroid_equivalent_mg": {**self.steroid_equivalent_mg, **steroid_equivalent_mg},
            }
        )

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
            _no_drug_moved(bundled["drug_classes"], document["drug_classes"])
            _new_names_name_no_known_drug(bundled, overrides)
        except ValueError as exc:
            raise FactsError(f"{SITE_FACTS}={site}: {exc}") from exc
    try:
        return Facts.model_validate(document)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise FactsError(f"{SITE_FACTS}={site}: {where}: {first['msg']}") from exc


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
        known[spelling_key(name)] = name
    for members in bundled["drug_classes"].values():
        known.update((spelling_key(member), member) for member in members)
    for name, others in spellings.items():
        known.update((spelling_key(other), name) for other in others)
    added: list[tuple[str, str]] = [(str(name), str(name)) for name in site.get("half_lives_days", {})]
    added += [(str(m), str(m)) for members in site.get("drug_classes", {}).values() for m in members or ()]
    for name, others in (site.get("drug_names", {}).get("spellings") or {}).items():
        added += [(str(name), str(name))] + [(str(name), str(other)) for other in others or ()]
    for drug, word in added:
        own = {k for k, v in known.items() if v == drug}  # the names the bundled facts give this drug, if any
        rest = spelling_key(word)
        for key in sorted(own, key=len, reverse=True):
            rest = rest.replace(key, " ")
        named = next((known[k] for k in known if known[k] != drug and k in rest), None)
        if named is not None:
            raise ValueError(f"{word!r} ({drug}) names {named!r}, a drug the facts know")


def _lay_over(bundled: Any, site: Any, path: tuple[str, ...]) -> Any:
    """The site's entry over the bundled one.  Its own practice (``_PRACTICE``) it sets: mappings merged key by
    key, other values replaced.  Elsewhere, clinical facts, it may only add: new keys, new list items, a
    longer half-life.  Removing or changing one could end a washout early or read a dose or a code otherwise
    (a shorter half-life, a class emptied, a steroid equivalence changed)."""
    where = ".".join(path)
    if isinstance(bundled, dict) and isinstance(site, dict):
        merged = dict(bundled)
        for key, value in site.items():
            merged[key] = _lay_over(bundled[key], value, (*path, str(key))) if key in bundled else value
        return merged
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
    except (TypeError, ValueError):
        return float("nan")


def _no_drug_moved(bundled: dict[str, list[str]], merged: dict[str, list[str]]) -> None:
    """A site adds drugs the bundled classes do not hold; one that a bundled class holds keeps its classes
    (mycophenolate added to the anti-CD20 class would be washed out by its own 4 days there)."""
    held = {drug for members in bundled.values() for drug in members}
    for name, members in merged.items():
        moved = sorted(set(members) - set(bundled.get(name, ())) & held)
        if moved:
            raise ValueError(f"drug_classes.{name}: {', '.join(moved)} already belongs to another class")
