"""Nearest-eligible what-if plans: the earliest date and cheapest actions that make a patient eligible.

The model of change (``change:`` in facts.yaml) says which columns actions may
touch; every other column is immutable, so a plan never "fixes" a lab value or a
diagnosis.  Waiting moves every date-based quantity together (washouts run
down, stable-dose windows grow, age grows, windows close).  Unknown data is not
assumed favourable: a plan whose criteria stay undecided reaches ``unknown`` and
lists the columns to measure.

Objective, lexicographic: earliest enrolment day, then least total action cost.
When no plan exists, a minimal set of blocking criteria comes from CP-SAT's
assumptions (``sufficient_assumptions_for_infeasibility``), shrunk by deletion.

eGFR and CrCl from creatinine are estimated with the age on each day of the plan, as
a screen on that date estimates them: a birthday may close the window.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

import numpy as np
from ortools.sat.python import cp_model

from matcher import ir
from matcher.actions import STOP, Choice, PlanModel, ever_changeable, named_test
from matcher.cohort import Cohort
from matcher.context import Context
from matcher.cpsat import birthday_offsets, cutoff_table, kleene
from matcher.dates import subtract
from matcher.errors import MatcherError
from matcher.evaluate import criterion_holds
from matcher.explain import reasons
from matcher.facts import RepeatableTest
from matcher.kleene import FALSE, TRUE, UNKNOWN
from matcher.plan_words import (
    AGE_ESTIMATED,
    PatientOnDay,
    after_steps,
    age_estimated,
    left_by_stop,
    missing_after_steps,
    waits,
    washout_ranges,
    with_words_after_stop,
)
from matcher.plans import DEFAULT_HORIZON, LONGEST_WAIT, Action, Alternative, Plan, Renewal
from matcher.rescreening import readable_row
from matcher.rule_reads import criterion_leaves, criterion_reads
from matcher.screening import STATUS_NAMES
from matcher.trials import effective_facts


def _status(solver: cp_model.CpSolver, status: cp_model.CpSolverStatus | int) -> str:
    if status == cp_model.MODEL_INVALID:
        raise MatcherError("internal error: the CP-SAT model is invalid")
    return str(solver.status_name(status))


def status_now(ctx: Context, trial: ir.Trial, row: int) -> str:
    if row in ctx.cohort.invalid:
        return "invalid"
    codes = [criterion_holds(c, ctx)[row] for c in trial.criteria if not c.is_manual]
    return STATUS_NAMES[min(codes)] if codes else "eligible"


def plan(
    ctx: Context,
    trial: ir.Trial,
    row: int,
    horizon: int = DEFAULT_HORIZON,
    time_limit: float | None = None,
    alternatives: bool = False,
    look_beyond: bool = True,
    explain_blocking: bool = True,
) -> Plan:
    """The plan that makes patient ``row`` eligible for ``trial`` soonest, counting burden as days.

    Objective, lexicographic: days waited plus the actions' burden (in days-equivalent),
    then fewer actions, then the shallowest taper.  With ``alternatives``, also the other
    plans of the Pareto front of (date, burden): each later one carries less burden; where all of them end
    undecided, the earliest plan that makes the patient eligible outright too.
    With ``look_beyond``, a patient with no plan within the horizon is searched again up to
    5 years out: criteria that only time meets are then ``beyond_horizon``, not ``blocking``.
    Without ``explain_blocking``, a plan that does not reach eligibility says so without its blocking criteria
    (a scan that keeps only the reachable ones need not find a minimal set).
    """
    patient_id = str(ctx.cohort.ids[row])
    now = status_now(ctx, trial, row)
    result = Plan(patient_id, trial.id, now, reachable=False)
    result.anchors = {c.id: c.anchor for c in trial.criteria if c.anchor != "screening"}
    if now == "invalid":
        result.solver_status = "not solved: invalid row"
        return result
    changeable = ever_changeable(ctx.facts)
    for criterion in trial.criteria:
        reads, timed = criterion_reads(criterion)
        if criterion.is_manual or timed or reads & changeable:
            continue
        if criterion_holds(criterion, ctx)[row] == FALSE:  # fails whatever changes: a minimal reason on its own
            result.solver_status = "INFEASIBLE"
            return _blocked(result, [criterion.id], ctx, trial, row, 0) if explain_blocking else result
    built = PlanModel(ctx, trial, row, horizon)
    assumptions = []
    for criterion, (_, is_false) in zip(built.criteria, built.rails, strict=True):
        if is_false is True:  # fails whatever changes within the horizon: a minimal reason on its own
            result.solver_status = "INFEASIBLE"
            if not explain_blocking:
                return result
            return _beyond(result, [criterion.id], ctx, trial, row, horizon, time_limit, look_beyond)
        if is_false is False:
            continue
        assume = built.model.new_bool_var(f"meets[{criterion.id}]")
        built.model.add_implication(assume, ~is_false)
        assumptions.append((criterion.id, assume))
    built.model.add_assumptions([built.tests_on_plan_day, *(literal for _, literal in assumptions)])
    weights = _Weights(built)
    built.model.minimize(weights.burden_as_days())
    solver = built.solver(time_limit)
    status = solver.solve(built.model)
    result.solver_status = _status(solver, status)
    if status == cp_model.INFEASIBLE:
        if not explain_blocking:
            return result
        core = _minimal_core(built, solver, assumptions, time_limit)
        return _beyond(result, core, ctx, trial, row, horizon, time_limit, look_beyond)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return result
    primary = _solution(built, solver)
    result.reachable = True
    result.earliest_date, result.status_at_plan = primary.earliest_date, primary.status_at_plan
    on_plan_date = PatientOnDay(ctx, row, primary.earliest_date)
    result.actions = primary.actions + waits(ctx, trial, row, primary, built.changeable, on_plan_date)
    taken = [choice for choice in built.choices if solver.boolean_value(choice.literal)]
    day = (primary.earliest_date - ctx.as_of).days
    result.changes = built.record_after(taken, day)
    result.pending = sorted({column for choice in taken for column in choice.pending})
    codes = [kleene(rails, solver) for rails in built.rails]
    undecided = [c for c, code in zip(built.criteria, codes, strict=True) if code == UNKNOWN]
    awaited = {column for c in undecided for column in criterion_reads(c)[0]} & set(result.pending)
    awaited |= {column for choice in taken if choice.confirms for column in choice.pending}
    awaited |= {column for choice in taken for column in choice.records_wanted}
    stop = next((choice for choice in taken if choice.action == STOP), None)
    # the earlier stop counts where it is undated or its washout sets the date (review 31 m2: not where it has run)
    counting = stop is not None and (stop.records_wanted or stop.earliest_day >= day)
    result.replaced_stop = stop.replaces if stop is not None and counting else ""
    after = after_steps(ctx, row, result.changes, on_plan_date) if undecided else None  # no context to derive
    missing = missing_after_steps(after, undecided, stop) if after is not None else []
    result.missing = sorted(set(missing) | awaited)
    if primary.status_at_plan != "eligible":  # a washout a step's criterion holds is not read by the columns above
        ranges = washout_ranges(on_plan_date, built.criteria, primary, built.changeable)
        measured = [column for item in ranges for column in item.measure]
        if stop is not None and after is not None:
            kept = ctx.facts.change.immunosuppressant.stopped_name not in stop.overrides
            result.actions = with_words_after_stop(result.actions, left_by_stop(after, stop, undecided), kept)
        result.missing = sorted({*result.missing, *measured})
    result.manual_checks = [
        f"{c.id}: {cast(ir.ManualCheck, c.rule).question}"
        for c, rails in zip(built.manual, built.asked, strict=True)
        if kleene(rails, solver) != FALSE
    ]
    eligible = primary.status_at_plan == "eligible"
    result.eligible_until, result.closes = _until_awaited_tests_age(
        ctx, built, taken, day, horizon, _eligible_until(ctx, built, taken, day, horizon, time_limit, eligible)
    )
    closing_reads = [set(ir.fields_read(cast(ir.Rule, trial.criterion(c).rule))) for c in result.closes]
    result.renewable_until = bool(closing_reads) and all(reads & built.routine_test_dates for reads in closing_reads)
    if result.renewable_until:  # how long the plan holds with its routine tests repeated in their windows
        renewing = built.routine_test_dates & set().union(*closing_reads)
        closing = [trial.criterion(c) for c in result.closes]
        result.renewed_by = [
            renewal
            for test in ctx.facts.change.tests
            if test.date in renewing and (renewal := _renewal(trial, test, closing, ctx.as_of)) is not None
        ]
        result.renewed_until = _eligible_until(ctx, built, taken, day, horizon, time_limit, eligible, renewing=True)[0]
    if alternatives:
        result.alternatives = [
            Alternative(
                other.earliest_date,
                other.burden,
                other.status_at_plan,
                other.actions + waits(ctx, trial, row, other, built.changeable),
            )
            for other in _pareto_front(built, weights, time_limit)
            if (other.earliest_date, other.burden) != (primary.earliest_date, primary.burden)
        ]
    return result


def _beyond(
    result: Plan,
    core: list[str],
    ctx: Context,
    trial: ir.Trial,
    row: int,
    horizon: int,
    time_limit: float | None,
    look_beyond: bool,
) -> Plan:
    """No plan within the horizon: ``core`` blocks it, unless waiting longer (up to 5 years) meets it."""
    if not look_beyond or horizon >= LONGEST_WAIT:
        return _blocked(result, core, ctx, trial, row, horizon)
    longer = plan(ctx, trial, row, LONGEST_WAIT, time_limit, look_beyond=False)
    if not longer.reachable:  # its blocking criteria, already in words (each may scan the 5 years day by day)
        result.blocking, result.blocking_words = longer.blocking, longer.blocking_words
        return result
    result.beyond_horizon, result.beyond_horizon_date, result.beyond_horizon_criteria = True, longer.earliest_date, core
    result.beyond_horizon_status, result.beyond_horizon_missing = longer.status_at_plan, longer.missing
    return result


def _blocked(result: Plan, core: list[str], ctx: Context, trial: ir.Trial, row: int, horizon: int) -> Plan:
    """The plan blocked by ``core``, each criterion with its reason in words: today's, or for one met today, on the
    first day within the horizon it is not (an age that passes the maximum before a window closes: its words
    today were empty)."""
    result.blocking = core
    result.blocking_words = [_blocking_words(trial.criterion(c), ctx, row, horizon) for c in core]
    return result


def _blocking_words(criterion: ir.Criterion, ctx: Context, row: int, horizon: int) -> str:
    """The criterion's reason today, or from the first day within ``horizon`` it is not met; one met on every day
    blocks only with the plan's steps, and is named by its text."""
    if text := reasons(criterion, ctx, np.array([row]))[0].text:
        return text
    alone = ctx.cohort.take([row])
    for days in range(1, horizon + 1):
        later = Context(alone, ctx.as_of + dt.timedelta(days=days), ctx.facts)
        if criterion_holds(criterion, later)[0] != TRUE:
            # the date after the words, which a table joins with the next criterion's (review 42: "from D: ...; ...")
            since = f"from {later.as_of.isoformat()}{_estimated_birthday(criterion, ctx, row, days)}"
            return f"{reasons(criterion, later, np.zeros(1, dtype=np.intp))[0].text} ({since})"
    return f"met as recorded, but not with the others: {criterion.quote}"


