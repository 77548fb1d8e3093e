"""NCT06920433: universal CD19/BCMA CAR-T in relapsed/refractory SLE with lupus nephritis (III/IV +/- V).

AS_OF is 2026-11-23. Window cut-offs used below:
6 months -> biopsy after 2026-05-23; "more than 6 months" of therapy -> started on or before 2026-05-22;
7 days -> pregnancy test after 2026-11-16; 3 months -> other trial after 2026-08-23;
5 years -> malignancy after 2021-11-23. Washouts are ceil(5 x half-life) whole days.
"""

import pytest
from trialkit import verdict, with_changes

TRIAL = "NCT06920433"
INCL = f"{TRIAL}.incl."
E = f"{TRIAL}.excl."

ELIGIBLE_SLE = {
    # demographics / reproduction
    "birth_date": "1990-05-10",
    "sex": "F",
    "weight_kg": "60",
    "childbearing_potential": "true",
    "contraception_agreed": "yes",
    "pregnancy_test_negative_date": "2026-11-20",
    "pregnancy_test_type": "serum",
    "breastfeeding": "false",
    "pregnant": "false",
    "planning_pregnancy": "false",
    "consent_signed": "true",
    # disease
    "diagnosis": "SLE",
    "classification_criteria_met": "true",
    "lupus_nephritis_class": "IV",
    "renal_biopsy_date": "2026-09-01",
    "treatment_failure": "true",
    "relapse_after_remission": "false",
    "standard_therapy_start_date": "2025-01-10",
    "sledai_2k": "12",
    "ln_activity_index": "6",
    "ln_chronicity_index": "2",
    "upcr_g_g": "2.1",
    "urine_protein_24h_g": "",
    "cd19_b_cells_detected": "true",
    "bcma_detected": "",
    # organ function
    "anc_10e9_l": "2.0",
    "hemoglobin_g_l": "105",
    "platelets_10e9_l": "150",
    "alt_x_uln": "1.0",
    "ast_x_uln": "1.0",
    "bilirubin_x_uln": "0.6",
    "gilbert_syndrome": "",
    "crcl_ml_min": "80",
    "ecog": "1",
    # exclusions
    "severe_drug_allergy": "false",
    "active_infection": "false",
    "cns_disease": "false",
    "congenital_immunodeficiency": "false",
    "malignancy_type": "none",
    "end_stage_renal_disease": "false",
    "hbsag_positive": "false",
    "hbcab_positive": "false",
    "hbv_dna_detectable": "",
    "hcv_ab_positive": "false",
    "hcv_rna_detectable": "",
    "hiv_positive": "false",
    "psychiatric_disorder": "false",
    "other_trial_date": "never",
    "immunosuppressant": "none",
    "immunosuppressant_last_dose": "2026-06-01",
    "cyclophosphamide_last_dose": "never",
    "belimumab_last_dose": "never",
    "telitacicept_last_dose": "never",
    "anti_cd20_last_dose": "2025-12-01",
    "other_b_cell_depletion_last_dose": "never",
    "anifrolumab_last_dose": "never",
    "tocilizumab_last_dose": "never",
    "other_biologic_last_dose": "never",
    "other_biologic": "",
}

ELIGIBLE = ("eligible", [], [])


def test_eligible_sle():
    assert verdict(TRIAL, ELIGIBLE_SLE) == ELIGIBLE


def test_eligible_man_without_reproductive_columns():
    man = with_changes(
        ELIGIBLE_SLE,
        sex="M",
        childbearing_potential="",
        pregnancy_test_negative_date="",
        pregnancy_test_type="",
        breastfeeding="",
        pregnant="",
        planning_pregnancy="",
    )
    assert verdict(TRIAL, man) == ELIGIBLE


