"""Nothing lost, nothing different: every patient once per trial, and byte-identical reruns.

Determinism is checked in-process (cold and warm caches) and across processes with
different ``PYTHONHASHSEED`` values, which reorders every set and dict of strings
built from hashing: an output that leaned on such an order would differ there.
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from matcher.cli import main
from matcher.output import unescape_cell
from matcher.trials import load_trials, scenarios_dir

DEMO = scenarios_dir() / "demo-cohort.csv"
AS_OF = "2026-11-23"
TRIAL_IDS = sorted(load_trials())


def input_ids(path: Path) -> list[str]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return [row["patient_id"].strip() for row in csv.DictReader(handle)]


def assert_each_patient_once_per_trial(path: Path) -> None:
    """``screen --format csv`` and ``--format json`` hold every (patient, trial) pair exactly once."""
    ids = input_ids(path)
    expected = Counter((patient_id, trial_id) for patient_id in ids for trial_id in TRIAL_IDS)
    runner = CliRunner()
    # --allow-missing: a fuzzed file may lack the age every trial reads first, which screens but is an error unasked.
    as_csv = runner.invoke(main, ["screen", str(path), "--as-of", AS_OF, "--format", "csv", "--allow-missing"])
    assert as_csv.exit_code == 0, as_csv.stderr
    rows = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert Counter((unescape_cell(r["patient_id"]), r["trial_id"]) for r in rows) == expected
    as_json = runner.invoke(main, ["screen", str(path), "--as-of", AS_OF, "--format", "json", "--allow-missing"])
    assert as_json.exit_code == 0, as_json.stderr
    document = json.loads(as_json.stdout)
    assert Counter((r["patient_id"], r["trial_id"]) for r in document["results"]) == expected
    assert document["patients"] == len(ids)
    for trial in document["trials"]:
        assert sum(trial["counts"].values()) == len(ids)


def test_nothing_lost_on_the_demo_cohort() -> None:
    assert len(input_ids(DEMO)) >= 30
    assert_each_patient_once_per_trial(DEMO)


_CELLS = {
    "sex": ["F", "M", "f", "", "X"],
    "diagnosis": ["SLE", "SS", "SSC", "IIM", "AAV", "", "lupus"],
    "birth_date": ["1980-05-01", "2012-02-29", "", "2030-01-01", "1850-01-01", "1990-02-30", "never"],
    "sledai_2k": ["0", "8", "12", "", "abc", "-1", "8.5"],
    "lvef_pct": ["55", "40", "", "101", "nan"],
    "anc_10e9_l": ["1.5", "0.3", "", "-1", "1e999"],
    "prior_car_t": ["true", "no", "", "maybe"],
    "live_vaccine_date": ["2026-11-01", "never", "", "2027-01-01"],
    "glucocorticoid": ["prednisone", "", "unobtainium"],
    "glucocorticoid_mg_day": ["0", "10", "", "-5"],
}


@st.composite
def cohort_texts(draw: st.DrawFn) -> str:
    """A CSV cohort with unique (possibly hostile) ids and values both good and bad."""
    ids = draw(
        st.lists(
            st.text(st.characters(blacklist_categories=["Cs", "Cc", "Zs", "Zl", "Zp"]), min_size=1, max_size=12),
            min_size=1,
            max_size=25,
            unique_by=str.strip,
        )
    )
    columns = draw(st.lists(st.sampled_from(sorted(_CELLS)), unique=True, max_size=len(_CELLS)))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["patient_id", *columns])
    for patient_id in ids:
        writer.writerow([patient_id, *(draw(st.sampled_from(_CELLS[c])) for c in columns)])
    return buffer.getvalue()


@settings(max_examples=25, deadline=None, derandomize=True)
@given(text=cohort_texts())
def test_nothing_lost_on_a_fuzzed_cohort(tmp_path_factory: object, text: str) -> None:
    directory = tmp_path_factory.mktemp("fuzzed")  # type: ignore[attr-defined]
    path = directory / "cohort.csv"
    path.write_text(text, encoding="utf-8")
    assert_each_patient_once_per_trial(path)


def outputs_in_process(directory: Path) -> dict[str, bytes]:
    runner = CliRunner()
    produced = {}
    for name, args in _RUNS.items():
        target = directory / name
        result = runner.invoke(main, [*args, "--as-of", AS_OF, "-o", str(target)])
        assert result.exit_code == 0, result.stderr
        produced[name] = target.read_bytes()
    return produced


_RUNS = {
    "screen.csv": ["screen", str(DEMO), "--format", "csv"],
    "screen.json": ["screen", str(DEMO), "--format", "json", "--funnel"],
    "screen.txt": ["screen", str(DEMO), "--funnel"],
    "funnel.csv": ["screen", str(DEMO), "--format", "csv", "--funnel"],
    "whatif.json": ["whatif", str(DEMO), "--patient", "P001", "--format", "json", "--horizon", "120"],
}


def test_reruns_in_one_process_are_byte_identical(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first, second = outputs_in_process(tmp_path / "a"), outputs_in_process(tmp_path / "b")
    assert first == second
    assert all(content for content in first.values())


_SCRIPT = """
import sys
from click.testing import CliRunner
from matcher.cli import main
runs = {runs!r}
for name, args in runs.items():
    result = CliRunner().invoke(main, [*args, "--as-of", {as_of!r}, "-o", sys.argv[1] + "/" + name])
    assert result.exit_code == 0, result.stderr
"""


def test_reruns_in_processes_with_different_hash_seeds_are_byte_identical(tmp_path: Path) -> None:
    directories = [tmp_path / "seed1", tmp_path / "seed2"]
    processes = []
    for seed, directory in enumerate(directories, 1):
        directory.mkdir()
        processes.append(
            subprocess.Popen(
                [sys.executable, "-c", _SCRIPT.format(runs=_RUNS, as_of=AS_OF), str(directory)],
                env={**os.environ, "PYTHONHASHSEED": str(seed)},
            )
        )
    assert [process.wait(timeout=300) for process in processes] == [0, 0]
    produced = [{name: (directory / name).read_bytes() for name in _RUNS} for directory in directories]
    assert produced[0] == produced[1]
    assert produced[0] == outputs_in_process(tmp_path)
