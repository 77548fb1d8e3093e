"""NCT06222853: anti-CD19 CAR-T in pediatric refractory SLE (Zhejiang University). As-of date 2026-11-23."""

import pytest
from trialkit import manual_checks, verdict, with_changes

from matcher.trials import load_trial_file, models_dir

T = "NCT06222853"
INCL = T + ".incl."
E = T + ".excl."

# A 12-year-old girl of childbearing potential with refractory lupus nephritis class IV and steroid dependence.
ELIGIBLE_SLE = {
    "birth_date": "2014-05-10",
    "sex": "F",
    "weight_kg": 40,
    "height_cm": 150,
    "childbearing_potential": "true",
    "pregnant": "false",
    "pregnancy_test_negative_date": "2026-11-20",
    "pregnancy_test_type": "urine",
    "contraception_agreed": "true",
    "consent_signed": "true",
    "diagnosis": "SLE",
    "classification_criteria_met": "true",
    "sledai_2k": 12,
    "standard_therapy_start_date": "2025-01-10",
    "treatment_failure": "true",
    "conventional_intolerant": "false",
    "high_dose_gc_received": "true",
    "antimalarial_start_date": "2025-01-10",
    "hydroxychloroquine_ever": "true",
    "dmards_failed": 2,
    "lupus_nephritis_class": "IV",
    "ln_chronicity_index": 3,
    "cns_disease": "false",
    "lupus_crisis_date": "never",
    "refractory_cytopenia": "false",
    "gc_taper_failed": "true",
    "lvef_pct": 60,
    "ecg_abnormal": "false",
    "egfr_ml_min_1_73m2": 90,
    "end_stage_renal_disease": "false",
    "ast_x_uln": 1.0,
    "alt_x_uln": 1.0,
    "bilirubin_x_uln": 0.8,
    "severe_lung_disease": "false",
    "spo2_pct": 98,
    "apheresis_suitable": "true",
    "prior_car_t": "false",
    "cns_event_date": "never",
    "dialysis_date": "never",
    "severe_heart_disease": "false",
    "cardiac_event_date": "never",
    "serious_arrhythmia": "false",
    "pericardial_effusion": "false",
    "vasopressors_required": "false",
    "other_autoimmune_disease": "false",
    "active_infection": "false",
    "tb_active": "false",
    "infection_resolved_date": "never",
    "solid_organ_transplant": "false",
    "hsct_history": "false",
    "transplant_date": "never",
    "gvhd_grade": 0,
    "gvhd_date": "never",
    "hbsag_positive": "false",
    "hbcab_positive": "false",
    "hbv_dna_detectable": "false",
    "hcv_ab_positive": "false",
    "hcv_rna_detectable": "false",
    "hiv_positive": "false",
    "syphilis_positive": "false",
    "cmv_dna_positive": "false",
    "macrophage_activation_date": "never",
    "live_vaccine_date": "never",
    "malignancy_type": "none",
    "other_trial_date": "never",
    "glucocorticoid": "prednisone",
    "glucocorticoid_mg_day": 15,
}

# Fails the data path of inclusion 2.3 in every way; only documented intolerance can rescue it.
NO_FAILURE_PATH = dict(
    treatment_failure="false",
    standard_therapy_start_date="never",
    high_dose_gc_received="false",
    antimalarial_start_date="never",
    dmards_failed=0,
)


def test_eligible_sle():
    assert verdict(T, ELIGIBLE_SLE) == ("eligible", [], [])


@pytest.mark.parametrize(
    "changes",
    [
        # age 5..18 completed years: the 5th birthday today, the day before the 19th birthday
        dict(birth_date="2021-11-23"),
        dict(birth_date="2007-11-24"),
        dict(birth_date=None, age_years=18.9),
        dict(sledai_2k=8),
        dict(standard_therapy_start_date="2026-05-23"),  # exactly 6 calendar months
        dict(conventional_intolerant="true", **NO_FAILURE_PATH),
        dict(dmards_failed=5),
        # hydroxychloroquine in the history (reviewer item 1): stopped HCQ counts
        dict(antimalarial_start_date="never", hydroxychloroquine_ever="true"),
        # high-dose glucocorticoids shown by the current course (reviewer item 2): prednisone 40 mg at 40 kg is
        # exactly 1.0 mg/kg/day; 45 mg since 2026-10-01; a recorded start of the high-dose course alone
        dict(high_dose_gc_received=None, glucocorticoid_mg_day=40),
        dict(high_dose_gc_received=None, glucocorticoid_mg_day=45, high_dose_gc_since_date="2026-10-01"),
        dict(high_dose_gc_received="false", glucocorticoid_mg_day=40),
        dict(high_dose_gc_received=None, glucocorticoid="methylprednisolone", glucocorticoid_mg_day=32),
        dict(
            high_dose_gc_received=None,
            glucocorticoid=None,
            glucocorticoid_mg_day=None,
            high_dose_gc_since_date="2026-10-01",
        ),
        # inclusion 3: any one qualifying feature; nephritis and CNS lupus must be shown ACTIVE (reviewer item 5):
        # proteinuria >= 0.5 g/g or g/24 h, or a biopsy within 6 months with activity index >= 1
        dict(gc_taper_failed="false", lupus_nephritis_class="III+V", upcr_g_g=0.5),
        dict(gc_taper_failed="false", lupus_nephritis_class="v", urine_protein_24h_g=0.5),
        dict(gc_taper_failed="false", renal_biopsy_date="2026-05-24", ln_activity_index=1),  # 6 months less a day
        # a UPCR below 0.5 does not outweigh a recorded 24-hour protein of 0.5 g
        dict(gc_taper_failed="false", upcr_g_g=0.2, urine_protein_24h_g=0.5, renal_biopsy_date="2020-01-01"),
        # CNS disease with a lupus crisis (active CNS lupus) 6 months less a day ago
        dict(gc_taper_failed="false", lupus_nephritis_class="none", cns_disease="true", lupus_crisis_date="2026-05-24"),
        dict(gc_taper_failed="false", lupus_nephritis_class="II", refractory_cytopenia="true"),
        dict(lupus_nephritis_class="none", ln_chronicity_index=None),  # steroid dependence alone
        dict(lvef_pct=55),
        dict(egfr_ml_min_1_73m2=30),
        dict(ast_x_uln=3.0, alt_x_uln=3.0, bilirubin_x_uln=2.0),
        dict(spo2_pct=92),
        # reproductive: test 6 days old; males and girls without childbearing potential need no test
        dict(pregnancy_test_negative_date="2026-11-17"),
        dict(pregnancy_test_negative_date="2026-11-20", pregnancy_test_type="serum"),
        dict(
            sex="M",
            childbearing_potential=None,
            pregnancy_test_negative_date=None,
            pregnant=None,
            contraception_agreed=None,
        ),
        dict(
            childbearing_potential="false", pregnancy_test_negative_date=None, pregnant=None, contraception_agreed=None
        ),
        # blank childbearing potential: a recent negative test and agreed contraception settle both criteria
        # (Kleene-exact applies_when; this used to pin "unknown")
        dict(childbearing_potential=None),
        # CNS disease known absent: no CNS event can have happened, a blank event date does not matter
        dict(cns_event_date=None),
        # event windows just outside
        dict(cns_event_date="2026-09-24"),
        dict(dialysis_date="2026-08-23"),
        dict(ln_chronicity_index=6),
        dict(cardiac_event_type="MI", cardiac_event_date="2026-05-23"),
        dict(cardiac_event_type="heart_failure", cardiac_event_date="2026-10-01"),
        dict(infection_resolved_date="2026-11-16"),
        dict(solid_organ_transplant="true", transplant_date="2026-08-23"),
        dict(hsct_history="true", transplant_date="2020-01-01"),
        dict(gvhd_grade=2, gvhd_date="2026-11-09"),
        dict(gvhd_grade=1, gvhd_date="2026-11-20"),
        dict(hbcab_positive="true", hbv_dna_detectable="false"),
        dict(hcv_ab_positive="true", hcv_rna_detectable="false"),
        dict(macrophage_activation_date="2026-10-23"),
        dict(live_vaccine_date="2026-10-26"),
        dict(other_trial_date="2026-08-23"),
        # current glucocorticoids have no data limit here (exclusion 3.3 is a manual check)
        dict(glucocorticoid="methylprednisolone", glucocorticoid_mg_day=48),
        dict(glucocorticoid="dexamethasone", glucocorticoid_mg_day=6),
    ],
)
def test_still_eligible(changes):
    assert verdict(T, with_changes(ELIGIBLE_SLE, **changes)) == ("eligible", [], [])


