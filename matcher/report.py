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
import html
import json
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from typing import Any

import numpy as np
import plotly.graph_objects as go
from jinja2 import Environment, PackageLoader
from markupsafe import Markup
from plotly.offline import get_plotlyjs

from matcher import __version__, ir
from matcher.allocate import allocate
from matcher.cohort import Cohort
from matcher.kleene import FALSE
from matcher.nearmiss import near_misses
from matcher.outcome import Allocation
from matcher.plans import Plan
from matcher.render import criterion_words, short_id
from matcher.scenario import check_slot_overrides, is_recruiting, quota_rules, status_words
from matcher.screen import STATUS_NAMES, UNDECIDED, Screening, TrialScreen, funnel, screen

TIMELINE_ROWS_PER_TRIAL = 40  # near misses drawn per trial lane; the table below the chart lists them all
MISSING_CHART_COLUMNS = 20  # columns drawn in the missing-data chart; the table lists them all
ROSTER_PREVIEW = 12  # roster ids named in the summary table
_DAY_MS = 86_400_000
_COLOURS = {
    "eligible": "#2e7d32",
    "planned": "#00897b",
    "open": "#cfd8dc",
    "waitlist": "#ef6c00",
    "unknown": "#f9a825",
    "ineligible": "#c62828",
    "invalid": "#8e24aa",
    "elsewhere": "#90a4ae",  # a near miss the allocation placed in another trial
}
_LIGHT = {"eligible": "#a5d6a7", "unknown": "#ffe082", "elsewhere": "#eceff1"}  # timeline bars, carry dark labels


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
) -> str:
    """The report page for results the library already computed; ``warnings``: every warning of the run."""
    as_of = screening.as_of
    horizon_end = as_of + dt.timedelta(days=within) if within is not None else None
    outcome_of = {patient.patient_id: patient for patient in allocation.patients}
    placed_in = {patient.patient_id: patient.trial_id for patient in outcome_of.values() if patient.trial_id}
    missing = _missing_ranking(screening)
    charts: dict[str, dict[str, Any]] = {"allocation": _allocation_figure(allocation, outcome_of)}
    for result in screening.results:
        charts[f"funnel-{result.trial.id}"] = _funnel_figure(result)
    if plans:
        assert horizon_end is not None  # plans come only with --within
        charts["timeline"] = _timeline_figure(plans, screening, as_of, horizon_end, placed_in)
    if missing:
        charts["missing"] = _missing_figure(missing)
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
        timeline_capped=bool(plans) and _timeline_capped(plans or []),
        timeline_rows_per_trial=TIMELINE_ROWS_PER_TRIAL,
        missing_chart_columns=MISSING_CHART_COLUMNS,
        missing_count=len(missing),
        status_names=STATUS_NAMES,
        colours=_COLOURS,
        light=_LIGHT,
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


def _label(text: object) -> str:
    """Text for a Plotly label: Plotly reads a few HTML tags and decodes entities, so encode them."""
    return html.escape(str(text), quote=False)


def _not_recruiting(allocation: Allocation) -> dict[str, str]:
    """The status of each trial not recruiting now, in words, by trial id."""
    return {t.trial_id: status_words(t.recruitment) for t in allocation.trials if not is_recruiting(t.recruitment)}


def _proof(allocation: Allocation) -> str:
    if allocation.proven_optimal:
        return "optimal (proven by CP-SAT)"
    return f"{allocation.solver_status.lower()}, not proven optimal: gap {allocation.gap:.2%} to the bound"


def _planned(outcome: Any, as_of: dt.date) -> bool:
    """Placed on a what-if plan rather than eligible today."""
    return bool(outcome.actions) or (outcome.planned_date is not None and outcome.planned_date != as_of)


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
        planned = sum(_planned(outcome_of[pid], screening.as_of) for pid in outcome.roster)
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


def _figure_dict(figure: go.Figure) -> dict[str, Any]:
    """A plain dict of the validated figure, for the page's JSON blob."""
    document: dict[str, Any] = json.loads(figure.to_json())
    return document


