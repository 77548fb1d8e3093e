"""cProfile of one measured step, to name the cause of a missed goal.

``python -m benchmarks.profile allocate|screen|plan|load|e2e --size N`` prints the
functions with the most own time and writes the full listing to
benchmarks/results/profile-<step>-<N>.txt.  The cohort is prepared outside the
profile (screening for ``allocate``, loading for ``screen``, loading and warm
contexts for ``plan``, which profiles the what-if plans of 60 sampled patients as
benchmarks.p3_whatif times them).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import tempfile
from collections.abc import Callable
from pathlib import Path

from benchmarks.common import AS_OF, CACHE_DIR, RESULTS_DIR, cohort_file, load_synthetic
from benchmarks.p3_whatif import plan_times, sampled_rows, warm_contexts
from matcher.allocation import allocate
from matcher.cli import main as matcher_main
from matcher.cohort import load_cohort
from matcher.screening import screen
from matcher.trials import load_trials


def step(name: str, size: int, cache_dir: Path, scratch: Path) -> Callable[[], object]:
    trials = list(load_trials().values())
    if name == "load":
        path = cohort_file(size, ".csv", cache_dir)
        return lambda: load_cohort(path)
    if name == "e2e":
        path = cohort_file(size, ".csv", cache_dir)
        arguments = ["allocate", str(path), "--as-of", AS_OF.isoformat(), "--format", "csv", "-o", str(scratch / "o")]
        return lambda: matcher_main(arguments, standalone_mode=False)
    cohort = load_synthetic(size, cache_dir)
    if name == "screen":
        return lambda: screen(cohort, trials, AS_OF)
    if name == "plan":
        warm_up, rows = sampled_rows(cohort, 60, seed=0)
        contexts = warm_contexts(cohort, trials, warm_up)
        return lambda: plan_times(contexts, trials, rows)
    screening = screen(cohort, trials, AS_OF)
    return lambda: allocate(screening, {}, [])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("step", choices=("allocate", "screen", "plan", "load", "e2e"))
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--cache-dir", type=Path, default=CACHE_DIR)
    parser.add_argument("--results-dir", type=Path, default=RESULTS_DIR)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        action = step(args.step, args.size, args.cache_dir, Path(scratch))
        profiler = cProfile.Profile()
        profiler.runcall(action)
    listing = io.StringIO()
    stats = pstats.Stats(profiler, stream=listing).strip_dirs()
    stats.sort_stats("tottime").print_stats(args.top)
    stats.sort_stats("cumulative").print_stats(args.top)
    args.results_dir.mkdir(parents=True, exist_ok=True)
    target = args.results_dir / f"profile-{args.step}-{args.size}.txt"
    target.write_text(listing.getvalue(), "utf-8")
    print(listing.getvalue())
    print(f"written: {target}")


if __name__ == "__main__":
    main()
