"""P4 ingest: matcher.cohort.load_cohort of a CSV against pyarrow.csv.read_csv of the same file.

The baseline reads the file with pyarrow's defaults (type inference, threads);
ours reads every column as text with pyarrow, then parses and validates each
contract column (units, plausible ranges, dates, ``never``, booleans, enums)
into numpy arrays.  The file is read once beforehand so that both sides read it
from the page cache.
"""

from __future__ import annotations

import sys
from typing import Any

import pyarrow.csv as pacsv

from benchmarks.common import (
    arguments,
    cohort_file,
    command_line,
    goal,
    measure,
    parse_sizes,
    print_table,
    ratio,
    write_results,
)
from matcher.cohort import load_cohort

GOAL_RATIO = 1.5


def run_size(size: int, args: Any) -> dict[str, Any]:
    path = cohort_file(size, ".csv", args.cache_dir)
    pacsv.read_csv(path)  # into the page cache
    baseline_time, table = measure(lambda: pacsv.read_csv(path), args.repeat)
    ours_time, cohort = measure(lambda: load_cohort(path), args.repeat)
    if len(cohort) != table.num_rows:
        raise RuntimeError(f"load_cohort read {len(cohort)} rows, pyarrow {table.num_rows}")
    versus = ratio(ours_time.cpu, baseline_time.cpu)
    return {
        "size": size,
        "file_bytes": path.stat().st_size,
        "columns": table.num_columns,
        "invalid_rows": len(cohort.invalid),
        "ours": ours_time.as_dict(),
        "pyarrow_read_csv": baseline_time.as_dict(),
        "ratio_cpu": versus,
        "ratio_wall": ratio(ours_time.wall, baseline_time.wall),
        "goal_met": versus <= GOAL_RATIO,
    }


def table(rows: list[dict[str, Any]]) -> tuple[list[str], list[list[Any]]]:
    """The result table (header, rows), shared by this script's output and RESULTS.md."""
    return (
        [
            "patients",
            "file MB",
            "load_cohort s",
            "pyarrow read s",
            "ratio",
            "load_cohort wall s",
            "pyarrow wall s",
            "ratio (wall)",
            "goal ≤ 1.5×",
        ],
        [
            [
                r["size"],
                r["file_bytes"] / 1e6,
                r["ours"]["cpu_s"],
                r["pyarrow_read_csv"]["cpu_s"],
                r["ratio_cpu"],
                r["ours"]["wall_s"],
                r["pyarrow_read_csv"]["wall_s"],
                r["ratio_wall"],
                goal(r["goal_met"]),
            ]
            for r in rows
        ],
    )


def main(argv: list[str] | None = None) -> None:
    args = arguments(__doc__.splitlines()[0], "1000000").parse_args(argv)
    rows = []
    for size in sorted(parse_sizes(args.sizes)):
        rows.append(run_size(size, args))
        print(f"size {size}: done", file=sys.stderr, flush=True)
    write_results(args.results_dir, "p4_ingest", command_line("benchmarks.p4_ingest", argv), rows)
    print_table(
        "P4 ingest (seconds; ratio = ours / pyarrow read; goal <= 1.5 x on CPU time)",
        *table(rows),
    )


if __name__ == "__main__":
    main()
