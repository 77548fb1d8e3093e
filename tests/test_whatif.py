"""What-if plans with hand-computed dates, blocking criteria and explicit what-ifs."""

from __future__ import annotations

import datetime as dt
import importlib
import json
import shlex
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

from matcher.cli import main
from matcher.cohort import cohort_from_records
from matcher.context import Context
from matcher.formats import plan_footnotes, plans_table
from matcher.nearmiss import near_misses
from matcher.planning import plan
from matcher.plans import Plan
from matcher.rescreening import rescreen
from matcher.screening import ELIGIBLE
from matcher.trials import effective_facts, load_trials, scenarios_dir
from matcher.validate import reason_text

sys.path.insert(0, str(Path(__file__).parent / "trials"))
AS_OF = dt.date(2026, 11, 23)


def base(trial_id: str, name: str = "ELIGIBLE_SLE") -> dict[str, Any]:
    module = importlib.import_module(f"test_{trial_id}")
    found = getattr(module, name, None)
    return dict(found if found is not None else module.BASES[name.removeprefix("ELIGIBLE_")])


def plan_for(trial_id: str, patient: dict[str, Any], horizon: int = 180) -> Plan:
    trial = load_trials()[trial_id]
    cohort = cohort_from_records([{**patient, "patient_id": "p1"}])
    return plan(Context(cohort, AS_OF, effective_facts(trial)), trial, 0, horizon)


def day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def test_eligible_patient_needs_no_plan() -> None:
    result = plan_for("NCT06821659", base("NCT06821659"))
    assert (result.status_now, result.reachable, result.earliest_date, result.actions) == ("eligible", True, AS_OF, [])


def test_belimumab_14_days_ago_against_a_3_week_exclusion() -> None:
    result = plan_for("NCT06983964", {**base("NCT06983964", "SLE"), "belimumab_last_dose": "2026-11-09"})
    assert result.status_now == "ineligible"
    assert result.earliest_date == day("2026-11-30")  # 21 days after the dose
    assert [a.action for a in result.actions] == ["withhold_drug", "repeat_test"]
    assert result.actions[0].text == (
        "2026-11-23: give no more belimumab (last dose 2026-11-09) until after the infusion; the washout runs to the"
        " earliest date, 2026-11-30"
    )
    assert result.actions[0].until is None  # held until after the infusion, whose date the plan does not know
    # her pregnancy test (2026-11-20) is too old by then: repeated on the plan date (review 30 M3)
    assert (
        result.actions[1].text
        == "2026-11-30: repeat the pregnancy test (urine): must be negative; the result is awaited, in hand before "
        "enrolment"
    )


@pytest.mark.parametrize(
    ("trial_id", "runs"),
    [
        ("NCT06821659", "until after the infusion, which the washout runs to;"),
        ("NCT06920433", "until after the infusion (the washout runs to the enrolment);"),
    ],
)
def test_a_course_withheld_for_a_washout_counted_to_a_later_event_is_withheld_until_after_the_infusion(
    trial_id: str, runs: str
) -> None:
    """Review round 17 (SAFETY): "up to and on the plan date" let the next dose fall between screening and the
    infusion (NCT06821659 incl.4.washout) or the enrolment (NCT06920433 excl.14), which the washout runs to.
    Review 40 m5: "until after the enrolment" let it fall between the enrolment and the infusion."""
    result = plan_for(trial_id, {**base(trial_id), "belimumab_last_dose": "2026-11-13"})
    assert result.earliest_date == day("2027-02-20")  # 5 x 19.8 days -> 99 days
    assert result.actions[0].text == (
        f"2026-11-23: give no more belimumab (last dose 2026-11-13) {runs} the earliest date is 2027-02-20"
    )
    assert result.actions[0].until is None  # the event's date, after the plan's, is not known (round 17c, N1)


def test_a_biologic_with_no_half_life_known_is_withheld_while_its_half_life_is_recorded() -> None:
    """Review 40 M1: ustekinumab (no half-life in the facts) 10 days ago.  Its course going on to the plan's date was
    read as no worse than withholding it (both unknown), so the plan gave no step and recorded a dose on the plan's
    date.  A dose on the day read is not washed out whatever the half-life, so the plan withholds it."""
    patient = {**base("NCT06920433"), "other_biologic": "ustekinumab", "other_biologic_last_dose": "2026-11-13"}
    result = plan_for("NCT06920433", patient)
    assert (result.earliest_date, result.status_at_plan, result.changes) == (AS_OF, "unknown", {})
    assert result.actions[0].text == (
        "2026-11-23: give no more ustekinumab (last dose 2026-11-13) until after the infusion; with no half-life on"
        " record, its washout gives no date"
    )
    assert "the facts hold no half-life for ustekinumab: add it to the site facts" in result.actions[1].note
    assert result.actions[1].text.startswith("2026-11-23: no criterion fails from 2026-11-23; undecided then: ")
    assert result.missing == ["other_biologic"]
    given_today = {**patient, "other_biologic_last_dose": AS_OF.isoformat()}
    cohort = cohort_from_records([{**given_today, "patient_id": "p1"}])
    screened = rescreen(cohort, "p1", [load_trials()["NCT06920433"]], AS_OF, {}, 0).results[0]
    assert screened.reasons(0)[0].text == "ustekinumab last given 2026-11-23, the day screened: no washout has run"


