"""P1 allocation: matcher.allocation.allocate against OR-Tools min-cost flow and the naive CP-SAT model.

All three solve the same problem on the same Screening: each patient to at most
one trial, each trial up to its slots, maximising the allocator's lexicographic
arc weights (levels 1-5 folded into one integer per patient-trial pair, taken
from matcher.allocation so the objectives are comparable to the unit).

* ours: ``allocate(screening, {}, [])`` — reduction, CP-SAT with proof, the
  patient_id tie-break pass, and the explanations (rosters, waitlists, a reason
  for every patient);
* min-cost flow: ``SimpleMinCostFlow`` on the full eligibility graph
  source -> patients -> trials -> sink, arc cost = -weight, plus a zero-cost
  source -> sink bypass so that not everyone has to be placed; optimal by
  construction (network simplex / cost scaling proves it);
* naive CP-SAT: ``allocate(..., reduce=False)``: one variable per eligible pair,
  capped by a deterministic time limit.

The time inside ``allocate`` is split from outside by wrapping the steps where they are called
(candidate_arcs, _solve and explain in matcher.allocation; nowhere_reasons and _displaced_reasons in
matcher.reasons).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
from ortools.graph.python import min_cost_flow

import matcher.allocation as allocation
import matcher.reasons as reasons
from benchmarks.common import (
    AS_OF,
    arguments,
    goal,
    load_synthetic,
    measure,
    ratio,
    run_benchmark,
)
from matcher import arcs as arc_module
from matcher.outcome import Allocation
from matcher.screening import Screening, screen
from matcher.trials import load_trials

GOAL_RATIO = 0.1  # ours <= 0.1 x min-cost flow, with the optimum proven
# Each step, by the module whose code calls it.
_SPLIT = {
    "candidate_arcs": allocation,
    "_solve": allocation,
    "explain": allocation,
    "nowhere_reasons": reasons,
    "_displaced_reasons": reasons,
}


def min_cost_flow_optimum(screening: Screening) -> dict[str, Any]:
    """The allocator's objective solved as a min-cost flow over every eligible pair (no reduction)."""
    start = time.process_time()
    arcs, _, _ = arc_module.candidate_arcs(screening, None, None, {})
    capacity_of = np.array([result.trial.slots for result in screening.results], dtype=np.int64)
    n_trials = len(capacity_of)
    patients, patient_index = np.unique(arcs.row, return_inverse=True)
    capacity = int(min(capacity_of.sum(), len(patients)))
    weights = arc_module._weights(arcs, capacity, n_trials, 0)
    prepared = time.process_time()
    n_patients = len(patients)
    source, sink = 0, n_patients + n_trials + 1
    first_trial = n_patients + 1
    tails = np.concatenate(
        [np.zeros(n_patients), 1 + patient_index.reshape(-1), first_trial + np.arange(n_trials), [source]]
    )
    heads = np.concatenate([1 + np.arange(n_patients), first_trial + arcs.trial, np.full(n_trials, sink), [sink]])
    capacities = np.concatenate([np.ones(n_patients), np.ones(len(arcs)), capacity_of, [capacity]])
    costs = np.concatenate([np.zeros(n_patients), -weights, np.zeros(n_trials), [0]])
    flow = min_cost_flow.SimpleMinCostFlow()
    flow.add_arcs_with_capacity_and_unit_cost(
        tails.astype(np.int32), heads.astype(np.int32), capacities.astype(np.int64), costs.astype(np.int64)
    )
    flow.set_nodes_supplies(np.array([source, sink], dtype=np.int32), np.array([capacity, -capacity], dtype=np.int64))
    status = flow.solve()
    if status != flow.OPTIMAL:
        raise RuntimeError(f"min-cost flow did not reach an optimum (status {status})")
    placed = flow.flows(np.arange(n_patients, n_patients + len(arcs), dtype=np.int32))
    return {
        "objective": -int(flow.optimal_cost()),
        "enrolled": int(placed.sum()),
        "arcs": len(arcs),
        "pairs_and_weights_cpu_s": prepared - start,
        "graph_and_solve_cpu_s": time.process_time() - prepared,
    }


