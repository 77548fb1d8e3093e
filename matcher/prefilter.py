"""A sound prefilter for near-miss scans: the pairs no action and no waiting within the horizon can make eligible.

Each trial is evaluated once more, vectorized, with every leaf that could change within the horizon set to
**unknown** on the rows where it could:

* a leaf reading a column a what-if action may change (``change:`` in facts.yaml, derived doses included), on the
  rows where a plan may offer that action (``actions.changeable_rows``: a repeated lab only near a limit, a
  question to the investigator only when unanswered, a step only when not done...);
* a leaf reading the last dose of a drug a plan may withhold: withheld, the recorded dose stands; continued, the
  drug is given on the plan day.  The leaf keeps its value where both readings agree (a washout that the recorded
  dose does not complete within the horizon fails either way) and is unknown elsewhere;
* a leaf that moves with time (a window, an elapsed time, a washout, the age or a value estimated with it: eGFR
  and CrCl from creatinine) whose value on the as-of date differs from its value on the last day of the horizon.
  Each such leaf is monotone in time (a window only closes, an elapsed time only passes, a washout runs from not
  done through undecided to done), or takes at most two values in a horizon of a year or less (the age, and what
  is estimated with it, change on one birthday at most), so equal values at both ends mean it never changes in
  between; beyond a year, a leaf on the age or a value estimated with it is unknown outright.  A dose given on the
  plan day is read on that day, so its elapsed time is nil whatever the day: equal at both ends as well.

Every state a plan can reach, on any day of the horizon, then refines this relaxed one: it replaces some unknowns
by true or false and keeps every other leaf.  Kleene logic is monotone in information, so a criterion that is
false in the relaxed evaluation is false in every reachable state, and the pair can never be eligible (nor
undecided) within the horizon: its plan would be unreachable, which is what the scan leaves out anyway.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import cast

import numpy as np

from matcher import ir
from matcher.actions import changeable_rows, test_may_apply, withheld_rows
from matcher.context import Context
from matcher.evaluate import combine, evaluate, holds_by
from matcher.kleene import FALSE, TRUE, UNKNOWN
from matcher.rule_reads import timed_leaves


class _Relaxed:
    def __init__(self, trial: ir.Trial, now: Context, horizon: int, timeless: bool = False) -> None:
        self.now, self.horizon, self.timeless = now, horizon, timeless
        self.end = now.later(horizon)
        self.changeable = changeable_rows(now, trial, withheld=False, overruled_tests=timeless)
        self.withheld = withheld_rows(now, trial)
        self.continued: tuple[Context, Context] | None = None
        self.codes: dict[ir.Rule, np.ndarray] = {}

    def rule(self, rule: ir.Rule) -> np.ndarray:
        if rule not in self.codes:
            self.codes[rule] = self._rule(rule)
        return self.codes[rule]

    def _rule(self, rule: ir.Rule) -> np.ndarray:
        if ir.children(rule):
            return combine(rule, self.rule)
        return self._leaf(rule)

    def _leaf(self, leaf: ir.Rule) -> np.ndarray:
        fields = set(ir.fields_read(leaf))
        recorded = self._in_time(leaf, fields, self.now, self.end)
        changed = fields & self.changeable.keys()
        withheld = fields & self.withheld.keys()
        if changed or len(withheld) > 1:
            may = np.logical_or.reduce([self.changeable[f] for f in changed] + [self.withheld[f] for f in withheld])
            return np.where(may, UNKNOWN, recorded).astype(np.int8)
        if withheld:
            (column,) = withheld
            continued = self._in_time(leaf, fields, *self._continued())
            agreed = np.where(continued == recorded, recorded, UNKNOWN)
            return np.where(self.withheld[column], agreed, recorded).astype(np.int8)
        return recorded

    def _in_time(self, leaf: ir.Rule, fields: set[str], now: Context, end: Context) -> np.ndarray:
        """The leaf on the data of ``now``, unknown where waiting up to ``end`` may change it."""
        value = evaluate(leaf, now)
        if ir.moves_with_time(leaf):
            ceiling = _age_ceiling(leaf) if self.timeless and fields == {"age"} else None
            if ceiling is not None:  # an age above a maximum only grows (review 37 m5: named after a score)
                return np.where(evaluate(ceiling, now) == FALSE, FALSE, UNKNOWN).astype(np.int8)
            if self.timeless or (ir.reads_ageing(fields) and self.horizon > 365):
                return np.full(len(now), UNKNOWN, dtype=np.int8)
            later = evaluate(leaf, end)
            return np.where(value == later, value, UNKNOWN).astype(np.int8)
        return value

    def _continued(self) -> tuple[Context, Context]:
        """Today and the horizon's last day, each with every withheld drug given that day (built when first read)."""
        if self.continued is None:
            self.continued = (_dosed(self.now, self.withheld), _dosed(self.end, self.withheld))
        return self.continued

    def criterion(self, criterion: ir.Criterion) -> np.ndarray:
        return holds_by(criterion, self.rule)


def _age_ceiling(leaf: ir.Rule) -> ir.Rule | None:
    """The part of an age leaf that, once false, stays false, since age only grows: its maximum (None: it has none)."""
    if isinstance(leaf, ir.Compare) and leaf.op in ("<", "<="):
        return leaf
    if isinstance(leaf, ir.Range) and leaf.max is not None:
        return ir.Range(type="range", field=leaf.field, max=leaf.max, max_inclusive=leaf.max_inclusive)
    return None


