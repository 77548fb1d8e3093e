"""Synthetic cohorts in the contract's columns, for demos, load tests and benchmarks.

Patients are drawn with a disease mix, per-disease activity scores (SLEDAI-2K,
ESSDAI, mRSS, MMT-8, BVAS...), labs correlated where a trial reads them together
(creatinine drives eGFR and CrCl, which are left mostly blank so the matcher
computes them), therapy histories, and events dated around the screening date.
The distributions are plausible, not fitted to a registry: the file is test
data, never evidence.  They are tuned so that the bundled trials' verdicts
spread over eligible, ineligible and unknown, and so that many patients are near
misses: a live vaccine or a biologic a few weeks ago, a glucocorticoid dose just
above a limit, a cardiac event 4-5 months ago, a pregnancy test too old, an
immunosuppressant started or changed recently.

Determinism: rows are drawn in blocks of ``BLOCK_ROWS``, each from its own numpy
Generator seeded by (seed, block), so a file depends on its options only, never
on how it is streamed.  Blanks come from a second stream per block, so a larger
``blank_fraction`` blanks a superset of the cells and leaves the others alone.
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from matcher.contract import columns
from matcher.dates import EPOCH
from matcher.derived import bedside_schwartz, ckd_epi_2021, cockcroft_gault
from matcher.errors import MatcherError, ParameterError
from matcher.facts import default_facts
from matcher.trials import load_trials
from matcher.units import conversion_factor

DEFAULT_AS_OF = dt.date(2026, 11, 23)  # the date the demo scenarios are pinned to
DEFAULT_MIX = {"SLE": 0.5, "SS": 0.15, "SSC": 0.1, "IIM": 0.1, "AAV": 0.15}
DEFAULT_BLANK_FRACTION = 0.02
BLOCK_ROWS = 5_000
CHUNK_ROWS = 50_000
NEVER = -np.inf

# Columns the blank fraction leaves alone: identity and coordination, not clinical facts.
_NEVER_BLANKED = frozenset({"patient_id", "site", "preferences", "priority", "diagnosis"})

# Header units written with --unit-variants, and the decimals a lab would report in them.
_UNIT_VARIANTS = {
    "creatinine_mg_dl": ("umol/L", 0),
    "hemoglobin_g_l": ("g/dL", 1),
    "platelets_10e9_l": ("/mm3", -3),
    "anc_10e9_l": ("/mm3", -1),
    "upcr_g_g": ("mg/mmol", 1),
}

# Decimals of float columns as written; the rest get two.
_DECIMALS = {
    "age_years": 1,
    "weight_kg": 1,
    "height_cm": 0,
    "saliva_flow_unstimulated_ml_min": 3,
    "mrss_change_6m_pct": 1,
    "fvc_pct_pred": 0,
    "dlco_pct_pred": 0,
    "fvc_change_6m_pct": 1,
    "dlco_change_6m_pct": 1,
    "phga_vas": 1,
    "ptga_vas": 1,
    "extramuscular_vas": 1,
    "skin_rash_vas": 1,
    "haq_di": 3,
    "iim_probability_pct": 0,
    "hemoglobin_g_l": 0,
    "anc_10e9_l": 2,
    "platelets_10e9_l": 0,
    "egfr_ml_min_1_73m2": 0,
    "crcl_ml_min": 0,
    "lvef_pct": 0,
    "spo2_pct": 0,
    "systolic_bp_mmhg": 0,
    "diastolic_bp_mmhg": 0,
    "mean_pap_mmhg": 0,
    "life_expectancy_months": 0,
}

_SITES = ("Beijing", "Shanghai", "Hangzhou", "Guangzhou", "Wuhan", "Chengdu", "Nanjing", "Xi'an")
# Tablet steps: doses are multiples of these (mg/day).
_GLUCOCORTICOID_STEPS = {
    "prednisone": 2.5,
    "prednisolone": 2.5,
    "methylprednisolone": 2.0,
    "dexamethasone": 0.75,
    "hydrocortisone": 10.0,
}
_IMMUNOSUPPRESSANTS = (
    "none",
    "mycophenolate",
    "azathioprine",
    "methotrexate",
    "leflunomide",
    "tacrolimus",
    "cyclosporine",
    "sirolimus",
)


@dataclass(frozen=True)
class SynthOptions:
    """What to generate; the same options always give the same file."""

    rows: int
    seed: int = 1
    mix: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_MIX))
    blank_fraction: float = DEFAULT_BLANK_FRACTION
    unit_variants: bool = False
    as_of: dt.date = DEFAULT_AS_OF
    trial_ids: tuple[str, ...] = field(default_factory=lambda: tuple(sorted(load_trials())))

    def __post_init__(self) -> None:
        if self.rows < 1:
            raise MatcherError(f"the number of rows must be at least 1, not {self.rows}")
        if self.seed < 0:
            raise MatcherError(f"the seed must be a whole number >= 0, not {self.seed}")
        if not 0.0 <= self.blank_fraction <= 1.0:
            raise MatcherError(f"the blank fraction must be between 0 and 1, not {self.blank_fraction}")
        _check_mix(self.mix)


def _diagnoses() -> tuple[str, ...]:
    return columns()["diagnosis"].codes


def _check_mix(mix: Mapping[str, float]) -> None:
    unknown = sorted(set(mix) - set(_diagnoses()))
    if unknown:
        raise ParameterError(
            "mix", f"{{option}}: {unknown[0]!r} is not a diagnosis code (one of {', '.join(_diagnoses())})"
        )
    if any(not np.isfinite(weight) or weight < 0 for weight in mix.values()):
        raise ParameterError("mix", "{option}: weights must be numbers >= 0")
    if sum(mix.values()) <= 0:
        raise ParameterError("mix", "{option}: at least one weight must be above 0")


def parse_mix(text: str | None) -> dict[str, float]:
    """``SLE=0.5,SS=0.15,...`` as weights by diagnosis code (case-insensitive; normalized when drawing).

    None gives the default mix.
    """
    if text is None:
        return dict(DEFAULT_MIX)
    codes = {code.lower(): code for code in _diagnoses()}
    mix: dict[str, float] = {}
    for item in text.split(","):
        name, sep, number = item.partition("=")
        if not sep or not name.strip():
            raise ParameterError("mix", f"{{option}}: {item.strip()!r} is not CODE=WEIGHT (e.g. SLE=0.5)")
        code = codes.get(name.strip().lower())
        if code is None:
            raise ParameterError(
                "mix", f"{{option}}: {name.strip()!r} is not a diagnosis code (one of {', '.join(_diagnoses())})"
            )
        if code in mix:
            raise ParameterError("mix", f"{{option}}: {code} is given twice")
        try:
            mix[code] = float(number)
        except ValueError:
            raise ParameterError(
                "mix", f"{{option}}: the weight of {code}, {number.strip()!r}, is not a number"
            ) from None
    _check_mix(mix)
    return mix


@dataclass
class _Text:
    """A text or enum column as codes into ``labels`` (-1 = blank)."""

    codes: np.ndarray
    labels: Sequence[str]

    def is_(self, *labels: str) -> np.ndarray:
        return np.isin(self.codes, [self.labels.index(label) for label in labels])


Column = np.ndarray | _Text


class _Block:
    """One block of patients: the random draws and the columns built so far.

    Numbers, booleans (1/0) and dates (day numbers, -inf = never) are float
    arrays with NaN for blank.
    """

    def __init__(self, options: SynthOptions, index: int, size: int) -> None:
        self.rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(options.seed, spawn_key=(index, 0))))
        self.size = size
        self.today = (options.as_of - EPOCH).days
        self.codes = _diagnoses()
        total = sum(options.mix.values())
        weights = [options.mix.get(code, 0.0) / total for code in self.codes]
        self.dx = self.rng.choice(len(self.codes), size, p=weights)
        self._is = {code: self.dx == index for index, code in enumerate(self.codes)}
        self.columns: dict[str, Column] = {}

    def has(self, *codes: str) -> np.ndarray:
        return np.logical_or.reduce([self._is[code] for code in codes])

    def per_dx(self, values: Mapping[str, float], default: float) -> np.ndarray:
        return np.array([values.get(code, default) for code in self.codes])[self.dx]

    def chance(self, p: float | np.ndarray) -> np.ndarray:
        return self.rng.random(self.size) < p

    def flag(self, p_true: float | np.ndarray, where: np.ndarray | None = None) -> np.ndarray:
        """1/0 with probability ``p_true`` of 1; NaN outside ``where``."""
        values = self.chance(p_true).astype(float)
        return values if where is None else np.where(where, values, np.nan)

    def normal(self, mean: float | np.ndarray, sd: float | np.ndarray, low: float, high: float) -> np.ndarray:
        return np.clip(self.rng.normal(mean, sd, self.size), low, high)

    def lognormal(self, median: float | np.ndarray, sigma: float) -> np.ndarray:
        return np.asarray(median * np.exp(self.rng.normal(0.0, sigma, self.size)))

    def uniform(self, low: float | np.ndarray, high: float | np.ndarray) -> np.ndarray:
        return self.rng.uniform(low, high, self.size)

    def pick(self, labels: Sequence[str], weights: Sequence[float], where: np.ndarray | None = None) -> _Text:
        p = np.asarray(weights, dtype=float)
        codes = self.rng.choice(len(labels), self.size, p=p / p.sum())
        return _Text(codes if where is None else np.where(where, codes, -1), labels)

    def pick_by_dx(self, labels: Sequence[str], table: Mapping[str, Sequence[float]]) -> _Text:
        """Per-disease categorical draws; diagnoses missing from ``table`` stay blank."""
        probs = np.zeros((len(self.codes), len(labels)))
        for code, weights in table.items():
            probs[self.codes.index(code)] = np.asarray(weights, dtype=float) / sum(weights)
        cumulative = probs.cumsum(axis=1)
        cumulative[:, -1] = 1.0
        drawn = (self.rng.random(self.size)[:, None] >= cumulative[self.dx]).sum(axis=1)
        listed = np.isin(self.dx, [self.codes.index(code) for code in table])
        return _Text(np.where(listed, np.minimum(drawn, len(labels) - 1), -1), labels)

    def banded(self, bands: Sequence[tuple[float, float, float]]) -> np.ndarray:
        """Uniform within a band chosen by weight; bands are (weight, low, high).

        One uniform draw picks the band and, rescaled, the place within it.
        """
        weights, low, high = (np.array(part, dtype=float) for part in zip(*bands, strict=True))
        upper = np.cumsum(weights / weights.sum())
        upper[-1] = 1.0
        u = self.rng.random(self.size)
        chosen = np.minimum(np.searchsorted(upper, u, side="right"), len(bands) - 1)
        lower = np.concatenate([[0.0], upper[:-1]])[chosen]
        within = (u - lower) / (upper[chosen] - lower)
        return np.asarray(low[chosen] + within * (high[chosen] - low[chosen]))

    def days_back(self, bands: Sequence[tuple[float, float, float]]) -> np.ndarray:
        """Whole days before the as-of date, from bands of days (high end excluded)."""
        return np.floor(self.banded(bands))

    def date(self, days_back: np.ndarray) -> np.ndarray:
        return self.today - np.floor(days_back)

    def event(self, happened: np.ndarray, bands: Sequence[tuple[float, float, float]]) -> np.ndarray:
        """A dated event for rows where it happened, ``never`` elsewhere."""
        return np.where(happened, self.date(self.days_back(bands)), NEVER)

    def dated(self, p: float | np.ndarray, bands: Sequence[tuple[float, float, float]]) -> np.ndarray:
        """An event that happened with probability ``p``, dated in ``bands`` of days back."""
        return self.event(self.chance(p), bands)


def _demographics(b: _Block) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Age in years, female mask, pediatric mask."""
    pediatric = (b.has("SLE") & b.chance(0.2)) | (b.has("IIM") & b.chance(0.04))
    mean = b.per_dx({"SLE": 37, "SS": 52, "SSC": 50, "IIM": 50, "AAV": 60}, 45)
    sd = b.per_dx({"SLE": 12, "AAV": 13}, 13)
    age = np.where(pediatric, b.uniform(5.0, 18.0), b.normal(mean, sd, 18.0, 92.0))
    female = b.chance(np.where(pediatric, 0.85, b.per_dx({"SLE": 0.9, "SS": 0.93, "SSC": 0.82, "IIM": 0.67}, 0.5)))
    with_birth_date = b.chance(0.9)
    b.columns["birth_date"] = np.where(with_birth_date, b.date(age * 365.2425), np.nan)
    b.columns["age_years"] = np.where(with_birth_date, np.nan, np.floor(age * 10) / 10)
    b.columns["sex"] = _Text(np.where(female, 0, 1), ("F", "M"))
    adult_height = np.where(female, b.normal(160, 6.5, 140, 185), b.normal(172, 7, 150, 200))
    child_height = np.minimum(77 + 6.3 * age, np.where(female, 165, 178)) * b.lognormal(1.0, 0.04)
    height = np.where(age < 18, child_height, adult_height)
    bmi = np.where(age < 18, (15.5 + 0.35 * (age - 5)) * b.lognormal(1.0, 0.12), b.lognormal(23.0, 0.16))
    b.columns["weight_kg"] = bmi * (height / 100) ** 2
    b.columns["height_cm"] = np.where(b.chance(np.where(age < 18, 0.95, 0.45)), height, np.nan)
    return age, female, pediatric