def _layout(height: int, **extra: Any) -> dict[str, Any]:
    return {
        "template": "plotly_white",
        "height": height,
        "margin": {"l": 10, "r": 20, "t": 30, "b": 40},
        "font": {"family": "system-ui, -apple-system, 'Segoe UI', sans-serif", "size": 12},
        **extra,
    }


def _funnel_figure(result: TrialScreen) -> dict[str, Any]:
    steps = funnel(result)
    valid = int((result.status != STATUS_NAMES.index("invalid")).sum())
    labels = ["screened"] + [f"{index}. {short_id(step.criterion.id)}" for index, step in enumerate(steps, 1)]
    hover = ["valid rows screened"] + [
        f"<b>{_label(step.criterion.id)}</b><br>{_wrap(_label(criterion_words(step.criterion)))}"
        f"<br>failed here: {step.failed_here}; undecided here: {step.undecided_here}"
        for step in steps
    ]
    figure = go.Figure(
        go.Funnel(
            y=labels,
            x=[valid] + [step.remaining for step in steps],
            customdata=hover,
            hovertemplate="%{customdata}<br>remaining: %{x}<extra></extra>",
            textinfo="value",
            textposition="outside",
            cliponaxis=False,
            marker={"color": "#1565c0"},
            connector={"fillcolor": "#e3f2fd"},
        ),
        layout=_layout(
            50 + 15 * len(labels), yaxis={"tickfont": {"size": 10}}, margin={"l": 10, "r": 50, "t": 30, "b": 10}
        ),
    )
    return _figure_dict(figure)


def _wrap(text: str, width: int = 90) -> str:
    """Break long hover text into lines (Plotly does not wrap)."""
    lines: list[str] = []
    for word in text.split(" "):
        if lines and len(lines[-1]) + len(word) < width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return "<br>".join(lines)


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


def _allocation_figure(allocation: Allocation, outcome_of: dict[str, Any]) -> dict[str, Any]:
    trial_ids = [trial.trial_id for trial in allocation.trials]
    planned = [sum(_planned(outcome_of[pid], allocation.as_of) for pid in t.roster) for t in allocation.trials]
    now = [len(t.roster) - p for t, p in zip(allocation.trials, planned, strict=True)]
    open_slots = [t.slots - len(t.roster) for t in allocation.trials]
    segments = (
        ("enrolled, eligible now", now, _COLOURS["eligible"]),
        ("enrolled on a what-if plan", planned, _COLOURS["planned"]),
        ("open slots", open_slots, _COLOURS["open"]),
    )
    # The bars are the slots (filled against capacity); the waitlist, which may run to thousands, is a number
    # beside each bar, so a long one cannot shrink the slots to a sliver.
    waitlists = [
        {
            "x": t.slots,
            "y": t.trial_id,
            "xref": "x",
            "yref": "y",
            "xanchor": "left",
            "xshift": 6,
            "showarrow": False,
            "text": f"waitlist {len(t.waitlist):,}",
            "font": {"color": _COLOURS["waitlist"]},
        }
        for t in allocation.trials
    ]
    figure = go.Figure(
        layout=_layout(
            90 + 48 * len(trial_ids),
            barmode="stack",
            yaxis={"autorange": "reversed"},
            legend={"orientation": "h", "y": -0.25, "traceorder": "normal"},
            xaxis={"title": {"text": "slots"}},
            annotations=waitlists,
            margin={"l": 10, "r": 120, "t": 30, "b": 40},
        )
    )
    for name, counts, colour in segments:
        figure.add_trace(
            go.Bar(
                name=name,
                y=trial_ids,
                x=counts,
                orientation="h",
                text=[count or "" for count in counts],
                textposition="inside",
                marker={"color": colour},
                hovertemplate=f"%{{y}}: %{{x}} {name}<extra></extra>",
            )
        )
    return _figure_dict(figure)


def _timeline_capped(plans: list[Plan]) -> bool:
    per_trial: dict[str, int] = {}
    for p in plans:
        per_trial[p.trial_id] = per_trial.get(p.trial_id, 0) + 1
    return max(per_trial.values()) > TIMELINE_ROWS_PER_TRIAL


