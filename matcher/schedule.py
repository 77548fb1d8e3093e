"""An enrolment calendar: planned infusion dates that honour each trial's design and each patient's window.

Each patient-trial pair's what-if plan gives a window (``earliest_date`` to ``eligible_until``, or open) within
the horizon.  A CP-SAT model picks, per patient, at most one trial and an infusion day in that window such that:

* a fixed design takes at most its slots (less those already dosed);
* a 3+3 design fills its cohorts ahead (``matcher.escalation``) in order, each exactly ``cohort_size``: a
  sentinel first, the others enrolled after its watch (sentinel infusion + ``stagger_days`` < their enrolment); a
  cohort's last infusion + ``dlt_days`` < the next cohort's first enrolment (each watch ends before anyone else
  starts lymphodepletion, review 37 M1), so in infusion days the gaps are ``Enrollment.sentinel_days`` and
  ``escalation_days``;
* each trial infuses at most ``per_week`` patients per ISO week (an ``AddCumulative`` over weeks, counting
  the infusions already given).

Objective, lexicographic: patients scheduled, priority, preference rank, results in hand (a patient eligible as
recorded before one whose plan awaits a test's result: review 33 m1), sooner planned days, then patient_id.
The levels are solved one after the other, each fixed at its optimum before the next (from the previous
solution as a hint): folded into one integer, as ``matcher.allocation`` does, the weights reach 10^10 and the
LP relaxation, which bounds the cohorts' cost, loses its precision.  The patient_id tie-break only orders
calendars equal on every other level; it gets ``TIE_BREAK_LIMIT`` deterministic seconds (so reruns still
agree) and its best calendar then stands, proven or not.  Without a time limit, the sooner-days level gets
``DAYS_LIMIT`` deterministic seconds; unproven then, the calendar says so with its gap (a large ``time_limit``
asks for the proof).

Reduction (exact): within one trial, patients with the same window are interchangeable in every constraint,
so of each (trial, window) group only the top ``S`` by weight (then patient_id) can be needed, ``S`` the
patients the calendar can hold: if a lower one were scheduled, at most ``S - 1`` others are, so one of the top
``S`` is unscheduled and takes its day and role at no loss.

A 3+3 trial's slots beyond its path with no DLT are its expansion reserve: per dose level planned, up to a
cohort of unscheduled candidates, ranked, whose window is open when an expansion could start.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from ortools.sat.python import cp_model

from matcher import ir
from matcher.actions import WITHHOLD
from matcher.arcs import TIE_BREAK_LIMIT, _id_order, _preference_ranks, _priorities
from matcher.errors import MatcherError, ParameterError
from matcher.escalation import EnrollmentPath, EnrollmentState, enrollment_path
from matcher.plans import Action, Plan
from matcher.reasons import nowhere_reasons
from matcher.screening import Screening
from matcher.validate import reason_text

STATUSES = ("scheduled", "reserve", "unplaced", "invalid")
# deterministic seconds for the sooner-days level when no limit is given: its bound closes slowly on thousands of
# patients (3,000: the best calendar found at once, the proof not after 14 minutes; 1,000: proven in 17 s)
DAYS_LIMIT = 60.0


@dataclass
class Entry:
    """One patient's line of the calendar (one per input patient)."""

    patient_id: str
    trial_id: str | None = None
    dose_level: int | None = None
    cohort: int | None = None
    planned_date: dt.date | None = None  # the infusion
    enrolment_date: dt.date | None = None  # where the criteria are read: the trial's enrolment_days before the infusion
    window_start: dt.date | None = None
    window_end: dt.date | None = None  # None: the window stays open
    status: str = "unplaced"
    reason: str = ""
    tests_hold_until: dt.date | None = None  # a routine test the window counts on (recorded, or the plan's) lapses
    repeat_tests: str = ""  # to repeat before the infusion (a reserve: if infused after tests_hold_until)
    repeat_within: str = ""  # how fresh, at which event: "less than 7 days old at enrolment"
    actions: list[str] = field(default_factory=list)  # the plan's steps the window rests on, as allocate gives them
    repeat_words: str = ""  # the repeat in words, as the reason ends (for the table's list of steps)

    def as_dict(self) -> dict[str, Any]:
        return {
            "patient_id": self.patient_id,
            "trial_id": self.trial_id,
            "dose_level": self.dose_level,
            "cohort": self.cohort,
            "planned_date": _iso(self.planned_date),
            "enrolment_date": _iso(self.enrolment_date),
            "window_start": _iso(self.window_start),
            "window_end": _iso(self.window_end),
            "status": self.status,
            "reason": self.reason,
            "tests_hold_until": _iso(self.tests_hold_until),
            "repeat_tests": self.repeat_tests,
            "repeat_within": self.repeat_within,
            "actions": self.actions,
        }


