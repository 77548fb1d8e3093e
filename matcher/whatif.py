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
from typing import Any, TypeVar, cast

import numpy as np
from ortools.sat.python import cp_model

from matcher import ir
from matcher.cohort import Cohort, check_as_of, cohort_from_records, reason_text
from matcher.context import Context, washout_days
from matcher.cpsat import Alternatives, Compiler, Lit, Never, PlanDay, Rails, TestDay, Unknown, Value, kleene
from matcher.dates import from_day_number
from matcher.errors import MatcherError, ParameterError
from matcher.evaluate import criterion_holds, criterion_undecided_columns, evaluate
from matcher.facts import Facts
from matcher.ir import OPERATORS
from matcher.kleene import FALSE, TRUE, UNKNOWN
from matcher.screen import INELIGIBLE, STATUS_NAMES, UNDECIDED, Screening, screen
from matcher.trials import effective_facts

DEFAULT_HORIZON = 180
DERIVED_DOSES = ("prednisone_equivalent_mg_day", "prednisone_equivalent_mg_kg_day")  # a taper changes them


@dataclass(frozen=True)
class Action:
    """One step of a plan, from ``date`` to ``until`` (None: a one-off on ``date``), in plain words."""

    action: str
    column: str
    before: str | None
    after: str | None
    date: dt.date
    until: dt.date | None
    note: str
    burden: int
    summary: str  # a short phrase: "stopping tacrolimus"

    def as_dict(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "column": self.column,
            "from": self.before,
            "to": self.after,
            "date": self.date.isoformat(),
            "until": self.until.isoformat() if self.until else None,
            "note": self.note,
            "burden_days": self.burden,
        }


