"""What an allocation answers: rosters, waitlists and one outcome per patient, kept as columns (with reasons
as codes) so a million patients stay cheap."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


@dataclass
class TrialOutcome:
    trial_id: str
    slots: int
    roster: list[str]
    waitlist: list[str]
    recruitment: str  # the trial's registry status, e.g. recruiting or not_yet_recruiting


@dataclass
class PatientOutcome:
    patient_id: str
    trial_id: str | None
    status: str  # assigned | waitlist | unplaced | invalid
    planned_date: dt.date | None
    eligible_until: dt.date | None  # assigned: the last day they stay eligible as things stand (None: open)
    reason: str
    actions: list[str] = field(default_factory=list)


class ReasonColumn:
    """Per patient, why they are where they are, kept as codes until text is asked for.

    The default reason joins one part per trial (``prefix`` then the non-empty parts,
    "; " between them), each part an index into that trial's few distinct texts; rows
    given their own text (placed, waitlisted, invalid) override it.  Text is built
    for a row, or by Arrow for a batch of rows, so a million reasons never sit in
    memory as strings at once.
    """

    def __init__(self, prefix: str, parts: list[tuple[np.ndarray, list[str]]], rows: int) -> None:
        self.prefix = prefix
        self._codes = [codes.astype(np.int32) for codes, _ in parts]
        self._texts = [texts for _, texts in parts]
        self._own = np.full(rows, -1, dtype=np.int32)  # index into _own_texts, -1 = the joined parts
        self._own_texts: list[str] = []

    def __len__(self) -> int:
        return len(self._own)

    def __getitem__(self, row: int) -> str:
        own = int(self._own[row])
        if own >= 0:
            return self._own_texts[own]
        parts = (texts[int(codes[row])] for codes, texts in zip(self._codes, self._texts, strict=True))
        return self.prefix + "; ".join(part for part in parts if part)

    def assign(self, rows: np.ndarray, texts: list[str], which: np.ndarray | None = None) -> None:
        """Give ``rows`` the texts ``texts[which]`` (``texts[0]`` for every row when ``which`` is None)."""
        start = len(self._own_texts)
        self._own_texts.extend(texts)
        self._own[rows] = start if which is None else start + which

    def arrow(self, start: int, stop: int) -> pa.Array:
        """The texts of rows ``start`` to ``stop`` as an Arrow string array (for the CSV writer)."""
        rows = stop - start
        # Each non-empty part carries its "; "; the first one's is replaced by the prefix.
        parts = [
            pa.array([f"; {text}" if text else "" for text in texts], pa.string()).take(pa.array(codes[start:stop]))
            for codes, texts in zip(self._codes, self._texts, strict=True)
        ]
        joined = pc.binary_join_element_wise(*parts, "") if parts else pa.array([""] * rows, pa.string())
        default = pc.utf8_replace_slice(joined, 0, 2, self.prefix)
        own = self._own[start:stop]
        if not (own >= 0).any():
            return default
        given = pa.array(self._own_texts, pa.string()).take(pa.array(np.maximum(own, 0)))
        return pc.if_else(pa.array(own >= 0), given, default)


@dataclass
class PatientColumns:
    """One entry per input patient, in input order, kept as columns so a million rows stay cheap."""

    patient_id: np.ndarray
    trial_id: np.ndarray  # None where not placed
    status: np.ndarray
    planned_date: np.ndarray  # ISO text, None where not placed
    eligible_until: np.ndarray  # ISO text, None where not placed or open through the horizon
    reason: ReasonColumn
    actions: dict[int, list[str]]  # by row, for patients placed on a plan

    def outcome(self, row: int) -> PatientOutcome:
        planned, until = self.planned_date[row], self.eligible_until[row]
        return PatientOutcome(
            str(self.patient_id[row]),
            self.trial_id[row],
            str(self.status[row]),
            dt.date.fromisoformat(planned) if planned else None,
            dt.date.fromisoformat(until) if until else None,
            str(self.reason[row]),
            self.actions.get(row, []),
        )


@dataclass
class Allocation:
    as_of: dt.date
    solver_status: str
    proven_optimal: bool
    objective: int
    bound: int
    gap: float
    levels: dict[str, int]
    trials: list[TrialOutcome]
    columns: PatientColumns
    candidates: int
    reduced_candidates: int
    warnings: list[str] = field(default_factory=list)
    changes: list[dict[str, Any]] | None = None  # since the previous allocation, when one was given

    @property
    def patients(self) -> list[PatientOutcome]:
        return [self.columns.outcome(row) for row in range(len(self.columns.patient_id))]

    def as_dict(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "solver_status": self.solver_status,
            "proven_optimal": self.proven_optimal,
            "objective": self.objective,
            "bound": self.bound,
            "gap": self.gap,
            "levels": self.levels,
            "candidates": self.candidates,
            "reduced_candidates": self.reduced_candidates,
            "warnings": self.warnings,
            **({"changes": self.changes} if self.changes is not None else {}),
            "trials": [vars(t) for t in self.trials],
            "patients": [
                {
                    **vars(p),
                    "planned_date": p.planned_date.isoformat() if p.planned_date else None,
                    "eligible_until": p.eligible_until.isoformat() if p.eligible_until else None,
                }
                for p in self.patients
            ],
        }
