"""Tiny runs of every benchmark script, so they do not rot, and checks that their baselines agree with matcher.

Each script runs as documented (``python -m benchmarks.X``) on a 300-patient
synthetic cohort, writing into a temporary directory.  No timing is asserted.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from matcher.trials import load_trials

ROOT = Path(__file__).resolve().parent.parent
SIZE = 300


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("benchmarks")


def run(workspace: Path, module: str, *extra: str) -> dict[str, Any]:
    """Run one benchmark at SIZE and return its single result row."""
    command = [
        sys.executable,
        "-m",
        f"benchmarks.{module}",
        "--sizes",
        str(SIZE),
        "--cache-dir",
        str(workspace / "cache"),
        "--results-dir",
        str(workspace / "results"),
        *extra,
    ]
    finished = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert finished.returncode == 0, finished.stderr[-3000:]
    assert any(line.split()[:1] == [str(SIZE)] for line in finished.stdout.splitlines()), finished.stdout
    rows = json.loads((workspace / "results" / f"{module}.json").read_text("utf-8"))["rows"]
    (row,) = [r for r in rows if r["size"] == SIZE]
    return row


def test_allocation_baselines_reach_the_same_optimum(workspace: Path) -> None:
    row = run(workspace, "p1_allocation", "--naive-time-limit", "10")
    assert row["ours"]["proven"] and row["naive_cp_sat"]["proven"]
    assert row["ours"]["objective"] == row["min_cost_flow"]["objective"] == row["naive_cp_sat"]["objective"]
    assert row["objectives_equal"] and row["naive_objective_equal"]
    assert row["ours"]["enrolled"] == row["min_cost_flow"]["enrolled"] > 0
    assert row["min_cost_flow"]["arcs"] == row["candidate_arcs"] >= row["reduced_arcs"]
    assert set(row["split"]) >= {"cp_sat_solves_cpu_s", "explain_cpu_s", "candidate_arcs_cpu_s"}


def test_generated_sql_gives_the_same_verdicts_and_failed_lists(workspace: Path) -> None:
    row = run(workspace, "p2_screening")
    trials = load_trials()
    assert row["trials"] == list(trials)
    assert row["criteria"] == sum(not c.is_manual for t in trials.values() for c in t.criteria)
    agreement = row["agreement"]
    assert agreement["verdicts_equal"] and agreement["failed_lists_equal"] and agreement["criterion_values_equal"]
    assert all(t["criteria_differing"] == [] for t in agreement["per_trial"])
    assert row["memory_pass"]["columns"] > 100


def test_whatif_plans_and_scans_on_one_and_two_workers(workspace: Path) -> None:
    row = run(workspace, "p3_whatif", "--patients", "4", "--scan-patients", "8")
    assert row["patients"] == 4 and row["trials"] == len(load_trials())
    assert 0 < row["plan_ms"]["median"] <= row["plan_ms"]["max"]
    scan = row["scan"]
    assert scan["patients"] == 8 and scan["pairs_planned"] > 0
    assert scan["one_worker"]["near_misses"] == scan["two_workers"]["near_misses"]


def test_near_miss_scan_against_screen_with_the_prefilter_pass_rate(workspace: Path) -> None:
    row = run(workspace, "p5_nearmiss", "--within", "30")
    assert row["screen_wall_s"] > 0 and row["scan_wall_s"] > 0
    assert 0 < row["prefilter_passed"] < row["pairs_not_eligible"]
    assert row["pass_rate"] == row["prefilter_passed"] / row["pairs_not_eligible"]
    assert 0 < row["planned"] <= row["prefilter_passed"]


def test_ingest_reads_every_row(workspace: Path) -> None:
    row = run(workspace, "p4_ingest")
    assert row["invalid_rows"] == 0 and row["columns"] > 100
    assert row["ours"]["cpu_s"] > 0 and row["pyarrow_read_csv"]["cpu_s"] > 0


def test_end_to_end_allocates_every_patient_within_slots(workspace: Path) -> None:
    row = run(workspace, "e2e")
    assert row["output"]["rows"] == SIZE
    assert 0 < row["output"]["assigned"] <= sum(t.slots for t in load_trials().values())
    assert row["ours"]["peak_rss_bytes"] > 10 * 2**20
    assert row["ours"]["command"].startswith("matcher allocate ")
    # the same allocation from the Parquet copy (the script checks the bytes), against read_table
    assert row["parquet"]["command"].endswith(".parquet --as-of 2026-11-23 --format csv -o out.csv")
    assert row["parquet"]["cpu_s"] > 0 and row["parquet"]["pyarrow_read_table"]["cpu_s"] > 0


def test_plot_and_tables_from_the_results(workspace: Path) -> None:
    for module in ("p1_allocation", "p2_screening"):
        if not (workspace / "results" / f"{module}.json").exists():
            run(workspace, module)
    finished = subprocess.run(
        [sys.executable, "-m", "benchmarks.plot", "--results-dir", str(workspace / "results")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert finished.returncode == 0, finished.stderr[-3000:]
    assert (workspace / "results" / "time-vs-size.png").read_bytes().startswith(b"\x89PNG")
    assert f"| {SIZE} |" in finished.stdout


def test_fhir_import_reads_every_resource_duckdb_reads(workspace: Path) -> None:
    row = run(workspace, "p6_fhir", "--history", "2")
    assert row["resources"] > 20 * SIZE  # the export has every covered column of every patient
    assert row["ours"]["cpu_s"] > 0 and row["duckdb_read_json"]["cpu_s"] > 0
    assert row["ratio_cpu"] == pytest.approx(row["ours"]["cpu_s"] / row["duckdb_read_json"]["cpu_s"], rel=1e-3)


def test_schedule_against_allocate_within_the_same_horizon(workspace: Path) -> None:
    row = run(workspace, "p7_schedule", "--horizon", "30")
    assert row["allocate_wall_s"] > 0 and row["schedule_wall_s"] > 0
    assert row["ratio"] == row["schedule_wall_s"] / row["allocate_wall_s"]
    assert row["proven_optimal"] and 0 < row["scheduled"] <= sum(t.slots for t in load_trials().values())
    assert row["windows_after_reduction"] <= row["windows"]