def test_woman_not_of_childbearing_potential_needs_no_test_nor_contraception():
    woman = with_changes(
        ELIGIBLE_SLE,
        childbearing_potential="false",
        contraception_agreed="false",
        pregnancy_test_negative_date="",
        pregnancy_test_type="",
        breastfeeding="",
        pregnant="",
        planning_pregnancy="",
    )
    assert verdict(TRIAL, woman) == ELIGIBLE


# Values that still pass, at or next to each stated boundary.
PASSING = [
    {"birth_date": "2008-11-23"},  # 18th birthday on the as-of date
    {"lupus_nephritis_class": "III"},
    {"lupus_nephritis_class": "III+V"},
    {"lupus_nephritis_class": "iv+v"},
    {"renal_biopsy_date": "2026-05-24"},
    {"standard_therapy_start_date": "2026-05-22"},  # 6 months and 1 day
    {"treatment_failure": "false", "relapse_after_remission": "true", "standard_therapy_start_date": "2026-10-01"},
    {"treatment_failure": "", "relapse_after_remission": "true"},
    {"sledai_2k": "8"},
    {"ln_activity_index": "3"},
    {"upcr_g_g": "1.01"},
    {"upcr_g_g": "0.4", "urine_protein_24h_g": "0.51"},
    {"upcr_g_g": "", "urine_protein_24h_g": "0.6"},
    {"cd19_b_cells_detected": "false", "bcma_detected": "true"},
    {"anc_10e9_l": "0.5"},
    {"hemoglobin_g_l": "60"},
    {"platelets_10e9_l": "20"},
    {"alt_x_uln": "3"},
    {"ast_x_uln": "3"},
    {"bilirubin_x_uln": "2.0", "gilbert_syndrome": ""},
    {"bilirubin_x_uln": "2.5", "gilbert_syndrome": "true"},
    {"bilirubin_x_uln": "3.0", "gilbert_syndrome": "true"},
    {"crcl_ml_min": "30"},
    # Cockcroft-Gault: (140-36) x 60 / (72 x 2.4) x 0.85 = 30.7 mL/min
    {"crcl_ml_min": "", "creatinine_mg_dl": "2.4"},
    {"ecog": "0"},
    {"pregnancy_test_negative_date": "2026-11-17", "pregnancy_test_type": "urine"},  # 6 days ago
    {"malignancy_type": "basal_cell_skin", "malignancy_date": "2021-11-23", "malignancy_status": "cured"},
    {"hbsag_positive": "false", "hbcab_positive": "true", "hbv_dna_detectable": "false"},
    {"hbcab_positive": "", "hbv_dna_detectable": "false"},  # undetectable DNA decides alone
    {"malignancy_type": "", "malignancy_date": "2010-01-01", "malignancy_status": "cured"},  # old and cured
    {"hcv_ab_positive": "true", "hcv_rna_detectable": "false"},
    {"other_trial_date": "2026-08-23"},
    # washouts: exactly ceil(5 x half-life) days since the last dose
    {"immunosuppressant_last_dose": "2026-08-20"},  # 95 d (class max, leflunomide 19 d)
    {"immunosuppressant_last_dose": "never"},
    {"cyclophosphamide_last_dose": "2026-11-20"},  # 3 d = ceil(2.5)
    {"belimumab_last_dose": "2026-08-16"},  # 99 d
    {"telitacicept_last_dose": "2026-09-21"},  # 63 d = ceil(62.5)
    {"anti_cd20_last_dose": "2026-07-04"},  # 142 d
    {"other_b_cell_depletion_last_dose": "2026-07-04"},  # 142 d
    {"anifrolumab_last_dose": "2026-08-03"},  # 112 d
    {"tocilizumab_last_dose": "2026-09-19"},  # 65 d
    {"other_biologic_last_dose": "2026-09-14", "other_biologic": "abatacept"},  # 70 d
    {"other_biologic_last_dose": "never", "other_biologic": ""},
]


@pytest.mark.parametrize("changes", PASSING)
def test_boundary_passes(changes):
    assert verdict(TRIAL, with_changes(ELIGIBLE_SLE, **changes)) == ELIGIBLE


