"""State criteria in plain words, for proofreading a model against its source text."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from matcher import ir
from matcher.contract import label_and_unit

_OPS = {"<": "below", "<=": "at most", ">": "above", ">=": "at least", "==": "equal to", "!=": "not equal to"}


def number(value: float, places: int | None = None) -> str:
    """A value as a clinician writes it: two decimals (``places`` if given), two significant digits below 0.1
    (0.003, not 0), no trailing zeros, never 1e-05."""
    if not math.isfinite(value):
        return str(value)
    if places is None:
        places = 2 if not 0 < abs(value) < 0.1 else min(6, 1 - math.floor(math.log10(abs(value))))
    text = f"{round(value, places):.{places}f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


_BARE_UNITS = {"", "points", "count", "0-5", "1-4", "0-4", "points (0-3)"}


def shown(value: float, unit: str, places: int | None = None) -> str:
    """A number with its unit, written the way a lab report writes it."""
    text = number(value, places)
    if unit in _BARE_UNITS:
        return text
    if unit == "1:N":
        return f"1:{text}"
    if unit == "x ULN":
        return f"{text} × ULN"
    if unit == "10^9/L":
        return f"{text} ×10⁹/L"
    if unit.startswith("%"):
        return f"{text}{unit}"
    if unit.startswith("cm ("):
        return f"{text} cm"
    return f"{text} {unit.replace('1.73m2', '1.73m²')}"


def duration(value: ir.Duration) -> str:
    parts = [(value.years, "year"), (value.months, "month"), (value.weeks, "week"), (value.days, "day")]
    return " ".join(f"{count} {unit}{'s' if count != 1 else ''}" for count, unit in parts if count)


def span(value: ir.Duration) -> str:
    """A duration as an adjective: "6-week", "30-day", "1-year 6-month"."""
    parts = [(value.years, "year"), (value.months, "month"), (value.weeks, "week"), (value.days, "day")]
    return " ".join(f"{count}-{unit}" for count, unit in parts if count)


def label(field: str) -> str:
    return label_and_unit(field)[0]


def limit(field: str, op: str, value: float) -> str:
    """A bound on a field in words: "at most 30 mg/day"."""
    return f"{_OPS[op]} {shown(value, label_and_unit(field)[1])}"


WORDS: ir.Handlers[Callable[[Any], str]] = ir.Handlers("the renderer")


def words(rule: ir.Rule) -> str:
    """One rule as an English phrase, in clinical names and units."""
    return WORDS[type(rule)](rule)


@WORDS.register(ir.Compare)
def _compare(rule: ir.Compare) -> str:
    return f"{label(rule.field)} {limit(rule.field, rule.op, rule.value)}"


def linear_words(rule: ir.Linear) -> str:
    """The expression in words: "ocular MG-ADL − 0.5 × MG-ADL total"."""
    out = ""
    for index, term in enumerate(rule.terms):
        sign = "−" if term.k < 0 else "+"
        size = abs(term.k)
        part = label(term.field) if size == 1 else f"{number(size)} × {label(term.field)}"
        out += (f"{sign} " if term.k < 0 else "") + part if index == 0 else f" {sign} {part}"
    return out


@WORDS.register(ir.Linear)
def _linear(rule: ir.Linear) -> str:
    return f"{linear_words(rule)} {_OPS[rule.op]} {number(rule.value)}"


@WORDS.register(ir.Range)
def _range(rule: ir.Range) -> str:
    low = None if rule.min is None else limit(rule.field, ">=" if rule.min_inclusive else ">", rule.min)
    high = None if rule.max is None else limit(rule.field, "<=" if rule.max_inclusive else "<", rule.max)
    return f"{label(rule.field)} {' and '.join(p for p in (low, high) if p)}"


@WORDS.register(ir.CompareFields)
def _compare_fields(rule: ir.CompareFields) -> str:
    return f"{label(rule.left)} {_OPS[rule.op]} {label(rule.right)}"


@WORDS.register(ir.InSet)
def _in_set(rule: ir.InSet) -> str:
    if len(rule.values) < 3:
        return f"{label(rule.field)} is {' or '.join(rule.values)}"
    return f"{label(rule.field)} is one of {', '.join(rule.values)}"


@WORDS.register(ir.Flag)
def _flag(rule: ir.Flag) -> str:
    return f"{label(rule.field)}: {'yes' if rule.value else 'no'}"


@WORDS.register(ir.OccurredWithin)
def _occurred_within(rule: ir.OccurredWithin) -> str:
    renew = " (older or never: to be repeated)" if rule.renewable else ""
    return f"{label(rule.field)} within the last {duration(rule.window)}{renew}"


@WORDS.register(ir.ElapsedAtLeast)
def _elapsed_at_least(rule: ir.ElapsedAtLeast) -> str:
    never = "counts" if rule.when_never else "does not count"
    return f"{label(rule.field)} at least {duration(rule.duration)} ago ('never' {never})"


@WORDS.register(ir.Washout)
def _washout(rule: ir.Washout) -> str:
    named = f"the drug named in {label(rule.drug_field)}" if rule.drug_field else None
    drug = " (else ".join(p for p in (named, rule.drug) if p) + (")" if named and rule.drug else "")
    return f"at least {number(rule.half_lives)} half-lives of {drug} since the {label(rule.field)} last dose"


@WORDS.register(ir.Known)
def _known(rule: ir.Known) -> str:
    return f"{label(rule.field)} recorded"


@WORDS.register(ir.Dated)
def _dated(rule: ir.Dated) -> str:
    return f"{label(rule.field)} date recorded"


@WORDS.register(ir.Not)
def _not(rule: ir.Not) -> str:
    return f"not ({words(rule.rule)})"


@WORDS.register(ir.If)
def _if(rule: ir.If) -> str:
    text = f"if {words(rule.condition)}, then {words(rule.then)}"
    return text + (f"; otherwise {words(rule.otherwise)}" if rule.otherwise is not None else "")


@WORDS.register(ir.AtLeast)
def _at_least(rule: ir.AtLeast) -> str:
    return f"at least {rule.k} of: " + "; ".join(f"({words(child)})" for child in rule.of)


@WORDS.register(ir.All, ir.Any_)
def _group(rule: ir.All | ir.Any_) -> str:
    if len(rule.of) == 1:
        return words(rule.of[0])
    joiner = " and " if isinstance(rule, ir.All) else " or "
    return joiner.join(f"({words(child)})" for child in rule.of)


def short_id(criterion_id: str) -> str:
    """A criterion id without its trial prefix (incl.4 for NCT06821659.incl.4), where the trial is shown beside it."""
    return criterion_id.split(".", 1)[1] if "." in criterion_id else criterion_id


def criterion_words(criterion: ir.Criterion) -> str:
    """The criterion as a requirement on the patient."""
    if isinstance(criterion.rule, ir.ManualCheck):
        text = f"manual check: {criterion.rule.question}"
    elif criterion.kind == "inclusion":
        text = f"requires {words(criterion.rule)}"
    else:
        text = f"excluded if {words(criterion.rule)}"
    if criterion.applies_when is not None:
        text = f"when {words(criterion.applies_when)}: {text}"
    return text


def trial_text(trial: ir.Trial) -> str:
    """The whole trial in plain words, grouped as inclusions, disease branches and exclusions."""
    lines = [
        f"{trial.id}: {trial.title}",
        f"Sponsor: {trial.sponsor}. Status: {trial.status}. Slots: {trial.slots}.",
        "",
    ]
    current = None
    for criterion in trial.criteria:
        group = _heading(criterion)
        if group != current:
            lines += ["", group]
            current = group
        lines.append(f"  {criterion.id}: {criterion_words(criterion)}")
        lines.append(f'      source: "{" ".join(criterion.quote.split())}"')
        if criterion.interpretation:
            lines.append(f"      reading: {' '.join(criterion.interpretation.split())}")
    return "\n".join(lines).strip() + "\n"


def _heading(criterion: ir.Criterion) -> str:
    parts = criterion.id.split(".")
    kind = "Inclusion criteria" if criterion.kind == "inclusion" else "Exclusion criteria"
    branch = parts[2] if len(parts) > 3 and not parts[2].isdigit() else None
    return f"{kind} ({branch.upper()})" if branch else kind
