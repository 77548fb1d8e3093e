"""The disease blocks: course and activity per diagnosis (lupus, Sjogren's, lungs in SSc and myositis, myositis,
vasculitis)."""

from __future__ import annotations

import numpy as np

from matcher.synth.draws import NEVER, Block, Text


def disease_course(b: Block, age: np.ndarray) -> np.ndarray:
    """Diagnosis, classification, course and relapses; returns days since diagnosis."""
    b.columns["diagnosis"] = Text(b.dx, b.codes)
    b.columns["diagnosis_subtype"] = b.pick_by_dx(
        ("diffuse", "limited", "DM", "PM", "ASS", "IMNM", "IBM", "CADM", "GPA", "MPA", "EGPA"),
        {
            "SSC": [55, 45, 0, 0, 0, 0, 0, 0, 0, 0, 0],
            "IIM": [0, 0, 45, 15, 15, 12, 5, 8, 0, 0, 0],
            "AAV": [0, 0, 0, 0, 0, 0, 0, 0, 50, 38, 12],
        },
    )
    b.columns["classification_criteria_met"] = b.flag(0.93)
    since_diagnosis = np.minimum(b.lognormal(5.0, 1.0), np.maximum(age - 3.0, 0.3)) * 365.2425
    therapy = np.where(b.chance(0.15), b.uniform(100, 200), since_diagnosis - b.uniform(0, 60))
    therapy = np.maximum(therapy, 20.0)
    since_diagnosis = np.maximum(since_diagnosis, therapy)
    b.columns["diagnosis_date"] = b.date(since_diagnosis)
    b.columns["standard_therapy_start_date"] = b.date(therapy)
    b.columns["treatment_failure"] = b.flag(0.78)
    relapsed = b.chance(0.35)
    b.columns["relapse_after_remission"] = relapsed.astype(float)
    relapse = np.minimum(b.days_back([(0.4, 0, 84), (0.6, 84, 1500)]), since_diagnosis)
    b.columns["last_relapse_date"] = np.where(relapsed, b.date(relapse), NEVER)
    b.columns["conventional_intolerant"] = b.flag(0.2)
    b.columns["dmards_failed"] = np.minimum(b.rng.poisson(2.5, b.size), 8).astype(float)
    active = np.minimum(b.days_back([(0.15, 7, 61), (0.85, 61, 900)]), since_diagnosis)
    b.columns["disease_active_since"] = b.date(active)
    return since_diagnosis


