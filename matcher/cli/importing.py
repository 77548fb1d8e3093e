"""``matcher import fhir``: FHIR R4 records in, a contract cohort out."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from matcher.cli.common import parse_as_of, progress_bar, reports_errors
from matcher.fhir import import_fhir

PROBLEMS_SHOWN = 20  # problems printed; all of them are in the provenance sidecar


@click.group("import")
def import_group() -> None:
    """Build a cohort file from a hospital's records."""


@import_group.command("fhir")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--output",
    "-o",
    required=True,
    type=click.Path(dir_okay=False),
    help="Cohort: CSV, or Parquet if it ends in .parquet.",
)
@click.option(
    "--as-of", callback=parse_as_of, metavar="DATE", help="Date the values are taken at (YYYY-MM-DD); default: today."
)
@click.option(
    "--map",
    "map_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A site's code map (YAML), laid over the bundled one.",
)
@click.option(
    "--id-system", metavar="URI", help="Take patient_id from the Patient identifier of this system, not its id."
)
@reports_errors
def import_fhir_command(
    paths: tuple[Path, ...], output: str, as_of: dt.date, map_path: Path | None, id_system: str | None
) -> None:
    """Import FHIR R4 Bundles or Bulk Data NDJSON (files or export directories) into the cohort contract.

    Each Patient becomes a row; columns the records do not give stay blank (unknown).  Beside the cohort,
    COHORT.provenance.json says which resource and date each value came from, and lists every resource
    that could not be used, with why.
    """
    bar, progress = progress_bar("FHIR bytes read")
    with bar:
        summary = import_fhir(list(paths), output, as_of, map_path, id_system, progress)
    used = summary.counts.get("used", 0)
    click.echo(
        f"{summary.output}: {summary.patients} patients, {len(summary.columns)} columns, "
        f"from {summary.counts.get('resources', 0)} resources ({used} used); provenance in {summary.provenance}",
        err=True,
    )
    others = {k: v for k, v in summary.counts.items() if k not in ("resources", "used")}
    if others:
        click.echo("  " + "; ".join(f"{name}: {count}" for name, count in others.items()), err=True)
    empty = [name for name, count in summary.filled.items() if count == 0]
    if empty:
        click.echo(f"  no value found for: {', '.join(empty)}", err=True)
    for note in summary.notes[:PROBLEMS_SHOWN]:
        click.echo(f"note: {note}", err=True)
    if summary.problems:
        click.echo(f"warning: {len(summary.problems)} resource(s) could not be used:", err=True)
        for problem in summary.problems[:PROBLEMS_SHOWN]:
            click.echo(f"  {problem.line()}", err=True)
        if len(summary.problems) > PROBLEMS_SHOWN:
            click.echo(f"  … and {len(summary.problems) - PROBLEMS_SHOWN} more, all in {summary.provenance}", err=True)
