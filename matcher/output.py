"""Write results safely: atomic files, and spreadsheet-safe CSV cells."""

from __future__ import annotations

import csv
import io
import os
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

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


def write_atomic(path: str | Path, text: str | bytes) -> None:
    """Write through a temporary file, flushed to disk, then rename it over the target.

    A failure or an interrupt at any point leaves no half-written file, and an
    existing file at ``path`` intact.  An OS error becomes a MatcherError naming the file.
    """
    target = Path(path)
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    except OSError as exc:
        raise MatcherError(f"{target}: cannot write: {exc.strerror}") from exc
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(text.encode("utf-8") if isinstance(text, str) else text)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, target)
    except BaseException as exc:
        Path(temporary).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise MatcherError(f"{target}: cannot write: {exc.strerror or exc}") from exc
        raise


def joined_rows(matrix: np.ndarray, labels: Sequence[str], separator: str = ";") -> np.ndarray:
    """For an (n x m) boolean matrix, each row's true labels joined, as an object array.

    Rows are grouped by pattern first (bit-packed, sorted once), so the joining is done
    once per distinct pattern rather than once per row.
    """
    if matrix.shape[1] == 0:
        return np.full(matrix.shape[0], "", dtype=object)
    packed = np.ascontiguousarray(np.packbits(matrix, axis=1))
    keys = packed.view(np.dtype((np.void, packed.shape[1]))).reshape(-1)
    unique, inverse = np.unique(keys, return_inverse=True)
    patterns = np.unpackbits(unique.view(np.uint8).reshape(len(unique), -1), axis=1)[:, : matrix.shape[1]]
    names = np.asarray(labels, dtype=object)
    texts = np.array([separator.join(names[pattern.astype(bool)]) for pattern in patterns], dtype=object)
    return texts[inverse.reshape(-1)]


def csv_from_columns(columns: Mapping[str, Sequence[object] | np.ndarray | pa.Array]) -> bytes:
    """A CSV (UTF-8 bytes) from whole columns (None = empty), written by Arrow's CSV writer.

    Text cells are made spreadsheet-safe column by column; Arrow quotes every text
    cell, which any CSV reader accepts.
    """
    arrays = {}
    for name, values in columns.items():
        if isinstance(values, pa.Array):
            array = values.cast(pa.string())
        else:
            array = pa.array(np.asarray(values, dtype=object), pa.string(), from_pandas=True)
        risky = pc.fill_null(pc.match_substring_regex(array, r"^[=+\-@\t\r]"), False)
        arrays[name] = pc.if_else(risky, pc.binary_join_element_wise("'", array, ""), array)
    sink = pa.BufferOutputStream()
    sink.write(csv_text(list(columns), []).encode("utf-8"))
    options = pacsv.WriteOptions(include_header=False, quoting_style="needed", delimiter=",")
    pacsv.write_csv(pa.table(arrays), sink, options)
    return sink.getvalue().to_pybytes()