def _estimated_birthday(criterion: ir.Criterion, ctx: Context, row: int, days: int) -> str:
    """Said of a date that is a birthday counted from the age in years alone, as a plan's wait for one says it
    (review 51 N1)."""
    if not age_estimated(ctx, row) or not ir.reads_ageing(criterion_reads(criterion)[0]):
        return ""
    return f", {AGE_ESTIMATED}" if days in birthday_offsets(ctx, row, days) else ""


class _Weights:
    """Integer weights that make a sum of terms an exact lexicographic objective."""

    def __init__(self, built: PlanModel) -> None:
        self.built = built
        self.actions = cast(cp_model.LinearExpr, sum(choice.literal for choice in built.choices))
        self.depth = cast(cp_model.LinearExpr, sum(choice.depth * choice.literal for choice in built.choices))
        self.per_action = 1 + max((choice.depth for choice in built.choices), default=0)
        self.per_day = self.per_action * (len(built.choices) + 1)
        self.most_burden = sum(choice.burden for choice in built.choices)

    def tie_breaks(self) -> cp_model.LinearExpr:
        return self.per_action * self.actions + self.depth

    def burden_as_days(self) -> cp_model.LinearExpr:
        """Days waited plus burden, then fewer actions, then the shallowest taper."""
        return self.per_day * (self.built.compiler.t + self.built.burden()) + self.tie_breaks()

    def date_first(self) -> cp_model.LinearExpr:
        """The earliest date, then the least burden, then the tie-breaks."""
        per_burden = self.per_day
        return (
            per_burden * (self.most_burden + 1) * self.built.compiler.t
            + per_burden * self.built.burden()
            + (self.tie_breaks())
        )


