"""The command line: exit codes, messages and output formats."""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from trialkit import NOT_RECRUITING_IN_WORDS, RECRUITING

import matcher.cli.common
from matcher import formats
from matcher.cli import main
from matcher.outcome import Allocation
from matcher.trials import load_trials, models_dir, scenarios_dir

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


# ------------------------------------------------------------------ recruitment status


def not_recruiting() -> dict[str, str]:
    """The status of each loaded trial not recruiting now, by trial id (derived, so any trial in models/ counts)."""
    return {t.id: t.status for t in load_trials().values() if t.status not in RECRUITING}


def in_words() -> dict[str, str]:
    """Each trial not recruiting now, with its status in the words the warnings use."""
    return {trial_id: NOT_RECRUITING_IN_WORDS[status] for trial_id, status in not_recruiting().items()}


def warnings_of(err: str) -> list[str]:
    return [line.removeprefix("warning: ") for line in err.splitlines() if line.startswith("warning: ")]


def test_recruitment_comes_from_each_models_status() -> None:
    statuses = {trial.id: trial.status for trial in load_trials().values()}
    declared = [yaml.safe_load(path.read_text("utf-8")) for path in sorted(models_dir().glob("*.yaml"))]
    assert statuses == {model["id"]: model["status"] for model in declared}
    # the tests of --recruiting-only below see both kinds of trial
    assert 0 < len(not_recruiting()) < len(statuses)


def test_allocate_says_which_trials_are_not_recruiting_next_to_their_rosters() -> None:
    code, out, err = run("allocate", DEMO, "--as-of", AS_OF)
    assert code == 0
    assert in_words()
    for trial_id, words in in_words().items():
        expected = f"{trial_id} is not recruiting ({words}): kept in; --recruiting-only leaves it out"
        assert warnings_of(err).count(expected) == 1
        lines = out.splitlines()
        row = next(index for index, line in enumerate(lines) if line.startswith(f"│ {trial_id}"))
        assert lines[row + 1].startswith(f"│ ({words})")
    recruiting = next(t.id for t in load_trials().values() if t.id not in not_recruiting())
    assert "recruiting" not in next(line for line in out.splitlines() if line.startswith(f"│ {recruiting}"))
    code, out, _ = run("allocate", DEMO, "--as-of", AS_OF, "--format", "json")
    assert {t["trial_id"]: t["recruitment"] for t in json.loads(out)["trials"]} == {
        t.id: t.status for t in load_trials().values()
    }


@pytest.mark.parametrize(
    "command",
    [
        ("screen", DEMO, "--format", "json"),
        ("whatif", DEMO, "--patient", "P001", "--format", "json"),
        ("allocate", DEMO, "--format", "json"),
    ],
    ids=["screen", "whatif", "allocate"],
)
def test_recruiting_only_leaves_out_the_trials_not_recruiting(command: tuple[str, ...]) -> None:
    code, out, err = run(*command, "--as-of", AS_OF, "--recruiting-only")
    assert code == 0, err
    document = json.loads(out)
    listed = document["trials"] if "trials" in document else document["plans"]
    expected = [t.id for t in load_trials().values() if t.id not in not_recruiting()]
    assert [entry["trial_id"] for entry in listed] == expected
    assert in_words() and expected
    for trial_id, words in in_words().items():
        assert f"{trial_id} is not recruiting ({words}): left out (--recruiting-only)" in warnings_of(err)
        assert trial_id not in out.replace(f"{trial_id} is not recruiting", "")  # only in the warning


def test_recruiting_only_with_no_recruiting_trial_is_an_error() -> None:
    code, _, err = run("screen", DEMO, "--as-of", AS_OF, "--trials", ",".join(not_recruiting()), "--recruiting-only")
    assert code == 2
    assert err == "Error: --recruiting-only leaves no trial: none of those selected is recruiting\n"


@pytest.mark.parametrize(
    ("status", "warned"), [("enrolling_by_invitation", False), ("recruiting", False), ("completed", True)]
)
def test_enrolling_by_invitation_is_recruiting(tmp_path: Path, status: str, warned: bool) -> None:
    (tmp_path / "models").mkdir()
    text = (models_dir() / "NCT06056921.yaml").read_text("utf-8")
    assert "\nstatus: recruiting\n" in text
    (tmp_path / "models" / "NCT06056921.yaml").write_text(
        text.replace("\nstatus: recruiting\n", f"\nstatus: {status}\n")
    )
    code, out, err = run("screen", DEMO, "--as-of", AS_OF, "--format", "csv", "--models", str(tmp_path / "models"))
    assert code == 0
    assert ("NCT06056921 is not recruiting (completed)" in err) == warned
    code, out, err = run(
        "screen", DEMO, "--as-of", AS_OF, "--format", "csv", "--models", str(tmp_path / "models"), "--recruiting-only"
    )
    assert (code, "NCT06056921" in out) == ((2, False) if warned else (0, True))


