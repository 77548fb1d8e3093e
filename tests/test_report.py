"""``matcher report``: one self-contained HTML page, every input value escaped, usable at 10k patients.

The browser test opens the page in Debian's headless Chromium through chromedriver; it skips
when they are not installed, unless REQUIRE_BROWSER=1 (CI), where it must run.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import html
import json
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from trialkit import NOT_RECRUITING_IN_WORDS, RECRUITING

from matcher.allocation import allocate
from matcher.cli import main
from matcher.cohort import check_as_of, load_cohort
from matcher.figures import TIMELINE_ROWS_PER_TRIAL
from matcher.nearmiss import near_misses
from matcher.outcome import Allocation
from matcher.plans import Plan
from matcher.render import criterion_words
from matcher.report import cohort_report
from matcher.scenario import quota_rules
from matcher.screening import STATUS_NAMES, UNDECIDED, Screening, funnel, screen
from matcher.trials import load_trials, scenarios_dir, select_trials

ROOT = Path(__file__).resolve().parent.parent
DEMO = scenarios_dir() / "demo-cohort.csv"
AS_OF = "2026-11-23"
SCRIPT_ID = "<script>alert(1)</script>"
IMAGE_ID = "<img src=x onerror=alert(2)>"
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


def _demo_rows() -> tuple[list[str], list[list[str]]]:
    with open(DEMO, newline="", encoding="utf-8") as handle:
        header, *rows = list(csv.reader(handle))
    return header, rows


def _write_cohort(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _run_report(cohort: Path, out: Path, *options: str) -> str:
    result = CliRunner().invoke(main, ["report", str(cohort), "--as-of", AS_OF, *options, "-o", str(out)])
    assert result.exit_code == 0, result.output
    return out.read_text(encoding="utf-8")


def _data(page: str) -> dict[str, Any]:
    """The page's JSON blob, as the browser reads it."""
    match = re.search(r'<script type="application/json" id="report-data">(.*?)</script>', page, re.S)
    assert match
    assert "</" not in match.group(1) and "<!--" not in match.group(1)
    document: dict[str, Any] = json.loads(match.group(1))
    return document


@pytest.fixture(scope="module")
def demo_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report") / "demo-report.html"
    _run_report(DEMO, out, "--within", "60")
    return out


@functools.cache
def _demo_results() -> tuple[Screening, list[Plan], Allocation]:
    """What the library computes for the demo report (``--within 60``), to compare the page with."""
    as_of = dt.date.fromisoformat(AS_OF)
    trials = select_trials([])
    cohort = check_as_of(load_cohort(DEMO), as_of)
    screening = screen(cohort, trials, as_of)
    plans = near_misses(cohort, trials, as_of, 60, workers=1)
    return screening, plans, allocate(screening, {}, quota_rules(trials, None), plans, 60)