@contextmanager
def split_timer() -> Iterator[dict[str, float]]:
    """CPU seconds spent in allocate's own steps, measured by wrapping the module's functions."""
    spent = dict.fromkeys(_SPLIT, 0.0)
    originals = {name: getattr(module, name) for name, module in _SPLIT.items()}

    def timed(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            start = time.process_time()
            try:
                return function(*args, **kwargs)
            finally:
                spent[name] += time.process_time() - start

        return wrapper

    for name, function in originals.items():
        setattr(_SPLIT[name], name, timed(name, function))
    try:
        yield spent
    finally:
        for name, function in originals.items():
            setattr(_SPLIT[name], name, function)


def run_size(size: int, args: Any) -> dict[str, Any]:
    cohort = load_synthetic(size, args.cache_dir)
    screening = screen(cohort, list(load_trials().values()), AS_OF)
    splits: list[tuple[float, dict[str, float]]] = []

    def ours() -> Allocation:
        with split_timer() as spent:
            start = time.process_time()
            result = allocation.allocate(screening, {}, [])
            splits.append((time.process_time() - start, dict(spent)))
        return result

    ours_time, ours_result = measure(ours, args.repeat)
    flow_time, flow = measure(lambda: min_cost_flow_optimum(screening), args.repeat)
    naive_time, naive = measure(
        lambda: allocation.allocate(screening, {}, [], reduce=False, time_limit=args.naive_time_limit), 1
    )
    total, spent = min(splits, key=lambda pair: pair[0])
    explain_only = spent["explain"]
    solve = spent["_solve"]
    split = {
        "candidate_arcs_cpu_s": spent["candidate_arcs"],
        "reduce_and_model_cpu_s": total - spent["candidate_arcs"] - solve - explain_only,
        "cp_sat_solves_cpu_s": solve,
        "explain_cpu_s": explain_only,
        "explain_nowhere_reasons_cpu_s": spent["nowhere_reasons"],
        "explain_displaced_reasons_cpu_s": spent["_displaced_reasons"],
    }
    solve_path = total - explain_only
    return {
        "size": size,
        "candidate_arcs": ours_result.candidates,
        "reduced_arcs": ours_result.reduced_candidates,
        "ours": {
            **ours_time.as_dict(),
            "objective": ours_result.objective,
            "proven": ours_result.proven_optimal,
            "enrolled": ours_result.levels["enrolled"],
        },
        "min_cost_flow": {**flow_time.as_dict(), **flow},
        "naive_cp_sat": {
            **naive_time.as_dict(),
            "objective": naive.objective,
            "proven": naive.proven_optimal,
            "status": naive.solver_status,
            "time_limit_deterministic_s": args.naive_time_limit,
        },
        "objectives_equal": ours_result.objective == flow["objective"],
        "naive_objective_equal": naive.objective == flow["objective"],
        "split": {key: round(value, 6) for key, value in split.items()},
        "ratio_cpu_vs_flow": ratio(ours_time.cpu, flow_time.cpu),
        "ratio_wall_vs_flow": ratio(ours_time.wall, flow_time.wall),
        "ratio_cpu_vs_naive": ratio(ours_time.cpu, naive_time.cpu),
        "ratio_solve_path_cpu_vs_flow": ratio(solve_path, flow_time.cpu),
        "goal_met": bool(ours_result.proven_optimal and ratio(ours_time.cpu, flow_time.cpu) <= GOAL_RATIO),
    }


def table(rows: list[dict[str, Any]]) -> tuple[list[str], list[list[Any]]]:
    """The result table (header, rows), shared by this script's output and RESULTS.md."""
    return (
        [
            "patients",
            "eligible pairs",
            "solver pairs",
            "ours s",
            "min-cost flow s",
            "naive CP-SAT s",
            "ours / flow",
            "ours / naive",
            "solve path / flow",
            "explain s",
            "objectives equal (flow, naive)",
            "proven (ours, naive)",
            "goal ≤ 0.1×",
        ],
        [
            [
                r["size"],
                r["candidate_arcs"],
                r["reduced_arcs"],
                r["ours"]["cpu_s"],
                r["min_cost_flow"]["cpu_s"],
                r["naive_cp_sat"]["cpu_s"],
                r["ratio_cpu_vs_flow"],
                r["ratio_cpu_vs_naive"],
                r["ratio_solve_path_cpu_vs_flow"],
                r["split"]["explain_cpu_s"],
                f"{r['objectives_equal']}, {r['naive_objective_equal']}",
                f"{r['ours']['proven']}, {r['naive_cp_sat']['proven']}",
                goal(r["goal_met"]),
            ]
            for r in rows
        ],
    )


def main(argv: list[str] | None = None) -> None:
    parser = arguments(__doc__.splitlines()[0], "10000,100000,1000000")
    parser.add_argument("--naive-time-limit", type=float, default=30.0, help="deterministic seconds for naive CP-SAT")
    args = parser.parse_args(argv)
    run_benchmark(
        "p1_allocation",
        "P1 allocation (CPU seconds; ratio = ours / baseline; goal ours <= 0.1 x min-cost flow, proven)",
        args,
        argv,
        lambda size: run_size(size, args),
        table,
    )


if __name__ == "__main__":
    main()
