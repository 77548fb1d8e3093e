"""A drug recorded by a brand name, an abbreviation or another spelling reads as that drug.

The review of NCT06920433 found "Mycophenolate Mofetil" (the trial text's own spelling) left a
filled column to be "measured", and the review of NCT06983964 found Rituxan, Benlysta and Actemra in
``other_biologic`` read as some other drug, so a recent B-cell depleter passed its washout.
"""

from __future__ import annotations

import datetime as dt
import importlib
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from matcher.cohort import cohort_from_records
from matcher.context import Context
from matcher.planning import plan
from matcher.plans import Plan
from matcher.rescreening import rescreen
from matcher.screening import ELIGIBLE, INELIGIBLE
from matcher.trials import effective_facts, load_trials

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parent / "trials"))

from test_NCT06920433 import ELIGIBLE_SLE  # noqa: E402
from trialkit import AS_OF, ago, verdict  # noqa: E402


@pytest.mark.parametrize(
    "spelling", ["Mycophenolate Mofetil", "MMF", "mycophenolate_mofetil", "CellCept", "Myfortic", "Mycept"]
)
def test_mycophenolate_spellings_take_its_own_five_half_lives(spelling: str) -> None:
    """5 x 0.75 d = 3.75 days: a last dose 3 days back is not washed out, 4 days back is."""
    for days, expected in ((3, "ineligible"), (4, "eligible")):
        patient = {**ELIGIBLE_SLE, "stopped_immunosuppressant": spelling, "immunosuppressant_last_dose": ago(days=days)}
        status, failed, missing = verdict("NCT06920433", patient)
        assert (status, missing) == (expected, []), (spelling, days, failed)


BRANDS = [("Rituxan", "rituximab"), ("Benlysta", "belimumab"), ("Actemra", "tocilizumab")]


@pytest.mark.parametrize(("brand", "drug"), BRANDS)
def test_brand_names_of_biologics_are_those_biologics(brand: str, drug: str) -> None:
    """A brand name gets the verdict of its generic name on both sides of the washout."""
    for days in (60, 200):
        generic = {**ELIGIBLE_SLE, "other_biologic": drug, "other_biologic_last_dose": ago(days=days)}
        branded = {**generic, "other_biologic": brand}
        assert verdict("NCT06920433", branded) == verdict("NCT06920433", generic), (brand, days)
    recent = {**ELIGIBLE_SLE, "other_biologic": brand, "other_biologic_last_dose": ago(days=60)}
    assert verdict("NCT06920433", recent)[0] == "ineligible"


def test_a_name_the_tool_does_not_know_is_not_taken_for_another_drug() -> None:
    """Round 18: a name the facts do not know in a conventional immunosuppressant column makes the row invalid
    (NCT06983964, which reads no such column, passed a stopped epratuzumab); elsewhere it is unknown."""
    patient = {**ELIGIBLE_SLE, "stopped_immunosuppressant": "Zyxorelimus", "immunosuppressant_last_dose": ago(days=10)}
    reason = "column stopped_immunosuppressant: " + (
        "not the name of a conventional immunosuppressant the facts know (a dose, route or note beside the name is"
        " not read): write the name alone. A small-molecule immunosuppressant the facts lack is added, with its"
        " half-life, to the conventional class in the site facts; a biologic is recorded in other_biologic and"
        " other_biologic_last_dose (other_b_cell_depletion_last_dose if it depletes B cells)"
    )
    assert verdict("NCT06920433", patient) == ("invalid", [reason], [])
    other = {**ELIGIBLE_SLE, "other_biologic": "Zyxorelimus", "other_biologic_last_dose": ago(days=10)}
    assert verdict("NCT06920433", other) == ("unknown", [], ["other_biologic"])


def test_only_drug_columns_are_read_as_drug_names() -> None:
    """MPA is mycophenolic acid as a drug, and microscopic polyangiitis as a vasculitis subtype."""
    cohort = cohort_from_records([{"patient_id": "p1", "diagnosis_subtype": "MPA", "immunosuppressant": "MPA"}])
    assert cohort.text_codes("diagnosis_subtype")[1] == ["mpa"]
    assert cohort.text_codes("immunosuppressant")[1] == ["mycophenolate"]


def test_what_if_plan_waits_for_the_brand_named_drugs_own_washout() -> None:
    """The CP-SAT plan sees the same name: rituximab's 5 x 22 days from its last dose."""
    trial = load_trials()["NCT06920433"]
    last_dose = AS_OF - dt.timedelta(days=60)
    plans = []
    for name in ("rituximab", "Rituxan", "MabThera"):
        patient = {**ELIGIBLE_SLE, "other_biologic": name, "other_biologic_last_dose": str(last_dose)}
        cohort = cohort_from_records([{**patient, "patient_id": "p1"}])
        plans.append(plan(Context(cohort, AS_OF, effective_facts(trial)), trial, 0, 180))
    assert {p.earliest_date for p in plans} == {last_dose + dt.timedelta(days=110)}


def test_an_unknown_biologic_is_not_taken_for_not_belimumab() -> None:
    """NCT06983964.excl.9: belimumab within 3 weeks. An unknown name 10 days back may be belimumab."""
    from test_review_NCT06983964 import LUPUS_WOMAN

    def screened(name: str) -> tuple[str, list[str], list[str]]:
        return verdict("NCT06983964", {**LUPUS_WOMAN, "other_biologic": name, "other_biologic_last_dose": ago(days=10)})

    assert screened("Zyxolimab")[0] == "unknown"
    assert "other_biologic" in screened("Zyxolimab")[2]
    assert screened("Benlysta") == ("ineligible", ["NCT06983964.excl.9"], [])
    assert screened("abatacept") == ("eligible", [], [])
    trial = load_trials()["NCT06983964"]
    cohort = cohort_from_records(
        [{**LUPUS_WOMAN, "patient_id": "p1", "other_biologic": "Zyxolimab", "other_biologic_last_dose": ago(days=10)}]
    )
    result = plan(Context(cohort, AS_OF, effective_facts(trial)), trial, 0, 180)
    assert result.status_now == "unknown"


def test_a_named_drug_with_a_never_last_dose_asks_for_the_date_in_words() -> None:
    """NCT06920433.excl.14: the name records a stopped drug, so `never` contradicts it (the `dated` leaf)."""
    from matcher import api

    patient = {**ELIGIBLE_SLE, "patient_id": "p1", "stopped_immunosuppressant": "Imuran"}
    patient["immunosuppressant_last_dose"] = "never"
    import pandas as pd

    row = api.screen(pd.DataFrame([patient]), as_of=AS_OF, trials=["NCT06920433"]).iloc[0]
    assert (row["status"], list(row["missing"])) == ("unknown", ["immunosuppressant_last_dose"])
    assert "never, which the rest of the record contradicts: record the date" in row["reason"]


@pytest.mark.parametrize(
    ("column", "name", "days", "long_after"),
    [
        ("anti_cd20", "mycophenolate", 30, "eligible"),
        ("anti_cd20", "belimumab", 100, "eligible"),
        ("other_biologic", "mycophenolate", 30, "unknown"),
    ],
)
def test_a_known_drug_outside_the_columns_class_does_not_wash_out_by_its_own_half_life(
    column: str, name: str, days: int, long_after: str
) -> None:
    """Review of NCT06821659, round 4: mycophenolate recorded as the anti-CD20 antibody 30 days back passed.

    The record contradicts itself, so the washout is decided only where the named drug and every drug of
    the class agree: unknown with the name to check until the slowest of them (obinutuzumab, 142 days) is out.
    Biologics are an open class (facts.yaml ``open_drug_classes``): no bound stands in for the biologic the
    column should name, so that washout stays unknown, and the reason says what to correct.
    """
    from test_NCT06821659 import ELIGIBLE_SLE as BASE

    name_column = "anti_cd20_drug" if column == "anti_cd20" else column
    patient = {**BASE, name_column: name, f"{column}_last_dose": ago(days=days)}
    assert verdict("NCT06821659", patient) == ("unknown", [], [name_column])
    assert verdict("NCT06821659", {**patient, f"{column}_last_dose": ago(days=200)})[0] == long_after
    if long_after == "unknown":
        import pandas as pd

        from matcher import api

        later = {**patient, "patient_id": "p1", f"{column}_last_dose": ago(days=200)}
        row = api.screen(pd.DataFrame([later]), as_of=AS_OF, trials=["NCT06821659"]).iloc[0]
        assert f"{name} is not a biologic: correct {name_column}" in row["reason"]