def test_a_washout_of_unknown_length_is_not_said_to_end_the_day_after_the_dose() -> None:
    """Review 42 F3a/F3b: ustekinumab given today.  The plan is undecided from tomorrow, when no criterion fails,
    but its words said "the earliest date is 2026-11-24" and, beyond a horizon of 0, "met from 2026-11-24 by
    waiting", which read as the washout's end: 5 half-lives of ustekinumab are some 15 weeks."""
    patient = {**base("NCT06920433"), "other_biologic": "ustekinumab", "other_biologic_last_dose": "2026-11-23"}
    result = plan_for("NCT06920433", patient)
    assert (result.earliest_date, result.status_at_plan) == (day("2026-11-24"), "unknown")
    withhold, wait = result.actions[0], result.actions[-1]
    assert withhold.text.endswith("until after the infusion; with no half-life on record, its washout gives no date")
    assert wait.note.startswith(
        "no criterion fails from 2026-11-24; undecided then: ustekinumab last given 2026-11-23; the facts hold no"
        " half-life for ustekinumab"
    )
    beyond = plan_for("NCT06920433", patient, horizon=0)
    assert (beyond.reachable, beyond.beyond_horizon_date, beyond.beyond_horizon_status) == (
        False,
        day("2026-11-24"),
        "unknown",
    )
    table = plans_table([beyond], AS_OF)
    words = " ".join(" ".join(line.split("│")[-2].split()) for line in table.splitlines() if line.count("│") > 2)
    assert words == (
        "beyond the horizon: by waiting, no criterion fails from 2026-11-24; still undecided then: measure"
        " other_biologic"
    )


def test_withholding_cyclophosphamide_leaves_the_trials_own_lymphodepletion() -> None:
    """Round 17c (n3): "no more cyclophosphamide until after the infusion" read against the lymphodepletion."""
    result = plan_for("NCT06821659", {**base("NCT06821659"), "cyclophosphamide_last_dose": "2026-11-22"})
    assert result.actions[0].text == (
        "2026-11-23: give no more cyclophosphamide (last dose 2026-11-22) besides the trial's own lymphodepletion"
        " until after the infusion, which the washout runs to; the earliest date is 2026-11-25"
    )


@pytest.mark.parametrize(
    ("trial_id", "name", "earliest"),
    [
        ("NCT06821659", "ELIGIBLE_SLE", "2026-12-09"),  # 30 days
        ("NCT06222853", "ELIGIBLE_SLE", "2026-12-07"),  # 4 weeks
        ("NCT06983964", "SLE", "2026-12-21"),  # 6 weeks
    ],
)
def test_live_vaccine_windows(trial_id: str, name: str, earliest: str) -> None:
    result = plan_for(trial_id, {**base(trial_id, name), "live_vaccine_date": "2026-11-09"})
    assert result.status_now == "ineligible"
    assert result.earliest_date == day(earliest)


def test_cardiac_event_4_months_ago_against_6_months() -> None:
    patient = {**base("NCT06821659"), "cardiac_event_date": "2026-07-23", "cardiac_event_type": "MI"}
    result = plan_for("NCT06821659", patient, horizon=365)
    assert result.earliest_date == day("2027-01-23")


def test_taper_from_35_mg_held_stable_7_days_for_NCT06821659() -> None:
    patient = {
        **base("NCT06821659"),
        "glucocorticoid": "prednisone",
        "glucocorticoid_mg_day": "35",
        "glucocorticoid_dose_changed_date": "2026-10-01",
    }
    result = plan_for("NCT06821659", patient)
    taper = [a for a in result.actions if a.action == "taper_glucocorticoid"]
    assert taper and taper[0].after == "30" and taper[0].date == AS_OF
    assert result.earliest_date == day("2026-11-30")  # 30 mg from today, then 7 stable days


def test_taper_from_35_mg_below_20_for_NCT06983964() -> None:
    patient = {
        **base("NCT06983964", "SLE"),
        "glucocorticoid": "prednisone",
        "glucocorticoid_mg_day": "35",
        "glucocorticoid_dose_changed_date": "2026-10-01",
    }
    result = plan_for("NCT06983964", patient)
    taper = [a for a in result.actions if a.action == "taper_glucocorticoid"]
    assert taper and taper[0].after == "17.5"  # 35 -> 30 -> 25 -> 20 -> 17.5, weekly
    assert taper[-1].note.endswith("17.5 mg/day from 2026-12-14")
    # excl.6 looks back 24 hours from the lymphodepletion, read on the plan date: 20 mg/day was taken on 12-13
    # (review 37 M4: the plan date was 12-14)
    assert result.earliest_date == day("2026-12-15")


def test_taper_of_methylprednisolone_is_stated_in_the_drug() -> None:
    patient = {
        **base("NCT06821659"),
        "glucocorticoid": "methylprednisolone",
        "glucocorticoid_mg_day": "32",
        "glucocorticoid_dose_changed_date": "2026-10-01",
    }  # 40 mg prednisone equivalent
    result = plan_for("NCT06821659", patient)
    taper = next(a for a in result.actions if a.action == "taper_glucocorticoid")
    # 40 -> 35 today -> 30 on day 7 (5 mg a week above 20 mg), then 7 stable days: 32 -> 28 -> 24 mg methylprednisolone
    assert taper.after == "24" and "28 mg/day from 2026-11-23, 24 mg/day from 2026-11-30" in taper.note
    assert result.earliest_date == day("2026-12-07")


def _aged(years: str, **changes: str) -> dict[str, Any]:
    """The paediatric vignette with its age given as ``age_years`` at the as-of date, no birth date."""
    return {**base("NCT06222853"), "birth_date": "", "age_years": years, **changes}


def test_an_age_given_in_years_passes_the_maximum_on_its_birthday_so_no_plan_waits_past_it() -> None:
    """Review 39 M1: 18.95 years on 11-23 turns 19 on 12-12 (0.05 x 365.25 days on).  Her CNS event's 60 days run
    to 12-31, so no plan: the age was read as 18 on every later day, and she was planned from 12-31, a 19-year-old
    where 18 is the maximum.  The age is said on the day it fails (its words today were empty)."""
    result = plan_for("NCT06222853", _aged("18.95", cns_event_date="2026-11-01"))
    assert (result.status_now, result.reachable) == ("ineligible", False)
    assert result.blocking_words == [
        "age 19 years is above the 18 years limit (from 2026-12-12, estimated from the age in years)",
        "CNS event on 2026-11-01 is within the last 60 days; the window closes 2026-12-31",
    ]
    # review 51 N1: a birthday from the birth date is not estimated
    dated = plan_for("NCT06222853", {**base("NCT06222853"), "birth_date": "2007-12-12", "cns_event_date": "2026-11-01"})
    assert dated.blocking_words[0] == "age 19 years is above the 18 years limit (from 2026-12-12)"
    eligible = plan_for("NCT06222853", _aged("18.95", childbearing_potential="false"))
    assert (eligible.status_now, eligible.eligible_until, eligible.closes) == (
        "eligible",
        day("2026-12-11"),
        ["NCT06222853.incl.1"],
    )
    trials = [load_trials()["NCT06222853"]]
    waited = rescreen(cohort_from_records([{**_aged("18.95"), "patient_id": "p1"}]), "p1", trials, AS_OF, {}, 60)
    assert waited.results[0].reasons(0)[0].text == "age 19 years is above the 18 years limit"


