"""The wheel carries the trial models, the demo scenarios and the contract, and works installed."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(out), str(ROOT)],
        check=True,
    )
    return next(out.glob("matcher-*.whl"))


def test_wheel_contains_models_scenarios_and_contract(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for model in (ROOT / "models").glob("NCT*.yaml"):
        assert f"matcher/_bundled/models/{model.name}" in names
    assert "matcher/_bundled/scenarios/demo-cohort.csv" in names
    assert "matcher/data/cohort-columns.csv" in names
    assert "matcher/data/facts.yaml" in names
    assert "matcher/data/fhir-map.yaml" in names  # matcher import fhir's default code map
    assert "matcher/data/README.md" in names  # the contract's rules, linked from the README


def test_installed_wheel_runs_outside_the_checkout(wheel: Path, tmp_path: Path) -> None:
    """Install the wheel alone into a fresh directory (dependencies come from this environment)."""
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target), str(wheel)],
        check=True,
    )
    env = {**os.environ, "PYTHONPATH": str(target)}
    run = [sys.executable, "-c", "import sys; from matcher.cli import main; sys.exit(main())"]
    listing = subprocess.run(
        [*run, "trials", "list"], cwd=tmp_path, env=env, capture_output=True, text=True, check=True
    )
    bundled = sorted(path.stem for path in (ROOT / "models").glob("NCT*.yaml"))
    assert [line.split("\t")[0] for line in listing.stdout.splitlines()] == bundled
    where = subprocess.run(
        [sys.executable, "-c", "import matcher.trials as t; print(t.models_dir())"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert where.stdout.startswith(str(target))
    demo = subprocess.run(
        [
            *run,
            "screen",
            str(target / "matcher/_bundled/scenarios/demo-cohort.csv"),
            "--as-of",
            "2026-11-23",
            "--format",
            "csv",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert demo.stdout.startswith("patient_id,trial_id,status,failed,missing")
