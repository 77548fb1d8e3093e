"""The cohort loader: value spellings, unit headers, bad rows and bad files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matcher.cohort import Cohort, cohort_from_records, cohort_from_table, load_cohort
from matcher.errors import CohortError
from matcher.kleene import FALSE, TRUE, UNKNOWN
from matcher.reading import _parse_csv, _read_typed, _text_types
from matcher.validate import NEVER, RowProblem, reason_text


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
    problems = cohort.invalid[1]
    assert [problem.column for problem in problems] == ["sledai_2k", "birth_date", "prior_car_t"]
    reason = reason_text(problems)
    assert "column sledai_2k: not a number" in reason
    assert "column birth_date: not an ISO date" in reason
    assert "column prior_car_t: not a boolean" in reason
    assert "abc" not in reason and "maybe" not in reason
    assert cohort.column("sledai_2k")[0] == 8


def test_glucocorticoid_dose_without_drug_is_invalid() -> None:
    cohort = cohort_from_records([{"patient_id": "p", "glucocorticoid_mg_day": "10", "glucocorticoid": ""}])
    assert cohort.invalid[0] == (RowProblem("glucocorticoid", "a dose is given without the drug's name"),)


def test_glucocorticoid_none_is_a_patient_off_glucocorticoids() -> None:
    """Round 19 (m-b): `none` beside 0 mg/day, how the contract writes "known to take none", made the row invalid
    as an unknown glucocorticoid; beside a dose it contradicts it."""
    cohort = cohort_from_records(
        [
            {"patient_id": "off", "glucocorticoid": "none", "glucocorticoid_mg_day": "0"},
            {"patient_id": "dosed", "glucocorticoid": "None", "glucocorticoid_mg_day": "7.5"},
            {"patient_id": "unknown dose", "glucocorticoid": "none", "glucocorticoid_mg_day": ""},
            {"patient_id": "misspelt", "glucocorticoid": "prednisone tablets", "glucocorticoid_mg_day": "5"},
        ]
    )
    known = "betamethasone, deflazacort, dexamethasone, hydrocortisone, methylprednisolone, prednisolone, prednisone"
    assert cohort.invalid == {
        1: (RowProblem("glucocorticoid", "none, though glucocorticoid_mg_day records a dose"),),
        3: (RowProblem("glucocorticoid", f"not a known glucocorticoid ({known}, triamcinolone) or none"),),
    }


@pytest.mark.parametrize(
    ("cell", "problem"),
    [
        ("none; prednisone", "says none and names a drug as well: the row cannot be screened as it is"),
        (
            "prednisone, hydrocortisone",
            "names more than one glucocorticoid: the column holds the one taken, its dose in glucocorticoid_mg_day",
        ),
        ("n/a", "names no drug: leave the cell blank if it is not recorded, or write none"),
        ("-", "names no drug: leave the cell blank if it is not recorded, or write none"),
    ],
)
def test_a_glucocorticoid_cell_that_is_not_one_drug_says_why(cell: str, problem: str) -> None:
    """Review round 25 (minor): none beside a drug, two drugs, or a placeholder were each "not a known
    glucocorticoid", which sends the coordinator to the list of names rather than to what is wrong."""
    cohort = cohort_from_records([{"patient_id": "p", "glucocorticoid": cell, "glucocorticoid_mg_day": "5"}])
    assert cohort.invalid == {0: (RowProblem("glucocorticoid", problem),)}


GLUCOCORTICOID_PLACE = "glucocorticoid, glucocorticoid_mg_day, glucocorticoid_dose_changed_date"