def _administrative(b: _Block, options: SynthOptions, first_row: int) -> None:
    b.columns["patient_id"] = np.arange(first_row + 1, first_row + b.size + 1, dtype=float)  # spelled by _to_arrow
    b.columns["site"] = b.pick(_SITES, [0.22, 0.2, 0.16, 0.12, 0.1, 0.08, 0.07, 0.05])
    orders = [";".join(p) for k in (1, 2, 3) for p in itertools.permutations(options.trial_ids, k)]
    lengths = np.array([len(order.split(";")) for order in orders])
    wanted = b.rng.choice(3, b.size, p=[0.5, 0.35, 0.15]) + 1
    first = np.searchsorted(lengths, wanted)
    count = np.searchsorted(lengths, wanted, side="right") - first
    chosen = first + np.floor(b.uniform(0.0, 1.0) * count).astype(int)
    b.columns["preferences"] = _Text(np.where(b.chance(0.3) & (count > 0), chosen, -1), orders)
    priority = b.rng.choice(5, b.size, p=[0.3, 0.3, 0.2, 0.12, 0.08]) + 1.0
    b.columns["priority"] = np.where(b.chance(0.35), priority, np.nan)
    b.columns["consent_signed"] = b.flag(0.86)


def _reproduction(b: _Block, age: np.ndarray, female: np.ndarray) -> None:
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


