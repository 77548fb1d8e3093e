"""``matcher schedule``: an independent checker of every calendar constraint, a brute-force optimum on small
instances, the 3+3 re-planning rules, and the command line."""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from matcher import ir
from matcher.api import read_cohort
from matcher.cli import main
from matcher.cohort import cohort_from_records
from matcher.errors import MatcherError, ParameterError
from matcher.escalation import EnrollmentState, TrialState, enrollment_path, load_state
from matcher.formats import SCHEDULE_COLUMNS, schedule_csv
from matcher.nearmiss import eligibility_windows
from matcher.plans import Plan
from matcher.schedule import Calendar, schedule
from matcher.screening import screen
from matcher.trials import load_trials

AS_OF = dt.date(2026, 12, 1)  # a Tuesday
MODELS = load_trials(None)
FIXED_ID, ESCALATION_ID = "NCT06821659", "NCT06983964"
DOCUMENTED_DEFAULTS = {
    "dose_levels": 1,
    "cohort_size": 3,
    "dlt_days": 28,
    "stagger_days": 7,
    "per_week": 2,
    "enrolment_days": 5,
}


# ---------------------------------------------------------------- the independent checker


def check_calendar(
    text: str,
    patient_ids: list[str],
    trial_files: dict[str, Path],
    windows: dict[tuple[str, str], tuple[dt.date, dt.date | None]],
    as_of: dt.date,
    horizon: int,
    state: dict[str, Any] | None = None,
) -> list[dict[str, str]]:
    """Verify a schedule CSV against the trial files (read as plain YAML) and the patients' windows.

    Written apart from matcher.schedule: it re-reads the enrollment sections with their documented defaults,
    and re-derives the 3+3 path, so the two cannot share a mistake.  ``windows`` are the plans' days of enrolment:
    an infusion comes ``enrolment_days`` after one of them, none before the site opens (``start_date``).
    """
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["patient_id"] for r in rows] == patient_ids, "every patient exactly once, in input order"
    last_day = as_of + dt.timedelta(days=horizon)
    for trial_id, path in trial_files.items():
        document = yaml.safe_load(path.read_text())
        design = {**DOCUMENTED_DEFAULTS, **(document.get("enrollment") or {"design": "fixed"})}
        dosed = (state or {}).get(trial_id, {}).get("cohorts", [])
        dosed_dates = [d for c in dosed for d in c["dates"]]
        mine = [r for r in rows if r["trial_id"] == trial_id and r["status"] == "scheduled"]
        future = [r for r in mine if dt.date.fromisoformat(r["planned_date"]) > max(dosed_dates, default=dt.date.min)]
        assert len(future) + len(dosed_dates) <= document["slots"], f"{trial_id}: slots"
        weeks = Counter(dt.date.fromisoformat(r["planned_date"]).isocalendar()[:2] for r in future)
        weeks.update(d.isocalendar()[:2] for d in dosed_dates)
        assert max(weeks.values(), default=0) <= design["per_week"], f"{trial_id}: weekly capacity {weeks}"
        lead = dt.timedelta(days=design["enrolment_days"])
        opens = dt.date.fromisoformat(str(design["start_date"])) if "start_date" in design else as_of
        for r in future:
            day = dt.date.fromisoformat(r["planned_date"])
            enrol_from, enrol_until = windows[(r["patient_id"], trial_id)]
            start, end = max(enrol_from, as_of, opens) + lead, enrol_until and enrol_until + lead
            assert r["window_start"] == start.isoformat()
            assert r["window_end"] == (end.isoformat() if end else "")
            assert start <= day <= min(end or last_day, last_day), f"{r['patient_id']}: window"
            assert f"(enrolment on {(day - lead).isoformat()})" in r["reason"]
            assert r["enrolment_date"] == (day - lead).isoformat()
        if design["design"] == "fixed":
            assert all(r["dose_level"] == r["cohort"] == "" for r in mine)
            continue
        _check_cohorts(trial_id, design, dosed, future, lead)
        reserve = Counter(r["dose_level"] for r in rows if r["trial_id"] == trial_id and r["status"] == "reserve")
        spare = document["slots"] - len(dosed_dates) - len(future)
        assert all(count <= min(design["cohort_size"], spare) for count in reserve.values())
    for r in rows:
        assert r["status"] in ("scheduled", "reserve", "unplaced", "invalid")
        if r["status"] in ("scheduled", "reserve"):
            assert (r["patient_id"], r["trial_id"]) in windows or r["reason"].startswith("dosed")
        else:
            assert r["trial_id"] == r["planned_date"] == "" and r["reason"]
    return rows


