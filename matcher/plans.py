"""What a what-if plan says: the earliest date, the actions (each with its date and burden), the alternatives
considered, and what stays to be measured or asked."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from matcher import ir
from matcher.render import duration

DEFAULT_HORIZON = 180
LONGEST_WAIT = 5 * 365 + 1  # how far a plan beyond the horizon is searched (5 years)


@dataclass(frozen=True)
class Action:
    """One step of a plan, from ``date`` to ``until`` (None: a one-off on ``date``), in plain words."""

    action: str
    column: str
    before: str | None
    after: str | None
    date: dt.date
    until: dt.date | None
    note: str
    burden: int
    summary: str  # a short phrase: "stopping tacrolimus"
    awaits: str = ""  # the result the step waits for, in words: "the pregnancy test (serum) result"

    @property
    def text(self) -> str:
        """The step in a line: its date (for waiting, the date it runs to) and what it is; the words of a plan dated
        today that ends undecided wait for nothing (reviews 43, 46: "wait until 2026-11-23", the as-of date)."""
        if self.action == "wait" and self.until is not None and self.until > self.date:
            return f"wait until {self.until.isoformat()}: {self.note}"
        return f"{self.date.isoformat()}: {self.note}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "column": self.column,
            "from": self.before,
            "to": self.after,
            "date": self.date.isoformat(),
            "until": self.until.isoformat() if self.until else None,
            "note": self.note,
            "burden_days": self.burden,
        }


@dataclass(frozen=True)
class Alternative:
    """Another plan on the Pareto front of (date, burden): later, but with less burden."""

    earliest_date: dt.date
    burden: int
    status_at_plan: str
    actions: list[Action]
    stop_writes: frozenset[str] = frozenset()  # the columns a stop of the plan writes: read on its record, not before

    def as_dict(self) -> dict[str, Any]:
        return {
            "earliest_date": self.earliest_date.isoformat(),
            "burden_days": self.burden,
            "status_at_plan": self.status_at_plan,
            "actions": [action.as_dict() for action in self.actions],
        }


@dataclass(frozen=True)
class Renewal:
    """A routine test to repeat for a plan to hold past the day the one it counts on lapses (review 31 m1: named
    with the kind the trial asks for, a serum test where the text wants one, and how fresh it must be; review 33
    M1: at the event the trial counts it to, enrolment in "within 7 days before enrollment", which comes before
    the lymphodepletion and the infusion)."""

    test: str  # "pregnancy test (serum)"
    within: ir.Duration  # a test counts when dated less than this before the event (the trial's window)
    at: ir.Anchor  # the event: "enrolment"
    column: str  # the test's date column: "pregnancy_test_negative_date"

    def freshness(self) -> str:
        # a window the text counts to screening is read at enrolment, the day the calendar reads the criteria (review
        # 34 M-A: "at screening" is literally met by a lapsed test, as screening has passed)
        event = "the infusion" if self.at == "infusion" else "enrolment" if self.at == "screening" else self.at
        return f"less than {duration(self.within)} old at {event}"

    def as_dict(self) -> dict[str, str]:
        return {"test": self.test, "within": duration(self.within), "at": self.at}


@dataclass
class Plan:
    patient_id: str
    trial_id: str
    status_now: str
    reachable: bool
    earliest_date: dt.date | None = None
    eligible_until: dt.date | None = None
    status_at_plan: str | None = None
    actions: list[Action] = field(default_factory=list)
    blocking: list[str] = field(default_factory=list)
    blocking_words: list[str] = field(default_factory=list)  # each blocking criterion's reason today, in words
    missing: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)
    manual_checks: list[str] = field(default_factory=list)
    closes: list[str] = field(default_factory=list)
    renewable_until: bool = False
    renewed_until: dt.date | None = None  # renewable: the last day it holds with those tests repeated (None: open)
    renewed_by: list[Renewal] = field(default_factory=list)  # renewable: the routine tests to repeat
    anchors: dict[str, str] = field(default_factory=dict)
    alternatives: list[Alternative] = field(default_factory=list)
    solver_status: str = ""
    beyond_horizon: bool = False  # not reachable within the horizon, but by waiting longer (up to 5 years)
    beyond_horizon_date: dt.date | None = None  # the earliest date of that longer plan
    beyond_horizon_criteria: list[str] = field(default_factory=list)  # the criteria not met within the horizon
    # that longer plan's status then, and what leaves it undecided (a washout of unknown length is not "met")
    beyond_horizon_status: str | None = None
    beyond_horizon_missing: list[str] = field(default_factory=list)
    changes: dict[str, str] = field(default_factory=dict)  # the record as the steps leave it, as --set values
    replaced_stop: str = ""  # an earlier stop still counting that the plan's stop writes over: not in ``changes``

    @property
    def window_end(self) -> dt.date | None:
        """The last day a calendar may use: with routine tests repeated where that is all that closes the window."""
        return self.renewed_until if self.renewable_until else self.eligible_until

    @property
    def burden(self) -> int:
        return sum(action.burden for action in self.actions)

    @property
    def awaiting(self) -> str:
        """The results the plan's steps await, in words ("the pregnancy test (serum) result"), or ""."""
        return " and ".join(action.awaits for action in self.actions if action.awaits)

    @property
    def eligible_pending_results(self) -> bool:
        """Eligible at the plan date, or undecided only by results the plan's own tests are waiting for."""
        if not self.reachable:
            return False
        return self.status_at_plan == "eligible" or (
            self.status_at_plan == "unknown" and bool(self.missing) and set(self.missing) <= set(self.pending)
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "patient_id": self.patient_id,
            "trial_id": self.trial_id,
            "status_now": self.status_now,
            "reachable": self.reachable,
            "earliest_date": self.earliest_date.isoformat() if self.earliest_date else None,
            "eligible_until": self.eligible_until.isoformat() if self.eligible_until else None,
            "closed_by": self.closes,
            "renewable_until": self.renewable_until,
            "renewed_until": self.renewed_until.isoformat() if self.renewed_until else None,
            "renewed_by": [renewal.as_dict() for renewal in self.renewed_by],
            "status_at_plan": self.status_at_plan,
            "burden_days": self.burden,
            "actions": [action.as_dict() for action in self.actions],
            "pending": self.pending,
            "manual_checks": self.manual_checks,
            "blocking": self.blocking,
            "blocking_words": self.blocking_words,
            "beyond_horizon": self.beyond_horizon,
            "beyond_horizon_date": self.beyond_horizon_date.isoformat() if self.beyond_horizon_date else None,
            "beyond_horizon_criteria": self.beyond_horizon_criteria,
            "beyond_horizon_status": self.beyond_horizon_status,
            "beyond_horizon_missing": self.beyond_horizon_missing,
            "missing": self.missing,
            "changes": self.changes,
            "replaced_stop": self.replaced_stop or None,
            "date_counts_to": "screening",
            "anchors": self.anchors,
            "alternatives": [alternative.as_dict() for alternative in self.alternatives],
            "solver_status": self.solver_status,
        }
