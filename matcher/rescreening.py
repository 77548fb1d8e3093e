"""One patient re-screened under an explicit change (``whatif --set``, ``--wait``), and the record a plan's steps
leave, read as CSV cells: below the planner, which reads what its plans leave undecided on that record."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import numpy as np

from matcher import ir
from matcher.cohort import Cohort, check_as_of, cohort_from_records
from matcher.errors import MatcherError, ParameterError
from matcher.screening import Screening, screen
from matcher.validate import reason_text


def patient_row(cohort: Cohort, patient_id: str) -> int:
    rows = np.flatnonzero(cohort.ids.astype(str) == patient_id)
    if not rows.size:
        raise MatcherError(f"{cohort.source}: no patient with patient_id {patient_id!r}")
    return int(rows[0])


def readable_row(cohort: Cohort, patient_id: str) -> int:
    """The patient's row; a row the loader could not read is an error until its values are corrected or set."""
    row = patient_row(cohort, patient_id)
    if row in cohort.invalid:
        reasons = reason_text(cohort.invalid[row])
        raise ParameterError(
            "changes",
            f"{cohort.source}: row {row + 2} (patient_id {patient_id!r}) could not be read ({reasons}); "
            "correct the row, or re-screen with {option} COLUMN=VALUE",
        )
    return row


def with_changes(cohort: Cohort, row: int, changes: dict[str, str]) -> Cohort:
    """The patient alone, with columns set as spelled in a CSV (unit headers allowed)."""
    one = cohort.take([row])
    if not changes:
        return one
    patch = _read_changes(tuple(changes.items()))
    if patch.warnings:
        unknown = ", ".join(sorted(set(changes) - set(patch.values)))
        raise ParameterError("changes", f"{{option}}: unknown column(s): {unknown}")
    if patch.invalid:
        raise ParameterError("changes", f"{{option}}: {reason_text(patch.invalid[0])}")
    one.values.update(patch.values)
    if 0 in one.invalid:  # reasons about the columns just set no longer hold; the others do
        kept = tuple(problem for problem in one.invalid[0] if problem.column not in patch.values)
        one.invalid = {0: kept} if kept else {}
    return one


@lru_cache(maxsize=4096)
def _read_changes(changes: tuple[tuple[str, str], ...]) -> Cohort:
    """Changes read as a one-row cohort, once per distinct set: a scan's plans share few of them (stop a drug
    today, a test on the plan's date), and reading a row costs more than the rest of a plan's words.  Its arrays
    are shared, never written."""
    return cohort_from_records([{"patient_id": "changes", **dict(changes)}], "the changes")


def rescreen(
    cohort: Cohort, patient_id: str, trials: list[ir.Trial], as_of: dt.date, changes: dict[str, str], wait_days: int
) -> Screening:
    """Screen one patient under an explicit change: columns set to new values and/or days waited."""
    screening_day = as_of + dt.timedelta(days=wait_days)
    one = with_changes(cohort, patient_row(cohort, patient_id), changes)
    one.screened_on = one.screened_on or as_of  # an age_years is given on the as-of date, and grows by the wait
    one = check_as_of(one, screening_day)
    return screen(one, trials, screening_day)
