"""P2 screening: matcher.screening.screen against DuckDB running equivalent SQL, and against one memory pass.

* ours: ``screen(cohort, trials, as_of)`` — three-valued verdicts, every
  criterion's truth value per patient (the failed-criterion lists), and the
  columns that leave undecided patients undecided;
* DuckDB: the SQL that benchmarks/sql.py generates from the same trial models
  (NULL = unknown), run over the same parsed columns loaded into a DuckDB table
  beforehand, so both sides measure evaluation, not parsing; it returns each
  trial's status and each criterion's truth value as an Arrow table, keyed by row_id;
* one memory pass: a numpy sum over every loaded numeric column (float64 and
  int8; text columns are object arrays and are left out).

The benchmark checks that DuckDB's verdicts and per-criterion values (hence the
failed-criterion lists) equal ours, patient by patient.
"""

from __future__ import annotations

from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from benchmarks.common import (
    AS_OF,
    arguments,
    goal,
    load_synthetic,
    measure,
    ratio,
    run_benchmark,
)
from benchmarks.sql import screening_query
from matcher import ir
from matcher.cohort import Cohort
from matcher.contract import columns
from matcher.kleene import TRUE, UNKNOWN
from matcher.screening import Screening, screen
from matcher.trials import load_trials

GOAL_VS_DUCKDB = 1.0
GOAL_VS_MEMORY_PASS = 3.0


def arrow_table(cohort: Cohort) -> pa.Table:
    """The parsed columns as Arrow, blanks as nulls (NaN and Kleene unknown become NULL; -inf stays)."""
    arrays: dict[str, pa.Array] = {
        "row_id": pa.array(np.arange(len(cohort), dtype=np.int64)),
        "valid": pa.array(cohort.valid_mask()),
    }
    for name in columns():
        if name == "patient_id":
            continue
        values = cohort.column(name)
        if values.dtype == np.int8:
            arrays[name] = pa.array(values == TRUE, mask=values == UNKNOWN)
        elif values.dtype == object:
            arrays[name] = pa.array(values, type=pa.string(), from_pandas=True)
        else:
            arrays[name] = pa.array(values, type=pa.float64(), from_pandas=True)
    return pa.table(arrays)


def duckdb_connection(cohort: Cohort) -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect()
    connection.register("parsed", arrow_table(cohort))
    connection.execute("CREATE TABLE cohort AS SELECT * FROM parsed")
    connection.unregister("parsed")
    return connection


def memory_pass(cohort: Cohort) -> float:
    """Touch every byte of the loaded numeric columns once."""
    return float(sum(np.sum(values) for values in cohort.values.values() if values.dtype != object))


def kleene_codes(column: pa.ChunkedArray) -> np.ndarray:
    """A nullable BOOLEAN column as matcher's codes (0 false, 1 unknown, 2 true)."""
    values = column.fill_null(False).to_numpy(zero_copy_only=False)
    unknown = column.is_null().to_numpy(zero_copy_only=False)
    return np.where(unknown, UNKNOWN, np.where(values, TRUE, 0)).astype(np.int8)


def compare(screening: Screening, result: pa.Table, names: list[list[str]]) -> dict[str, Any]:
    """Patient-by-patient agreement of verdicts and per-criterion values (failed and undecided lists)."""
    row_id = result.column("row_id").to_numpy()
    n = len(screening.cohort)
    if not np.array_equal(np.sort(row_id), np.arange(n)):
        raise RuntimeError("DuckDB did not return every patient exactly once")

    def aligned(values: np.ndarray) -> np.ndarray:
        """In cohort order (a parallel scan may return the rows in another order; row_id says which)."""
        out = np.empty_like(values)
        out[row_id] = values
        return out

    per_trial = []
    for k, (ours, columns_of) in enumerate(zip(screening.results, names, strict=True)):
        status = aligned(result.column(f"t{k}_status").to_numpy(zero_copy_only=False).astype(np.int8))
        holds = np.stack([aligned(kleene_codes(result.column(name))) for name in columns_of], axis=1)
        differing = [ours.criteria[i].id for i in np.flatnonzero((holds != ours.holds).any(axis=0))]
        per_trial.append(
            {
                "trial": ours.trial.id,
                "criteria": len(columns_of),
                "verdicts_differing": int((status != ours.status).sum()),
                "failed_lists_differing": int(((holds == 0) != (ours.holds == 0)).any(axis=1).sum()),
                "criterion_values_differing": int((holds != ours.holds).sum()),
                "criteria_differing": differing,
            }
        )
    return {
        "verdicts_equal": all(t["verdicts_differing"] == 0 for t in per_trial),
        "failed_lists_equal": all(t["failed_lists_differing"] == 0 for t in per_trial),
        "criterion_values_equal": all(t["criterion_values_differing"] == 0 for t in per_trial),
        "per_trial": per_trial,
    }