@dataclass(frozen=True)
class Alternative:
    """Another plan on the Pareto front of (date, burden): later, but with less burden."""

    earliest_date: dt.date
    burden: int
    status_at_plan: str
    actions: list[Action]

    def as_dict(self) -> dict[str, Any]:
        return {
            "earliest_date": self.earliest_date.isoformat(),
            "burden_days": self.burden,
            "status_at_plan": self.status_at_plan,
            "actions": [action.as_dict() for action in self.actions],
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
    pending: list[str] = field(default_factory=list)
    manual_checks: list[str] = field(default_factory=list)
    closes: list[str] = field(default_factory=list)
    renewable_until: bool = False
    anchors: dict[str, str] = field(default_factory=dict)
    alternatives: list[Alternative] = field(default_factory=list)
    solver_status: str = ""

    @property
    def burden(self) -> int:
        return sum(action.burden for action in self.actions)

    @property
    def eligible_pending_results(self) -> bool:
        """Eligible at the plan date, or undecided only by results the plan's own tests are waiting for."""
        if not self.reachable:
            return False
        return self.status_at_plan == "eligible" or (
            self.status_at_plan == "unknown" and bool(self.missing) and set(self.missing) <= set(self.pending)
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "patient_id": self.patient_id,
            "trial_id": self.trial_id,
            "status_now": self.status_now,
            "reachable": self.reachable,
            "earliest_date": self.earliest_date.isoformat() if self.earliest_date else None,
            "eligible_until": self.eligible_until.isoformat() if self.eligible_until else None,
            "closed_by": self.closes,
            "renewable_until": self.renewable_until,
            "status_at_plan": self.status_at_plan,
            "burden_days": self.burden,
            "actions": [action.as_dict() for action in self.actions],
            "pending": self.pending,
            "manual_checks": self.manual_checks,
            "blocking": self.blocking,
            "missing": self.missing,
            "date_counts_to": "screening",
            "anchors": self.anchors,
            "alternatives": [alternative.as_dict() for alternative in self.alternatives],
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
    burden: int
    note: str
    summary: str
    earliest_day: int = 0  # the day the action's result is reached (taper end, test lead time)
    lasts: bool = False  # runs from today to the plan date (a withheld drug), not a one-off
    depth: int = 0  # how far below the current dose a taper goes, in 0.5 mg prednisone equivalent
    pending: tuple[str, ...] = ()  # results the action waits for
    confirms: bool = False  # the override is the answer the plan needs, not yet given: eligible only once given
    overrides: dict[str, Value] = field(default_factory=dict)


def _date_text(value: Value) -> str | None:
    if isinstance(value, Unknown) or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, Never) or (isinstance(value, float) and np.isneginf(value)):
        return "never"
    return from_day_number(int(cast(float, value))).isoformat()


def taper_steps(dose_mg: float, drug: str, facts: Facts, horizon: int) -> list[tuple[float, int]]:
    """(dose of the patient's own drug reached, day reached) along the taper schedule, first step today.

    Each step goes down by the schedule's step for the current prednisone-equivalent dose,
    to the largest dose one can prescribe (a multiple of the drug's ``tablet_mg``) at or below it.
    """
    to_prednisone = 5.0 / facts.steroid_equivalent_mg[drug]
    tablet = facts.tablet_mg.get(drug, 0.0)
    steps, day, dose = [], 0, dose_mg
    while dose > 0 and day <= horizon:
        band = next(step for step in facts.taper_schedule if dose * to_prednisone > step.above)
        target = dose - band.step_mg / to_prednisone
        if tablet:
            target = np.floor(round(target / tablet, 6)) * tablet
        dose = round(max(target, 0.0), 6)
        steps.append((dose, day))
        day += band.every_days
    return steps


class _PlanModel:
    """One patient, one trial: the compiled criteria plus the actions that may change data.

    Actions that change a column a criterion of the trial requires unchanged are not offered,
    and criteria met only by history are compiled on the record as it stands.
    """

    def __init__(self, ctx: Context, trial: ir.Trial, row: int, horizon: int) -> None:
        self.ctx, self.trial, self.row, self.facts = ctx, trial, row, ctx.facts
        self.compiler = Compiler(ctx, row, horizon)
        self.model = self.compiler.model
        self.as_of = ctx.as_of
        self.unchanged = {name for criterion in trial.criteria for name in criterion.unchanged}
        self.routine_test_dates = {test.date for test in self.facts.change.tests if not test.invasive}
        self.criteria = [c for c in trial.criteria if not c.is_manual]
        self.manual = [c for c in trial.criteria if c.is_manual]
        # While planning, a repeated test is done on the enrolment day; the window check fixes it instead.
        self.tests_on_plan_day = self.model.new_bool_var("tests_on_plan_day")
        self.model.add(self.compiler.test_day == self.compiler.t).only_enforce_if(self.tests_on_plan_day)
        self.choices: list[_Choice] = []
        self._continuing: dict[str, Lit] = {}  # withheld drug column -> the withhold literal
        self._add_taper()
        self._add_withheld_drugs()
        self._add_immunosuppressant_stop()
        self._add_tests()
        self._add_lab_retests()
        self._add_judgements()
        self._add_administrative()
        self._apply_overrides()
        for choice in self.choices:
            if choice.earliest_day:
                self.model.add(self.compiler.t >= choice.earliest_day).only_enforce_if(choice.literal)
        self.changeable = set(self.compiler.overrides)
        self.rails: list[Rails] = [self._criterion_rails(c) for c in self.criteria]
        self.asked: list[Rails] = [self._asked_rails(c) for c in self.manual]
        # Earliest day first, then no action unless needed: the search order of the objective.
        self.model.add_decision_strategy([self.compiler.t], cp_model.CHOOSE_FIRST, cp_model.SELECT_MIN_VALUE)
        if self.choices:
            literals = [choice.literal for choice in self.choices]
            self.model.add_decision_strategy(literals, cp_model.CHOOSE_FIRST, cp_model.SELECT_MIN_VALUE)

    def _settled(self, criterion: ir.Criterion) -> bool:
        """Whether no wait and no action can change the criterion: its screening value is its value."""
        reads, timed = _reads(criterion)
        return not timed and not (reads & self.changeable)

    def _criterion_rails(self, criterion: ir.Criterion) -> Rails:
        if self._settled(criterion) or criterion.history_only and not _reads(criterion)[1]:
            return _CONSTANT_RAILS[int(criterion_holds(criterion, self.ctx)[self.row])]
        if not criterion.history_only:
            return self.compiler.criterion(criterion)
        changed, self.compiler.overrides = self.compiler.overrides, {}
        try:
            return self.compiler.criterion(criterion)
        finally:
            self.compiler.overrides = changed

    def _asked_rails(self, manual: ir.Criterion) -> Rails:
        """Whether a manual check is asked: its ``applies_when`` (unchanged data: as screened)."""
        if manual.applies_when is None:
            return True, False
        if self._settled(manual):
            return (False, True) if evaluate(manual.applies_when, self.ctx)[self.row] == FALSE else (True, False)
        return self.compiler.rails(manual.applies_when)

    def _new_choice(self, **kwargs: Any) -> _Choice | None:
        """A choice, unless it changes a column the trial requires unchanged."""
        if self.unchanged & set(kwargs.get("overrides", {})):
            return None
        literal = self.model.new_bool_var(f"{kwargs['action']}_{len(self.choices)}")
        choice = _Choice(literal=literal, **kwargs)
        self.choices.append(choice)
        return choice

    def _day(self, offset: int) -> dt.date:
        return self.as_of + dt.timedelta(days=offset)

    def _add_taper(self) -> None:
        columns = self.facts.change.glucocorticoid
        dose_pe = float(self.ctx.values("prednisone_equivalent_mg_day")[self.row])
        if not np.isfinite(dose_pe) or dose_pe <= 0:
            return
        drug = str(self.ctx.lowered_at(columns.drug, self.row))
        dose = float(self.ctx.values(columns.dose)[self.row])
        to_prednisone = 5.0 / self.facts.steroid_equivalent_mg[drug]
        weight = float(self.ctx.cohort.column("weight_kg")[self.row])
        failed_before = bool(self.ctx.values(columns.taper_failed)[self.row] == TRUE)
        per_step = self.facts.action_burden_days["taper_step_after_failed_taper" if failed_before else "taper_step"]
        warning = "; a previous taper failed (gc_taper_failed): only if the treating physician agrees" * failed_before
        literals, reached = [], []
        for count, (target, day) in enumerate(taper_steps(dose, drug, self.facts, self.compiler.horizon), 1):
            reached.append(f"{target:g} mg/day from {self._day(day).isoformat()}")
            target_pe = round(target * to_prednisone, 6)
            per_kg: Value = round(target_pe / weight, 6) if np.isfinite(weight) and weight > 0 else Unknown()
            choice = self._new_choice(
                action="taper_glucocorticoid",
                column=columns.dose,
                before=f"{dose:g}",
                after=f"{target:g}",
                burden=per_step * count,
                earliest_day=day,
                depth=int(round((dose_pe - target_pe) * 2)),
                note=f"taper {drug} from {dose:g} mg/day: " + ", ".join(reached) + warning,
                summary=f"tapering {drug} to {target:g} mg/day",
                overrides={
                    DERIVED_DOSES[0]: target_pe,
                    DERIVED_DOSES[1]: per_kg,
                    columns.dose: target,
                    columns.changed: float(self.ctx.today + day),
                },
            )
            if choice is not None:
                literals.append(choice.literal)
        self.model.add_at_most_one(literals)

    def _add_withheld_drugs(self) -> None:
        """A recent dose whose window the trial reads: the course goes on unless the plan withholds it.

        Continuing is modelled as a dose on the plan day; withholding keeps the recorded last dose.
        """
        leaves = [
            node for node in _nodes(self.trial) if isinstance(node, (ir.Washout, ir.OccurredWithin, ir.ElapsedAtLeast))
        ]
        for drug in self.facts.change.withheld_drugs:
            last = self.compiler.original(drug.column)
            if not isinstance(last, float) or not any(
                _still_acting(leaf, last, self.ctx) for leaf in leaves if leaf.field == drug.column
            ):
                continue
            choice = self._new_choice(
                action="withhold_drug",
                column=drug.column,
                before=_date_text(last),
                after=_date_text(last),
                burden=self.facts.action_burden_days["withhold_biologic"],
                lasts=True,
                note=f"give no more {drug.drug} (last dose {_date_text(last)}) until the plan date",
                summary=f"withholding {drug.drug}",
                overrides={},
            )
            if choice is not None:
                self._continuing[drug.column] = choice.literal

    def _add_immunosuppressant_stop(self) -> None:
        columns = self.facts.change.immunosuppressant
        start = self.ctx.values(columns.start)[self.row]
        if not np.isfinite(start):
            return
        recorded = self.ctx.lowered_at(columns.name, self.row)
        name = recorded if recorded not in (None, "none") else "immunosuppressant"
        self._new_choice(
            action="stop_immunosuppressant",
            column=columns.start,
            before=_date_text(float(start)),
            after="never",
            burden=self.facts.action_burden_days["stop_immunosuppressant"],
            note=f"stop {name} on {self.as_of.isoformat()}; its washout runs from then",
            summary=f"stopping {name}",
            overrides={
                columns.name: "none",
                columns.start: Never(),
                columns.changed: Never(),
                columns.last_dose: float(self.ctx.today),
                columns.stopped_name: Unknown() if name == "immunosuppressant" else name,
            },
        )

    def _add_tests(self) -> None:
        for test in self.facts.change.tests:
            if test.applies_when and self.ctx.values(test.applies_when)[self.row] == FALSE:
                continue
            ruled_out = [c.reason for c in test.contraindications if self._known_to_hold(c.field, c.op, c.value)]
            if ruled_out:
                continue
            overrides: dict[str, Value] = {test.date: TestDay()}
            kinds = []
            for column, spellings in test.sets.items():
                spelled = self._accepted_spelling(column, spellings)
                overrides[column] = _spelled_value(self.ctx, column, spelled)
                kinds.append(spelled)
            overrides.update({column: Unknown() for column in test.pending})
            unchecked = [c.field for c in test.contraindications if np.isnan(self.ctx.values(c.field)[self.row])]
            check_first = f"; first check {', '.join(unchecked)} (contraindications)" if unchecked else ""
            kind = f" ({', '.join(kinds)})" if kinds else ""
            self._new_choice(
                action="invasive_procedure" if test.invasive else "repeat_test",
                column=test.date,
                before=_date_text(self.compiler.original(test.date)),
                after="plan date",
                burden=self.facts.action_burden_days["invasive_procedure" if test.invasive else "repeat_test"],
                earliest_day=test.lead_days,
                pending=test.pending,
                note=f"repeat the {test.name}{kind}: {test.condition}; the result is awaited{check_first}",
                summary=f"a {test.name}" if test.invasive else f"repeating the {test.name}",
                overrides=overrides,
            )

    def _add_lab_retests(self) -> None:
        retests = self.facts.change.retests
        for lab in retests.labs:
            near = [
                (column, value, limit)
                for column in lab.columns
                if np.isfinite(value := float(self.ctx.values(column)[self.row]))
                for limit in self._limits(column)
                if abs(value - limit) <= retests.near_pct / 100 * abs(limit)
            ]
            if not near:
                continue
            column, value, limit = near[0]
            self._new_choice(
                action="repeat_lab",
                column=column,
                before=f"{value:g}",
                after="new result",
                burden=self.facts.action_burden_days["repeat_lab"],
                pending=(column,),
                note=f"repeat the {lab.name} ({column} {value:g}, near the trial's limit {limit:g}); result awaited",
                summary=f"repeating the {lab.name}",
                overrides={name: Unknown() for name in lab.columns},
            )

    def _limits(self, column: str) -> list[float]:
        """The bounds the trial's rules set on ``column``."""
        limits: list[float] = []
        for node in _nodes(self.trial):
            if isinstance(node, ir.Compare) and node.field == column:
                limits.append(float(node.value))
            elif isinstance(node, ir.Range) and node.field == column:
                limits += [float(bound) for bound in (node.min, node.max) if bound is not None]
        return limits

    def _add_judgements(self) -> None:
        for judgement in self.facts.change.judgements:
            if not isinstance(self.compiler.original(judgement.column), Unknown):
                continue  # already answered, either way
            if not any(self._known_to_hold(f.field, f.op, f.value) for f in judgement.when_any):
                continue
            self._new_choice(
                action="investigator_judgement",
                column=judgement.column,
                before=None,
                after="true",
                burden=self.facts.action_burden_days["investigator_judgement"],
                pending=(judgement.column,),
                confirms=True,
                note=f"ask the investigator whether {judgement.name}; eligible only if so",
                summary="the investigator's attribution",
                overrides={judgement.column: True},
            )

    def _known_to_hold(self, column: str, op: str, bound: float) -> bool:
        value = float(self.ctx.values(column)[self.row])
        return bool(np.isfinite(value) and OPERATORS[op](value, bound))

    def _accepted_spelling(self, column: str, spellings: tuple[str, ...]) -> str:
        """The first spelling every rule of the trial on ``column`` accepts (the text's own kind of test)."""
        accepted = [
            {value.lower() for value in node.values}
            for node in _nodes(self.trial)
            if isinstance(node, ir.InSet) and node.field == column
        ]
        return next((s for s in spellings if all(s.lower() in values for values in accepted)), spellings[-1])

    def _add_administrative(self) -> None:
        for step in self.facts.change.administrative:
            if self.ctx.values(step.column)[self.row] == TRUE:
                continue
            self._new_choice(
                action="administrative_step",
                column=step.column,
                before=None,
                after="true",
                burden=self.facts.action_burden_days["administrative_step"],
                note=step.name,
                summary=f"the step '{step.name}'",
                overrides={step.column: True},
            )

    def _apply_overrides(self) -> None:
        by_column: dict[str, list[tuple[Lit, Value]]] = {}
        for choice in self.choices:
            for column, value in choice.overrides.items():
                by_column.setdefault(column, []).append((choice.literal, value))
        for column, withheld in self._continuing.items():
            # Not withheld: the course goes on, a dose on the plan day.
            by_column.setdefault(column, []).append((self.compiler.neg(withheld), PlanDay()))
        for column, changed in by_column.items():
            none_taken = self.compiler.conj([self.compiler.neg(literal) for literal, _ in changed])
            alternatives: Alternatives = [(none_taken, self.compiler.original(column))]
            alternatives += changed
            self.compiler.overrides[column] = alternatives

    def burden(self) -> cp_model.LinearExpr:
        return cast(cp_model.LinearExpr, sum(choice.burden * choice.literal for choice in self.choices))

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


_CONSTANT_RAILS: tuple[Rails, ...] = ((False, True), (False, False), (True, False))  # by Kleene code
_NODES: dict[str, tuple[ir.Trial, list[ir.Rule]]] = {}
_READS: dict[str, tuple[ir.Criterion, tuple[set[str], bool]]] = {}
_Cached = TypeVar("_Cached")


def _by_id(table: dict[str, tuple[Any, _Cached]], key: str, owner: object, compute: Callable[[], _Cached]) -> _Cached:
    """A cache keyed by an id string that holds its owner: another object under the same id is computed afresh."""
    entry = table.get(key)
    if entry is None or entry[0] is not owner:
        entry = table[key] = (owner, compute())
    return entry[1]


def _nodes(trial: ir.Trial) -> list[ir.Rule]:
    """Every node of a trial's data criteria (rules and ``applies_when``), walked once per trial."""

    def walk() -> list[ir.Rule]:
        roots = [root for c in trial.criteria if not c.is_manual for root in (c.rule, c.applies_when) if root]
        return [node for root in roots for node in ir.walk(cast(ir.Rule, root))]

    return _by_id(_NODES, trial.id, trial, walk)


def _ever_changeable(facts: Facts) -> set[str]:
    """Every column some what-if action may change (whoever the patient), derived doses included."""
    change = facts.change
    columns = {change.glucocorticoid.dose, change.glucocorticoid.changed, *DERIVED_DOSES}
    columns |= {drug.column for drug in change.withheld_drugs}
    columns |= set(change.immunosuppressant.model_dump().values())
    columns |= {step.column for step in change.administrative}
    columns |= {column for lab in change.retests.labs for column in lab.columns}
    columns |= {judgement.column for judgement in change.judgements}
    for test in change.tests:
        columns |= {test.date, *test.sets, *test.pending}
    return columns


def _reads(criterion: ir.Criterion) -> tuple[set[str], bool]:
    """The fields a criterion reads (rule and ``applies_when``), and whether waiting alone can change it."""

    def read() -> tuple[set[str], bool]:
        roots = [criterion.applies_when] if criterion.applies_when is not None else []
        if not criterion.is_manual:
            roots.append(cast(ir.Rule, criterion.rule))
        nodes = [node for root in roots for node in ir.walk(root)]
        reads = {name for root in roots for name in ir.fields_read(root)}
        timed = "age" in reads or any(isinstance(n, (ir.OccurredWithin, ir.ElapsedAtLeast, ir.Washout)) for n in nodes)
        return reads, timed

    return _by_id(_READS, criterion.id, criterion, read)


def _still_acting(leaf: ir.Washout | ir.OccurredWithin | ir.ElapsedAtLeast, last: float, ctx: Context) -> bool:
    """Whether a dose on day ``last`` still counts for this window on the as-of date."""
    if isinstance(leaf, ir.Washout):
        needed = washout_days(leaf, ctx.facts, None)[1]
        return bool(np.isnan(needed) or ctx.today - last < needed)
    window = leaf.window if isinstance(leaf, ir.OccurredWithin) else leaf.duration
    return last > ctx.cutoff(window)


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
    ctx: Context,
    trial: ir.Trial,
    row: int,
    horizon: int = DEFAULT_HORIZON,
    time_limit: float | None = None,
    alternatives: bool = False,
) -> Plan:
    """The plan that makes patient ``row`` eligible for ``trial`` soonest, counting burden as days.

    Objective, lexicographic: days waited plus the actions' burden (in days-equivalent),
    then fewer actions, then the shallowest taper.  With ``alternatives``, also the other
    plans of the Pareto front of (date, burden): each later one carries less burden.
    """
    patient_id = str(ctx.cohort.ids[row])
    now = status_now(ctx, trial, row)
    result = Plan(patient_id, trial.id, now, reachable=False)
    result.anchors = {c.id: c.anchor for c in trial.criteria if c.anchor != "screening"}
    if now == "invalid":
        result.solver_status = "not solved: invalid row"
        return result
    ever_changeable = _ever_changeable(ctx.facts)
    for criterion in trial.criteria:
        reads, timed = _reads(criterion)
        if criterion.is_manual or timed or reads & ever_changeable:
            continue
        if criterion_holds(criterion, ctx)[row] == FALSE:  # fails whatever changes: a minimal reason on its own
            result.blocking = [criterion.id]
            result.solver_status = "INFEASIBLE"
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
    built.model.add_assumptions([built.tests_on_plan_day, *(literal for _, literal in assumptions)])
    weights = _Weights(built)
    built.model.minimize(weights.burden_as_days())
    solver = built.solver(time_limit)
    status = solver.solve(built.model)
    result.solver_status = _status(solver, status)
    if status == cp_model.INFEASIBLE:
        result.blocking = _minimal_core(built, solver, assumptions, time_limit)
        return result
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return result
    primary = _solution(built, solver)
    result.reachable = True
    result.earliest_date, result.status_at_plan = primary.earliest_date, primary.status_at_plan
    result.actions = primary.actions
    taken = [choice for choice in built.choices if solver.boolean_value(choice.literal)]
    result.pending = sorted({column for choice in taken for column in choice.pending})
    codes = [kleene(rails, solver) for rails in built.rails]
    undecided = [c for c, code in zip(built.criteria, codes, strict=True) if code == UNKNOWN]
    awaited = {column for c in undecided for column in _criterion_fields(c)} & set(result.pending)
    awaited |= {column for choice in taken if choice.confirms for column in choice.pending}
    result.missing = sorted(set(_missing_columns(ctx, row, undecided)) | awaited)
    result.manual_checks = [
        f"{c.id}: {cast(ir.ManualCheck, c.rule).question}"
        for c, rails in zip(built.manual, built.asked, strict=True)
        if kleene(rails, solver) != FALSE
    ]
    day = (primary.earliest_date - ctx.as_of).days
    result.eligible_until, result.closes = _eligible_until(ctx, built, taken, day, horizon, time_limit)
    result.renewable_until = bool(result.closes) and all(
        set(ir.fields_read(cast(ir.Rule, trial.criterion(c).rule))) & built.routine_test_dates for c in result.closes
    )
    if alternatives:
        result.alternatives = [
            other
            for other in _pareto_front(built, weights, time_limit)
            if (other.earliest_date, other.burden) != (primary.earliest_date, primary.burden)
        ]
    return result