def test_an_age_given_in_years_reaches_the_minimum_on_its_birthday() -> None:
    """The reverse: 4.9 years on 11-23 is 5 from 12-30, which the planner had folded away as never."""
    result = plan_for("NCT06222853", _aged("4.9", childbearing_potential="false"))
    assert (result.status_now, result.reachable, result.earliest_date) == ("ineligible", True, day("2026-12-30"))


@pytest.mark.parametrize(
    ("trial_id", "changes", "closed_by", "failing"),
    [
        (  # 17 until 12-12: a Schwartz eGFR of 30.2 from a creatinine of 2.6, CKD-EPI 26.6 from her 18th birthday
            "NCT06222853",
            {"height_cm": "190", "creatinine_mg_dl": "2.6", "egfr_ml_min_1_73m2": ""},
            "NCT06222853.incl.4.2",
            "eGFR 26.61 mL/min/1.73m² (CKD-EPI 2021, creatinine 2.6 mg/dL) is below 30 mL/min/1.73m²",
        ),
        (  # 64 until 12-12: a Cockcroft-Gault CrCl of 30.11 from a creatinine of 1.788, 29.71 at 65
            "NCT06920433",
            {"weight_kg": "60", "creatinine_mg_dl": "1.788", "crcl_ml_min": "", "egfr_ml_min_1_73m2": ""},
            "NCT06920433.incl.16",
            "CrCl 29.71 mL/min (Cockcroft-Gault, creatinine 1.79 mg/dL) is below 30 mL/min",
        ),
    ],
)
def test_a_birthday_that_lowers_the_estimated_renal_function_below_a_limit_closes_the_plan(
    trial_id: str, changes: dict[str, str], closed_by: str, failing: str
) -> None:
    """Review 42 F5: the planner held eGFR and CrCl at their screening-date estimates, while a screen on a later
    date estimates them with the age then, so a plan's window ran past the day a screen with the same data fails
    the patient.  The window now closes the day before the birthday, and a screen on the birthday says why."""
    born = "2008-12-12" if trial_id == "NCT06222853" else "1961-12-12"
    patient = {**base(trial_id), "birth_date": born, "sex": "F", "childbearing_potential": "false", **changes}
    result = plan_for(trial_id, patient)
    assert (result.status_now, result.eligible_until, result.closes) == ("eligible", day("2026-12-11"), [closed_by])
    trials = [load_trials()[trial_id]]
    cohort = cohort_from_records([{**patient, "patient_id": "p1"}])
    assert rescreen(cohort, "p1", trials, AS_OF, {}, 18).results[0].status[0] == ELIGIBLE
    waited = rescreen(cohort, "p1", trials, AS_OF, {}, 19).results[0]
    assert [reason.text for reason in waited.reasons(0)] == [failing]


def test_a_blank_sex_that_leaves_an_egfr_near_the_limit_decided_keeps_the_plan_decided() -> None:
    """Review 43 m2: sex blank, creatinine 2.0 at 46: CKD-EPI 30.6 for a woman, 40.9 for a man, both above
    NCT06821659's exclusion below 30, so the screen reads it as met.  A repeat of the creatinine is on offer (30.6 is
    near the limit), and the plan's reading of the record without it lost the agreement of the two: it ended
    "unknown" with nothing to measure, hiding an eligible patient."""
    patient = {
        **base("NCT06821659"),
        "sex": "",
        "birth_date": "1979-12-12",
        "weight_kg": "60",
        "creatinine_mg_dl": "2.0",
        "egfr_ml_min_1_73m2": "",
        "childbearing_potential": "false",
    }
    result = plan_for("NCT06821659", patient)
    assert (result.status_now, result.status_at_plan, result.actions, result.missing) == (
        "eligible",
        "eligible",
        [],
        [],
    )


def _turning_18_height_blank(**changes: str) -> dict[str, Any]:
    """The paediatric vignette 17 until 12-12, her height blank: the Schwartz eGFR needs it, CKD-EPI does not."""
    return {
        **base("NCT06222853"),
        "birth_date": "2008-12-12",
        "sex": "F",
        "height_cm": "",
        "creatinine_mg_dl": "1.7",
        "egfr_ml_min_1_73m2": "",
        "childbearing_potential": "false",
        **changes,
    }


def test_an_eligible_plan_by_waiting_is_offered_beside_an_undecided_one_of_the_same_burden() -> None:
    """Review 43 m3: 17 until 12-12 with her height blank: the Schwartz eGFR needs it, so today she is undecided
    (measure height_cm); from her 18th birthday CKD-EPI (44.3 from a creatinine of 1.7) does not.  Both plans cost
    nothing, so the date-and-burden front kept only today's; the eligible one is now offered beside it."""
    patient = _turning_18_height_blank()
    trial = load_trials()["NCT06222853"]
    ctx = Context(cohort_from_records([{**patient, "patient_id": "p1"}]), AS_OF, effective_facts(trial))
    result = plan(ctx, trial, 0, 180, alternatives=True)
    assert (result.status_at_plan, result.earliest_date, result.missing) == ("unknown", AS_OF, ["height_cm"])
    assert [(other.earliest_date, other.burden, other.status_at_plan) for other in result.alternatives] == [
        (day("2026-12-12"), 0, "eligible")
    ]
    assert plan_footnotes(result, AS_OF)[0] == (
        "or: eligible 2026-12-12, waiting for the 18th birthday on 2026-12-12 (burden 0 days)"  # review 46 F4
    )
    # review 45 M1: a step the offered plan adds is named
    ctx = Context(cohort_from_records([{**patient, "consent_signed": "", "patient_id": "p1"}]), AS_OF, ctx.facts)
    unsigned = plan(ctx, trial, 0, 180, alternatives=True)
    assert (
        plan_footnotes(unsigned, AS_OF)[0]
        == "or: eligible 2026-12-12 with the step 'sign informed consent', waiting for the 18th birthday on"
        " 2026-12-12 (burden 0 days)"
    )