@pytest.mark.parametrize(
    "changes, failed",
    [
        # inclusion 1: the day before the 5th birthday; the 19th birthday
        (dict(birth_date="2021-11-24"), [INCL + "1"]),
        (dict(birth_date="2007-11-23"), [INCL + "1"]),
        (dict(birth_date=None, age_years=4.99), [INCL + "1"]),
        (dict(classification_criteria_met="false"), [INCL + "2.1"]),
        (dict(diagnosis="SS"), [INCL + "2.1"]),
        (dict(sledai_2k=7), [INCL + "2.2"]),
        (dict(treatment_failure="false"), [INCL + "2.3"]),
        (dict(standard_therapy_start_date="2026-05-24"), [INCL + "2.3"]),  # a day short of 6 months
        (dict(standard_therapy_start_date="never"), [INCL + "2.3"]),
        (dict(high_dose_gc_received="false"), [INCL + "2.3"]),
        # never received HCQ (reviewer item 1: hydroxychloroquine_ever, not the current-course date)
        (dict(antimalarial_start_date="never", hydroxychloroquine_ever="false"), [INCL + "2.3"]),
        # a recorded "no high-dose course" stands when the current dose is below 1 mg/kg/day (39.9 mg at 40 kg)
        (dict(high_dose_gc_received="false", glucocorticoid_mg_day=39.9), [INCL + "2.3"]),
        (dict(dmards_failed=1), [INCL + "2.3"]),
        (dict(conventional_intolerant="false", **NO_FAILURE_PATH), [INCL + "2.3"]),
        (dict(gc_taper_failed="false", lupus_nephritis_class="II"), [INCL + "3"]),
        # reviewer item 5: class IV on a 2019 biopsy, activity index 0, UPCR 0.1: nephritis not shown active
        (
            dict(
                gc_taper_failed="false",
                renal_biopsy_date="2019-03-01",
                ln_activity_index=0,
                upcr_g_g=0.1,
                urine_protein_24h_g=0.1,
            ),
            [INCL + "3"],
        ),
        # one step short of each activity threshold
        (
            dict(gc_taper_failed="false", upcr_g_g=0.49, urine_protein_24h_g=0.49, renal_biopsy_date="never"),
            [INCL + "3"],
        ),
        (
            dict(gc_taper_failed="false", renal_biopsy_date="2026-05-23", ln_activity_index=5, upcr_g_g=0.2),
            [INCL + "3"],
        ),
        (
            dict(gc_taper_failed="false", renal_biopsy_date="2026-10-01", ln_activity_index=0, upcr_g_g=0.2),
            [INCL + "3"],
        ),
        # reviewer item 5: cns_disease alone is not active CNS lupus; the last lupus crisis exactly 6 months ago
        (
            dict(
                gc_taper_failed="false",
                lupus_nephritis_class="none",
                cns_disease="true",
                lupus_crisis_date="2026-05-23",
            ),
            [INCL + "3"],
        ),
        (
            dict(gc_taper_failed="false", lupus_nephritis_class="none", cns_disease="true", lupus_crisis_date="never"),
            [INCL + "3"],
        ),
        (dict(lvef_pct=54.9), [INCL + "4.1"]),
        (dict(ecg_abnormal="true"), [INCL + "4.1"]),
        (dict(egfr_ml_min_1_73m2=29.9), [INCL + "4.2"]),
        (dict(ast_x_uln=3.01), [INCL + "4.3"]),
        (dict(alt_x_uln=3.01), [INCL + "4.3"]),
        (dict(bilirubin_x_uln=2.01), [INCL + "4.3"]),
        # inclusion 4.4 mirrors exclusions 5.1 / 5.2
        (dict(severe_lung_disease="true"), [INCL + "4.4", E + "5.1"]),
        (dict(spo2_pct=91.9), [INCL + "4.4", E + "5.2"]),
        (dict(apheresis_suitable="false"), [INCL + "5"]),
        (dict(contraception_agreed="false"), [INCL + "6.contraception"]),
        (dict(consent_signed="false"), [INCL + "7"]),
        (dict(prior_car_t="true"), [E + "1"]),
        (dict(cns_event_date="2026-09-25"), [E + "2.1"]),  # 59 days ago
        (dict(dialysis_date="2026-08-24"), [E + "3.1"]),
        (dict(ln_chronicity_index=7), [E + "3.2"]),
        (dict(lupus_nephritis_class="VI"), [E + "3.2"]),
        (dict(severe_heart_disease="true"), [E + "4.a"]),
        (dict(cardiac_event_type="MI", cardiac_event_date="2026-05-24"), [E + "4.b"]),
        (dict(serious_arrhythmia="true"), [E + "4.c"]),
        (dict(pericardial_effusion="true"), [E + "4.d"]),
        (dict(vasopressors_required="true"), [E + "4.e"]),
        (dict(other_autoimmune_disease="true"), [E + "6"]),
        (dict(active_infection="true"), [E + "7"]),
        (dict(infection_resolved_date="2026-11-17"), [E + "7"]),
        (dict(solid_organ_transplant="true", transplant_date="2026-08-24"), [E + "8.a"]),
        (dict(hsct_history="true", transplant_date="2026-11-01"), [E + "8.a"]),
        (dict(gvhd_grade=2, gvhd_date="2026-11-10"), [E + "8.b"]),
        # review round 3: a recorded transplant is not cleared by a contradictory `never` transplant date
        (dict(hsct_history="true", transplant_date="never", gvhd_grade=2, gvhd_date="2026-11-10"), [E + "8.b"]),
        (dict(hbsag_positive="true", hbv_dna_detectable="true"), [E + "7", E + "9.1"]),
        # reviewer item 4: HBsAg positive excludes whatever the HBV-DNA
        (dict(hbsag_positive="true", hbv_dna_detectable="false"), [E + "9.1"]),
        (dict(hbsag_positive="true", hbv_dna_detectable=None), [E + "9.1"]),
        (dict(hbcab_positive="true", hbv_dna_detectable="true"), [E + "7", E + "9.1"]),
        (dict(hcv_ab_positive="true", hcv_rna_detectable="true"), [E + "7", E + "9.2"]),
        (dict(hiv_positive="true"), [E + "9.3"]),
        (dict(syphilis_positive="true"), [E + "9.3"]),
        (dict(cmv_dna_positive="true"), [E + "9.3"]),
        (dict(macrophage_activation_date="2026-10-24"), [E + "10.1"]),
        (dict(live_vaccine_date="2026-10-27"), [E + "10.2"]),
        (dict(malignancy_type="other", malignancy_status="cured", malignancy_date="2019-01-01"), [E + "10.3"]),
        (dict(pregnant="true"), [E + "11"]),
        (dict(other_trial_date="2026-08-24"), [E + "12"]),
    ],
)
def test_fails_only(changes, failed):
    status, got, missing = verdict(T, with_changes(ELIGIBLE_SLE, **changes))
    assert (status, got) == ("ineligible", failed)


