"""The cohort contract: the column names, types and units users build extracts against.

The list ships with the package (``matcher/data/cohort-columns.csv``, a copy of
``shared/spec/cohort-columns.csv``) so an installed matcher needs no checkout.
The plausible range of each number and date column is data too
(``matcher/data/plausible-ranges.csv``), so a bound is changed without code.
"""

from __future__ import annotations

import csv
import difflib
import re
from collections.abc import Collection
from dataclasses import dataclass, replace
from functools import cache
from importlib import resources
from typing import Literal, cast

from matcher import ir

ColumnKind = Literal["id", "date", "float", "int", "bool", "text", "enum"]


@dataclass(frozen=True)
class Column:
    name: str
    kind: ColumnKind
    unit: str
    meaning: str
    stem: str | None
    molar_mass_g_mol: float | None
    codes: tuple[str, ...] = ()
    label: str = ""  # what a clinician calls it in a sentence ("eGFR", "platelets")

    @property
    def numeric(self) -> bool:
        return self.kind in ("float", "int")


def _parse_row(row: dict[str, str]) -> Column:
    raw_type = row["type"].strip()
    codes: tuple[str, ...] = ()
    kind: ColumnKind
    if raw_type.startswith("enum(") and raw_type.endswith(")"):
        kind = "enum"
        codes = tuple(code.strip() for code in raw_type[5:-1].split("|"))
    elif raw_type in ("id", "date", "float", "int", "bool", "text"):
        kind = raw_type  # type: ignore[assignment]
    else:
        raise ValueError(f"cohort contract: column {row['column']} has unknown type {raw_type!r}")
    mass = row.get("molar_mass_g_mol", "").strip()
    return Column(
        name=row["column"].strip(),
        kind=kind,
        unit=row["unit"].strip(),
        meaning=row["meaning"].strip(),
        stem=row["stem"].strip() or None,
        molar_mass_g_mol=float(mass) if mass else None,
        codes=codes,
        label=(row.get("label") or "").strip() or row["column"].strip().replace("_", " "),
    )


@cache
def shared_columns() -> dict[str, Column]:
    """The shared contract's columns by name, in the contract's order."""
    text = resources.files("matcher").joinpath("data/cohort-columns.csv").read_text("utf-8")
    return {col.name: col for col in map(_parse_row, csv.DictReader(text.splitlines()))}


@dataclass(frozen=True)
class Extension:
    """What the selected trials add to the shared contract: their own columns (with plausible ranges), and new
    codes of shared enum columns.  Built by ``matcher.trials.extension_of``; in force from ``use_extension``."""

    columns: tuple[Column, ...] = ()
    ranges: tuple[tuple[str, Plausible], ...] = ()
    codes: tuple[tuple[str, tuple[str, ...]], ...] = ()


_in_force: list[Extension] = [Extension()]


def use_extension(extension: Extension) -> None:
    """Make the contract the shared one plus ``extension`` (every later read of a cohort sees its columns)."""
    _in_force[0] = extension


def extension_in_force() -> Extension:
    return _in_force[0]


def columns() -> dict[str, Column]:
    """The contract's columns by name: the shared contract's, in its order, then those the selected trials add."""
    return extended_columns(_in_force[0])


@cache
def extended_columns(extension: Extension) -> dict[str, Column]:
    """The shared columns with ``extension`` applied."""
    out = dict(shared_columns())
    for name, codes in extension.codes:
        out[name] = replace(out[name], codes=out[name].codes + tuple(c for c in codes if c not in out[name].codes))
    out.update((column.name, column) for column in extension.columns)
    return out


def by_stem() -> dict[str, Column]:
    """Columns that may be given as ``STEM[unit]``, by stem."""
    return _by_stem(_in_force[0])


@cache
def _by_stem(extension: Extension) -> dict[str, Column]:
    return {col.stem: col for col in extended_columns(extension).values() if col.stem}


def header_key(name: str) -> str:
    """A header as matched against the contract: case and spacing do not count (``Birth Date`` is birth_date)."""
    return re.sub(r"[\s_]+", "_", name.strip().lstrip("\ufeff").lower())


def by_key() -> dict[str, str]:
    """Contract column names and unit stems by their header key."""
    return _by_key(_in_force[0])


@cache
def _by_key(extension: Extension) -> dict[str, str]:
    return {header_key(name): name for name in [*extended_columns(extension), *_by_stem(extension)]}


def nearest_column(name: str) -> str | None:
    """The contract column a misspelled name most likely meant (None when none is close)."""
    close = difflib.get_close_matches(header_key(name), list(columns()), n=1, cutoff=0.8)
    return close[0] if close else None


def did_you_mean(name: str) -> str:
    """The hint to append to an unknown name: ' (did you mean X?)' when X is close to it, else ''."""
    nearest = nearest_column(name)
    return f" (did you mean {nearest}?)" if nearest else ""


# Which columns give each derived value (matcher/derived.py): any one alternative, with all of its columns.
DERIVED_FROM: dict[str, tuple[tuple[str, ...], ...]] = {
    "age": (("birth_date",), ("age_years",)),
    "prednisone_equivalent_mg_day": (("glucocorticoid_mg_day", "glucocorticoid"),),
    "prednisone_equivalent_mg_kg_day": (("glucocorticoid_mg_day", "glucocorticoid", "weight_kg"),),
    "egfr_ml_min_1_73m2": (
        ("egfr_ml_min_1_73m2",),
        ("creatinine_mg_dl", "sex", "age"),
        ("creatinine_mg_dl", "height_cm", "age"),
    ),
    "crcl_ml_min": (("crcl_ml_min",), ("creatinine_mg_dl", "weight_kg", "sex", "age")),
}