# Each patient fails exactly one criterion.
FAILING = [
    ({"birth_date": "2008-11-24"}, INCL + "1"),  # turns 18 tomorrow
    ({"diagnosis": "SS"}, INCL + "2"),
    ({"classification_criteria_met": "false"}, INCL + "2"),
    ({"lupus_nephritis_class": "V"}, INCL + "3"),
    ({"lupus_nephritis_class": "II"}, INCL + "3"),
    ({"lupus_nephritis_class": "none"}, INCL + "3"),
    ({"renal_biopsy_date": "2026-05-23"}, INCL + "3"),  # exactly 6 months ago
    ({"standard_therapy_start_date": "2026-05-23"}, INCL + "4"),  # exactly 6 months: not "more than"
    ({"standard_therapy_start_date": "never"}, INCL + "4"),
    ({"treatment_failure": "false"}, INCL + "4"),
    ({"sledai_2k": "7"}, INCL + "5"),
    ({"ln_activity_index": "2"}, INCL + "6"),
    ({"upcr_g_g": "1.0", "urine_protein_24h_g": "0.5"}, INCL + "8"),
    ({"cd19_b_cells_detected": "false", "bcma_detected": "false"}, INCL + "9"),
    ({"anc_10e9_l": "0.49"}, INCL + "10"),
    ({"hemoglobin_g_l": "59.9"}, INCL + "11"),
    ({"platelets_10e9_l": "19.9"}, INCL + "12"),
    ({"alt_x_uln": "3.01"}, INCL + "13"),
    ({"ast_x_uln": "3.01"}, INCL + "14"),
    ({"bilirubin_x_uln": "2.01", "gilbert_syndrome": "false"}, INCL + "15"),
    ({"bilirubin_x_uln": "3.01", "gilbert_syndrome": "true"}, INCL + "15"),
    ({"crcl_ml_min": "29.9"}, INCL + "16"),
    # Cockcroft-Gault: (140-36) x 60 / (72 x 2.5) x 0.85 = 29.5 mL/min
    ({"crcl_ml_min": "", "creatinine_mg_dl": "2.5"}, INCL + "16"),
    ({"ecog": "2"}, INCL + "17"),
    ({"contraception_agreed": "false"}, INCL + "18"),
    ({"sex": "M", "childbearing_potential": "", "contraception_agreed": "no"}, INCL + "18"),
    ({"pregnancy_test_negative_date": "2026-11-16"}, INCL + "19"),  # exactly 7 days ago
    ({"breastfeeding": "true"}, INCL + "20"),
    ({"consent_signed": "false"}, INCL + "21"),
    ({"severe_drug_allergy": "true"}, E + "1"),
    ({"active_infection": "true"}, E + "3"),
    ({"cns_disease": "true"}, E + "4"),
    ({"congenital_immunodeficiency": "true"}, E + "6"),
    ({"malignancy_type": "basal_cell_skin", "malignancy_date": "2021-11-24", "malignancy_status": "cured"}, E + "7"),
    ({"malignancy_type": "other", "malignancy_date": "2015-01-01", "malignancy_status": "active"}, E + "7"),
    ({"end_stage_renal_disease": "true"}, E + "8"),
    ({"hbsag_positive": "true", "hbv_dna_detectable": "true"}, E + "9"),
    ({"hbcab_positive": "true", "hbv_dna_detectable": "true"}, E + "9"),
    ({"hcv_ab_positive": "true", "hcv_rna_detectable": "true"}, E + "10"),
    ({"hiv_positive": "true"}, E + "11"),
    ({"psychiatric_disorder": "true"}, E + "12"),
    ({"other_trial_date": "2026-08-24"}, E + "13"),
    ({"immunosuppressant": "mycophenolate"}, E + "14"),
    ({"immunosuppressant_last_dose": "2026-08-21"}, E + "14"),  # 94 d < 95
    ({"cyclophosphamide_last_dose": "2026-11-21"}, E + "14"),  # 2 d < 3
    ({"belimumab_last_dose": "2026-08-17"}, E + "14"),  # 98 d < 99
    ({"telitacicept_last_dose": "2026-09-22"}, E + "14"),  # 62 d < 63
    ({"anti_cd20_last_dose": "2026-07-05"}, E + "14"),  # 141 d < 142
    ({"other_b_cell_depletion_last_dose": "2026-07-05"}, E + "14"),
    ({"anifrolumab_last_dose": "2026-08-04"}, E + "14"),  # 111 d < 112
    ({"tocilizumab_last_dose": "2026-09-20"}, E + "14"),  # 64 d < 65
    ({"other_biologic_last_dose": "2026-09-15", "other_biologic": "abatacept"}, E + "14"),  # 69 d < 70
    ({"pregnant": "true"}, E + "15"),
    ({"planning_pregnancy": "true"}, E + "15"),
]