@pytest.mark.parametrize(
    "changes, missing",
    [
        (dict(birth_date=None), ["birth_date"]),
        # a recorded transplant with a `never` date: the GVHD columns are still needed (review round 3), and the
        # transplant's date is to record (review round 6)
        (
            dict(hsct_history="true", transplant_date="never", gvhd_grade=None, gvhd_date=None),
            ["gvhd_date", "gvhd_grade", "transplant_date"],
        ),
        (dict(classification_criteria_met=None), ["classification_criteria_met"]),
        (dict(sledai_2k=None), ["sledai_2k"]),
        (dict(standard_therapy_start_date=None), ["standard_therapy_start_date"]),
        # HCQ history unrecorded: a blank or `never` current-course date does not say "never had HCQ"
        (dict(antimalarial_start_date=None, hydroxychloroquine_ever=None), ["hydroxychloroquine_ever"]),
        (dict(antimalarial_start_date="never", hydroxychloroquine_ever=None), ["hydroxychloroquine_ever"]),
        # review round 2: a current antimalarial course no longer proves HCQ (it may be chloroquine); this used
        # to be eligible
        (dict(antimalarial_start_date="2026-11-23", hydroxychloroquine_ever=None), ["hydroxychloroquine_ever"]),
        # below 1 mg/kg/day now (39.9 mg at 40 kg) and the high-dose history blank
        (dict(high_dose_gc_received=None, glucocorticoid_mg_day=39.9), ["high_dose_gc_received"]),
        # inclusion 3: a qualifying class with no activity evidence recorded; CNS disease, lupus crisis unrecorded
        (
            dict(gc_taper_failed="false"),
            ["ln_activity_index", "renal_biopsy_date", "upcr_g_g", "urine_protein_24h_g"],
        ),
        # review round 2: the lupus crisis is read with or without CNS disease
        (
            dict(gc_taper_failed="false", lupus_nephritis_class="none", cns_disease="true", lupus_crisis_date=None),
            ["lupus_crisis_date"],
        ),
        (
            dict(gc_taper_failed="false", lupus_nephritis_class="none", lupus_crisis_date=None),
            ["lupus_crisis_date"],
        ),
        (dict(dmards_failed=None), ["dmards_failed"]),
        (dict(conventional_intolerant=None, **NO_FAILURE_PATH), ["conventional_intolerant"]),
        (dict(gc_taper_failed=None, lupus_nephritis_class="II"), ["gc_taper_failed"]),
        (dict(lvef_pct=None), ["lvef_pct"]),
        (dict(egfr_ml_min_1_73m2=None), ["creatinine_mg_dl"]),
        (dict(egfr_ml_min_1_73m2=None, creatinine_mg_dl=0.6, height_cm=None), ["height_cm"]),
        (dict(alt_x_uln=None), ["alt_x_uln"]),
        (dict(spo2_pct=None), ["spo2_pct"]),
        (dict(apheresis_suitable=None), ["apheresis_suitable"]),
        # no window in the text: 7-day default, renewable: a test 7 days old or none is to be repeated, not failed
        (dict(pregnancy_test_negative_date="2026-11-16"), ["pregnancy_test_negative_date"]),
        (dict(pregnancy_test_negative_date="never"), ["pregnancy_test_negative_date"]),
        (dict(pregnancy_test_negative_date=None), ["pregnancy_test_negative_date"]),
        (
            dict(childbearing_potential=None, pregnancy_test_negative_date="2026-11-16"),
            ["childbearing_potential", "pregnancy_test_negative_date"],
        ),
        (dict(pregnant=None), ["pregnant"]),
        (dict(consent_signed=None), ["consent_signed"]),
        (dict(cns_event_date=None, cns_disease=None), ["cns_disease", "cns_event_date"]),
        (dict(ln_chronicity_index=None), ["ln_chronicity_index"]),
        (dict(cardiac_event_date=None), ["cardiac_event_date", "cardiac_event_type"]),
        (dict(cardiac_event_date="2026-10-01", cardiac_event_type=None), ["cardiac_event_type"]),
        (dict(infection_resolved_date=None), ["infection_resolved_date"]),
        (dict(solid_organ_transplant="true", transplant_date=None), ["transplant_date"]),
        (dict(hbcab_positive="true", hbv_dna_detectable=None), ["hbv_dna_detectable"]),
        (dict(malignancy_type=None), ["malignancy_type"]),
        (dict(other_trial_date=None), ["other_trial_date"]),
    ],
)
def test_unknown(changes, missing):
    assert verdict(T, with_changes(ELIGIBLE_SLE, **changes)) == ("unknown", [], missing)


