"""The map from standard codes to contract columns (``matcher/data/fhir-map.yaml``), as typed, checked data.

A site's map (``--map``) is laid over the bundled one: keyed sections by key, code lists by (system, code), so a
site adds its local codes without copying the default.  Every column a map names must be a contract column of
the right kind, so a typo fails when the map is read, not as a silently blank column.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from matcher.contract import Column, columns
from matcher.errors import MatcherError


class FhirMapError(MatcherError):
    """A FHIR map file cannot be read or does not fit the map's shape or the contract."""


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Code(_Strict):
    system: str
    code: str
    display: str


class ObservationRule(_Strict):
    lookback_days: int
    unit: str
    per_upper_limit: bool = False
    codes: tuple[Code, ...]


class ResultRule(_Strict):
    lookback_days: int
    codes: tuple[Code, ...]


class ConditionCode(Code):
    match: Literal["exact", "prefix"] = "exact"
    diagnosis: str
    subtype: str | None = None


class PregnancyTestCode(Code):
    type: str


class PregnancyTests(_Strict):
    lookback_days: int
    date_column: str
    type_column: str
    codes: tuple[PregnancyTestCode, ...]


class DrugGroup(_Strict):
    current_name: str | None = None
    current_start: str | None = None
    daily_dose: str | None = None
    stopped_date: str | None = None
    stopped_name: str | None = None
    last_dose: str | None = None
    last_dose_name: str | None = None
    none: str | None = None  # the name columns' value when a not-taken statement says none


class MedicationCode(Code):
    group: str
    name: str | None = None
    ever: str | None = None


class EventRule(_Strict):
    resource: Literal["Immunization", "Procedure"]
    codes: tuple[Code, ...]


class FhirMap(_Strict):
    systems: dict[str, tuple[str, ...]]
    observations: dict[str, ObservationRule] = {}
    negative_results: tuple[Code, ...] = ()
    positive_results: tuple[Code, ...] = ()
    results: dict[str, ResultRule] = {}
    pregnancy_tests: PregnancyTests | None = None
    conditions: tuple[ConditionCode, ...] = ()
    drug_groups: dict[str, DrugGroup] = {}
    medications: tuple[MedicationCode, ...] = ()
    events: dict[str, EventRule] = {}

    def columns_filled(self) -> list[str]:
        """The contract columns this map can fill, in contract order (patient_id, birth_date and sex always)."""
        named = {"patient_id", "birth_date", "sex", "diagnosis", "diagnosis_subtype", "diagnosis_date"}
        named |= set(self.observations) | set(self.results) | set(self.events)
        if self.pregnancy_tests:
            named |= {self.pregnancy_tests.date_column, self.pregnancy_tests.type_column}
        for group in self.drug_groups.values():
            named |= {name for name in group.model_dump().values() if name} - {group.none}
        named |= {medication.ever for medication in self.medications if medication.ever}
        return [name for name in columns() if name in named]


_CODE_LISTS = ("negative_results", "positive_results", "conditions", "medications")
_KEYED = ("systems", "observations", "results", "drug_groups", "events")


