"""P7 enrolment calendar: ``matcher schedule --horizon DAYS`` against ``matcher allocate --within DAYS`` on the
same file.

Both commands plan the patients' windows the same way (what-if plans, prefiltered); allocate then solves one
date, schedule the calendar (cohorts, DLT gaps, stagger, weekly capacity).  Both run as commands in fresh
processes (wall time).  Also recorded: the calendar's proof status, the patients scheduled and the
patient-trial windows the model needed after the reduction.  ``--cohort FILE`` measures a given file (e.g.
scenarios/synth-demo.csv) instead of the synthetic cohort of each size.  Goal: the calendar within 2x the
allocation.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.common import AS_OF, arguments, cohort_file, goal, run_benchmark

GOAL = 2.0


def _wall(*args: str) -> float:
    start = time.perf_counter()
    command = [sys.executable, "-c", "from matcher.cli import main; main()", *args]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> None:
    parser = arguments(__doc__ or "", "300")
    parser.add_argument("--horizon", type=int, default=365)
    parser.add_argument("--cohort", type=Path, default=None, help="a cohort file to measure instead")
    args = parser.parse_args(argv)

    def run_size(size: int) -> dict[str, Any]:
        path = args.cohort or cohort_file(size, ".csv", args.cache_dir)
        with open(path, encoding="utf-8") as handle:
            patients = sum(1 for _ in csv.DictReader(handle))
        common = [str(path), "--as-of", AS_OF.isoformat()]
        allocate_s = min(
            _wall("allocate", *common, "--within", str(args.horizon), "--format", "csv")
            for _ in range(max(1, args.repeat))
        )
        with tempfile.TemporaryDirectory() as folder:
            output = Path(folder) / "calendar.json"
            schedule_s = _wall(
                "schedule", *common, "--horizon", str(args.horizon), "--format", "json", "-o", str(output)
            )
            calendar = json.loads(output.read_text("utf-8"))
        ratio = schedule_s / allocate_s
        return {
            "size": patients,
            "cohort": str(args.cohort) if args.cohort else f"synth seed default, {size}",
            "horizon": args.horizon,
            "allocate_wall_s": allocate_s,
            "schedule_wall_s": schedule_s,
            "ratio": ratio,
            "solver_status": calendar["solver_status"],
            "proven_optimal": calendar["proven_optimal"],
            "scheduled": calendar["objective_levels"]["scheduled"],
            "windows": calendar["candidates"],
            "windows_after_reduction": calendar["reduced_candidates"],
            "goal": goal(ratio <= GOAL),
            "date": dt.date.today().isoformat(),
        }

    def table(rows: list[dict[str, Any]]) -> tuple[list[str], list[list[Any]]]:
        header = ["patients", "horizon", "allocate wall s", "schedule wall s", "ratio", "status", "scheduled", "goal"]
        body = [
            [
                r["size"],
                r["horizon"],
                r["allocate_wall_s"],
                r["schedule_wall_s"],
                r["ratio"],
                r["solver_status"],
                r["scheduled"],
                r["goal"],
            ]
            for r in rows
        ]
        return header, body

    run_benchmark("p7_schedule", "P7 enrolment calendar (schedule / allocate --within)", args, argv, run_size, table)


if __name__ == "__main__":
    main()
