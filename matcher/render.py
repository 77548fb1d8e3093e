"""State criteria in plain words, for proofreading a model against its source text."""

from __future__ import annotations

from typing import cast

from matcher import ir

_OPS = {"<": "below", "<=": "at most", ">": "above", ">=": "at least", "==": "equal to", "!=": "not equal to"}


def _number(value: float) -> str:
    return f"{value:g}"


def duration(value: ir.Duration) -> str:
    parts = [(value.years, "year"), (value.months, "month"), (value.weeks, "week"), (value.days, "day")]
    return " ".join(f"{count} {unit}{'s' if count != 1 else ''}" for count, unit in parts if count)


def words(rule: ir.Rule) -> str:
    """One rule as an English phrase."""
    if isinstance(rule, ir.Compare):
        return f"{rule.field} is {_OPS[rule.op]} {_number(rule.value)}"
    if isinstance(rule, ir.Range):
        low = None if rule.min is None else f"{'at least' if rule.min_inclusive else 'above'} {_number(rule.min)}"
        high = None if rule.max is None else f"{'at most' if rule.max_inclusive else 'below'} {_number(rule.max)}"
        return f"{rule.field} is {' and '.join(p for p in (low, high) if p)}"
    if isinstance(rule, ir.CompareFields):
        return f"{rule.left} is {_OPS[rule.op]} {rule.right}"
    if isinstance(rule, ir.InSet):
        return (
            f"{rule.field} is {' or '.join(rule.values)}"
            if len(rule.values) < 3
            else f"{rule.field} is one of {', '.join(rule.values)}"
        )
    if isinstance(rule, ir.Flag):
        return f"{rule.field} is {'true' if rule.value else 'false'}"
    if isinstance(rule, ir.OccurredWithin):
        renew = " (older or never: to be repeated)" if rule.renewable else ""
        return f"{rule.field} falls within the last {duration(rule.window)}{renew}"
    if isinstance(rule, ir.ElapsedAtLeast):
        never = "counts" if rule.when_never else "does not count"
        return f"at least {duration(rule.duration)} have passed since {rule.field} ('never' {never})"
    if isinstance(rule, ir.Washout):
        named = f"the drug named in {rule.drug_field}" if rule.drug_field else None
        drug = " (else ".join(p for p in (named, rule.drug) if p) + (")" if named and rule.drug else "")
        return f"at least {_number(rule.half_lives)} half-lives of {drug} have passed since {rule.field}"
    if isinstance(rule, ir.Known):
        return f"{rule.field} is recorded"
    if isinstance(rule, ir.Not):
        return f"not ({words(rule.rule)})"
    if isinstance(rule, ir.If):
        text = f"if {words(rule.condition)}, then {words(rule.then)}"
        return text + (f"; otherwise {words(rule.otherwise)}" if rule.otherwise is not None else "")
    if isinstance(rule, ir.AtLeast):
        return f"at least {rule.k} of: " + "; ".join(f"({words(child)})" for child in rule.of)
    joiner = " and " if isinstance(rule, ir.All) else " or "
    group = cast(ir.All | ir.Any_, rule)
    if len(group.of) == 1:
        return words(group.of[0])
    return joiner.join(f"({words(child)})" for child in group.of)


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
        group = _group(criterion)
        if group != current:
            lines += ["", group]
            current = group
        lines.append(f"  {criterion.id}: {criterion_words(criterion)}")
        lines.append(f'      source: "{" ".join(criterion.quote.split())}"')
        if criterion.interpretation:
            lines.append(f"      reading: {' '.join(criterion.interpretation.split())}")
    return "\n".join(lines).strip() + "\n"


def _group(criterion: ir.Criterion) -> str:
    parts = criterion.id.split(".")
    kind = "Inclusion criteria" if criterion.kind == "inclusion" else "Exclusion criteria"
    branch = parts[2] if len(parts) > 3 and not parts[2].isdigit() else None
    return f"{kind} ({branch.upper()})" if branch else kind
