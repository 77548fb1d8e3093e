"""The Python API, for notebooks: a cohort in (a pandas DataFrame, a pyarrow Table or a file path), pandas
DataFrames out, with the columns of the matching command's ``--format csv``.

The tables are built by the same code that writes the CSV (``formats.screen_batches``,
``formats.allocation_batches``), so the API and the command line cannot drift.  Lists (``failed``,
``missing``, ``undecided``, ``manual``) come back as Python lists and dates as ``datetime64``.  Errors raise
``matcher.MatcherError`` with the command line's messages.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, TypeAlias

import pandas as pd
import pyarrow as pa

from matcher import ir
from matcher.allocation import allocate as allocate_screening
from matcher.cohort import Cohort, check_as_of, cohort_from_table, load_cohort
from matcher.errors import MatcherError
from matcher.escalation import load_state
from matcher.formats import ALLOCATION_COLUMNS, SCHEDULE_COLUMNS, SCREEN_COLUMNS, allocation_batches, screen_batches
from matcher.nearmiss import eligibility_windows
from matcher.nearmiss import near_misses as scan_near_misses
from matcher.planning import patient_plans
from matcher.plans import DEFAULT_HORIZON, Plan
from matcher.scenario import quota_rules, read_previous, run_slots
from matcher.schedule import schedule as schedule_screening
from matcher.screening import screen as screen_cohort
from matcher.trials import load_trials as load_trial_models
from matcher.trials import select_trials

CohortInput: TypeAlias = pd.DataFrame | pa.Table | str | Path
DateInput: TypeAlias = dt.date | str

_LISTS = ("failed", "missing", "undecided", "manual")


def load_trials(models: str | Path | None = None) -> dict[str, ir.Trial]:
    """The typed trial models (default: the bundled ones), by registry id."""
    return load_trial_models(Path(models) if models else None)


def screen(
    data: CohortInput, as_of: DateInput, trials: Iterable[str] | None = None, models: str | Path | None = None
) -> pd.DataFrame:
    """Three-valued screening: one row per patient and trial, the columns of ``matcher screen --format csv``."""
    cohort, chosen, day = _inputs(data, as_of, trials, models)
    screening = screen_cohort(cohort, chosen, day)
    frame = _frame(screen_batches(screening), SCREEN_COLUMNS)
    for name in _LISTS:
        frame[name] = [value.split(";") if value else [] for value in frame[name]]
    return frame


def whatif(
    data: CohortInput,
    patient: str,
    as_of: DateInput,
    horizon: int = DEFAULT_HORIZON,
    trials: Iterable[str] | None = None,
    models: str | Path | None = None,
) -> pd.DataFrame:
    """One patient's nearest-eligible plan per trial: one row per trial, the fields of ``whatif --format json``."""
    cohort, chosen, day = _inputs(data, as_of, trials, models)
    return _plans_frame(patient_plans(cohort, patient, chosen, day, horizon))


def near_misses(
    data: CohortInput,
    as_of: DateInput,
    within: int,
    trials: Iterable[str] | None = None,
    models: str | Path | None = None,
    workers: int | None = None,
) -> pd.DataFrame:
    """Every patient not eligible now who can be within ``within`` days: one row per plan."""
    cohort, chosen, day = _inputs(data, as_of, trials, models)
    return _plans_frame(scan_near_misses(cohort, chosen, day, within, workers))


def allocate(
    data: CohortInput,
    as_of: DateInput,
    slots: Mapping[str, int] | None = None,
    scenario: str | Path | None = None,
    within: int | None = None,
    previous: str | Path | Mapping[str, str] | None = None,
    trials: Iterable[str] | None = None,
    models: str | Path | None = None,
    workers: int | None = None,
) -> pd.DataFrame:
    """The best allocation: one row per input patient, the columns of ``matcher allocate --format csv``."""
    cohort, chosen, day = _inputs(data, as_of, trials, models)
    known = list(load_trial_models(Path(models) if models else None))
    in_force, loaded, _ = run_slots([trial.id for trial in chosen], known, dict(slots or {}), scenario)
    plans = scan_near_misses(cohort, chosen, day, within, workers) if within is not None else None
    earlier = read_previous(previous) if isinstance(previous, (str, Path)) else dict(previous or {})
    result = allocate_screening(
        screen_cohort(cohort, chosen, day),
        in_force,
        quota_rules(chosen, loaded),
        plans,
        within,
        earlier if previous is not None else None,
    )
    frame = _frame(allocation_batches(result), ALLOCATION_COLUMNS)
    for name in ("planned_date", "eligible_until"):
        frame[name] = pd.to_datetime(frame[name])
    return frame


