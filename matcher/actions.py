"""One patient's what-if model for one trial: the CP-SAT compilation of its criteria over the days ahead, with
the changes facts.yaml allows (tapers, stops, repeated tests and labs, questions to the investigator) as choices."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np
from ortools.sat.python import cp_model

from matcher import ir
from matcher.context import Context, washout_days
from matcher.contract import columns, label_and_unit
from matcher.cpsat import Alternatives, Compiler, Lit, Never, PlanDay, Rails, TestDay, Unknown, Value
from matcher.dates import from_day_number
from matcher.evaluate import criterion_holds, deciding_leaves, evaluate
from matcher.facts import Facts, ImmunosuppressantColumns, RepeatableTest
from matcher.findings import subject_near
from matcher.ir import OPERATORS
from matcher.kleene import FALSE, TRUE, UNKNOWN
from matcher.render import shown
from matcher.rule_reads import (
    accepted_by_column,
    criterion_leaves,
    criterion_node_fields,
    criterion_reads,
    criterion_washouts,
    limits_by_column,
    reads_by_node,
    timed_leaves,
)

DERIVED_DOSES = ("prednisone_equivalent_mg_day", "prednisone_equivalent_mg_kg_day")  # a taper changes them
STOP = "stop_immunosuppressant"  # the action that stops the current immunosuppressant
WITHHOLD = "withhold_drug"  # the action that gives no more of a recent drug (its course goes on unless withheld)


@dataclass
class Choice:
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
    lasts: bool = False  # a withheld drug: from today until after the infusion, not a one-off; the note adds the date
    until_event: str = ""  # the later event a withheld drug's washout runs to (the infusion, the enrolment), if any
    dated: bool = True  # a withheld drug: the note ends with the plan date (not for a washout of unknown length)
    depth: int = 0  # how far below the current dose a taper goes, in 0.5 mg prednisone equivalent
    pending: tuple[str, ...] = ()  # results the action waits for
    confirms: bool = False  # the override is the answer the plan needs, not yet given: eligible only once given
    records_wanted: tuple[str, ...] = ()  # columns to record before the plan can hold (never awaited as results)
    replaces: str = ""  # a stop: the earlier stop it writes over in the record's one slot, still counting
    awaits: str = ""  # the result the action waits for, in words: "the pregnancy test (serum) result"
    overrides: dict[str, Value] = field(default_factory=dict)


def _date_text(value: Value) -> str | None:
    if isinstance(value, Unknown) or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, Never) or (isinstance(value, float) and np.isneginf(value)):
        return "never"
    return from_day_number(int(cast(float, value))).isoformat()


def as_cells(overrides: dict[str, Value]) -> dict[str, str]:
    """A choice's record as a CSV spells it: names as given, flags as true/false, dates as ISO dates or `never`,
    unknown as blank."""
    return {column: _cell(column, value) for column, value in overrides.items()}


def _cell(column: str, value: Value) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and columns()[column].numeric:
        return "" if np.isnan(value) else f"{value:g}"
    return _date_text(value) or ""


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


class PlanModel:
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
        self.choices: list[Choice] = []
        self._continuing: dict[str, cp_model.IntVar] = {}  # withheld drug column -> the withhold literal
        self._add_taper()
        self._add_withheld_drugs()
        self._add_immunosuppressant_stop()
        self._add_tests()
        self.compiler.repeatable = frozenset(c.column for c in self.choices if c.action == "repeat_test")
        self._add_lab_retests()
        self._add_judgements()
        self._add_administrative()
        self._apply_overrides()
        for choice in self.choices:
            if choice.earliest_day:
                self.model.add(self.compiler.t >= choice.earliest_day).only_enforce_if(choice.literal)
        self.changeable = set(self.compiler.overrides)
        self._node_reads = reads_by_node(trial)
        self._moves: dict[ir.Rule, bool] = {}  # per time-dependent leaf: whether it changes within the horizon
        self.compiler.fold = self._fold
        self.rails: list[Rails] = [self._criterion_rails(c) for c in self.criteria]
        self.asked: list[Rails] = [self._asked_rails(c) for c in self.manual]
        # Earliest day first, then no action unless needed: the search order of the objective.
        self.model.add_decision_strategy([self.compiler.t], cp_model.CHOOSE_FIRST, cp_model.SELECT_MIN_VALUE)
        if self.choices:
            literals = [choice.literal for choice in self.choices]
            self.model.add_decision_strategy(literals, cp_model.CHOOSE_FIRST, cp_model.SELECT_MIN_VALUE)

    def _settled(self, criterion: ir.Criterion) -> bool:
        """Whether no wait and no action can change the criterion: its screening value is its value."""
        reads, timed = criterion_reads(criterion)
        return not timed and reads.isdisjoint(self.changeable)

    def _fold(self, rule: ir.Rule) -> Rails | None:
        """A sub-rule that neither waiting nor any action of this plan changes, as screened: the evaluator has
        it for the whole cohort already, and compiling it would only fold to the same constant.

        Waiting changes no part of it when each time-dependent leaf has one value on the as-of date and on the
        horizon's last day: each is monotone in time (see ``matcher.prefilter``); a leaf on the age or a value
        estimated with it has at most two values in a horizon of at most a year (one birthday at most).
        """
        reads = self._node_reads.get(rule)
        if reads is None or not reads[0].isdisjoint(self.compiler.overrides):
            return None
        fields, timed = reads
        if timed:
            if ir.reads_ageing(fields) and self.compiler.horizon > 365:
                return None
            if any(self._moves_by_horizon(leaf) for leaf in timed):
                return None
        return _CONSTANT_RAILS[int(evaluate(rule, self.ctx)[self.row])]

    def _moves_by_horizon(self, leaf: ir.Rule) -> bool:
        """Whether a time-dependent leaf's value differs on the horizon's last day (asked once per leaf: the
        same leaf is asked again under each of the nodes above it)."""
        moves = self._moves.get(leaf)
        if moves is None:
            end = self.ctx.later(self.compiler.horizon)
            moves = self._moves[leaf] = bool(evaluate(leaf, self.ctx)[self.row] != evaluate(leaf, end)[self.row])
        return moves

    def _criterion_rails(self, criterion: ir.Criterion) -> Rails:
        if self._settled(criterion) or criterion.history_only and not criterion_reads(criterion)[1]:
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

    def _new_choice(self, **kwargs: Any) -> Choice | None:
        """A choice, unless it changes a column the trial requires unchanged."""
        if self.unchanged & set(kwargs.get("overrides", {})):
            return None
        literal = self.model.new_bool_var(f"{kwargs['action']}_{len(self.choices)}")
        choice = Choice(literal=literal, **kwargs)
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
        high_dose_since = float(self.ctx.values(columns.high_dose_since)[self.row])
        per_step = self.facts.action_burden_days["taper_step_after_failed_taper" if failed_before else "taper_step"]
        warning = "; a previous taper failed (gc_taper_failed): only if the treating physician agrees" * failed_before
        reached = []  # one taper at most: its targets write the same columns (``_apply_overrides``)
        for count, (target, day) in enumerate(taper_steps(dose, drug, self.facts, self.compiler.horizon), 1):
            reached.append(f"{target:g} mg/day from {self._day(day).isoformat()}")
            target_pe = round(target * to_prednisone, 6)
            per_kg: Value = round(target_pe / weight, 6) if np.isfinite(weight) and weight > 0 else Unknown()
            ends_course: dict[str, Value] = {}
            if np.isfinite(high_dose_since) and isinstance(per_kg, float) and per_kg < 1:
                # below 1 mg/kg/day the current high-dose course is over, and was received (review 37 m6: a taper
                # left its start date standing, and every criterion reading it failed whatever the dose)
                ends_course = {columns.high_dose_since: Never(), columns.high_dose_received: True}
            self._new_choice(
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
                    **ends_course,
                },
            )

    def _add_withheld_drugs(self) -> None:
        """A recent dose whose window the trial reads: the course goes on unless the plan withholds it.

        Continuing is modelled as a dose on the plan day; withholding keeps the recorded last dose.
        """
        leaves = timed_leaves(self.trial)
        for drug in self.facts.change.withheld_drugs:
            last = self.compiler.original(drug.column)
            if not isinstance(last, float) or not any(
                _still_acting(leaf, last, self.ctx) for leaf in leaves if leaf.field == drug.column
            ):
                continue
            # a washout counted to the infusion or the enrolment must hold then, after the plan (screening) date
            later = sorted(
                {
                    c.anchor
                    for c in self.trial.criteria
                    if c.anchor != "screening" and drug.column in ir.fields_read(cast(ir.Rule, c.rule))
                }
            )
            event = " and the ".join(later)
            besides = f" besides {drug.besides}" if drug.besides else ""
            named = self.ctx.lowered_at(drug.name_column, self.row) if drug.name_column else None
            name, more = named, named  # "give no more rituximab"
            if named in (None, "none"):  # review 43 m5: not "give no more biologic" for a name left blank
                name = f"the unnamed {drug.drug}" if drug.name_column else drug.drug
                more = f"of {name}" if drug.name_column else name
            # held until after the infusion whatever day the washout runs to: a dose between that day and the
            # infusion is not one a clinician would give before CAR-T (review 40 m5: "until after the enrolment")
            unmeasured = any(
                np.isnan(washout_days(leaf, self.facts, named)[1])
                for leaf in leaves
                if isinstance(leaf, ir.Washout) and leaf.field == drug.column
            )
            if unmeasured:  # review 42 F3b: "the earliest date is" the day after a dose read as the washout's end
                runs = "until after the infusion; with no half-life on record, its washout gives no date"
            elif later == ["infusion"]:
                runs = "until after the infusion, which the washout runs to; the earliest date is"
            elif later:
                runs = f"until after the infusion (the washout runs to the {event}); the earliest date is"
            else:
                runs = "until after the infusion; the washout runs to the earliest date"
            choice = self._new_choice(
                action=WITHHOLD,
                column=drug.column,
                before=_date_text(last),
                after=_date_text(last),
                burden=self.facts.action_burden_days["withhold_biologic"],
                lasts=True,
                note=f"give no more {more} (last dose {_date_text(last)}){besides} {runs}",
                until_event=event,
                dated=not unmeasured,
                summary=f"withholding {name}",
                overrides={},
            )
            if choice is not None:
                self._continuing[drug.column] = choice.literal

    def _add_immunosuppressant_stop(self) -> None:
        columns = self.facts.change.immunosuppressant
        start = self.ctx.values(columns.start)[self.row]
        recorded = self.ctx.lowered_at(columns.name, self.row)
        if not np.isfinite(start) and recorded in (None, "none"):  # a drug named is stopped, its start recorded or
            return  # not (review 29 M1: a blank start left a patient on mycophenolate unreachable)
        name = recorded if recorded not in (None, "none") else "immunosuppressant"
        note = f"stop {name} on {self.as_of.isoformat()}; its washout runs from then"
        overrides: dict[str, Value] = {columns.name: "none", columns.start: Never(), columns.changed: Never()}
        earlier_runs, wanted, after_earlier = self._after_earlier_stop(recorded)
        replaces = ""
        own_column = columns.own_last_dose.get(name)
        if own_column is not None:  # dated in its own column: an earlier stop's record stands, read by the criteria
            overrides[own_column] = float(self.ctx.today)
            # the criteria date the plan by a named earlier stop's washout, which the words give; an undated or
            # unnamed one they leave undecided, and what it leaves so is said after the stop and in the wait
            named_earlier = self.ctx.lowered_at(columns.stopped_name, self.row) not in (None, "none")
            note += after_earlier if earlier_runs and named_earlier else ""
            earlier_runs, wanted = 0, ()
        else:  # the stop record holds one drug: this stop replaces an earlier one, whose washout must have run
            overrides[columns.last_dose] = float(self.ctx.today)
            overrides[columns.stopped_name] = Unknown() if name == "immunosuppressant" else name
            note += after_earlier
            if earlier_runs or wanted:  # still counting: the plan's record cannot show it (review 30 M1)
                stopped = self.ctx.lowered_at(columns.stopped_name, self.row) or "an unnamed drug"
                last = float(self.ctx.values(columns.last_dose)[self.row])
                dated = f"last dose {_date_text(last)}" if np.isfinite(last) else "its last dose not dated"
                replaces = f"the stop of {stopped} ({dated})"
        self._new_choice(
            action=STOP,
            column=columns.start,
            before=_date_text(float(start)),
            after="never",
            burden=self.facts.action_burden_days[STOP],
            earliest_day=earlier_runs,
            note=note,
            summary=f"stopping {name}",
            records_wanted=wanted,
            replaces=replaces,
            overrides=overrides,
        )

    def _after_earlier_stop(self, recorded: str | None) -> tuple[int, tuple[str, ...], str]:
        """The day a stop that replaces the recorded one may hold from, the columns it wants recorded first, and
        the words that say why."""
        columns = self.facts.change.immunosuppressant
        earlier_runs = self._earlier_stop_runs()
        stopped = self.ctx.lowered_at(columns.stopped_name, self.row)
        if earlier_runs is None:  # the record it replaces has no date: the plan holds only once it has one
            earlier = f"the stop of {stopped} already recorded has" if stopped else "an earlier stop's last dose has"
            words = (
                f"; {earlier} no date: record {columns.last_dose}, as the plan cannot be dated before that washout"
                " has run"
            )
            return 0, (columns.last_dose,), words
        if not earlier_runs:
            return 0, (), ""
        words = (
            f"; not before {self._day(earlier_runs).isoformat()}, when the washout of"
            f" {stopped or 'the stopped immunosuppressant'} (last dose"
            f" {_date_text(float(self.ctx.values(columns.last_dose)[self.row]))}) has run"
        )
        if not stopped and earlier_runs > self._own_washout(recorded):  # the class's longest sets the date
            words += f" by the longest of its class: recording {columns.stopped_name} may bring it forward"
        return earlier_runs, (), words

    def _own_washout(self, drug: str | None) -> float:
        """Days the trial's washouts on the stop record run for ``drug`` stopped today (its class's longest if
        unnamed): a later wait for the earlier stop is what dates the plan (review 27 m3)."""
        last_dose = self.facts.change.immunosuppressant.last_dose
        return max(
            (
                washout_days(leaf, self.facts, drug)[1]
                for criterion in self.criteria
                for leaf, fields in criterion_washouts(criterion)
                if last_dose in fields
            ),
            default=0.0,
        )

    def _earlier_stop_runs(self) -> int | None:
        """Days from today until a stop recorded already is washed out under every washout of the trial that it
        is subject to, whatever its drug (0 if none is recorded, it is spent or exempt); None if that cannot be
        known (no date, no half-life).

        The record holds one stopped drug, which a stop of the current one replaces: the plan may not be dated
        before the earlier washout has run (review 24: stopping mycophenolate read a leflunomide stop 30 days
        back as gone, and planned enrolment inside its washout).  A washout the trial waives for the recorded
        drug does not count (review 25: NCT06920433 exempts a stopped hydroxychloroquine)."""
        columns = self.facts.change.immunosuppressant
        last_dose = float(self.ctx.values(columns.last_dose)[self.row])
        named = self.ctx.lowered_at(columns.stopped_name, self.row)
        if named == "none" or (np.isinf(last_dose) and named is None):  # no drug stopped (review 30 m2: `none`)
            return 0
        binding = [
            leaf for criterion in self.criteria for leaf in _stop_record_reaches(criterion, columns, self.ctx, self.row)
        ]
        washouts = [leaf for leaf in binding if isinstance(leaf, ir.Washout)]
        if not washouts:
            return 0 if not binding or np.isfinite(last_dose) else None
        if np.isinf(last_dose):  # a drug named as stopped, with no date: when its washout ends is not known
            return None
        longest = max(washout_days(leaf, self.facts, named)[1] for leaf in washouts)
        runs = last_dose + longest - self.ctx.today
        return None if np.isnan(runs) else max(int(np.ceil(runs)), 0)

    def _add_tests(self) -> None:
        for test in self.facts.change.tests:
            if test.applies_when and self.ctx.values(test.applies_when)[self.row] == FALSE:
                continue
            if test.ruled_out_when and self.ctx.values(test.ruled_out_when)[self.row] == TRUE:
                continue  # review 33 S2: a repeat awaiting a new result erased a positive test on record
            ruled_out = [c.reason for c in test.contraindications if self._known_to_hold(c.field, c.op, c.value)]
            if ruled_out:
                continue
            overrides: dict[str, Value] = {test.date: TestDay(test.lead_days)}
            for column, spelled in accepted_kinds(self.trial, test).items():
                overrides[column] = _spelled_value(self.ctx, column, spelled)
            overrides.update({column: Unknown() for column in test.pending})
            unchecked = [c.field for c in test.contraindications if np.isnan(self.ctx.values(c.field)[self.row])]
            check_first = f"; first check {', '.join(unchecked)} (contraindications)" if unchecked else ""
            before = _date_text(self.compiler.original(test.date))
            name = named_test(self.trial, test)
            do = f"repeat the {name}" if before not in (None, "never") else f"do the {name} (none on record)"
            if test.invasive:  # review 40 N7: the step did not say it calls for an invasive procedure
                do += " (an invasive procedure)"
            if test.lead_days:  # dated when its result is read (review 37 m1: a biopsy seemed due on enrolment day)
                do += f", in the {test.lead_days} days up to this date"
            self._new_choice(
                action="invasive_procedure" if test.invasive else "repeat_test",
                column=test.date,
                before=before,
                after="plan date",
                burden=self.facts.action_burden_days["invasive_procedure" if test.invasive else "repeat_test"],
                earliest_day=test.lead_days,
                pending=test.pending,
                note=f"{do}: {test.condition}; the result is awaited, in hand before enrolment{check_first}",
                awaits=f"the {name} result",
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
            column, value, _ = near[0]
            # every value of the draw near a limit, not the first alone: which one fails may be any of them, and
            # one estimated with the age may read otherwise on the plan's date (review 46: "creatinine 2.48 mg/dL
            # ... just below 2.5" where an eGFR of 25.33 failed)
            nearest: dict[str, float] = {}  # per column, the limit it is nearest
            for name, _, bound in sorted(near, key=lambda item: abs(item[1] - item[2])):
                nearest.setdefault(name, bound)
            said = ", ".join(
                f"{subject_near(name, self.ctx, self.row, bound)} near the trial's limit of"
                f" {shown(bound, label_and_unit(name)[1])}"
                for name, bound in nearest.items()
            )
            self._new_choice(
                action="repeat_lab",
                column=column,
                before=f"{value:g}",
                after="new result",
                burden=self.facts.action_burden_days["repeat_lab"],
                pending=tuple(lab.columns),  # one draw gives them all (creatinine: eGFR and CrCl from it)
                note=f"repeat the {lab.name}: as screened on {self.as_of.isoformat()}, {said}; result awaited",
                awaits=f"the {lab.name} result",
                summary=f"repeating the {lab.name}",
                overrides={name: Unknown() for name in lab.columns},
            )

    def _limits(self, column: str) -> list[float]:
        """The bounds the trial's rules set on ``column``."""
        return limits_by_column(self.trial).get(column, [])

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
                awaits="the investigator's answer",
                overrides={judgement.column: True},
            )

    def _known_to_hold(self, column: str, op: str, bound: float) -> bool:
        value = float(self.ctx.values(column)[self.row])
        return bool(np.isfinite(value) and OPERATORS[op](value, bound))

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
        """Each column's values under the choices, guarded so that exactly one holds: choices that write the
        same column exclude each other (a stopped cyclophosphamide is neither withheld nor continued)."""
        by_column: dict[str, list[tuple[cp_model.IntVar, Value]]] = {}
        for choice in self.choices:
            for column, value in choice.overrides.items():
                by_column.setdefault(column, []).append((choice.literal, value))
        for column in self._continuing:
            by_column.setdefault(column, [])
        writers: dict[tuple[int, ...], list[cp_model.IntVar]] = {}
        for column, changed in by_column.items():
            writing = [literal for literal, _ in changed]
            none_taken: list[Lit] = [~literal for literal in writing]
            withheld = self._continuing.get(column)
            kept = [withheld] if withheld is not None else []  # withheld: the record stands
            alternatives: Alternatives = [
                (self.compiler.conj([*none_taken, *kept, guard]), recorded)
                for guard, recorded in self.compiler.recorded(column)
            ]
            alternatives.extend(changed)
            if withheld is not None:  # not withheld: the course goes on, a dose on the plan day
                alternatives.append((self.compiler.conj([*none_taken, ~withheld]), PlanDay()))
            exclusive = writing + kept
            if len(exclusive) > 1:
                writers.setdefault(tuple(literal.index for literal in exclusive), exclusive)
            self.compiler.overrides[column] = alternatives
        for exclusive in writers.values():
            self.model.add_at_most_one(exclusive)

    def record_after(self, taken: list[Choice], day: int) -> dict[str, str]:
        """The columns the ``taken`` choices leave changed on plan day ``day``, as ``--set`` values: a repeated test
        dated that day (a biopsy the earliest day it may be done) with its result blank (awaited), a course not
        withheld dosed that day; doses derived from others are left to be derived."""
        plan_day = float(self.ctx.today + day)
        changed: dict[str, Value] = {}
        for choice in taken:
            changed.update(choice.overrides)
        chosen = {choice.literal.index for choice in taken}
        for column, withheld in self._continuing.items():
            if withheld.index not in chosen and column not in changed:
                changed[column] = PlanDay()
        return as_cells(
            {column: _recorded_day(value, plan_day) for column, value in changed.items() if column not in DERIVED_DOSES}
        )

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


