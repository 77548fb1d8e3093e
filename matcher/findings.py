"""What one leaf of a rule found for one patient, in a clinician's words and with the patient's own values.

A finding states the fact, whichever way the rule points: a failed upper limit reads "prednisone 25 mg/day
is above the 20 mg/day limit", an exclusion that holds reads "eGFR 25 mL/min/1.73m² is below 30", an
undecided leaf names the column to measure.  Time rules say the date their window opens or closes.
Sentences are built from the IR node and the values, never written per trial.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from matcher import ir
from matcher.context import Context, linear_total, washout_days
from matcher.contract import columns, label_and_unit
from matcher.dates import first_day_after, from_day_number
from matcher.facts import Facts
from matcher.kleene import FALSE, TRUE, UNKNOWN
from matcher.render import duration, linear_words, number, shown, span

VERDICT_NAMES = ("false", "unknown", "true")


@dataclass(frozen=True)
class Finding:
    """One leaf of a rule, evaluated for one patient."""

    rule: ir.Rule
    verdict: int  # the leaf's Kleene code for this patient
    values: dict[str, str | None]  # the columns read, with the patient's values as shown (None: blank)
    limit: str | None  # the threshold or window, in words
    date: dt.date | None  # when the window closes or opens (or the washout ends)
    measure: tuple[str, ...]  # blank columns that leave the leaf undecided
    text: str
    wait: str | None = None  # for a time rule with a date: what waiting until then is for, in words

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule.type,  # type: ignore[attr-defined]
            "verdict": VERDICT_NAMES[self.verdict],
            "values": self.values,
            "limit": self.limit,
            "date": self.date.isoformat() if self.date else None,
            "measure": list(self.measure),
            "text": self.text,
        }


def day_text(day: float) -> str:
    return "never" if math.isinf(day) else from_day_number(int(day)).isoformat()


def _raw(ctx: Context, name: str, row: int) -> str | None:
    """One cell as shown: numbers with their unit, dates as ISO dates, booleans as yes/no, text as recorded."""
    if name in ctx.derived:
        value = float(ctx.values(name)[row])
        return None if math.isnan(value) else shown(value, label_and_unit(name)[1])
    column = columns()[name]
    if column.kind in ("text", "enum", "id"):
        word = ctx.lowered_at(name, row)
        if word is None:
            return None
        return next((code for code in column.codes if code.lower() == word), word)
    value = float(ctx.cohort.column(name)[row])
    if column.kind == "bool":
        return None if value == UNKNOWN else ("yes" if value == TRUE else "no")
    if math.isnan(value):
        return None
    if column.kind == "date":
        return day_text(value)
    return shown(value, column.unit)


def _note(field: str, ctx: Context, row: int) -> str:
    """How a derived value was had, where that matters to a clinician reading it."""
    if field.startswith("prednisone_equivalent"):
        drug, dose = ctx.lowered_at("glucocorticoid", row), _raw(ctx, "glucocorticoid_mg_day", row)
        weight = f", {_raw(ctx, 'weight_kg', row)}" if field.endswith("kg_day") else ""
        return f" ({drug} {dose}{weight})" if drug and dose and dose != "0 mg/day" else ""
    if field in ("egfr_ml_min_1_73m2", "crcl_ml_min") and math.isnan(float(ctx.cohort.column(field)[row])):
        creatinine = _raw(ctx, "creatinine_mg_dl", row)
        if field == "crcl_ml_min":
            formula = "Cockcroft-Gault"
        else:
            formula = "CKD-EPI 2021" if ctx.values("age")[row] >= 18 else "bedside Schwartz"
        return f" ({formula}, creatinine {creatinine})"
    return ""


def subject(field: str, ctx: Context, row: int) -> str:
    """A field named with the patient's value: "platelets 40 ×10⁹/L", "prednisone 25 mg/day"."""
    label, _ = label_and_unit(field)
    value = _raw(ctx, field, row)
    if field == "prednisone_equivalent_mg_day" and ctx.lowered_at("glucocorticoid", row) in ("prednisone", None):
        return f"prednisone {value}"
    return f"{label} {value}{_note(field, ctx, row)}"