@pytest.mark.parametrize(
    "changes, expected",
    [
        # bedside Schwartz before the 18th birthday: 0.413 x 145.3 / 2.0 = 30.004 and 0.413 x 145.2 / 2.0 = 29.98
        (dict(egfr_ml_min_1_73m2=None, creatinine_mg_dl=2.0, height_cm=145.3), ("eligible", [], [])),
        (dict(egfr_ml_min_1_73m2=None, creatinine_mg_dl=2.0, height_cm=145.2), ("ineligible", [INCL + "4.2"], [])),
        # the same creatinine in umol/L (176.8 umol/L = 2.0 mg/dL)
        (
            dict(egfr_ml_min_1_73m2=None, **{"creatinine[umol/L]": 176.8}, height_cm=145.2),
            ("ineligible", [INCL + "4.2"], []),
        ),
        # from the 18th birthday CKD-EPI 2021 applies (needs sex, not height): F, Scr 1.0 mg/dL, 18 y = 83.7
        (
            dict(birth_date="2008-11-23", egfr_ml_min_1_73m2=None, creatinine_mg_dl=1.0, height_cm=None),
            ("eligible", [], []),
        ),
    ],
)
def test_egfr_computed(changes, expected):
    assert verdict(T, with_changes(ELIGIBLE_SLE, **changes)) == expected


def test_never_versus_blank():
    # `never` for an event date is known-absent; blank is unknown
    assert verdict(T, with_changes(ELIGIBLE_SLE, live_vaccine_date="never"))[0] == "eligible"
    assert verdict(T, with_changes(ELIGIBLE_SLE, live_vaccine_date=None)) == ("unknown", [], ["live_vaccine_date"])
    # patients without lupus nephritis need no chronicity index
    no_ln = with_changes(ELIGIBLE_SLE, lupus_nephritis_class="none", ln_chronicity_index=None)
    assert verdict(T, no_ln)[0] == "eligible"


def test_manual_checks_asked_only_where_they_apply():
    always = [E + "5.1.other", E + "6.other", E + "10.3.other", E + "13"]  # 5.1.other: review 55 S1
    renal = [E + "3.2.fibrosis", E + "3.3"]
    # qualifies for inclusion 3 by data, no CNS disease, lupus nephritis class IV with chronicity 3
    assert manual_checks(T, ELIGIBLE_SLE) == renal + always
    # no lupus nephritis: no renal forecast or fibrosis question (reviewer item 3)
    assert manual_checks(T, with_changes(ELIGIBLE_SLE, lupus_nephritis_class="none")) == always
    # the data already exclude for chronicity > 6 or class VI: no fibrosis question; 6 still asks
    assert E + "3.2.fibrosis" not in manual_checks(T, with_changes(ELIGIBLE_SLE, ln_chronicity_index=7))
    assert E + "3.2.fibrosis" not in manual_checks(T, with_changes(ELIGIBLE_SLE, lupus_nephritis_class="VI"))
    assert E + "3.2.fibrosis" in manual_checks(T, with_changes(ELIGIBLE_SLE, ln_chronicity_index=6))
    # unknown nephritis status still asks both renal questions
    assert set(renal) <= set(manual_checks(T, with_changes(ELIGIBLE_SLE, lupus_nephritis_class=None)))
    # structural CNS damage / severe seizures: asked where CNS disease is recorded or blank, not where false
    assert E + "2.2" in manual_checks(T, with_changes(ELIGIBLE_SLE, cns_disease="true"))
    assert E + "2.2" in manual_checks(T, with_changes(ELIGIBLE_SLE, cns_disease=None))
    # inclusion 3 override asked only where the data do not qualify the patient
    not_met = with_changes(ELIGIBLE_SLE, gc_taper_failed="false", lupus_nephritis_class="II")
    assert INCL + "3.confirm" in manual_checks(T, not_met)
    assert INCL + "3.confirm" in manual_checks(T, with_changes(ELIGIBLE_SLE, gc_taper_failed=None, upcr_g_g=0.2))
    assert INCL + "3.confirm" not in manual_checks(T, with_changes(not_met, refractory_cytopenia="true"))


