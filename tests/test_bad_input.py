"""Bad input through the command line, and outputs that stay safe when things go wrong.

Each case runs ``matcher screen`` (or ``whatif`` / ``trials``) with click's CliRunner.
A problem of the file as a whole stops the run: ONE line ``Error: …`` naming the
file, the line or row (and patient_id where known) and the column, exit status 2, no
traceback.  A problem confined to one patient's values does not stop the others: the
row is kept with status ``invalid`` and the reason in every output (CSV, JSON, table),
and stderr warns with its row, patient_id and reason.  Messages name columns, never
patient values other than the id.

| case                                                      | decision                                          |
|-----------------------------------------------------------|---------------------------------------------------|
| empty file; header only                                   | error: nothing to screen                          |
| no ``patient_id`` column                                  | error: no row could be reported                   |
| duplicate ``patient_id``                                  | error naming the id and its rows                  |
| blank ``patient_id``                                      | error naming the row                              |
| unknown column                                            | warning on stderr naming each once; runs on      |
| ``abc``, ``nan``, ``1e999``, ``1e300`` in a number column | row invalid                                       |
| ``2026-13-45`` or ``2026-02-30`` as a date                | row invalid                                       |
| ``maybe`` as a boolean; unknown diagnosis code            | row invalid                                       |
| negative count or lab, age > 130, LVEF > 100, % outside   | row invalid; bounds are data in                   |
| its range                                                 | ``matcher/data/plausible-ranges.csv``             |
| past-event date after ``--as-of``; birth after it or more | row invalid, checked at screening time            |
| than 130 years before it                                  | (``cohort.check_as_of``, bounds in the same file) |
| unknown unit in a header                                  | error naming the column and the unit              |
| same fact twice (``creatinine_mg_dl``,                    | error naming both headers                         |
| ``creatinine[umol/L]``)                                   |                                                   |
| bytes that are not UTF-8 (or a UTF-16 file)               | error naming the line and the column              |
| ragged line (too many or too few fields)                  | error naming the line, never echoing it           |
| BOM; CRLF line endings                                    | read as usual                                     |
| semicolon- or tab-delimited                               | sniffed from the header; with ``;``, a decimal    |
|                                                           | comma (``60,5``) reads as 60.5                    |
| trial YAML (``--models DIR``): unknown rule type or       | error naming the YAML file and the path in it     |
| criterion kind, dangling reference, invalid range         |                                                   |
| ``--models`` directory without models                     | error                                             |
| ``whatif --patient`` on an invalid row (no ``--set``)     | error with the row's reason                       |

Why the split: a bad value concerns one patient, so the other patients are screened and
the row stays visible with its reason.  A problem of the file as a whole (structure,
encoding, identity, units, a shifted line) means no row can be trusted or told apart.
"""

from __future__ import annotations

import csv
import errno
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from matcher import output
from matcher.cli import main
from matcher.trials import load_trials

AS_OF = "2026-11-23"
TRIALS = len(load_trials())


