"""Run screening and near-miss scans on a Dask cluster, partition by partition.

The same compiled criteria run where the data is: each task reads one partition
of the cohort (a CSV block or a Parquet row group), validates it, screens it or
plans for it, and returns only per-patient results.  The client gathers them in
partition order, so the output is identical to the local engine's.  Allocation
then runs on the gathered candidates, which its reduction keeps small.

A cluster is given by its scheduler address; without one, a LocalCluster with
the requested number of workers is started (and closed) for the run.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from matcher import ir
from matcher.cohort import Cohort, check_as_of, check_unique_ids, cohort_from_table
from matcher.contract import use_extension
from matcher.errors import CohortError, MatcherError
from matcher.nearmiss import near_misses
from matcher.plans import Plan
from matcher.screening import Screening, TrialScreen, screen
from matcher.trials import extension_of
from matcher.validate import RowProblem


@dataclass
class Partition:
    """One partition's screening, stripped of the cohort's columns."""

    ids: np.ndarray
    invalid: dict[int, tuple[RowProblem, ...]]
    warnings: list[str]
    results: list[TrialScreen]


def _dask() -> Any:
    try:
        import dask.dataframe as dd
        from dask.distributed import Client, LocalCluster
    except ImportError as exc:  # pragma: no cover - depends on the installed extra
        raise MatcherError("the dask engine needs the 'dask' extra: pip install 'matcher[dask]'") from exc
    return dd, Client, LocalCluster


@contextmanager
def dask_client(scheduler: str | None, workers: int) -> Iterator[Any]:
    """A client for ``scheduler``, or for a LocalCluster of ``workers`` processes started here."""
    _, client_class, cluster_class = _dask()
    if scheduler:
        with client_class(scheduler) as client:
            yield client
        return
    cluster = cluster_class(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0")
    with cluster, client_class(cluster) as client:
        yield client


def _partitions(path: Path, blocksize: str) -> tuple[list[Any], bool]:
    """Delayed pandas partitions of a CSV file (read as text) or a Parquet file/dataset, and whether
    the file is semicolon-delimited (its numbers then may use decimal commas, as the local loader reads them)."""
    dd, _, _ = _dask()
    if not path.exists():
        raise CohortError(f"{path}: no such file")
    if path.is_dir() or path.suffix.lower() in (".parquet", ".pq"):
        return list(dd.read_parquet(str(path), split_row_groups=True).to_delayed()), False
    with path.open("rb") as handle:
        first = handle.readline().decode("utf-8", errors="replace")
    delimiter = ";" if first.count(";") > first.count(",") else ","
    frame = dd.read_csv(
        str(path), dtype=str, keep_default_na=False, blocksize=blocksize, sep=delimiter, encoding="utf-8-sig"
    )
    return list(frame.to_delayed()), delimiter == ";"


def _load_partition(frame: Any, source: str, decimal_comma: bool, as_of: dt.date, trials: list[ir.Trial]) -> Cohort:
    """One partition read on a worker, with the contract the trials extend in force there too."""
    use_extension(extension_of(trials))
    table = pa.Table.from_pandas(frame, preserve_index=False)
    return check_as_of(cohort_from_table(table, source, decimal_comma=decimal_comma), as_of)


def _screen_partition(
    frame: Any, source: str, decimal_comma: bool, trials: list[ir.Trial], as_of: dt.date
) -> Partition:
    cohort = _load_partition(frame, source, decimal_comma, as_of, trials)
    screening = screen(cohort, trials, as_of)
    # The values stay here: verdicts and the reasons in words travel back.
    results = [replace(r, context=None, words=r.first_reasons()) for r in screening.results]
    return Partition(cohort.ids, cohort.invalid, cohort.warnings, results)


def _plan_partition(
    frame: Any, source: str, decimal_comma: bool, trials: list[ir.Trial], as_of: dt.date, within: int
) -> list[Plan]:
    return near_misses(_load_partition(frame, source, decimal_comma, as_of, trials), trials, as_of, within, workers=1)


def _gather(client: Any, tasks: list[Any], progress: Callable[[int, int], None] | None) -> list[Any]:
    from dask.distributed import as_completed

    futures = client.compute(tasks)
    for done, _ in enumerate(as_completed(futures), 1):
        if progress:
            progress(done, len(futures))
    return [future.result() for future in futures]


def screen_on_dask(
    path: Path,
    trials: list[ir.Trial],
    as_of: dt.date,
    client: Any,
    blocksize: str = "64MB",
    progress: Callable[[int, int], None] | None = None,
) -> Screening:
    """Screen a cohort file partition by partition on the cluster; the result equals ``screen(load_cohort(path))``."""
    import dask

    source = str(path)
    parts, decimal_comma = _partitions(path, blocksize)
    tasks = [dask.delayed(_screen_partition)(part, source, decimal_comma, trials, as_of) for part in parts]
    return _merge(_gather(client, tasks, progress), source, trials, as_of)


def near_misses_on_dask(
    path: Path,
    trials: list[ir.Trial],
    as_of: dt.date,
    within: int,
    client: Any,
    blocksize: str = "64MB",
    progress: Callable[[int, int], None] | None = None,
) -> list[Plan]:
    """The near-miss scan, partition by partition, in the local engine's order."""
    import dask

    parts, decimal_comma = _partitions(path, blocksize)
    tasks = [dask.delayed(_plan_partition)(part, str(path), decimal_comma, trials, as_of, within) for part in parts]
    return [plan for batch in _gather(client, tasks, progress) for plan in batch]


def _joined_words(pieces: list[TrialScreen]) -> tuple[np.ndarray, list[str]]:
    """The partitions' reasons in words as one (index per row, texts), -1 kept for rows without a reason."""
    codes: list[np.ndarray] = []
    texts: list[str] = []
    for piece in pieces:
        own_codes, own_texts = piece.first_reasons()
        codes.append(np.where(own_codes >= 0, own_codes + len(texts), -1))
        texts += own_texts
    return np.concatenate(codes), texts


def _merge(parts: list[Partition], source: str, trials: list[ir.Trial], as_of: dt.date) -> Screening:
    """Concatenate partitions in order; duplicate ids across partitions are the same error as locally."""
    ids = np.concatenate([part.ids for part in parts]) if parts else np.zeros(0, dtype=object)
    if not len(ids):
        raise CohortError(f"{source}: the file has a header but no patient rows")
    check_unique_ids(ids, source)
    invalid: dict[int, tuple[RowProblem, ...]] = {}
    offset = 0
    for part in parts:
        invalid.update({offset + row: reason for row, reason in part.invalid.items()})
        offset += len(part.ids)
    warnings = sorted({warning for part in parts for warning in part.warnings})
    cohort = Cohort(source=source, ids=ids, values={}, invalid=invalid, warnings=warnings)
    results = []
    for index, trial in enumerate(trials):
        pieces = [part.results[index] for part in parts]
        columns = sorted({name for piece in pieces for name in piece.missing_columns})
        missing = np.zeros((len(ids), len(columns)), dtype=bool)
        start = 0
        for piece in pieces:
            for k, name in enumerate(piece.missing_columns):
                missing[start : start + len(piece.status), columns.index(name)] = piece.missing[:, k]
            start += len(piece.status)
        results.append(
            TrialScreen(
                trial,
                pieces[0].criteria,
                pieces[0].manual,
                np.concatenate([piece.holds for piece in pieces]),
                np.concatenate([piece.status for piece in pieces]),
                columns,
                missing,
                np.concatenate([piece.manual_applies for piece in pieces]),
                None,
                _joined_words(pieces),
            )
        )
    return Screening(cohort, as_of, results)
