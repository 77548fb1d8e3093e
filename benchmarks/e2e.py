"""End to end: ``matcher allocate FILE --as-of 2026-11-23 --format csv -o out.csv`` against a pyarrow read,
from the CSV (against ``pyarrow.csv.read_csv``) and from its Parquet copy (against ``pyarrow.parquet.read_table``).

The command runs as a child process (interpreter start, imports, load, screen,
allocate with proof, explanations, CSV output); its wall time, CPU time and
peak resident memory come from ``os.wait4`` for that child alone.  The baseline
is a child process too (``python -c "import pyarrow.csv; pyarrow.csv.read_csv(FILE)"``),
measured the same way, so that both pay an interpreter start and a cold memory
allocator.  This process stays small throughout: a child's peak RSS starts from
its parent's size at the fork.  The output is
checked: one row per patient, and no trial over its slots.
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from benchmarks.common import (
    AS_OF,
    arguments,
    cohort_file,
    goal,
    into_page_cache,
    ratio,
    run_benchmark,
)
from matcher.trials import load_trials

GOAL_RATIO = 2.0
GOAL_PARQUET_RATIO = 3.0
GOAL_PEAK_BYTES = 4 * 2**30


def matcher_command() -> list[str]:
    """The installed ``matcher`` script beside this interpreter (else on PATH)."""
    beside = Path(sys.executable).parent / "matcher"
    found = str(beside) if beside.exists() else shutil.which("matcher")
    if found is None:
        raise RuntimeError("the matcher command is not installed")
    return [found]


def run_child(command: list[str]) -> dict[str, Any]:
    """One child process: its wall time and, from wait4, its CPU time (all threads) and peak memory."""
    with tempfile.TemporaryFile() as errors:
        start = time.perf_counter()
        child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=errors)
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - start
        child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode:
            errors.seek(0)
            raise RuntimeError(f"{command[0]} failed ({child.returncode}): {errors.read().decode()[-2000:]}")
    return {
        "wall_s": wall,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "peak_rss_bytes": usage.ru_maxrss * 1024,  # Linux reports KiB
    }


def allocate_command(path: Path, output: Path) -> list[str]:
    return [
        *matcher_command(),
        "allocate",
        str(path),
        "--as-of",
        AS_OF.isoformat(),
        "--format",
        "csv",
        "-o",
        str(output),
    ]


def pyarrow_command(path: Path) -> list[str]:
    return [sys.executable, "-c", f"import pyarrow.csv; pyarrow.csv.read_csv({str(path)!r})"]


def parquet_read_command(path: Path) -> list[str]:
    return [sys.executable, "-c", f"import pyarrow.parquet; pyarrow.parquet.read_table({str(path)!r})"]


def run_parquet(size: int, args: Any, csv_output: bytes) -> dict[str, Any]:
    """The same run from the cohort's Parquet copy, against ``pyarrow.parquet.read_table`` of that file.

    The allocation must be byte-identical to the CSV run's.
    """
    path = cohort_file(size, ".parquet", args.cache_dir)
    into_page_cache(path)
    with tempfile.TemporaryDirectory() as scratch:
        output = Path(scratch) / "out.csv"
        runs = [run_child(allocate_command(path, output)) for _ in range(max(1, args.repeat))]
        if output.read_bytes() != csv_output:
            raise RuntimeError("the allocation from Parquet differs from the one from CSV")
    reads = [run_child(parquet_read_command(path)) for _ in range(max(1, args.repeat))]
    best, read = min(runs, key=lambda run: run["cpu_s"]), min(reads, key=lambda run: run["cpu_s"])
    return {
        "file_bytes": path.stat().st_size,
        "command": " ".join(["matcher", *allocate_command(path, Path("out.csv"))[1:]]),
        **best,
        "wall_s": min(run["wall_s"] for run in runs),
        "peak_rss_bytes": max(run["peak_rss_bytes"] for run in runs),
        "pyarrow_read_table": {"cpu_s": read["cpu_s"], "wall_s": min(run["wall_s"] for run in reads)},
        "ratio_cpu": ratio(best["cpu_s"], read["cpu_s"]),
        "goal_met": ratio(best["cpu_s"], read["cpu_s"]) <= GOAL_PARQUET_RATIO,
    }


def check_output(output: Path, size: int) -> dict[str, Any]:
    """One row per patient and no trial over its slots (read row by row, nothing kept)."""
    slots = {trial.id: trial.slots for trial in load_trials().values()}
    assigned: Counter[str] = Counter()
    statuses: Counter[str] = Counter()
    with output.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            statuses[row["status"]] += 1
            if row["status"] == "assigned":
                assigned[row["trial_id"]] += 1
    rows = sum(statuses.values())
    if rows != size:
        raise RuntimeError(f"the allocation CSV has {rows} rows for {size} patients")
    over = {trial: count for trial, count in assigned.items() if count > slots[trial]}
    if over:
        raise RuntimeError(f"trials over their slots: {over}")
    return {"rows": rows, "assigned": sum(assigned.values()), "statuses": dict(statuses)}


def run_size(size: int, args: Any) -> dict[str, Any]:
    path = cohort_file(size, ".csv", args.cache_dir)
    into_page_cache(path)
    with tempfile.TemporaryDirectory() as scratch:
        output = Path(scratch) / "out.csv"
        runs = [run_child(allocate_command(path, output)) for _ in range(max(1, args.repeat))]
        checked = check_output(output, size)
        csv_output = output.read_bytes()
    parquet = run_parquet(size, args, csv_output)
    reads = [run_child(pyarrow_command(path)) for _ in range(max(1, args.repeat))]
    best, read = min(runs, key=lambda run: run["cpu_s"]), min(reads, key=lambda run: run["cpu_s"])
    peak = max(run["peak_rss_bytes"] for run in runs)
    fastest, fastest_read = min(run["wall_s"] for run in runs), min(run["wall_s"] for run in reads)
    versus_cpu = ratio(best["cpu_s"], read["cpu_s"])
    return {
        "size": size,
        "file_bytes": path.stat().st_size,
        "ours": {
            "command": " ".join(["matcher", *allocate_command(path, output)[1:]]),
            **best,
            "wall_s": fastest,
            "peak_rss_bytes": peak,
        },
        "runs": runs,
        "pyarrow_read_csv": {"cpu_s": read["cpu_s"], "wall_s": fastest_read, "peak_rss_bytes": read["peak_rss_bytes"]},
        "output": checked,
        "ratio_cpu": versus_cpu,
        "ratio_wall": ratio(fastest, fastest_read),
        "goal_met": versus_cpu <= GOAL_RATIO,
        "memory_goal_met": peak <= GOAL_PEAK_BYTES,
        "parquet": parquet,
        "parquet_vs_csv_cpu": ratio(parquet["cpu_s"], best["cpu_s"]),
        "parquet_memory_goal_met": parquet["peak_rss_bytes"] <= peak,
    }


def table(rows: list[dict[str, Any]]) -> tuple[list[str], list[list[Any]]]:
    """The result table (header, rows), shared by this script's output and RESULTS.md."""
    return (
        [
            "patients",
            "matcher allocate s",
            "pyarrow read s",
            "ratio",
            "allocate wall s",
            "pyarrow wall s",
            "ratio (wall)",
            "peak RSS GiB",
            "goal ≤ 2×",
            "goal ≤ 4 GiB",
            "from Parquet s",
            "parquet read_table s",
            "ratio (Parquet)",
            "Parquet / CSV",
            "Parquet peak GiB",
            "goal ≤ 3×, < ½ CSV",
        ],
        [
            [
                r["size"],
                r["ours"]["cpu_s"],
                r["pyarrow_read_csv"]["cpu_s"],
                r["ratio_cpu"],
                r["ours"]["wall_s"],
                r["pyarrow_read_csv"]["wall_s"],
                r["ratio_wall"],
                r["ours"]["peak_rss_bytes"] / 2**30,
                goal(r["goal_met"]),
                goal(r["memory_goal_met"]),
                r["parquet"]["cpu_s"],
                r["parquet"]["pyarrow_read_table"]["cpu_s"],
                r["parquet"]["ratio_cpu"],
                r["parquet_vs_csv_cpu"],
                r["parquet"]["peak_rss_bytes"] / 2**30,
                goal(r["parquet"]["goal_met"] and r["parquet_vs_csv_cpu"] < 0.5),
            ]
            for r in rows
        ],
    )


def main(argv: list[str] | None = None) -> None:
    args = arguments(__doc__.splitlines()[0], "1000000").parse_args(argv)
    run_benchmark(
        "e2e",
        "End to end (seconds; ratio = matcher allocate / pyarrow read; goals <= 2 x on CPU time, peak <= 4 GiB)",
        args,
        argv,
        lambda size: run_size(size, args),
        table,
    )


if __name__ == "__main__":
    main()