def schedule(
    data: CohortInput,
    as_of: DateInput,
    horizon: int = DEFAULT_HORIZON,
    state: str | Path | None = None,
    scenario: str | Path | None = None,
    slots: Mapping[str, int] | None = None,
    trials: Iterable[str] | None = None,
    models: str | Path | None = None,
    workers: int | None = None,
    time_limit: float | None = None,
) -> pd.DataFrame:
    """The enrolment calendar: one row per input patient, the columns of ``matcher schedule --format csv``."""
    cohort, chosen, day = _inputs(data, as_of, trials, models)
    known = list(load_trial_models(Path(models) if models else None))
    in_force = run_slots([trial.id for trial in chosen], known, dict(slots or {}), scenario)[0]
    windows = eligibility_windows(cohort, chosen, day, horizon, workers)
    calendar = schedule_screening(
        screen_cohort(cohort, chosen, day),
        windows,
        chosen,
        in_force,
        load_state(state, known) if state else None,
        horizon,
        time_limit,
        str(state or ""),
    )
    frame = pd.DataFrame([entry.as_dict() for entry in calendar.entries], columns=list(SCHEDULE_COLUMNS))
    for name in ("planned_date", "enrolment_date", "window_start", "window_end", "tests_hold_until"):
        frame[name] = pd.to_datetime(frame[name])
    for name in ("dose_level", "cohort"):
        frame[name] = frame[name].astype("Int64")
    return frame


def _inputs(
    data: CohortInput, as_of: DateInput, trials: Iterable[str] | None, models: str | Path | None
) -> tuple[Cohort, list[ir.Trial], dt.date]:
    """The trials selected (their columns put in force first), then the cohort checked against the date."""
    day = _date(as_of)
    chosen = select_trials(list(trials or []), Path(models) if models else None)
    return check_as_of(read_cohort(data), day), chosen, day


def read_cohort(data: CohortInput) -> Cohort:
    """A cohort from a file path (CSV or Parquet), a pyarrow Table or a pandas DataFrame.

    A DataFrame may carry pandas dtypes: numbers (NaN blank), booleans, datetimes, strings and categoricals.
    Each column enters the loader as the Arrow column pandas gives (typed, not re-spelled as text), and the
    loader converts it to the contract's type as it does a Parquet column; a column of mixed cells (numbers
    and words) is spelled as a CSV would spell it.  So the verdicts equal those of the same data read from a file.
    """
    if isinstance(data, (str, Path)):
        return load_cohort(data)
    if isinstance(data, pa.Table):
        return cohort_from_table(data, "the table")
    if isinstance(data, pd.DataFrame):
        return cohort_from_table(pa.table({str(name): _arrow(data[name]) for name in data.columns}), "the DataFrame")
    raise MatcherError(f"a cohort is a DataFrame, a pyarrow Table or a file path, not {type(data).__name__}")


def _arrow(series: pd.Series) -> pa.Array:
    """A column as the Arrow array pandas makes of it; cells Arrow cannot type together are spelled as text."""
    try:
        return pa.array(series, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return _spelled(series)


def _spelled(series: pd.Series) -> pa.Array:
    """A column as the text a CSV cell would hold (None where blank)."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        series = series.astype(object)
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        text = [None if pd.isna(value) else value.date().isoformat() for value in series]
    elif pd.api.types.is_bool_dtype(series.dtype):
        text = [None if pd.isna(value) else ("true" if value else "false") for value in series]
    else:
        text = [None if _blank(value) else _cell(value) for value in series]
    return pa.array(text, pa.string())


def _blank(value: Any) -> bool:
    return value is None or (not isinstance(value, str) and bool(pd.isna(value)))


def _cell(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (dt.date, pd.Timestamp)):
        return value.isoformat()[:10]
    return str(value)


def _date(value: DateInput) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise MatcherError(f"as_of: {value!r} is not a date (YYYY-MM-DD)") from None


def _frame(batches: Iterable[Mapping[str, Any]], names: tuple[str, ...]) -> pd.DataFrame:
    parts = [pa.table({name: _text(batch[name]) for name in names}) for batch in batches]
    if not parts:
        return pd.DataFrame({name: pd.Series(dtype=object) for name in names})
    table = pa.concat_tables(parts)
    return pd.DataFrame({name: table.column(name).to_pylist() for name in names})


def _text(values: Any) -> pa.Array:
    array = values if isinstance(values, (pa.Array, pa.ChunkedArray)) else pa.array(list(values), pa.string())
    return array.cast(pa.string()) if not pa.types.is_string(array.type) else array


def _plans_frame(plans: list[Plan]) -> pd.DataFrame:
    rows = []
    for found in plans:
        row = found.as_dict()
        row["actions"] = [action.text for action in found.actions]
        row["alternatives"] = len(found.alternatives)
        rows.append(row)
    frame = pd.DataFrame(rows)
    for name in ("earliest_date", "eligible_until", "beyond_horizon_date"):
        if name in frame:
            frame[name] = pd.to_datetime(frame[name])
    return frame