@dataclass
class Calendar:
    as_of: dt.date
    horizon: int
    entries: list[Entry]
    paths: list[EnrollmentPath]
    solver_status: str
    proven: bool
    gap: float
    levels: dict[str, int]
    candidates: int  # patient-trial windows
    reduced: int  # of them, those in the model after the reduction
    warnings: list[str] = field(default_factory=list)


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None


def _on_plan(p: Plan) -> str:
    """Words for a window that rests on a plan's steps, with the results they await (review 33 S1: a woman infused
    on the day of the plan's pregnancy test was told nothing of it)."""
    if not p.actions:
        return ""
    awaited = f", awaiting {p.awaiting}" if p.awaiting else ""  # review 34 m-C: words, not columns
    return f", on the plan's steps (actions){awaited}"


def _repeat_first(entry: Entry, p: Plan, infusion: dt.date | None, lead: dt.timedelta) -> None:
    """Where a routine test the plan counts on closes its window (``renewable_until``), say when it lapses and what
    to repeat before the enrolment of an infusion after that (``lead`` before it), fresh at the event the trial
    counts it to; for a reserve, whose day is not known, on what condition (review 31 S1, m1; review 33 M1)."""
    if not p.renewable_until or p.eligible_until is None or not p.renewed_by:
        return
    entry.tests_hold_until = p.eligible_until
    if infusion is not None and infusion - lead <= p.eligible_until:
        return
    entry.repeat_tests = "; ".join(renewal.test for renewal in p.renewed_by)
    entry.repeat_within = "; ".join(renewal.freshness() for renewal in p.renewed_by)
    tests = " and the ".join(f"{renewal.test} so it is {renewal.freshness()}" for renewal in p.renewed_by)
    held = f"the one the plan counts on holds to {p.eligible_until.isoformat()}"
    if infusion is None:
        last = (p.eligible_until + lead).isoformat()
        entry.repeat_words = f"if infused after {last}, repeat the {tests} ({held})"
    else:
        enrolment = (infusion - lead).isoformat()
        renewed = {renewal.column for renewal in p.renewed_by}
        own = [action for action in p.actions if action.column in renewed and action.action != "wait"]
        if own:  # the plan's own test would lapse before this enrolment: done once, for it, not twice
            entry.actions = [text for action, text in zip(p.actions, entry.actions, strict=True) if action not in own]
            dated = " and ".join(action.date.isoformat() for action in own)
            held = f"the plan's, on {dated}, would hold only to {p.eligible_until.isoformat()}"
            entry.repeat_words = f"do the {tests}, for enrolment on {enrolment} ({held})"
        else:
            entry.repeat_words = f"repeat the {tests}, for enrolment on {enrolment}: {held}"
    entry.reason += f"; {entry.repeat_words}"


def _withheld_to(action: Action, infusion: dt.date | None) -> str:
    """For a drug the plan withholds, to when the calendar needs it withheld (review 37 M2: withheld "up to and on
    the plan date", the course resumed after it, and the patient enrolled weeks later was not eligible)."""
    if action.action != WITHHOLD:
        return ""
    when = f"the infusion on {infusion.isoformat()}" if infusion is not None else "the infusion, whenever it comes"
    return f"; for this calendar, keep {action.summary} until after {when}"


def window_words(start: dt.date, end: dt.date | None) -> str:
    return f"window {start.isoformat()}…{end.isoformat() if end else 'open'}"


@dataclass
class _Windows:
    """Candidate patient-trial pairs as parallel arrays; days count from the as-of date."""

    row: np.ndarray
    trial: np.ndarray
    start: np.ndarray  # first day the infusion may be given
    end: np.ndarray  # last day (the horizon when the window stays open)
    rank: np.ndarray
    priority: np.ndarray
    plans: list[Plan]

    @property
    def awaiting(self) -> np.ndarray:
        """1 where the pair's plan awaits results (a test it does), 0 where the patient is eligible as recorded."""
        return np.array([1 if p.pending else 0 for p in self.plans], dtype=np.int64)

    def __len__(self) -> int:
        return len(self.row)


