"""Near-miss scans: every patient not eligible now who can be within a horizon, planned on worker processes."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from matcher import ir
from matcher.cohort import Cohort
from matcher.context import Context
from matcher.planning import plan
from matcher.plans import Plan
from matcher.prefilter import never_within, stays_undecided
from matcher.screening import ELIGIBLE, INELIGIBLE, UNDECIDED, screen
from matcher.trials import effective_facts


@dataclass
class _Scan:
    """One near-miss scan's shared state: the cohort, its trials and one evaluation context per set of facts.

    Handed to each worker process once (its pool's initializer), so two scans never share state.
    """

    cohort: Cohort
    trials: dict[str, ir.Trial]
    as_of: dt.date
    horizon: int
    time_limit: float | None
    contexts: dict[tuple[Any, ...], Context] = field(default_factory=dict)

    def context(self, trial: ir.Trial) -> Context:
        facts = effective_facts(trial)
        key = (self.as_of, facts.cache_key())
        if key not in self.contexts:
            self.contexts[key] = Context(self.cohort, self.as_of, facts)
        return self.contexts[key]

    def plans(self, pairs: list[tuple[int, str]]) -> list[Plan]:
        """Plans within the horizon (the scan keeps only the reachable ones, so nothing is searched beyond it
        and no blocking criteria are sought)."""
        return [
            plan(
                self.context(self.trials[trial_id]),
                self.trials[trial_id],
                row,
                self.horizon,
                self.time_limit,
                look_beyond=False,
                explain_blocking=False,
            )
            for row, trial_id in pairs
        ]


_PAIRS_PER_JOB = 16  # a job is a few hundredths of a second: workers stay balanced and progress moves
_WORKER_SCAN: list[_Scan] = []  # a worker process's scan, set once by its pool's initializer


def _start_worker(scan: _Scan) -> None:
    _WORKER_SCAN[:] = [scan]


def _worker_plans(pairs: list[tuple[int, str]]) -> list[Plan]:
    return _WORKER_SCAN[0].plans(pairs)


def near_misses(
    cohort: Cohort,
    trials: list[ir.Trial],
    as_of: dt.date,
    within: int,
    workers: int | None = None,
    time_limit: float | None = None,
    progress: Callable[[int, int], None] | None = None,
    exhaustive: bool = False,
) -> list[Plan]:
    """Patients not eligible now who can become eligible within ``within`` days, per trial.

    Runs on ``workers`` processes (default: all cores), forked so the cohort is
    shared, and reports progress through ``progress(done, total)``.  Pairs that the
    prefilter (``matcher.prefilter``) shows can never be eligible within the horizon
    are not planned; ``exhaustive`` plans every pair (the result is the same).
    """
    plans = _planned(
        cohort, trials, as_of, within, (INELIGIBLE, UNDECIDED), workers, time_limit, progress, exhaustive, True
    )
    # A near miss needs a change: waiting or an action.  Staying undecided is not one.
    return [p for p in plans if p.reachable and (p.earliest_date != as_of or p.actions)]


def eligibility_windows(
    cohort: Cohort,
    trials: list[ir.Trial],
    as_of: dt.date,
    within: int,
    workers: int | None = None,
    time_limit: float | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[Plan]:
    """Every patient-trial plan that reaches eligibility within ``within`` days, eligible now included (their
    plan gives the day the window closes); the prefilter skips the hopeless pairs, as for near misses."""
    everyone = (INELIGIBLE, UNDECIDED, ELIGIBLE)
    plans = _planned(cohort, trials, as_of, within, everyone, workers, time_limit, progress, False, False)
    return [p for p in plans if p.eligible_pending_results]


def _planned(
    cohort: Cohort,
    trials: list[ir.Trial],
    as_of: dt.date,
    within: int,
    statuses: tuple[int, ...],
    workers: int | None,
    time_limit: float | None,
    progress: Callable[[int, int], None] | None,
    exhaustive: bool,
    changes_only: bool,
) -> list[Plan]:
    """The plans of the pairs whose status today is among ``statuses``, less those the prefilter rules out
    (and, for ``changes_only``, the undecided whose plan is no change)."""
    screening = screen(cohort, trials, as_of)
    scan = _Scan(cohort, {trial.id: trial for trial in trials}, as_of, within, time_limit)
    pairs = []
    for result in screening.results:
        candidates = np.isin(result.status, statuses)
        if not exhaustive:
            ctx = scan.context(result.trial)
            candidates &= ~never_within(result.trial, ctx, within)
            if changes_only:
                candidates &= ~stays_undecided(result.trial, ctx, result.status == UNDECIDED)
        pairs += [(int(row), result.trial.id) for row in np.flatnonzero(candidates)]
    pairs.sort()
    jobs = [pairs[i : i + _PAIRS_PER_JOB] for i in range(0, len(pairs), _PAIRS_PER_JOB)]
    workers = workers or os.cpu_count() or 1
    plans: list[Plan] = []
    if workers == 1 or len(jobs) <= 1:
        batches: Iterable[list[Plan]] = map(scan.plans, jobs)
        for done, batch in enumerate(batches, 1):
            plans += batch
            if progress:
                progress(done, len(jobs))
    else:
        # Forked, so the workers inherit the cohort rather than unpickle it.
        with multiprocessing.get_context("fork").Pool(workers, _start_worker, (scan,)) as pool:
            for done, batch in enumerate(pool.imap(_worker_plans, jobs), 1):
                plans += batch
                if progress:
                    progress(done, len(jobs))
    return plans