def _disease_course(b: _Block, age: np.ndarray) -> np.ndarray:
    """Diagnosis, classification, course and relapses; returns days since diagnosis."""
    b.columns["diagnosis"] = _Text(b.dx, b.codes)
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


def _lupus(b: _Block, pediatric: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """SLE scores, serology and nephritis; returns the nephritis mask and the nephritis work-ups.

    A work-up is a biopsy within the last 200 days: the patients a lupus nephritis trial screens.
    """
    sle = b.has("SLE")
    classes = ("none", "II", "III", "IV", "V", "III+V", "IV+V", "VI")
    adult = b.rng.choice(8, b.size, p=[0.55, 0.03, 0.1, 0.14, 0.08, 0.04, 0.05, 0.01])
    child = b.rng.choice(8, b.size, p=[0.45, 0.03, 0.12, 0.2, 0.08, 0.05, 0.06, 0.01])
    ln_class = _Text(np.where(pediatric, child, adult), classes)
    b.columns["lupus_nephritis_class"] = _Text(np.where(sle, ln_class.codes, -1), classes)
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


def _sjogren(b: _Block) -> None:
    ss = b.has("SS")
    b.columns["essdai"] = np.where(ss, np.minimum(np.round(b.rng.gamma(2.2, 4.2, b.size)), 60), np.nan)
    b.columns["anti_ssa"] = b.flag(0.85, where=ss)
    unstimulated = np.where(b.chance(0.08), 0.0, b.lognormal(0.06, 0.9))
    b.columns["saliva_flow_unstimulated_ml_min"] = np.where(ss & b.chance(0.8), unstimulated, np.nan)
    b.columns["saliva_flow_stimulated_ml_min"] = np.where(ss & b.chance(0.6), b.lognormal(0.35, 0.8), np.nan)


def _lungs(b: _Block, subtype: _Text) -> np.ndarray:
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


def _myositis(b: _Block, subtype: _Text) -> None:
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


def _vasculitis(b: _Block, subtype: _Text) -> None:
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
    b.columns["anca_type"] = _Text(np.where(ever, kind, -1), ("PR3", "MPO", "OTHER"))


def _labs(b: _Block, age: np.ndarray, female: np.ndarray, nephritis: np.ndarray, subtype: _Text) -> None:
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


def _heart_and_vitals(b: _Block, age: np.ndarray, nephritis: np.ndarray, ild: np.ndarray) -> None:
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


def _infections_and_history(b: _Block, female: np.ndarray) -> None:
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
    malignancy = _Text(np.where(other_sex, types.index("other"), drawn.codes), types)
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


def _glucocorticoids(b: _Block, age: np.ndarray) -> None:
    equivalent_mg = default_facts().steroid_equivalent_mg
    drugs = tuple(_GLUCOCORTICOID_STEPS)
    on = b.chance(0.88)
    weight = np.asarray(b.columns["weight_kg"])
    prednisone = b.banded([(0.36, 2.5, 10), (0.3, 10, 19), (0.12, 20, 28), (0.08, 30, 40), (0.06, 40, 80)])
    prednisone = np.where(age < 18, np.minimum(prednisone, weight), prednisone)  # children: at most 1 mg/kg
    drug = b.rng.choice(len(drugs), b.size, p=[0.55, 0.12, 0.22, 0.05, 0.06])
    mg_per_5 = np.array([equivalent_mg[name] for name in drugs])[drug]
    step = np.array([_GLUCOCORTICOID_STEPS[name] for name in drugs])[drug]
    dose = np.maximum(np.round(prednisone * mg_per_5 / 5 / step), 1) * step
    b.columns["glucocorticoid"] = _Text(np.where(on, drug, -1), drugs)
    b.columns["glucocorticoid_mg_day"] = np.where(on, dose, 0.0)
    changed = b.date(b.days_back([(0.12, 0, 7), (0.88, 7, 400)]))
    b.columns["glucocorticoid_dose_changed_date"] = np.where(on & b.chance(0.9), changed, NEVER)
    b.columns["glucocorticoid_pulse_date"] = b.dated(0.25, [(0.15, 0, 14), (0.85, 14, 1500)])
    per_kg = np.where(on, prednisone, 0) / weight
    b.columns["high_dose_gc_since_date"] = b.event(per_kg >= 1, [(1.0, 3, 60)])
    b.columns["gc_taper_failed"] = b.flag(np.where(b.has("SLE"), 0.35, 0.25))
    b.columns["high_dose_gc_received"] = b.flag(np.where(b.has("SLE"), 0.7, 0.5))


def _not_before(changed: np.ndarray, start: np.ndarray) -> np.ndarray:
    """A dose change dated no earlier than the course's start (``never`` stays never)."""
    return np.where(np.isneginf(changed), NEVER, np.maximum(changed, start))


def _drugs(b: _Block, since_diagnosis: np.ndarray, nephritis: np.ndarray, work_up: np.ndarray) -> None:
    sle = b.has("SLE")
    antimalarial = b.chance(b.per_dx({"SLE": 0.85, "SS": 0.45, "IIM": 0.15}, 0.05))
    start = np.minimum(b.days_back([(0.08, 7, 84), (0.92, 84, 4000)]), since_diagnosis)
    b.columns["antimalarial_start_date"] = np.where(antimalarial, b.date(start), NEVER)
    changed = b.dated(0.6, [(0.17, 0, 56), (0.83, 56, 1500)])
    b.columns["antimalarial_dose_changed_date"] = np.where(antimalarial, _not_before(changed, b.date(start)), NEVER)

    table = {
        "SLE": [30, 38, 10, 4, 2, 12, 3, 1],
        "SS": [45, 12, 10, 15, 10, 3, 4, 1],
        "SSC": [25, 50, 5, 15, 2, 2, 1, 0],
        "IIM": [15, 17, 12, 30, 1, 20, 5, 0],
        "AAV": [35, 15, 30, 15, 2, 2, 1, 0],
        "OTHER": [40, 15, 15, 20, 5, 3, 2, 0],
    }
    current = b.pick_by_dx(_IMMUNOSUPPRESSANTS, table)
    stopped_for_work_up = work_up & b.chance(0.85)  # a nephritis work-up usually stops the conventional drug
    current.codes = np.where(stopped_for_work_up, 0, current.codes)
    b.columns["immunosuppressant"] = current
    on = current.codes > 0
    start = np.minimum(b.days_back([(0.08, 10, 84), (0.92, 84, 3000)]), since_diagnosis)
    b.columns["immunosuppressant_start_date"] = np.where(on, b.date(start), NEVER)
    changed = b.dated(0.62, [(0.2, 0, 56), (0.8, 56, 1200)])
    b.columns["immunosuppressant_dose_changed_date"] = np.where(on, _not_before(changed, b.date(start)), NEVER)
    stopped = b.dated(np.where(on, 0.35, 0.55), [(0.3, 3, 96), (0.7, 96, 2000)])
    b.columns["immunosuppressant_last_dose"] = np.where(stopped_for_work_up, b.date(b.uniform(30, 400)), stopped)

    b.columns["belimumab_last_dose"] = b.dated(
        np.where(sle, 0.2, 0.0), [(0.3, 0, 35), (0.2, 35, 100), (0.5, 100, 1500)]
    )
    b.columns["telitacicept_last_dose"] = b.dated(
        b.per_dx({"SLE": 0.1, "SS": 0.04}, 0.0), [(0.3, 0, 14), (0.3, 14, 63), (0.4, 63, 1000)]
    )
    anti_cd20 = b.dated(
        b.per_dx({"SLE": 0.15, "AAV": 0.3, "SS": 0.08, "IIM": 0.12, "SSC": 0.1}, 0.05),
        [(0.2, 0, 31), (0.3, 31, 143), (0.5, 143, 1500)],
    )
    b.columns["anti_cd20_last_dose"] = anti_cd20
    depleted = np.isfinite(anti_cd20) & (b.today - anti_cd20 < 270)
    b.columns["cd19_b_cells_detected"] = np.where(b.chance(0.88), b.chance(np.where(depleted, 0.25, 0.9)), np.nan)
    b.columns["other_b_cell_depletion_last_dose"] = b.dated(0.01, [(0.3, 0, 143), (0.7, 143, 1500)])
    b.columns["anifrolumab_last_dose"] = b.dated(np.where(sle, 0.05, 0.0), [(0.5, 0, 113), (0.5, 113, 800)])
    b.columns["tocilizumab_last_dose"] = b.dated(b.per_dx({"SSC": 0.12}, 0.02), [(0.4, 0, 66), (0.6, 66, 1000)])
    other = b.chance(0.05)
    b.columns["other_biologic"] = b.pick(("abatacept", "obinutuzumab"), [0.7, 0.3], where=other)
    b.columns["other_biologic_last_dose"] = b.event(other, [(0.3, 0, 143), (0.7, 143, 1500)])
    cyclophosphamide = np.where(nephritis, 0.3, b.per_dx({"SLE": 0.1, "AAV": 0.35, "SSC": 0.2, "IIM": 0.08}, 0.03))
    b.columns["cyclophosphamide_last_dose"] = b.dated(cyclophosphamide, [(0.1, 0, 3), (0.9, 3, 2500)])
    b.columns["ivig_last_dose"] = b.dated(b.per_dx({"IIM": 0.3, "SLE": 0.04}, 0.03), [(0.3, 0, 31), (0.7, 31, 800)])
    b.columns["live_vaccine_date"] = b.dated(0.1, [(0.25, 0, 27), (0.3, 27, 45), (0.45, 45, 2500)])
    _drug_names_and_history(b, stopped_for_work_up, antimalarial, anti_cd20)


def _drug_names_and_history(
    b: _Block, stopped_for_work_up: np.ndarray, antimalarial: np.ndarray, anti_cd20: np.ndarray
) -> None:
    """Which drug a recorded last dose was, so its own half-life applies, and treatment history a row may not show."""
    stopped = np.isfinite(b.columns["immunosuppressant_last_dose"])  # type: ignore[arg-type]
    before_work_up = b.pick(_IMMUNOSUPPRESSANTS[1:], [40, 25, 15, 5, 10, 5, 0])
    other_drug = b.pick(_IMMUNOSUPPRESSANTS[1:], [35, 25, 20, 8, 8, 4, 0])
    names = np.where(stopped_for_work_up, before_work_up.codes + 1, np.where(stopped, other_drug.codes + 1, 0))
    b.columns["stopped_immunosuppressant"] = _Text(np.where(b.chance(0.9), names, -1), _IMMUNOSUPPRESSANTS)
    given = np.isfinite(anti_cd20)
    named = b.pick(("none", "rituximab", "obinutuzumab", "ocrelizumab"), [0, 85, 10, 5])
    b.columns["anti_cd20_drug"] = _Text(np.where(given, np.where(b.chance(0.85), named.codes, -1), 0), named.labels)
    b.columns["b_cell_therapy_failed"] = b.flag(0.55, where=given)
    b.columns["hydroxychloroquine_ever"] = np.where(antimalarial, 1.0, b.flag(b.per_dx({"SLE": 0.7, "SS": 0.3}, 0.05)))
    b.columns["aecg_2002_met"] = b.flag(0.8, where=b.has("SS"))


def _draw_block(options: SynthOptions, index: int, size: int) -> dict[str, Column]:
    """Every column of one block of patients, blanks applied."""
    b = _Block(options, index, size)
    _administrative(b, options, index * BLOCK_ROWS)
    age, female, pediatric = _demographics(b)
    _reproduction(b, age, female)
    since_diagnosis = _disease_course(b, age)
    subtype = b.columns["diagnosis_subtype"]
    assert isinstance(subtype, _Text)
    nephritis, work_up = _lupus(b, pediatric)
    _sjogren(b)
    ild = _lungs(b, subtype)
    _myositis(b, subtype)
    _vasculitis(b, subtype)
    _labs(b, age, female, nephritis, subtype)
    _heart_and_vitals(b, age, nephritis, ild)
    _infections_and_history(b, female)
    _glucocorticoids(b, age)
    _drugs(b, since_diagnosis, nephritis, work_up)
    _blank(b.columns, options, index, size)
    return b.columns


def _blank(values: dict[str, Column], options: SynthOptions, index: int, size: int) -> None:
    """Blank each clinical cell with probability ``blank_fraction`` (one draw per cell, in contract order)."""
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(options.seed, spawn_key=(index, 1))))
    for name in columns():
        if name not in values or name in _NEVER_BLANKED:
            continue
        drop = rng.random(size, dtype=np.float32) < options.blank_fraction
        column = values[name]
        if isinstance(column, _Text):
            column.codes = np.where(drop, -1, column.codes)
        else:
            values[name] = np.where(drop, np.nan, column)
    # A dose without the drug's name is a data error, not an unknown: blank the dose with it.
    drug, dose = values["glucocorticoid"], values["glucocorticoid_mg_day"]
    assert isinstance(drug, _Text) and isinstance(dose, np.ndarray)
    values["glucocorticoid_mg_day"] = np.where((drug.codes < 0) & (dose > 0), np.nan, dose)