def _measure(fields: tuple[str, ...], ctx: Context, row: int) -> tuple[str, ...]:
    found: dict[str, None] = {}
    for field in fields:
        for column, mask in ctx.blanks(field).items():
            if mask[row]:
                found[column] = None
    return tuple(found) or fields


def _unknown(rule: ir.Rule, ctx: Context, row: int, fields: tuple[str, ...], limit: str | None) -> Finding:
    measure = _measure(fields, ctx, row)
    label = " and ".join(label_and_unit(field)[0] + _DATE.get(_kind(field), "") for field in fields)
    return Finding(
        rule, UNKNOWN, _values(ctx, row, fields), limit, None, measure, f"{label} unknown: measure {', '.join(measure)}"
    )


_DATE = {"date": " date"}


def _kind(field: str) -> str:
    column = columns().get(field)
    return column.kind if column else "float"


def _values(ctx: Context, row: int, fields: tuple[str, ...]) -> dict[str, str | None]:
    return {field: _raw(ctx, field, row) for field in fields}


FINDINGS: ir.Handlers[Callable[[Any, int, Context, int], Finding]] = ir.Handlers("the findings", ir.LEAF_TYPES)


def finding(leaf: ir.Rule, verdict: int, ctx: Context, row: int) -> Finding:
    """What ``leaf`` (whose Kleene code for patient ``row`` is ``verdict``) found, in words."""
    return FINDINGS[type(leaf)](leaf, verdict, ctx, row)


_UPPER = ("<", "<=")
_WORDS = {"<": "below", "<=": "at most", ">": "above", ">=": "at least", "==": "equal to", "!=": "not equal to"}


def _against(value: float, limit: float, unit: str, op: str, verdict: int) -> str:
    """How a value stands against a limit: "is above the 20 mg/day limit", "is below 60"."""
    relation = "above" if value > limit else "below" if value < limit else "at"
    target = shown(limit, unit)
    if verdict == FALSE and op in _UPPER and relation != "below":
        return f"is {relation} the {target} limit" + (f" (must be {_WORDS[op]} it)" if relation == "at" else "")
    if verdict == FALSE and relation == "at":
        return f"is at {target} (must be {_WORDS[op]} {target})"
    return f"is {relation} {target}"


@FINDINGS.register(ir.Compare)
def _compare(rule: ir.Compare, verdict: int, ctx: Context, row: int) -> Finding:
    unit = label_and_unit(rule.field)[1]
    limit = f"{_WORDS[rule.op]} {shown(rule.value, unit)}"
    if verdict == UNKNOWN:
        return _unknown(rule, ctx, row, (rule.field,), limit)
    value, described = _shown_value(rule.field, ctx, row, rule.value)
    text = f"{told_apart(described, value, rule.value, unit)} {_against(value, rule.value, unit, rule.op, verdict)}"
    return Finding(rule, verdict, _values(ctx, row, (rule.field,)), limit, None, (), text)


def told_apart(described: str, value: float, limit: float, unit: str) -> str:
    """``described`` (a value in words) with the decimals that tell ``value`` from a different ``limit`` where two
    would round it onto it (reviews 51 F1, 53 F1: not "0.01 mL/min is below 0.01 mL/min")."""
    if value == limit or number(value) != number(limit):
        return described
    return described.replace(shown(value, unit), shown(value, unit, _places_apart(value, limit)), 1)


def subject_near(field: str, ctx: Context, row: int, limit: float) -> str:
    """The field named with the patient's value, told apart from ``limit``: "eGFR 29.996 mL/min/1.73m² ..."."""
    value = float(ctx.values(field)[row])
    return told_apart(subject(field, ctx, row), value, limit, label_and_unit(field)[1])


