"""The ``matcher`` command line: a thin click layer over the library.

Domain errors (MatcherError) become a one-line message and exit status 2 here,
and only here.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import io
import sys
import time
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.progress import Progress

from matcher import formats
from matcher.allocate import allocate
from matcher.cohort import Cohort, check_as_of, given_columns, invalid_rows_report, load_cohort
from matcher.contract import absent_columns
from matcher.coverage import coverage_problems
from matcher.distributed import dask_client, near_misses_on_dask, screen_on_dask
from matcher.errors import MatcherError, ParameterError
from matcher.ir import Trial
from matcher.nearmiss import near_misses
from matcher.outcome import Allocation
from matcher.output import write_atomic
from matcher.plans import DEFAULT_HORIZON, Plan
from matcher.render import trial_text
from matcher.scenario import (
    QuotaRule,
    check_slot_overrides,
    is_recruiting,
    left_out_of,
    load_scenario,
    quota_rules,
    read_previous,
    status_words,
)
from matcher.screen import Screening, screen
from matcher.synth import DEFAULT_AS_OF, DEFAULT_BLANK_FRACTION, SynthOptions, parse_mix, write_cohort
from matcher.trials import load_trials, select_trials, trial_schema
from matcher.whatif import patient_plans, readable_row, rescreen

F = TypeVar("F", bound=Callable[..., Any])


# The option that sets each library parameter a ParameterError names.
_OPTION_OF = {"slots": "--slots", "mix": "--mix", "changes": "--set", "time_limit": "--time-limit"}


def reports_errors(command: F) -> F:
    """Turn library errors into a clean message and exit status 2; Ctrl-C into one line and status 130."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except ParameterError as exc:
            click.echo(f"Error: {exc.worded(_OPTION_OF.get(exc.parameter, exc.parameter))}", err=True)
            sys.exit(2)
        except MatcherError as exc:
            click.echo(f"Error: {exc}", err=True)
            sys.exit(2)
        except KeyboardInterrupt:
            click.echo("Interrupted.", err=True)
            sys.exit(130)

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


models_option = click.option(
    "--models",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Directory of trial model files (NCT*.yaml); default: the bundled models.",
)
recruiting_option = click.option(
    "--recruiting-only",
    is_flag=True,
    help="Leave out trials not recruiting now (status other than recruiting or enrolling_by_invitation).",
)
allow_missing_option = click.option(
    "--allow-missing",
    is_flag=True,
    help="Run even when a column every selected trial needs first is absent (a warning, not an error).",
)
output_option = click.option(
    "--output", "-o", type=click.Path(dir_okay=False), help="Write to this file instead of stdout."
)


class RunWarnings:
    """The warnings of one run, each once, in order: printed on stderr when the run ends, and in JSON outputs.

    They are printed at the end so that a run stopped by an error prints only its one-line error.
    """

    def __init__(self) -> None:
        self.lines: list[str] = []

    def add(self, *lines: str) -> None:
        for line in lines:
            if line not in self.lines:
                self.lines.append(line)

    def print(self) -> None:
        for line in self.lines:
            click.echo(f"warning: {line}", err=True)


def _select_trials(ids: list[str], models: Path | None) -> list[Trial]:
    chosen = select_trials(ids, models)
    if not chosen:
        raise MatcherError(f"{models}: no trial model files (NCT*.yaml)")
    return chosen


def _trials_for_run(
    ids: list[str], models: Path | None, recruiting_only: bool, as_of: dt.date, warnings: RunWarnings
) -> list[Trial]:
    """The trials to screen against (less those not recruiting, with --recruiting-only).

    Warns of each trial not recruiting, and of an as-of date so far from today that the verdicts are not current.
    """
    if abs((as_of - dt.date.today()).days) > 365:
        warnings.add(
            f"--as-of {as_of.isoformat()} is more than a year from today ({dt.date.today().isoformat()}); "
            "the verdicts will not reflect the present"
        )
    chosen = _select_trials(ids, models)
    for trial in chosen:
        if not is_recruiting(trial.status):
            fate = "left out (--recruiting-only)" if recruiting_only else "kept in; --recruiting-only leaves it out"
            warnings.add(f"{trial.id} is not recruiting ({status_words(trial.status)}): {fate}")
    if recruiting_only:
        chosen = [trial for trial in chosen if is_recruiting(trial.status)]
        if not chosen:
            raise MatcherError("--recruiting-only leaves no trial: none of those selected is recruiting")
    return chosen