@pytest.mark.parametrize(
    ("name_column", "date_column"),
    [
        ("anti_cd20_drug", "anti_cd20_last_dose"),
        ("other_biologic", "other_biologic_last_dose"),
    ],
)
@pytest.mark.parametrize("trial_id", ["NCT06821659", "NCT06920433"])
def test_a_biologic_recorded_by_its_class_is_never_washed_out(
    trial_id: str, name_column: str, date_column: str
) -> None:
    """Review round 17 (SAFETY): "biologic" written as the drug was washed out by the listed biologics' 142 days
    (ravulizumab needs about 249); the class is open, so the name settles nothing and the reason asks for it.  In
    stopped_immunosuppressant the row is invalid (round 18: tests/test_cohort_loader.py)."""
    import pandas as pd

    from matcher import api

    base = importlib.import_module(f"test_{trial_id}").ELIGIBLE_SLE
    patient = {**base, "patient_id": "p1", name_column: "Biologic", date_column: ago(days=400)}
    row = api.screen(pd.DataFrame([patient]), as_of=AS_OF, trials=[trial_id]).iloc[0]
    assert row["status"] == "unknown"
    assert f"biologic names a class of drugs: record the drug in {name_column}" in row["reason"]


def test_chloroquine_is_an_antimalarial_the_facts_know() -> None:
    """NCT06920433.excl.14 exempts antimalarials; chloroquine (Aralen) stopped yesterday passes like HCQ."""
    for name in ("chloroquine", "Aralen", "Plaquenil"):
        patient = {**ELIGIBLE_SLE, "stopped_immunosuppressant": name, "immunosuppressant_last_dose": ago(days=1)}
        assert verdict("NCT06920433", patient) == ("eligible", [], []), name


@pytest.mark.parametrize("trial_id", ["NCT06821659", "NCT06920433"])
def test_a_stopped_drug_the_tool_does_not_know_with_a_never_last_dose_is_unknown(trial_id: str) -> None:
    """Round 6 (SAFETY): adalimumab recorded as stopped with a `never` last dose passed, because a name the facts
    do not know was taken as no name; the name is recorded, and the date is to record."""
    from test_NCT06821659 import ELIGIBLE_SLE as BASE_821659

    base = BASE_821659 if trial_id == "NCT06821659" else ELIGIBLE_SLE
    patient = {**base, "other_biologic": "adalimumab", "other_biologic_last_dose": "never"}
    status, failed, missing = verdict(trial_id, patient)
    assert (status, failed) == ("unknown", []) and "other_biologic_last_dose" in missing


@pytest.mark.parametrize(
    ("changes", "advice"),
    [
        (
            {"stopped_immunosuppressant": "cyclophosphamide", "immunosuppressant_last_dose": ago(days=3)},
            "by the drug: cyclophosphamide is not a conventional immunosuppressant: correct stopped_immunosuppressant",
        ),
        (
            {"anti_cd20_drug": "veltuzumab", "anti_cd20_last_dose": ago(days=100)},
            "the facts hold no half-life for veltuzumab: add it to the site facts, or correct anti_cd20_drug",
        ),
        # review 81 m4: a biologic the facts know that is not an anti-CD20 was told to have a half-life added
        (
            {"anti_cd20_drug": "ianalumab", "anti_cd20_last_dose": ago(days=100)},
            "ianalumab is not an anti cd20: correct anti_cd20_drug",
        ),
        (
            {"anti_cd20_drug": "", "anti_cd20_last_dose": ago(days=100)},
            "ends between 2026-11-03 and 2027-01-04, by the drug: record anti_cd20_drug",
        ),
    ],
)
def test_an_undecided_washout_says_what_settles_it(changes: dict, advice: str) -> None:
    """Review round 12 (NCT06920433, F5): "record stopped_immunosuppressant" was said of a name already recorded."""
    import pandas as pd

    from matcher import api

    patient = {**ELIGIBLE_SLE, "patient_id": "p1", **changes}
    row = api.screen(pd.DataFrame([patient]), as_of=AS_OF, trials=["NCT06920433"]).iloc[0]
    assert row["status"] == "unknown"
    assert advice in row["reason"]


