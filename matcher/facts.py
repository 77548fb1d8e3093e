"""Clinical facts (steroid equivalence, half-lives, taper schedule, action costs).

Defaults ship in ``matcher/data/facts.yaml``; a trial overrides them under
``defaults:`` in its YAML file, and the merged facts are what its rules use.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field


class TaperStep(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    above: float
    step_mg: float = Field(gt=0)
    every_days: int = Field(gt=0)


class Facts(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    steroid_factors: dict[str, float]
    half_lives_days: dict[str, float]
    taper_schedule: tuple[TaperStep, ...]
    action_costs: dict[str, int]

    def with_overrides(self, half_lives_days: dict[str, float], steroid_factors: dict[str, float]) -> Facts:
        if not half_lives_days and not steroid_factors:
            return self
        return self.model_copy(
            update={
                "half_lives_days": {**self.half_lives_days, **half_lives_days},
                "steroid_factors": {**self.steroid_factors, **steroid_factors},
            }
        )

    def cache_key(self) -> tuple[Any, ...]:
        return tuple(sorted(self.steroid_factors.items())), tuple(sorted(self.half_lives_days.items()))


@cache
def default_facts() -> Facts:
    text = resources.files("matcher").joinpath("data/facts.yaml").read_text("utf-8")
    return Facts.model_validate(yaml.safe_load(text))