@pytest.mark.parametrize(
    ("changes", "status", "asked", "not_asked"),
    [
        # review 55 m1: the latest event, of another type and within 6 months, may hide an MI before it
        ({"cardiac_event_type": "heart_failure", "cardiac_event_date": "2026-10-23"}, "eligible", "4.b.history", ""),
        ({"cardiac_event_type": "heart_failure", "cardiac_event_date": "2026-05-22"}, "eligible", "", "4.b.history"),
        ({"cardiac_event_type": "MI", "cardiac_event_date": "2026-10-23"}, "ineligible", "", "4.b.history"),
        ({"cardiac_event_date": "never"}, "eligible", "", "4.b.history"),
        # review 61 m3: a recorded event of another type with a `never` date may be recent, after an MI
        ({"cardiac_event_type": "heart_failure", "cardiac_event_date": "never"}, "eligible", "4.b.history", ""),
        # review 55 m2: a column broader than the text excludes, and the investigator is asked to override
        ({"pericardial_effusion": "true"}, "ineligible", "4.d.large", ""),
        ({"pericardial_effusion": "false"}, "eligible", "", "4.d.large"),
        ({"severe_heart_disease": "true"}, "ineligible", "4.a.serious", ""),
        ({"severe_heart_disease": "false"}, "eligible", "", "4.a.serious"),
        # review 56 m3: another severe lung disease is not asked where advanced ILD in the data already excludes
        ({"ild": "true", "fvc_pct_pred": "49"}, "ineligible", "", "5.1.other"),
        ({"ild": "true", "fvc_pct_pred": "50"}, "eligible", "5.1.other", ""),
        # review 63 F3: a lupus crisis within 60 days may have been CNS lupus; not asked where a CNS event excludes
        ({"lupus_crisis_date": "2026-11-01"}, "eligible", "2.1.crisis", ""),
        ({"lupus_crisis_date": "2026-09-23"}, "eligible", "", "2.1.crisis"),
        ({"lupus_crisis_date": "2026-11-01", "cns_event_date": "2026-11-01"}, "ineligible", "", "2.1.crisis"),
        # review 76 S1: a CNS flare dated before the 60 days may have been active or treated within them
        ({"cns_disease": "true", "cns_event_date": "2026-08-01"}, "eligible", "2.1.active", ""),
        ({"cns_disease": "true", "cns_event_date": "2026-09-25"}, "ineligible", "", "2.1.active"),  # 59 days
        ({"psychiatric_disorder": "true"}, "eligible", "2.1.active", ""),  # lupus psychosis is CNS lupus
        # review 76 S2: the grade on record is the latest; a grade >= 2 episode may be present or recent
        (
            {"hsct_history": "true", "transplant_date": "2020-01-01", "gvhd_grade": 3, "gvhd_date": "2026-10-01"},
            "eligible",
            "8.b.present",
            "",
        ),
        ({"gvhd_grade": 2, "gvhd_date": "2026-11-18"}, "ineligible", "", "8.b.present"),
        # review 76 m4: one transplant date for two transplants: the other may be recent
        (
            {"hsct_history": "true", "solid_organ_transplant": "true", "transplant_date": "2020-01-01"},
            "eligible",
            "8.a.both",
            "",
        ),
        ({"solid_organ_transplant": "true", "transplant_date": "2020-01-01"}, "eligible", "", "8.a.both"),
        # review 78 M1: a blank second flag may hide the other transplant as well; S1: a dated GVHD, grade blank
        (
            {"hsct_history": "true", "solid_organ_transplant": None, "transplant_date": "2024-01-01"},
            "eligible",
            "8.a.both",
            "",
        ),
        ({"gvhd_grade": None, "gvhd_date": "2026-10-01"}, "eligible", "8.b.present", ""),
        # review 81 M2: a dated transplant with both flags blank
        (
            {"hsct_history": None, "solid_organ_transplant": None, "transplant_date": "2020-01-01"},
            "eligible",
            "8.a.both",
            "",
        ),
    ],
)
def test_questions_that_complete_a_narrow_or_broad_column(changes, status, asked, not_asked):
    patient = with_changes(ELIGIBLE_SLE, **changes)
    assert verdict(T, patient)[0] == status
    questions = manual_checks(T, patient)
    assert not asked or E + asked in questions
    assert not not_asked or E + not_asked not in questions


def test_manual_checks():
    trial = load_trial_file(models_dir() / f"{T}.yaml")
    manual = sorted(c.id for c in trial.criteria if c.is_manual)
    assert manual == sorted(
        [
            INCL + "3.confirm",
            E + "2.1.crisis",  # review 63 F3
            E + "2.1.active",  # review 76 S1
            E + "8.a.both",  # review 76 m4
            E + "8.b.present",  # review 76 S2
            E + "2.2",
            E + "3.2.fibrosis",
            E + "3.3",
            E + "4.a.serious",  # review 55 m2
            E + "4.b.history",  # review 55 m1
            E + "4.d.large",  # review 55 m2
            E + "5.1.other",  # review 55 S1
            E + "6.need",  # review round 2
            E + "6.other",
            E + "10.3.other",
            E + "13",
        ]
    )


# --- review round 2 -----------------------------------------------------------------------------------------------
ELIGIBLE = ("eligible", [], [])


def fails(*criteria: str) -> tuple[str, list[str], list[str]]:
    return "ineligible", [f"{T}.{c}" for c in criteria], []


def unknown(*columns: str) -> tuple[str, list[str], list[str]]:
    return "unknown", [], list(columns)


# Only the lupus crisis can qualify this patient for inclusion 3 (no nephritis, no cytopenia, tapers fine).
CRISIS_ONLY = dict(gc_taper_failed="false", lupus_nephritis_class="none", ln_chronicity_index=None)
# Never transplanted as far as the dates say; transplant flags and GVHD columns blank.
NO_TRANSPLANT_DATE = dict(hsct_history=None, solid_organ_transplant=None, transplant_date="never")
GVHD_BLANK = dict(gvhd_grade=None, gvhd_date=None)

