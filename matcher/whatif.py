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

Held constant over the horizon: eGFR and CrCl computed at the as-of date (age
moves them by well under 1% in six months).
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np
from ortools.sat.python import cp_model

from matcher import ir
from matcher.cohort import FALSE, TRUE, UNKNOWN, Cohort, check_as_of, cohort_from_records
from matcher.cpsat import Alternatives, Compiler, Lit, Never, Rails, TestDay, Unknown, Value, kleene
from matcher.derived import EPOCH
from matcher.errors import MatcherError
from matcher.evaluate import Context, criterion_holds, criterion_undecided_columns
from matcher.facts import Facts
from matcher.screen import INELIGIBLE, STATUS_NAMES, UNDECIDED, Screening, screen
from matcher.trials import effective_facts

DEFAULT_HORIZON = 180
_DAY_WEIGHT = 100_000  # one day outweighs any sum of action costs


@dataclass(frozen=True)
class Action:
    action: str
    column: str
    before: str | None
    after: str | None
    date: dt.date
    note: str
    cost: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "column": self.column,
            "from": self.before,
            "to": self.after,
            "date": self.date.isoformat(),
            "note": self.note,
            "cost": self.cost,
        }


@dataclass
class Plan:
    patient_id: str
    trial_id: str
    status_now: str
    reachable: bool
    earliest_date: dt.date | None = None
    eligible_until: dt.date | None = None
    status_at_plan: str | None = None
    actions: list[Action] = field(default_factory=list)
    blocking: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    solver_status: str = ""

    @property
    def cost(self) -> int:
        return sum(action.cost for action in self.actions)

    def as_dict(self) -> dict[str, Any]:
        return {
            "patient_id": self.patient_id,
            "trial_id": self.trial_id,
            "status_now": self.status_now,
            "reachable": self.reachable,
            "earliest_date": self.earliest_date.isoformat() if self.earliest_date else None,
            "eligible_until": self.eligible_until.isoformat() if self.eligible_until else None,
            "status_at_plan": self.status_at_plan,
            "actions": [action.as_dict() for action in self.actions],
            "blocking": self.blocking,
            "missing": self.missing,
            "solver_status": self.solver_status,
        }


@dataclass
class _Choice:
    """One action the solver may take, with the overrides it implies."""

    literal: cp_model.IntVar
    action: str
    column: str
    before: str | None
    after: str | None
    cost: int
    note: str
    earliest_day: int = 0  # the day the action's result is reached (taper end)
    overrides: dict[str, Value] = field(default_factory=dict)


def _date_text(value: Value) -> str | None:
    if isinstance(value, Unknown) or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, Never) or (isinstance(value, float) and np.isneginf(value)):
        return "never"
    return (EPOCH + dt.timedelta(days=int(cast(float, value)))).isoformat()


def taper_steps(dose: float, facts: Facts, horizon: int) -> list[tuple[float, int]]:
    """(dose reached, day reached) along the taper schedule, first step today."""
    steps, day = [], 0
    while dose > 0 and day <= horizon:
        band = next(step for step in facts.taper_schedule if dose > step.above)
        dose = round(max(dose - band.step_mg, 0.0), 6)
        steps.append((dose, day))
        day += band.every_days
    return steps


