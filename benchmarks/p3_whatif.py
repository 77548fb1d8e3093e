"""P3 what-if: per-patient plan time, and near-miss scan throughput on one process vs all cores.

* plan time: for each sampled patient, ``matcher.planning.plan`` for all five
  trials (CPU time; CP-SAT runs single-threaded), over evaluation contexts built
  once per trial as the near-miss scan does (one warm-up patient first, so the
  memoized whole-cohort evaluation is not charged to the first patient);
* near-miss scan: ``near_misses(..., workers=1)`` against ``workers=2`` on the
  first ``--scan-patients`` patients of the cohort, in plans per wall second
  (the work runs in forked children, so CPU time of this process would miss it).
"""

from __future__ import annotations

import os
import resource
import time
from typing import Any

import numpy as np

import matcher.planning as whatif
from benchmarks.common import (
    AS_OF,
    arguments,
    goal,
    load_synthetic,
    run_benchmark,
)
from matcher import ir
from matcher.cohort import Cohort
from matcher.context import Context
from matcher.nearmiss import near_misses
from matcher.screening import ELIGIBLE, screen
from matcher.trials import effective_facts, load_trials

GOAL_MEDIAN_MS = 25.0


def sampled_rows(cohort: Cohort, patients: int, seed: int) -> tuple[int, list[int]]:
    """A warm-up patient and ``patients`` others, drawn without replacement."""
    rows = np.random.default_rng(seed).choice(len(cohort), size=min(patients + 1, len(cohort)), replace=False)
    return int(rows[0]), sorted(int(row) for row in rows[1:])


def warm_contexts(cohort: Cohort, trials: list[ir.Trial], warm_up: int) -> dict[str, Context]:
    """One evaluation context per trial, as the near-miss scan keeps them, warmed by one patient's plans."""
    contexts = {trial.id: Context(cohort, AS_OF, effective_facts(trial)) for trial in trials}
    for trial in trials:
        whatif.plan(contexts[trial.id], trial, warm_up)
    return contexts


def plan_times(contexts: dict[str, Context], trials: list[ir.Trial], rows: list[int]) -> tuple[np.ndarray, int]:
    """CPU seconds per patient for plans over every trial, and how many plans were reachable."""
    times, reachable = [], 0
    for row in rows:
        start = time.process_time()
        plans = [whatif.plan(contexts[trial.id], trial, row) for trial in trials]
        times.append(time.process_time() - start)
        reachable += sum(p.reachable for p in plans)
    return np.asarray(times), reachable


def scan(cohort: Cohort, trials: list[ir.Trial], within: int, workers: int) -> dict[str, Any]:
    """One near-miss scan; wall time, and CPU time of this process and of its finished children."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall, cpu = time.perf_counter(), time.process_time()
    found = near_misses(cohort, trials, AS_OF, within, workers=workers)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    children = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"workers": workers, "wall_s": wall, "cpu_s": cpu, "children_cpu_s": children, "near_misses": len(found)}


def run_size(size: int, trials: list[ir.Trial], args: Any) -> dict[str, Any]:
    cohort = load_synthetic(size, args.cache_dir)
    warm_up, rows = sampled_rows(cohort, args.patients, args.seed)
    times, reachable = plan_times(warm_contexts(cohort, trials, warm_up), trials, rows)
    scanned = cohort.take(list(range(min(args.scan_patients, len(cohort)))))
    screening = screen(scanned, trials, AS_OF)
    pairs = int(sum((result.status != ELIGIBLE).sum() for result in screening.results))
    one, both = scan(scanned, trials, args.within, 1), scan(scanned, trials, args.within, 2)
    if one["near_misses"] != both["near_misses"]:
        raise RuntimeError("the scan found a different number of near misses on 1 and 2 workers")
    median_ms = float(np.median(times) * 1000)
    return {
        "size": size,
        "patients": len(times),
        "trials": len(trials),
        "plan_ms": {
            "median": median_ms,
            "p95": float(np.percentile(times, 95) * 1000),
            "max": float(times.max() * 1000),
            "mean": float(times.mean() * 1000),
        },
        "reachable_plans": reachable,
        "scan": {
            "patients": len(scanned),
            "pairs_planned": pairs,
            "within_days": args.within,
            "one_worker": {**one, "plans_per_s": pairs / one["wall_s"]},
            "two_workers": {**both, "plans_per_s": pairs / both["wall_s"]},
            "speed_up": one["wall_s"] / both["wall_s"],
        },
        "goal_met": median_ms <= GOAL_MEDIAN_MS,
    }


def table(rows: list[dict[str, Any]]) -> tuple[list[str], list[list[Any]]]:
    """The result table (header, rows), shared by this script's output and RESULTS.md."""
    return (
        [
            "cohort",
            "patients",
            "median ms",
            "p95 ms",
            "max ms",
            "scan pairs",
            "1 worker plans/s",
            "2 workers plans/s",
            "speed-up",
            "goal median ≤ 25 ms",
        ],
        [
            [
                r["size"],
                r["patients"],
                r["plan_ms"]["median"],
                r["plan_ms"]["p95"],
                r["plan_ms"]["max"],
                r["scan"]["pairs_planned"],
                r["scan"]["one_worker"]["plans_per_s"],
                r["scan"]["two_workers"]["plans_per_s"],
                r["scan"]["speed_up"],
                goal(r["goal_met"]),
            ]
            for r in rows
        ],
    )


def main(argv: list[str] | None = None) -> None:
    parser = arguments(__doc__.splitlines()[0], "10000")
    parser.add_argument("--patients", type=int, default=300, help="patients whose plans are timed")
    parser.add_argument("--scan-patients", type=int, default=200, help="patients in the near-miss scan")
    parser.add_argument("--within", type=int, default=60, help="near-miss horizon in days")
    parser.add_argument("--seed", type=int, default=0, help="which patients are sampled")
    args = parser.parse_args(argv)
    trials = list(load_trials().values())
    run_benchmark(
        "p3_whatif",
        f"P3 what-if (plan: CPU ms per patient over all trials; scan: plans per wall second; {os.cpu_count()} cores)",
        args,
        argv,
        lambda size: run_size(size, trials, args),
        table,
    )


if __name__ == "__main__":
    main()