def _recorded_day(value: Value, plan_day: float) -> Value:
    """A value as the record holds it after the plan: a test dated the earliest day it may be done (a biopsy in the
    days up to the plan day), a course that goes on dosed on the plan day."""
    if isinstance(value, TestDay):
        return plan_day - value.lead_days
    return plan_day if isinstance(value, PlanDay) else value


_CONSTANT_RAILS: tuple[Rails, ...] = ((False, True), (False, False), (True, False))  # by Kleene code


def ever_changeable(facts: Facts) -> set[str]:
    """Every column some what-if action may change (whoever the patient), derived doses included."""
    change = facts.change
    columns = {change.glucocorticoid.dose, change.glucocorticoid.changed, *DERIVED_DOSES}
    columns |= {drug.column for drug in change.withheld_drugs}
    columns |= change.immunosuppressant.columns
    columns |= {step.column for step in change.administrative}
    columns |= {column for lab in change.retests.labs for column in lab.columns}
    columns |= {judgement.column for judgement in change.judgements}
    for test in change.tests:
        columns |= {test.date, *test.sets, *test.pending}
    return columns


def _stop_record_reaches(
    criterion: ir.Criterion, columns: ImmunosuppressantColumns, ctx: Context, row: int
) -> list[ir.Rule]:
    """The criterion's leaves on a stop record's last dose that may decide it whatever else the row holds, given
    only the stopped drug's recorded name (review 25: NCT06920433 exempts a stopped hydroxychloroquine from the
    washout, yet its 250 days held up a plan that stopped mycophenolate)."""
    targets = {leaf for leaf, fields in criterion_leaves(criterion) if columns.last_dose in fields}
    if not targets:
        return []
    record = {columns.last_dose, columns.stopped_name}
    reads = criterion_node_fields(criterion)

    def known(node: ir.Rule) -> int | None:
        fields = reads[node]
        if fields <= {columns.stopped_name}:  # every leaf below is known
            return int(evaluate(node, ctx)[row])
        return UNKNOWN if fields.isdisjoint(record) else None

    return deciding_leaves(cast(ir.Rule, criterion.rule), targets, known)


