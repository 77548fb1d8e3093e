"""Optimal allocation of patients to trial slots, proved with CP-SAT and explained.

Objective, lexicographic (earlier levels dominate):

1. the number of patients enrolled;
2. (with ``previous``) the number of earlier assignments kept;
3. the sum of ``priority`` of enrolled patients (blank = 1);
4. the sum of preference ranks minus one (a patient's ``preferences`` lists the
   accepted trials, best first; an unlisted trial is not allowed);
5. the days until the planned date of near-eligible patients;
6. a canonical tie-break by patient_id (earlier ids first, then trial order),
   solved as a second pass with levels 1-5 fixed at their optimum.

Levels 1-5 are folded into one integer weight per patient-trial arc whose
factors are derived from each level's largest possible total, so the single
objective is exactly lexicographic.

Reduction: at most ``S`` patients are enrolled in total (S = the sum of slots),
so for each trial only its top ``S`` candidates by weight (per quota group when
quotas apply) can be needed: any other could be swapped for an unplaced one at no
loss.  Earlier assignments (``previous``) are always kept as candidates.  Side
constraints (slots, quotas, one trial per patient) stay exact.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import yaml
from ortools.sat.python import cp_model
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from matcher import ir
from matcher.cohort import FALSE_WORDS, TRUE_WORDS, Cohort, reason_text
from matcher.contract import columns, did_you_mean
from matcher.errors import MatcherError, ParameterError
from matcher.output import unescape_cell
from matcher.screen import ELIGIBLE, INELIGIBLE, UNDECIDED, Screening, TrialScreen
from matcher.whatif import Plan

LEVELS = ("enrolled", "kept", "priority", "preference", "days")
_INT64_SAFE = 2**62


class ScenarioQuota(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    trial: str
    column: str
    value: str
    min: int | None = Field(None, ge=0)
    max: int | None = Field(None, ge=0)


class Scenario(BaseModel):
    """An allocation scenario file (YAML): slot overrides and quotas.

    ``slots: {NCT06821659: 5}`` and ``quotas: [{trial: NCT06056921, column: diagnosis,
    value: SLE, max: 8}, {trial: …, min: 3}]``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")
    slots: dict[str, int] = Field(default_factory=dict)
    quotas: tuple[ScenarioQuota, ...] = ()


def load_scenario(path: str | Path, known_trials: Collection[str]) -> Scenario:
    """A scenario file whose every trial, column and quota value exists; an error names the file and the key."""
    try:
        scenario = Scenario.model_validate(yaml.safe_load(Path(path).read_text("utf-8")) or {})
    except OSError as exc:
        raise MatcherError(f"{path}: cannot be read: {exc.strerror}") from exc
    except (yaml.YAMLError, ValidationError) as exc:
        raise MatcherError(f"{path}: not a valid scenario: {str(exc).splitlines()[0]}") from exc
    known = f"known: {', '.join(known_trials)}"
    for trial_id, count in scenario.slots.items():
        if trial_id not in known_trials:
            raise MatcherError(f"{path}: slots: unknown trial {trial_id!r}; {known}")
        if count < 0:
            raise MatcherError(f"{path}: slots: {trial_id}: {count} is not a whole number >= 0")
    for index, quota in enumerate(scenario.quotas):
        where = f"{path}: quotas[{index}] ({QuotaRule(**quota.model_dump()).describe()})"
        if quota.trial not in known_trials:
            raise MatcherError(f"{where}: unknown trial {quota.trial!r}; {known}")
        problem = quota_problem(quota.column, quota.value)
        if problem:
            raise MatcherError(f"{where}: {problem}")
    return scenario


def quota_problem(column: str, value: str) -> str | None:
    """Why a quota on ``column == value`` could never count anyone (None when it can)."""
    contract = columns()
    if column not in contract:
        return f"unknown column {column!r}{did_you_mean(column)}"
    kind = contract[column]
    if kind.kind == "enum" and value.lower() not in {code.lower() for code in kind.codes}:
        return f"{value!r} cannot occur in column {column}; allowed: {', '.join(kind.codes)}"
    if kind.kind == "bool" and value.lower() not in (*TRUE_WORDS, *FALSE_WORDS):
        return f"{value!r} cannot occur in column {column}; allowed: true, false"
    if kind.numeric:
        try:
            float(value)
        except ValueError:
            return f"{value!r} cannot occur in column {column}, a number"
    if kind.kind in ("date", "id"):
        return f"column {column} is a {kind.kind}; a quota counts patients by an enum, boolean, number or text column"
    return None