@pytest.mark.parametrize(
    ("column", "recorded", "problem"),
    [
        # review round 17: prednisone as the current immunosuppressant beside 0 mg/day passed every glucocorticoid
        # check of NCT06821659; IVIG there was read as no IVIG by NCT06983964; NCT06920433 planned "stop prednisone"
        ("immunosuppressant", "Prednisone", f"prednisone belongs in {GLUCOCORTICOID_PLACE}"),
        ("immunosuppressant", "Solu-Medrol", f"methylprednisolone belongs in {GLUCOCORTICOID_PLACE}"),
        ("immunosuppressant", "IV-IG", "ivig belongs in ivig_last_dose"),
        ("immunosuppressant", "Gamunex-C", "ivig belongs in ivig_last_dose"),  # a brand (round 17, m2)
        ("stopped_immunosuppressant", "intravenous immunoglobulin", "ivig belongs in ivig_last_dose"),
        ("stopped_immunosuppressant", "dexamethasone", f"dexamethasone belongs in {GLUCOCORTICOID_PLACE}"),
    ],
)
def test_a_drug_with_columns_of_its_own_in_another_drug_column_is_invalid(
    column: str, recorded: str, problem: str
) -> None:
    cohort = cohort_from_records([{"patient_id": "p", column: recorded}, {"patient_id": "q", column: "mycophenolate"}])
    assert cohort.invalid == {0: (RowProblem(column, f"{problem}, where the trials read it, not in {column}"),)}


UNKNOWN_DRUG = (
    "not the name of a conventional immunosuppressant the facts know (a dose, route or note beside the name is not"
    " read): write the name alone. A small-molecule immunosuppressant the facts lack is added, with its half-life,"
    " to the conventional class in the site facts; a biologic is recorded in other_biologic and"
    " other_biologic_last_dose (other_b_cell_depletion_last_dose if it depletes B cells)"
)
WORDS_BESIDE = (
    "holds words that are not read beside the name (a dose, route or note, or a drug the facts do not know): if they"
    " are a note, write the name alone; if they name a second drug, the row cannot be screened as it is"
)
NO_DRUG = "names no drug: leave the cell blank if it is not recorded, or write none"
SEVERAL_DRUGS = (
    "names more than one drug, and the column holds one: the row cannot be screened as it is (keeping one of them"
    " would leave the other's washout and stable dose unchecked)"
)


@pytest.mark.parametrize(
    ("recorded", "problem"),
    [
        # round 18: NCT06983964 reads no conventional immunosuppressant column, so these passed it
        ("guselkumab", UNKNOWN_DRUG),  # a biologic the facts do not know (round 18 named epratuzumab)
        ("steroids", UNKNOWN_DRUG),
        ("mizoribine", UNKNOWN_DRUG),  # a site adds it, with its half-life, to the conventional class
        ("MMF plus belimumab", "belimumab belongs in belimumab_last_dose, where the trials read it, not in {column}"),
        ("oral prednisone", UNKNOWN_DRUG),
        (
            "Rituximab (MabThera)",
            "rituximab belongs in anti_cd20_drug, anti_cd20_last_dose, where the trials read it, not in {column}",
        ),
        # round 19: two drugs (keeping one would leave the other's washout unchecked); a name with its brand is one
        ("leflunomide + mycophenolate", SEVERAL_DRUGS),
        ("azathioprine (Imuran)", None),
        ("Tacrolimus,", None),
        ("CsA", None),
        ("mycophenolate", None),
        ("Plaquenil", None),
        ("cyclophosphamide", None),
        ("none", None),
        ("", None),
        # round 20: one drug with a note is no second drug (N2), nor is a drug the facts lack taken for a note;
        # none with a comma or brackets is none (N3); a placeholder names nothing
        ("MTX (oral)", WORDS_BESIDE),
        ("none (stopped)", WORDS_BESIDE),
        ("mycophenolate + mizoribine", WORDS_BESIDE),
        ("cyclosporine (Lupkynis)", SEVERAL_DRUGS),
        ("n/a", NO_DRUG),
        ("-", NO_DRUG),
        ("( )", NO_DRUG),
        ("none,", None),
        ("(None)", None),
        ("None.", None),
        # round 21: a placeholder names no drug (the unknown-name reason sent the coordinator to the site facts);
        # none beside a drug is no second drug; full-width brackets and the ideographic comma part a list
        ("N/A", NO_DRUG),
        ("nil", NO_DRUG),
        ("?", NO_DRUG),
        ("none (leflunomide)", "says none and names a drug as well: the row cannot be screened as it is"),
        ("MMF\u3001HCQ", SEVERAL_DRUGS),
        ("azathioprine\uff08Imuran\uff09", None),
    ],
)
@pytest.mark.parametrize("column", ["immunosuppressant", "stopped_immunosuppressant"])
def test_a_conventional_immunosuppressant_column_takes_the_drugs_the_facts_know(
    column: str, recorded: str, problem: str | None
) -> None:
    cohort = cohort_from_records([{"patient_id": "p", column: recorded}])
    expected = {} if problem is None else {0: (RowProblem(column, problem.format(column=column)),)}
    assert cohort.invalid == expected