def _places_apart(value: float, limit: float) -> int:
    """The decimals that tell a value from the different limit it is read against (a salivary flow of 0.00999
    mL/min against 0.01, an eGFR of 29.996 against 30; review 48 F6)."""
    places = 2
    while places < 8 and number(value, places) == number(limit, places):
        places += 1
    return places


def _shown_value(field: str, ctx: Context, row: int, limit: float) -> tuple[float, str]:
    """The value a decided comparison is stated with, and the field named with it.  A derived value that only
    a blank sex leaves unknown is stated for both sexes, against the one nearer the limit."""
    value = float(ctx.values(field)[row])
    derived = ctx.derived.get(field)
    if not math.isnan(value) or derived is None or derived.by_sex is None:
        return value, subject(field, ctx, row)
    label, unit = label_and_unit(field)
    woman, man = (float(values[row]) for values in derived.by_sex)
    nearer = min((woman, man), key=lambda candidate: abs(candidate - limit))
    either = f"{label} {shown(woman, unit)} for a woman or {shown(man, unit)} for a man (sex not recorded)"
    return nearer, f"{either}{_note(field, ctx, row)}: either way"


@FINDINGS.register(ir.Linear)
def _linear(rule: ir.Linear, verdict: int, ctx: Context, row: int) -> Finding:
    fields = tuple(term.field for term in rule.terms)
    limit = f"{linear_words(rule)} {_WORDS[rule.op]} {number(rule.value)}"
    if verdict == UNKNOWN:
        return _unknown(rule, ctx, row, fields, limit)
    total = float(linear_total(rule, [ctx.values(field)[row : row + 1] for field in fields])[0])
    shown_terms = ", ".join(subject(field, ctx, row) for field in fields)
    text = f"{linear_words(rule)} = {number(total)} ({shown_terms}) {_against(total, rule.value, '', rule.op, verdict)}"
    return Finding(rule, verdict, _values(ctx, row, fields), limit, None, (), text)


@FINDINGS.register(ir.Range)
def _range(rule: ir.Range, verdict: int, ctx: Context, row: int) -> Finding:
    unit = label_and_unit(rule.field)[1]
    ends = [f"{_WORDS['>=' if rule.min_inclusive else '>']} {shown(rule.min, unit)}"] if rule.min is not None else []
    ends += [f"{_WORDS['<=' if rule.max_inclusive else '<']} {shown(rule.max, unit)}"] if rule.max is not None else []
    limit = " and ".join(ends)
    if verdict == UNKNOWN:
        return _unknown(rule, ctx, row, (rule.field,), limit)
    value, described = _shown_value(rule.field, ctx, row, rule.min if rule.min is not None else rule.max or 0.0)
    if verdict == TRUE:
        against = f"is within {limit}" if len(ends) == 2 else f"is {limit}"
    elif rule.min is not None and (value < rule.min or (value == rule.min and not rule.min_inclusive)):
        against = _against(value, rule.min, unit, ">=" if rule.min_inclusive else ">", FALSE)
        described = told_apart(described, value, rule.min, unit)
    else:
        against = _against(value, rule.max or 0.0, unit, "<=" if rule.max_inclusive else "<", FALSE)
        described = told_apart(described, value, rule.max or 0.0, unit)
    text = f"{described} {against}"
    return Finding(rule, verdict, _values(ctx, row, (rule.field,)), limit, None, (), text)


@FINDINGS.register(ir.CompareFields)
def _compare_fields(rule: ir.CompareFields, verdict: int, ctx: Context, row: int) -> Finding:
    fields = (rule.left, rule.right)
    limit = f"{label_and_unit(rule.left)[0]} {_WORDS[rule.op]} {label_and_unit(rule.right)[0]}"
    if verdict == UNKNOWN:
        return _unknown(rule, ctx, row, fields, limit)
    left, right = float(ctx.values(rule.left)[row]), float(ctx.values(rule.right)[row])
    relation = "above" if left > right else "below" if left < right else "equal to"
    text = f"{subject(rule.left, ctx, row)} is {relation} {subject(rule.right, ctx, row)}"
    return Finding(rule, verdict, _values(ctx, row, fields), limit, None, (), text)