def _check_cohorts(
    trial_id: str, design: dict[str, Any], dosed: list[dict[str, Any]], future: list[dict[str, str]], lead: dt.timedelta
) -> None:
    """Cohort sizes, dose order by the 3+3 rules with no further DLT, and the watches: no one is enrolled (and
    lymphodepleted), ``lead`` before the infusion, while the sentinel's stagger or a DLT window before is open."""
    size = design["cohort_size"]
    cohorts: dict[int, list[dt.date]] = {i + 1: list(c["dates"]) for i, c in enumerate(dosed)}
    level_of = {i + 1: c["level"] for i, c in enumerate(dosed)}
    planned_days = {dt.date.fromisoformat(r["planned_date"]) for r in future}
    for r in future:
        number = int(r["cohort"])
        cohorts.setdefault(number, []).append(dt.date.fromisoformat(r["planned_date"]))
        assert level_of.setdefault(number, int(r["dose_level"])) == int(r["dose_level"])
    numbers = sorted(cohorts)
    assert numbers == list(range(1, len(numbers) + 1)), f"{trial_id}: cohorts in order"
    expected = _three_plus_three(design, dosed, len(numbers))
    assert [level_of[n] for n in numbers] == expected[: len(numbers)], f"{trial_id}: dose order"
    for n in numbers:
        days = sorted(cohorts[n])
        if n > len(dosed) or len(dosed[n - 1]["dates"]) < size:
            assert len(days) == size, f"{trial_id}: cohort {n} has {len(days)} patients"
        planned = [day for day in days if day in planned_days]  # the dosed are history, not the calendar's
        if design["stagger_days"]:
            stagger = dt.timedelta(days=design["stagger_days"])
            # the watch is days 1..stagger_days after the sentinel's infusion (day 0): enrolment after it
            assert all(day - lead > days[0] + stagger for day in planned if day != days[0]), f"stagger in cohort {n}"
        if n > 1 and min(days) in planned:
            gap = min(days) - lead - max(cohorts[n - 1])
            # the window is days 1..dlt_days after the last infusion (day 0): enrolment after it
            assert gap.days > design["dlt_days"], f"{trial_id}: DLT window open at cohort {n}'s enrolment: {gap.days}"


def _three_plus_three(design: dict[str, Any], dosed: list[dict[str, Any]], cohorts: int) -> list[int]:
    """The dose level of each cohort, those dosed then those the textbook 3+3 rules call for with no DLT."""
    levels, treated, dlts, top = [], Counter[int](), Counter[int](), design["dose_levels"]
    level: int | None = 1
    history = [(c["level"], c["dlts"]) for c in dosed]
    while level is not None and len(levels) < cohorts:
        levels.append(level)
        got = history[len(levels) - 1][1] if len(levels) <= len(history) else 0
        treated[level] += design["cohort_size"]
        dlts[level] += got
        if dlts[level] >= 2:
            top = level - 1
            level = level - 1 if level > 1 and treated[level - 1] == design["cohort_size"] else None
        elif dlts[level] == 1 and treated[level] == design["cohort_size"]:
            pass
        else:
            level = level + 1 if level < top else None
    return levels


# ---------------------------------------------------------------- synthetic instances


def _trial(trial_id: str, slots: int, **enrollment: Any) -> ir.Trial:
    return MODELS[trial_id].model_copy(update={"slots": slots, "enrollment": ir.Enrollment(**enrollment)})


def _trial_files(tmp: Path, trials: list[ir.Trial]) -> dict[str, Path]:
    files = {}
    for trial in trials:
        path = tmp / f"{trial.id}.yaml"
        enrollment = trial.enrollment.model_dump(exclude_defaults=True, mode="json") if trial.enrollment else None
        path.write_text(yaml.safe_dump({"id": trial.id, "slots": trial.slots, "enrollment": enrollment}))
        files[trial.id] = path
    return files


def _solve(
    windows: dict[tuple[str, str], tuple[dt.date, dt.date | None]],
    trials: list[ir.Trial],
    horizon: int,
    records: list[dict[str, object]],
    state: dict[str, Any] | None = None,
    **options: Any,
) -> tuple[Calendar, str]:
    cohort = cohort_from_records(records, "synthetic")
    plans = [
        Plan(patient, trial_id, "eligible", True, start, end, "eligible")
        for (patient, trial_id), (start, end) in sorted(windows.items())
    ]
    loaded = EnrollmentState.model_validate(state) if state else None
    calendar = schedule(screen(cohort, trials, AS_OF), plans, trials, {}, loaded, horizon, **options)
    return calendar, schedule_csv(calendar)


def _day(n: int) -> dt.date:
    return AS_OF + dt.timedelta(days=n)


def _crowded(n: int) -> tuple[list[dict[str, object]], dict[tuple[str, str], tuple[dt.date, dt.date | None]]]:
    """``n`` patients with staggered windows for both trials, some closing early."""
    records, windows = [], {}
    for i in range(n):
        pid = f"S{i:03d}"
        records.append({"patient_id": pid, "priority": str(1 + i % 3)})
        windows[(pid, ESCALATION_ID)] = (_day(i % 11), _day(i % 11 + 5 + i % 17) if i % 4 else None)
        if i % 3:
            windows[(pid, FIXED_ID)] = (_day(i % 7), None if i % 5 else _day(i % 7 + 3))
    return records, windows


