"""Resident memory after each step of ``matcher allocate`` at one cohort size, to name what fills it.

``python -m benchmarks.memory --size 1000000`` runs the command's steps in this
process (load, screen, allocate, CSV) and prints the current and peak RSS
after each, from /proc/self/status.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from benchmarks.common import AS_OF, CACHE_DIR, cohort_file
from matcher import formats
from matcher.allocation import allocate
from matcher.cohort import load_cohort
from matcher.output import write_atomic
from matcher.screening import screen
from matcher.trials import load_trials


def resident() -> tuple[float, float]:
    """(current, peak) resident set in GiB."""
    fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]) / 2**20, int(fields["VmHWM"].split()[0]) / 2**20


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--cache-dir", type=Path, default=CACHE_DIR)
    args = parser.parse_args(argv)
    path = cohort_file(args.size, ".csv", args.cache_dir)
    trials = list(load_trials().values())
    print(f"{'step':<12} {'RSS GiB':>8} {'peak GiB':>9}")
    print(f"{'imports':<12} {resident()[0]:8.2f} {resident()[1]:9.2f}")
    cohort = load_cohort(path)
    print(f"{'load':<12} {resident()[0]:8.2f} {resident()[1]:9.2f}")
    screening = screen(cohort, trials, AS_OF)
    print(f"{'screen':<12} {resident()[0]:8.2f} {resident()[1]:9.2f}")
    result = allocate(screening, {}, [])
    print(f"{'allocate':<12} {resident()[0]:8.2f} {resident()[1]:9.2f}")
    with tempfile.TemporaryDirectory() as scratch:
        write_atomic(Path(scratch) / "out.csv", formats.allocation_csv(result))
    print(f"{'csv':<12} {resident()[0]:8.2f} {resident()[1]:9.2f}")


if __name__ == "__main__":
    main()
