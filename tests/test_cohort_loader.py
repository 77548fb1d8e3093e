"""The cohort loader: value spellings, unit headers, bad rows and bad files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from matcher.cohort import FALSE, NEVER, TRUE, UNKNOWN, cohort_from_records, load_cohort
from matcher.errors import CohortError


def write(tmp_path: Path, text: str, name: str = "cohort.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return path


@pytest.mark.parametrize(
    ("spelling", "code"),
    [
        ("true", TRUE),
        ("TRUE", TRUE),
        ("Yes", TRUE),
        ("1", TRUE),
        ("false", FALSE),
        ("no", FALSE),
        ("0", FALSE),
        ("", UNKNOWN),
        ("  ", UNKNOWN),
    ],
)
def test_boolean_spellings(spelling: str, code: int) -> None:
    cohort = cohort_from_records([{"patient_id": "p", "prior_car_t": spelling}])
    assert cohort.column("prior_car_t")[0] == code


def test_dates_blank_never_and_iso() -> None:
    cohort = cohort_from_records(
        [
            {"patient_id": "a", "live_vaccine_date": "1970-01-11"},
            {"patient_id": "b", "live_vaccine_date": "Never"},
            {"patient_id": "c", "live_vaccine_date": ""},
        ]
    )
    days = cohort.column("live_vaccine_date")
    assert days[0] == 10 and days[1] == NEVER and np.isnan(days[2])


def test_text_none_is_known_absent_and_blank_is_unknown() -> None:
    cohort = cohort_from_records(
        [{"patient_id": "a", "malignancy_type": "none"}, {"patient_id": "b", "malignancy_type": ""}]
    )
    assert cohort.column("malignancy_type").tolist() == ["none", None]


def test_enum_codes_are_case_insensitive_and_canonical() -> None:
    cohort = cohort_from_records([{"patient_id": "a", "diagnosis": "ssc", "sex": "f"}])
    assert cohort.column("diagnosis")[0] == "SSC" and cohort.column("sex")[0] == "F"


@pytest.mark.parametrize(
    ("header", "value", "column", "expected"),
    [
        ("creatinine[umol/L]", "88.4", "creatinine_mg_dl", 1.0),
        ("creatinine[µmol/L]", "176.8", "creatinine_mg_dl", 2.0),
        ("hemoglobin[g/dL]", "7", "hemoglobin_g_l", 70.0),
        ("platelets[/mm3]", "50000", "platelets_10e9_l", 50.0),
        ("anc[/mm³]", "500", "anc_10e9_l", 0.5),
        ("anc[10^3/uL]", "1.5", "anc_10e9_l", 1.5),
        ("upcr[mg/mmol]", "113.12", "upcr_g_g", 1.0),
        ("urine_protein_24h[mg/24h]", "500", "urine_protein_24h_g", 0.5),
        ("weight[lb]", "100", "weight_kg", 45.359237),
        ("creatinine_mg_dl", "1.2", "creatinine_mg_dl", 1.2),
    ],
)
def test_unit_headers_convert_to_contract_units(header: str, value: str, column: str, expected: float) -> None:
    cohort = cohort_from_records([{"patient_id": "p", header: value}])
    assert cohort.column(column)[0] == pytest.approx(expected, rel=1e-3)


def test_unknown_unit_names_the_column() -> None:
    with pytest.raises(CohortError, match=r"'creatinine_mg_dl'.*'furlong'"):
        cohort_from_records([{"patient_id": "p", "creatinine[furlong]": "1"}])


def test_same_fact_twice_is_an_error() -> None:
    with pytest.raises(CohortError, match=r"'creatinine_mg_dl' and 'creatinine\[umol/L\]' both give creatinine_mg_dl"):
        cohort_from_records([{"patient_id": "p", "creatinine_mg_dl": "1", "creatinine[umol/L]": "88.4"}])


def test_bad_values_make_the_row_invalid_with_reasons_naming_columns_not_values() -> None:
    cohort = cohort_from_records(
        [
            {"patient_id": "ok", "sledai_2k": "8", "birth_date": "1990-01-01", "prior_car_t": "no"},
            {"patient_id": "bad", "sledai_2k": "abc", "birth_date": "2026-13-45", "prior_car_t": "maybe"},
        ]
    )
    assert list(cohort.invalid) == [1]
    reason = cohort.invalid[1]
    assert "column sledai_2k: not a number" in reason
    assert "column birth_date: not an ISO date" in reason
    assert "column prior_car_t: not a boolean" in reason
    assert "abc" not in reason and "maybe" not in reason
    assert cohort.column("sledai_2k")[0] == 8


def test_glucocorticoid_dose_without_drug_is_invalid() -> None:
    cohort = cohort_from_records([{"patient_id": "p", "glucocorticoid_mg_day": "10", "glucocorticoid": ""}])
    assert "glucocorticoid" in cohort.invalid[0]


def test_unknown_columns_warn_once() -> None:
    cohort = cohort_from_records([{"patient_id": "p", "favourite_colour": "red", "shoe_size": "9"}])
    assert cohort.warnings == ["records: ignoring unknown columns: favourite_colour, shoe_size"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the file is empty"),
        ("patient_id,sex\n", "header but no patient rows"),
        ("sex,diagnosis\nF,SLE\n", "required column 'patient_id' is missing"),
        ("patient_id,sex\na,F\na,M\n", "duplicate patient_id 'a'"),
        ("patient_id,sex\na,F\n,M\n", "row 3: column 'patient_id' is blank"),
    ],
)
def test_bad_files(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(CohortError, match=message):
        load_cohort(write(tmp_path, text))


def test_semicolon_delimited_bom_and_crlf(tmp_path: Path) -> None:
    path = write(tmp_path, "\ufeffpatient_id;sex;sledai_2k\r\na;F;10\r\nb;M;\r\n")
    cohort = load_cohort(path)
    assert cohort.ids.tolist() == ["a", "b"]
    assert cohort.column("sledai_2k")[0] == 10 and np.isnan(cohort.column("sledai_2k")[1])


def test_non_utf8_file_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes("patient_id,site\na,Z\xfcrich\n".encode("latin-1"))
    with pytest.raises(CohortError, match="UTF-8"):
        load_cohort(path)


def test_parquet_with_typed_columns(tmp_path: Path) -> None:
    table = pa.table(
        {
            "patient_id": ["a", "b"],
            "sledai_2k": pa.array([10, None], pa.int64()),
            "prior_car_t": pa.array([True, None]),
            "live_vaccine_date": pa.array(["2026-01-01", "never"]),
            "creatinine[umol/L]": pa.array([88.4, 176.8]),
        }
    )
    path = tmp_path / "cohort.parquet"
    pq.write_table(table, path)
    cohort = load_cohort(path)
    assert cohort.column("sledai_2k")[0] == 10 and np.isnan(cohort.column("sledai_2k")[1])
    assert cohort.column("prior_car_t").tolist() == [TRUE, UNKNOWN]
    assert cohort.column("live_vaccine_date")[1] == NEVER
    assert cohort.column("creatinine_mg_dl").tolist() == pytest.approx(
        [1.0, 2.0], rel=1e-4
    )  # 88.4 umol/L x 113.12 g/mol
