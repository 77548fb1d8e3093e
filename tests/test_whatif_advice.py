"""What-if advice a clinician would sign: burden counted as days, the shallowest sufficient taper,
nothing the trial forbids, invasive tests with their lead time, and the Pareto front of (date, burden).

The patients in tests/data/reviewed-plans.csv are the synthetic patients (``matcher synth --n 2000
--seed 3``) whose plans a rheumatologist reviewed; P031 and P035 are demo patients.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matcher.actions import taper_steps
from matcher.cohort import Cohort, cohort_from_records, load_cohort
from matcher.context import Context
from matcher.facts import default_facts
from matcher.planning import plan
from matcher.plans import Plan
from matcher.rescreening import patient_row, with_changes
from matcher.screening import ELIGIBLE, screen
from matcher.trials import effective_facts, load_trials, scenarios_dir

AS_OF = dt.date(2026, 11, 23)
REVIEWED = Path(__file__).parent / "data" / "reviewed-plans.csv"


def plan_of(cohort: Cohort, patient_id: str, trial_id: str, horizon: int = 180) -> Plan:
    trial = load_trials()[trial_id]
    ctx = Context(cohort, AS_OF, effective_facts(trial))
    return plan(ctx, trial, patient_row(cohort, patient_id), horizon, alternatives=True)


@pytest.fixture(scope="module")
def reviewed() -> Cohort:
    return load_cohort(REVIEWED)


@pytest.fixture(scope="module")
def demo() -> Cohort:
    return load_cohort(scenarios_dir() / "demo-cohort.csv")


def every_plan(p: Plan) -> list[tuple[dt.date, int, list[str]]]:
    primary = [(p.earliest_date, p.burden, [a.action for a in p.actions])] if p.earliest_date else []
    return primary + [(a.earliest_date, a.burden, [x.action for x in a.actions]) for a in p.alternatives]


@pytest.mark.parametrize(("source", "patient_id"), [("reviewed", "S000771"), ("reviewed", "S000447"), ("demo", "P031")])
def test_no_conventional_immunosuppressant_is_stopped_for_a_trial_that_wants_it_stable(
    source: str, patient_id: str, request: pytest.FixtureRequest
) -> None:
    """NCT06821659 wants the dose stable 'throughout the screening period': stopping it is never advised."""
    result = plan_of(request.getfixturevalue(source), patient_id, "NCT06821659")
    assert result.reachable
    assert all("stop_immunosuppressant" not in actions for _, _, actions in every_plan(result))
    assert any(burden == 0 for _, burden, _ in every_plan(result))  # waiting (and a test) is on offer


@pytest.mark.parametrize(
    ("patient_id", "trial_id", "floor"), [("S001790", "NCT06821659", 27.5), ("S001651", "NCT06983964", 17.5)]
)
def test_tapers_go_no_deeper_than_the_trial_needs(
    reviewed: Cohort, patient_id: str, trial_id: str, floor: float
) -> None:
    result = plan_of(reviewed, patient_id, trial_id)
    for action in result.actions:
        if action.action == "taper_glucocorticoid":
            assert float(str(action.after)) >= floor, action.note


def test_a_taper_lands_on_doses_one_can_prescribe_with_a_date_per_step() -> None:
    facts = default_facts()
    assert taper_steps(40, "methylprednisolone", facts, 30) == [
        (32.0, 0),
        (28.0, 7),
        (24.0, 14),
        (20.0, 21),
        (16.0, 28),
    ]
    assert taper_steps(37.5, "prednisone", facts, 14) == [(32.5, 0), (27.5, 7), (22.5, 14)]
    steps = taper_steps(22, "methylprednisolone", facts, 365)
    assert all(dose % 4 == 0 for dose, _ in steps) and steps[-1][0] == 0


def test_a_renal_biopsy_waits_for_its_lead_time_and_its_result(demo: Cohort) -> None:
    result = plan_of(demo, "P035", "NCT06920433")
    biopsy = [a for a in result.actions if a.action == "invasive_procedure"]
    if biopsy:
        assert result.earliest_date is not None and result.earliest_date >= AS_OF + dt.timedelta(days=14)
        assert result.status_at_plan == "unknown" and "lupus_nephritis_class" in result.pending
    assert not (result.earliest_date == AS_OF and result.status_at_plan == "eligible")


def test_no_percutaneous_biopsy_with_platelets_below_50(reviewed: Cohort) -> None:
    for trial_id in load_trials():
        result = plan_of(reviewed, "S000388", trial_id)
        assert all("invasive_procedure" not in actions for _, _, actions in every_plan(result)), trial_id


def test_a_repeated_pregnancy_test_leaves_its_result_pending() -> None:
    from test_whatif import base  # the trials' own eligible vignettes

    patient = {**base("NCT06920433"), "pregnancy_test_negative_date": "2026-10-01", "patient_id": "p1"}
    result = plan_of(cohort_from_records([patient]), "p1", "NCT06920433")
    assert [a.action for a in result.actions] == ["repeat_test"]
    assert result.pending == ["pregnancy_test_negative_date", "pregnant"] and result.status_at_plan == "unknown"
    assert result.eligible_pending_results
    assert "pregnancy test (urine)" in result.actions[0].note  # the trial names no type: urine is enough


def dominated(a: tuple[dt.date, int], b: tuple[dt.date, int]) -> bool:
    return b[0] <= a[0] and b[1] <= a[1] and a != b


PLANNABLE = settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])


@PLANNABLE
@given(
    trial_id=st.sampled_from(["NCT06821659", "NCT06983964", "NCT06920433"]),
    dose=st.sampled_from(["5", "15", "25", "35", "50"]),
    dose_changed=st.sampled_from(["2026-11-20", "2026-10-01", "never"]),
    immunosuppressant_changed=st.sampled_from(["2026-11-01", "2026-06-01"]),
    test_date=st.sampled_from(["2026-11-22", "2026-10-01"]),
    consent=st.sampled_from(["true", "false"]),
)
def test_the_front_has_no_dominated_plan_and_offers_waiting_whenever_waiting_works(
    trial_id: str, dose: str, dose_changed: str, immunosuppressant_changed: str, test_date: str, consent: str
) -> None:
    from test_whatif import base

    name = "SLE" if trial_id == "NCT06983964" else "ELIGIBLE_SLE"
    patient = {
        **base(trial_id, name),
        "patient_id": "p1",
        "glucocorticoid": "prednisone",
        "glucocorticoid_mg_day": dose,
        "glucocorticoid_dose_changed_date": dose_changed,
        "immunosuppressant_dose_changed_date": immunosuppressant_changed,
        "pregnancy_test_negative_date": test_date,
        "consent_signed": consent,
    }
    cohort = cohort_from_records([patient])
    result = plan_of(cohort, "p1", trial_id, horizon=60)
    points = [(date, burden) for date, burden, _ in every_plan(result)]
    assert not any(dominated(a, b) for a, b in itertools.permutations(points, 2)), points
    trial = load_trials()[trial_id]
    waited = next(
        (
            d
            for d in range(61)
            if screen(cohort, [trial], AS_OF + dt.timedelta(days=d)).results[0].status[0] == ELIGIBLE
        ),
        None,
    )
    if waited is not None:
        assert any(burden == 0 and date <= AS_OF + dt.timedelta(days=waited) for date, burden in points), points


def test_alternatives_and_burden_reach_the_json(demo: Cohort) -> None:
    document: dict[str, Any] = plan_of(demo, "P031", "NCT06920433").as_dict()
    assert {"burden_days", "alternatives", "pending", "manual_checks", "closed_by", "anchors"} <= set(document)
    for action in document["actions"]:
        assert {"date", "until", "note", "burden_days"} <= set(action)


def test_a_site_lays_its_own_burden_weights_over_the_bundled_ones(site_facts: Callable[[str], Path]) -> None:
    from matcher.errors import FactsError

    site_facts("action_burden_days: {stop_immunosuppressant: 20}\ntablet_mg: {prednisone: 5}\n")
    facts = default_facts()
    assert facts.action_burden_days["stop_immunosuppressant"] == 20
    assert facts.action_burden_days["taper_step"] == 7  # the rest of the mapping is kept
    assert taper_steps(37.5, "prednisone", facts, 7) == [(30.0, 0), (25.0, 7)]  # 5 mg tablets only
    site_facts("action_burden_days: {stop_immunosuppressant: soon}\n")
    with pytest.raises(FactsError, match="action_burden_days.stop_immunosuppressant"):
        default_facts()


def changed_demo(demo: Cohort, patient_id: str, **changes: str) -> Cohort:
    return with_changes(demo, patient_row(demo, patient_id), changes)


CREATININE_DRAW = ["crcl_ml_min", "creatinine_mg_dl", "creatinine_x_uln", "egfr_ml_min_1_73m2"]


@pytest.mark.parametrize(
    ("changes", "repeated", "awaited", "said"),
    [
        # 10% under the limit of 50
        ({"platelets_10e9_l": "45"}, "platelets_10e9_l", ["platelets_10e9_l"], "platelets 45 ×10⁹/L"),
        # 20%: the edge of "near"
        ({"platelets_10e9_l": "40"}, "platelets_10e9_l", ["platelets_10e9_l"], "platelets 40 ×10⁹/L"),
        # eGFR < 30: a new creatinine draw, which gives every value computed from it
        ({"egfr_ml_min_1_73m2": "27"}, "egfr_ml_min_1_73m2", CREATININE_DRAW, "eGFR 27 mL/min/1.73m²"),
        # review 53 F2: a value two decimals round onto its limit keeps the digits that tell them apart
        ({"egfr_ml_min_1_73m2": "29.996"}, "egfr_ml_min_1_73m2", CREATININE_DRAW, "eGFR 29.996 mL/min/1.73m²"),
    ],
)
def test_a_lab_just_past_its_limit_is_repeated_and_its_result_awaited(
    demo: Cohort, changes: dict[str, str], repeated: str, awaited: list[str], said: str
) -> None:
    """The step names the value in clinical words and the day it was read (review 43 m4: the column's name, and
    an eGFR estimated with the age may be another on the plan's date)."""
    cohort = changed_demo(demo, "P001", cytopenia_due_to_disease="false", **changes)
    result = plan_of(cohort, "P001", "NCT06821659")
    assert result.status_now == "ineligible" and result.earliest_date == AS_OF
    assert [(a.action, a.column) for a in result.actions] == [("repeat_lab", repeated)]
    limit = "50 ×10⁹/L" if repeated == "platelets_10e9_l" else "30 mL/min/1.73m²"
    assert result.actions[0].note.endswith(
        f": as screened on 2026-11-23, {said} near the trial's limit of {limit}; result awaited"
    )
    assert result.status_at_plan == "unknown" and result.pending == awaited and result.eligible_pending_results


def test_a_repeated_draw_names_every_value_near_a_limit(demo: Cohort) -> None:
    """Review 46 F1: creatinine 2.48 mg/dL and an eGFR of 27: the step named only the creatinine, which passes
    NCT06821659's 2.5 mg/dL, and not the eGFR below 30 that excludes."""
    cohort = changed_demo(demo, "P001", egfr_ml_min_1_73m2="27", creatinine_mg_dl="2.48", creatinine_x_uln="")
    result = plan_of(cohort, "P001", "NCT06821659")
    (repeat,) = [a for a in result.actions if a.action == "repeat_lab"]
    assert repeat.note == (
        "repeat the serum creatinine: as screened on 2026-11-23, creatinine 2.48 mg/dL near the trial's limit of"
        " 2.5 mg/dL, eGFR 27 mL/min/1.73m² near the trial's limit of 30 mL/min/1.73m²; result awaited"
    )


@pytest.mark.parametrize(
    ("changes", "blocking"),
    [
        ({"platelets_10e9_l": "39", "cytopenia_due_to_disease": "false"}, "NCT06821659.excl.11.3"),
        ({"egfr_ml_min_1_73m2": "23"}, "NCT06821659.excl.10"),
    ],
)
def test_a_lab_far_past_its_limit_is_no_plan(demo: Cohort, changes: dict[str, str], blocking: str) -> None:
    result = plan_of(changed_demo(demo, "P001", **changes), "P001", "NCT06821659")
    assert not result.reachable and result.blocking == [blocking]


def test_inr_far_above_its_limit_is_not_retested(reviewed: Cohort) -> None:
    """S000056: INR 2.19 x ULN on anticoagulation; no trial's INR limit lies within 20% of it."""
    for trial_id in load_trials():
        result = plan_of(reviewed, "S000056", trial_id)
        assert all("repeat_lab" not in actions for _, _, actions in every_plan(result)), trial_id


def test_a_cytopenia_the_text_exempts_gets_the_investigators_attribution(reviewed: Cohort) -> None:
    """S000695: SLE, platelets 30, no refractory cytopenia recorded: the exclusion of low counts 'caused by bone
    marrow suppression, excluding abnormalities due to the autoimmune disease' waits on the investigator."""
    # Her LVEF of 36% now excludes her (NCT06821659.excl.7, review round 3); a normal one isolates the cytopenia.
    reviewed = with_changes(reviewed, patient_row(reviewed, "S000695"), {"lvef_pct": "55"})
    result = plan_of(reviewed, "S000695", "NCT06821659")
    assert [a.action for a in result.actions] == ["investigator_judgement", "wait"]
    assert "cytopenia is due to the autoimmune disease" in result.actions[0].note
    # her stopped drug is not named: the plan date may fall inside its washout (review round 23)
    assert "the 5-half-life washout ends between 2026-09-30 and 2027-01-01, by the drug" in result.actions[1].note
    assert result.status_at_plan == "unknown" and result.pending == ["cytopenia_due_to_disease"]
    assert "cytopenia_due_to_disease" in result.missing  # the extract predates the drug-name columns: also missing
    answered = with_changes(reviewed, patient_row(reviewed, "S000695"), {"cytopenia_due_to_disease": "false"})
    refused = plan_of(answered, "S000695", "NCT06821659")
    assert not refused.reachable and refused.blocking == ["NCT06821659.excl.11.3"]


def test_raised_liver_tests_in_myositis_get_the_investigators_attribution(demo: Cohort) -> None:
    result = plan_of(changed_demo(demo, "P004", alt_x_uln="4.5"), "P004", "NCT06821659")
    asked = [(a.action, a.column) for a in result.actions]
    assert asked == [("investigator_judgement", "liver_abnormality_due_to_disease")]
    attributed = plan_of(
        changed_demo(demo, "P004", alt_x_uln="4.5", liver_abnormality_due_to_disease="true"), "P004", "NCT06821659"
    )
    assert attributed.status_now == "eligible" and attributed.actions == []


def test_no_attribution_is_asked_without_a_finding(demo: Cohort) -> None:
    """Normal counts: an inclusion that reads a disease-caused cytopenia is not met by asking about one."""
    cohort = changed_demo(demo, "P001", platelets_10e9_l="200", hemoglobin_g_l="130", anc_10e9_l="3")
    for trial_id in load_trials():
        result = plan_of(cohort, "P001", trial_id)
        assert all("investigator_judgement" not in actions for _, _, actions in every_plan(result)), trial_id


def test_a_plan_names_the_event_each_later_window_runs_to(demo: Cohort) -> None:
    """NCT06983964 counts the steroid dose and the live vaccine to the lymphodepletion, not to screening."""
    from matcher.formats import plan_footnotes

    result = plan_of(demo, "P020", "NCT06983964")
    assert result.anchors == {"NCT06983964.excl.6": "lymphodepletion", "NCT06983964.excl.31": "lymphodepletion"}
    assert plan_footnotes(result, AS_OF)[-2].endswith("must hold then too: to the lymphodepletion: excl.6, excl.31")


def test_the_re_screen_command_says_which_awaited_answers_it_takes_as_hoped(demo: Cohort) -> None:
    """Review 30 (m1): a question to the investigator enters the plan's record as the answer the plan needs (a blank
    would read the cytopenia as marrow suppression, which excludes), so the command says it assumes that answer."""
    from matcher.formats import plan_footnotes

    cohort = changed_demo(demo, "P001", platelets_10e9_l="18")
    result = plan_of(cohort, "P001", "NCT06821659")
    assert result.changes.get("cytopenia_due_to_disease") == "true"
    assert plan_footnotes(result, AS_OF)[-1].endswith(
        "(it takes the answers awaited as hoped: cytopenia_due_to_disease=true)"
    )