def test_no_plan_that_rests_on_an_awaited_answer_is_offered_as_eligible_outright() -> None:
    """Review 45 M2: platelets 40 with their cause blank: the plan asks the investigator whether the cytopenia is
    due to the disease, eligible only if so.  The "eligible outright" search took that hoped-for answer too and
    offered the plan again, undecided.  No plan is eligible without the answer, so none is offered."""
    from matcher.cohort import check_as_of, load_cohort
    from matcher.planning import patient_plans
    from matcher.rescreening import with_changes

    synthetic = load_cohort(scenarios_dir() / "synth-demo.csv")
    row = int(np.flatnonzero(synthetic.ids == "S000101")[0])  # an anti-CD20 antibody, unnamed, last 2026-07-27
    cohort = check_as_of(
        with_changes(synthetic, row, {"platelets_10e9_l": "40", "cytopenia_due_to_disease": ""}), AS_OF
    )
    (result,) = patient_plans(cohort, "S000101", [load_trials()["NCT06821659"]], AS_OF)
    assert result.status_at_plan == "unknown" and "cytopenia_due_to_disease" in result.missing
    assert result.alternatives == []


def test_pediatric_cns_event_30_days_ago_against_60_days() -> None:
    result = plan_for("NCT06222853", {**base("NCT06222853"), "cns_event_date": "2026-10-24"})
    assert result.earliest_date == day("2026-12-23")


def test_biopsy_that_expires_closes_the_window() -> None:
    patient = {**base("NCT06920433"), "renal_biopsy_date": "2026-06-01", "childbearing_potential": "false"}
    result = plan_for("NCT06920433", patient)
    assert result.status_now == "eligible"
    assert result.eligible_until == day("2026-11-30")  # six months after the biopsy


def test_expired_biopsy_plans_a_repeat_biopsy_with_its_lead_time_condition_and_pending_result() -> None:
    result = plan_for("NCT06920433", {**base("NCT06920433"), "renal_biopsy_date": "2026-04-01"})
    repeat = [a for a in result.actions if a.column == "renal_biopsy_date"]
    assert [a.action for a in repeat] == ["invasive_procedure"] and "must again show" in repeat[0].note
    assert result.earliest_date == AS_OF + dt.timedelta(days=14)  # the biopsy's lead time
    # dated when the histology is read, which the step says (review 37 m1: it read as a biopsy on enrolment day)
    assert repeat[0].text.startswith(
        "2026-12-07: repeat the renal biopsy (an invasive procedure), in the 14 days up to this date: "
    )
    assert repeat[0].date == result.earliest_date and repeat[0].burden == 60
    assert result.status_at_plan == "unknown" and "lupus_nephritis_class" in result.pending


def test_a_repeated_biopsy_is_dated_the_earliest_day_it_may_be_done_so_its_window_closes_no_later() -> None:
    """The biopsy is done in the 14 days up to the plan date: the record dates it 11-23, the first of them, and its
    six months end 2027-05-22.  Dated on the plan date (12-07) it held to 2027-06-06, 14 days past the window of a
    biopsy done on 11-23, which a calendar over a year could fill."""
    patient = {**base("NCT06920433"), "renal_biopsy_date": "2026-04-01", "childbearing_potential": "false"}
    result = plan_for("NCT06920433", patient, horizon=365)
    assert result.earliest_date == day("2026-12-07")
    assert result.changes["renal_biopsy_date"] == "2026-11-23"
    assert (result.eligible_until, result.closes) == (day("2027-05-22"), ["NCT06920433.incl.3"])


def test_stopping_a_named_immunosuppressant_waits_for_that_drugs_own_washout() -> None:
    """Mycophenolic acid: 5 x 0.75 d = 4 days, not the 95 days of the slowest drug of the class."""
    on_mmf = {
        "immunosuppressant": "mycophenolate",
        "immunosuppressant_start_date": "2026-01-05",
        "immunosuppressant_dose_changed_date": "2026-06-01",
        "immunosuppressant_last_dose": "never",
    }
    result = plan_for("NCT06920433", {**base("NCT06920433"), **on_mmf})
    assert result.status_now == "ineligible"
    stops = [a for a in result.actions if a.action == "stop_immunosuppressant"]
    assert [a.note for a in stops] == ["stop mycophenolate on 2026-11-23; its washout runs from then"]
    assert result.earliest_date == AS_OF + dt.timedelta(days=4)


def test_prior_car_t_is_unreachable_and_names_the_criterion() -> None:
    result = plan_for("NCT06821659", {**base("NCT06821659"), "prior_car_t": "yes"})
    assert not result.reachable
    assert result.blocking == ["NCT06821659.excl.13"]


def test_blocking_set_is_minimal_when_two_things_block() -> None:
    patient = {**base("NCT06821659"), "prior_car_t": "yes", "hiv_positive": "yes"}
    result = plan_for("NCT06821659", patient)
    assert not result.reachable
    assert result.blocking == ["NCT06821659.excl.5"]  # either alone blocks; the first in trial order


def test_a_window_that_closes_after_the_horizon_is_beyond_it_not_blocking() -> None:
    """A recent MI clears six months later: past a 30-day horizon, so not reachable, but not blocked either."""
    patient = {**base("NCT06821659"), "cardiac_event_date": "2026-10-23", "cardiac_event_type": "MI"}
    result = plan_for("NCT06821659", patient, horizon=30)
    assert not result.reachable and result.solver_status == "INFEASIBLE"
    assert result.blocking == []
    assert result.beyond_horizon and result.beyond_horizon_date == day("2027-04-23")
    assert result.beyond_horizon_criteria == ["NCT06821659.excl.7"]


