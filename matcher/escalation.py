"""What each trial still has to enrol: the cohorts already dosed (``--state``) and, by the 3+3 rules, the path
ahead with no further DLT.

The 3+3 rules, per dose level, over the cohorts of ``cohort_size`` dosed at it:

* 0 DLTs in the first cohort: escalate to the next level (after the highest, escalation is complete);
* 1 DLT in the first cohort: expand the level by one more cohort before any escalation;
* at most 1 DLT in the two cohorts (e.g. 1 in 6): escalate;
* 2 or more DLTs at a level: escalation stops (the level is above the maximum tolerated dose); if the level
  below was given to one cohort only, it is expanded by one cohort to confirm it.

A cohort dosed in part (fewer dates than ``cohort_size``) is continued: its remaining patients follow its
sentinel, and DLTs are only judged on complete cohorts.  A fixed design has no cohorts: what was dosed counts
against its slots and weekly capacity.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, RootModel, ValidationError

from matcher import ir
from matcher.errors import MatcherError

DEFAULT_ENROLLMENT = ir.Enrollment(design="fixed")


class DosedCohort(BaseModel):
    """A cohort already dosed: its dose level (3+3), its infusion dates and the DLTs observed."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    level: int | None = Field(None, ge=1)
    dates: tuple[dt.date, ...] = Field(min_length=1)
    dlts: int = Field(0, ge=0)
    patients: tuple[str, ...] = ()


