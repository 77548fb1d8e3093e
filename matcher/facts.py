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


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class GlucocorticoidColumns(_Frozen):
    dose: str
    drug: str
    changed: str


class WithheldDrug(_Frozen):
    column: str
    drug: str


class ImmunosuppressantColumns(_Frozen):
    name: str
    start: str
    changed: str
    last_dose: str


class RepeatableTest(_Frozen):
    name: str
    date: str
    sets: dict[str, str] = Field(default_factory=dict)
    condition: str
    applies_when: str | None = None


class AdministrativeStep(_Frozen):
    column: str
    name: str


class ChangeModel(_Frozen):
    """Which columns what-if actions may change; every other column is immutable."""

    glucocorticoid: GlucocorticoidColumns
    withheld_drugs: tuple[WithheldDrug, ...]
    immunosuppressant: ImmunosuppressantColumns
    tests: tuple[RepeatableTest, ...]
    administrative: tuple[AdministrativeStep, ...]


class Facts(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    steroid_equivalent_mg: dict[str, float]
    half_lives_days: dict[str, float]
    taper_schedule: tuple[TaperStep, ...]
    action_costs: dict[str, int]
    change: ChangeModel

    def with_overrides(self, half_lives_days: dict[str, float], steroid_equivalent_mg: dict[str, float]) -> Facts:
        if not half_lives_days and not steroid_equivalent_mg:
            return self
        return self.model_copy(
            update={
                "half_lives_days": {**self.half_lives_days, **half_lives_days},
                "steroid_equivalent_mg": {**self.steroid_equivalent_mg, **steroid_equivalent_mg},
            }
        )

    def cache_key(self) -> tuple[Any, ...]:
        return tuple(sorted(self.steroid_equivalent_mg.items())), tuple(sorted(self.half_lives_days.items()))


@cache
def default_facts() -> Facts:
    text = resources.files("matcher").joinpath("data/facts.yaml").read_text("utf-8")
    return Facts.model_validate(yaml.safe_load(text))