def lupus(b: Block, pediatric: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """SLE scores, serology and nephritis; returns the nephritis mask and the nephritis work-ups.

    A work-up is a biopsy within the last 200 days: the patients a lupus nephritis trial screens.
    """
    sle = b.has("SLE")
    classes = ("none", "II", "III", "IV", "V", "III+V", "IV+V", "VI")
    adult = b.rng.choice(8, b.size, p=[0.55, 0.03, 0.1, 0.14, 0.08, 0.04, 0.05, 0.01])
    child = b.rng.choice(8, b.size, p=[0.45, 0.03, 0.12, 0.2, 0.08, 0.05, 0.06, 0.01])
    ln_class = Text(np.where(pediatric, child, adult), classes)
    b.columns["lupus_nephritis_class"] = Text(np.where(sle, ln_class.codes, -1), classes)
    nephritis = sle & ~ln_class.is_("none")
    proliferative = sle & ln_class.is_("III", "IV", "III+V", "IV+V")
    sclerosed = sle & ln_class.is_("VI")
    biopsy_days = b.days_back([(0.4, 3, 150), (0.15, 150, 200), (0.45, 200, 2500)])
    b.columns["renal_biopsy_date"] = np.where(nephritis, b.date(biopsy_days), np.where(sle, NEVER, np.nan))
    work_up = nephritis & (biopsy_days < 200)

    # SLEDAI-2K: active nephritis scores its renal items (proteinuria, hematuria...); serology 2 points each.
    dsdna, low_complement = b.chance(0.65), b.chance(0.55)
    clinical = np.round(b.rng.gamma(3.2, 2.6, b.size)) + np.where(proliferative, 4, 0)
    b.columns["sledai_2k"] = np.where(sle, clinical + 2 * dsdna + 2 * low_complement, np.nan)
    b.columns["sledai_2k_clinical"] = np.where(sle & b.chance(0.8), clinical, np.nan)
    titers = np.array([0.0, 80, 160, 320, 640, 1280])
    titer = titers[b.rng.choice(6, b.size, p=[0.03, 0.1, 0.2, 0.27, 0.25, 0.15])]
    b.columns["ana_titer"] = np.where(sle, titer, np.nan)
    b.columns["anti_dsdna"] = np.where(sle, dsdna, np.nan)
    b.columns["anti_sm"] = b.flag(0.25, where=sle)
    activity = np.where(proliferative, np.round(b.rng.gamma(3.0, 2.2, b.size)), b.rng.integers(0, 4, b.size))
    b.columns["ln_activity_index"] = np.where(nephritis, np.minimum(activity, 24), np.nan)
    chronicity = np.where(sclerosed, b.rng.integers(8, 13, b.size), b.rng.poisson(2.3, b.size))
    b.columns["ln_chronicity_index"] = np.where(nephritis, np.minimum(chronicity, 12), np.nan)
    nephrotic = proliferative | ln_class.is_("V")
    median = np.select([nephrotic, sclerosed, nephritis, sle], [1.8, 2.5, 0.5, 0.15], 0.08)
    upcr = b.lognormal(median, 0.7)
    b.columns["upcr_g_g"] = np.where(b.chance(np.where(nephritis, 0.95, np.where(sle, 0.6, 0.1))), upcr, np.nan)
    daily = upcr * b.lognormal(1.0, 0.15)
    b.columns["urine_protein_24h_g"] = np.where(b.chance(np.where(sle, 0.65, 0.15)), daily, np.nan)
    b.columns["lupus_crisis_date"] = b.event(sle & b.chance(0.05), [(0.3, 0, 92), (0.7, 92, 1500)])
    b.columns["refractory_cytopenia"] = np.where(sle, b.chance(0.06), 0.0)
    b.columns["macrophage_activation_date"] = b.event(
        b.chance(np.where(sle, 0.02, 0.003)), [(0.3, 0, 31), (0.7, 31, 1500)]
    )
    return nephritis, work_up


def sjogren(b: Block) -> None:
    ss = b.has("SS")
    b.columns["essdai"] = np.where(ss, np.minimum(np.round(b.rng.gamma(2.2, 4.2, b.size)), 60), np.nan)
    b.columns["anti_ssa"] = b.flag(0.85, where=ss)
    unstimulated = np.where(b.chance(0.08), 0.0, b.lognormal(0.06, 0.9))
    b.columns["saliva_flow_unstimulated_ml_min"] = np.where(ss & b.chance(0.8), unstimulated, np.nan)
    b.columns["saliva_flow_stimulated_ml_min"] = np.where(ss & b.chance(0.6), b.lognormal(0.35, 0.8), np.nan)


def lungs(b: Block, subtype: Text) -> np.ndarray:
    """Skin score, ILD and lung function; returns the ILD mask."""
    ssc, iim = b.has("SSC"), b.has("IIM")
    diffuse = subtype.is_("diffuse")
    skin = np.where(diffuse, b.normal(20, 8, 2, 51), b.normal(6, 3.5, 0, 20))
    b.columns["mrss"] = np.where(ssc, np.round(skin), np.nan)
    b.columns["mrss_change_6m_pct"] = np.where(ssc & b.chance(0.7), b.normal(4, 12, -60, 80), np.nan)
    p_ild = b.per_dx({"SSC": 0.35, "IIM": 0.25, "SLE": 0.04, "SS": 0.12, "AAV": 0.08}, 0.05)
    p_ild = np.select([diffuse, subtype.is_("ASS"), subtype.is_("DM")], [0.55, 0.7, 0.35], p_ild)
    ild = b.chance(p_ild)
    b.columns["ild"] = ild.astype(float)
    b.columns["ild_active"] = (ild & b.chance(0.5)).astype(float)
    b.columns["ild_diagnosis_date"] = b.event(ild, [(0.15, 10, 183), (0.85, 183, 4000)])
    measured = b.chance(np.where(ssc | iim, 0.95, 0.75))
    fvc = np.where(ild, b.normal(68, 13, 25, 130), b.normal(93, 11, 50, 140))
    dlco = np.where(ild, b.normal(55, 13, 15, 120), b.normal(82, 13, 35, 140))
    b.columns["fvc_pct_pred"] = np.where(measured, fvc, np.nan)
    b.columns["dlco_pct_pred"] = np.where(measured, dlco, np.nan)
    trend = b.chance(np.where(ssc, 0.8, np.where(iim, 0.5, 0.2)))
    b.columns["fvc_change_6m_pct"] = np.where(
        trend, np.where(ild, b.normal(-4, 6.5, -40, 20), b.normal(-0.5, 4, -20, 20)), np.nan
    )
    b.columns["dlco_change_6m_pct"] = np.where(
        trend, np.where(ild, b.normal(-5, 9, -50, 25), b.normal(-1, 6, -30, 25)), np.nan
    )
    hypertension = ssc & b.chance(0.1)
    pap = np.where(hypertension, b.normal(45, 12, 25, 90), b.normal(19, 5, 8, 40))
    b.columns["mean_pap_mmhg"] = np.where(b.chance(0.75), pap, np.nan)
    b.columns["severe_lung_disease"] = b.flag(np.where(ild, 0.12, 0.015))
    b.columns["oxygen_required"] = b.flag(np.where(ild, 0.08, 0.01))
    return ild


def myositis(b: Block, subtype: Text) -> None:
    iim = b.has("IIM")
    amyopathic, inclusion_body = subtype.is_("CADM"), subtype.is_("IBM")
    weakness = np.select(
        [amyopathic, inclusion_body],
        [b.rng.gamma(1.0, 3.0, b.size), b.rng.gamma(3.0, 12.0, b.size)],
        b.rng.gamma(2.0, 14.0, b.size),
    )
    b.columns["mmt8"] = np.where(iim, np.clip(150 - np.round(weakness), 30, 150), np.nan)
    b.columns["phga_vas"] = np.where(iim & b.chance(0.9), b.normal(4.5, 2.0, 0, 10), np.nan)
    b.columns["ptga_vas"] = np.where(iim & b.chance(0.9), b.normal(5.0, 2.2, 0, 10), np.nan)
    b.columns["extramuscular_vas"] = np.where(iim & b.chance(0.8), b.normal(2.8, 2.0, 0, 10), np.nan)
    dermatomyositis = subtype.is_("DM", "CADM")
    rash = np.where(dermatomyositis, b.normal(4.0, 2.3, 0, 10), b.normal(0.3, 0.6, 0, 10))
    b.columns["skin_rash_vas"] = np.where(iim & b.chance(0.85), rash, np.nan)
    b.columns["haq_di"] = np.where(iim & b.chance(0.85), np.round(b.normal(1.1, 0.65, 0, 3) * 8) / 8, np.nan)
    enzymes = np.select(
        [amyopathic, inclusion_body], [b.lognormal(0.9, 0.4), b.lognormal(2.0, 0.5)], b.lognormal(3.0, 0.9)
    )
    b.columns["muscle_enzyme_x_uln"] = np.where(iim & b.chance(0.95), enzymes, np.nan)
    b.columns["myositis_specific_antibody"] = b.flag(np.where(inclusion_body, 0.1, 0.7), where=iim)
    b.columns["muscle_inflammation_evidence"] = b.flag(np.where(amyopathic, 0.3, 0.8), where=iim)
    b.columns["iim_probability_pct"] = np.where(iim, b.normal(82, 14, 30, 100), np.nan)
    b.columns["family_history_myopathy"] = b.flag(0.01)


def vasculitis(b: Block, subtype: Text) -> None:
    aav = b.has("AAV")
    bvas = np.minimum(np.round(b.rng.gamma(3.5, 4.0, b.size)), 63)
    b.columns["bvas"] = np.where(aav, bvas, np.nan)
    b.columns["bvas_major_items"] = np.where(aav, b.rng.binomial((bvas // 5).astype(int), 0.5), np.nan)
    b.columns["bvas_minor_items"] = np.where(aav, b.rng.poisson(bvas / 4), np.nan)
    gpa, mpa = subtype.is_("GPA"), subtype.is_("MPA")
    positive = aav & b.chance(np.select([gpa, mpa], [0.85, 0.9], 0.35))
    ever = positive | (aav & b.chance(0.5))
    b.columns["anca_positive"] = np.where(aav, positive, np.nan)
    b.columns["anca_ever_positive"] = np.where(aav, ever, np.nan)
    pr3 = np.select([gpa, mpa], [0.8, 0.12], 0.1)
    mpo = np.select([gpa, mpa], [0.15, 0.85], 0.8)
    u = b.uniform(0.0, 1.0)
    kind = np.where(u < pr3, 0, np.where(u < pr3 + mpo, 1, 2))
    b.columns["anca_type"] = Text(np.where(ever, kind, -1), ("PR3", "MPO", "OTHER"))
