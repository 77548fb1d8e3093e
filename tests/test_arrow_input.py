"""Typed input (Parquet, Arrow tables, pandas DataFrames) reads as the same cohort as its CSV.

A typed column is converted as it is, never re-spelled as text; a type that disagrees with the
contract (an integer where the contract says float, numbers where it says boolean, a timestamp for a
date, text for numbers) is converted, and a value that cannot be converted makes its row invalid with
the reason the CSV read gives.  Pyarrow's CSV type inference makes such disagreements: it writes
``sledai_2k`` as int64, ``pregnant`` as int64 when it holds 0/1, ``live_vaccine_date`` as a date.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from test_cohort_loader import _CELLS

from matcher import api
from matcher.cli import main
from matcher.cohort import Cohort, load_cohort
from matcher.errors import CohortError
from matcher.trials import scenarios_dir

# Parquet writes a blank float as NaN (as pandas does), so NaN in a typed column is blank there,
# where the CSV read calls the word "nan" not a number; and a typed infinity is "not a finite number"
# (as 1e999 is in a CSV), where the CSV read calls the word "inf" not a number.  Those words are left out.
_WORDS_OF_FLOATS = ("nan", "inf", "-inf", "infinity")
_TYPED_CELLS = {
    name: [cell for cell in cells if cell.strip().lower() not in _WORDS_OF_FLOATS] for name, cells in _CELLS.items()
}


def same_cohort(left: Cohort, right: Cohort) -> None:
    assert list(left.ids) == list(right.ids)
    assert left.invalid == right.invalid
    for name in left.values.keys() | right.values.keys():
        a, b = left.column(name), right.column(name)
        if a.dtype == object:
            assert a.tolist() == b.tolist(), name
        else:
            np.testing.assert_array_equal(a, b, err_msg=name)


def _csv(path: Path, rows: list[dict[str, str]]) -> Path:
    names = ["patient_id", *_TYPED_CELLS]
    lines = [",".join(names)] + [",".join([f"P{i}", *(row[n] for n in _TYPED_CELLS)]) for i, row in enumerate(rows)]
    path.write_text("\n".join(lines) + "\n", "utf-8")
    return path


@given(
    st.lists(
        st.fixed_dictionaries({name: st.sampled_from(cells) for name, cells in _TYPED_CELLS.items()}),
        min_size=1,
        max_size=12,
    )
)
@settings(max_examples=120, deadline=None, derandomize=True)
def test_parquet_written_from_the_inferred_csv_read_is_the_same_cohort(
    tmp_path_factory: pytest.TempPathFactory, rows: list[dict[str, str]]
) -> None:
    directory = tmp_path_factory.mktemp("typed")
    csv_path = _csv(directory / "cohort.csv", rows)
    inferred = pacsv.read_csv(csv_path, convert_options=pacsv.ConvertOptions(strings_can_be_null=True))
    parquet_path = directory / "cohort.parquet"
    pq.write_table(inferred, parquet_path)
    try:
        from_csv = load_cohort(csv_path)
    except CohortError as refused:  # most dates DD/MM/YYYY: the Parquet file is refused alike
        with pytest.raises(CohortError) as again:
            load_cohort(parquet_path)
        assert str(again.value).split(": ", 1)[1] == str(refused).split(": ", 1)[1]
        return
    same_cohort(load_cohort(parquet_path), from_csv)
    same_cohort(api.read_cohort(inferred.to_pandas()), from_csv)


def test_types_that_disagree_with_the_contract_are_converted(tmp_path: Path) -> None:
    table = pa.table(
        {
            "patient_id": pa.array([1, 2, 3], pa.int64()),
            "creatinine_mg_dl": pa.array([1, 2, None], pa.int64()),  # float in the contract
            "sledai_2k": pa.array(["10", "x", None]),  # int in the contract, as text
            "prior_car_t": pa.array([1, 0, 2], pa.int8()),  # bool in the contract
            "birth_date": pa.array([dt.datetime(1980, 3, 25, 23, 30), None, dt.datetime(1990, 1, 1)]),
            "live_vaccine_date": pa.array([dt.date(2026, 1, 5), None, None], pa.date32()),
            "diagnosis": pa.array(["SLE", "sle", "lupus"]).dictionary_encode(),
        }
    )
    path = tmp_path / "cohort.parquet"
    pq.write_table(table, path)
    cohort = load_cohort(path)
    assert cohort.ids.tolist() == ["1", "2", "3"]
    assert cohort.column("creatinine_mg_dl")[:2].tolist() == [1.0, 2.0]
    assert cohort.column("sledai_2k")[0] == 10
    assert cohort.column("birth_date")[0] == (dt.date(1980, 3, 25) - dt.date(1970, 1, 1)).days
    assert cohort.column("live_vaccine_date")[0] == (dt.date(2026, 1, 5) - dt.date(1970, 1, 1)).days
    reasons = {row: [str(problem) for problem in problems] for row, problems in cohort.invalid.items()}
    assert reasons == {
        1: ["column sledai_2k: not a number"],
        2: [
            "column prior_car_t: not a boolean (true/false, yes/no, 1/0)",
            "column diagnosis: not one of SLE|SS|SSC|IIM|AAV|OTHER",
        ],
    }


def test_a_pandas_frame_with_pandas_dtypes_is_the_cohort_of_its_csv(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "patient_id": ["a", "b", "c"],
            "creatinine_mg_dl": [0.9, np.nan, 1.25],
            "sledai_2k": pd.array([8, None, 12], dtype="Int64"),
            "prior_car_t": pd.array([True, None, False], dtype="boolean"),
            "birth_date": pd.to_datetime(["1980-03-25", None, "1990-01-01"]).tz_localize("Europe/Paris"),
            "live_vaccine_date": ["2026-01-05", "never", None],
            "diagnosis": pd.Categorical(["SLE", "AAV", None]),
            "age_years": [34, "unknown", 50],  # mixed cells: spelled as a CSV would
        }
    )
    csv_path = tmp_path / "c.csv"
    csv_path.write_text(
        "patient_id,creatinine_mg_dl,sledai_2k,prior_car_t,birth_date,live_vaccine_date,diagnosis,age_years\n"
        "a,0.9,8,true,1980-03-25,2026-01-05,SLE,34\n"
        "b,,,,,never,AAV,unknown\n"
        "c,1.25,12,false,1990-01-01,,,50\n",
        "utf-8",
    )
    same_cohort(api.read_cohort(frame), load_cohort(csv_path))


def _allocate(path: Path) -> bytes:
    result = CliRunner().invoke(main, ["allocate", str(path), "--as-of", "2026-11-23", "--format", "csv"])
    assert result.exit_code == 0, result.output
    return result.stdout_bytes


def test_allocation_from_parquet_is_byte_identical_to_csv(tmp_path: Path) -> None:
    """The demo cohort as CSV, and as the Parquet pyarrow writes from its inferred read."""
    demo = scenarios_dir() / "demo-cohort.csv"
    parquet_path = tmp_path / "demo.parquet"
    pq.write_table(pacsv.read_csv(demo), parquet_path)
    assert _allocate(parquet_path) == _allocate(demo)


def test_synth_parquet_and_csv_allocate_alike(tmp_path: Path) -> None:
    outputs = []
    for name in ("c.csv", "c.parquet"):
        path = tmp_path / name
        done = CliRunner().invoke(main, ["synth", "--n", "400", "--seed", "3", "-o", str(path)])
        assert done.exit_code == 0, done.output
        outputs.append(_allocate(path))
    assert outputs[0] == outputs[1]
    assert outputs[0].count(b"\n") == 401


def test_a_parquet_dataset_directory_reads_as_its_single_file(tmp_path: Path) -> None:
    demo = pacsv.read_csv(scenarios_dir() / "demo-cohort.csv")
    dataset = tmp_path / "dataset"
    dataset.mkdir()
    for part, start in enumerate(range(0, demo.num_rows, 7)):
        pq.write_table(demo.slice(start, 7), dataset / f"part-{part:03d}.parquet")
    whole = tmp_path / "whole.parquet"
    pq.write_table(demo, whole)
    same_cohort(load_cohort(dataset), load_cohort(whole))


def _screen_csv(path: Path, *trials: str) -> bytes:
    options = [option for trial in trials for option in ("--trials", trial)]
    result = CliRunner().invoke(main, ["screen", str(path), "--as-of", "2026-11-23", "--format", "csv", *options])
    assert result.exit_code == 0, result.output
    return result.stdout_bytes


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_only_the_columns_a_run_reads_are_read(tmp_path: Path, suffix: str) -> None:
    """A run over NCT06920433 does not read essdai (a Sjögren's score it never asks for): a bad value there
    leaves the row screened, where a run that reads it marks the row invalid."""
    demo = pacsv.read_csv(
        scenarios_dir() / "demo-cohort.csv", convert_options=pacsv.ConvertOptions(column_types={"essdai": pa.string()})
    )
    essdai = demo.column("essdai").to_pylist()
    essdai[0] = "high"
    table = demo.set_column(demo.schema.get_field_index("essdai"), "essdai", pa.array(essdai, pa.string()))
    path = tmp_path / f"c{suffix}"
    if suffix == ".csv":
        pacsv.write_csv(table, path)
    else:
        pq.write_table(table, path)
    first = table.column("patient_id")[0].as_py()
    alone = _screen_csv(path, "NCT06920433").decode()
    assert f'"{first}","NCT06920433","invalid"' not in alone
    everyone = _screen_csv(path).decode()
    assert f'"{first}","NCT06920433","invalid"' in everyone
    assert "column essdai: not a number" in everyone
    # every other patient's verdict is the same whichever columns were read
    rows = [line for line in everyone.splitlines() if "NCT06920433" in line and not line.startswith(f'"{first}",')]
    assert rows == [line for line in alone.splitlines()[1:] if not line.startswith(f'"{first}",')]
