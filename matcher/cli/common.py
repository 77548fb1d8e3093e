"""What every command shares: error wording and exit codes, option callbacks, trial selection, loading with
its warnings, output, and progress."""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import sys
import time
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.progress import Progress

from matcher.cohort import Cohort, check_as_of, columns_to_read, given_columns, invalid_rows_report, load_cohort
from matcher.contract import absent_columns
from matcher.errors import MatcherError, ParameterError
from matcher.ir import Trial
from matcher.output import write_atomic
from matcher.scenario import (
    is_recruiting,
    status_words,
)
from matcher.trials import broken_trials, select_trials

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


def parse_as_of(_ctx: click.Context, _param: click.Parameter, value: str | None) -> dt.date:
    if value is None:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an ISO date (YYYY-MM-DD)") from None


def _trial_ids(_ctx: click.Context, _param: click.Parameter, value: tuple[str, ...]) -> list[str]:
    return [part.strip() for item in value for part in item.split(",") if part.strip()]


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


def select_models(ids: list[str], models: Path | None, warnings: RunWarnings | None = None) -> list[Trial]:
    """The trials asked for; a trial file that does not load is left out with a warning unless it is asked for."""
    chosen = select_trials(ids, models)
    if not chosen:
        raise MatcherError(f"{models}: no trial model files (NCT*.yaml)")
    if warnings is not None:
        for trial_id, error in broken_trials(models).items():
            if not ids:
                warnings.add(f"{error} ({trial_id} left out)")
    return chosen


def trials_for_run(
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
    chosen = select_models(ids, models, warnings)
    for trial in chosen:
        if not is_recruiting(trial.status):
            fate = "left out (--recruiting-only)" if recruiting_only else "kept in; --recruiting-only leaves it out"
            warnings.add(f"{trial.id} is not recruiting ({status_words(trial.status)}): {fate}")
    if recruiting_only:
        chosen = [trial for trial in chosen if is_recruiting(trial.status)]
        if not chosen:
            raise MatcherError("--recruiting-only leaves no trial: none of those selected is recruiting")
    return chosen


def load_checked(
    path: Path,
    as_of: dt.date,
    trials: list[Trial],
    allow_missing: bool,
    warnings: RunWarnings,
    extra: Iterable[str] = (),
) -> Cohort:
    """The cohort with its dates checked against the as-of date; its warnings and invalid rows go to ``warnings``.

    Only the columns the run reads are read (``columns_to_read``: the trials' fields, ``extra`` besides).
    """
    loaded = check_as_of(load_cohort(path, columns_to_read(trials, extra)), as_of)
    warnings.add(*loaded.warnings, *check_columns(path, trials, allow_missing), *invalid_rows_report(loaded))
    return loaded


ABSENT_NAMED = 20  # absent columns named in the warning, most-read first; a file lacking more is not an extract


def check_columns(path: Path, trials: list[Trial], allow_missing: bool) -> list[str]:
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
    absent = sorted(absent, key=lambda column: not column.blocks_every_trial)  # what no one is eligible without, first
    listed = ", ".join(f"{column.name} ({_criteria(column.criteria)})" for column in absent[:ABSENT_NAMED])
    rest = absent[ABSENT_NAMED:]
    if rest:
        listed += f" and {len(rest)} more columns ({_criteria(sum(column.criteria for column in rest))})"
    return [f"{path}: absent columns leave criteria of the selected trials undecided: {listed}"]


def _criteria(count: int) -> str:
    return f"{count} criterion" if count == 1 else f"{count} criteria"


def emit(text: str | bytes | Iterable[bytes], output: str | None) -> None:
    if output:
        write_atomic(output, text)
    elif isinstance(text, (str, bytes)):
        click.echo(text, nl=False)
    else:
        stdout = sys.stdout.buffer  # the binary stream under click's (and CliRunner's) stdout
        for chunk in text:
            stdout.write(chunk)
        stdout.flush()


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


PIPE_WIDTH = 100_000  # wider than any table: a table in a pipe or a file keeps its natural width


PROGRESS_EVERY_S = 10.0  # at most one plain progress line this often, when stderr is not a terminal


clock = time.monotonic


def progress_bar(label: str) -> tuple[AbstractContextManager[Any], Callable[[int, int], None]]:
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
        self.last = clock()

    def __call__(self, done: int, total: int | None) -> None:
        now = clock()
        if now - self.last < PROGRESS_EVERY_S:
            return
        self.last = now
        share = f" of {total:,} ({done / total:.0%})" if total else ""
        click.echo(f"{self.label}: {done:,}{share}", err=True)


as_of_option = click.option(
    "--as-of", callback=parse_as_of, metavar="DATE", help="Screening date (YYYY-MM-DD); default: today."
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
