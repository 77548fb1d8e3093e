"""Independent clinical review of NCT06920433 (universal CD19/BCMA CAR-T, refractory SLE with LN III/IV +/- V).

Each case states, beside it, the verdict a clinical reader derives from the published text and why.
As-of date 2026-11-23: 7 days back is 2026-11-16, 3 months 2026-08-23, 6 months 2026-05-23, 5 years 2021-11-23.
Washouts are 5 half-lives rounded up to whole days: belimumab 5 x 19.8 = 99, telitacicept 5 x 12.5 = 63,
rituximab 5 x 22 = 110, obinutuzumab 5 x 28.4 = 142 (an unnamed anti-CD20 is decided only outside 110-142),
abatacept 5 x 14 = 70, cyclophosphamide 5 x 0.5 = 3, a stopped conventional immunosuppressant by its own
name (mycophenolate 5 x 0.75 -> 4, leflunomide 5 x 19 = 95; unnamed: decided only outside 2-95).
"""

from __future__ import annotations

import pytest
from trialkit import manual_checks, verdict, with_changes

T = "NCT06920433"
ELIGIBLE = ("eligible", [], [])


def fails(*criteria: str) -> tuple[str, list[str], list[str]]:
    """The verdict of a patient known to fail exactly these criteria (ids without the trial prefix)."""
    return "ineligible", [f"{T}.{c}" for c in criteria], []


def unknown(*columns: str) -> tuple[str, list[str], list[str]]:
    return "unknown", [], list(columns)


# Mr H., 41, class III+V lupus nephritis on a biopsy 4 months ago (AI 8, CI 2), UPCR 2.4 g/g, still active
# after conventional therapy since 2024. Mycophenolate stopped 2026-06-01 (175 days), belimumab last
# 2025-12-10. CrCl by Cockcroft-Gault: (140 - 41) x 70 / (72 x 1.3) = 74 mL/min.
MAN = {
    "birth_date": "1985-08-12",
    "sex": "M",
    "weight_kg": 70,
    "creatinine_mg_dl": 1.3,
    "contraception_agreed": "true",
    "consent_signed": "true",
    "diagnosis": "SLE",
    "classification_criteria_met": "true",
    "lupus_nephritis_class": "III+V",
    "renal_biopsy_date": "2026-07-15",
    "ln_activity_index": 8,
    "ln_chronicity_index": 2,
    "treatment_failure": "true",
    "relapse_after_remission": "false",
    "standard_therapy_start_date": "2024-02-01",
    "sledai_2k": 14,
    "upcr_g_g": 2.4,
    "cd19_b_cells_detected": "true",
    "anc_10e9_l": 2.1,
    "hemoglobin_g_l": 98,
    "platelets_10e9_l": 180,
    "alt_x_uln": 0.8,
    "ast_x_uln": 0.9,
    "bilirubin_x_uln": 0.5,
    "ecog": 1,
    "nyha_class": 1,
    "severe_drug_allergy": "false",
    "active_infection": "false",
    "cns_disease": "false",
    "congenital_immunodeficiency": "false",
    "malignancy_type": "none",
    "end_stage_renal_disease": "false",
    "hbsag_positive": "false",
    "hbcab_positive": "false",
    "hcv_ab_positive": "false",
    "hiv_positive": "false",
    "tb_active": "false",
    "cardiac_event_date": "never",
    "cns_event_date": "never",
    "lvef_pct": 60,
    "psychiatric_disorder": "false",
    "other_trial_date": "never",
    "immunosuppressant": "none",
    "immunosuppressant_start_date": "never",
    "immunosuppressant_last_dose": "2026-06-01",
    "stopped_immunosuppressant": "mycophenolate",
    "cyclophosphamide_last_dose": "never",
    "belimumab_last_dose": "2025-12-10",
    "telitacicept_last_dose": "never",
    "anti_cd20_last_dose": "never",
    "other_b_cell_depletion_last_dose": "never",
    "anifrolumab_last_dose": "never",
    "tocilizumab_last_dose": "never",
    "other_biologic_last_dose": "never",
    "antimalarial_start_date": "2023-05-01",
}

# Ms R., 33, fertile, not breastfeeding, negative serum hCG 4 days ago, class IV nephritis, relapsed after a
# remission on therapy started 3 months ago. CrCl from the reported value.
WOMAN = with_changes(
    MAN,
    birth_date="1993-02-03",
    sex="F",
    weight_kg=58,
    creatinine_mg_dl=None,
    crcl_ml_min=85,
    childbearing_potential="true",
    pregnancy_test_negative_date="2026-11-19",
    pregnancy_test_type="serum",
    breastfeeding="false",
    pregnant="false",
    planning_pregnancy="false",
    lupus_nephritis_class="IV",
    treatment_failure="false",
    relapse_after_remission="true",
    standard_therapy_start_date="2026-08-20",
)

