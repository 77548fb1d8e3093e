"""P5 near-miss scan: ``matcher whatif --near-miss --within DAYS`` against ``matcher screen`` of the same file.

Both sides run as commands in fresh processes (wall time; the scan forks workers), on the synthetic cohort
written by ``matcher synth --seed 5``.  Also recorded: the pairs the screen leaves not eligible, those the
prefilter passes, and those the scan plans with CP-SAT (less the undecided whose plan is no change).
Goals: the scan within 5x the screen at 100k, 10x at 1M (2 cores).
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import time
from typing import Any

from benchmarks.common import AS_OF, arguments, cohort_file, goal, run_benchmark
from matcher.cohort import load_cohort
from matcher.context import Context
from matcher.prefilter import never_within, stays_undecided
from matcher.screening import INELIGIBLE, UNDECIDED, screen
from matcher.trials import effective_facts, load_trials

GOAL = {100_000: 5.0, 1_000_000: 10.0}
SEED = 5


def _wall(*args: str) -> float:
    start = time.perf_counter()
    command = [sys.executable, "-c", "from matcher.cli import main; main()", *args]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def pass_rate(path: Any, within: int) -> tuple[int, int, int]:
    """(pairs not eligible now, pairs the prefilter passes, pairs the scan plans: less the undecided who stay so)."""
    cohort = load_cohort(path)
    trials = list(load_trials().values())
    candidates = passed = planned = 0
    for result in screen(cohort, trials, AS_OF).results:
        pairs = (result.status == INELIGIBLE) | (result.status == UNDECIDED)
        ctx = Context(cohort, AS_OF, effective_facts(result.trial))
        kept = pairs & ~never_within(result.trial, ctx, within)
        candidates += int(pairs.sum())
        passed += int(kept.sum())
        planned += int((kept & ~stays_undecided(result.trial, ctx, result.status == UNDECIDED)).sum())
    return candidates, passed, planned


def main(argv: list[str] | None = None) -> None:
    parser = arguments(__doc__ or "", "10000")
    parser.add_argument("--within", type=int, default=60)
    args = parser.parse_args(argv)

    def run_size(size: int) -> dict[str, Any]:
        path = cohort_file(size, ".csv", args.cache_dir, seed=SEED)
        common = [str(path), "--as-of", AS_OF.isoformat()]
        screen_s = min(_wall("screen", *common, "--format", "csv") for _ in range(max(1, args.repeat)))
        scan_s = _wall("whatif", *common, "--near-miss", "--within", str(args.within), "--format", "json")
        candidates, passed, planned = pass_rate(path, args.within)
        ratio = scan_s / screen_s
        return {
            "size": size,
            "within": args.within,
            "screen_wall_s": screen_s,
            "scan_wall_s": scan_s,
            "ratio": ratio,
            "pairs_not_eligible": candidates,
            "prefilter_passed": passed,
            "pass_rate": passed / max(1, candidates),
            "planned": planned,
            "planned_rate": planned / max(1, candidates),
            "goal": goal(ratio <= GOAL[size]) if size in GOAL else "-",
            "date": dt.date.today().isoformat(),
        }

    def table(rows: list[dict[str, Any]]) -> tuple[list[str], list[list[Any]]]:
        header = ["patients", "within", "screen wall s", "scan wall s", "scan / screen", "pairs", "passed", "planned"]
        body = [
            [
                r["size"],
                r["within"],
                r["screen_wall_s"],
                r["scan_wall_s"],
                r["ratio"],
                r["pairs_not_eligible"],
                r["prefilter_passed"],
                r["planned"],
            ]
            for r in rows
        ]
        return header, body

    run_benchmark("p5_nearmiss", "P5 near-miss scan (wall seconds, 2 cores)", args, argv, run_size, table)


if __name__ == "__main__":
    main()
