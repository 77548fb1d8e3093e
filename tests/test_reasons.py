"""Reasons in clinical words: one golden sentence per IR node type and verdict (in the style of circe's printer
tests), values in display units (converted ones too), and every output carrying them."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

from matcher import ir
from matcher.cli import main
from matcher.cohort import cohort_from_records
from matcher.context import Context
from matcher.explain import reasons
from matcher.facts import default_facts
from matcher.findings import FINDINGS

AS_OF = dt.date(2026, 11, 23)
ROOT = Path(__file__).resolve().parent.parent
DEMO = str(ROOT / "scenarios" / "demo-cohort.csv")


def _reason(rule: dict[str, Any], patient: dict[str, Any], kind: str = "inclusion", **extra: Any) -> Any:
    criterion = ir.Criterion.model_validate(
        {"id": "NCT00000000.x", "kind": kind, "quote": "the text", "rule": rule, **extra}
    )
    cohort = cohort_from_records([{"patient_id": "p1", **patient}])
    return reasons(criterion, Context(cohort, AS_OF, default_facts()), np.array([0]))[0]


def said(rule: dict[str, Any], patient: dict[str, Any], kind: str = "inclusion", **extra: Any) -> str:
    return str(_reason(rule, patient, kind, **extra).text)


def test_every_leaf_type_has_a_sentence():
    assert FINDINGS.missing() == []


GOLDEN = [
    # (rule, patient, kind, sentence)
    (
        {"type": "compare", "field": "prednisone_equivalent_mg_day", "op": "<=", "value": 20},
        {"glucocorticoid": "prednisone", "glucocorticoid_mg_day": 25},
        "inclusion",
        "prednisone 25 mg/day is above the 20 mg/day limit",
    ),
    (
        {"type": "compare", "field": "prednisone_equivalent_mg_day", "op": "<=", "value": 30},
        {"glucocorticoid": "methylprednisolone", "glucocorticoid_mg_day": 32},
        "inclusion",
        "prednisone-equivalent dose 40 mg/day (methylprednisolone 32 mg/day) is above the 30 mg/day limit",
    ),
    (
        {"type": "compare", "field": "egfr_ml_min_1_73m2", "op": ">=", "value": 60},
        {"egfr_ml_min_1_73m2": 42},
        "inclusion",
        "eGFR 42 mL/min/1.73m² is below 60 mL/min/1.73m²",
    ),
    (
        {"type": "compare", "field": "weight_kg", "op": ">", "value": 40},
        {"weight_kg": 40},
        "inclusion",
        "weight 40 kg is at 40 kg (must be above 40 kg)",
    ),
    (
        {"type": "compare", "field": "platelets_10e9_l", "op": "<", "value": 50},
        {"platelets_10e9_l": 40},
        "exclusion",
        "platelets 40 ×10⁹/L is below 50 ×10⁹/L",
    ),
    (
        {"type": "compare", "field": "sledai_2k", "op": ">=", "value": 8},
        {},
        "inclusion",
        "SLEDAI-2K unknown: measure sledai_2k",
    ),
    (
        {
            "type": "linear",
            "terms": [{"field": "phga_vas", "k": 1}, {"field": "ptga_vas", "k": -0.5}],
            "op": ">=",
            "value": 1,
        },
        {"phga_vas": 2, "ptga_vas": 3},
        "inclusion",
        "physician global activity − 0.5 × patient global activity = 0.5 "
        "(physician global activity 2 cm, patient global activity 3 cm) is below 1",
    ),
    (
        {
            "type": "linear",
            "terms": [{"field": "phga_vas", "k": 1}, {"field": "ptga_vas", "k": 1}],
            "op": "<",
            "value": 5,
        },
        {"phga_vas": 2},
        "inclusion",
        "physician global activity and patient global activity unknown: measure ptga_vas",
    ),
    (
        {"type": "range", "field": "age", "min": 18, "max": 80},
        {"age_years": 86},
        "inclusion",
        "age 86 years is above the 80 years limit",
    ),
    (
        {"type": "range", "field": "age", "min": 18, "max": 80},
        {"age_years": 12},
        "inclusion",
        "age 12 years is below 18 years",
    ),
    (
        {"type": "compare_fields", "left": "fvc_pct_pred", "op": ">=", "right": "dlco_pct_pred"},
        {"fvc_pct_pred": 50, "dlco_pct_pred": 70},
        "inclusion",
        "FVC 50% predicted is below DLCO 70% predicted",
    ),
    (
        {"type": "in_set", "field": "diagnosis", "values": ["SLE", "SS", "SSC"]},
        {"diagnosis": "aav"},
        "inclusion",
        "diagnosis is AAV (not one of SLE, SS, SSC)",
    ),
    ({"type": "flag", "field": "prior_car_t"}, {"prior_car_t": "yes"}, "exclusion", "prior CAR-T: yes"),
    ({"type": "known", "field": "anti_ssa"}, {}, "inclusion", "anti-SSA/Ro not recorded"),
    (
        {"type": "occurred_within", "field": "live_vaccine_date", "window": {"weeks": 6}},
        {"live_vaccine_date": "2026-11-09"},
        "exclusion",
        "live vaccine on 2026-11-09 is within the last 6 weeks; the window closes 2026-12-21",
    ),
    (
        {"type": "occurred_within", "field": "renal_biopsy_date", "window": {"months": 6}},
        {"renal_biopsy_date": "2026-05-01"},
        "inclusion",
        "renal biopsy on 2026-05-01 is not within the last 6 months (the window closed 2026-11-01)",
    ),
    (
        {"type": "occurred_within", "field": "pregnancy_test_negative_date", "window": {"days": 7}, "renewable": True},
        {},
        "inclusion",
        "negative pregnancy test not recorded: to be done (valid 7 days)",
    ),
    (
        {
            "type": "elapsed_at_least",
            "field": "immunosuppressant_start_date",
            "duration": {"weeks": 12},
            "when_never": True,
        },
        {"immunosuppressant_start_date": "2026-10-01"},
        "inclusion",
        "immunosuppressant started on 2026-10-01, less than 12 weeks ago; 12 weeks will have passed on 2026-12-24",
    ),
    (
        {"type": "washout", "field": "belimumab_last_dose", "half_lives": 5, "drug": "belimumab"},
        {"belimumab_last_dose": "2026-11-09"},
        "inclusion",
        "belimumab last given 2026-11-09; the 5-half-life washout ends 2027-02-16",
    ),
    (
        {
            "type": "washout",
            "field": "anti_cd20_last_dose",
            "half_lives": 5,
            "drug": "anti_cd20",
            "drug_field": "anti_cd20_drug",
        },
        {"anti_cd20_last_dose": "2026-11-01"},
        "inclusion",
        # 5 x 16 d (ofatumumab) to 5 x 28.4 d (obinutuzumab)
        "anti-CD20 antibody last given 2026-11-01; the 5-half-life washout ends between 2027-01-20 and "
        "2027-03-23, by the drug",
    ),
]


@pytest.mark.parametrize(("rule", "patient", "kind", "sentence"), GOLDEN, ids=[str(i) for i in range(len(GOLDEN))])
def test_golden_sentences(rule, patient, kind, sentence):
    assert said(rule, patient, kind) == sentence


def test_a_name_the_tool_does_not_know_is_asked_about_the_kind_not_only_the_list():
    """Review 64 m3: a B-cell depleter missing from the list and unknown to the facts (then ianalumab, now known;
    here loncastuximab, an anti-CD19 drug conjugate); "is it one of [the list]?" invited a wrong "no", which a
    coordinator would take as not B-cell depleting."""
    rule = {"type": "in_set", "field": "other_biologic", "values": ["rituximab", "obinutuzumab", "daratumumab"]}
    assert said(rule, {"other_biologic": "loncastuximab"}, "exclusion") == (
        "other biologic is loncastuximab, a name the tool does not know: is it one of rituximab, obinutuzumab, "
        "daratumumab, or a drug of the same kind?"
    )


def test_a_known_drug_of_another_kind_is_named_as_such_not_as_unknown():
    """Review 78 M3: ianalumab (a biologic the facts know, not an anti-CD20) recorded as the anti-CD20 drug was
    said to be "a name the tool does not know"."""
    rule = {"type": "in_set", "field": "anti_cd20_drug", "values": ["none"]}
    assert said(rule, {"anti_cd20_drug": "ianalumab"}, "exclusion") == (
        "anti-CD20 antibody is ianalumab, a drug the tool knows, not of the kind this column records: correct"
        " anti_cd20_drug"
    )


def test_a_recorded_check_is_not_said_beside_a_leaf_showing_the_value_in_another_branch():
    """Review 42 m4b: NCT06222853 excl.11 reads ``pregnant`` as known in one branch and as a flag in another; a
    positive test was said twice ("positive pregnancy test recorded: yes; positive pregnancy test: yes")."""
    known_branch = {"type": "not", "rule": {"type": "not", "rule": {"type": "known", "field": "pregnant"}}}
    rule = {"type": "all", "of": [known_branch, {"type": "flag", "field": "pregnant"}]}
    assert said(rule, {"pregnant": "yes"}, "exclusion") == "positive pregnancy test: yes"
    assert said(known_branch, {"pregnant": "yes"}, "exclusion") == "positive pregnancy test recorded: yes"  # alone


def test_a_sentence_two_leaves_give_in_different_branches_is_said_once():
    """Review 44: "UPCR unknown: measure upcr_g_g; UPCR unknown: measure upcr_g_g; ...", from two leaves on one
    column, one under an OR and one beside it."""
    proteinuria = [
        {"type": "compare", "field": "upcr_g_g", "op": ">=", "value": 0.5},
        {"type": "compare", "field": "urine_protein_24h_g", "op": ">=", "value": 0.5},
    ]
    rule = {"type": "all", "of": [{"type": "any", "of": proteinuria}, {**proteinuria[0], "op": "<", "value": 3}]}
    assert (
        said(rule, {}) == "UPCR unknown: measure upcr_g_g; 24-hour urine protein unknown: measure urine_protein_24h_g"
    )


def test_a_failing_or_names_every_part_that_failed():
    rule = {
        "type": "any",
        "of": [{"type": "flag", "field": "treatment_failure"}, {"type": "flag", "field": "relapse_after_remission"}],
    }
    patient = {"treatment_failure": "no", "relapse_after_remission": "no"}
    assert said(rule, patient) == "none of: failure of standard therapy: no; relapse after remission: no"


def test_an_all_that_fails_names_its_first_failing_part_only():
    rule = {
        "type": "all",
        "of": [
            {"type": "compare", "field": "hemoglobin_g_l", "op": ">=", "value": 80},
            {"type": "compare", "field": "platelets_10e9_l", "op": ">=", "value": 50},
        ],
    }
    assert said(rule, {"hemoglobin_g_l": 70, "platelets_10e9_l": 20}) == "hemoglobin 70 g/L is below 80 g/L"


def test_an_undecided_all_names_each_blank_part():
    rule = {
        "type": "all",
        "of": [
            {"type": "compare", "field": "fvc_pct_pred", "op": ">=", "value": 50},
            {"type": "compare", "field": "dlco_pct_pred", "op": ">=", "value": 40},
        ],
    }
    reason = _reason(rule, {})
    assert reason.text == "FVC unknown: measure fvc_pct_pred; DLCO unknown: measure dlco_pct_pred"
    assert reason.as_dict()["verdict"] == "unknown"
    assert [f["measure"] for f in reason.as_dict()["findings"]] == [["fvc_pct_pred"], ["dlco_pct_pred"]]


def test_at_least_that_fails_says_how_many_were_needed():
    rule = {
        "type": "at_least",
        "k": 2,
        "of": [
            {"type": "compare", "field": "phga_vas", "op": ">=", "value": 2},
            {"type": "compare", "field": "haq_di", "op": ">=", "value": 0.25},
        ],
    }
    text = said(rule, {"phga_vas": 3, "haq_di": 0.1})
    assert text == "fewer than 2 of 2 met (HAQ-DI 0.1 is below 0.25)"


def test_a_disease_branch_explains_the_rule_not_the_condition():
    text = said(
        {"type": "compare", "field": "sledai_2k", "op": ">=", "value": 8},
        {"diagnosis": "SLE", "sledai_2k": 4},
        applies_when={"type": "in_set", "field": "diagnosis", "values": ["SLE"]},
    )
    assert text == "SLEDAI-2K 4 is below 8"


def test_an_undecided_branch_condition_is_named_with_the_rule():
    text = said(
        {"type": "compare", "field": "sledai_2k", "op": ">=", "value": 8},
        {"sledai_2k": 4},
        applies_when={"type": "in_set", "field": "diagnosis", "values": ["SLE"]},
    )
    assert text == "diagnosis unknown: measure diagnosis; SLEDAI-2K 4 is below 8"


def test_values_given_in_another_unit_are_shown_in_the_contract_unit():
    low = said(
        {"type": "compare", "field": "hemoglobin_g_l", "op": "<", "value": 70}, {"hemoglobin[g/dL]": 6.5}, "exclusion"
    )
    assert low == "hemoglobin 65 g/L is below 70 g/L"
    egfr = said(
        {"type": "compare", "field": "egfr_ml_min_1_73m2", "op": ">=", "value": 60},
        {"creatinine[umol/L]": 123.76, "sex": "F", "age_years": 50},
    )
    assert egfr == "eGFR 45.83 mL/min/1.73m² (CKD-EPI 2021, creatinine 1.4 mg/dL) is below 60 mL/min/1.73m²"


def test_an_exclusion_that_holds_states_the_fact_and_a_recorded_check_beside_it_is_not_repeated():
    rule = {"type": "all", "of": [{"type": "known", "field": "pregnant"}, {"type": "flag", "field": "pregnant"}]}
    assert said(rule, {"pregnant": "yes"}, "exclusion") == "positive pregnancy test: yes"


# Every output, on the demo cohort.


def _run(*args: str) -> str:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_every_ineligible_or_unknown_row_of_the_screen_csv_has_a_reason_in_words():
    rows = list(csv.DictReader(io.StringIO(_run("screen", DEMO, "--as-of", "2026-11-23", "--format", "csv"))))
    undecided = [row for row in rows if row["status"] in ("ineligible", "unknown")]
    assert undecided
    for row in undecided:
        assert row["reason"], row
        assert not row["reason"].startswith("NCT"), row
    assert all(row["reason"] == "" for row in rows if row["status"] == "eligible")
    p036 = next(row for row in rows if (row["patient_id"], row["trial_id"]) == ("P036", "NCT06983964"))
    assert p036["reason"] == "prednisone 25 mg/day is above 20 mg/day"
    assert p036["failed"] == "NCT06983964.excl.6"  # ids stay in their own column


def test_screen_json_carries_every_reason_object():
    document = json.loads(_run("screen", DEMO, "--as-of", "2026-11-23", "--format", "json"))
    record = next(r for r in document["results"] if (r["patient_id"], r["trial_id"]) == ("P020", "NCT06821659"))
    assert record["status"] == "ineligible"
    excluded = next(r for r in record["reasons"] if r["criterion_id"] == "NCT06821659.excl.14")
    assert excluded["verdict"] == "fails"
    assert excluded["quote"]
    finding = excluded["findings"][0]
    assert finding["values"] == {"live_vaccine_date": "2026-11-09"}
    assert finding["date"] == "2026-12-09"
    assert {r["criterion_id"] for r in record["reasons"]} >= set(record["failed"])


def test_allocate_names_the_first_failing_criterion_of_each_trial_in_words_and_eligible_until():
    rows = list(csv.DictReader(io.StringIO(_run("allocate", DEMO, "--as-of", "2026-11-23", "--format", "csv"))))
    assert "eligible_until" in rows[0]
    p036 = next(row for row in rows if row["patient_id"] == "P036")
    assert "NCT06983964: prednisone 25 mg/day is above 20 mg/day" in p036["reason"]
    assigned = [row for row in rows if row["status"] == "assigned"]
    assert assigned and all(row["eligible_until"] == "" or row["eligible_until"] >= "2026-11-23" for row in assigned)
    assert any(row["eligible_until"] for row in assigned)


def test_an_assigned_patient_whose_test_ages_out_soon_shows_the_date():
    # The demo's negative pregnancy tests are of 2026-11-20, valid 7 days: eligible through 2026-11-26.
    rows = list(csv.DictReader(io.StringIO(_run("allocate", DEMO, "--as-of", "2026-11-23", "--format", "csv"))))
    p001 = next(row for row in rows if row["patient_id"] == "P001")
    assert (p001["status"], p001["eligible_until"]) == ("assigned", "2026-11-26")
    document = json.loads(_run("allocate", DEMO, "--as-of", "2026-11-23", "--format", "json"))
    assert next(p for p in document["patients"] if p["patient_id"] == "P001")["eligible_until"] == "2026-11-26"
    table = _run("allocate", DEMO, "--as-of", "2026-11-23")
    assert "eligible until" in table and "2026-11-26" in table


def test_whatif_lists_waiting_as_an_action():
    document = json.loads(
        _run(
            "whatif", DEMO, "--as-of", "2026-11-23", "--patient", "P020", "--trials", "NCT06983964", "--format", "json"
        )
    )
    plan = document["plans"][0]
    assert plan["earliest_date"] == "2026-12-21"
    wait = [a for a in plan["actions"] if a["action"] == "wait"]
    assert wait == [
        {
            "action": "wait",
            "column": "live_vaccine_date",
            "from": None,
            "to": None,
            "date": "2026-11-23",
            "until": "2026-12-21",
            "note": "the 6-week window after the live vaccine of 2026-11-09",
            "burden_days": 0,
        },
    ]
    assert [a["action"] for a in plan["actions"]] == ["repeat_test", "wait"]  # her test ages out by then


def test_a_plan_dated_after_today_never_has_an_empty_action_list():
    document = json.loads(_run("whatif", DEMO, "--as-of", "2026-11-23", "--patient", "P020", "--format", "json"))
    for plan in document["plans"]:
        if plan["reachable"] and plan["earliest_date"] > "2026-11-23":
            assert plan["actions"], plan


def test_what_only_time_meets_after_the_horizon_is_beyond_it_not_blocking():
    document = json.loads(
        _run("whatif", DEMO, "--as-of", "2026-11-23", "--patient", "P022", "--horizon", "30", "--format", "json")
    )
    plan = next(p for p in document["plans"] if p["trial_id"] == "NCT06821659")
    assert plan["reachable"] is False
    assert plan["blocking"] == []
    assert plan["beyond_horizon"] is True
    assert plan["beyond_horizon_date"] == "2027-01-23"  # the cardiac event of 2026-07-23 is then 6 months old
    pediatric = next(p for p in document["plans"] if p["trial_id"] == "NCT06222853")
    assert pediatric["blocking"] == ["NCT06222853.incl.1"]
    assert pediatric["blocking_words"] == ["age 46 years is above the 18 years limit"]


def test_the_funnel_speaks_clinical_words():
    document = json.loads(_run("screen", DEMO, "--as-of", "2026-11-23", "--format", "json", "--funnel"))
    texts = [step["text"] for trial in document["trials"] for step in trial["funnel"]]
    assert "requires weight above 40 kg" in texts
    assert not any("weight_kg" in text for text in texts)


def test_a_patient_displaced_by_a_quota_is_told_so(tmp_path: Path):
    scenario = tmp_path / "cap.yaml"
    scenario.write_text("quotas:\n  - {trial: NCT06056921, column: diagnosis, value: SLE, max: 1}\n")
    rows = list(
        csv.DictReader(
            io.StringIO(_run("allocate", DEMO, "--as-of", "2026-11-23", "--scenario", str(scenario), "--format", "csv"))
        )
    )
    told = [row for row in rows if "quota of at most 1 with diagnosis = SLE is filled" in row["reason"]]
    assert told
    for row in told:
        assert "NCT06056921 full" not in row["reason"]


def test_allocate_with_previous_lists_the_changes(tmp_path: Path):
    first = _run("allocate", DEMO, "--as-of", "2026-11-23", "--format", "csv")
    previous = tmp_path / "previous.csv"
    previous.write_text(first)
    placed = {row["patient_id"]: row["trial_id"] for row in csv.DictReader(io.StringIO(first)) if row["trial_id"]}
    soon = json.loads(_run("allocate", DEMO, "--as-of", "2026-11-24", "--previous", str(previous), "--format", "json"))
    assert {c["patient_id"]: c["change"] for c in soon["changes"]} == dict.fromkeys(placed, "kept")
    # A month later the negative pregnancy tests of 2026-11-20 have aged out: slots are lost, and the reason says so.
    later = json.loads(_run("allocate", DEMO, "--as-of", "2026-12-20", "--previous", str(previous), "--format", "json"))
    lost = [change for change in later["changes"] if change["change"] == "lost"]
    assert lost
    for change in lost:
        assert change["previous_trial"] == placed[change["patient_id"]]
        assert change["reason"].startswith(f"no longer eligible for {change['previous_trial']}: ")
    p017 = next(change for change in lost if change["patient_id"] == "P017")
    assert "negative pregnancy test on 2026-11-20 is not within the last 7 days" in p017["reason"]
    assert p017["restore"] == [
        "2026-12-20: repeat the pregnancy test (urine): must be negative; the result is awaited, in hand before "
        "enrolment"
    ]


def test_a_value_keeps_the_digits_that_tell_it_from_its_limit() -> None:
    """Review 48 F6, review 51 F1-F2: a salivary flow of 0.009 or 0.00999 mL/min read "0.01 mL/min is below
    0.01 mL/min"; a value far from its limit keeps two decimals, and none is written 1e-05."""
    from matcher.render import number

    rule = {"type": "compare", "field": "saliva_flow_unstimulated_ml_min", "op": ">=", "value": 0.01}
    assert said(rule, {"saliva_flow_unstimulated_ml_min": "0.009"}) == (
        "unstimulated salivary flow 0.009 mL/min is below 0.01 mL/min"
    )
    assert said(rule, {"saliva_flow_unstimulated_ml_min": "0.00999"}) == (
        "unstimulated salivary flow 0.00999 mL/min is below 0.01 mL/min"
    )
    assert said(rule, {"saliva_flow_unstimulated_ml_min": "0.003"}) == (
        "unstimulated salivary flow 0.003 mL/min is below 0.01 mL/min"
    )
    egfr = {"type": "compare", "field": "egfr_ml_min_1_73m2", "op": ">=", "value": 30}
    assert said(egfr, {"egfr_ml_min_1_73m2": "29.996"}).startswith("eGFR 29.996 mL/min/1.73m² is below 30")
    assert [number(v) for v in (0.00005, 0.0449, 2.5, 150, 1e7, -0.001, 0.125)] == [
        "0.00005",
        "0.045",
        "2.5",
        "150",
        "10000000",
        "-0.001",
        "0.12",
    ]


def test_a_value_outside_a_range_keeps_the_digits_that_tell_it_from_the_end_it_passes() -> None:
    """Review 53 F1: FVC 44.996 % read "45% predicted is below 45% predicted", 70.004 "70% ... above the 70% limit"."""
    rule = {"type": "range", "field": "fvc_pct_pred", "min": 45, "max": 70}
    assert said(rule, {"fvc_pct_pred": "44.996"}) == "FVC 44.996% predicted is below 45% predicted"
    assert said(rule, {"fvc_pct_pred": "70.004"}) == "FVC 70.004% predicted is above the 70% predicted limit"
    assert said(rule, {"fvc_pct_pred": "30"}) == "FVC 30% predicted is below 45% predicted"
