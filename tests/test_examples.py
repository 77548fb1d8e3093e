"""The worked examples under examples/: a trial added with data files alone, screened through --models, gives
the verdicts its author decided from the published text (expected.csv)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from click.testing import CliRunner

from matcher.cli import main
from matcher.contract import Extension, use_extension

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
TRIALS = sorted(path for path in EXAMPLES.iterdir() if (path / "models").is_dir())


def test_there_is_a_worked_example_of_a_trial_in_another_disease() -> None:
    assert TRIALS, "examples/<registry id>/ with models/, cohort.csv and expected.csv"


@pytest.mark.parametrize("example", TRIALS, ids=[path.name for path in TRIALS])
def test_the_example_screens_as_its_text_says(example: Path) -> None:
    result = CliRunner().invoke(
        main,
        ["screen", str(example / "cohort.csv"), "--models", str(example / "models"), "--as-of", "2026-11-23"]
        + ["--format", "csv"],
    )
    use_extension(Extension())  # the example's columns leave the contract with the run
    assert result.exit_code == 0, result.output
    got = {row["patient_id"]: (row["status"], row["failed"]) for row in csv.DictReader(io.StringIO(result.stdout))}
    with (example / "expected.csv").open(encoding="utf-8") as handle:
        expected = {row["patient_id"]: (row["status"], row["failed"]) for row in csv.DictReader(handle)}
    assert got == expected
    assert {status for status, _ in got.values()} >= {"eligible", "ineligible", "unknown"}


def test_the_example_is_not_bundled() -> None:
    from matcher.trials import load_trials

    assert not set(load_trials()) & {path.name for path in TRIALS}
