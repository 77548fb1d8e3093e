"""Shared pieces of the benchmarks: cached synthetic cohorts, timers, machine facts, result files."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from matcher.cohort import Cohort, load_cohort
from matcher.synth import SynthOptions, write_cohort

AS_OF = dt.date(2026, 11, 23)  # the synthetic cohorts' pinned screening date
HERE = Path(__file__).resolve().parent
CACHE_DIR = HERE / ".cache"
RESULTS_DIR = HERE / "results"
SEED = 1

T = TypeVar("T")


def cohort_file(rows: int, suffix: str = ".csv", cache_dir: Path = CACHE_DIR, seed: int = SEED) -> Path:
    """The synthetic cohort of ``rows`` patients, generated once by ``matcher synth`` and cached."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    path = cache_dir / f"synth-{rows}-seed{seed}{suffix}"
    if not path.exists():
        write_cohort(path, SynthOptions(rows=rows, seed=seed, as_of=AS_OF))
    return path


def load_synthetic(rows: int, cache_dir: Path = CACHE_DIR) -> Cohort:
    """The cohort loaded from its Parquet copy (same values as the CSV; loading is not what is measured here)."""
    return load_cohort(cohort_file(rows, ".parquet", cache_dir))


@dataclass
class Timing:
    """Best of the repeats, in seconds: wall clock and CPU time of this process (all its threads)."""

    wall: float
    cpu: float

    def as_dict(self) -> dict[str, float]:
        return {"wall_s": round(self.wall, 6), "cpu_s": round(self.cpu, 6)}


def measure(action: Callable[[], T], repeat: int = 1) -> tuple[Timing, T]:
    """Run ``action`` ``repeat`` times; the minimum of each clock (the least disturbed run on a loaded machine)."""
    walls, cpus = [], []
    result: T
    for _ in range(max(1, repeat)):
        wall, cpu = time.perf_counter(), time.process_time()
        result = action()
        cpus.append(time.process_time() - cpu)
        walls.append(time.perf_counter() - wall)
    return Timing(min(walls), min(cpus)), result


def into_page_cache(path: Path) -> None:
    """Read the file's bytes once, without keeping them (so that both sides read from memory)."""
    with path.open("rb") as handle:
        while handle.read(1 << 24):
            pass


def measure_fresh(setup: str, statement: str, repeat: int = 1) -> tuple[Timing, Any]:
    """Time the expression ``statement`` in a new interpreter after ``setup`` (its imports), best of ``repeat``.

    A new process starts with a cold memory allocator, as every command-line run does;
    timing two sides in one process would favour whichever reuses memory the other freed.
    The expression's value (keep it small) comes back as JSON.
    """
    script = "\n".join(
        [
            "import json, time",
            setup,
            "wall, cpu = time.perf_counter(), time.process_time()",
            f"value = {statement}",
            "wall, cpu = time.perf_counter() - wall, time.process_time() - cpu",
            "print(json.dumps({'wall': wall, 'cpu': cpu, 'value': value}))",
        ]
    )
    runs = []
    for _ in range(max(1, repeat)):
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False)
        if done.returncode:
            raise RuntimeError(f"{statement} failed in a child process: {done.stderr[-2000:]}")
        runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    return Timing(min(run["wall"] for run in runs), min(run["cpu"] for run in runs)), runs[-1]["value"]


def ratio(ours: float, baseline: float) -> float:
    return ours / baseline if baseline > 0 else float("inf")


def _command_output(command: Sequence[str]) -> str:
    try:
        return subprocess.run(command, capture_output=True, text=True, check=False).stdout.strip()
    except OSError:
        return ""


def machine() -> dict[str, Any]:
    """What the figures were measured on, and how loaded the machine was (other work shares it)."""
    load = os.getloadavg()
    return {
        "nproc": os.cpu_count(),
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "free_g": _command_output(["free", "-g"]),
        "load_average_1_5_15": [round(x, 2) for x in load],
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def child_peak_rss_bytes() -> int:
    """Largest resident set of any waited-for child so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024


def command_line(module: str, argv: list[str] | None) -> str:
    """The command that produced a result, as a reader would type it."""
    return " ".join(["python -m", module, *(sys.argv[1:] if argv is None else argv)])


def parse_sizes(text: str) -> list[int]:
    return [int(part.replace("_", "")) for part in text.split(",") if part.strip()]


def arguments(description: str, sizes: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--sizes", default=sizes, help=f"comma-separated cohort sizes (default {sizes})")
    parser.add_argument("--repeat", type=int, default=1, help="runs per measurement; the best is kept")
    parser.add_argument("--cache-dir", type=Path, default=CACHE_DIR, help="where generated cohorts are kept")
    parser.add_argument("--results-dir", type=Path, default=RESULTS_DIR, help="where the JSON results go")
    return parser


def run_benchmark(
    name: str,
    title: str,
    args: argparse.Namespace,
    argv: list[str] | None,
    run_size: Callable[[int], dict[str, Any]],
    table: Callable[[list[dict[str, Any]]], tuple[list[str], list[list[Any]]]],
) -> None:
    """Measure each size (smallest first), merge the rows into ``results/NAME.json`` and print the table."""
    rows = []
    for size in sorted(parse_sizes(args.sizes)):
        rows.append(run_size(size))
        print(f"size {size}: done", file=sys.stderr, flush=True)
    write_results(args.results_dir, name, command_line(f"benchmarks.{name}", argv), rows)
    print_table(title, *table(rows))


def write_results(results_dir: Path, name: str, command: str, rows: list[dict[str, Any]], key: str = "size") -> Path:
    """Merge ``rows`` into ``results_dir/name.json`` by ``key`` (a later run of the same size replaces it)."""
    results_dir.mkdir(parents=True, exist_ok=True)
    path = results_dir / f"{name}.json"
    kept: dict[Any, dict[str, Any]] = {}
    if path.exists():
        kept = {row[key]: row for row in json.loads(path.read_text("utf-8")).get("rows", [])}
    now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    for row in rows:
        kept[row[key]] = {**row, "measured_at": now, "command": command, "machine": machine()}
    ordered = [kept[k] for k in sorted(kept, key=lambda k: (isinstance(k, str), k))]
    path.write_text(json.dumps({"benchmark": name, "rows": ordered}, indent=2) + "\n", "utf-8")
    return path


def print_table(title: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """A plain aligned table on stdout."""
    cells = [[_cell(value) for value in row] for row in rows]
    widths = [max(len(str(h)), *(len(row[i]) for row in cells)) if cells else len(str(h)) for i, h in enumerate(header)]
    print(f"\n{title}")
    print("  ".join(str(h).rjust(w) for h, w in zip(header, widths, strict=True)))
    for row in cells:
        print("  ".join(value.rjust(w) for value, w in zip(row, widths, strict=True)))


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3f}" if abs(value) < 1000 else f"{value:.0f}"
    return str(value)


def goal(met: bool) -> str:
    return "met" if met else "MISSED"