def left_out_of(scenario: Scenario, trial_ids: Collection[str]) -> list[str]:
    """Trials the scenario gives slots or quotas that are not among ``trial_ids`` (so those do not apply)."""
    named = [*scenario.slots, *(quota.trial for quota in scenario.quotas)]
    return sorted({trial_id for trial_id in named if trial_id not in trial_ids})


@dataclass(frozen=True)
class QuotaRule:
    trial: str
    column: str
    value: str
    min: int | None
    max: int | None

    def describe(self) -> str:
        bounds = " and ".join(
            part
            for part in (
                f"at least {self.min}" if self.min is not None else "",
                f"at most {self.max}" if self.max is not None else "",
            )
            if part
        )
        return f"{self.trial}: {bounds} with {self.column} = {self.value}"


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


RECRUITING_STATUSES = ("recruiting", "enrolling_by_invitation")


def is_recruiting(status: str) -> bool:
    """Whether a trial with this registry ``status:`` takes patients now (the others stay in unless left out)."""
    return status in RECRUITING_STATUSES


def status_words(status: str) -> str:
    """A registry status for people: ``active_not_recruiting`` -> "active, not recruiting"."""
    return status.replace("_not_", ", not ").replace("_", " ")


@dataclass
class TrialOutcome:
    trial_id: str
    slots: int
    roster: list[str]
    waitlist: list[str]
    recruitment: str  # the trial's registry status, e.g. recruiting or not_yet_recruiting


@dataclass
class PatientOutcome:
    patient_id: str
    trial_id: str | None
    status: str  # assigned | waitlist | unplaced | invalid
    planned_date: dt.date | None
    reason: str
    actions: list[str] = field(default_factory=list)


class ReasonColumn:
    """Per patient, why they are where they are, kept as codes until text is asked for.

    The default reason joins one part per trial (``prefix`` then the non-empty parts,
    "; " between them), each part an index into that trial's few distinct texts; rows
    given their own text (placed, waitlisted, invalid) override it.  Text is built
    for a row, or by Arrow for a batch of rows, so a million reasons never sit in
    memory as strings at once.
    """

    def __init__(self, prefix: str, parts: list[tuple[np.ndarray, list[str]]], rows: int) -> None:
        self.prefix = prefix
        self._codes = [codes.astype(np.int32) for codes, _ in parts]
        self._texts = [texts for _, texts in parts]
        self._own = np.full(rows, -1, dtype=np.int32)  # index into _own_texts, -1 = the joined parts
        self._own_texts: list[str] = []

    def __len__(self) -> int:
        return len(self._own)

    def __getitem__(self, row: int) -> str:
        own = int(self._own[row])
        if own >= 0:
            return self._own_texts[own]
        parts = (texts[int(codes[row])] for codes, texts in zip(self._codes, self._texts, strict=True))
        return self.prefix + "; ".join(part for part in parts if part)

    def assign(self, rows: np.ndarray, texts: list[str], which: np.ndarray | None = None) -> None:
        """Give ``rows`` the texts ``texts[which]`` (``texts[0]`` for every row when ``which`` is None)."""
        start = len(self._own_texts)
        self._own_texts.extend(texts)
        self._own[rows] = start if which is None else start + which

    def arrow(self, start: int, stop: int) -> pa.Array:
        """The texts of rows ``start`` to ``stop`` as an Arrow string array (for the CSV writer)."""
        rows = stop - start
        # Each non-empty part carries its "; "; the first one's is replaced by the prefix.
        parts = [
            pa.array([f"; {text}" if text else "" for text in texts], pa.string()).take(pa.array(codes[start:stop]))
            for codes, texts in zip(self._codes, self._texts, strict=True)
        ]
        joined = pc.binary_join_element_wise(*parts, "") if parts else pa.array([""] * rows, pa.string())
        default = pc.utf8_replace_slice(joined, 0, 2, self.prefix)
        own = self._own[start:stop]
        if not (own >= 0).any():
            return default
        given = pa.array(self._own_texts, pa.string()).take(pa.array(np.maximum(own, 0)))
        return pc.if_else(pa.array(own >= 0), given, default)


