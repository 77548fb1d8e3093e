"""The same sentence in two trials is encoded the same way.

Criteria of different trials whose quotes say nearly the same thing (after dropping
who is addressed and punctuation) must have the same rule shape: the same tree of
node types, fields and values, an exclusion being the negation of an inclusion, and
the same ``applies_when``.  A difference the texts themselves make is declared in
``DIFFERENT_ON_PURPOSE`` with the words that make it.

Beside the pairwise check, the sentence families the clinical review named (a
positive pregnancy test, breastfeeding of women who can conceive, male partners of
childbearing potential, drug washouts) are checked in every trial that has them.
"""

from __future__ import annotations

import difflib
import itertools
import re
from typing import Any, cast

import pytest

from matcher import ir
from matcher.coverage import eligibility_section
from matcher.trials import load_trials

SIMILAR = 0.75  # difflib ratio of the normalised quotes
SEXES = re.compile(r"\b(?:fe)?males?\b")
ADDRESSEES = re.compile(r"\b(participants|subjects|patients|the|a|an)\b")

DIFFERENT_ON_PURPOSE = {
    frozenset({"NCT06222853.excl.4.d", "NCT06983964.incl.14"}): "'large pericardial effusion' against 'no effusion'",
    frozenset({"NCT06222853.excl.4.d", "NCT06983964.incl.14.any"}): "'large pericardial effusion' against any",
    frozenset({"NCT06222853.excl.4.d.large", "NCT06983964.incl.14"}): "whether an effusion is large, against none",
    frozenset({"NCT06222853.excl.4.d.large", "NCT06983964.incl.14.any"}): "whether it is large, against any at all",
    frozenset(
        {"NCT06821659.incl.5.pregnancy_test", "NCT06920433.incl.19"}
    ): "000 asks for a serum test; 004 names none",
    frozenset({"NCT06821659.incl.5.not_pregnant", "NCT06920433.incl.19"}): (
        "000 reads a positive test beside its HCG sentence; 004 excludes pregnancy in its own item (excl.15)"
    ),
    frozenset({"NCT06056921.excl.6", "NCT06983964.excl.31"}): "live vaccine within 4 weeks against within 6 weeks",
    frozenset({"NCT06821659.incl.5.plan", "NCT06920433.incl.18.female"}): (
        "a second reading of the same sentence (a recorded plan to conceive); "
        "004 reads the plan in its own item (excl.15)"
    ),
}

# The same sentence in words the quote ratio misses (below SIMILAR): encoded alike all the same.
SAME_BELOW_THE_RATIO = {
    frozenset({"NCT06222853.excl.9.1", "NCT06920433.excl.9"}): (
        "'Positive HBsAg or HBcAb with detectable HBV-DNA', spelled out in 004 (review round 4: HBsAg alone excludes)"
    ),
    frozenset({"NCT06222853.excl.9.2", "NCT06920433.excl.10"}): "'Positive HCV antibody with detectable HCV-RNA'",
    frozenset({"NCT06056921.excl.5.1", "NCT06920433.excl.9"}): (
        "'HBsAg or HBcAb positive and HBV DNA titer greater than the normal range' (review of NCT06056921 round 4, "
        "finding 4: HBsAg alone excludes)"
    ),
    frozenset({"NCT06056921.excl.5.1", "NCT06222853.excl.9.1"}): "'HBsAg or HBcAb positive and HBV DNA above normal'",
    frozenset({"NCT06056921.excl.5.2", "NCT06920433.excl.10"}): "'HCV antibody positive and HCV RNA above normal'",
    frozenset({"NCT06056921.excl.5.2", "NCT06222853.excl.9.2"}): "'HCV antibody positive and HCV RNA above normal'",
    frozenset({"NCT06056921.excl.5.3", "NCT06222853.excl.9.3"}): "'HIV antibody, syphilis test or CMV DNA positive'",
    frozenset({"NCT06056921.excl.3", "NCT06222853.excl.7"}): (
        "'active or uncontrollable infection requiring systemic treatment within 1 week before screening' "
        "(review of NCT06056921 round 4, finding 5: seronegative HBV/HCV viraemia excludes)"
    ),
    frozenset({"NCT06821659.incl.3", "NCT06920433.incl.4"}): (
        "'Ineffectiveness of conventional treatment for more than 6 months, or disease activity recurrence after "
        "remission' (review round 4, B1: a relapse with a `never` last-relapse date is no relapse)"
    ),
}