def test_a_site_adds_a_biologic_with_its_half_life(site_facts: Callable[[str], Path]) -> None:
    """Biologics are an open class: an unlisted one is never decided (round 12) until the site's facts add it to
    the class with its half-life (secukinumab 27 d -> 135 days); a half-life alone leaves it outside the class,
    so the record still contradicts itself (round 13). In the stopped conventional column, once a biologic the
    facts know, it makes the row invalid, naming other_biologic (round 17)."""
    from matcher.facts import default_facts

    other = {**ELIGIBLE_SLE, "other_biologic": "Secukinumab"}
    stopped = {**ELIGIBLE_SLE, "stopped_immunosuppressant": "secukinumab"}
    for text, at_135 in [
        ("half_lives_days: {secukinumab: 27}\n", "unknown"),
        ("half_lives_days: {secukinumab: 27}\ndrug_classes: {biologic: [secukinumab]}\n", "eligible"),
    ]:
        site_facts(text)
        assert verdict("NCT06920433", {**other, "other_biologic_last_dose": ago(days=135)})[0] == at_135
    assert "abatacept" in default_facts().drug_classes["biologic"]  # the site extends the class
    excluded = verdict("NCT06920433", {**other, "other_biologic_last_dose": ago(days=134)})
    assert excluded == ("ineligible", ["NCT06920433.excl.14"], [])
    assert verdict("NCT06920433", {**stopped, "immunosuppressant_last_dose": ago(days=142)})[0] == "invalid"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("half_lives_days: {rituximab: 2}\n", "half_lives_days.rituximab: 2 days is shorter than the bundled 22.0"),
        ("half_lives_days: {secukinumab: 0}\n", "half_lives_days.secukinumab: Input should be greater than 0"),
        ("half_lives_days: {secukinumab: -5}\n", "half_lives_days.secukinumab: Input should be greater than 0"),
        ("drug_names: {spellings: {telitacicept: [Benlysta]}}\n", "'Benlysta' (telitacicept) names 'belimumab'"),
        (
            "drug_names: {spellings: {telitacicept: [tocilizumab]}}\n",
            "'tocilizumab' (telitacicept) names 'tocilizumab'",
        ),
        ("drug_names: {spellings: {dexamethasone: [betamethasone]}}\n", "(dexamethasone) names 'betamethasone'"),
        (
            "drug_names: {spellings: {hydroxychloroquine: [none]}}\n",
            "'none' (hydroxychloroquine): a drug's name, not a class, `none` or a word without letters",
        ),
        # review round 14: a quoted number, a class's half-life, a drug moved between classes, an equivalence
        ('half_lives_days: {rituximab: "1"}\n', "half_lives_days.rituximab: 1 days is shorter than the bundled 22.0"),
        (
            "half_lives_days: {anti_cd20: 1}\n",
            "'anti_cd20' (anti_cd20): a drug's name, not a class, `none` or a word without letters",
        ),
        ("drug_classes: {anti_cd20: [mycophenolate]}\n", "drug_classes.anti_cd20: mycophenolate is a drug the bundled"),
        ("steroid_equivalent_mg: {dexamethasone: 5}\n", "steroid_equivalent_mg: not a site's to change"),
        # review round 15: a set in place of a list, a code spelled as another, a spelling naming another drug
        ("drug_classes: {anti_cd20: !!set {rituximab}}\n", "drug_classes.anti_cd20: a list of entries to add"),
        ("open_drug_classes: !!set {}\n", "open_drug_classes: not a site's to change"),
        ("spellings: {lupus_nephritis_class: {IV: [ii]}}\n", "spellings: not a site's to change"),
        ("drug_names: {spellings: {hydroxychloroquine: [rituximab 500 mg]}}\n", "names 'rituximab'"),
        ("half_lives_days: {secukinumab: .inf}\n", "half_lives_days.secukinumab: Input should be a finite number"),
        ("drug_names: {class_of_column: {other_biologic: anti_cd20}}\n", "drug_names: a site may set only spellings"),
        # review round 16: a brand name inside a spelling, a salt of another drug, a new drug named after a known
        # one, a column made a drug column, the what-if change model, a taper with no band at low doses
        ("drug_names: {spellings: {ofatumumab: [mabthera sc]}}\n", "'mabthera sc' (ofatumumab) names 'rituximab'"),
        (
            "drug_names: {spellings: {hydroxychloroquine: [chloroquine diphosphate]}}\n",
            "'chloroquine diphosphate' (hydroxychloroquine) names 'chloroquine'",
        ),
        ("half_lives_days: {prednisone acetate: 50}\n", "'prednisone acetate' (prednisone acetate) names 'prednisone'"),
        ("drug_names: {columns: [malignancy_type]}\n", "drug_names: a site may set only spellings"),
        ("change: {administrative: [{column: treatment_failure, name: x}]}\n", "change: not a site's to change"),
        ("taper_schedule: [{above: 40, step_mg: 10, every_days: 7}]\n", "taper_schedule: no band applies"),
        ("half_lives_days: {rituximab: 1.0e300}\n", "half_lives_days.rituximab: Input should be less than or equal"),
        # review round 17: a class, `none` or a dash as a drug; a known drug with no class added to one; a name cut
        # apart by taking the drug's own names out; Unicode look-alikes; an abbreviation; practice out of bounds
        (
            "drug_names: {spellings: {biologic: [ravulizumab]}}\n",
            "'biologic' (biologic): a drug's name, not a class, `none` or a word without letters",
        ),
        (
            "drug_names: {spellings: {none: [unknown]}}\n",
            "'none' (none): a drug's name, not a class, `none` or a word without letters",
        ),
        (
            "drug_classes: {biologic: [biologic]}\n",
            "'biologic' (biologic): a drug's name, not a class, `none` or a word without letters",
        ),
        (
            'drug_names: {spellings: {ofatumumab: ["-"]}}\n',
            "'-' (ofatumumab): a drug's name, not a class, `none` or a word without letters",
        ),
        ("drug_classes: {anti_cd20: [cyclophosphamide]}\n", "anti_cd20: cyclophosphamide is a drug the bundled"),
        ("drug_classes: {biologic: [ivig]}\n", "drug_classes.biologic: ivig is a drug the bundled facts know"),
        (
            "drug_names: {spellings: {mycophenolate: [campath 1h]}}\n",
            "'campath 1h' (mycophenolate) names 'alemtuzumab'",
        ),
        (
            'drug_names: {spellings: {ofatumumab: ["'
            + "".join(chr(0xFEE0 + ord(letter)) for letter in "rituximab")  # full-width letters
            + '"]}}\n',
            "names 'rituximab'",
        ),
        ('drug_names: {spellings: {ofatumumab: ["ritu\\u200bximab"]}}\n', "names 'rituximab'"),
        ('drug_names: {spellings: {ofatumumab: ["ritu\\u00adximab"]}}\n', "names 'rituximab'"),
        ('drug_names: {spellings: {ofatumumab: ["ritu\\u2013ximab"]}}\n', "names 'rituximab'"),
        ('drug_names: {spellings: {ofatumumab: ["ritu.ximab"]}}\n', "names 'rituximab'"),
        ('drug_names: {spellings: {ofatumumab: ["ritu\\u0301ximab"]}}\n', "names 'rituximab'"),
        ('drug_names: {spellings: {ofatumumab: ["r\\u0456tuximab"]}}\n', "mixes Latin letters with look-alikes"),
        ("drug_names: {spellings: {ofatumumab: [ritux]}}\n", "'ritux' (ofatumumab) names 'rituximab'"),
        ("drug_names: {spellings: {hydrocortisone: [methylpred]}}\n", "names 'methylprednisolone'"),
        (
            "taper_schedule: [{above: .nan, step_mg: 10, every_days: 7}]\n",
            "taper_schedule.0.above: Input should be a finite",
        ),
        (
            "taper_schedule: [{above: 0, step_mg: .inf, every_days: 7}]\n",
            "taper_schedule.0.step_mg: Input should be a finite",
        ),
        (
            "action_burden_days: {taper_step: -3}\n",
            "action_burden_days.taper_step: Input should be greater than or equal",
        ),
        (
            "action_burden_days: {taper_step: 100000000000000000000}\n",
            "action_burden_days.taper_step: Input should be less",
        ),
        ("action_burden_days: {taperstep: 0}\n", "action_burden_days.taperstep: not one of"),
        ("half_lives_days: null\n", "half_lives_days: a mapping of entries"),
        (
            "drug_names: {spellings: {other_b_cell_depletion: [ravulizumab]}}\n",
            "drug_names.spellings.other_b_cell_depletion: spell a drug the facts know, or give it a half-life",
        ),
        ("half_lives_days: [1, 2]\n", "half_lives_days: a mapping of entries"),
        # review round 18: a null or !!binary drug name crashed the loader or passed its checks as bytes
        ("drug_classes: {anti_cd20: [null]}\n", "None (None): a drug's name is text"),
        ('drug_names: {spellings: {ofatumumab: ["r\\u0131tuximab"]}}\n', "mixes Latin letters with look-alikes"),
        ('drug_names: {spellings: {ofatumumab: ["ritu\\u3164ximab"]}}\n', "names 'rituximab'"),
        ("drug_names: {spellings: {ofatumumab: [ritux 1g]}}\n", "'ritux 1g' (ofatumumab) names 'rituximab'"),
        ("drug_names: {spellings: {ofatumumab: [!!binary cml0dXhpbWFi]}}\n", "a drug's name is text"),
        # (the names are biologics the bundled facts do not know; the reviews' own examples are known since review 72)
        # review round 20 (S3): a biologic the facts lack, put in the conventional class, passed NCT06983964 stopped
        # 10 days back (it reads each biologic's own column); the message no longer ends "Value error, ..."
        (
            "half_lives_days: {guselkumab: 14}\ndrug_classes: {conventional_immunosuppressant: [guselkumab]}\n",
            "MATCHER_SITE_FACTS={site}: immunosuppressant takes guselkumab, named as a biologic (its name holds an"
            " INN stem of biologic_name_stems): a biologic belongs in the biologic class, and the cohort records it"
            " in other_biologic",
        ),
        ("drug_classes: {conventional_immunosuppressant: [Some-Cept]}\n", "takes Some-Cept, named as a biologic"),
        # review round 21 (SAFETY): a suffix after the INN, or an antibody as a conventional drug's spelling, passed
        (
            "half_lives_days: {dostarlimab-gxly: 28}\n"
            "drug_classes: {conventional_immunosuppressant: [dostarlimab-gxly]}\n",
            "immunosuppressant takes dostarlimab-gxly, named as a biologic",
        ),
        (
            "drug_classes: {conventional_immunosuppressant: [loncastuximab tesirine]}\n",
            "takes loncastuximab tesirine, named as a biologic",
        ),
        (
            "drug_names: {spellings: {mycophenolate: [guselkumab]}}\n",
            "drug_names.spellings.mycophenolate: 'guselkumab' is named as a biologic (it holds an INN stem of"
            " biologic_name_stems): a biologic is no spelling of a conventional drug; the cohort records it in"
            " other_biologic",
        ),
        ("drug_names: {spellings: {azathioprine: [guselkumab sc]}}\n", "'guselkumab sc' is named as a biologic"),
        # review round 22 (SAFETY): a Unicode hyphen or a joined suffix hid the stem; the stems since 2021
        (
            'drug_classes: {conventional_immunosuppressant: ["dostarlimab\\u2010gxly"]}\n',
            "immunosuppressant takes dostarlimab\u2010gxly, named as a biologic",
        ),
        ("drug_classes: {conventional_immunosuppressant: [dostarlimabgxly]}\n", "takes dostarlimabgxly, named as a"),
        ("drug_classes: {conventional_immunosuppressant: [pasritamig]}\n", "takes pasritamig, named as a biologic"),
        ("drug_names: {spellings: {hydroxychloroquine: [pasritamig]}}\n", "'pasritamig' is named as a biologic"),
        ("drug_names: {spellings: {mycophenolate: [guselkumabsc]}}\n", "'guselkumabsc' is named as a biologic"),
        # review round 23 (SAFETY): a biologic named in the site's own language
        ("drug_names: {spellings: {mycophenolate: [\u5229\u59a5\u6614\u5355\u6297]}}\n", "is named as a biologic"),
        ("drug_names: {spellings: {mycophenolate: [\u30ea\u30c4\u30ad\u30b7\u30de\u30d6]}}\n", "is named as a"),
        (
            "drug_names: {spellings: {mycophenolate: "
            "[\u0440\u0438\u0442\u0443\u043a\u0441\u0438\u043c\u0430\u0431]}}\n",
            "is named as a",
        ),
        ("drug_classes: {conventional_immunosuppressant: [\u6cf0\u5b83\u897f\u666e]}\n", "named as a biologic"),
        # review round 24: the long Chinese forms, the Japanese kanji, a CAR-T ending, Greek and Arabic
        (
            "drug_names: {spellings: {mycophenolate: [\u5229\u59a5\u6614\u5355\u514b\u9686\u6297\u4f53]}}\n",
            "named as a",
        ),
        ("drug_names: {spellings: {mycophenolate: [\u5229\u59a5\u6614\u5358\u6297]}}\n", "is named as a biologic"),
        ("drug_classes: {conventional_immunosuppressant: [\u963f\u57fa\u4ed1\u8d5b]}\n", "named as a biologic"),
        (
            "drug_names: {spellings: {mycophenolate: "
            "[\u03c1\u03b9\u03c4\u03bf\u03c5\u03be\u03b9\u03bc\u03ac\u03bc\u03c0\u03b7]}}\n",
            "named as a",
        ),
        (
            "drug_names: {spellings: {mycophenolate: "
            "[\u0631\u064a\u062a\u0648\u0643\u0633\u064a\u0645\u0627\u0628]}}\n",
            "named as a",
        ),
        # review round 25 (m1): a Chinese fusion protein's descriptive name, -leucel in Japanese, Russian and Korean,
        # -mab in Hebrew, Thai and Hindi
        (
            "drug_names: {spellings: {mycophenolate: "
            "[\u80bf\u7624\u574f\u6b7b\u56e0\u5b50\u53d7\u4f53-\u6297\u4f53\u878d\u5408\u86cb\u767d]}}\n",
            "is named as a biologic",
        ),
        (
            "drug_names: {spellings: {mycophenolate: "
            "[\u30c1\u30b5\u30b2\u30f3\u30ec\u30af\u30eb\u30e6\u30fc\u30bb\u30eb]}}\n",
            "is named as a biologic",
        ),
        (
            "drug_names: {spellings: {mycophenolate: "
            "[\u0442\u0438\u0441\u0430\u0433\u0435\u043d\u043b\u0435\u043a\u043b\u0435\u0439\u0446\u0435\u043b]}}\n",
            "is named as a biologic",
        ),
        (
            "drug_names: {spellings: {mycophenolate: [\ud2f0\uc0ac\uc820\ub809\ub958\uc140]}}\n",
            "is named as a biologic",
        ),
        (
            "drug_names: {spellings: {mycophenolate: "
            "[\u05e8\u05d9\u05d8\u05d5\u05e7\u05e1\u05d9\u05de\u05d0\u05d1]}}\n",
            "is named as a biologic",
        ),
        (
            "drug_names: {spellings: {mycophenolate: [\u0e23\u0e34\u0e17\u0e39\u0e0b\u0e34\u0e41\u0e21\u0e1a]}}\n",
            "is named as a biologic",
        ),
        (
            "drug_names: {spellings: {mycophenolate: "
            "[\u0930\u093f\u091f\u0915\u094d\u0938\u093f\u092e\u0948\u092c]}}\n",
            "is named as a biologic",
        ),
        # review round 26 (m1): -cept in Hebrew, Thai, Hindi, Arabic and Greek; -leucel in Thai, Hindi and Russian's
        # other spelling; -mab in Hebrew without alef and Hindi with the long a
        (
            "drug_names: {spellings: {mycophenolate: [\u05d0\u05d1\u05d8\u05e1\u05e4\u05d8]}}\n",
            "is named as a biologic",
        ),
        (
            "drug_names: {spellings: {mycophenolate: [\u05e8\u05d9\u05d8\u05d5\u05e7\u05e1\u05d9\u05de\u05d1]}}\n",
            "is named as a biologic",
        ),
        (
            "drug_names: {spellings: {mycophenolate: "
            "[\u0e2d\u0e30\u0e1a\u0e32\u0e17\u0e32\u0e40\u0e0b\u0e1b\u0e15\u0e4c]}}\n",
            "is named as a biologic",
        ),
        (
            "drug_names: {spellings: {mycophenolate: "
            "[\u0e17\u0e34\u0e0b\u0e32\u0e40\u0e08\u0e19\u0e40\u0e25\u0e04\u0e25\u0e34\u0e27\u0e40\u0e0b\u0e25]}}\n",
            "is named as a biologic",
        ),
        (
            "drug_names: {spellings: {mycophenolate: "
            "[\u090f\u092c\u093e\u091f\u093e\u0938\u0947\u092a\u094d\u091f]}}\n",
            "is named as a biologic",
        ),
        (
            "drug_names: {spellings: {mycophenolate: "
            "[\u0930\u093f\u091f\u0941\u0915\u094d\u0938\u093f\u092e\u093e\u092c]}}\n",
            "is named as a biologic",
        ),
        (
            "drug_names: {spellings: {mycophenolate: "
            "[\u091f\u093f\u0938\u093e\u091c\u0947\u0928\u0932\u0947\u0915\u094d\u0932\u094d\u092f\u0942\u0938\u0947\u0932]}}\n",
            "is named as a biologic",
        ),
        (
            "drug_names: {spellings: {mycophenolate: [\u0623\u0628\u0627\u062a\u0627\u0633\u064a\u0628\u062a]}}\n",
            "is named as a biologic",
        ),
        (
            "drug_names: {spellings: {mycophenolate: "
            "[\u03b1\u03bc\u03c0\u03b1\u03c4\u03b1\u03c3\u03ad\u03c0\u03c4\u03b7]}}\n",
            "is named as a biologic",
        ),
        (
            "drug_names: {spellings: {mycophenolate: "
            "[\u0442\u0438\u0441\u0430\u0433\u0435\u043d\u043b\u0435\u043a\u043b\u0435\u0443\u0446\u0435\u043b]}}\n",
            "is named as a biologic",
        ),
        # review round 27 (m1): -leucel in Arabic, Greek and Hebrew; -cept in Persian
        (
            "drug_names: {spellings: {mycophenolate: "
            "[\u062a\u064a\u0633\u0627\u062c\u064a\u0646\u0644\u064a\u0643\u0644\u0648\u0633\u064a\u0644]}}\n",
            "is named as a biologic",
        ),
        (
            "drug_names: {spellings: {mycophenolate: "
            "[\u03c4\u03b9\u03c3\u03b1\u03b3\u03ba\u03b5\u03bd\u03bb\u03b5\u03ba\u03bb\u03b5\u03c5\u03c3\u03ad\u03bb\u03b7]}}\n",
            "is named as a biologic",
        ),
        (
            "drug_names: {spellings: {mycophenolate: "
            "[\u05d8\u05d9\u05e1\u05d2\u05e0\u05dc\u05e7\u05dc\u05d0\u05d5\u05e1\u05dc]}}\n",
            "is named as a biologic",
        ),
        (
            "drug_names: {spellings: {mycophenolate: [\u0622\u0628\u0627\u062a\u0627\u0633\u067e\u062a]}}\n",
            "is named as a biologic",
        ),
        # review round 22 (SAFETY): an abbreviation joined to a route or form word ("rtxsc") spells the cell
        # "RTX SC", as cells are matched without spaces; so a name holding one is refused, cycloserine too
        (
            "half_lives_days: {mizoribine: 0.2}\ndrug_names: {spellings: {mizoribine: [aza 50]}}\n",
            "names 'azathioprine'",
        ),
        ("half_lives_days: {mizoribine: 0.2}\ndrug_names: {spellings: {mizoribine: [rtxsc]}}\n", "names 'rituximab'"),
        (
            "half_lives_days: {mizoribine: 0.2}\ndrug_names: {spellings: {mizoribine: [mtxoral]}}\n",
            "names 'methotrexate'",
        ),
        ("half_lives_days: {cycloserine: 0.5}\n", "'cycloserine' (cycloserine) names 'cyclophosphamide'"),
        ("drug_names: {spellings: {ofatumumab: [rtx1g]}}\n", "'rtx1g' (ofatumumab) names 'rituximab'"),
        ('drug_names: {spellings: {ofatumumab: ["c y c"]}}\n', "'c y c' (ofatumumab) names 'cyclophosphamide'"),
    ],
)
def test_a_site_cannot_shorten_a_washout(site_facts: Callable[[str], Path], text: str, message: str) -> None:
    """Review round 13 (SAFETY): a site file set rituximab's half-life to 2 days (rituximab 50 days back passed),
    or secukinumab's to 0 (given yesterday, passed). A site may add a half-life or lengthen one, never shorten;
    nor may it spell one drug as another with a shorter half-life."""
    from matcher.errors import FactsError
    from matcher.facts import default_facts

    site = site_facts(text)
    with pytest.raises(FactsError, match=re.escape(message.format(site=site))):
        default_facts()