class _Weights:
    """Integer weights that make a sum of terms an exact lexicographic objective."""

    def __init__(self, built: _PlanModel) -> None:
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


def _pareto_front(built: _PlanModel, weights: _Weights, time_limit: float | None) -> list[Alternative]:
    """Every plan no other plan beats on both date and burden, earliest first.

    Found by tightening a bound: the earliest plan, then the earliest with less burden
    than the last one found, until none is left (the last carries the least burden).
    """
    front: list[Alternative] = []
    while True:
        model = built.model.clone()
        model.minimize(weights.date_first())
        if front:
            model.add(built.burden() <= front[-1].burden - 1)
        solver = built.solver(time_limit)
        status = solver.solve(model)
        _status(solver, status)
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return front
        front.append(_solution(built, solver))
        if front[-1].burden == 0:
            return front


def _solution(built: _PlanModel, solver: cp_model.CpSolver) -> Alternative:
    day = int(solver.value(built.compiler.t))
    codes = [kleene(rails, solver) for rails in built.rails]
    taken = [choice for choice in built.choices if solver.boolean_value(choice.literal)]
    status = STATUS_NAMES[min(codes)] if codes else "eligible"
    if status == "eligible" and any(choice.confirms for choice in taken):
        status = "unknown"  # eligible once the awaited answer is given
    return Alternative(
        built.as_of + dt.timedelta(days=day),
        sum(choice.burden for choice in taken),
        status,
        [_action(choice, built.as_of, day) for choice in taken],
    )


