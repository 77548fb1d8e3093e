"""Arrow columns to typed numpy arrays, with a reason for every value that cannot be used.

Text is parsed with vectorized compute kernels once per distinct spelling.  Bad values do not stop the run: the
row gets a RowProblem naming the column (never the value).  A value outside the column's plausible range
(``matcher/data/plausible-ranges.csv``) is a bad value too.

In memory every column is a numpy array:

* numbers: float64, NaN = blank;
* dates: float64 days since 1970-01-01, NaN = blank, -inf = ``never``;
* booleans: int8 Kleene codes (0 false, 1 unknown, 2 true);
* text and enums: object arrays of str, None = blank (enums in their contract code).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from matcher.contract import FALSE_WORDS, TRUE_WORDS, Column, Plausible, plausible_ranges
from matcher.errors import CohortError
from matcher.facts import default_facts
from matcher.kleene import FALSE, TRUE, UNKNOWN, tri
from matcher.names import spelling_key

NEVER = -np.inf


_NUMBER = r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$"


_DAY_MONTH_YEAR = r"^\d{1,2}[/.-]\d{1,2}[/.-]\d{4}$"


# Beyond any contract quantity in its unit; keeps value x 10**6 (CP-SAT's scale) inside int64.
_LARGEST = 1e12


@dataclass(frozen=True)
class RowProblem:
    """Why one row could not be read: the column and what is wrong with its value (never the value itself)."""

    column: str
    problem: str

    def __str__(self) -> str:
        return f"column {self.column}: {self.problem}"


def reason_text(reasons: tuple[RowProblem, ...]) -> str:
    """A row's reasons in words, for the edge (tables, CSV, warnings)."""
    return "; ".join(map(str, reasons))


def lowered_codes(values: np.ndarray, name: str) -> tuple[np.ndarray, list[str]]:
    """Column ``name``'s text (None = blank) as int32 codes (-1 = blank) into its distinct lower-cased values.

    A drug's other spellings in a drug-name column come out as the name facts.yaml uses
    ("MMF" as mycophenolate), so every criterion and half-life sees one name per drug.
    """
    encoded = pc.utf8_lower(pa.array(values, pa.string(), from_pandas=True)).dictionary_encode()
    codes = np.asarray(pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False), dtype=np.int32)
    return codes, default_facts().canonical_names(name, encoded.dictionary.to_pylist())


def blank_column(column: Column, n: int) -> np.ndarray:
    if column.kind == "bool":
        return np.full(n, UNKNOWN, dtype=np.int8)
    if column.kind in ("float", "int", "date"):
        return np.full(n, np.nan)
    return np.full(n, None, dtype=object)


class RowProblems:
    """Collects per-row reasons; a row with any reason is invalid."""

    def __init__(self) -> None:
        self.reasons: dict[int, list[RowProblem]] = {}

    def add(self, rows: np.ndarray, column: str, problem: str) -> None:
        reason = RowProblem(column, problem)
        for row in np.flatnonzero(rows):
            self.reasons.setdefault(int(row), []).append(reason)

    def merged_with(self, invalid: dict[int, tuple[RowProblem, ...]]) -> dict[int, tuple[RowProblem, ...]]:
        """Earlier reasons first, rows in order."""
        rows = sorted(set(invalid) | set(self.reasons))
        return {row: invalid.get(row, ()) + tuple(self.reasons.get(row, [])) for row in rows}


def is_text(kind: pa.DataType) -> bool:
    return pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_string_view(kind)


def as_strings(raw: pa.ChunkedArray) -> pa.ChunkedArray:
    """Trimmed text with blanks as nulls."""
    if not is_text(raw.type):
        raw = pc.cast(raw, pa.string())
    trimmed = pc.utf8_trim_whitespace(raw)
    return pc.if_else(pc.equal(trimmed, ""), pa.scalar(None, pa.string()), trimmed)


def _text(raw: pa.ChunkedArray) -> np.ndarray:
    return to_numpy(as_strings(raw), object)


def to_numpy(array: pa.ChunkedArray, dtype: type = float) -> np.ndarray:
    """A writable numpy array (Arrow's zero-copy views are read-only, so those are copied)."""
    values = array.to_numpy(zero_copy_only=False)
    if values.dtype != dtype:
        return values.astype(dtype)
    return values if values.flags.writeable else values.copy()


def _present(array: pa.ChunkedArray) -> np.ndarray:
    return to_numpy(pc.is_valid(array), bool)