def _still_acting(leaf: ir.Washout | ir.OccurredWithin | ir.ElapsedAtLeast, last: float, ctx: Context) -> bool:
    """Whether a dose on day ``last`` still counts for this window on the as-of date."""
    return bool(_acting(leaf, np.array([last]), ctx)[0])


def _acting(leaf: ir.Washout | ir.OccurredWithin | ir.ElapsedAtLeast, last: np.ndarray, ctx: Context) -> np.ndarray:
    """Per dose day in ``last``, whether it still counts for this window on the as-of date (False where blank)."""
    with np.errstate(invalid="ignore"):
        if isinstance(leaf, ir.Washout):
            needed = washout_days(leaf, ctx.facts, None)[1]
            return np.isfinite(last) & (bool(np.isnan(needed)) | (ctx.today - last < needed))
        window = leaf.window if isinstance(leaf, ir.OccurredWithin) else leaf.duration
        return np.isfinite(last) & (last > ctx.cutoff(window))


def withheld_rows(ctx: Context, trial: ir.Trial) -> dict[str, np.ndarray]:
    """Per withheld-drug column, the rows whose plans may withhold it, or otherwise continue it up to the plan
    day (``PlanModel._add_withheld_drugs``): a recorded last dose that a window of the trial still counts."""
    leaves = timed_leaves(trial)
    found = {}
    for drug in ctx.facts.change.withheld_drugs:
        last = ctx.values(drug.column).astype(float)
        acting = np.zeros(len(ctx), dtype=bool)
        for leaf in leaves:
            if leaf.field == drug.column:
                acting |= _acting(leaf, last, ctx)
        found[drug.column] = acting
    return found