def test_a_site_spells_a_conventional_drug_by_its_own_brands(site_facts: Callable[[str], Path]) -> None:
    """The biologic check of a conventional drug's spellings (round 21) reads INN endings, not brands: CellCept ends
    in -cept, and a site may write it with a strength, or name the drug in its own language."""
    from matcher.facts import default_facts

    site_facts(
        "drug_names: {spellings: {mycophenolate: "
        "[cellcept 500, mycept 500, myfenax, \u5417\u66ff\u9ea6\u8003\u915a\u916f]}}\n"
    )
    names = ["CellCept 500", "Mycept 500", "Myfenax", "\u5417\u66ff\u9ea6\u8003\u915a\u916f"]
    assert (
        default_facts().canonical_names("immunosuppressant", [name.lower() for name in names]) == ["mycophenolate"] * 4
    )


@pytest.mark.parametrize(("column", "dose", "days"), [("anti_cd20_drug", "anti_cd20_last_dose", 142)])
def test_a_spelling_a_site_adds_gives_no_half_life(
    site_facts: Callable[[str], Path], column: str, dose: str, days: int
) -> None:
    """Review round 14 (SAFETY): once a site spelled secukinumab (Cosentyx) or ravulizumab (Ultomiris), the names
    were known, so a stopped secukinumab took the conventional drugs' 95 days and ravulizumab as the anti-CD20
    antibody the class's 142; with no half-life of its own either may be any biologic, and stays undecided.  A
    site now gives a new drug it spells a half-life (round 17); a known biologic without one (daratumumab) that
    a site spells stays undecided the same way as the anti-CD20 antibody (in the stopped conventional column a
    biologic the facts know makes the row invalid, round 17)."""
    site_facts("drug_names: {spellings: {daratumumab: [dzx 1]}}\n")
    for name in ("Darzalex", "DZX-1"):
        patient = {**ELIGIBLE_SLE, column: name, dose: ago(days=days)}
        assert verdict("NCT06920433", patient) == ("unknown", [], [column]), name


