"""Write results safely: atomic files, and spreadsheet-safe CSV cells."""

from __future__ import annotations

import csv
import io
import os
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TypeAlias

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from matcher.errors import MatcherError

_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> str:
    """Neutralise text a spreadsheet would run as a formula (CSV injection)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_PREFIXES) else text


def unescape_cell(cell: str) -> str:
    """Undo ``safe_cell``, for reading our own CSV outputs back."""
    return cell[1:] if cell.startswith("'") and cell[1:].startswith(_FORMULA_PREFIXES) else cell


def csv_text(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows([safe_cell(cell) for cell in row] for row in rows)
    return buffer.getvalue()


def write_atomic(path: str | Path, text: str | bytes | Iterable[bytes]) -> None:
    """Write through a temporary file, flushed to disk, then rename it over the target.

    A failure or an interrupt at any point leaves no half-written file, and an
    existing file at ``path`` intact.  The file gets the mode any new file gets (0666 less
    the umask), not the temporary file's 0600.  An OS error becomes a MatcherError naming the file.
    """
    target = Path(path)
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    except OSError as exc:
        raise MatcherError(f"{target}: cannot write: {exc.strerror}") from exc
    try:
        with os.fdopen(handle, "wb") as stream:
            os.fchmod(stream.fileno(), 0o666 & ~current_umask())
            if isinstance(text, str):
                stream.write(text.encode("utf-8"))
            elif isinstance(text, bytes):
                stream.write(text)
            else:
                stream.writelines(text)  # chunk by chunk: a large CSV is never whole in memory
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, target)
    except BaseException as exc:
        Path(temporary).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise MatcherError(f"{target}: cannot write: {exc.strerror or exc}") from exc
        raise


def current_umask() -> int:
    """The process's umask (read by setting it, so set straight back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def joined_rows(matrix: np.ndarray, labels: Sequence[str], separator: str = ";") -> pa.DictionaryArray:
    """For an (n x m) boolean matrix, each row's true labels joined, as an Arrow dictionary array.

    Rows are grouped by pattern first (bit-packed, hashed by Arrow), so the joining is
    done once per distinct pattern rather than once per row.
    """
    n, m = matrix.shape
    if m == 0 or n == 0:
        return pa.DictionaryArray.from_arrays(pa.array(np.zeros(n, dtype=np.int32)), pa.array([""], pa.string()))
    packed = np.ascontiguousarray(np.packbits(matrix, axis=1))
    width = packed.shape[1]
    keys = pa.FixedSizeBinaryArray.from_buffers(pa.binary(width), n, [None, pa.py_buffer(packed)])
    encoded = pc.dictionary_encode(keys)
    distinct = encoded.dictionary
    unique = np.frombuffer(distinct.buffers()[1], dtype=np.uint8, count=len(distinct) * width, offset=0)
    patterns = np.unpackbits(unique.reshape(len(distinct), width), axis=1)[:, :m].astype(bool)
    names = np.asarray(labels, dtype=object)
    texts = [separator.join(names[pattern]) for pattern in patterns]
    return pa.DictionaryArray.from_arrays(encoded.indices, pa.array(texts, pa.string()))


def text_array(values: Sequence[object] | np.ndarray | pa.Array) -> pa.Array:
    """Any column of text (None = empty) as an Arrow string array."""
    if isinstance(values, pa.Array):
        return values.cast(pa.string())
    return pa.array(np.asarray(values, dtype=object), pa.string(), from_pandas=True)


def coded_text(codes: np.ndarray, texts: Sequence[str]) -> pa.DictionaryArray:
    """A column that takes few values: per row an index into ``texts``."""
    return pa.DictionaryArray.from_arrays(pa.array(np.asarray(codes, dtype=np.int32)), pa.array(texts, pa.string()))


Column: TypeAlias = Sequence[object] | np.ndarray | pa.Array
CsvChunks: TypeAlias = Iterator[bytes]
ROWS_PER_CHUNK = 1 << 16


def csv_chunks(header: Sequence[str], batches: Iterable[Mapping[str, Column]]) -> CsvChunks:
    """A CSV (UTF-8) written by Arrow's CSV writer: the header, then one chunk per batch of rows.

    Memory stays bounded by one batch however many rows there are.  Text cells are made
    spreadsheet-safe column by column (None = empty); Arrow quotes every text cell,
    which any CSV reader accepts.
    """
    yield csv_text(header, []).encode("utf-8")
    options = pacsv.WriteOptions(include_header=False, quoting_style="needed", delimiter=",")
    for batch in batches:
        arrays = {}
        for name in header:
            array = text_array(batch[name])
            risky = pc.fill_null(pc.match_substring_regex(array, r"^[=+\-@\t\r]"), False)
            arrays[name] = pc.if_else(risky, pc.binary_join_element_wise("'", array, ""), array)
        sink = pa.BufferOutputStream()
        pacsv.write_csv(pa.table(arrays), sink, options)
        yield sink.getvalue().to_pybytes()


def row_ranges(rows: int, size: int = ROWS_PER_CHUNK) -> Iterator[tuple[int, int]]:
    """(start, stop) of consecutive batches of at most ``size`` rows."""
    for start in range(0, rows, size):
        yield start, min(rows, start + size)