@dataclass
class PatientColumns:
    """One entry per input patient, in input order, kept as columns so a million rows stay cheap."""

    patient_id: np.ndarray
    trial_id: np.ndarray  # None where not placed
    status: np.ndarray
    planned_date: np.ndarray  # ISO text, None where not placed
    reason: ReasonColumn
    actions: dict[int, list[str]]  # by row, for patients placed on a plan

    def outcome(self, row: int) -> PatientOutcome:
        planned = self.planned_date[row]
        return PatientOutcome(
            str(self.patient_id[row]),
            self.trial_id[row],
            str(self.status[row]),
            dt.date.fromisoformat(planned) if planned else None,
            str(self.reason[row]),
            self.actions.get(row, []),
        )


@dataclass
class Allocation:
    as_of: dt.date
    solver_status: str
    proven_optimal: bool
    objective: int
    bound: int
    gap: float
    levels: dict[str, int]
    trials: list[TrialOutcome]
    columns: PatientColumns
    candidates: int
    reduced_candidates: int
    warnings: list[str] = field(default_factory=list)

    @property
    def patients(self) -> list[PatientOutcome]:
        return [self.columns.outcome(row) for row in range(len(self.columns.patient_id))]

    def as_dict(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "solver_status": self.solver_status,
            "proven_optimal": self.proven_optimal,
            "objective": self.objective,
            "bound": self.bound,
            "gap": self.gap,
            "levels": self.levels,
            "candidates": self.candidates,
            "reduced_candidates": self.reduced_candidates,
            "warnings": self.warnings,
            "trials": [vars(t) for t in self.trials],
            "patients": [
                {**vars(p), "planned_date": p.planned_date.isoformat() if p.planned_date else None}
                for p in self.patients
            ],
        }


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
            if p.eligible_pending_results and p.earliest_date is not None:
                ahead = (p.earliest_date - screening.as_of).days
                if 0 < ahead <= within or (ahead == 0 and p.actions):
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
        code |= (_quota_member(cohort, quota)[rows].astype(np.int64)) << bit
    return code


def _quota_member(cohort: Cohort, quota: QuotaRule) -> np.ndarray:
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


def _solve(model: cp_model.CpModel, time_limit: float | None) -> tuple[cp_model.CpSolver, cp_model.CpSolverStatus]:
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.random_seed = 0
    solver.parameters.catch_sigint_signal = False  # Ctrl-C stops matcher cleanly, not only the solve
    if time_limit:
        solver.parameters.max_deterministic_time = time_limit
    status = solver.solve(model)
    if status == cp_model.MODEL_INVALID:
        raise MatcherError(f"internal error: invalid allocation model ({model.validate()})")
    return solver, status


def check_slot_overrides(slots: Mapping[str, int], considered: list[str], known: list[str] | None = None) -> None:
    """Every trial a slot override names is a known trial, and one of those considered."""
    known = considered if known is None else known
    for trial_id in slots:
        if trial_id not in known:
            raise ParameterError("slots", f"{{option}} names unknown trial {trial_id!r}; known: {', '.join(known)}")
        if trial_id not in considered:
            raise ParameterError("slots", f"{{option}} names {trial_id}, which is not among the trials considered")


