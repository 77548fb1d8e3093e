"""The cohort contract: the column names, types and units users build extracts against.

The list ships with the package (``matcher/data/cohort-columns.csv``, a copy of
``shared/spec/cohort-columns.csv``) so an installed matcher needs no checkout.
The plausible range of each number and date column is data too
(``matcher/data/plausible-ranges.csv``), so a bound is changed without code.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Literal

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
    )


@cache
def columns() -> dict[str, Column]:
    """The contract's columns by name, in the contract's order."""
    text = resources.files("matcher").joinpath("data/cohort-columns.csv").read_text("utf-8")
    return {col.name: col for col in map(_parse_row, csv.DictReader(text.splitlines()))}


@cache
def by_stem() -> dict[str, Column]:
    """Columns that may be given as ``STEM[unit]``, by stem."""
    return {col.stem: col for col in columns().values() if col.stem}


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


@cache
def plausible_ranges() -> dict[str, Plausible]:
    """Plausible bounds per number and date column."""
    text = resources.files("matcher").joinpath("data/plausible-ranges.csv").read_text("utf-8")
    contract = columns()
    ranges = {}
    for row in csv.DictReader(text.splitlines()):
        name = row["column"].strip()
        if name not in contract:
            raise ValueError(f"plausible ranges: {name!r} is not a contract column")
        column = contract[name]
        ranges[name] = Plausible(_bound(row["min"], column), _bound(row["max"], column), row["why"].strip())
    return ranges
