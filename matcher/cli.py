"""The ``matcher`` command line: a thin click layer over the library.

Domain errors (MatcherError) become a one-line message and exit status 2 here,
and only here.
"""

from __future__ import annotations

import datetime as dt
import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.progress import Progress

from matcher import formats
from matcher.allocate import allocate, load_scenario, quota_rules, read_previous
from matcher.cohort import load_cohort
from matcher.coverage import coverage_problems
from matcher.errors import MatcherError
from matcher.evaluate import Context
from matcher.output import write_atomic
from matcher.render import trial_text
from matcher.screen import screen
from matcher.trials import effective_facts, load_trials, select_trials, trial_schema
from matcher.whatif import DEFAULT_HORIZON, near_misses, patient_row, plan, rescreen

F = TypeVar("F", bound=Callable[..., Any])


def reports_errors(command: F) -> F:
    """Turn library errors into a clean message and exit status 2."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except MatcherError as exc:
            click.echo(f"Error: {exc}", err=True)
            sys.exit(2)

    return wrapper  # type: ignore[return-value]


def _as_of(_ctx: click.Context, _param: click.Parameter, value: str | None) -> dt.date:
    if value is None:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an ISO date (YYYY-MM-DD)") from None


def _trial_ids(_ctx: click.Context, _param: click.Parameter, value: tuple[str, ...]) -> list[str]:
    return [part.strip() for item in value for part in item.split(",") if part.strip()]


as_of_option = click.option(
    "--as-of", callback=_as_of, metavar="DATE", help="Screening date (YYYY-MM-DD); default: today."
)
trials_option = click.option(
    "--trials", multiple=True, callback=_trial_ids, metavar="ID[,ID…]", help="Trials to consider; default: all."
)


def _emit(text: str, output: str | None) -> None:
    if output:
        write_atomic(output, text)
    else:
        click.echo(text, nl=False)


@click.group()
@click.version_option(package_name="matcher")
def main() -> None:
    """Match patients to CAR-T trials for refractory autoimmune disease."""


@main.command("screen")
@click.argument("cohort", type=click.Path(dir_okay=True, path_type=Path))
@trials_option
@as_of_option
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write to this file instead of stdout.")
@click.option("--funnel", is_flag=True, help="Add the attrition funnel per trial (CSV: the funnel only).")
@reports_errors
def screen_command(cohort: Path, trials: list[str], as_of: dt.date, fmt: str, output: str | None, funnel: bool) -> None:
    """Three-valued screening of COHORT (CSV or Parquet) against the trials."""
    chosen = select_trials(trials)
    loaded = load_cohort(cohort)
    for warning in loaded.warnings:
        click.echo(f"warning: {warning}", err=True)
    if loaded.invalid:
        click.echo(f"warning: {len(loaded.invalid)} row(s) could not be read; they are reported as invalid", err=True)
    screening = screen(loaded, chosen, as_of)
    if fmt == "csv":
        _emit(formats.funnel_csv(screening) if funnel else formats.screen_csv(screening), output)
    elif fmt == "json":
        _emit(formats.screen_json(screening, funnel), output)
    elif output:
        console = Console(record=True, width=160)
        with console.capture():
            formats.print_screen_table(screening, console, funnel)
        write_atomic(output, console.export_text())
    else:
        formats.print_screen_table(screening, Console(), funnel)


def _changes(_ctx: click.Context, _param: click.Parameter, value: tuple[str, ...]) -> dict[str, str]:
    changes = {}
    for item in value:
        column, sep, spelled = item.partition("=")
        if not sep or not column.strip():
            raise click.BadParameter(f"{item!r} is not COLUMN=VALUE")
        changes[column.strip()] = spelled.strip()
    return changes


@main.command("whatif")
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
    "--workers", type=click.IntRange(1, 512), default=None, help="Processes for --near-miss (default: all cores)."
)
@click.option(
    "--time-limit",
    type=click.FloatRange(0, None, min_open=True),
    default=None,
    help="Deterministic time limit per solve.",
)
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write to this file instead of stdout.")
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
    workers: int | None,
    time_limit: float | None,
    fmt: str,
    output: str | None,
) -> None:
    """Nearest-eligible plans for a patient, explicit what-ifs, or a cohort-wide near-miss scan."""
    chosen = select_trials(trials)
    loaded = load_cohort(cohort)
    if near_miss:
        if within is None:
            raise click.UsageError("--near-miss needs --within DAYS")
        with Progress(transient=True, console=Console(stderr=True)) as bar:
            task = bar.add_task("near-miss scan", total=None)
            plans = near_misses(
                loaded,
                chosen,
                as_of,
                within,
                workers,
                time_limit,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
            )
        _emit(formats.plans_json(plans, as_of) if fmt == "json" else formats.plans_table(plans, as_of), output)
        return
    if patient_id is None:
        raise click.UsageError("give --patient ID, or --near-miss --within DAYS")
    if changes or wait_days is not None:
        screening = rescreen(loaded, patient_id, chosen, as_of, changes, wait_days or 0)
        _emit(
            formats.screen_json(screening, False) if fmt == "json" else formats.rescreen_table(screening, changes),
            output,
        )
        return
    alone = loaded.take([patient_row(loaded, patient_id)])
    plans = [plan(Context(alone, as_of, effective_facts(trial)), trial, 0, horizon, time_limit) for trial in chosen]
    _emit(formats.plans_json(plans, as_of) if fmt == "json" else formats.plans_table(plans, as_of), output)


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


@main.command("allocate")
@click.argument("cohort", type=click.Path(dir_okay=True, path_type=Path))
@trials_option
@as_of_option
@click.option("--slots", "slots", multiple=True, callback=_slots, metavar="ID=N", help="Override a trial's slots.")
@click.option("--scenario", type=click.Path(dir_okay=False, path_type=Path), help="Scenario YAML: slots and quotas.")
@click.option(
    "--within",
    type=click.IntRange(0, 3650),
    default=None,
    help="Also place patients whose what-if plan reaches eligibility within DAYS.",
)
@click.option(
    "--previous",
    type=click.Path(dir_okay=False, path_type=Path),
    help="An earlier `allocate --format csv` output to keep stable.",
)
@click.option(
    "--time-limit",
    type=click.FloatRange(0, None, min_open=True),
    default=None,
    help="Deterministic time limit (seconds of CP-SAT deterministic time).",
)
@click.option("--workers", type=click.IntRange(1, 512), default=None, help="Processes for --within plans.")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write to this file instead of stdout.")
@reports_errors
def allocate_command(
    cohort: Path,
    trials: list[str],
    as_of: dt.date,
    slots: dict[str, int],
    scenario: Path | None,
    within: int | None,
    previous: Path | None,
    time_limit: float | None,
    workers: int | None,
    fmt: str,
    output: str | None,
) -> None:
    """Best allocation of COHORT's patients to the trials' slots, proven optimal by CP-SAT."""
    chosen = select_trials(trials)
    loaded_scenario = load_scenario(scenario) if scenario else None
    all_slots = {**(loaded_scenario.slots if loaded_scenario else {}), **slots}
    unknown = sorted(set(all_slots) - {t.id for t in chosen})
    if unknown:
        raise MatcherError(f"--slots names unknown trial {unknown[0]!r}; known: {', '.join(t.id for t in chosen)}")
    if any(count < 0 for count in all_slots.values()):
        raise MatcherError("slots must be whole numbers >= 0")
    loaded = load_cohort(cohort)
    for warning in loaded.warnings:
        click.echo(f"warning: {warning}", err=True)
    screening = screen(loaded, chosen, as_of)
    plans = None
    if within is not None:
        with Progress(transient=True, console=Console(stderr=True)) as bar:
            task = bar.add_task("what-if plans", total=None)
            plans = near_misses(
                loaded,
                chosen,
                as_of,
                within,
                workers,
                None,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
            )
    result = allocate(
        screening,
        all_slots,
        quota_rules(chosen, loaded_scenario),
        plans,
        within,
        read_previous(previous) if previous else None,
        time_limit,
    )
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)
    if fmt == "csv":
        _emit(formats.allocation_csv(result), output)
    elif fmt == "json":
        _emit(formats.allocation_json(result), output)
    else:
        _emit(formats.allocation_table(result), output)


@main.group("trials")
def trials_group() -> None:
    """Inspect the bundled trial models."""


@trials_group.command("list")
@reports_errors
def trials_list() -> None:
    """One line per trial: id, slots, status, criteria, title."""
    for trial in load_trials().values():
        manual = sum(c.is_manual for c in trial.criteria)
        click.echo(
            f"{trial.id}\tslots={trial.slots}\t{trial.status}\t{len(trial.criteria)} criteria "
            f"({manual} manual)\t{trial.title}"
        )


@trials_group.command("show")
@click.argument("trial_id")
@reports_errors
def trials_show(trial_id: str) -> None:
    """The whole trial in plain words, with each criterion's source quote."""
    click.echo(trial_text(select_trials([trial_id])[0]), nl=False)


@trials_group.command("schema")
@reports_errors
def trials_schema() -> None:
    """The JSON Schema of a trial file (for editors that validate YAML)."""
    click.echo(trial_schema())


@trials_group.command("coverage")
@click.argument("trial_ids", nargs=-1)
@reports_errors
def trials_coverage(trial_ids: tuple[str, ...]) -> None:
    """Check that every item of the published eligibility text is encoded or accounted for."""
    failed = False
    for trial in select_trials(list(trial_ids)):
        try:
            problems = coverage_problems(trial)
        except ValueError as exc:
            problems = [str(exc)]
        items = len(trial.source_items)
        if problems:
            failed = True
            click.echo(f"{trial.id}: {len(problems)} problem(s)")
            for problem in problems:
                click.echo(f"  - {problem}")
        else:
            click.echo(f"{trial.id}: all {items} source items accounted for")
    if failed:
        sys.exit(1)
