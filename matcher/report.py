"""``matcher report``: one self-contained HTML page a trial coordinator can open offline.

The page inlines plotly.js, its own script and its styles, so viewing it needs no network.
Charts carry aggregated data only; tables and patient sections travel as one JSON blob and
are paginated in the browser, so a 10k-patient cohort stays quick to generate and to use.
Every value from the input is escaped: by Jinja2's autoescape in the markup, by JSON with
``<``, ``>`` and ``&`` as unicode escapes inside ``<script>``, by ``textContent`` in the
browser, and as HTML entities in Plotly labels (which read a few HTML tags).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from typing import Any

import numpy as np
from jinja2 import Environment, PackageLoader
from markupsafe import Markup
from plotly.offline import get_plotlyjs

from matcher import __version__, ir
from matcher.allocation import allocate
from matcher.cohort import Cohort
from matcher.explain import reason_texts
from matcher.figures import (
    COLOURS,
    LIGHT,
    MISSING_CHART_COLUMNS,
    TIMELINE_ROWS_PER_TRIAL,
    MissingColumn,
    allocation_figure,
    calendar_figure,
    funnel_figure,
    is_planned,
    missing_figure,
    missing_ranking,
    placed_elsewhere,
    timeline_capped,
    timeline_figure,
)
from matcher.kleene import FALSE
from matcher.nearmiss import near_misses
from matcher.outcome import Allocation
from matcher.plans import Plan
from matcher.render import criterion_words
from matcher.scenario import check_slot_overrides, is_recruiting, quota_rules, status_words
from matcher.schedule import Calendar
from matcher.screening import STATUS_NAMES, Screening, TrialScreen, funnel, screen

ROSTER_PREVIEW = 12  # roster ids named in the summary table


def cohort_report(
    cohort: Cohort,
    trials: list[ir.Trial],
    as_of: dt.date,
    slots: dict[str, int],
    within: int | None,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> str:
    """Screen, plan (with ``within``) and allocate the cohort, and render the report."""
    check_slot_overrides(slots, [trial.id for trial in trials])
    screening = screen(cohort, trials, as_of)
    plans = None
    if within is not None:
        plans = near_misses(cohort, trials, as_of, within, workers, None, progress=progress)
    allocation = allocate(screening, slots, quota_rules(trials, None), plans, within)
    return render_report(screening, allocation, plans, within)


def render_report(
    screening: Screening,
    allocation: Allocation,
    plans: list[Plan] | None,
    within: int | None,
    warnings: list[str] | None = None,
    calendar: Calendar | None = None,
) -> str:
    """The report page for results the library already computed; ``warnings``: every warning of the run;
    ``calendar``: an enrolment calendar (``matcher.schedule``) to draw as a Gantt chart."""
    as_of = screening.as_of
    horizon_end = as_of + dt.timedelta(days=within) if within is not None else None
    outcome_of = {patient.patient_id: patient for patient in allocation.patients}
    placed_in = {patient.patient_id: patient.trial_id for patient in outcome_of.values() if patient.trial_id}
    missing = missing_ranking(screening)
    charts: dict[str, dict[str, Any]] = {"allocation": allocation_figure(allocation, outcome_of)}
    for result in screening.results:
        charts[f"funnel-{result.trial.id}"] = funnel_figure(result)
    if plans:
        assert horizon_end is not None  # plans come only with --within
        charts["timeline"] = timeline_figure(plans, screening, as_of, horizon_end, placed_in)
    if missing:
        charts["missing"] = missing_figure(missing)
    scheduled = sum(entry.status == "scheduled" for entry in calendar.entries) if calendar else 0
    if calendar and scheduled:
        charts["calendar"] = calendar_figure(calendar)
    tables = {
        **{
            f"lists-{trial.trial_id}": _lists_table(trial.roster, trial.waitlist, outcome_of)
            for trial in allocation.trials
        },
        "unplaced": _unplaced_table(allocation),
        "missing": _missing_table(missing, screening),
        "near-misses": _near_miss_table(plans or [], placed_in),
    }
    data = {"charts": charts, "tables": tables, "patients": _patient_data(screening, allocation, plans or [])}
    page = _environment().get_template("report.html.j2")
    return page.render(
        source=screening.cohort.source,
        as_of=as_of.isoformat(),
        within=within,
        horizon_end=horizon_end.isoformat() if horizon_end else None,
        version=__version__,
        patients=len(screening.cohort),
        invalid=len(screening.cohort.invalid),
        warnings=[*screening.cohort.warnings, *allocation.warnings] if warnings is None else warnings,
        proof=_proof(allocation),
        allocation=allocation,
        not_recruiting=_not_recruiting(allocation),
        trials=_summary_rows(screening, allocation, outcome_of),
        funnels=[_funnel_rows(result) for result in screening.results],
        near_miss_count=len(plans or []),
        calendar=calendar,
        calendar_scheduled=scheduled,
        timeline_capped=bool(plans) and timeline_capped(plans or []),
        timeline_rows_per_trial=TIMELINE_ROWS_PER_TRIAL,
        missing_chart_columns=MISSING_CHART_COLUMNS,
        missing_count=len(missing),
        status_names=STATUS_NAMES,
        colours=COLOURS,
        light=LIGHT,
        data=data,
        style=Markup(_asset("report.css")),
        script=Markup(_script_safe(_asset("report.js"))),
        plotly=Markup(_script_safe(get_plotlyjs())),
    )


def _environment() -> Environment:
    environment = Environment(loader=PackageLoader("matcher", "templates"), autoescape=True)
    environment.policies["json.dumps_kwargs"] = {"separators": (",", ":"), "sort_keys": False}
    environment.filters["noun"] = _noun
    return environment


def _noun(count: int, singular: str) -> str:
    """The noun to follow ``count``: row for 1, rows for any other number."""
    return singular if count == 1 else singular + "s"


def _asset(name: str) -> str:
    return (resources.files("matcher") / "templates" / name).read_text(encoding="utf-8")


def _script_safe(code: str) -> str:
    """Inline code cannot end its <script> early: ``<\\/`` and ``\\x3C`` read the same in strings and regexes."""
    return code.replace("</", "<\\/").replace("<!--", "\\x3C!--")


def _not_recruiting(allocation: Allocation) -> dict[str, str]:
    """The status of each trial not recruiting now, in words, by trial id."""
    return {t.trial_id: status_words(t.recruitment) for t in allocation.trials if not is_recruiting(t.recruitment)}


def _proof(allocation: Allocation) -> str:
    if allocation.proven_optimal:
        return "optimal (proven by CP-SAT)"
    return f"{allocation.solver_status.lower()}, not proven optimal: gap {allocation.gap:.2%} to the bound"


@dataclass(frozen=True)
class _TrialRow:
    trial_id: str
    title: str
    slots: int
    counts: dict[str, int]
    filled_now: int
    filled_planned: int
    waitlist: int
    roster_preview: list[str]
    roster_more: int
    manual: list[str]


def _summary_rows(screening: Screening, allocation: Allocation, outcome_of: dict[str, Any]) -> list[_TrialRow]:
    rows = []
    for result, outcome in zip(screening.results, allocation.trials, strict=True):
        planned = sum(is_planned(outcome_of[pid], screening.as_of) for pid in outcome.roster)
        rows.append(
            _TrialRow(
                outcome.trial_id,
                result.trial.title,
                outcome.slots,
                result.counts(),
                len(outcome.roster) - planned,
                planned,
                len(outcome.waitlist),
                outcome.roster[:ROSTER_PREVIEW],
                max(0, len(outcome.roster) - ROSTER_PREVIEW),
                [criterion_words(criterion) for criterion in result.manual],
            )
        )
    return rows


def _funnel_rows(result: TrialScreen) -> dict[str, Any]:
    return {
        "trial_id": result.trial.id,
        "steps": [
            {
                "criterion_id": step.criterion.id,
                "remaining": step.remaining,
                "failed_here": step.failed_here,
                "undecided_here": step.undecided_here,
                "words": criterion_words(step.criterion),
                "quote": step.criterion.quote,
            }
            for step in funnel(result)
        ],
    }


def _table(columns: list[tuple[str, str]], rows: list[list[Any]], sort: int | None = None) -> dict[str, Any]:
    """A client-side table: columns as (label, kind) with kind text/number/date/patient."""
    return {"columns": [{"label": label, "kind": kind} for label, kind in columns], "rows": rows, "sort": sort}


def _lists_table(roster: list[str], waitlist: list[str], outcome_of: dict[str, Any]) -> dict[str, Any]:
    rows: list[list[Any]] = []
    for pid in roster:
        outcome = outcome_of[pid]
        planned = outcome.planned_date.isoformat() if outcome.planned_date else None
        until = outcome.eligible_until.isoformat() if outcome.eligible_until else "open"
        rows.append(["roster", None, pid, planned, until, outcome.reason, "; ".join(outcome.actions)])
    for rank, pid in enumerate(waitlist, 1):
        rows.append(["waitlist", rank, pid, None, None, outcome_of[pid].reason, ""])
    columns = [
        ("list", "text"),
        ("waitlist rank", "number"),
        ("patient", "patient"),
        ("planned date", "date"),
        ("eligible until", "date"),
        ("reason", "text"),
        ("actions", "text"),
    ]
    return _table(columns, rows)


def _unplaced_table(allocation: Allocation) -> dict[str, Any]:
    rows = [[p.patient_id, p.status, p.reason] for p in allocation.patients if p.status in ("unplaced", "invalid")]
    return _table([("patient", "patient"), ("status", "text"), ("reason", "text")], rows)


def _missing_table(missing: list[MissingColumn], screening: Screening) -> dict[str, Any]:
    columns = [("column", "text"), ("needed for (pairs)", "number"), ("settles alone (pairs)", "number")]
    columns += [(result.trial.id, "number") for result in screening.results]
    rows = [[m.column, m.needed, m.alone, *m.per_trial] for m in missing]
    return _table(columns, rows, sort=1)


def _near_miss_table(plans: list[Plan], placed_in: dict[str, str]) -> dict[str, Any]:
    columns = [
        ("patient", "patient"),
        ("trial", "text"),
        ("now", "text"),
        ("eligible from", "date"),
        ("until", "date"),
        ("at the plan", "text"),
        ("actions", "text"),
        ("burden (days)", "number"),
        ("placed in another trial", "text"),
    ]
    rows = [
        [
            p.patient_id,
            p.trial_id,
            p.status_now,
            p.earliest_date.isoformat() if p.earliest_date else None,
            p.eligible_until.isoformat() if p.eligible_until else "open",
            p.status_at_plan,
            "; ".join(a.text for a in p.actions) or "wait",
            p.burden,
            placed_elsewhere(p, placed_in),
        ]
        for p in plans
    ]
    return _table(columns, rows, sort=3)


def _row_indexes(matrix: np.ndarray, labels: np.ndarray) -> list[list[int]]:
    """For an (n rows x m) boolean matrix, each row's true positions as labels (like screen.row_lists, for ints)."""
    rows, cols = np.nonzero(matrix)
    parts = np.split(labels[cols], np.searchsorted(rows, np.arange(1, matrix.shape[0])))
    return [part.tolist() for part in parts]