class TrialState(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    cohorts: tuple[DosedCohort, ...] = ()


class EnrollmentState(RootModel[dict[str, TrialState]]):
    """``--state``: per trial id, the cohorts dosed so far."""


@dataclass(frozen=True)
class FutureCohort:
    """A cohort still to fill: its number in the trial, its dose level (None: fixed design) and size."""

    number: int | None
    level: int | None
    size: int
    sentinel: dt.date | None = None  # the cohort was begun: its sentinel's date (the rest follow it)
    dosed_last: dt.date | None = None  # and the last infusion already given in it


@dataclass
class EnrollmentPath:
    """One trial's enrolment from here: what was dosed, the cohorts ahead and the reserve for expansions."""

    trial_id: str
    enrollment: ir.Enrollment
    slots: int
    cohorts: list[FutureCohort]
    not_before: dt.date | None  # the first cohort ahead is infused on or after this (DLT window, then enrolment)
    dosed_dates: list[dt.date] = field(default_factory=list)  # every infusion given (weekly capacity)
    dosed: dict[str, tuple[dt.date, int | None, int | None]] = field(
        default_factory=dict
    )  # patient -> date, level, cohort
    stopped: str = ""  # why escalation stopped, in words
    reserve: int = 0  # slots left for expansions once the path ahead is filled

    @property
    def escalates(self) -> bool:
        return self.enrollment.design == "3+3"

    @property
    def capacity(self) -> int:
        return sum(cohort.size for cohort in self.cohorts)


def load_state(path: str | Path, known_trials: list[str]) -> EnrollmentState:
    """The state file, its trials known; an error names the file, the trial and the cohort."""
    try:
        state = EnrollmentState.model_validate(yaml.safe_load(Path(path).read_text("utf-8")) or {})
    except OSError as exc:
        raise MatcherError(f"{path}: cannot be read: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise MatcherError(f"{path}: not valid YAML: {str(exc).splitlines()[0]}") from exc
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"])
        raise MatcherError(f"{path}: {where}: {error['msg']}") from exc
    for trial_id, trial_state in state.root.items():
        if trial_id not in known_trials:
            raise MatcherError(f"{path}: unknown trial {trial_id!r}; known: {', '.join(known_trials)}")
        for index, cohort in enumerate(trial_state.cohorts):
            if cohort.dlts > len(cohort.dates):
                raise MatcherError(
                    f"{path}: {trial_id}: cohorts[{index}]: {cohort.dlts} DLTs in {len(cohort.dates)} patients"
                )
            if cohort.patients and len(cohort.patients) != len(cohort.dates):
                raise MatcherError(
                    f"{path}: {trial_id}: cohorts[{index}]: {len(cohort.patients)} patients "
                    f"for {len(cohort.dates)} dates (one date per patient)"
                )
    return state


def enrollment_path(
    trial: ir.Trial, slots: int, state: TrialState | None, as_of: dt.date, source: str = ""
) -> EnrollmentPath:
    """The trial's cohorts ahead, from its design and what ``state`` says was dosed by ``as_of``."""
    enrollment = trial.enrollment or DEFAULT_ENROLLMENT
    dosed = state.cohorts if state else ()
    where = f"{source}: {trial.id}" if source else trial.id
    path = EnrollmentPath(trial.id, enrollment, slots, [], None)
    for index, cohort in enumerate(dosed):
        late = [day for day in cohort.dates if day > as_of]
        if late:
            raise MatcherError(f"{where}: cohorts[{index}]: dosed on {late[0]}, after --as-of {as_of}")
        path.dosed_dates.extend(cohort.dates)
        for patient, day in zip(cohort.patients, cohort.dates, strict=False):
            path.dosed[patient] = (day, cohort.level, index + 1 if path.escalates else None)
    room = max(0, slots - len(path.dosed_dates))
    if not path.escalates:
        if any(cohort.level not in (None, 1) for cohort in dosed):
            raise MatcherError(f"{where}: a fixed design has no dose levels to record")
        path.cohorts = [FutureCohort(None, None, room)] if room else []
        return path
    _escalation(path, dosed, room, where)
    return path


def _escalation(path: EnrollmentPath, dosed: tuple[DosedCohort, ...], room: int, where: str) -> None:
    """The 3+3 path ahead: the cohorts the rules call for after what was dosed, assuming no further DLT,
    within the slots."""
    design = path.enrollment
    size = design.cohort_size
    rules = _Rules(size, design.dose_levels)
    expected: int | None = 1  # the level the rules call for next (None: no further cohort)
    for index, cohort in enumerate(dosed):
        if cohort.level is None:
            raise MatcherError(f"{where}: cohorts[{index}]: a 3+3 cohort needs its dose level (level: N)")
        if len(cohort.dates) > size:
            raise MatcherError(f"{where}: cohorts[{index}]: {len(cohort.dates)} dates in a cohort of {size}")
        if cohort.level != expected:
            wanted = f"dose level {expected}" if expected else "no further cohort"
            raise MatcherError(
                f"{where}: cohorts[{index}] is at dose level {cohort.level}, but the 3+3 rules call for {wanted}"
            )
        if len(cohort.dates) < size:
            if index != len(dosed) - 1:
                raise MatcherError(f"{where}: cohorts[{index}]: only the last cohort may be dosed in part")
            last = max(cohort.dates)
            path.cohorts.append(FutureCohort(index + 1, cohort.level, size - len(cohort.dates), cohort.dates[0], last))
            expected = rules.after(cohort.level, cohort.dlts)
            break
        path.not_before = max(cohort.dates) + dt.timedelta(days=design.escalation_days)
        expected = rules.after(cohort.level, cohort.dlts)
    path.stopped = rules.stopped
    planned = sum(cohort.size for cohort in path.cohorts)
    number = len(dosed) + (0 if path.cohorts else 1)
    while expected is not None and planned + size <= room:
        number += 1 if path.cohorts else 0
        path.cohorts.append(FutureCohort(number, expected, size))
        planned += size
        expected = rules.after(expected, 0)
    path.reserve = max(0, room - planned)


class _Rules:
    """The 3+3 rules, fed one complete cohort at a time."""

    def __init__(self, size: int, levels: int) -> None:
        self.size = size
        self.top = levels  # the highest level still open (lowered when a level has 2 or more DLTs)
        self.treated: Counter[int] = Counter()
        self.dlts: Counter[int] = Counter()
        self.stopped = ""

    def after(self, level: int, dlts: int) -> int | None:
        """The level of the next cohort once a cohort at ``level`` had ``dlts`` DLTs (None: no further cohort)."""
        self.treated[level] += self.size
        self.dlts[level] += dlts
        if self.dlts[level] >= 2:
            self.top = min(self.top, level - 1)
            self.stopped = f"escalation stopped: {self.dlts[level]} DLTs in {self.treated[level]} at dose level {level}"
            below = level - 1
            return below if below >= 1 and self.treated[below] <= self.size else None
        if self.dlts[level] == 1 and self.treated[level] <= self.size:
            return level
        return level + 1 if level < self.top else None