ROUND_2 = [
    # inclusion 2.3: hydroxychloroquine is read from hydroxychloroquine_ever only; a current antimalarial course
    # (antimalarial_start_date) may be chloroquine and proves nothing either way
    ("hcq_ever_true_current_course", dict(antimalarial_start_date="2026-11-23"), ELIGIBLE),
    ("hcq_ever_true_no_course_date", dict(antimalarial_start_date=None), ELIGIBLE),
    (
        "hcq_ever_false_current_course",
        dict(antimalarial_start_date="2026-11-23", hydroxychloroquine_ever="false"),
        fails("incl.2.3"),
    ),
    (
        "hcq_ever_blank_current_course",
        dict(antimalarial_start_date="2025-01-10", hydroxychloroquine_ever=None),
        unknown("hydroxychloroquine_ever"),
    ),
    # documented intolerance still qualifies without any HCQ history
    ("hcq_ever_blank_intolerant", dict(conventional_intolerant="true", hydroxychloroquine_ever=None), ELIGIBLE),
    # inclusion 3: a lupus crisis within 6 calendar months qualifies with or without CNS disease
    ("crisis_today_no_cns", dict(CRISIS_ONLY, lupus_crisis_date="2026-11-23"), ELIGIBLE),
    ("crisis_6_months_less_a_day_no_cns", dict(CRISIS_ONLY, lupus_crisis_date="2026-05-24"), ELIGIBLE),
    ("crisis_exactly_6_months_no_cns", dict(CRISIS_ONLY, lupus_crisis_date="2026-05-23"), fails("incl.3")),
    ("crisis_never_no_cns", dict(CRISIS_ONLY, lupus_crisis_date="never"), fails("incl.3")),
    ("crisis_blank_no_cns", dict(CRISIS_ONLY, lupus_crisis_date=None), unknown("lupus_crisis_date")),
    ("crisis_recent_cns_blank", dict(CRISIS_ONLY, lupus_crisis_date="2026-05-24", cns_disease=None), ELIGIBLE),
    # a blank crisis date does not matter where steroid dependence already qualifies
    ("crisis_blank_steroid_dependent", dict(lupus_crisis_date=None), ELIGIBLE),
    # inclusion 4.2: recorded end-stage renal disease fails whatever the eGFR; false or blank adds nothing
    ("esrd_true_egfr_90", dict(end_stage_renal_disease="true"), fails("incl.4.2")),
    ("esrd_true_egfr_30", dict(end_stage_renal_disease="true", egfr_ml_min_1_73m2=30), fails("incl.4.2")),
    ("esrd_true_egfr_blank", dict(end_stage_renal_disease="true", egfr_ml_min_1_73m2=None), fails("incl.4.2")),
    ("esrd_false_egfr_30", dict(egfr_ml_min_1_73m2=30), ELIGIBLE),
    ("esrd_false_egfr_29_9", dict(egfr_ml_min_1_73m2=29.9), fails("incl.4.2")),
    ("esrd_blank_egfr_30", dict(end_stage_renal_disease=None, egfr_ml_min_1_73m2=30), ELIGIBLE),
    (
        "esrd_blank_egfr_blank",
        dict(end_stage_renal_disease=None, egfr_ml_min_1_73m2=None),
        unknown("creatinine_mg_dl"),
    ),
    # exclusion 7: active tuberculosis is an active infection needing systemic treatment
    ("tb_active_true", dict(tb_active="true"), fails("excl.7")),
    ("tb_active_true_infection_blank", dict(tb_active="true", active_infection=None), fails("excl.7")),
    ("tb_active_blank", dict(tb_active=None), unknown("tb_active")),
    ("tb_active_blank_infection_true", dict(tb_active=None, active_infection="true"), fails("excl.7")),
    # exclusion 8.b: transplant_date `never` says no transplant, so blank transplant flags and GVHD columns do
    # not leave the patient undecided; a blank date does
    ("transplant_never_gvhd_blank", dict(NO_TRANSPLANT_DATE, **GVHD_BLANK), ELIGIBLE),
    (
        "transplant_date_blank_gvhd_blank",
        dict(NO_TRANSPLANT_DATE, transplant_date=None, **GVHD_BLANK),
        unknown("gvhd_date", "gvhd_grade", "hsct_history", "solid_organ_transplant", "transplant_date"),
    ),
    # a recorded grade is still read: grade 2 on 2026-11-10 (13 days ago) excludes, 2026-11-09 (14 days) does not
    (
        "transplant_never_gvhd_2_13_days_ago",
        dict(NO_TRANSPLANT_DATE, gvhd_grade=2, gvhd_date="2026-11-10"),
        fails("excl.8.b"),
    ),
    ("transplant_never_gvhd_2_14_days_ago", dict(NO_TRANSPLANT_DATE, gvhd_grade=2, gvhd_date="2026-11-09"), ELIGIBLE),
    ("transplant_never_gvhd_1_recent", dict(NO_TRANSPLANT_DATE, gvhd_grade=1, gvhd_date="2026-11-20"), ELIGIBLE),
    # an old dated transplant with the HSCT flag blank still needs the GVHD assessment
    (
        "transplant_2020_hsct_blank_gvhd_blank",
        dict(NO_TRANSPLANT_DATE, transplant_date="2020-01-01", solid_organ_transplant="false", **GVHD_BLANK),
        unknown("gvhd_date", "gvhd_grade", "hsct_history"),
    ),
]


@pytest.mark.parametrize("changes, expected", [(c, e) for _, c, e in ROUND_2], ids=[n for n, _, _ in ROUND_2])
def test_review_round_2(changes, expected):
    assert verdict(T, with_changes(ELIGIBLE_SLE, **changes)) == expected


def test_review_round_2_manual_checks():
    # exclusion 6.need: asked where another autoimmune disease is recorded or blank, not where it is false
    assert E + "6.need" not in manual_checks(T, ELIGIBLE_SLE)
    assert E + "6.need" in manual_checks(T, with_changes(ELIGIBLE_SLE, other_autoimmune_disease="true"))
    assert E + "6.need" in manual_checks(T, with_changes(ELIGIBLE_SLE, other_autoimmune_disease=None))
    # the data exclusion stands (the question only lets a person override it)
    assert verdict(T, with_changes(ELIGIBLE_SLE, other_autoimmune_disease="true")) == fails("excl.6")
    assert verdict(T, with_changes(ELIGIBLE_SLE, other_autoimmune_disease=None)) == unknown("other_autoimmune_disease")
    # inclusion 3.confirm: not asked where a lupus crisis within 6 months qualifies, asked from 6 months on
    assert INCL + "3.confirm" not in manual_checks(
        T, with_changes(ELIGIBLE_SLE, **CRISIS_ONLY, lupus_crisis_date="2026-05-24")
    )
    assert INCL + "3.confirm" in manual_checks(
        T, with_changes(ELIGIBLE_SLE, **CRISIS_ONLY, lupus_crisis_date="2026-05-23")
    )
    assert INCL + "3.confirm" in manual_checks(T, with_changes(ELIGIBLE_SLE, **CRISIS_ONLY, lupus_crisis_date=None))