def _headers(options: SynthOptions, names: Sequence[str]) -> list[str]:
    contract = columns()
    if not options.unit_variants:
        return list(names)
    return [f"{contract[n].stem}[{_UNIT_VARIANTS[n][0]}]" if n in _UNIT_VARIANTS else n for n in names]


def _arrow_type(kind: str) -> pa.DataType:
    return {"float": pa.float64(), "int": pa.int64(), "bool": pa.bool_()}.get(kind, pa.string())


def _schema(options: SynthOptions, names: Sequence[str]) -> pa.Schema:
    contract = columns()
    headers = _headers(options, names)
    return pa.schema([pa.field(h, _arrow_type(contract[n].kind)) for h, n in zip(headers, names, strict=True)])


@cache
def _iso_days(as_of: dt.date, count: int) -> pa.Array:
    """ISO spellings of the ``count`` days up to ``as_of`` (index = days back), then ``never``."""
    days = pa.array(np.arange((as_of - EPOCH).days, (as_of - EPOCH).days - count, -1, dtype=np.int32), pa.date32())
    return pa.concat_arrays([pc.cast(days, pa.string()), pa.array(["never"])])


def _decoded(codes: np.ndarray, labels: pa.Array) -> pa.Array:
    indices = pa.array(codes.astype(np.int32), mask=codes < 0)
    return pa.DictionaryArray.from_arrays(indices, labels).dictionary_decode()