def _pareto_front(built: PlanModel, weights: _Weights, time_limit: float | None) -> list[Alternative]:
    """Every plan no other plan beats on both date and burden, earliest first, and where each of them ends
    undecided, the earliest that makes the patient eligible outright, if any.

    Found by tightening a bound: the earliest plan, then the earliest with less burden
    than the last one found, until none is left (the last carries the least burden).
    """
    front: list[Alternative] = []
    while True:
        model = built.model.clone()
        model.minimize(weights.date_first())
        if front:
            model.add(built.burden() <= front[-1].burden - 1)
        found = _solved(built, model, time_limit)
        if found is None:
            break
        front.append(found)
        if found.burden == 0:
            break
    if all(other.status_at_plan != "eligible" for other in front):
        eligible = _eligible_outright(built, weights, time_limit)
        front += [eligible] if eligible is not None else []
    return front


def _eligible_outright(built: PlanModel, weights: _Weights, time_limit: float | None) -> Alternative | None:
    """The earliest plan that meets every criterion, no result awaited (review 43 m3: waiting to an 18th
    birthday, from which the eGFR no longer needs the blank height, was hidden behind a plan of the same burden
    that stays undecided today)."""
    model = built.model.clone()
    model.minimize(weights.date_first())
    for is_true, _ in built.rails:
        if is_true is False:
            return None
        if is_true is not True:
            model.add_bool_or([is_true])
    for choice in built.choices:  # nothing awaited: no answer hoped for, no record or result to come (review 45)
        if choice.confirms or choice.records_wanted or choice.pending:
            model.add(choice.literal == 0)
    found = _solved(built, model, time_limit)
    return found if found is not None and found.status_at_plan == "eligible" else None


