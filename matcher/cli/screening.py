"""``matcher screen`` and ``matcher whatif``."""

from __future__ import annotations

import datetime as dt
import io
import sys
from pathlib import Path

import click
from rich.console import Console

from matcher import formats
from matcher.cli.common import (
    PIPE_WIDTH,
    RunWarnings,
    allow_missing_option,
    as_of_option,
    check_columns,
    emit,
    engine_options,
    load_checked,
    models_option,
    output_option,
    progress_bar,
    recruiting_option,
    reports_errors,
    trials_for_run,
    trials_option,
)
from matcher.cohort import invalid_rows_report
from matcher.distributed import dask_client, near_misses_on_dask, screen_on_dask
from matcher.nearmiss import near_misses
from matcher.output import write_atomic
from matcher.planning import patient_plans
from matcher.plans import DEFAULT_HORIZON, Plan
from matcher.rescreening import readable_row, rescreen
from matcher.screening import screen


@click.command("screen")
@click.argument("cohort", type=click.Path(dir_okay=True, path_type=Path))
@trials_option
@as_of_option
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True)
@output_option
@click.option("--funnel", is_flag=True, help="Add the attrition funnel per trial (CSV: the funnel only).")
@recruiting_option
@allow_missing_option
@models_option
@engine_options
@reports_errors
def screen_command(
    cohort: Path,
    trials: list[str],
    as_of: dt.date,
    fmt: str,
    output: str | None,
    funnel: bool,
    recruiting_only: bool,
    allow_missing: bool,
    models: Path | None,
    engine: str,
    scheduler: str | None,
    dask_workers: int,
    blocksize: str,
) -> None:
    """Three-valued screening of COHORT (CSV or Parquet) against the trials."""
    warnings = RunWarnings()
    chosen = trials_for_run(trials, models, recruiting_only, as_of, warnings)
    if engine == "dask":
        absent = check_columns(cohort, chosen, allow_missing)
        bar, progress = progress_bar("screening on dask")
        with bar, dask_client(scheduler, dask_workers) as client:
            screening = screen_on_dask(cohort, chosen, as_of, client, blocksize, progress)
        warnings.add(*screening.cohort.warnings, *absent, *invalid_rows_report(screening.cohort))
    else:
        screening = screen(load_checked(cohort, as_of, chosen, allow_missing, warnings), chosen, as_of)
    if fmt == "csv":
        emit(formats.funnel_csv(screening) if funnel else formats.screen_csv(screening), output)
    elif fmt == "json":
        emit(formats.screen_json(screening, funnel, warnings.lines), output)
    elif output:
        console = Console(record=True, width=PIPE_WIDTH, file=io.StringIO())  # capture() would empty the record
        formats.print_screen_table(screening, console, funnel)
        write_atomic(output, console.export_text())
    else:
        # Off a terminal every column stays whole: the tables' natural width, not the 80 columns rich assumes.
        formats.print_screen_table(screening, Console(width=None if sys.stdout.isatty() else PIPE_WIDTH), funnel)
    warnings.print()


def _changes(_ctx: click.Context, _param: click.Parameter, value: tuple[str, ...]) -> dict[str, str]:
    changes = {}
    for item in value:
        column, sep, spelled = item.partition("=")
        if not sep or not column.strip():
            raise click.BadParameter(f"{item!r} is not COLUMN=VALUE")
        changes[column.strip()] = spelled.strip()
    return changes


@click.command("whatif")
@click.argument("cohort", type=click.Path(dir_okay=True, path_type=Path))
@click.option("--patient", "patient_id", metavar="ID", help="The patient to plan for.")
@trials_option
@as_of_option
@click.option(
    "--horizon",
    type=click.IntRange(0, 3650),
    default=DEFAULT_HORIZON,
    show_default=True,
    help="Days ahead a plan may reach.",
)
@click.option(
    "--set",
    "changes",
    multiple=True,
    callback=_changes,
    metavar="COLUMN=VALUE",
    help="Re-screen with this column changed (repeatable).",
)
@click.option("--wait", "wait_days", type=click.IntRange(0, 3650), default=None, help="Re-screen this many days later.")
@click.option("--near-miss", is_flag=True, help="List every patient not eligible now who can be within --within days.")
@click.option("--within", type=click.IntRange(0, 3650), default=None, help="Horizon of --near-miss (days).")
@click.option(
    "--exhaustive", is_flag=True, help="Plan every pair, without the prefilter that skips the hopeless (same output)."
)
@click.option(
    "--workers", type=click.IntRange(1, 512), default=None, help="Processes for --near-miss (default: all cores)."
)
@click.option(
    "--time-limit",
    type=click.FloatRange(0, None, min_open=True),
    default=None,
    help="Deterministic time limit per solve.",
)
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@output_option
@recruiting_option
@allow_missing_option
@models_option
@engine_options
@reports_errors
def whatif_command(
    cohort: Path,
    patient_id: str | None,
    trials: list[str],
    as_of: dt.date,
    horizon: int,
    changes: dict[str, str],
    wait_days: int | None,
    near_miss: bool,
    within: int | None,
    exhaustive: bool,
    workers: int | None,
    time_limit: float | None,
    fmt: str,
    output: str | None,
    recruiting_only: bool,
    allow_missing: bool,
    models: Path | None,
    engine: str,
    scheduler: str | None,
    dask_workers: int,
    blocksize: str,
) -> None:
    """Nearest-eligible plans for a patient, explicit what-ifs, or a cohort-wide near-miss scan."""
    if near_miss and within is None:
        raise click.UsageError("--near-miss needs --within DAYS")
    if not near_miss and patient_id is None:
        raise click.UsageError("give --patient ID, or --near-miss --within DAYS")
    if engine == "dask" and not near_miss:
        raise click.UsageError("--engine dask runs --near-miss scans; a single patient's plan runs locally")
    warnings = RunWarnings()
    chosen = trials_for_run(trials, models, recruiting_only, as_of, warnings)
    if engine == "dask":
        assert within is not None
        warnings.add(*check_columns(cohort, chosen, allow_missing))
        bar, progress = progress_bar("near-miss scan on dask")
        with bar, dask_client(scheduler, dask_workers) as client:
            plans = near_misses_on_dask(cohort, chosen, as_of, within, client, blocksize, progress)
        _emit_plans(plans, as_of, fmt, output, warnings)
        return
    loaded = load_checked(cohort, as_of, chosen, allow_missing, warnings)
    if near_miss:
        assert within is not None
        bar, progress = progress_bar("near-miss scan")
        with bar:
            plans = near_misses(loaded, chosen, as_of, within, workers, time_limit, progress, exhaustive)
        _emit_plans(plans, as_of, fmt, output, warnings)
        return
    assert patient_id is not None
    if changes or wait_days is not None:
        if not changes:
            readable_row(loaded, patient_id)
        screening = rescreen(loaded, patient_id, chosen, as_of, changes, wait_days or 0)
        emit(
            formats.screen_json(screening, False, warnings.lines)
            if fmt == "json"
            else formats.rescreen_table(screening, changes),
            output,
        )
        warnings.print()
        return
    plans = patient_plans(loaded, patient_id, chosen, as_of, horizon, time_limit)
    _emit_plans(plans, as_of, fmt, output, warnings)


def _emit_plans(plans: list[Plan], as_of: dt.date, fmt: str, output: str | None, warnings: RunWarnings) -> None:
    """Plans as JSON or a table, then the run's warnings."""
    emit(
        formats.plans_json(plans, as_of, warnings.lines) if fmt == "json" else formats.plans_table(plans, as_of), output
    )
    warnings.print()
