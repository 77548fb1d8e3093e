"""A synthetic cohort written as a FHIR R4 Bulk Data export (NDJSON per resource type), for tests and benchmarks.

Not a feature of matcher: it exists so the importer can be checked on a round trip (contract -> FHIR -> contract)
and timed on a large export.  Codes come from the import map (the first code of each column or drug), so the
writer says what the map can read; ``expressible`` says which contract cells the map cannot state, and the round
trip compares the rest.  ``history`` adds older results per lab (outside the look-back window, or older than the
latest), which the importer must pass over, to give each patient about a hundred resources.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from matcher.contract import columns
from matcher.fhir.maps import Code, CompiledMap
from matcher.units import conversion_factor

UCUM = "http://unitsofmeasure.org"
NEGATIVE = {"system": "http://snomed.info/sct", "code": "260385009", "display": "Negative"}
POSITIVE = {"system": "http://snomed.info/sct", "code": "10828004", "display": "Positive"}
UPPER_LIMIT = 40.0  # the reference range's upper limit written for x-ULN columns (in the map's unit)
RESOURCE_TYPES = (
    "Patient",
    "Condition",
    "Observation",
    "MedicationStatement",
    "MedicationAdministration",
    "Immunization",
    "Procedure",
)
Row = dict[str, Any]


class FhirWriter:
    """Turns contract rows into FHIR resources with the codes of ``fhir_map``."""

    def __init__(self, fhir_map: CompiledMap, as_of: dt.date, history: int = 0) -> None:
        self.map = fhir_map
        self.source = fhir_map.source
        self.as_of = as_of
        self.history = history
        self.contract = columns()

    def _coding(self, code: Code) -> dict[str, str]:
        return {"system": self.source.systems[code.system][0], "code": code.code, "display": code.display}

    def _concept(self, code: Code) -> dict[str, Any]:
        return {"coding": [self._coding(code)]}

    def _medication(self, group: str, name: str | None) -> Code:
        """The first code of a drug of the group (``name``), or of the group's class code (``name`` None)."""
        return next(m for m in self.source.medications if m.group == group and m.name == name)

    def has_medication(self, group: str, name: str | None) -> bool:
        return any(m.group == group and m.name == name for m in self.source.medications)

    def resources(self, row: Row) -> Iterator[dict[str, Any]]:
        """Every resource of one patient."""
        pid = row["patient_id"]
        subject = {"reference": f"Patient/{pid}"}
        patient: dict[str, Any] = {"resourceType": "Patient", "id": pid}
        if row.get("sex"):
            patient["gender"] = {"F": "female", "M": "male"}[row["sex"]]
        if row.get("birth_date"):
            patient["birthDate"] = row["birth_date"]
        yield patient
        yield from self._condition(row, subject)
        yield from self._labs(row, subject)
        yield from self._results(row, subject)
        yield from self._pregnancy_test(row, subject)
        yield from self._drugs(row, subject)
        yield from self._events(row, subject)

    def _condition(self, row: Row, subject: dict[str, str]) -> Iterator[dict[str, Any]]:
        diagnosis = row.get("diagnosis")
        if not diagnosis:
            return
        subtype = row.get("diagnosis_subtype")
        candidates = [c for c in self.source.conditions if c.diagnosis == diagnosis]
        exact = [c for c in candidates if subtype and c.subtype == subtype] or [c for c in candidates if not c.subtype]
        if not exact:
            return
        code = exact[hash_index(row["patient_id"], len(exact))]
        condition: dict[str, Any] = {
            "resourceType": "Condition",
            "id": f"{row['patient_id']}-dx",
            "code": self._concept(code),
            "subject": subject,
        }
        if row.get("diagnosis_date"):
            condition["onsetDateTime"] = row["diagnosis_date"]
        yield condition

    def _labs(self, row: Row, subject: dict[str, str]) -> Iterator[dict[str, Any]]:
        for name, rule in self.source.observations.items():
            value = row.get(name)
            if value is None:
                continue
            column = self.contract[name]
            code = self._concept(rule.codes[0])
            days_back = [3]
            if self.history:
                days_back += [rule.lookback_days + 30 + 20 * i for i in range(self.history // 2)]
                days_back += [4 + i for i in range(self.history - self.history // 2)]
            for number, back in enumerate(days_back):
                given = value if number == 0 else value * (1.1 + 0.01 * number)
                if rule.per_upper_limit:
                    quantity = {"value": given * UPPER_LIMIT, "unit": rule.unit, "system": UCUM, "code": rule.unit}
                    extra: dict[str, Any] = {
                        "referenceRange": [
                            {"high": {"value": UPPER_LIMIT, "unit": rule.unit, "system": UCUM, "code": rule.unit}}
                        ]
                    }
                else:
                    unit = _pint_unit(rule.unit)
                    factor = conversion_factor(name, unit, column.unit, column.molar_mass_g_mol)
                    quantity = {"value": given / factor, "unit": rule.unit, "system": UCUM, "code": rule.unit}
                    extra = {}
                yield {
                    "resourceType": "Observation",
                    "id": f"{row['patient_id']}-{name.replace('_', '-')}-{number}",
                    "status": "final",
                    "code": code,
                    "subject": subject,
                    "effectiveDateTime": (self.as_of - dt.timedelta(days=back)).isoformat(),
                    "valueQuantity": quantity,
                    **extra,
                }

    def _results(self, row: Row, subject: dict[str, str]) -> Iterator[dict[str, Any]]:
        for name, rule in self.source.results.items():
            value = row.get(name)
            if value is None:
                continue
            yield {
                "resourceType": "Observation",
                "id": f"{row['patient_id']}-{name.replace('_', '-')}",
                "status": "final",
                "code": self._concept(rule.codes[0]),
                "subject": subject,
                "effectiveDateTime": (self.as_of - dt.timedelta(days=5)).isoformat(),
                "valueCodeableConcept": {"coding": [POSITIVE if value else NEGATIVE]},
            }

    def _pregnancy_test(self, row: Row, subject: dict[str, str]) -> Iterator[dict[str, Any]]:
        tests = self.source.pregnancy_tests
        if tests is None:
            return
        date, kind = row.get(tests.date_column), row.get(tests.type_column)
        if not date or date == "never" or not kind:
            return
        code = next(c for c in tests.codes if c.type == kind)
        yield {
            "resourceType": "Observation",
            "id": f"{row['patient_id']}-hcg",
            "status": "final",
            "code": self._concept(code),
            "subject": subject,
            "effectiveDateTime": date,
            "valueCodeableConcept": {"coding": [NEGATIVE]},
        }

    def _statement(
        self,
        row: Row,
        tag: str,
        code: Code,
        status: str,
        period: dict[str, str] | None = None,
        dosage: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        statement: dict[str, Any] = {
            "resourceType": "MedicationStatement",
            "id": f"{row['patient_id']}-{tag}",
            "status": status,
            "medicationCodeableConcept": self._concept(code),
            "subject": {"reference": f"Patient/{row['patient_id']}"},
        }
        if period:
            statement["effectivePeriod"] = period
        if dosage:
            statement["dosage"] = dosage
        return statement

    def _administration(self, row: Row, tag: str, code: Code, date: str) -> dict[str, Any]:
        return {
            "resourceType": "MedicationAdministration",
            "id": f"{row['patient_id']}-{tag}",
            "status": "completed",
            "medicationCodeableConcept": self._concept(code),
            "subject": {"reference": f"Patient/{row['patient_id']}"},
            "effectiveDateTime": date,
        }

    def _drugs(self, row: Row, subject: dict[str, str]) -> Iterator[dict[str, Any]]:
        groups = self.source.drug_groups
        year_ago = (self.as_of - dt.timedelta(days=365)).isoformat()
        if "glucocorticoid" in groups:
            name, dose = row.get("glucocorticoid"), row.get("glucocorticoid_mg_day")
            if name and dose:
                twice = hash_index(row["patient_id"], 2) == 1  # half the patients take it in two doses
                dosage = [
                    {
                        "timing": {"repeat": {"frequency": 2 if twice else 1, "period": 1, "periodUnit": "d"}},
                        "doseAndRate": [
                            {
                                "doseQuantity": {
                                    "value": dose / 2 if twice else dose,
                                    "unit": "mg",
                                    "system": UCUM,
                                    "code": "mg",
                                }
                            }
                        ],
                    }
                ]
                yield self._statement(
                    row, "gc", self._medication("glucocorticoid", name), "active", {"start": year_ago}, dosage
                )
            elif dose == 0:
                yield self._statement(row, "gc-none", self._medication("glucocorticoid", None), "not-taken")
        if "immunosuppressant" in groups:
            current, start = row.get("immunosuppressant"), row.get("immunosuppressant_start_date")
            stopped, last = row.get("stopped_immunosuppressant"), row.get("immunosuppressant_last_dose")
            if current and current != "none" and start and start != "never":
                yield self._statement(
                    row, "is", self._medication("immunosuppressant", current), "active", {"start": start}
                )
            if last and last != "never":
                named = stopped if stopped and stopped != "none" else None
                begun = (dt.date.fromisoformat(last) - dt.timedelta(days=200)).isoformat()
                yield self._statement(
                    row,
                    "is-stopped",
                    self._medication("immunosuppressant", named),
                    "completed",
                    {"start": begun, "end": last},
                )
            if current == "none" or last == "never":
                yield self._statement(row, "is-none", self._medication("immunosuppressant", None), "not-taken")
        if "antimalarial" in groups:
            start = row.get("antimalarial_start_date")
            if start and start != "never":
                yield self._statement(
                    row, "am", self._medication("antimalarial", "hydroxychloroquine"), "active", {"start": start}
                )
            elif start == "never":
                yield self._statement(row, "am-none", self._medication("antimalarial", None), "not-taken")
                ever = row.get("hydroxychloroquine_ever")
                if ever is not None:
                    status = "completed" if ever else "not-taken"
                    yield self._statement(row, "hcq", self._medication("antimalarial", "hydroxychloroquine"), status)
        if "anti_cd20" in groups:
            last, name = row.get("anti_cd20_last_dose"), row.get("anti_cd20_drug")
            if last and last != "never":
                named = name if name and self.has_medication("anti_cd20", name) else None
                yield self._administration(row, "cd20", self._medication("anti_cd20", named), last)
            elif last == "never":
                yield self._statement(row, "cd20-none", self._medication("anti_cd20", None), "not-taken")
        if "cyclophosphamide" in groups:
            last = row.get("cyclophosphamide_last_dose")
            code = self._medication("cyclophosphamide", "cyclophosphamide")
            if last and last != "never":
                yield self._administration(row, "cyc", code, last)
            elif last == "never":
                yield self._statement(row, "cyc-none", code, "not-taken")

    def _events(self, row: Row, subject: dict[str, str]) -> Iterator[dict[str, Any]]:
        for name, event in self.source.events.items():
            date = row.get(name)
            if not date:
                continue
            resource: dict[str, Any] = {
                "resourceType": event.resource,
                "id": f"{row['patient_id']}-{name.replace('_', '-')}",
            }
            if event.resource == "Immunization":
                resource |= {"vaccineCode": self._concept(event.codes[0]), "patient": subject}
                when = "occurrenceDateTime"
            else:
                resource |= {"code": self._concept(event.codes[0]), "subject": subject}
                when = "performedDateTime"
            if date == "never":
                resource["status"] = "not-done"
                if event.resource == "Immunization":
                    resource[when] = self.as_of.isoformat()  # R4 requires the date of an Immunization, done or not
            else:
                resource |= {"status": "completed", when: date}
            yield resource

    def expressible(self, row: Row) -> Row:
        """The row as the map can state it in FHIR: the map's columns, less the cells it has no code or
        resource for (a subtype without a code, a drug name without one, a pregnancy test never done or older
        than the look-back, a stopped drug that is also the current one)."""
        out = {name: row.get(name) for name in self.map.columns_filled()}
        subtype = row.get("diagnosis_subtype")
        if subtype and not any(
            c.subtype == subtype and c.diagnosis == row.get("diagnosis") for c in self.source.conditions
        ):
            out["diagnosis_subtype"] = None
        drug = row.get("anti_cd20_drug")
        if drug and drug != "none" and not self.has_medication("anti_cd20", drug):
            out["anti_cd20_drug"] = None
        tests = self.source.pregnancy_tests
        if tests:
            date = row.get(tests.date_column)
            if not date or date == "never" or (self.as_of - dt.date.fromisoformat(date)).days > tests.lookback_days:
                out[tests.date_column] = out[tests.type_column] = None
        if row.get("immunosuppressant") not in (None, "none") and row.get("stopped_immunosuppressant") == row.get(
            "immunosuppressant"
        ):
            out["stopped_immunosuppressant"] = out["immunosuppressant_last_dose"] = None
        if row.get("immunosuppressant_last_dose") == "never":
            out["stopped_immunosuppressant"] = "none"  # the not-taken statement that says never says none too
        if row.get("antimalarial_start_date") not in (None, "never"):
            out["hydroxychloroquine_ever"] = True  # a current course is a record of it
        return out


def hash_index(text: str, size: int) -> int:
    """A stable choice among ``size`` options for a patient (Python's hash() changes between runs)."""
    return sum(text.encode()) % size


def _pint_unit(ucum: str) -> str:
    return ucum.replace("10*", "10^").replace("{1.73_m2}", "1.73m2").replace("mm[Hg]", "mmHg")


def write_export(rows: Iterable[Row], directory: Path, writer: FhirWriter) -> dict[str, int]:
    """Write one NDJSON file per resource type into ``directory``; the count of each type."""
    directory.mkdir(parents=True, exist_ok=True)
    counts = dict.fromkeys(RESOURCE_TYPES, 0)
    with ExitStack() as files:
        streams = {
            kind: files.enter_context(open(directory / f"{kind}.ndjson", "w", encoding="utf-8"))
            for kind in RESOURCE_TYPES
        }
        for row in rows:
            for resource in writer.resources(row):
                kind = resource["resourceType"]
                streams[kind].write(json.dumps(resource, separators=(",", ":")) + "\n")
                counts[kind] += 1
    return counts
