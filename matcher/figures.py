"""The report's charts as Plotly figure dicts: funnels, the allocation, the near-miss timeline, missing data.

Charts carry aggregated data only; every value from the input reaches Plotly as HTML entities (``label``), since
Plotly reads a few HTML tags in its labels.
"""

from __future__ import annotations

import datetime as dt
import html
import json
from dataclasses import dataclass
from typing import Any

import numpy as np
import plotly.graph_objects as go

from matcher.outcome import Allocation
from matcher.plans import Plan
from matcher.render import criterion_words, short_id
from matcher.schedule import Calendar, Entry
from matcher.screening import STATUS_NAMES, UNDECIDED, Screening, TrialScreen, funnel

TIMELINE_ROWS_PER_TRIAL = 40  # near misses drawn per trial lane; the table below the chart lists them all


MISSING_CHART_COLUMNS = 20  # columns drawn in the missing-data chart; the table lists them all


_DAY_MS = 86_400_000


COLOURS = {
    "eligible": "#2e7d32",
    "planned": "#00897b",
    "open": "#cfd8dc",
    "waitlist": "#ef6c00",
    "unknown": "#f9a825",
    "ineligible": "#c62828",
    "invalid": "#8e24aa",
    "elsewhere": "#90a4ae",  # a near miss the allocation placed in another trial
}


LIGHT = {"eligible": "#a5d6a7", "unknown": "#ffe082", "elsewhere": "#eceff1"}  # timeline bars, carry dark labels


def _label(text: object) -> str:
    """Text for a Plotly label: Plotly reads a few HTML tags and decodes entities, so encode them."""
    return html.escape(str(text), quote=False)


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


def funnel_figure(result: TrialScreen) -> dict[str, Any]:
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


def allocation_figure(allocation: Allocation, outcome_of: dict[str, Any]) -> dict[str, Any]:
    trial_ids = [trial.trial_id for trial in allocation.trials]
    planned = [sum(is_planned(outcome_of[pid], allocation.as_of) for pid in t.roster) for t in allocation.trials]
    now = [len(t.roster) - p for t, p in zip(allocation.trials, planned, strict=True)]
    open_slots = [t.slots - len(t.roster) for t in allocation.trials]
    segments = (
        ("enrolled, eligible now", now, COLOURS["eligible"]),
        ("enrolled on a what-if plan", planned, COLOURS["planned"]),
        ("open slots", open_slots, COLOURS["open"]),
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
            "font": {"color": COLOURS["waitlist"]},
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


def timeline_capped(plans: list[Plan]) -> bool:
    per_trial: dict[str, int] = {}
    for p in plans:
        per_trial[p.trial_id] = per_trial.get(p.trial_id, 0) + 1
    return max(per_trial.values()) > TIMELINE_ROWS_PER_TRIAL


def timeline_figure(
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
    elsewhere = [placed_elsewhere(p, placed_in) for _, p in shown]
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
                "color": [LIGHT[kind] for kind in kinds],
                "line": {"width": 1, "color": [COLOURS[kind] for kind in kinds]},
            },
            customdata=[
                [
                    _label(p.patient_id),
                    p.trial_id,
                    start.isoformat(),
                    p.eligible_until.isoformat() if p.eligible_until else f"{horizon_end.isoformat()} (open)",
                    "<br>".join(_label(a.text) for a in p.actions) or "wait",
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


def placed_elsewhere(p: Plan, placed_in: dict[str, str]) -> str | None:
    """The trial the allocation placed the plan's patient in, when it is another one."""
    trial = placed_in.get(p.patient_id)
    return trial if trial and trial != p.trial_id else None


def _action_summary(p: Plan) -> str:
    if not p.actions:
        return "wait"
    return "; ".join(action.note for action in p.actions)


@dataclass(frozen=True)
class MissingColumn:
    column: str
    needed: int  # unknown patient x trial pairs that need this column measured
    alone: int  # of those, pairs where it is the only column missing
    per_trial: list[int]


def missing_ranking(screening: Screening) -> list[MissingColumn]:
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
        MissingColumn(column, int(counts.sum()), alone[column], counts.tolist())
        for column, counts in needed.items()
        if counts.sum()
    ]
    return sorted(ranked, key=lambda m: (-m.needed, -m.alone, m.column))


def missing_figure(missing: list[MissingColumn]) -> dict[str, Any]:
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
            marker={"color": COLOURS["eligible"]},
            hovertemplate="%{y}: settles %{x} pair(s) alone<extra></extra>",
        )
    )
    figure.add_trace(
        go.Bar(
            name="needed, with other columns",
            y=columns,
            x=[m.needed - m.alone for m in top],
            orientation="h",
            marker={"color": COLOURS["unknown"]},
            hovertemplate="%{y}: needed for %{x} more pair(s), with other columns<extra></extra>",
        )
    )
    return _figure_dict(figure)