@pytest.fixture(scope="module")
def hostile_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo, in a trial with a patient placed and a near miss, with those two renamed to markup."""
    _, plans, allocation = _demo_results()
    trial = next(t for t in allocation.trials if t.roster and any(p.trial_id == t.trial_id for p in plans))
    near = next(p.patient_id for p in plans if p.trial_id == trial.trial_id and p.patient_id != trial.roster[0])
    header, rows = _demo_rows()
    renamed = {trial.roster[0]: SCRIPT_ID, near: IMAGE_ID}
    rows = [[renamed.get(row[0], row[0]), *row[1:]] for row in rows]
    folder = tmp_path_factory.mktemp("hostile")
    cohort = _write_cohort(folder / "hostile.csv", header, rows)
    out = folder / "hostile-report.html"
    _run_report(cohort, out, "--within", "60", "--trials", trial.trial_id)
    return out


def test_demo_report_is_one_self_contained_file(demo_report: Path) -> None:
    page = demo_report.read_text(encoding="utf-8")
    markup = re.sub(r"<script\b[^>]*>.*?</script>", "", page, flags=re.S)  # the browser test checks what runs
    assert not re.search(r"<script[^>]*\ssrc=|<link[^>]*stylesheet|<iframe|<img", markup)
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", markup)
    assert page.count("<script") == page.count("</script>") == 3  # data, plotly.js, the report's own code
    for section in ("summary", "funnels", "allocation", "near-misses", "missing", "patients"):
        assert f'<section id="{section}">' in page
    assert "optimal (proven by CP-SAT)" in page


def test_demo_report_data_matches_the_library(demo_report: Path) -> None:
    page = demo_report.read_text(encoding="utf-8")
    data = _data(page)
    as_of = dt.date.fromisoformat(AS_OF)
    trials = select_trials([])
    screening = screen(load_cohort(DEMO), trials, as_of)
    for result in screening.results:
        steps = funnel(result)
        figure = data["charts"][f"funnel-{result.trial.id}"]["data"][0]
        assert figure["x"] == [len(screening.cohort) - len(screening.cohort.invalid)] + [s.remaining for s in steps]
        assert html.escape(criterion_words(steps[0].criterion), quote=False) in figure["customdata"][1]
    _, plans, allocation = _demo_results()
    rows_by_trial = {trial_id: data["tables"][f"lists-{trial_id}"]["rows"] for trial_id in (t.id for t in trials)}
    for outcome in allocation.trials:
        assert [row[2] for row in rows_by_trial[outcome.trial_id] if row[0] == "roster"] == outcome.roster
        assert [row[2] for row in rows_by_trial[outcome.trial_id] if row[0] == "waitlist"] == outcome.waitlist
    assert sum(len(outcome.roster) for outcome in allocation.trials) > 0
    filled = data["charts"]["allocation"]["data"]
    assert [sum(trace["x"][i] for trace in filled[:2]) for i in range(len(trials))] == [
        sum(row[0] == "roster" for row in rows_by_trial[t.id]) for t in trials
    ]
    near = data["tables"]["near-misses"]["rows"]
    assert plans and [row[:3] for row in near] == [[p.patient_id, p.trial_id, p.status_now] for p in plans]
    status_of = {
        (pid, r.trial.id): STATUS_NAMES[r.status[i]]
        for r in screening.results
        for i, pid in enumerate(screening.cohort.ids)
    }
    assert all(row[2] == status_of[(row[0], row[1])] != "eligible" for row in near)
    assert [row[6] for row in near] == ["; ".join(a.text for a in p.actions) or "wait" for p in plans]
    missing = data["tables"]["missing"]["rows"]
    needed = [row[1] for row in missing]
    assert needed == sorted(needed, reverse=True) and all(row[1] == sum(row[3:]) for row in missing)
    outcome_of = {p.patient_id: p for p in allocation.patients}
    for result, outcome in zip(screening.results, allocation.trials, strict=True):
        summary = re.search(rf'<span class="mono">{result.trial.id}</span>.*?</tr>', page, re.S)
        assert summary
        counts = result.counts()
        planned = sum(bool(outcome_of[pid].actions) or outcome_of[pid].planned_date != as_of for pid in outcome.roster)
        numbers = [int(n) for n in re.findall(r'<td class="num">(\d+)</td>', summary.group(0))]
        assert numbers == [
            *(counts[name] for name in STATUS_NAMES),
            outcome.slots,
            len(outcome.roster) - planned,
            planned,
            len(outcome.waitlist),
        ]
    patients = data["patients"]["rows"]
    assert [row[0] for row in patients] == [f"P{i:03d}" for i in range(1, 40)]
    first = allocation.patients[0]
    assert patients[0][1:3] == [first.status, first.trial_id]
    # Each failed criterion carries the patient's reason in words.
    p036 = next(row for row in patients if row[0] == "P036")
    entry = p036[6][[r.trial.id for r in screening.results].index("NCT06983964")]
    failed = [data["patients"]["criteria"][index][0] for index in entry[1]]
    assert failed == ["NCT06983964.excl.6"]
    assert [data["patients"]["reasons"][index] for index in entry[4]] == ["prednisone 25 mg/day is above 20 mg/day"]


def test_missing_data_ranking_counts_each_unknown_pair_per_column(demo_report: Path) -> None:
    """'needed' is the unknown pairs listing the column; 'alone' those where it is the only one."""
    data = _data(demo_report.read_text(encoding="utf-8"))
    screening = screen(load_cohort(DEMO), select_trials([]), dt.date.fromisoformat(AS_OF))
    expected: dict[str, list[int]] = {}
    for result in screening.results:
        for row, columns in enumerate(result.missing_lists()):
            if result.status[row] == UNDECIDED:
                for column in columns:
                    tally = expected.setdefault(column, [0, 0])
                    tally[0] += 1
                    tally[1] += len(columns) == 1
    got = {row[0]: [row[1], row[2]] for row in data["tables"]["missing"]["rows"]}
    assert got == expected
    assert any(alone >= 1 for _, alone in got.values())


def test_hostile_patient_ids_stay_text(hostile_report: Path) -> None:
    page = hostile_report.read_text(encoding="utf-8")
    assert SCRIPT_ID not in page and IMAGE_ID not in page
    assert html.escape(SCRIPT_ID) in page  # the summary's roster, escaped by Jinja2
    assert "\\u003cscript\\u003ealert(1)\\u003c/script\\u003e" in page  # the JSON blob
    assert page.count("</script>") == 3
    data = _data(page)
    assert next(row[1] for row in data["patients"]["rows"] if row[0] == SCRIPT_ID) == "assigned"
    ticks = data["charts"]["timeline"]["layout"]["yaxis"]["ticktext"]
    assert html.escape(IMAGE_ID, quote=False) in ticks  # Plotly decodes entities back to the text


def test_ten_thousand_patients_stay_light(tmp_path: Path) -> None:
    header, rows = _demo_rows()
    big = [[f"X{i:05d}", *rows[i % len(rows)][1:]] for i in range(10_000)]
    cohort = load_cohort(_write_cohort(tmp_path / "big.csv", header, big))
    trial_id = max(_demo_results()[0].results, key=lambda result: result.counts()["eligible"]).trial.id
    page = cohort_report(cohort, select_trials([]), dt.date.fromisoformat(AS_OF), {trial_id: 50}, None)
    data = _data(page)
    assert len(data["patients"]["rows"]) == 10_000
    assert len(page) < 16_000_000  # about 5 MB of it is plotly.js
    assert "Run <code>matcher report … --within DAYS</code>" in page
    for name, figure in data["charts"].items():
        points = max(len(trace.get("y") or []) for trace in figure["data"])
        assert points <= max(TIMELINE_ROWS_PER_TRIAL, 100), name  # aggregated, never one mark per patient
    roster = [row for row in data["tables"][f"lists-{trial_id}"]["rows"] if row[0] == "roster"]
    assert len(roster) == 50


def test_report_rejects_slots_of_an_unknown_trial(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["report", str(DEMO), "--as-of", AS_OF, "--slots", "NCT00000000=3", "-o", str(tmp_path / "r.html")]
    )
    assert result.exit_code == 2
    assert "--slots names unknown trial 'NCT00000000'" in result.stderr
    assert not (tmp_path / "r.html").exists()


def test_report_matches_allocate_on_the_same_inputs() -> None:
    """The report's rosters are the allocation the library computes, slot overrides included."""
    as_of = dt.date.fromisoformat(AS_OF)
    cohort = load_cohort(DEMO)
    eligible = {r.trial.id: r.counts()["eligible"] for r in screen(cohort, select_trials([]), as_of).results}
    busiest = max(eligible, key=eligible.__getitem__)  # from the data: the models change, the check does not
    assert eligible[busiest] >= 3
    trials = select_trials(sorted({busiest, min(eligible)}))
    slots = {busiest: 2}
    data = _data(cohort_report(cohort, trials, as_of, slots, None))
    expected = allocate(screen(cohort, trials, as_of), slots, quota_rules(trials, None))
    for outcome in expected.trials:
        rows = data["tables"][f"lists-{outcome.trial_id}"]["rows"]
        assert [r[2] for r in rows if r[0] == "roster"] == outcome.roster
        assert [r[2] for r in rows if r[0] == "waitlist"] == outcome.waitlist
        until = {p.patient_id: p.eligible_until for p in expected.patients}
        assert [r[4] for r in rows if r[0] == "roster"] == [
            until[pid].isoformat() if until[pid] else "open" for pid in outcome.roster
        ]
    assert [len(outcome.roster) for outcome in expected.trials if outcome.trial_id == busiest] == [2]