class _PlanModel:
    """One patient, one trial: the compiled criteria plus the actions that may change data."""

    def __init__(
        self,
        ctx: Context,
        trial: ir.Trial,
        row: int,
        horizon: int,
    ) -> None:
        self.ctx, self.trial, self.row, self.facts = ctx, trial, row, ctx.facts
        self.compiler = Compiler(ctx, row, horizon)
        self.model = self.compiler.model
        # While planning, a repeated test is done on the enrolment day; the window check fixes it instead.
        self.tests_on_plan_day = self.model.new_bool_var("tests_on_plan_day")
        self.model.add(self.compiler.test_day == self.compiler.t).only_enforce_if(self.tests_on_plan_day)
        self.choices: list[_Choice] = []
        self._add_taper()
        self._add_immunosuppressant_stop()
        self._add_tests()
        self._add_administrative()
        self._apply_overrides()
        for choice in self.choices:
            if choice.earliest_day:
                self.model.add(self.compiler.t >= choice.earliest_day).only_enforce_if(choice.literal)
        self.criteria = [c for c in trial.criteria if not c.is_manual]
        self.rails: list[Rails] = [self.compiler.criterion(c) for c in self.criteria]
        # Earliest day first, then no action unless needed: the search order of the objective.
        self.model.add_decision_strategy([self.compiler.t], cp_model.CHOOSE_FIRST, cp_model.SELECT_MIN_VALUE)
        if self.choices:
            literals = [choice.literal for choice in self.choices]
            self.model.add_decision_strategy(literals, cp_model.CHOOSE_FIRST, cp_model.SELECT_MIN_VALUE)

    def _new_choice(self, **kwargs: Any) -> _Choice:
        literal = self.model.new_bool_var(f"{kwargs['action']}_{len(self.choices)}")
        choice = _Choice(literal=literal, **kwargs)
        self.choices.append(choice)
        return choice

    def _add_taper(self) -> None:
        columns = self.facts.change.glucocorticoid
        dose = float(self.ctx.values("prednisone_equivalent_mg_day")[self.row])
        if not np.isfinite(dose) or dose <= 0:
            return
        drug = str(self.ctx.lowered_at(columns.drug, self.row))
        drug_mg = self.facts.steroid_equivalent_mg[drug]
        weight = float(self.ctx.cohort.column("weight_kg")[self.row])
        choices = []
        for target, day in taper_steps(dose, self.facts, self.compiler.horizon):
            per_kg: Value = round(target / weight, 6) if np.isfinite(weight) and weight > 0 else Unknown()
            choices.append(
                self._new_choice(
                    action="taper_glucocorticoid",
                    column="prednisone_equivalent_mg_day",
                    before=f"{dose:g}",
                    after=f"{target:g}",
                    cost=self.facts.action_costs["taper_glucocorticoid"],
                    earliest_day=day,
                    note=f"taper {drug} to {target * drug_mg / 5:g} mg/day ({target:g} mg prednisone equivalent)",
                    overrides={
                        "prednisone_equivalent_mg_day": target,
                        "prednisone_equivalent_mg_kg_day": per_kg,
                        columns.dose: round(target * drug_mg / 5, 6),
                        columns.changed: float(self.ctx.today + day),
                    },
                )
            )
        self.model.add_at_most_one([c.literal for c in choices])

    def _add_immunosuppressant_stop(self) -> None:
        columns = self.facts.change.immunosuppressant
        start = self.ctx.values(columns.start)[self.row]
        if not np.isfinite(start):
            return
        name = self.ctx.cohort.column(columns.name)[self.row] or "immunosuppressant"
        self._new_choice(
            action="stop_immunosuppressant",
            column=columns.start,
            before=_date_text(float(start)),
            after="never",
            cost=self.facts.action_costs["stop_immunosuppressant"],
            note=f"stop {name}; its washout starts today",
            overrides={
                columns.name: "none",
                columns.start: Never(),
                columns.changed: Never(),
                columns.last_dose: float(self.ctx.today),
            },
        )

    def _add_tests(self) -> None:
        for test in self.facts.change.tests:
            if test.applies_when and self.ctx.values(test.applies_when)[self.row] == FALSE:
                continue
            overrides: dict[str, Value] = {test.date: TestDay()}
            for column, spelled in test.sets.items():
                overrides[column] = _spelled_value(self.ctx, column, spelled)
            before = _date_text(self.compiler.original(test.date))
            self._new_choice(
                action="repeat_test",
                column=test.date,
                before=before,
                after="plan date",
                cost=self.facts.action_costs["repeat_test"],
                note=f"repeat {test.name}: {test.condition}",
                overrides=overrides,
            )

    def _add_administrative(self) -> None:
        for step in self.facts.change.administrative:
            if self.ctx.values(step.column)[self.row] == TRUE:
                continue
            self._new_choice(
                action="administrative_step",
                column=step.column,
                before=None,
                after="true",
                cost=self.facts.action_costs["administrative_step"],
                note=step.name,
                overrides={step.column: True},
            )

    def _apply_overrides(self) -> None:
        by_column: dict[str, list[tuple[cp_model.IntVar, Value]]] = {}
        for choice in self.choices:
            for column, value in choice.overrides.items():
                by_column.setdefault(column, []).append((choice.literal, value))
        for column, changed in by_column.items():
            none_taken = self.compiler.conj([~literal for literal, _ in changed])
            alternatives: Alternatives = [(none_taken, self.compiler.original(column))]
            alternatives += [(cast(Lit, literal), value) for literal, value in changed]
            self.compiler.overrides[column] = alternatives

    def solver(self, time_limit: float | None) -> cp_model.CpSolver:
        solver = cp_model.CpSolver()
        solver.parameters.num_workers = 1
        solver.parameters.random_seed = 0
        solver.parameters.catch_sigint_signal = False  # Ctrl-C stops matcher cleanly, not only the solve
        # These models are tiny: symmetry detection, probing and repeated presolve cost more than they save.
        solver.parameters.symmetry_level = 0
        solver.parameters.cp_model_probing_level = 0
        solver.parameters.max_presolve_iterations = 1
        solver.parameters.search_branching = cp_model.FIXED_SEARCH
        if time_limit:
            solver.parameters.max_deterministic_time = time_limit
        return solver