@pytest.mark.parametrize(
    ("patients", "escalation", "fixed"),
    [
        (30, {"design": "3+3", "dose_levels": 3}, {"design": "fixed", "per_week": 2}),
        (
            40,
            {"design": "3+3", "dose_levels": 2, "cohort_size": 2, "dlt_days": 10, "stagger_days": 3}
            | {"enrolment_days": 2},
            {"design": "fixed", "per_week": 1, "enrolment_days": 12},
        ),
        (
            25,
            {"design": "3+3", "dose_levels": 4, "per_week": 1, "stagger_days": 0},
            {"design": "fixed", "start_date": _day(20), "enrolment_days": 1},
        ),
    ],
)
def test_independent_checker_accepts_every_calendar(
    tmp_path: Path, patients: int, escalation: dict[str, Any], fixed: dict[str, Any]
) -> None:
    trials = [_trial(ESCALATION_ID, 12, **escalation), _trial(FIXED_ID, 6, **fixed)]
    records, windows = _crowded(patients)
    calendar, text = _solve(windows, trials, 120, records)
    rows = check_calendar(
        text, [str(r["patient_id"]) for r in records], _trial_files(tmp_path, trials), windows, AS_OF, 120
    )
    assert calendar.proven
    scheduled = [r for r in rows if r["status"] == "scheduled"]
    assert len(scheduled) == calendar.levels["scheduled"] > 6  # both trials take patients
    assert {r["trial_id"] for r in scheduled} == {ESCALATION_ID, FIXED_ID}


def test_a_window_closing_between_cohorts_is_explained_with_its_dates(tmp_path: Path) -> None:
    trials = [_trial(ESCALATION_ID, 9, design="3+3", dose_levels=2, stagger_days=0)]
    records = [{"patient_id": f"E{i}"} for i in range(4)]
    windows = {(f"E{i}", ESCALATION_ID): (AS_OF, None) for i in range(3)}
    windows[("E3", ESCALATION_ID)] = (_day(7), _day(10))
    _, text = _solve(windows, trials, 180, records)
    rows = check_calendar(text, ["E0", "E1", "E2", "E3"], _trial_files(tmp_path, trials), windows, AS_OF, 180)
    late = rows[3]
    assert late["status"] == "unplaced"
    # Cohort 1 (E0-E2) goes on 2026-12-01 and 2026-12-07/08 (2 a week), so cohort 2 may be enrolled the day after
    # the 28 days of the DLT window and infused 5 days later.
    last = max(dt.date.fromisoformat(r["planned_date"]) for r in rows[:3])
    assert late["reason"] == (  # enrolment from 2026-12-07 to 2026-12-10: infusion 5 days later
        f"{ESCALATION_ID}: window 2026-12-13…2026-12-16 closes before cohort 2 may start "
        f"({(last + dt.timedelta(days=28 + 1 + 5)).isoformat()})"
    )


def test_reserve_patients_are_ranked_per_level_with_their_windows(tmp_path: Path) -> None:
    trials = [_trial(ESCALATION_ID, 9, design="3+3", dose_levels=2, cohort_size=2, stagger_days=0, per_week=5)]
    records = [{"patient_id": f"R{i}", "priority": "2" if i == 7 else "1"} for i in range(8)]
    windows = {(f"R{i}", ESCALATION_ID): (AS_OF, None) for i in range(8)}
    _, text = _solve(windows, trials, 180, records)
    rows = check_calendar(text, [f"R{i}" for i in range(8)], _trial_files(tmp_path, trials), windows, AS_OF, 180)
    reserve = [(r["patient_id"], r["dose_level"]) for r in rows if r["status"] == "reserve"]
    # 9 slots, a path of 2 x 2: 5 spare, so up to a cohort (2) of reserve per level, best ranked first.
    assert sorted(reserve) == [("R3", "1"), ("R4", "1"), ("R5", "2"), ("R6", "2")]
    assert "R7" in {r["patient_id"] for r in rows if r["status"] == "scheduled"}  # priority 2 is scheduled
    assert "reserve 1 to expand dose level 1" in next(r["reason"] for r in rows if r["patient_id"] == "R3")


def test_reruns_are_byte_identical() -> None:
    trials = [_trial(ESCALATION_ID, 12, design="3+3", dose_levels=3), _trial(FIXED_ID, 6, design="fixed")]
    records, windows = _crowded(30)
    assert _solve(windows, trials, 120, records)[1] == _solve(windows, trials, 120, records)[1]


# ---------------------------------------------------------------- the optimum, by brute force


@st.composite
def small_instances(draw: st.DrawFn) -> tuple[list[dict[str, object]], dict[tuple[str, str], tuple[dt.date, dt.date]]]:
    n = draw(st.integers(2, 4))
    records, windows = [], {}
    for i in range(n):
        pid = f"B{i}"
        accepted = draw(st.permutations([ESCALATION_ID, FIXED_ID]))[: draw(st.integers(1, 2))]
        records.append({"patient_id": pid, "priority": str(draw(st.integers(1, 3))), "preferences": ";".join(accepted)})
        for trial_id in (ESCALATION_ID, FIXED_ID):
            if draw(st.booleans()):
                start = draw(st.integers(0, 8))
                windows[(pid, trial_id)] = (_day(start), _day(start + draw(st.integers(0, 3))))
    return records, windows


SMALL_DESIGNS: dict[str, dict[str, Any]] = {  # enrolment_days: infusion days after a day of enrolment in the window
    ESCALATION_ID: {"design": "3+3", "dose_levels": 2, "cohort_size": 2, "dlt_days": 3, "stagger_days": 2}
    | {"per_week": 1, "enrolment_days": 2},
    FIXED_ID: {"design": "fixed", "per_week": 1, "enrolment_days": 1},
}
SMALL_TRIALS = [
    _trial(ESCALATION_ID, 4, **SMALL_DESIGNS[ESCALATION_ID]),
    _trial(FIXED_ID, 2, **SMALL_DESIGNS[FIXED_ID]),
]