def write(tmp_path: Path, content: str | bytes, name: str = "cohort.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


def screen(path: Path, *extra: str) -> Result:
    return CliRunner().invoke(main, ["screen", str(path), "--as-of", AS_OF, *extra])


def assert_clean_error(result: Result, *fragments: str) -> str:
    """Exit status 2 and exactly one stderr line, ``Error: …``, holding every fragment."""
    assert result.exit_code == 2, (result.exit_code, result.stderr, result.exception)
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    return lines[0]


# ------------------------------------------------------------------ whole-file errors


@pytest.mark.parametrize(
    ("content", "fragments"),
    [
        ("", ["cohort.csv: the file is empty"]),
        ("patient_id,sex,diagnosis\n", ["cohort.csv: the file has a header but no patient rows"]),
        ("sex,diagnosis\nF,SLE\n", ["cohort.csv: required column 'patient_id' is missing"]),
        ("patient_id,sex\nP1,F\nP2,M\nP1,M\n", ["cohort.csv: duplicate patient_id 'P1' in rows 2, 4", "'patient_id'"]),
        ("patient_id,sex\nP1,F\n  ,M\n", ["cohort.csv: row 3: column 'patient_id' is blank"]),
        ("patient_id,creatinine[furlong]\nP1,1\n", ["cohort.csv: column 'creatinine_mg_dl'", "'furlong'"]),
        ("patient_id,sex[kg]\nP1,F\n", ["cohort.csv: column 'sex[kg]': sex takes no unit"]),
        (
            "patient_id,creatinine_mg_dl,creatinine[umol/L]\nP1,1.0,88.4\n",
            ["cohort.csv: columns 'creatinine_mg_dl' and 'creatinine[umol/L]' both give creatinine_mg_dl"],
        ),
        ("patient_id,sex\nP1,F\nP2,M,SLE\nP3,F\n", ["cohort.csv: line 3: 3 field(s) where the header has 2"]),
        ("patient_id,sex,diagnosis\nP1,F,SLE\n\nP2,M\n", ["cohort.csv: line 4: 2 field(s) where the header has 3"]),
        ('patient_id,sex\nP1,F\n"P2,M\n', ["cohort.csv: line 3: 1 field(s) where the header has 2"]),
        ("\npatient_id,sex\nP1,F\n", ["cohort.csv: line 1 is blank"]),
    ],
    ids=[
        "empty",
        "header-only",
        "no-patient-id",
        "duplicate-ids",
        "blank-id",
        "unknown-unit",
        "unit-on-text-column",
        "same-fact-twice",
        "ragged-long",
        "ragged-short-after-blank-line",
        "unclosed-quote",
        "blank-first-line",
    ],
)
def test_whole_file_problems_are_one_clean_error(tmp_path: Path, content: str, fragments: list[str]) -> None:
    assert_clean_error(screen(write(tmp_path, content), "--format", "csv"), *fragments)


def test_ragged_line_message_does_not_echo_the_line(tmp_path: Path) -> None:
    line = assert_clean_error(screen(write(tmp_path, "patient_id,sex\nP1,F\nSECRET-ID,M,hidden-value\n")))
    assert "SECRET-ID" not in line and "hidden-value" not in line


def test_non_utf8_bytes_name_the_line_and_column(tmp_path: Path) -> None:
    content = "patient_id,site,sex\nP1,Bern,F\nP2,Z\xfcrich,M\n".encode("latin-1")
    assert_clean_error(screen(write(tmp_path, content)), "cohort.csv: line 3, column 'site': not valid UTF-8")


def test_non_utf8_header_and_utf16_files(tmp_path: Path) -> None:
    assert_clean_error(screen(write(tmp_path, "patient_id,s\xfcte\nP1,x\n".encode("latin-1"))), "line 1 (the header)")
    utf16 = write(tmp_path, "patient_id,sex\nP1,F\n".encode("utf-16"), "utf16.csv")
    assert_clean_error(screen(utf16), "utf16.csv: the file is UTF-16 text; save it as UTF-8")


def test_unreadable_parquet_column_is_a_clean_error(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "cohort.parquet"
    pq.write_table(pa.table({"patient_id": ["P1"], "sledai_2k": pa.array([[8]])}), path)
    assert_clean_error(screen(path), "cohort.parquet: column 'sledai_2k' cannot be read")
    junk = write(tmp_path, b"PAR1 this is not parquet", "junk.parquet")
    assert_clean_error(screen(junk), "junk.parquet: not a readable Parquet file")


# ------------------------------------------------------------------ rows kept as invalid


def statuses(result: Result) -> dict[str, set[tuple[str, str]]]:
    """patient_id -> {(status, reason)} over the trials, from ``--format csv``."""
    out: dict[str, set[tuple[str, str]]] = {}
    for row in csv.DictReader(io.StringIO(result.stdout)):
        out.setdefault(row["patient_id"], set()).add((row["status"], row["reason"]))
    return out


GOOD_ROW = {"patient_id": "P1", "sex": "F", "diagnosis": "SLE", "birth_date": "1990-05-01"}


@pytest.mark.parametrize(
    ("column", "value", "reason"),
    [
        ("sledai_2k", "abc", "column sledai_2k: not a number"),
        ("sledai_2k", "nan", "column sledai_2k: not a number"),
        ("weight_kg", "1e999", "column weight_kg: not a finite number"),
        ("anc_10e9_l", "1e300", "column anc_10e9_l: too large"),
        ("sledai_2k", "8.5", "column sledai_2k: not a whole number"),
        ("birth_date", "2026-13-45", "column birth_date: not an ISO date (YYYY-MM-DD) or 'never'"),
        ("last_relapse_date", "2026-02-30", "column last_relapse_date: not an ISO date"),
        ("last_relapse_date", "03/04/2025", "column last_relapse_date: not an ISO date"),
        ("prior_car_t", "maybe", "column prior_car_t: not a boolean (true/false, yes/no, 1/0)"),
        ("diagnosis", "lupus-ish", "column diagnosis: not one of SLE|SS|SSC|IIM|AAV|OTHER"),
        ("anc_10e9_l", "-0.5", "column anc_10e9_l: outside the plausible range (at least 0 10^9/L)"),
        ("dmards_failed", "-2", "column dmards_failed: outside the plausible range (at least 0 count)"),
        ("platelets[/mm3]", "-5000", "column platelets_10e9_l: outside the plausible range (at least 0 10^9/L)"),
        ("age_years", "131", "column age_years: outside the plausible range (0 to 130 years)"),
        ("lvef_pct", "101.5", "column lvef_pct: outside the plausible range (0 to 100 %)"),
        ("spo2_pct", "130", "column spo2_pct: outside the plausible range (0 to 100 %)"),
        ("iim_probability_pct", "-3.25", "column iim_probability_pct: outside the plausible range (0 to 100 %)"),
        ("fvc_change_6m_pct", "-140", "column fvc_change_6m_pct: outside the plausible range (at least -100 %)"),
        ("glucocorticoid_mg_day", "-10", "column glucocorticoid_mg_day: outside the plausible range"),
        ("cardiac_event_date", "2026-11-24", "column cardiac_event_date: after the as-of date (2026-11-23)"),
        ("live_vaccine_date", "2027-01-15", "column live_vaccine_date: after the as-of date (2026-11-23)"),
        ("birth_date", "2027-03-01", "column birth_date: after the as-of date (2026-11-23)"),
        ("birth_date", "1890-01-01", "column birth_date: more than 130 years before the as-of date"),
    ],
)
def test_a_bad_value_makes_the_row_invalid_in_every_output(
    tmp_path: Path, column: str, value: str, reason: str
) -> None:
    header = [*GOOD_ROW, column] if column not in GOOD_ROW else list(GOOD_ROW)
    bad = {**GOOD_ROW, "patient_id": "P2", column: value}
    lines = [",".join(header), ",".join(GOOD_ROW.get(c, "") for c in header), ",".join(bad[c] for c in header)]
    path = write(tmp_path, "\n".join(lines) + "\n")

    result = screen(path, "--format", "csv")
    assert result.exit_code == 0, result.stderr
    by_patient = statuses(result)
    ((status, csv_reason),) = by_patient["P2"]  # one status and reason over all trials
    assert status == "invalid" and reason in csv_reason
    assert all(status != "invalid" for status, _ in by_patient["P1"])
    assert f"row 3 (patient_id 'P2'): {reason}" in result.stderr
    assert "Traceback" not in result.stderr

    document = json.loads(screen(path, "--format", "json").stdout)
    assert {(r["status"], r["reason"]) for r in document["results"] if r["patient_id"] == "P2"} == {
        ("invalid", csv_reason)
    }

    table = screen(path).stdout
    assert "Invalid rows" in table and f"column {csv_reason.split()[1]}" in table

    for message in (csv_reason, result.stderr.replace(str(path), "cohort.csv")):
        assert value not in message, f"patient value {value!r} was printed"


def test_unknown_columns_are_a_warning_listing_each_once(tmp_path: Path) -> None:
    path = write(tmp_path, "patient_id,shoe_size,sex,shoe_size,favourite_colour,\nP1,9,F,9,red,\n")
    result = screen(path, "--format", "csv")
    assert result.exit_code == 0
    warnings = [line for line in result.stderr.splitlines() if "unknown columns" in line]
    assert warnings == [
        "warning: " + str(path) + ": ignoring unknown columns: shoe_size, favourite_colour, (unnamed column 6)"
    ]
    assert statuses(result)["P1"] != {("invalid", "")}


@pytest.mark.parametrize(
    "content",
    [
        "\ufeffpatient_id,sex,weight_kg,lvef_pct\nP1,F,60.5,55\n",
        "patient_id,sex,weight_kg,lvef_pct\r\nP1,F,60.5,55\r\n",
        "patient_id;sex;weight_kg;lvef_pct\r\nP1;F;60,5;55\r\n",
        "\ufeffpatient_id;sex;weight_kg;lvef_pct\nP1;F;60.5;55\n",
        "patient_id\tsex\tweight_kg\tlvef_pct\nP1\tF\t60.5\t55\n",
    ],
    ids=["bom", "crlf", "semicolon-decimal-comma-crlf", "semicolon-bom", "tab"],
)
def test_common_export_variants_read_the_same(tmp_path: Path, content: str) -> None:
    plain = write(tmp_path, "patient_id,sex,weight_kg,lvef_pct\nP1,F,60.5,55\n", "plain.csv")
    reference = screen(plain, "--format", "csv")
    result = screen(write(tmp_path, content), "--format", "csv")
    assert result.exit_code == 0 and result.stderr == ""
    assert result.stdout == reference.stdout
    assert "invalid" not in result.stdout


# ------------------------------------------------------------------ trial models via --models

TRIAL_YAML = """\
id: NCT00000001
title: A test trial
sponsor: Nobody
status: recruiting
slots: 2
criteria:
  - id: NCT00000001.incl.1
    kind: {kind}
    quote: "Aged 5 to 18."
    rule: {rule}
source_items:
  - text: "Aged 5 to 18."
    criteria: [{reference}]
"""


def models(
    tmp_path: Path,
    kind: str = "inclusion",
    rule: str = "{type: range, field: age, min: 5, max: 18}",
    reference: str = "NCT00000001.incl.1",
) -> Path:
    directory = tmp_path / "models"
    directory.mkdir()
    (directory / "NCT00000001.yaml").write_text(TRIAL_YAML.format(kind=kind, rule=rule, reference=reference))
    return directory


def test_a_good_model_directory_is_used(tmp_path: Path) -> None:
    cohort = write(tmp_path, "patient_id,age_years\nP1,10\nP2,40\n")
    result = screen(cohort, "--format", "csv", "--models", str(models(tmp_path)))
    assert result.exit_code == 0
    assert statuses(result) == {"P1": {("eligible", "")}, "P2": {("ineligible", "")}}


@pytest.mark.parametrize(
    ("broken", "fragments"),
    [
        ({"rule": "{type: magic, field: age}"}, ["NCT00000001.yaml: criteria[0].rule:", "'magic'"]),
        ({"kind": "sometimes"}, ["NCT00000001.yaml: criteria[0].kind:", "'inclusion' or 'exclusion'"]),
        ({"reference": "NCT00000001.incl.9"}, ["NCT00000001.yaml:", "unknown criterion NCT00000001.incl.9"]),
        ({"rule": "{type: range, field: age, min: 18, max: 5}"}, ["NCT00000001.yaml: criteria[0].rule:", "min 18"]),
        ({"rule": "{type: range, field: agee, min: 5, max: 18}"}, ["criteria[0].rule.field: unknown column 'agee'"]),
    ],
    ids=["unknown-rule-type", "unknown-criterion-kind", "dangling-reference", "invalid-range", "unknown-field"],
)
def test_bad_trial_yaml_is_one_clean_error(tmp_path: Path, broken: dict[str, str], fragments: list[str]) -> None:
    directory = str(models(tmp_path, **broken))
    cohort = write(tmp_path, "patient_id,age_years\nP1,10\n")
    assert_clean_error(screen(cohort, "--models", directory), *fragments)
    for command in (["trials", "list"], ["trials", "show", "NCT00000001"], ["trials", "coverage"]):
        assert_clean_error(CliRunner().invoke(main, [*command, "--models", directory]), *fragments)


def test_model_directory_without_models(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    cohort = write(tmp_path, "patient_id,age_years\nP1,10\n")
    assert_clean_error(screen(cohort, "--models", str(tmp_path / "empty")), "no trial model files (NCT*.yaml)")


def test_trials_commands_read_the_model_directory(tmp_path: Path) -> None:
    directory = str(models(tmp_path))
    listing = CliRunner().invoke(main, ["trials", "list", "--models", directory])
    assert listing.exit_code == 0 and listing.stdout.startswith("NCT00000001\tslots=2")
    coverage = CliRunner().invoke(main, ["trials", "coverage", "--models", directory])
    assert coverage.exit_code == 1 and "no source text is declared" in coverage.stdout


# ------------------------------------------------------------------ whatif


def test_whatif_on_an_invalid_row_says_why(tmp_path: Path) -> None:
    path = write(tmp_path, "patient_id,sex,lvef_pct\nP1,F,55\nP2,F,140\n")
    result = CliRunner().invoke(main, ["whatif", str(path), "--patient", "P2", "--as-of", AS_OF])
    assert result.exit_code == 2 and "Traceback" not in result.stderr
    error = result.stderr.strip().splitlines()[-1]
    assert error.startswith("Error: ") and "row 3 (patient_id 'P2')" in error
    assert "column lvef_pct: outside the plausible range (0 to 100 %)" in error and "140" not in error


def test_whatif_set_is_checked_like_a_cohort_value(tmp_path: Path) -> None:
    path = write(tmp_path, "patient_id,sex,lvef_pct\nP1,F,55\n")
    result = CliRunner().invoke(
        main, ["whatif", str(path), "--patient", "P1", "--as-of", AS_OF, "--set", "lvef_pct=180"]
    )
    assert_clean_error(result, "--set: column lvef_pct: outside the plausible range (0 to 100 %)")


# ------------------------------------------------------------------ safe outputs


def test_formula_like_patient_ids_are_neutralised_in_csv_but_kept_in_json(tmp_path: Path) -> None:
    ids = ['=HYPERLINK("http://evil.example","click")', "+1+2", "-3", "@SUM(A1)", "plain"]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["patient_id", "sex"])
    writer.writerows([patient_id, "F"] for patient_id in ids)
    path = write(tmp_path, buffer.getvalue())

    result = screen(path, "--format", "csv")
    assert result.exit_code == 0
    cells = [row["patient_id"] for row in csv.DictReader(io.StringIO(result.stdout))]
    assert set(cells) == {"'" + ids[0], "'+1+2", "'-3", "'@SUM(A1)", "plain"}
    assert all(not cell.startswith(("=", "+", "-", "@")) for cell in cells)
    assert [output.unescape_cell(cell) for cell in cells[::TRIALS]] == ids

    document = json.loads(screen(path, "--format", "json").stdout)
    assert [r["patient_id"] for r in document["results"]][::TRIALS] == ids


def test_a_failed_write_keeps_the_existing_file_and_leaves_no_partial_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cohort = write(tmp_path, "patient_id,sex\nP1,F\n")
    target = tmp_path / "out" / "screen.csv"
    target.parent.mkdir()
    target.write_text("previous results\n")

    def disk_full(_fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(output.os, "fsync", disk_full)
    result = screen(cohort, "--format", "csv", "-o", str(target))
    assert_clean_error(result, f"{target}: cannot write: No space left on device")
    assert target.read_text() == "previous results\n"
    assert sorted(p.name for p in target.parent.iterdir()) == ["screen.csv"]


def test_ctrl_c_mid_write_exits_130_in_one_line_and_keeps_the_existing_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cohort = write(tmp_path, "patient_id,sex\nP1,F\n")
    target = tmp_path / "out" / "screen.json"
    target.parent.mkdir()
    target.write_text("{}\n")

    def interrupted(_fd: int) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(output.os, "fsync", interrupted)
    result = screen(cohort, "--format", "json", "-o", str(target))
    assert result.exit_code == 130
    assert result.stderr.strip().splitlines() == ["Interrupted."]
    assert target.read_text() == "{}\n"
    assert sorted(p.name for p in target.parent.iterdir()) == ["screen.json"]


def test_ctrl_c_during_screening_exits_130_without_a_traceback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import matcher.cli

    def interrupted(*_args: object, **_kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(matcher.cli, "screen", interrupted)
    result = screen(write(tmp_path, "patient_id,sex\nP1,F\n"))
    assert result.exit_code == 130 and result.stderr == "Interrupted.\n" and result.stdout == ""


def test_output_into_a_missing_directory_is_a_clean_error(tmp_path: Path) -> None:
    cohort = write(tmp_path, "patient_id,sex\nP1,F\n")
    missing = tmp_path / "no" / "such" / "dir" / "out.csv"
    assert_clean_error(screen(cohort, "--format", "csv", "-o", str(missing)), f"{missing}: cannot write")


def test_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    """``matcher screen … | head -1``: no traceback when the reader leaves early."""
    import shutil
    import subprocess
    import sys

    rows = "".join(f"P{i:05d},F,SLE\n" for i in range(2000))  # megabytes of output
    cohort = write(tmp_path, "patient_id,sex,diagnosis\n" + rows)
    matcher = shutil.which("matcher", path=str(Path(sys.executable).parent))
    assert matcher is not None
    process = subprocess.Popen(
        [matcher, "screen", str(cohort), "--as-of", AS_OF, "--format", "csv"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None and process.stderr is not None
    assert process.stdout.readline().startswith(b"patient_id,trial_id,status")
    process.stdout.close()
    error = process.stderr.read().decode()
    process.wait(timeout=120)
    assert "Traceback" not in error and "Exception ignored" not in error
