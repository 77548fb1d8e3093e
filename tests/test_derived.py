"""Derived values against hand-worked examples of the published formulas."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import numpy as np
import pytest

from matcher.cohort import check_as_of, cohort_from_records
from matcher.context import Context
from matcher.derived import bedside_schwartz, birthdays, ckd_epi_2021, cockcroft_gault, completed_years, derive
from matcher.facts import default_facts
from matcher.planning import status_now
from matcher.trials import effective_facts

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parent / "trials"))
from test_NCT06056921 import ELIGIBLE_SLE as NCT06056921_SLE  # noqa: E402
from test_NCT06920433 import ELIGIBLE_SLE as NCT06920433_SLE  # noqa: E402
from trialkit import trial, verdict  # noqa: E402

AS_OF = dt.date(2026, 11, 23)


@pytest.mark.parametrize(
    ("scr", "age", "female", "expected"),
    [
        # Inker et al. NEJM 2021: 142 x min(Scr/k,1)^a x max(Scr/k,1)^-1.200 x 0.9938^age [x 1.012 F]
        (1.0, 60, False, 86.2),  # k=0.9: 142 x (1/0.9)^-1.2 x 0.9938^60 = 142 x 0.8813 x 0.6886
        (0.8, 50, True, 89.7),  # k=0.7: 142 x (0.8/0.7)^-1.2 x 0.9938^50 x 1.012
        (0.7, 50, True, 105.3),  # at k: 142 x 0.9938^50 x 1.012
        (0.6, 40, False, 125.2),  # below k=0.9: 142 x (0.6/0.9)^-0.302 x 0.9938^40 = 142 x 1.1303 x 0.7798
        (2.5, 70, False, 27.0),  # 142 x (2.5/0.9)^-1.2 x 0.9938^70 = 142 x 0.2935 x 0.6471
    ],
)
def test_ckd_epi_2021(scr: float, age: float, female: bool, expected: float) -> None:
    value = ckd_epi_2021(np.array([scr]), np.array([age]), np.array([female]))[0]
    assert value == pytest.approx(expected, abs=0.1)


def test_ckd_epi_uses_kappa_0_9_for_men() -> None:
    """The known bug of one public implementation: kappa 0.7 for men gives 68.6 instead of 86.2 here."""
    value = ckd_epi_2021(np.array([1.0]), np.array([60.0]), np.array([False]))[0]
    assert value > 80


def test_bedside_schwartz() -> None:
    # 0.413 x 140 cm / 0.7 mg/dL = 82.6
    assert bedside_schwartz(np.array([0.7]), np.array([140.0]))[0] == pytest.approx(82.6)


@pytest.mark.parametrize(("female", "expected"), [(False, 100.0), (True, 85.0)])
def test_cockcroft_gault(female: bool, expected: float) -> None:
    # (140 - 40) x 72 kg / (72 x 1.0 mg/dL) = 100 mL/min; x 0.85 for women
    value = cockcroft_gault(np.array([1.0]), np.array([40.0]), np.array([72.0]), np.array([female]))[0]
    assert value == pytest.approx(expected)


def test_completed_years_turn_on_the_birthday() -> None:
    births = np.array([dt.date(2008, 11, 23), dt.date(2008, 11, 24), dt.date(1990, 1, 1)], dtype="datetime64[D]")
    days = births.astype("int64").astype(float)
    assert completed_years(days, AS_OF).tolist() == [18.0, 17.0, 36.0]


@pytest.mark.parametrize(
    ("years", "days", "age"),
    [(18.95, 18, 18), (18.95, 19, 19), (4.9, 36, 4), (4.9, 37, 5), (30.0, 365, 30), (30.0, 366, 31), (7.5, 900, 9)],
)
def test_age_years_grows_after_the_screening_date_on_the_days_the_planner_counts(
    years: float, days: int, age: int
) -> None:
    """Review 39 M1: an age given as ``age_years`` (at the screening date) stayed its whole part on every later
    date.  It grows at 365.25 days a year, on the days ``birthdays`` gives the CP-SAT compiler."""
    cohort = check_as_of(cohort_from_records([{"patient_id": "p", "age_years": years}]), AS_OF)
    later = Context(cohort, AS_OF, default_facts()).later(days)
    assert later.values("age")[0] == age == np.floor(years) + len(birthdays(years, days))
    assert Context(cohort.take([0]), AS_OF + dt.timedelta(days=days), default_facts()).values("age")[0] == age


RENAL_AROUND_A_BIRTHDAY = [
    # 17 on 11-23, 18 from 12-12: Schwartz 30.2 (0.413 x 190 / 2.6), then CKD-EPI 26.6
    {"sex": "F", "height_cm": "190", "weight_kg": "60", "creatinine_mg_dl": "2.6", "age_years": "17.95"},
    {"sex": "F", "height_cm": "190", "weight_kg": "60", "creatinine_mg_dl": "2.6", "birth_date": "2008-12-12"},
    # the other way: Schwartz 28.9 (0.413 x 140 / 2.0) at 17, CKD-EPI 36.4 at 18
    {"sex": "F", "height_cm": "140", "weight_kg": "50", "creatinine_mg_dl": "2.0", "birth_date": "2008-12-12"},
    # Cockcroft-Gault 30.11 at 64, 29.71 at 65 (12-12)
    {"sex": "F", "weight_kg": "60", "creatinine_mg_dl": "1.788", "birth_date": "1961-12-12"},
    # sex blank: decided where a woman's and a man's values agree, on each side of the birthday
    {"sex": "", "height_cm": "190", "weight_kg": "90", "creatinine_mg_dl": "2.6", "birth_date": "2008-12-12"},
    {"sex": "", "weight_kg": "60", "creatinine_mg_dl": "1.78", "birth_date": "1961-12-12"},  # F 30.24, then 29.85
    # reported values: no birthday moves them
    {
        "sex": "F",
        "egfr_ml_min_1_73m2": "30",
        "crcl_ml_min": "30",
        "creatinine_mg_dl": "2.6",
        "birth_date": "2008-12-12",
    },
]


@pytest.mark.parametrize("patient", RENAL_AROUND_A_BIRTHDAY)
def test_renal_function_is_estimated_with_the_age_on_each_date_in_both_backends(patient: dict[str, str]) -> None:
    """Review 42 F5: eGFR and CrCl from creatinine are estimated with the age on the date screened, so a birthday
    moves them (a Schwartz eGFR of 30.2 is a CKD-EPI 26.6 at 18; a Cockcroft-Gault CrCl of 30.1 is 29.7 at 65).
    The CP-SAT compiler holds one value per stretch between birthdays: on every day it agrees with the evaluator
    on that date, for each renal criterion of the trials."""
    from ortools.sat.python import cp_model

    from matcher.cpsat import Compiler, kleene
    from matcher.evaluate import criterion_holds

    ctx = Context(check_as_of(cohort_from_records([{"patient_id": "p", **patient}]), AS_OF), AS_OF, default_facts())
    renal = [
        criterion
        for trial_id, ids in (("NCT06222853", ["incl.4.2"]), ("NCT06920433", ["incl.16", "excl.8"]))
        for criterion in trial(trial_id).criteria
        if criterion.id.removeprefix(f"{trial_id}.") in ids
    ]
    assert len(renal) == 3
    verdicts: dict[int, list[int]] = {}
    for days in (0, 18, 19, 20, 200):
        later = ctx.later(days)
        for criterion in renal:
            compiler = Compiler(ctx, 0, horizon=days, fixed_day=days)
            rails = compiler.criterion(criterion)
            solver = cp_model.CpSolver()
            assert solver.solve(compiler.model) == cp_model.OPTIMAL
            expected = int(criterion_holds(criterion, later)[0])
            assert kleene(rails, solver) == expected, (criterion.id, days)
            verdicts.setdefault(days, []).append(expected)
    # the birthday (day 19) changes a verdict, unless the values are reported
    assert (verdicts[18] != verdicts[19]) == ("egfr_ml_min_1_73m2" not in patient), verdicts


def test_a_birthday_moves_the_estimated_renal_function_in_the_evaluator() -> None:
    """The values the parity test above compares: the evaluator re-estimates on a later date with the age then."""
    ctx = Context(
        check_as_of(cohort_from_records([{"patient_id": "p", **RENAL_AROUND_A_BIRTHDAY[0]}]), AS_OF),
        AS_OF,
        default_facts(),
    )
    later = ctx.later(19)
    assert (ctx.values("age")[0], later.values("age")[0]) == (17, 18)
    assert round(float(ctx.values("egfr_ml_min_1_73m2")[0]), 1) == 30.2  # 0.413 x 190 / 2.6
    assert round(float(later.values("egfr_ml_min_1_73m2")[0]), 1) == 26.6
    cg = Context(
        check_as_of(cohort_from_records([{"patient_id": "p", **RENAL_AROUND_A_BIRTHDAY[3]}]), AS_OF),
        AS_OF,
        default_facts(),
    )
    assert [round(float(cg.later(days).values("crcl_ml_min")[0]), 2) for days in (18, 19)] == [30.11, 29.71]


def _derived(**patient: str) -> dict[str, float]:
    cohort = cohort_from_records([{"patient_id": "p", **patient}])
    return {name: float(d.values[0]) for name, d in derive(cohort, AS_OF, default_facts()).items()}


def test_egfr_switches_from_schwartz_to_ckd_epi_on_the_18th_birthday() -> None:
    child = _derived(birth_date="2008-11-24", sex="M", creatinine_mg_dl="1.0", height_cm="170")
    adult = _derived(birth_date="2008-11-23", sex="M", creatinine_mg_dl="1.0", height_cm="170")
    assert child["egfr_ml_min_1_73m2"] == pytest.approx(0.413 * 170 / 1.0)
    assert adult["egfr_ml_min_1_73m2"] == pytest.approx(
        ckd_epi_2021(np.array([1.0]), np.array([18.0]), np.array([False]))[0]
    )


def test_reported_egfr_and_crcl_win_over_computed() -> None:
    values = _derived(
        birth_date="1980-01-01",
        sex="F",
        creatinine_mg_dl="1.0",
        weight_kg="60",
        egfr_ml_min_1_73m2="44",
        crcl_ml_min="51",
    )
    assert values["egfr_ml_min_1_73m2"] == 44
    assert values["crcl_ml_min"] == 51


def test_crcl_from_creatinine_in_umol_per_litre_header() -> None:
    cohort = cohort_from_records(
        [{"patient_id": "p", "birth_date": "1986-11-23", "sex": "M", "weight_kg": "72", "creatinine[umol/L]": "88.4"}]
    )
    crcl = derive(cohort, AS_OF, default_facts())["crcl_ml_min"].values[0]
    assert crcl == pytest.approx(100.0, rel=1e-3)  # age 40, 72 kg, 1.0 mg/dL


def test_egfr_unknown_names_the_blank_inputs() -> None:
    cohort = cohort_from_records([{"patient_id": "p", "birth_date": "1980-01-01", "sex": "F", "creatinine_mg_dl": ""}])
    egfr = derive(cohort, AS_OF, default_facts())["egfr_ml_min_1_73m2"]
    assert np.isnan(egfr.values[0])
    assert [column for column, mask in egfr.blanks.items() if mask[0]] == ["creatinine_mg_dl"]


@pytest.mark.parametrize(
    ("drug", "dose", "mg_day"),
    [
        ("methylprednisolone", "16", 20.0),
        ("dexamethasone", "1.5", 10.0),
        ("hydrocortisone", "20", 5.0),
        ("prednisolone", "7.5", 7.5),
        ("deflazacort", "6", 5.0),
    ],
)
def test_prednisone_equivalent(drug: str, dose: str, mg_day: float) -> None:
    values = _derived(glucocorticoid=drug, glucocorticoid_mg_day=dose, weight_kg="50")
    assert values["prednisone_equivalent_mg_day"] == pytest.approx(mg_day)
    assert values["prednisone_equivalent_mg_kg_day"] == pytest.approx(mg_day / 50)


@pytest.mark.parametrize(
    ("creatinine", "expected"),
    [(1.0, ("eligible", [], [])), (2.7, ("unknown", [], ["sex"])), (3.0, ("ineligible", ["NCT06920433.incl.16"], []))],
)
def test_crcl_with_sex_blank_is_decided_where_both_sexes_agree(creatinine: float, expected: tuple) -> None:
    """Cockcroft-Gault, 36 years, 60 kg: a man's CrCl is (140-36)*60/(72*Scr), a woman's 0.85 of it.  At Scr 2.7
    a man has 32.1 and a woman 27.3 mL/min, on either side of NCT06920433's 30: only there is the sex asked for.
    The evaluator and the CP-SAT compiler agree (the patient's verdict now, from a what-if plan)."""
    patient = {**NCT06920433_SLE, "sex": None, "crcl_ml_min": None, "creatinine_mg_dl": creatinine}
    assert verdict("NCT06920433", patient) == expected
    model = trial("NCT06920433")
    cohort = cohort_from_records([{**patient, "patient_id": "p1"}])
    assert status_now(Context(cohort, AS_OF, effective_facts(model)), model, 0) == expected[0]


def test_egfr_with_sex_blank_is_decided_where_both_sexes_agree() -> None:
    """CKD-EPI 2021 at creatinine 1.0 mg/dL and 36 years: 73 (woman) or 99 (man), both >= 30 for NCT06056921."""
    patient = {**NCT06056921_SLE, "sex": None, "egfr_ml_min_1_73m2": None, "creatinine_mg_dl": 1.0}
    assert verdict("NCT06056921", patient) == ("eligible", [], [])
    low = {**patient, "creatinine_mg_dl": 2.2}  # 28 (woman) or 38 (man): asked
    assert verdict("NCT06056921", low) == ("unknown", [], ["sex"])


@pytest.mark.parametrize(
    ("age_years", "invalid"), [(70, True), (17, True), (27, True), (28, False), (29, False), (30, True)]
)
def test_age_years_more_than_a_year_from_the_birth_date_is_a_contradiction(age_years: int, invalid: bool) -> None:
    """Review of NCT06983964, rounds 6 and 7: born 1997-04-18 (29 at 2026-11-23) with age_years 70 passed "18 to 65"
    on the birth date alone.  A year below is an extract taken before a birthday; above, or more below, cannot be."""
    patient = {**NCT06920433_SLE, "birth_date": "1997-04-18", "age_years": age_years}
    status, reasons, _ = verdict("NCT06920433", patient)
    assert (status == "invalid") == invalid
    if invalid:
        assert reasons == ["column age_years: not the age birth_date gives at the as-of date"]


def test_the_ir_names_every_value_estimated_with_the_age() -> None:
    """``ir.AGEING`` tells the planner, the prefilter and the loader which fields a birthday moves."""
    from matcher import ir
    from matcher.derived import ESTIMATED_WITH_AGE

    assert {"age", *ESTIMATED_WITH_AGE} == ir.AGEING
