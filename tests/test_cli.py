"""The command line: exit codes, messages and output formats."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from matcher.cli import main
from matcher.trials import load_trials, scenarios_dir

DEMO = str(scenarios_dir() / "demo-cohort.csv")
AS_OF = "2026-11-23"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_screen_table_on_the_demo() -> None:
    code, out, _ = run("screen", DEMO, "--as-of", AS_OF)
    assert code == 0
    assert "Screening of" in out and "NCT06821659" in out


def test_screen_csv_has_one_row_per_patient_and_trial() -> None:
    code, out, err = run("screen", DEMO, "--as-of", AS_OF, "--format", "csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    patients = {row["patient_id"] for row in rows}
    assert len(rows) == len(patients) * len(load_trials())
    assert set(rows[0]) >= {"patient_id", "trial_id", "status", "failed", "missing", "reason"}
    assert {row["status"] for row in rows} == {"eligible", "ineligible", "unknown", "invalid"}
    invalid = [row for row in rows if row["status"] == "invalid"]
    assert invalid and all("column sledai_2k: not a number" in row["reason"] for row in invalid)
    assert "could not be read" in err


def test_screen_json_parses_and_counts_match() -> None:
    code, out, _ = run("screen", DEMO, "--as-of", AS_OF, "--format", "json", "--funnel")
    assert code == 0
    document = json.loads(out)
    assert document["as_of"] == AS_OF
    for trial in document["trials"]:
        statuses = [r["status"] for r in document["results"] if r["trial_id"] == trial["trial_id"]]
        assert trial["counts"]["eligible"] == statuses.count("eligible")
        funnel = trial["funnel"]
        assert funnel[-1]["remaining"] == trial["counts"]["eligible"] + trial["counts"]["unknown"]
        assert all(a["remaining"] >= b["remaining"] for a, b in zip(funnel, funnel[1:], strict=False))


def test_screen_one_trial_to_a_file(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    code, out, _ = run(
        "screen", DEMO, "--as-of", AS_OF, "--trials", "NCT06222853", "--format", "csv", "-o", str(target)
    )
    assert code == 0 and out == ""
    assert {row["trial_id"] for row in csv.DictReader(target.open())} == {"NCT06222853"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("screen", "missing.csv"), "missing.csv: no such file"),
        (("screen", DEMO, "--trials", "NCT00000000"), "unknown trial id 'NCT00000000'"),
        (("trials", "show", "NCT1"), "unknown trial id 'NCT1'"),
    ],
)
def test_errors_are_one_line_with_exit_status_2(args: tuple[str, ...], message: str) -> None:
    code, out, err = run(*args)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ")
    assert message in lines[0] and "Traceback" not in err


def test_bad_as_of_is_a_usage_error() -> None:
    code, _, err = run("screen", DEMO, "--as-of", "2026-13-01")
    assert code == 2 and "not an ISO date" in err


def test_trials_list_show_schema_coverage() -> None:
    code, out, _ = run("trials", "list")
    assert code == 0 and len(out.splitlines()) == len(load_trials())
    code, out, _ = run("trials", "show", "NCT06821659")
    assert code == 0 and "NCT06821659.excl.13" in out and "prior_car_t" in out
    code, out, _ = run("trials", "schema")
    assert code == 0 and json.loads(out)["title"] == "matcher trial model"
    code, out, _ = run("trials", "coverage")
    assert code == 0 and out.count("accounted for") == len(load_trials())
