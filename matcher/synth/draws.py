"""One block of rows and the random draws every column is made of (seeded per block, so streaming never changes
the file)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from matcher.dates import EPOCH
from matcher.synth.options import SynthOptions, diagnoses

NEVER = -np.inf


@dataclass
class Text:
    """A text or enum column as codes into ``labels`` (-1 = blank)."""

    codes: np.ndarray
    labels: Sequence[str]

    def is_(self, *labels: str) -> np.ndarray:
        return np.isin(self.codes, [self.labels.index(label) for label in labels])


Column = np.ndarray | Text


class Block:
    """One block of patients: the random draws and the columns built so far.

    Numbers, booleans (1/0) and dates (day numbers, -inf = never) are float
    arrays with NaN for blank.
    """

    def __init__(self, options: SynthOptions, index: int, size: int) -> None:
        self.rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(options.seed, spawn_key=(index, 0))))
        self.size = size
        self.today = (options.as_of - EPOCH).days
        self.codes = diagnoses()
        total = sum(options.mix.values())
        weights = [options.mix.get(code, 0.0) / total for code in self.codes]
        self.dx = self.rng.choice(len(self.codes), size, p=weights)
        self._is = {code: self.dx == index for index, code in enumerate(self.codes)}
        self.columns: dict[str, Column] = {}

    def has(self, *codes: str) -> np.ndarray:
        return np.logical_or.reduce([self._is[code] for code in codes])

    def per_dx(self, values: Mapping[str, float], default: float) -> np.ndarray:
        return np.array([values.get(code, default) for code in self.codes])[self.dx]

    def chance(self, p: float | np.ndarray) -> np.ndarray:
        return self.rng.random(self.size) < p

    def flag(self, p_true: float | np.ndarray, where: np.ndarray | None = None) -> np.ndarray:
        """1/0 with probability ``p_true`` of 1; NaN outside ``where``."""
        values = self.chance(p_true).astype(float)
        return values if where is None else np.where(where, values, np.nan)

    def normal(self, mean: float | np.ndarray, sd: float | np.ndarray, low: float, high: float) -> np.ndarray:
        return np.clip(self.rng.normal(mean, sd, self.size), low, high)

    def lognormal(self, median: float | np.ndarray, sigma: float) -> np.ndarray:
        return np.asarray(median * np.exp(self.rng.normal(0.0, sigma, self.size)))

    def uniform(self, low: float | np.ndarray, high: float | np.ndarray) -> np.ndarray:
        return self.rng.uniform(low, high, self.size)

    def pick(self, labels: Sequence[str], weights: Sequence[float], where: np.ndarray | None = None) -> Text:
        p = np.asarray(weights, dtype=float)
        codes = self.rng.choice(len(labels), self.size, p=p / p.sum())
        return Text(codes if where is None else np.where(where, codes, -1), labels)

    def pick_by_dx(self, labels: Sequence[str], table: Mapping[str, Sequence[float]]) -> Text:
        """Per-disease categorical draws; diagnoses missing from ``table`` stay blank."""
        probs = np.zeros((len(self.codes), len(labels)))
        for code, weights in table.items():
            probs[self.codes.index(code)] = np.asarray(weights, dtype=float) / sum(weights)
        cumulative = probs.cumsum(axis=1)
        cumulative[:, -1] = 1.0
        drawn = (self.rng.random(self.size)[:, None] >= cumulative[self.dx]).sum(axis=1)
        listed = np.isin(self.dx, [self.codes.index(code) for code in table])
        return Text(np.where(listed, np.minimum(drawn, len(labels) - 1), -1), labels)

    def banded(self, bands: Sequence[tuple[float, float, float]]) -> np.ndarray:
        """Uniform within a band chosen by weight; bands are (weight, low, high).

        One uniform draw picks the band and, rescaled, the place within it.
        """
        weights, low, high = (np.array(part, dtype=float) for part in zip(*bands, strict=True))
        upper = np.cumsum(weights / weights.sum())
        upper[-1] = 1.0
        u = self.rng.random(self.size)
        chosen = np.minimum(np.searchsorted(upper, u, side="right"), len(bands) - 1)
        lower = np.concatenate([[0.0], upper[:-1]])[chosen]
        within = (u - lower) / (upper[chosen] - lower)
        return np.asarray(low[chosen] + within * (high[chosen] - low[chosen]))

    def days_back(self, bands: Sequence[tuple[float, float, float]]) -> np.ndarray:
        """Whole days before the as-of date, from bands of days (high end excluded)."""
        return np.floor(self.banded(bands))

    def date(self, days_back: np.ndarray) -> np.ndarray:
        return self.today - np.floor(days_back)

    def event(self, happened: np.ndarray, bands: Sequence[tuple[float, float, float]]) -> np.ndarray:
        """A dated event for rows where it happened, ``never`` elsewhere."""
        return np.where(happened, self.date(self.days_back(bands)), NEVER)

    def dated(self, p: float | np.ndarray, bands: Sequence[tuple[float, float, float]]) -> np.ndarray:
        """An event that happened with probability ``p``, dated in ``bands`` of days back."""
        return self.event(self.chance(p), bands)
