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
| header ``Diagnosis`` or `` Birth Date`` (case, spacing)   | matched to the contract column                    |
| header close to a contract column (``sledai2k``)          | warning: unknown, "did you mean sledai_2k?"       |
| a column the selected trials read is absent               | warning naming each, with the criteria reading it |
| absent, and read by every trial's first inclusion         | error (no one could be eligible), unless          |
| criterion (no ``birth_date`` nor ``age_years``)           | ``--allow-missing``                               |
| most of a date column written DD/MM/YYYY or MM/DD/YYYY    | error naming the column and one sample value      |
| scenario quota on a misspelled column                     | error naming the file, the quota, the column and  |
|                                                           | the nearest contract column                       |
| scenario quota value that cannot occur (``XYZ``)          | error naming the allowed values                   |
| scenario ``slots:`` naming an unknown trial               | error naming the scenario file and its key        |
| ``--previous`` naming an unknown trial or patient         | warning naming them; their assignments not kept   |
| ``whatif --set glucocorticoid_mg_day=20``                 | the patient's recorded drug is kept               |

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

from matcher import ir, output
from matcher.cli import main
from matcher.trials import load_trials, scenarios_dir

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
ONE_PATIENT = "patient_id,sex,birth_date\nP1,F,1990-05-01\n"  # the fewest columns that can make anyone eligible


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
        ("birth_date", "03/04/1990", "column birth_date: not an ISO date"),  # one of two dates: a row, not the format
        ("prior_car_t", "maybe", "column prior_car_t: not a boolean (true/false, yes/no, 1/0)"),
        ("diagnosis", "lupus-ish", "column diagnosis: not one of SLE|SS|SSC|IIM|AAV|OTHER"),
        ("anc_10e9_l", "-0.5", "column anc_10e9_l: outside the plausible range (0 to 200 10^9/L)"),
        # review 65: a count per mm3, a hemoglobin in g/dL, a creatinine in umol/L, in the canonical column
        ("anc_10e9_l", "1500", "column anc_10e9_l: outside the plausible range (0 to 200 10^9/L)"),
        ("platelets_10e9_l", "25000", "column platelets_10e9_l: outside the plausible range (0 to 5000 10^9/L)"),
        ("hemoglobin_g_l", "9.5", "column hemoglobin_g_l: outside the plausible range (20 to 300 g/L)"),
        ("creatinine_mg_dl", "177", "column creatinine_mg_dl: outside the plausible range (0.05 to 40 mg/dL)"),
        ("dmards_failed", "-2", "column dmards_failed: outside the plausible range (at least 0 count)"),
        ("platelets[/mm3]", "-5000", "column platelets_10e9_l: outside the plausible range (0 to 5000 10^9/L)"),
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

    row_lines = [line.replace(str(path), "cohort.csv") for line in result.stderr.splitlines() if "(patient_id " in line]
    for message in (csv_reason, *row_lines):
        assert value not in message, f"patient value {value!r} was printed"


