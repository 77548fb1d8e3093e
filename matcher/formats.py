"""Screening results as CSV, JSON and rich tables."""

from __future__ import annotations

import datetime as dt
import io
import json
import shlex
from collections.abc import Iterator
from typing import Any, cast

import numpy as np
import pyarrow as pa
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from matcher.outcome import Allocation
from matcher.output import (
    ROWS_PER_CHUNK,
    CsvChunks,
    coded_text,
    csv_chunks,
    csv_text,
    joined_rows,
    row_ranges,
    text_array,
)
from matcher.plans import Action, Plan
from matcher.render import criterion_words
from matcher.scenario import is_recruiting, status_words
from matcher.schedule import Calendar, Entry
from matcher.screening import STATUS_NAMES, Screening, TrialScreen, funnel
from matcher.validate import reason_text

SCREEN_COLUMNS = ("patient_id", "trial_id", "status", "failed", "missing", "undecided", "manual", "reason")
_STYLE = {"eligible": "green", "ineligible": "red", "unknown": "yellow", "invalid": "magenta"}


def reason_codes(result: TrialScreen, invalid: dict[int, Any]) -> tuple[np.ndarray, list[str]]:
    """Per patient, the reason in words (an index into the texts): the first failing or undecided criterion for
    a screened row, what could not be read for an invalid one, "" for an eligible one."""
    codes, texts = result.first_reasons()
    texts = [*texts, ""]
    codes = np.where(codes < 0, len(texts) - 1, codes)
    for row, problems in invalid.items():
        codes[row] = len(texts)
        texts.append(reason_text(problems))
    return codes, texts


def screen_records(screening: Screening, with_reasons: bool = False) -> Iterator[dict[str, Any]]:
    """One record per patient and trial, patients in input order, trials in the order asked.

    ``with_reasons``: each record also carries every reason object (criterion, verdict, findings, words).
    """
    per_trial = []
    invalid = screening.cohort.invalid
    everyone = np.arange(len(screening.cohort))
    for result in screening.results:
        per_trial.append(
            (
                result,
                result.failed_lists(),
                result.undecided_lists(),
                result.missing_lists(),
                result.manual_lists(),
                reason_codes(result, invalid),
                result.reasons_of(everyone) if with_reasons else {},
            )
        )
    for row, patient_id in enumerate(screening.cohort.ids):
        for result, failed, undecided, missing, manual, (codes, texts), objects in per_trial:
            status = STATUS_NAMES[result.status[row]]
            valid = status != "invalid"
            record = {
                "patient_id": patient_id,
                "trial_id": result.trial.id,
                "status": status,
                "failed": failed[row] if valid else [],
                "missing": missing[row] if valid else [],
                "undecided": undecided[row] if valid else [],
                "manual": manual[row],
                "reason": texts[codes[row]],
            }
            if with_reasons and result.context is not None:  # the values are at hand (not a distributed screen)
                record["reasons"] = [reason.as_dict() for reason in objects.get(row, [])]
            yield record