@pytest.mark.parametrize(
    ("recorded", "stored"),
    [
        ("azathioprine (Imuran)", "azathioprine"),
        ("Arava (leflunomide)", "leflunomide"),
        ("Plaquenil (HCQ)", "hydroxychloroquine"),
        ("MMF & CellCept", "mycophenolate"),
        ("Tacrolimus,", "tacrolimus"),
        ("(none)", "none"),
        ("None.", "none"),
        ("cyclosporine (Lupkynis)", "cyclosporine (lupkynis)"),  # two drugs: as written (and the row invalid)
    ],
)
def test_a_cell_naming_one_drug_is_stored_as_that_drug(recorded: str, stored: str) -> None:
    """Round 20 (N1): the loader took "azathioprine (Imuran)" for one drug, but the trials read the cell as
    written, a name they did not know; the cell is now stored as the one drug it names."""
    cohort = cohort_from_records([{"patient_id": "p", "stopped_immunosuppressant": recorded}])
    assert cohort.text_codes("stopped_immunosuppressant")[1] == [stored]


def test_none_with_a_comma_still_meets_the_date_that_contradicts_it() -> None:
    """Round 20 (N3): "none," passed the none-versus-last-dose check that "none" meets."""
    record = {"patient_id": "p", "stopped_immunosuppressant": "none,", "immunosuppressant_last_dose": "2026-11-01"}
    problem = "none, though immunosuppressant_last_dose records one"
    assert cohort_from_records([record]).invalid == {0: (RowProblem("stopped_immunosuppressant", problem),)}


def test_the_glucocorticoids_recorded_elsewhere_keep_step_with_the_facts() -> None:
    from matcher.facts import default_facts

    facts = default_facts()
    for groups in facts.recorded_elsewhere.values():
        steroids = next(group for group in groups if "glucocorticoid" in group.record_in)
        assert set(steroids.drugs) == set(facts.steroid_equivalent_mg)


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


# The typed CSV read (numbers and booleans typed by Arrow) must give what the text read gives,
# cell for cell: values, blanks and each invalid row's reasons.  Spellings near each column's edges.
_CELLS = {
    "age_years": [
        "",
        "34",
        "34.0",
        "34.5",
        "+7",
        "-3",
        ".5",
        "5.",
        "1e1",
        "1E+01",
        "nan",
        "NaN",
        "inf",
        "-inf",
        "abc",
        " 34",
        "1;5",
        "0x10",
        "200",
    ],
    "creatinine_mg_dl": [
        "",
        "0.9",
        "1",
        "1e-1",
        "2E0",
        "+.5",
        "-0",
        "1e999",
        "Infinity",
        "1.2.3",
        " ",
        "0.90000001",
        "7e1",
    ],
    "pregnant": [
        "",
        "true",
        "True",
        "TRUE",
        "tRuE",
        "yes",
        "Y",
        "t",
        "1",
        "0",
        "no",
        "No",
        "F",
        "maybe",
        " yes",
        "2",
    ],
    "sledai_2k": ["", "4", "4.0", "4.5", "-1", "1e1", "106", "nan", "x"],
    "live_vaccine_date": ["", "2026-01-05", "never", "Never", "2026-02-30", "05/01/2026", "2026-1-5"],
    "sex": ["", "F", "m", "x", " M "],
    "site": ["", "ABC-1", "abc-1", " Abc-1", "İstanbul", "ß"],
}