def _action(choice: _Choice, as_of: dt.date, day: int) -> Action:
    """Tests are done on the plan day; a taper runs until its last step; a withheld drug until the plan day."""
    plan_day = as_of + dt.timedelta(days=day)
    on = plan_day if choice.action in ("repeat_test", "repeat_lab", "invasive_procedure") else as_of
    after = plan_day.isoformat() if choice.after == "plan date" else choice.after
    if choice.lasts:
        until = plan_day
    elif choice.action == "taper_glucocorticoid":
        until = as_of + dt.timedelta(days=choice.earliest_day)
    else:
        until = on
    return Action(
        choice.action, choice.column, choice.before, after, on, until, choice.note, choice.burden, choice.summary
    )


def _criterion_fields(criterion: ir.Criterion) -> set[str]:
    roots = [cast(ir.Rule, criterion.rule)] + ([criterion.applies_when] if criterion.applies_when else [])
    return {name for root in roots for name in ir.fields_read(root)}


def _missing_columns(ctx: Context, row: int, undecided: list[ir.Criterion]) -> list[str]:
    rows = np.zeros(len(ctx), dtype=bool)
    rows[row] = True
    names: set[str] = set()
    for criterion in undecided:
        names |= {column for column, mask in criterion_undecided_columns(criterion, ctx, rows).items() if mask[row]}
    return sorted(names)


