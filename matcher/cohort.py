"""Read a cohort file (CSV or Parquet) against the contract into typed column arrays.

Reading is pyarrow all the way.  A CSV is first read with its number and boolean
columns typed by Arrow's reader and every other column as dictionary-encoded text;
if any cell defeats that typed read (a word in a number column, ``nan``), the file
is read again with every column as text.  Text is parsed with vectorized compute
kernels once per distinct spelling, so both reads give the same values and the
same reasons.  Bad values do
not stop the run: the row is marked ``invalid`` with a reason naming the column
(never the value), and every output reports it.  A value outside the column's
plausible range (``matcher/data/plausible-ranges.csv``) is a bad value too; date
bounds are relative to the as-of date, so ``check_as_of`` applies them at
screening time.  Problems with the file as a whole (no ``patient_id`` column,
duplicate or blank ids, a unit that cannot be converted, a ragged line, bytes
that are not UTF-8) raise CohortError naming the file, the line or row, and the
column.

CSV files may be comma-, semicolon- or tab-delimited (sniffed from the header),
with or without a BOM, LF or CRLF.  In a semicolon-delimited file a decimal comma
(``1,5``) is read as a decimal point, as the spreadsheets that write such files do.

In memory every column is a numpy array:

* numbers: float64, NaN = blank;
* dates: float64 days since 1970-01-01, NaN = blank, -inf = ``never``;
* booleans: int8 Kleene codes (0 false, 1 unknown, 2 true);
* text and enums: object arrays of str, None = blank (enums in their contract code).
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from matcher.contract import Column, Plausible, by_key, by_stem, columns, header_key, nearest_column, plausible_ranges
from matcher.dates import day_number
from matcher.errors import CohortError
from matcher.facts import default_facts
from matcher.kleene import FALSE, TRUE, UNKNOWN, tri
from matcher.units import conversion_factor

NEVER = -np.inf
TRUE_WORDS = ("true", "yes", "1", "y", "t")
FALSE_WORDS = ("false", "no", "0", "n", "f")
_NUMBER = r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$"
_HEADER_WITH_UNIT = re.compile(r"^(?P<stem>[A-Za-z0-9_\s]+?)\s*\[(?P<unit>[^\]]+)\]$")
_DAY_MONTH_YEAR = r"^\d{1,2}[/.-]\d{1,2}[/.-]\d{4}$"
_DELIMITERS = (",", ";", "\t")
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


@dataclass
class Cohort:
    """A cohort in canonical columns, with the rows that could not be read."""

    source: str
    ids: np.ndarray
    values: dict[str, np.ndarray]
    invalid: dict[int, tuple[RowProblem, ...]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    # Per text column: (the array encoded, its codes, its distinct lower-cased values); see text_codes.
    _text_codes: dict[str, tuple[np.ndarray, np.ndarray, list[str]]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def __len__(self) -> int:
        return len(self.ids)

    def text_codes(self, name: str) -> tuple[np.ndarray, list[str]]:
        """A text column as dictionary codes (-1 = blank) and its distinct lower-cased values.

        Built once per column and shared by every screening context; a column replaced
        by another array (a what-if change) is encoded again.
        """
        column = self.column(name)
        cached = self._text_codes.get(name)
        if cached is None or cached[0] is not column:
            cached = (column, *_lowered_codes(column))
            self._text_codes[name] = cached
        return cached[1], cached[2]

    def per_word(self, name: str, value: Callable[[str], object], blank: object) -> np.ndarray:
        """Per row, ``value`` of the row's lower-cased text in column ``name`` (``blank`` where it is blank)."""
        codes, words = self.text_codes(name)
        return np.array([value(word) for word in words] + [blank])[codes]  # code -1 picks the trailing blank

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


