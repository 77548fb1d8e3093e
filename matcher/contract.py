"""The cohort contract: the column names, types and units users build extracts against.

The list ships with the package (``matcher/data/cohort-columns.csv``, a copy of
``shared/spec/cohort-columns.csv``) so an installed matcher needs no checkout.
"""

from __future__ import annotations

import csv
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
