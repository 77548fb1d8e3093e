"""The synthetic cohort generator: determinism, the contract, blanks, streaming, and verdicts worth screening."""

from __future__ import annotations

import csv
import datetime as dt
from collections import Counter
from pathlib import Path
from unittest import mock

import numpy as np
import pyarrow as pa
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from matcher import ir, synth
from matcher.cli import main
from matcher.cohort import Cohort, load_cohort
from matcher.contract import by_stem, columns
from matcher.dates import EPOCH
from matcher.errors import MatcherError
from matcher.nearmiss import near_misses
from matcher.screening import screen
from matcher.synth import SynthOptions, generate, parse_mix, write_cohort
from matcher.trials import load_trials, scenarios_dir

AS_OF = dt.date(2026, 11, 23)


def written(tmp_path: Path, name: str, options: SynthOptions, **kwargs: int) -> Path:
    path = tmp_path / name
    write_cohort(path, options, **kwargs)
    return path


def rows_of(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def spread(tmp_path_factory: pytest.TempPathFactory) -> Cohort:
    """A few thousand patients: enough for every trial to see every verdict."""
    path = tmp_path_factory.mktemp("synth") / "cohort.csv"
    write_cohort(path, SynthOptions(rows=4000, seed=1))
    return load_cohort(path)


def test_same_seed_gives_the_same_bytes_and_another_seed_does_not(tmp_path: Path) -> None:
    first = written(tmp_path, "a.csv", SynthOptions(rows=300, seed=7)).read_bytes()
    again = written(tmp_path, "b.csv", SynthOptions(rows=300, seed=7)).read_bytes()
    other = written(tmp_path, "c.csv", SynthOptions(rows=300, seed=8)).read_bytes()
    assert first == again
    assert first != other
    assert first.splitlines()[0] == other.splitlines()[0]  # same columns, other patients


def test_columns_are_the_contract_in_its_order(tmp_path: Path) -> None:
    header = rows_of(written(tmp_path, "a.csv", SynthOptions(rows=5)))[0].keys()
    contract = list(columns())
    assert set(header) <= set(contract)
    assert list(header) == [name for name in contract if name in header]


def test_the_loader_reads_every_row_and_the_blank_fraction_only_adds_blanks(tmp_path: Path) -> None:
    full = written(tmp_path, "full.csv", SynthOptions(rows=2000, seed=3, blank_fraction=0.0))
    holey = written(tmp_path, "holey.csv", SynthOptions(rows=2000, seed=3, blank_fraction=0.2))
    for path in (full, holey):
        loaded = load_cohort(path)
        assert loaded.invalid == {} and loaded.warnings == []
    present = blanked = 0
    for before, after in zip(rows_of(full), rows_of(holey), strict=True):
        for name, value in before.items():
            if name in {"patient_id", "site", "preferences", "priority", "diagnosis"}:
                assert after[name] == value
            elif value:
                present += 1
                blanked += after[name] == ""
                assert after[name] in ("", value)
            else:
                assert after[name] == ""
    assert present > 100_000
    assert blanked / present == pytest.approx(0.2, abs=0.01)


def test_chunks_stream_the_same_file_as_one_chunk(tmp_path: Path) -> None:
    options = SynthOptions(rows=2500, seed=4)
    seen: list[tuple[int, int]] = []
    with mock.patch.object(synth, "BLOCK_ROWS", 1000):
        whole = written(tmp_path, "whole.csv", options, chunk_rows=2500).read_bytes()
        write_cohort(tmp_path / "chunked.csv", options, chunk_rows=777, progress=lambda *done: seen.append(done))
        sizes = [table.num_rows for table in generate(options, chunk_rows=777)]
    assert (tmp_path / "chunked.csv").read_bytes() == whole
    assert sizes == [777, 777, 777, 169]
    assert seen == [(777, 2500), (1554, 2500), (2331, 2500), (2500, 2500)]


@settings(deadline=None, derandomize=True, max_examples=12)
@given(rows=st.integers(1, 150), chunk_rows=st.integers(1, 160), seed=st.integers(0, 2**32))
def test_any_chunking_gives_the_same_rows(rows: int, chunk_rows: int, seed: int) -> None:
    options = SynthOptions(rows=rows, seed=seed, trial_ids=("NCT1", "NCT2"))
    with mock.patch.object(synth, "BLOCK_ROWS", 64):
        chunked = pa.concat_tables(generate(options, chunk_rows))
        whole = pa.concat_tables(generate(options, rows))
    assert chunked.num_rows == rows
    assert chunked.equals(whole)


def test_parquet_holds_the_same_cohort_as_csv(tmp_path: Path) -> None:
    options = SynthOptions(rows=500, seed=5)
    from_csv = load_cohort(written(tmp_path, "c.csv", options))
    from_parquet = load_cohort(written(tmp_path, "c.parquet", options))
    assert from_parquet.invalid == {}
    assert list(from_parquet.ids) == list(from_csv.ids)
    for name, values in from_csv.values.items():
        if values.dtype == object:
            assert list(from_parquet.values[name]) == list(values), name
        else:
            np.testing.assert_array_equal(from_parquet.values[name], values, err_msg=name)


def test_unit_variants_convert_back_to_the_canonical_values(tmp_path: Path) -> None:
    canonical = load_cohort(written(tmp_path, "c.csv", SynthOptions(rows=800, seed=6)))
    path = written(tmp_path, "u.csv", SynthOptions(rows=800, seed=6, unit_variants=True))
    header = list(rows_of(path)[0])
    assert {"creatinine[umol/L]", "hemoglobin[g/dL]", "platelets[/mm3]", "upcr[mg/mmol]"} <= set(header)
    assert all(name in columns() or name.split("[")[0] in by_stem() for name in header)
    variant = load_cohort(path)
    assert variant.invalid == {} and variant.warnings == []
    # Half a unit of the last reported digit: 0.5 umol/L of creatinine, 0.05 mg/mmol of UPCR.
    for name, tolerance in (("creatinine_mg_dl", 0.5 / 88.4 + 0.005), ("upcr_g_g", 0.05 / 113.12 + 0.005)):
        np.testing.assert_allclose(variant.values[name], canonical.values[name], atol=tolerance, err_msg=name)
    np.testing.assert_array_equal(variant.values["hemoglobin_g_l"], canonical.values["hemoglobin_g_l"])
    np.testing.assert_array_equal(variant.values["platelets_10e9_l"], canonical.values["platelets_10e9_l"])


def test_dates_move_with_the_as_of_date(tmp_path: Path) -> None:
    base = rows_of(written(tmp_path, "a.csv", SynthOptions(rows=200, seed=2)))
    later = rows_of(written(tmp_path, "b.csv", SynthOptions(rows=200, seed=2, as_of=AS_OF + dt.timedelta(days=10))))
    dates = [name for name, column in columns().items() if column.kind == "date"]
    shifted = 0
    for before, after in zip(base, later, strict=True):
        for name, value in before.items():
            if name in dates and value not in ("", "never"):
                assert dt.date.fromisoformat(after[name]) - dt.date.fromisoformat(value) == dt.timedelta(days=10)
                assert dt.date.fromisoformat(value) <= AS_OF
                shifted += 1
            else:
                assert after[name] == value
    assert shifted > 1500


def test_patients_look_like_a_refractory_autoimmune_cohort(spread: Cohort) -> None:
    diagnoses = Counter(spread.values["diagnosis"].tolist())
    for code, share in synth.DEFAULT_MIX.items():
        assert diagnoses[code] / len(spread) == pytest.approx(share, abs=0.03)
    days = (AS_OF - EPOCH).days - spread.values["birth_date"]
    age = np.where(np.isnan(days), spread.values["age_years"], days / 365.2425)
    lupus = spread.values["diagnosis"] == "SLE"
    assert ((age >= 5) & (age < 18) & lupus).sum() > 200  # pediatric lupus
    assert (age > 80).sum() > 20
    steroids = {"prednisone", "methylprednisolone", "dexamethasone", "hydrocortisone"}
    assert set(spread.values["glucocorticoid"]) >= steroids
    assert np.isnan(spread.values["sledai_2k"][~lupus]).all()
    assert np.isnan(spread.values["creatinine_mg_dl"]).mean() < 0.1
    assert 0.8 < np.isnan(spread.values["egfr_ml_min_1_73m2"]).mean() < 0.95  # mostly computed from creatinine
    assert 0.2 < (spread.values["preferences"] != None).mean() < 0.4  # noqa: E711
    assert set(spread.values["site"]) >= {"Beijing", "Shanghai"}


def _diseases(trial: ir.Trial) -> set[str]:
    """The diagnoses a trial's inclusion criteria name (empty: any)."""
    return {
        value.upper()
        for criterion in trial.criteria
        if criterion.kind == "inclusion" and not criterion.is_manual
        for node in ir.walk(criterion.rule)  # type: ignore[arg-type]
        if isinstance(node, ir.InSet) and node.field == "diagnosis"
        for value in node.values
    }


def test_every_trial_sees_eligible_ineligible_and_unknown_patients(spread: Cohort) -> None:
    """Every trial in a disease the generator draws (a trial added in another disease gets no synthetic patients)."""
    drawn = {code.upper() for code in set(spread.values["diagnosis"]) if isinstance(code, str)}
    trials = [trial for trial in load_trials().values() if not _diseases(trial) or _diseases(trial) & drawn]
    assert len(trials) >= 5
    screening = screen(spread, trials, AS_OF)
    for result in screening.results:
        counts = result.counts()
        assert counts["invalid"] == 0
        for status in ("eligible", "ineligible", "unknown"):
            assert counts[status] >= 5, (result.trial.id, counts)


def test_many_patients_are_near_misses_within_60_days(tmp_path: Path) -> None:
    cohort = load_cohort(written(tmp_path, "small.csv", SynthOptions(rows=200, seed=1)))
    plans = near_misses(cohort, list(load_trials().values()), AS_OF, within=60, workers=1)
    assert len({plan.patient_id for plan in plans}) >= 0.15 * len(cohort)
    eligible = [plan for plan in plans if plan.status_at_plan == "eligible"]
    assert len({plan.patient_id for plan in eligible}) >= 10
    assert all(AS_OF <= plan.earliest_date <= AS_OF + dt.timedelta(days=60) for plan in plans if plan.earliest_date)
    actions = Counter(action.action for plan in plans for action in plan.actions)
    assert {"taper_glucocorticoid", "repeat_test", "withhold_drug", "administrative_step"} <= set(actions)
    waiting_only = [plan for plan in plans if plan.actions and all(a.action == "wait" for a in plan.actions)]
    assert any(plan.earliest_date and plan.earliest_date > AS_OF for plan in waiting_only)  # just wait
    assert all(plan.actions for plan in plans if plan.earliest_date and plan.earliest_date > AS_OF)


def test_the_mix_is_parsed_and_checked() -> None:
    assert parse_mix("sle=2, SS=1") == {"SLE": 2.0, "SS": 1.0}
    assert parse_mix(None) == synth.DEFAULT_MIX
    for text, problem in (
        ("SLE=abc", "the weight of SLE, 'abc', is not a number"),
        ("LUPUS=1", "'LUPUS' is not a diagnosis code"),
        ("SLE", "'SLE' is not CODE=WEIGHT"),
        ("SLE=1,sle=2", "SLE is given twice"),
        ("SLE=-1", "weights must be numbers >= 0"),
        ("SLE=0", "at least one weight must be above 0"),
    ):
        with pytest.raises(MatcherError, match=problem):
            parse_mix(text)


def test_a_mix_of_one_disease_gives_only_that_disease(tmp_path: Path) -> None:
    cohort = load_cohort(written(tmp_path, "iim.csv", SynthOptions(rows=300, mix={"IIM": 1.0})))
    assert set(cohort.values["diagnosis"]) == {"IIM"}
    assert not np.isnan(cohort.values["mmt8"]).all()


def test_options_out_of_range_are_refused() -> None:
    with pytest.raises(MatcherError, match="at least 1"):
        SynthOptions(rows=0)
    with pytest.raises(MatcherError, match="between 0 and 1"):
        SynthOptions(rows=10, blank_fraction=1.5)


def test_cli_writes_a_cohort_the_screen_command_reads(tmp_path: Path) -> None:
    out = tmp_path / "cohort.parquet"
    result = CliRunner().invoke(main, ["synth", "--n", "120", "--seed", "3", "--unit-variants", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert len(load_cohort(out)) == 120
    screened = CliRunner().invoke(main, ["screen", str(out), "--as-of", "2026-11-23", "--format", "csv"])
    assert screened.exit_code == 0
    assert screened.stdout.count("\n") == 1 + 120 * len(load_trials())


def test_cli_names_the_problem_with_a_bad_mix(tmp_path: Path) -> None:
    out = tmp_path / "cohort.csv"
    result = CliRunner().invoke(main, ["synth", "--n", "10", "--mix", "SLE=0.5,XYZ=0.5", "-o", str(out)])
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: --mix: 'XYZ' is not a diagnosis code")
    assert not out.exists()


def test_cli_reports_an_unwritable_output_cleanly(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["synth", "--n", "10", "-o", str(tmp_path / "missing" / "cohort.csv")])
    assert result.exit_code == 2
    assert "cannot write the cohort (No such file or directory)" in result.stderr


def test_the_shipped_demo_is_the_generator_output(tmp_path: Path) -> None:
    demo = scenarios_dir() / "synth-demo.csv"
    named = sorted({trial_id for row in rows_of(demo) for trial_id in row["preferences"].split(";") if trial_id})
    options = SynthOptions(rows=300, seed=1, trial_ids=tuple(named))  # the trials it was made for, however many now
    assert written(tmp_path, "demo.csv", options).read_bytes() == demo.read_bytes()
    rows = rows_of(demo)
    assert sum(bool(row["preferences"]) for row in rows) > 50
    assert sum(bool(row["priority"]) for row in rows) > 50