def _absent(field: str, given: Collection[str]) -> str | None:
    """What a file lacks for ``field`` ("birth_date or age_years"), or None when it can be had."""
    if field in given:
        return None
    alternatives = DERIVED_FROM.get(field)
    if alternatives is None:
        return field
    lacking: dict[str, None] = {}
    for alternative in alternatives:
        parts = [field if name == field else _absent(name, given) for name in alternative]
        missing = [f"({part})" if " or " in part else part for part in parts if part]
        if not missing:
            return None
        lacking[" and ".join(missing)] = None
    return " or ".join(lacking)


@dataclass(frozen=True)
class AbsentColumn:
    """A column (or alternatives) the selected trials read that a cohort file does not give."""

    name: str  # e.g. "diagnosis", or "birth_date or age_years" for a derived value
    criteria: int  # criteria of the selected trials that read it
    blocks_every_trial: bool  # the first inclusion criterion of every selected trial reads it


def absent_columns(given: Collection[str], trials: list[ir.Trial]) -> list[AbsentColumn]:
    """The columns the trials read that are not among ``given``, most-read first.

    Manual criteria read nothing.  A derived value (age, eGFR, ...) is absent only when no
    alternative source of it is given.
    """
    readers: dict[str, int] = {}
    first_reads: list[set[str]] = []
    for trial in trials:
        first: set[str] | None = None
        for criterion in trial.criteria:
            if criterion.is_manual:
                continue
            rules = [cast(ir.Rule, criterion.rule), *([criterion.applies_when] if criterion.applies_when else [])]
            fields = {name for rule in rules for name in ir.fields_read(rule)}
            lacking = {absent for name in fields if (absent := _absent(name, given))}
            for name in lacking:
                readers[name] = readers.get(name, 0) + 1
            if first is None and criterion.kind == "inclusion":
                first = lacking
        first_reads.append(first or set())
    blocking = set.intersection(*first_reads) if first_reads else set()
    ranked = sorted(readers.items(), key=lambda item: (-item[1], item[0]))
    return [AbsentColumn(name, count, name in blocking) for name, count in ranked]


@dataclass(frozen=True)
class Plausible:
    """Inclusive bounds outside which a value is impossible (a data error, not a patient).

    Number columns: in the contract's unit.  Date columns: whole years relative to the
    as-of date (0 is the as-of date, -130 is 130 years before it), so only a screening
    can check them.
    """

    low: float | None
    high: float | None
    why: str


_AS_OF_BOUND = re.compile(r"^as_of(?:-(?P<years>\d+)y)?$")


def _bound(text: str, column: Column) -> float | None:
    text = text.strip().replace(" ", "")
    if not text:
        return None
    if column.kind == "date":
        match = _AS_OF_BOUND.match(text)
        if match is None:
            raise ValueError(f"plausible ranges: {column.name}: a date bound is as_of or as_of-Ny, not {text!r}")
        return float(-int(match.group("years") or 0))
    if not column.numeric:
        raise ValueError(f"plausible ranges: {column.name} is {column.kind}; only numbers and dates have ranges")
    return float(text)


def plausible_ranges() -> dict[str, Plausible]:
    """Plausible bounds per number and date column (the shared file's, then those the selected trials declare)."""
    return {**_shared_ranges(), **dict(_in_force[0].ranges)}


@cache
def _shared_ranges() -> dict[str, Plausible]:
    text = resources.files("matcher").joinpath("data/plausible-ranges.csv").read_text("utf-8")
    contract = shared_columns()
    ranges = {}
    for row in csv.DictReader(text.splitlines()):
        name = row["column"].strip()
        if name not in contract:
            raise ValueError(f"plausible ranges: {name!r} is not a contract column")
        column = contract[name]
        ranges[name] = Plausible(_bound(row["min"], column), _bound(row["max"], column), row["why"].strip())
    return ranges


# Fields computed from the contract's columns (matcher.derived computes each); rules read them like columns.
DERIVED_FIELDS = (
    "age",
    "prednisone_equivalent_mg_day",
    "prednisone_equivalent_mg_kg_day",
    "egfr_ml_min_1_73m2",
    "crcl_ml_min",
)


# How sentences name each derived value, and its unit (the columns it is derived from have their own).
DERIVED_LABELS: dict[str, tuple[str, str]] = {
    "age": ("age", "years"),
    "prednisone_equivalent_mg_day": ("prednisone-equivalent dose", "mg/day"),
    "prednisone_equivalent_mg_kg_day": ("prednisone-equivalent dose", "mg/kg/day"),
    "egfr_ml_min_1_73m2": ("eGFR", "mL/min/1.73m²"),
    "crcl_ml_min": ("CrCl", "mL/min"),
}


def label_and_unit(field: str) -> tuple[str, str]:
    """How a sentence names a field and the unit its values are shown in."""
    if field in DERIVED_LABELS:
        return DERIVED_LABELS[field]
    column = columns().get(field)
    if column is None:
        return field.replace("_", " "), ""
    return column.label, column.unit


def known_fields(contract: dict[str, Column] | None = None) -> dict[str, str]:
    """Every field a rule may read, with its kind (contract columns plus derived fields)."""
    kinds: dict[str, str] = {name: column.kind for name, column in (contract or columns()).items()}
    for name in DERIVED_FIELDS:
        kinds[name] = "float"
    return kinds


# How a boolean cell may be spelled (case-insensitive); anything else is not a boolean.
TRUE_WORDS = ("true", "yes", "1", "y", "t")
FALSE_WORDS = ("false", "no", "0", "n", "f")
