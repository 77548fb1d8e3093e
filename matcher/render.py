"""State criteria in plain words, for proofreading a model against its source text."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from matcher import ir

_OPS = {"<": "below", "<=": "at most", ">": "above", ">=": "at least", "==": "equal to", "!=": "not equal to"}


def _number(value: float) -> str:
    return f"{value:g}"


def duration(value: ir.Duration) -> str:
    parts = [(value.years, "year"), (value.months, "month"), (value.weeks, "week"), (value.days, "day")]
    return " ".join(f"{count} {unit}{'s' if count != 1 else ''}" for count, unit in parts if count)


WORDS: ir.Handlers[Callable[[Any], str]] = ir.Handlers("the renderer")


def words(rule: ir.Rule) -> str:
    """One rule as an English phrase."""
    return WORDS[type(rule)](rule)


@WORDS.register(ir.Compare)
def _compare(rule: ir.Compare) -> str:
    return f"{rule.field} is {_OPS[rule.op]} {_number(rule.value)}"


@WORDS.register(ir.Range)
def _range(rule: ir.Range) -> str:
    low = None if rule.min is None else f"{'at least' if rule.min_inclusive else 'above'} {_number(rule.min)}"
    high = None if rule.max is None else f"{'at most' if rule.max_inclusive else 'below'} {_number(rule.max)}"
    return f"{rule.field} is {' and '.join(p for p in (low, high) if p)}"


@WORDS.register(ir.CompareFields)
def _compare_fields(rule: ir.CompareFields) -> str:
    return f"{rule.left} is {_OPS[rule.op]} {rule.right}"


@WORDS.register(ir.InSet)
def _in_set(rule: ir.InSet) -> str:
    if len(rule.values) < 3:
        return f"{rule.field} is {' or '.join(rule.values)}"
    return f"{rule.field} is one of {', '.join(rule.values)}"


@WORDS.register(ir.Flag)
def _flag(rule: ir.Flag) -> str:
    return f"{rule.field} is {'true' if rule.value else 'false'}"


@WORDS.register(ir.OccurredWithin)
def _occurred_within(rule: ir.OccurredWithin) -> str:
    renew = " (older or never: to be repeated)" if rule.renewable else ""
    return f"{rule.field} falls within the last {duration(rule.window)}{renew}"


@WORDS.register(ir.ElapsedAtLeast)
def _elapsed_at_least(rule: ir.ElapsedAtLeast) -> str:
    never = "counts" if rule.when_never else "does not count"
    return f"at least {duration(rule.duration)} have passed since {rule.field} ('never' {never})"


@WORDS.register(ir.Washout)
def _washout(rule: ir.Washout) -> str:
    named = f"the drug named in {rule.drug_field}" if rule.drug_field else None
    drug = " (else ".join(p for p in (named, rule.drug) if p) + (")" if named and rule.drug else "")
    return f"at least {_number(rule.half_lives)} half-lives of {drug} have passed since {rule.field}"


@WORDS.register(ir.Known)
def _known(rule: ir.Known) -> str:
    return f"{rule.field} is recorded"


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