@pytest.mark.parametrize(
    ("trial_id", "patient", "expected"),
    [
        # NCT06821659 lets a conventional drug continue; NCT06920433 excludes one taken in the last 30 days (excl.14)
        ("NCT06821659", {"immunosuppressant": "{cell}", "immunosuppressant_start_date": ago(days=200)}, "eligible"),
        ("NCT06920433", {"immunosuppressant": "{cell}", "immunosuppressant_start_date": ago(days=200)}, "ineligible"),
    ],
)
@pytest.mark.parametrize("cell", ["azathioprine (Imuran)", "Imuran (azathioprine)", "azathioprine,"])
def test_a_drug_with_its_brand_is_screened_as_the_drug(
    trial_id: str, patient: dict[str, str], expected: str, cell: str
) -> None:
    """Review round 20 (N1): the loader accepted "azathioprine (Imuran)" as one drug, but both trials read it as a
    name they did not know (unknown, "measure immunosuppressant")."""
    from test_NCT06821659 import ELIGIBLE_SLE as ELIGIBLE_1659

    base = ELIGIBLE_1659 if trial_id == "NCT06821659" else ELIGIBLE_SLE
    row = {**base, **{column: value.format(cell=cell) for column, value in patient.items()}}
    plain = {**row, "immunosuppressant": "azathioprine"}
    assert verdict(trial_id, row) == verdict(trial_id, plain)
    assert verdict(trial_id, row)[0] == expected


@pytest.mark.parametrize("trial_id", ["NCT06821659", "NCT06920433"])
def test_a_stopped_drug_with_its_brand_keeps_its_washout(trial_id: str) -> None:
    """Review round 20 (N1): leflunomide (Arava) stopped 10 days back was unknown; as leflunomide (5 x 19 days) it
    is still in its washout."""
    from test_NCT06821659 import ELIGIBLE_SLE as ELIGIBLE_1659

    base = ELIGIBLE_1659 if trial_id == "NCT06821659" else ELIGIBLE_SLE
    row = {**base, "stopped_immunosuppressant": "leflunomide (Arava)", "immunosuppressant_last_dose": ago(days=10)}
    status, failed, missing = verdict(trial_id, row)
    assert (status, missing) == ("ineligible", [])
    assert verdict(trial_id, {**row, "stopped_immunosuppressant": "leflunomide"})[1] == failed


def test_a_site_extends_classes_and_spellings(site_facts: Callable[[str], Path]) -> None:
    """Review round 13: a site's own spelling list wiped every bundled one (MMF, Plaquenil, Benlysta), and an empty
    class list would drop the class's members. Such lists are extended, not replaced."""
    from matcher.facts import default_facts

    site_facts("drug_classes: {biologic: []}\ndrug_names: {spellings: {belimumab: [belimumab-xyz]}}\n")
    facts = default_facts()
    assert "abatacept" in facts.drug_classes["biologic"]
    assert facts.canonical_names("other_biologic", ["benlysta", "belimumab-xyz"]) == ["belimumab"] * 2
    assert verdict("NCT06920433", {**ELIGIBLE_SLE, "other_biologic_last_dose": ago(days=200)})[0] == "unknown"


ON_MYCOPHENOLATE = {**ELIGIBLE_SLE, "immunosuppressant": "mycophenolate", "immunosuppressant_start_date": "2024-01-01"}


def plan_of_row(trial_id: str, row: dict[str, Any]) -> Plan:
    """The 180-day plan of one patient's row for one trial, on the as-of date."""
    trial = load_trials()[trial_id]
    cohort = cohort_from_records([{"patient_id": "p1", **row}])
    return plan(Context(cohort, AS_OF, effective_facts(trial)), trial, 0, 180)


def test_a_plan_that_ends_undecided_does_not_say_the_criteria_are_met() -> None:
    """Review round 12 (NCT06821659, S2): a stopped drug unnamed a day after its last dose was planned as "the
    criteria are met from 2026-11-24", the first day the class's fastest drug (azathioprine) is washed out; the
    plan ends undecided, with the name to record, so the words say no criterion fails from then, and when the
    washout ends by the drug (review round 16: a date, not a range, read as the end of the washout)."""
    from test_NCT06821659 import ELIGIBLE_SLE as BASE

    row = {**BASE, "patient_id": "p1", "stopped_immunosuppressant": "", "immunosuppressant_last_dose": ago(days=1)}
    result = plan_of_row("NCT06821659", row)
    assert (result.earliest_date, result.status_at_plan, result.missing) == (
        dt.date(2026, 11, 24),
        "unknown",
        ["stopped_immunosuppressant"],
    )
    assert [action.note for action in result.actions] == [
        "no criterion fails from 2026-11-24; undecided then: "
        "stopped immunosuppressant last given 2026-11-22; the 5-half-life washout"
        " ends between 2026-11-24 and 2027-02-25, by the drug: record stopped_immunosuppressant"
    ]


def test_a_plan_with_a_step_that_ends_undecided_gives_the_washout_range_too() -> None:
    """Review round 19 (M1): the range by the drug was given only to a plan of waiting alone; with a pregnancy test
    to repeat as well, the plan said nothing of the washout it ends undecided on."""
    from test_NCT06821659 import ELIGIBLE_SLE as BASE

    row = {
        **BASE,
        "stopped_immunosuppressant": "",
        "immunosuppressant_last_dose": ago(days=1),
        "pregnancy_test_negative_date": ago(days=30),
    }
    result = plan_of_row("NCT06821659", row)
    assert (result.earliest_date, result.status_at_plan) == (dt.date(2026, 11, 24), "unknown")
    assert [(action.action, action.column) for action in result.actions] == [
        ("repeat_test", "pregnancy_test_negative_date"),
        ("wait", ""),
    ]
    assert result.actions[1].note == (
        "no criterion fails from 2026-11-24; undecided then: "
        "stopped immunosuppressant last given 2026-11-22; the 5-half-life washout"
        " ends between 2026-11-24 and 2027-02-25, by the drug: record stopped_immunosuppressant"
    )


def test_a_plan_with_steps_gives_the_range_of_a_washout_undecided_today() -> None:
    """Review round 22 (M1): an unnamed drug stopped 30 days back is undecided today (azathioprine is washed out,
    leflunomide is not); a plan with a taper and a test gave no range, and the plan date fell inside a
    leflunomide washout."""
    from test_NCT06821659 import ELIGIBLE_SLE as BASE

    row = {
        **BASE,
        "glucocorticoid_mg_day": "40",
        "stopped_immunosuppressant": "",
        "immunosuppressant_last_dose": ago(days=30),
    }
    result = plan_of_row("NCT06821659", row)
    assert (result.earliest_date, result.status_at_plan) == (dt.date(2026, 12, 7), "unknown")
    assert [action.action for action in result.actions] == ["taper_glucocorticoid", "repeat_test", "wait"]
    assert result.actions[-1].note == (
        "no criterion fails from 2026-12-07; undecided then: "
        "stopped immunosuppressant last given 2026-10-24; the 5-half-life washout"
        " ends between 2026-10-26 and 2027-01-27, by the drug: record stopped_immunosuppressant"
    )