def brute_force(
    records: list[dict[str, object]], windows: dict[tuple[str, str], tuple[dt.date, dt.date]], horizon: int
) -> tuple[int, int, int, int]:
    """The best (scheduled, priority, -preference rank, -days) over every assignment of patients to days."""
    options = []
    for record in records:
        pid, accepted = str(record["patient_id"]), str(record["preferences"]).split(";")
        mine: list[tuple[str, int, int, int] | None] = [None]
        for trial_id in accepted:
            if (pid, trial_id) in windows:
                start, end = windows[(pid, trial_id)]
                lead = SMALL_DESIGNS[trial_id]["enrolment_days"]
                for day in range((start - AS_OF).days + lead, min((end - AS_OF).days + lead, horizon) + 1):
                    mine.append((trial_id, day, int(str(record["priority"])), accepted.index(trial_id)))
        options.append(mine)
    best = (0, 0, 0, 0)
    for choice in itertools.product(*options):
        taken = [c for c in choice if c is not None]
        if len(taken) > best[0] - 1 and _feasible(taken):
            value = (len(taken), sum(c[2] for c in taken), -sum(c[3] for c in taken), -sum(c[1] for c in taken))
            best = max(best, value)
    return best


def _feasible(taken: list[tuple[str, int, int, int]]) -> bool:
    fixed = sorted(c[1] for c in taken if c[0] == FIXED_ID)
    escalation = sorted(c[1] for c in taken if c[0] == ESCALATION_ID)
    if len(fixed) > 2 or len(escalation) not in (0, 2, 4):
        return False
    for days in (fixed, escalation):  # at most 1 a week, weeks from Monday (as of is a Tuesday)
        if len({(AS_OF + dt.timedelta(days=d)).isocalendar()[:2] for d in days}) < len(days):
            return False
    for k in range(0, len(escalation), 2):
        if escalation[k + 1] - 2 <= escalation[k] + 2:  # the 2-day stagger, to the enrolment 2 days before infusion
            return False
        if k and escalation[k] - 2 < escalation[k - 1] + 3:  # DLT window, to the enrolment
            return False
    return True


@settings(max_examples=20, deadline=None, derandomize=True)
@given(small_instances())
def test_optimum_matches_brute_force_and_the_unreduced_model(
    case: tuple[list[dict[str, object]], dict[tuple[str, str], tuple[dt.date, dt.date]]],
) -> None:
    records, windows = case
    reduced, _ = _solve(windows, SMALL_TRIALS, 14, records)
    full, _ = _solve(windows, SMALL_TRIALS, 14, records, reduce=False)
    levels = reduced.levels
    found = (levels["scheduled"], levels["priority"], -levels["preference_rank"], -levels["days"])
    assert reduced.proven and found == brute_force(records, windows, 14)
    assert full.levels == reduced.levels


# ---------------------------------------------------------------- re-planning from the state (3+3 rules)


def _path(cohorts: list[dict[str, Any]], slots: int = 18, levels: int = 3) -> list[tuple[int | None, int]]:
    trial = _trial(ESCALATION_ID, slots, design="3+3", dose_levels=levels)
    state = TrialState.model_validate({"cohorts": cohorts})
    path = enrollment_path(trial, slots, state, AS_OF)
    return [(c.level, c.size) for c in path.cohorts]


def _dosed(level: int, dlts: int, first: int = -90) -> dict[str, Any]:
    return {"level": level, "dates": [_day(first), _day(first + 7), _day(first + 8)], "dlts": dlts}


def test_zero_dlts_in_three_escalates() -> None:
    assert _path([_dosed(1, 0)]) == [(2, 3), (3, 3)]


def test_one_dlt_in_three_expands_the_level_before_escalating() -> None:
    assert _path([_dosed(1, 1)]) == [(1, 3), (2, 3), (3, 3)]


def test_one_dlt_in_six_escalates() -> None:
    assert _path([_dosed(1, 1, -120), _dosed(1, 0, -80)]) == [(2, 3), (3, 3)]


def test_two_dlts_stop_escalation_and_confirm_the_level_below() -> None:
    assert _path([_dosed(1, 0, -120), _dosed(2, 2, -80)]) == [(1, 3)]  # level 1 had 3: expanded to 6
    assert _path([_dosed(1, 1, -160), _dosed(1, 1, -120)]) == []  # 2 in 6 at the lowest level: none
    assert _path([_dosed(1, 0, -160), _dosed(2, 1, -120), _dosed(2, 1, -80)]) == [(1, 3)]


def test_the_slots_bound_the_path_and_what_is_left_is_the_reserve() -> None:
    trial = _trial(ESCALATION_ID, 10, design="3+3", dose_levels=3)
    path = enrollment_path(trial, 10, TrialState.model_validate({"cohorts": [_dosed(1, 1)]}), AS_OF)
    # 10 slots less 3 dosed: room for the expansion and level 2 (6), not level 3; 1 left for the reserve.
    assert [(c.number, c.level) for c in path.cohorts] == [(2, 1), (3, 2)] and path.reserve == 1


