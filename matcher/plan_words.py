"""A plan in words: what it waits for, what it leaves undecided on its date and the columns to measure then.

The planner (``matcher.planning``) finds the plan; these read the patient alone on the plan's date, with the
record as the plan's steps leave it, and say what a clinician needs to act on it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from functools import cached_property
from typing import cast

import numpy as np

from matcher import ir
from matcher.actions import STOP, WITHHOLD, Choice
from matcher.context import Context
from matcher.cpsat import birthday_offsets
from matcher.evaluate import criterion_holds, criterion_undecided_columns, deciding_leaves, evaluate
from matcher.explain import reasons, statement
from matcher.findings import Finding, finding, washout_over
from matcher.kleene import FALSE, UNKNOWN
from matcher.plans import Action, Alternative
from matcher.rescreening import with_changes
from matcher.rule_reads import criterion_leaves, criterion_node_fields, criterion_reads, criterion_washouts

_UNDECIDED_THEN = "undecided then: "  # a wait's words for what a plan's date leaves undecided


class PatientOnDay:
    """Patient ``row`` of ``ctx`` alone, seen on ``day`` (a plan's date): derived once, and only if asked, for
    the words of what stays undecided then and the columns to measure."""

    def __init__(self, ctx: Context, row: int, day: dt.date) -> None:
        self.ctx, self.row, self.day = ctx, row, day

    @cached_property
    def context(self) -> Context:
        return Context(self.ctx.cohort.take([self.row]), self.day, self.ctx.facts)


def waits(
    ctx: Context,
    trial: ir.Trial,
    row: int,
    solution: Alternative,
    changeable: set[str],
    on_day: PatientOnDay | None = None,
) -> list[Action]:
    """Waiting as actions: each window or washout that keeps the patient out today and has run out by the
    plan's date (a plan dated after today always lists what it waits for); for a plan that makes the patient
    eligible, those of the criteria undecided today too, and a birthday from which one holds; for a plan that
    ends undecided, what leaves it so, a washout whose end hangs on the drug's name with its range.

    The reasons are read at the patient's row of ``ctx``, which keeps each rule's values for every patient once
    evaluated: over the plans of a scan, cheaper than deriving a context of the patient alone for each."""
    today = solution.earliest_date <= ctx.as_of
    if today and not solution.actions:
        return []  # no change: nothing to wait for
    failing = [c for c in trial.criteria if not c.is_manual and criterion_holds(c, ctx)[row] == FALSE]
    spans = _waited_for(ctx, trial, row, solution, failing) if not today else []
    found: dict[tuple[str, dt.date], Action] = {}
    for column, until, wait in spans:
        if until <= solution.earliest_date:
            found.setdefault(
                (column, until), Action("wait", column, None, None, ctx.as_of, until, wait, 0, f"waiting for {wait}")
            )
    waited = sorted(found.values(), key=lambda action: (action.until or action.date, action.column))
    since = solution.earliest_date.isoformat()
    if solution.status_at_plan == "eligible":
        if today or found or solution.actions:
            return waited
        note = f"the criteria are met from {since}"
    else:  # undecided then (a drug not named, a value to record): the date is the earliest it may be so
        still = _still_undecided(ctx, trial, row, solution, changeable, on_day, {c.id for c in failing})
        if not still and (found or solution.actions):
            return waited
        parts = [part for text in still for part in text.split("; ")]  # two criteria may read the same test
        then = "; ".join(dict.fromkeys(parts))  # what stays so, not a washout ended (review 42 F3b)
        note = f"no criterion fails from {since}" + (f"; {_UNDECIDED_THEN}{then}" if then else "")
    return [*waited, Action("wait", "", None, None, ctx.as_of, solution.earliest_date, note, 0, "waiting")]


_Span = tuple[str, dt.date, str]  # a wait: the column it reads, the day it runs to, what it is for in words


def _waited_for(
    ctx: Context, trial: ir.Trial, row: int, solution: Alternative, failing: list[ir.Criterion]
) -> list[_Span]:
    """What a plan dated after today waits for: the windows and washouts of the criteria ``failing`` today that its
    steps leave as recorded; for a plan that makes the patient eligible, those of the criteria undecided today
    too; and each birthday by its date from which one of them holds on the age."""
    changed = {action.column for action in solution.actions}
    spans = [
        span
        for criterion in failing
        for item in reasons(criterion, ctx, np.array([row]))[0].findings
        if (span := _span(item)) is not None and span[0] not in changed
    ]
    undecided = []
    if solution.status_at_plan == "eligible":  # every criterion holds then, the undecided today too
        undecided = [c for c in trial.criteria if not c.is_manual and criterion_holds(c, ctx)[row] == UNKNOWN]
        spans += _run_out_for_undecided(ctx, row, undecided, solution)
    return spans + _birthdays(ctx, row, [*failing, *undecided], solution.earliest_date)


def _span(item: Finding) -> _Span | None:
    if item.wait is None or item.date is None:
        return None
    return ir.fields_read(item.rule)[0], item.date, item.wait


def _run_out_for_undecided(ctx: Context, row: int, undecided: list[ir.Criterion], solution: Alternative) -> list[_Span]:
    """What a plan that makes the patient eligible waits for among the ``undecided`` criteria (today's): each
    window or washout that runs out after today, by the plan's date, where it may decide its criterion (review 46
    F4: waiting for the 3-month window after a dialysis, the end-stage renal disease flag blank, or for the
    washout of an anti-CD20 antibody whichever it was, was said only as "the criteria are met from" the date).
    Columns the plan's steps record otherwise are not read; a withheld drug's are."""
    recorded, by = _recorded_by_steps(solution), solution.earliest_date
    spans: list[_Span] = []
    for criterion in undecided:
        running: dict[ir.Rule, _Span] = {}
        for leaf, fields in criterion_leaves(criterion):
            if not isinstance(leaf, ir.TIMED_LEAVES) or not fields.isdisjoint(recorded):
                continue
            item = finding(leaf, int(evaluate(leaf, ctx)[row]), ctx, row)
            span = _span(item)
            if isinstance(leaf, ir.Washout) and item.verdict == UNKNOWN and (over := washout_over(leaf, ctx, row)):
                span = (leaf.field, *over)
            if span is not None and ctx.as_of < span[1] <= by:
                running[leaf] = span
        if running:
            spans += [running[leaf] for leaf in _deciding(criterion, set(running), recorded, ctx, row)]
    return spans


AGE_ESTIMATED = "estimated from the age in years"


def age_estimated(ctx: Context, row: int) -> bool:
    """Whether the patient's birthdays are counted from the age in years, no birth date being recorded."""
    return not np.isfinite(ctx.cohort.column("birth_date")[row])


def _birthdays(ctx: Context, row: int, criteria: list[ir.Criterion], by: dt.date) -> list[_Span]:
    """Each birthday after today, by ``by``, from which one of ``criteria`` (not met today) is nearer to holding
    where a leaf on the age, or on an estimate made with it, reads otherwise than the day before (review 46 F4: the
    18th birthday from which the eGFR needs no blank height; review 47 F1: not a birthday that changes nothing,
    such as a recorded CrCl's).  One counted from the age in years is said to be estimated."""
    age = float(ctx.values("age")[row])
    ageing = [(c, leaf) for c in criteria for leaf, fields in criterion_leaves(c) if ir.reads_ageing(fields)]
    if not ageing or not np.isfinite(age):
        return []
    estimated = f" ({AGE_ESTIMATED})" if age_estimated(ctx, row) else ""
    spans: list[_Span] = []
    for count, offset in enumerate(birthday_offsets(ctx, row, (by - ctx.as_of).days), 1):
        day = ctx.as_of + dt.timedelta(days=offset)
        before, on = (PatientOnDay(ctx, row, when).context for when in (day - dt.timedelta(days=1), day))
        if any(
            evaluate(leaf, on)[0] != evaluate(leaf, before)[0]
            and evaluate(statement(c), on)[0] > evaluate(statement(c), before)[0]
            for c, leaf in ageing
        ):
            years = int(age) + count
            suffix = "th" if 10 <= years % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(years % 10, "th")
            spans.append(("age", day, f"the {years}{suffix} birthday on {day.isoformat()}{estimated}"))
    return spans


def _still_undecided(
    ctx: Context,
    trial: ir.Trial,
    row: int,
    solution: Alternative,
    changeable: set[str],
    on_day: PatientOnDay | None,
    failing: set[str],
) -> list[str]:
    """The reasons on the plan's date of what leaves a plan undecided that no step of it records otherwise: a
    criterion failing today, and each washout whose end hangs on the drug's name, a range the plan's date may
    fall inside (reviews 22-24).  A withheld drug's record stands (its last dose is the one recorded), so its
    washout is read too."""
    recorded = _recorded_by_steps(solution)
    criteria = [c for c in trial.criteria if not c.is_manual]
    untouched = [c for c in criteria if not criterion_reads(c)[0] & recorded]
    on_plan_date = on_day or PatientOnDay(ctx, row, solution.earliest_date)
    reported = [c for c in untouched if c.id in failing or _renewed_by_then(c, on_plan_date)]
    still = _undecided_at(on_plan_date, reported)
    unreported = [c for c in criteria if c.id not in {r.id for r in reported}]
    ranges = washout_ranges(on_plan_date, unreported, solution, changeable)
    return list(dict.fromkeys([*still, *(item.text for item in ranges)]))


def after_steps(ctx: Context, row: int, changes: dict[str, str], on_day: PatientOnDay) -> Context:
    """The patient alone on the plan's date, with the record as the plan's steps leave it (results awaited blank).
    What a plan leaves undecided is read there: on the record before the steps, a value a step replaces may decide
    a criterion the step leaves open (review 26 S1, review 27 S1: a stop, where the current drug decided the
    criterion that holds every washout; a repeated biopsy, where the old class decided a criterion that then
    reads the proteinuria)."""
    if not changes:
        return on_day.context
    return Context(with_changes(ctx.cohort, row, changes), on_day.day, ctx.facts)


def missing_after_steps(after: Context, undecided: list[ir.Criterion], stop: Choice | None) -> list[str]:
    """The columns to measure or record on the record as the steps leave it; a drug a stop records unnamed is
    asked for as the current drug, its name."""
    missing = _missing_columns(after, undecided)
    columns = after.facts.change.immunosuppressant
    if stop is None or columns.stopped_name not in stop.overrides:
        return missing
    return [columns.name if column == columns.stopped_name else column for column in missing]


def left_by_stop(after: Context, stop: Choice, undecided: list[ir.Criterion]) -> list[str]:
    """The reasons of what the criteria a stop touches leave undecided, on the record as the steps leave it."""
    touched = [c for c in undecided if criterion_reads(c)[0] & stop.overrides.keys()]
    said = _undecided_at_context(after, touched)
    columns = after.facts.change.immunosuppressant
    if columns.stopped_name not in stop.overrides:  # the stop record is an earlier stop's, as recorded
        return said
    return [text.replace(f"record {columns.stopped_name}", f"record {columns.name}, the drug stopped") for text in said]


def with_words_after_stop(actions: list[Action], said: list[str], kept: bool) -> list[Action]:
    """The plan's words, with what the stop's record leaves undecided said after the stop's own step, each clause
    once: a reason repeats a finding, and a wait may say it already.  A stop that keeps an earlier stop's record
    (``kept``: it dates its own column) did not cause what that record leaves open (review 29 m3)."""
    waited = {
        clause.removeprefix(_UNDECIDED_THEN)
        for action in actions
        if action.action == "wait"
        for clause in action.note.split("; ")
    }
    clauses = dict.fromkeys(clause for text in said for clause in text.split("; ") if clause not in waited)
    if not clauses:
        return actions
    words = ("the earlier stop on record stands: " if kept else "after the stop, ") + "; ".join(clauses)
    return [replace(action, note=f"{action.note}; {words}") if action.action == STOP else action for action in actions]


def _recorded_by_steps(solution: Alternative) -> set[str]:
    """The columns a plan's steps record otherwise; a withheld drug's record stands (no more doses given).  A stop
    writes the current drug's columns and either the stop record (waiting for the washout of the one it replaces;
    review 25: a stopped hydroxychloroquine, exempt, was then read as a washout of unknown half-life) or the drug's
    own last dose (review 27 M1: cyclophosphamide)."""
    return {action.column for action in solution.actions if action.action != WITHHOLD} | solution.stop_writes


def _renewed_by_then(criterion: ir.Criterion, on_day: PatientOnDay) -> bool:
    """Whether the criterion is undecided on the plan's date for want of a routine test done then (renewable:
    older than its window, or never done), which the plan's words must say (review 24 m2: NCT06983964 ended
    unknown on a stale pregnancy test with no word of it)."""
    routine = {test.date for test in on_day.context.facts.change.tests if not test.invasive}
    if not criterion_reads(criterion)[0] & routine:
        return False
    alone, rows = on_day.context, np.ones(1, dtype=bool)
    undecided = criterion_undecided_columns(criterion, alone, rows)
    return any(undecided[column][0] for column in routine & undecided.keys())


def _undecided_at(on_day: PatientOnDay, criteria: list[ir.Criterion]) -> list[str]:
    """The reasons, on the day and with nothing changed, of those ``criteria`` that are undecided then."""
    return _undecided_at_context(on_day.context, criteria) if criteria else []


def _undecided_at_context(alone: Context, criteria: list[ir.Criterion]) -> list[str]:
    """The reasons of those ``criteria`` that are undecided for the patient alone."""
    at = np.zeros(1, dtype=np.intp)
    return [reasons(c, alone, at)[0].text for c in criteria if criterion_holds(c, alone)[0] == UNKNOWN]


def washout_ranges(
    on_day: PatientOnDay, criteria: list[ir.Criterion], solution: Alternative, changeable: set[str]
) -> list[Finding]:
    """Each washout of ``criteria`` undecided on the day for want of a record (the drug's name, which leaves its
    end a range or unknown, or the last dose), read on columns no step of the plan records otherwise (one
    criterion may hold every washout of a trial, and a step another); a withheld drug's record stands.  A washout
    its criterion waives for this patient is not one (review 26 M1: NCT06920433 and NCT06821659 exempt a stopped
    hydroxychloroquine, yet its blank last dose was asked for); what any action of the plan's model may change
    (``changeable``) is read as unknown there."""
    recorded = _recorded_by_steps(solution)
    alone = on_day.context
    leaves: dict[ir.Rule, None] = {}
    for criterion in criteria:
        undecided: set[ir.Rule] = {
            leaf
            for leaf, fields in criterion_washouts(criterion)
            if fields.isdisjoint(recorded) and evaluate(leaf, alone)[0] == UNKNOWN
        }
        if undecided:
            leaves.update(dict.fromkeys(_deciding(criterion, undecided, recorded | changeable, alone, 0)))
    found = []
    for leaf in leaves:
        if (item := finding(leaf, UNKNOWN, alone, 0)).date or item.measure:
            found.append(item)
    return found


def _deciding(
    criterion: ir.Criterion, leaves: set[ir.Rule], changing: set[str], ctx: Context, row: int
) -> list[ir.Rule]:
    """Those of ``leaves``, read as unknown, that may decide the criterion for patient ``row`` of ``ctx``, the
    columns a plan may change read as unknown too."""
    reads = criterion_node_fields(criterion)
    targets = {field for leaf in leaves for field in reads[leaf]}

    def known(node: ir.Rule) -> int | None:
        fields = reads[node]
        if not fields.isdisjoint(changing) or (ir.children(node) and not fields.isdisjoint(targets)):
            return None  # read by its parts (equal to its code where the targets are undecided now)
        return int(evaluate(node, ctx)[row])

    return deciding_leaves(cast(ir.Rule, criterion.rule), leaves, known)


def _missing_columns(alone: Context, undecided: list[ir.Criterion]) -> list[str]:
    """The blank columns that leave the ``undecided`` criteria so for the patient alone on the plan's date:
    measured then, a routine test that has aged out by then is to be done again too."""
    rows = np.ones(1, dtype=bool)
    names: set[str] = set()
    for criterion in undecided:
        names |= {column for column, mask in criterion_undecided_columns(criterion, alone, rows).items() if mask[0]}
    return sorted(names)