@pytest.mark.parametrize(
    ("changes", "actions", "note"),
    [
        # review round 23: a withheld drug's washout is read as recorded (the step gave no range), and a plan
        # dated today with a step gives the range too
        (
            {"anti_cd20_drug": "", "anti_cd20_last_dose": ago(days=60)},
            ["withhold_drug", "repeat_test", "wait"],
            "no criterion fails from 2026-12-13; undecided then: "
            "anti-CD20 antibody last given 2026-09-24; the 5-half-life washout"
            " ends between 2026-12-13 and 2027-02-13, by the drug: record anti_cd20_drug",
        ),
        (
            {
                "stopped_immunosuppressant": "",
                "immunosuppressant_last_dose": ago(days=30),
                "pregnancy_test_negative_date": ago(days=30),
            },
            ["repeat_test", "wait"],
            "no criterion fails from 2026-11-23; undecided then: "
            "stopped immunosuppressant last given 2026-10-24; the 5-half-life"
            " washout ends between 2026-10-26 and 2027-01-27, by the drug: record stopped_immunosuppressant",
        ),
    ],
)
def test_a_plan_with_a_withhold_or_dated_today_gives_the_washout_range(
    changes: dict[str, str], actions: list[str], note: str
) -> None:
    from test_NCT06821659 import ELIGIBLE_SLE as BASE

    row = {**BASE, "patient_id": "p1", **changes}
    result = plan_of_row("NCT06821659", row)
    assert result.status_at_plan == "unknown"
    assert [action.action for action in result.actions] == actions
    assert result.actions[-1].note == note


@pytest.mark.parametrize(("stopped", "days", "earliest"), [("leflunomide", 30, "2027-01-27"), ("", 30, "2027-01-27")])
def test_stopping_the_current_drug_waits_for_a_stop_already_recorded(stopped: str, days: int, earliest: str) -> None:
    """Review round 24 (SAFETY, NCT06920433): the record holds one stopped drug, and stopping mycophenolate
    replaced a leflunomide stop 30 days back, so the plan read eligible from 2026-11-27, inside its washout
    (5 x 19 days, to 2027-01-27); an unnamed stop takes the class's longest (leflunomide's)."""
    row = {
        **ON_MYCOPHENOLATE,
        "stopped_immunosuppressant": stopped,
        "immunosuppressant_last_dose": ago(days=days),
    }
    result = plan_of_row("NCT06920433", row)
    assert result.earliest_date == dt.date.fromisoformat(earliest)
    stop = next(action for action in result.actions if action.action == "stop_immunosuppressant")
    by_class = " by the longest of its class: recording stopped_immunosuppressant may bring it forward"  # review 26 m2
    assert stop.note == (
        f"stop mycophenolate on 2026-11-23; its washout runs from then; not before {earliest}, when the washout"
        f" of {stopped or 'the stopped immunosuppressant'} (last dose 2026-10-24) has run{'' if stopped else by_class}"
    )


@pytest.mark.parametrize(
    ("stopped", "last_dose"),
    [
        ("hydroxychloroquine", ago(days=30)),
        ("chloroquine", ago(days=0)),
        ("Plaquenil", ago(days=200)),
        ("hydroxychloroquine", "never"),
    ],
)
@pytest.mark.parametrize("sex", ["M", "F"])
def test_a_stop_does_not_wait_for_a_recorded_antimalarial_the_trial_exempts(
    stopped: str, last_dose: str, sex: str
) -> None:
    """Review round 25 (M1, NCT06920433 exempts a stopped hydroxychloroquine or chloroquine from its washout): the
    wait for the recorded stop took the antimalarial's 5 x 50 days, so stopping mycophenolate was planned up to 250
    days late or not at all; only mycophenolate's own washout (4 days) counts, and the exempt antimalarial is not
    asked for (its half-life is not in the conventional class)."""
    row = {
        **ON_MYCOPHENOLATE,
        "sex": sex,
        "stopped_immunosuppressant": stopped,
        "immunosuppressant_last_dose": last_dose,
    }
    result = plan_of_row("NCT06920433", row)
    assert (result.earliest_date, result.status_at_plan) == (
        dt.date(2026, 11, 27),
        "eligible" if sex == "M" else "unknown",
    )
    assert result.actions[0].note == "stop mycophenolate on 2026-11-23; its washout runs from then"
    assert "stopped_immunosuppressant" not in result.missing


@pytest.mark.parametrize(
    ("drug_column", "date_column", "days", "earliest", "words"),
    [
        # review round 24 (M1): every washout sits in one criterion, so a stop step hid this range
        (
            "anti_cd20_drug",
            "anti_cd20_last_dose",
            60,
            "2026-12-13",
            "anti-CD20 antibody last given 2026-09-24; the 5-half-life washout ends between 2026-12-13 and 2027-02-13,"
            " by the drug: record anti_cd20_drug",
        ),
        # review round 25 (M2): an open class, no half-life until the drug is named; it ended with nothing to measure
        (
            "other_biologic",
            "other_biologic_last_dose",
            20,
            "2026-11-27",
            "other biologic last given 2026-11-03; its half-life is not known: record the drug in other_biologic",
        ),
    ],
)
def test_a_stop_step_leaves_an_unnamed_biologic_in_the_words(
    drug_column: str, date_column: str, days: int, earliest: str, words: str
) -> None:
    """NCT06920433: beside a step stopping mycophenolate, an unnamed biologic's washout is still named, and the
    drug's name asked for."""
    row = {**ON_MYCOPHENOLATE, drug_column: "", date_column: ago(days=days)}
    result = plan_of_row("NCT06920433", row)
    assert (result.earliest_date, result.status_at_plan) == (dt.date.fromisoformat(earliest), "unknown")
    assert drug_column in result.missing
    assert result.actions[-1].note == f"no criterion fails from {earliest}; undecided then: {words}"


@pytest.mark.parametrize(("stopped", "last_dose"), [("leflunomide", "never"), ("leflunomide", ""), ("", "")])
def test_a_stop_beside_an_undated_stop_asks_for_its_date(stopped: str, last_dose: str) -> None:
    """Review round 25 (SAFETY, NCT06920433): leflunomide named as stopped beside a `never` last dose was taken for
    no stop, and stopping mycophenolate planned eligibility from 2026-11-27; the trial reads it as a dose of
    unknown date.  Review 26 (M2): offering no stop dropped the patient as blocked by her mycophenolate, with the
    date never asked for.  The stop is offered, the plan ends unknown until the date is recorded (not a result
    awaited: no allocation takes it), and says why."""
    row = {
        **ON_MYCOPHENOLATE,
        "sex": "M",
        "stopped_immunosuppressant": stopped,
        "immunosuppressant_last_dose": last_dose,
    }
    result = plan_of_row("NCT06920433", row)
    assert (result.earliest_date, result.status_at_plan, result.missing) == (
        dt.date(2026, 11, 27),
        "unknown",
        ["immunosuppressant_last_dose"],
    )
    assert not result.eligible_pending_results
    earlier = f"the stop of {stopped} already recorded has" if stopped else "an earlier stop's last dose has"
    assert result.actions[0].note == (
        f"stop mycophenolate on 2026-11-23; its washout runs from then; {earlier} no date: record"
        " immunosuppressant_last_dose, as the plan cannot be dated before that washout has run"
    )


@pytest.mark.parametrize("sex", ["M", "F"])
def test_stopping_an_unnamed_drug_asks_for_its_name(sex: str) -> None:
    """Review round 26 (SAFETY, NCT06920433): stopping an unnamed current immunosuppressant was planned for
    2026-11-25 (azathioprine's 5 x 0.4 days) at plan unknown with only the pregnancy results to await, so
    `allocate --within` enrolled her; for mycophenolate or leflunomide she would be inside the washout.  The name
    is to be recorded, and the words give the washout's range."""
    row = {**ELIGIBLE_SLE, "sex": sex, "immunosuppressant": "", "immunosuppressant_start_date": "2024-01-01"}
    result = plan_of_row("NCT06920433", row)
    assert (result.earliest_date, result.status_at_plan) == (dt.date(2026, 11, 25), "unknown")
    assert "immunosuppressant" in result.missing and not result.eligible_pending_results
    assert result.actions[0].note == (
        "stop immunosuppressant on 2026-11-23; its washout runs from then; after the stop, stopped immunosuppressant"
        " last given 2026-11-23; the 5-half-life washout ends between 2026-11-25 and 2027-02-26, by the drug: record"
        " immunosuppressant, the drug stopped"
    )