def test_blocking_core_from_the_solver_when_time_cannot_help() -> None:
    """Aged 80, turning 81 in ten days, with an MI that clears in five months: each criterion alone can be met,
    never both, whatever the wait; the minimal core names both, each with its reason today in words."""
    patient = {
        **base("NCT06821659"),
        "birth_date": "1945-12-03",
        "age_years": "",
        "cardiac_event_date": "2026-10-23",
        "cardiac_event_type": "MI",
    }
    result = plan_for("NCT06821659", patient, horizon=30)
    assert not result.reachable and not result.beyond_horizon
    assert sorted(result.blocking) == ["NCT06821659.excl.7", "NCT06821659.incl.1"]
    assert "cardiac event on 2026-10-23 is within the last 6 months; the window closes 2027-04-23" in (
        result.blocking_words
    )


def test_unknown_data_is_not_assumed_favourable() -> None:
    result = plan_for("NCT06821659", {**base("NCT06821659"), "sledai_2k": ""})
    assert result.status_at_plan == "unknown" and "sledai_2k" in result.missing


def test_near_miss_scan_matches_single_patient_plans() -> None:
    cohort = cohort_from_records(
        [
            {**base("NCT06821659"), "patient_id": "ok"},
            {**base("NCT06821659"), "patient_id": "vaccinated", "live_vaccine_date": "2026-11-09"},
            {**base("NCT06821659"), "patient_id": "car-t", "prior_car_t": "yes"},
        ]
    )
    trials = [load_trials()["NCT06821659"]]
    plans = near_misses(cohort, trials, AS_OF, within=60, workers=1)
    assert [(p.patient_id, p.earliest_date) for p in plans] == [("vaccinated", day("2026-12-09"))]
    assert near_misses(cohort, trials, AS_OF, within=15, workers=1) == []  # the vaccine clears on day 16


def test_whatif_cli_json_shape() -> None:
    demo = str(scenarios_dir() / "demo-cohort.csv")
    result = CliRunner().invoke(
        main,
        ["whatif", demo, "--patient", "P001", "--as-of", "2026-11-23", "--trials", "NCT06821659", "--format", "json"],
    )
    assert result.exit_code == 0, result.output
    entry = json.loads(result.stdout)["plans"][0]
    assert set(entry) >= {
        "status_now",
        "reachable",
        "earliest_date",
        "eligible_until",
        "actions",
        "blocking",
        "missing",
        "changes",
    }


def test_whatif_cli_set_and_wait() -> None:
    demo = str(scenarios_dir() / "demo-cohort.csv")
    result = CliRunner().invoke(
        main,
        [
            "whatif",
            demo,
            "--patient",
            "P001",
            "--as-of",
            "2026-11-23",
            "--trials",
            "NCT06821659",
            "--set",
            "prior_car_t=yes",
            "--wait",
            "3",
            "--format",
            "json",
        ],
    )
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["as_of"] == "2026-11-26"
    assert document["results"][0]["failed"] == ["NCT06821659.excl.13"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--patient", "nobody"], "no patient with patient_id 'nobody'"),
        (["--patient", "P001", "--set", "favourite_colour=red"], "unknown column(s): favourite_colour"),
        (["--patient", "P001", "--set", "sledai_2k=lots"], "column sledai_2k: not a number"),
    ],
)
def test_whatif_cli_errors(args: list[str], message: str) -> None:
    demo = str(scenarios_dir() / "demo-cohort.csv")
    result = CliRunner().invoke(main, ["whatif", demo, "--as-of", "2026-11-23", *args])
    assert result.exit_code == 2 and message in result.stderr


def test_set_clears_only_the_reasons_about_the_columns_it_sets() -> None:
    cohort = cohort_from_records(
        [{**base("NCT06821659"), "patient_id": "p1", "sledai_2k": "lots", "weight_kg": "heavy"}]
    )
    trials = [load_trials()["NCT06821659"]]
    still_bad = rescreen(cohort, "p1", trials, AS_OF, {"sledai_2k": "10"}, 0)
    assert still_bad.results[0].status[0] == 3  # invalid: weight_kg is still unreadable
    assert [problem.column for problem in still_bad.cohort.invalid[0]] == ["weight_kg"]
    mended = rescreen(cohort, "p1", trials, AS_OF, {"sledai_2k": "10", "weight_kg": "60"}, 0)
    assert mended.results[0].status[0] == 2


def test_set_date_after_the_screening_day_is_invalid() -> None:
    cohort = cohort_from_records([{**base("NCT06821659"), "patient_id": "p1"}])
    trials = [load_trials()["NCT06821659"]]
    later = rescreen(cohort, "p1", trials, AS_OF, {"live_vaccine_date": "2026-12-01"}, 0)
    assert "column live_vaccine_date: after the as-of date" in reason_text(later.cohort.invalid[0])


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"anti_cd20_drug": "Rituxan", "anti_cd20_last_dose": "2026-10-24"}, "rituximab"),
        ({"anti_cd20_drug": "", "anti_cd20_last_dose": "2026-10-24"}, "of the unnamed anti-CD20 antibody"),
        ({"other_biologic": "abatacept", "other_biologic_last_dose": "2026-11-13"}, "abatacept"),
    ],
)
def test_a_withheld_drug_is_named_as_the_record_names_it(changes: dict[str, str], named: str) -> None:
    """Round 17b (m5): the note said "give no more biologic" for a recorded abatacept."""
    result = plan_for("NCT06920433", {**base("NCT06920433"), **changes})
    assert result.actions[0].text.startswith(f"2026-11-23: give no more {named} (last dose ")


