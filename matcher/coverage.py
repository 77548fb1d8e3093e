"""Coverage of a trial's published eligibility text by its encoded criteria.

A trial file keeps the eligibility text split into ``source_items``.  The check
fails when an item is unaccounted for (no criterion, not manual, no reason it
cannot be encoded), when a criterion encodes no item, or when the items do not
reassemble the eligibility section of the seed file, so nothing is left out.
"""

from __future__ import annotations

import re
from pathlib import Path

from matcher import ir
from matcher.errors import TrialModelError
from matcher.trials import models_dir


def normalized(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def eligibility_section(trial: ir.Trial, sources: Path | None = None) -> str:
    """The seed's eligibility text between the trial's ``after`` and ``before`` markers."""
    if trial.source is None:
        raise TrialModelError(f"{trial.id}: no source text is declared")
    text = normalized(((sources or models_dir() / "sources") / trial.source.file).read_text("utf-8"))
    start = text.find(normalized(trial.source.after))
    if start < 0:
        raise TrialModelError(f"{trial.id}: marker {trial.source.after!r} not found in {trial.source.file}")
    start += len(normalized(trial.source.after))
    end = text.find(normalized(trial.source.before), start) if trial.source.before else len(text)
    if end < 0:
        raise TrialModelError(f"{trial.id}: marker {trial.source.before!r} not found after the start marker")
    return text[start:end].strip()


def coverage_problems(trial: ir.Trial, sources: Path | None = None) -> list[str]:
    problems = []
    if not trial.source_items:
        return [f"{trial.id}: no source_items"]
    for index, item in enumerate(trial.source_items):
        accounted = item.heading or item.criteria or item.manual or item.not_encodable
        if not accounted:
            problems.append(f"source_items[{index}] is not accounted for: {normalized(item.text)[:80]!r}")
    referenced = {ref for item in trial.source_items for ref in item.criteria}
    for criterion in trial.criteria:
        if criterion.id not in referenced:
            problems.append(f"criterion {criterion.id} encodes no source item")
    section = eligibility_section(trial, sources)
    assembled = normalized(" ".join(item.text for item in trial.source_items))
    if assembled != section:
        common = 0
        while common < min(len(assembled), len(section)) and assembled[common] == section[common]:
            common += 1
        problems.append(
            "source_items do not reassemble the eligibility text; first difference at character "
            f"{common}: items have {assembled[common : common + 60]!r}, the seed has {section[common : common + 60]!r}"
        )
    return problems
