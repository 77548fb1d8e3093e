"""``matcher import fhir``: hand-written Bundles and NDJSON with standard codes give the expected contract values;
bad resources are reported, not fatal; the synthetic cohort survives a round trip through FHIR."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from benchmarks.fhir_writer import FhirWriter, write_export
from matcher import api
from matcher.cli import main
from matcher.cohort import load_cohort
from matcher.errors import MatcherError
from matcher.fhir import import_fhir, load_map, provenance_path
from matcher.synth import SynthOptions, generate

AS_OF = dt.date(2026, 11, 23)
LOINC = "http://loinc.org"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
UCUM = "http://unitsofmeasure.org"


def coded(system: str, code: str) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code}]}


def lab(ident: str, patient: str, loinc: str, date: str, value: float, unit: str) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": ident,
        "status": "final",
        "code": coded(LOINC, loinc),
        "subject": {"reference": patient},
        "effectiveDateTime": date,
        "valueQuantity": {"value": value, "unit": unit, "system": UCUM, "code": unit},
    }


def bundle_resources() -> list[dict[str, Any]]:
    """Patient p1 (lupus, on prednisone, rituximab in June) and p2, who has nothing else in the record."""
    return [
        {
            "resourceType": "Patient",
            "id": "p1",
            "gender": "female",
            "birthDate": "1990-04-02",
            "identifier": [{"system": "urn:hospital:mrn", "value": "MRN-001"}],
        },
        {
            "resourceType": "Patient",
            "id": "p2",
            "gender": "male",
            "identifier": [{"system": "urn:hospital:mrn", "value": "MRN-002"}],
        },
        lab("hb-old", "urn:uuid:patient-1", "718-7", "2026-09-01", 9.1, "g/dL"),
        lab("hb-new", "Patient/p1", "718-7", "2026-11-01T08:30:00+01:00", 12.3, "g/dL"),
        lab("creat", "Patient/p1", "14682-9", "2026-11-01", 88.4, "umol/L"),
        {
            "resourceType": "Condition",
            "id": "sle",
            "code": coded("http://snomed.info/sct", "55464009"),
            "subject": {"reference": "Patient/p1"},
            "onsetDateTime": "2015-03",
        },
        {
            "resourceType": "MedicationStatement",
            "id": "pred",
            "status": "active",
            "medicationCodeableConcept": coded(RXNORM, "8640"),
            "subject": {"reference": "Patient/p1"},
            "effectivePeriod": {"start": "2026-01-01"},
            "dosage": [
                {
                    "timing": {"repeat": {"frequency": 1, "period": 1, "periodUnit": "d"}},
                    "doseAndRate": [{"doseQuantity": {"value": 10, "unit": "mg", "system": UCUM, "code": "mg"}}],
                }
            ],
        },
        {
            "resourceType": "MedicationAdministration",
            "id": "rtx",
            "status": "completed",
            "medicationCodeableConcept": coded(RXNORM, "121191"),
            "subject": {"reference": "Patient/p1"},
            "effectiveDateTime": "2026-06-15T10:00:00Z",
        },
    ]


def write_bundle(path: Path, resources: list[dict[str, Any]]) -> Path:
    entries = [{"resource": r} for r in resources]
    entries[0]["fullUrl"] = "urn:uuid:patient-1"
    path.write_text(json.dumps({"resourceType": "Bundle", "type": "collection", "entry": entries}), "utf-8")
    return path


def rows_of(path: Path) -> dict[str, dict[str, str]]:
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    return {row["patient_id"]: row for row in frame.to_dict("records")}


def test_a_bundle_gives_the_expected_contract_values(tmp_path: Path) -> None:
    output = tmp_path / "cohort.csv"
    summary = import_fhir([write_bundle(tmp_path / "b.json", bundle_resources())], output, AS_OF)
    rows = rows_of(output)
    p1 = rows["p1"]
    assert float(p1["hemoglobin_g_l"]) == 123.0  # the later of the two, g/dL -> g/L
    assert float(p1["creatinine_mg_dl"]) == pytest.approx(1.0, abs=1e-4)  # 88.4 umol/L
    assert (p1["diagnosis"], p1["diagnosis_date"]) == ("SLE", "2015-03-01")
    assert (p1["glucocorticoid"], float(p1["glucocorticoid_mg_day"])) == ("prednisone", 10.0)
    assert (p1["anti_cd20_last_dose"], p1["anti_cd20_drug"]) == ("2026-06-15", "rituximab")
    assert (p1["sex"], p1["birth_date"]) == ("F", "1990-04-02")
    # p2 has no data but is still a row, blank (unknown) everywhere but sex: nothing is read as normal
    assert rows["p2"]["sex"] == "M"
    assert all(value == "" for name, value in rows["p2"].items() if name not in ("patient_id", "sex"))
    assert summary.patients == 2 and summary.problems == []


def test_ndjson_icd10_prefix_gives_diagnosis_and_subtype(tmp_path: Path) -> None:
    patient = {"resourceType": "Patient", "id": "v1"}
    gpa = {
        "resourceType": "Condition",
        "id": "gpa",
        "code": coded("http://hl7.org/fhir/sid/icd-10-cm", "M31.31"),
        "subject": {"reference": "Patient/v1"},
        "onsetDateTime": "2021-05-04",
    }
    older = gpa | {
        "id": "gpa-first",
        "onsetDateTime": "2019-02-01",
        "code": coded("http://snomed.info/sct", "195353004"),
    }
    (tmp_path / "Patient.ndjson").write_text(json.dumps(patient) + "\n", "utf-8")
    (tmp_path / "Condition.ndjson").write_text(json.dumps(gpa) + "\n" + json.dumps(older) + "\n", "utf-8")
    import_fhir([tmp_path], tmp_path / "c.csv", AS_OF)
    row = rows_of(tmp_path / "c.csv")["v1"]
    assert (row["diagnosis"], row["diagnosis_subtype"], row["diagnosis_date"]) == ("AAV", "GPA", "2019-02-01")


def test_provenance_names_the_resource_and_date_of_each_value(tmp_path: Path) -> None:
    output = tmp_path / "cohort.parquet"
    import_fhir([write_bundle(tmp_path / "b.json", bundle_resources())], output, AS_OF)
    sidecar = json.loads(provenance_path(output).read_text("utf-8"))
    p1 = sidecar["patients"]["p1"]
    assert p1["hemoglobin_g_l"] == {"from": "Observation/hb-new", "date": "2026-11-01"}
    assert p1["glucocorticoid_mg_day"] == {"from": "MedicationStatement/pred", "date": "2026-01-01"}
    assert p1["anti_cd20_last_dose"] == {"from": "MedicationAdministration/rtx", "date": "2026-06-15"}
    assert sidecar["patients"]["p2"] == {"sex": {"from": "Patient/p2"}}
    assert len(load_cohort(output)) == 2  # the Parquet cohort reads back


def test_malformed_resources_are_reported_not_fatal(tmp_path: Path) -> None:
    lines = [
        json.dumps({"resourceType": "Patient", "id": "m1"}),
        "{not json",
        json.dumps(lab("furlongs", "Patient/m1", "718-7", "2026-11-01", 12.0, "[furlong_us]")),
        json.dumps(lab("nobody", "Patient/m1", "718-7", "2026-11-01", 12.0, "g/dL") | {"subject": None}),
        json.dumps(lab("good", "Patient/m1", "718-7", "2026-10-30", 11.0, "g/dL")),
        json.dumps(lab("orphan", "Patient/ghost", "718-7", "2026-10-30", 11.0, "g/dL")),
        json.dumps(lab("older-bad", "Patient/m1", "718-7", "2026-10-01", 9.0, "[furlong_us]")),
        json.dumps(lab("withdrawn", "Patient/m1", "718-7", "2026-11-20", 6.0, "g/dL") | {"status": "cancelled"}),
    ]
    source = tmp_path / "export.ndjson"
    source.write_text("\n".join(lines) + "\n", "utf-8")
    summary = import_fhir([source], tmp_path / "c.csv", AS_OF)
    reported = {(p.where.rsplit(":", 1)[-1] if p.where else "", p.resource): p.why for p in summary.problems}
    assert reported.keys() == {
        ("2", ""),
        ("3", "Observation/furlongs"),
        ("4", "Observation/nobody"),
        ("", "Patient/ghost"),
        ("7", "Observation/older-bad"),  # reported though a later value is held
    }
    assert "not JSON" in reported[("2", "")]
    assert (
        "unit" in reported[("3", "Observation/furlongs")]
        and "hemoglobin_g_l" in reported[("3", "Observation/furlongs")]
    )
    assert "subject" in reported[("4", "Observation/nobody")]
    assert float(rows_of(tmp_path / "c.csv")["m1"]["hemoglobin_g_l"]) == 110.0  # the good one still counts
    # used: the Patient, the good result and the orphan's (whose patient is reported missing)
    assert summary.counts["skipped (Observation cancelled)"] == 1 and summary.counts["used"] == 3
    assert summary.counts["resources"] == len(lines)


def test_screening_the_imported_cohort_works(tmp_path: Path) -> None:
    output = tmp_path / "cohort.csv"
    import_fhir([write_bundle(tmp_path / "b.json", bundle_resources())], output, AS_OF)
    verdicts = api.screen(str(output), AS_OF)
    assert len(verdicts) == 2 * len(api.load_trials())
    assert "invalid" not in set(verdicts["status"])
    # the patient without data is never eligible: unknowns stay unknown
    assert "eligible" not in set(verdicts[verdicts["patient_id"] == "p2"]["status"])
    # p1's own values are read: her age from the birth date decides the age criteria
    reasons = " ".join(verdicts[verdicts["patient_id"] == "p1"]["reason"])
    assert "age 36 years" in reasons


def test_cli_import_with_id_system_and_a_site_map(tmp_path: Path) -> None:
    resources = bundle_resources()
    resources.append(
        lab("local-hb", "Patient/p2", "HB-LOCAL", "2026-11-20", 135, "g/L")
        | {"code": coded("urn:site:lab", "HB-LOCAL")}
    )
    bundle = write_bundle(tmp_path / "b.json", resources)
    site_map = tmp_path / "site.yaml"
    site_map.write_text(
        "systems: {site: [urn:site:lab]}\n"
        "observations:\n  hemoglobin_g_l:\n    lookback_days: 90\n    unit: g/L\n    codes:\n"
        "      - {system: site, code: HB-LOCAL, display: local hemoglobin}\n"
        "      - {system: loinc, code: 718-7, display: 'Hemoglobin [Mass/volume] in Blood'}\n",
        "utf-8",
    )
    output = tmp_path / "cohort.csv"
    args = [
        "import",
        "fhir",
        str(bundle),
        "-o",
        str(output),
        "--as-of",
        AS_OF.isoformat(),
        "--id-system",
        "urn:hospital:mrn",
        "--map",
        str(site_map),
    ]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.stderr
    rows = rows_of(output)
    assert set(rows) == {"MRN-001", "MRN-002"}
    assert float(rows["MRN-002"]["hemoglobin_g_l"]) == 135.0 and float(rows["MRN-001"]["hemoglobin_g_l"]) == 123.0
    assert "2 patients" in result.stderr and "provenance in" in result.stderr
    first = output.read_bytes(), provenance_path(output).read_bytes()
    assert CliRunner().invoke(main, args).exit_code == 0
    assert (output.read_bytes(), provenance_path(output).read_bytes()) == first  # reruns are byte-identical


def test_cli_reports_bad_resources_and_a_bad_map(tmp_path: Path) -> None:
    source = tmp_path / "x.ndjson"
    source.write_text(json.dumps({"resourceType": "Patient", "id": "a"}) + "\n[1, 2]\n", "utf-8")
    result = CliRunner().invoke(main, ["import", "fhir", str(source), "-o", str(tmp_path / "c.csv")])
    assert result.exit_code == 0
    assert "1 resource(s) could not be used" in result.stderr and f"{source}:2" in result.stderr
    bad_map = tmp_path / "bad.yaml"
    bad_map.write_text("observations:\n  haemoglobin:\n    lookback_days: 90\n    unit: g/L\n    codes: []\n", "utf-8")
    result = CliRunner().invoke(
        main, ["import", "fhir", str(source), "-o", str(tmp_path / "c.csv"), "--map", str(bad_map)]
    )
    assert result.exit_code == 2
    assert "'haemoglobin' is not a contract column" in result.stderr


def test_no_patient_resources_is_an_error(tmp_path: Path) -> None:
    source = tmp_path / "Observation.ndjson"
    source.write_text(json.dumps(lab("o", "Patient/z", "718-7", "2026-11-01", 12, "g/dL")) + "\n", "utf-8")
    with pytest.raises(MatcherError, match="no Patient resources"):
        import_fhir([source], tmp_path / "c.csv", AS_OF)


@settings(max_examples=25, derandomize=True, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 200), st.floats(5, 18, allow_nan=False)),
        min_size=1,
        max_size=8,
        unique_by=lambda item: item[0],
    ),
    st.randoms(use_true_random=False),
)
def test_the_latest_value_in_the_window_wins_in_any_order(
    tmp_path_factory: pytest.TempPathFactory, results: list[tuple[int, float]], order: Any
) -> None:
    """Against a one-line model: the value of the latest date on or before as-of within 90 days, read in any
    order, from NDJSON and from a Bundle alike."""
    folder = tmp_path_factory.mktemp("latest")
    resources = [
        lab(f"o{i}", "Patient/p", "718-7", (AS_OF - dt.timedelta(days=back - 10)).isoformat(), value, "g/dL")
        for i, (back, value) in enumerate(results)
    ]
    order.shuffle(resources)
    resources.insert(0, {"resourceType": "Patient", "id": "p"})
    in_window = [(back, value) for back, value in results if 0 <= back - 10 <= 90]
    expected = "" if not in_window else round(min(in_window)[1] * 10, 6)
    (folder / "all.ndjson").write_text("".join(json.dumps(r) + "\n" for r in resources), "utf-8")
    import_fhir([folder / "all.ndjson"], folder / "a.csv", AS_OF)
    import_fhir([write_bundle(folder / "b.json", resources)], folder / "b.csv", AS_OF)
    for name in ("a.csv", "b.csv"):
        got = rows_of(folder / name)["p"]["hemoglobin_g_l"]
        assert (float(got) if got else "") == (pytest.approx(expected) if expected != "" else "")


def synth_rows(rows: int) -> list[dict[str, Any]]:
    options = SynthOptions(rows=rows, seed=11, blank_fraction=0.0, as_of=AS_OF)
    return [row for table in generate(options) for row in table.to_pylist()]


def test_round_trip_through_fhir_gives_the_same_values_and_verdicts(tmp_path: Path) -> None:
    """The synthetic cohort written as FHIR and imported back: every cell the map can state comes back, and the
    screening verdicts (status, failed and missing criteria) are those of the cohort cut to those cells."""
    rows = synth_rows(400)
    writer = FhirWriter(load_map(), AS_OF, history=2)
    write_export(rows, tmp_path / "export", writer)
    summary = import_fhir([tmp_path / "export"], tmp_path / "imported.csv", AS_OF)
    assert summary.problems == [] and summary.notes == [] and summary.patients == len(rows)
    expected = pd.DataFrame([writer.expressible(row) for row in rows])
    expected.to_csv(tmp_path / "expected.csv", index=False)
    imported = load_cohort(tmp_path / "imported.csv")
    cut = load_cohort(tmp_path / "expected.csv")
    assert list(imported.ids) == list(cut.ids)
    for name in summary.columns:
        assert pd.Series(imported.column(name)).equals(pd.Series(cut.column(name))), name
    kept = ["patient_id", "trial_id", "status", "failed", "missing"]
    ours = api.screen(str(tmp_path / "imported.csv"), AS_OF)[kept]
    theirs = api.screen(str(tmp_path / "expected.csv"), AS_OF)[kept]
    pd.testing.assert_frame_equal(ours, theirs)
    assert set(ours["status"]) >= {"ineligible", "unknown"}


def test_a_bound_is_not_a_value_and_a_planned_course_is_not_current(tmp_path: Path) -> None:
    below = lab("plt", "Patient/e1", "777-3", "2026-11-20", 20, "10*3/uL")
    below["valueQuantity"]["comparator"] = "<"
    planned = {
        "resourceType": "MedicationStatement",
        "id": "mmf-planned",
        "status": "intended",
        "medicationCodeableConcept": coded(RXNORM, "68149"),
        "subject": {"reference": "Patient/e1"},
        "effectivePeriod": {"start": "2026-11-01"},
    }
    resources = [{"resourceType": "Patient", "id": "e1"}, below, planned]
    summary = import_fhir([write_bundle(tmp_path / "b.json", resources)], tmp_path / "c.csv", AS_OF)
    row = rows_of(tmp_path / "c.csv")["e1"]
    assert row["platelets_10e9_l"] == "" and row["immunosuppressant"] == ""  # unknown, not 20 nor mycophenolate
    assert [(p.resource, "bound" in p.why) for p in summary.problems] == [("Observation/plt", True)]


def test_a_site_map_reads_a_local_score_into_an_integer_column(tmp_path: Path) -> None:
    score = {
        "resourceType": "Observation",
        "id": "sledai",
        "status": "final",
        "code": coded("urn:site:scores", "SLEDAI2K"),
        "subject": {"reference": "Patient/s1"},
        "effectiveDateTime": "2026-11-10",
        "valueInteger": 8,
    }
    site_map = tmp_path / "scores.yaml"
    site_map.write_text(
        "systems: {scores: [urn:site:scores]}\n"
        "observations:\n  sledai_2k:\n    lookback_days: 30\n    unit: points\n    codes:\n"
        "      - {system: scores, code: SLEDAI2K, display: 'SLEDAI-2K total (local form)'}\n",
        "utf-8",
    )
    bundle = write_bundle(tmp_path / "b.json", [{"resourceType": "Patient", "id": "s1"}, score])
    summary = import_fhir([bundle], tmp_path / "c.csv", AS_OF, map_path=site_map)
    assert "sledai_2k" in summary.columns
    assert rows_of(tmp_path / "c.csv")["s1"]["sledai_2k"] == "8"


def test_qualitative_tests_give_true_false_and_others_are_reported(tmp_path: Path) -> None:
    def serology(ident: str, loinc: str, result: tuple[str, str], date: str = "2026-11-01") -> dict[str, Any]:
        return {
            "resourceType": "Observation",
            "id": ident,
            "status": "final",
            "code": coded(LOINC, loinc),
            "subject": {"reference": "Patient/v"},
            "effectiveDateTime": date,
            "valueCodeableConcept": coded(*result),
        }

    snomed = "http://snomed.info/sct"
    resources = [
        {"resourceType": "Patient", "id": "v"},
        serology("hbs", "5196-1", (snomed, "260385009")),  # negative
        serology("hcv-old", "16128-1", (snomed, "260385009"), "2026-10-01"),
        serology("hcv", "16128-1", (snomed, "10828004")),  # positive, later
        serology("hiv", "68961-2", (snomed, "82334004")),  # indeterminate: neither
    ]
    summary = import_fhir([write_bundle(tmp_path / "b.json", resources)], tmp_path / "c.csv", AS_OF)
    row = rows_of(tmp_path / "c.csv")["v"]
    assert (row["hbsag_positive"], row["hcv_ab_positive"], row["hiv_positive"]) == ("false", "true", "")
    assert [(p.resource, "positive or a negative" in p.why) for p in summary.problems] == [("Observation/hiv", True)]


def test_requests_by_medication_reference_and_conflicting_diagnoses(tmp_path: Path) -> None:
    dosage = [
        {
            "timing": {"repeat": {"frequency": 2, "period": 1, "periodUnit": "d"}},
            "doseAndRate": [{"doseQuantity": {"value": 4, "unit": "mg", "system": UCUM, "code": "mg"}}],
        }
    ]

    def request(ident: str, patient: str, medication: str, **extra: Any) -> dict[str, Any]:
        return {
            "resourceType": "MedicationRequest",
            "id": ident,
            "status": "active",
            "intent": "order",
            "medicationReference": {"reference": medication},
            "subject": {"reference": f"Patient/{patient}"},
            "authoredOn": "2026-09-01",
            "dosageInstruction": dosage,
            **extra,
        }

    methylprednisolone = {"resourceType": "Medication", "id": "mp", "code": coded(RXNORM, "6902")}
    azathioprine = {"resourceType": "Medication", "id": "aza", "code": coded(RXNORM, "1256")}
    resources = [
        {"resourceType": "Patient", "id": "r1"},
        {"resourceType": "Patient", "id": "r2"},
        request("gc", "r1", "Medication/mp"),
        request("is", "r2", "#aza", contained=[azathioprine]),
        request("lost", "r2", "Medication/elsewhere"),
        {
            "resourceType": "Condition",
            "id": "sle",
            "code": coded("http://hl7.org/fhir/sid/icd-10", "M32.1"),
            "subject": {"reference": "Patient/r2"},
        },
        {
            "resourceType": "Condition",
            "id": "ssc",
            "code": coded("http://snomed.info/sct", "89155008"),
            "subject": {"reference": "Patient/r2"},
        },
    ]
    (tmp_path / "Medication.ndjson").write_text(json.dumps(methylprednisolone) + "\n", "utf-8")
    (tmp_path / "All.ndjson").write_text("".join(json.dumps(r) + "\n" for r in resources), "utf-8")
    summary = import_fhir([tmp_path], tmp_path / "c.csv", AS_OF)
    rows = rows_of(tmp_path / "c.csv")
    assert (rows["r1"]["glucocorticoid"], float(rows["r1"]["glucocorticoid_mg_day"])) == ("methylprednisolone", 8.0)
    assert (rows["r2"]["immunosuppressant"], rows["r2"]["immunosuppressant_start_date"]) == (
        "azathioprine",
        "2026-09-01",
    )
    assert [p.resource for p in summary.problems] == ["MedicationRequest/lost"]
    assert rows["r2"]["diagnosis"] == ""  # SLE and SSc: left for the coordinator, with a note
    assert summary.notes == [
        "r2: conditions give SLE (Condition/sle), SSC (Condition/ssc); diagnosis left blank for the coordinator"
    ]