def _solved(built: PlanModel, model: cp_model.CpModel, time_limit: float | None) -> Alternative | None:
    solver = built.solver(time_limit)
    status = solver.solve(model)
    _status(solver, status)
    return _solution(built, solver) if status in (cp_model.OPTIMAL, cp_model.FEASIBLE) else None


def _solution(built: PlanModel, solver: cp_model.CpSolver) -> Alternative:
    day = int(solver.value(built.compiler.t))
    codes = [kleene(rails, solver) for rails in built.rails]
    taken = [choice for choice in built.choices if solver.boolean_value(choice.literal)]
    status = STATUS_NAMES[min(codes)] if codes else "eligible"
    if status == "eligible" and any(choice.confirms or choice.records_wanted for choice in taken):
        status = "unknown"  # eligible once the awaited answer is given
    return Alternative(
        built.as_of + dt.timedelta(days=day),
        sum(choice.burden for choice in taken),
        status,
        [_action(choice, built.as_of, day) for choice in taken],
        frozenset(column for choice in taken if choice.action == STOP for column in choice.overrides),
    )


def _action(choice: Choice, as_of: dt.date, day: int) -> Action:
    """Tests are done on the plan day; a taper runs until its last step; a withheld drug until after the infusion
    (no date), whatever day its washout runs to."""
    plan_day = as_of + dt.timedelta(days=day)
    on = plan_day if choice.action in ("repeat_test", "repeat_lab", "invasive_procedure") else as_of
    after = plan_day.isoformat() if choice.after == "plan date" else choice.after
    note = choice.note
    if choice.lasts:
        until = None  # until after the infusion, whose date is not the plan's to know
        if choice.dated:
            note = f"{note} {plan_day.isoformat()}" if choice.until_event else f"{note}, {plan_day.isoformat()}"
    elif choice.action == "taper_glucocorticoid":
        until = as_of + dt.timedelta(days=choice.earliest_day)
    else:
        until = on
    burden, summary, awaits = choice.burden, choice.summary, choice.awaits
    return Action(choice.action, choice.column, choice.before, after, on, until, note, burden, summary, awaits)


def _eligible_until(
    ctx: Context,
    built: PlanModel,
    taken: list[Choice],
    day: int,
    horizon: int,
    time_limit: float | None,
    eligible: bool,
    renewing: bool = False,
) -> tuple[dt.date | None, list[str]]:
    """The last day the plan keeps the patient eligible and the criteria that close it then,
    or (None, []) if it stays so through the horizon.

    Solved on a copy of the plan's model: actions and test dates fixed, the criteria no
    longer required, and on a later day some criterion failing, or, for a plan that makes the
    patient eligible, some criterion no longer met (a routine test that ages out leaves it
    undecided: eligible no more until it is repeated).  ``renewing``: the routine tests are repeated in their
    windows, so the criteria that read them close nothing.
    """
    closing = [
        (criterion, ~is_true if eligible and not isinstance(is_true, bool) else is_false)
        for criterion, (is_true, is_false) in zip(built.criteria, built.rails, strict=True)
        if not (renewing and criterion_reads(criterion)[0] & built.routine_test_dates)
    ]
    failing = [literal for _, literal in closing if not isinstance(literal, bool)]
    if day >= horizon or not failing:
        return None, []
    window = built.model.clone()
    window.clear_assumptions()
    chosen = {choice.literal.index for choice in taken}  # not ``choice in taken``: comparing choices builds terms
    for choice in built.choices:
        window.add(choice.literal == int(choice.literal.index in chosen))
    window.add(built.compiler.test_day == day)
    window.add(built.compiler.t >= day + 1)
    window.add_bool_or(failing)
    window.minimize(built.compiler.t)
    solver = built.solver(time_limit)
    status = solver.solve(window)
    _status(solver, status)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None, []
    closes = [
        criterion.id
        for criterion, literal in closing
        if not isinstance(literal, bool) and solver.boolean_value(literal)
    ]
    return ctx.as_of + dt.timedelta(days=int(solver.value(built.compiler.t)) - 1), closes


