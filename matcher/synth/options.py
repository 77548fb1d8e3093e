"""What a synthetic cohort is asked for: size, seed, disease mix, blank fraction, unit variants, date."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from matcher.contract import columns, shared_columns
from matcher.errors import MatcherError, ParameterError
from matcher.trials import load_trials

DEFAULT_AS_OF = dt.date(2026, 11, 23)  # the date the demo scenarios are pinned to


DEFAULT_MIX = {"SLE": 0.5, "SS": 0.15, "SSC": 0.1, "IIM": 0.1, "AAV": 0.15}


DEFAULT_BLANK_FRACTION = 0.02


BLOCK_ROWS = 5_000


CHUNK_ROWS = 50_000


@dataclass(frozen=True)
class SynthOptions:
    """What to generate; the same options always give the same file."""

    rows: int
    seed: int = 1
    mix: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_MIX))
    blank_fraction: float = DEFAULT_BLANK_FRACTION
    unit_variants: bool = False
    as_of: dt.date = DEFAULT_AS_OF
    trial_ids: tuple[str, ...] = field(default_factory=lambda: tuple(sorted(load_trials())))

    def __post_init__(self) -> None:
        if self.rows < 1:
            raise MatcherError(f"the number of rows must be at least 1, not {self.rows}")
        if self.seed < 0:
            raise MatcherError(f"the seed must be a whole number >= 0, not {self.seed}")
        if not 0.0 <= self.blank_fraction <= 1.0:
            raise MatcherError(f"the blank fraction must be between 0 and 1, not {self.blank_fraction}")
        check_mix(self.mix)


def diagnoses() -> tuple[str, ...]:
    """The diagnoses the generator draws: the shared contract's (a code a trial adds has no generator)."""
    return shared_columns()["diagnosis"].codes


def check_mix(mix: Mapping[str, float]) -> None:
    unknown = sorted(set(mix) - set(diagnoses()))
    if unknown:
        raise ParameterError(
            "mix", f"{{option}}: {unknown[0]!r} is not a diagnosis code (one of {', '.join(diagnoses())})"
        )
    if any(not np.isfinite(weight) or weight < 0 for weight in mix.values()):
        raise ParameterError("mix", "{option}: weights must be numbers >= 0")
    if sum(mix.values()) <= 0:
        raise ParameterError("mix", "{option}: at least one weight must be above 0")


def parse_mix(text: str | None, warnings: list[str] | None = None) -> dict[str, float]:
    """``SLE=0.5,SS=0.15,...`` as weights by diagnosis code (case-insensitive; normalized when drawing).

    None gives the default mix.  A code a trial adds (its extension in force) has no generator: it is
    left out of the mix with a line in ``warnings`` (an error where ``warnings`` is None).
    """
    if text is None:
        return dict(DEFAULT_MIX)
    codes = {code.lower(): code for code in diagnoses()}
    mix: dict[str, float] = {}
    for item in text.split(","):
        name, sep, number = item.partition("=")
        if not sep or not name.strip():
            raise ParameterError("mix", f"{{option}}: {item.strip()!r} is not CODE=WEIGHT (e.g. SLE=0.5)")
        code = codes.get(name.strip().lower())
        if code is None and name.strip().lower() in {c.lower() for c in columns()["diagnosis"].codes}:
            problem = f"no generator for {name.strip()!r} (a trial adds it); it draws {', '.join(diagnoses())}"
            if warnings is None:
                raise ParameterError("mix", f"{{option}}: {problem}")
            warnings.append(f"--mix: {problem}; its share is left out")
            continue
        if code is None:
            raise ParameterError(
                "mix", f"{{option}}: {name.strip()!r} is not a diagnosis code (one of {', '.join(diagnoses())})"
            )
        if code in mix:
            raise ParameterError("mix", f"{{option}}: {code} is given twice")
        try:
            mix[code] = float(number)
        except ValueError:
            raise ParameterError(
                "mix", f"{{option}}: the weight of {code}, {number.strip()!r}, is not a number"
            ) from None
    if not mix and warnings:
        raise ParameterError("mix", f"{{option}}: {warnings[-1].removeprefix('--mix: ')}, and nothing is left to draw")
    check_mix(mix)
    return mix