def parse_column(
    raw: pa.ChunkedArray,
    column: Column,
    factor: float,
    problems: RowProblems,
    decimal_comma: bool,
    text_codes: dict[str, tuple[np.ndarray, list[str]]] | None = None,
    rows_per_value: Callable[[], np.ndarray] | None = None,
) -> np.ndarray:
    """A column's values; ``rows_per_value`` counts the rows behind each value when ``raw`` holds distinct ones.

    Typed Arrow columns (numbers, booleans, dates, timestamps) are converted as they are; text is
    dictionary-encoded first, so each distinct spelling is parsed once, whatever the source.
    """
    if rows_per_value is None and is_text(raw.type):
        raw = pc.dictionary_encode(raw)
    if pa.types.is_dictionary(raw.type):
        return _parse_distinct(raw, column, factor, problems, decimal_comma, text_codes)
    if column.kind in ("float", "int"):
        return _parse_number(raw, column, factor, problems, decimal_comma)
    if column.kind == "date":
        return _parse_date(raw, column, problems, rows_per_value)
    if column.kind == "bool":
        return _parse_bool(raw, column, problems)
    if column.kind == "enum":
        return _parse_enum(raw, column, problems)
    return _text(_as_coded(raw, column))


def _parse_distinct(
    raw: pa.ChunkedArray,
    column: Column,
    factor: float,
    problems: RowProblems,
    decimal_comma: bool,
    text_codes: dict[str, tuple[np.ndarray, list[str]]] | None,
) -> np.ndarray:
    """Parse each distinct value once, then spread the values and the reasons to the rows that hold them.

    A cohort column has few distinct spellings (dates, lab values, flags), so this is the
    text parsing at a fraction of the cost, with the same values and the same reasons.
    A text or enum column's codes (see ``Cohort.text_codes``) come out of it too, into ``text_codes``.
    """
    unified = pa.Table.from_arrays([raw], ["cells"]).unify_dictionaries().column(0)
    dictionary = unified.chunk(0).dictionary if unified.num_chunks else pa.array([], pa.string())
    blank = len(dictionary)  # a null index (a Parquet category's blank) picks the blank appended here
    codes = pa.chunked_array([chunk.indices for chunk in unified.chunks], unified.type.index_type)
    indices = (pc.fill_null(codes, blank) if codes.null_count else codes).to_numpy()
    found = RowProblems()
    distinct = parse_column(
        pa.chunked_array([dictionary]),
        column,
        factor,
        found,
        decimal_comma,
        None,
        lambda: np.bincount(indices, minlength=blank + 1)[:blank],
    )
    distinct = np.concatenate([distinct, blank_column(column, 1)])
    if found.reasons:
        bad = np.zeros(blank + 1, dtype=bool)
        bad[list(found.reasons)] = True
        for row in np.flatnonzero(bad[indices]):
            problems.reasons.setdefault(int(row), []).extend(found.reasons[int(indices[row])])
    if text_codes is not None and column.kind in ("text", "enum"):
        codes, words = lowered_codes(distinct, column.name)
        text_codes[column.name] = (codes[indices], words)
    return distinct[indices]


def _parse_number(
    raw: pa.ChunkedArray, column: Column, factor: float, problems: RowProblems, decimal_comma: bool
) -> np.ndarray:
    if pa.types.is_integer(raw.type) or pa.types.is_floating(raw.type):
        values = to_numpy(pc.cast(raw, pa.float64()))  # a Parquet NaN is blank, as pandas writes blanks
    else:
        text = as_strings(raw)
        if decimal_comma:
            text = pc.replace_substring_regex(text, r"^([+-]?\d*),(\d+)$", r"\1.\2")
        # Arrow's own cast would also take "nan" (silently blank) and "inf"; the pattern takes neither.
        good = pc.fill_null(pc.match_substring_regex(text, _NUMBER), True)
        problems.add(_present(text) & ~to_numpy(good, bool), column.name, "not a number")
        values = to_numpy(pc.cast(pc.if_else(good, text, pa.scalar(None, pa.string())), pa.float64()))
    _reject(values, np.isinf(values), problems, column.name, "not a finite number")
    if column.kind == "int":
        with np.errstate(invalid="ignore"):
            _reject(
                values,
                np.isfinite(values) & (values != np.round(values)),
                problems,
                column.name,
                "not a whole number",
            )
    with np.errstate(over="ignore", invalid="ignore"):
        if factor != 1.0:
            values *= factor
        # Six decimals: the precision every backend compares at (CP-SAT scales by 10**6).
        # In place, with np.round's own steps (scale, rint, unscale): the same bits, no temporaries.
        values *= 1e6
        np.rint(values, out=values)
        values /= 1e6
        _reject(values, (values > _LARGEST) | (values < -_LARGEST), problems, column.name, "too large")
        bounds = plausible_ranges().get(column.name)
        if bounds is not None and (bounds.low is not None or bounds.high is not None):
            outside = (values < _or(bounds.low, -np.inf)) | (values > _or(bounds.high, np.inf))
            _reject(
                values,
                outside,
                problems,
                column.name,
                f"outside the plausible range ({_span(bounds, column.unit)})",
            )
    return values


def _reject(values: np.ndarray, bad: np.ndarray, problems: RowProblems, column: str, problem: str) -> None:
    """Blank the bad values and give their rows the reason (the common case, no bad value, costs one scan)."""
    if bad.any():
        problems.add(bad, column, problem)
        values[bad] = np.nan


