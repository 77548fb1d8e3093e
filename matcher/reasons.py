"""Why each patient is where an allocation put them: assigned, waitlisted behind whom and on which objective level,
or eligible nowhere (first failing criterion or columns to measure), built per distinct case, not per patient."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import cast

import numpy as np

from matcher import ir
from matcher.actions import ever_changeable
from matcher.arcs import Arcs, quota_member
from matcher.cohort import Cohort
from matcher.context import Context
from matcher.explain import first_reason_codes
from matcher.kleene import FALSE, UNKNOWN
from matcher.outcome import Allocation, PatientColumns, ReasonColumn, TrialOutcome
from matcher.planning import plan as nearest_plan
from matcher.plans import DEFAULT_HORIZON, Plan
from matcher.prefilter import lasting_failures
from matcher.rule_reads import criterion_reads
from matcher.scenario import QuotaRule
from matcher.screening import ELIGIBLE, INELIGIBLE, Screening, TrialScreen
from matcher.validate import reason_text


def listed(names: list[str], shown: int = 10) -> str:
    """The first ``shown`` names, then how many more."""
    more = f" and {len(names) - shown} more" if len(names) > shown else ""
    return ", ".join(names[:shown]) + more


@dataclass
class Solved:
    """A solved allocation model, over all candidate pairs (not only the reduced ones), to be explained."""

    screening: Screening
    arcs: Arcs
    weights: np.ndarray
    order: np.ndarray  # the patient_id tie-break order of each arc
    chosen: list[int]  # the arcs placed
    capacity_of: list[int]
    plan_of: dict[tuple[int, int], Plan]
    status: str
    proven: bool
    best: int
    bound: int
    gap: float
    reduced: int  # arcs left after the reduction
    quotas: list[QuotaRule]
    held_back: dict[int, list[Plan]]  # per patient row, plans within the horizon that want a record first
    horizon: int | None = None  # the days plans look ahead (``--within``): a failure no plan mends is named first


def explain(solved: Solved) -> Allocation:
    """Rosters, ranked waitlists and a reason per patient, over all candidate pairs (not only the reduced ones)."""
    screening, arcs, weights, order, chosen = solved.screening, solved.arcs, solved.weights, solved.order, solved.chosen
    capacity_of, plan_of = solved.capacity_of, solved.plan_of
    cohort = screening.cohort
    trial_ids = [r.trial.id for r in screening.results]
    levels = {
        "enrolled": len(chosen),
        "kept": int(arcs.kept[chosen].sum()) if chosen else 0,
        "priority": int(arcs.priority[chosen].sum()) if chosen else 0,
        "preference_rank": int(arcs.rank[chosen].sum()) if chosen else 0,
        "days": int(arcs.days[chosen].sum()) if chosen else 0,
    }
    ranking = np.lexsort((order, -weights))
    placed = np.zeros(len(arcs), dtype=bool)
    placed[chosen] = True
    patient_placed = np.zeros(len(cohort.ids), dtype=bool)
    patient_placed[arcs.row[placed]] = True
    outcomes = []
    for t, trial_id in enumerate(trial_ids):
        ranked = ranking[arcs.trial[ranking] == t]
        roster = sorted(cohort.ids[arcs.row[ranked[placed[ranked]]]].astype(str).tolist())
        waitlist = cohort.ids[arcs.row[ranked[~patient_placed[arcs.row[ranked]]]]].astype(str).tolist()
        outcomes.append(TrialOutcome(trial_id, capacity_of[t], roster, waitlist, screening.results[t].trial.status))
    displaced = _displaced_reasons(arcs, weights, order, placed, patient_placed, cohort, trial_ids, capacity_of)
    _quota_reasons(solved, placed, patient_placed, displaced)
    n = len(cohort.ids)
    status_of = np.full(n, "unplaced", dtype=object)
    reason = nowhere_reasons(screening, solved.horizon)
    trial_of = np.full(n, None, dtype=object)
    planned_of = np.full(n, None, dtype=object)
    until_of = np.full(n, None, dtype=object)
    waiting_rows, which, displaced_texts = displaced
    status_of[waiting_rows] = "waitlist"
    reason.assign(waiting_rows, displaced_texts, which)
    placed_rows = arcs.row[chosen] if chosen else np.zeros(0, dtype=np.int64)
    status_of[placed_rows] = "assigned"
    trial_of[placed_rows] = np.asarray(trial_ids, dtype=object)[arcs.trial[chosen]] if chosen else []
    reason.assign(placed_rows, ["eligible now"])
    actions: dict[int, list[str]] = {}
    on_plan: dict[int, str] = {}
    for i in chosen:
        row, t, ahead = int(arcs.row[i]), int(arcs.trial[i]), int(arcs.days[i])
        planned = screening.as_of + dt.timedelta(days=ahead)
        planned_of[row] = planned.isoformat()
        plan = plan_of.get((row, t))
        if plan is not None:
            until_of[row] = plan.eligible_until.isoformat() if plan.eligible_until else None
            # a result the plan awaits is said (review 43: "eligible from D by plan" while a creatinine was awaited)
            awaiting = f", awaiting {plan.awaiting}" if plan.awaiting else ""
            on_plan[row] = f"eligible from {planned.isoformat()} by plan{awaiting}"
            actions[row] = [a.text for a in plan.actions]
    _eligible_now_until(
        screening, [i for i in chosen if (int(arcs.row[i]), int(arcs.trial[i])) not in plan_of], arcs, until_of
    )
    _assign_each(reason, on_plan)
    unplaced = {row: plans for row, plans in solved.held_back.items() if status_of[row] == "unplaced"}
    held_back = {row: [_held_back_text(p, cohort, row) for p in plans] for row, plans in unplaced.items()}
    _assign_each(reason, {row: "; ".join([reason[row], *texts]) for row, texts in held_back.items()})
    invalid_rows = _assign_each(reason, {row: reason_text(problems) for row, problems in cohort.invalid.items()})
    status_of[invalid_rows], trial_of[invalid_rows], planned_of[invalid_rows] = "invalid", None, None
    patients = PatientColumns(cohort.ids, trial_of, status_of, planned_of, until_of, reason, actions)
    return Allocation(
        screening.as_of,
        solved.status,
        solved.proven,
        solved.best,
        solved.bound,
        solved.gap,
        levels,
        outcomes,
        patients,
        len(arcs),
        solved.reduced,
    )


def _eligible_now_until(screening: Screening, arcs_now: list[int], arcs: Arcs, until_of: np.ndarray) -> None:
    """For patients placed as eligible now, the last day they stay so as things stand (a test ages out, a window
    closes), searched over the default horizon; planned on the placed patients alone, so a large cohort's
    context is not widened by it."""
    for t, result in enumerate(screening.results):
        rows = sorted(int(arcs.row[i]) for i in arcs_now if int(arcs.trial[i]) == t)
        if not rows or result.context is None:  # screened where the values are not at hand
            continue
        alone = Context(screening.cohort.take(rows), screening.as_of, result.context.facts)
        for local, row in enumerate(rows):
            until = nearest_plan(alone, result.trial, local, DEFAULT_HORIZON, look_beyond=False).eligible_until
            until_of[row] = until.isoformat() if until else None


def _quota_reasons(
    solved: Solved, placed: np.ndarray, patient_placed: np.ndarray, displaced: tuple[np.ndarray, np.ndarray, list[str]]
) -> None:
    """A waitlisted patient kept out of a trial with free slots by a quota maximum is told so, in place of
    "full" (which it is not)."""
    rows, which, texts = displaced
    arcs, cohort = solved.arcs, solved.screening.cohort
    trial_ids = [r.trial.id for r in solved.screening.results]
    for t, trial_id in enumerate(trial_ids):
        filled = int((placed & (arcs.trial == t)).sum())
        if filled >= solved.capacity_of[t]:
            continue
        for quota in solved.quotas:
            if quota.trial != trial_id or quota.max is None:
                continue
            member = quota_member(cohort, quota)
            if int(member[arcs.row[placed & (arcs.trial == t)]].sum()) < quota.max:
                continue
            waiting = np.flatnonzero((arcs.trial == t) & ~patient_placed[arcs.row] & member[arcs.row])
            text = (
                f"{trial_id} has {solved.capacity_of[t] - filled} free of {solved.capacity_of[t]} slots, but its quota "
                f"of at most {quota.max} with {quota.column} = {quota.value} is filled"
            )
            for row in arcs.row[waiting].tolist():
                position = int(np.searchsorted(rows, row))
                parts = [part for part in texts[which[position]].split("; ") if not part.startswith(f"{trial_id} ")]
                texts.append("; ".join([*parts, text]))
                which[position] = len(texts) - 1


_DISPLACED = (
    "no slot",
    "{other} keeps an earlier assignment",
    "placing this patient there would enrol fewer patients overall",
    "placed patients rank higher (lowest placed: {other}, on priority)",
    "placed patients rank higher (lowest placed: {other}, on preference rank)",
    "placed patients rank higher (lowest placed: {other}, on days to eligibility)",
    "placed patients rank higher (lowest placed: {other}, on patient_id order)",
)


def _held_back_text(plan: Plan, cohort: Cohort, row: int) -> str:
    """Why a plan within the horizon placed no one: what it leaves undecided, to record (blank) or to bring up to
    date (a stale test to repeat, a value to correct); its date is the earliest, which the answer may move
    (reviews 28 m3, 29 m1)."""
    wanted = sorted(set(plan.missing) - set(plan.pending))
    date = cast(dt.date, plan.earliest_date).isoformat()
    if not wanted:
        return f"{plan.trial_id}: a plan to {date} ends undecided (see whatif --patient {plan.patient_id})"
    blank = [column for column in wanted if _blank_at(cohort, column, row)]
    held = [column for column in wanted if column not in blank]
    until = [f"{', '.join(blank)} recorded"] if blank else []
    until += [f"{', '.join(held)} brought up to date"] if held else []
    return f"{plan.trial_id}: a plan from {date} at the earliest, undecided until {' and '.join(until)}"


def _blank_at(cohort: Cohort, column: str, row: int) -> bool:
    values = cohort.column(column)
    if values.dtype == np.int8:
        return bool(values[row] == UNKNOWN)
    return values[row] is None or (values.dtype.kind == "f" and bool(np.isnan(values[row])))


def _assign_each(column: ReasonColumn, texts: dict[int, str]) -> np.ndarray:
    """Give each row in ``texts`` its own text; the rows given."""
    rows = np.fromiter(texts, dtype=np.int64, count=len(texts))
    column.assign(rows, list(texts.values()), np.arange(len(rows)))
    return rows


def _displaced_reasons(
    arcs: Arcs,
    weights: np.ndarray,
    order: np.ndarray,
    placed: np.ndarray,
    patient_placed: np.ndarray,
    cohort: Cohort,
    trial_ids: list[str],
    capacity_of: list[int],
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """For each waitlisted patient, per trial that could take them: which trial was full and why, by objective level.

    Returned as (rows, index into the texts per row, the distinct texts).
    """
    waiting = ~patient_placed[arcs.row]
    code = np.zeros(len(arcs), dtype=np.int64)
    texts: list[list[str]] = []
    for t, trial_id in enumerate(trial_ids):
        in_trial = np.flatnonzero((arcs.trial == t) & placed)
        full = f"{trial_id} full ({capacity_of[t]}/{capacity_of[t]}): "
        mine = np.flatnonzero((arcs.trial == t) & waiting)
        if not len(in_trial):
            texts.append([f"{trial_id} has no slot ({capacity_of[t]})"] * len(_DISPLACED))
            continue
        w = in_trial[np.lexsort((-order[in_trial], weights[in_trial]))[0]]
        other = str(cohort.ids[arcs.row[w]])
        texts.append([full + template.format(other=other) for template in _DISPLACED])
        first_difference = np.select(
            [arcs.priority[mine] != arcs.priority[w], arcs.rank[mine] != arcs.rank[w], arcs.days[mine] != arcs.days[w]],
            [3, 4, 5],
            default=6,
        )
        code[mine] = np.where(
            arcs.kept[w] > arcs.kept[mine], 1, np.where(weights[mine] > weights[w], 2, first_difference)
        )
    rows = np.unique(arcs.row[waiting])
    position = np.searchsorted(rows, arcs.row[waiting])
    matrix = np.zeros((len(rows), len(trial_ids)), dtype=np.int64)
    matrix[position, arcs.trial[waiting]] = code[waiting] + 1
    inverse, unique = _combine([matrix[:, t] for t in range(len(trial_ids))], [len(_DISPLACED) + 1] * len(trial_ids))
    joined = ["; ".join(texts[t][c - 1] for t, c in enumerate(combo) if c) for combo in unique.tolist()]
    return rows, inverse, joined


def _trial_reason_codes(result: TrialScreen, horizon: int | None) -> tuple[np.ndarray, list[str]]:
    """Per patient, an index into the distinct one-trial reasons in words (texts are built per distinct case)."""
    trial_id = result.trial.id
    codes, sentences = result.first_reasons() if horizon is None else _lasting_first(result, horizon)
    texts = [f"{trial_id}: {sentence}" for sentence in sentences]
    texts += ["", f"{trial_id}: not among the patient's preferences"]
    codes = np.where(codes >= 0, codes, np.where(result.status == ELIGIBLE, len(texts) - 1, len(texts) - 2))
    return codes, texts


def _mendable(criterion: ir.Criterion, changeable: set[str]) -> bool:
    reads, timed = criterion_reads(criterion)
    return timed or bool(reads & changeable)


def nowhere_reasons(screening: Screening, horizon: int | None = None) -> ReasonColumn:
    """Per patient, why no trial can take them: the first failing criterion or the columns to measure, per trial.
    Where plans look ``horizon`` days ahead (``schedule``, ``allocate --within``), one that no plan within them
    mends comes first: it costs an evaluation more, which an allocation of those eligible now is spared."""
    parts = [_trial_reason_codes(result, horizon) for result in screening.results]
    return ReasonColumn("eligible nowhere: ", parts, len(screening.cohort.ids))


def _lasting_first(result: TrialScreen, horizon: int) -> tuple[np.ndarray, list[str]]:
    """``result.first_reasons()``, but a lasting failure (``prefilter.lasting_failures``) named first.  The relaxed
    evaluation is made only where it may change the answer: a patient who fails two or more criteria, the first of
    which some step or waiting might mend (one no action writes and time leaves alone is as lasting as any)."""
    ctx = result.context
    if ctx is None:
        return result.first_reasons()
    failing = result.holds == FALSE
    changeable = ever_changeable(ctx.facts)
    mendable = np.array([_mendable(criterion, changeable) for criterion in result.criteria] + [False])
    first = np.where(failing.any(axis=1), failing.argmax(axis=1), len(result.criteria))
    several = np.flatnonzero((failing.sum(axis=1) > 1) & (result.status == INELIGIBLE) & mendable[first])
    if not len(several):
        return result.first_reasons()
    alone = Context(ctx.cohort.take(several.tolist()), ctx.as_of, ctx.facts)
    lasting = lasting_failures(result.trial, alone, horizon).astype(np.int64)
    count = len(result.criteria)  # the most lasting failure, then the first in trial order
    score = np.where(failing[several] & (lasting > 0), lasting * (count + 1) + count - np.arange(count), 0)
    best = score.argmax(axis=1)
    moved = (score.max(axis=1) > 0) & (best != first[several])
    codes, texts = result.first_reasons()
    if not moved.any():
        return codes, texts
    named = np.full(len(codes), -1, dtype=np.int64)
    named[several[moved]] = best[moved]
    asked = np.where(named >= 0, INELIGIBLE, ELIGIBLE)  # the texts of the rows whose reason moves, only
    moved_codes, moved_texts = first_reason_codes(result.criteria, result.holds, asked, ctx, named)
    codes = np.where(named >= 0, moved_codes + len(texts), codes)
    return codes, texts + moved_texts


_DENSE_LIMIT = 1 << 16  # a presence table beyond this (and 4 entries per row) costs more than sorting


def _distinct(code: np.ndarray, span: int) -> tuple[np.ndarray, np.ndarray]:
    """(sorted distinct values, index of each value): by a presence table when the span is small, else by sorting."""
    if span <= max(_DENSE_LIMIT, 4 * len(code)):
        present = np.zeros(span, dtype=bool)
        present[code] = True
        return np.flatnonzero(present), (np.cumsum(present) - 1)[code]
    distinct, inverse = np.unique(code, return_inverse=True)
    return distinct, inverse.reshape(-1)


def _combine(columns: list[np.ndarray], radix: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """Distinct rows of small-integer columns: (per-row index, the distinct rows as a matrix), packed in mixed radix."""
    code = np.zeros(len(columns[0]), dtype=np.int64)
    rows = np.zeros((1, 0), dtype=np.int64)
    for column, base in zip(columns, radix, strict=True):
        distinct, code = _distinct(code * base + column.astype(np.int64), len(rows) * base)
        rows = np.column_stack([rows[distinct // base], distinct % base])
    return code, rows
