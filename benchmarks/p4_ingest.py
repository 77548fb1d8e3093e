"""P4 ingest: matcher.cohort.load_cohort of a CSV against pyarrow.csv.read_csv of the same file.

The baseline reads the file with pyarrow's defaults (type inference, threads);
ours reads it with pyarrow too (numbers and booleans typed by the reader, other
columns as dictionary text), then parses and validates each contract column
(units, plausible ranges, dates, ``never``, booleans, enums) into numpy arrays.
The file is read once beforehand so that both sides read it from the page cache,
and each side runs in a new interpreter (timed after its imports), as a command
does: in one process, whichever side ran second would reuse the memory the first
freed.
"""

from __future__ import annotations

from typing import Any

from benchmarks.common import (
    arguments,
    cohort_file,
    goal,
    into_page_cache,
    measure_fresh,
    ratio,
    run_benchmark,
)

GOAL_RATIO = 1.5


def run_size(size: int, args: Any) -> dict[str, Any]:
    path = cohort_file(size, ".csv", args.cache_dir)
    into_page_cache(path)
    baseline_time, (rows, columns) = measure_fresh(
        "import pyarrow.csv as pacsv",
        f"(lambda t: (t.num_rows, t.num_columns))(pacsv.read_csv({str(path)!r}))",
        args.repeat,
    )
    ours_time, (loaded, invalid) = measure_fresh(
        "from matcher.cohort import load_cohort",
        f"(lambda c: (len(c), len(c.invalid)))(load_cohort({str(path)!r}))",
        args.repeat,
    )
    if loaded != rows:
        raise RuntimeError(f"load_cohort read {loaded} rows, pyarrow {rows}")
    versus = ratio(ours_time.cpu, baseline_time.cpu)
    return {
        "size": size,
        "file_bytes": path.stat().st_size,
        "columns": columns,
        "invalid_rows": invalid,
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
    run_benchmark(
        "p4_ingest",
        "P4 ingest (seconds; ratio = ours / pyarrow read; goal <= 1.5 x on CPU time)",
        args,
        argv,
        lambda size: run_size(size, args),
        table,
    )


if __name__ == "__main__":
    main()