def test_unknown_columns_are_a_warning_listing_each_once(tmp_path: Path) -> None:
    path = write(tmp_path, "patient_id,shoe_size,sex,shoe_size,favourite_colour,\nP1,9,F,9,red,\n")
    result = screen(path, "--format", "csv", "--allow-missing")
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
    reference = screen(plain, "--format", "csv", "--allow-missing")
    path = write(tmp_path, content)
    result = screen(path, "--format", "csv", "--allow-missing")
    assert result.exit_code == 0
    assert result.stderr.replace(str(path), "FILE") == reference.stderr.replace(str(plain), "FILE")
    assert "unknown columns" not in result.stderr and "could not be read" not in result.stderr
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
    assert statuses(result) == {
        "P1": {("eligible", "")},
        "P2": {("ineligible", "age 40 years is above the 18 years limit")},
    }


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
    for command in (["trials", "show", "NCT00000001"], ["trials", "coverage"]):
        assert_clean_error(CliRunner().invoke(main, [*command, "--models", directory]), *fragments)
    listed = CliRunner().invoke(main, ["trials", "list", "--models", directory])
    assert listed.exit_code == 1  # the list is shown, and a broken file is not a success
    (line,) = listed.stdout.splitlines()
    assert line.startswith("NCT00000001\tbroken\t") and all(fragment in line for fragment in fragments)


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
    path = write(tmp_path, "patient_id,sex,birth_date,lvef_pct\nP1,F,1990-05-01,55\nP2,F,1990-05-01,140\n")
    result = CliRunner().invoke(main, ["whatif", str(path), "--patient", "P2", "--as-of", AS_OF])
    assert result.exit_code == 2 and "Traceback" not in result.stderr
    error = result.stderr.strip().splitlines()[-1]
    assert error.startswith("Error: ") and "row 3 (patient_id 'P2')" in error
    assert "column lvef_pct: outside the plausible range (0 to 100 %)" in error and "140" not in error


def test_whatif_set_is_checked_like_a_cohort_value(tmp_path: Path) -> None:
    path = write(tmp_path, "patient_id,sex,birth_date,lvef_pct\nP1,F,1990-05-01,55\n")
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

    result = screen(path, "--format", "csv", "--allow-missing")
    assert result.exit_code == 0
    cells = [row["patient_id"] for row in csv.DictReader(io.StringIO(result.stdout))]
    assert set(cells) == {"'" + ids[0], "'+1+2", "'-3", "'@SUM(A1)", "plain"}
    assert all(not cell.startswith(("=", "+", "-", "@")) for cell in cells)
    assert [output.unescape_cell(cell) for cell in cells[::TRIALS]] == ids

    document = json.loads(screen(path, "--format", "json", "--allow-missing").stdout)
    assert [r["patient_id"] for r in document["results"]][::TRIALS] == ids