CANONICAL_PREGNANT: dict[str, Any] = {
    "type": "any",
    "of": [
        {"type": "all", "of": [{"type": "known", "field": "pregnant"}, {"type": "flag", "field": "pregnant"}]},
        {
            "type": "all",
            "of": [
                {"type": "in_set", "field": "sex", "values": ["F"]},
                {"type": "flag", "field": "childbearing_potential"},
                {"type": "flag", "field": "pregnant"},
            ],
        },
    ],
}
WOMAN_WHO_CAN_CONCEIVE: dict[str, Any] = {
    "type": "all",
    "of": [{"type": "in_set", "field": "sex", "values": ["F"]}, {"type": "flag", "field": "childbearing_potential"}],
}
CANONICAL_BREASTFEEDING: dict[str, Any] = {
    "type": "all",
    "of": [
        {
            "type": "not",
            "rule": {
                "type": "all",
                "of": [{"type": "known", "field": "breastfeeding"}, {"type": "flag", "field": "breastfeeding"}],
            },
        },
        {
            "type": "if",
            "condition": WOMAN_WHO_CAN_CONCEIVE,
            "then": {"type": "flag", "field": "breastfeeding", "value": False},
        },
    ],
}
MAN_WITHOUT_RECORDED_AGREEMENT: dict[str, Any] = {
    "type": "all",
    "of": [
        {"type": "in_set", "field": "sex", "values": ["M"]},
        {"type": "not", "rule": {"type": "flag", "field": "contraception_agreed"}},
    ],
}
DISEASE_FIELDS = {"diagnosis", "diagnosis_subtype"}
NAMED_CLASS_WASHOUTS = {
    "anti_cd20_last_dose": ("anti_cd20", "anti_cd20_drug"),
    "immunosuppressant_last_dose": ("conventional_immunosuppressant", "stopped_immunosuppressant"),
    "other_biologic_last_dose": ("biologic", "other_biologic"),
}


def rule(document: dict[str, Any]) -> ir.Rule:
    return cast(
        ir.Rule, ir.Criterion.model_validate({"id": "X.1", "kind": "inclusion", "quote": "q", "rule": document}).rule
    )


def shape(criterion: ir.Criterion) -> tuple[Any, ...]:
    """What a criterion requires, an exclusion written as the negation of its rule."""
    required: Any = criterion.rule.model_dump()
    if criterion.kind == "exclusion" and not criterion.is_manual:
        required = {"type": "not", "rule": required}
    condition = criterion.applies_when
    if condition is not None and set(ir.fields_read(condition)) <= DISEASE_FIELDS:
        condition = None  # a disease branch: implicit in a trial of one disease
    return required, condition.model_dump() if condition else None


def normalised(quote: str) -> str:
    return " ".join(ADDRESSEES.sub(" ", re.sub(r"[^a-z0-9 ]", " ", quote.lower())).split())


def criteria() -> list[ir.Criterion]:
    return [criterion for trial in load_trials().values() for criterion in trial.criteria]


def similar_pairs() -> list[tuple[ir.Criterion, ir.Criterion]]:
    pairs = []
    for a, b in itertools.combinations(criteria(), 2):
        if a.id.split(".")[0] == b.id.split(".")[0]:
            continue
        quote_a, quote_b = normalised(a.quote), normalised(b.quote)
        if SEXES.findall(quote_a) != SEXES.findall(quote_b):
            continue  # a sentence for women and one for men say different things
        if min(len(quote_a), len(quote_b)) >= 20 and difflib.SequenceMatcher(None, quote_a, quote_b).ratio() >= SIMILAR:
            pairs.append((a, b))
    return pairs