def _section(page: str, name: str) -> str:
    match = re.search(rf'<section id="{name}">(.*?)</section>', page, re.S)
    assert match
    return match.group(1)


def test_report_says_which_trials_are_not_recruiting(demo_report: Path) -> None:
    page = demo_report.read_text(encoding="utf-8")
    noted = []
    for trial in load_trials().values():
        summary = re.search(rf'<span class="mono">{trial.id}</span>(.*?)</td>', _section(page, "summary"), re.S)
        panel = re.search(rf'<span class="mono">{trial.id}</span>: roster .*?</h3>', _section(page, "allocation"))
        assert summary and panel
        if trial.status not in RECRUITING:
            words = NOT_RECRUITING_IN_WORDS[trial.status]
            assert f'<div class="recruitment">{words}</div>' in summary.group(1)
            assert f'<span class="recruitment">{words}</span>' in panel.group(0)
            noted.append(trial.id)
        else:
            assert "recruitment" not in summary.group(1) + panel.group(0)
    assert 0 < len(noted) < len(load_trials())  # both kinds of trial were checked


def test_report_runs_the_allocation_the_coordinator_ran(tmp_path: Path) -> None:
    """--scenario, --previous and --recruiting-only give the report the rosters ``allocate`` gives."""
    scenario = tmp_path / "scenario.yaml"
    scenario.write_text(
        "slots: {NCT06056921: 3, NCT06821659: 4}\n"
        "quotas:\n  - {trial: NCT06056921, column: diagnosis, value: SLE, max: 1}\n"
    )
    earlier = tmp_path / "earlier.csv"
    first = CliRunner().invoke(main, ["allocate", str(DEMO), "--as-of", AS_OF, "--format", "csv", "-o", str(earlier)])
    assert first.exit_code == 0
    options = ["--scenario", str(scenario), "--previous", str(earlier), "--recruiting-only", "--slots", "NCT06983964=2"]
    allocated = CliRunner().invoke(main, ["allocate", str(DEMO), "--as-of", AS_OF, "--format", "json", *options])
    assert allocated.exit_code == 0, allocated.stderr
    expected = json.loads(allocated.stdout)
    page = _run_report(DEMO, tmp_path / "report.html", *options)
    tables = _data(page)["tables"]
    recruiting = [t.id for t in load_trials().values() if t.status == "recruiting"]
    assert [t["trial_id"] for t in expected["trials"]] == recruiting
    assert sorted(name.removeprefix("lists-") for name in tables if name.startswith("lists-")) == sorted(recruiting)
    for trial in expected["trials"]:
        rows = tables[f"lists-{trial['trial_id']}"]["rows"]
        assert [row[2] for row in rows if row[0] == "roster"] == trial["roster"]
        assert [row[2] for row in rows if row[0] == "waitlist"] == trial["waitlist"]
    slots = {trial["trial_id"]: trial["slots"] for trial in expected["trials"]}
    assert slots["NCT06056921"] == 3 and slots["NCT06983964"] == 2
    assert sum(1 for pid in expected["trials"][0]["roster"] if pid in _sle_patients()) <= 1
    assert expected["levels"]["kept"] > 0
    listed = re.search(r'<ul class="warnings">(.*?)</ul>', page, re.S)
    assert listed
    shown = [html.unescape(line) for line in re.findall(r"<li>(.*?)</li>", listed.group(1))]
    assert shown == expected["warnings"]
    assert f"{scenario}: ignoring the slots and quotas of NCT06821659, not among the trials considered" in shown