# ------------------------------------------------------------------ the weekly workflow (issue 14)


def test_outputs_respect_the_umask(tmp_path: Path) -> None:
    """Atomic writes used to leave 0600 files; every output now gets 0666 less the umask, as synth's do."""
    commands = {
        "screen.csv": ("screen", DEMO, "--as-of", AS_OF, "--format", "csv"),
        "screen.txt": ("screen", DEMO, "--as-of", AS_OF),
        "allocate.json": ("allocate", DEMO, "--as-of", AS_OF, "--format", "json"),
        "report.html": ("report", DEMO, "--as-of", AS_OF),
        "synth.csv": ("synth", "--n", "5"),
    }
    for umask in (0o022, 0o027):
        previous = os.umask(umask)
        try:
            for name, command in commands.items():
                target = tmp_path / f"{umask:o}-{name}"
                code, _, err = run(*command, "-o", str(target))
                assert code == 0, err
                assert target.stat().st_mode & 0o777 == 0o666 & ~umask, name
        finally:
            os.umask(previous)
    assert not [path.name for path in tmp_path.iterdir() if path.name.startswith(".")]  # no temporary file left


def test_a_piped_table_keeps_every_trial_id_whole(tmp_path: Path) -> None:
    executable = shutil.which("matcher", path=str(Path(sys.executable).parent))
    assert executable is not None
    environment = {key: value for key, value in os.environ.items() if key not in ("COLUMNS", "LINES")}
    trial_ids = list(load_trials())
    piped = {
        command: subprocess.run(
            [executable, command, DEMO, "--as-of", AS_OF], capture_output=True, text=True, env=environment, check=True
        ).stdout
        for command in ("screen", "allocate")
    }
    for command, out in piped.items():
        assert all(f" {trial_id} " in out for trial_id in trial_ids), command
        assert "…" not in out, command  # no cell cut short
    header = next(line for line in piped["screen"].splitlines() if "patient_id" in line)
    assert [cell.strip() for cell in header.strip("┃").split("┃")] == ["patient_id", *trial_ids]
    code, _, _ = run("screen", DEMO, "--as-of", AS_OF, "-o", str(tmp_path / "screen.txt"))
    assert code == 0 and (tmp_path / "screen.txt").read_text("utf-8") == piped["screen"]  # a file reads the same


def big_cohort(tmp_path: Path, copies: int) -> Path:
    with open(DEMO, newline="", encoding="utf-8") as handle:
        header, *rows = list(csv.reader(handle))
    path = tmp_path / "big.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows([f"{row[0]}-{copy}", *row[1:]] for copy in range(copies) for row in rows)
    return path