@pytest.mark.parametrize("changes, failed", FAILING)
def test_fails_only_one_criterion(changes, failed):
    status, failed_ids, _ = verdict(TRIAL, with_changes(ELIGIBLE_SLE, **changes))
    assert (status, failed_ids) == ("ineligible", [failed])


# A blank required value leaves the verdict unknown and names the column to measure.
UNKNOWN = [
    ({"birth_date": ""}, ["birth_date"]),
    ({"diagnosis": ""}, ["diagnosis"]),
    ({"classification_criteria_met": ""}, ["classification_criteria_met"]),
    ({"lupus_nephritis_class": ""}, ["lupus_nephritis_class"]),
    ({"renal_biopsy_date": ""}, ["renal_biopsy_date"]),
    (
        {"standard_therapy_start_date": "", "relapse_after_remission": ""},
        ["relapse_after_remission", "standard_therapy_start_date"],
    ),
    ({"treatment_failure": "", "relapse_after_remission": "false"}, ["treatment_failure"]),
    ({"sledai_2k": ""}, ["sledai_2k"]),
    ({"ln_activity_index": ""}, ["ln_activity_index"]),
    ({"upcr_g_g": "0.8", "urine_protein_24h_g": ""}, ["urine_protein_24h_g"]),
    ({"upcr_g_g": "", "urine_protein_24h_g": ""}, ["upcr_g_g", "urine_protein_24h_g"]),
    ({"upcr_g_g": "", "urine_protein_24h_g": "0.5"}, ["upcr_g_g"]),
    ({"cd19_b_cells_detected": "", "bcma_detected": ""}, ["bcma_detected", "cd19_b_cells_detected"]),
    ({"anc_10e9_l": ""}, ["anc_10e9_l"]),
    ({"hemoglobin_g_l": ""}, ["hemoglobin_g_l"]),
    ({"platelets_10e9_l": ""}, ["platelets_10e9_l"]),
    ({"alt_x_uln": ""}, ["alt_x_uln"]),
    ({"ast_x_uln": ""}, ["ast_x_uln"]),
    # the Gilbert branch is listed too: a value between 2 and 3 x ULN would need it
    ({"bilirubin_x_uln": ""}, ["bilirubin_x_uln", "gilbert_syndrome"]),
    ({"bilirubin_x_uln": "2.5", "gilbert_syndrome": ""}, ["gilbert_syndrome"]),
    ({"crcl_ml_min": ""}, ["creatinine_mg_dl"]),
    ({"crcl_ml_min": "", "creatinine_mg_dl": "1.0", "weight_kg": ""}, ["weight_kg"]),
    ({"ecog": ""}, ["ecog"]),
    ({"childbearing_potential": ""}, ["childbearing_potential"]),
    ({"sex": "M", "childbearing_potential": "", "contraception_agreed": ""}, ["contraception_agreed"]),
    ({"pregnancy_test_negative_date": ""}, ["pregnancy_test_negative_date"]),
    ({"breastfeeding": ""}, ["breastfeeding"]),
    ({"consent_signed": ""}, ["consent_signed"]),
    ({"severe_drug_allergy": ""}, ["severe_drug_allergy"]),
    ({"active_infection": ""}, ["active_infection"]),
    ({"cns_disease": ""}, ["cns_disease"]),
    ({"congenital_immunodeficiency": ""}, ["congenital_immunodeficiency"]),
    # with no malignancy details at all, a type other than `none` would also need its date and status
    ({"malignancy_type": ""}, ["malignancy_date", "malignancy_status", "malignancy_type"]),
    ({"malignancy_type": "other", "malignancy_status": "cured", "malignancy_date": ""}, ["malignancy_date"]),
    ({"end_stage_renal_disease": ""}, ["end_stage_renal_disease"]),
    ({"hbsag_positive": "true", "hbv_dna_detectable": ""}, ["hbv_dna_detectable"]),
    ({"hbcab_positive": ""}, ["hbcab_positive", "hbv_dna_detectable"]),
    ({"hcv_ab_positive": "true", "hcv_rna_detectable": ""}, ["hcv_rna_detectable"]),
    ({"hiv_positive": ""}, ["hiv_positive"]),
    ({"psychiatric_disorder": ""}, ["psychiatric_disorder"]),
    ({"other_trial_date": ""}, ["other_trial_date"]),
    ({"immunosuppressant": ""}, ["immunosuppressant"]),
    ({"immunosuppressant_last_dose": ""}, ["immunosuppressant_last_dose"]),
    ({"belimumab_last_dose": ""}, ["belimumab_last_dose"]),
    ({"cyclophosphamide_last_dose": ""}, ["cyclophosphamide_last_dose"]),
    ({"other_biologic_last_dose": "2026-01-01", "other_biologic": ""}, ["other_biologic"]),
    ({"pregnant": ""}, ["pregnant"]),
    ({"planning_pregnancy": ""}, ["planning_pregnancy"]),
]


