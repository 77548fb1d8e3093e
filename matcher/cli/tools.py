"""``matcher synth`` and ``matcher trials`` (list, show, schema, coverage)."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import click

from matcher.cli.common import (
    RunWarnings,
    models_option,
    parse_as_of,
    progress_bar,
    reports_errors,
    select_models,
)
from matcher.coverage import coverage_problems
from matcher.errors import MatcherError
from matcher.render import trial_text
from matcher.synth import DEFAULT_AS_OF, DEFAULT_BLANK_FRACTION, SynthOptions, parse_mix, write_cohort
from matcher.trials import broken_trials, load_trials, trial_schema


@click.command("synth")
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
    callback=parse_as_of,
    default=DEFAULT_AS_OF.isoformat(),
    show_default=True,
    metavar="DATE",
    help="Screening date the event dates are spread around.",
)
@click.option(
    "--output", "-o", required=True, type=click.Path(dir_okay=False), help="CSV, or Parquet if it ends in .parquet."
)
@models_option
@reports_errors
def synth_command(
    rows: int,
    seed: int,
    mix: str | None,
    blank_fraction: float,
    unit_variants: bool,
    as_of: dt.date,
    output: str,
    models: Path | None,
) -> None:
    """Write a synthetic cohort in the contract's columns, streamed in chunks (deterministic per seed).

    With ``--models``, the diagnoses those trials add may be named in ``--mix``: synth has no generator
    for them, so they are left out with a warning (and the columns trials declare are left blank).
    """
    warnings = RunWarnings()
    if models is not None:
        select_models([], models, warnings)  # their declared columns and codes in force
    unmade: list[str] = []
    options = SynthOptions(rows, seed, parse_mix(mix, unmade), blank_fraction, unit_variants, as_of)
    warnings.add(*unmade)
    bar, progress = progress_bar("synthetic cohort")
    with bar:
        write_cohort(output, options, progress=progress)
    warnings.print()


@click.group("trials")
def trials_group() -> None:
    """Inspect the bundled trial models."""


@trials_group.command("list")
@models_option
@reports_errors
def trials_list(models: Path | None) -> None:
    """One line per trial: id, slots, status, criteria, title; a file that does not load, with its error."""
    broken = broken_trials(models)
    for trial_id, error in broken.items():
        click.echo(f"{trial_id}\tbroken\t{error}")
    for trial in select_models([], models) if load_trials(models) or not broken else []:
        manual = sum(c.is_manual for c in trial.criteria)
        click.echo(
            f"{trial.id}\tslots={trial.slots}\t{trial.status}\t{len(trial.criteria)} criteria "
            f"({manual} manual)\t{trial.title}"
        )
    if broken:
        sys.exit(1)


@trials_group.command("show")
@click.argument("trial_id")
@models_option
@reports_errors
def trials_show(trial_id: str, models: Path | None) -> None:
    """The whole trial in plain words, with each criterion's source quote."""
    click.echo(trial_text(select_models([trial_id], models)[0]), nl=False)


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
    for trial in select_models(list(trial_ids), models):
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