def changeable_rows(
    ctx: Context, trial: ir.Trial, withheld: bool = True, overruled_tests: bool = False
) -> dict[str, np.ndarray]:
    """Per column some action may change, the rows where a plan for ``trial`` may change it: a superset of the
    choices ``PlanModel`` offers (its conditions read vectorized, contraindications and ``unchanged`` ignored),
    so that a prefilter reading it stays sound.  Keep in step with the ``_add_*`` methods above.  Without
    ``withheld``, the withheld-drug columns are left to ``withheld_rows``.  With ``overruled_tests``, a test a
    result on record rules out (a positive pregnancy test) still changes its date and kind, not the result: to
    rank failures, the result is the lasting one, not the test's age or kind (review 34 m-D, left over)."""
    change, rows = ctx.facts.change, len(ctx)
    found: dict[str, np.ndarray] = {}

    def may_change(columns: Any, where: np.ndarray) -> None:
        for column in columns:
            found[column] = found.get(column, np.zeros(rows, dtype=bool)) | where

    with np.errstate(invalid="ignore"):
        dose = ctx.values("prednisone_equivalent_mg_day")
        glucocorticoid = change.glucocorticoid
        on_glucocorticoid = np.isfinite(dose) & (dose > 0)
        may_change([glucocorticoid.dose, glucocorticoid.changed, *DERIVED_DOSES], on_glucocorticoid)
        course = np.isfinite(ctx.values(glucocorticoid.high_dose_since))
        may_change([glucocorticoid.high_dose_since, glucocorticoid.high_dose_received], on_glucocorticoid & course)
        for column, acting in withheld_rows(ctx, trial).items() if withheld else ():
            may_change([column], acting)
        codes, names = ctx.cohort.text_codes(change.immunosuppressant.name)
        named = (codes >= 0) & (codes != (names.index("none") if "none" in names else -1))
        may_change(change.immunosuppressant.columns, np.isfinite(ctx.values(change.immunosuppressant.start)) | named)
        for test in change.tests:
            may_change([test.date, *test.sets, *test.pending], test_may_apply(ctx, test))
            if overruled_tests:
                may_change([test.date, *test.sets], test_may_apply(ctx, test, overruled=True))
        limits = limits_by_column(trial)
        for lab in change.retests.labs:
            near = np.zeros(rows, dtype=bool)
            for column in lab.columns:
                values = ctx.values(column).astype(float)
                for limit in limits.get(column, []):
                    near |= np.abs(values - limit) <= change.retests.near_pct / 100 * abs(limit)
            may_change(lab.columns, near)
        for judgement in change.judgements:
            shown = np.zeros(rows, dtype=bool)
            for finding in judgement.when_any:
                shown |= OPERATORS[finding.op](ctx.values(finding.field).astype(float), finding.value)
            may_change([judgement.column], (ctx.values(judgement.column) == UNKNOWN) & shown)
        for step in change.administrative:
            may_change([step.column], ctx.values(step.column) != TRUE)
    return found


