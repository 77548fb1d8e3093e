"""Screen hand-built vignettes against the bundled trial models."""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

from matcher import ir
from matcher.cohort import check_as_of, cohort_from_records
from matcher.screening import STATUS_NAMES, screen
from matcher.trials import load_trial_file, models_dir
from matcher.validate import reason_text

AS_OF = dt.date(2026, 11, 23)

# Registry statuses (a model's ``status:``): those that take patients now, and each of the others in the words
# the tool prints ("NCT... is not recruiting (<words>)", the report's recruitment note).  Tests derive what
# they expect from the loaded trials through these, so a trial copied into models/ is checked the same way.
RECRUITING = ("recruiting", "enrolling_by_invitation")
NOT_RECRUITING_IN_WORDS = {
    "not_yet_recruiting": "not yet recruiting",
    "active_not_recruiting": "active, not recruiting",
    "suspended": "suspended",
    "terminated": "terminated",
    "completed": "completed",
    "withdrawn": "withdrawn",
    "unknown": "unknown",
}


@functools.cache
def _trial(trial_id: str, modified: float) -> ir.Trial:
    return load_trial_file(models_dir() / f"{trial_id}.yaml")


def trial(trial_id: str) -> ir.Trial:
    """The bundled model, parsed once per version of its file."""
    return _trial(trial_id, (models_dir() / f"{trial_id}.yaml").stat().st_mtime)


def verdict(trial_id: str, patient: dict[str, Any], as_of: dt.date = AS_OF) -> tuple[str, list[str], list[str]]:
    """(status, failed criterion ids, columns to measure) of one patient for one trial.

    ``patient`` values are spelled as in a cohort CSV; None or "" is blank.
    """
    record = {"patient_id": "p1", **patient}
    cohort = check_as_of(cohort_from_records([record]), as_of)  # as a run does: dates and ages against the as-of date
    result = screen(cohort, [trial(trial_id)], as_of).results[0]
    if cohort.invalid:
        return "invalid", [reason_text(cohort.invalid[0])], []
    return STATUS_NAMES[result.status[0]], result.failed_lists()[0], result.missing_lists()[0]


def ago(days: int = 0, months: int = 0) -> str:
    """The ISO date ``months`` calendar months and then ``days`` days before AS_OF."""
    year, month = divmod(AS_OF.year * 12 + AS_OF.month - 1 - months, 12)
    return (dt.date(year, month + 1, AS_OF.day) - dt.timedelta(days=days)).isoformat()


def with_changes(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {**base, **changes}


def manual_checks(trial_id: str, patient: dict[str, Any], as_of: dt.date = AS_OF) -> list[str]:
    """The manual checks asked of one patient for one trial (those whose ``applies_when`` is not false)."""
    cohort = cohort_from_records([{"patient_id": "p1", **patient}])
    return screen(cohort, [trial(trial_id)], as_of).results[0].manual_lists()[0]