@pytest.mark.parametrize("test_date", ["2026-10-24", "never", ""])
def test_a_stale_routine_test_the_trial_renews_is_repeated_by_the_plan(test_date: str) -> None:
    """NCT06983964 reads a pregnancy test within 7 days as a result simply repeated (renewable): a stale or absent
    one leaves the criterion undecided, not failed.  Review 24 (m2): a taper ended unknown on a test 30 days old with
    no word of it; review 30 (M3): the plan said it was to be repeated but did not repeat it, so no allocation took
    her, where NCT06920433, whose text states the window, repeats it.  The plan repeats it on its date."""
    row = {**base("NCT06983964"), "glucocorticoid_mg_day": 25, "pregnancy_test_negative_date": test_date}
    result = plan_for("NCT06983964", row)
    awaited = ["pregnancy_test_negative_date", "pregnant"]
    assert (result.earliest_date, result.status_at_plan, result.missing, result.pending) == (
        day("2026-12-01"),  # the taper's 17.5 mg/day from 11-30, a day before (excl.6's 24 hours, review 37 M4)
        "unknown",
        awaited,
        awaited,
    )
    assert [a.action for a in result.actions] == ["taper_glucocorticoid", "repeat_test"]
    assert result.eligible_pending_results
    assert (result.eligible_until, result.renewable_until) == (day("2026-12-07"), True)  # the new test's 7 days
    # "during the screening period" counts it to screening (the model's default anchor)
    assert [r.as_dict() for r in result.renewed_by] == [
        {"test": "pregnancy test (urine)", "within": "7 days", "at": "screening"}
    ]


@pytest.mark.parametrize("trial_id", ["NCT06920433", "NCT06821659"])
def test_an_undated_pregnancy_test_is_repeated_by_the_plan(trial_id: str) -> None:
    """A woman of childbearing potential whose pregnancy test has no date has no test to count on: the plan repeats
    it (the trial's kind) and awaits the result, so an allocation may hold her a slot.  Before, the plan only asked
    for the date, and she was never allocated, where the same woman with a stale test was."""
    row = {**base(trial_id), "pregnancy_test_negative_date": "", "pregnant": ""}
    result = plan_for(trial_id, row)
    kind = "serum" if trial_id == "NCT06821659" else "urine"
    assert [action.note for action in result.actions] == [  # review 34 m-C: none on record, so "do", not "repeat"
        f"do the pregnancy test ({kind}) (none on record): must be negative; the result is awaited, in hand before "
        "enrolment"
    ]
    assert [action.awaits for action in result.actions] == [f"the pregnancy test ({kind}) result"]
    awaited = ["pregnancy_test_negative_date", "pregnant"]
    assert (result.earliest_date, result.missing, result.pending) == (day("2026-11-23"), awaited, awaited)
    assert result.eligible_pending_results and result.eligible_until == day("2026-11-29")


@pytest.mark.parametrize(
    ("trial_id", "excludes"),
    [
        ("NCT06920433", "excl.15"),
        ("NCT06983964", "excl.30"),
        ("NCT06821659", "incl.5.not_pregnant"),
        ("NCT06056921", "excl.7"),
        ("NCT06222853", "excl.11"),
    ],
)
@pytest.mark.parametrize(("sex", "childbearing_potential"), [("M", ""), ("F", "true"), ("F", "")])
def test_a_positive_pregnancy_test_on_record_is_not_repeated_away(
    trial_id: str, excludes: str, sex: str, childbearing_potential: str
) -> None:
    """Review 33 (S2, SAFETY): the plan "repeat the pregnancy test" awaited a new result in place of a recorded
    positive one, so a man recorded pregnant (a record error) was planned eligible, allocated and scheduled; a
    positive test on record excludes, and no repeat is offered over it."""
    row = {**base(trial_id), "sex": sex, "childbearing_potential": childbearing_potential, "pregnant": "true"}
    result = plan_for(trial_id, row)
    assert (result.status_now, result.reachable, result.actions) == ("ineligible", False, [])
    assert result.blocking == [f"{trial_id}.{excludes}"]


def test_a_test_two_criteria_read_is_named_once_in_the_words() -> None:
    """Review round 27: NCT06983964 reads the pregnancy test in its inclusion and in its pregnancy exclusion, and
    the note said "... to be done" twice."""
    row = {
        **base("NCT06983964"),
        "glucocorticoid_mg_day": 25,
        "pregnancy_test_negative_date": "",
        "pregnant": "",
        "childbearing_potential": "",  # the test is not repeated until that is known (a known one: repeated)
    }
    note = plan_for("NCT06983964", row).actions[-1].note
    assert note == (
        "no criterion fails from 2026-12-01; undecided then: "
        "childbearing potential unknown: measure childbearing_potential; negative"
        " pregnancy test not recorded: to be done (valid 7 days); positive pregnancy test unknown: measure pregnant"
    )


@pytest.mark.parametrize(("upcr", "measure"), [("", ["upcr_g_g", "urine_protein_24h_g"]), ("0.8", [])])
def test_what_a_repeated_biopsy_leaves_undecided_is_read_on_the_record_it_leaves(upcr: str, measure: list[str]) -> None:
    """NCT06222853.incl.3 wants a nephritis class and its activity: a biopsy's activity index or proteinuria.  On
    the record before the plan's biopsy, the recorded class (none) failed the criterion, so a blank proteinuria was
    not asked for and the plan was allocated as awaiting only the biopsy; once the biopsy is repeated, the blank
    UPCR may decide it (an activity index of 0), so it is to be measured."""
    row = {
        **base("NCT06222853"),
        "sex": "M",
        "lupus_nephritis_class": "none",
        "renal_biopsy_date": "never",
        "upcr_g_g": upcr,
        "urine_protein_24h_g": "",
        "ln_activity_index": "",
        "ln_chronicity_index": "",
        "gc_taper_failed": "false",
    }
    result = plan_for("NCT06222853", row)
    assert [action.action for action in result.actions] == ["invasive_procedure"]
    awaited = ["ln_activity_index", "ln_chronicity_index", "lupus_nephritis_class"]
    assert (result.status_at_plan, result.pending) == ("unknown", awaited)
    assert result.missing == sorted(awaited + measure)
    assert result.eligible_pending_results == (not measure)  # allocatable only once nothing is to measure