def _eligible_until(
    ctx: Context, built: _PlanModel, taken: list[_Choice], day: int, horizon: int, time_limit: float | None
) -> tuple[dt.date | None, list[str]]:
    """The last day the plan keeps the patient eligible and the criteria that close it then,
    or (None, []) if it stays so through the horizon.

    Solved on a copy of the plan's model: actions and test dates fixed, the criteria no
    longer required, and some criterion failing on a later day.
    """
    failing = [is_false for _, is_false in built.rails if not isinstance(is_false, bool)]
    if day >= horizon or not failing:
        return None, []
    window = built.model.clone()
    window.clear_assumptions()
    for choice in built.choices:
        window.add(choice.literal == int(choice in taken))
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
        for criterion, (_, is_false) in zip(built.criteria, built.rails, strict=True)
        if not isinstance(is_false, bool) and solver.boolean_value(is_false)
    ]
    return ctx.as_of + dt.timedelta(days=int(solver.value(built.compiler.t)) - 1), closes


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
        return [
            plan(self.context(self.trials[trial_id]), self.trials[trial_id], row, self.horizon, self.time_limit)
            for row, trial_id in pairs
        ]


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
    jobs = [pairs[i : i + 64] for i in range(0, len(pairs), 64)]
    scan = _Scan(cohort, {trial.id: trial for trial in trials}, as_of, within, time_limit)
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
    # A near miss needs a change: waiting or an action.  Staying undecided is not one.
    return [p for p in plans if p.reachable and (p.earliest_date != as_of or p.actions)]


