"""Why a criterion fails or stays undecided for a patient: the part of the rule that decided it, in words.

The deciding part of a rule, per node and verdict (the rule the criterion states, negated for an exclusion,
under its ``applies_when`` condition):

* ALL that fails: its first failing part; ANY that fails: every part (all failed); AT_LEAST: the parts that
  share its verdict; an undecided group: its undecided parts; a group that holds (an exclusion that
  applies): ALL, every part, ANY, the first that holds.
* IF: the branch the condition picks; an undecided condition, and the branches that do not hold.

The walk is vectorized over the rows asked about, so a million reasons cost one pass per criterion over the
rows that fail it; sentences are then built once per distinct case (same deciding leaves, same values).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, cast

import numpy as np

from matcher import ir
from matcher.context import Context
from matcher.evaluate import evaluate
from matcher.findings import Finding, finding, key_columns
from matcher.kleene import FALSE, TRUE, UNKNOWN
from matcher.render import criterion_words

_CRITERION_VERDICTS = ("fails", "unknown", "met")


@dataclass(frozen=True)
class Reason:
    """One criterion's verdict for one patient, the findings that decided it, and the sentence they make."""

    criterion: ir.Criterion
    verdict: int  # whether the patient meets the criterion (Kleene code)
    findings: tuple[Finding, ...]
    text: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "criterion_id": self.criterion.id,
            "kind": self.criterion.kind,
            "verdict": _CRITERION_VERDICTS[self.verdict],
            "text": self.text,
            "quote": " ".join(self.criterion.quote.split()),
            "findings": [item.as_dict() for item in self.findings],
        }


@functools.cache
def statement(criterion: ir.Criterion) -> ir.Rule:
    """What the patient must satisfy, as one rule: the rule (negated for an exclusion) under ``applies_when``."""
    rule = cast(ir.Rule, criterion.rule)
    meets: ir.Rule = rule if criterion.kind == "inclusion" else ir.Not(type="not", rule=rule)
    if criterion.applies_when is None:
        return meets
    return ir.If(type="if", condition=criterion.applies_when, then=meets)


class _Walk:
    """The deciding leaves of one rule for some rows: per leaf occurrence (its path), the rows it decides."""

    def __init__(self, root: ir.Rule, ctx: Context, rows: np.ndarray, wanted: np.ndarray) -> None:
        self.ctx, self.rows = ctx, rows
        self._codes: dict[ir.Rule, np.ndarray] = {}
        self.masks: dict[str, np.ndarray] = {}  # node path -> rows (positions in ``rows``) it helps decide
        self.leaves: dict[str, ir.Rule] = {}
        self._visit(root, "rule", wanted)

    def codes(self, node: ir.Rule) -> np.ndarray:
        if node not in self._codes:
            self._codes[node] = evaluate(node, self.ctx)[self.rows]
        return self._codes[node]

    def _visit(self, node: ir.Rule, path: str, mask: np.ndarray) -> None:
        if not mask.any():
            return
        self.masks[path] = mask
        named = ir.named_children(node)
        if not named:
            self.leaves[path] = node
            return
        value = self.codes(node)
        if isinstance(node, ir.Not):
            self._visit(node.rule, f"{path}.rule", mask)
        elif isinstance(node, ir.If):
            self._visit_if(node, path, mask)
        elif isinstance(node, (ir.All, ir.Any_)):
            first = FALSE if isinstance(node, ir.All) else TRUE  # the value one part decides alone
            taken = np.zeros(len(mask), dtype=bool)
            for name, child in named:
                code = self.codes(child)
                alone = mask & (value == first) & (code == first) & ~taken
                taken |= alone
                every = mask & (value == TRUE - first)  # all parts share the verdict
                self._visit(child, f"{path}.{name}", alone | every | (mask & (value == UNKNOWN) & (code == UNKNOWN)))
        else:  # at_least: the parts that share its verdict
            for name, child in named:
                self._visit(child, f"{path}.{name}", mask & (self.codes(child) == value))

    def _visit_if(self, node: ir.If, path: str, mask: np.ndarray) -> None:
        condition = self.codes(node.condition)
        undecided = condition == UNKNOWN
        self._visit(node.condition, f"{path}.condition", mask & undecided)
        self._visit(
            node.then, f"{path}.then", mask & ((condition == TRUE) | (undecided & (self.codes(node.then) != TRUE)))
        )
        if node.otherwise is not None:
            otherwise = self.codes(node.otherwise)
            self._visit(
                node.otherwise, f"{path}.otherwise", mask & ((condition == FALSE) | (undecided & (otherwise != TRUE)))
            )

    def findings(self, position: int) -> dict[str, Finding]:
        """The findings of the leaves deciding row ``rows[position]``, by path."""
        row = int(self.rows[position])
        return {
            path: finding(leaf, int(self.codes(leaf)[position]), self.ctx, row)
            for path, leaf in self.leaves.items()
            if self.masks[path][position]
        }

    def text(self, root: ir.Rule, position: int, found: dict[str, Finding]) -> str:
        return _phrase(root, "rule", self, position, found) or ""