def test_long_allocation_tables_are_shortened_without_building_every_outcome(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cohort = str(big_cohort(tmp_path, 8))
    code, out, _ = run("allocate", cohort, "--as-of", AS_OF, "--format", "csv")
    assert code == 0
    not_placed = [row["patient_id"] for row in csv.DictReader(io.StringIO(out)) if row["status"] != "assigned"]
    assert len(not_placed) > 200

    def every_outcome(_self: Allocation) -> None:
        raise AssertionError("the table built every patient's outcome")

    monkeypatch.setattr(Allocation, "patients", property(every_outcome))
    code, table, err = run("allocate", cohort, "--as-of", AS_OF)
    assert code == 0, err
    shown = table.split("Patients not placed")[1]
    assert [pid for pid in not_placed if f"│ {pid} " in shown] == not_placed[:200]
    assert table.rstrip().endswith(
        f"({len(not_placed) - 200} more patients not placed: use --format csv or json for all)"
    )


def test_long_plan_tables_are_shortened_the_same_way(monkeypatch: pytest.MonkeyPatch) -> None:
    command = ("whatif", DEMO, "--as-of", AS_OF, "--near-miss", "--within", "60", "--workers", "1")
    code, out, _ = run(*command, "--format", "json")
    assert code == 0
    patients = [plan["patient_id"] for plan in json.loads(out)["plans"]]
    assert len(patients) > 10
    monkeypatch.setattr(formats, "TABLE_ROWS", 10)
    code, table, _ = run(*command)
    assert code == 0
    assert [row.split("│")[1].strip() for row in table.splitlines() if row.startswith("│ P")] == patients[:10]
    assert table.rstrip().endswith(f"({len(patients) - 10} more plans: use --format json for all)")


@pytest.mark.parametrize("step", [11.0, 5.0, 0.5])
def test_progress_without_a_terminal_is_a_plain_line_at_most_every_ten_seconds(
    monkeypatch: pytest.MonkeyPatch, step: float
) -> None:
    """The clock moves ``step`` seconds at each reading: one when the scan starts, one per progress report."""
    ticks = (step * tick for tick in itertools.count())
    monkeypatch.setattr(matcher.cli.common, "clock", lambda: next(ticks))
    code, _, err = run(  # every pair planned, so that there are enough batches to report
        "whatif",
        DEMO,
        "--as-of",
        AS_OF,
        "--near-miss",
        "--within",
        "60",
        "--workers",
        "1",
        "--format",
        "json",
        "--exhaustive",
    )
    assert code == 0
    reports = round(next(ticks) / step) - 1
    assert reports >= 3
    expected, last = [], 0.0
    for done in range(1, reports + 1):
        if done * step - last >= 10:
            expected.append(f"near-miss scan: {done:,} of {reports:,} ({done / reports:.0%})")
            last = done * step
    assert [line for line in err.splitlines() if line.startswith("near-miss scan")] == expected
    assert len(expected) == {11.0: reports, 5.0: reports // 2, 0.5: 0}[step]


def test_schedule_reports_each_level_of_the_calendar_solved(monkeypatch: pytest.MonkeyPatch) -> None:
    """On thousands of patients one level (sooner days) took minutes in silence: each level solved is reported."""
    ticks = (11.0 * tick for tick in itertools.count())
    monkeypatch.setattr(matcher.cli.common, "clock", lambda: next(ticks))
    code, _, err = run("schedule", DEMO, "--as-of", AS_OF, "--workers", "1", "--format", "csv")
    assert code == 0
    levels = [line for line in err.splitlines() if line.startswith("calendar:")]
    assert levels == [f"calendar: objective levels solved: {n} of 6 ({n / 6:.0%})" for n in range(1, 7)]


def test_report_progress_without_a_terminal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ticks = (11.0 * tick for tick in itertools.count())
    monkeypatch.setattr(matcher.cli.common, "clock", lambda: next(ticks))
    code, _, err = run(
        "report", DEMO, "--as-of", AS_OF, "--within", "60", "--workers", "1", "-o", str(tmp_path / "r.html")
    )
    assert code == 0
    lines = [line for line in err.splitlines() if not line.startswith("warning: ")]
    total = len(lines)
    assert total >= 2 and lines == [
        f"what-if plans: {done} of {total} ({done / total:.0%})" for done in range(1, total + 1)
    ]


def test_every_json_output_carries_every_warning_printed() -> None:
    documents = {}
    for command in (
        ("screen", DEMO, "--format", "json"),
        ("allocate", DEMO, "--format", "json"),
        ("whatif", DEMO, "--patient", "P001", "--format", "json"),
        ("whatif", DEMO, "--patient", "P001", "--set", "prior_car_t=yes", "--format", "json"),
    ):
        code, out, err = run(*command, "--as-of", AS_OF)
        assert code == 0
        documents[command] = json.loads(out)["warnings"]
        assert documents[command] == warnings_of(err)
    first, *others = documents.values()
    assert all(other == first for other in others)
    assert f"{DEMO}: 1 row(s) could not be read; they are reported as invalid" in first
    assert f"{DEMO}: row 31 (patient_id 'P030'): column sledai_2k: not a number" in first


@pytest.mark.parametrize(
    ("as_of", "warned"),
    [
        ("2019-01-01", True),
        ("2099-01-01", True),
        ((dt.date.today() - dt.timedelta(days=300)).isoformat(), False),
        ((dt.date.today() + dt.timedelta(days=300)).isoformat(), False),
    ],
    ids=["years-past", "years-ahead", "months-past", "months-ahead"],
)
def test_an_as_of_date_more_than_a_year_away_is_a_warning(as_of: str, warned: bool) -> None:
    code, out, err = run("screen", DEMO, "--as-of", as_of, "--format", "json")
    assert code == 0
    expected = (
        f"--as-of {as_of} is more than a year from today ({dt.date.today().isoformat()}); "
        "the verdicts will not reflect the present"
    )
    assert (expected in warnings_of(err)) == warned
    assert (expected in json.loads(out)["warnings"]) == warned
