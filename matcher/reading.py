"""Cohort files to Arrow tables: CSV (comma, semicolon or tab; BOM; LF or CRLF) or Parquet, headers resolved
against the contract (case, spaces and unit suffixes), file-level problems raised with the line and column.

A CSV is first read with its number and boolean columns typed by Arrow's reader and every other column as
dictionary-encoded text; if any cell defeats that typed read (a word in a number column, ``nan``), the file is
read again with every column as text (matcher.validate then parses the text, with the same values and reasons).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Collection
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from matcher.contract import FALSE_WORDS, TRUE_WORDS, by_key, by_stem, columns, header_key
from matcher.errors import CohortError

_HEADER_WITH_UNIT = re.compile(r"^(?P<stem>[A-Za-z0-9_\s]+?)\s*\[(?P<unit>[^\]]+)\]$")


_DELIMITERS = (",", ";", "\t")


class ParquetColumns:
    """A Parquet file or dataset directory read one column at a time, as the loader asks for it.

    Memory holds one column's Arrow data at a time, never the whole table, and a column the loader
    does not ask for is never read.  Text columns are read as dictionaries (each spelling parsed once);
    Arrow reads a column's row groups and files in parallel.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            schema = pq.ParquetDataset(path).schema
            text = [field.name for field in schema if field.type in (pa.string(), pa.large_string())]
            self._dataset = pq.ParquetDataset(path, read_dictionary=text)
            self.num_rows = sum(fragment.count_rows() for fragment in self._dataset.fragments)
        except (pa.ArrowException, OSError) as exc:
            raise CohortError(f"{path}: not a readable Parquet file ({first_line(exc)})") from exc
        self.column_names = list(schema.names)

    def column(self, position: int) -> pa.ChunkedArray:
        try:
            return self._dataset.read(columns=[self.column_names[position]], use_threads=True).column(0)
        except OSError as exc:
            raise CohortError(f"{self.path}: not a readable Parquet file ({first_line(exc)})") from exc


def first_line(exc: BaseException) -> str:
    """Arrow's message without the echo of a row's text (which would print patient values)."""
    line = str(exc).split("\n")[0]
    return re.sub(r"(got \d+ columns?|Expected \d+ columns, got \d+):.*", r"\1", line)


def read_header(path: Path) -> tuple[list[str], str]:
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
_TYPED_CELLS: dict[str, pa.DataType] = {"float": pa.float64(), "int": pa.float64(), "bool": pa.bool_()}
_TEXT_CELLS = pa.dictionary(pa.int32(), pa.string())


def _parse_csv(
    path: Path,
    names: list[str],
    types: dict[str, pa.DataType],
    delimiter: str,
    parallel: bool,
    include: list[str] | None = None,
) -> pa.Table:
    return pacsv.read_csv(
        path,
        read_options=pacsv.ReadOptions(block_size=1 << 24, skip_rows=1, column_names=names, use_threads=parallel),
        parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=False),
        convert_options=pacsv.ConvertOptions(
            column_types=types,
            include_columns=include,
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
    resolved, _ = resolve_headers(names, source)
    contract = columns()
    for name, (position, _unit) in resolved.items():
        types[names[position]] = _TYPED_CELLS.get(contract[name].kind, types[names[position]])
    return types


def _read_typed(path: Path, names: list[str], delimiter: str, include: list[str] | None = None) -> pa.Table | None:
    """The fast read, or None when a cell is not as its column's type demands.

    The text read then parses the file as before, so a bad cell is reported by row and
    column.  NaN and infinity are taken back to the text read too: Arrow reads ``nan`` and
    ``inf`` as numbers, where the contract calls them not a number (blank is blank).
    """
    try:
        table = _parse_csv(path, names, _typed_types(names, str(path)), delimiter, parallel=True, include=include)
    except pa.ArrowInvalid:
        return None
    for column in table.columns:
        if pa.types.is_floating(column.type) and pc.any(pc.invert(pc.is_finite(column))).as_py():
            return None
    return table


_RAGGED = re.compile(r"(?:Row #(?P<row>\d+): )?Expected (?P<expected>\d+) columns, got (?P<found>\d+)")


def _included(names: list[str], source: str, wanted: Collection[str] | None) -> list[str] | None:
    """The header names to convert: the wanted contract columns, the ids, and every unknown header (warned of)."""
    if wanted is None:
        return None
    resolved, _ = resolve_headers(names, source)
    dropped = {position for name, (position, _unit) in resolved.items() if name != "patient_id" and name not in wanted}
    return [name for position, name in enumerate(names) if position not in dropped]


def read_csv(path: Path, wanted: Collection[str] | None = None) -> tuple[pa.Table, str]:
    """The file as an Arrow table and its delimiter; with ``wanted``, only those contract columns converted."""
    names, delimiter = read_header(path)
    include = _included(names, str(path), wanted)
    try:
        if delimiter != ";":  # a semicolon file may write decimal commas, which only the text read takes
            typed = _read_typed(path, names, delimiter, include)
            if typed is not None:
                return typed, delimiter
        types = _text_types(names)
        try:
            return _parse_csv(path, names, types, delimiter, parallel=True, include=include), delimiter
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
        raise CohortError(f"{path}: cannot be read as CSV: {first_line(exc)}") from exc
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


def resolve_headers(names: list[str], source: str) -> tuple[dict[str, tuple[int, str | None]], list[str]]:
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