@FINDINGS.register(ir.InSet)
def _in_set(rule: ir.InSet, verdict: int, ctx: Context, row: int) -> Finding:
    label = label_and_unit(rule.field)[0]
    allowed = " or ".join(rule.values) if len(rule.values) < 3 else "one of " + ", ".join(rule.values)
    value = _raw(ctx, rule.field, row)
    if verdict == UNKNOWN and value is not None:
        kind = ctx.facts.drug_names.class_of_column.get(rule.field)
        if kind is not None and ctx.facts.of_another_class(kind, str(value).lower()):
            text = (
                f"{label} is {value}, a drug the tool knows, not of the kind this column records: correct {rule.field}"
            )
        else:  # the list names examples of a kind of drug: one missing from it is not a "no" (review 64 m3)
            text = f"{label} is {value}, a name the tool does not know: is it {allowed}, or a drug of the same kind?"
        return Finding(rule, verdict, {rule.field: value}, allowed, None, (rule.field,), text)
    if verdict == UNKNOWN:
        return _unknown(rule, ctx, row, (rule.field,), allowed)
    text = f"{label} is {value}" if verdict == TRUE else f"{label} is {value} (not {allowed})"
    return Finding(rule, verdict, {rule.field: value}, allowed, None, (), text)


@FINDINGS.register(ir.Flag)
def _flag(rule: ir.Flag, verdict: int, ctx: Context, row: int) -> Finding:
    if verdict == UNKNOWN:
        return _unknown(rule, ctx, row, (rule.field,), "yes" if rule.value else "no")
    value = _raw(ctx, rule.field, row)
    return Finding(rule, verdict, {rule.field: value}, None, None, (), f"{label_and_unit(rule.field)[0]}: {value}")


@FINDINGS.register(ir.Dated)
def _recorded_date(rule: ir.Dated, verdict: int, ctx: Context, row: int) -> Finding:
    label, value = label_and_unit(rule.field)[0], _raw(ctx, rule.field, row)
    if verdict == TRUE:
        return Finding(rule, verdict, {rule.field: value}, None, None, (), f"{label} date: {value}")
    if value is None:
        return _unknown(rule, ctx, row, (rule.field,), None)
    text = f"{label} date is never, which the rest of the record contradicts: record the date"
    return Finding(rule, verdict, {rule.field: value}, None, None, (rule.field,), text)


@FINDINGS.register(ir.Known)
def _known(rule: ir.Known, verdict: int, ctx: Context, row: int) -> Finding:
    label, value = label_and_unit(rule.field)[0], _raw(ctx, rule.field, row)
    if verdict == FALSE:
        return Finding(rule, verdict, {rule.field: None}, None, None, (rule.field,), f"{label} not recorded")
    return Finding(rule, verdict, {rule.field: value}, None, None, (), f"{label} recorded: {value}")


def _dated(field: str, ctx: Context, row: int) -> tuple[str, float, dict[str, str | None]]:
    """A date leaf's label, the patient's day number (NaN blank, -inf never) and values as shown."""
    return label_and_unit(field)[0], float(ctx.values(field)[row]), _values(ctx, row, (field,))


def _the(label: str) -> str:
    """The label with its article: "the dialysis", but "another interventional trial"."""
    return label if label.startswith(("another ", "a ", "an ")) else f"the {label}"