VIGNETTES = [
    ("man", MAN, ELIGIBLE),  # every requirement met
    ("woman", WOMAN, ELIGIBLE),  # relapse after remission needs no 6-month course ("or disease activity reappears")
    ("age_17", with_changes(MAN, birth_date="2008-11-24"), fails("incl.1")),  # 18th birthday tomorrow
    # --- renal biopsy within 6 months, class III or IV with or without V
    ("biopsy_exactly_6_months_ago", with_changes(MAN, renal_biopsy_date="2026-05-23"), fails("incl.3")),
    ("biopsy_6_months_less_a_day", with_changes(MAN, renal_biopsy_date="2026-05-24"), ELIGIBLE),
    ("biopsy_2025", with_changes(MAN, renal_biopsy_date="2025-10-01"), fails("incl.3")),  # too old
    ("biopsy_date_unknown", with_changes(MAN, renal_biopsy_date=None), unknown("renal_biopsy_date")),
    ("pure_class_v", with_changes(MAN, lupus_nephritis_class="V"), fails("incl.3")),  # V only "with" III/IV
    ("class_iv_plus_v", with_changes(MAN, lupus_nephritis_class="IV+V"), ELIGIBLE),
    ("class_ii", with_changes(MAN, lupus_nephritis_class="II"), fails("incl.3")),  # mesangial: not III/IV
    # --- activity index "> 2" is strict; proteinuria UPCR > 1.0 g/g or 24 h protein > 0.5 g
    ("activity_index_2", with_changes(MAN, ln_activity_index=2), fails("incl.6")),
    ("activity_index_3", with_changes(MAN, ln_activity_index=3), ELIGIBLE),
    # UPCR 113.12 mg/mmol = 1.0 g/g is not > 1.0 and 24 h protein 0.5 g is not > 0.5: fails
    (
        "proteinuria_at_both_limits",
        {**{k: v for k, v in MAN.items() if k != "upcr_g_g"}, "upcr[mg/mmol]": 113.12, "urine_protein_24h_g": 0.5},
        fails("incl.8"),
    ),
    # UPCR below 1 g/g but 24 h protein 0.7 g: either measure suffices
    ("upcr_low_24h_high", with_changes(MAN, upcr_g_g=0.8, urine_protein_24h_g=0.7), ELIGIBLE),
    # UPCR exactly 1.0 and no 24 h collection: the collection would decide
    ("upcr_1_0_no_24h", with_changes(MAN, upcr_g_g=1.0), unknown("urine_protein_24h_g")),
    # --- refractory: ineffective "for more than 6 months"
    ("failure_exactly_6_months", with_changes(MAN, standard_therapy_start_date="2026-05-23"), fails("incl.4")),
    ("failure_6_months_and_a_day", with_changes(MAN, standard_therapy_start_date="2026-05-22"), ELIGIBLE),
    # --- organ function
    # Cockcroft-Gault: creatinine 2.8 gives 99 x 70 / (72 x 2.8) = 34.4 (>= 30); 3.3 gives 29.2 (< 30)
    ("crcl_34", with_changes(MAN, creatinine_mg_dl=2.8), ELIGIBLE),
    ("crcl_29", with_changes(MAN, creatinine_mg_dl=3.3), fails("incl.16")),
    # a woman's Cockcroft-Gault takes x 0.85: 107 x 58 / (72 x 2.4) x 0.85 = 30.5 (>= 30)
    ("woman_crcl_30_5", with_changes(WOMAN, crcl_ml_min=None, creatinine_mg_dl=2.4), ELIGIBLE),
    # bilirubin 2.8 x ULN passes only with Gilbert syndrome (limit 3.0 x ULN); unknown Gilbert status decides
    ("bilirubin_2_8_gilbert", with_changes(MAN, bilirubin_x_uln=2.8, gilbert_syndrome="true"), ELIGIBLE),
    ("bilirubin_2_8_no_gilbert", with_changes(MAN, bilirubin_x_uln=2.8, gilbert_syndrome="false"), fails("incl.15")),
    ("bilirubin_2_8_gilbert_unknown", with_changes(MAN, bilirubin_x_uln=2.8), unknown("gilbert_syndrome")),
    # ANC 500/mm3 = 0.5 x 10^9/L passes (inclusive); 400/mm3 = 0.4 fails
    ("anc_500_per_mm3", {**{k: v for k, v in MAN.items() if k != "anc_10e9_l"}, "anc[/mm3]": 500}, ELIGIBLE),
    ("anc_400_per_mm3", {**{k: v for k, v in MAN.items() if k != "anc_10e9_l"}, "anc[/mm3]": 400}, fails("incl.10")),
    ("platelets_20", with_changes(MAN, platelets_10e9_l=20), ELIGIBLE),  # >= 20 x 10^9/L
    ("platelets_19", with_changes(MAN, platelets_10e9_l=19), fails("incl.12")),
    # BCMA+ cells suffice ("CD19 or BCMA"); neither detected fails
    ("bcma_only", with_changes(MAN, cd19_b_cells_detected="false", bcma_detected="true"), ELIGIBLE),
    ("no_target", with_changes(MAN, cd19_b_cells_detected="false", bcma_detected="false"), fails("incl.9")),
    # --- reproduction
    ("hcg_6_days_old", with_changes(WOMAN, pregnancy_test_negative_date="2026-11-17"), ELIGIBLE),  # within 7 days
    ("hcg_7_days_old", with_changes(WOMAN, pregnancy_test_negative_date="2026-11-16"), fails("incl.19")),
    # breastfeeding after a postpartum tubal ligation (not of childbearing potential): "not be lactating" still
    # excludes her, the infant's exposure does not depend on fertility (reviewer fix)
    (
        "breastfeeding_after_tubal_ligation",
        with_changes(WOMAN, childbearing_potential="false", breastfeeding="true", pregnancy_test_negative_date=None),
        fails("incl.20"),
    ),
    # a positive test excludes even where the record says "not of childbearing potential" (reviewer fix)
    (
        "pregnant_despite_flag",
        with_changes(WOMAN, childbearing_potential="false", pregnant="true", pregnancy_test_negative_date=None),
        fails("excl.15"),
    ),
    ("planning_pregnancy", with_changes(WOMAN, planning_pregnancy="true"), fails("excl.15")),
    # the text obliges only men whose partner can conceive, which no column records: a manual question
    # (test_man_without_agreement_is_asked), not a data failure (reviewer fix; was fails("incl.18"))
    ("man_refuses_contraception", with_changes(MAN, contraception_agreed="false"), ELIGIBLE),
    ("woman_refuses_contraception", with_changes(WOMAN, contraception_agreed="false"), fails("incl.18.female")),
    # fertility not recorded, but a negative test 4 days ago and not breastfeeding: eligible either way
    ("woman_fertility_unknown", with_changes(WOMAN, childbearing_potential=None), ELIGIBLE),
    # --- washouts: "within five half-life before enrollment"
    # rituximab named: its own 110 days (was pinned at the class maximum, 142 days, before anti_cd20_drug)
    (
        "rituximab_109_days",
        with_changes(MAN, anti_cd20_drug="rituximab", anti_cd20_last_dose="2026-08-06"),
        fails("excl.14"),
    ),
    ("rituximab_110_days", with_changes(MAN, anti_cd20_drug="rituximab", anti_cd20_last_dose="2026-08-05"), ELIGIBLE),
    ("rituximab_141_days", with_changes(MAN, anti_cd20_drug="rituximab", anti_cd20_last_dose="2026-07-05"), ELIGIBLE),
    # antibody not recorded: 141 days washes out rituximab but not obinutuzumab
    ("anti_cd20_unnamed_141_days", with_changes(MAN, anti_cd20_last_dose="2026-07-05"), unknown("anti_cd20_drug")),
    ("anti_cd20_unnamed_142_days", with_changes(MAN, anti_cd20_last_dose="2026-07-04"), ELIGIBLE),
    ("belimumab_98_days", with_changes(MAN, belimumab_last_dose="2026-08-17"), fails("excl.14")),
    ("belimumab_99_days", with_changes(MAN, belimumab_last_dose="2026-08-16"), ELIGIBLE),
    ("telitacicept_63_days", with_changes(MAN, telitacicept_last_dose="2026-09-21"), ELIGIBLE),
    ("cyclophosphamide_2_days", with_changes(MAN, cyclophosphamide_last_dose="2026-11-21"), fails("excl.14")),
    ("cyclophosphamide_3_days", with_changes(MAN, cyclophosphamide_last_dose="2026-11-20"), ELIGIBLE),
    # still taking tacrolimus: its last dose is today, within any washout
    ("on_tacrolimus", with_changes(MAN, immunosuppressant="tacrolimus"), fails("excl.14")),
    # mycophenolate stopped 94 days ago: its own washout is 4 days (was pinned at leflunomide's 95 days)
    ("mycophenolate_94_days", with_changes(MAN, immunosuppressant_last_dose="2026-08-21"), ELIGIBLE),
    ("mycophenolate_4_days", with_changes(MAN, immunosuppressant_last_dose="2026-11-19"), ELIGIBLE),
    ("mycophenolate_3_days", with_changes(MAN, immunosuppressant_last_dose="2026-11-20"), fails("excl.14")),
    # the stopped drug not recorded: 94 days could be leflunomide (95 days): record its name
    (
        "unnamed_immunosuppressant_94_days",
        with_changes(MAN, immunosuppressant_last_dose="2026-08-21", stopped_immunosuppressant=None),
        unknown("stopped_immunosuppressant"),
    ),
    (
        "unnamed_immunosuppressant_95_days",
        with_changes(MAN, immunosuppressant_last_dose="2026-08-20", stopped_immunosuppressant=None),
        ELIGIBLE,
    ),
    (
        "leflunomide_94_days",
        with_changes(MAN, immunosuppressant_last_dose="2026-08-21", stopped_immunosuppressant="leflunomide"),
        fails("excl.14"),
    ),
    # not on an immunosuppressant per its start date, drug column blank
    ("no_current_immunosuppressant_by_date", with_changes(MAN, immunosuppressant=None), ELIGIBLE),
    # --- cardiac function: NYHA III-IV on data
    ("nyha_2", with_changes(MAN, nyha_class=2), ELIGIBLE),
    ("nyha_3", with_changes(MAN, nyha_class=3), fails("excl.5")),
    (
        "obinutuzumab_141_days",
        with_changes(MAN, other_biologic="obinutuzumab", other_biologic_last_dose="2026-07-05"),
        fails("excl.14"),
    ),
    (
        "abatacept_70_days",
        with_changes(MAN, other_biologic="abatacept", other_biologic_last_dose="2026-09-14"),
        ELIGIBLE,
    ),
    # anifrolumab history not recorded: blank is not "never"
    ("anifrolumab_unknown", with_changes(MAN, anifrolumab_last_dose=None), unknown("anifrolumab_last_dose")),
    # --- malignancy "within five years": no type is exempted
    (
        "basal_cell_2023",
        with_changes(MAN, malignancy_type="basal_cell_skin", malignancy_status="cured", malignancy_date="2023-03-01"),
        fails("excl.7"),
    ),
    # colon cancer last treated exactly 5 years ago and cured: not within five years
    (
        "colon_cancer_exactly_5_years",
        with_changes(MAN, malignancy_type="other", malignancy_status="cured", malignancy_date="2021-11-23"),
        ELIGIBLE,
    ),
    # a cancer diagnosed in 2010 and still active is a current malignancy: excluded
    (
        "active_old_cancer",
        with_changes(MAN, malignancy_type="other", malignancy_status="active", malignancy_date="2010-06-01"),
        fails("excl.7"),
    ),
    # a 2015 cancer whose status is not recorded: it might still be active
    (
        "old_cancer_status_unknown",
        with_changes(MAN, malignancy_type="other", malignancy_date="2015-06-01"),
        unknown("malignancy_status"),
    ),
    # --- other exclusions
    ("epilepsy", with_changes(MAN, cns_disease="true"), fails("excl.4")),  # CNS disease of any cause
    # (review round 4: a detectable HBV DNA is also a viral infection needing treatment, excl.3)
    ("hbsag_viraemic", with_changes(MAN, hbsag_positive="true", hbv_dna_detectable="true"), fails("excl.3", "excl.9")),
    ("hcv_rna_pending", with_changes(MAN, hcv_ab_positive="true"), unknown("hcv_rna_detectable")),
    ("esrd", with_changes(MAN, end_stage_renal_disease="true"), fails("excl.8")),
    ("severe_drug_allergy", with_changes(MAN, severe_drug_allergy="true"), fails("excl.1")),
]


@pytest.mark.parametrize("patient, expected", [(p, e) for _, p, e in VIGNETTES], ids=[n for n, _, _ in VIGNETTES])
def test_vignette(patient, expected):
    assert verdict(T, patient) == expected


def test_man_without_agreement_is_asked():
    man = with_changes(MAN, contraception_agreed="false")
    assert f"{T}.incl.18.male" in manual_checks(T, man)
    assert f"{T}.incl.18.male" not in manual_checks(T, MAN)  # agreement recorded
    assert f"{T}.incl.18.male" not in manual_checks(T, with_changes(WOMAN, contraception_agreed="false"))


def test_low_crcl_asks_about_an_acute_lupus_decline():
    assert f"{T}.incl.16.disease_cause" in manual_checks(T, with_changes(MAN, creatinine_mg_dl=3.3))  # CrCl 29.2
    assert f"{T}.incl.16.disease_cause" not in manual_checks(T, with_changes(MAN, creatinine_mg_dl=2.8))  # 34.4
