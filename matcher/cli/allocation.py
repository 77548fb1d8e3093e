"""``matcher allocate`` and ``matcher report``: slots, quotas, near misses and stability, shared."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from matcher import formats
from matcher.allocation import allocate
from matcher.cli.common import (
    F,
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
from matcher.ir import Trial
from matcher.nearmiss import eligibility_windows, near_misses
from matcher.outcome import Allocation
from matcher.output import write_atomic
from matcher.plans import Plan
from matcher.scenario import QuotaRule, quota_rules, read_previous, run_slots
from matcher.schedule import schedule
from matcher.screening import Screening, screen
from matcher.trials import load_trials


def _slots(_ctx: click.Context, _param: click.Parameter, value: tuple[str, ...]) -> dict[str, int]:
    slots = {}
    for item in value:
        trial_id, sep, number = item.partition("=")
        try:
            count = int(number)
        except ValueError:
            count = -1
        if not sep or count < 0:
            raise click.BadParameter(f"{item!r} is not ID=N with N a whole number >= 0")
        slots[trial_id.strip()] = count
    return slots


def allocation_options(command: F) -> F:
    """Slots, quotas, near misses and stability: the same for ``allocate`` and ``report``."""
    options = [
        click.option(
            "--slots", "slots", multiple=True, callback=_slots, metavar="ID=N", help="Override a trial's slots."
        ),
        click.option(
            "--scenario", type=click.Path(dir_okay=False, path_type=Path), help="Scenario YAML: slots and quotas."
        ),
        click.option(
            "--within",
            type=click.IntRange(0, 3650),
            default=None,
            help="Also place patients whose what-if plan reaches eligibility within DAYS.",
        ),
        click.option(
            "--previous",
            type=click.Path(dir_okay=False, path_type=Path),
            help="An earlier `allocate --format csv` output to keep stable.",
        ),
        click.option("--workers", type=click.IntRange(1, 512), default=None, help="Processes for --within plans."),
        click.option(
            "--exhaustive",
            is_flag=True,
            help="Plan every pair for --within, without the prefilter that skips the hopeless (same output).",
        ),
        recruiting_option,
        allow_missing_option,
        models_option,
    ]
    for option in reversed(options):
        command = option(command)
    return command


def slots_and_quotas(
    chosen: list[Trial], models: Path | None, slots: dict[str, int], scenario: Path | None, warnings: RunWarnings
) -> tuple[dict[str, int], list[QuotaRule]]:
    """Slots (the scenario's, then --slots over them) and quotas for the trials considered.

    --slots must name a trial considered; a scenario file may name others, whose lines do not apply.
    """
    in_force, loaded, left_out = run_slots([trial.id for trial in chosen], list(load_trials(models)), slots, scenario)
    if left_out:
        warnings.add(
            f"{scenario}: ignoring the slots and quotas of {', '.join(left_out)}, not among the trials considered"
        )
    return in_force, quota_rules(chosen, loaded)


@dataclass(frozen=True)
class AllocationRequest:
    """The values of ``allocation_options`` (but --recruiting-only and --models, which select the trials)."""

    slots: dict[str, int]
    scenario: Path | None
    within: int | None
    previous: Path | None
    workers: int | None
    exhaustive: bool
    allow_missing: bool


def _allocation(
    cohort: Path,
    chosen: list[Trial],
    models: Path | None,
    as_of: dt.date,
    request: AllocationRequest,
    warnings: RunWarnings,
    time_limit: float | None = None,
) -> tuple[Screening, list[Plan] | None, Allocation]:
    """Screen, plan near misses (with --within) and allocate, as the options ask."""
    slots, quotas = slots_and_quotas(chosen, models, request.slots, request.scenario, warnings)
    previous = read_previous(request.previous) if request.previous else None
    loaded = load_checked(cohort, as_of, chosen, request.allow_missing, warnings, [q.column for q in quotas])
    screening = screen(loaded, chosen, as_of)
    plans = None
    if request.within is not None:
        bar, progress = progress_bar("what-if plans")
        with bar:
            plans = near_misses(
                loaded, chosen, as_of, request.within, request.workers, None, progress, request.exhaustive
            )
    result = allocate(screening, slots, quotas, plans, request.within, previous, time_limit)
    warnings.add(*result.warnings)
    return screening, plans, result


@click.command("allocate")
@click.argument("cohort", type=click.Path(dir_okay=True, path_type=Path))
@trials_option
@as_of_option
@allocation_options
@click.option(
    "--time-limit",
    type=click.FloatRange(0, None, min_open=True),
    default=None,
    help="Deterministic time limit (seconds of CP-SAT deterministic time).",
)
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True)
@output_option
@reports_errors
def allocate_command(
    cohort: Path,
    trials: list[str],
    as_of: dt.date,
    recruiting_only: bool,
    models: Path | None,
    time_limit: float | None,
    fmt: str,
    output: str | None,
    **options: Any,
) -> None:
    """Best allocation of COHORT's patients to the trials' slots, proven optimal by CP-SAT."""
    warnings = RunWarnings()
    chosen = trials_for_run(trials, models, recruiting_only, as_of, warnings)
    _, _, result = _allocation(cohort, chosen, models, as_of, AllocationRequest(**options), warnings, time_limit)
    if fmt == "csv":
        emit(formats.allocation_csv(result), output)
    elif fmt == "json":
        emit(formats.allocation_json(result, warnings.lines), output)
    else:
        emit(formats.allocation_table(result), output)
    warnings.print()


@click.command("report")
@click.argument("cohort", type=click.Path(dir_okay=True, path_type=Path))
@trials_option
@as_of_option
@allocation_options
@click.option(
    "--calendar",
    type=click.IntRange(1, 3650),
    default=None,
    metavar="DAYS",
    help="Add the enrolment calendar over DAYS as a Gantt chart (as `matcher schedule --horizon DAYS`).",
)
@click.option("--output", "-o", required=True, type=click.Path(dir_okay=False), help="The HTML file to write.")
@reports_errors
def report_command(
    cohort: Path,
    trials: list[str],
    as_of: dt.date,
    recruiting_only: bool,
    models: Path | None,
    calendar: int | None,
    output: str,
    **options: Any,
) -> None:
    """One self-contained HTML report (no network needed to view): summary, funnels, allocation, near misses."""
    from matcher.report import render_report  # Plotly and Jinja2 load only for the report

    warnings = RunWarnings()
    chosen = trials_for_run(trials, models, recruiting_only, as_of, warnings)
    request = AllocationRequest(**options)
    screening, plans, result = _allocation(cohort, chosen, models, as_of, request, warnings)
    drawn = None
    if calendar is not None:
        slots, _ = slots_and_quotas(chosen, models, request.slots, request.scenario, RunWarnings())
        bar, progress = progress_bar("eligibility windows")
        with bar:
            windows = eligibility_windows(screening.cohort, chosen, as_of, calendar, request.workers, None, progress)
        drawn = schedule(screening, windows, chosen, slots, None, calendar)
        warnings.add(*drawn.warnings)
    write_atomic(output, render_report(screening, result, plans, request.within, warnings.lines, drawn))
    warnings.print()
