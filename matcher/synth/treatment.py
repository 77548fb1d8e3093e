"""Treatment histories: glucocorticoid doses and changes, immunosuppressants, biologics and their last doses."""

from __future__ import annotations

import numpy as np

from matcher.facts import default_facts
from matcher.synth.draws import NEVER, Block, Text

# Tablet steps: doses are multiples of these (mg/day).
GLUCOCORTICOID_STEPS = {
    "prednisone": 2.5,
    "prednisolone": 2.5,
    "methylprednisolone": 2.0,
    "dexamethasone": 0.75,
    "hydrocortisone": 10.0,
}


IMMUNOSUPPRESSANTS = (
    "none",
    "mycophenolate",
    "azathioprine",
    "methotrexate",
    "leflunomide",
    "tacrolimus",
    "cyclosporine",
    "sirolimus",
)


def glucocorticoids(b: Block, age: np.ndarray) -> None:
    equivalent_mg = default_facts().steroid_equivalent_mg
    drugs = tuple(GLUCOCORTICOID_STEPS)
    on = b.chance(0.88)
    weight = np.asarray(b.columns["weight_kg"])
    prednisone = b.banded([(0.36, 2.5, 10), (0.3, 10, 19), (0.12, 20, 28), (0.08, 30, 40), (0.06, 40, 80)])
    prednisone = np.where(age < 18, np.minimum(prednisone, weight), prednisone)  # children: at most 1 mg/kg
    drug = b.rng.choice(len(drugs), b.size, p=[0.55, 0.12, 0.22, 0.05, 0.06])
    mg_per_5 = np.array([equivalent_mg[name] for name in drugs])[drug]
    step = np.array([GLUCOCORTICOID_STEPS[name] for name in drugs])[drug]
    dose = np.maximum(np.round(prednisone * mg_per_5 / 5 / step), 1) * step
    b.columns["glucocorticoid"] = Text(np.where(on, drug, -1), drugs)
    b.columns["glucocorticoid_mg_day"] = np.where(on, dose, 0.0)
    changed = b.date(b.days_back([(0.12, 0, 7), (0.88, 7, 400)]))
    b.columns["glucocorticoid_dose_changed_date"] = np.where(on & b.chance(0.9), changed, NEVER)
    b.columns["glucocorticoid_pulse_date"] = b.dated(0.25, [(0.15, 0, 14), (0.85, 14, 1500)])
    per_kg = np.where(on, prednisone, 0) / weight
    b.columns["high_dose_gc_since_date"] = b.event(per_kg >= 1, [(1.0, 3, 60)])
    b.columns["gc_taper_failed"] = b.flag(np.where(b.has("SLE"), 0.35, 0.25))
    b.columns["high_dose_gc_received"] = b.flag(np.where(b.has("SLE"), 0.7, 0.5))


def not_before(changed: np.ndarray, start: np.ndarray) -> np.ndarray:
    """A dose change dated no earlier than the course's start (``never`` stays never)."""
    return np.where(np.isneginf(changed), NEVER, np.maximum(changed, start))


def drugs(b: Block, since_diagnosis: np.ndarray, nephritis: np.ndarray, work_up: np.ndarray) -> None:
    sle = b.has("SLE")
    antimalarial = b.chance(b.per_dx({"SLE": 0.85, "SS": 0.45, "IIM": 0.15}, 0.05))
    start = np.minimum(b.days_back([(0.08, 7, 84), (0.92, 84, 4000)]), since_diagnosis)
    b.columns["antimalarial_start_date"] = np.where(antimalarial, b.date(start), NEVER)
    changed = b.dated(0.6, [(0.17, 0, 56), (0.83, 56, 1500)])
    b.columns["antimalarial_dose_changed_date"] = np.where(antimalarial, not_before(changed, b.date(start)), NEVER)

    table = {
        "SLE": [30, 38, 10, 4, 2, 12, 3, 1],
        "SS": [45, 12, 10, 15, 10, 3, 4, 1],
        "SSC": [25, 50, 5, 15, 2, 2, 1, 0],
        "IIM": [15, 17, 12, 30, 1, 20, 5, 0],
        "AAV": [35, 15, 30, 15, 2, 2, 1, 0],
        "OTHER": [40, 15, 15, 20, 5, 3, 2, 0],
    }
    current = b.pick_by_dx(IMMUNOSUPPRESSANTS, table)
    stopped_for_work_up = work_up & b.chance(0.85)  # a nephritis work-up usually stops the conventional drug
    current.codes = np.where(stopped_for_work_up, 0, current.codes)
    b.columns["immunosuppressant"] = current
    on = current.codes > 0
    start = np.minimum(b.days_back([(0.08, 10, 84), (0.92, 84, 3000)]), since_diagnosis)
    b.columns["immunosuppressant_start_date"] = np.where(on, b.date(start), NEVER)
    changed = b.dated(0.62, [(0.2, 0, 56), (0.8, 56, 1200)])
    b.columns["immunosuppressant_dose_changed_date"] = np.where(on, not_before(changed, b.date(start)), NEVER)
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
    drug_names_and_history(b, stopped_for_work_up, antimalarial, anti_cd20)


def drug_names_and_history(
    b: Block, stopped_for_work_up: np.ndarray, antimalarial: np.ndarray, anti_cd20: np.ndarray
) -> None:
    """Which drug a recorded last dose was, so its own half-life applies, and treatment history a row may not show."""
    stopped = np.isfinite(b.columns["immunosuppressant_last_dose"])  # type: ignore[arg-type]
    before_work_up = b.pick(IMMUNOSUPPRESSANTS[1:], [40, 25, 15, 5, 10, 5, 0])
    other_drug = b.pick(IMMUNOSUPPRESSANTS[1:], [35, 25, 20, 8, 8, 4, 0])
    names = np.where(stopped_for_work_up, before_work_up.codes + 1, np.where(stopped, other_drug.codes + 1, 0))
    b.columns["stopped_immunosuppressant"] = Text(np.where(b.chance(0.9), names, -1), IMMUNOSUPPRESSANTS)
    given = np.isfinite(anti_cd20)
    named = b.pick(("none", "rituximab", "obinutuzumab", "ocrelizumab"), [0, 85, 10, 5])
    b.columns["anti_cd20_drug"] = Text(np.where(given, np.where(b.chance(0.85), named.codes, -1), 0), named.labels)
    b.columns["b_cell_therapy_failed"] = b.flag(0.55, where=given)
    b.columns["hydroxychloroquine_ever"] = np.where(antimalarial, 1.0, b.flag(b.per_dx({"SLE": 0.7, "SS": 0.3}, 0.05)))
    b.columns["aecg_2002_met"] = b.flag(0.8, where=b.has("SS"))
