"""Each IR node in the vectorized evaluator: true, false and unknown cases, as correct/incorrect pairs."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pytest
from pydantic import TypeAdapter

from matcher import ir
from matcher.cohort import cohort_from_records
from matcher.context import Context
from matcher.dates import subtract
from matcher.evaluate import criterion_undecided_columns, evaluate
from matcher.facts import default_facts

AS_OF = dt.date(2026, 11, 23)
RULE = TypeAdapter(ir.Rule)


def truth(rule: dict[str, Any], patient: dict[str, Any], as_of: dt.date = AS_OF) -> str:
    """Evaluate one rule for one patient: 'true', 'false' or 'unknown'."""
    cohort = cohort_from_records([{"patient_id": "p", **patient}])
    assert not cohort.invalid, cohort.invalid
    code = evaluate(RULE.validate_python(rule), Context(cohort, as_of, default_facts()))[0]
    return ("false", "unknown", "true")[code]


STOPPED_IMMUNOSUPPRESSANT = {
    "type": "washout",
    "field": "immunosuppressant_last_dose",
    "drug": "conventional_immunosuppressant",
    "drug_field": "stopped_immunosuppressant",
    "half_lives": 5,
}
OTHER_BIOLOGIC = {
    "type": "washout",
    "field": "other_biologic_last_dose",
    "drug": "biologic",
    "drug_field": "other_biologic",
    "half_lives": 5,
}
ANTI_CD20 = {
    "type": "washout",
    "field": "anti_cd20_last_dose",
    "drug": "anti_cd20",
    "drug_field": "anti_cd20_drug",
    "half_lives": 5,
}

CASES = [
    # (rule, patient, expected)
    ({"type": "compare", "field": "sledai_2k", "op": ">=", "value": 8}, {"sledai_2k": "8"}, "true"),
    ({"type": "compare", "field": "sledai_2k", "op": ">=", "value": 8}, {"sledai_2k": "7"}, "false"),
    ({"type": "compare", "field": "sledai_2k", "op": ">", "value": 8}, {"sledai_2k": "8"}, "false"),
    ({"type": "compare", "field": "sledai_2k", "op": ">=", "value": 8}, {"sledai_2k": ""}, "unknown"),
    ({"type": "compare", "field": "alt_x_uln", "op": "<", "value": 3}, {"alt_x_uln": "2.99"}, "true"),
    ({"type": "compare", "field": "alt_x_uln", "op": "<", "value": 3}, {"alt_x_uln": "3"}, "false"),
    ({"type": "range", "field": "age", "min": 18, "max": 80}, {"birth_date": "1946-11-23"}, "true"),  # 80 today
    ({"type": "range", "field": "age", "min": 18, "max": 80}, {"birth_date": "1945-11-23"}, "false"),  # 81 today
    ({"type": "range", "field": "age", "min": 18, "max": 80}, {"birth_date": "2008-11-23"}, "true"),  # 18 today
    ({"type": "range", "field": "age", "min": 18, "max": 80}, {"birth_date": "2008-11-24"}, "false"),  # 18 tomorrow
    ({"type": "range", "field": "age", "min": 18, "max": 80}, {"birth_date": ""}, "unknown"),
    (
        {"type": "range", "field": "fvc_pct_pred", "min": 45, "max": 70, "max_inclusive": False},
        {"fvc_pct_pred": "70"},
        "false",
    ),
    (
        {"type": "range", "field": "fvc_pct_pred", "min": 45, "max": 70, "max_inclusive": False},
        {"fvc_pct_pred": "69.9"},
        "true",
    ),
    (
        {"type": "compare_fields", "left": "sledai_2k", "op": ">", "right": "sledai_2k_clinical"},
        {"sledai_2k": "10", "sledai_2k_clinical": "8"},
        "true",
    ),
    (
        {"type": "compare_fields", "left": "sledai_2k", "op": ">", "right": "sledai_2k_clinical"},
        {"sledai_2k": "8", "sledai_2k_clinical": "8"},
        "false",
    ),
    (
        {"type": "compare_fields", "left": "sledai_2k", "op": ">", "right": "sledai_2k_clinical"},
        {"sledai_2k": "8", "sledai_2k_clinical": ""},
        "unknown",
    ),
    ({"type": "in_set", "field": "diagnosis", "values": ["SLE", "SS"]}, {"diagnosis": "sle"}, "true"),
    ({"type": "in_set", "field": "diagnosis", "values": ["SLE", "SS"]}, {"diagnosis": "AAV"}, "false"),
    ({"type": "in_set", "field": "diagnosis", "values": ["SLE"]}, {"diagnosis": ""}, "unknown"),
    ({"type": "in_set", "field": "malignancy_type", "values": ["none"]}, {"malignancy_type": "None"}, "true"),
    ({"type": "flag", "field": "prior_car_t"}, {"prior_car_t": "yes"}, "true"),
    ({"type": "flag", "field": "prior_car_t"}, {"prior_car_t": "0"}, "false"),
    ({"type": "flag", "field": "prior_car_t", "value": False}, {"prior_car_t": "FALSE"}, "true"),
    ({"type": "flag", "field": "prior_car_t"}, {"prior_car_t": ""}, "unknown"),
    # occurred_within: strictly after as_of minus the window
    (
        {"type": "occurred_within", "field": "live_vaccine_date", "window": {"days": 30}},
        {"live_vaccine_date": "2026-10-25"},
        "true",
    ),
    (
        {"type": "occurred_within", "field": "live_vaccine_date", "window": {"days": 30}},
        {"live_vaccine_date": "2026-10-24"},
        "false",
    ),
    (
        {"type": "occurred_within", "field": "live_vaccine_date", "window": {"days": 30}},
        {"live_vaccine_date": "never"},
        "false",
    ),
    (
        {"type": "occurred_within", "field": "live_vaccine_date", "window": {"days": 30}},
        {"live_vaccine_date": ""},
        "unknown",
    ),
    (
        {"type": "occurred_within", "field": "cardiac_event_date", "window": {"months": 6}},
        {"cardiac_event_date": "2026-05-24"},
        "true",
    ),
    (
        {"type": "occurred_within", "field": "cardiac_event_date", "window": {"months": 6}},
        {"cardiac_event_date": "2026-05-23"},
        "false",
    ),
    (
        {
            "type": "elapsed_at_least",
            "field": "antimalarial_start_date",
            "duration": {"weeks": 12},
            "when_never": False,
        },
        {"antimalarial_start_date": "2026-08-31"},
        "true",
    ),
    (
        {
            "type": "elapsed_at_least",
            "field": "antimalarial_start_date",
            "duration": {"weeks": 12},
            "when_never": False,
        },
        {"antimalarial_start_date": "2026-09-01"},
        "false",
    ),
    (
        {
            "type": "elapsed_at_least",
            "field": "antimalarial_start_date",
            "duration": {"weeks": 12},
            "when_never": False,
        },
        {"antimalarial_start_date": "never"},
        "false",
    ),
    (
        {
            "type": "elapsed_at_least",
            "field": "glucocorticoid_dose_changed_date",
            "duration": {"days": 7},
            "when_never": True,
        },
        {"glucocorticoid_dose_changed_date": "never"},
        "true",
    ),
    (
        {
            "type": "elapsed_at_least",
            "field": "antimalarial_start_date",
            "duration": {"weeks": 12},
            "when_never": False,
        },
        {"antimalarial_start_date": ""},
        "unknown",
    ),
    # belimumab half-life 19.8 d: 5 half-lives = 99 days
    (
        {"type": "washout", "field": "belimumab_last_dose", "drug": "belimumab", "half_lives": 5},
        {"belimumab_last_dose": "2026-08-16"},
        "true",
    ),
    (
        {"type": "washout", "field": "belimumab_last_dose", "drug": "belimumab", "half_lives": 5},
        {"belimumab_last_dose": "2026-08-17"},
        "false",
    ),
    (
        {"type": "washout", "field": "belimumab_last_dose", "drug": "belimumab", "half_lives": 5},
        {"belimumab_last_dose": "never"},
        "true",
    ),
    (
        {"type": "washout", "field": "belimumab_last_dose", "drug": "belimumab", "half_lives": 5},
        {"belimumab_last_dose": ""},
        "unknown",
    ),
    # abatacept 14 d: 5 half-lives = 70 days
    (
        {"type": "washout", "field": "other_biologic_last_dose", "drug_field": "other_biologic", "half_lives": 5},
        {"other_biologic_last_dose": "2026-09-14", "other_biologic": "Abatacept"},
        "true",
    ),
    (
        {"type": "washout", "field": "other_biologic_last_dose", "drug_field": "other_biologic", "half_lives": 5},
        {"other_biologic_last_dose": "2026-09-15", "other_biologic": "abatacept"},
        "false",
    ),
    (
        {"type": "washout", "field": "other_biologic_last_dose", "drug_field": "other_biologic", "half_lives": 5},
        {"other_biologic_last_dose": "2026-01-01", "other_biologic": ""},
        "unknown",
    ),
    ({"type": "known", "field": "essdai"}, {"essdai": "0"}, "true"),
    ({"type": "known", "field": "essdai"}, {"essdai": ""}, "false"),
    # A class with the drug named: that drug's half-life (mycophenolate 0.75 d: 5 half-lives = 4 days).
    (
        STOPPED_IMMUNOSUPPRESSANT,
        {"immunosuppressant_last_dose": "2026-11-19", "stopped_immunosuppressant": "mycophenolate"},
        "true",
    ),
    (
        STOPPED_IMMUNOSUPPRESSANT,
        {"immunosuppressant_last_dose": "2026-11-20", "stopped_immunosuppressant": "mycophenolate"},
        "false",
    ),
    # Unnamed: washed out only after the slowest member (leflunomide 19 d: 95 days) ...
    (STOPPED_IMMUNOSUPPRESSANT, {"immunosuppressant_last_dose": "2026-08-20", "stopped_immunosuppressant": ""}, "true"),
    (
        STOPPED_IMMUNOSUPPRESSANT,
        {"immunosuppressant_last_dose": "2026-08-21", "stopped_immunosuppressant": ""},
        "unknown",
    ),
    # ... and not washed out only before the fastest (azathioprine 0.21 d: 2 days).
    (
        STOPPED_IMMUNOSUPPRESSANT,
        {"immunosuppressant_last_dose": "2026-11-21", "stopped_immunosuppressant": ""},
        "unknown",
    ),
    (
        STOPPED_IMMUNOSUPPRESSANT,
        {"immunosuppressant_last_dose": "2026-11-22", "stopped_immunosuppressant": ""},
        "false",
    ),
    # A stopped immunosuppressant the facts do not know makes the row invalid at load (round 18; it was never
    # decided, as it may be a biologic): tests/test_cohort_loader.py.
    # An unnamed or unknown biologic likewise: the biologics the facts list bound nothing (was 63-142 days) ...
    (
        OTHER_BIOLOGIC,
        {"other_biologic_last_dose": "2018-11-23", "other_biologic": ""},
        "unknown",
    ),
    (
        OTHER_BIOLOGIC,
        {"other_biologic_last_dose": "2018-11-23", "other_biologic": "ravulizumab"},
        "unknown",
    ),
    (
        OTHER_BIOLOGIC,
        {"other_biologic_last_dose": "2026-11-22", "other_biologic": ""},
        "unknown",
    ),
    # ... while a named biologic with a half-life in the facts is decided by it (abatacept: 5 x 14 = 70 days) ...
    (
        OTHER_BIOLOGIC,
        {"other_biologic_last_dose": "2026-09-14", "other_biologic": "abatacept"},
        "true",
    ),
    (
        OTHER_BIOLOGIC,
        {"other_biologic_last_dose": "2026-09-15", "other_biologic": "abatacept"},
        "false",
    ),
    # ... and so is a name the facts do not know in the anti-CD20 column: it may be any biologic (round 13:
    # ravulizumab recorded there passed at 142 days), where a blank name takes the class's 80-142 days.
    (
        ANTI_CD20,
        {"anti_cd20_last_dose": "2018-11-23", "anti_cd20_drug": "rituxmab"},
        "unknown",
    ),
    (
        ANTI_CD20,
        {"anti_cd20_last_dose": "2026-07-04", "anti_cd20_drug": ""},
        "true",
    ),
    (
        ANTI_CD20,
        {"anti_cd20_last_dose": "2026-07-05", "anti_cd20_drug": ""},
        "unknown",
    ),
    # ... but where the rule names no class there are no bounds to fall back to.
    (
        {"type": "washout", "field": "other_biologic_last_dose", "drug_field": "other_biologic", "half_lives": 5},
        {"other_biologic_last_dose": "2020-01-01", "other_biologic": "secukinumab"},
        "unknown",
    ),
    (
        {
            "type": "washout",
            "field": "belimumab_last_dose",
            "drug": "belimumab",
            "drug_field": "other_biologic",
            "half_lives": 5,
        },
        {"belimumab_last_dose": "2020-01-01", "other_biologic": "secukinumab"},
        "unknown",
    ),
]


@pytest.mark.parametrize(("rule", "patient", "expected"), CASES)
def test_leaf_nodes(rule: dict[str, Any], patient: dict[str, Any], expected: str) -> None:
    assert truth(rule, patient) == expected


HIGH = {"type": "compare", "field": "sledai_2k", "op": ">=", "value": 8}
ANTI_SSA = {"type": "flag", "field": "anti_ssa"}
CAR_T = {"type": "flag", "field": "prior_car_t"}


@pytest.mark.parametrize(
    ("sledai", "anti_ssa", "all_", "any_"),
    [
        ("10", "yes", "true", "true"),
        ("10", "no", "false", "true"),
        ("10", "", "unknown", "true"),
        ("2", "", "false", "unknown"),
        ("", "", "unknown", "unknown"),
        ("2", "no", "false", "false"),
    ],
)
def test_all_and_any_follow_kleene_logic(sledai: str, anti_ssa: str, all_: str, any_: str) -> None:
    patient = {"sledai_2k": sledai, "anti_ssa": anti_ssa}
    assert truth({"type": "all", "of": [HIGH, ANTI_SSA]}, patient) == all_
    assert truth({"type": "any", "of": [HIGH, ANTI_SSA]}, patient) == any_


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (("yes", "yes", "no"), "true"),
        (("yes", "no", "no"), "false"),
        (("yes", "", "no"), "unknown"),
        (("yes", "", "yes"), "true"),
    ],
)
def test_at_least(values: tuple[str, str, str], expected: str) -> None:
    rule = {"type": "at_least", "k": 2, "of": [ANTI_SSA, CAR_T, {"type": "flag", "field": "anti_dsdna"}]}
    patient = dict(zip(("anti_ssa", "prior_car_t", "anti_dsdna"), values, strict=True))
    assert truth(rule, patient) == expected


@pytest.mark.parametrize(("value", "expected"), [("yes", "false"), ("no", "true"), ("", "unknown")])
def test_not(value: str, expected: str) -> None:
    assert truth({"type": "not", "rule": CAR_T}, {"prior_car_t": value}) == expected


SEROLOGY_RULE = {
    "type": "if",
    "condition": {"type": "compare_fields", "left": "sledai_2k", "op": ">", "right": "sledai_2k_clinical"},
    "then": {"type": "compare", "field": "sledai_2k_clinical", "op": ">=", "value": 6},
}


@pytest.mark.parametrize(
    ("total", "clinical", "expected"),
    [
        ("10", "10", "true"),  # no serology points: the clinical score is not constrained
        ("10", "6", "true"),
        ("10", "5", "false"),
        ("10", "", "unknown"),
        ("", "4", "unknown"),
    ],
)
def test_if_conditional_serology_points(total: str, clinical: str, expected: str) -> None:
    assert truth(SEROLOGY_RULE, {"sledai_2k": total, "sledai_2k_clinical": clinical}) == expected


def test_if_with_otherwise() -> None:
    rule = {**SEROLOGY_RULE, "otherwise": {"type": "compare", "field": "sledai_2k", "op": ">=", "value": 12}}
    assert truth(rule, {"sledai_2k": "10", "sledai_2k_clinical": "10"}) == "false"
    assert truth(rule, {"sledai_2k": "12", "sledai_2k_clinical": "12"}) == "true"


@pytest.mark.parametrize(
    ("drug", "dose", "expected"),
    [
        ("prednisone", "30", "true"),
        ("prednisone", "30.5", "false"),
        ("methylprednisolone", "24", "true"),  # 24 x 1.25 = 30
        ("methylprednisolone", "25", "false"),  # 31.25
        ("dexamethasone", "4.5", "true"),  # 4.5 mg x 5 / 0.75 = 30 mg
        ("dexamethasone", "4.6", "false"),  # 30.67 mg
        ("hydrocortisone", "120", "true"),  # 30
        ("", "0", "true"),  # no glucocorticoid
        ("prednisone", "", "unknown"),
    ],
)
def test_prednisone_equivalent_threshold(drug: str, dose: str, expected: str) -> None:
    rule = {"type": "compare", "field": "prednisone_equivalent_mg_day", "op": "<=", "value": 30}
    assert truth(rule, {"glucocorticoid": drug, "glucocorticoid_mg_day": dose}) == expected


@pytest.mark.parametrize(
    ("day", "duration", "expected"),
    [
        (dt.date(2026, 11, 23), {"months": 6}, dt.date(2026, 5, 23)),
        (dt.date(2026, 8, 31), {"months": 6}, dt.date(2026, 2, 28)),  # clamped to the month's end
        (dt.date(2028, 8, 31), {"months": 6}, dt.date(2028, 2, 29)),
        (dt.date(2026, 3, 15), {"years": 1}, dt.date(2025, 3, 15)),
        (dt.date(2026, 11, 23), {"weeks": 12}, dt.date(2026, 8, 31)),
        (dt.date(2026, 1, 10), {"days": 30}, dt.date(2025, 12, 11)),
    ],
)
def test_calendar_subtraction(day: dt.date, duration: dict[str, int], expected: dt.date) -> None:
    assert subtract(day, ir.Duration(**duration)) == expected


def test_leap_day_birthday_counts_from_first_of_march() -> None:
    rule = {"type": "compare", "field": "age", "op": ">=", "value": 18}
    patient = {"birth_date": "2008-02-29"}
    assert truth(rule, patient, dt.date(2026, 2, 28)) == "false"
    assert truth(rule, patient, dt.date(2026, 3, 1)) == "true"


def test_age_years_is_used_without_birth_date() -> None:
    rule = {"type": "range", "field": "age", "min": 18, "max": 65}
    assert truth(rule, {"age_years": "65.9"}) == "true"
    assert truth(rule, {"age_years": "66.0"}) == "false"
    assert truth(rule, {"age_years": "17.99"}) == "false"


def test_an_unnamed_class_drug_asks_for_its_name_only_where_the_name_decides() -> None:
    rule = ir.Criterion.model_validate(
        {"id": "T.1", "kind": "inclusion", "quote": "q", "rule": STOPPED_IMMUNOSUPPRESSANT}
    )
    records = [
        {"patient_id": "gap", "immunosuppressant_last_dose": "2026-10-01"},
        {"patient_id": "old", "immunosuppressant_last_dose": "2025-01-01"},
        {"patient_id": "undated", "stopped_immunosuppressant": "mycophenolate"},
    ]
    ctx = Context(cohort_from_records(records), AS_OF, default_facts())
    found = criterion_undecided_columns(rule, ctx, np.ones(3, dtype=bool))
    assert found["stopped_immunosuppressant"].tolist() == [True, False, False]
    assert found["immunosuppressant_last_dose"].tolist() == [False, False, True]


def test_a_node_hashes_once_and_pickles_without_its_hash() -> None:
    """Nodes key every memo table, so each keeps its hash; a pickle leaves it out (another interpreter hashes
    strings differently) and the node read back is equal, with the same hash here."""
    import pickle

    adapter: TypeAdapter[ir.Rule] = TypeAdapter(ir.Rule)
    spec = {"type": "all", "of": [{"type": "compare", "field": "age", "op": ">=", "value": 18}]}
    rule = adapter.validate_python(spec)
    again = adapter.validate_python(spec)
    assert hash(rule) == hash(again) and rule == again
    assert rule != adapter.validate_python({**spec, "of": [{**spec["of"][0], "value": 19}]})
    copied = pickle.loads(pickle.dumps(rule))
    assert "_node_hash" in rule.__dict__ and "_node_hash" not in copied.__dict__
    assert copied == rule and hash(copied) == hash(rule) and {rule: 1}[copied] == 1
    assert copied.model_dump() == spec | {"of": ({**spec["of"][0], "value": 18.0},)}  # no hash among the fields
