"""What a trial's rules read, gathered once per trial or criterion: the nodes, the fields each reads, the timed
leaves, the limits and accepted values per column.  The what-if model and the plan's words ask these for every
plan of a scan, so they are gathered once rather than walked per plan.

Each cache is keyed by the trial's or criterion's id and holds its owner: another object under the same id (a
trial loaded with other facts) is computed afresh, so no cache depends on object identity alone.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

from matcher import ir

_NODES: dict[str, tuple[ir.Trial, list[ir.Rule]]] = {}


_READS: dict[str, tuple[ir.Criterion, tuple[set[str], bool]]] = {}


_Cached = TypeVar("_Cached")


def _by_id(table: dict[str, tuple[Any, _Cached]], key: str, owner: object, compute: Callable[[], _Cached]) -> _Cached:
    """A cache keyed by an id string that holds its owner: another object under the same id is computed afresh."""
    entry = table.get(key)
    if entry is None or entry[0] is not owner:
        entry = table[key] = (owner, compute())
    return entry[1]


def _nodes(trial: ir.Trial) -> list[ir.Rule]:
    """Every node of a trial's data criteria (rules and ``applies_when``), walked once per trial."""

    def walk() -> list[ir.Rule]:
        roots = [root for c in trial.criteria if not c.is_manual for root in (c.rule, c.applies_when) if root]
        return [node for root in roots for node in ir.walk(cast(ir.Rule, root))]

    return _by_id(_NODES, trial.id, trial, walk)


_TIMED: dict[str, tuple[ir.Trial, list[ir.Washout | ir.OccurredWithin | ir.ElapsedAtLeast]]] = {}


def timed_leaves(trial: ir.Trial) -> list[ir.Washout | ir.OccurredWithin | ir.ElapsedAtLeast]:
    """The windows, elapsed times and washouts of a trial's data criteria, gathered once per trial."""

    def gather() -> list[ir.Washout | ir.OccurredWithin | ir.ElapsedAtLeast]:
        return [node for node in _nodes(trial) if isinstance(node, ir.TIMED_LEAVES)]

    return _by_id(_TIMED, trial.id, trial, gather)


_LIMITS: dict[str, tuple[ir.Trial, dict[str, list[float]]]] = {}


def limits_by_column(trial: ir.Trial) -> dict[str, list[float]]:
    """The bounds a trial's thresholds and ranges set, per column, gathered once per trial."""

    def gather() -> dict[str, list[float]]:
        limits: dict[str, list[float]] = {}
        for node in _nodes(trial):
            if isinstance(node, ir.Compare):
                limits.setdefault(node.field, []).append(float(node.value))
            elif isinstance(node, ir.Range):
                limits.setdefault(node.field, []).extend(float(b) for b in (node.min, node.max) if b is not None)
        return limits

    return _by_id(_LIMITS, trial.id, trial, gather)


_ACCEPTED: dict[str, tuple[ir.Trial, dict[str, list[set[str]]]]] = {}


def accepted_by_column(trial: ir.Trial) -> dict[str, list[set[str]]]:
    """Per column, the lower-cased values each of the trial's set rules on it accepts, gathered once per trial."""

    def gather() -> dict[str, list[set[str]]]:
        accepted: dict[str, list[set[str]]] = {}
        for node in _nodes(trial):
            if isinstance(node, ir.InSet):
                accepted.setdefault(node.field, []).append({value.lower() for value in node.values})
        return accepted

    return _by_id(_ACCEPTED, trial.id, trial, gather)


_NODE_READS: dict[str, tuple[ir.Trial, dict[ir.Rule, tuple[frozenset[str], tuple[ir.Rule, ...]]]]] = {}


def reads_by_node(trial: ir.Trial) -> dict[ir.Rule, tuple[frozenset[str], tuple[ir.Rule, ...]]]:
    """Per node of a trial's criteria (manual ones' ``applies_when`` too): the fields it reads, and the leaves
    below it that waiting alone can change (windows, elapsed times, washouts, leaves reading the age)."""

    def gather() -> dict[ir.Rule, tuple[frozenset[str], tuple[ir.Rule, ...]]]:
        found = {}
        for criterion in trial.criteria:
            roots = [criterion.applies_when] + ([] if criterion.is_manual else [cast(ir.Rule, criterion.rule)])
            for node in (node for root in roots if root is not None for node in ir.walk(root)):
                timed = tuple(leaf for leaf in ir.walk(node) if not ir.children(leaf) and ir.moves_with_time(leaf))
                found[node] = frozenset(ir.fields_read(node)), timed
        return found

    return _by_id(_NODE_READS, trial.id, trial, gather)


def criterion_reads(criterion: ir.Criterion) -> tuple[set[str], bool]:
    """The fields a criterion reads (rule and ``applies_when``), and whether waiting alone can change it."""

    def read() -> tuple[set[str], bool]:
        roots = [criterion.applies_when] if criterion.applies_when is not None else []
        if not criterion.is_manual:
            roots.append(cast(ir.Rule, criterion.rule))
        nodes = [node for root in roots for node in ir.walk(root)]
        reads = {name for root in roots for name in ir.fields_read(root)}
        timed = ir.reads_ageing(reads) or any(isinstance(n, ir.TIMED_LEAVES) for n in nodes)
        return reads, timed

    return _by_id(_READS, criterion.id, criterion, read)


_LEAVES: dict[str, tuple[ir.Criterion, tuple[tuple[ir.Rule, frozenset[str]], ...]]] = {}
_WASHOUTS: dict[str, tuple[ir.Criterion, tuple[tuple[ir.Washout, frozenset[str]], ...]]] = {}


def criterion_leaves(criterion: ir.Criterion) -> tuple[tuple[ir.Rule, frozenset[str]], ...]:
    """The leaves of a data criterion's rule, each with the columns it reads, gathered once per criterion."""

    def gather() -> tuple[tuple[ir.Rule, frozenset[str]], ...]:
        leaves = (node for node in ir.walk(cast(ir.Rule, criterion.rule)) if not ir.children(node))
        return tuple((leaf, frozenset(ir.fields_read(leaf))) for leaf in leaves)

    return _by_id(_LEAVES, criterion.id, criterion, gather)


_NODE_FIELDS: dict[str, tuple[ir.Criterion, dict[ir.Rule, frozenset[str]]]] = {}


def criterion_node_fields(criterion: ir.Criterion) -> dict[ir.Rule, frozenset[str]]:
    """Per node of a data criterion's rule, the columns it reads, gathered once per criterion."""

    def gather() -> dict[ir.Rule, frozenset[str]]:
        return {node: frozenset(ir.fields_read(node)) for node in ir.walk(cast(ir.Rule, criterion.rule))}

    return _by_id(_NODE_FIELDS, criterion.id, criterion, gather)


def criterion_washouts(criterion: ir.Criterion) -> tuple[tuple[ir.Washout, frozenset[str]], ...]:
    """The washouts among a data criterion's leaves, with the columns each reads (its date and drug name)."""

    def gather() -> tuple[tuple[ir.Washout, frozenset[str]], ...]:
        return tuple((leaf, fields) for leaf, fields in criterion_leaves(criterion) if isinstance(leaf, ir.Washout))

    return _by_id(_WASHOUTS, criterion.id, criterion, gather)