def _timeline_figure(
    plans: list[Plan], screening: Screening, as_of: dt.date, horizon_end: dt.date, placed_in: dict[str, str]
) -> dict[str, Any]:
    """Windows of eligibility: one lane per trial (headed by its id), one row per patient in it, earliest first.

    Rows sit on a numeric axis with their own tick labels, since Plotly's multicategory axis
    orders the patients of every lane by their first appearance in any lane.  A patient the
    allocation placed in another trial is greyed and labelled with it: not a candidate here.
    """
    order = {result.trial.id: index for index, result in enumerate(screening.results)}
    ranked = sorted(plans, key=lambda p: (order[p.trial_id], p.earliest_date or as_of, p.patient_id))
    ticks: list[str] = []
    lanes: list[tuple[str, int, int]] = []  # trial, first row, last row
    shown: list[tuple[int, Plan]] = []
    for p in ranked:
        if not lanes or lanes[-1][0] != p.trial_id:
            ticks.append(f"<b>{p.trial_id}</b>")
            lanes.append((p.trial_id, len(ticks) - 1, len(ticks) - 1))
        if lanes[-1][2] - lanes[-1][1] < TIMELINE_ROWS_PER_TRIAL:
            ticks.append(_label(p.patient_id))
            shown.append((len(ticks) - 1, p))
            lanes[-1] = (p.trial_id, lanes[-1][1], len(ticks) - 1)
    lane_shapes = [
        {
            "type": "rect",
            "xref": "paper",
            "x0": 0,
            "x1": 1,
            "yref": "y",
            "y0": first - 0.5,
            "y1": last + 0.5,
            "fillcolor": "#f1f5f9" if index % 2 == 0 else "#ffffff",
            "line": {"width": 0},
            "layer": "below",
        }
        for index, (_, first, last) in enumerate(lanes)
    ]
    starts = [p.earliest_date or as_of for _, p in shown]
    ends = [(p.eligible_until or horizon_end) + dt.timedelta(days=1) for _, p in shown]
    elsewhere = [_placed_elsewhere(p, placed_in) for _, p in shown]
    kinds = [
        "elsewhere" if other else "unknown" if p.status_at_plan == "unknown" else "eligible"
        for (_, p), other in zip(shown, elsewhere, strict=True)
    ]
    figure = go.Figure(
        go.Bar(
            orientation="h",
            y=[row for row, _ in shown],
            base=[start.isoformat() for start in starts],
            x=[(end - start).days * _DAY_MS for start, end in zip(starts, ends, strict=True)],
            width=0.7,
            text=[
                _label(f"placed in {other} · " if other else "") + _label(_action_summary(p))
                for (_, p), other in zip(shown, elsewhere, strict=True)
            ],
            textposition="inside",  # from the bar's start, full size, running past a short bar on the light lane
            insidetextanchor="start",
            constraintext="none",
            insidetextfont={"color": "#1f2933", "size": 11},
            cliponaxis=False,
            marker={
                "color": [_LIGHT[kind] for kind in kinds],
                "line": {"width": 1, "color": [_COLOURS[kind] for kind in kinds]},
            },
            customdata=[
                [
                    _label(p.patient_id),
                    p.trial_id,
                    start.isoformat(),
                    p.eligible_until.isoformat() if p.eligible_until else f"{horizon_end.isoformat()} (open)",
                    "<br>".join(_label(f"{a.date.isoformat()}: {a.note}") for a in p.actions) or "wait",
                    (f"placed in {other}; " if other else "")
                    + ("unknown until measured" if p.status_at_plan == "unknown" else "eligible"),
                ]
                for (_, p), start, other in zip(shown, starts, elsewhere, strict=True)
            ],
            hovertemplate="<b>%{customdata[0]}</b> · %{customdata[1]}: %{customdata[5]}"
            "<br>from %{customdata[2]} until %{customdata[3]}<br>%{customdata[4]}<extra></extra>",
        ),
        layout=_layout(
            80 + 22 * len(ticks),
            xaxis={
                "type": "date",
                "side": "top",
                "range": [(as_of - dt.timedelta(days=1)).isoformat(), (horizon_end + dt.timedelta(days=2)).isoformat()],
            },
            yaxis={
                "range": [len(ticks) - 0.5, -0.5],
                "tickmode": "array",
                "tickvals": list(range(len(ticks))),
                "ticktext": ticks,
                "tickfont": {"size": 11},
                "showgrid": False,
                "zeroline": False,
            },
            showlegend=False,
            shapes=[*lane_shapes, _date_line(as_of, "#455a64"), _date_line(horizon_end, "#ef6c00")],
            annotations=[_date_note(as_of, "as of"), _date_note(horizon_end, "horizon end")],
            margin={"l": 10, "r": 20, "t": 60, "b": 30},
        ),
    )
    return _figure_dict(figure)


