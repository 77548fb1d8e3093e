"""Candidate patient-trial pairs (arcs), their lexicographic weights, and the reduction to the few that can matter."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from matcher.cohort import Cohort
from matcher.errors import MatcherError
from matcher.plans import Plan
from matcher.scenario import QuotaRule
from matcher.screening import ELIGIBLE, Screening

_INT64_SAFE = 2**62  # weights stay below this, so CP-SAT sums of them never overflow

LEVELS = ("enrolled", "kept", "priority", "preference", "days")
# deterministic seconds for the patient_id tie-break of allocate and schedule: the best found then stands
TIE_BREAK_LIMIT = 2.0


@dataclass
class Arcs:
    """Candidate patient-trial pairs, as parallel arrays."""

    row: np.ndarray  # patient row in the cohort
    trial: np.ndarray  # trial index
    days: np.ndarray  # days until the planned date (0: eligible now)
    rank: np.ndarray  # preference rank minus one
    priority: np.ndarray
    kept: np.ndarray  # 1 where this is the patient's previous assignment

    def __len__(self) -> int:
        return len(self.row)

    def take(self, index: np.ndarray) -> Arcs:
        return Arcs(*(getattr(self, name)[index] for name in ("row", "trial", "days", "rank", "priority", "kept")))


def lexicographic_factors(max_totals: list[int]) -> list[int]:
    """Factors that make sum(factor_k * level_k) order solutions lexicographically by level.

    ``max_totals[k]`` bounds level k's total over any solution (levels are >= 0).
    """
    factors = [0] * len(max_totals)
    weight = 1
    for k in range(len(max_totals) - 1, -1, -1):
        factors[k] = weight
        weight += max_totals[k] * weight
    if weight >= _INT64_SAFE:
        raise MatcherError("the allocation objective is too large to solve exactly; reduce priorities")
    return factors


def _preference_ranks(cohort: Cohort, trial_ids: list[str], rows: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """(len(rows) x trials) preference rank minus one; -1 where the trial is not accepted."""
    raw = cohort.column("preferences")[rows]
    ranks = np.zeros((len(rows), len(trial_ids)), dtype=np.int64)
    stated = np.flatnonzero(raw != None)  # noqa: E711 - elementwise on an object array
    if not len(stated):
        return ranks, []
    unique, inverse = np.unique(raw[stated].astype(str), return_inverse=True)
    table = np.zeros((len(unique), len(trial_ids)), dtype=np.int64)
    unknown: set[str] = set()
    for index, text in enumerate(unique.tolist()):
        listed = [part.strip() for part in text.split(";") if part.strip()]
        unknown |= set(listed) - set(trial_ids)
        if listed:
            table[index] = [listed.index(t) if t in listed else -1 for t in trial_ids]
    ranks[stated] = table[inverse.reshape(-1)]
    warnings = [f"column preferences names trials not considered: {', '.join(sorted(unknown))}"] if unknown else []
    return ranks, warnings


def _priorities(cohort: Cohort) -> np.ndarray:
    values = cohort.column("priority")
    return np.where(np.isnan(values), 1, values).astype(np.int64)


def candidate_arcs(
    screening: Screening, plans: list[Plan] | None, within: int | None, previous: dict[int, int]
) -> tuple[Arcs, dict[tuple[int, int], Plan], list[str]]:
    """Eligible pairs (and near-eligible ones within the horizon), respecting preferences."""
    cohort = screening.cohort
    trial_ids = [r.trial.id for r in screening.results]
    priority = _priorities(cohort)
    rows, trials, days = [], [], []
    for t, result in enumerate(screening.results):
        eligible = np.flatnonzero(result.status == ELIGIBLE)
        rows.append(eligible)
        trials.append(np.full(len(eligible), t))
        days.append(np.zeros(len(eligible), dtype=np.int64))
    plan_of: dict[tuple[int, int], Plan] = {}
    if plans and within is not None:
        row_of = {str(pid): i for i, pid in enumerate(cohort.ids)}
        near = []
        for p in plans:
            ahead = _days_ahead(p, screening.as_of, within)
            if p.eligible_pending_results and ahead is not None:
                key = (row_of[p.patient_id], trial_ids.index(p.trial_id))
                plan_of[key] = p
                near.append((*key, ahead))
        if near:
            block = np.array(near, dtype=np.int64)
            rows.append(block[:, 0])
            trials.append(block[:, 1])
            days.append(block[:, 2])
    row = np.concatenate(rows).astype(np.int64)
    trial = np.concatenate(trials).astype(np.int64)
    wait = np.concatenate(days).astype(np.int64)
    patients, position = np.unique(row, return_inverse=True)
    ranks, warnings = _preference_ranks(cohort, trial_ids, patients)
    rank = ranks[position.reshape(-1), trial]
    accepted = rank >= 0
    row, trial, wait, rank = row[accepted], trial[accepted], wait[accepted], rank[accepted]
    previous_trial = np.full(len(cohort.ids), -1, dtype=np.int64)
    for patient_row, trial_index in previous.items():
        previous_trial[patient_row] = trial_index
    kept = (previous_trial[row] == trial).astype(np.int64)
    return Arcs(row, trial, wait, rank, priority[row], kept), plan_of, warnings


def _days_ahead(plan: Plan, as_of: dt.date, within: int) -> int | None:
    """Days from ``as_of`` to a plan's date if it falls within ``within`` days (today only with a step to take)."""
    if plan.earliest_date is None:
        return None
    ahead = (plan.earliest_date - as_of).days
    return ahead if 0 < ahead <= within or (ahead == 0 and plan.actions) else None