def _sle_patients() -> set[str]:
    header, rows = _demo_rows()
    return {row[0] for row in rows if row[header.index("diagnosis")] == "SLE"}


def test_allocation_chart_shows_filled_slots_against_capacity_and_the_waitlist_as_a_number(tmp_path: Path) -> None:
    """Eight copies of the demo and three slots: a waitlist several times the slots does not stretch the bars."""
    header, rows = _demo_rows()
    big = _write_cohort(tmp_path / "big.csv", header, [[f"{row[0]}-{k}", *row[1:]] for k in range(8) for row in rows])
    data = _data(_run_report(big, tmp_path / "big.html", "--slots", "NCT06056921=3"))
    chart = data["charts"]["allocation"]
    assert [trace["name"] for trace in chart["data"]] == [
        "enrolled, eligible now",
        "enrolled on a what-if plan",
        "open slots",
    ]
    trial_ids = chart["data"][0]["y"]
    bars = [sum(trace["x"][index] for trace in chart["data"]) for index in range(len(trial_ids))]
    slots = {t.id: t.slots for t in load_trials().values()} | {"NCT06056921": 3}
    assert bars == [slots[trial_id] for trial_id in trial_ids]
    waitlists = [len([r for r in data["tables"][f"lists-{t}"]["rows"] if r[0] == "waitlist"]) for t in trial_ids]
    assert waitlists[trial_ids.index("NCT06056921")] > 3 * 3
    notes = chart["layout"]["annotations"]
    assert [(note["y"], note["x"], note["text"]) for note in notes] == [
        (trial_id, slots[trial_id], f"waitlist {count:,}") for trial_id, count in zip(trial_ids, waitlists, strict=True)
    ]
    assert chart["layout"]["xaxis"]["title"]["text"] == "slots"