def test_a_failed_write_keeps_the_existing_file_and_leaves_no_partial_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cohort = write(tmp_path, ONE_PATIENT)
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
    cohort = write(tmp_path, ONE_PATIENT)
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
    import matcher.cli.screening

    def interrupted(*_args: object, **_kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(matcher.cli.screening, "screen", interrupted)
    result = screen(write(tmp_path, ONE_PATIENT))
    assert result.exit_code == 130 and result.stderr == "Interrupted.\n" and result.stdout == ""


def test_output_into_a_missing_directory_is_a_clean_error(tmp_path: Path) -> None:
    cohort = write(tmp_path, ONE_PATIENT)
    missing = tmp_path / "no" / "such" / "dir" / "out.csv"
    assert_clean_error(screen(cohort, "--format", "csv", "-o", str(missing)), f"{missing}: cannot write")


def test_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    """``matcher screen … | head -1``: no traceback when the reader leaves early."""
    import shutil
    import subprocess
    import sys

    rows = "".join(f"P{i:05d},F,SLE,1990-05-01\n" for i in range(2000))  # megabytes of output
    cohort = write(tmp_path, "patient_id,sex,diagnosis,birth_date\n" + rows)
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


# ------------------------------------------------------------------ everyday mistakes (issue 14)

DEMO = scenarios_dir() / "demo-cohort.csv"


def demo_rows() -> tuple[list[str], list[list[str]]]:
    with DEMO.open(newline="", encoding="utf-8") as handle:
        header, *rows = list(csv.reader(handle))
    return header, rows


def write_rows(tmp_path: Path, header: list[str], rows: list[list[str]], name: str = "cohort.csv") -> Path:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return write(tmp_path, buffer.getvalue(), name)


def run(*args: str) -> Result:
    return CliRunner().invoke(main, [*args, "--as-of", AS_OF])


def warning_lines(result: Result) -> list[str]:
    return [line.removeprefix("warning: ") for line in result.stderr.splitlines() if line.startswith("warning: ")]


def criteria_reading(field: str, trial_ids: list[str] | None = None) -> int:
    """Criteria of the bundled trials (or those named) whose rule or applies_when reads ``field``."""
    return sum(
        any(field in ir.fields_read(rule) for rule in (criterion.rule, criterion.applies_when) if rule is not None)
        for trial in load_trials().values()
        if trial_ids is None or trial.id in trial_ids
        for criterion in trial.criteria
        if not criterion.is_manual  # manual ones read nothing
    )


def test_headers_match_whatever_their_case_and_spacing(tmp_path: Path) -> None:
    """The demo with ``Diagnosis`` and `` Birth Date `` headers allocates exactly as the demo does."""
    header, rows = demo_rows()
    sloppy = {"diagnosis": "Diagnosis", "birth_date": " Birth Date ", "sledai_2k": "SLEDAI_2K"}
    path = write_rows(tmp_path, [sloppy.get(name, name) for name in header], rows)
    reference = run("allocate", str(DEMO), "--format", "csv")
    result = run("allocate", str(path), "--format", "csv")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == reference.stdout
    assert "assigned" in result.stdout
    assert result.stderr.replace(str(path), "FILE") == reference.stderr.replace(str(DEMO), "FILE")


def test_a_header_close_to_a_contract_column_suggests_it(tmp_path: Path) -> None:
    path = write(tmp_path, "patient_id,birth_date,sledai2k,shoe_size,diagnosis,diagnosys\nP1,1990-05-01,8,9,SLE,SLE\n")
    result = screen(path, "--format", "csv")
    assert result.exit_code == 0
    unknown = [line for line in warning_lines(result) if "unknown columns" in line]
    # diagnosys is close to diagnosis, which the file gives already: no suggestion for it.
    assert unknown == [f"{path}: ignoring unknown columns: sledai2k (did you mean sledai_2k?), shoe_size, diagnosys"]


def test_two_headers_for_one_column_whatever_their_case_are_an_error(tmp_path: Path) -> None:
    path = write(tmp_path, "patient_id,diagnosis,Diagnosis\nP1,SLE,SLE\n")
    assert_clean_error(screen(path), "cohort.csv: columns 'diagnosis' and 'Diagnosis' both give diagnosis; keep one")


def test_an_absent_column_the_trials_read_is_a_warning_with_its_criteria(tmp_path: Path) -> None:
    header, rows = demo_rows()
    keep = [index for index, name in enumerate(header) if name != "diagnosis"]
    path = write_rows(tmp_path, [header[i] for i in keep], [[row[i] for i in keep] for row in rows])
    result = run("screen", str(path), "--format", "json")
    assert result.exit_code == 0, result.stderr
    (absent,) = [line for line in warning_lines(result) if "absent columns" in line]
    assert absent.startswith(f"{path}: absent columns leave criteria of the selected trials undecided: ")
    assert f"diagnosis ({criteria_reading('diagnosis')} criteria)" in absent
    assert criteria_reading("diagnosis") > 1
    assert json.loads(result.stdout)["warnings"] == warning_lines(result)


def test_no_age_at_all_is_an_error_unless_allowed(tmp_path: Path) -> None:
    """Trials whose first inclusion criterion reads the age: without birth_date or age_years no one is eligible."""
    firsts = {
        t.id: next(c for c in t.criteria if c.kind == "inclusion" and not c.is_manual) for t in load_trials().values()
    }
    by_age = ",".join(trial_id for trial_id, first in firsts.items() if "age" in ir.fields_read(first.rule))
    assert len(by_age.split(",")) >= 5  # every bundled trial
    path = write(tmp_path, "patient_id,sex,diagnosis\nP1,F,SLE\n")
    assert_clean_error(
        screen(path, "--trials", by_age),
        "cohort.csv: no column birth_date or age_years, which the first inclusion criterion of every selected trial "
        "reads, so no patient could be eligible; add the column, or pass --allow-missing",
    )
    allowed = screen(path, "--format", "csv", "--allow-missing", "--trials", by_age)
    assert allowed.exit_code == 0 and {status for status, _ in statuses(allowed)["P1"]} <= {"unknown", "ineligible"}
    (absent,) = [line for line in warning_lines(allowed) if "absent columns" in line]
    assert f"birth_date or age_years ({criteria_reading('age', by_age.split(','))} criteria)" in absent
    with_age = screen(
        write(tmp_path, "patient_id,sex,diagnosis,age_years\nP1,F,SLE,40\n", "aged.csv"), "--format", "csv"
    )
    assert with_age.exit_code == 0 and "birth_date or age_years" not in with_age.stderr


@pytest.mark.parametrize(
    ("dates", "sample"),
    [(["25/03/1980", "01/12/1975", ""], "25/03/1980"), (["03/25/1980", "12.01.1975", "1990-05-01"], "03/25/1980")],
    ids=["day-first", "month-first"],
)
def test_a_date_column_written_day_first_is_one_clean_error(tmp_path: Path, dates: list[str], sample: str) -> None:
    rows = "".join(f"P{i},F,SLE,{date}\n" for i, date in enumerate(dates))
    path = write(tmp_path, "patient_id,sex,diagnosis,birth_date\n" + rows)
    assert_clean_error(
        screen(path, "--format", "csv"),
        f"cohort.csv: column birth_date: most dates are written like '{sample}' (DD/MM/YYYY or MM/DD/YYYY); "
        "write them as YYYY-MM-DD",
    )


def test_a_day_first_parquet_column_is_the_same_error(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "cohort.parquet"
    pq.write_table(pa.table({"patient_id": ["P1", "P2"], "birth_date": ["25/03/1980", "01/12/1975"]}), path)
    assert_clean_error(screen(path), "cohort.parquet: column birth_date: most dates are written like '25/03/1980'")


def test_a_few_day_first_dates_among_iso_ones_are_invalid_rows(tmp_path: Path) -> None:
    rows = "P1,F,1980-03-25\nP2,F,1975-12-01\nP3,F,25/03/1980\n"
    result = screen(write(tmp_path, "patient_id,sex,birth_date\n" + rows), "--format", "csv")
    assert result.exit_code == 0
    assert statuses(result)["P3"] == {("invalid", "column birth_date: not an ISO date (YYYY-MM-DD) or 'never'")}


def scenario(tmp_path: Path, text: str) -> Path:
    return write(tmp_path, text, "scenario.yaml")


@pytest.mark.parametrize(
    ("quota", "message"),
    [
        (
            "{trial: NCT06056921, column: diagnosys, value: SLE, max: 8}",
            "scenario.yaml: quotas[0] (NCT06056921: at most 8 with diagnosys = SLE): "
            "unknown column 'diagnosys' (did you mean diagnosis?)",
        ),
        (
            "{trial: NCT06056921, column: diagnosis, value: XYZ, max: 8}",
            "scenario.yaml: quotas[0] (NCT06056921: at most 8 with diagnosis = XYZ): "
            "'XYZ' cannot occur in column diagnosis; allowed: SLE, SS, SSC, IIM, AAV, OTHER",
        ),
        (
            "{trial: NCT06056921, column: prior_car_t, value: perhaps, min: 1}",
            "'perhaps' cannot occur in column prior_car_t; allowed: true, false",
        ),
        ("{trial: NCT06056921, column: sledai_2k, value: high, max: 2}", "'high' cannot occur in column sledai_2k"),
        ("{trial: NCT06056921, column: birth_date, value: '1980-01-01', max: 2}", "column birth_date is a date"),
        ("{trial: NCT00000000, column: diagnosis, value: SLE, max: 2}", "unknown trial 'NCT00000000'; known: NCT"),
    ],
    ids=["misspelled-column", "impossible-enum-value", "impossible-boolean", "not-a-number", "date", "unknown-trial"],
)
def test_a_scenario_quota_that_cannot_count_anyone_is_an_error(tmp_path: Path, quota: str, message: str) -> None:
    path = scenario(tmp_path, f"quotas:\n  - {quota}\n")
    result = run("allocate", str(DEMO), "--scenario", str(path))
    assert_clean_error(result, message)
    assert "scenario.yaml: quotas[0]" in result.stderr


def test_scenario_slots_for_an_unknown_trial_name_the_file_and_key(tmp_path: Path) -> None:
    path = scenario(tmp_path, "slots: {NCT00000000: 3}\n")
    line = assert_clean_error(
        run("allocate", str(DEMO), "--scenario", str(path)), "scenario.yaml: slots: unknown trial 'NCT00000000'"
    )
    assert "--slots" not in line
    negative = scenario(tmp_path, "slots: {NCT06056921: -2}\n")
    assert_clean_error(
        run("allocate", str(DEMO), "--scenario", str(negative)), "slots: NCT06056921: -2 is not a whole number"
    )


def test_a_scenario_naming_a_trial_left_out_is_a_warning_not_an_error(tmp_path: Path) -> None:
    path = scenario(
        tmp_path, "slots: {NCT06821659: 5}\nquotas:\n  - {trial: NCT06821659, column: diagnosis, value: SLE, max: 1}\n"
    )
    result = run("allocate", str(DEMO), "--scenario", str(path), "--trials", "NCT06056921", "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert f"{path}: ignoring the slots and quotas of NCT06821659, not among the trials considered" in warning_lines(
        result
    )
    assert [trial["trial_id"] for trial in json.loads(result.stdout)["trials"]] == ["NCT06056921"]


def test_previous_naming_unknown_trials_or_patients_warns_and_keeps_nothing_of_them(tmp_path: Path) -> None:
    earlier = tmp_path / "earlier.csv"
    assert run("allocate", str(DEMO), "--format", "csv", "-o", str(earlier)).exit_code == 0
    rows = list(csv.DictReader(earlier.open(encoding="utf-8")))
    assigned = [row for row in rows if row["status"] == "assigned"]
    assert len(assigned) >= 2
    assigned[0]["trial_id"] = "NCT00000000"  # a trial no model has
    rows.append({**assigned[1], "patient_id": "GHOST"})  # a patient not in the cohort
    edited = write_rows(tmp_path, list(rows[0]), [list(row.values()) for row in rows], "edited.csv")
    result = run("allocate", str(DEMO), "--previous", str(edited), "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert "the previous allocation names patients not in the cohort: GHOST" in warning_lines(result)
    assert (
        "the previous allocation names trials not considered: NCT00000000; its assignments to them are not kept"
        in warning_lines(result)
    )
    assert json.loads(result.stdout)["levels"]["kept"] == len(assigned) - 1


def test_whatif_set_dose_keeps_the_recorded_drug() -> None:
    """P001 is on prednisone: a new dose alone re-screens with it, as if the name were given again."""
    header, rows = demo_rows()
    p001 = dict(zip(header, rows[0], strict=True))
    assert p001["patient_id"] == "P001" and p001["glucocorticoid"] == "prednisone"

    def rescreened(*changes: str) -> Result:
        sets = [part for change in changes for part in ("--set", change)]
        return run("whatif", str(DEMO), "--patient", "P001", *sets, "--format", "json")

    dose = rescreened("glucocorticoid_mg_day=60")
    assert dose.exit_code == 0, dose.stderr
    assert "without the drug's name" not in dose.stderr
    named = rescreened("glucocorticoid_mg_day=60", "glucocorticoid=prednisone")
    assert json.loads(dose.stdout)["results"] == json.loads(named.stdout)["results"]
    low = rescreened("glucocorticoid_mg_day=5")
    assert json.loads(low.stdout)["results"] != json.loads(dose.stdout)["results"]  # the dose was read