@pytest.mark.parametrize("trial_id", ["NCT06920433", "NCT06821659"])
def test_an_exempt_stopped_antimalarial_is_not_asked_for_its_date(trial_id: str) -> None:
    """Review round 26 (M1): both trials waive the washout of a stopped hydroxychloroquine, yet its blank last
    dose was asked for beside a pregnancy test to repeat, so she was not allocated; a washout is reported only
    where it may decide its criterion."""
    base_row = ELIGIBLE_SLE if trial_id == "NCT06920433" else _base_000()
    row = {
        **base_row,
        "pregnancy_test_negative_date": "2026-11-13",
        "stopped_immunosuppressant": "hydroxychloroquine",
        "immunosuppressant_last_dose": "",
    }
    result = plan_of_row(trial_id, row)
    assert result.status_at_plan == "unknown"
    assert "immunosuppressant_last_dose" not in result.missing
    assert result.eligible_pending_results


def _base_000() -> dict[str, Any]:
    from test_NCT06821659 import ELIGIBLE_SLE as BASE

    return dict(BASE)


def test_a_trial_default_never_shortens_a_half_life_the_site_gave(site_facts: Callable[[str], Path]) -> None:
    """Review round 17: NCT06821659's defaults give other_b_cell_depletion 28.4 days; a site that says 50 (and
    spells ravulizumab, ~50 days, as it) keeps its 50 days in that trial."""
    site_facts(
        "half_lives_days: {other_b_cell_depletion: 50}\ndrug_names: {spellings: {other_b_cell_depletion: [x1]}}\n"
    )
    assert effective_facts(load_trials()["NCT06821659"]).half_lives_days["other_b_cell_depletion"] == 50


def test_a_conventional_drug_a_site_adds_is_read_in_the_immunosuppressant_columns(
    site_facts: Callable[[str], Path],
) -> None:
    """Round 18: an unknown name there makes the row invalid; the site adds mizoribine (half-life ~3 h) to the
    conventional class, and a stopped mizoribine is washed out by its own 5 half-lives (1 day)."""
    patient = {**ELIGIBLE_SLE, "stopped_immunosuppressant": "Bredinin", "immunosuppressant_last_dose": ago(days=2)}
    assert verdict("NCT06920433", patient)[0] == "invalid"
    site_facts(
        "half_lives_days: {mizoribine: 0.125}\n"
        "drug_classes: {conventional_immunosuppressant: [mizoribine]}\n"
        "drug_names: {spellings: {mizoribine: [bredinin]}}\n"
    )
    assert verdict("NCT06920433", patient) == ("eligible", [], [])


def test_a_drug_a_site_gives_only_a_half_life_is_no_conventional_immunosuppressant(
    site_facts: Callable[[str], Path],
) -> None:
    """Round 19 (SAFETY): with epratuzumab given a half-life, a stopped epratuzumab 10 days back was a known name
    in stopped_immunosuppressant and NCT06983964, which reads no such column, passed it."""
    site_facts("half_lives_days: {epratuzumab: 14}\n")
    patient = {**ELIGIBLE_SLE, "stopped_immunosuppressant": "epratuzumab", "immunosuppressant_last_dose": ago(days=10)}
    assert verdict("NCT06920433", patient)[0] == "invalid"


@pytest.mark.parametrize(
    ("drug_column", "drug", "date_column", "words"),
    [
        ("anti_cd20_drug", "rituximab", "anti_cd20_last_dose", "anti-CD20 antibody"),
        ("other_biologic", "abatacept", "other_biologic_last_dose", "other biologic"),
    ],
)
@pytest.mark.parametrize("sex", ["M", "F"])
def test_a_stop_beside_a_named_biologic_of_no_date_asks_for_the_date(
    drug_column: str, drug: str, date_column: str, words: str, sex: str
) -> None:
    """Review round 27 (SAFETY, NCT06920433): rituximab named beside a `never` last dose (the trial reads it as a
    dose of unknown date: its washout may still run) went unasked beside a stop of mycophenolate, read on the
    record before the stop, and `allocate --within` placed her on 2026-11-27."""
    row = {
        **ON_MYCOPHENOLATE,
        "sex": sex,
        "pregnancy_test_negative_date": "2026-11-13",
        drug_column: drug,
        date_column: "never",
    }
    result = plan_of_row("NCT06920433", row)
    assert (result.earliest_date, result.status_at_plan) == (dt.date(2026, 11, 27), "unknown")
    assert date_column in result.missing and not result.eligible_pending_results
    assert result.actions[0].note == (
        f"stop mycophenolate on 2026-11-23; its washout runs from then; after the stop, {words} date is never, which"
        " the rest of the record contradicts: record the date"
    )


def test_naming_the_earlier_drug_is_suggested_only_where_it_sets_the_date() -> None:
    """Review round 27 (m3): stopping leflunomide runs 95 days to 2027-02-26 whatever the earlier unnamed stop was,
    yet the step said recording its name may bring the date forward."""
    row = {
        **ON_MYCOPHENOLATE,
        "sex": "M",
        "immunosuppressant": "leflunomide",
        "stopped_immunosuppressant": "",
        "immunosuppressant_last_dose": "2026-10-24",
    }
    result = plan_of_row("NCT06920433", row)
    assert result.earliest_date == dt.date(2027, 2, 26)
    assert result.actions[0].note == (
        "stop leflunomide on 2026-11-23; its washout runs from then; not before 2027-01-27, when the washout of the"
        " stopped immunosuppressant (last dose 2026-10-24) has run"
    )


def test_the_words_after_a_stop_name_only_what_the_stop_leaves_undecided() -> None:
    """Review round 28: an unnamed current drug stopped beside rituximab dated `never` lost the contradiction's
    clause (its reason repeated the washout's range and was dropped whole), and a blank birth date was said "after
    the stop" though the stop does not touch it."""
    row = {
        **ELIGIBLE_SLE,
        "sex": "M",
        "birth_date": "",
        "immunosuppressant": "",
        "immunosuppressant_start_date": "2024-01-01",
        "anti_cd20_drug": "rituximab",
        "anti_cd20_last_dose": "never",
    }
    result = plan_of_row("NCT06920433", row)
    assert {"anti_cd20_last_dose", "immunosuppressant"} <= set(result.missing)
    assert result.actions[0].note == (
        "stop immunosuppressant on 2026-11-23; its washout runs from then; after the stop, stopped immunosuppressant"
        " last given 2026-11-23; the 5-half-life washout ends between 2026-11-25 and 2027-02-26, by the drug: record"
        " immunosuppressant, the drug stopped; anti-CD20 antibody date is never, which the rest of the record"
        " contradicts: record the date"
    )


CYCLOPHOSPHAMIDE_NOW = {
    "sex": "M",
    "immunosuppressant": "cyclophosphamide",
    "immunosuppressant_start_date": "2024-01-01",
    "cyclophosphamide_last_dose": ago(days=2),
}
ON_CYCLOPHOSPHAMIDE = {**ELIGIBLE_SLE, **CYCLOPHOSPHAMIDE_NOW}