def test_the_plans_table_says_how_to_re_screen_the_plans_record() -> None:
    """The footnote's command, run as written, re-screens the record the plan's steps leave on its date: a stop of
    mycophenolate and a pregnancy test whose result is awaited, so unknown with that result to measure."""
    demo = str(scenarios_dir() / "demo-cohort.csv")
    common = ["--as-of", "2026-11-23", "--trials", "NCT06920433"]
    table = CliRunner().invoke(main, ["whatif", demo, *common, "--patient", "P001"])
    assert table.exit_code == 0, table.output
    text = " ".join(table.stdout.split())
    command = text.split("re-screen the plan's record: matcher ")[1].split(" --wait ")
    args = shlex.split(command[0].replace("COHORT", demo)) + ["--wait", command[1].split()[0]]
    assert "--set stopped_immunosuppressant=mycophenolate" in command[0] and args[-1] == "4"
    replay = CliRunner().invoke(main, [*args, "--format", "json"])
    assert replay.exit_code == 0, replay.output
    record = json.loads(replay.stdout)["results"][0]
    assert record["status"] == "unknown" and {"pregnancy_test_negative_date", "pregnant"} <= set(record["missing"])


@pytest.mark.parametrize(
    ("drug", "start", "earliest"), [("mycophenolate", "", "2026-11-27"), ("cyclophosphamide", "never", "2026-11-26")]
)
def test_a_named_current_drug_without_a_start_date_may_be_stopped(drug: str, start: str, earliest: str) -> None:
    """Review 29 (M1): the stop was offered only where the start date was a date, so a man on mycophenolate with a
    blank start was unreachable for NCT06920433, which waits 5 half-lives (4 days) after the stop."""
    row = {**base("NCT06920433"), "sex": "M", "immunosuppressant": drug, "immunosuppressant_start_date": start}
    result = plan_for("NCT06920433", row)
    assert (result.reachable, result.earliest_date, result.status_at_plan) == (True, day(earliest), "eligible")
    assert [action.note for action in result.actions] == [f"stop {drug} on 2026-11-23; its washout runs from then"]


@pytest.mark.parametrize(
    ("trial_id", "closes"),
    [
        # excl.15 reads the awaited result (pregnant) as settled by the test in its window (review 40 m3)
        ("NCT06920433", ["excl.15", "incl.19"]),
        ("NCT06821659", ["incl.5.pregnancy_test"]),
    ],
)
def test_a_plan_that_repeats_a_pregnancy_test_closes_when_the_test_is_too_old(trial_id: str, closes: list[str]) -> None:
    """Review 29 (M2): the awaited test's date is unknown in the model, which never closes the window, so a plan
    repeating the test on 2026-12-12 stayed open to the biopsy window's end and `schedule` infused up to 77 days
    after the test; "a negative HCG test within 7 days before enrollment" holds to 2026-12-18, then the test is to
    be repeated."""
    row = {**base(trial_id), "pregnancy_test_negative_date": "2026-11-13", "belimumab_last_dose": "2026-09-04"}
    result = plan_for(trial_id, row)
    assert [(action.action, action.date) for action in result.actions if action.action == "repeat_test"] == [
        ("repeat_test", day("2026-12-12"))
    ]
    assert (result.eligible_until, result.renewable_until) == (day("2026-12-18"), True)
    assert result.closes == [f"{trial_id}.{criterion}" for criterion in closes]
    # review 31 m1: the test to renew is the kind the text asks for ("a negative serum HCG test" in NCT06821659),
    # fresh at the event the text counts it to (review 33 M1: "within 7 days before enrollment")
    kind = "serum" if trial_id == "NCT06821659" else "urine"
    assert [renewal.as_dict() for renewal in result.renewed_by] == [
        {"test": f"pregnancy test ({kind})", "within": "7 days", "at": "enrolment"}
    ]
    until = " ".join(line.split("│")[6].strip() for line in plans_table([result], AS_OF).splitlines() if "│" in line)
    assert until.strip() == f"2026-12-18 (renewable: repeat the pregnancy test ({kind}))"


def test_a_taper_below_1_mg_per_kg_ends_the_high_dose_course_on_record() -> None:
    """Review 37 m6: a current >= 1 mg/kg/day course on record (high_dose_gc_since_date) failed NCT06821659's 30
    mg/day maximum whatever the dose, and the taper left its start date standing, so no plan was found.  Below 1
    mg/kg/day the course is over; it was received all the same.  Without a weight, the per-kg dose is unknown and
    the course stands."""
    row = {
        **base("NCT06821659"),
        "glucocorticoid": "methylprednisolone",
        "glucocorticoid_mg_day": "52",  # 65 mg/day prednisone
        "glucocorticoid_dose_changed_date": "2026-11-03",
        "high_dose_gc_since_date": "2026-11-03",
        "weight_kg": "60",
    }
    result = plan_for("NCT06821659", row)
    assert result.reachable and result.earliest_date == day("2026-12-21")  # 24 mg/day from 12-14, stable 7 days
    changed = {column: result.changes[column] for column in ("high_dose_gc_since_date", "high_dose_gc_received")}
    assert changed == {"high_dose_gc_since_date": "never", "high_dose_gc_received": "true"}
    assert not plan_for("NCT06821659", {**row, "weight_kg": ""}, 60).reachable


def _plan_920433(alternatives: bool, **values: str) -> Plan:
    trial = load_trials()["NCT06920433"]
    patient = {**base("NCT06920433"), "end_stage_renal_disease": "", **values, "patient_id": "p1"}
    ctx = Context(cohort_from_records([patient]), AS_OF, effective_facts(trial))
    return plan(ctx, trial, 0, 180, alternatives=alternatives)


def test_an_alternative_says_the_window_whose_end_lets_an_undecided_criterion_hold() -> None:
    """Review 46 F4: the end-stage renal disease flag blank and a dialysis on 08-24 leave excl.8 undecided today;
    from 11-24 the dialysis is more than 3 months back, which the line offering that date now says."""
    result = _plan_920433(True, dialysis_date="2026-08-24")
    assert (result.status_at_plan, result.earliest_date) == ("unknown", AS_OF)
    assert result.missing == ["end_stage_renal_disease"]
    assert plan_footnotes(result, AS_OF)[0] == (
        "or: eligible 2026-11-24, waiting for the 3-month window after the dialysis of 2026-08-24 (burden 0 days)"
    )