def _phrase(node: ir.Rule, path: str, walk: _Walk, position: int, found: dict[str, Finding]) -> str | None:
    """The sentence for the deciding part of ``node`` at one row (None where the node does not decide it)."""
    if path in found:
        return found[path].text
    mask = walk.masks.get(path)
    if mask is None or not mask[position]:
        return None
    named = ir.named_children(node)
    parts = [
        (child, text) for name, child in named if (text := _phrase(child, f"{path}.{name}", walk, position, found))
    ]
    # A "recorded" check beside a leaf that shows the same value says nothing more.
    shown = {field for child, _ in parts if not isinstance(child, ir.Known) for field in ir.fields_read(child)}
    texts = list(
        dict.fromkeys(text for child, text in parts if not (isinstance(child, ir.Known) and child.field in shown))
    )
    value = int(walk.codes(node)[position])
    if isinstance(node, ir.Any_) and value == FALSE and len(texts) > 1:
        return "none of: " + "; ".join(texts)
    if isinstance(node, ir.AtLeast) and value == FALSE:
        return f"fewer than {node.k} of {len(node.of)} met ({'; '.join(texts)})"
    return "; ".join(texts)


def reasons(criterion: ir.Criterion, ctx: Context, rows: np.ndarray) -> list[Reason]:
    """The reason object of ``criterion`` for each row in ``rows``."""
    root = statement(criterion)
    holds = evaluate(root, ctx)[rows]
    walk = _Walk(root, ctx, rows, holds != TRUE)
    out = []
    for position in range(len(rows)):
        found = walk.findings(position)
        out.append(Reason(criterion, int(holds[position]), tuple(found.values()), walk.text(root, position, found)))
    return out


def reason_texts(criterion: ir.Criterion, ctx: Context, rows: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """The sentence of ``criterion`` for each row in ``rows``, as (an index per row, the distinct sentences).

    Rows alike in their deciding leaves, those leaves' verdicts and every value a sentence reads share one
    sentence, which is built once.
    """
    root = statement(criterion)
    holds = evaluate(root, ctx)[rows]
    walk = _Walk(root, ctx, rows, holds != TRUE)
    parts = [np.zeros(len(rows), dtype=np.int64)]
    for path, leaf in walk.leaves.items():
        keys = np.column_stack([walk.codes(leaf), *(column[rows] for column in key_columns(leaf, ctx))])
        keys = np.where(np.isnan(keys), np.inf, keys)  # NaN equals NaN here, and is not -inf ("never")
        keys[~walk.masks[path]] = -1.5  # not deciding: one key
        parts.append(np.unique(keys, axis=0, return_inverse=True)[1].reshape(-1))
    _, first, inverse = np.unique(np.column_stack(parts), axis=0, return_index=True, return_inverse=True)
    texts = []
    for position in first.tolist():
        texts.append(walk.text(root, position, walk.findings(position)))
    return inverse.reshape(-1), texts


def first_reason_codes(
    criteria: list[ir.Criterion], holds: np.ndarray, status: np.ndarray, ctx: Context | None
) -> tuple[np.ndarray, list[str]]:
    """Per patient, the first criterion that fails (or, for an undecided patient, the first undecided one) in
    words, with the count of the others: as (an index per row, -1 where there is none; the distinct texts).

    Without a context (the values are not at hand) the criterion's requirement is stated instead.
    """
    first_code = np.where(status == FALSE, FALSE, UNKNOWN)
    matching = holds == first_code[:, None]
    asked = ((status == FALSE) | (status == UNKNOWN)) & (holds.shape[1] > 0)
    first = np.where(asked, matching.argmax(axis=1) if holds.shape[1] else 0, -1)
    more = matching.sum(axis=1) - 1
    codes = np.full(len(status), -1, dtype=np.int64)
    texts: list[str] = []
    for index in np.unique(first[first >= 0]).tolist():
        rows = np.flatnonzero(first == index)
        if ctx is None:
            local, sentences = np.zeros(len(rows), dtype=np.int64), [criterion_words(criteria[index])]
        else:
            local, sentences = reason_texts(criteria[index], ctx, rows)
        combined = local * (int(more[rows].max()) + 1) + more[rows]
        distinct, inverse = np.unique(combined, return_inverse=True)
        codes[rows] = len(texts) + inverse.reshape(-1)
        for value in distinct.tolist():
            sentence, others = divmod(value, int(more[rows].max()) + 1)
            texts.append(sentences[sentence] + (f" (+{others} more)" if others else ""))
        if ctx is not None:
            ctx.forget_nodes()
    return codes, texts
