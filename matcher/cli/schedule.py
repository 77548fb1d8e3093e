"""``matcher schedule``: an enrolment calendar over the horizon, honouring dose escalation and windows."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from matcher import formats
from matcher.cli.allocation import slots_and_quotas
from matcher.cli.common import (
    RunWarnings,
    allow_missing_option,
    as_of_option,
    emit,
    load_checked,
    models_option,
    output_option,
    progress_bar,
    recruiting_option,
    reports_errors,
    trials_for_run,
    trials_option,
)
from matcher.escalation import load_state
from matcher.nearmiss import eligibility_windows
from matcher.plans import DEFAULT_HORIZON
from matcher.schedule import schedule
from matcher.screening import screen
from matcher.trials import load_trials


@click.command("schedule")
@click.argument("cohort", type=click.Path(dir_okay=True, path_type=Path))
@trials_option
@as_of_option
@click.option(
    "--horizon",
    type=click.IntRange(1, 3650),
    default=DEFAULT_HORIZON,
    show_default=True,
    help="Plan infusions within DAYS of the as-of date.",
)
@click.option(
    "--state",
    type=click.Path(dir_okay=False, path_type=Path),
    help="YAML of the cohorts already dosed (level, dates, DLTs) per trial: only the future is re-planned.",
)
@click.option("--scenario", type=click.Path(dir_okay=False, path_type=Path), help="Scenario YAML: slots.")
@click.option(
    "--time-limit",
    type=click.FloatRange(0, None, min_open=True),
    default=None,
    help="Deterministic time limit per objective level (seconds of CP-SAT deterministic time); the gap is "
    "reported.  Default: none, but 60 for the sooner-days level, whose proof can take many minutes on thousands "
    "of patients; give a large value to ask for the proof.",
)
@click.option("--workers", type=click.IntRange(1, 512), default=None, help="Processes for the what-if plans.")
@recruiting_option
@allow_missing_option
@models_option
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True)
@output_option
@reports_errors
def schedule_command(
    cohort: Path,
    trials: list[str],
    as_of: dt.date,
    horizon: int,
    state: Path | None,
    scenario: Path | None,
    time_limit: float | None,
    workers: int | None,
    recruiting_only: bool,
    allow_missing: bool,
    models: Path | None,
    fmt: str,
    output: str | None,
) -> None:
    """Enrolment calendar for COHORT: planned infusion dates per trial, cohort and dose level.

    Each objective level is proven optimal, except the sooner-days level without --time-limit: after 60
    deterministic seconds its calendar stands, reported as FEASIBLE with its gap.
    """
    warnings = RunWarnings()
    chosen = trials_for_run(trials, models, recruiting_only, as_of, warnings)
    slots, quotas = slots_and_quotas(chosen, models, {}, scenario, warnings)
    if quotas:
        warnings.add("schedule does not apply quotas (trial or scenario); use allocate for them")
    loaded_state = load_state(state, list(load_trials(models))) if state else None
    loaded = load_checked(cohort, as_of, chosen, allow_missing, warnings)
    bar, progress = progress_bar("eligibility windows")
    with bar:
        plans = eligibility_windows(loaded, chosen, as_of, horizon, workers, None, progress)
    bar, progress = progress_bar("calendar: objective levels solved")
    with bar:
        screening = screen(loaded, chosen, as_of)
        calendar = schedule(
            screening, plans, chosen, slots, loaded_state, horizon, time_limit, str(state), progress=progress
        )
    warnings.add(*calendar.warnings)
    if fmt == "csv":
        emit(formats.schedule_csv(calendar), output)
    elif fmt == "json":
        emit(formats.schedule_json(calendar, warnings.lines), output)
    else:
        emit(formats.schedule_table(calendar), output)
    warnings.print()
