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

from collections.abc import Callable
from typing import Any, cast

import numpy as np

from matcher import ir
from matcher.context import Context, linear_total, washout_days
from matcher.ir import OPERATORS
from matcher.kleene import FALSE, TRUE, UNKNOWN, at_least, case_split, conjunction, disjunction, implies, negation, tri

EVALUATORS: ir.Handlers[Callable[[Any, Context], np.ndarray]] = ir.Handlers("the evaluator")


def evaluate(rule: ir.Rule, ctx: Context) -> np.ndarray:
    """Kleene codes of ``rule`` for every patient (memoized per node in the context)."""
    codes = ctx.rule_codes.get(rule)
    if codes is None:
        codes = ctx.rule_codes[rule] = EVALUATORS[type(rule)](rule, ctx)
    return codes


def _either_sex(rule: ir.Compare | ir.Range, ctx: Context, verdict: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """``verdict`` of the field's values; where only a blank sex leaves a derived value unknown (eGFR, CrCl),
    the verdict a woman's and a man's value give alike."""
    codes = verdict(ctx.values(rule.field))
    derived = ctx.derived.get(rule.field)
    if derived is None or derived.by_sex is None:
        return codes
    woman, man = (verdict(values) for values in derived.by_sex)
    return np.where((codes == UNKNOWN) & (woman == man), woman, codes).astype(np.int8)


@EVALUATORS.register(ir.Compare)
def _compare(rule: ir.Compare, ctx: Context) -> np.ndarray:
    def verdict(values: np.ndarray) -> np.ndarray:
        with np.errstate(invalid="ignore"):
            return tri(~np.isnan(values), OPERATORS[rule.op](values, rule.value))

    return _either_sex(rule, ctx, verdict)


@EVALUATORS.register(ir.Linear)
def _linear(rule: ir.Linear, ctx: Context) -> np.ndarray:
    values = [ctx.values(term.field) for term in rule.terms]
    known = np.logical_and.reduce([~np.isnan(column) for column in values])
    with np.errstate(invalid="ignore"):
        return tri(known, OPERATORS[rule.op](linear_total(rule, values), rule.value))


@EVALUATORS.register(ir.Range)
def _range(rule: ir.Range, ctx: Context) -> np.ndarray:
    def verdict(values: np.ndarray) -> np.ndarray:
        inside = np.ones(len(values), dtype=bool)
        with np.errstate(invalid="ignore"):
            if rule.min is not None:
                inside &= values >= rule.min if rule.min_inclusive else values > rule.min
            if rule.max is not None:
                inside &= values <= rule.max if rule.max_inclusive else values < rule.max
        return tri(~np.isnan(values), inside)

    return _either_sex(rule, ctx, verdict)


@EVALUATORS.register(ir.CompareFields)
def _compare_fields(rule: ir.CompareFields, ctx: Context) -> np.ndarray:
    left, right = ctx.values(rule.left), ctx.values(rule.right)
    with np.errstate(invalid="ignore"):
        return tri(~np.isnan(left) & ~np.isnan(right), OPERATORS[rule.op](left, right))


@EVALUATORS.register(ir.InSet)
def _in_set(rule: ir.InSet, ctx: Context) -> np.ndarray:
    wanted = {value.lower() for value in rule.values}
    recognised = ctx.facts.recognises
    decided = ctx.cohort.per_word(rule.field, lambda word: word in wanted or recognised(rule.field, word), False)
    return tri(decided, ctx.cohort.per_word(rule.field, wanted.__contains__, False))


@EVALUATORS.register(ir.Flag)
def _flag(rule: ir.Flag, ctx: Context) -> np.ndarray:
    codes = ctx.values(rule.field)
    return codes if rule.value else (TRUE - codes).astype(np.int8)


@EVALUATORS.register(ir.OccurredWithin)
def _occurred_within(rule: ir.OccurredWithin, ctx: Context) -> np.ndarray:
    days = ctx.values(rule.field)
    with np.errstate(invalid="ignore"):
        within = days > ctx.cutoff(rule.window)
    if rule.renewable:
        return np.where(within, TRUE, UNKNOWN).astype(np.int8)
    return tri(~np.isnan(days), within)


@EVALUATORS.register(ir.ElapsedAtLeast)
def _elapsed_at_least(rule: ir.ElapsedAtLeast, ctx: Context) -> np.ndarray:
    days = ctx.values(rule.field)
    with np.errstate(invalid="ignore"):
        elapsed = np.where(np.isneginf(days), rule.when_never, days <= ctx.cutoff(rule.duration))
    return tri(~np.isnan(days), elapsed)


def washout_bounds(rule: ir.Washout, ctx: Context) -> tuple[np.ndarray, np.ndarray]:
    """Per patient, the fewest and most days the washout may need (equal where the drug is known)."""
    if rule.drug_field is None:
        fewest, most = washout_days(rule, ctx.facts, None)
        return np.full(len(ctx), fewest), np.full(len(ctx), most)
    bounds = ctx.cohort.per_word(
        rule.drug_field, lambda name: washout_days(rule, ctx.facts, name), washout_days(rule, ctx.facts, None)
    )
    return bounds[:, 0].astype(float), bounds[:, 1].astype(float)


@EVALUATORS.register(ir.Washout)
def _washout(rule: ir.Washout, ctx: Context) -> np.ndarray:
    days = ctx.values(rule.field)
    fewest, most = washout_bounds(rule, ctx)
    never = np.isneginf(days)
    with np.errstate(invalid="ignore"):
        elapsed = ctx.today - days
        # a dose on the day read is not washed out whatever the half-life, even one the facts do not know (review 40
        # M1: a course of such a biologic going on to the plan's date was read as no worse than withholding it)
        done, not_done = elapsed >= most, (elapsed < fewest) | (np.isnan(fewest) & (elapsed <= 0))
    return np.where(never | done, TRUE, np.where(not_done & ~never, FALSE, UNKNOWN)).astype(np.int8)


@EVALUATORS.register(ir.Known)
def _known(rule: ir.Known, ctx: Context) -> np.ndarray:
    if ctx.values(rule.field).dtype == object:  # recorded, even a drug's name the facts do not know
        blank = ctx.cohort.text_codes(rule.field)[0] < 0
    else:
        blank = next(iter(ctx.blanks(rule.field).values()))
    return np.where(blank, FALSE, TRUE).astype(np.int8)


@EVALUATORS.register(ir.Dated)
def _dated(rule: ir.Dated, ctx: Context) -> np.ndarray:
    return np.where(np.isfinite(ctx.values(rule.field)), TRUE, UNKNOWN).astype(np.int8)


def combine(rule: ir.Rule, part: Callable[[ir.Rule], np.ndarray]) -> np.ndarray:
    """A group node's Kleene codes from its children's, as ``part`` reads them: the connectives the evaluator,
    the prefilter's relaxed reading and the planner's reading of a recorded stop share."""
    if isinstance(rule, ir.All):
        return conjunction([part(child) for child in rule.of])
    if isinstance(rule, ir.Any_):
        return disjunction([part(child) for child in rule.of])
    if isinstance(rule, ir.AtLeast):
        return at_least([part(child) for child in rule.of], rule.k)
    if isinstance(rule, ir.Not):
        return negation(part(rule.rule))
    if isinstance(rule, ir.If):
        condition, then = part(rule.condition), part(rule.then)
        if rule.otherwise is None:
            return implies(condition, then)
        return case_split(condition, then, part(rule.otherwise))
    raise TypeError(f"{type(rule).__name__} is not a group")


def deciding_leaves(rule: ir.Rule, targets: set[ir.Rule], known: Callable[[ir.Rule], int | None]) -> list[ir.Rule]:
    """Those of ``targets`` (leaves) that may decide ``rule``: the ones reached through nodes left undecided with
    the targets unknown.  ``known`` gives a node's code where it is read as a whole (unknown: whatever its parts),
    or None to read its parts (a leaf with none is unknown).

    Sound by monotonicity: a node decided with the targets unknown is decided whatever they turn out to be, so a
    target reaches the rule only through undecided nodes.
    """

    def read(node: ir.Rule) -> tuple[int, list[ir.Rule]]:
        if node in targets:
            return UNKNOWN, [node]
        code = known(node)
        parts = ir.children(node)
        if code is not None or not parts:
            return (UNKNOWN if code is None else code), []
        read_parts = {part: read(part) for part in parts}  # equal parts read alike
        code = int(combine(node, lambda part: np.array([read_parts[part][0]], dtype=np.int8))[0])
        return code, [leaf for _, leaves in read_parts.values() for leaf in leaves] if code == UNKNOWN else []

    return read(rule)[1]


@EVALUATORS.register(ir.All, ir.Any_, ir.AtLeast, ir.Not, ir.If)
def _group(rule: ir.Rule, ctx: Context) -> np.ndarray:
    return combine(rule, lambda child: evaluate(child, ctx))


def criterion_holds(criterion: ir.Criterion, ctx: Context, remember: bool = True) -> np.ndarray:
    """Whether each patient meets the criterion (an exclusion holds when its rule is false).

    Memoized unless ``remember`` is false (a caller that copies the result keeps no second copy).
    """
    holds = ctx.criterion_codes.get(criterion)
    if holds is not None:
        return holds
    holds = holds_by(criterion, lambda rule: evaluate(rule, ctx))
    if remember:
        ctx.criterion_codes[criterion] = holds
    return holds


def holds_by(criterion: ir.Criterion, read: Callable[[ir.Rule], np.ndarray]) -> np.ndarray:
    """Whether each patient meets the criterion, its rule and condition read by ``read`` (the screen's evaluation,
    or the prefilter's relaxed one): an exclusion holds when its rule is false, and where it does not apply."""
    result = read(cast(ir.Rule, criterion.rule))
    holds = result if criterion.kind == "inclusion" else negation(result)
    return holds if criterion.applies_when is None else implies(read(criterion.applies_when), holds)


def undecided_columns(rule: ir.Rule, ctx: Context, rows: np.ndarray) -> dict[str, np.ndarray]:
    """For the rows in ``rows`` where ``rule`` is unknown, the blank columns that leave it so."""
    rows = rows & (evaluate(rule, ctx) == UNKNOWN)
    out: dict[str, np.ndarray] = {}
    if not rows.any():
        return out

    def merge(found: dict[str, np.ndarray]) -> None:
        for column, mask in found.items():
            out[column] = out[column] | mask if column in out else mask

    subrules = ir.children(rule)
    if isinstance(rule, ir.Dated) or (isinstance(rule, ir.OccurredWithin) and rule.renewable):
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