def _merged(base: dict[str, Any], site: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in site.items():
        if key in _KEYED and isinstance(value, dict):
            out[key] = {**base.get(key, {}), **value}
        elif key in _CODE_LISTS and isinstance(value, list):
            ours = {(item.get("system"), str(item.get("code"))): item for item in value if isinstance(item, dict)}
            kept = [item for item in base.get(key, []) if (item["system"], str(item["code"])) not in ours]
            out[key] = kept + list(value)
        else:
            out[key] = value
    return out


def _read(text: str, where: str) -> dict[str, Any]:
    try:
        document = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise FhirMapError(f"{where}: not YAML ({exc})") from exc
    if not isinstance(document, dict):
        raise FhirMapError(f"{where}: expected a mapping of map sections")
    return document


def load_map(site: str | Path | None = None) -> CompiledMap:
    """The bundled map, with the site's map laid over it when given; checked against the contract."""
    document = _read(resources.files("matcher").joinpath("data/fhir-map.yaml").read_text("utf-8"), "fhir-map.yaml")
    where = "fhir-map.yaml"
    if site is not None:
        where = str(site)
        try:
            site_text = Path(site).read_text("utf-8")
        except OSError as exc:
            raise FhirMapError(f"{site}: cannot be read ({exc.strerror or exc})") from exc
        document = _merged(document, _read(site_text, where))
    try:
        fhir_map = FhirMap.model_validate(document)
    except ValidationError as exc:
        first = exc.errors()[0]
        at = ".".join(str(part) for part in first["loc"])
        raise FhirMapError(f"{where}: {at}: {first['msg']}") from exc
    _check(fhir_map, where)
    return CompiledMap(fhir_map)


def _check(fhir_map: FhirMap, where: str) -> None:
    contract = columns()

    def column(name: str, kinds: tuple[str, ...], at: str) -> Column:
        found = contract.get(name)
        if found is None:
            raise FhirMapError(f"{where}: {at}: {name!r} is not a contract column")
        if found.kind not in kinds:
            raise FhirMapError(f"{where}: {at}: column {name} is {found.kind}, not {' or '.join(kinds)}")
        return found

    codes: list[tuple[str, Code]] = []
    for name, rule in fhir_map.observations.items():
        column(name, ("float", "int"), f"observations.{name}")
        codes += [(f"observations.{name}", code) for code in rule.codes]
    for name, result in fhir_map.results.items():
        column(name, ("bool",), f"results.{name}")
        codes += [(f"results.{name}", code) for code in result.codes]
    if fhir_map.pregnancy_tests:
        tests = fhir_map.pregnancy_tests
        column(tests.date_column, ("date",), "pregnancy_tests.date_column")
        kind = column(tests.type_column, ("enum", "text"), "pregnancy_tests.type_column")
        for test in tests.codes:
            if kind.codes and test.type not in kind.codes:
                raise FhirMapError(f"{where}: pregnancy_tests: type {test.type!r} is not one of {kind.codes}")
        codes += [("pregnancy_tests", test) for test in tests.codes]
    diagnoses = contract["diagnosis"].codes
    for condition in fhir_map.conditions:
        if condition.diagnosis not in diagnoses:
            raise FhirMapError(
                f"{where}: conditions: {condition.code}: diagnosis {condition.diagnosis!r} is not one of {diagnoses}"
            )
        codes.append(("conditions", condition))
    for name, group in fhir_map.drug_groups.items():
        at = f"drug_groups.{name}"
        for field in ("current_start", "stopped_date", "last_dose"):
            if getattr(group, field):
                column(getattr(group, field), ("date",), f"{at}.{field}")
        for field in ("current_name", "stopped_name", "last_dose_name"):
            if getattr(group, field):
                column(getattr(group, field), ("text", "enum"), f"{at}.{field}")
        if group.daily_dose:
            column(group.daily_dose, ("float",), f"{at}.daily_dose")
    for medication in fhir_map.medications:
        if medication.group not in fhir_map.drug_groups:
            raise FhirMapError(f"{where}: medications: {medication.code}: no drug group {medication.group!r}")
        if medication.ever:
            column(medication.ever, ("bool",), f"medications.{medication.code}.ever")
        codes.append(("medications", medication))
    for name, event in fhir_map.events.items():
        column(name, ("date",), f"events.{name}")
        codes += [(f"events.{name}", code) for code in event.codes]
    codes += [("negative_results", code) for code in fhir_map.negative_results]
    codes += [("positive_results", code) for code in fhir_map.positive_results]
    for at, code in codes:
        if code.system not in fhir_map.systems:
            raise FhirMapError(f"{where}: {at}: {code.code}: unknown system alias {code.system!r}")


Key = tuple[str, str]  # (system URI, code)


class CompiledMap:
    """The map as look-up tables by (system URI, code), built once per import."""

    def __init__(self, source: FhirMap) -> None:
        self.source = source
        self.observations: dict[Key, tuple[str, ObservationRule]] = {}
        for name, rule in source.observations.items():
            self.observations.update((key, (name, rule)) for key in self._keys(rule.codes))
        self.negative = set(self._keys(source.negative_results))
        self.positive = set(self._keys(source.positive_results))
        self.results: dict[Key, tuple[str, ResultRule]] = {}
        for name, result in source.results.items():
            self.results.update((key, (name, result)) for key in self._keys(result.codes))
        tests = source.pregnancy_tests
        self.pregnancy: dict[Key, PregnancyTestCode] = {}
        if tests:
            self.pregnancy = {key: code for code in tests.codes for key in self._keys([code])}
        self.conditions = {
            key: code for code in source.conditions if code.match == "exact" for key in self._keys([code])
        }
        self.condition_prefixes = {
            key: code for code in source.conditions if code.match == "prefix" for key in self._keys([code])
        }
        self.medications = {key: code for code in source.medications for key in self._keys([code])}
        self.events: dict[Key, tuple[str, EventRule]] = {}
        for name, event in source.events.items():
            self.events.update((key, (name, event)) for key in self._keys(event.codes))

    def _keys(self, codes: Iterable[Code]) -> Iterator[Key]:
        for code in codes:
            for uri in self.source.systems[code.system]:
                yield uri, code.code

    def condition(self, system: str, code: str) -> ConditionCode | None:
        """The entry for a condition code: an exact entry, else the longest prefix entry it starts with."""
        exact = self.conditions.get((system, code))
        if exact is not None:
            return exact
        for end in range(len(code), 0, -1):
            found = self.condition_prefixes.get((system, code[:end]))
            if found is not None:
                return found
        return None

    def columns_filled(self) -> list[str]:
        return self.source.columns_filled()