def never_within(trial: ir.Trial, ctx: Context, horizon: int) -> np.ndarray:
    """Per patient, whether some criterion of ``trial`` fails whatever is done or waited within ``horizon`` days."""
    return cast(np.ndarray, _failing(_Relaxed(trial, ctx, horizon), trial).any(axis=1))


def lasting_failures(trial: ir.Trial, ctx: Context, horizon: int) -> np.ndarray:
    """(patients, criteria not manual): 2 where the criterion fails whatever is done and whatever the date (a fact on
    record: a positive pregnancy test), 1 where it fails whatever is done or waited within ``horizon`` days, else
    0; a reason names the most lasting first (review 34 m-D: a positive test was "+1 more" behind a lapsed negative
    one, which lasts too, as a test is not repeated over a positive one)."""
    within = _failing(_Relaxed(trial, ctx, horizon), trial)
    return within.astype(np.int8) + _failing(_Relaxed(trial, ctx, horizon, timeless=True), trial)


def _failing(relaxed: _Relaxed, trial: ir.Trial) -> np.ndarray:
    """(patients, criteria not manual): false in the relaxed evaluation."""
    criteria = [criterion for criterion in trial.criteria if not criterion.is_manual]
    failing = np.zeros((len(relaxed.now), len(criteria)), dtype=bool)
    for index, criterion in enumerate(criteria):
        failing[:, index] = relaxed.criterion(criterion) == FALSE
    relaxed.now.forget_nodes()
    return failing


def stays_undecided(trial: ir.Trial, ctx: Context, undecided: np.ndarray) -> np.ndarray:
    """Of the patients ``undecided`` today, those whose nearest plan is to stay undecided today, with no action.

    No criterion fails today, so the plan of no action on day 0 meets the plan's requirement; its objective
    (days plus burden, then actions) is 0, which every other plan exceeds, so it is the one found, and a near-miss
    scan drops it (no change).  Not so where a plan may withhold a drug: its model reads "not withheld" as a
    dose on the plan day, which may fail a washout today, so those rows are planned.  Where a routine test is
    stale, the planner reads it as not done, so the row is dropped only if no criterion fails read so.
    """
    acting = np.logical_or.reduce([np.zeros(len(ctx), dtype=bool), *withheld_rows(ctx, trial).values()])
    stale = _stale_routine_tests(trial, ctx)
    still = undecided & ~acting & ~stale
    rows = np.flatnonzero(undecided & ~acting & stale)
    if len(rows):
        still[rows] = _nothing_fails_with_tests_not_done(trial, ctx, rows)
    return still


def _nothing_fails_with_tests_not_done(trial: ir.Trial, ctx: Context, rows: np.ndarray) -> np.ndarray:
    """Of ``rows`` (each with a stale routine test), those where no criterion fails today with every routine test
    read as the planner reads one it may repeat: a window on it strict (not within is false, not unknown) and a
    blank date as no test (``Compiler.repeatable``).  Then the plan of no action on day 0 is feasible at objective 0
    and is the one found, which a near-miss scan drops (it repeats nothing: review 30 M3 wanted the repeat only where
    a criterion would fail without it).

    Read so on every row where the test may apply, including those a contraindication keeps the planner from
    repeating it for (it reads them as recorded): there, this reading knows more, so a criterion it finds not
    failing does not fail as the planner reads it either (Kleene logic is monotone in information).
    """
    tests = [test for test in ctx.facts.change.tests if not test.invasive]
    alone = ctx.cohort.take(rows.tolist())
    values = dict(alone.values)
    for test in tests:
        dates = values[test.date].copy()
        dates[np.isnan(dates) & test_may_apply(ctx, test)[rows]] = -np.inf
        values[test.date] = dates
    strict = Context(replace(alone, values=values), ctx.as_of, ctx.facts)
    test_dates = {test.date for test in tests}
    codes: dict[ir.Rule, np.ndarray] = {}

    def read(rule: ir.Rule) -> np.ndarray:
        if rule not in codes:
            if ir.children(rule):
                codes[rule] = combine(rule, read)
            elif isinstance(rule, ir.OccurredWithin) and rule.renewable and rule.field in test_dates:
                codes[rule] = evaluate(
                    ir.OccurredWithin(type="occurred_within", field=rule.field, window=rule.window), strict
                )
            else:
                codes[rule] = evaluate(rule, strict)
        return codes[rule]

    fails = [holds_by(criterion, read) == FALSE for criterion in trial.criteria if not criterion.is_manual]
    return ~np.logical_or.reduce([np.zeros(len(rows), dtype=bool), *fails])


def _stale_routine_tests(trial: ir.Trial, ctx: Context) -> np.ndarray:
    """Rows with a routine test, one a plan may repeat for them, that a window of the trial does not read as recent
    today (stale, never done or undated): the plan repeats it (``Compiler.repeatable``) rather than stay
    undecided."""
    stale = np.zeros(len(ctx), dtype=bool)
    for test in ctx.facts.change.tests:
        if test.invasive:
            continue
        applies = test_may_apply(ctx, test)
        for leaf in timed_leaves(trial):
            if isinstance(leaf, ir.OccurredWithin) and leaf.field == test.date:
                stale |= applies & (evaluate(leaf, ctx) != TRUE)
    return stale


def _dosed(ctx: Context, columns: Iterable[str]) -> Context:
    """``ctx`` with a dose on its own date in each of ``columns``."""
    values = dict(ctx.cohort.values)
    values.update({column: np.full(len(ctx), float(ctx.today)) for column in columns})
    return Context(replace(ctx.cohort, values=values), ctx.as_of, ctx.facts, same_date=ctx)