def screen_batches(screening: Screening) -> Iterator[dict[str, pa.Array]]:
    """One row per patient and trial (patients in input order), built column-wise in Arrow, batch by batch."""
    n, trials = len(screening.cohort), len(screening.results)
    valid = screening.cohort.valid_mask()
    ids = text_array(screening.cohort.ids)
    columns: dict[str, list[pa.Array]] = {name: [] for name in SCREEN_COLUMNS}
    for result in screening.results:
        criterion_ids = result.criterion_ids
        columns["patient_id"].append(ids)
        columns["trial_id"].append(coded_text(np.zeros(n), [result.trial.id]))
        columns["status"].append(coded_text(result.status, list(STATUS_NAMES)))
        columns["failed"].append(joined_rows((result.holds == 0) & valid[:, None], criterion_ids))
        columns["missing"].append(joined_rows(result.missing & valid[:, None], result.missing_columns))
        columns["undecided"].append(joined_rows((result.holds == 1) & valid[:, None], criterion_ids))
        columns["manual"].append(joined_rows(result.manual_applies, [c.id for c in result.manual]))
        columns["reason"].append(coded_text(*reason_codes(result, screening.cohort.invalid)))
    if not trials:
        return
    for start, stop in row_ranges(n, max(1, ROWS_PER_CHUNK // trials)):
        # Trial-major parts, read out patient-major: row r of trial t sits at t * rows + r.
        rows = stop - start
        patient_major = pa.array((np.arange(trials) * rows + np.arange(rows)[:, None]).reshape(-1))
        yield {
            name: pa.concat_arrays([text_array(part.slice(start, rows)) for part in parts]).take(patient_major)
            for name, parts in columns.items()
        }


def screen_csv(screening: Screening) -> CsvChunks:
    """The screening as CSV, chunk by chunk (``screen_batches``, made spreadsheet-safe)."""
    return csv_chunks(SCREEN_COLUMNS, screen_batches(screening))


def funnel_records(result: TrialScreen) -> list[dict[str, Any]]:
    return [
        {
            "step": index + 1,
            "criterion_id": step.criterion.id,
            "remaining": step.remaining,
            "undecided_here": step.undecided_here,
            "failed_here": step.failed_here,
            "text": criterion_words(step.criterion),
        }
        for index, step in enumerate(funnel(result))
    ]


def funnel_csv(screening: Screening) -> str:
    header = ("trial_id", "step", "criterion_id", "remaining", "undecided_here", "failed_here", "text")
    rows = ([result.trial.id, *record.values()] for result in screening.results for record in funnel_records(result))
    return csv_text(header, rows)


def screen_json(screening: Screening, with_funnel: bool, warnings: list[str] | None = None) -> str:
    """The screening as JSON; ``warnings``: every warning of the run (default: the cohort's own)."""
    trials = []
    for result in screening.results:
        entry: dict[str, Any] = {
            "trial_id": result.trial.id,
            "slots": result.trial.slots,
            "counts": result.counts(),
            "manual_checks": [{"id": c.id, "question": criterion_words(c)} for c in result.manual],
        }
        if with_funnel:
            entry["funnel"] = funnel_records(result)
        trials.append(entry)
    document = {
        "as_of": screening.as_of.isoformat(),
        "cohort": screening.cohort.source,
        "patients": len(screening.cohort),
        "warnings": screening.cohort.warnings if warnings is None else warnings,
        "trials": trials,
        "results": list(screen_records(screening, with_reasons=True)),
    }
    return json.dumps(document, indent=2, default=str) + "\n"


TABLE_ROWS = 200  # rows a table shows before it names the format that holds them all


def _more_rows(console: Console, hidden: int, what: str, formats: str) -> None:
    """The notice under a shortened table."""
    if hidden > 0:
        console.print(f"({hidden} more {what}: use --format {formats} for all)")


def print_screen_table(screening: Screening, console: Console, with_funnel: bool, max_rows: int = TABLE_ROWS) -> None:
    summary = Table(title=f"Screening of {screening.cohort.source} as of {screening.as_of.isoformat()}")
    summary.add_column("trial")
    summary.add_column("slots", justify="right")
    for name in STATUS_NAMES:
        summary.add_column(name, justify="right", style=_STYLE[name])
    for result in screening.results:
        counts = result.counts()
        summary.add_row(result.trial.id, str(result.trial.slots), *(str(counts[name]) for name in STATUS_NAMES))
    console.print(summary)

    patients = Table(title="Per patient (the first reason, and how many more)")
    patients.add_column("patient_id", no_wrap=True)
    for result in screening.results:
        patients.add_column(result.trial.id, min_width=11)
    records = list(screen_records(screening))
    per_patient = len(screening.results)
    shown = min(len(screening.cohort), max_rows)
    for start in range(0, shown * per_patient, per_patient):
        group = records[start : start + per_patient]
        cells = [_cell(record) for record in group]
        patients.add_row(escape(str(group[0]["patient_id"])), *cells)
    console.print(patients)
    _more_rows(console, len(screening.cohort) - shown, "patients", "csv or json")
    if screening.cohort.invalid:
        invalid = Table(title="Invalid rows (not screened)")
        invalid.add_column("patient_id", no_wrap=True)
        invalid.add_column("reason")
        for row, problems in list(screening.cohort.invalid.items())[:max_rows]:
            invalid.add_row(escape(str(screening.cohort.ids[row])), escape(reason_text(problems)))
        console.print(invalid)
        if len(screening.cohort.invalid) > max_rows:
            console.print(f"({len(screening.cohort.invalid) - max_rows} more invalid rows: use --format csv or json)")
    if with_funnel:
        for result in screening.results:
            table = Table(title=f"Attrition funnel: {result.trial.id}")
            for column in ("step", "criterion", "remaining", "undecided here", "failed here", "requirement"):
                table.add_column(column)
            for record in funnel_records(result):
                table.add_row(
                    str(record["step"]),
                    record["criterion_id"],
                    str(record["remaining"]),
                    str(record["undecided_here"]),
                    str(record["failed_here"]),
                    record["text"],
                )
            console.print(table)
    for warning in screening.cohort.warnings:
        console.print(f"[yellow]warning:[/yellow] {escape(warning)}")


def _cell(record: dict[str, Any]) -> str:
    """The status, then why: the first failing (else undecided) criterion in words."""
    status = record["status"]
    style = _STYLE[status]
    detail = f": {record['reason']}" if record["reason"] and status != "invalid" else ""
    return f"[{style}]{status}[/{style}]{escape(detail)}"


def plans_json(plans: list[Plan], as_of: dt.date, warnings: list[str] | None = None) -> str:
    """The plans as JSON, with every warning of the run."""
    document = {"as_of": as_of.isoformat(), "warnings": warnings or [], "plans": [p.as_dict() for p in plans]}
    return json.dumps(document, indent=2) + "\n"


def plans_table(plans: list[Plan], as_of: dt.date) -> str:
    console = Console(record=True, width=160, file=io.StringIO())
    table = Table(title=f"What-if plans from {as_of.isoformat()}")
    for column in (
        "patient",
        "trial",
        "now",
        "reachable",
        "earliest",
        "until",
        "at plan",
        "actions",
        "blocking / measure",
    ):
        table.add_column(column)
    for p in plans[:TABLE_ROWS]:
        actions = "; ".join(a.text for a in p.actions)
        why = "; ".join(p.blocking_words) if p.blocking else _measure(p.missing)
        if p.beyond_horizon and p.beyond_horizon_date:
            why = _beyond_horizon(p, p.beyond_horizon_date)
        table.add_row(
            escape(p.patient_id),
            p.trial_id,
            p.status_now,
            "yes" if p.reachable else "no",
            p.earliest_date.isoformat() if p.earliest_date else "-",
            _until(p),
            p.status_at_plan or "-",
            escape(actions) + (f" (burden {p.burden} days)" if p.burden else ""),
            why,
        )
    console.print(table)
    if not plans:
        console.print("no plans")
    for p in plans[:TABLE_ROWS]:
        for line in plan_footnotes(p, as_of):
            console.print(escape(f"{p.patient_id} {p.trial_id}: {line}"))
    _more_rows(console, len(plans) - TABLE_ROWS, "plans", "json")
    return console.export_text()


def _until(p: Plan) -> str:
    if p.eligible_until is None:
        return "open" if p.reachable else "-"
    if not p.renewed_by:
        return p.eligible_until.isoformat()
    tests = " and the ".join(renewal.test for renewal in p.renewed_by)
    return f"{p.eligible_until.isoformat()} (renewable: repeat the {tests})"


def plan_footnotes(p: Plan, as_of: dt.date) -> list[str]:
    """What a plan leaves open: its less burdensome alternatives, results to wait for, questions to ask; and how
    to re-screen its record on its date."""
    lines = []
    for other in p.alternatives:  # its steps beside the plan's, both ways (review 45: an added step went unsaid)
        added, dropped = _steps_not_in(other.actions, p.actions), _steps_not_in(p.actions, other.actions)
        with_ = f" with {', '.join(added)}" if added else ""
        without = f" without {', '.join(dropped)}" if dropped else ""
        waited = _waits_not_in(other.actions, p.actions)  # why its date works (review 46 F4)
        by = f", waiting for {' and '.join(waited)}" if waited else ""
        when = f"{other.status_at_plan} {other.earliest_date.isoformat()}"
        lines.append(f"or: {when}{with_}{without}{by} (burden {other.burden} days)")
    if p.pending:
        lines.append(f"pending results: {', '.join(p.pending)}")
    lines += [f"manual check: {question}" for question in p.manual_checks]
    if p.reachable and p.status_now != "eligible" and p.anchors:
        by_event: dict[str, list[str]] = {}
        for criterion_id, event in p.anchors.items():
            by_event.setdefault(event, []).append(criterion_id.removeprefix(f"{p.trial_id}."))
        later = "; ".join(f"to the {event}: {', '.join(ids)}" for event, ids in by_event.items())
        lines.append(f"dates are screening dates; these windows run to a later event and must hold then too: {later}")
    if p.reachable and p.earliest_date is not None and p.status_now != "eligible":
        lines.append(_rescreen_line(p, as_of))
    return lines


def _waits_not_in(actions: list[Action], others: list[Action]) -> list[str]:
    """The windows and washouts ``actions`` wait for (each names its column) that ``others`` does not, in words."""
    waited = {(a.column, a.until) for a in others if a.action == "wait"}
    return [a.note for a in actions if a.action == "wait" and a.column and (a.column, a.until) not in waited]


def _steps_not_in(actions: list[Action], others: list[Action]) -> list[str]:
    """The steps of ``actions`` (waits are dates, not steps) that ``others`` does not take, in words."""
    taken = {(a.action, a.column) for a in others}
    return [a.summary for a in actions if a.action != "wait" and (a.action, a.column) not in taken]


def _rescreen_line(p: Plan, as_of: dt.date) -> str:
    """The command that re-screens the plan's record on its date, or why the record cannot carry the plan."""
    if p.replaced_stop:
        return (
            f"the plan's record cannot be re-screened as --set values: the record holds one stopped drug, and its"
            f" stop writes over {p.replaced_stop}, whose washout the plan's date counts"
        )
    sets = " ".join(f"--set {shlex.quote(f'{column}={value}')}" for column, value in p.changes.items())
    wait = (cast(dt.date, p.earliest_date) - as_of).days
    assumed = [f"{column}={value}" for column, value in p.changes.items() if column in p.pending and value]
    answers = f" (it takes the answers awaited as hoped: {', '.join(assumed)})" if assumed else ""
    return (
        f"re-screen the plan's record: matcher whatif COHORT --as-of {as_of.isoformat()} --trials {p.trial_id}"
        f" --patient {shlex.quote(p.patient_id)} {sets} --wait {wait}".replace("  ", " ")
        + answers
    )


def _beyond_horizon(p: Plan, since: dt.date) -> str:
    """A plan only a longer wait reaches: met then, or only no longer failing (review 42 F3a: a washout of unknown
    length was "met from" the day after the dose)."""
    if p.beyond_horizon_status == "eligible":
        return f"beyond the horizon: met from {since.isoformat()} by waiting"
    measure = _measure(p.beyond_horizon_missing)
    return f"beyond the horizon: by waiting, no criterion fails from {since.isoformat()}; still undecided then" + (
        f": {measure}" if measure else ""
    )


def _measure(columns: list[str], shown: int = 4) -> str:
    if not columns:
        return ""
    more = f" +{len(columns) - shown} more" if len(columns) > shown else ""
    return "measure " + ", ".join(columns[:shown]) + more


def rescreen_table(screening: Screening, changes: dict[str, str]) -> str:
    console = Console(record=True, width=160, file=io.StringIO())
    changed = ", ".join(f"{column}={value}" for column, value in changes.items()) or "no column changes"
    table = Table(title=f"Re-screened on {screening.as_of.isoformat()} with {escape(changed)}")
    for column in ("patient", "trial", "status", "failed", "measure"):
        table.add_column(column)
    for record in screen_records(screening):
        table.add_row(
            escape(str(record["patient_id"])),
            record["trial_id"],
            record["status"],
            ", ".join(record["failed"]),
            ", ".join(record["missing"]),
        )
    console.print(table)
    return console.export_text()


ALLOCATION_COLUMNS = ("patient_id", "trial_id", "status", "planned_date", "eligible_until", "reason", "actions")


def allocation_batches(result: Allocation) -> Iterator[dict[str, Any]]:
    """One row per input patient, batch by batch."""
    columns = result.columns
    actions = np.full(len(columns.patient_id), None, dtype=object)
    for row, listed in columns.actions.items():
        actions[row] = " | ".join(listed)
    for start, stop in row_ranges(len(columns.patient_id)):
        yield {
            "patient_id": columns.patient_id[start:stop],
            "trial_id": columns.trial_id[start:stop],
            "status": columns.status[start:stop],
            "planned_date": columns.planned_date[start:stop],
            "eligible_until": columns.eligible_until[start:stop],
            "reason": columns.reason.arrow(start, stop),
            "actions": actions[start:stop],
        }


def allocation_csv(result: Allocation) -> CsvChunks:
    return csv_chunks(ALLOCATION_COLUMNS, allocation_batches(result))


def allocation_json(result: Allocation, warnings: list[str] | None = None) -> str:
    """The allocation as JSON; ``warnings``: every warning of the run (default: the allocation's own)."""
    document = result.as_dict()
    if warnings is not None:
        document["warnings"] = warnings
    return json.dumps(document, indent=2) + "\n"


def _listed(ids: list[str], shown: int) -> str:
    return ", ".join(ids[:shown]) + (f" +{len(ids) - shown}" if len(ids) > shown else "")


def allocation_table(result: Allocation) -> str:
    """Proof, slots per trial (with each trial not recruiting said so) and the first patients not placed.

    Only the rows shown are turned into outcomes, so a large cohort's table costs what it prints.
    """
    console = Console(record=True, width=160, file=io.StringIO())
    proof = "optimal (proven)" if result.proven_optimal else f"{result.solver_status}, gap {result.gap:.2%}"
    console.print(
        f"Allocation as of {result.as_of.isoformat()}: {proof}; objective {result.objective}, bound {result.bound}; "
        f"{result.levels['enrolled']} enrolled; {result.reduced_candidates} of {result.candidates} candidate pairs "
        "needed after reduction"
    )
    summary = Table(title="Slots per trial")
    for column in ("trial", "slots", "filled", "roster", "waitlist"):
        summary.add_column(column)
    for trial in result.trials:
        name = trial.trial_id
        if not is_recruiting(trial.recruitment):
            name += f"\n({status_words(trial.recruitment)})"
        summary.add_row(
            name,
            str(trial.slots),
            str(len(trial.roster)),
            escape(_listed(trial.roster, TABLE_ROWS)),
            escape(_listed(trial.waitlist, 8)),
        )
    console.print(summary)
    assigned = Table(title="Patients assigned")
    for column in ("patient", "trial", "planned", "eligible until", "reason"):
        assigned.add_column(column)
    placed = np.flatnonzero(result.columns.status == "assigned")
    for row in placed[:TABLE_ROWS].tolist():
        patient = result.columns.outcome(row)
        assigned.add_row(
            escape(patient.patient_id),
            patient.trial_id or "",
            patient.planned_date.isoformat() if patient.planned_date else "",
            patient.eligible_until.isoformat() if patient.eligible_until else "open",
            escape(patient.reason),
        )
    console.print(assigned)
    _more_rows(console, len(placed) - TABLE_ROWS, "patients assigned", "csv or json")
    unplaced = Table(title="Patients not placed")
    for column in ("patient", "status", "reason"):
        unplaced.add_column(column)
    rows = np.flatnonzero(result.columns.status != "assigned")
    for row in rows[:TABLE_ROWS].tolist():
        patient = result.columns.outcome(row)
        unplaced.add_row(escape(patient.patient_id), patient.status, escape(patient.reason))
    console.print(unplaced)
    _more_rows(console, len(rows) - TABLE_ROWS, "patients not placed", "csv or json")
    if result.changes is not None:
        changed = Table(title="Changes since the previous allocation")
        for column in ("patient", "change", "before", "now", "why", "to restore"):
            changed.add_column(column)
        for change in result.changes[:TABLE_ROWS]:
            changed.add_row(
                escape(str(change["patient_id"])),
                str(change["change"]),
                str(change["previous_trial"] or "-"),
                str(change["trial"] or "-"),
                escape(str(change["reason"])),
                escape("; ".join(change["restore"])),
            )
        console.print(changed)
    return console.export_text()


SCHEDULE_COLUMNS = (
    "patient_id",
    "trial_id",
    "dose_level",
    "cohort",
    "planned_date",
    "enrolment_date",
    "window_start",
    "window_end",
    "status",
    "reason",
    "tests_hold_until",
    "repeat_tests",
    "repeat_within",
    "actions",
)


def schedule_csv(calendar: Calendar) -> str:
    """One row per input patient, in input order; a row's steps in one cell, as ``allocate`` writes them."""
    return csv_text(
        SCHEDULE_COLUMNS,
        (
            [" | ".join(value) if isinstance(value := entry.as_dict()[c], list) else value for c in SCHEDULE_COLUMNS]
            for entry in calendar.entries
        ),
    )


def _proof_words(calendar: Calendar) -> str:
    return "optimal (proven)" if calendar.proven else f"{calendar.solver_status}, gap {calendar.gap:.2%}"


def schedule_json(calendar: Calendar, warnings: list[str] | None = None) -> str:
    document = {
        "as_of": calendar.as_of.isoformat(),
        "horizon_days": calendar.horizon,
        "solver_status": calendar.solver_status,
        "proven_optimal": calendar.proven,
        "gap": calendar.gap,
        "objective_levels": calendar.levels,
        "candidates": calendar.candidates,
        "reduced_candidates": calendar.reduced,
        "trials": [
            {
                "trial_id": path.trial_id,
                "design": path.enrollment.design,
                "slots": path.slots,
                "dosed": len(path.dosed_dates),
                "escalation": path.stopped or None,
                "expansion_reserve_slots": path.reserve if path.escalates else None,
                "cohorts": [
                    {"cohort": c.number, "dose_level": c.level, "size": c.size} for c in path.cohorts if path.escalates
                ],
            }
            for path in calendar.paths
        ],
        "patients": [entry.as_dict() for entry in calendar.entries],
        "warnings": calendar.warnings if warnings is None else warnings,
    }
    return json.dumps(document, indent=2) + "\n"


def _steps_before_infusion(console: Console, calendar: Calendar) -> None:
    """The placed patients whose window rests on a plan's steps or a test to repeat: what to do before each
    enrolment (where the criteria are read), which the calendar above does not show."""
    placed = [e for e in calendar.entries if e.status in ("scheduled", "reserve") and (e.actions or e.repeat_words)]
    if not placed:
        return
    table = Table(title="Before enrolment")
    for column in ("patient", "trial", "enrolment", "infusion", "steps"):
        table.add_column(column)
    for entry in placed[:TABLE_ROWS]:
        enrolment, day = _iso_or(entry.enrolment_date, entry.status), _iso_or(entry.planned_date, entry.status)
        steps = "\n".join([*entry.actions, *([entry.repeat_words] if entry.repeat_words else [])])
        table.add_row(escape(entry.patient_id), entry.trial_id, enrolment, day, escape(steps))
    console.print(table)
    _more_rows(console, len(placed) - TABLE_ROWS, "placed patients with steps", "csv or json")


def _iso_or(day: dt.date | None, otherwise: str) -> str:
    return day.isoformat() if day else otherwise


def schedule_table(calendar: Calendar) -> str:
    """The calendar per trial (cohorts with their dates and patients, then the reserve), then who is not placed."""
    console = Console(record=True, width=160, file=io.StringIO())
    console.print(
        f"Enrolment calendar as of {calendar.as_of.isoformat()} over {calendar.horizon} days: "
        f"{_proof_words(calendar)}; {calendar.levels['scheduled']} scheduled; "
        f"{calendar.reduced} of {calendar.candidates} patient-trial windows needed after reduction"
    )
    for path in calendar.paths:
        entries = [e for e in calendar.entries if e.trial_id == path.trial_id and e.status in ("scheduled", "reserve")]
        design = path.enrollment
        detail = (
            f"3+3, {design.dose_levels} dose levels, cohorts of {design.cohort_size}, "
            f"DLT window {design.dlt_days} days, stagger {design.stagger_days} days"
            if path.escalates
            else "fixed"
        )
        table = Table(title=f"{path.trial_id}: {detail}; at most {design.per_week} a week; {path.slots} slots")
        for column in ("cohort", "dose level", "dates", "patients"):
            table.add_column(column)
        groups: dict[tuple[str, int | None], list[Entry]] = {}
        for entry in entries:
            groups.setdefault((entry.status, entry.cohort), []).append(entry)
        for (status, number), members in sorted(groups.items(), key=lambda item: (item[0][0], item[0][1] or 0)):
            members.sort(key=lambda e: (e.planned_date or calendar.as_of, e.patient_id))
            level = members[0].dose_level
            if status == "reserve":
                label, dates = "reserve", ""
                patients = ", ".join(
                    f"{e.patient_id} (L{e.dose_level}, {e.window_start}…{e.window_end or 'open'})" for e in members
                )
            else:
                label = str(number) if number is not None else "-"
                days = [e.planned_date for e in members if e.planned_date]
                dates = f"{min(days)}…{max(days)}" if days else ""
                patients = ", ".join(f"{e.patient_id} {e.planned_date}" for e in members)
            table.add_row(label, "" if level is None else str(level), dates, escape(patients))
        notes = [path.stopped] if path.stopped else []
        if not entries:
            notes.append(f"nothing scheduled within {calendar.horizon} days")
        table.caption = "; ".join(notes) or None
        console.print(table)
    _steps_before_infusion(console, calendar)
    unplaced = Table(title="Patients not scheduled")
    for column in ("patient", "status", "reason"):
        unplaced.add_column(column)
    rest = [e for e in calendar.entries if e.status in ("unplaced", "invalid")]
    for entry in rest[:TABLE_ROWS]:
        unplaced.add_row(escape(entry.patient_id), entry.status, escape(entry.reason))
    console.print(unplaced)
    _more_rows(console, len(rest) - TABLE_ROWS, "patients not scheduled", "csv or json")
    return console.export_text()
