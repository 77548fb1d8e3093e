"""Manual checks are asked only of the patients they apply to, in every output."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import yaml
from click.testing import CliRunner

from matcher.cli import main

TRIAL = {
    "id": "NCT00000002",
    "title": "A trial with one question for men only",
    "sponsor": "test",
    "status": "recruiting",
    "slots": 2,
    "criteria": [
        {
            "id": "NCT00000002.incl.1",
            "kind": "inclusion",
            "quote": "Adults.",
            "rule": {"type": "range", "field": "age", "min": 18},
        },
        {
            "id": "NCT00000002.incl.2",
            "kind": "inclusion",
            "quote": "Men with partners of childbearing potential use contraception.",
            "applies_when": {
                "type": "all",
                "of": [
                    {"type": "in_set", "field": "sex", "values": ["M"]},
                    {"type": "not", "rule": {"type": "flag", "field": "contraception_agreed"}},
                ],
            },
            "rule": {"type": "manual", "question": "Does his partner use contraception?"},
        },
    ],
}
COHORT = """patient_id,age_years,sex,contraception_agreed
woman,40,F,
man,40,M,
agreed,40,M,true
unsexed,40,,
broken,x,M,
"""


def screen(tmp_path: Path, fmt: str) -> str:
    models = tmp_path / "models"
    models.mkdir()
    (models / "NCT00000002.yaml").write_text(yaml.safe_dump(TRIAL))
    (tmp_path / "cohort.csv").write_text(COHORT)
    result = CliRunner().invoke(
        main,
        ["screen", str(tmp_path / "cohort.csv"), "--as-of", "2026-11-23", "--models", str(models), "--format", fmt],
    )
    assert result.exit_code == 0, result.output
    return result.stdout


def test_csv_lists_the_question_only_where_its_condition_is_not_false(tmp_path: Path) -> None:
    rows = {row["patient_id"]: row for row in csv.DictReader(io.StringIO(screen(tmp_path, "csv")))}
    assert {pid: row["manual"] for pid, row in rows.items()} == {
        "woman": "",
        "man": "NCT00000002.incl.2",
        "agreed": "",  # his recorded agreement settles it
        "unsexed": "NCT00000002.incl.2",  # a blank condition still asks
        "broken": "",  # an invalid row is asked nothing
    }
    assert rows["broken"]["status"] == "invalid"


def test_json_records_agree_with_the_csv(tmp_path: Path) -> None:
    document = json.loads(screen(tmp_path, "json"))
    asked = {record["patient_id"]: record["manual"] for record in document["results"]}
    assert asked == {
        "woman": [],
        "man": ["NCT00000002.incl.2"],
        "agreed": [],
        "unsexed": ["NCT00000002.incl.2"],
        "broken": [],
    }
    assert [check["id"] for check in document["trials"][0]["manual_checks"]] == ["NCT00000002.incl.2"]