def _or(bound: float | None, default: float) -> float:
    return default if bound is None else bound


def _span(bounds: Plausible, unit: str) -> str:
    if bounds.low is not None and bounds.high is not None:
        span = f"{bounds.low:g} to {bounds.high:g}"
    else:
        span = f"at least {bounds.low:g}" if bounds.low is not None else f"at most {bounds.high:g}"
    return f"{span} {unit}".strip()


def _parse_date(
    raw: pa.ChunkedArray, column: Column, problems: RowProblems, rows_per_value: Callable[[], np.ndarray] | None
) -> np.ndarray:
    if pa.types.is_date(raw.type) or pa.types.is_timestamp(raw.type):
        days = pc.cast(pc.cast(raw, pa.date32()), pa.int32())
        return to_numpy(pc.cast(days, pa.float64()))
    text = as_strings(raw)
    lowered = pc.utf8_lower(text)
    never = to_numpy(pc.fill_null(pc.equal(lowered, "never"), False), bool)
    iso = pc.fill_null(pc.match_substring_regex(text, r"^\d{4}-\d{2}-\d{2}$"), False)
    candidates = pc.if_else(iso, text, pa.scalar(None, pa.string()))
    parsed = pc.strptime(candidates, format="%Y-%m-%d", unit="s", error_is_null=True)
    # strptime rolls 2026-02-30 over to 2026-03-02: a real date keeps the day it was written with.
    written_day = pc.cast(pc.utf8_slice_codeunits(candidates, 8, 10), pa.int64())
    real = to_numpy(pc.fill_null(pc.equal(pc.day(parsed), written_day), False), bool)
    days = to_numpy(pc.cast(pc.cast(pc.cast(parsed, pa.date32()), pa.int32()), pa.float64()))
    days[~real] = np.nan
    present = _present(text)
    bad = present & ~never & np.isnan(days)
    if bad.any():
        _refuse_day_month_dates(text, bad, present, column, rows_per_value)
    problems.add(bad, column.name, "not an ISO date (YYYY-MM-DD) or 'never'")
    days[never] = NEVER
    return days


def _refuse_day_month_dates(
    text: pa.ChunkedArray,
    bad: np.ndarray,
    present: np.ndarray,
    column: Column,
    rows_per_value: Callable[[], np.ndarray] | None,
) -> None:
    """Most of a column written DD/MM/YYYY or MM/DD/YYYY is the export's date format, not a few bad rows: stop.

    Rows marked invalid one by one would hide that nothing in the column was read.  The
    message quotes one value, since the format cannot be told otherwise.
    """
    foreign = bad & to_numpy(pc.fill_null(pc.match_substring_regex(text, _DAY_MONTH_YEAR), False), bool)
    if not foreign.any():
        return
    rows = rows_per_value() if rows_per_value else np.ones(len(foreign), dtype=np.int64)
    if 2 * rows[foreign].sum() > rows[present].sum():
        sample = text[int(np.argmax(foreign))].as_py()
        raise CohortError(
            f"column {column.name}: most dates are written like {sample!r} (DD/MM/YYYY or MM/DD/YYYY); "
            "write them as YYYY-MM-DD"
        )


def _parse_bool(raw: pa.ChunkedArray, column: Column, problems: RowProblems) -> np.ndarray:
    if pa.types.is_boolean(raw.type):
        return tri(_present(raw), to_numpy(pc.fill_null(raw, False), bool))
    text = pc.utf8_lower(as_strings(raw))
    is_true = to_numpy(pc.fill_null(pc.is_in(text, pa.array(TRUE_WORDS)), False), bool)
    is_false = to_numpy(pc.fill_null(pc.is_in(text, pa.array(FALSE_WORDS)), False), bool)
    problems.add(_present(text) & ~is_true & ~is_false, column.name, "not a boolean (true/false, yes/no, 1/0)")
    out = np.full(len(is_true), UNKNOWN, dtype=np.int8)
    out[is_true] = TRUE
    out[is_false] = FALSE
    return out


def _as_coded(raw: pa.ChunkedArray, column: Column) -> pa.ChunkedArray:
    """The text with other spellings of a column's codes (facts.yaml spellings) read as the codes; run on a
    column's distinct values."""
    text = as_strings(raw)
    spelled = default_facts().code_of(column.name)
    if not spelled:
        return text
    words = [None if word is None else spelled.get(spelling_key(word), word) for word in text.to_pylist()]
    return pa.chunked_array([pa.array(words, pa.string())])


def _parse_enum(raw: pa.ChunkedArray, column: Column, problems: RowProblems) -> np.ndarray:
    text = _as_coded(raw, column)
    position = pc.index_in(pc.utf8_lower(text), value_set=pa.array([code.lower() for code in column.codes]))
    index = to_numpy(pc.fill_null(position, -1), int)
    problems.add(_present(text) & (index < 0), column.name, f"not one of {'|'.join(column.codes)}")
    return np.array([*column.codes, None], dtype=object)[index]  # -1 picks the trailing None