def test_a_plan_waits_for_the_window_of_an_undecided_criterion_only_where_it_ends_by_the_plan_date() -> None:
    """Another trial's window closing 11-26 sets the date; the dialysis window (excl.8 undecided today) is waited
    for where it closes by then (11-24: eligible) and not where it closes after (11-28: undecided, flag to
    record).  "another interventional trial" takes no "the"."""
    closes_before = _plan_920433(False, dialysis_date="2026-08-24", other_trial_date="2026-08-26")
    assert (closes_before.earliest_date, closes_before.status_at_plan) == (day("2026-11-26"), "eligible")
    assert [a.text for a in closes_before.actions] == [
        "wait until 2026-11-24: the 3-month window after the dialysis of 2026-08-24",
        "wait until 2026-11-26: the 3-month window after another interventional trial of 2026-08-26",
    ]
    closes_after = _plan_920433(False, dialysis_date="2026-08-28", other_trial_date="2026-08-26")
    assert (closes_after.earliest_date, closes_after.status_at_plan) == (day("2026-11-26"), "unknown")
    assert [a.text for a in closes_after.actions] == [
        "wait until 2026-11-26: the 3-month window after another interventional trial of 2026-08-26"
    ]
    assert closes_after.missing == ["end_stage_renal_disease"]


def test_an_alternative_says_it_waits_for_a_washout_to_end_whichever_drug_it_was() -> None:
    """Review 46 F4: an anti-CD20 antibody, unnamed, last given 07-27: today the 5-half-life washout ends between
    10-15 and 12-16 by the drug (undecided); from 12-16 it has ended whichever drug it was, which the line says."""
    from matcher.cohort import check_as_of, load_cohort
    from matcher.planning import patient_plans

    cohort = check_as_of(load_cohort(scenarios_dir() / "synth-demo.csv"), AS_OF)
    (result,) = patient_plans(cohort, "S000101", [load_trials()["NCT06821659"]], AS_OF)
    assert (result.status_at_plan, result.missing) == ("unknown", ["anti_cd20_drug"])
    assert plan_footnotes(result, AS_OF)[0] == (
        "or: eligible 2026-12-16, waiting for the 5-half-life washout of anti-CD20 antibody last given 2026-07-27,"
        " whichever drug it was (burden 30 days)"
    )


def test_a_plan_to_a_birthday_says_so() -> None:
    """Review 46 F4: 17 until 12-12 against an adult trial: the plan's wait names the 18th birthday, not only
    "the criteria are met from 2026-12-12"; with the age given as age_years, the birthday the screen counts, said
    to be estimated (review 47 F4)."""
    patient = {**base("NCT06056921"), "birth_date": "2008-12-12", "childbearing_potential": "false"}
    for given, words in (
        (patient, ""),
        ({**patient, "birth_date": "", "age_years": "17.95"}, " (estimated from the age in years)"),
    ):
        result = plan_for("NCT06056921", given)
        assert (result.status_now, result.earliest_date, result.status_at_plan) == (
            "ineligible",
            day("2026-12-12"),
            "eligible",
        )
        assert [a.text for a in result.actions] == [f"wait until 2026-12-12: the 18th birthday on 2026-12-12{words}"]


def test_a_birthday_is_named_where_it_lets_a_criterion_hold_and_not_where_it_changes_nothing() -> None:
    """Review 47 F3: 17 until 12-12 with her height blank (the Schwartz eGFR needs it) and a dialysis on 09-20:
    the plan of 12-20 waits for both, the birthday before its date too.  Review 47 F1: a 36th birthday on the day
    the dialysis window closes changes nothing (the CrCl is recorded), so only the window is named."""
    result = plan_for("NCT06222853", _turning_18_height_blank(dialysis_date="2026-09-20"))
    assert (result.earliest_date, result.status_at_plan) == (day("2026-12-20"), "eligible")
    assert [a.text for a in result.actions] == [
        "wait until 2026-12-12: the 18th birthday on 2026-12-12",
        "wait until 2026-12-20: the 3-month window after the dialysis of 2026-09-20",
    ]
    adult = _plan_920433(True, dialysis_date="2026-08-24", birth_date="1990-11-24")
    assert plan_footnotes(adult, AS_OF)[0] == (
        "or: eligible 2026-11-24, waiting for the 3-month window after the dialysis of 2026-08-24 (burden 0 days)"
    )


def test_allocate_says_which_result_a_placed_plan_awaits() -> None:
    """Review 43 (note): a patient placed on a plan that repeats the pregnancy test was said "eligible from D by
    plan", as if nothing were awaited; a plan of waiting alone awaits nothing."""
    import pandas as pd

    from matcher import api

    woman = {**base("NCT06920433"), "childbearing_potential": "true", "pregnant": "false"}
    rows = [
        {**woman, "patient_id": "stale", "pregnancy_test_negative_date": "2026-10-01"},
        {**woman, "patient_id": "window", "other_trial_date": "2026-08-25", "childbearing_potential": "false"},
    ]
    frame = api.allocate(pd.DataFrame(rows), AS_OF, within=60, trials=["NCT06920433"], workers=1)
    reasons = frame.set_index("patient_id")["reason"]
    assert reasons["stale"] == "eligible from 2026-11-23 by plan, awaiting the pregnancy test (urine) result"
    assert reasons["window"] == "eligible from 2026-11-25 by plan"


def test_a_withheld_drug_whose_name_is_blank_is_called_unnamed() -> None:
    """Review 43 m5: "give no more biologic (last dose ...)" for a blank other_biologic; a named one keeps its name."""
    patient = {**base("NCT06920433"), "other_biologic": "", "other_biologic_last_dose": "2026-11-13"}
    unnamed = plan_for("NCT06920433", patient)
    assert unnamed.actions[0].text.startswith("2026-11-23: give no more of the unnamed biologic (last dose 2026-11-13)")
    assert unnamed.actions[0].summary == "withholding the unnamed biologic"
    named = plan_for("NCT06920433", {**patient, "other_biologic": "ustekinumab"})
    assert named.actions[0].text.startswith("2026-11-23: give no more ustekinumab (last dose 2026-11-13)")
