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

from benchmarks import e2e, p1_allocation, p2_screening, p3_whatif, p4_ingest  # noqa: E402
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
    """The result tables as Markdown (CPU seconds unless stated), as each benchmark prints them."""
    modules = (p1_allocation, p2_screening, p3_whatif, p4_ingest, e2e)
    return "\n\n".join(_table(*module.table(_rows(results_dir, module.__name__.split(".")[-1]))) for module in modules)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results-dir", type=Path, default=RESULTS_DIR)
    args = parser.parse_args(argv)
    print(tables(args.results_dir))
    print(f"\nplot: {plot(args.results_dir)}")


if __name__ == "__main__":
    main()