def allocate(
    screening: Screening,
    slots: dict[str, int],
    quotas: list[QuotaRule],
    plans: list[Plan] | None = None,
    within: int | None = None,
    previous: dict[str, str] | None = None,
    time_limit: float | None = None,
    reduce: bool = True,
) -> Allocation:
    """The best allocation of the screened patients to the trials' slots, with its proof status."""
    cohort = screening.cohort
    trials = [r.trial for r in screening.results]
    trial_ids = [t.id for t in trials]
    capacity_of = [slots.get(t.id, t.slots) for t in trials]
    previous_rows = {}
    previous_warnings = []
    if previous:
        row_of = {str(pid): i for i, pid in enumerate(cohort.ids)}
        previous_rows = {row_of[p]: trial_ids.index(t) for p, t in previous.items() if p in row_of and t in trial_ids}
        strangers = [patient for patient in previous if patient not in row_of]
        if strangers:
            previous_warnings.append(f"the previous allocation names patients not in the cohort: {_listed(strangers)}")
        elsewhere = sorted({trial for trial in previous.values() if trial not in trial_ids})
        if elsewhere:
            previous_warnings.append(
                f"the previous allocation names trials not considered: {_listed(elsewhere)}; "
                "its assignments to them are not kept"
            )
    arcs, plan_of, warnings = candidate_arcs(screening, plans, within, previous_rows)
    capacity = int(min(sum(capacity_of), len(np.unique(arcs.row)) if len(arcs) else 0))
    weights = _weights(arcs, capacity, len(trials), len(previous_rows))
    order = _id_order(cohort, arcs.row) * len(trials) + arcs.trial
    every_arc, every_weight, every_order = arcs, weights, order
    index = np.arange(len(arcs))
    if reduce and len(arcs):
        groups = _signatures(cohort, arcs.row, quotas)
        index = reduce_arcs(arcs, weights, order, sum(capacity_of), groups)
        arcs, weights, order = arcs.take(index), weights[index], order[index]

    model = cp_model.CpModel()
    x = [model.new_bool_var(f"x[{cohort.ids[r]},{trial_ids[t]}]") for r, t in zip(arcs.row, arcs.trial, strict=True)]
    by_patient: dict[int, list[int]] = {}
    for i, r in enumerate(arcs.row):
        by_patient.setdefault(int(r), []).append(i)
    for members in by_patient.values():
        if len(members) > 1:
            model.add_at_most_one(x[i] for i in members)
    for t, cap in enumerate(capacity_of):
        model.add(sum(x[i] for i in np.flatnonzero(arcs.trial == t)) <= cap)
    quota_literals = []
    for quota in quotas:
        t = trial_ids.index(quota.trial)
        member = _quota_member(cohort, quota)[arcs.row] & (arcs.trial == t)
        count = sum(x[i] for i in np.flatnonzero(member))
        if quota.max is not None:
            model.add(count <= quota.max)
        if quota.min is not None:
            holds = model.new_bool_var(f"quota[{quota.describe()}]")
            model.add(count >= quota.min).only_enforce_if(holds)
            quota_literals.append((quota, holds))
    model.add_assumptions([lit for _, lit in quota_literals])
    objective = sum(int(w) * x[i] for i, w in enumerate(weights))
    model.maximize(objective)
    solver, status = _solve(model, time_limit)
    if status == cp_model.INFEASIBLE:
        core = set(solver.sufficient_assumptions_for_infeasibility())
        unmet = [q.describe() for q, lit in quota_literals if lit.index in core] or ["the model has no solution"]
        raise MatcherError("quota minimum cannot be met: " + "; ".join(unmet))
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        raise ParameterError("time_limit", f"no allocation found ({solver.status_name(status)}); raise {{option}}")
    best = int(round(solver.objective_value))
    bound = int(round(solver.best_objective_bound))
    chosen = [i for i in range(len(x)) if solver.boolean_value(x[i])]
    proven = status == cp_model.OPTIMAL
    if proven and len(x):
        model.add(objective == best)
        model.minimize(sum(int(o) * x[i] for i, o in enumerate(order)))
        tie_solver, tie_status = _solve(model, time_limit)
        if tie_status == cp_model.OPTIMAL:
            chosen = [i for i in range(len(x)) if tie_solver.boolean_value(x[i])]
    gap = 0.0 if proven else (abs(bound - best) / max(1, abs(bound)))
    allocation = _explain(
        screening,
        every_arc,
        every_weight,
        every_order,
        [int(index[i]) for i in chosen],
        capacity_of,
        plan_of,
        solver.status_name(status),
        proven,
        best,
        bound,
        gap,
        len(arcs),
    )
    allocation.warnings = [*warnings, *previous_warnings]
    return allocation