def schedule(
    screening: Screening,
    plans: list[Plan],
    trials: list[ir.Trial],
    slots: dict[str, int],
    state: EnrollmentState | None = None,
    horizon: int = 180,
    time_limit: float | None = None,
    state_source: str = "",
    reduce: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> Calendar:
    """The best calendar for the screened patients, from their eligibility windows (``eligibility_windows``);
    ``progress(levels solved, levels)`` after each level of the objective (one may take minutes on thousands)."""
    as_of = screening.as_of
    cohort = screening.cohort
    known = state.root if state else {}
    paths = [enrollment_path(t, slots.get(t.id, t.slots), known.get(t.id), as_of, state_source) for t in trials]
    dosed = {patient: (t, when) for t, path in enumerate(paths) for patient, when in path.dosed.items()}
    windows, warnings = _candidates(screening, plans, paths, horizon, set(dosed))
    capacity = sum(path.capacity for path in paths)
    order = _id_order(cohort, windows.row) * len(trials) + windows.trial if len(windows) else np.zeros(0, np.int64)
    awaiting = windows.awaiting
    weights = _rank_weights(windows, awaiting, len(trials))
    index = _reduce(windows, weights, order, capacity) if reduce else list(range(len(windows)))
    built = _Model(windows, index, paths, as_of, horizon)
    x = [built.x[i] for i in index]
    stages = [
        ("patients scheduled", sum(x)),
        ("priority", sum(int(windows.priority[i]) * built.x[i] for i in index)),
        ("preference rank", -sum(int(windows.rank[i]) * built.x[i] for i in index)),
        ("results in hand", -sum(int(awaiting[i]) * built.x[i] for i in index)),
        ("sooner days", -sum(built.day[i] for i in index)),
        ("patient_id tie-break", -sum(int(order[i]) * built.x[i] for i in index)),
    ]
    chosen: dict[int, tuple[int, int | None]] = {}
    status_name, proven, gap = "OPTIMAL", True, 0.0
    for solved, (level, expression) in enumerate(stages, 1):
        last_level = level == stages[-1][0]
        limit = min(time_limit or TIE_BREAK_LIMIT, TIE_BREAK_LIMIT) if last_level else time_limit
        if level == "sooner days" and time_limit is None:
            limit = DAYS_LIMIT
        solver, status = _solve(built.model, expression, limit)
        if status == cp_model.INFEASIBLE:
            raise MatcherError("internal error: the schedule model has no solution, not even an empty calendar")
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            if chosen:  # an earlier level's solution stands; this level is not optimised
                if not last_level:
                    status_name, proven = f"{solver.status_name(status)} at {level}", False
                break
            raise ParameterError("time_limit", f"no calendar found ({solver.status_name(status)}); raise {{option}}")
        chosen = built.solution(solver)
        built.hint(solver)
        best, bound = round(solver.objective_value), round(solver.best_objective_bound)
        if status != cp_model.OPTIMAL and not last_level:
            status_name, proven = f"FEASIBLE at {level}", False
            gap = abs(bound - best) / max(1, abs(bound))
            break
        built.model.add(expression == best)
        if progress:
            progress(solved, len(stages))
    levels = {
        "scheduled": len(chosen),
        "priority": int(sum(windows.priority[i] for i in chosen)),
        "preference_rank": int(sum(windows.rank[i] for i in chosen)),
        "awaiting_results": int(sum(awaiting[i] for i in chosen)),
        "days": int(sum(day for day, _ in chosen.values())),
    }
    entries = _Explainer(screening, windows, paths, chosen, dosed, horizon).entries()
    return Calendar(
        as_of,
        horizon,
        entries,
        paths,
        status_name,
        proven,
        gap,
        levels,
        len(windows),
        len(index),
        warnings,
    )


def _solve(model: cp_model.CpModel, objective: Any, time_limit: float | None) -> tuple[cp_model.CpSolver, Any]:
    """One level of the lexicographic objective, maximised from the previous level's solution."""
    model.maximize(objective)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.random_seed = 0
    solver.parameters.catch_sigint_signal = False
    solver.parameters.linearization_level = 2  # the cuts bound the days that cohorts and weeks cost
    if time_limit:
        solver.parameters.max_deterministic_time = time_limit
    status = solver.solve(model)
    if status == cp_model.MODEL_INVALID:
        raise MatcherError(f"internal error: invalid schedule model ({model.validate()})")
    return solver, status


def _candidates(
    screening: Screening, plans: list[Plan], paths: list[EnrollmentPath], horizon: int, dosed: set[str]
) -> tuple[_Windows, list[str]]:
    """The infusion windows of the pairs a patient's preferences accept, clipped to the horizon and the site's
    opening: a plan's days are days of enrolment, where the criteria are read (a result it awaits in hand), and the
    infusion comes the trial's ``enrolment_days`` later (review 34 M-B: a woman was infused on the day of the
    pregnancy test the trial wants before enrolment)."""
    cohort, as_of = screening.cohort, screening.as_of
    index_of = {path.trial_id: t for t, path in enumerate(paths)}
    row_of = {str(pid): i for i, pid in enumerate(cohort.ids)}
    kept: list[Plan] = []
    starts, ends = [], []
    for p in plans:
        t = index_of.get(p.trial_id)
        if t is None or p.patient_id in dosed or p.earliest_date is None:
            continue
        lead = dt.timedelta(days=paths[t].enrollment.enrolment_days)
        # the site's opening bounds the enrolment (review 37 m3: an enrolment was dated before the site opened)
        opens = max(p.earliest_date, as_of, paths[t].enrollment.start_date or as_of) + lead
        start, end = (opens - as_of).days, horizon
        if p.window_end is not None:
            end = min(end, (p.window_end + lead - as_of).days)
        if start <= end:
            kept.append(p)
            starts.append(start)
            ends.append(end)
    rows = np.array([row_of[p.patient_id] for p in kept], dtype=np.int64)
    trial = np.array([index_of[p.trial_id] for p in kept], dtype=np.int64)
    if not len(kept):
        empty = np.zeros(0, dtype=np.int64)
        return _Windows(empty, empty, empty, empty, empty, empty, []), []
    patients, position = np.unique(rows, return_inverse=True)
    ranks, warnings = _preference_ranks(cohort, [path.trial_id for path in paths], patients)
    rank = ranks[position.reshape(-1), trial]
    accepted = np.flatnonzero(rank >= 0)
    priority = _priorities(cohort)[rows]
    windows = _Windows(
        rows[accepted],
        trial[accepted],
        np.array(starts, dtype=np.int64)[accepted],
        np.array(ends, dtype=np.int64)[accepted],
        rank[accepted],
        priority[accepted],
        [kept[i] for i in accepted],
    )
    return windows, warnings


def _rank_weights(windows: _Windows, awaiting: np.ndarray, n_trials: int) -> np.ndarray:
    """Per pair, its rank on the levels fixed per pair (priority, preference, then results in hand), for the
    reduction."""
    if not len(windows):
        return np.zeros(0, dtype=np.int64)
    return ((windows.priority - windows.priority.min()) * n_trials + (n_trials - 1 - windows.rank)) * 2 + 1 - awaiting


def _reduce(windows: _Windows, weights: np.ndarray, order: np.ndarray, keep: int) -> list[int]:
    """The pairs that can be needed: per trial and window, the top ``keep`` by weight, then patient_id."""
    if not len(windows):
        return []
    ranking = np.lexsort((order, -weights))
    group = np.stack([windows.trial, windows.start, windows.end], axis=1)[ranking]
    _, first, inverse = np.unique(group, axis=0, return_index=True, return_inverse=True)
    position = np.arange(len(ranking)) - first[inverse.reshape(-1)]
    return sorted(int(i) for i in ranking[position < keep])


class _Model:
    """The CP-SAT model over the reduced pairs: a Boolean and a day per pair, cohorts and weeks per trial."""

    def __init__(self, windows: _Windows, index: list[int], paths: list[EnrollmentPath], as_of: dt.date, horizon: int):
        self.model = cp_model.CpModel()
        self.windows, self.paths = windows, paths
        self.offset = as_of.weekday()  # day d falls in week (d + offset) // 7, weeks starting on Monday
        self.as_of = as_of
        model = self.model
        self.x: dict[int, Any] = {}
        self.day: dict[int, Any] = {}
        self.member: dict[int, list[tuple[int, Any]]] = {}  # pair -> (cohort index, literal)
        by_patient: dict[int, list[int]] = {}
        for i in index:
            start, end = int(windows.start[i]), int(windows.end[i])
            self.x[i] = model.new_bool_var(f"x{i}")
            domain = cp_model.Domain.from_intervals([[0, 0], [start, end]])
            self.day[i] = model.new_int_var_from_domain(domain, f"day{i}")
            # Linear, not reified, so that the LP relaxation bounds the days: day = 0 unless scheduled.
            model.add(self.day[i] >= start * self.x[i])
            model.add(self.day[i] <= end * self.x[i])
            by_patient.setdefault(int(windows.row[i]), []).append(i)
        for members in by_patient.values():
            model.add_at_most_one(self.x[i] for i in members)
        for t, path in enumerate(paths):
            pairs = [i for i in index if windows.trial[i] == t]
            if not path.cohorts:
                for i in pairs:
                    model.add(self.x[i] == 0)
                continue
            if path.escalates:
                self._weeks(path, pairs, horizon)
                self._cohorts(path, pairs, horizon)
            else:
                self._fixed(path, pairs)

    def _days(self, day: dt.date) -> int:
        return (day - self.as_of).days

    def _given(self, path: EnrollmentPath) -> dict[int, int]:
        """Per week ahead (0: the as-of date's), the infusions already given in it."""
        given: dict[int, int] = {}
        for day in path.dosed_dates:
            week = (self._days(day) + self.offset) // 7
            if week >= 0:
                given[week] = given.get(week, 0) + 1
        return given

    def _fixed(self, path: EnrollmentPath, pairs: list[int]) -> None:
        """A fixed design: its slots, and one Boolean per pair and ISO week, the day the week's first in the window.

        Nothing else ties the days of a fixed design, so the earliest day of the chosen week is the best, and
        the weeks make the LP relaxation a transportation problem with a tight bound on the days.
        """
        model, offset, windows = self.model, self.offset, self.windows
        model.add(sum(self.x[i] for i in pairs) <= path.capacity)
        room = path.enrollment.per_week
        given = self._given(path)
        in_week: dict[int, list[Any]] = {}
        for i in pairs:
            start, end = int(windows.start[i]), int(windows.end[i])
            choices = []
            for week in range((start + offset) // 7, (end + offset) // 7 + 1):
                if given.get(week, 0) >= room:
                    continue
                literal = model.new_bool_var(f"week{i}.{week}")
                in_week.setdefault(week, []).append(literal)
                choices.append((max(start, 7 * week - offset), literal))
            model.add(sum(literal for _, literal in choices) == self.x[i])
            model.add(self.day[i] == sum(day * literal for day, literal in choices))
        for week, literals in in_week.items():
            if len(literals) > room - given.get(week, 0):
                model.add(sum(literals) <= room - given.get(week, 0))

    def _weeks(self, path: EnrollmentPath, pairs: list[int], horizon: int) -> None:
        """At most ``per_week`` infusions per ISO week: one unit-length interval per infusion on a week axis."""
        model, offset = self.model, self.offset
        intervals, demands = [], []
        last_week = (horizon + offset) // 7
        for i in pairs:
            week = model.new_int_var(0, last_week, f"week{i}")
            model.add(7 * week <= self.day[i] + offset)
            model.add(self.day[i] + offset <= 7 * week + 6)
            intervals.append(model.new_optional_fixed_size_interval_var(week, 1, self.x[i], f"infusion{i}"))
            demands.append(1)
        for given_week, count in sorted(self._given(path).items()):
            intervals.append(model.new_fixed_size_interval_var(given_week, 1, f"given{given_week}"))
            demands.append(min(count, path.enrollment.per_week))
        if intervals:
            model.add_cumulative(intervals, demands, path.enrollment.per_week)

    def _cohorts(self, path: EnrollmentPath, pairs: list[int], horizon: int) -> None:
        """The cohorts ahead, filled in order, each whole: sentinel, stagger, DLT gap.

        Each cohort's earliest possible start (the DLT windows and staggers before it) bounds its members' days
        linearly too, which gives the LP relaxation the days a later cohort costs.
        """
        model, design, windows = self.model, path.enrollment, self.windows
        previous_used, previous_last = None, None
        earliest = max(0, self._days(path.not_before)) if path.not_before else 0
        # no infusion before the first window opens (enrolment_days after the as-of date at the soonest): a bound
        # from day 0 leaves the LP a cohort path days too early, and proving the days level took minutes
        earliest = max(earliest, min((int(windows.start[i]) for i in pairs), default=earliest))
        joins: dict[int, list[tuple[int, Any]]] = {i: [] for i in pairs}  # pair -> (earliest day, literal)
        for k, future in enumerate(path.cohorts):
            used = model.new_bool_var(f"used{path.trial_id}.{k}")
            if previous_used is not None:
                model.add_implication(used, previous_used)
            if future.sentinel is not None:
                earliest = max(0, self._days(future.sentinel) + design.sentinel_days)
            literals = []
            for i in pairs:
                if windows.end[i] < earliest:
                    continue
                literal = model.new_bool_var(f"in{i}.{k}")
                self.member.setdefault(i, []).append((k, literal))
                joins[i].append((earliest, literal))
                literals.append((i, literal))
            model.add(sum(literal for _, literal in literals) == future.size * used)
            lowest = min(0, self._days(future.sentinel)) if future.sentinel else 0
            last = model.new_int_var(lowest, horizon, f"last{path.trial_id}.{k}")
            if future.sentinel is not None:
                first: Any = self._days(future.sentinel)
                for i, literal in literals:
                    model.add(self.day[i] >= first + design.sentinel_days).only_enforce_if(literal)
                model.add(last >= self._days(future.dosed_last or future.sentinel))
            else:
                first = model.new_int_var(min(earliest, horizon), horizon, f"first{path.trial_id}.{k}")
                self._sentinel(literals, first, used, design.sentinel_days, future.size)
            for i, literal in literals:
                model.add(self.day[i] <= last).only_enforce_if(literal)
            if previous_last is not None:
                model.add(first >= previous_last + design.escalation_days).only_enforce_if(used)
            previous_used, previous_last = used, last
            stagger = design.sentinel_days if future.size > 1 and future.sentinel is None else 0
            earliest = (earliest if future.sentinel is None else max(earliest, 0)) + stagger + design.escalation_days
        for i in pairs:
            model.add(sum(literal for _, literal in joins[i]) == self.x[i])
            model.add(self.day[i] >= sum(day * literal for day, literal in joins[i] if day))

    def _sentinel(self, literals: list[tuple[int, Any]], first: Any, used: Any, stagger: int, size: int) -> None:
        """Every member on or after the cohort's first day; with a stagger, one sentinel on it, the rest later."""
        model = self.model
        if not stagger or size == 1:
            for i, literal in literals:
                model.add(self.day[i] >= first).only_enforce_if(literal)
            if size == 1:
                for i, literal in literals:
                    model.add(self.day[i] == first).only_enforce_if(literal)
            return
        sentinels = []
        for i, literal in literals:
            sentinel = model.new_bool_var(f"sentinel{i}")
            model.add_implication(sentinel, literal)
            model.add(self.day[i] == first).only_enforce_if(sentinel)
            model.add(self.day[i] >= first + stagger).only_enforce_if(literal, ~sentinel)
            sentinels.append(sentinel)
        model.add(sum(sentinels) == used)

    def hint(self, solver: cp_model.CpSolver) -> None:
        """Start the next level's search from this solution."""
        self.model.clear_hints()
        for i, x in self.x.items():
            self.model.add_hint(x, solver.boolean_value(x))
            self.model.add_hint(self.day[i], solver.value(self.day[i]))

    def solution(self, solver: cp_model.CpSolver) -> dict[int, tuple[int, int | None]]:
        """Per scheduled pair: its day and its cohort index (None for a fixed design)."""
        chosen = {}
        for i, x in self.x.items():
            if solver.boolean_value(x):
                cohort = next((k for k, literal in self.member.get(i, []) if solver.boolean_value(literal)), None)
                chosen[i] = (int(solver.value(self.day[i])), cohort)
        return chosen


class _Explainer:
    """One entry per patient, with the reason in words: the calendar's, the reserve's, or why not."""

    def __init__(
        self,
        screening: Screening,
        windows: _Windows,
        paths: list[EnrollmentPath],
        chosen: dict[int, tuple[int, int | None]],
        dosed: dict[str, tuple[int, tuple[dt.date, int | None, int | None]]],
        horizon: int,
    ) -> None:
        self.screening, self.windows, self.paths = screening, windows, paths
        self.chosen, self.dosed, self.horizon = chosen, dosed, horizon
        self.as_of = screening.as_of
        self.cohort_days = self._cohort_days()

    def _date(self, day: int) -> dt.date:
        return self.as_of + dt.timedelta(days=day)

    def _lead(self, i: int) -> dt.timedelta:
        """From enrolment, where the plan's criteria are read, to the infusion of pair ``i``."""
        return dt.timedelta(days=self.paths[int(self.windows.trial[i])].enrollment.enrolment_days)

    def _end(self, i: int) -> dt.date | None:
        """The last infusion day of pair ``i``'s window (None: open): its plan's last day of enrolment plus the lead."""
        end = self.windows.plans[i].window_end
        return None if end is None else end + self._lead(i)

    def _window(self, entry: Entry, i: int, infusion: dt.date | None) -> tuple[dt.date, dt.date | None]:
        """The pair's infusion window, set on the entry with the plan's steps it rests on (a test to do, a taper, a
        stop); a drug the plan withholds is withheld to the calendar's infusion, not only to the plan's date."""
        p = self.windows.plans[i]
        start, end = self._date(int(self.windows.start[i])), self._end(i)
        entry.window_start, entry.window_end = start, end
        entry.actions = [action.text + _withheld_to(action, infusion) for action in p.actions]
        return start, end

    def _cohort_days(self) -> dict[tuple[int, int], tuple[int, int]]:
        """(trial, cohort index) -> (first, last) day of the cohorts filled."""
        days: dict[tuple[int, int], list[int]] = {}
        for i, (day, k) in self.chosen.items():
            if k is not None:
                days.setdefault((int(self.windows.trial[i]), k), []).append(day)
        return {key: (min(values), max(values)) for key, values in days.items()}

    def may_start(self, t: int, k: int) -> int:
        """The earliest day cohort ``k`` of trial ``t`` may start, given the cohort before it."""
        path = self.paths[t]
        future = path.cohorts[k]
        if future.sentinel is not None:
            return (future.sentinel - self.as_of).days
        if k > 0:
            before = self.cohort_days.get((t, k - 1))
            if before is None:
                return self.horizon + 1
            return before[1] + path.enrollment.escalation_days
        floor = 0
        if path.not_before is not None:
            floor = max(floor, (path.not_before - self.as_of).days)
        if path.enrollment.start_date is not None:
            floor = max(floor, (path.enrollment.start_date - self.as_of).days + path.enrollment.enrolment_days)
        return floor

    def entries(self) -> list[Entry]:
        cohort = self.screening.cohort
        ids = cohort.ids.astype(str)
        entries = [Entry(pid) for pid in ids.tolist()]
        for row, problems in cohort.invalid.items():
            entries[row].status = "invalid"
            entries[row].reason = f"row {row + 2} could not be read: {reason_text(problems)}"
        row_of = {pid: row for row, pid in enumerate(ids.tolist())}
        for patient, (t, (dosed_on, level, number)) in self.dosed.items():
            if patient in row_of:
                entry = entries[row_of[patient]]
                entry.trial_id, entry.dose_level, entry.cohort = self.paths[t].trial_id, level, number
                entry.planned_date, entry.status = dosed_on, "scheduled"
                entry.reason = f"dosed on {dosed_on.isoformat()} at {self.paths[t].trial_id} (state file)"
        for i, (day, k) in sorted(self.chosen.items()):
            self._scheduled(entries[int(self.windows.row[i])], i, day, k)
        self._reserve(entries)
        self._unplaced(entries)
        return entries

    def _scheduled(self, entry: Entry, i: int, day: int, k: int | None) -> None:
        t = int(self.windows.trial[i])
        path = self.paths[t]
        entry.trial_id, entry.status = path.trial_id, "scheduled"
        entry.planned_date = self._date(day)
        start, end = self._window(entry, i, entry.planned_date)
        entry.enrolment_date = entry.planned_date - self._lead(i)
        enrolment = entry.enrolment_date.isoformat()
        where = f"infusion at {path.trial_id} on {entry.planned_date.isoformat()} (enrolment on {enrolment})"
        if k is not None:
            future = path.cohorts[k]
            entry.dose_level, entry.cohort = future.level, future.number
            first = self.cohort_days[(t, k)][0]
            role = "sentinel of " if day == first and future.sentinel is None and path.enrollment.stagger_days else ""
            where = f"{role}cohort {future.number} at dose level {future.level}: {where}"
        p = self.windows.plans[i]
        withheld = "".join(_withheld_to(action, entry.planned_date) for action in p.actions)
        entry.reason = f"{where}, within the {window_words(start, end)}{_on_plan(p)}{withheld}"
        _repeat_first(entry, self.windows.plans[i], entry.planned_date, self._lead(i))

    def _reserve(self, entries: list[Entry]) -> None:
        """Per 3+3 trial with slots beyond its path, per level filled, up to a cohort of ranked reserve patients."""
        windows = self.windows
        free = [i for i in range(len(windows)) if entries[int(windows.row[i])].status == "unplaced"]
        ids = self.screening.cohort.ids.astype(str)
        ranked = sorted(
            free,
            key=lambda i: (
                -windows.priority[i],
                windows.rank[i],
                bool(windows.plans[i].pending),
                windows.start[i],
                ids[windows.row[i]],
                windows.trial[i],
            ),
        )
        for t, path in enumerate(self.paths):
            if not path.escalates or not path.reserve:
                continue
            for k, future in enumerate(path.cohorts):
                if (t, k) not in self.cohort_days:
                    break
                opens = self.cohort_days[(t, k)][1] + path.enrollment.escalation_days
                if opens > self.horizon:
                    break
                wanted = min(path.enrollment.cohort_size, path.reserve)
                for i in ranked:
                    entry = entries[int(windows.row[i])]
                    if wanted == 0:
                        break
                    if entry.status != "unplaced" or windows.trial[i] != t or windows.end[i] < opens:
                        continue
                    wanted -= 1
                    entry.trial_id, entry.status, entry.dose_level = path.trial_id, "reserve", future.level
                    start, end = self._window(entry, i, None)
                    rank = min(path.enrollment.cohort_size, path.reserve) - wanted
                    entry.reason = (
                        f"reserve {rank} to expand dose level {future.level} of {path.trial_id} if a DLT occurs "
                        f"(from {self._date(opens).isoformat()}); {window_words(start, end)}"
                    ) + _on_plan(windows.plans[i])
                    entry.reason += "".join(_withheld_to(action, None) for action in windows.plans[i].actions)
                    _repeat_first(entry, windows.plans[i], None, self._lead(i))

    def _unplaced(self, entries: list[Entry]) -> None:
        windows = self.windows
        why: dict[int, list[str]] = {}
        for i in range(len(windows)):
            row = int(windows.row[i])
            if entries[row].status == "unplaced":
                why.setdefault(row, []).append(self._why_not(i))
        nowhere = nowhere_reasons(self.screening, self.horizon)
        for row, entry in enumerate(entries):
            if entry.status != "unplaced" or entry.reason:
                continue
            if row in why:
                entry.reason = "; ".join(why[row])
            else:
                entry.reason = f"no infusion window within {self.horizon} days that the preferences accept"
                today = nowhere[row]
                if today.startswith("eligible nowhere"):
                    entry.reason += f" ({today})"

    def _why_not(self, i: int) -> str:
        """Why pair ``i`` was not scheduled, in words with the patient's window and the calendar's dates."""
        t = int(self.windows.trial[i])
        path = self.paths[t]
        window = window_words(self._date(int(self.windows.start[i])), self._end(i))
        first_day, last_day = int(self.windows.start[i]), int(self.windows.end[i])
        name = path.trial_id
        if not path.cohorts:
            return f"{name}: no place left ({path.stopped or 'its slots are taken'})"
        if not path.escalates:
            taken = sum(1 for j in self.chosen if self.windows.trial[j] == t)
            if taken >= path.capacity:
                return f"{name}: its {path.capacity} places go to patients ranked higher ({window})"
            return f"{name}: the weeks of the {window} are full (at most {path.enrollment.per_week} a week)"
        for k, future in enumerate(path.cohorts):
            filled = self.cohort_days.get((t, k))
            if filled is not None and filled[1] < first_day:
                continue
            opens = self.may_start(t, k)
            if last_day < opens:
                when = self._date(opens).isoformat() if opens <= self.horizon else "later"
                return f"{name}: {window} closes before cohort {future.number} may start ({when})"
            if filled is not None:
                return f"{name}: cohort {future.number} (dose level {future.level}) is full with patients ranked higher"
            return (
                f"{name}: cohort {future.number} (dose level {future.level}) cannot be filled within the horizon: "
                f"fewer than {future.size} patients fit its dates"
            )
        return f"{name}: every cohort planned is full before the {window} opens"
