"""The vectorized three-valued evaluator.

Why numpy rather than SQL on DuckDB: a rule tree maps one-to-one onto a few
array operations per node, the Kleene codes below make AND/OR/NOT plain
``min``/``max``/``2 - x``, and the same tree walk also yields *which blank
columns* left a criterion undecided, which SQL would need a second query for.
Cohort columns are already contiguous numpy arrays after loading, so screening
is a handful of memory passes per criterion with no copy into another engine.
The benchmark compares this against DuckDB running hand-written SQL.

Truth values are int8 codes: 0 false, 1 unknown, 2 true.
"""

from __future__ import annotations

import calendar
import datetime as dt
import operator
from collections.abc import Callable
from typing import Any, cast

import numpy as np

from matcher import ir
from matcher.cohort import FALSE, TRUE, UNKNOWN, Cohort, tri
from matcher.contract import columns
from matcher.derived import DERIVED_FIELDS, Derived, day_number, derive
from matcher.facts import Facts

OPERATORS: dict[str, Callable[[Any, Any], Any]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
}


def subtract(day: dt.date, duration: ir.Duration) -> dt.date:
    """``day`` minus a calendar duration; months clamp to the month's end."""
    months = duration.years * 12 + duration.months
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    month += 1
    clamped = dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))
    return clamped - dt.timedelta(days=duration.days + 7 * duration.weeks)


class Context:
    """One cohort seen at one screening date with one set of facts."""

    def __init__(self, cohort: Cohort, as_of: dt.date, facts: Facts, same_date: Context | None = None) -> None:
        """``same_date``: a context of this cohort and date (other facts); its fact-free derived values are reused."""
        self.cohort = cohort
        self.as_of = as_of
        self.today = day_number(as_of)
        self.facts = facts
        self.derived: dict[str, Derived] = derive(cohort, as_of, facts, same_date.derived if same_date else None)
        self._blanks: dict[str, dict[str, np.ndarray]] = {}
        self._holds: dict[int, np.ndarray] = {}
        self._memo: dict[int, np.ndarray] = {}

    def __len__(self) -> int:
        return len(self.cohort)

    def values(self, field: str) -> np.ndarray:
        if field in self.derived:
            return self.derived[field].values
        return self.cohort.column(field)

    def lowered_at(self, field: str, row: int) -> str | None:
        """One patient's text value, lower-cased (None where blank)."""
        codes, distinct = self.cohort.text_codes(field)
        return distinct[codes[row]] if codes[row] >= 0 else None

    def blanks(self, field: str) -> dict[str, np.ndarray]:
        """Per input column, the rows where its blank leaves ``field`` unknown (built once per field)."""
        if field in self.derived:
            return self.derived[field].blanks
        if field not in self._blanks:
            column = self.cohort.column(field)
            if column.dtype == np.int8:
                blank = column == UNKNOWN
            elif column.dtype == object:
                blank = self.cohort.text_codes(field)[0] < 0
            else:
                blank = np.isnan(column)
            self._blanks[field] = {field: blank}
        return self._blanks[field]

    def cutoff(self, duration: ir.Duration) -> int:
        return day_number(subtract(self.as_of, duration))

    def forget_nodes(self) -> None:
        """Drop the memoized rule-node arrays (criterion results stay): a million-row screen keeps one criterion's."""
        self._memo.clear()

    def evaluate(self, rule: ir.Rule) -> np.ndarray:
        """Kleene codes of ``rule`` for every patient (memoized per node)."""
        key = id(rule)
        if key not in self._memo:
            self._memo[key] = _EVALUATORS[type(rule)](rule, self)
        return self._memo[key]


def _compare(rule: ir.Compare, ctx: Context) -> np.ndarray:
    values = ctx.values(rule.field)
    with np.errstate(invalid="ignore"):
        return tri(~np.isnan(values), OPERATORS[rule.op](values, rule.value))


def _range(rule: ir.Range, ctx: Context) -> np.ndarray:
    values = ctx.values(rule.field)
    inside = np.ones(len(values), dtype=bool)
    with np.errstate(invalid="ignore"):
        if rule.min is not None:
            inside &= values >= rule.min if rule.min_inclusive else values > rule.min
        if rule.max is not None:
            inside &= values <= rule.max if rule.max_inclusive else values < rule.max
    return tri(~np.isnan(values), inside)