def _reason_indexes(result: TrialScreen, failing: np.ndarray, texts: list[str]) -> list[list[int]]:
    """Per patient, for each criterion they fail (in trial order), an index into ``texts`` (extended here) of
    the reason in words."""
    index = np.full(failing.shape, -1, dtype=np.int64)
    if result.context is not None:
        for column in np.flatnonzero(failing.any(axis=0)).tolist():
            rows = np.flatnonzero(failing[:, column])
            codes, sentences = reason_texts(result.criteria[column], result.context, rows)
            index[rows, column] = codes + len(texts)
            texts += sentences
        result.context.forget_nodes()
    rows, _ = np.nonzero(failing)  # row-major, so each row's criteria in trial order
    parts = np.split(index[failing], np.searchsorted(rows, np.arange(1, failing.shape[0])))
    return [part.tolist() for part in parts]


def _patient_data(screening: Screening, allocation: Allocation, plans: list[Plan]) -> dict[str, Any]:
    """Per patient, compact: verdict codes, failed criteria and missing columns as indexes into shared lists.

    A patient's entry per trial is the bare status code when there is nothing more to say, else
    ``[code, failed criterion indexes, missing column indexes, plan index or -1, reason indexes]``, the last
    giving, for each failed criterion, the patient's reason in words.
    """
    criteria: list[list[str]] = []
    column_index: dict[str, int] = {}
    texts: list[str] = []
    per_trial = []
    for result in screening.results:
        offset = len(criteria)
        criteria += [[c.id, criterion_words(c), c.quote] for c in result.criteria]
        for column in result.missing_columns:
            column_index.setdefault(column, len(column_index))
        failing = result.holds == FALSE
        failed = _row_indexes(failing, np.arange(offset, offset + len(result.criteria)))
        missing = _row_indexes(result.missing, np.asarray([column_index[c] for c in result.missing_columns], dtype=int))
        per_trial.append((result.status.tolist(), failed, missing, _reason_indexes(result, failing, texts)))
    trial_position = {result.trial.id: index for index, result in enumerate(screening.results)}
    plan_rows: list[list[Any]] = []
    plan_of: dict[tuple[str, int], int] = {}
    for p in plans:
        plan_of[(p.patient_id, trial_position[p.trial_id])] = len(plan_rows)
        plan_rows.append(
            [
                p.earliest_date.isoformat() if p.earliest_date else None,
                p.eligible_until.isoformat() if p.eligible_until else None,
                p.status_at_plan,
                [a.text for a in p.actions],
            ]
        )
    invalid = STATUS_NAMES.index("invalid")
    rows = []
    for row, outcome in enumerate(allocation.patients):
        entries: list[Any] = []
        for position, (status, failed, missing, words) in enumerate(per_trial):
            plan_index = plan_of.get((outcome.patient_id, position), -1)
            code = status[row]
            if code == invalid or (not failed[row] and not missing[row] and plan_index < 0):
                entries.append(code)
            else:
                entries.append([code, failed[row], missing[row], plan_index, words[row]])
        rows.append(
            [
                outcome.patient_id,
                outcome.status,
                outcome.trial_id,
                outcome.planned_date.isoformat() if outcome.planned_date else None,
                outcome.reason,
                outcome.actions,
                entries,
            ]
        )
    return {
        "trials": [result.trial.id for result in screening.results],
        "statuses": list(STATUS_NAMES),
        "criteria": criteria,
        "columns": list(column_index),
        "reasons": texts,
        "plans": plan_rows,
        "rows": rows,
    }