def _to_arrow(name: str, column: Column, options: SynthOptions) -> pa.Array:
    contract = columns()[name]
    if isinstance(column, _Text):
        return _decoded(column.codes, pa.array(list(column.labels), pa.string()))
    if contract.kind == "id":
        digits = pc.cast(pa.array(column.astype(np.int64)), pa.string())
        return pc.binary_join_element_wise("S", pc.utf8_lpad(digits, max(6, len(str(options.rows))), "0"), "")
    blank = np.isnan(column)
    if contract.kind == "date":
        back = (options.as_of - EPOCH).days - column
        finite = np.isfinite(back)
        count = 1 << int(back[finite].max(initial=0)).bit_length()  # few distinct tables, cached
        return _decoded(np.where(finite, back, np.where(blank, -1, count)), _iso_days(options.as_of, count))
    if contract.kind == "bool":
        return pa.array(column == 1, pa.bool_(), mask=blank)
    if contract.kind == "int":
        return pa.array(np.where(blank, 0, np.round(column)).astype(np.int64), pa.int64(), mask=blank)
    decimals = _DECIMALS.get(name, 2)
    if options.unit_variants and name in _UNIT_VARIANTS:
        unit, decimals = _UNIT_VARIANTS[name]
        column = column / conversion_factor(name, unit, contract.unit, contract.molar_mass_g_mol)
    return pa.array(np.round(column, decimals) + 0.0, pa.float64(), mask=blank)  # + 0.0 turns -0.0 into 0.0


