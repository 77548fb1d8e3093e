"""Trial files: the bundled models load and cover their text; bad files fail at a YAML path."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from matcher import ir
from matcher.coverage import coverage_problems
from matcher.errors import TrialModelError
from matcher.render import criterion_words, trial_text
from matcher.trials import load_trial_file, load_trials, models_dir, trial_schema

SEED_TRIALS = ["NCT06821659", "NCT06983964", "NCT06056921", "NCT06222853", "NCT06920433"]
BUNDLED = sorted(path.stem for path in models_dir().glob("NCT*.yaml"))


def test_every_seed_trial_is_bundled() -> None:
    assert set(SEED_TRIALS) <= set(load_trials())


@pytest.mark.parametrize("trial_id", BUNDLED)
def test_coverage_of_the_published_text(trial_id: str) -> None:
    assert coverage_problems(load_trials()[trial_id]) == []


@pytest.mark.parametrize("trial_id", BUNDLED)
def test_every_criterion_renders_with_its_quote(trial_id: str) -> None:
    trial = load_trials()[trial_id]
    text = trial_text(trial)
    for criterion in trial.criteria:
        assert criterion.id in text
        assert criterion_words(criterion)


def test_schema_is_json_schema_of_a_trial() -> None:
    schema = json.loads(trial_schema())
    assert schema["type"] == "object"
    assert {"id", "criteria", "slots"} <= set(schema["properties"])


def _minimal(rule: dict[str, object]) -> dict[str, object]:
    return {
        "id": "NCT00000001",
        "title": "t",
        "sponsor": "s",
        "status": "recruiting",
        "slots": 1,
        "criteria": [{"id": "NCT00000001.incl.1", "kind": "inclusion", "quote": "q", "rule": rule}],
    }


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"type": "threshold", "field": "age"}, r"criteria\[0\]\.rule: Input tag 'threshold' found"),
        (
            {"type": "compare", "field": "alt_uln", "op": "<", "value": 3},
            r"criteria\[0\]\.rule\.field: unknown column 'alt_uln'",
        ),
        ({"type": "range", "field": "age", "min": 80, "max": 18}, r"criteria\[0\]\.rule: .*invalid range"),
        (
            {"type": "all", "of": [{"type": "flag", "field": "sledai_2k"}]},
            r"criteria\[0\]\.rule\.of\[0\]\.field: column 'sledai_2k' is int",
        ),
        (
            {"type": "washout", "field": "belimumab_last_dose", "drug": "unobtainium", "half_lives": 5},
            r"no half-life known",
        ),
        (
            {"type": "linear", "terms": [{"field": "age", "k": 2}, {"field": "age", "k": 1.5}], "op": "<", "value": 1},
            r"criteria\[0\]\.rule\.terms\[1\]\.k: age moves with the wait",
        ),
        (  # the compiler models a renal estimate per birthday as a value compared with a number (review 42 F5)
            {"type": "compare_fields", "left": "crcl_ml_min", "op": "<", "right": "egfr_ml_min_1_73m2"},
            r"criteria\[0\]\.rule\.left: crcl_ml_min is estimated with the age, which a birthday moves",
        ),
    ],
)
def test_bad_trial_files_point_at_the_yaml_path(tmp_path: Path, rule: dict[str, object], message: str) -> None:
    path = tmp_path / "NCT00000001.yaml"
    path.write_text(yaml.safe_dump(_minimal(rule)))
    with pytest.raises(TrialModelError, match=message):
        load_trial_file(path)


def test_dangling_source_item_reference(tmp_path: Path) -> None:
    document = _minimal({"type": "flag", "field": "prior_car_t"})
    document["source_items"] = [{"text": "x", "criteria": ["NCT00000001.excl.99"]}]
    path = tmp_path / "NCT00000001.yaml"
    path.write_text(yaml.safe_dump(document))
    with pytest.raises(TrialModelError, match="unknown criterion NCT00000001.excl.99"):
        load_trial_file(path)


def test_trial_ids_match_file_names(tmp_path: Path) -> None:
    path = tmp_path / "NCT00000002.yaml"
    path.write_text(yaml.safe_dump(_minimal({"type": "flag", "field": "prior_car_t"})))
    with pytest.raises(TrialModelError, match="does not match the file name"):
        load_trial_file(path)


def test_models_are_frozen() -> None:
    trial = load_trials()[BUNDLED[0]]
    with pytest.raises(Exception, match="frozen"):
        trial.slots = 3  # type: ignore[misc]
    assert isinstance(trial.criteria[0], ir.Criterion)


def test_quotes_shown_to_users_lose_the_markdown_escapes_of_the_published_text() -> None:
    trial = load_trials()["NCT06821659"]
    assert trial.criterion("NCT06821659.incl.2").quote == ">40kg."
    assert trial.criterion("NCT06821659.excl.11.3").quote.endswith("autoimmune disease: Platelet count <50,000/mm³;")
    published = next(item.text for item in trial.source_items if "NCT06821659.incl.2" in item.criteria)
    assert published == r"- • 2. \>40kg."
    for criterion in (c for t in load_trials().values() for c in t.criteria):
        assert "\\" not in criterion.quote, criterion.id
