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
import pyarrow as pa

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
        self.codes: dict[str, np.ndarray] = {}  # node path -> its Kleene codes at ``rows``
        self.masks: dict[str, np.ndarray] = {}  # node path -> rows (positions in ``rows``) it helps decide
        self.leaves: dict[str, ir.Rule] = {}
        self._visit(root, "rule", wanted)

    def _code(self, node: ir.Rule, path: str) -> np.ndarray:
        if path not in self.codes:
            self.codes[path] = evaluate(node, self.ctx)[self.rows]
        return self.codes[path]

    def _visit(self, node: ir.Rule, path: str, mask: np.ndarray) -> None:
        if not mask.any():
            return
        self.masks[path] = mask
        named = ir.named_children(node)
        self._code(node, path)
        if not named:
            self.leaves[path] = node
            return
        value = self.codes[path]
        if isinstance(node, ir.Not):
            self._visit(node.rule, f"{path}.rule", mask)
        elif isinstance(node, ir.If):
            self._visit_if(node, path, mask)
        elif isinstance(node, (ir.All, ir.Any_)):
            first = FALSE if isinstance(node, ir.All) else TRUE  # the value one part decides alone
            taken = np.zeros(len(mask), dtype=bool)
            for name, child in named:
                code = self._code(child, f"{path}.{name}")
                alone = mask & (value == first) & (code == first) & ~taken
                taken |= alone
                every = mask & (value == TRUE - first)  # all parts share the verdict
                self._visit(child, f"{path}.{name}", alone | every | (mask & (value == UNKNOWN) & (code == UNKNOWN)))
        else:  # at_least: the parts that share its verdict
            for name, child in named:
                self._visit(child, f"{path}.{name}", mask & (self._code(child, f"{path}.{name}") == value))

    def _visit_if(self, node: ir.If, path: str, mask: np.ndarray) -> None:
        condition = self._code(node.condition, f"{path}.condition")
        undecided = condition == UNKNOWN
        self._visit(node.condition, f"{path}.condition", mask & undecided)
        then = self._code(node.then, f"{path}.then")
        self._visit(node.then, f"{path}.then", mask & ((condition == TRUE) | (undecided & (then != TRUE))))
        if node.otherwise is not None:
            otherwise = self._code(node.otherwise, f"{path}.otherwise")
            self._visit(
                node.otherwise, f"{path}.otherwise", mask & ((condition == FALSE) | (undecided & (otherwise != TRUE)))
            )

    def finding(self, path: str, position: int) -> Finding:
        """What the leaf at ``path`` found for row ``rows[position]``."""
        return finding(self.leaves[path], int(self.codes[path][position]), self.ctx, int(self.rows[position]))

    def findings(self, position: int) -> dict[str, Finding]:
        """The findings of the leaves deciding row ``rows[position]``, by path."""
        return {path: self.finding(path, position) for path in self.leaves if self.masks[path][position]}

    def text(self, root: ir.Rule, position: int, found: dict[str, Finding]) -> str:
        return _phrase(root, "rule", self, position, found, set()) or ""


def _phrase(
    node: ir.Rule, path: str, walk: _Walk, position: int, found: dict[str, Finding], said: set[str]
) -> str | None:
    """The sentence for the deciding part of ``node`` at one row (None where the node does not decide it).
    ``said``: the leaves' sentences said so far, each said once however many leaves give it (review 44: "UPCR
    unknown: measure upcr_g_g" twice, from two leaves on one column in different branches)."""
    if path in found:
        sentence = found[path].text
        if sentence in said:
            return None
        said.add(sentence)
        return sentence
    mask = walk.masks.get(path)
    if mask is None or not mask[position]:
        return None
    parts = [
        (text, _found_under(f"{path}.{name}", found))
        for name, child in ir.named_children(node)
        if (text := _phrase(child, f"{path}.{name}", walk, position, found, said))
    ]
    # A "recorded" check beside a leaf that shows the same value says nothing more, however deep each sits (review
    # 42 m4b: "positive pregnancy test recorded: yes; positive pregnancy test: yes").
    shown = {field for _, rules in parts for rule in rules if not isinstance(rule, ir.Known) for field in _fields(rule)}
    texts = list(
        dict.fromkeys(
            text
            for text, rules in parts
            if not (rules and all(isinstance(rule, ir.Known) and rule.field in shown for rule in rules))
        )
    )
    value = int(walk.codes[path][position])
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
    combined = np.zeros(len(rows), dtype=np.int64)
    leaf_codes: dict[str, np.ndarray] = {}
    for path, leaf in walk.leaves.items():
        deciding = np.flatnonzero(walk.masks[path])
        code = np.zeros(len(deciding), dtype=np.int64)
        for column in [walk.codes[path][deciding], *(column[rows[deciding]] for column in key_columns(leaf, ctx))]:
            code = _combine(code, _dense(column))
        leaf_codes[path] = np.zeros(len(rows), dtype=np.int64)  # 0: not deciding
        leaf_codes[path][deciding] = code + 1
        combined = _combine(combined, leaf_codes[path])
    first = _first_positions(combined)
    cache: dict[tuple[str, int], Finding] = {}  # one finding per leaf and distinct key
    texts = []
    for position in first.tolist():
        found = {}
        for path, code in leaf_codes.items():
            if code[position]:
                key = (path, int(code[position]))
                if key not in cache:
                    cache[key] = walk.finding(path, position)
                found[path] = cache[key]
        texts.append(walk.text(root, position, found))
    return combined, texts


