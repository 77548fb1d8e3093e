"""Three-valued screening of a cohort against trials, with reasons and attrition funnels."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from matcher import ir
from matcher.cohort import Cohort
from matcher.context import Context
from matcher.evaluate import criterion_holds, criterion_undecided_columns, evaluate
from matcher.explain import Reason, first_reason_codes, reasons
from matcher.facts import Facts, default_facts
from matcher.kleene import FALSE, TRUE, UNKNOWN
from matcher.trials import effective_facts

INELIGIBLE, UNDECIDED, ELIGIBLE, INVALID = FALSE, UNKNOWN, TRUE, 3
STATUS_NAMES = ("ineligible", "unknown", "eligible", "invalid")


def row_lists(matrix: np.ndarray, labels: list[str]) -> list[list[str]]:
    """For an (n rows x m labels) boolean matrix, each row's true labels in label order."""
    rows, cols = np.nonzero(matrix)
    names = np.asarray(labels, dtype=object)[cols]
    bounds = np.searchsorted(rows, np.arange(1, matrix.shape[0]))
    return [part.tolist() for part in np.split(names, bounds)]


@dataclass
class TrialScreen:
    """Per patient: status, each criterion's truth value, and the columns to measure."""

    trial: ir.Trial
    criteria: list[ir.Criterion]
    manual: list[ir.Criterion]
    holds: np.ndarray  # (n patients, m criteria) Kleene codes
    status: np.ndarray  # (n,) INELIGIBLE/UNDECIDED/ELIGIBLE/INVALID
    missing_columns: list[str]
    missing: np.ndarray  # (n, len(missing_columns)) bool
    manual_applies: np.ndarray  # (n, len(manual)) bool: the check is asked of this patient
    # The cohort, date and facts it was screened with, for reasons with the patient's values (None where the
    # values stayed on the workers of a distributed screen: reasons then state the requirement).
    context: Context | None
    words: tuple[np.ndarray, list[str]] | None = None  # first_reasons() when computed where the values were

    @property
    def criterion_ids(self) -> list[str]:
        return [criterion.id for criterion in self.criteria]

    def failed_lists(self) -> list[list[str]]:
        return row_lists(self.holds == FALSE, self.criterion_ids)

    def undecided_lists(self) -> list[list[str]]:
        return row_lists(self.holds == UNKNOWN, self.criterion_ids)

    def missing_lists(self) -> list[list[str]]:
        return row_lists(self.missing, self.missing_columns)

    def manual_lists(self) -> list[list[str]]:
        return row_lists(self.manual_applies, [criterion.id for criterion in self.manual])

    def first_reasons(self) -> tuple[np.ndarray, list[str]]:
        """Per patient, the first failing (else undecided) criterion in words and how many more: (an index per row,
        -1 for eligible and invalid rows; the distinct texts)."""
        if self.words is None:
            status = np.where(self.status == INVALID, ELIGIBLE, self.status)
            self.words = first_reason_codes(self.criteria, self.holds, status, self.context)
        return self.words

    def reasons(self, row: int) -> list[Reason]:
        """The reason object of every criterion the patient fails or leaves undecided, in trial order."""
        return self.reasons_of(np.array([row])).get(row, [])

    def reasons_of(self, rows: np.ndarray) -> dict[int, list[Reason]]:
        """``reasons`` for many patients at once: one vectorized pass per criterion over the rows it explains."""
        out: dict[int, list[Reason]] = {int(row): [] for row in rows}
        if self.context is None:
            return {}
        rows = rows[self.status[rows] != INVALID]
        for index, criterion in enumerate(self.criteria):
            asked = rows[self.holds[rows, index] != TRUE]
            if len(asked):
                for row, reason in zip(asked.tolist(), reasons(criterion, self.context, asked), strict=True):
                    out[row].append(reason)
        self.context.forget_nodes()
        return out

    def counts(self) -> dict[str, int]:
        return {name: int((self.status == code).sum()) for code, name in enumerate(STATUS_NAMES)}