def _date_line(day: dt.date, colour: str) -> dict[str, Any]:
    return {
        "type": "line",
        "xref": "x",
        "yref": "paper",
        "x0": day.isoformat(),
        "x1": day.isoformat(),
        "y0": 0,
        "y1": 1,
        "line": {"color": colour, "dash": "dot", "width": 1},
    }


def _date_note(day: dt.date, text: str) -> dict[str, Any]:
    return {
        "x": day.isoformat(),
        "xref": "x",
        "y": 0,
        "yref": "paper",
        "yanchor": "top",
        "text": text,
        "showarrow": False,
        "font": {"size": 10},
    }


def _placed_elsewhere(p: Plan, placed_in: dict[str, str]) -> str | None:
    """The trial the allocation placed the plan's patient in, when it is another one."""
    trial = placed_in.get(p.patient_id)
    return trial if trial and trial != p.trial_id else None


def _action_summary(p: Plan) -> str:
    if not p.actions:
        return "wait"
    return "; ".join(action.note for action in p.actions)


@dataclass(frozen=True)
class _MissingColumn:
    column: str
    needed: int  # unknown patient x trial pairs that need this column measured
    alone: int  # of those, pairs where it is the only column missing
    per_trial: list[int]


def _missing_ranking(screening: Screening) -> list[_MissingColumn]:
    """Columns ranked by the unknown patient x trial pairs their measurement would help settle."""
    needed: dict[str, np.ndarray] = {}
    alone: dict[str, int] = {}
    trials = len(screening.results)
    for index, result in enumerate(screening.results):
        undecided = result.status == UNDECIDED
        matrix = result.missing & undecided[:, None]
        single = matrix.sum(axis=1) == 1
        for position, column in enumerate(result.missing_columns):
            needed.setdefault(column, np.zeros(trials, dtype=np.int64))[index] = int(matrix[:, position].sum())
            alone[column] = alone.get(column, 0) + int((matrix[:, position] & single).sum())
    ranked = [
        _MissingColumn(column, int(counts.sum()), alone[column], counts.tolist())
        for column, counts in needed.items()
        if counts.sum()
    ]
    return sorted(ranked, key=lambda m: (-m.needed, -m.alone, m.column))


def _missing_figure(missing: list[_MissingColumn]) -> dict[str, Any]:
    top = missing[:MISSING_CHART_COLUMNS]
    columns = [_label(m.column) for m in top]
    figure = go.Figure(
        layout=_layout(
            90 + 24 * len(top),
            barmode="stack",
            yaxis={"autorange": "reversed"},
            legend={"orientation": "h", "y": 1.0, "yanchor": "bottom", "traceorder": "normal"},
            xaxis={"title": {"text": "unknown patient × trial pairs"}},
            margin={"l": 10, "r": 20, "t": 50, "b": 50},
        )
    )
    figure.add_trace(
        go.Bar(
            name="settled by this column alone",
            y=columns,
            x=[m.alone for m in top],
            orientation="h",
            marker={"color": _COLOURS["eligible"]},
            hovertemplate="%{y}: settles %{x} pair(s) alone<extra></extra>",
        )
    )
    figure.add_trace(
        go.Bar(
            name="needed, with other columns",
            y=columns,
            x=[m.needed - m.alone for m in top],
            orientation="h",
            marker={"color": _COLOURS["unknown"]},
            hovertemplate="%{y}: needed for %{x} more pair(s), with other columns<extra></extra>",
        )
    )
    return _figure_dict(figure)