def _spelled_value(ctx: Context, column: str, spelled: str) -> Value:
    values = ctx.cohort.column(column)
    if values.dtype == np.int8:
        return spelled.lower() in ("true", "yes", "1")
    return spelled.lower()


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
    ctx: Context, trial: ir.Trial, row: int, horizon: int = DEFAULT_HORIZON, time_limit: float | None = None
) -> Plan:
    """The nearest plan that makes patient ``row`` eligible for ``trial`` (or why none exists)."""
    patient_id = str(ctx.cohort.ids[row])
    now = status_now(ctx, trial, row)
    result = Plan(patient_id, trial.id, now, reachable=False)
    if now == "invalid":
        result.solver_status = "not solved: invalid row"
        return result
    built = _PlanModel(ctx, trial, row, horizon)
    assumptions = []
    for criterion, (_, is_false) in zip(built.criteria, built.rails, strict=True):
        if is_false is True:  # fails whatever changes: a minimal reason on its own
            result.blocking = [criterion.id]
            result.solver_status = "INFEASIBLE"
            return result
        if is_false is False:
            continue
        assume = built.model.new_bool_var(f"meets[{criterion.id}]")
        built.model.add_implication(assume, ~is_false)
        assumptions.append((criterion.id, assume))
    costs = [choice.cost * choice.literal for choice in built.choices]
    built.model.minimize(_DAY_WEIGHT * built.compiler.t + sum(costs))
    built.model.add_assumptions([built.tests_on_plan_day, *(literal for _, literal in assumptions)])
    solver = built.solver(time_limit)
    status = solver.solve(built.model)
    result.solver_status = _status(solver, status)
    if status == cp_model.INFEASIBLE:
        result.blocking = _minimal_core(built, solver, assumptions, time_limit)
        return result
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return result
    day = int(solver.value(built.compiler.t))
    taken = [choice for choice in built.choices if solver.boolean_value(choice.literal)]
    result.reachable = True
    result.earliest_date = ctx.as_of + dt.timedelta(days=day)
    codes = [kleene(rails, solver) for rails in built.rails]
    result.status_at_plan = STATUS_NAMES[min(codes)] if codes else "eligible"
    result.actions = [_action(choice, ctx.as_of, day) for choice in taken] + _withheld(ctx, built, row, day)
    undecided = [c for c, code in zip(built.criteria, codes, strict=True) if code == UNKNOWN]
    result.missing = _missing_columns(ctx, row, undecided)
    result.eligible_until = _eligible_until(ctx, built, taken, day, horizon, time_limit)
    return result