@cache
def column_names() -> tuple[str, ...]:
    """The contract columns a synthetic cohort has, in contract order."""
    drawn = _draw_block(SynthOptions(rows=1, trial_ids=("T",)), 0, 1)
    return tuple(name for name in columns() if name in drawn)


def _blocks(options: SynthOptions) -> Iterator[pa.Table]:
    names = column_names()
    schema = _schema(options, names)
    for index, start in enumerate(range(0, options.rows, BLOCK_ROWS)):
        drawn = _draw_block(options, index, min(BLOCK_ROWS, options.rows - start))
        yield pa.Table.from_arrays([_to_arrow(name, drawn[name], options) for name in names], schema=schema)


def generate(options: SynthOptions, chunk_rows: int = CHUNK_ROWS) -> Iterator[pa.Table]:
    """The cohort as Arrow tables of ``chunk_rows`` rows (the last may be shorter); memory stays bounded."""
    if chunk_rows < 1:
        raise MatcherError(f"chunk_rows must be at least 1, not {chunk_rows}")
    pending: list[pa.Table] = []
    pending_rows = 0
    for block in _blocks(options):
        pending.append(block)
        pending_rows += block.num_rows
        while pending_rows >= chunk_rows:
            merged = pa.concat_tables(pending)
            yield merged.slice(0, chunk_rows)
            pending, pending_rows = [merged.slice(chunk_rows)], pending_rows - chunk_rows
    if pending_rows:
        yield pa.concat_tables(pending)