def _table(columns: list[tuple[str, str]], rows: list[list[Any]], sort: int | None = None) -> dict[str, Any]:
    """A client-side table: columns as (label, kind) with kind text/number/date/patient."""
    return {"columns": [{"label": label, "kind": kind} for label, kind in columns], "rows": rows, "sort": sort}


def _lists_table(roster: list[str], waitlist: list[str], outcome_of: dict[str, Any]) -> dict[str, Any]:
    rows: list[list[Any]] = []
    for pid in roster:
        outcome = outcome_of[pid]
        planned = outcome.planned_date.isoformat() if outcome.planned_date else None
        rows.append(["roster", None, pid, planned, outcome.reason, "; ".join(outcome.actions)])
    for rank, pid in enumerate(waitlist, 1):
        rows.append(["waitlist", rank, pid, None, outcome_of[pid].reason, ""])
    columns = [
        ("list", "text"),
        ("waitlist rank", "number"),
        ("patient", "patient"),
        ("planned date", "date"),
        ("reason", "text"),
        ("actions", "text"),
    ]
    return _table(columns, rows)


def _unplaced_table(allocation: Allocation) -> dict[str, Any]:
    rows = [[p.patient_id, p.status, p.reason] for p in allocation.patients if p.status in ("unplaced", "invalid")]
    return _table([("patient", "patient"), ("status", "text"), ("reason", "text")], rows)


def _missing_table(missing: list[_MissingColumn], screening: Screening) -> dict[str, Any]:
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
            "; ".join(f"{a.date.isoformat()}: {a.note}" for a in p.actions) or "wait",
            p.burden,
            _placed_elsewhere(p, placed_in),
        ]
        for p in plans
    ]
    return _table(columns, rows, sort=3)


def _row_indexes(matrix: np.ndarray, labels: np.ndarray) -> list[list[int]]:
    """For an (n rows x m) boolean matrix, each row's true positions as labels (like screen.row_lists, for ints)."""
    rows, cols = np.nonzero(matrix)
    parts = np.split(labels[cols], np.searchsorted(rows, np.arange(1, matrix.shape[0])))
    return [part.tolist() for part in parts]


def _patient_data(screening: Screening, allocation: Allocation, plans: list[Plan]) -> dict[str, Any]:
    """Per patient, compact: verdict codes, failed criteria and missing columns as indexes into shared lists.

    A patient's entry per trial is the bare status code when there is nothing more to say,
    else ``[code, failed criterion indexes, missing column indexes, plan index or -1]``.
    """
    criteria: list[list[str]] = []
    column_index: dict[str, int] = {}
    per_trial = []
    for result in screening.results:
        offset = len(criteria)
        criteria += [[c.id, criterion_words(c), c.quote] for c in result.criteria]
        for column in result.missing_columns:
            column_index.setdefault(column, len(column_index))
        failed = _row_indexes(result.holds == FALSE, np.arange(offset, offset + len(result.criteria)))
        missing = _row_indexes(result.missing, np.asarray([column_index[c] for c in result.missing_columns], dtype=int))
        per_trial.append((result.status.tolist(), failed, missing))
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
                [f"{a.date.isoformat()}: {a.note}" for a in p.actions],
            ]
        )
    invalid = STATUS_NAMES.index("invalid")
    rows = []
    for row, outcome in enumerate(allocation.patients):
        entries: list[Any] = []
        for position, (status, failed, missing) in enumerate(per_trial):
            plan_index = plan_of.get((outcome.patient_id, position), -1)
            code = status[row]
            if code == invalid or (not failed[row] and not missing[row] and plan_index < 0):
                entries.append(code)
            else:
                entries.append([code, failed[row], missing[row], plan_index])
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
        "plans": plan_rows,
        "rows": rows,
    }
