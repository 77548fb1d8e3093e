"""Plot time vs cohort size (allocation and screening, ours against the baselines) and print the result tables.

Reads the JSON in benchmarks/results/ and writes ``time-vs-size.png`` beside it;
the Markdown tables it prints are the ones in RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402 - the backend is chosen before pyplot loads

from benchmarks.common import RESULTS_DIR  # noqa: E402

_ALLOCATION = (
    ("ours", "matcher allocate"),
    ("min_cost_flow", "OR-Tools min-cost flow"),
    ("naive_cp_sat", "naive CP-SAT (all pairs)"),
)
_SCREENING = (("ours", "matcher screen"), ("duckdb", "DuckDB, generated SQL"), ("memory_pass", "one memory pass"))


def _rows(results_dir: Path, name: str) -> list[dict[str, Any]]:
    path = results_dir / f"{name}.json"
    return json.loads(path.read_text("utf-8"))["rows"] if path.exists() else []


def plot(results_dir: Path) -> Path:
    figure, axes = plt.subplots(1, 2, figsize=(11, 4.5))
    for axis, name, series, title in (
        (axes[0], "p1_allocation", _ALLOCATION, "P1 allocation (to a proven optimum)"),
        (axes[1], "p2_screening", _SCREENING, "P2 screening (5 trials, three-valued)"),
    ):
        rows = _rows(results_dir, name)
        sizes = [row["size"] for row in rows]
        for key, label in series:
            axis.plot(sizes, [row[key]["cpu_s"] for row in rows], marker="o", label=label)
        if name == "p1_allocation":
            solve_path = [row["ours"]["cpu_s"] - row["split"]["explain_cpu_s"] for row in rows]
            axis.plot(
                sizes,
                solve_path,
                marker="o",
                linestyle="--",
                color="C0",
                label="matcher allocate, explanations left out",
            )
        axis.set_xscale("log")
        axis.set_yscale("log")
        axis.set_xlabel("patients")
        axis.set_ylabel("CPU seconds (best of runs)")
        axis.set_title(title)
        axis.grid(True, which="both", alpha=0.3)
        axis.legend()
    figure.tight_layout()
    target = results_dir / "time-vs-size.png"
    figure.savefig(target, dpi=120)
    plt.close(figure)
    return target


def _table(header: list[str], rows: list[list[Any]]) -> str:
    def cell(value: Any) -> str:
        if isinstance(value, float):
            return f"{value:.3g}" if abs(value) < 100 else f"{value:.0f}"
        return str(value)

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def tables(results_dir: Path) -> str:
    """The result tables as Markdown (CPU seconds unless stated)."""
    mark = {True: "met", False: "**missed**"}
    out = []
    p1 = _rows(results_dir, "p1_allocation")
    out.append(
        _table(
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
                    mark[r["goal_met"]],
                ]
                for r in p1
            ],
        )
    )
    p2 = _rows(results_dir, "p2_screening")
    out.append(
        _table(
            [
                "patients",
                "criteria",
                "ours s",
                "DuckDB s",
                "memory pass s",
                "ours / DuckDB",
                "ours / DuckDB (wall)",
                "ours / pass",
                "verdicts equal",
                "failed lists equal",
                "goal ≤ 1× DuckDB",
                "goal ≤ 3× pass",
            ],
            [
                [
                    r["size"],
                    r["criteria"],
                    r["ours"]["cpu_s"],
                    r["duckdb"]["cpu_s"],
                    r["memory_pass"]["cpu_s"],
                    r["ratio_cpu_vs_duckdb"],
                    r["ratio_wall_vs_duckdb"],
                    r["ratio_cpu_vs_memory_pass"],
                    r["agreement"]["verdicts_equal"],
                    r["agreement"]["failed_lists_equal"],
                    mark[r["goal_vs_duckdb_met"]],
                    mark[r["goal_vs_memory_pass_met"]],
                ]
                for r in p2
            ],
        )
    )
    p3 = _rows(results_dir, "p3_whatif")
    out.append(
        _table(
            [
                "cohort",
                "patients",
                "median ms",
                "p95 ms",
                "max ms",
                "scan pairs",
                "1 worker plans/s",
                "2 workers plans/s",
                "speed-up",
                "goal median ≤ 25 ms",
            ],
            [
                [
                    r["size"],
                    r["patients"],
                    r["plan_ms"]["median"],
                    r["plan_ms"]["p95"],
                    r["plan_ms"]["max"],
                    r["scan"]["pairs_planned"],
                    r["scan"]["one_worker"]["plans_per_s"],
                    r["scan"]["two_workers"]["plans_per_s"],
                    r["scan"]["speed_up"],
                    mark[r["goal_met"]],
                ]
                for r in p3
            ],
        )
    )
    p4 = _rows(results_dir, "p4_ingest")
    out.append(
        _table(
            [
                "patients",
                "file MB",
                "load_cohort s",
                "pyarrow read s",
                "ratio",
                "load_cohort wall s",
                "pyarrow wall s",
                "ratio (wall)",
                "goal ≤ 1.5×",
            ],
            [
                [
                    r["size"],
                    r["file_bytes"] / 1e6,
                    r["ours"]["cpu_s"],
                    r["pyarrow_read_csv"]["cpu_s"],
                    r["ratio_cpu"],
                    r["ours"]["wall_s"],
                    r["pyarrow_read_csv"]["wall_s"],
                    r["ratio_wall"],
                    mark[r["goal_met"]],
                ]
                for r in p4
            ],
        )
    )
    e2e = _rows(results_dir, "e2e")
    out.append(
        _table(
            [
                "patients",
                "matcher allocate s",
                "pyarrow read s",
                "ratio",
                "allocate wall s",
                "pyarrow wall s",
                "ratio (wall)",
                "peak RSS GiB",
                "goal ≤ 2×",
                "goal ≤ 4 GiB",
            ],
            [
                [
                    r["size"],
                    r["ours"]["cpu_s"],
                    r["pyarrow_read_csv"]["cpu_s"],
                    r["ratio_cpu"],
                    r["ours"]["wall_s"],
                    r["pyarrow_read_csv"]["wall_s"],
                    r["ratio_wall"],
                    r["ours"]["peak_rss_bytes"] / 2**30,
                    mark[r["goal_met"]],
                    mark[r["memory_goal_met"]],
                ]
                for r in e2e
            ],
        )
    )
    return "\n\n".join(out)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results-dir", type=Path, default=RESULTS_DIR)
    args = parser.parse_args(argv)
    print(tables(args.results_dir))
    print(f"\nplot: {plot(args.results_dir)}")


if __name__ == "__main__":
    main()