def test_a_state_out_of_the_rules_names_the_trial_and_the_cohort() -> None:
    with pytest.raises(
        MatcherError, match=r"cohorts\[1\] is at dose level 2, but the 3\+3 rules call for dose level 1"
    ):
        _path([_dosed(1, 1), _dosed(2, 0)])
    with pytest.raises(MatcherError, match="after --as-of"):
        _path([_dosed(1, 0, first=5)])


def test_replanning_keeps_dosed_infusions_and_honours_their_dlt_window(tmp_path: Path) -> None:
    trials = [_trial(ESCALATION_ID, 12, design="3+3", dose_levels=3)]
    begun = {"level": 1, "dates": [_day(-1)], "dlts": 0, "patients": ["Q8"]}
    state = {ESCALATION_ID: {"cohorts": [_dosed(1, 1, first=-60), begun]}}
    records = [{"patient_id": f"Q{i}"} for i in range(9)]
    windows = {(f"Q{i}", ESCALATION_ID): (AS_OF, None) for i in range(9)}
    calendar, text = _solve(windows, trials, 180, records, state)
    rows = check_calendar(text, [f"Q{i}" for i in range(9)], _trial_files(tmp_path, trials), windows, AS_OF, 180, state)
    by_cohort = Counter((r["cohort"], r["dose_level"]) for r in rows if r["status"] == "scheduled")
    # cohort 2 (the expansion of level 1) was begun: 2 more join it; then levels 2 and 3 (12 - 4 dosed = 2 + 3 + 3).
    assert by_cohort == Counter({("2", "1"): 3, ("3", "2"): 3, ("4", "3"): 3})  # Q8, the sentinel, among them
    assert rows[8]["planned_date"] == _day(-1).isoformat() and rows[8]["reason"].startswith("dosed on")
    second = sorted(r["planned_date"] for r in rows if r["cohort"] == "2" and r["patient_id"] != "Q8")
    assert second[0] == _day(12).isoformat()  # the sentinel was dosed yesterday: the others enrolled after its watch


def test_state_file_errors_name_the_file_the_trial_and_the_field(tmp_path: Path) -> None:
    bad = tmp_path / "state.yaml"
    bad.write_text(f"{ESCALATION_ID}:\n  cohorts:\n    - level: 1\n      dates: [2026-10-01]\n      dlts: 2\n")
    with pytest.raises(MatcherError, match=rf"state.yaml: {ESCALATION_ID}: cohorts\[0\]: 2 DLTs in 1 patients"):
        load_state(bad, list(MODELS))
    bad.write_text(f"{ESCALATION_ID}:\n  cohorts:\n    - level: one\n      dates: [2026-10-01]\n")
    with pytest.raises(MatcherError, match=rf"state.yaml: {ESCALATION_ID}.cohorts.0.level"):
        load_state(bad, list(MODELS))


# ---------------------------------------------------------------- the command line


def test_cli_schedules_the_demo_cohort_and_passes_the_checker(tmp_path: Path) -> None:
    runner = CliRunner()
    args = ["schedule", "scenarios/demo-cohort.csv", "--as-of", "2026-12-01", "--format", "csv", "--workers", "1"]
    args += ["--trials", f"{ESCALATION_ID},NCT06920433,{FIXED_ID}"]
    first = runner.invoke(main, args)
    assert first.exit_code == 0, first.output
    assert runner.invoke(main, args).stdout == first.stdout  # byte-identical rerun
    chosen = (ESCALATION_ID, "NCT06920433", FIXED_ID)
    plans = eligibility_windows(read_cohort("scenarios/demo-cohort.csv"), [MODELS[t] for t in chosen], AS_OF, 180, 1)
    windows = {(p.patient_id, p.trial_id): (p.earliest_date, p.window_end) for p in plans if p.earliest_date}
    with open("scenarios/demo-cohort.csv", encoding="utf-8") as handle:
        ids = [r["patient_id"] for r in csv.DictReader(handle)]
    files = {t: Path(f"models/{t}.yaml") for t in chosen}
    checked = check_calendar(first.stdout, ids, files, windows, AS_OF, 180)
    assert any(r["status"] == "scheduled" and r["cohort"] == "1" for r in checked)
    assert any(r["status"] == "invalid" for r in checked)


def test_api_returns_the_csv_columns_typed() -> None:
    from matcher import api

    frame = api.schedule("scenarios/demo-cohort.csv", "2026-12-01", trials=[ESCALATION_ID, FIXED_ID], workers=1)
    assert list(frame.columns) == list(SCHEDULE_COLUMNS)
    assert len(frame) == 39 and set(frame["status"]) <= {"scheduled", "reserve", "unplaced", "invalid"}
    placed = frame[frame["status"] == "scheduled"]
    assert (placed["planned_date"] >= placed["window_start"]).all() and str(frame["dose_level"].dtype) == "Int64"


