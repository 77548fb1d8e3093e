"""The Dask engine gives the same results as the local engine (LocalCluster, 2 workers)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from matcher import formats
from matcher.cli import main
from matcher.cohort import check_as_of, load_cohort
from matcher.distributed import dask_client, near_misses_on_dask, screen_on_dask
from matcher.nearmiss import near_misses
from matcher.screening import screen
from matcher.trials import load_trials, scenarios_dir

AS_OF = dt.date(2026, 11, 23)
DEMO = scenarios_dir() / "demo-cohort.csv"
TRIALS = list(load_trials().values())


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    with dask_client(None, workers=2) as started:
        yield started


def local_csv(path: Path) -> str:
    return b"".join(formats.screen_csv(screen(check_as_of(load_cohort(path), AS_OF), TRIALS, AS_OF)))


def test_demo_screening_is_identical_across_partitions(client: Any) -> None:
    screening = screen_on_dask(DEMO, TRIALS, AS_OF, client, blocksize="8KB")
    assert b"".join(formats.screen_csv(screening)) == local_csv(DEMO)
    on_dask = json.loads(formats.screen_json(screening, True))
    local = json.loads(
        formats.screen_json(screen(check_as_of(load_cohort(DEMO), AS_OF), TRIALS, AS_OF), True).replace(
            str(DEMO), screening.cohort.source
        )
    )
    # The reason objects need the values, which stay on the workers; the reasons in words travel back.
    for record in local["results"]:
        assert record.pop("reasons") or record["status"] in ("eligible", "invalid")
    assert on_dask == local


def test_synthetic_parquet_dataset_is_read_partition_by_partition(client: Any, tmp_path: Path) -> None:
    from matcher.synth import SynthOptions, write_cohort

    source = tmp_path / "synth.csv"
    write_cohort(source, SynthOptions(rows=600, seed=3))
    dataset = tmp_path / "dataset"
    dataset.mkdir()
    table = pacsv.read_csv(source, convert_options=pacsv.ConvertOptions(strings_can_be_null=False))
    for part, start in enumerate(range(0, table.num_rows, 200)):  # three files, one partition each
        pq.write_table(table.slice(start, 200), dataset / f"part-{part}.parquet")
    screening = screen_on_dask(dataset, TRIALS, AS_OF, client)
    expected = b"".join(formats.screen_csv(screen(check_as_of(load_cohort(source), AS_OF), TRIALS, AS_OF)))
    assert b"".join(formats.screen_csv(screening)).replace(bytes(dataset), bytes(source)) == expected


def test_near_miss_scan_is_identical(client: Any) -> None:
    on_dask = near_misses_on_dask(DEMO, TRIALS, AS_OF, 60, client, blocksize="8KB")
    local = near_misses(check_as_of(load_cohort(DEMO), AS_OF), TRIALS, AS_OF, 60, workers=1)
    assert on_dask and [p.as_dict() for p in on_dask] == [p.as_dict() for p in local]


def test_duplicate_ids_across_partitions_are_caught(client: Any, tmp_path: Path) -> None:
    text = DEMO.read_text(encoding="utf-8")
    header, *rows = text.splitlines()
    doubled = tmp_path / "doubled.csv"
    doubled.write_text("\n".join([header, *rows, rows[0]]) + "\n", encoding="utf-8")
    from matcher.errors import CohortError

    with pytest.raises(CohortError) as local:
        load_cohort(doubled)
    with pytest.raises(CohortError) as on_dask:
        screen_on_dask(doubled, TRIALS, AS_OF, client, blocksize="8KB")
    assert str(on_dask.value) == str(local.value)
    assert f"duplicate patient_id 'P001' in rows 2, {len(rows) + 2} (column 'patient_id')" in str(local.value)


def test_cli_engine_dask_matches_local() -> None:
    args = ["screen", str(DEMO), "--as-of", "2026-11-23", "--format", "csv"]
    local = CliRunner().invoke(main, args)
    on_dask = CliRunner().invoke(main, [*args, "--engine", "dask", "--dask-workers", "2", "--blocksize", "8KB"])
    assert on_dask.exit_code == 0, on_dask.output
    assert on_dask.stdout == local.stdout