def run_size(size: int, trials: list[ir.Trial], args: Any) -> dict[str, Any]:
    cohort = load_synthetic(size, args.cache_dir)
    connection = duckdb_connection(cohort)  # also fills absent contract columns with blanks, before any timing
    query, names = screening_query(trials, AS_OF)
    ours_time, screening = measure(lambda: screen(cohort, trials, AS_OF), args.repeat)
    duck_time, result = measure(lambda: connection.sql(query).to_arrow_table(), args.repeat)
    pass_time, _ = measure(lambda: memory_pass(cohort), args.repeat)
    agreement = compare(screening, result, names)
    threads = connection.execute("SELECT current_setting('threads')").fetchone()
    numeric = [values for values in cohort.values.values() if values.dtype != object]
    versus_duckdb, versus_pass = ratio(ours_time.cpu, duck_time.cpu), ratio(ours_time.cpu, pass_time.cpu)
    return {
        "size": size,
        "trials": [trial.id for trial in trials],
        "criteria": sum(len(n) for n in names),
        "ours": ours_time.as_dict(),
        "duckdb": {
            **duck_time.as_dict(),
            "threads": int(threads[0]) if threads else None,
            "version": duckdb.__version__,
        },
        "memory_pass": {**pass_time.as_dict(), "columns": len(numeric), "bytes": int(sum(v.nbytes for v in numeric))},
        "agreement": agreement,
        "ratio_cpu_vs_duckdb": versus_duckdb,
        "ratio_wall_vs_duckdb": ratio(ours_time.wall, duck_time.wall),
        "ratio_cpu_vs_memory_pass": versus_pass,
        "goal_vs_duckdb_met": versus_duckdb <= GOAL_VS_DUCKDB,
        "goal_vs_memory_pass_met": versus_pass <= GOAL_VS_MEMORY_PASS,
    }


def table(rows: list[dict[str, Any]]) -> tuple[list[str], list[list[Any]]]:
    """The result table (header, rows), shared by this script's output and RESULTS.md."""
    return (
        [
            "patients",
            "criteria",
            "ours s",
            "DuckDB s",
            "memory pass s",
            "ours / DuckDB",
            "ours / DuckDB (wall)",
            "ours / pass",
            "verdicts equal",
            "failed lists equal",
            "goal ≤ 1× DuckDB",
            "goal ≤ 3× pass",
        ],
        [
            [
                r["size"],
                r["criteria"],
                r["ours"]["cpu_s"],
                r["duckdb"]["cpu_s"],
                r["memory_pass"]["cpu_s"],
                r["ratio_cpu_vs_duckdb"],
                r["ratio_wall_vs_duckdb"],
                r["ratio_cpu_vs_memory_pass"],
                r["agreement"]["verdicts_equal"],
                r["agreement"]["failed_lists_equal"],
                goal(r["goal_vs_duckdb_met"]),
                goal(r["goal_vs_memory_pass_met"]),
            ]
            for r in rows
        ],
    )


def main(argv: list[str] | None = None) -> None:
    args = arguments(__doc__.splitlines()[0], "100000,1000000").parse_args(argv)
    trials = list(load_trials().values())
    run_benchmark(
        "p2_screening",
        "P2 screening (CPU seconds; ratio = ours / baseline; goals <= 1.0 x DuckDB, <= 3 x one memory pass)",
        args,
        argv,
        lambda size: run_size(size, trials, args),
        table,
    )


if __name__ == "__main__":
    main()