@dataclass
class Screening:
    cohort: Cohort
    as_of: dt.date
    results: list[TrialScreen]


def screen_trial(trial: ir.Trial, ctx: Context) -> TrialScreen:
    valid = ctx.cohort.valid_mask()
    criteria = [c for c in trial.criteria if not c.is_manual]
    manual = [c for c in trial.criteria if c.is_manual]
    n = len(ctx)
    holds = np.empty((n, len(criteria)), dtype=np.int8, order="F")  # filled column by column
    verdict = np.full(n, TRUE, np.int8)
    # The blank columns behind each criterion's unknowns, gathered while its rule nodes are
    # still memoized; kept only for undecided patients below (the walk only narrows its rows).
    missing: dict[str, np.ndarray] = {}
    for index, criterion in enumerate(criteria):
        holds[:, index] = criterion_holds(criterion, ctx, remember=False)
        np.minimum(verdict, holds[:, index], out=verdict)
        unknown = holds[:, index] == UNKNOWN
        if unknown.any():
            for column, mask in criterion_undecided_columns(criterion, ctx, unknown).items():
                if column in missing:
                    missing[column] |= mask
                else:
                    missing[column] = mask
        ctx.forget_nodes()
    # The Kleene codes are the status codes: INELIGIBLE = FALSE, UNDECIDED = UNKNOWN, ELIGIBLE = TRUE.
    status = np.where(valid, verdict, np.int8(INVALID))
    undecided_rows = status == UNDECIDED
    names = []
    for name in sorted(missing):
        missing[name] &= undecided_rows
        if missing[name].any():
            names.append(name)
    matrix = np.empty((n, len(names)), dtype=bool, order="F")
    for index, name in enumerate(names):
        matrix[:, index] = missing[name]
    return TrialScreen(trial, criteria, manual, holds, status, names, matrix, manual_applies(manual, ctx, valid), ctx)


def manual_applies(manual: list[ir.Criterion], ctx: Context, valid: np.ndarray) -> np.ndarray:
    """Per patient and manual check, whether it is asked: the row is valid and the check's
    ``applies_when`` is not known to be false (a blank condition still asks)."""
    asked = np.empty((len(ctx), len(manual)), dtype=bool, order="F")
    for index, criterion in enumerate(manual):
        applies = evaluate(criterion.applies_when, ctx) != FALSE if criterion.applies_when is not None else True
        asked[:, index] = valid & applies
    ctx.forget_nodes()
    return asked


def screen(cohort: Cohort, trials: list[ir.Trial], as_of: dt.date, facts: Facts | None = None) -> Screening:
    """Screen every patient against every trial; derived values are computed once per set of facts."""
    contexts: dict[tuple[object, ...], Context] = {}
    results = []
    for trial in trials:
        trial_facts = effective_facts(trial, facts or default_facts())
        key = trial_facts.cache_key()
        if key not in contexts:
            contexts[key] = Context(cohort, as_of, trial_facts, next(iter(contexts.values()), None))
        results.append(screen_trial(trial, contexts[key]))
    return Screening(cohort, as_of, results)


@dataclass(frozen=True)
class FunnelStep:
    criterion: ir.Criterion
    remaining: int
    undecided_here: int
    failed_here: int


def funnel(result: TrialScreen) -> list[FunnelStep]:
    """OHDSI-style attrition: patients not yet known to fail after each criterion, in trial order."""
    remaining = result.status != INVALID
    steps = []
    for index, criterion in enumerate(result.criteria):
        column = result.holds[:, index]
        failed_here = remaining & (column == FALSE)
        undecided_here = remaining & (column == UNKNOWN)
        remaining = remaining & ~failed_here
        steps.append(FunnelStep(criterion, int(remaining.sum()), int(undecided_here.sum()), int(failed_here.sum())))
    return steps