def _renewal(trial: ir.Trial, test: RepeatableTest, criteria: list[ir.Criterion], as_of: dt.date) -> Renewal | None:
    """The test to repeat, fresh enough for every criterion that reads its date as a window: the shortest window,
    at the first event any of them counts to; None where none reads it as a window."""
    windows = [
        (leaf.window, criterion.anchor)
        for criterion in criteria
        for leaf, _ in criterion_leaves(criterion)
        if isinstance(leaf, ir.OccurredWithin) and leaf.field == test.date
    ]
    if not windows:
        return None
    shortest = max((window for window, _ in windows), key=lambda window: subtract(as_of, window))
    first = min((anchor for _, anchor in windows), key=ir.ANCHORS.index)
    return Renewal(named_test(trial, test), shortest, first, test.date)


def _until_awaited_tests_age(
    ctx: Context,
    built: PlanModel,
    taken: list[Choice],
    day: int,
    horizon: int,
    window: tuple[dt.date | None, list[str]],
) -> tuple[dt.date | None, list[str]]:
    """The plan's window, closed no later than the day a routine test it repeats (on plan day ``day``, its result
    awaited) is too old for a window of the trial on its date: the model reads the awaited test's date as unknown,
    which never closes (review 29 M2: a schedule placed infusions 77 days after the plan's pregnancy test)."""
    test_day = ctx.today + day
    closing: dict[int, list[str]] = {}
    for choice in taken:
        if choice.action != "repeat_test" or choice.column not in choice.pending:
            continue
        for criterion in built.criteria:
            for leaf, _ in criterion_leaves(criterion):
                if isinstance(leaf, ir.OccurredWithin) and leaf.field == choice.column:
                    table = cutoff_table(ctx.as_of, leaf.window, horizon)
                    aged = next((t for t in range(day + 1, horizon + 1) if table[t] >= test_day), None)
                    if aged is not None:
                        closing.setdefault(aged, []).append(criterion.id)
    if not closing:
        return window
    first = min(closing)
    until, closes = ctx.as_of + dt.timedelta(days=first - 1), sorted(set(closing[first]))
    if window[0] is None or until < window[0]:
        return until, closes
    return window if until > window[0] else (until, sorted({*window[1], *closes}))


def _minimal_core(
    built: PlanModel, solver: cp_model.CpSolver, assumptions: list[tuple[str, Any]], time_limit: float | None
) -> list[str]:
    """Shrink CP-SAT's sufficient assumptions to a minimal set of blocking criteria."""
    by_index = {literal.index: criterion_id for criterion_id, literal in assumptions}
    core = [by_index[i] for i in solver.sufficient_assumptions_for_infeasibility() if i in by_index]
    literal_of = dict(assumptions)
    for criterion_id in list(core):
        trial_core = [c for c in core if c != criterion_id]
        built.model.clear_assumptions()
        built.model.add_assumptions([built.tests_on_plan_day, *(literal_of[c] for c in trial_core)])
        if built.solver(time_limit).solve(built.model) == cp_model.INFEASIBLE:
            core = trial_core
    return core


def patient_plans(
    cohort: Cohort,
    patient_id: str,
    trials: list[ir.Trial],
    as_of: dt.date,
    horizon: int = DEFAULT_HORIZON,
    time_limit: float | None = None,
) -> list[Plan]:
    """One patient's nearest-eligible plan for each trial, with the alternatives considered."""
    alone = cohort.take([readable_row(cohort, patient_id)])
    return [
        plan(Context(alone, as_of, effective_facts(trial)), trial, 0, horizon, time_limit, alternatives=True)
        for trial in trials
    ]