def test_summary_counts_read_as_words_and_hide_the_solver_objective(demo_report: Path) -> None:
    page = demo_report.read_text(encoding="utf-8")
    summary = _section(page, "summary")
    invalid = len(load_cohort(DEMO).invalid)
    assert invalid == 1
    assert '<div class="big">1</div><div>row that could not be read</div>' in summary
    assert re.search(r'<div class="big">\d+</div><div>patients in the cohort</div>', summary)
    objective = json.loads(
        CliRunner().invoke(main, ["allocate", str(DEMO), "--as-of", AS_OF, "--within", "60", "--format", "json"]).stdout
    )["objective"]
    assert "objective" not in summary and str(objective) not in summary


def test_near_misses_placed_in_another_trial_are_marked(demo_report: Path) -> None:
    data = _data(demo_report.read_text(encoding="utf-8"))
    placed_in = {row[0]: row[2] for row in data["patients"]["rows"] if row[1] == "assigned"}
    near = data["tables"]["near-misses"]
    assert near["columns"][-1]["label"] == "placed in another trial"
    marks = [(row[0], row[1], row[-1]) for row in near["rows"]]
    expected = [(pid, trial, placed_in[pid] if placed_in.get(pid, trial) != trial else None) for pid, trial, _ in marks]
    assert marks == expected
    elsewhere = [(pid, trial, other) for pid, trial, other in marks if other]
    assert elsewhere  # the demo has near misses for patients placed in another trial
    timeline = data["charts"]["timeline"]["data"][0]
    labels = dict(zip(timeline["y"], timeline["text"], strict=True))
    ticks = data["charts"]["timeline"]["layout"]["yaxis"]["ticktext"]
    for position, text in labels.items():
        patient, lane = ticks[position], next(t for t in reversed(ticks[:position]) if t.startswith("<b>"))
        other = placed_in.get(html.unescape(patient))
        marked = other is not None and f"<b>{other}</b>" != lane
        assert text.startswith(f"placed in {other} · ") == marked


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    missing = [str(path) for path in (CHROMIUM, CHROMEDRIVER) if not path.exists()]
    if missing:
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(
                f"REQUIRE_BROWSER=1 but {', '.join(missing)} is not installed (apt-get install chromium "
                "chromium-driver)"
            )
        pytest.skip(f"needs Debian's chromium and chromium-driver: {', '.join(missing)} not installed")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    profile = tempfile.mkdtemp(prefix="report-chromium-")
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--window-size=1300,1800"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    try:
        yield driver
    finally:
        driver.quit()