def _listed(names: list[str], shown: int = 10) -> str:
    """The first ``shown`` names, then how many more."""
    more = f" and {len(names) - shown} more" if len(names) > shown else ""
    return ", ".join(names[:shown]) + more


def _explain(
    screening: Screening,
    arcs: Arcs,
    weights: np.ndarray,
    order: np.ndarray,
    chosen: list[int],
    capacity_of: list[int],
    plan_of: dict[tuple[int, int], Plan],
    status: str,
    proven: bool,
    best: int,
    bound: int,
    gap: float,
    reduced: int,
) -> Allocation:
    """Rosters, ranked waitlists and a reason per patient, over all candidate pairs (not only the reduced ones)."""
    cohort = screening.cohort
    trial_ids = [r.trial.id for r in screening.results]
    levels = {
        "enrolled": len(chosen),
        "kept": int(arcs.kept[chosen].sum()) if chosen else 0,
        "priority": int(arcs.priority[chosen].sum()) if chosen else 0,
        "preference_rank": int(arcs.rank[chosen].sum()) if chosen else 0,
        "days": int(arcs.days[chosen].sum()) if chosen else 0,
    }
    ranking = np.lexsort((order, -weights))
    placed = np.zeros(len(arcs), dtype=bool)
    placed[chosen] = True
    patient_placed = np.zeros(len(cohort.ids), dtype=bool)
    patient_placed[arcs.row[placed]] = True
    outcomes = []
    for t, trial_id in enumerate(trial_ids):
        ranked = ranking[arcs.trial[ranking] == t]
        roster = sorted(cohort.ids[arcs.row[ranked[placed[ranked]]]].astype(str).tolist())
        waitlist = cohort.ids[arcs.row[ranked[~patient_placed[arcs.row[ranked]]]]].astype(str).tolist()
        outcomes.append(TrialOutcome(trial_id, capacity_of[t], roster, waitlist, screening.results[t].trial.status))
    displaced = _displaced_reasons(arcs, weights, order, placed, patient_placed, cohort, trial_ids, capacity_of)
    n = len(cohort.ids)
    status_of = np.full(n, "unplaced", dtype=object)
    reason = nowhere_reasons(screening)
    trial_of = np.full(n, None, dtype=object)
    planned_of = np.full(n, None, dtype=object)
    waiting_rows, which, displaced_texts = displaced
    status_of[waiting_rows] = "waitlist"
    reason.assign(waiting_rows, displaced_texts, which)
    placed_rows = arcs.row[chosen] if chosen else np.zeros(0, dtype=np.int64)
    status_of[placed_rows] = "assigned"
    trial_of[placed_rows] = np.asarray(trial_ids, dtype=object)[arcs.trial[chosen]] if chosen else []
    reason.assign(placed_rows, ["eligible now"])
    actions: dict[int, list[str]] = {}
    on_plan: dict[int, str] = {}
    for i in chosen:
        row, t, ahead = int(arcs.row[i]), int(arcs.trial[i]), int(arcs.days[i])
        planned = screening.as_of + dt.timedelta(days=ahead)
        planned_of[row] = planned.isoformat()
        plan = plan_of.get((row, t))
        if plan is not None:
            on_plan[row] = f"eligible from {planned.isoformat()} by plan"
            actions[row] = [f"{a.date.isoformat()}: {a.note}" for a in plan.actions]
    _assign_each(reason, on_plan)
    invalid_rows = _assign_each(reason, {row: reason_text(problems) for row, problems in cohort.invalid.items()})
    status_of[invalid_rows], trial_of[invalid_rows], planned_of[invalid_rows] = "invalid", None, None
    patients = PatientColumns(cohort.ids, trial_of, status_of, planned_of, reason, actions)
    return Allocation(screening.as_of, status, proven, best, bound, gap, levels, outcomes, patients, len(arcs), reduced)