def contains(root: ir.Rule | None, wanted: ir.Rule) -> bool:
    return root is not None and any(node == wanted for node in ir.walk(root))


def test_the_pairwise_check_finds_the_sentences_it_is_for() -> None:
    found = {frozenset({a.id, b.id}) for a, b in similar_pairs()}
    assert frozenset({"NCT06056921.excl.9", "NCT06920433.excl.13"}) in found  # other trials within 3 months
    assert set(DIFFERENT_ON_PURPOSE) <= found


@pytest.mark.parametrize("pair", similar_pairs(), ids=lambda pair: f"{pair[0].id}~{pair[1].id}")
def test_the_same_sentence_has_the_same_rule(pair: tuple[ir.Criterion, ir.Criterion]) -> None:
    a, b = pair
    if frozenset({a.id, b.id}) in DIFFERENT_ON_PURPOSE:
        assert shape(a) != shape(b)  # a declared difference that vanished should be undeclared
        return
    assert shape(a) == shape(b), f"{a.id} and {b.id} say the same thing but encode it differently"


@pytest.mark.parametrize("pair", sorted(SAME_BELOW_THE_RATIO, key=sorted), ids=lambda pair: "~".join(sorted(pair)))
def test_the_same_sentence_below_the_ratio_has_the_same_rule(pair: frozenset[str]) -> None:
    by_id = {criterion.id: criterion for criterion in criteria()}
    a, b = (by_id[criterion_id] for criterion_id in sorted(pair))
    ratio = difflib.SequenceMatcher(None, normalised(a.quote), normalised(b.quote)).ratio()
    assert ratio < SIMILAR  # else the pairwise check covers the pair: undeclare it here
    assert shape(a) == shape(b), f"{a.id} and {b.id} say the same thing but encode it differently"


def test_a_positive_pregnancy_test_excludes_whatever_the_fertility_flag_says() -> None:
    """Every trial that asks for a negative test or excludes pregnancy reads `pregnant` the canonical way.

    Which trials those are, their published eligibility text says (all five bundled ones; not every trial)."""
    canonical = rule(CANONICAL_PREGNANT)
    pregnancy = re.compile(r"pregnan|hcg", re.I)
    checked = 0
    for trial in load_trials().values():
        text = eligibility_section(trial) if trial.source else " ".join(c.quote for c in trial.criteria)
        if not pregnancy.search(text):
            continue
        checked += 1
        about_pregnancy = [c for c in trial.criteria if pregnancy.search(c.quote) and not c.is_manual]
        assert about_pregnancy, trial.id
        readers = [c for c in about_pregnancy if contains(cast(ir.Rule, c.rule), canonical)]
        assert readers, f"{trial.id}: no criterion reads a positive pregnancy test the canonical way"
    assert checked


def test_breastfeeding_of_women_who_can_conceive_has_one_encoding() -> None:
    canonical = rule(CANONICAL_BREASTFEEDING)
    tied = re.compile(
        r"childbearing potential.*(breastfeeding|lactating)|^and (must )?not be (breastfeeding|lactating)", re.I
    )
    for criterion in criteria():
        if (
            tied.search(criterion.quote)
            and not criterion.is_manual
            and "breastfeeding" in ir.fields_read(cast(ir.Rule, criterion.rule))
        ):
            assert criterion.rule == canonical and criterion.applies_when is None, criterion.id


def test_male_partners_of_childbearing_potential_are_a_manual_check_asked_of_men_only() -> None:
    """Where a text obliges men with partners who can conceive: one manual question asked of men without a
    recorded agreement, and one data criterion for the women who can conceive themselves."""
    asked_of = rule(MAN_WITHOUT_RECORDED_AGREEMENT)
    woman = rule(WOMAN_WHO_CAN_CONCEIVE)
    agreed = rule({"type": "flag", "field": "contraception_agreed"})
    male_sentence = re.compile(r"male \w+ with (female )?partners of childbearing", re.I)
    sentences = 0
    for trial in load_trials().values():
        if not any(male_sentence.search(c.quote) for c in trial.criteria):
            continue
        sentences += 1
        manual = [c for c in trial.criteria if c.is_manual and c.applies_when == asked_of]
        women = [c for c in trial.criteria if not c.is_manual and c.applies_when == woman and c.rule == agreed]
        assert len(manual) == 1 and male_sentence.search(manual[0].quote), trial.id
        assert len(women) == 1, trial.id
    assert sentences >= 2


