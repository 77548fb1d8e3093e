"""Derived quantities, computed once per screening date and set of facts.

Formulas (docs/clinical-facts.md):

* ``age``: completed years at the as-of date from ``birth_date`` (a 29 February
  birthday falls on 1 March in common years); without a birth date, the whole
  part of ``age_years`` (the age at the cohort's screening date) grown by the
  days since, at 365.25 a year (``birthdays``).
* ``prednisone_equivalent_mg_day``: ``glucocorticoid_mg_day`` x 5 / (mg of the drug
  equivalent to 5 mg prednisone), rounded to 1e-6 mg;
  0 mg is 0 whatever the drug.  ``prednisone_equivalent_mg_kg_day`` divides by weight.
* ``egfr_ml_min_1_73m2``: the reported value, else computed from serum creatinine
  (mg/dL): bedside Schwartz ``0.413 x height_cm / Scr`` before the 18th birthday,
  CKD-EPI 2021 (race-free) from it on.
* ``crcl_ml_min``: the reported value, else Cockcroft-Gault with actual weight
  ``(140 - age) x weight / (72 x Scr)``, x 0.85 for women.
* Both with the age on the date screened, so a later date may move them (a birthday lowers
  CKD-EPI and Cockcroft-Gault, and the 18th turns Schwartz into CKD-EPI): the CP-SAT
  compiler models them per birthday (``at_ages``), as it does the age, and a fresh screen
  on a plan's date agrees with the plan.

Each derived value also says, per row, which blank inputs left it unknown, so a
verdict can name the columns to measure.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from matcher.facts import Facts


class Cohort(Protocol):
    """What derivation reads of a cohort (matcher.cohort.Cohort is one); derived values sit below the loader."""

    def column(self, name: str) -> np.ndarray: ...

    def text_codes(self, name: str) -> tuple[np.ndarray, list[str]]: ...

    def per_word(self, name: str, value: Callable[[str], object], blank: object) -> np.ndarray: ...

    @property
    def screened_on(self) -> dt.date | None: ...


def calendar_parts(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Year, month and day of month of finite day numbers (others give garbage, mask them)."""
    safe = np.where(np.isfinite(days), days, 0).astype("int64").astype("datetime64[D]")
    months = safe.astype("datetime64[M]")
    year = safe.astype("datetime64[Y]").astype(int) + 1970
    month = months.astype(int) % 12 + 1
    day = (safe - months).astype(int) + 1
    return year, month, day


def completed_years(birth_days: np.ndarray, as_of: dt.date) -> np.ndarray:
    year, month, day = calendar_parts(birth_days)
    before_birthday = (as_of.month < month) | ((as_of.month == month) & (as_of.day < day))
    age = (as_of.year - year - before_birthday).astype(float)
    age[~np.isfinite(birth_days)] = np.nan
    return age


@dataclass
class Derived:
    """A derived field's values and, per input column, the rows where that blank input made it unknown.

    ``by_sex``: where only a blank sex leaves the value unknown, its value for a woman and for a man
    (NaN elsewhere), so a criterion both values decide alike is decided all the same.
    """

    values: np.ndarray
    blanks: dict[str, np.ndarray]
    by_sex: tuple[np.ndarray, np.ndarray] | None = None


def _completed_on(whole: Any, years: Any) -> Any:
    """The day after the screening date on which a patient aged ``years`` then completes ``whole`` years, at 365.25
    days a year: the one rule the evaluator (``_years_grown``) and the CP-SAT compiler (``birthdays``) count by, so
    a plan's later date and a screen on that date agree."""
    return np.ceil((whole - years) * 365.25)


def birthdays(years: float, until: int) -> list[int]:
    """The days after the screening date, up to ``until``, on which a patient aged ``years`` then (``age_years``,
    no birth date) completes another year."""
    days, whole = [], np.floor(years) + 1
    while (day := int(_completed_on(whole, years))) <= until:
        days.append(day)
        whole += 1
    return days