def patient_row(cohort: Cohort, patient_id: str) -> int:
    rows = np.flatnonzero(cohort.ids.astype(str) == patient_id)
    if not rows.size:
        raise MatcherError(f"{cohort.source}: no patient with patient_id {patient_id!r}")
    return int(rows[0])


def readable_row(cohort: Cohort, patient_id: str) -> int:
    """The patient's row; a row the loader could not read is an error until its values are corrected or set."""
    row = patient_row(cohort, patient_id)
    if row in cohort.invalid:
        reasons = reason_text(cohort.invalid[row])
        raise ParameterError(
            "changes",
            f"{cohort.source}: row {row + 2} (patient_id {patient_id!r}) could not be read ({reasons}); "
            "correct the row, or re-screen with {option} COLUMN=VALUE",
        )
    return row


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


def with_changes(cohort: Cohort, row: int, changes: dict[str, str]) -> Cohort:
    """The patient alone, with columns set as spelled in a CSV (unit headers allowed)."""
    one = cohort.take([row])
    if not changes:
        return one
    patch = cohort_from_records([{"patient_id": str(one.ids[0]), **changes}], "the changes")
    if patch.warnings:
        unknown = ", ".join(sorted(set(changes) - set(patch.values)))
        raise ParameterError("changes", f"{{option}}: unknown column(s): {unknown}")
    if patch.invalid:
        raise ParameterError("changes", f"{{option}}: {reason_text(patch.invalid[0])}")
    one.values.update(patch.values)
    if 0 in one.invalid:  # reasons about the columns just set no longer hold; the others do
        kept = tuple(problem for problem in one.invalid[0] if problem.column not in patch.values)
        one.invalid = {0: kept} if kept else {}
    return one


def rescreen(
    cohort: Cohort, patient_id: str, trials: list[ir.Trial], as_of: dt.date, changes: dict[str, str], wait_days: int
) -> Screening:
    """Screen one patient under an explicit change: columns set to new values and/or days waited."""
    screening_day = as_of + dt.timedelta(days=wait_days)
    one = check_as_of(with_changes(cohort, patient_row(cohort, patient_id), changes), screening_day)
    return screen(one, trials, screening_day)