# Review round 3 (an independent reader of the text against the model, boundary rows run through the tool).
ROUND_3 = [
    # excl.3.2: a recorded chronicity index > 6 excludes whatever the class column says (SAFETY: `none` overrode it)
    ("chronicity_7_class_none", dict(lupus_nephritis_class="none", ln_chronicity_index=7), "excl.3.2"),
    ("chronicity_7_class_blank", dict(lupus_nephritis_class=None, ln_chronicity_index=7), "excl.3.2"),
    ("chronicity_6_class_none", dict(lupus_nephritis_class="none", ln_chronicity_index=6), None),
    # excl.10.3: a recorded malignancy is not cleared by malignancy_type `none` (SAFETY)
    ("malignancy_none_but_active", dict(malignancy_type="none", malignancy_status="active"), "excl.10.3"),
    ("malignancy_none_but_invasive", dict(malignancy_type="none", malignancy_invasive="true"), "excl.10.3"),
    ("malignancy_none_but_dated", dict(malignancy_type="none", malignancy_date="2026-10-24"), "excl.10.3"),
    ("malignancy_blank_dated_1y", dict(malignancy_type=None, malignancy_date="2025-11-23"), "excl.10.3"),
    ("malignancy_blank_never", dict(malignancy_type=None, malignancy_date="never"), None),
    ("malignancy_none_invasive_false", dict(malignancy_type="none", malignancy_invasive="false"), None),
    # incl.4.4: supplemental oxygen contradicts "SpO2 >= 92% on room air" (SAFETY)
    ("oxygen_required", dict(oxygen_required="true", severe_lung_disease="false", spo2_pct=98), "incl.4.4"),
    ("oxygen_not_required", dict(oxygen_required="false", spo2_pct=92), None),
    # incl.3: "biopsy-proven": a renal biopsy date of `never` does not prove the class (SAFETY)
    ("class_iv_never_biopsied", dict(gc_taper_failed="false", upcr_g_g=1.0, renal_biopsy_date="never"), "incl.3"),
    ("class_iv_biopsy_dated", dict(gc_taper_failed="false", upcr_g_g=1.0, renal_biopsy_date="2020-01-01"), None),
    # incl.2.3: a high-dose course starting yesterday was received (one after the as-of date: see below)
    ("high_dose_yesterday", dict(high_dose_gc_received="false", high_dose_gc_since_date="2026-11-22"), None),
]


@pytest.mark.parametrize("changes, failed", [(c, f) for _, c, f in ROUND_3], ids=[n for n, _, _ in ROUND_3])
def test_review_round_3(changes, failed):
    expected = ELIGIBLE if failed is None else fails(failed)
    assert verdict(T, with_changes(ELIGIBLE_SLE, **changes)) == expected


def test_review_round_3_cns_question():
    """excl.2.2 is asked where a CNS event is recorded, even with cns_disease false (SAFETY: it was never asked)."""
    assert E + "2.2" in manual_checks(T, with_changes(ELIGIBLE_SLE, cns_disease="false", cns_event_date="2025-11-23"))
    assert E + "2.2" not in manual_checks(T, with_changes(ELIGIBLE_SLE, cns_disease="false", cns_event_date="never"))
    assert E + "2.2" not in manual_checks(T, with_changes(ELIGIBLE_SLE, cns_disease="false", cns_event_date=None))


# Follow-up review of round 3.
ROUND_3_FOLLOW_UP = [
    # excl.5.1: advanced ILD shown by the data excludes whatever severe_lung_disease says (SAFETY)
    ("ild_fvc_40", dict(ild="true", fvc_pct_pred=40, severe_lung_disease="false"), "excl.5.1"),
    ("ild_dlco_39", dict(ild="true", dlco_pct_pred=39, severe_lung_disease="false"), "excl.5.1"),
    ("ild_fvc_50_dlco_40", dict(ild="true", fvc_pct_pred=50, dlco_pct_pred=40, severe_lung_disease="false"), None),
    # incl.2.3: a glucocorticoid pulse is high-dose glucocorticoids received
    ("pulse_proves_high_dose", dict(high_dose_gc_received="false", glucocorticoid_pulse_date="2026-09-23"), None),
    # review 69 N1: a pulse dated today (its last dose given, or a course still running) counts too
    ("pulse_today_proves_high_dose", dict(high_dose_gc_received="false", glucocorticoid_pulse_date="2026-11-23"), None),
]


@pytest.mark.parametrize(
    "changes, failed", [(c, f) for _, c, f in ROUND_3_FOLLOW_UP], ids=[n for n, _, _ in ROUND_3_FOLLOW_UP]
)
def test_review_round_3_follow_up(changes, failed):
    expected = ELIGIBLE if failed is None else fails(failed)
    assert verdict(T, with_changes(ELIGIBLE_SLE, **changes)) == expected


def test_no_biopsy_ever_documents_no_chronicity():
    """excl.3.2: with a renal biopsy date of `never` and no index, nothing is documented: not left unknown."""
    status, failed, missing = verdict(
        T, with_changes(ELIGIBLE_SLE, renal_biopsy_date="never", ln_chronicity_index=None, gc_taper_failed="true")
    )
    assert E + "3.2" not in failed and "ln_chronicity_index" not in missing
    assert verdict(T, with_changes(ELIGIBLE_SLE, renal_biopsy_date="never", ln_chronicity_index=7))[1] == [E + "3.2"]


@pytest.mark.parametrize(
    "changes, expected",
    [
        # SLEDAI total >= 8 (review of NCT06056921, item 3): the total is never below the clinical SLEDAI-2K
        (dict(sledai_2k=None, sledai_2k_clinical=8), ELIGIBLE),  # clinical 8 shows a total >= 8
        (dict(sledai_2k=None, sledai_2k_clinical=7), ("unknown", [], ["sledai_2k"])),  # proves nothing
        (dict(sledai_2k=7, sledai_2k_clinical=10), ("ineligible", [INCL + "2.2"], [])),  # a recorded total decides
    ],
)
def test_sledai_total_shown_by_the_clinical_score(changes, expected):
    assert verdict(T, with_changes(ELIGIBLE_SLE, **changes)) == expected


@pytest.mark.parametrize(("plan", "expected"), [("true", "ineligible"), ("false", "eligible"), (None, "eligible")])
def test_a_recorded_plan_to_conceive_fails_the_contraception_undertaking(plan: str | None, expected: str) -> None:
    """NCT06222853: planning_pregnancy true beside contraception_agreed true (review of NCT06983964, item 4)."""
    patient = {**ELIGIBLE_SLE, "sex": "F", "childbearing_potential": "true", "contraception_agreed": "true"}
    status, failed, _ = verdict("NCT06222853", {**patient, "planning_pregnancy": plan})
    assert status == expected
    assert failed == (["NCT06222853.incl.6.plan"] if plan == "true" else [])