@FINDINGS.register(ir.OccurredWithin)
def _occurred_within(rule: ir.OccurredWithin, verdict: int, ctx: Context, row: int) -> Finding:
    (label, day, values), window = _dated(rule.field, ctx, row), duration(rule.window)
    limit = f"within the last {window}"
    if math.isnan(day):
        if rule.renewable:
            text = f"{label} not recorded: to be done (valid {window})"
            return Finding(rule, verdict, values, limit, None, (rule.field,), text)
        return _unknown(rule, ctx, row, (rule.field,), limit)
    if math.isinf(day):
        text = f"{label}: never" + (f": to be done (valid {window})" if rule.renewable else "")
        return Finding(rule, verdict, values, limit, None, (rule.field,) if rule.renewable else (), text)
    closes = first_day_after(from_day_number(int(day)), rule.window)
    if verdict == TRUE:
        text = f"{label} on {day_text(day)} is within the last {window}; the window closes {closes.isoformat()}"
        wait = f"the {span(rule.window)} window after {_the(label)} of {day_text(day)}"
        return Finding(rule, verdict, values, limit, closes, (), text, wait)
    # not "more than 7 days ago": one exactly 7 days back is outside too (review 49)
    text = f"{label} on {day_text(day)} is not within the last {window} (the window closed {closes.isoformat()})"
    if rule.renewable:
        text += ": to be repeated"
    return Finding(rule, verdict, values, limit, closes, (rule.field,) if rule.renewable else (), text)


@FINDINGS.register(ir.ElapsedAtLeast)
def _elapsed_at_least(rule: ir.ElapsedAtLeast, verdict: int, ctx: Context, row: int) -> Finding:
    (label, day, values), passed = _dated(rule.field, ctx, row), duration(rule.duration)
    limit = f"at least {passed} ago"
    if math.isnan(day):
        return _unknown(rule, ctx, row, (rule.field,), limit)
    if math.isinf(day):
        return Finding(rule, verdict, values, limit, None, (), f"{label}: never")
    opens = first_day_after(from_day_number(int(day)), rule.duration)
    if verdict == FALSE:
        text = f"{label} on {day_text(day)}, less than {passed} ago; {passed} will have passed on {opens.isoformat()}"
    else:
        text = f"{label} on {day_text(day)}, at least {passed} ago (since {opens.isoformat()})"
    return Finding(rule, verdict, values, limit, opens, (), text, f"{passed} since {_the(label)} of {day_text(day)}")


def _washout_of(rule: ir.Washout, ctx: Context, row: int) -> tuple[str | None, str, str, float]:
    """A washout as the patient's row reads it: the drug's recorded name, the drug in words, "5-half-life
    washout", and the day number of the last dose (NaN blank, -inf never)."""
    named = ctx.lowered_at(rule.drug_field, row) if rule.drug_field else None
    drug = named or label_and_unit(rule.field)[0]
    return named, drug, f"{number(rule.half_lives)}-half-life washout", float(ctx.values(rule.field)[row])


@FINDINGS.register(ir.Washout)
def _washout(rule: ir.Washout, verdict: int, ctx: Context, row: int) -> Finding:
    named, drug, lives, day = _washout_of(rule, ctx, row)
    values = _values(ctx, row, ir.fields_read(rule))
    if math.isnan(day):
        return _unknown(rule, ctx, row, (rule.field,), lives)
    if math.isinf(day):
        return Finding(rule, verdict, values, lives, None, (), f"{drug}: never given")
    fewest, most = washout_days(rule, ctx.facts, named)
    given = f"{drug} last given {day_text(day)}"
    if math.isnan(most):
        if verdict == FALSE:  # given on the day read: not washed out, whatever its half-life
            return Finding(rule, verdict, values, lives, None, (), f"{given}, the day screened: no washout has run")
        text = f"{given}; {_no_half_life(rule, ctx.facts, named)}"
        return Finding(rule, verdict, values, lives, None, (rule.drug_field,) if rule.drug_field else (), text)
    if fewest != most:
        earliest, latest = from_day_number(int(day + fewest)), from_day_number(int(day + most))
        measure = (rule.drug_field,) if rule.drug_field and verdict == UNKNOWN else ()
        text = f"{given}; the {lives} ends between {earliest.isoformat()} and {latest.isoformat()}, by the drug"
        text += f": {_to_settle(rule, ctx.facts, named)}" if measure else ""
        return Finding(rule, verdict, values, lives, earliest, measure, text)
    ends = from_day_number(int(day + most))
    text = f"{given}; the {lives} {'ends' if verdict != TRUE else 'ended'} {ends.isoformat()}"
    wait = f"the {lives} of {drug} last given {day_text(day)}"
    return Finding(rule, verdict, values, f"{lives} ({int(most)} days)", ends, (), text, wait)


