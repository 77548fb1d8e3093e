"""A trial in a disease the bundled trials do not cover is added with data files alone: its own columns
(`columns:`), new codes for a shared enum (`extends:`), checked values, and a broken file that does not take
the other trials down."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from matcher.cli import main
from matcher.cohort import load_cohort
from matcher.contract import Extension, shared_columns, use_extension
from matcher.errors import TrialModelError
from matcher.trials import extension_of, load_trial_file, models_dir, select_trials

AS_OF = "2026-11-23"
DEMO = Path(__file__).resolve().parent.parent / "scenarios" / "demo-cohort.csv"

MG_TRIAL = """\
id: NCT09999991
title: A made-up CAR-T trial in myasthenia gravis (test fixture)
sponsor: nobody
status: recruiting
slots: 4
columns:
  - {name: qmg, type: int, unit: points, min: 0, max: 39, meaning: "Quantitative MG score"}
  - {name: mgfa_class, type: enum, values: [I, IIa, IIb, IIIa, IIIb, IVa, IVb, V]}
  - {name: thymectomy_date, type: date, meaning: "never: no thymectomy"}
  - {name: achr_ab_nmol_l, type: float, unit: nmol/L, min: 0, max: 1000, label: "AChR antibody"}
  - {name: mg_adl_total, type: int, min: 0, max: 24, label: "MG-ADL total"}
  - {name: mg_adl_ocular, type: int, min: 0, max: 6, label: "ocular MG-ADL"}
extends:
  diagnosis: [MG]
criteria:
  - id: NCT09999991.incl.1
    kind: inclusion
    quote: "Generalised MG"
    rule: {type: in_set, field: diagnosis, values: [MG]}
  - id: NCT09999991.incl.2
    kind: inclusion
    quote: "QMG >= 11"
    rule: {type: compare, field: qmg, op: ">=", value: 11}
  - id: NCT09999991.incl.3
    kind: inclusion
    quote: "MGFA class II-IV"
    rule: {type: in_set, field: mgfa_class, values: [IIa, IIb, IIIa, IIIb, IVa, IVb]}
  - id: NCT09999991.incl.4
    kind: inclusion
    quote: "AChR antibody positive (> 0.5 nmol/L)"
    rule: {type: compare, field: achr_ab_nmol_l, op: ">", value: 0.5}
  - id: NCT09999991.incl.5
    kind: inclusion
    quote: "Ocular items < 50% of the MG-ADL total"
    rule:
      type: linear
      terms: [{field: mg_adl_ocular, k: 1}, {field: mg_adl_total, k: -0.5}]
      op: "<"
      value: 0
  - id: NCT09999991.excl.1
    kind: exclusion
    quote: "Thymectomy within 12 months"
    rule: {type: occurred_within, field: thymectomy_date, window: {months: 12}}