def _lowered_codes(values: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Text (None = blank) as int32 codes (-1 = blank) into its distinct lower-cased values."""
    encoded = pc.utf8_lower(pa.array(values, pa.string(), from_pandas=True)).dictionary_encode()
    codes = np.asarray(pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False), dtype=np.int32)
    return codes, encoded.dictionary.to_pylist()


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
    if path.is_dir() or path.suffix.lower() in (".parquet", ".pq"):
        cohort = cohort_from_table(_read_parquet(path), str(path))
    else:
        table, delimiter = _read_csv(path)
        cohort = cohort_from_table(table, str(path), decimal_comma=delimiter == ";")
        del table
    pa.default_memory_pool().release_unused()  # the text table is gone; give its memory back
    return cohort


def given_columns(path: str | Path) -> set[str]:
    """The contract columns a cohort file gives, from its header (or Parquet schema) alone."""
    path = Path(path)
    if not path.exists():
        raise CohortError(f"{path}: no such file")
    if path.is_dir() or path.suffix.lower() in (".parquet", ".pq"):
        try:
            names = pq.ParquetDataset(path).schema.names
        except (pa.ArrowException, OSError) as exc:
            raise CohortError(f"{path}: not a readable Parquet file ({_first_line(exc)})") from exc
    else:
        names, _ = _header(path)
    return set(_resolve_headers(names, str(path))[0])


def _read_parquet(path: Path) -> pa.Table:
    try:
        return pq.read_table(path)
    except (pa.ArrowException, OSError) as exc:
        raise CohortError(f"{path}: not a readable Parquet file ({_first_line(exc)})") from exc


def _first_line(exc: BaseException) -> str:
    """Arrow's message without the echo of a row's text (which would print patient values)."""
    line = str(exc).split("\n")[0]
    return re.sub(r"(got \d+ columns?|Expected \d+ columns, got \d+):.*", r"\1", line)


def _header(path: Path) -> tuple[list[str], str]:
    """The header's column names and the delimiter, sniffed from the header line."""
    try:
        with path.open("rb") as handle:
            first = handle.readline(1 << 22)
    except OSError as exc:
        raise CohortError(f"{path}: cannot be read: {exc.strerror}") from exc
    if not first:
        raise CohortError(f"{path}: the file is empty")
    if first.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise CohortError(f"{path}: the file is UTF-16 text; save it as UTF-8")
    try:
        text = first.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CohortError(f"{path}: line 1 (the header) is not valid UTF-8 text; save the file as UTF-8") from None
    line = re.split(r"\r\n?|\n", text, maxsplit=1)[0]  # Arrow ends a line at CR, LF or CRLF
    if not line.strip():
        raise CohortError(f"{path}: line 1 is blank; the first line must be the header")
    delimiter = max(_DELIMITERS, key=line.count)
    try:
        return next(csv.reader([line], delimiter=delimiter)), delimiter
    except csv.Error as exc:
        raise CohortError(f"{path}: line 1 (the header) cannot be read as CSV: {exc}") from exc


# Text columns are read as dictionaries: each distinct spelling is parsed once (see _parse_distinct).
_TEXT_CELLS = pa.dictionary(pa.int32(), pa.string())
_TYPED_CELLS: dict[str, pa.DataType] = {"float": pa.float64(), "int": pa.float64(), "bool": pa.bool_()}


def _parse_csv(path: Path, names: list[str], types: dict[str, pa.DataType], delimiter: str, parallel: bool) -> pa.Table:
    return pacsv.read_csv(
        path,
        read_options=pacsv.ReadOptions(block_size=1 << 24, skip_rows=1, column_names=names, use_threads=parallel),
        parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=False),
        convert_options=pacsv.ConvertOptions(
            column_types=types,
            null_values=[""],
            true_values=_spellings(TRUE_WORDS),
            false_values=_spellings(FALSE_WORDS),
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
    )


def _spellings(words: tuple[str, ...]) -> list[str]:
    return sorted({spelling for word in words for spelling in (word, word.title(), word.upper())})


def _text_types(names: list[str]) -> dict[str, pa.DataType]:
    """Every cell as text: the ids as strings, the other columns as dictionaries."""
    return {name: pa.string() if header_key(name) == "patient_id" else _TEXT_CELLS for name in names}


def _typed_types(names: list[str], source: str) -> dict[str, pa.DataType]:
    """Number and boolean columns typed by the CSV reader itself (most of the parsing cost), the rest as text."""
    types = _text_types(names)
    resolved, _ = _resolve_headers(names, source)
    contract = columns()
    for name, (position, _unit) in resolved.items():
        types[names[position]] = _TYPED_CELLS.get(contract[name].kind, types[names[position]])
    return types


def _read_typed(path: Path, names: list[str], delimiter: str) -> pa.Table | None:
    """The fast read, or None when a cell is not as its column's type demands.

    The text read then parses the file as before, so a bad cell is reported by row and
    column.  NaN and infinity are taken back to the text read too: Arrow reads ``nan`` and
    ``inf`` as numbers, where the contract calls them not a number (blank is blank).
    """
    try:
        table = _parse_csv(path, names, _typed_types(names, str(path)), delimiter, parallel=True)
    except pa.ArrowInvalid:
        return None
    for column in table.columns:
        if pa.types.is_floating(column.type) and pc.any(pc.invert(pc.is_finite(column))).as_py():
            return None
    return table


_RAGGED = re.compile(r"(?:Row #(?P<row>\d+): )?Expected (?P<expected>\d+) columns, got (?P<found>\d+)")


def _read_csv(path: Path) -> tuple[pa.Table, str]:
    names, delimiter = _header(path)
    try:
        if delimiter != ";":  # a semicolon file may write decimal commas, which only the text read takes
            typed = _read_typed(path, names, delimiter)
            if typed is not None:
                return typed, delimiter
        types = _text_types(names)
        try:
            return _parse_csv(path, names, types, delimiter, parallel=True), delimiter
        except pa.ArrowInvalid as exc:
            if _RAGGED.search(str(exc)) is None:
                raise
            _parse_csv(path, names, types, delimiter, parallel=False)  # only a serial read numbers the rows: raises
            raise
    except pa.ArrowInvalid as exc:
        ragged = _RAGGED.search(str(exc))
        if ragged:
            line = f"line {_physical_line(path, int(ragged['row']))}" if ragged["row"] else "a line"
            raise CohortError(
                f"{path}: {line}: {ragged['found']} field(s) where the header has {ragged['expected']}; "
                "check the delimiter and the quoting"
            ) from exc
        position = re.search(r"CSV column #(\d+): .*invalid UTF8", str(exc))
        if position:
            column = names[int(position.group(1))]
            raise CohortError(
                f"{path}: line {_first_bad_utf8_line(path)}, column {column!r}: not valid UTF-8 text; "
                "save the file as UTF-8"
            ) from exc
        raise CohortError(f"{path}: cannot be read as CSV: {_first_line(exc)}") from exc
    except OSError as exc:
        raise CohortError(f"{path}: cannot be read: {exc.strerror}") from exc


def _first_bad_utf8_line(path: Path) -> int:
    """The line holding the first byte that is not UTF-8 (only read when Arrow found one)."""
    data = path.read_bytes()
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return data.count(b"\n", 0, exc.start) + 1
    return 0


def _physical_line(path: Path, row: int) -> int:
    """The file line of Arrow's row number, which does not count blank lines."""
    seen = 0
    with path.open("rb") as handle:
        for line_number, line in enumerate(handle, 1):
            seen += bool(line.rstrip(b"\r\n"))
            if seen == row:
                return line_number
    return row


def _resolve_headers(names: list[str], source: str) -> tuple[dict[str, tuple[int, str | None]], list[str]]:
    """Map each contract column to (position in the file, unit given in the header or None).

    Headers match whatever their case and spacing (``Diagnosis``, ``Birth Date``).  Also
    returns the headers that name no contract column, each once.
    """
    contract, stems, keys = columns(), by_stem(), by_key()
    resolved: dict[str, tuple[int, str | None]] = {}
    given_as: dict[str, str] = {}
    unknown: dict[str, None] = {}
    for position, raw in enumerate(names):
        name = raw.strip().lstrip("\ufeff")
        match = _HEADER_WITH_UNIT.match(name)
        known = keys.get(header_key(name), "")
        stem = keys.get(header_key(match.group("stem")), "") if match else ""
        if known in contract:
            canonical, unit = known, None
        elif match and stem in stems:
            canonical, unit = stems[stem].name, match.group("unit").strip()
        elif match and stem in contract:
            canonical, unit = stem, match.group("unit").strip()
        else:
            unknown[name or f"(unnamed column {position + 1})"] = None
            continue
        if canonical in resolved:
            raise CohortError(f"{source}: columns {given_as[canonical]!r} and {name!r} both give {canonical}; keep one")
        resolved[canonical] = (position, unit)
        given_as[canonical] = name
    return resolved, list(unknown)


class _RowProblems:
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


def cohort_from_table(table: pa.Table, source: str, decimal_comma: bool = False) -> Cohort:
    """Validate an Arrow table against the contract (shared by CSV and Parquet).

    ``decimal_comma``: read ``1,5`` in number columns as 1.5 (semicolon-delimited CSV).
    """
    names = [str(name) for name in table.column_names]
    resolved, unknown = _resolve_headers(names, source)
    if "patient_id" not in resolved:
        raise CohortError(f"{source}: required column 'patient_id' is missing")
    n = table.num_rows
    if n == 0:
        raise CohortError(f"{source}: the file has a header but no patient rows")
    hinted = ", ".join(_with_hint(name, resolved) for name in unknown)
    warnings = [f"{source}: ignoring unknown columns: {hinted}"] if unknown else []

    with _readable(source, "patient_id"):
        id_text = _strings(table.column(resolved["patient_id"][0]))
    ids = _numpy(id_text, object)
    if id_text.null_count or pc.count_distinct(id_text).as_py() != n:
        _report_ids(ids, source)
    problems = _RowProblems()
    values: dict[str, np.ndarray] = {}
    text_codes: dict[str, tuple[np.ndarray, list[str]]] = {}
    contract = columns()
    for name, (position, unit) in resolved.items():
        if name == "patient_id":
            continue
        column = contract[name]
        factor = 1.0
        if unit is not None:
            if not column.numeric:
                raise CohortError(f"{source}: column {names[position]!r}: {name} takes no unit")
            try:
                factor = conversion_factor(name, unit, column.unit, column.molar_mass_g_mol)
            except CohortError as exc:
                raise CohortError(f"{source}: {exc}") from exc
        with _readable(source, names[position]):
            values[name] = _parse_column(table.column(position), column, factor, problems, decimal_comma, text_codes)

    cohort = Cohort(source=source, ids=ids, values=values, warnings=warnings)
    for name, (codes, words) in text_codes.items():  # what screening would compute again from the strings
        cohort._text_codes[name] = (values[name], codes, words)
    _check_consistency(cohort, problems)
    cohort.invalid = problems.merged_with({})
    return cohort


def _with_hint(header: str, resolved: dict[str, tuple[int, str | None]]) -> str:
    """An unknown header, with the contract column it most likely meant when the file does not give that one."""
    nearest = nearest_column(header)
    return f"{header} (did you mean {nearest}?)" if nearest and nearest not in resolved else header


@contextmanager
def _readable(source: str, header: str) -> Iterator[None]:
    """A column Arrow cannot turn into text (e.g. a nested Parquet type) is a file error; its errors name the file."""
    try:
        yield
    except (pa.ArrowNotImplementedError, pa.ArrowTypeError, pa.ArrowInvalid) as exc:
        raise CohortError(f"{source}: column {header!r} cannot be read as text or numbers") from exc
    except CohortError as exc:
        raise CohortError(f"{source}: {exc}") from exc


def _report_ids(ids: np.ndarray, source: str) -> None:
    """Name the first blank or repeated id (only run when Arrow has seen one)."""
    blank = np.flatnonzero(ids == None)  # noqa: E711 - elementwise on an object array
    if blank.size:
        more = f" (and {blank.size - 1} more rows)" if blank.size > 1 else ""
        raise CohortError(f"{source}: row {int(blank[0]) + 2}: column 'patient_id' is blank{more}")
    check_unique_ids(ids, source)


def check_unique_ids(ids: np.ndarray, source: str) -> None:
    """Name the first repeated id with every row holding it (file rows: the header is row 1)."""
    _, inverse, counts = np.unique(ids.astype(str), return_inverse=True, return_counts=True)
    repeated = np.flatnonzero(counts[inverse] > 1)
    if repeated.size:
        first = inverse[repeated[0]]
        rows = [int(r) + 2 for r in repeated[inverse[repeated] == first]]
        others = len(np.unique(inverse[repeated])) - 1
        more = f" (and {others} more duplicated ids)" if others else ""
        raise CohortError(
            f"{source}: duplicate patient_id {ids[repeated[0]]!r} in rows {', '.join(map(str, rows))} "
            f"(column 'patient_id'){more}"
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
    """A writable numpy array (Arrow's zero-copy views are read-only, so those are copied)."""
    values = array.to_numpy(zero_copy_only=False)
    if values.dtype != dtype:
        return values.astype(dtype)
    return values if values.flags.writeable else values.copy()


def _present(array: pa.ChunkedArray) -> np.ndarray:
    return _numpy(pc.is_valid(array), bool)


def _parse_column(
    raw: pa.ChunkedArray,
    column: Column,
    factor: float,
    problems: _RowProblems,
    decimal_comma: bool,
    text_codes: dict[str, tuple[np.ndarray, list[str]]] | None = None,
    rows_per_value: Callable[[], np.ndarray] | None = None,
) -> np.ndarray:
    """A column's values; ``rows_per_value`` counts the rows behind each value when ``raw`` holds distinct ones."""
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
    return _text(raw)


def _parse_distinct(
    raw: pa.ChunkedArray,
    column: Column,
    factor: float,
    problems: _RowProblems,
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
    found = _RowProblems()
    distinct = _parse_column(
        pa.chunked_array([dictionary]),
        column,
        factor,
        found,
        decimal_comma,
        None,
        lambda: np.bincount(indices, minlength=blank + 1)[:blank],
    )
    distinct = np.concatenate([distinct, _blank(column, 1)])
    if found.reasons:
        bad = np.zeros(blank + 1, dtype=bool)
        bad[list(found.reasons)] = True
        for row in np.flatnonzero(bad[indices]):
            problems.reasons.setdefault(int(row), []).extend(found.reasons[int(indices[row])])
    if text_codes is not None and column.kind in ("text", "enum"):
        codes, words = _lowered_codes(distinct)
        text_codes[column.name] = (codes[indices], words)
    return distinct[indices]


def _parse_number(
    raw: pa.ChunkedArray, column: Column, factor: float, problems: _RowProblems, decimal_comma: bool
) -> np.ndarray:
    if pa.types.is_integer(raw.type) or pa.types.is_floating(raw.type):
        values = _numpy(pc.cast(raw, pa.float64()))  # a Parquet NaN is blank, as pandas writes blanks
    else:
        text = _strings(raw)
        if decimal_comma:
            text = pc.replace_substring_regex(text, r"^([+-]?\d*),(\d+)$", r"\1.\2")
        # Arrow's own cast would also take "nan" (silently blank) and "inf"; the pattern takes neither.
        good = pc.fill_null(pc.match_substring_regex(text, _NUMBER), True)
        problems.add(_present(text) & ~_numpy(good, bool), column.name, "not a number")
        values = _numpy(pc.cast(pc.if_else(good, text, pa.scalar(None, pa.string())), pa.float64()))
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


def _reject(values: np.ndarray, bad: np.ndarray, problems: _RowProblems, column: str, problem: str) -> None:
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
    raw: pa.ChunkedArray, column: Column, problems: _RowProblems, rows_per_value: Callable[[], np.ndarray] | None
) -> np.ndarray:
    if pa.types.is_date(raw.type) or pa.types.is_timestamp(raw.type):
        days = pc.cast(pc.cast(raw, pa.date32()), pa.int32())
        return _numpy(pc.cast(days, pa.float64()))
    text = _strings(raw)
    lowered = pc.utf8_lower(text)
    never = _numpy(pc.fill_null(pc.equal(lowered, "never"), False), bool)
    iso = pc.fill_null(pc.match_substring_regex(text, r"^\d{4}-\d{2}-\d{2}$"), False)
    candidates = pc.if_else(iso, text, pa.scalar(None, pa.string()))
    parsed = pc.strptime(candidates, format="%Y-%m-%d", unit="s", error_is_null=True)
    # strptime rolls 2026-02-30 over to 2026-03-02: a real date keeps the day it was written with.
    written_day = pc.cast(pc.utf8_slice_codeunits(candidates, 8, 10), pa.int64())
    real = _numpy(pc.fill_null(pc.equal(pc.day(parsed), written_day), False), bool)
    days = _numpy(pc.cast(pc.cast(pc.cast(parsed, pa.date32()), pa.int32()), pa.float64()))
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
    foreign = bad & _numpy(pc.fill_null(pc.match_substring_regex(text, _DAY_MONTH_YEAR), False), bool)
    if not foreign.any():
        return
    rows = rows_per_value() if rows_per_value else np.ones(len(foreign), dtype=np.int64)
    if 2 * rows[foreign].sum() > rows[present].sum():
        sample = text[int(np.argmax(foreign))].as_py()
        raise CohortError(
            f"column {column.name}: most dates are written like {sample!r} (DD/MM/YYYY or MM/DD/YYYY); "
            "write them as YYYY-MM-DD"
        )


def _parse_bool(raw: pa.ChunkedArray, column: Column, problems: _RowProblems) -> np.ndarray:
    if pa.types.is_boolean(raw.type):
        return tri(_present(raw), _numpy(pc.fill_null(raw, False), bool))
    text = pc.utf8_lower(_strings(raw))
    is_true = _numpy(pc.fill_null(pc.is_in(text, pa.array(TRUE_WORDS)), False), bool)
    is_false = _numpy(pc.fill_null(pc.is_in(text, pa.array(FALSE_WORDS)), False), bool)
    problems.add(_present(text) & ~is_true & ~is_false, column.name, "not a boolean (true/false, yes/no, 1/0)")
    out = np.full(len(is_true), UNKNOWN, dtype=np.int8)
    out[is_true] = TRUE
    out[is_false] = FALSE
    return out


def _parse_enum(raw: pa.ChunkedArray, column: Column, problems: _RowProblems) -> np.ndarray:
    text = _strings(raw)
    position = pc.index_in(pc.utf8_lower(text), value_set=pa.array([code.lower() for code in column.codes]))
    index = _numpy(pc.fill_null(position, -1), int)
    problems.add(_present(text) & (index < 0), column.name, f"not one of {'|'.join(column.codes)}")
    return np.array([*column.codes, None], dtype=object)[index]  # -1 picks the trailing None


def _check_consistency(cohort: Cohort, problems: _RowProblems) -> None:
    """Cross-column rules of the contract."""
    if "glucocorticoid_mg_day" in cohort.values and "glucocorticoid" in cohort.values:
        # Both given: a dose needs its drug.  A dose alone (``whatif --set``) keeps the patient's recorded drug.
        dose = cohort.values["glucocorticoid_mg_day"]
        named = cohort.text_codes("glucocorticoid")[0] >= 0
        problems.add((dose > 0) & ~named, "glucocorticoid", "a dose is given without the drug's name")
        known = sorted(default_facts().steroid_equivalent_mg)
        listed = cohort.per_word("glucocorticoid", lambda name: name in known, False)
        problems.add(named & ~listed, "glucocorticoid", f"not a known glucocorticoid ({', '.join(known)})")


def check_as_of(cohort: Cohort, as_of: dt.date) -> Cohort:
    """The cohort with rows whose dates are impossible at ``as_of`` marked invalid.

    Date bounds (``plausible-ranges.csv``) are relative to the screening date, which
    the loader does not know: a past event dated after it, a birth after it or more
    than 130 years before it.  ``never`` is not a date and is not bounded.
    """
    problems = _RowProblems()
    contract = columns()
    for name, bounds in plausible_ranges().items():
        if contract[name].kind != "date" or name not in cohort.values:
            continue
        days = cohort.values[name]
        finite = np.isfinite(days)
        if bounds.low is not None:
            years = -int(bounds.low)
            earliest = day_number(_years_later(as_of, -years))
            problems.add(finite & (days < earliest), name, f"more than {years} years before the as-of date")
        if bounds.high is not None:
            latest = _years_later(as_of, int(bounds.high))
            after = "the as-of date" if latest == as_of else f"{latest.isoformat()}"
            problems.add(finite & (days > day_number(latest)), name, f"after {after} ({as_of.isoformat()})")
    if not problems.reasons:
        return cohort
    checked = replace(cohort, invalid=problems.merged_with(cohort.invalid))
    checked._text_codes.update(cohort._text_codes)  # the same column arrays: their codes still hold
    return checked


def _years_later(day: dt.date, years: int) -> dt.date:
    """The same calendar day ``years`` later (earlier if negative); 29 February falls on the 28th."""
    year = min(max(day.year + years, dt.MINYEAR), dt.MAXYEAR)
    return day.replace(year=year, day=min(day.day, 28)) if (day.month, day.day) == (2, 29) else day.replace(year=year)


def invalid_rows_report(cohort: Cohort, shown: int = 10) -> list[str]:
    """Lines for the user: how many rows are invalid, then the first ``shown`` with row, id and reasons.

    Reasons name columns, never values; the patient id is the one value shown.
    """
    if not cohort.invalid:
        return []
    lines = [f"{cohort.source}: {len(cohort.invalid)} row(s) could not be read; they are reported as invalid"]
    for row, reasons in list(cohort.invalid.items())[:shown]:
        lines.append(f"{cohort.source}: row {row + 2} (patient_id {cohort.ids[row]!r}): {reason_text(reasons)}")
    if len(cohort.invalid) > shown:
        lines.append(f"{cohort.source}: {len(cohort.invalid) - shown} more invalid row(s); see the outputs' reasons")
    return lines


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
