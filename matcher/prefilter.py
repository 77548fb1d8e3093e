"""A sound prefilter for near-miss scans: the pairs no action and no waiting within the horizon can make eligible.

Each trial is evaluated once more, vectorized, with every leaf that could change within the horizon set to
**unknown**:

* a leaf reading a column some what-if action may change (``change:`` in facts.yaml, derived doses included);
* a leaf that moves with time (a window, an elapsed time, a washout, the age) whose value on the as-of date
  differs from its value on the last day of the horizon.  Each such leaf is monotone in time (a window only
  closes, an elapsed time only passes, a washout runs from not done through undecided to done, age only grows,
  by at most one year in a horizon of a year or less), so equal values at both ends mean it never changes in
  between; beyond a year, an age leaf is unknown outright.

Every state a plan can reach, on any day of the horizon, then refines this relaxed one: it replaces some unknowns
by true or false and keeps every other leaf.  Kleene logic is monotone in information, so a criterion that is
false in the relaxed evaluation is false in every reachable state, and the pair can never be eligible (nor
undecided) within the horizon: its plan would be unreachable, which is what the scan leaves out anyway.
"""

from __future__ import annotations

import datetime as dt
from typing import cast

import numpy as np

from matcher import ir
from matcher.actions import ever_changeable
from matcher.context import Context
from matcher.evaluate import evaluate
from matcher.kleene import FALSE, UNKNOWN, at_least, case_split, conjunction, disjunction, implies, negation

_TIMED = (ir.OccurredWithin, ir.ElapsedAtLeast, ir.Washout)


class _Relaxed:
    def __init__(self, now: Context, end: Context, horizon: int) -> None:
        self.now, self.end, self.horizon = now, end, horizon
        self.changeable = ever_changeable(now.facts)
        self.codes: dict[ir.Rule, np.ndarray] = {}

    def rule(self, rule: ir.Rule) -> np.ndarray:
        if rule not in self.codes:
            self.codes[rule] = self._rule(rule)
        return self.codes[rule]

    def _rule(self, rule: ir.Rule) -> np.ndarray:
        if isinstance(rule, ir.All):
            return conjunction([self.rule(child) for child in rule.of])
        if isinstance(rule, ir.Any_):
            return disjunction([self.rule(child) for child in rule.of])
        if isinstance(rule, ir.AtLeast):
            return at_least([self.rule(child) for child in rule.of], rule.k)
        if isinstance(rule, ir.Not):
            return negation(self.rule(rule.rule))
        if isinstance(rule, ir.If):
            condition, then = self.rule(rule.condition), self.rule(rule.then)
            if rule.otherwise is None:
                return implies(condition, then)
            return case_split(condition, then, self.rule(rule.otherwise))
        return self._leaf(rule)

    def _leaf(self, leaf: ir.Rule) -> np.ndarray:
        fields = set(ir.fields_read(leaf))
        if fields & self.changeable:
            return np.full(len(self.now), UNKNOWN, dtype=np.int8)
        now = evaluate(leaf, self.now)
        if isinstance(leaf, _TIMED) or "age" in fields:
            if "age" in fields and self.horizon > 365:
                return np.full(len(self.now), UNKNOWN, dtype=np.int8)
            end = evaluate(leaf, self.end)
            return np.where(now == end, now, UNKNOWN).astype(np.int8)
        return now

    def criterion(self, criterion: ir.Criterion) -> np.ndarray:
        result = self.rule(cast(ir.Rule, criterion.rule))
        holds = result if criterion.kind == "inclusion" else negation(result)
        if criterion.applies_when is not None:
            holds = implies(self.rule(criterion.applies_when), holds)
        return holds


def never_within(trial: ir.Trial, ctx: Context, horizon: int) -> np.ndarray:
    """Per patient, whether some criterion of ``trial`` fails whatever is done or waited within ``horizon`` days."""
    end = Context(ctx.cohort, ctx.as_of + dt.timedelta(days=horizon), ctx.facts)
    relaxed = _Relaxed(ctx, end, horizon)
    blocked = np.zeros(len(ctx), dtype=bool)
    for criterion in trial.criteria:
        if not criterion.is_manual:
            blocked |= relaxed.criterion(criterion) == FALSE
    ctx.forget_nodes()
    return blocked