def is_planned(outcome: Any, as_of: dt.date) -> bool:
    """Placed on a what-if plan rather than eligible today."""
    return bool(outcome.actions) or (outcome.planned_date is not None and outcome.planned_date != as_of)


def calendar_figure(calendar: Calendar) -> dict[str, Any]:
    """The enrolment calendar as a Gantt chart: one row per cohort (per trial for a fixed design), a bar from its
    first to its last infusion, a lighter bar for the DLT window after it, and a mark per infusion."""
    groups: dict[tuple[str, int | None], list[Entry]] = {}
    for entry in calendar.entries:
        if entry.status == "scheduled" and entry.trial_id and entry.planned_date:
            groups.setdefault((entry.trial_id, entry.cohort), []).append(entry)
    design_of = {path.trial_id: path.enrollment for path in calendar.paths}
    order = {path.trial_id: index for index, path in enumerate(calendar.paths)}
    keys = sorted(groups, key=lambda key: (order[key[0]], key[1] or 0))
    ticks, bars, marks = [], [], []
    for row, key in enumerate(keys):
        trial_id, number = key
        members = sorted(groups[key], key=lambda e: (e.planned_date or calendar.as_of, e.patient_id))
        level = members[0].dose_level
        ticks.append(f"<b>{trial_id}</b> · " + (f"cohort {number}, level {level}" if number else "fixed"))
        first, last = members[0].planned_date, members[-1].planned_date
        assert first is not None and last is not None  # scheduled entries have dates
        bars.append((row, first, last + dt.timedelta(days=1), COLOURS["planned"], "infusions"))
        design = design_of[trial_id]
        if number is not None and design.dlt_days:
            end = last + dt.timedelta(days=1 + design.dlt_days)
            bars.append((row, last + dt.timedelta(days=1), end, COLOURS["open"], "DLT window"))
        marks += [(row, e) for e in members]
    horizon_end = calendar.as_of + dt.timedelta(days=calendar.horizon)
    traces = [
        go.Bar(
            orientation="h",
            y=[row for row, *_ in bars],
            base=[start.isoformat() for _, start, *_ in bars],
            x=[(end - start).days * _DAY_MS for _, start, end, *_ in bars],
            width=0.6,
            marker={"color": [colour for *_, colour, _ in bars]},
            customdata=[
                [ticks[row], what, start.isoformat(), (end - dt.timedelta(days=1)).isoformat()]
                for row, start, end, _, what in bars
            ],
            hovertemplate="%{customdata[0]}: %{customdata[1]} %{customdata[2]} to %{customdata[3]}<extra></extra>",
        ),
        go.Scatter(
            mode="markers",
            y=[row for row, _ in marks],
            x=[str(e.planned_date) for _, e in marks],
            marker={"symbol": "diamond", "size": 9, "color": "#1f2933"},
            customdata=[[_label(e.patient_id), e.reason and _label(e.reason)] for _, e in marks],
            hovertemplate="<b>%{customdata[0]}</b> %{x}<br>%{customdata[1]}<extra></extra>",
        ),
    ]
    figure = go.Figure(
        traces,
        layout=_layout(
            100 + 28 * len(ticks),
            barmode="overlay",
            xaxis={"type": "date", "side": "top", "range": [calendar.as_of.isoformat(), horizon_end.isoformat()]},
            yaxis={
                "range": [len(ticks) - 0.5, -0.5],
                "tickmode": "array",
                "tickvals": list(range(len(ticks))),
                "ticktext": ticks,
                "showgrid": False,
                "zeroline": False,
            },
            showlegend=False,
            shapes=[_date_line(calendar.as_of, "#455a64"), _date_line(horizon_end, "#ef6c00")],
            annotations=[_date_note(calendar.as_of, "as of"), _date_note(horizon_end, "horizon end")],
            margin={"l": 10, "r": 20, "t": 60, "b": 30},
        ),
    )
    return _figure_dict(figure)
