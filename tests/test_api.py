"""The Python API gives the command line's answers as DataFrames, whatever pandas made of the cohort's types."""

from __future__ import annotations

import datetime as dt
import io
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

import matcher
from matcher.cli import main

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "scenarios" / "demo-cohort.csv"
AS_OF = "2026-11-23"


def _cli_frame(*args: str) -> pd.DataFrame:
    result = CliRunner().invoke(main, [*args, "--as-of", AS_OF, "--format", "csv"])
    assert result.exit_code == 0, result.output
    return pd.read_csv(io.StringIO(result.stdout), dtype=str, keep_default_na=False)


def _as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """The API's frame spelled as its CSV: lists joined, dates as ISO text, blanks empty."""
    out = frame.copy()
    for name in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[name]):
            out[name] = [value.date().isoformat() if not pd.isna(value) else "" for value in out[name]]
        else:
            out[name] = [";".join(v) if isinstance(v, list) else ("" if pd.isna(v) else str(v)) for v in out[name]]
    return out


FLAVOURS = {
    "text": lambda: pd.read_csv(DEMO, dtype=str, keep_default_na=False),
    "pandas-typed": lambda: pd.read_csv(DEMO),
    "datetime64": lambda: pd.read_csv(DEMO, parse_dates=["birth_date", "diagnosis_date"]),
    "categorical": lambda: pd.read_csv(DEMO).astype({"diagnosis": "category", "sex": "category"}),
}


@pytest.mark.parametrize("flavour", list(FLAVOURS))
def test_screen_of_a_dataframe_equals_the_command_line(flavour: str) -> None:
    frame = FLAVOURS[flavour]()
    if flavour == "datetime64":
        assert pd.api.types.is_datetime64_any_dtype(frame["birth_date"])
    result = matcher.screen(frame, as_of=AS_OF)
    assert list(result.columns) == [
        "patient_id",
        "trial_id",
        "status",
        "failed",
        "missing",
        "undecided",
        "manual",
        "reason",
    ]
    assert isinstance(result["failed"][0], list)
    expected = _cli_frame("screen", str(DEMO))
    got = _as_text(result)
    # the invalid row's reason names the source; everything else is the same text
    same = got["status"] != "invalid"
    pd.testing.assert_frame_equal(got[same].reset_index(drop=True), expected[same].reset_index(drop=True))
    assert (got["status"] == expected["status"]).all()


def test_allocate_of_a_dataframe_equals_the_command_line() -> None:
    result = matcher.allocate(pd.read_csv(DEMO), as_of=dt.date(2026, 11, 23))
    assert pd.api.types.is_datetime64_any_dtype(result["eligible_until"])
    got, expected = _as_text(result), _cli_frame("allocate", str(DEMO))
    same = got["status"] != "invalid"
    pd.testing.assert_frame_equal(got[same].reset_index(drop=True), expected[same].reset_index(drop=True))


def test_a_path_and_a_table_work_too() -> None:
    import pyarrow.csv as pacsv

    by_path = matcher.screen(DEMO, as_of=AS_OF, trials=["NCT06821659"])
    by_table = matcher.screen(pacsv.read_csv(DEMO), as_of=AS_OF, trials=["NCT06821659"])
    assert list(by_path["status"]) == list(by_table["status"])
    assert set(by_path["trial_id"]) == {"NCT06821659"}


def test_whatif_gives_one_row_per_trial_with_dates() -> None:
    plans = matcher.whatif(pd.read_csv(DEMO), patient="P020", as_of=AS_OF, trials=["NCT06983964"])
    assert len(plans) == 1
    row = plans.iloc[0]
    assert row["earliest_date"] == pd.Timestamp("2026-12-21")
    assert row["actions"] == [
        # her pregnancy test ages out by then, so the plan repeats it (review 30 M3; it ended unknown before)
        "2026-12-21: repeat the pregnancy test (urine): must be negative; the result is awaited, in hand before "
        "enrolment",
        "wait until 2026-12-21: the 6-week window after the live vaccine of 2026-11-09",
    ]


def test_errors_are_matcher_errors_with_the_command_line_wording() -> None:
    with pytest.raises(matcher.MatcherError, match="required column 'patient_id' is missing"):
        matcher.screen(pd.DataFrame({"age_years": [40]}), as_of=AS_OF)
    with pytest.raises(matcher.MatcherError, match="not a date"):
        matcher.screen(pd.read_csv(DEMO), as_of="23/11/2026")
    with pytest.raises(matcher.MatcherError, match="unknown trial id 'NCT00000000'"):
        matcher.screen(pd.read_csv(DEMO), as_of=AS_OF, trials=["NCT00000000"])


def test_the_api_is_listed_and_python_m_matcher_runs() -> None:
    assert {"screen", "whatif", "near_misses", "allocate", "load_trials"} <= set(dir(matcher))
    assert set(matcher.load_trials()) >= {"NCT06821659"}
    done = subprocess.run([sys.executable, "-m", "matcher", "--help"], capture_output=True, text=True)
    assert done.returncode == 0 and "Usage: matcher" in done.stdout


def test_the_notebook_example_runs() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "notebook.py")], capture_output=True, text=True, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "prednisone 25 mg/day is above 20 mg/day" in done.stdout  # P036, NCT06983964
    assert "wait until 2026-12-21" in done.stdout  # P020's plan for NCT06983964


def test_near_misses_gives_one_row_per_reachable_plan() -> None:
    near = matcher.near_misses(pd.read_csv(DEMO), as_of=AS_OF, within=30, trials=["NCT06983964"], workers=1)
    assert set(near["reachable"]) == {True}
    p020 = near[near["patient_id"] == "P020"]
    assert list(p020["earliest_date"]) == [pd.Timestamp("2026-12-21")]
    cli = CliRunner().invoke(
        main,
        [
            "whatif",
            str(DEMO),
            "--as-of",
            AS_OF,
            "--near-miss",
            "--within",
            "30",
            "--trials",
            "NCT06983964",
            "--workers",
            "1",
            "--format",
            "json",
        ],
    )
    assert [p["patient_id"] for p in json.loads(cli.stdout)["plans"]] == list(near["patient_id"])