_DISPLACED = (
    "no slot",
    "{other} keeps an earlier assignment",
    "placing this patient there would enrol fewer patients overall",
    "placed patients rank higher (lowest placed: {other}, on priority)",
    "placed patients rank higher (lowest placed: {other}, on preference rank)",
    "placed patients rank higher (lowest placed: {other}, on days to eligibility)",
    "placed patients rank higher (lowest placed: {other}, on patient_id order)",
)


def _assign_each(column: ReasonColumn, texts: dict[int, str]) -> np.ndarray:
    """Give each row in ``texts`` its own text; the rows given."""
    rows = np.fromiter(texts, dtype=np.int64, count=len(texts))
    column.assign(rows, list(texts.values()), np.arange(len(rows)))
    return rows


def _displaced_reasons(
    arcs: Arcs,
    weights: np.ndarray,
    order: np.ndarray,
    placed: np.ndarray,
    patient_placed: np.ndarray,
    cohort: Cohort,
    trial_ids: list[str],
    capacity_of: list[int],
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """For each waitlisted patient, per trial that could take them: which trial was full and why, by objective level.

    Returned as (rows, index into the texts per row, the distinct texts).
    """
    waiting = ~patient_placed[arcs.row]
    code = np.zeros(len(arcs), dtype=np.int64)
    texts: list[list[str]] = []
    for t, trial_id in enumerate(trial_ids):
        in_trial = np.flatnonzero((arcs.trial == t) & placed)
        full = f"{trial_id} full ({capacity_of[t]}/{capacity_of[t]}): "
        mine = np.flatnonzero((arcs.trial == t) & waiting)
        if not len(in_trial):
            texts.append([f"{trial_id} has no slot ({capacity_of[t]})"] * len(_DISPLACED))
            continue
        w = in_trial[np.lexsort((-order[in_trial], weights[in_trial]))[0]]
        other = str(cohort.ids[arcs.row[w]])
        texts.append([full + template.format(other=other) for template in _DISPLACED])
        first_difference = np.select(
            [arcs.priority[mine] != arcs.priority[w], arcs.rank[mine] != arcs.rank[w], arcs.days[mine] != arcs.days[w]],
            [3, 4, 5],
            default=6,
        )
        code[mine] = np.where(
            arcs.kept[w] > arcs.kept[mine], 1, np.where(weights[mine] > weights[w], 2, first_difference)
        )
    rows = np.unique(arcs.row[waiting])
    position = np.searchsorted(rows, arcs.row[waiting])
    matrix = np.zeros((len(rows), len(trial_ids)), dtype=np.int64)
    matrix[position, arcs.trial[waiting]] = code[waiting] + 1
    inverse, unique = _combine([matrix[:, t] for t in range(len(trial_ids))], [len(_DISPLACED) + 1] * len(trial_ids))
    joined = ["; ".join(texts[t][c - 1] for t, c in enumerate(combo) if c) for combo in unique.tolist()]
    return rows, inverse, joined


def _trial_reason_codes(result: TrialScreen) -> tuple[np.ndarray, list[str]]:
    """Per patient, an index into the distinct one-trial reasons (texts are built per distinct case)."""
    trial_id = result.trial.id
    failed = result.holds == 0
    criteria, columns = failed.shape[1] + 1, result.missing.shape[1] + 1
    n_failed = failed.sum(axis=1)
    first_failed = failed.argmax(axis=1) if failed.shape[1] else np.zeros(len(n_failed), dtype=np.int64)
    n_missing = result.missing.sum(axis=1)
    first_missing = np.zeros(len(n_missing), dtype=np.int64)
    second_missing = np.zeros(len(n_missing), dtype=np.int64)
    undecided = np.flatnonzero(n_missing)
    if len(undecided):
        # Only undecided patients have columns to measure: search their rows alone (a compact copy).
        rest = result.missing[undecided]
        first = rest.argmax(axis=1)
        rest[np.arange(len(rest)), first] = False
        first_missing[undecided], second_missing[undecided] = first, rest.argmax(axis=1)
    # One code per case: 0 invalid, 1 eligible, then ineligible cases, then unknown cases.
    ineligible = 2 + first_failed * criteria + n_failed
    unknown = 2 + criteria * criteria + (first_missing * columns + second_missing) * columns + n_missing
    code = np.select(
        [result.status == ELIGIBLE, result.status == INELIGIBLE, result.status == UNDECIDED],
        [1, ineligible, unknown],
        0,
    )
    distinct, inverse = _distinct(code.astype(np.int64), 2 + criteria * criteria + columns**3)
    texts = []
    for value in distinct.tolist():
        if value < 2:
            texts.append(f"{trial_id}: not among the patient's preferences" if value == 1 else "")
        elif value < 2 + criteria * criteria:
            first, count = divmod(value - 2, criteria)
            criterion = result.criteria[first].id.removeprefix(trial_id + ".") if count else "ineligible"
            texts.append(f"{trial_id}: {criterion}" + (f" +{count - 1}" if count > 1 else ""))
        else:
            pair, missing = divmod(value - 2 - criteria * criteria, columns)
            one, two = divmod(pair, columns)
            measure = ", ".join(result.missing_columns[i] for i in (one, two)[: min(missing, 2)])
            texts.append(f"{trial_id}: unknown, measure {measure}" + (f" +{missing - 2}" if missing > 2 else ""))
    return inverse, texts


def nowhere_reasons(screening: Screening) -> ReasonColumn:
    """Per patient, why no trial can take them: the first failing criterion or the columns to measure, per trial."""
    parts = [_trial_reason_codes(result) for result in screening.results]
    return ReasonColumn("eligible nowhere: ", parts, len(screening.cohort.ids))


_DENSE_LIMIT = 1 << 16  # a presence table beyond this (and 4 entries per row) costs more than sorting


def _distinct(code: np.ndarray, span: int) -> tuple[np.ndarray, np.ndarray]:
    """(sorted distinct values, index of each value): by a presence table when the span is small, else by sorting."""
    if span <= max(_DENSE_LIMIT, 4 * len(code)):
        present = np.zeros(span, dtype=bool)
        present[code] = True
        return np.flatnonzero(present), (np.cumsum(present) - 1)[code]
    distinct, inverse = np.unique(code, return_inverse=True)
    return distinct, inverse.reshape(-1)


def _combine(columns: list[np.ndarray], radix: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """Distinct rows of small-integer columns: (per-row index, the distinct rows as a matrix), packed in mixed radix."""
    code = np.zeros(len(columns[0]), dtype=np.int64)
    rows = np.zeros((1, 0), dtype=np.int64)
    for column, base in zip(columns, radix, strict=True):
        distinct, code = _distinct(code * base + column.astype(np.int64), len(rows) * base)
        rows = np.column_stack([rows[distinct // base], distinct % base])
    return code, rows


def quota_rules(trials: list[ir.Trial], scenario: Scenario | None) -> list[QuotaRule]:
    """The trials' own quotas, then the scenario's (checked by ``load_scenario``) for the trials considered."""
    rules = []
    for trial in trials:
        for index, quota in enumerate(trial.quotas):
            problem = quota_problem(quota.column, quota.value)
            if problem:
                raise MatcherError(f"{trial.id}: quotas[{index}]: {problem}")
            rules.append(QuotaRule(trial.id, quota.column, quota.value, quota.min, quota.max))
    if scenario:
        considered = {trial.id for trial in trials}
        rules.extend(QuotaRule(**q.model_dump()) for q in scenario.quotas if q.trial in considered)
    return rules


def read_previous(path: str | Path) -> dict[str, str]:
    """Earlier assignments from ``matcher allocate --format csv`` output."""
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            if not reader.fieldnames or not {"patient_id", "trial_id"} <= set(reader.fieldnames):
                raise MatcherError(f"{path}: not an allocation CSV (needs patient_id and trial_id columns)")
            return {unescape_cell(r["patient_id"]): r["trial_id"] for r in reader if r.get("trial_id")}
    except OSError as exc:
        raise MatcherError(f"{path}: cannot be read: {exc.strerror}") from exc
