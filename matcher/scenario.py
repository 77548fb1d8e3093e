"""What an allocation is asked for: scenario files (slots and quotas), quota rules, slot overrides, trial
recruitment status, and the previous allocation to keep stable."""

from __future__ import annotations

import csv
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from matcher import ir
from matcher.contract import FALSE_WORDS, TRUE_WORDS, columns, did_you_mean
from matcher.errors import MatcherError, ParameterError
from matcher.output import unescape_cell


class ScenarioQuota(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    trial: str
    column: str
    value: str
    min: int | None = Field(None, ge=0)
    max: int | None = Field(None, ge=0)


class Scenario(BaseModel):
    """An allocation scenario file (YAML): slot overrides and quotas.

    ``slots: {NCT06821659: 5}`` and ``quotas: [{trial: NCT06056921, column: diagnosis,
    value: SLE, max: 8}, {trial: …, min: 3}]``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")
    slots: dict[str, int] = Field(default_factory=dict)
    quotas: tuple[ScenarioQuota, ...] = ()


def load_scenario(path: str | Path, known_trials: Collection[str]) -> Scenario:
    """A scenario file whose every trial, column and quota value exists; an error names the file and the key."""
    try:
        scenario = Scenario.model_validate(yaml.safe_load(Path(path).read_text("utf-8")) or {})
    except OSError as exc:
        raise MatcherError(f"{path}: cannot be read: {exc.strerror}") from exc
    except (yaml.YAMLError, ValidationError) as exc:
        raise MatcherError(f"{path}: not a valid scenario: {str(exc).splitlines()[0]}") from exc
    known = f"known: {', '.join(known_trials)}"
    for trial_id, count in scenario.slots.items():
        if trial_id not in known_trials:
            raise MatcherError(f"{path}: slots: unknown trial {trial_id!r}; {known}")
        if count < 0:
            raise MatcherError(f"{path}: slots: {trial_id}: {count} is not a whole number >= 0")
    for index, quota in enumerate(scenario.quotas):
        where = f"{path}: quotas[{index}] ({QuotaRule(**quota.model_dump()).describe()})"
        if quota.trial not in known_trials:
            raise MatcherError(f"{where}: unknown trial {quota.trial!r}; {known}")
        problem = quota_problem(quota.column, quota.value)
        if problem:
            raise MatcherError(f"{where}: {problem}")
    return scenario


def quota_problem(column: str, value: str) -> str | None:
    """Why a quota on ``column == value`` could never count anyone (None when it can)."""
    contract = columns()
    if column not in contract:
        return f"unknown column {column!r}{did_you_mean(column)}"
    kind = contract[column]
    if kind.kind == "enum" and value.lower() not in {code.lower() for code in kind.codes}:
        return f"{value!r} cannot occur in column {column}; allowed: {', '.join(kind.codes)}"
    if kind.kind == "bool" and value.lower() not in (*TRUE_WORDS, *FALSE_WORDS):
        return f"{value!r} cannot occur in column {column}; allowed: true, false"
    if kind.numeric:
        try:
            float(value)
        except ValueError:
            return f"{value!r} cannot occur in column {column}, a number"
    if kind.kind in ("date", "id"):
        return f"column {column} is a {kind.kind}; a quota counts patients by an enum, boolean, number or text column"
    return None


def left_out_of(scenario: Scenario, trial_ids: Collection[str]) -> list[str]:
    """Trials the scenario gives slots or quotas that are not among ``trial_ids`` (so those do not apply)."""
    named = [*scenario.slots, *(quota.trial for quota in scenario.quotas)]
    return sorted({trial_id for trial_id in named if trial_id not in trial_ids})


@dataclass(frozen=True)
class QuotaRule:
    trial: str
    column: str
    value: str
    min: int | None
    max: int | None

    def describe(self) -> str:
        bounds = " and ".join(
            part
            for part in (
                f"at least {self.min}" if self.min is not None else "",
                f"at most {self.max}" if self.max is not None else "",
            )
            if part
        )
        return f"{self.trial}: {bounds} with {self.column} = {self.value}"


RECRUITING_STATUSES = ("recruiting", "enrolling_by_invitation")


def is_recruiting(status: str) -> bool:
    """Whether a trial with this registry ``status:`` takes patients now (the others stay in unless left out)."""
    return status in RECRUITING_STATUSES


def status_words(status: str) -> str:
    """A registry status for people: ``active_not_recruiting`` -> "active, not recruiting"."""
    return status.replace("_not_", ", not ").replace("_", " ")


def check_slot_overrides(slots: Mapping[str, int], considered: list[str], known: list[str] | None = None) -> None:
    """Every trial a slot override names is a known trial, and one of those considered."""
    known = considered if known is None else known
    for trial_id in slots:
        if trial_id not in known:
            raise ParameterError("slots", f"{{option}} names unknown trial {trial_id!r}; known: {', '.join(known)}")
        if trial_id not in considered:
            raise ParameterError("slots", f"{{option}} names {trial_id}, which is not among the trials considered")


def run_slots(
    considered: list[str], known: list[str], slots: Mapping[str, int], path: str | Path | None
) -> tuple[dict[str, int], Scenario | None, list[str]]:
    """A run's slots for the trials considered (the scenario file's, then ``slots`` over them), the scenario read,
    and the trials it names that are not considered (their lines do not apply).  ``slots`` must name a trial
    considered; a scenario may name others."""
    check_slot_overrides(slots, considered, known)
    scenario = load_scenario(path, known) if path else None
    if scenario is None:
        return dict(slots), None, []
    in_force = {trial_id: count for trial_id, count in scenario.slots.items() if trial_id in considered}
    return {**in_force, **slots}, scenario, left_out_of(scenario, considered)


def quota_rules(trials: list[ir.Trial], scenario: Scenario | None) -> list[QuotaRule]:
    """The trials' own quotas, then the scenario's (checked by ``load_scenario``) for the trials considered."""
    rules = []
    for trial in trials:
        for index, quota in enumerate(trial.quotas):
            problem = quota_problem(quota.column, quota.value)
            if problem:
                raise MatcherError(f"{trial.id}: quotas[{index}]: {problem}")
            rules.append(QuotaRule(trial.id, quota.column, quota.value, quota.min, quota.max))
    if scenario:
        considered = {trial.id for trial in trials}
        rules.extend(QuotaRule(**q.model_dump()) for q in scenario.quotas if q.trial in considered)
    return rules


def read_previous(path: str | Path) -> dict[str, str]:
    """Earlier assignments from ``matcher allocate --format csv`` output."""
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            if not reader.fieldnames or not {"patient_id", "trial_id"} <= set(reader.fieldnames):
                raise MatcherError(f"{path}: not an allocation CSV (needs patient_id and trial_id columns)")
            return {unescape_cell(r["patient_id"]): r["trial_id"] for r in reader if r.get("trial_id")}
    except OSError as exc:
        raise MatcherError(f"{path}: cannot be read: {exc.strerror}") from exc
