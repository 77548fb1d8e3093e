"""From FHIR resources to contract values per patient: each resource offers a value for some columns, and the
best offer per (patient, column) is kept with the resource and date it came from (its provenance).

Which offer is best: the latest on or before the as-of date (labs within their look-back window, last doses,
events), the earliest (diagnosis date), the course active on the as-of date (current drug, its start and dose).
A negative value (``none``, ``never``, a dose of 0) comes only from a record that states it (a not-taken
statement, a not-done immunization), and any record of the drug or event itself beats it.  Memory holds one
offer per patient and column, never the resources.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from matcher.contract import columns
from matcher.errors import CohortError
from matcher.fhir.maps import CompiledMap, MedicationCode
from matcher.fhir.reading import Problem, Resource, reference_of
from matcher.units import conversion_factor

NEVER = "never"
UCUM = "http://unitsofmeasure.org"


class Unusable(Exception):
    """This resource cannot be used; the message says which field and why."""


@dataclass(frozen=True, slots=True)  # one per patient and column, so kept small
class Offer:
    """A value for one column, from one resource (``Type/id``) dated ``date`` (ISO; blank when undated)."""

    value: Any
    date: str
    source: str


@dataclass(slots=True)
class _Course:
    name: str | None
    start: dt.date | None
    end: dt.date | None
    dose_mg_day: float | None
    source: str


@dataclass(slots=True)
class _DrugGroupRecord:
    """What one patient's record says about one drug group."""

    active: _Course | None = None
    ended: list[_Course] = field(default_factory=list)
    last_dose: Offer | None = None  # latest administration or end of a course, value = drug name
    negative: str | None = None  # a not-taken statement


@dataclass(slots=True)
class _Diagnosis:
    date: dt.date | None
    source: str
    subtypes: dict[str, str] = field(default_factory=dict)  # subtype -> source


@dataclass(slots=True)
class PatientRecord:
    offers: dict[str, Offer] = field(default_factory=dict)
    diagnoses: dict[str, _Diagnosis] = field(default_factory=dict)
    drugs: dict[str, _DrugGroupRecord] = field(default_factory=dict)
    ever: dict[str, Offer] = field(default_factory=dict)
    never_events: dict[str, str] = field(default_factory=dict)

    def offer(self, name: str, value: Any, when: dt.date, source: str) -> bool:
        """Hold ``value`` for column ``name`` if it is later than the value held: the latest on or before as-of wins."""
        held = self.offers.get(name)
        if held is not None and held.date >= when.isoformat():
            return False
        self.offers[name] = Offer(value, when.isoformat(), source)
        return True


_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")
_PERIOD_DAYS = {"s": 1 / 86400, "min": 1 / 1440, "h": 1 / 24, "d": 1.0, "wk": 7.0, "mo": 30.4375, "a": 365.25}
_UCUM_WORDS = {"[lb_av]": "lb", "[in_i]": "inch", "mm[Hg]": "mmHg", "[iU]": "IU"}


def parse_date(text: object, field_name: str) -> dt.date:
    """The date of a FHIR date or dateTime (its calendar date as written; a year or month is its first day)."""
    if isinstance(text, str):
        return _parse_date(text, field_name)
    raise Unusable(f"{field_name}: {text!r} is not a FHIR date")


@lru_cache(maxsize=1 << 16)  # an export repeats the same few thousand dates
def _parse_date(text: str, field_name: str) -> dt.date:
    match = _DATE.match(text) if isinstance(text, str) else None
    if match is None:
        raise Unusable(f"{field_name}: {text!r} is not a FHIR date")
    year, month, day = int(match.group(1)), int(match.group(2) or 1), int(match.group(3) or 1)
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise Unusable(f"{field_name}: {text!r} is not a date") from None