def _compare_fields(rule: ir.CompareFields, ctx: Context) -> np.ndarray:
    left, right = ctx.values(rule.left), ctx.values(rule.right)
    with np.errstate(invalid="ignore"):
        return tri(~np.isnan(left) & ~np.isnan(right), OPERATORS[rule.op](left, right))


def _in_set(rule: ir.InSet, ctx: Context) -> np.ndarray:
    wanted = {value.lower() for value in rule.values}
    return tri(ctx.cohort.text_codes(rule.field)[0] >= 0, ctx.cohort.per_word(rule.field, wanted.__contains__, False))


def _flag(rule: ir.Flag, ctx: Context) -> np.ndarray:
    codes = ctx.values(rule.field)
    return codes if rule.value else (TRUE - codes).astype(np.int8)


def _occurred_within(rule: ir.OccurredWithin, ctx: Context) -> np.ndarray:
    days = ctx.values(rule.field)
    with np.errstate(invalid="ignore"):
        within = days > ctx.cutoff(rule.window)
    if rule.renewable:
        return np.where(within, TRUE, UNKNOWN).astype(np.int8)
    return tri(~np.isnan(days), within)


def _elapsed_at_least(rule: ir.ElapsedAtLeast, ctx: Context) -> np.ndarray:
    days = ctx.values(rule.field)
    with np.errstate(invalid="ignore"):
        elapsed = np.where(np.isneginf(days), rule.when_never, days <= ctx.cutoff(rule.duration))
    return tri(~np.isnan(days), elapsed)


def washout_days(rule: ir.Washout, facts: Facts, name: str | None) -> tuple[float, float]:
    """Days a washout needs at least and at most, for a recorded drug name (None: not recorded).

    NaN where the half-life is unknown: a named drug missing from the facts, or no name and no ``drug``.
    """
    drug = name if rule.drug_field is not None and name is not None else rule.drug
    bounds = facts.half_life_range(drug) if drug is not None else None
    if bounds is None:
        return np.nan, np.nan
    return float(np.ceil(rule.half_lives * bounds[0])), float(np.ceil(rule.half_lives * bounds[1]))


def washout_bounds(rule: ir.Washout, ctx: Context) -> tuple[np.ndarray, np.ndarray]:
    """Per patient, the fewest and most days the washout may need (equal where the drug is known)."""
    if rule.drug_field is None:
        fewest, most = washout_days(rule, ctx.facts, None)
        return np.full(len(ctx), fewest), np.full(len(ctx), most)
    bounds = ctx.cohort.per_word(
        rule.drug_field, lambda name: washout_days(rule, ctx.facts, name), washout_days(rule, ctx.facts, None)
    )
    return bounds[:, 0].astype(float), bounds[:, 1].astype(float)


def _washout(rule: ir.Washout, ctx: Context) -> np.ndarray:
    days = ctx.values(rule.field)
    fewest, most = washout_bounds(rule, ctx)
    never = np.isneginf(days)
    with np.errstate(invalid="ignore"):
        elapsed = ctx.today - days
        done, not_done = elapsed >= most, elapsed < fewest
    return np.where(never | done, TRUE, np.where(not_done & ~never, FALSE, UNKNOWN)).astype(np.int8)


def _known(rule: ir.Known, ctx: Context) -> np.ndarray:
    blank = next(iter(ctx.blanks(rule.field).values()))
    return np.where(blank, FALSE, TRUE).astype(np.int8)


def _all(rule: ir.All, ctx: Context) -> np.ndarray:
    return np.minimum.reduce([ctx.evaluate(child) for child in rule.of])


def _any(rule: ir.Any_, ctx: Context) -> np.ndarray:
    return np.maximum.reduce([ctx.evaluate(child) for child in rule.of])


def _at_least(rule: ir.AtLeast, ctx: Context) -> np.ndarray:
    true_count = np.zeros(len(ctx), dtype=np.int16)
    possible = np.zeros(len(ctx), dtype=np.int16)
    for child in rule.of:
        result = ctx.evaluate(child)
        true_count += result == TRUE
        possible += result != FALSE
    return np.where(true_count >= rule.k, TRUE, np.where(possible < rule.k, FALSE, UNKNOWN)).astype(np.int8)