def washout_over(rule: ir.Washout, ctx: Context, row: int) -> tuple[dt.date, str] | None:
    """For a washout whose end hangs on the drug's name: the day it has ended whichever drug it was, and that wait
    in words, which a plan that holds without the name waits for (review 46 F4).  None where the end is one date,
    or none."""
    named, drug, lives, day = _washout_of(rule, ctx, row)
    if not math.isfinite(day):
        return None
    fewest, most = washout_days(rule, ctx.facts, named)
    if math.isnan(most) or fewest == most:
        return None
    return from_day_number(int(day + most)), f"the {lives} of {drug} last given {day_text(day)}, whichever drug it was"


def _no_half_life(rule: ir.Washout, facts: Facts, named: str | None) -> str:
    """Why no half-life decides a washout, and what to record: the drug's name, its half-life, or a correction."""
    if named in (None, "none") or rule.drug_field is None:
        return f"its half-life is not known: record the drug in {rule.drug_field or 'the facts'}"
    return _to_settle(rule, facts, named)


def _to_settle(rule: ir.Washout, facts: Facts, named: str | None) -> str:
    """What settles a washout the drug's name leaves undecided: the name, a correction of it, or its half-life."""
    if named in (None, "none"):
        return f"record {rule.drug_field}"
    if named in facts.drug_classes:
        return f"{named} names a class of drugs: record the drug in {rule.drug_field}"
    # ianalumab as the anti-CD20 was told to have a half-life added (review 81 m4)
    other_kind = rule.drug in facts.drug_classes and facts.of_another_class(str(rule.drug), str(named))
    if other_kind or facts.half_life_range(str(named)) is not None:
        kind = str(rule.drug).replace("_", " ")
        return f"{named} is not {'an' if kind[0] in 'aeiou' else 'a'} {kind}: correct {rule.drug_field}"
    return f"the facts hold no half-life for {named}: add it to the site facts, or correct {rule.drug_field}"


# The columns a derived value's note reads (``_note``), beside the value itself.
_NOTE_INPUTS = {
    "prednisone_equivalent_mg_day": ("glucocorticoid", "glucocorticoid_mg_day"),
    "prednisone_equivalent_mg_kg_day": ("glucocorticoid", "glucocorticoid_mg_day", "weight_kg"),
    "egfr_ml_min_1_73m2": ("creatinine_mg_dl",),
    "crcl_ml_min": ("creatinine_mg_dl",),
}


def key_columns(leaf: ir.Rule, ctx: Context) -> list[np.ndarray]:
    """Arrays over all patients that together determine ``finding(leaf, ., ctx, row)`` for a given verdict:
    two patients equal in every one get the same sentence, so sentences are built per distinct key."""
    out: list[np.ndarray] = []
    for field in ir.fields_read(leaf):
        out.append(_key(ctx, field))
        out.extend(ctx.blanks(field).values())
        out.extend(_key(ctx, name) for name in _NOTE_INPUTS.get(field, ()))
        if field in ("egfr_ml_min_1_73m2", "crcl_ml_min"):
            out.append(np.isnan(ctx.cohort.column(field)))  # reported, or computed (and then by which formula)
            out.append(ctx.values("age") >= 18)
        if field in ctx.derived and (by_sex := ctx.derived[field].by_sex) is not None:
            out.extend(by_sex)  # stated for both sexes where a blank sex alone leaves it unknown
    return out


def _key(ctx: Context, name: str) -> np.ndarray:
    if name in ctx.derived:
        return ctx.values(name)
    if columns()[name].kind in ("text", "enum", "id"):
        return ctx.cohort.text_codes(name)[0]
    return ctx.cohort.column(name)