@given(
    st.lists(
        st.fixed_dictionaries({name: st.sampled_from(cells) for name, cells in _CELLS.items()}), min_size=1, max_size=12
    )
)
@settings(max_examples=150, deadline=None, derandomize=True)
def test_typed_and_text_reads_agree_cell_for_cell(
    tmp_path_factory: pytest.TempPathFactory, rows: list[dict[str, str]]
) -> None:
    path = tmp_path_factory.mktemp("typed") / "cohort.csv"
    names = ["patient_id", *_CELLS]
    lines = [",".join(names)] + [",".join([f"P{i}", *(row[n] for n in _CELLS)]) for i, row in enumerate(rows)]
    path.write_text("\n".join(lines) + "\n", "utf-8")
    try:
        loaded = load_cohort(path)
    except CohortError as refused:  # most dates written DD/MM/YYYY: every read refuses the file alike
        for types in (_text_types(names), dict.fromkeys(names, pa.string())):
            with pytest.raises(CohortError) as again:
                cohort_from_table(_parse_csv(path, names, types, ",", parallel=False), str(path))
            assert str(again.value) == str(refused)
        return
    # The text read (dictionaries, parsed per distinct spelling) and plain strings parsed cell by cell.
    for types in (_text_types(names), dict.fromkeys(names, pa.string())):
        text = cohort_from_table(_parse_csv(path, names, types, ",", parallel=False), str(path))
        assert loaded.invalid == text.invalid
        for name in _CELLS:
            np.testing.assert_array_equal(loaded.values[name], text.values[name])
    # Text codes made while loading read as those screening would make from the strings.
    fresh = Cohort(loaded.source, loaded.ids, dict(loaded.values))
    for name in ("sex", "site"):
        assert _words(loaded, name) == _words(fresh, name)


def _words(cohort: Cohort, name: str) -> list[str | None]:
    codes, words = cohort.text_codes(name)
    return [words[code] if code >= 0 else None for code in codes]


def test_a_clean_file_takes_the_typed_read_and_a_word_in_a_number_column_does_not(tmp_path: Path) -> None:
    clean = write(tmp_path, "patient_id,age_years,pregnant,sex\nP1,34,yes,F\nP2,,No,\n")
    names = ["patient_id", "age_years", "pregnant", "sex"]
    typed = _read_typed(clean, names, ",")
    assert typed is not None
    assert typed.schema.field("age_years").type == pa.float64()
    assert typed.schema.field("pregnant").type == pa.bool_()
    assert load_cohort(clean).values["pregnant"].tolist() == [TRUE, FALSE]
    for cell in ("abc", "nan", "inf"):
        messy = write(tmp_path, f"patient_id,age_years,pregnant,sex\nP1,{cell},yes,F\nP2,,No,\n", "messy.csv")
        assert _read_typed(messy, names, ",") is None
        cohort = load_cohort(messy)
        assert cohort.invalid == {0: (RowProblem("age_years", "not a number"),)}
        assert np.isnan(cohort.values["age_years"]).all()


def test_a_dose_needs_its_drug_only_where_the_file_gives_the_drug_column() -> None:
    """Both columns given: a dose with a blank drug is a bad row.  A dose alone (as ``whatif --set`` gives it)
    is not: the drug comes from elsewhere, or is a column to measure."""
    both = cohort_from_records([{"patient_id": "p", "glucocorticoid": "", "glucocorticoid_mg_day": "20"}])
    assert both.invalid == {0: (RowProblem("glucocorticoid", "a dose is given without the drug's name"),)}
    alone = cohort_from_records([{"patient_id": "p", "glucocorticoid_mg_day": "20"}])
    assert alone.invalid == {} and alone.values["glucocorticoid_mg_day"].tolist() == [20.0]