def _not(rule: ir.Not, ctx: Context) -> np.ndarray:
    return (TRUE - ctx.evaluate(rule.rule)).astype(np.int8)


def implies(condition: np.ndarray, then: np.ndarray) -> np.ndarray:
    return np.maximum(TRUE - condition, then).astype(np.int8)


def _if(rule: ir.If, ctx: Context) -> np.ndarray:
    """(C and T) or (not C and O) or (T and O): the last term makes an unknown condition harmless
    where both branches hold, which is what Kleene logic says of a case split."""
    condition = ctx.evaluate(rule.condition)
    then = ctx.evaluate(rule.then)
    if rule.otherwise is None:
        return implies(condition, then)
    otherwise = ctx.evaluate(rule.otherwise)
    return np.maximum.reduce(
        [np.minimum(condition, then), np.minimum(TRUE - condition, otherwise), np.minimum(then, otherwise)]
    ).astype(np.int8)


_EVALUATORS: dict[type, Callable[..., np.ndarray]] = {
    ir.Compare: _compare,
    ir.Range: _range,
    ir.CompareFields: _compare_fields,
    ir.InSet: _in_set,
    ir.Flag: _flag,
    ir.OccurredWithin: _occurred_within,
    ir.ElapsedAtLeast: _elapsed_at_least,
    ir.Washout: _washout,
    ir.Known: _known,
    ir.All: _all,
    ir.Any_: _any,
    ir.AtLeast: _at_least,
    ir.Not: _not,
    ir.If: _if,
}


def criterion_holds(criterion: ir.Criterion, ctx: Context, remember: bool = True) -> np.ndarray:
    """Whether each patient meets the criterion (an exclusion holds when its rule is false).

    Memoized unless ``remember`` is false (a caller that copies the result keeps no second copy).
    """
    key = id(criterion)
    if key in ctx._holds:
        return ctx._holds[key]
    result = ctx.evaluate(cast(ir.Rule, criterion.rule))
    holds = result if criterion.kind == "inclusion" else (TRUE - result).astype(np.int8)
    if criterion.applies_when is not None:
        holds = implies(ctx.evaluate(criterion.applies_when), holds)
    if remember:
        ctx._holds[key] = holds
    return holds


def undecided_columns(rule: ir.Rule, ctx: Context, rows: np.ndarray) -> dict[str, np.ndarray]:
    """For the rows in ``rows`` where ``rule`` is unknown, the blank columns that leave it so."""
    rows = rows & (ctx.evaluate(rule) == UNKNOWN)
    out: dict[str, np.ndarray] = {}
    if not rows.any():
        return out

    def merge(found: dict[str, np.ndarray]) -> None:
        for column, mask in found.items():
            out[column] = out[column] | mask if column in out else mask

    subrules = ir.children(rule)
    if isinstance(rule, ir.OccurredWithin) and rule.renewable:
        merge({rule.field: rows})  # blank or too old: the result is to be had again
        return out
    if isinstance(rule, ir.Washout):
        merge({column: mask & rows for column, mask in ctx.blanks(rule.field).items()})
        if rule.drug_field is not None:
            # Undecided by the drug: its name is not recorded, or has no known half-life (add it to the facts).
            fewest, most = washout_bounds(rule, ctx)
            merge({rule.drug_field: rows & ~(fewest == most)})
        return out
    if not subrules:
        for field in ir.fields_read(rule):
            merge({column: mask & rows for column, mask in ctx.blanks(field).items()})
        return out
    for child in subrules:
        merge(undecided_columns(child, ctx, rows))
    return out


def criterion_undecided_columns(criterion: ir.Criterion, ctx: Context, rows: np.ndarray) -> dict[str, np.ndarray]:
    out = undecided_columns(cast(ir.Rule, criterion.rule), ctx, rows)
    if criterion.applies_when is not None:
        for column, mask in undecided_columns(criterion.applies_when, ctx, rows).items():
            out[column] = out[column] | mask if column in out else mask
    return out


def known_fields() -> dict[str, str]:
    """Every field a rule may read, with its kind (contract columns plus derived fields)."""
    kinds: dict[str, str] = {name: column.kind for name, column in columns().items()}
    for name in DERIVED_FIELDS:
        kinds[name] = "float"
    return kinds