def header_unit(quantity: dict[str, Any]) -> str:
    """A Quantity's unit as matcher.units reads it: the UCUM code (10*9/L -> 10^9/L, {annotations} dropped)."""
    unit = quantity.get("code") if quantity.get("system") == UCUM and quantity.get("code") else quantity.get("unit")
    if not isinstance(unit, str) or not unit.strip():
        return ""
    for ucum, word in _UCUM_WORDS.items():
        unit = unit.replace(ucum, word)
    unit = unit.replace("10*", "10^").replace("{1.73_m2}", "1.73m2")
    return re.sub(r"\{[^}]*\}", "", unit)


def _codings(concept: object) -> list[tuple[str, str]]:
    if not isinstance(concept, dict):
        return []
    codings = concept.get("coding") or []
    return [
        (c.get("system", ""), str(c.get("code", "")))
        for c in codings
        if isinstance(c, dict) and c.get("code") is not None
    ]


def _patient_key(reference: object) -> str | None:
    """``Patient/id`` of a reference (relative, absolute or urn:uuid as written)."""
    if not isinstance(reference, dict):
        return None
    text = reference.get("reference")
    if not isinstance(text, str):
        return None
    at = text.rfind("Patient/")
    return text[at:] if at >= 0 else text


class Importer:
    """Collects the best offers per patient and column while resources stream past."""

    def __init__(self, fhir_map: CompiledMap, as_of: dt.date, id_system: str | None = None) -> None:
        self.map = fhir_map
        self.aliases: dict[str, str] = {}  # a Bundle entry's fullUrl -> its Type/id (the reader fills it)
        self.as_of = as_of
        self.id_system = id_system
        self.patients: dict[str, dict[str, Offer]] = {}  # Patient/id -> its own columns (id, birth date, sex)
        self.records: dict[str, PatientRecord] = {}
        self.medications: dict[str, MedicationCode | None] = {}  # Medication/id -> its mapped code
        self.problems: list[Problem] = []
        self.counts: Counter[str] = Counter()
        contract = columns()
        self._units = {name: (contract[name].unit, contract[name].molar_mass_g_mol) for name in contract}
        self._kinds = {name: contract[name].kind for name in contract}
        self._handlers = {
            "Patient": self._patient,
            "Observation": self._observation,
            "Condition": self._condition,
            "MedicationStatement": self._course,
            "MedicationRequest": self._course,
            "MedicationAdministration": self._administration,
            "Medication": self._medication_resource,
            "Immunization": self._event,
            "Procedure": self._event,
        }

    def add(self, where: str, item: Resource | Problem) -> None:
        """Take one resource (or a reading problem) into account."""
        self.counts["resources"] += 1
        if isinstance(item, Problem):
            self.problems.append(item)
            return
        kind = item.get("resourceType")
        handler = self._handlers.get(kind) if isinstance(kind, str) else None
        if handler is None:
            self.counts["not read (resource type)"] += 1
            return
        try:
            used = handler(item)
        except Unusable as exc:
            self.problems.append(Problem(where, reference_of(item), str(exc)))
            return
        except (AttributeError, KeyError, TypeError, ValueError, IndexError) as exc:
            self.problems.append(
                Problem(where, reference_of(item), f"unexpected structure ({type(exc).__name__}: {exc})")
            )
            return
        if used is not None:  # None: skipped, and counted with the reason
            self.counts["used" if used else "not mapped"] += 1

    # ---- resources ---------------------------------------------------------------------------------------

    def _record(self, resource: Resource, field_name: str = "subject") -> PatientRecord:
        key = _patient_key(resource.get(field_name))
        if key is None:
            raise Unusable(f"{field_name}: no reference to a Patient")
        key = self.aliases.get(key, key)
        record = self.records.get(key)
        if record is None:
            record = self.records[key] = PatientRecord()
        return record

    def _patient(self, resource: Resource) -> bool:
        ident = resource.get("id")
        if not isinstance(ident, str) or not ident:
            raise Unusable("id: a Patient without an id cannot be matched to its resources")
        source = f"Patient/{ident}"
        if source in self.patients:
            raise Unusable(f"id: Patient/{ident} appears twice (the first is kept)")
        patient_id = ident
        if self.id_system is not None:
            found = [
                i.get("value")
                for i in resource.get("identifier") or []
                if isinstance(i, dict) and i.get("system") == self.id_system and i.get("value")
            ]
            if not found:
                raise Unusable(f"identifier: no identifier of system {self.id_system} (--id-system)")
            patient_id = str(found[0])
        own = {"patient_id": Offer(patient_id, "", source)}
        if resource.get("birthDate") is not None:
            own["birth_date"] = Offer(parse_date(resource["birthDate"], "birthDate").isoformat(), "", source)
        sex = {"female": "F", "male": "M"}.get(str(resource.get("gender")))
        if sex:
            own["sex"] = Offer(sex, "", source)
        self.patients[source] = own
        return True

    def _status_ok(self, resource: Resource, bad: tuple[str, ...]) -> bool:
        status = resource.get("status")
        if status in bad:
            self.counts[f"skipped ({resource['resourceType']} {status})"] += 1
            return False
        return True

    def _effective(self, resource: Resource, prefix: str) -> dt.date:
        for suffix in ("DateTime", "Instant"):
            if resource.get(prefix + suffix) is not None:
                return parse_date(resource[prefix + suffix], prefix + suffix)
        period = resource.get(prefix + "Period")
        if isinstance(period, dict) and period.get("start") is not None:
            return parse_date(period["start"], prefix + "Period.start")
        raise Unusable(f"{prefix}[x]: no date")

    def _observation(self, resource: Resource) -> bool | None:
        if not self._status_ok(resource, ("registered", "cancelled", "entered-in-error")):
            return None
        parts = [resource, *(c for c in resource.get("component") or [] if isinstance(c, dict))]
        matched = [
            (part, key)
            for part in parts
            for key in _codings(part.get("code"))
            if key in self.map.observations or key in self.map.pregnancy or key in self.map.results
        ]
        if not matched:
            return False
        when = self._effective(resource, "effective")
        if when > self.as_of:
            self.counts["after the as-of date"] += 1
            return True
        record = self._record(resource)
        source = reference_of(resource)
        for part, key in matched:
            if key in self.map.pregnancy:
                self._pregnancy_test(record, part, key, when, source)
            elif key in self.map.results:
                self._result(record, part, key, when, source)
            else:
                self._lab(record, part, key, when, source)
        return True

    def _lab(
        self, record: PatientRecord, part: dict[str, Any], key: tuple[str, str], when: dt.date, source: str
    ) -> None:
        name, rule = self.map.observations[key]
        if self._too_old(when, rule.lookback_days):
            return
        quantity = part.get("valueQuantity")
        if isinstance(part.get("valueInteger"), int):
            quantity = {"value": part["valueInteger"]}
        if not isinstance(quantity, dict) or not isinstance(quantity.get("value"), (int, float)):
            raise Unusable(f"valueQuantity: no number for {name} ({key[1]})")
        if quantity.get("comparator"):
            raise Unusable(
                f"valueQuantity.comparator: {quantity['comparator']}{quantity['value']} is a bound, not a value"
            )
        value = float(quantity["value"])
        if rule.per_upper_limit:
            value = self._per_upper_limit(part, quantity, name, value)
        else:
            value *= self._factor(name, header_unit(quantity) or rule.unit)
        # offered after the value is read, so a bad one is reported even where a later one is held
        record.offer(name, round(value) if self._kinds[name] == "int" else round(value, 6), when, source)

    def _too_old(self, when: dt.date, lookback_days: int) -> bool:
        """A value older than its column's look-back window is not current: counted, not taken."""
        if (self.as_of - when).days <= lookback_days:
            return False
        self.counts["older than the look-back window"] += 1
        return True

    def _per_upper_limit(self, part: dict[str, Any], quantity: dict[str, Any], name: str, value: float) -> float:
        ranges = [
            r for r in part.get("referenceRange") or [] if isinstance(r, dict) and isinstance(r.get("high"), dict)
        ]
        high = ranges[0]["high"] if ranges else None
        if high is None or not isinstance(high.get("value"), (int, float)) or high["value"] <= 0:
            raise Unusable(f"referenceRange.high: none, so {name} (a multiple of the upper limit) cannot be computed")
        given = header_unit(quantity)
        limit = header_unit(high) or given  # a limit without a unit is in the result's unit
        scale = 1.0 if given.replace(" ", "") == limit.replace(" ", "") else self._convert(name, limit, given, None)
        return value / (float(high["value"]) * scale)

    def _factor(self, name: str, unit: str) -> float:
        canonical, molar_mass = self._units[name]
        if not unit:
            raise Unusable(f"valueQuantity.unit: none given for {name} (in {canonical})")
        return self._convert(name, unit, canonical, molar_mass)

    @staticmethod
    def _convert(name: str, given: str, canonical: str, molar_mass: float | None) -> float:
        try:
            return conversion_factor(name, given, canonical, molar_mass)
        except CohortError as exc:
            raise Unusable(f"valueQuantity.unit: {exc}") from None

    def _coded_results(self, part: dict[str, Any]) -> list[tuple[str, str]]:
        results = _codings(part.get("valueCodeableConcept"))
        for interpretation in part.get("interpretation") or []:
            results += _codings(interpretation)
        return results

    def _result(
        self, record: PatientRecord, part: dict[str, Any], key: tuple[str, str], when: dt.date, source: str
    ) -> None:
        name, rule = self.map.results[key]
        if self._too_old(when, rule.lookback_days):
            return
        results = self._coded_results(part)
        positive = any(result in self.map.positive for result in results)
        negative = any(result in self.map.negative for result in results)
        if positive == negative:
            found = ", ".join(code for _, code in results) or "none"
            raise Unusable(f"valueCodeableConcept: {name} needs a positive or a negative result, not {found}")
        record.offer(name, positive, when, source)

    def _pregnancy_test(
        self, record: PatientRecord, part: dict[str, Any], key: tuple[str, str], when: dt.date, source: str
    ) -> None:
        tests = self.map.source.pregnancy_tests
        assert tests is not None
        results = self._coded_results(part)
        if not results:
            raise Unusable("valueCodeableConcept: a pregnancy test without a coded result")
        if not any(result in self.map.negative for result in results):
            self.counts["pregnancy test not negative"] += 1
            return
        if (self.as_of - when).days > tests.lookback_days:
            return
        if record.offer(tests.date_column, when.isoformat(), when, source):
            record.offers[tests.type_column] = Offer(self.map.pregnancy[key].type, when.isoformat(), source)

    def _condition(self, resource: Resource) -> bool | None:
        verification = {code for _, code in _codings(resource.get("verificationStatus"))}
        if verification & {"refuted", "entered-in-error"}:
            self.counts["skipped (Condition refuted or entered in error)"] += 1
            return None
        entry = next((e for s, c in _codings(resource.get("code")) if (e := self.map.condition(s, c))), None)
        if entry is None:
            return False
        when = self._onset(resource)
        if when is not None and when > self.as_of:
            self.counts["after the as-of date"] += 1
            return True
        record = self._record(resource)
        source = reference_of(resource)
        held = record.diagnoses.get(entry.diagnosis)
        if held is None:
            held = record.diagnoses[entry.diagnosis] = _Diagnosis(when, source)
        elif when is not None and (held.date is None or when < held.date):
            held.date, held.source = when, source
        if entry.subtype:
            held.subtypes.setdefault(entry.subtype, source)
        return True

    def _onset(self, resource: Resource) -> dt.date | None:
        """A Condition's onset (dateTime or period start), else its recorded date; None when it gives neither."""
        if resource.get("onsetDateTime") is not None or resource.get("onsetPeriod") is not None:
            return self._effective(resource, "onset")
        if resource.get("recordedDate") is not None:
            return parse_date(resource["recordedDate"], "recordedDate")
        return None

    def _medication_code(self, resource: Resource) -> MedicationCode | None:
        concept = resource.get("medicationCodeableConcept")
        if concept is not None:
            return self._mapped_medication(concept)
        reference = resource.get("medicationReference")
        target = reference.get("reference") if isinstance(reference, dict) else None
        if not isinstance(target, str):
            raise Unusable("medication[x]: neither a code nor a reference")
        if target.startswith("#"):  # a Medication contained in this resource
            for contained in resource.get("contained") or []:
                if isinstance(contained, dict) and contained.get("id") == target[1:]:
                    return self._mapped_medication(contained.get("code"))
            raise Unusable(f"medicationReference: no contained resource {target}")
        at = target.rfind("Medication/")
        key = target[at:] if at >= 0 else target
        if key not in self.medications:
            raise Unusable(f"medicationReference: {key} is not among the Medication resources read")
        return self.medications[key]

    def _mapped_medication(self, concept: object) -> MedicationCode | None:
        return next((e for key in _codings(concept) if (e := self.map.medications.get(key))), None)

    def _medication_resource(self, resource: Resource) -> bool:
        entry = self._mapped_medication(resource.get("code"))
        self.medications[reference_of(resource)] = entry  # None: read, but not a drug the map knows
        return entry is not None

    def _group(self, record: PatientRecord, entry: MedicationCode) -> _DrugGroupRecord:
        group = record.drugs.get(entry.group)
        if group is None:
            group = record.drugs[entry.group] = _DrugGroupRecord()
        return group

    def _course(self, resource: Resource) -> bool | None:
        status = resource.get("status")
        if not self._status_ok(resource, ("entered-in-error", "cancelled", "draft", "unknown")):
            return None
        entry = self._medication_code(resource)
        if entry is None:
            return False
        record = self._record(resource)
        group = self._group(record, entry)
        source = reference_of(resource)
        if status == "not-taken" or resource.get("doNotPerform") is True:
            group.negative = group.negative or source
            if entry.ever and entry.ever not in record.ever:
                record.ever[entry.ever] = Offer(False, "", source)
            return True
        start, end = self._course_period(resource)
        if start is not None and start > self.as_of:
            self.counts["after the as-of date"] += 1
            return True
        if entry.ever:
            record.ever[entry.ever] = Offer(True, "", source)
        dosage = (
            resource.get("dosage")
            if resource["resourceType"] == "MedicationStatement"
            else resource.get("dosageInstruction")
        )
        course = _Course(entry.name, start, end, _daily_dose(dosage), source)
        if status == "active" and (end is None or end > self.as_of):  # not intended (future) nor on-hold
            if group.active is None or (start or dt.date.min) > (group.active.start or dt.date.min):
                group.active = course
        elif end is not None and end <= self.as_of:
            group.ended.append(course)
            self._last_dose(group, end, entry, source)
        return True

    def _course_period(self, resource: Resource) -> tuple[dt.date | None, dt.date | None]:
        period: Any = resource.get("effectivePeriod")
        if resource["resourceType"] == "MedicationRequest":
            dosage = resource.get("dosageInstruction") or [{}]
            period = ((dosage[0].get("timing") or {}).get("repeat") or {}).get("boundsPeriod")
            if not period and resource.get("authoredOn"):
                return parse_date(resource["authoredOn"], "authoredOn"), None
        if isinstance(period, dict):
            start = parse_date(period["start"], "Period.start") if period.get("start") else None
            end = parse_date(period["end"], "Period.end") if period.get("end") else None
            return start, end
        if resource.get("effectiveDateTime"):
            return parse_date(resource["effectiveDateTime"], "effectiveDateTime"), None
        return None, None

    def _last_dose(self, group: _DrugGroupRecord, when: dt.date, entry: MedicationCode, source: str) -> None:
        if group.last_dose is None or group.last_dose.date < when.isoformat():
            group.last_dose = Offer(entry.name, when.isoformat(), source)

    def _administration(self, resource: Resource) -> bool | None:
        if not self._status_ok(resource, ("entered-in-error", "stopped", "unknown")):
            return None
        entry = self._medication_code(resource)
        if entry is None:
            return False
        record = self._record(resource)
        group = self._group(record, entry)
        source = reference_of(resource)
        if resource.get("status") == "not-done":
            group.negative = group.negative or source
            return True
        when = self._effective(resource, "effective")
        if when > self.as_of:
            self.counts["after the as-of date"] += 1
            return True
        if entry.ever:
            record.ever[entry.ever] = Offer(True, "", source)
        self._last_dose(group, when, entry, source)
        return True

    def _event(self, resource: Resource) -> bool | None:
        if not self._status_ok(resource, ("entered-in-error",)):
            return None
        kind = resource["resourceType"]
        found = next(
            (
                e
                for key in _codings(resource.get("vaccineCode" if kind == "Immunization" else "code"))
                if (e := self.map.events.get(key)) and e[1].resource == kind
            ),
            None,
        )
        if found is None:
            return False
        name = found[0]
        record = self._record(resource, "patient" if kind == "Immunization" else "subject")
        source = reference_of(resource)
        if resource.get("status") == "not-done":
            record.never_events.setdefault(name, source)
            return True
        if resource.get("status") != "completed":
            self.counts[f"skipped ({kind} {resource.get('status')})"] += 1
            return None
        when = self._effective(resource, "occurrence" if kind == "Immunization" else "performed")
        if when > self.as_of:
            self.counts["after the as-of date"] += 1
            return True
        record.offer(name, when.isoformat(), when, source)
        return True

    # ---- the rows ----------------------------------------------------------------------------------------

    def rows(self) -> tuple[list[dict[str, Offer]], list[str]]:
        """One row of offers per Patient, in the order read, and notes on records that conflict.

        A resource whose patient is not among the Patients read is reported as a problem here.
        """
        notes: list[str] = []
        rows: list[dict[str, Offer]] = []
        for key in list(self.records):
            resolved = self.aliases.get(key, key)
            if resolved != key and resolved not in self.records:
                self.records[resolved] = self.records.pop(key)
            elif key not in self.patients:
                self.problems.append(
                    Problem("", key, "resources refer to this patient, but no Patient resource has its id")
                )
        ids: dict[str, str] = {}
        for key, own in self.patients.items():
            patient_id = own["patient_id"].value
            if patient_id in ids:
                self.problems.append(
                    Problem("", key, f"patient id {patient_id!r} is also {ids[patient_id]}'s; the first is kept")
                )
                continue
            ids[patient_id] = key
            row = dict(own)
            record = self.records.get(key)
            if record is not None:
                row.update(record.offers)
                row.update(record.ever)
                self._diagnosis(row, record, notes)
                self._drugs(row, record)
                for name, source in record.never_events.items():
                    row.setdefault(name, Offer(NEVER, "", source))
            rows.append(row)
        return rows, notes

    def _diagnosis(self, row: dict[str, Offer], record: PatientRecord, notes: list[str]) -> None:
        if not record.diagnoses:
            return
        if len(record.diagnoses) > 1:
            given = ", ".join(f"{name} ({held.source})" for name, held in sorted(record.diagnoses.items()))
            notes.append(
                f"{row['patient_id'].value}: conditions give {given}; diagnosis left blank for the coordinator"
            )
            return
        ((name, held),) = record.diagnoses.items()
        row["diagnosis"] = Offer(name, held.date.isoformat() if held.date else "", held.source)
        if held.date is not None:
            row["diagnosis_date"] = Offer(held.date.isoformat(), held.date.isoformat(), held.source)
        if len(held.subtypes) == 1:
            ((subtype, source),) = held.subtypes.items()
            row["diagnosis_subtype"] = Offer(subtype, "", source)
        elif len(held.subtypes) > 1:
            notes.append(
                f"{row['patient_id'].value}: conditions give subtypes {', '.join(sorted(held.subtypes))}; "
                "diagnosis_subtype left blank"
            )

    def _drugs(self, row: dict[str, Offer], record: PatientRecord) -> None:
        for name, drugs in record.drugs.items():
            group = self.map.source.drug_groups[name]
            negative = drugs.negative
            active = drugs.active
            on = Offer(None, "", "")
            if active is not None:
                start = active.start.isoformat() if active.start else ""
                on = Offer(active.name, start, active.source)
            if group.current_name:
                if active is not None and active.name:
                    row[group.current_name] = on
                elif active is None and negative and group.none:
                    row[group.current_name] = Offer(group.none, "", negative)
            if group.current_start:
                if active is not None and active.start:
                    row[group.current_start] = Offer(active.start.isoformat(), on.date, active.source)
                elif active is None and negative:
                    row[group.current_start] = Offer(NEVER, "", negative)
            if group.daily_dose:
                if active is not None and active.dose_mg_day is not None:
                    row[group.daily_dose] = Offer(active.dose_mg_day, on.date, active.source)
                elif active is None and negative:
                    row[group.daily_dose] = Offer(0.0, "", negative)
            stopped = [c for c in drugs.ended if active is None or c.name != active.name or c.name is None]
            latest = max(stopped, key=lambda c: c.end or dt.date.min, default=None)
            self._negatable(
                row,
                group.stopped_date,
                group.stopped_name,
                group.none,
                negative,
                Offer(latest.name, latest.end.isoformat(), latest.source) if latest and latest.end else None,
            )
            self._negatable(row, group.last_dose, group.last_dose_name, group.none, negative, drugs.last_dose)

    @staticmethod
    def _negatable(
        row: dict[str, Offer],
        date_column: str | None,
        name_column: str | None,
        none: str | None,
        negative: str | None,
        offer: Offer | None,
    ) -> None:
        if offer is not None:
            if date_column:
                row[date_column] = Offer(offer.date, offer.date, offer.source)
            if name_column and offer.value:
                row[name_column] = offer
        elif negative:
            if date_column:
                row[date_column] = Offer(NEVER, "", negative)
            if name_column and none:
                row[name_column] = Offer(none, "", negative)


def _daily_dose(dosages: object) -> float | None:
    """mg/day of a dosage list: the sum over its instructions of dose x frequency per period (None if any is
    not stated that way)."""
    if not isinstance(dosages, list) or not dosages:
        return None
    total = 0.0
    for dosage in dosages:
        rates = dosage.get("doseAndRate") if isinstance(dosage, dict) else None
        quantity = (
            rates[0].get("doseQuantity") if isinstance(rates, list) and rates and isinstance(rates[0], dict) else None
        )
        repeat = ((dosage.get("timing") or {}).get("repeat") or {}) if isinstance(dosage, dict) else {}
        if not isinstance(quantity, dict) or not isinstance(quantity.get("value"), (int, float)):
            return None
        period_days = _PERIOD_DAYS.get(str(repeat.get("periodUnit", "d")))
        period = repeat.get("period", 1)
        frequency = repeat.get("frequency", 1)
        if period_days is None or not isinstance(period, (int, float)) or not isinstance(frequency, int) or period <= 0:
            return None
        try:
            mg = quantity["value"] * conversion_factor(
                "glucocorticoid_mg_day", header_unit(quantity) or "mg", "mg", None
            )
        except CohortError:
            return None
        total += mg * frequency / (period * period_days)
    return round(total, 6)
