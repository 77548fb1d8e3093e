"""Import FHIR R4 records (Bundles, Bulk Data NDJSON) into the cohort contract: ``matcher import fhir``.

Modules: ``reading`` (files to resources, one at a time), ``maps`` (the code-to-column map, data in
``matcher/data/fhir-map.yaml``), ``extract`` (the best value per patient and column, with its source), and this
module (the run: the cohort file and its provenance sidecar).

Library choice (measured, ``benchmarks/p6_fhir.py`` and benchmarks/RESULTS.md): resources are parsed with the
standard library's ``json``, one NDJSON line at a time, and only the few fields the map reads are looked at.
``fhir.resources`` (pydantic models of R4) validates a resource completely, but costs about 22 times more per
resource than ``json.loads`` and rejects a whole resource for a field the import never reads (a bad
``meta.lastUpdated``); here a resource is refused only for a field it needs, and the problem names that field.
DuckDB's ``read_json`` is the fastest reader of a Bulk export (it is the benchmark's baseline), but it infers one
schema per file, and a line it cannot fit is an error for the whole file or, with ``ignore_errors``, dropped
without a trace: it cannot say which resource was unusable and why.  So it is not a runtime dependency.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from matcher.contract import columns
from matcher.errors import MatcherError
from matcher.fhir.extract import Importer, Offer
from matcher.fhir.maps import FhirMapError, load_map
from matcher.fhir.reading import Problem, input_files, read_file
from matcher.output import write_atomic

__all__ = ["FhirMapError", "ImportSummary", "import_fhir", "load_map", "provenance_path"]


@dataclass(frozen=True)
class ImportSummary:
    """What an import did: the patients written, the resources read and used, and what could not be used."""

    output: Path
    provenance: Path
    patients: int
    columns: list[str]
    counts: dict[str, int]
    problems: list[Problem]
    notes: list[str]
    filled: dict[str, int]  # per column, the patients it has a value for


def provenance_path(output: str | Path) -> Path:
    """The sidecar beside a cohort file: ``cohort.csv`` -> ``cohort.provenance.json``."""
    target = Path(output)
    return target.with_name(f"{target.stem}.provenance.json")


def import_fhir(
    paths: list[str | Path],
    output: str | Path,
    as_of: dt.date,
    map_path: str | Path | None = None,
    id_system: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ImportSummary:
    """Read the FHIR files, write the cohort (CSV, or Parquet by suffix) and its provenance sidecar.

    ``progress(bytes_read, bytes_total)`` is called as the files are read.
    """
    fhir_map = load_map(map_path)
    files = input_files([Path(p) for p in paths])
    importer = Importer(fhir_map, as_of, id_system)
    total = sum(f.stat().st_size for f in files)
    done = 0

    def advance(count: int) -> None:
        nonlocal done
        done += count
        if progress:
            progress(done, total)

    for path in files:
        for where, item in read_file(path, importer.aliases, advance):
            importer.add(where, item)
    rows, notes = importer.rows()
    if not rows:
        raise MatcherError(f"{', '.join(str(p) for p in paths)}: no Patient resources, so no rows to write")
    names = fhir_map.columns_filled()
    target = Path(output)
    table = _table(rows, names)
    write_atomic(target, _encoded(table, target))
    sidecar = provenance_path(target)
    filled = {name: sum(1 for row in rows if name in row) for name in names if name != "patient_id"}
    summary = ImportSummary(
        target, sidecar, len(rows), names, dict(sorted(importer.counts.items())), importer.problems, notes, filled
    )
    write_atomic(sidecar, _provenance(summary, rows, files, as_of, map_path))
    return summary


def _table(rows: list[dict[str, Offer]], names: list[str]) -> pa.Table:
    contract = columns()
    arrays = []
    for name in names:
        kind = contract[name].kind
        values = [row[name].value if name in row else None for row in rows]
        arrow_type = {"float": pa.float64(), "int": pa.int64(), "bool": pa.bool_()}.get(kind, pa.string())
        arrays.append(pa.array(values, arrow_type))
    return pa.Table.from_arrays(arrays, names=names)


def _encoded(table: pa.Table, target: Path) -> bytes:
    sink = io.BytesIO()
    if target.suffix.lower() in (".parquet", ".pq"):
        pq.write_table(table, sink)
    else:
        pacsv.write_csv(table, sink, pacsv.WriteOptions(quoting_style="needed"))
    return sink.getvalue()


def _provenance(
    summary: ImportSummary, rows: list[dict[str, Offer]], files: list[Path], as_of: dt.date, map_path: Any
) -> Iterator[bytes]:
    """What was not used, then per patient (one line each, written as made, so a large file stays readable and
    costs no memory) and column, the resource (and its date) the value came from."""
    head = {
        "as_of": as_of.isoformat(),
        "inputs": [str(f) for f in files],
        "map": str(map_path) if map_path else "bundled (matcher/data/fhir-map.yaml)",
        "counts": summary.counts,
        "problems": [{"where": p.where, "resource": p.resource, "why": p.why} for p in summary.problems],
        "notes": summary.notes,
    }
    yield (json.dumps(head, indent=1, ensure_ascii=False)[:-2] + ',\n "patients": {\n').encode("utf-8")
    for number, row in enumerate(rows):
        sources = {
            name: {"from": offer.source, **({"date": offer.date} if offer.date else {})}
            for name, offer in row.items()
            if name != "patient_id"
        }
        comma = "," if number < len(rows) - 1 else ""
        line = f"  {json.dumps(row['patient_id'].value)}: {json.dumps(sources, ensure_ascii=False)}{comma}\n"
        yield line.encode("utf-8")
    yield b" }\n}\n"