def _years_grown(years: np.ndarray, days: int) -> np.ndarray:
    """Completed years ``days`` after the screening date of patients aged ``years`` then (review 39 M1: the
    whole part of ``age_years`` was read on every later date, so a plan enrolled a 19-year-old where 18 is the
    maximum, and a 4.9-year-old never reached a minimum of 5)."""
    grown = np.floor(years)
    whole = grown + 1
    for _ in range(max(days, 0) // 365 + 2):  # at most one year more per 365.25 days, and one partial year
        reached = _completed_on(whole, years) <= days
        grown = np.where(reached, whole, grown)
        whole = whole + 1
    return grown


def _age(cohort: Cohort, as_of: dt.date) -> Derived:
    from_birth = completed_years(cohort.column("birth_date"), as_of)
    since = (as_of - (cohort.screened_on or as_of)).days
    age = np.where(np.isnan(from_birth), _years_grown(cohort.column("age_years"), since), from_birth)
    return Derived(age, {"birth_date": np.isnan(age)})


def _prednisone(cohort: Cohort, facts: Facts) -> Derived:
    dose = cohort.column("glucocorticoid_mg_day")
    equivalent_mg = facts.steroid_equivalent_mg
    factor = cohort.per_word("glucocorticoid", lambda name: 5.0 / equivalent_mg.get(name, np.nan), np.nan)
    # Rounded to 1e-6 mg so that exact equivalents (4.5 mg dexamethasone = 30 mg) meet their limits.
    equivalent = np.where(dose == 0, 0.0, np.round(dose * factor, 6))
    blanks = {
        "glucocorticoid_mg_day": np.isnan(dose),
        "glucocorticoid": np.isnan(equivalent) & ~np.isnan(dose),
    }
    return Derived(equivalent, blanks)


def _per_kg(prednisone: Derived, cohort: Cohort) -> Derived:
    weight = cohort.column("weight_kg")
    per_kg = prednisone.values / np.where(weight > 0, weight, np.nan)
    blanks = dict(prednisone.blanks)
    blanks["weight_kg"] = np.isnan(weight) & (prednisone.values != 0)
    per_kg = np.where(prednisone.values == 0, 0.0, per_kg)
    return Derived(np.round(per_kg, 6), blanks)


def ckd_epi_2021(creatinine_mg_dl: np.ndarray, age: np.ndarray, female: np.ndarray) -> np.ndarray:
    """CKD-EPI 2021 race-free eGFR (Inker et al., NEJM 2021;385:1737)."""
    kappa = np.where(female, 0.7, 0.9)
    alpha = np.where(female, -0.241, -0.302)
    ratio = creatinine_mg_dl / kappa
    egfr = 142.0 * np.minimum(ratio, 1.0) ** alpha * np.maximum(ratio, 1.0) ** -1.200 * 0.9938**age
    return np.asarray(np.where(female, egfr * 1.012, egfr))


def bedside_schwartz(creatinine_mg_dl: np.ndarray, height_cm: np.ndarray) -> np.ndarray:
    return np.asarray(0.413 * height_cm / creatinine_mg_dl)


def cockcroft_gault(
    creatinine_mg_dl: np.ndarray, age: np.ndarray, weight_kg: np.ndarray, female: np.ndarray
) -> np.ndarray:
    crcl = (140.0 - age) * weight_kg / (72.0 * creatinine_mg_dl)
    return np.asarray(np.where(female, crcl * 0.85, crcl))


def _sex(cohort: Cohort) -> tuple[np.ndarray, np.ndarray]:
    """(female, blank) per patient."""
    return cohort.per_word("sex", lambda spelling: spelling == "f", False), cohort.text_codes("sex")[0] < 0


def _egfr(cohort: Cohort, age: Derived) -> Derived:
    reported = cohort.column("egfr_ml_min_1_73m2")
    scr = np.where(cohort.column("creatinine_mg_dl") > 0, cohort.column("creatinine_mg_dl"), np.nan)
    height = cohort.column("height_cm")
    female, sex_blank = _sex(cohort)
    with np.errstate(invalid="ignore", divide="ignore"):
        adult = ckd_epi_2021(scr, age.values, female)
        adult[sex_blank] = np.nan
        child = bedside_schwartz(scr, height)
    computed = np.where(age.values >= 18, adult, np.where(age.values < 18, child, np.nan))
    egfr = np.where(np.isnan(reported), np.round(computed, 6), reported)
    unknown = np.isnan(egfr)
    blanks = {
        "creatinine_mg_dl": unknown & np.isnan(scr),
        "birth_date": unknown & np.isnan(age.values),
        "sex": unknown & sex_blank & ~(age.values < 18),
        "height_cm": unknown & np.isnan(height) & ~(age.values >= 18),
    }
    either = unknown & sex_blank & (age.values >= 18)
    return Derived(egfr, blanks, _by_sex(either, lambda woman: ckd_epi_2021(scr, age.values, woman)))


def _crcl(cohort: Cohort, age: Derived) -> Derived:
    reported = cohort.column("crcl_ml_min")
    scr = np.where(cohort.column("creatinine_mg_dl") > 0, cohort.column("creatinine_mg_dl"), np.nan)
    weight = cohort.column("weight_kg")
    female, sex_blank = _sex(cohort)
    with np.errstate(invalid="ignore", divide="ignore"):
        computed = cockcroft_gault(scr, age.values, weight, female)
    computed[sex_blank] = np.nan
    crcl = np.where(np.isnan(reported), np.round(computed, 6), reported)
    unknown = np.isnan(crcl)
    blanks = {
        "creatinine_mg_dl": unknown & np.isnan(scr),
        "birth_date": unknown & np.isnan(age.values),
        "weight_kg": unknown & np.isnan(weight),
        "sex": unknown & sex_blank,
    }
    return Derived(
        crcl, blanks, _by_sex(unknown & sex_blank, lambda woman: cockcroft_gault(scr, age.values, weight, woman))
    )


def _by_sex(rows: np.ndarray, formula: Callable[[np.ndarray], np.ndarray]) -> tuple[np.ndarray, np.ndarray] | None:
    """The formula's values for a woman and for a man at ``rows`` (NaN elsewhere, and where it has no value)."""
    if not rows.any():
        return None
    with np.errstate(invalid="ignore", divide="ignore"):
        values = [np.round(formula(np.full(len(rows), woman)), 6) for woman in (True, False)]
    return np.where(rows, values[0], np.nan), np.where(rows, values[1], np.nan)


# Values estimated with the age (ir.AGEING names them too): a birthday may move them.
ESTIMATED_WITH_AGE: dict[str, Callable[[Cohort, Derived], Derived]] = {
    "egfr_ml_min_1_73m2": _egfr,
    "crcl_ml_min": _crcl,
}


def derive(
    cohort: Cohort, as_of: dt.date, facts: Facts, same_date: dict[str, Derived] | None = None
) -> dict[str, Derived]:
    """All derived fields for one screening date and set of facts.

    ``same_date``: the fields already derived for this cohort and date under other facts;
    those the facts do not change (age, eGFR, CrCl) are taken from it.
    """
    prednisone = _prednisone(cohort, facts)
    if same_date is None:
        age = _age(cohort, as_of)
        fact_free = {"age": age, **{name: estimate(cohort, age) for name, estimate in ESTIMATED_WITH_AGE.items()}}
    else:
        fact_free = {name: same_date[name] for name in ("age", *ESTIMATED_WITH_AGE)}
    return {
        **fact_free,
        "prednisone_equivalent_mg_day": prednisone,
        "prednisone_equivalent_mg_kg_day": _per_kg(prednisone, cohort),
    }


@dataclass(frozen=True)
class _Rows:
    """Some rows of a cohort, as a cohort: one patient's values derived at other ages, without the others'."""

    cohort: Cohort
    rows: np.ndarray

    def column(self, name: str) -> np.ndarray:
        return self.cohort.column(name)[self.rows]

    def text_codes(self, name: str) -> tuple[np.ndarray, list[str]]:
        codes, words = self.cohort.text_codes(name)
        return codes[self.rows], words

    def per_word(self, name: str, value: Callable[[str], object], blank: object) -> np.ndarray:
        codes, words = self.text_codes(name)
        return np.array([value(word) for word in words] + [blank])[codes]

    @property
    def screened_on(self) -> dt.date | None:
        return self.cohort.screened_on


def at_ages(cohort: Cohort, row: int, field: str, ages: list[float]) -> Derived:
    """A value estimated with the age (``ESTIMATED_WITH_AGE``) for patient ``row`` at each of ``ages``, by the
    formula the evaluator applies on the date the patient is that old: the compiler's value between birthdays."""
    ages_array = np.asarray(ages, dtype=float)
    return ESTIMATED_WITH_AGE[field](_Rows(cohort, np.full(len(ages), row)), Derived(ages_array, {}))