def test_report_draws_the_calendar_as_a_gantt_chart() -> None:
    from matcher.figures import calendar_figure

    trials = [_trial(ESCALATION_ID, 12, design="3+3", dose_levels=3), _trial(FIXED_ID, 6, design="fixed")]
    records, windows = _crowded(30)
    calendar, text = _solve(windows, trials, 120, records)
    figure = calendar_figure(calendar)
    bars, marks = figure["data"]
    rows = list(csv.DictReader(io.StringIO(text)))
    scheduled = [r for r in rows if r["status"] == "scheduled"]
    assert len(marks["x"]) == len(scheduled)
    assert sorted(marks["x"]) == sorted(r["planned_date"] for r in scheduled)
    cohorts = {(r["trial_id"], r["cohort"]) for r in scheduled}
    assert len(figure["layout"]["yaxis"]["ticktext"]) == len(cohorts)
    # one infusion bar per row, and a DLT window bar after each 3+3 cohort
    assert len(bars["y"]) == len(cohorts) + sum(1 for trial, number in cohorts if number)


def test_report_command_adds_the_calendar_section(tmp_path: Path) -> None:
    output = tmp_path / "report.html"
    args = ["report", "scenarios/demo-cohort.csv", "--as-of", "2026-12-01", "--calendar", "90", "-o", str(output)]
    result = CliRunner().invoke(main, [*args, "--trials", f"{ESCALATION_ID},{FIXED_ID}", "--workers", "1"])
    assert result.exit_code == 0, result.output
    page = output.read_text("utf-8")
    assert '<section id="calendar">' in page and 'data-chart="calendar"' in page


def test_a_time_limit_too_short_for_any_calendar_names_the_option() -> None:
    trials = [_trial(ESCALATION_ID, 12, design="3+3", dose_levels=3), _trial(FIXED_ID, 6, design="fixed")]
    records, windows = _crowded(30)
    with pytest.raises(ParameterError, match="no calendar found"):
        _solve(windows, trials, 120, records, time_limit=1e-6)


def test_a_window_a_routine_test_closes_is_scheduled_beyond_it_with_the_test_to_repeat() -> None:
    """Review 29 (M2): a window that only a pregnancy test's 7 days close ("a negative HCG test within 7 days
    before study enrollment", NCT06920433 incl.19) is not the patient's window: the test is repeated.  Such women
    were left out of the calendar ("cohort 1 cannot be filled"); they are scheduled up to the window's next close,
    and an infusion after the test on record lapses says to repeat it first."""
    import sys

    import pandas as pd

    from matcher import api

    sys.path.insert(0, str(Path(__file__).parent / "trials"))
    from test_NCT06920433 import ELIGIBLE_SLE

    women = [
        {**ELIGIBLE_SLE, "patient_id": f"W{n:02d}", "pregnancy_test_negative_date": "2026-11-27"} for n in range(12)
    ]
    frame = api.schedule(pd.DataFrame(women), AS_OF, trials=["NCT06920433"], workers=1)
    scheduled = frame[frame["status"] == "scheduled"]
    # two cohorts of three: the third would be enrolled after the second's DLT window (its last infusion 2027-02-01
    # + 28 days) and infused on 2027-03-06, a day after the window closes (review 37 M1)
    assert len(scheduled) == 6
    lapsed = pd.Timestamp("2026-12-03")  # the test of 2026-11-27 holds for 7 days
    assert (frame[frame["status"] != "unplaced"]["tests_hold_until"] == lapsed).all()
    enrolment = scheduled["planned_date"] - pd.Timedelta(days=5)  # review 34 M-B: enrolment 5 days before
    assert (enrolment <= lapsed).any() and (enrolment > lapsed).any()
    for _, row in scheduled.iterrows():
        enrolled = row["planned_date"] - pd.Timedelta(days=5)
        after = enrolled > lapsed
        assert row["planned_date"] <= row["window_end"]
        assert f"on {row['planned_date'].date()} (enrolment on {enrolled.date()})" in row["reason"]
        # review 31 m1, review 33 M1: the kind of test, and how fresh at the event the text counts it to ("within 7
        # days before study enrollment", which comes before the lymphodepletion), in words and in columns
        fresh = "less than 7 days old at enrolment"
        repeat = f"repeat the pregnancy test (urine) so it is {fresh}, for enrolment on {enrolled.date()}"
        assert (repeat in row["reason"]) == after, row.to_dict()
        assert (row["repeat_tests"], row["repeat_within"]) == (("pregnancy test (urine)", fresh) if after else ("", ""))
    # review 31 (S1): a reserve is called up after a DLT, when her test may have lapsed: the row says so too
    reserves = frame[frame["status"] == "reserve"]
    condition = (
        "if infused after 2026-12-08, repeat the pregnancy test (urine) so it is less than 7 days old at enrolment"
    )
    assert len(reserves) == 3 and all(condition in reason for reason in reserves["reason"])
    assert (reserves["repeat_tests"] == "pregnancy test (urine)").all()