def _load_checked(
    path: Path, as_of: dt.date, trials: list[Trial], allow_missing: bool, warnings: RunWarnings
) -> Cohort:
    """The cohort with its dates checked against the as-of date; its warnings and invalid rows go to ``warnings``."""
    loaded = check_as_of(load_cohort(path), as_of)
    warnings.add(*loaded.warnings, *_check_columns(path, trials, allow_missing), *invalid_rows_report(loaded))
    return loaded


ABSENT_NAMED = 20  # absent columns named in the warning, most-read first; a file lacking more is not an extract


def _check_columns(path: Path, trials: list[Trial], allow_missing: bool) -> list[str]:
    """Columns the trials read that the file lacks: a warning, or an error when no patient could be eligible."""
    absent = absent_columns(given_columns(path), trials)
    blocking = [column.name for column in absent if column.blocks_every_trial]
    if blocking and not allow_missing:
        raise MatcherError(
            f"{path}: no column {blocking[0]}, which the first inclusion criterion of every selected trial reads, "
            "so no patient could be eligible; add the column, or pass --allow-missing"
        )
    if not absent:
        return []
    listed = ", ".join(f"{column.name} ({_criteria(column.criteria)})" for column in absent[:ABSENT_NAMED])
    rest = absent[ABSENT_NAMED:]
    if rest:
        listed += f" and {len(rest)} more columns ({_criteria(sum(column.criteria for column in rest))})"
    return [f"{path}: absent columns leave criteria of the selected trials undecided: {listed}"]


def _criteria(count: int) -> str:
    return f"{count} criterion" if count == 1 else f"{count} criteria"


def _emit(text: str | bytes | Iterable[bytes], output: str | None) -> None:
    if output:
        write_atomic(output, text)
    elif isinstance(text, (str, bytes)):
        click.echo(text, nl=False)
    else:
        stdout = sys.stdout.buffer  # the binary stream under click's (and CliRunner's) stdout
        for chunk in text:
            stdout.write(chunk)
        stdout.flush()


@click.group()
@click.version_option(package_name="matcher")
def main() -> None:
    """Match patients to CAR-T trials for refractory autoimmune disease."""


