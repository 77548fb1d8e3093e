"""Who the patients are: demographics, site and coordination columns, reproduction, infections and history."""

from __future__ import annotations

import itertools

import numpy as np

from matcher.synth.draws import NEVER, Block, Text
from matcher.synth.options import SynthOptions

SITES = ("Beijing", "Shanghai", "Hangzhou", "Guangzhou", "Wuhan", "Chengdu", "Nanjing", "Xi'an")


def demographics(b: Block) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Age in years, female mask, pediatric mask."""
    pediatric = (b.has("SLE") & b.chance(0.2)) | (b.has("IIM") & b.chance(0.04))
    mean = b.per_dx({"SLE": 37, "SS": 52, "SSC": 50, "IIM": 50, "AAV": 60}, 45)
    sd = b.per_dx({"SLE": 12, "AAV": 13}, 13)
    age = np.where(pediatric, b.uniform(5.0, 18.0), b.normal(mean, sd, 18.0, 92.0))
    female = b.chance(np.where(pediatric, 0.85, b.per_dx({"SLE": 0.9, "SS": 0.93, "SSC": 0.82, "IIM": 0.67}, 0.5)))
    with_birth_date = b.chance(0.9)
    b.columns["birth_date"] = np.where(with_birth_date, b.date(age * 365.2425), np.nan)
    b.columns["age_years"] = np.where(with_birth_date, np.nan, np.floor(age * 10) / 10)
    b.columns["sex"] = Text(np.where(female, 0, 1), ("F", "M"))
    adult_height = np.where(female, b.normal(160, 6.5, 140, 185), b.normal(172, 7, 150, 200))
    child_height = np.minimum(77 + 6.3 * age, np.where(female, 165, 178)) * b.lognormal(1.0, 0.04)
    height = np.where(age < 18, child_height, adult_height)
    bmi = np.where(age < 18, (15.5 + 0.35 * (age - 5)) * b.lognormal(1.0, 0.12), b.lognormal(23.0, 0.16))
    b.columns["weight_kg"] = bmi * (height / 100) ** 2
    b.columns["height_cm"] = np.where(b.chance(np.where(age < 18, 0.95, 0.45)), height, np.nan)
    return age, female, pediatric


def administrative(b: Block, options: SynthOptions, first_row: int) -> None:
    b.columns["patient_id"] = np.arange(first_row + 1, first_row + b.size + 1, dtype=float)  # spelled by _to_arrow
    b.columns["site"] = b.pick(SITES, [0.22, 0.2, 0.16, 0.12, 0.1, 0.08, 0.07, 0.05])
    orders = [";".join(p) for k in (1, 2, 3) for p in itertools.permutations(options.trial_ids, k)]
    lengths = np.array([len(order.split(";")) for order in orders])
    wanted = b.rng.choice(3, b.size, p=[0.5, 0.35, 0.15]) + 1
    first = np.searchsorted(lengths, wanted)
    count = np.searchsorted(lengths, wanted, side="right") - first
    chosen = first + np.floor(b.uniform(0.0, 1.0) * count).astype(int)
    b.columns["preferences"] = Text(np.where(b.chance(0.3) & (count > 0), chosen, -1), orders)
    priority = b.rng.choice(5, b.size, p=[0.3, 0.3, 0.2, 0.12, 0.08]) + 1.0
    b.columns["priority"] = np.where(b.chance(0.35), priority, np.nan)
    b.columns["consent_signed"] = b.flag(0.86)


def reproduction(b: Block, age: np.ndarray, female: np.ndarray) -> None:
    female_potential = np.select([age < 11, age < 15, age < 45, age < 52], [0.0, 0.6, 0.92, 0.5], 0.03)
    male_potential = np.where((age >= 16) & (age <= 65), 0.9, np.where(age < 16, 0.0, 0.2))
    potential = b.chance(np.where(female, female_potential, male_potential))
    b.columns["childbearing_potential"] = potential.astype(float)
    fertile_woman = female & potential
    pregnant = fertile_woman & b.chance(0.004)
    b.columns["pregnant"] = np.where(female, pregnant, np.nan)
    b.columns["breastfeeding"] = np.where(female, fertile_woman & b.chance(0.01), np.nan)
    b.columns["planning_pregnancy"] = np.where(female, fertile_woman & b.chance(0.05), np.nan)
    agreed = b.chance(np.where(potential, 0.9, 0.7))
    b.columns["contraception_agreed"] = np.where(potential | ~female, agreed, np.where(agreed, 1.0, np.nan))
    tested = b.chance(np.where(fertile_woman, 0.92, np.where(female, 0.2, 0.0))) & ~pregnant
    test_date = b.date(b.days_back([(0.6, 0, 7), (0.22, 7, 29), (0.18, 29, 200)]))
    b.columns["pregnancy_test_negative_date"] = np.where(tested, test_date, np.where(female, NEVER, np.nan))
    b.columns["pregnancy_test_type"] = b.pick(("serum", "urine"), [0.7, 0.3], where=tested)


def infections_and_history(b: Block, female: np.ndarray) -> None:
    hbsag, hbcab = b.chance(0.03), b.chance(0.2)
    b.columns["hbsag_positive"] = hbsag.astype(float)
    b.columns["hbcab_positive"] = (hbcab | hbsag).astype(float)
    b.columns["hbv_dna_detectable"] = b.flag(np.where(hbsag, 0.4, np.where(hbcab, 0.05, 0.0)))
    hcv = b.chance(0.01)
    b.columns["hcv_ab_positive"] = hcv.astype(float)
    b.columns["hcv_rna_detectable"] = (hcv & b.chance(0.4)).astype(float)
    for name, p in (("hiv_positive", 0.002), ("syphilis_positive", 0.005), ("cmv_dna_positive", 0.03)):
        b.columns[name] = b.flag(p)
    b.columns["tb_active"] = b.flag(0.003)
    b.columns["tb_latent"] = b.flag(0.08)
    b.columns["active_infection"] = b.flag(0.04)
    b.columns["infection_resolved_date"] = b.dated(0.3, [(0.07, 0, 7), (0.93, 7, 700)])
    b.columns["prior_car_t"] = b.flag(0.01)

    types = (
        "none",
        "cervical_cis",
        "basal_cell_skin",
        "squamous_cell_skin",
        "prostate_local",
        "dcis",
        "b_cell_lymphoma",
        "other",
    )
    drawn = b.pick(types, [0.94, 0.01, 0.01, 0.007, 0.005, 0.008, 0.005, 0.015])
    other_sex = (female & drawn.is_("prostate_local")) | (~female & drawn.is_("cervical_cis", "dcis"))
    malignancy = Text(np.where(other_sex, types.index("other"), drawn.codes), types)
    had = ~malignancy.is_("none")
    b.columns["malignancy_type"] = malignancy
    b.columns["malignancy_date"] = np.where(had, b.date(b.uniform(100, 5000)), np.nan)
    b.columns["malignancy_status"] = b.pick(("active", "treated", "cured"), [0.15, 0.45, 0.4], where=had)
    skin = malignancy.is_("basal_cell_skin", "squamous_cell_skin")
    invasive = np.where(skin, b.chance(0.4), malignancy.is_("prostate_local", "b_cell_lymphoma", "other"))
    b.columns["malignancy_invasive"] = np.where(had, invasive, np.nan)

    hsct, organ = b.chance(0.003), b.chance(np.where(b.has("SLE"), 0.01, 0.005))
    b.columns["hsct_history"] = hsct.astype(float)
    b.columns["solid_organ_transplant"] = organ.astype(float)
    b.columns["transplant_date"] = b.event(hsct | organ, [(0.1, 0, 92), (0.9, 92, 3000)])
    grade = np.where(hsct, b.rng.choice(4, b.size, p=[0.6, 0.25, 0.1, 0.05]), 0)
    b.columns["gvhd_grade"] = grade.astype(float)
    b.columns["gvhd_date"] = b.event(grade > 0, [(0.2, 0, 14), (0.8, 14, 1000)])

    cns = b.chance(b.per_dx({"SLE": 0.08, "AAV": 0.03}, 0.01))
    b.columns["cns_disease"] = cns.astype(float)
    b.columns["cns_event_date"] = b.event(cns, [(0.15, 0, 60), (0.15, 60, 183), (0.7, 183, 3000)])
    b.columns["psychiatric_disorder"] = b.flag(0.03)
    b.columns["substance_abuse_date"] = b.dated(0.02, [(0.3, 0, 168), (0.7, 168, 2000)])
    b.columns["severe_drug_allergy"] = b.flag(0.03)
    b.columns["cy_flu_severe_reaction"] = b.flag(0.01)
    b.columns["congenital_immunodeficiency"] = b.flag(0.003)
    b.columns["other_autoimmune_disease"] = b.flag(0.05)
    b.columns["other_trial_date"] = b.dated(0.06, [(0.3, 0, 92), (0.7, 92, 1500)])
    b.columns["apheresis_suitable"] = b.flag(0.94)
    months = np.array([120.0, 60, 24, 12, 5])[b.rng.choice(5, b.size, p=[0.55, 0.3, 0.1, 0.04, 0.01])]
    b.columns["life_expectancy_months"] = np.where(b.chance(0.85), months, np.nan)
