"""Read a cohort file (CSV or Parquet) against the contract into typed column arrays.

Reading is pyarrow all the way: the CSV is read with every column as text, then
each contract column is parsed with vectorized compute kernels.  Bad values do
not stop the run: the row is marked ``invalid`` with a reason naming the column
(never the value), and every output reports it.  Problems with the file as a
whole (no ``patient_id`` column, duplicate ids, a unit that cannot be converted)
raise CohortError.

In memory every column is a numpy array:

* numbers: float64, NaN = blank;
* dates: float64 days since 1970-01-01, NaN = blank, -inf = ``never``;
* booleans: int8 Kleene codes (0 false, 1 unknown, 2 true);
* text and enums: object arrays of str, None = blank (enums in their contract code).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from matcher.contract import Column, by_stem, columns
from matcher.errors import CohortError
from matcher.facts import default_facts
from matcher.units import conversion_factor

FALSE, UNKNOWN, TRUE = 0, 1, 2
NEVER = -np.inf
TRUE_WORDS = ("true", "yes", "1", "y", "t")
FALSE_WORDS = ("false", "no", "0", "n", "f")
_NUMBER = r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$"
_HEADER_WITH_UNIT = re.compile(r"^(?P<stem>[A-Za-z0-9_]+)\s*\[(?P<unit>[^\]]+)\]$")


@dataclass
class Cohort:
    """A cohort in canonical columns, with the rows that could not be read."""

    source: str
    ids: np.ndarray
    values: dict[str, np.ndarray]
    invalid: dict[int, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.ids)

    def column(self, name: str) -> np.ndarray:
        """A contract column; an absent column is all blank."""
        if name not in self.values:
            self.values[name] = _blank(columns()[name], len(self.ids))
        return self.values[name]

    def take(self, rows: list[int]) -> Cohort:
        """A cohort of the given rows (their invalid reasons kept)."""
        index = np.asarray(rows, dtype=int)
        invalid = {new: self.invalid[old] for new, old in enumerate(rows) if old in self.invalid}
        values = {name: column[index] for name, column in self.values.items()}
        return Cohort(self.source, self.ids[index], values, invalid, list(self.warnings))

    def valid_mask(self) -> np.ndarray:
        mask = np.ones(len(self.ids), dtype=bool)
        if self.invalid:
            mask[list(self.invalid)] = False
        return mask


def _blank(column: Column, n: int) -> np.ndarray:
    if column.kind == "bool":
        return np.full(n, UNKNOWN, dtype=np.int8)
    if column.kind in ("float", "int", "date"):
        return np.full(n, np.nan)
    return np.full(n, None, dtype=object)


def load_cohort(path: str | Path) -> Cohort:
    """Read and validate a cohort file; the file type is taken from its suffix."""
    path = Path(path)
    if not path.exists():
        raise CohortError(f"{path}: no such file")
    parquet = path.is_dir() or path.suffix.lower() in (".parquet", ".pq")
    table = _read_parquet(path) if parquet else _read_csv(path)
    return cohort_from_table(table, str(path))


def _read_parquet(path: Path) -> pa.Table:
    try:
        return pq.read_table(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise CohortError(f"{path}: not a readable Parquet file ({exc})") from exc


def _sniff_delimiter(path: Path) -> str:
    with path.open("rb") as handle:
        first = handle.readline().decode("utf-8", errors="replace")
    return ";" if first.count(";") > first.count(",") else ","


def _read_csv(path: Path) -> pa.Table:
    if path.stat().st_size == 0:
        raise CohortError(f"{path}: the file is empty")
    delimiter = _sniff_delimiter(path)
    with path.open("rb") as handle:
        header = handle.readline().decode("utf-8", errors="replace").lstrip("\ufeff")
    names = [name.strip() for name in header.rstrip("\r\n").split(delimiter)]
    try:
        return pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(block_size=1 << 24),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=False),
            convert_options=pacsv.ConvertOptions(
                column_types={name: pa.string() for name in names},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except pa.ArrowInvalid as exc:
        message = str(exc).split("\n")[0]
        if "UTF8" in message or "utf8" in message.lower():
            message = "the file is not valid UTF-8 text; save it as UTF-8"
        raise CohortError(f"{path}: cannot be read as CSV: {message}") from exc


def _resolve_headers(names: list[str], source: str) -> tuple[dict[str, tuple[int, str | None]], list[str]]:
    """Map each contract column to (position in the file, unit given in the header or None)."""
    contract, stems = columns(), by_stem()
    resolved: dict[str, tuple[int, str | None]] = {}
    given_as: dict[str, str] = {}
    unknown: list[str] = []
    for position, raw in enumerate(names):
        name = raw.strip().lstrip("\ufeff")
        match = _HEADER_WITH_UNIT.match(name)
        if name in contract:
            canonical, unit = name, None
        elif match and match.group("stem") in stems:
            canonical, unit = stems[match.group("stem")].name, match.group("unit").strip()
        elif match and match.group("stem") in contract:
            canonical, unit = match.group("stem"), match.group("unit").strip()
        else:
            unknown.append(name)
            continue
        if canonical in resolved:
            raise CohortError(f"{source}: columns {given_as[canonical]!r} and {name!r} both give {canonical}; keep one")
        resolved[canonical] = (position, unit)
        given_as[canonical] = name
    return resolved, unknown


class _RowProblems:
    """Collects per-row reasons; a row with any reason is invalid."""

    def __init__(self) -> None:
        self.reasons: dict[int, list[str]] = {}

    def add(self, rows: np.ndarray, reason: str) -> None:
        for row in np.flatnonzero(rows):
            self.reasons.setdefault(int(row), []).append(reason)


def cohort_from_table(table: pa.Table, source: str) -> Cohort:
    """Validate an Arrow table against the contract (shared by CSV and Parquet)."""
    names = [str(name) for name in table.column_names]
    resolved, unknown = _resolve_headers(names, source)
    if "patient_id" not in resolved:
        raise CohortError(f"{source}: required column 'patient_id' is missing")
    n = table.num_rows
    if n == 0:
        raise CohortError(f"{source}: the file has a header but no patient rows")
    warnings = [f"{source}: ignoring unknown columns: {', '.join(unknown)}"] if unknown else []

    ids = _text(table.column(resolved["patient_id"][0]))
    _check_ids(ids, source)
    problems = _RowProblems()
    values: dict[str, np.ndarray] = {}
    contract = columns()
    for name, (position, unit) in resolved.items():
        if name == "patient_id":
            continue
        column = contract[name]
        raw = table.column(position)
        if unit is not None:
            if not column.numeric:
                raise CohortError(f"{source}: column {name!r} takes no unit")
            factor = conversion_factor(name, unit, column.unit, column.molar_mass_g_mol)
        else:
            factor = 1.0
        values[name] = _parse_column(raw, column, factor, problems)

    cohort = Cohort(source=source, ids=ids, values=values, warnings=warnings)
    _check_consistency(cohort, problems)
    cohort.invalid = {row: "; ".join(reasons) for row, reasons in sorted(problems.reasons.items())}
    return cohort


def _check_ids(ids: np.ndarray, source: str) -> None:
    blank = np.flatnonzero(ids == None)  # noqa: E711 - elementwise on an object array
    if blank.size:
        raise CohortError(f"{source}: row {int(blank[0]) + 2}: column 'patient_id' is blank")
    unique, counts = np.unique(ids.astype(str), return_counts=True)
    if (counts > 1).any():
        duplicated = str(unique[counts > 1][0])
        rows = [int(r) + 2 for r in np.flatnonzero(ids.astype(str) == duplicated)]
        raise CohortError(
            f"{source}: duplicate patient_id {duplicated!r} in rows {', '.join(map(str, rows))} (column 'patient_id')"
        )


def _strings(raw: pa.ChunkedArray) -> pa.ChunkedArray:
    """Trimmed text with blanks as nulls."""
    if not pa.types.is_string(raw.type) and not pa.types.is_large_string(raw.type):
        raw = pc.cast(raw, pa.string())
    trimmed = pc.utf8_trim_whitespace(raw)
    return pc.if_else(pc.equal(trimmed, ""), pa.scalar(None, pa.string()), trimmed)


def _text(raw: pa.ChunkedArray) -> np.ndarray:
    return _numpy(_strings(raw), object)


def _numpy(array: pa.ChunkedArray, dtype: type = float) -> np.ndarray:
    """A writable numpy copy (Arrow's zero-copy views are read-only)."""
    return np.array(array.to_numpy(zero_copy_only=False), dtype=dtype)


def _present(array: pa.ChunkedArray) -> np.ndarray:
    return _numpy(pc.is_valid(array), bool)


def _parse_column(raw: pa.ChunkedArray, column: Column, factor: float, problems: _RowProblems) -> np.ndarray:
    if column.kind in ("float", "int"):
        return _parse_number(raw, column, factor, problems)
    if column.kind == "date":
        return _parse_date(raw, column, problems)
    if column.kind == "bool":
        return _parse_bool(raw, column, problems)
    if column.kind == "enum":
        return _parse_enum(raw, column, problems)
    return _text(raw)


def _parse_number(raw: pa.ChunkedArray, column: Column, factor: float, problems: _RowProblems) -> np.ndarray:
    if pa.types.is_integer(raw.type) or pa.types.is_floating(raw.type):
        values = _numpy(pc.cast(raw, pa.float64()))
    else:
        text = _strings(raw)
        try:
            values = _numpy(pc.cast(text, pa.float64()))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            good = pc.match_substring_regex(text, _NUMBER)
            bad = _present(text) & ~_numpy(pc.fill_null(good, True), bool)
            problems.add(bad, f"column {column.name}: not a number")
            cleaned = pc.if_else(pc.fill_null(good, False), text, pa.scalar(None, pa.string()))
            values = _numpy(pc.cast(cleaned, pa.float64()))
    if column.kind == "int":
        fractional = np.isfinite(values) & (values != np.round(values))
        problems.add(fractional, f"column {column.name}: not a whole number")
        values[fractional] = np.nan
    if factor != 1.0:
        values = values * factor
    # Six decimals: the precision every backend compares at (CP-SAT scales by 10**6).
    return np.round(values, 6)


def _parse_date(raw: pa.ChunkedArray, column: Column, problems: _RowProblems) -> np.ndarray:
    if pa.types.is_date(raw.type) or pa.types.is_timestamp(raw.type):
        days = pc.cast(pc.cast(raw, pa.date32()), pa.int32())
        return _numpy(pc.cast(days, pa.float64()))
    text = _strings(raw)
    lowered = pc.utf8_lower(text)
    never = _numpy(pc.fill_null(pc.equal(lowered, "never"), False), bool)
    iso = pc.fill_null(pc.match_substring_regex(text, r"^\d{4}-\d{2}-\d{2}$"), False)
    parsed = pc.strptime(
        pc.if_else(iso, text, pa.scalar(None, pa.string())), format="%Y-%m-%d", unit="s", error_is_null=True
    )
    days = _numpy(pc.cast(pc.cast(pc.cast(parsed, pa.date32()), pa.int32()), pa.float64()))
    bad = _present(text) & ~never & np.isnan(days)
    problems.add(bad, f"column {column.name}: not an ISO date (YYYY-MM-DD) or 'never'")
    days[never] = NEVER
    return days


def _parse_bool(raw: pa.ChunkedArray, column: Column, problems: _RowProblems) -> np.ndarray:
    if pa.types.is_boolean(raw.type):
        known = _present(raw)
        truth = _numpy(pc.fill_null(raw, False), bool)
        return np.where(known, np.where(truth, TRUE, FALSE), UNKNOWN).astype(np.int8)
    text = pc.utf8_lower(_strings(raw))
    is_true = _numpy(pc.fill_null(pc.is_in(text, pa.array(TRUE_WORDS)), False), bool)
    is_false = _numpy(pc.fill_null(pc.is_in(text, pa.array(FALSE_WORDS)), False), bool)
    problems.add(
        _present(text) & ~is_true & ~is_false, f"column {column.name}: not a boolean (true/false, yes/no, 1/0)"
    )
    out = np.full(len(is_true), UNKNOWN, dtype=np.int8)
    out[is_true] = TRUE
    out[is_false] = FALSE
    return out


def _parse_enum(raw: pa.ChunkedArray, column: Column, problems: _RowProblems) -> np.ndarray:
    text = _text(raw)
    canonical = {code.lower(): code for code in column.codes}
    out = np.full(len(text), None, dtype=object)
    bad = np.zeros(len(text), dtype=bool)
    for value in set(text[text != None].tolist()):  # noqa: E711
        rows = text == value
        code = canonical.get(str(value).lower())
        if code is None:
            bad |= rows
        else:
            out[rows] = code
    problems.add(bad, f"column {column.name}: not one of {'|'.join(column.codes)}")
    return out


def _check_consistency(cohort: Cohort, problems: _RowProblems) -> None:
    """Cross-column rules of the contract."""
    if "glucocorticoid_mg_day" in cohort.values:
        dose = cohort.values["glucocorticoid_mg_day"]
        drug = cohort.column("glucocorticoid")
        problems.add((dose > 0) & (drug == None), "column glucocorticoid: a dose is given without the drug's name")  # noqa: E711
        problems.add(dose < 0, "column glucocorticoid_mg_day: negative dose")
        known = set(default_facts().steroid_equivalent_mg)
        named = np.array([isinstance(v, str) and v.lower() not in known for v in drug], dtype=bool)
        problems.add(named, f"column glucocorticoid: not a known glucocorticoid ({', '.join(sorted(known))})")


def cohort_from_records(records: list[dict[str, object]], source: str = "records") -> Cohort:
    """A cohort from row dicts whose values are spelled as in a CSV (blank or None = unknown)."""
    names: dict[str, None] = {}
    for record in records:
        names.update(dict.fromkeys(record))
    table = pa.table(
        {
            name: pa.array(
                [None if record.get(name) is None else str(record.get(name)) for record in records], pa.string()
            )
            for name in names
        }
    )
    return cohort_from_table(table, source)