def test_headers_match_whatever_their_case_and_spacing(tmp_path: Path) -> None:
    exact = load_cohort(write(tmp_path, "patient_id,birth_date,creatinine[umol/L]\nP1,1990-05-01,88.4\n", "exact.csv"))
    sloppy = load_cohort(write(tmp_path, "Patient_ID, Birth  Date ,Creatinine [umol/L]\nP1,1990-05-01,88.4\n"))
    assert sloppy.warnings == [] and sloppy.ids.tolist() == ["P1"]
    assert sorted(sloppy.values) == sorted(exact.values) == ["birth_date", "creatinine_mg_dl"]
    for name in exact.values:
        np.testing.assert_array_equal(sloppy.values[name], exact.values[name])
    assert sloppy.values["creatinine_mg_dl"].round(3).tolist() == [1.0]  # converted from umol/L


def test_the_absent_column_check_knows_every_derived_value_and_its_inputs() -> None:
    """contract.DERIVED_FROM mirrors matcher/derived.py: the same fields, and every input a derivation reads."""
    import datetime as dt

    from matcher.contract import DERIVED_FIELDS, DERIVED_FROM
    from matcher.derived import derive
    from matcher.facts import default_facts

    assert set(DERIVED_FROM) == set(DERIVED_FIELDS)
    derived = derive(cohort_from_records([{"patient_id": "p"}]), dt.date(2026, 11, 23), default_facts())
    for field, alternatives in DERIVED_FROM.items():
        inputs = {name for alternative in alternatives for name in alternative}
        inputs |= {name for alternative in DERIVED_FROM["age"] for name in alternative} if "age" in inputs else set()
        assert set(derived[field].blanks) <= inputs, field


def test_rows_taken_from_an_encoded_cohort_read_their_own_text() -> None:
    """``take`` hands the taken rows the codes already built, renumbered over the words those rows use."""
    cohort = cohort_from_records(
        [
            {"patient_id": "a", "glucocorticoid": "Prednisone", "immunosuppressant": "MMF"},
            {"patient_id": "b", "glucocorticoid": "", "immunosuppressant": "azathioprine"},
            {"patient_id": "c", "glucocorticoid": "methylprednisolone", "immunosuppressant": "none"},
        ]
    )
    for name in ("glucocorticoid", "immunosuppressant"):
        cohort.text_codes(name)
    taken = cohort.take([2, 1])
    assert [taken.per_word("glucocorticoid", str, None)[i] for i in (0, 1)] == ["methylprednisolone", None]
    codes, words = taken.text_codes("immunosuppressant")
    assert [words[code] for code in codes] == ["none", "azathioprine"] and len(words) == 2
    taken.values["immunosuppressant"] = np.array(["Tacrolimus", None], dtype=object)  # replaced: encoded again
    codes, words = taken.text_codes("immunosuppressant")
    assert codes[1] == -1 and words[codes[0]] == "tacrolimus"


def test_a_malignancy_in_the_site_s_words_is_read_as_the_code_the_trials_name() -> None:
    """Review 77 F4: "B-cell lymphoma" was read as another malignancy than b_cell_lymphoma; a squamous cell
    carcinoma not said to be of the skin stays as written (it may be of the lung or the cervix), and so does
    "cSCC", as case is not read and CSCC is also a cervical one (review 80 S1)."""
    recorded = ["B-cell lymphoma", "MALToma", "Basal cell carcinoma", "squamous cell carcinoma", "cSCC", None]
    cohort = cohort_from_records([{"patient_id": f"p{i}", "malignancy_type": t} for i, t in enumerate(recorded)])
    assert list(cohort.column("malignancy_type")) == [
        "b_cell_lymphoma",
        "b_cell_lymphoma",
        "basal_cell_skin",
        "squamous cell carcinoma",
        "cSCC",
        None,
    ]