@pytest.mark.parametrize("trial_id", ["NCT06920433", "NCT06821659"])
def test_stopping_cyclophosphamide_dates_its_own_last_dose(trial_id: str) -> None:
    """Review round 27 (M1): stopping a current cyclophosphamide wrote it as the stopped conventional drug, outside
    the class the washout reads, so the plan ended unknown for good, asking for `immunosuppressant`, recorded
    already, and was never allocated.  The stop dates cyclophosphamide's own last dose (the stop day: 5 x 0.5 days
    from 2026-11-23), and the re-screen of the record as the stop leaves it agrees: eligible on the plan's date,
    not the day before.  Stopping and withholding the same course exclude each other."""
    from test_NCT06821659 import ELIGIBLE_SLE as ON_NCT06821659

    row = {**ON_CYCLOPHOSPHAMIDE, **({} if trial_id == "NCT06920433" else ON_NCT06821659), **CYCLOPHOSPHAMIDE_NOW}
    result = plan_of_row(trial_id, row)
    if trial_id == "NCT06821659":  # a current cyclophosphamide may go on there: withheld to its washout's end
        assert [action.action for action in result.actions] == ["withhold_drug"]
        assert result.earliest_date == dt.date(2026, 11, 24)
        return
    assert (result.earliest_date, result.status_at_plan, result.missing) == (dt.date(2026, 11, 26), "eligible", [])
    assert result.eligible_pending_results
    assert [action.note for action in result.actions] == [
        "stop cyclophosphamide on 2026-11-23; its washout runs from then"
    ]
    trial = load_trials()[trial_id]
    cohort = cohort_from_records([{"patient_id": "p1", **row}])
    stopped = {
        "immunosuppressant": "none",
        "immunosuppressant_start_date": "never",
        "immunosuppressant_dose_changed_date": "never",
        "cyclophosphamide_last_dose": "2026-11-23",
    }
    verdicts = [rescreen(cohort, "p1", [trial], AS_OF, stopped, wait).results[0].status[0] for wait in (2, 3)]
    assert verdicts == [INELIGIBLE, ELIGIBLE]


@pytest.mark.parametrize(
    ("stopped", "last_dose", "earliest", "missing", "words"),
    [
        # a named earlier stop: the trial's washout of it dates the plan, and the step says so
        (
            "leflunomide",
            ago(days=30),
            "2027-01-27",
            [],
            "; not before 2027-01-27, when the washout of leflunomide (last dose 2026-10-24) has run",
        ),
        # an unnamed one is undecided by its name, which is asked for (not the current drug's, recorded already)
        ("", ago(days=30), "2026-11-26", ["stopped_immunosuppressant"], ""),
        # an undated one: its date is asked for, as the record stands (review 29 m3: not "after the stop", which
        # leaves that record as it is)
        (
            "leflunomide",
            "never",
            "2026-11-26",
            ["immunosuppressant_last_dose"],
            "; the earlier stop on record stands: stopped immunosuppressant date is never, which the rest of the"
            " record contradicts: record the date",
        ),
        ("hydroxychloroquine", "", "2026-11-26", [], ""),  # exempt
    ],
)
def test_stopping_cyclophosphamide_keeps_an_earlier_stop_on_record(
    stopped: str, last_dose: str, earliest: str, missing: list[str], words: str
) -> None:
    """Review round 27 (M1): the stop of a cyclophosphamide course leaves the stop record of an earlier
    conventional drug as it is, and the trial reads that record's washout itself."""
    row = {**ON_CYCLOPHOSPHAMIDE, "stopped_immunosuppressant": stopped, "immunosuppressant_last_dose": last_dose}
    result = plan_of_row("NCT06920433", row)
    assert (result.earliest_date, result.missing) == (dt.date.fromisoformat(earliest), missing)
    assert result.status_at_plan == ("unknown" if missing else "eligible")
    assert result.actions[0].note == f"stop cyclophosphamide on 2026-11-23; its washout runs from then{words}"
    assert "immunosuppressant" not in result.missing


def test_a_patient_a_plan_reaches_only_once_a_date_is_recorded_is_told_so_by_allocate() -> None:
    """Review round 28 (m3): a plan within the horizon that wants a date recorded first is taken by no allocation,
    and the patient's reason named only today's first failing criterion ("(+1 more)"), not the date to record."""
    import pandas as pd

    from matcher import api

    row = {**ON_MYCOPHENOLATE, "patient_id": "p1", "sex": "M", "anti_cd20_drug": "rituximab"}
    rows = [
        {**row, "anti_cd20_last_dose": "never"},
        {**row, "patient_id": "p2", "anti_cd20_last_dose": "2025-01-01"},
        {**row, "patient_id": "p3", "anti_cd20_last_dose": ""},
    ]
    frame = api.allocate(pd.DataFrame(rows), AS_OF, within=60, trials=["NCT06920433"], workers=1)
    by_id = frame.set_index("patient_id")
    assert by_id.loc["p1", "status"] == by_id.loc["p3", "status"] == "unplaced"
    held_back = "; NCT06920433: a plan from 2026-11-27 at the earliest, undecided until anti_cd20_last_dose"
    assert by_id.loc["p1", "reason"].endswith(f"{held_back} brought up to date")  # review 29 m1: `never` is recorded
    assert by_id.loc["p3", "reason"].endswith(f"{held_back} recorded")
    assert (by_id.loc["p2", "status"], by_id.loc["p2", "reason"]) == ("assigned", "eligible from 2026-11-27 by plan")


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"rituximab": "anti_cd20_last_dose"}, "own_last_dose: rituximab is not a drug immunosuppressant takes"),
        ({"cyclophosphamide": "immunosuppressant_start_date"}, "is not a withheld drug's last-dose column"),
    ],
)
def test_a_drug_stopped_into_its_own_column_is_a_current_drug_with_a_last_dose_column(
    entry: dict[str, str], message: str
) -> None:
    """The stop writes the column the trials' washouts of the drug read (review 27 M1), so the facts say which."""
    from importlib import resources

    import yaml
    from pydantic import ValidationError

    from matcher.facts import Facts

    document = yaml.safe_load(resources.files("matcher").joinpath("data/facts.yaml").read_text("utf-8"))
    assert Facts.model_validate(document).change.immunosuppressant.own_last_dose == {
        "cyclophosphamide": "cyclophosphamide_last_dose"
    }
    document["change"]["immunosuppressant"]["own_last_dose"] = entry
    with pytest.raises(ValidationError, match=message):
        Facts.model_validate(document)


def test_a_plan_gives_the_record_its_steps_leave_as_set_values() -> None:
    """A plan's `changes` re-screen it as `whatif --set` would: the stop's columns, the repeated test dated with its
    result blank (awaited), a taper's dose as a number (the replay property test reads them)."""
    from test_NCT06821659 import ELIGIBLE_SLE as ON_NCT06821659

    stopped = plan_of_row("NCT06920433", {**ON_MYCOPHENOLATE, "pregnancy_test_negative_date": ago(days=30)})
    assert stopped.changes == {
        "immunosuppressant": "none",
        "immunosuppressant_start_date": "never",
        "immunosuppressant_dose_changed_date": "never",
        "immunosuppressant_last_dose": "2026-11-23",
        "stopped_immunosuppressant": "mycophenolate",
        "pregnancy_test_negative_date": "",
        "pregnancy_test_type": "urine",
        "pregnant": "",
    }
    on_40_mg = {**ON_NCT06821659, "sex": "M", "glucocorticoid": "prednisone", "glucocorticoid_mg_day": 40}
    tapered = plan_of_row("NCT06821659", on_40_mg)
    assert tapered.changes == {"glucocorticoid_mg_day": "30", "glucocorticoid_dose_changed_date": "2026-11-30"}


@pytest.mark.parametrize(
    ("stopped", "last_dose", "replaced"),
    [
        ("leflunomide", ago(days=30), "the stop of leflunomide (last dose 2026-10-24)"),
        ("leflunomide", "", "the stop of leflunomide (its last dose not dated)"),
        ("leflunomide", "never", "the stop of leflunomide (its last dose not dated)"),
        ("leflunomide", ago(days=200), ""),  # its washout has run: the record carries the plan
        ("leflunomide", ago(days=94), ""),  # review 31 m2: it runs out (day 1) before the plan's date (day 4)
        ("none", "", ""),  # review 30 m2: no stop recorded, not "the stop of none"
    ],
)
def test_a_stop_that_writes_over_a_counting_stop_says_its_record_cannot_be_re_screened(
    stopped: str, last_dose: str, replaced: str
) -> None:
    """Review 30 (M1): the record holds one stopped drug, so the plan's `changes` lose an earlier stop whose washout
    the plan's date still counts, and re-screening them said eligible inside it; the plan names what it writes
    over, and the table gives no re-screen command for it."""
    from matcher.formats import plan_footnotes

    row = {
        **ON_MYCOPHENOLATE,
        "sex": "M",
        "stopped_immunosuppressant": stopped,
        "immunosuppressant_last_dose": last_dose,
    }
    result = plan_of_row("NCT06920433", row)
    assert result.replaced_stop == replaced
    last = plan_footnotes(result, AS_OF)[-1]
    if replaced:
        assert last == (
            "the plan's record cannot be re-screened as --set values: the record holds one stopped drug, and its stop"
            f" writes over {replaced}, whose washout the plan's date counts"
        )
    else:
        assert last.startswith("re-screen the plan's record: matcher whatif COHORT --as-of 2026-11-23")
        assert "the stop of none" not in result.actions[0].note