def held_back(screening: Screening, plans: list[Plan] | None, within: int | None) -> dict[int, list[Plan]]:
    """Per patient row, the plans within the horizon that no allocation takes: they end undecided by more than
    the results their own tests await (a date or a name to record first)."""
    found: dict[int, list[Plan]] = {}
    if not plans or within is None:
        return found
    row_of = {str(pid): i for i, pid in enumerate(screening.cohort.ids)}
    for p in plans:
        if p.reachable and not p.eligible_pending_results and _days_ahead(p, screening.as_of, within) is not None:
            found.setdefault(row_of[p.patient_id], []).append(p)
    return found


def _weights(arcs: Arcs, capacity: int, n_trials: int, kept_total: int) -> np.ndarray:
    """One integer weight per arc: levels 1-5 folded lexicographically."""
    if not len(arcs):
        return np.zeros(0, dtype=np.int64)
    priority = arcs.priority - arcs.priority.min()
    horizon = int(arcs.days.max())
    levels = [
        np.ones(len(arcs), dtype=np.int64),
        arcs.kept,
        priority,
        (n_trials - 1) - arcs.rank,
        horizon - arcs.days,
    ]
    totals = [capacity, kept_total, capacity * int(priority.max()), capacity * (n_trials - 1), capacity * horizon]
    factors = lexicographic_factors(totals)
    return sum((np.int64(f) * level for f, level in zip(factors, levels, strict=True)), np.zeros(len(arcs), np.int64))


def _signatures(cohort: Cohort, rows: np.ndarray, quotas: list[QuotaRule]) -> np.ndarray:
    """Per arc, a code for which quota groups its patient belongs to."""
    code = np.zeros(len(rows), dtype=np.int64)
    for bit, quota in enumerate(quotas):
        code |= (quota_member(cohort, quota)[rows].astype(np.int64)) << bit
    return code


def quota_member(cohort: Cohort, quota: QuotaRule) -> np.ndarray:
    values = cohort.column(quota.column)
    if values.dtype == object:
        return np.array([isinstance(v, str) and v.lower() == quota.value.lower() for v in values], dtype=bool)
    if values.dtype == np.int8:
        return values == (2 if quota.value.lower() in ("true", "yes", "1") else 0)
    return values == float(quota.value)


def reduce_arcs(arcs: Arcs, weights: np.ndarray, order: np.ndarray, keep: int, groups: np.ndarray) -> np.ndarray:
    """Indices of the arcs that can be needed: per trial and quota group, the top ``keep`` by weight."""
    chosen = [np.flatnonzero(arcs.kept == 1)]
    for t in np.unique(arcs.trial):
        for g in np.unique(groups[arcs.trial == t]):
            index = np.flatnonzero((arcs.trial == t) & (groups == g))
            if len(index) > keep:
                best = np.lexsort((order[index], -weights[index]))[:keep]
                index = index[best]
            chosen.append(index)
    return np.unique(np.concatenate(chosen))


def _id_order(cohort: Cohort, rows: np.ndarray) -> np.ndarray:
    """Per row, the patient's position in patient_id order among the given rows' patients."""
    patients, position = np.unique(rows, return_inverse=True)
    rank = np.empty(len(patients), dtype=np.int64)
    rank[np.argsort(cohort.ids[patients].astype(str), kind="stable")] = np.arange(len(patients))
    return rank[position.reshape(-1)]
