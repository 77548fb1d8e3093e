"""What changed since the previous allocation: who kept a slot, who moved, who lost one and why, who is new.

A patient who lost a slot because they are no longer eligible for it is told the reason in words and, where a
plan exists, the first steps that would make them eligible for it again.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import cast

from matcher.context import Context
from matcher.outcome import Allocation
from matcher.planning import plan as nearest_plan
from matcher.plans import DEFAULT_HORIZON
from matcher.screening import ELIGIBLE, Screening, TrialScreen, screen


@dataclass(frozen=True)
class Change:
    patient_id: str
    change: str  # kept | moved | lost | new
    previous_trial: str | None
    trial: str | None
    reason: str
    restore: list[str]  # for a lost slot: the plan's steps that would make the patient eligible again

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def changes_since(allocation: Allocation, screening: Screening, previous: dict[str, str]) -> list[dict[str, object]]:
    """The changes from ``previous`` (patient -> trial), patients in input order."""
    columns = allocation.columns
    results = {result.trial.id: result for result in screening.results}
    out = []
    for row, patient in enumerate(columns.patient_id.astype(str).tolist()):
        before, now = previous.get(patient), columns.trial_id[row]
        if before is None and now is None:
            continue
        if before is None:
            out.append(Change(patient, "new", None, now, f"assigned to {now}", []))
        elif before == now:
            out.append(Change(patient, "kept", before, now, f"keeps {now}", []))
        elif now is not None:
            out.append(Change(patient, "moved", before, now, f"moved from {before} to {now}", []))
        else:
            out.append(_lost(patient, row, before, results.get(before), columns.reason[row]))
    return [change.as_dict() for change in out]


def _lost(patient: str, row: int, before: str, result: TrialScreen | None, fallback: str) -> Change:
    if result is None:
        return Change(patient, "lost", before, None, f"{before} is not among the trials considered", [])
    if result.status[row] == ELIGIBLE:
        return Change(patient, "lost", before, None, f"still eligible for {before}, but not placed: {fallback}", [])
    if result.context is None or row in result.context.cohort.invalid:
        return Change(patient, "lost", before, None, f"no longer eligible for {before}: {fallback}", [])
    # The patient alone: reasons and a plan on the whole cohort's context would evaluate every patient.
    ctx = result.context
    alone = screen(ctx.cohort.take([row]), [result.trial], ctx.as_of, ctx.facts).results[0]
    reasons = [reason.text for reason in alone.reasons(0)] or [fallback]
    steps = nearest_plan(cast(Context, alone.context), result.trial, 0, DEFAULT_HORIZON, look_beyond=False)
    restore = [action.text for action in steps.actions] if steps.reachable else []
    return Change(patient, "lost", before, None, f"no longer eligible for {before}: " + "; ".join(reasons), restore)
