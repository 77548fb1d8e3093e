"""P6 FHIR import: ``matcher import fhir`` of a Bulk Data export against DuckDB's read_json of the same NDJSON.

The export is the synthetic cohort (seed 1, as-of 2026-11-23) written by benchmarks/fhir_writer.py, one NDJSON file
per resource type, with ``--history`` older results per lab so that a patient has about a hundred resources, as a
hospital record would.  The baseline reads every file into a DuckDB table (schema inferred, every field
materialised); ours reads the same files and writes the cohort (Parquet) and its provenance sidecar.  Both run in a
new interpreter after their imports, with the files in the page cache.  When ``fhir.resources`` is importable, the
cost of validating Observations with its R4B models is set against ``json.loads`` of the same lines (the library
choice in matcher/fhir/__init__.py).
"""

from __future__ import annotations

import glob
import hashlib
import json
import shutil
import time
from importlib import resources
from pathlib import Path
from typing import Any

from benchmarks.common import (
    AS_OF,
    SEED,
    arguments,
    child_peak_rss_bytes,
    into_page_cache,
    measure_fresh,
    ratio,
    run_benchmark,
)
from benchmarks.fhir_writer import FhirWriter, write_export
from matcher.fhir import load_map
from matcher.synth import SynthOptions, generate

VALIDATED_LINES = 20_000  # Observations validated with fhir.resources, when it is installed


def export_dir(size: int, history: int, cache_dir: Path) -> Path:
    """The Bulk export of the synthetic cohort of ``size`` patients, written once and cached."""
    fhir_map = load_map()
    directory = cache_dir / f"fhir-{size}-h{history}-seed{SEED}-map{map_digest()}"
    if not directory.exists():
        partial = directory.with_name(directory.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        rows = (row for table in generate(SynthOptions(rows=size, seed=SEED, as_of=AS_OF)) for row in table.to_pylist())
        write_export(rows, partial, FhirWriter(fhir_map, AS_OF, history))
        partial.rename(directory)
    return directory


def map_digest() -> str:
    """A short digest of the bundled map, so a cached export is written again when the map changes."""
    text = resources.files("matcher").joinpath("data/fhir-map.yaml").read_bytes()
    return hashlib.sha256(text).hexdigest()[:8]


def duckdb_read(directory: str) -> int:
    """The baseline: every NDJSON file of the export into a DuckDB table; the rows read."""
    import duckdb

    connection = duckdb.connect()
    total = 0
    for path in sorted(glob.glob(f"{directory}/*.ndjson")):
        connection.execute(
            f"CREATE OR REPLACE TABLE resources AS SELECT * FROM read_json('{path}', format='newline_delimited')"
        )
        total += connection.execute("SELECT count(*) FROM resources").fetchone()[0]  # type: ignore[index]
    return total


def fhir_resources_cost(directory: Path) -> dict[str, Any] | None:
    """CPU seconds to validate Observations with fhir.resources (R4B) against json.loads of the same lines."""
    try:
        from fhir.resources.R4B.observation import Observation
    except ImportError:
        return None

    with open(directory / "Observation.ndjson", encoding="utf-8") as stream:
        lines = [line for _, line in zip(range(VALIDATED_LINES), stream, strict=False)]
    started = time.process_time()
    for line in lines:
        json.loads(line)
    parsed = time.process_time() - started
    started = time.process_time()
    for line in lines:
        Observation.model_validate_json(line)
    validated = time.process_time() - started
    return {
        "lines": len(lines),
        "json_loads_cpu_s": parsed,
        "fhir_resources_cpu_s": validated,
        "ratio": ratio(validated, parsed),
    }


def run_size(size: int, args: Any) -> dict[str, Any]:
    directory = export_dir(size, args.history, args.cache_dir)
    files = sorted(directory.glob("*.ndjson"))
    for path in files:
        into_page_cache(path)
    resources = sum(sum(1 for _ in path.open("rb")) for path in files)
    output = directory.with_name(directory.name + "-cohort.parquet")
    ours_time, patients = measure_fresh(
        "import datetime as dt\nfrom matcher.fhir import import_fhir",
        f"import_fhir([{str(directory)!r}], {str(output)!r}, dt.date.fromisoformat({AS_OF.isoformat()!r})).patients",
        args.repeat,
    )
    ours_rss = child_peak_rss_bytes()
    baseline_time, read = measure_fresh(
        "from benchmarks.p6_fhir import duckdb_read", f"duckdb_read({str(directory)!r})", args.repeat
    )
    if patients != size or read != resources:
        raise RuntimeError(f"imported {patients} patients of {size}; DuckDB read {read} resources of {resources}")
    return {
        "size": size,
        "history": args.history,
        "resources": resources,
        "export_bytes": sum(path.stat().st_size for path in files),
        "ours": ours_time.as_dict(),
        "duckdb_read_json": baseline_time.as_dict(),
        "ratio_cpu": ratio(ours_time.cpu, baseline_time.cpu),
        "ratio_wall": ratio(ours_time.wall, baseline_time.wall),
        "ours_peak_rss_mib": round(ours_rss / 2**20),
        "resources_per_cpu_s": round(resources / ours_time.cpu) if ours_time.cpu else None,
        "fhir_resources": fhir_resources_cost(directory),
    }


def table(rows: list[dict[str, Any]]) -> tuple[list[str], list[list[Any]]]:
    """The result table (header, rows), shared by this script's output and RESULTS.md."""
    return (
        [
            "patients",
            "resources",
            "export MB",
            "import s",
            "DuckDB s",
            "ratio",
            "import wall s",
            "DuckDB wall s",
            "ratio (wall)",
            "peak RSS MiB",
            "resources/s",
        ],
        [
            [
                r["size"],
                r["resources"],
                r["export_bytes"] / 1e6,
                r["ours"]["cpu_s"],
                r["duckdb_read_json"]["cpu_s"],
                r["ratio_cpu"],
                r["ours"]["wall_s"],
                r["duckdb_read_json"]["wall_s"],
                r["ratio_wall"],
                r["ours_peak_rss_mib"],
                r["resources_per_cpu_s"],
            ]
            for r in rows
        ],
    )


def main(argv: list[str] | None = None) -> None:
    parser = arguments(__doc__.splitlines()[0], "10000")
    parser.add_argument("--history", type=int, default=5, help="older results per lab and patient (default 5)")
    args = parser.parse_args(argv)
    run_benchmark(
        "p6_fhir",
        "P6 FHIR import (CPU seconds; ratio = matcher import fhir / DuckDB read_json of the same NDJSON)",
        args,
        argv,
        lambda size: run_size(size, args),
        table,
    )


if __name__ == "__main__":
    main()