def test_a_calendar_row_gives_the_plan_steps_its_window_rests_on(tmp_path: Path) -> None:
    """Women of childbearing potential with no dated pregnancy test are placed on a plan that does the test, its
    result awaited; the row of the one infused on the plan's first day said nothing of the test (its window words
    only), so the calendar read as if she were eligible as recorded."""
    import sys

    import pandas as pd

    from matcher import api

    sys.path.insert(0, str(Path(__file__).parent / "trials"))
    from test_NCT06920433 import ELIGIBLE_SLE

    women = [
        {**ELIGIBLE_SLE, "patient_id": f"B{n:02d}", "pregnancy_test_negative_date": "", "pregnant": ""}
        for n in range(5)
    ]
    eligible = {**ELIGIBLE_SLE, "patient_id": "E00", "pregnancy_test_negative_date": "2026-11-30"}
    rows = [eligible, *women]  # E00: eligible as recorded, no step
    frame = api.schedule(pd.DataFrame(rows), AS_OF, trials=["NCT06920433"], workers=1).set_index("patient_id")
    # review 34 m-C: "do", not "repeat", a test none is on record of; the result in words, not columns
    step = (
        "2026-12-01: do the pregnancy test (urine) (none on record): must be negative; the result is awaited, in hand"
        " before enrolment"
    )
    placed = frame[frame["status"].isin(["scheduled", "reserve"])]
    assert len(placed) == 6 and placed.loc["E00", "actions"] == []
    lapses = pd.Timestamp("2026-12-07")  # the plan's test of 12-01 is less than 7 days old at enrolment until then
    for pid, row in placed.drop(index="E00").iterrows():
        if row["enrolment_date"] <= lapses:
            assert row["actions"] == [step], pid
        else:  # the plan's test would lapse first: done once, for the enrolment, not on 12-01 and again
            assert row["actions"] == [], pid
            assert row["reason"].endswith(
                f"do the pregnancy test (urine) so it is less than 7 days old at enrolment, for enrolment on "
                f"{row['enrolment_date'].date()} (the plan's, on 2026-12-01, would hold only to 2026-12-07)"
            ), pid
    assert (placed["enrolment_date"] <= lapses).sum() == 1
    awaited = "on the plan's steps (actions), awaiting the pregnancy test (urine) result"
    assert [awaited in reason for reason in placed["reason"]] == [False, True, True, True, True, True]
    # review 34 M-B: the test comes before enrolment, which comes 5 days before the infusion, never on its day
    assert (placed["window_start"] == pd.Timestamp("2026-12-06")).all()
    assert (frame[frame["status"] == "scheduled"]["planned_date"] >= pd.Timestamp("2026-12-06")).all()
    # the default table lists them too: the cohorts' table shows only names and dates
    path = tmp_path / "cohort.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    args = ["schedule", str(path), "--as-of", AS_OF.isoformat(), "--trials", "NCT06920433", "--workers", "1"]
    table = CliRunner().invoke(main, args).stdout
    assert "Before enrolment" in table and table.count("2026-12-01: do the pregnancy test (urine) (none on") == 1
    assert table.count("do the pregnancy test (urine) so it is less than 7 days old at enrolment") == 4


def test_a_patient_eligible_as_recorded_goes_before_one_awaiting_a_test_result() -> None:
    """Review 33 (m1): the calendar ranked a woman whose plan does a pregnancy test, its result awaited, level with
    women eligible as recorded, and the patient_id tie-break gave her the place (B.. before E..) while women with a
    valid test became reserves.  Nine women for the six places of two cohorts (review 37 M1: a third is enrolled
    after the second's DLT window, beyond the windows)."""
    import sys

    import pandas as pd

    from matcher import api

    sys.path.insert(0, str(Path(__file__).parent / "trials"))
    from test_NCT06920433 import ELIGIBLE_SLE

    awaiting = [
        {**ELIGIBLE_SLE, "patient_id": f"B{n:02d}", "pregnancy_test_negative_date": "", "pregnant": ""}
        for n in range(6)
    ]
    recorded = [
        {**ELIGIBLE_SLE, "patient_id": f"E{n:02d}", "pregnancy_test_negative_date": "2026-11-30"} for n in range(3)
    ]
    frame = api.schedule(pd.DataFrame(awaiting + recorded), AS_OF, trials=["NCT06920433"], workers=1)
    scheduled = frame[frame["status"] == "scheduled"]["patient_id"]
    assert len(scheduled) == 6 and {f"E{n:02d}" for n in range(3)} <= set(scheduled)
    assert sorted(frame[frame["status"] != "scheduled"]["patient_id"]) == ["B03", "B04", "B05"]


def test_a_repeat_the_text_wants_by_serum_says_serum() -> None:
    """Review 31 (m1): NCT06821659 wants "a negative serum HCG test within 7 days before enrollment"; a calendar row
    that said "repeat the pregnancy test" could be met with a urine test, which does not qualify."""
    import sys

    import pandas as pd

    from matcher import api

    sys.path.insert(0, str(Path(__file__).parent / "trials"))
    from test_NCT06821659 import ELIGIBLE_SLE

    women = [
        {**ELIGIBLE_SLE, "patient_id": f"S{n:02d}", "pregnancy_test_negative_date": "2026-11-27"} for n in range(6)
    ]
    frame = api.schedule(pd.DataFrame(women), AS_OF, trials=["NCT06821659"], workers=1)
    later = frame[frame["planned_date"] > pd.Timestamp("2026-12-08")]  # enrolment 5 days before, after the lapse
    assert len(later) > 0 and (later["repeat_tests"] == "pregnancy test (serum)").all()
    assert (later["repeat_within"] == "less than 7 days old at enrolment").all()
    for _, row in later.iterrows():
        assert "repeat the pregnancy test (serum) so it is less than 7 days old at enrolment" in row["reason"]


