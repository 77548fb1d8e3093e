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

import numpy as np
from ortools.sat.python import cp_model

from matcher.arcs import (
    TIE_BREAK_LIMIT,
    Arcs,
    _id_order,
    _signatures,
    _weights,
    candidate_arcs,
    held_back,
    quota_member,
    reduce_arcs,
)
from matcher.changes import changes_since
from matcher.cohort import Cohort
from matcher.errors import MatcherError, ParameterError
from matcher.outcome import Allocation
from matcher.plans import Plan
from matcher.reasons import Solved, explain, listed
from matcher.scenario import QuotaRule
from matcher.screening import Screening


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
    previous_rows, previous_warnings = _kept(cohort, trial_ids, previous or {})
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

    model, x, quota_literals = _model(cohort, arcs, trial_ids, capacity_of, quotas)
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
        # "At least the optimum", which is "equal" here, starting from the solution found: an equality on the
        # folded weights is a knapsack CP-SAT took 100 s over at 10k patients with near-miss arcs; this, 0.03 s.
        model.add(objective >= best)
        for i in range(len(x)):
            model.add_hint(x[i], solver.boolean_value(x[i]))
        model.minimize(sum(int(o) * x[i] for i, o in enumerate(order)))
        # every solution of this solve is an optimal allocation; only the patient_id order among them is sought, in
        # a bounded deterministic time (its proof took 298 s on 3,000 patients with 180-day near-miss arcs)
        tie_solver, tie_status = _solve(model, min(time_limit or TIE_BREAK_LIMIT, TIE_BREAK_LIMIT))
        if tie_status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            chosen = [i for i in range(len(x)) if tie_solver.boolean_value(x[i])]
    gap = 0.0 if proven else (abs(bound - best) / max(1, abs(bound)))
    solved = Solved(
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
        quotas,
        held_back(screening, plans, within),
        within,
    )
    allocation = explain(solved)
    allocation.warnings = [*warnings, *previous_warnings]
    if previous is not None:
        allocation.changes = changes_since(allocation, screening, previous)
    return allocation


def _kept(cohort: Cohort, trial_ids: list[str], previous: dict[str, str]) -> tuple[dict[int, int], list[str]]:
    """The earlier assignments to keep (row -> trial index), and warnings for those that name strangers."""
    if not previous:
        return {}, []
    warnings = []
    row_of = {str(pid): i for i, pid in enumerate(cohort.ids)}
    kept = {row_of[p]: trial_ids.index(t) for p, t in previous.items() if p in row_of and t in trial_ids}
    strangers = [patient for patient in previous if patient not in row_of]
    if strangers:
        warnings.append(f"the previous allocation names patients not in the cohort: {listed(strangers)}")
    elsewhere = sorted({trial for trial in previous.values() if trial not in trial_ids})
    if elsewhere:
        warnings.append(
            f"the previous allocation names trials not considered: {listed(elsewhere)}; "
            "its assignments to them are not kept"
        )
    return kept, warnings


def _model(
    cohort: Cohort, arcs: Arcs, trial_ids: list[str], capacity_of: list[int], quotas: list[QuotaRule]
) -> tuple[cp_model.CpModel, list[cp_model.IntVar], list[tuple[QuotaRule, cp_model.IntVar]]]:
    """One Boolean per arc; one trial per patient, slots per trial, quota maxima as constraints and quota
    minima behind named assumption literals (so an unmet minimum is explained by the infeasible core)."""
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
        member = quota_member(cohort, quota)[arcs.row] & (arcs.trial == t)
        count = sum(x[i] for i in np.flatnonzero(member))
        if quota.max is not None:
            model.add(count <= quota.max)
        if quota.min is not None:
            holds = model.new_bool_var(f"quota[{quota.describe()}]")
            model.add(count >= quota.min).only_enforce_if(holds)
            quota_literals.append((quota, holds))
    model.add_assumptions([lit for _, lit in quota_literals])
    return model, x, quota_literals