def engine_options(command: F) -> F:
    """--engine local|dask and where the Dask cluster is."""
    options = [
        click.option(
            "--engine",
            type=click.Choice(["local", "dask"]),
            default="local",
            show_default=True,
            help="Run on this machine, or partition by partition on a Dask cluster.",
        ),
        click.option(
            "--scheduler",
            metavar="ADDRESS",
            default=None,
            help="Dask scheduler address (e.g. tcp://host:8786); default: a local cluster.",
        ),
        click.option(
            "--dask-workers",
            type=click.IntRange(1, 512),
            default=2,
            show_default=True,
            help="Workers of the local Dask cluster.",
        ),
        click.option("--blocksize", default="64MB", show_default=True, help="CSV bytes per Dask partition."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


_PIPE_WIDTH = 100_000  # wider than any table: a table in a pipe or a file keeps its natural width
PROGRESS_EVERY_S = 10.0  # at most one plain progress line this often, when stderr is not a terminal
_clock = time.monotonic


def _progress_bar(label: str) -> tuple[AbstractContextManager[Any], Callable[[int, int], None]]:
    """A progress bar on a terminal; in a log (stderr not a terminal), a plain line at most every 10 seconds."""
    if not sys.stderr.isatty():
        return contextlib.nullcontext(), _PlainProgress(label)
    bar = Progress(transient=True, console=Console(stderr=True))
    task = bar.add_task(label, total=None)
    return bar, lambda done, total: bar.update(task, completed=done, total=total)


class _PlainProgress:
    """Progress for a log: ``label: done of total (share)`` once PROGRESS_EVERY_S seconds have passed since the last."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.last = _clock()

    def __call__(self, done: int, total: int | None) -> None:
        now = _clock()
        if now - self.last < PROGRESS_EVERY_S:
            return
        self.last = now
        share = f" of {total:,} ({done / total:.0%})" if total else ""
        click.echo(f"{self.label}: {done:,}{share}", err=True)


@main.command("screen")
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
    chosen = _trials_for_run(trials, models, recruiting_only, as_of, warnings)
    if engine == "dask":
        absent = _check_columns(cohort, chosen, allow_missing)
        bar, progress = _progress_bar("screening on dask")
        with bar, dask_client(scheduler, dask_workers) as client:
            screening = screen_on_dask(cohort, chosen, as_of, client, blocksize, progress)
        warnings.add(*screening.cohort.warnings, *absent, *invalid_rows_report(screening.cohort))
    else:
        screening = screen(_load_checked(cohort, as_of, chosen, allow_missing, warnings), chosen, as_of)
    if fmt == "csv":
        _emit(formats.funnel_csv(screening) if funnel else formats.screen_csv(screening), output)
    elif fmt == "json":
        _emit(formats.screen_json(screening, funnel, warnings.lines), output)
    elif output:
        console = Console(record=True, width=_PIPE_WIDTH, file=io.StringIO())  # capture() would empty the record
        formats.print_screen_table(screening, console, funnel)
        write_atomic(output, console.export_text())
    else:
        # Off a terminal every column stays whole: the tables' natural width, not the 80 columns rich assumes.
        formats.print_screen_table(screening, Console(width=None if sys.stdout.isatty() else _PIPE_WIDTH), funnel)
    warnings.print()


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
    chosen = _trials_for_run(trials, models, recruiting_only, as_of, warnings)
    if engine == "dask":
        assert within is not None
        warnings.add(*_check_columns(cohort, chosen, allow_missing))
        bar, progress = _progress_bar("near-miss scan on dask")
        with bar, dask_client(scheduler, dask_workers) as client:
            plans = near_misses_on_dask(cohort, chosen, as_of, within, client, blocksize, progress)
        _emit_plans(plans, as_of, fmt, output, warnings)
        return
    loaded = _load_checked(cohort, as_of, chosen, allow_missing, warnings)
    if near_miss:
        assert within is not None
        bar, progress = _progress_bar("near-miss scan")
        with bar:
            plans = near_misses(loaded, chosen, as_of, within, workers, time_limit, progress)
        _emit_plans(plans, as_of, fmt, output, warnings)
        return
    assert patient_id is not None
    if changes or wait_days is not None:
        if not changes:
            readable_row(loaded, patient_id)
        screening = rescreen(loaded, patient_id, chosen, as_of, changes, wait_days or 0)
        _emit(
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
    _emit(
        formats.plans_json(plans, as_of, warnings.lines) if fmt == "json" else formats.plans_table(plans, as_of), output
    )
    warnings.print()


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
        recruiting_option,
        allow_missing_option,
        models_option,
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _slots_and_quotas(
    chosen: list[Trial], models: Path | None, slots: dict[str, int], scenario: Path | None, warnings: RunWarnings
) -> tuple[dict[str, int], list[QuotaRule]]:
    """Slots (the scenario's, then --slots over them) and quotas for the trials considered.

    --slots must name a trial considered; a scenario file may name others, whose lines do not apply.
    """
    considered = [trial.id for trial in chosen]
    known = list(load_trials(models))
    check_slot_overrides(slots, considered, known)
    loaded = load_scenario(scenario, known) if scenario else None
    scenario_slots = {}
    if loaded:
        left_out = left_out_of(loaded, considered)
        if left_out:
            ignored = ", ".join(left_out)
            warnings.add(f"{scenario}: ignoring the slots and quotas of {ignored}, not among the trials considered")
        scenario_slots = {trial_id: count for trial_id, count in loaded.slots.items() if trial_id in considered}
    return {**scenario_slots, **slots}, quota_rules(chosen, loaded)


@dataclass(frozen=True)
class AllocationRequest:
    """The values of ``allocation_options`` (but --recruiting-only and --models, which select the trials)."""

    slots: dict[str, int]
    scenario: Path | None
    within: int | None
    previous: Path | None
    workers: int | None
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
    slots, quotas = _slots_and_quotas(chosen, models, request.slots, request.scenario, warnings)
    previous = read_previous(request.previous) if request.previous else None
    loaded = _load_checked(cohort, as_of, chosen, request.allow_missing, warnings)
    screening = screen(loaded, chosen, as_of)
    plans = None
    if request.within is not None:
        bar, progress = _progress_bar("what-if plans")
        with bar:
            plans = near_misses(loaded, chosen, as_of, request.within, request.workers, None, progress)
    result = allocate(screening, slots, quotas, plans, request.within, previous, time_limit)
    warnings.add(*result.warnings)
    return screening, plans, result


@main.command("allocate")
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
    chosen = _trials_for_run(trials, models, recruiting_only, as_of, warnings)
    _, _, result = _allocation(cohort, chosen, models, as_of, AllocationRequest(**options), warnings, time_limit)
    if fmt == "csv":
        _emit(formats.allocation_csv(result), output)
    elif fmt == "json":
        _emit(formats.allocation_json(result, warnings.lines), output)
    else:
        _emit(formats.allocation_table(result), output)
    warnings.print()


@main.command("report")
@click.argument("cohort", type=click.Path(dir_okay=True, path_type=Path))
@trials_option
@as_of_option
@allocation_options
@click.option("--output", "-o", required=True, type=click.Path(dir_okay=False), help="The HTML file to write.")
@reports_errors
def report_command(
    cohort: Path,
    trials: list[str],
    as_of: dt.date,
    recruiting_only: bool,
    models: Path | None,
    output: str,
    **options: Any,
) -> None:
    """One self-contained HTML report (no network needed to view): summary, funnels, allocation, near misses."""
    from matcher.report import render_report  # Plotly and Jinja2 load only for the report

    warnings = RunWarnings()
    chosen = _trials_for_run(trials, models, recruiting_only, as_of, warnings)
    request = AllocationRequest(**options)
    screening, plans, result = _allocation(cohort, chosen, models, as_of, request, warnings)
    write_atomic(output, render_report(screening, result, plans, request.within, warnings.lines))
    warnings.print()


@main.command("synth")
@click.option("--n", "rows", type=click.IntRange(1, None), required=True, help="Number of patients.")
@click.option("--seed", type=click.IntRange(0, None), default=1, show_default=True, help="Same seed, same file.")
@click.option(
    "--mix",
    metavar="CODE=W[,…]",
    help="Disease weights by diagnosis code (normalized); default SLE=0.5,SS=0.15,SSC=0.1,IIM=0.1,AAV=0.15.",
)
@click.option(
    "--blank-fraction",
    type=click.FloatRange(0, 1),
    default=DEFAULT_BLANK_FRACTION,
    show_default=True,
    help="Share of clinical cells left blank (unknown).",
)
@click.option("--unit-variants", is_flag=True, help="Give some labs under unit headers, e.g. creatinine[umol/L].")
@click.option(
    "--as-of",
    callback=_as_of,
    default=DEFAULT_AS_OF.isoformat(),
    show_default=True,
    metavar="DATE",
    help="Screening date the event dates are spread around.",
)
@click.option(
    "--output", "-o", required=True, type=click.Path(dir_okay=False), help="CSV, or Parquet if it ends in .parquet."
)
@reports_errors
def synth_command(
    rows: int, seed: int, mix: str | None, blank_fraction: float, unit_variants: bool, as_of: dt.date, output: str
) -> None:
    """Write a synthetic cohort in the contract's columns, streamed in chunks (deterministic per seed)."""
    options = SynthOptions(rows, seed, parse_mix(mix), blank_fraction, unit_variants, as_of)
    bar, progress = _progress_bar("synthetic cohort")
    with bar:
        write_cohort(output, options, progress=progress)


@main.group("trials")
def trials_group() -> None:
    """Inspect the bundled trial models."""


@trials_group.command("list")
@models_option
@reports_errors
def trials_list(models: Path | None) -> None:
    """One line per trial: id, slots, status, criteria, title."""
    for trial in _select_trials([], models):
        manual = sum(c.is_manual for c in trial.criteria)
        click.echo(
            f"{trial.id}\tslots={trial.slots}\t{trial.status}\t{len(trial.criteria)} criteria "
            f"({manual} manual)\t{trial.title}"
        )


@trials_group.command("show")
@click.argument("trial_id")
@models_option
@reports_errors
def trials_show(trial_id: str, models: Path | None) -> None:
    """The whole trial in plain words, with each criterion's source quote."""
    click.echo(trial_text(_select_trials([trial_id], models)[0]), nl=False)


@trials_group.command("schema")
@reports_errors
def trials_schema() -> None:
    """The JSON Schema of a trial file (for editors that validate YAML)."""
    click.echo(trial_schema())


@trials_group.command("coverage")
@click.argument("trial_ids", nargs=-1)
@models_option
@reports_errors
def trials_coverage(trial_ids: tuple[str, ...], models: Path | None) -> None:
    """Check that every item of the published eligibility text is encoded or accounted for."""
    failed = False
    for trial in _select_trials(list(trial_ids), models):
        try:
            problems = coverage_problems(trial, models / "sources" if models else None)
        except (MatcherError, OSError) as exc:
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