def test_an_unplaced_reason_names_a_recorded_positive_test_before_a_lapsed_negative_one() -> None:
    """Review 34 (m-D): a woman with a positive pregnancy test on record and an old negative one was told first of
    the old test ("... more than 7 days ago (+1 more)"), which reads as "repeat the test"; no plan repeats a test
    over a positive one, so the positive test is the reason that lasts.  An allocation of those eligible now keeps
    the trial's order (the relaxed evaluation is spared there)."""
    import sys

    import pandas as pd

    from matcher import api

    sys.path.insert(0, str(Path(__file__).parent / "trials"))
    from test_NCT06821659 import ELIGIBLE_SLE

    woman = {**ELIGIBLE_SLE, "patient_id": "P1", "pregnant": "true", "pregnancy_test_negative_date": "2026-11-01"}
    calendar = api.schedule(pd.DataFrame([woman]), AS_OF, trials=["NCT06821659"], workers=1)
    reason = calendar["reason"][0]
    assert calendar["status"][0] == "unplaced"
    assert "NCT06821659: positive pregnancy test: yes (+1 more)" in reason, reason
    assert "not within the last 7 days" not in reason
    plain = api.allocate(pd.DataFrame([woman]), AS_OF, trials=["NCT06821659"])["reason"][0]
    assert "NCT06821659: negative pregnancy test on 2026-11-01 is not within the last 7 days" in plain, plain
    within = api.allocate(pd.DataFrame([woman]), AS_OF, trials=["NCT06821659"], within=60, workers=1)["reason"][0]
    assert "NCT06821659: positive pregnancy test: yes (+1 more)" in within, within


def test_a_withheld_drug_is_withheld_to_the_calendars_infusion() -> None:
    """Review 37 M2: a plan withholds telitacicept "up to and on the plan date"; the calendar enrolled her weeks
    later, when the course, resumed, excluded her (NCT06983964 excl.8, 2 weeks).  Scheduled, she is told to keep
    withholding it to her infusion; in reserve, to whichever infusion comes."""
    import sys

    import pandas as pd

    from matcher import api

    sys.path.insert(0, str(Path(__file__).parent / "trials"))
    from test_NCT06983964 import SLE

    rows = [{**SLE, "patient_id": f"T{n}", "telitacicept_last_dose": "2026-11-24"} for n in range(5)]
    frame = api.schedule(pd.DataFrame(rows), AS_OF, trials=["NCT06983964"], workers=1).set_index("patient_id")
    assert list(frame["status"]) == ["scheduled"] * 3 + ["reserve"] * 2
    for pid, row in frame.iterrows():
        if row["status"] == "scheduled":
            keep = f"keep withholding telitacicept until after the infusion on {row['planned_date'].date()}"
        else:
            keep = "keep withholding telitacicept until after the infusion, whenever it comes"
        assert keep in row["reason"], pid
        withheld = [step for step in row["actions"] if step.startswith("2026-12-01: give no more telitacicept")]
        assert len(withheld) == 1 and withheld[0].endswith(keep), pid
    # the latest infusion is weeks after the plan's date (2026-12-08), which is all the plan withholds it to
    assert frame["planned_date"].max() == pd.Timestamp("2026-12-26")


@pytest.mark.parametrize(("time_limit", "limits"), [(None, [None] * 4 + [60.0, 2.0]), (5.0, [5.0] * 5 + [2.0])])
def test_only_the_sooner_days_level_is_limited_by_default(
    monkeypatch: pytest.MonkeyPatch, time_limit: float | None, limits: list[float | None]
) -> None:
    """The sooner-days level's proof took over 14 minutes on 3,000 patients: by default it gets DAYS_LIMIT
    deterministic seconds (then its gap is reported), the tie-break its own, every other level none."""
    import matcher.schedule as module

    seen: list[float | None] = []
    solve = module._solve
    monkeypatch.setattr(
        module, "_solve", lambda model, objective, limit: (seen.append(limit), solve(model, objective, limit))[1]
    )
    trials = [_trial(ESCALATION_ID, 9, design="3+3", dose_levels=2)]
    records = [{"patient_id": f"L{i}"} for i in range(4)]
    calendar, _ = _solve(
        {(f"L{i}", ESCALATION_ID): (AS_OF, None) for i in range(4)}, trials, 90, records, time_limit=time_limit
    )
    assert seen == limits and calendar.proven


@pytest.mark.parametrize(
    ("watches", "gaps"),
    [
        ({"dlt_days": 28, "stagger_days": 7}, (28 + 1 + 5, 7 + 1 + 5)),  # enrolment on day 29 / day 8 at the soonest
        ({"dlt_days": 0, "stagger_days": 0}, (5, 0)),  # no watch holds back no day (review 42: dlt_days 0 held one)
        ({"dlt_days": 1, "stagger_days": 1}, (1 + 1 + 5, 1 + 1 + 5)),
    ],
)
def test_a_watch_of_n_days_ends_before_the_next_enrolment(watches: dict[str, int], gaps: tuple[int, int]) -> None:
    """A watch is days 1 to N after an infusion (day 0), the next patient enrolled the day after it and infused
    ``enrolment_days`` (5) later: the DLT window as the sentinel's stagger (review 42: enrolment on day 7 of a
    7-day stagger)."""
    enrollment = ir.Enrollment(design="3+3", dose_levels=2, **watches)
    assert (enrollment.escalation_days, enrollment.sentinel_days) == gaps