def test_may_apply(ctx: Context, test: RepeatableTest, overruled: bool = False) -> np.ndarray:
    """The rows a plan may repeat ``test`` for: where it is not known not to apply, and (unless ``overruled``) no
    result on record that a repeat may not overturn rules it out (``PlanModel._add_tests`` per row;
    contraindications aside)."""
    rows = ctx.values(test.applies_when) != FALSE if test.applies_when else np.ones(len(ctx), dtype=bool)
    return rows & (ctx.values(test.ruled_out_when) != TRUE) if test.ruled_out_when and not overruled else rows


def accepted_kinds(trial: ir.Trial, test: RepeatableTest) -> dict[str, str]:
    """The kind of test the trial's text asks for, per column the test sets: the first spelling every rule of the
    trial on that column accepts (a serum pregnancy test where the text wants one, not a urine test)."""
    accepted = accepted_by_column(trial)

    def first_accepted(column: str, spellings: tuple[str, ...]) -> str:
        rules = accepted.get(column, [])
        return next((s for s in spellings if all(s.lower() in values for values in rules)), spellings[-1])

    return {column: first_accepted(column, spellings) for column, spellings in test.sets.items()}


def named_test(trial: ir.Trial, test: RepeatableTest) -> str:
    """The test with the kind the trial asks for: "pregnancy test (serum)"."""
    kinds = accepted_kinds(trial, test)
    return f"{test.name} ({', '.join(kinds.values())})" if kinds else test.name


def _spelled_value(ctx: Context, column: str, spelled: str) -> Value:
    values = ctx.cohort.column(column)
    if values.dtype == np.int8:
        return spelled.lower() in ("true", "yes", "1")
    return spelled.lower()