def _open(driver: Any, page: Path) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(page.as_uri())
    WebDriverWait(driver, 30).until(
        lambda d: d.execute_script(
            "return [...document.querySelectorAll('[data-chart]')].every(c => c.querySelector('svg.main-svg'))"
        )
    )


_DRAWN_MARKS = """
return [...document.querySelectorAll('[data-chart]')].map(chart => [
  chart.dataset.chart,
  [...chart.querySelectorAll('.point path')].filter(p => (p.getAttribute('d') || '').length > 8).length
]);
"""

_COLUMN = """
const [table, column] = arguments;
return [...document.querySelectorAll(`[data-table="${table}"] tbody tr`)].map(tr => tr.cells[column].textContent);
"""


def test_report_in_headless_chromium(browser: Any, demo_report: Path) -> None:
    from selenium.webdriver.common.by import By

    _open(browser, demo_report)
    errors = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert errors == []
    assert browser.execute_script("return performance.getEntriesByType('resource').length") == 0  # nothing fetched
    marks = dict(browser.execute_script(_DRAWN_MARKS))
    assert set(marks) == {"allocation", "timeline", "missing"} | {f"funnel-{t.id}" for t in select_trials([])}
    assert all(count > 0 for count in marks.values()), marks

    alone = 2  # the missing-data table's "settles alone (pairs)" column
    before = [int(cell) for cell in browser.execute_script(_COLUMN, "missing", alone)]
    assert before != sorted(before)  # ranked by "needed for" at first
    for direction in ("ascending", "descending"):
        header = browser.find_elements(By.CSS_SELECTOR, '[data-table="missing"] thead th')[alone]
        header.find_element(By.TAG_NAME, "button").click()  # the table re-renders: find the header again
        header = browser.find_elements(By.CSS_SELECTOR, '[data-table="missing"] thead th')[alone]
        assert header.get_attribute("aria-sort") == direction
        cells = [int(cell) for cell in browser.execute_script(_COLUMN, "missing", alone)]
        assert cells == sorted(cells, reverse=direction == "descending")
        assert len(cells) == 25  # one page of the 100-odd columns
    assert cells[0] > 0

    artifacts = ROOT / "artifacts"
    artifacts.mkdir(exist_ok=True)
    browser.execute_script("window.scrollTo(0, 0)")
    browser.save_screenshot(str(artifacts / "report-demo.png"))
    browser.execute_script("document.querySelector('.top').style.position = 'static'")  # not over the section
    browser.find_element(By.ID, "near-misses").screenshot(str(artifacts / "report-demo-near-misses.png"))
    print(f"screenshots: {artifacts / 'report-demo.png'}, {artifacts / 'report-demo-near-misses.png'}")


def test_hostile_ids_render_as_text_in_chromium(browser: Any, hostile_report: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    _open(browser, hostile_report)
    assert [e for e in browser.get_log("browser") if e["level"] == "SEVERE"] == []
    text = browser.find_element(By.TAG_NAME, "body").text
    assert SCRIPT_ID in text and IMAGE_ID in text
    assert browser.execute_script("return document.querySelectorAll('img').length") == 0
    ticks = browser.execute_script(
        "return [...document.querySelectorAll('[data-chart=timeline] .ytick text')].map(t => t.textContent)"
    )
    assert IMAGE_ID in ticks
    link = browser.find_element(By.CSS_SELECTOR, "td.roster a.pid")
    assert link.text == SCRIPT_ID
    link.click()
    # The click filters the patient list on the page's next render: wait for it, then check.
    WebDriverWait(browser, 10).until(
        lambda d: len(d.find_elements(By.CSS_SELECTOR, "#patient-list article.patient")) == 1
    )
    cards = browser.find_elements(By.CSS_SELECTOR, "#patient-list article.patient")
    assert len(cards) == 1 and cards[0].find_element(By.CSS_SELECTOR, "h3 .mono").text == SCRIPT_ID