def write_cohort(
    path: str | Path,
    options: SynthOptions,
    chunk_rows: int = CHUNK_ROWS,
    progress: Callable[[int, int], None] | None = None,
) -> None:
    """Stream the cohort to ``path``: Parquet when it ends in .parquet, else CSV.

    Written to a temporary file beside it and renamed, so an interrupted run
    leaves no half-written cohort.  ``progress(rows_done, rows)`` is called
    after each chunk.
    """
    target = Path(path)
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    schema = _schema(options, column_names())
    tables = generate(options, chunk_rows)
    try:
        with open(temporary, "wb") as sink:
            if target.suffix.lower() in (".parquet", ".pq"):
                writer: pq.ParquetWriter | pacsv.CSVWriter = pq.ParquetWriter(sink, schema)
            else:
                sink.write((",".join(schema.names) + "\n").encode("utf-8"))
                spelling = pacsv.WriteOptions(include_header=False, quoting_style="none", batch_size=8192)
                writer = pacsv.CSVWriter(sink, schema, write_options=spelling)
            with writer:
                done = 0
                for table in tables:
                    writer.write_table(table)
                    done += table.num_rows
                    if progress:
                        progress(done, options.rows)
        os.replace(temporary, target)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise MatcherError(f"{target}: cannot write the cohort ({exc.strerror or exc})") from exc
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