# Review round 4 (round-5 fixes), each at its boundary.
ROUND_5 = [
    # finding 1, excl.3.2: with no renal biopsy ever, neither a class VI nor a chronicity index is documented; a
    # recorded class VI beside `never` still excludes (the safer side)
    (
        "biopsy_never_class_and_ci_blank",
        dict(renal_biopsy_date="never", lupus_nephritis_class=None, ln_chronicity_index=None),
        ELIGIBLE,
    ),
    (
        "biopsy_never_class_vi",
        dict(renal_biopsy_date="never", lupus_nephritis_class="VI", ln_chronicity_index=None),
        fails("excl.3.2"),
    ),
    (
        "biopsy_dated_class_and_ci_blank",
        dict(renal_biopsy_date="2026-01-01", lupus_nephritis_class=None, ln_chronicity_index=None),
        unknown("ln_chronicity_index", "lupus_nephritis_class"),
    ),
    # excl.11 "Positive blood pregnancy test": a blank `pregnant` is settled by a negative SERUM test inside the
    # 7-day window of incl.6; a negative urine test (accepted by incl.6) is not a blood test
    (
        "pregnant_blank_serum_6_days",
        dict(pregnant=None, pregnancy_test_type="serum", pregnancy_test_negative_date="2026-11-17"),
        ELIGIBLE,
    ),
    (
        "pregnant_blank_serum_7_days",
        dict(pregnant=None, pregnancy_test_type="serum", pregnancy_test_negative_date="2026-11-16"),
        unknown("pregnancy_test_negative_date", "pregnant"),
    ),
    ("pregnant_blank_urine_3_days", dict(pregnant=None, pregnancy_test_type="urine"), unknown("pregnant")),
    (
        "pregnant_blank_type_blank",
        dict(pregnant=None, pregnancy_test_type=None),
        unknown("pregnancy_test_type", "pregnant"),
    ),
    (
        "pregnant_true_serum_today",
        dict(pregnant="true", pregnancy_test_type="serum", pregnancy_test_negative_date="2026-11-23"),
        fails("excl.11"),
    ),
    # excl.7 (viral infections requiring systemic treatment): seronegative HBV or HCV viraemia excludes (review of
    # NCT06056921 round 4, finding 5; the reading of NCT06920433.excl.3)
    ("hbv_dna_seronegative", dict(hbv_dna_detectable="true"), fails("excl.7")),
    ("hcv_rna_seronegative", dict(hcv_rna_detectable="true"), fails("excl.7")),
    ("hbv_dna_blank_seronegative", dict(hbv_dna_detectable=None, hcv_rna_detectable=None), ELIGIBLE),
]


@pytest.mark.parametrize("changes, expected", [(c, e) for _, c, e in ROUND_5], ids=[n for n, _, _ in ROUND_5])
def test_round_5(changes, expected):
    assert verdict(T, with_changes(ELIGIBLE_SLE, **changes)) == expected


def test_a_high_dose_course_dated_after_the_as_of_date_is_an_invalid_row():
    """incl.2.3 (SAFETY, round 3): a course dated in the future is no course received; a run marks such a row
    invalid before any criterion reads it, naming the column."""
    status, reasons, _ = verdict(
        T, with_changes(ELIGIBLE_SLE, high_dose_gc_received="false", high_dose_gc_since_date="2027-03-01")
    )
    assert (status, reasons) == ("invalid", ["column high_dose_gc_since_date: after the as-of date (2026-11-23)"])


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (dict(gvhd_grade=2, gvhd_date="never"), ("unknown", [], ["gvhd_date"])),
        (dict(gvhd_grade=2, gvhd_date="2026-11-10"), ("ineligible", [E + "8.b"], [])),
        (dict(gvhd_grade=2, gvhd_date="2026-11-09"), ELIGIBLE),
    ],
)
def test_review_round_6_gvhd_grade_beside_a_never_date(changes, expected):
    """excl.8.b: a recorded grade >= 2 with a `never` date is unknown, the date to record (SAFETY, review round 6)."""
    assert verdict(T, with_changes(ELIGIBLE_SLE, **changes)) == expected


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        # excl.4.b: a recorded MI beside a `never` date (SAFETY); 6 months to the day is out of the window
        (dict(cardiac_event_type="MI", cardiac_event_date="never"), ("unknown", [], ["cardiac_event_date"])),
        (dict(cardiac_event_type="MI", cardiac_event_date="2026-05-23"), ELIGIBLE),
        (dict(cardiac_event_type="MI", cardiac_event_date="2026-05-24"), fails("excl.4.b")),
        # excl.8.a: a recorded transplant beside a `never` date (SAFETY)
        (dict(hsct_history="true", transplant_date="never"), ("unknown", [], ["transplant_date"])),
        (dict(solid_organ_transplant="true", transplant_date="never"), ("unknown", [], ["transplant_date"])),
        # excl.8.b: a GVHD dated within 2 weeks with its grade blank is unknown, the grade to measure (SAFETY)
        (dict(gvhd_grade=None, gvhd_date="2026-11-20"), ("unknown", [], ["gvhd_grade"])),
        (dict(gvhd_grade=None, gvhd_date="2026-11-09"), ELIGIBLE),
        (dict(gvhd_grade=None, gvhd_date=None), ELIGIBLE),
        # excl.5.1: advanced ILD shown by active ILD or a dated diagnosis, whatever ild says (SAFETY)
        (dict(ild=None, ild_active="true", fvc_pct_pred=49.9), fails("excl.5.1")),
        (dict(ild=None, ild_diagnosis_date="2025-11-23", dlco_pct_pred=39.9), fails("excl.5.1")),
        (dict(ild="false", ild_active="true", fvc_pct_pred=40), fails("excl.5.1")),
        (dict(ild=None, ild_active="true", fvc_pct_pred=50), ELIGIBLE),
    ],
)
def test_review_round_6(changes, expected):
    assert verdict(T, with_changes(ELIGIBLE_SLE, **changes)) == expected


@pytest.mark.parametrize(("severe_lung_disease", "asked"), [("false", True), (None, True), ("true", False)])
def test_another_severe_lung_disease_is_asked_unless_the_flag_excludes(severe_lung_disease, asked):
    """Review 55 S1 (safety): "severe lung disease, including ..." names examples of a category; pulmonary
    hypertension or a severe restriction with no ILD recorded passed with no question."""
    patient = with_changes(ELIGIBLE_SLE, severe_lung_disease=severe_lung_disease)
    assert (E + "5.1.other" in manual_checks(T, patient)) is asked