def _found_under(path: str, found: dict[str, Finding]) -> list[ir.Rule]:
    """The leaves found at ``path`` or below it."""
    return [finding.rule for at, finding in found.items() if at == path or at.startswith(f"{path}.")]


@functools.cache
def _fields(rule: ir.Rule) -> tuple[str, ...]:
    return ir.fields_read(rule)


def _first_positions(code: np.ndarray) -> np.ndarray:
    """For a dense code (values 0..k-1), where each value first occurs."""
    first = np.empty(int(code.max(initial=-1)) + 1, dtype=np.int64)
    first[code[::-1]] = np.arange(len(code) - 1, -1, -1)  # later writes win: the earliest position stays
    return first


def _dense(values: np.ndarray) -> np.ndarray:
    """Each value's index among the distinct values, by hashing (NaN is one value, as is -inf)."""
    return np.asarray(pa.array(values).dictionary_encode().indices.to_numpy(zero_copy_only=False), dtype=np.int64)


def _combine(code: np.ndarray, part: np.ndarray) -> np.ndarray:
    """Distinct pairs of two small-integer columns as one dense code."""
    return _dense(code * (int(part.max(initial=0)) + 1) + part)


def first_reason_codes(
    criteria: list[ir.Criterion],
    holds: np.ndarray,
    status: np.ndarray,
    ctx: Context | None,
    named: np.ndarray | None = None,
) -> tuple[np.ndarray, list[str]]:
    """Per patient, the first criterion that fails (or, for an undecided patient, the first undecided one) in
    words, with the count of the others: as (an index per row, -1 where there is none; the distinct texts).
    ``named``: per row, the criterion to name in place of the first (-1: the first).

    Without a context (the values are not at hand) the criterion's requirement is stated instead.
    """
    wanted = np.where(status == FALSE, FALSE, UNKNOWN).astype(np.int8)
    asked = (status == FALSE) | (status == UNKNOWN)
    first = np.full(len(status), -1, dtype=np.int64)
    more = np.full(len(status), -1, dtype=np.int64)
    for index in range(holds.shape[1] - 1, -1, -1):  # column by column: the matrix is stored that way
        matching = (holds[:, index] == wanted) & asked
        first[matching] = index
        more += matching
    if named is not None:
        first = np.where(named >= 0, named, first)
    codes = np.full(len(status), -1, dtype=np.int64)
    texts: list[str] = []
    for index in np.unique(first[first >= 0]).tolist():
        rows = np.flatnonzero(first == index)
        if ctx is None:
            local, sentences = np.zeros(len(rows), dtype=np.int64), [criterion_words(criteria[index])]
        else:
            local, sentences = reason_texts(criteria[index], ctx, rows)
        others_at = more[rows]
        case = _dense(local * (int(others_at.max()) + 1) + others_at)
        codes[rows] = len(texts) + case
        for position in _first_positions(case).tolist():
            others = int(others_at[position])
            texts.append(sentences[local[position]] + (f" (+{others} more)" if others else ""))
        if ctx is not None:
            ctx.forget_nodes()
    return codes, texts