@pytest.mark.parametrize("changes, missing", UNKNOWN)
def test_blank_is_unknown(changes, missing):
    assert verdict(TRIAL, with_changes(ELIGIBLE_SLE, **changes)) == ("unknown", [], missing)


def test_blank_versus_never_washout():
    # `never` means never given (washed out); blank means unknown.
    assert verdict(TRIAL, with_changes(ELIGIBLE_SLE, tocilizumab_last_dose="never")) == ELIGIBLE
    assert verdict(TRIAL, with_changes(ELIGIBLE_SLE, tocilizumab_last_dose="")) == (
        "unknown",
        [],
        ["tocilizumab_last_dose"],
    )


def test_washout_uses_named_other_biologic_half_life():
    # A biologic with no known half-life cannot be judged: unknown, naming the drug column to check
    # (its name must be one with a half-life in the facts, or the facts must gain it).
    patient = with_changes(ELIGIBLE_SLE, other_biologic_last_dose="2026-01-01", other_biologic="unlisted_mab")
    assert verdict(TRIAL, patient) == ("unknown", [], ["other_biologic"])
    # abatacept (14 d) 326 days ago is long washed out
    assert verdict(TRIAL, with_changes(patient, other_biologic="Abatacept")) == ELIGIBLE


def test_manual_checks_never_change_the_verdict():
    # Chronicity index, compliance, allergic tendency, cardiac function and investigator judgement
    # are manual: even a chronicity index of 0 leaves the patient eligible.
    assert verdict(TRIAL, with_changes(ELIGIBLE_SLE, ln_chronicity_index="0")) == ELIGIBLE


def test_model_covers_the_published_text():
    from matcher.coverage import coverage_problems
    from matcher.trials import load_trial_file, models_dir

    trial = load_trial_file(models_dir() / f"{TRIAL}.yaml")
    assert coverage_problems(trial) == []
    manual = {c.id for c in trial.criteria if c.is_manual}
    assert manual == {INCL + "7", INCL + "22", E + "2", E + "5", E + "16"}
