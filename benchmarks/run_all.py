"""Run every benchmark, small sizes first and the 1M-row measurements last, then plot.

Each benchmark runs as its own process (``python -m benchmarks.X``), exactly
as documented in README.md, so one benchmark's memory does not weigh on the
next.  The cohorts are generated first (cached in benchmarks/.cache/).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.common import CACHE_DIR, cohort_file, parse_sizes

LARGE = 1_000_000


def plan(sizes: list[int]) -> list[list[str]]:
    """The benchmark commands in order: everything below LARGE first."""
    small, large = [s for s in sizes if s < LARGE], [s for s in sizes if s >= LARGE]
    steps = [["benchmarks.p3_whatif", "--sizes", "10000"]]
    if small:
        steps.append(["benchmarks.p1_allocation", "--sizes", ",".join(map(str, small))])
        screening = [s for s in small if s >= 100_000]
        if screening:
            steps.append(["benchmarks.p2_screening", "--sizes", ",".join(map(str, screening))])
    for size in large:
        steps += [
            ["benchmarks.p1_allocation", "--sizes", str(size)],
            ["benchmarks.p2_screening", "--sizes", str(size)],
            ["benchmarks.p3_whatif", "--sizes", str(size)],  # plans for patients of a 1M cohort
            ["benchmarks.p4_ingest", "--sizes", str(size)],
            ["benchmarks.e2e", "--sizes", str(size)],
        ]
    return steps


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    args = parser.parse_args(argv)
    sizes = parse_sizes(args.sizes)
    started = time.perf_counter()
    for size in sorted({*sizes, 10_000}):
        for suffix in (".csv", ".parquet"):
            cohort_file(size, suffix, CACHE_DIR)
    print(f"cohorts ready in {CACHE_DIR} ({time.perf_counter() - started:.0f} s)", flush=True)
    for step in plan(sizes):
        begun = time.perf_counter()
        subprocess.run([sys.executable, "-m", *step], check=True, cwd=Path(__file__).resolve().parent.parent)
        print(f"[{' '.join(step)}: {time.perf_counter() - begun:.0f} s]", flush=True)
    subprocess.run([sys.executable, "-m", "benchmarks.plot"], check=True, cwd=Path(__file__).resolve().parent.parent)
    print(f"total {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