def _action(choice: _Choice, as_of: dt.date, day: int) -> Action:
    on = as_of + dt.timedelta(days=day if choice.action == "repeat_test" else 0)
    after = on.isoformat() if choice.after == "plan date" else choice.after
    return Action(choice.action, choice.column, choice.before, after, on, choice.note, choice.cost)


def _withheld(ctx: Context, built: _PlanModel, row: int, day: int) -> list[Action]:
    """Washouts the plan relies on: drugs whose dated rules change between today and the plan date."""
    if day == 0:
        return []
    one = ctx.cohort.take([row])
    now, then = Context(one, ctx.as_of, ctx.facts), Context(one, ctx.as_of + dt.timedelta(days=day), ctx.facts)
    leaves = [
        node
        for c in built.criteria
        for node in ir.walk(cast(ir.Rule, c.rule))
        if isinstance(node, (ir.Washout, ir.OccurredWithin, ir.ElapsedAtLeast))
    ]
    actions = []
    for drug in ctx.facts.change.withheld_drugs:
        relevant = [leaf for leaf in leaves if leaf.field == drug.column]
        if any(now.evaluate(leaf)[0] != then.evaluate(leaf)[0] for leaf in relevant):
            last = _date_text(float(ctx.values(drug.column)[row]))
            actions.append(
                Action(
                    "withhold_drug",
                    drug.column,
                    last,
                    last,
                    ctx.as_of,
                    f"withhold {drug.drug} until its washout ends",
                    ctx.facts.action_costs["stop_biologic"],
                )
            )
    return actions


def _missing_columns(ctx: Context, row: int, undecided: list[ir.Criterion]) -> list[str]:
    rows = np.zeros(len(ctx), dtype=bool)
    rows[row] = True
    names: set[str] = set()
    for criterion in undecided:
        names |= {column for column, mask in criterion_undecided_columns(criterion, ctx, rows).items() if mask[row]}
    return sorted(names)


def _eligible_until(
    ctx: Context, built: _PlanModel, taken: list[_Choice], day: int, horizon: int, time_limit: float | None
) -> dt.date | None:
    """The last day the plan keeps the patient eligible, or None if it stays so through the horizon.

    Solved on a copy of the plan's model: actions and test dates fixed, the criteria no
    longer required, and some criterion failing on a later day.
    """
    failing = [is_false for _, is_false in built.rails if not isinstance(is_false, bool)]
    if day >= horizon or not failing:
        return None
    window = built.model.clone()
    window.clear_assumptions()
    for choice in built.choices:
        window.add(choice.literal == int(choice in taken))
    window.add(built.compiler.test_day == day)
    window.add(built.compiler.t >= day + 1)
    window.add_bool_or(failing)
    solver = built.solver(time_limit)
    status = solver.solve(window)
    _status(solver, status)
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return ctx.as_of + dt.timedelta(days=int(solver.value(built.compiler.t)) - 1)
    return None