"""


def _models(tmp_path: Path, *extra: tuple[str, str]) -> Path:
    """The bundled models plus ``extra`` (file name, text)."""
    directory = tmp_path / "models"
    shutil.copytree(models_dir(), directory)
    for name, text in extra:
        (directory / name).write_text(text, encoding="utf-8")
    return directory


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(autouse=True)
def _shared_contract_after():
    yield
    use_extension(Extension())  # a test that selected the sixth trial leaves the shared contract in force


def test_declared_columns_are_read_with_units_and_ranges(tmp_path: Path) -> None:
    models = _models(tmp_path, ("NCT09999991.yaml", MG_TRIAL))
    cohort = tmp_path / "mg.csv"
    cohort.write_text(
        "patient_id,age_years,diagnosis,qmg,mgfa_class,thymectomy_date,achr_ab_nmol_l[pmol/L],mg_adl_total,mg_adl_ocular\n"
        "M1,40,MG,14,IIIa,never,8000,10,4\n"  # 8 nmol/L; ocular 4 of 10
        "M2,40,MG,9,IIIa,never,8000,10,4\n"
        "M3,40,MG,14,IIIa,2026-06-01,8000,10,4\n"
        "M4,40,MG,40,IIIa,never,8000,10,4\n"  # QMG above its declared maximum of 39: an invalid row
        "M5,40,MG,14,,never,300,10,4\n"  # 0.3 nmol/L
        "M6,40,MG,14,IIIa,never,8000,10,5\n"  # ocular exactly half the total: not below 50%
        "M7,40,MG,14,IIIa,never,8000,,1\n",  # no total: undecided
        encoding="utf-8",
    )
    code, out, err = _run(
        "screen", str(cohort), "--as-of", AS_OF, "--models", str(models), "--trials", "NCT09999991", "--format", "csv"
    )
    assert code == 0, err
    rows = {row["patient_id"]: row for row in csv.DictReader(io.StringIO(out))}
    assert rows["M1"]["status"] == "eligible"
    assert (rows["M2"]["status"], rows["M2"]["reason"]) == ("ineligible", "qmg 9 is below 11")
    assert rows["M3"]["failed"] == "NCT09999991.excl.1"
    assert rows["M4"]["status"] == "invalid" and "qmg" in rows["M4"]["reason"]
    assert rows["M5"]["failed"] == "NCT09999991.incl.4"
    assert rows["M5"]["reason"] == "AChR antibody 0.3 nmol/L is below 0.5 nmol/L"
    assert (rows["M6"]["status"], rows["M6"]["failed"]) == ("ineligible", "NCT09999991.incl.5")
    assert rows["M6"]["reason"] == (
        "ocular MG-ADL − 0.5 × MG-ADL total = 0 (ocular MG-ADL 5, MG-ADL total 10) is at the 0 limit (must be below it)"
    )
    assert (rows["M7"]["status"], rows["M7"]["missing"]) == ("unknown", "mg_adl_total")


def test_adding_a_trial_leaves_every_verdict_of_the_others_unchanged(tmp_path: Path) -> None:
    models = _models(tmp_path, ("NCT09999991.yaml", MG_TRIAL))
    bundled = _run("screen", str(DEMO), "--as-of", AS_OF, "--format", "csv")[1]
    with_sixth = _run("screen", str(DEMO), "--as-of", AS_OF, "--format", "csv", "--models", str(models))[1]
    others = [line for line in with_sixth.splitlines() if "NCT09999991" not in line]
    assert others == [line for line in bundled.splitlines() if "NCT09999991" not in line]
    assert sum("NCT09999991" in line for line in with_sixth.splitlines()) == 39  # one row per demo patient


def test_an_enum_value_the_column_does_not_allow_is_a_load_error(tmp_path: Path) -> None:
    bad = MG_TRIAL.replace("values: [MG]}", "values: [XX]}")
    path = tmp_path / "NCT09999991.yaml"
    path.write_text(bad, encoding="utf-8")
    with pytest.raises(TrialModelError) as caught:
        load_trial_file(path)
    message = str(caught.value)
    assert message.startswith("NCT09999991.yaml: criteria[0].rule.values[0]: 'XX' is not an allowed value of diagnosis")
    assert "SLE" in message and "MG" in message


def test_a_compare_on_a_column_of_another_type_is_a_load_error(tmp_path: Path) -> None:
    path = tmp_path / "NCT09999991.yaml"
    path.write_text(MG_TRIAL.replace("field: qmg, op", "field: mgfa_class, op"), encoding="utf-8")
    with pytest.raises(TrialModelError, match=r"criteria\[1\]\.rule\.field: column 'mgfa_class' is enum"):
        load_trial_file(path)


def test_conflicting_declarations_and_redeclared_shared_columns_name_the_files(tmp_path: Path) -> None:
    first = load_trial_file(_write(tmp_path, "NCT09999991", MG_TRIAL))
    other = MG_TRIAL.replace("NCT09999991", "NCT09999992").replace("max: 39", "max: 40")
    second = load_trial_file(_write(tmp_path, "NCT09999992", other))
    with pytest.raises(
        TrialModelError,
        match=r"NCT09999992\.yaml: columns\[0\]: qmg is declared differently in "
        r"NCT09999991\.yaml",
    ):
        extension_of([first, second])
    same = load_trial_file(_write(tmp_path, "NCT09999993", MG_TRIAL.replace("NCT09999991", "NCT09999993")))
    assert [column.name for column in extension_of([first, same]).columns] == [
        "qmg",
        "mgfa_class",
        "thymectomy_date",
        "achr_ab_nmol_l",
        "mg_adl_total",
        "mg_adl_ocular",
    ]
    redeclared = MG_TRIAL.replace("name: qmg, type: int", "name: sledai_2k, type: int").replace(
        "field: qmg", "field: sledai_2k"
    )
    with pytest.raises(TrialModelError, match=r"columns\[0\]: sledai_2k is a column of the shared contract"):
        load_trial_file(_write(tmp_path, "NCT09999994", redeclared.replace("NCT09999991", "NCT09999994")))


def _write(tmp_path: Path, trial_id: str, text: str) -> Path:
    path = tmp_path / f"{trial_id}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_contract_is_the_shared_one_plus_the_selected_trials(tmp_path: Path) -> None:
    models = _models(tmp_path, ("NCT09999991.yaml", MG_TRIAL))
    select_trials(["NCT06821659"], models)
    from matcher.contract import columns

    assert "qmg" not in columns() and "MG" not in columns()["diagnosis"].codes
    select_trials(["NCT09999991"], models)
    assert columns()["qmg"].kind == "int" and "MG" in columns()["diagnosis"].codes
    assert "qmg" not in shared_columns()


def test_a_broken_trial_file_does_not_take_the_others_down(tmp_path: Path) -> None:
    models = _models(
        tmp_path, ("NCT09999991.yaml", MG_TRIAL.replace("type: compare, field: qmg", "type: magic, field: qmg"))
    )
    code, out, err = _run("screen", str(DEMO), "--as-of", AS_OF, "--format", "csv", "--models", str(models))
    assert code == 0, err
    assert "NCT09999991" not in out and "NCT06821659" in out
    assert "warning: NCT09999991.yaml: criteria[1].rule:" in err and "(NCT09999991 left out)" in err
    code, _, err = _run("screen", str(DEMO), "--as-of", AS_OF, "--models", str(models), "--trials", "NCT09999991")
    assert code == 2 and err.startswith("Error: NCT09999991.yaml: criteria[1].rule:")
    code, out, _ = _run("trials", "list", "--models", str(models))
    assert code == 1
    assert out.splitlines()[0].startswith("NCT09999991\tbroken\tNCT09999991.yaml: criteria[1].rule:")
    listed = [line.split("\t")[0] for line in out.splitlines() if line.startswith("NCT")]
    assert sorted(listed) == sorted(path.stem for path in models.glob("*.yaml"))  # the bundled ones and the broken


def test_the_schema_has_columns_and_extends() -> None:
    schema = json.loads(_run("trials", "schema")[1])
    assert {"columns", "extends"} <= set(schema["properties"])
    assert set(schema["$defs"]["ColumnDeclaration"]["properties"]) >= {"name", "type", "unit", "min", "max", "meaning"}


def test_the_dask_engine_reads_the_declared_columns_too(tmp_path: Path) -> None:
    models = _models(tmp_path, ("NCT09999991.yaml", MG_TRIAL))
    cohort = tmp_path / "mg.csv"
    cohort.write_text(
        "patient_id,age_years,diagnosis,qmg,mgfa_class,thymectomy_date,achr_ab_nmol_l[pmol/L],mg_adl_total,mg_adl_ocular\n"
        "M1,40,MG,14,IIIa,never,8000,10,4\nM2,40,MG,9,IIIa,never,8000,10,4\nM4,40,MG,40,IIIa,never,8000,10,4\n",
        encoding="utf-8",
    )
    args = [
        "screen",
        str(cohort),
        "--as-of",
        AS_OF,
        "--models",
        str(models),
        "--trials",
        "NCT09999991",
        "--format",
        "csv",
    ]
    local = _run(*args)
    on_dask = _run(*args, "--engine", "dask", "--dask-workers", "2")
    assert on_dask[0] == 0, on_dask[2]
    assert on_dask[1] == local[1]
    assert [row["status"] for row in csv.DictReader(io.StringIO(local[1]))] == ["eligible", "ineligible", "invalid"]


def test_synth_leaves_out_a_diagnosis_a_trial_adds_with_a_warning(tmp_path: Path) -> None:
    """--mix may name MS once the example's models are in force; synth has no MS generator."""
    example = Path(__file__).parent.parent / "examples" / "NCT01684761" / "models"
    out = tmp_path / "c.csv"
    done = CliRunner().invoke(
        main, ["synth", "--n", "30", "--mix", "SLE=1,MS=1", "--models", str(example), "-o", str(out)]
    )
    assert done.exit_code == 0, done.output
    assert "warning: --mix: no generator for 'MS' (a trial adds it)" in done.stderr
    assert set(load_cohort(out).column("diagnosis")) == {"SLE"}
    only = CliRunner().invoke(main, ["synth", "--n", "30", "--mix", "MS=1", "--models", str(example), "-o", str(out)])
    assert only.exit_code == 2
    assert "no generator for 'MS'" in only.stderr and "nothing is left to draw" in only.stderr
