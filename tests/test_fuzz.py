"""Fuzzing the loader and ``matcher screen``: every run ends in results or a clean error.

Random files (random headers, values, delimiters, encodings, stray bytes) and random
mutations of the demo cohort go to the loader and through the CLI.  Allowed endings:
a Cohort or a CohortError from the loader; exit 0 with every patient once per trial,
or exit 2 with one ``Error:`` line, from the CLI.  Anything else (an uncaught
exception, a traceback, exit 1) fails.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, Phase, event, find, given, settings
from hypothesis import strategies as st

from matcher.cli import main
from matcher.cohort import Cohort, check_as_of, load_cohort
from matcher.contract import columns
from matcher.errors import CohortError
from matcher.output import unescape_cell
from matcher.trials import load_trials, scenarios_dir

AS_OF = dt.date(2026, 11, 23)
DEMO = scenarios_dir() / "demo-cohort.csv"
TRIALS = len(load_trials())
FUZZ = settings(
    max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

_CONTRACT = list(columns())
ODD_HEADERS = [
    "creatinine[umol/L]",
    "creatinine[furlong]",
    "weight[lb]",
    "platelets[/mm3]",
    "anc[10^3/uL]",
    "hemoglobin[g/dL]",
    "upcr[mg/mmol]",
    "sex[kg]",
    "creatinine[]",
    "shoe_size",
    "",
    " sex ",
    "Sex",
]
HEADERS = st.one_of(st.sampled_from(_CONTRACT[1:]), st.sampled_from(ODD_HEADERS), st.text(max_size=12))
VALUES = st.one_of(
    st.sampled_from(
        [
            "",
            " ",
            "never",
            "NEVER",
            "none",
            "true",
            "No",
            "maybe",
            "abc",
            "nan",
            "inf",
            "-inf",
            "1e999",
            "-0",
            "0",
            "-1",
            "8",
            "8.5",
            "1,5",
            "1e-400",
            "2026-02-30",
            "2026-13-45",
            "0000-01-01",
            "1980-05-01",
            "2030-01-01",
            "SLE",
            "aav",
            "prednisone",
            '=HYPERLINK("http://x","y")',
            '"',
            "'",
            ";",
            ",",
            "\t",
        ]
    ),
    st.integers(-(10**12), 10**12).map(str),
    st.floats().map(repr),
    st.dates().map(dt.date.isoformat),
    st.text(max_size=10),
)
IDS = st.text(st.characters(blacklist_categories=["Cs", "Cc", "Zl", "Zp"]), min_size=1, max_size=10)
# Faults that make a whole file unreadable; most examples get none, so screening runs too.
FILE_FAULTS = ["ragged", "duplicate_id", "blank_id", "no_patient_id", "utf16", "junk_bytes", "truncated"]


def _with_byte_faults(draw: st.DrawFn, data: bytes, faults: list[str]) -> bytes:
    if "utf16" in faults:
        data = data.decode("utf-8").encode("utf-16")
    if "junk_bytes" in faults:
        for position, junk in draw(st.lists(st.tuples(st.integers(0, len(data)), st.binary(max_size=3)), max_size=3)):
            data = data[:position] + junk + data[position:]
    if "truncated" in faults:
        data = data[: draw(st.integers(0, len(data)))]
    return data


def _make_ragged(draw: st.DrawFn, row: list[str]) -> None:
    if row and draw(st.booleans()):
        row.pop()
    else:
        row.append("extra")


def _faults(draw: st.DrawFn) -> list[str]:
    return draw(st.one_of(st.just([]), st.lists(st.sampled_from(FILE_FAULTS), min_size=1, max_size=2)))


@st.composite
def cohort_files(draw: st.DrawFn) -> bytes:
    """A cohort file: random headers and values, one of the delimiters, maybe faults of the file as a whole."""
    faults = _faults(draw)
    header = draw(st.lists(HEADERS, max_size=8, unique_by=str.strip))
    if "no_patient_id" not in faults:
        header.insert(draw(st.integers(0, len(header))), "patient_id")
    ids = draw(st.lists(IDS, min_size=1, max_size=12, unique_by=str.strip))
    if "duplicate_id" in faults:
        ids.append(ids[0])
    if "blank_id" in faults:
        ids.insert(draw(st.integers(0, len(ids))), draw(st.sampled_from(["", "  "])))
    rows = []
    for patient_id in ids:
        row = [draw(VALUES) for _ in header]
        if "patient_id" in header:
            row[header.index("patient_id")] = patient_id
        rows.append(row)
    if "ragged" in faults:
        _make_ragged(draw, draw(st.sampled_from(rows)))
    delimiter = draw(st.sampled_from([",", ";", "\t"]))
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator=newline).writerows([header, *rows])
    data = (draw(st.sampled_from(["", "\ufeff"])) + buffer.getvalue()).encode("utf-8")
    return _with_byte_faults(draw, data, faults)


def loads_or_refuses_cleanly(path: Path) -> Cohort | None:
    try:
        cohort = load_cohort(path)
    except CohortError as exc:
        event("refused by the loader")
        message = str(exc)
        assert message and "\n" not in message and "Traceback" not in message
        return None
    checked = check_as_of(cohort, AS_OF)
    assert len(checked.ids) == len(cohort.ids) > 0
    assert len(set(checked.ids.tolist())) == len(checked.ids)
    assert all(0 <= row < len(checked.ids) and reason for row, reason in checked.invalid.items())
    assert set(cohort.invalid) <= set(checked.invalid)
    for values in checked.values.values():
        assert len(values) == len(checked.ids)
    return checked


def screens_or_refuses_cleanly(path: Path, fmt: str) -> None:
    result = CliRunner().invoke(main, ["screen", str(path), "--as-of", AS_OF.isoformat(), "--format", fmt])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.stderr
    event(f"exit status {result.exit_code}")
    if result.exit_code == 2:
        errors = [line for line in result.stderr.splitlines() if line.startswith("Error: ")]
        assert len(errors) == 1 and result.stderr.rstrip().endswith(errors[0]), result.stderr
        assert result.stdout == ""
        return
    assert result.exit_code == 0, (result.exit_code, result.stderr)
    ids = check_as_of(load_cohort(path), AS_OF).ids.tolist()
    if fmt == "csv":
        listed = [unescape_cell(row["patient_id"]) for row in csv.DictReader(io.StringIO(result.stdout))]
    else:
        listed = [record["patient_id"] for record in json.loads(result.stdout)["results"]]
    assert Counter(listed) == Counter({patient_id: TRIALS for patient_id in ids})


@FUZZ
@given(data=cohort_files())
def test_the_loader_reads_or_refuses_random_files(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "random.csv"
    path.write_bytes(data)
    loads_or_refuses_cleanly(path)


@settings(FUZZ, max_examples=40)
@given(data=cohort_files(), fmt=st.sampled_from(["csv", "json"]))
def test_screen_reads_or_refuses_random_files(tmp_path: Path, data: bytes, fmt: str) -> None:
    path = tmp_path / "random.csv"
    path.write_bytes(data)
    screens_or_refuses_cleanly(path, fmt)


_DEMO_ROWS = [line.split(",") for line in DEMO.read_text("utf-8").splitlines()]
_UNITS = ["umol/L", "g/dL", "/mm3", "10^9/L", "mg/mmol", "lb", "%", "furlong", "", "]["]


@st.composite
def mutated_demo(draw: st.DrawFn) -> bytes:
    """The demo cohort with header and value mutations, and maybe faults of the file as a whole."""
    faults = _faults(draw)
    rows = [list(row) for row in _DEMO_ROWS]
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["set_cell", "set_cell", "set_cell", "drop_column", "unit_header", "rename"]))
        column = draw(st.integers(1, len(rows[0]) - 1))
        if kind == "set_cell":
            rows[draw(st.integers(1, len(rows) - 1))][column] = draw(VALUES).replace(",", "").replace("\n", "")
        elif kind == "drop_column":
            for cells in rows:
                del cells[column]
        elif kind == "unit_header":
            rows[0][column] = f"{rows[0][column].rsplit('_', 1)[0]}[{draw(st.sampled_from(_UNITS))}]"
        else:
            rows[0][column] = draw(st.sampled_from(["shoe_size", "", "Sex", " site "]))
    if "ragged" in faults:
        _make_ragged(draw, rows[draw(st.integers(1, len(rows) - 1))])
    if "duplicate_id" in faults:
        rows.append(list(rows[draw(st.integers(1, len(rows) - 1))]))
    if "blank_id" in faults:
        rows[draw(st.integers(1, len(rows) - 1))][0] = ""
    if "no_patient_id" in faults:
        rows[0][0] = "patient"
    delimiter = draw(st.sampled_from([",", ";"]))
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    text = newline.join(delimiter.join(cells) for cells in rows) + newline
    data = (draw(st.sampled_from(["", "\ufeff"])) + text).encode("utf-8")
    return _with_byte_faults(draw, data, faults)


@FUZZ
@given(data=mutated_demo(), fmt=st.sampled_from(["csv", "json"]))
def test_screen_reads_or_refuses_a_mutated_demo_cohort(tmp_path: Path, data: bytes, fmt: str) -> None:
    path = tmp_path / "mutated.csv"
    path.write_bytes(data)
    screens_or_refuses_cleanly(path, fmt)


@pytest.mark.parametrize("ending", ["read", "refused"])
def test_the_mutations_reach_both_endings(tmp_path: Path, ending: str) -> None:
    """The fuzzer is not degenerate: some mutated cohorts are screened, some are refused."""
    path = tmp_path / "mutated.csv"

    def ends_so(data: bytes) -> bool:
        path.write_bytes(data)
        return (loads_or_refuses_cleanly(path) is not None) == (ending == "read")

    once = settings(max_examples=100, derandomize=True, database=None, phases=[Phase.generate])
    assert find(mutated_demo(), ends_so, settings=once)
