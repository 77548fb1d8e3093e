"""Labs, heart and vital signs, correlated where a trial reads them together (creatinine drives eGFR and CrCl)."""

from __future__ import annotations

import numpy as np

from matcher.derived import bedside_schwartz, ckd_epi_2021, cockcroft_gault
from matcher.synth.draws import Block, Text


def labs(b: Block, age: np.ndarray, female: np.ndarray, nephritis: np.ndarray, subtype: Text) -> None:
    sle, iim = b.has("SLE"), b.has("IIM")
    hemoglobin = np.where(female, b.normal(118, 15, 45, 175), b.normal(132, 17, 45, 185)) - np.where(sle, 6, 0)
    b.columns["hemoglobin_g_l"] = hemoglobin
    anc = np.where(b.chance(np.where(sle, 0.02, 0.006)), b.uniform(0.15, 0.6), b.lognormal(3.8, 0.45))
    b.columns["anc_10e9_l"] = anc
    low_platelets = b.chance(np.where(sle, 0.06, 0.01))
    b.columns["platelets_10e9_l"] = np.where(low_platelets, b.uniform(8, 90), b.normal(235, 70, 60, 600))
    for name in ("alt_x_uln", "ast_x_uln"):
        b.columns[name] = np.where(b.chance(0.015), b.uniform(3.0, 6.0), b.lognormal(np.where(iim, 1.4, 0.6), 0.45))
    b.columns["alp_x_uln"] = b.lognormal(0.65, 0.35)
    gilbert = b.chance(0.03)
    b.columns["gilbert_syndrome"] = np.where(gilbert, 1.0, np.where(b.chance(0.9), 0.0, np.nan))
    b.columns["bilirubin_x_uln"] = np.where(gilbert, b.uniform(1.2, 3.2), b.lognormal(0.5, 0.4))

    esrd = b.chance(np.where(nephritis, 0.02, 0.002))
    renal_vasculitis = subtype.is_("GPA", "MPA") & b.chance(0.35)
    base = np.where(age < 18, 0.25 + 0.03 * age, np.where(female, 0.7, 0.9)) * b.lognormal(1.0, 0.15)
    factor = np.select(
        [esrd, nephritis, renal_vasculitis],
        [b.uniform(4.0, 9.0), b.lognormal(1.3, 0.45), b.lognormal(1.8, 0.6)],
        1.0 + 0.004 * np.maximum(age - 50, 0),
    )
    creatinine = np.round(base * factor, 2)
    b.columns["creatinine_mg_dl"] = np.where(b.chance(0.96), creatinine, np.nan)
    uln = np.where(age < 18, 0.3 + 0.03 * age, np.where(female, 1.02, 1.24))
    b.columns["creatinine_x_uln"] = np.where(b.chance(0.7), creatinine / uln, np.nan)
    years = np.floor(age)
    height = np.asarray(b.columns["height_cm"])
    egfr = np.where(years < 18, bedside_schwartz(creatinine, height), ckd_epi_2021(creatinine, years, female))
    b.columns["egfr_ml_min_1_73m2"] = np.where(b.chance(0.12), egfr * b.lognormal(1.0, 0.03), np.nan)
    crcl = cockcroft_gault(creatinine, years, np.asarray(b.columns["weight_kg"]), female)
    b.columns["crcl_ml_min"] = np.where(b.chance(0.08), crcl, np.nan)
    b.columns["end_stage_renal_disease"] = esrd.astype(float)
    b.columns["dialysis_date"] = np.where(
        esrd, b.date(b.uniform(0, 30)), b.event(nephritis & b.chance(0.03), [(1.0, 30, 1500)])
    )
    anticoagulated = b.chance(np.where(sle, 0.04, 0.01))
    b.columns["inr_x_uln"] = np.where(anticoagulated, b.uniform(1.6, 2.8), b.normal(0.95, 0.08, 0.7, 1.4))
    b.columns["aptt_x_uln"] = np.where(
        anticoagulated & b.chance(0.5), b.uniform(1.3, 2.0), b.normal(0.95, 0.1, 0.7, 1.45)
    )
    b.columns["immunoglobulins_below_lln"] = b.flag(0.03)
    b.columns["hypogammaglobulinemia"] = b.flag(0.03)
    b.columns["bcma_detected"] = np.where(b.chance(0.4), b.chance(0.6), np.nan)


def heart_and_vitals(b: Block, age: np.ndarray, nephritis: np.ndarray, ild: np.ndarray) -> None:
    sle = b.has("SLE")
    b.columns["ecog"] = b.rng.choice(5, b.size, p=[0.45, 0.42, 0.09, 0.03, 0.01]).astype(float)
    b.columns["nyha_class"] = b.rng.choice(4, b.size, p=[0.78, 0.15, 0.06, 0.01]) + 1.0
    b.columns["lvef_pct"] = np.where(b.chance(0.04), b.uniform(35, 56), b.normal(63, 4.5, 50, 78))
    b.columns["pericardial_effusion"] = b.flag(np.where(sle, 0.04, 0.01))
    b.columns["pleural_effusion"] = b.flag(np.where(sle, 0.04, 0.01))
    b.columns["ecg_abnormal"] = b.flag(0.03)
    b.columns["spo2_pct"] = np.round(np.where(ild, b.normal(94.5, 2.2, 82, 100), b.normal(97.6, 1.2, 88, 100)))
    b.columns["systolic_bp_mmhg"] = b.normal(
        122 + np.where(nephritis, 10, 0) + 0.3 * np.maximum(age - 40, 0), 14, 85, 210
    )
    b.columns["diastolic_bp_mmhg"] = b.normal(76 + np.where(nephritis, 6, 0), 9, 45, 125)
    b.columns["hypertensive_crisis_history"] = b.flag(0.015)
    b.columns["vasopressors_required"] = b.flag(0.003)
    cardiac = b.chance(0.02 + 0.003 * np.maximum(age - 40, 0))
    b.columns["cardiac_event_date"] = b.event(cardiac, [(0.25, 0, 120), (0.35, 120, 200), (0.4, 200, 2500)])
    kinds = ("MI", "unstable_angina", "coronary_intervention", "heart_failure")
    b.columns["cardiac_event_type"] = b.pick(kinds, [0.4, 0.2, 0.25, 0.15], where=cardiac)
    b.columns["serious_arrhythmia"] = b.flag(0.02)
    b.columns["severe_heart_disease"] = b.flag(0.015)
    b.columns["vte_date"] = b.dated(np.where(sle, 0.08, 0.04), [(0.25, 0, 183), (0.75, 183, 3000)])