def _minimal_core(
    built: _PlanModel, solver: cp_model.CpSolver, assumptions: list[tuple[str, Any]], time_limit: float | None
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


# Near-miss scans fork worker processes that inherit the cohort and trials from here.
_SHARED: dict[str, Any] = {}
_CONTEXTS: dict[tuple[Any, ...], Context] = {}


def _context_for(cohort: Cohort, trial: ir.Trial, as_of: dt.date) -> Context:
    """One evaluation context per set of facts, reused across chunks in a process."""
    facts = effective_facts(trial)
    key = (id(cohort), as_of, facts.cache_key())
    if key not in _CONTEXTS:
        _CONTEXTS[key] = Context(cohort, as_of, facts)
    return _CONTEXTS[key]


def _plan_chunk(job: tuple[list[tuple[int, str]], dt.date, int, float | None]) -> list[Plan]:
    pairs, as_of, horizon, time_limit = job
    cohort, trials = _SHARED["cohort"], _SHARED["trials"]
    return [
        plan(_context_for(cohort, trials[trial_id], as_of), trials[trial_id], row, horizon, time_limit)
        for row, trial_id in pairs
    ]


def near_misses(
    cohort: Cohort,
    trials: list[ir.Trial],
    as_of: dt.date,
    within: int,
    workers: int | None = None,
    time_limit: float | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[Plan]:
    """Patients not eligible now who can become eligible within ``within`` days, per trial.

    Runs on ``workers`` processes (default: all cores), forked so the cohort is
    shared, and reports progress through ``progress(done, total)``.
    """
    screening = screen(cohort, trials, as_of)
    pairs = [
        (int(row), result.trial.id)
        for result in screening.results
        for row in np.flatnonzero((result.status == INELIGIBLE) | (result.status == UNDECIDED))
    ]
    pairs.sort()
    jobs = [(pairs[i : i + 64], as_of, within, time_limit) for i in range(0, len(pairs), 64)]
    _SHARED.update(cohort=cohort, trials={trial.id: trial for trial in trials})
    workers = workers or os.cpu_count() or 1
    plans: list[Plan] = []
    if workers == 1 or len(jobs) <= 1:
        batches: Iterable[list[Plan]] = map(_plan_chunk, jobs)
        for done, batch in enumerate(batches, 1):
            plans += batch
            if progress:
                progress(done, len(jobs))
    else:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            for done, batch in enumerate(pool.imap(_plan_chunk, jobs), 1):
                plans += batch
                if progress:
                    progress(done, len(jobs))
    # A near miss needs a change: waiting or an action.  Staying undecided is not one.
    return [p for p in plans if p.reachable and (p.earliest_date != as_of or p.actions)]


def patient_row(cohort: Cohort, patient_id: str) -> int:
    rows = np.flatnonzero(cohort.ids.astype(str) == patient_id)
    if not rows.size:
        raise MatcherError(f"{cohort.source}: no patient with patient_id {patient_id!r}")
    return int(rows[0])


def with_changes(cohort: Cohort, row: int, changes: dict[str, str]) -> Cohort:
    """The patient alone, with columns set as spelled in a CSV (unit headers allowed)."""
    one = cohort.take([row])
    if not changes:
        return one
    patch = cohort_from_records([{"patient_id": str(one.ids[0]), **changes}], "--set")
    if patch.warnings:
        raise MatcherError(f"--set: unknown column(s): {', '.join(sorted(set(changes) - set(patch.values)))}")
    if patch.invalid:
        raise MatcherError(f"--set: {patch.invalid[0]}")
    one.values.update(patch.values)
    if 0 in one.invalid:  # reasons about the columns just set no longer hold; the others do
        kept = [part for part in one.invalid[0].split("; ") if _reason_column(part) not in patch.values]
        one.invalid = {0: "; ".join(kept)} if kept else {}
    return one


def _reason_column(reason: str) -> str:
    """The column a loader reason names ("column NAME: ...")."""
    return reason.removeprefix("column ").split(":", 1)[0]


def rescreen(
    cohort: Cohort, patient_id: str, trials: list[ir.Trial], as_of: dt.date, changes: dict[str, str], wait_days: int
) -> Screening:
    """Screen one patient under an explicit change: columns set to new values and/or days waited."""
    screening_day = as_of + dt.timedelta(days=wait_days)
    one = check_as_of(with_changes(cohort, patient_row(cohort, patient_id), changes), screening_day)
    return screen(one, trials, screening_day)