def test_class_washouts_use_the_recorded_drug_name() -> None:
    for criterion in criteria():
        roots = [criterion.applies_when] if criterion.applies_when else []
        if not criterion.is_manual:
            roots.append(cast(ir.Rule, criterion.rule))
        for node in (n for root in roots for n in ir.walk(root)):
            if isinstance(node, ir.Washout) and node.field in NAMED_CLASS_WASHOUTS:
                assert (node.drug, node.drug_field) == NAMED_CLASS_WASHOUTS[node.field], criterion.id


def sledai_lower_limit(value: float) -> ir.Rule:
    """SLEDAI-2K total >= value; with the total blank a clinical score >= value shows it (the total is never lower)."""
    total = {"type": "compare", "field": "sledai_2k", "op": ">=", "value": value}
    clinical = {"type": "compare", "field": "sledai_2k_clinical", "op": ">=", "value": value}
    return rule(
        {
            "type": "if",
            "condition": {"type": "known", "field": "sledai_2k"},
            "then": total,
            "otherwise": {
                "type": "any",
                "of": [total, {"type": "all", "of": [{"type": "known", "field": "sledai_2k_clinical"}, clinical]}],
            },
        }
    )


def test_sledai_lower_limits_read_the_clinical_score_where_the_total_is_blank() -> None:
    """A criterion about the SLEDAI-2K total alone states a lower limit the canonical way; an upper limit (none yet)
    could not be shown by the clinical score and would need its own reading."""
    thresholds = 0
    for criterion in criteria():
        if criterion.is_manual:
            continue
        root = cast(ir.Rule, criterion.rule)
        read = set(ir.fields_read(root))
        if "sledai_2k" not in read or not read <= {"sledai_2k", "sledai_2k_clinical"}:
            continue
        limits = [n for n in ir.walk(root) if isinstance(n, ir.Compare) and n.field == "sledai_2k"]
        assert all(n.op == ">=" for n in limits), criterion.id
        assert root == sledai_lower_limit(limits[0].value), criterion.id
        thresholds += 1
    assert thresholds >= 5


def test_pregnancy_tests_without_a_window_in_the_text_use_the_renewable_default() -> None:
    """A trial reads its negative pregnancy test one way: in the window its text states ('within N days'), or, where
    it states none, the documented 7-day default, renewable.  A criterion that borrows the test (a blank `pregnant`
    settled by it) reads the trial's window."""
    for trial in load_trials().values():
        data = [c for c in trial.criteria if not c.is_manual]
        nodes = {
            (criterion.id, node)
            for criterion in data
            for node in ir.walk(cast(ir.Rule, criterion.rule))
            if isinstance(node, ir.OccurredWithin) and node.field == "pregnancy_test_negative_date"
        }
        stated = [
            int(found.group(1))
            for c in data
            if (found := re.search(r"within (\d+) days", c.quote)) and re.search(r"pregnan|hcg", c.quote, re.I)
        ]
        expected = ir.OccurredWithin(
            type="occurred_within",
            field="pregnancy_test_negative_date",
            window=ir.Duration(days=stated[0] if stated else 7),
            renewable=not stated,
        )
        assert nodes and {node for _, node in nodes} == {expected}, (trial.id, sorted(nodes, key=str))


def test_every_active_infection_criterion_reads_active_tuberculosis() -> None:
    """Active TB is an active infection that needs systemic treatment: where a rule reads one, it reads both."""
    for criterion in criteria():
        if criterion.is_manual:
            continue
        read = ir.fields_read(cast(ir.Rule, criterion.rule))
        if "active_infection" in read:
            assert "tb_active" in read, criterion.id
