"""The typed criteria IR: eligibility rules as data.

Every node is a frozen pydantic model discriminated by ``type``.  A rule is a
statement about one patient on the screening date; it evaluates to true, false
or unknown (Kleene logic).  Backends (the vectorized evaluator, the plain-words
renderer) walk the same tree, so the tree itself carries no behaviour beyond
listing the fields it reads.

Conventions shared by all backends:

* Time is measured back from the screening date (``--as-of``).  ``occurred_within``
  of 30 days means the event date is *after* the day 30 days before the as-of
  date; ``elapsed_at_least`` is its exact complement.  Months are calendar
  months clamped to the month's end, a week is 7 days.
* A date column may hold ``never`` (known not to have happened).  Event windows
  treat ``never`` as "not within"; washouts treat it as "washed out"; rules about
  the duration of a current course must say what ``never`` means (``when_never``).
* Exclusion criteria state the excluding condition: a patient is excluded when
  the rule is true.
"""

from __future__ import annotations

import datetime as dt
import operator
import re
import typing
from collections.abc import Callable, Iterable, Iterator
from typing import Annotated, Any, Generic, Literal, TypeVar, cast, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

_HASH = "_node_hash"  # where a node keeps its hash, beside its fields


class Node(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    def __hash__(self) -> int:
        """Computed once per node: nodes key the backends' memo tables, and pydantic's hash walks the subtree."""
        cached = self.__dict__.get(_HASH)
        if cached is None:
            fields = (self.__dict__[name] for name in type(self).model_fields)
            cached = self.__dict__[_HASH] = hash((type(self), *fields))
        return cast(int, cached)

    def __getstate__(self) -> dict[Any, Any]:
        """Pickled without the hash: another interpreter hashes strings differently."""
        state = super().__getstate__()
        return {**state, "__dict__": {k: v for k, v in state["__dict__"].items() if k != _HASH}}


class Duration(Node):
    """A calendar duration; the parts add up (e.g. 1 year and 6 months)."""

    days: int = 0
    weeks: int = 0
    months: int = 0
    years: int = 0

    @model_validator(mode="after")
    def _positive(self) -> Duration:
        parts = (self.days, self.weeks, self.months, self.years)
        if any(p < 0 for p in parts) or not any(parts):
            raise ValueError("a duration needs at least one positive part and no negative part")
        return self


Number = float
Comparison = Literal["<", "<=", ">", ">=", "==", "!="]
# What each comparison means, for numbers, arrays and solver expressions alike.
OPERATORS: dict[str, Callable[[Any, Any], Any]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
}


class Compare(Node):
    """A threshold: ``field op value``."""

    type: Literal["compare"]
    field: str
    op: Comparison
    value: Number


class Range(Node):
    """``min <= field <= max``; either end may be open or exclusive."""

    type: Literal["range"]
    field: str
    min: Number | None = None
    max: Number | None = None
    min_inclusive: bool = True
    max_inclusive: bool = True

    @model_validator(mode="after")
    def _valid(self) -> Range:
        if self.min is None and self.max is None:
            raise ValueError("a range needs min, max or both")
        if self.min is not None and self.max is not None:
            empty = self.min > self.max or (self.min == self.max and not (self.min_inclusive and self.max_inclusive))
            if empty:
                raise ValueError(f"invalid range: min {self.min} is not below max {self.max}")
        return self


class CompareFields(Node):
    """Two numeric fields of the same patient: ``left op right``."""

    type: Literal["compare_fields"]
    left: str
    op: Comparison
    right: str


class Term(Node):
    """``k`` times a numeric field, one term of a linear expression."""

    field: str
    k: Number = 1.0


class Linear(Node):
    """A linear expression over numeric fields against a constant: ``sum(k * field) op value``.

    For scaled and combined values the texts compare ("ocular items < 50% of the MG-ADL total" is
    ``ocular - 0.5 * total < 0``).  Unknown whenever any term is unknown.  The sum is rounded to 1e-6,
    the precision the loader keeps, so exact limits hold in every backend.
    """

    type: Literal["linear"]
    terms: tuple[Term, ...] = Field(min_length=1)
    op: Comparison
    value: Number


class InSet(Node):
    """The field's code is one of ``values`` (case-insensitive)."""

    type: Literal["in_set"]
    field: str
    values: tuple[str, ...] = Field(min_length=1)


class Flag(Node):
    """A boolean field equals ``value``."""

    type: Literal["flag"]
    field: str
    value: bool = True


class OccurredWithin(Node):
    """The event in date ``field`` happened within ``window`` before the as-of date.

    ``never`` counts as not within.  A date after the as-of date counts as within.
    ``renewable``: the date is of a result that is simply repeated when it is too old
    (a pregnancy test whose text gives no window): outside the window, or ``never``,
    the rule is unknown with ``field`` to measure again, not false.
    """

    type: Literal["occurred_within"]
    field: str
    window: Duration
    renewable: bool = False


class ElapsedAtLeast(Node):
    """At least ``duration`` has passed since the date in ``field``.

    ``when_never`` is the value when the column says ``never`` (for a course start
    date: not on that course now), and must be stated because it differs by rule.
    """

    type: Literal["elapsed_at_least"]
    field: str
    duration: Duration
    when_never: bool


class Washout(Node):
    """A stopped drug's last dose lies at least ``half_lives`` half-lives back.

    The half-life is that of the drug named in ``drug_field`` when the patient's row
    names one, else that of ``drug`` (a drug, or a class from the facts' ``drug_classes``).
    A class with no recorded name decides the washout only where every member decides
    it alike; in between the rule is unknown and ``drug_field`` is what to measure.
    ``never`` means washed out.
    """

    type: Literal["washout"]
    field: str
    half_lives: float = Field(gt=0)
    drug: str | None = None
    drug_field: str | None = None

    @model_validator(mode="after")
    def _some_source(self) -> Washout:
        if self.drug is None and self.drug_field is None:
            raise ValueError("a washout names drug, drug_field or both")
        return self


class Dated(Node):
    """The event in date ``field`` is recorded with its date: true for a date, unknown otherwise.

    For a row whose other columns say the event happened (a drug named as stopped, a malignancy
    recorded): there a ``never`` contradicts the row and, like a blank, leaves the date to record.
    It is never false; ``not dated`` is false where the date is recorded, else unknown.
    """

    type: Literal["dated"]
    field: str


class Known(Node):
    """The field has a value (is not blank); ``never``/``none`` count as known."""

    type: Literal["known"]
    field: str


class All(Node):
    type: Literal["all"]
    of: tuple[Rule, ...] = Field(min_length=1)


class Any_(Node):
    type: Literal["any"]
    of: tuple[Rule, ...] = Field(min_length=1)


class AtLeast(Node):
    """At least ``k`` of the rules hold."""

    type: Literal["at_least"]
    k: int = Field(ge=1)
    of: tuple[Rule, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _k_reachable(self) -> AtLeast:
        if self.k > len(self.of):
            raise ValueError(f"at_least k={self.k} exceeds the {len(self.of)} rules given")
        return self


class Not(Node):
    type: Literal["not"]
    rule: Rule


class If(Node):
    """A conditional: where ``condition`` holds, ``then`` must hold; elsewhere ``otherwise``.

    Kleene semantics of a case split: (condition and then) or (not condition and
    otherwise) or (then and otherwise), so an unknown condition does not matter where
    both branches hold.  Without ``otherwise`` (true) the rule is vacuously true where
    the condition is false, which is how disease-specific branches leave other
    diseases untouched.
    """

    type: Literal["if"]
    condition: Rule
    then: Rule
    otherwise: Rule | None = None


Rule = Annotated[
    Compare
    | Linear
    | Range
    | CompareFields
    | InSet
    | Flag
    | OccurredWithin
    | ElapsedAtLeast
    | Washout
    | Known
    | Dated
    | All
    | Any_
    | AtLeast
    | Not
    | If,
    Field(discriminator="type"),
]

for _model in (All, Any_, AtLeast, Not, If):
    _model.model_rebuild()


_MARKDOWN_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!<>~|])")


class ManualCheck(Node):
    """A requirement only a person can judge; listed, never changes the verdict."""

    type: Literal["manual"]
    question: str


Anchor = Literal["screening", "enrolment", "lymphodepletion", "infusion"]
ANCHORS: tuple[Anchor, ...] = get_args(Anchor)  # the events a window may count to, in the order they come


class Criterion(Node):
    """One eligibility criterion: an id, the text it encodes and its rule.

    The quote is shown to users, so the markdown escapes of the published text
    (``\\<50,000``, ``0\\~1``) are removed when the model is loaded; ``source_items``
    keep the text exactly as published.
    """

    id: str = Field(pattern=r"^[A-Za-z0-9_.\-]+$")
    kind: Literal["inclusion", "exclusion"]
    quote: str = Field(min_length=1)
    interpretation: str | None = None
    applies_when: Rule | None = None
    rule: Annotated[Rule | ManualCheck, Field(discriminator="type")]
    unchanged: tuple[str, ...] = Field(
        (),
        description="columns the text requires to stay as they are (a stable dose through screening): "
        "no what-if action that changes them is offered for this trial",
    )
    history_only: bool = Field(
        False, description="met only by the record as it stands (months of stable treatment): actions never count"
    )
    anchor: Anchor = Field(
        "screening",
        description="the event the text counts this criterion's windows to; dates are counted to the "
        "as-of date, which a plan names as this event",
    )

    @field_validator("quote")
    @classmethod
    def _unescaped(cls, quote: str) -> str:
        return _MARKDOWN_ESCAPE.sub(r"\1", quote)

    @property
    def is_manual(self) -> bool:
        return isinstance(self.rule, ManualCheck)


class SourceItem(Node):
    """One item of the published eligibility text and what encodes it."""

    text: str
    criteria: tuple[str, ...] = ()
    manual: bool = False
    not_encodable: str | None = None
    heading: bool = False


class SourceText(Node):
    """Where the encoded eligibility text sits in the published seed file.

    The eligibility section is the text strictly between ``after`` and ``before``
    in ``models/sources/<file>``; the trial's ``source_items`` must reassemble it.
    """

    file: str
    after: str
    before: str = Field("", description="empty: the section runs to the end of the file")


class TrialDefaults(Node):
    """Overrides of the clinical facts (half-lives, steroid factors) for one trial."""

    half_lives_days: dict[str, float] = Field(default_factory=dict)
    steroid_equivalent_mg: dict[str, float] = Field(default_factory=dict)


class Quota(Node):
    """A bound on how many enrolled patients of a trial have ``column == value``."""

    column: str
    value: str
    min: int | None = Field(None, ge=0)
    max: int | None = Field(None, ge=0)

    @model_validator(mode="after")
    def _bounded(self) -> Quota:
        if self.min is None and self.max is None:
            raise ValueError("a quota needs min, max or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"quota min {self.min} exceeds max {self.max}")
        return self


class ColumnDeclaration(Node):
    """A cohort column a trial needs beyond the shared contract (``columns:`` in the trial file)."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    type: Literal["bool", "int", "float", "date", "text", "enum"]
    unit: str = ""
    min: Number | None = Field(None, description="plausible minimum: a value below it makes the row invalid")
    max: Number | None = Field(None, description="plausible maximum: a value above it makes the row invalid")
    values: tuple[str, ...] = Field((), description="the allowed codes of an enum column")
    meaning: str = ""
    label: str = Field("", description="how a sentence names it (default: the name with spaces)")

    @model_validator(mode="after")
    def _consistent(self) -> ColumnDeclaration:
        if (self.type == "enum") != bool(self.values):
            raise ValueError("an enum column lists its values, and only an enum column has values")
        if (self.min is not None or self.max is not None) and self.type not in ("int", "float"):
            raise ValueError(f"min/max are plausible ranges of numbers, not of a {self.type} column")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min} exceeds max {self.max}")
        return self


def _after_watch(days: int) -> int:
    """The first day after a watch of ``days`` days that follows an infusion (day 0): a watch is days 1 to ``days``,
    so the next enrolment is the day after it (review 39: on day 28 of a 28-day DLT window, which the calendar's
    figure drew as still open; review 42: on day 7 of a 7-day stagger); no watch holds back no day."""
    return days + 1 if days else 0


class Enrollment(Node):
    """How a trial enrols over time, for ``matcher schedule``: its design, cohorts and weekly capacity.

    The defaults stand where a trial text is silent: a 28-day DLT window (the common CAR-T choice), a 7-day
    sentinel stagger, 2 infusions per ISO week (apheresis, manufacturing and beds) and enrolment 5 days before the
    infusion at the least (fludarabine and cyclophosphamide on days -5 to -3 before the infusion).  Both watches,
    the sentinel's and the DLT window, end before the next patient's enrolment: no one starts study treatment
    (lymphodepletion) while one is open.
    """

    design: Literal["3+3", "fixed"] = Field(description="3+3 dose escalation, or fixed (one dose level, no cohorts)")
    dose_levels: int = Field(1, ge=1, description="dose levels escalated through, lowest first (3+3)")
    cohort_size: int = Field(3, ge=1, description="patients per cohort (3+3)")
    dlt_days: int = Field(
        28,
        ge=0,
        description="the DLT window: the dlt_days days after a cohort's last infusion (day 0), all before the next "
        "cohort's first enrolment, the escalation decided before a patient is assigned the next dose level and "
        "lymphodepleted (3+3)",
    )
    stagger_days: int = Field(
        7,
        ge=0,
        description="a cohort's first patient, watched stagger_days days after its infusion; the others enrolled "
        "after that watch (3+3)",
    )
    per_week: int = Field(2, ge=1, description="infusions per ISO week for this trial at most")
    enrolment_days: int = Field(
        5,
        ge=1,
        description="enrolment comes at least this many days before the infusion (the lymphodepletion between): a "
        "result a plan awaits must be in hand at enrolment, so its infusion is no sooner than this after the plan's "
        "steps",
    )
    start_date: dt.date | None = Field(None, description="the site opens: no enrolment before this date")
    interpretation: str | None = Field(None, description="how the values were read from the trial text")

    @property
    def escalation_days(self) -> int:
        """Days from a cohort's last infusion to the next cohort's first infusion at the soonest: the DLT window, then
        the next patient's enrolment and lymphodepletion (review 37 M1: a sentinel of the next dose level was
        enrolled and lymphodepleted on day 23 of a 28-day DLT window)."""
        return _after_watch(self.dlt_days) + self.enrolment_days

    @property
    def sentinel_days(self) -> int:
        """Days from a cohort's first infusion to its other infusions at the soonest (0: no stagger): the sentinel is
        watched before anyone else starts study treatment, so the stagger ends before their enrolment too."""
        return _after_watch(self.stagger_days) + self.enrolment_days if self.stagger_days else 0

    @model_validator(mode="after")
    def _one_level_when_fixed(self) -> Enrollment:
        if self.design == "fixed" and self.dose_levels != 1:
            raise ValueError("a fixed design has one dose level (dose_levels: 1)")
        return self


class Trial(Node):
    id: str = Field(pattern=r"^NCT\d{8}$")
    title: str
    sponsor: str
    status: str
    slots: int = Field(ge=0)
    source: SourceText | None = None
    defaults: TrialDefaults = TrialDefaults()
    criteria: tuple[Criterion, ...] = Field(min_length=1)
    quotas: tuple[Quota, ...] = ()
    source_items: tuple[SourceItem, ...] = ()
    columns: tuple[ColumnDeclaration, ...] = Field(
        (), description="columns this trial needs beyond the shared cohort contract"
    )
    extends: dict[str, tuple[str, ...]] = Field(
        default_factory=dict, description="new values for existing enum columns, e.g. {diagnosis: [MG]}"
    )
    enrollment: Enrollment | None = Field(
        None, description="how the trial enrols over time (matcher schedule); absent: fixed with the defaults"
    )

    @model_validator(mode="after")
    def _unique_ids(self) -> Trial:
        seen: set[str] = set()
        for criterion in self.criteria:
            if not criterion.id.startswith(self.id + "."):
                raise ValueError(f"criterion id {criterion.id} must start with {self.id}.")
            if criterion.id in seen:
                raise ValueError(f"duplicate criterion id {criterion.id}")
            seen.add(criterion.id)
        for item in self.source_items:
            for ref in item.criteria:
                if ref not in seen:
                    raise ValueError(f"source item refers to unknown criterion {ref}")
        return self

    def criterion(self, criterion_id: str) -> Criterion:
        for criterion in self.criteria:
            if criterion.id == criterion_id:
                return criterion
        raise KeyError(criterion_id)


RULE_TYPES: tuple[type[Node], ...] = typing.get_args(typing.get_args(Rule)[0])  # every node type of the union
LEAF_TYPES = (Compare, Linear, Range, CompareFields, InSet, Flag, OccurredWithin, ElapsedAtLeast, Washout, Known, Dated)
TIMED_LEAVES = (OccurredWithin, ElapsedAtLeast, Washout)  # leaves read against the screening date

_Handler = TypeVar("_Handler", bound=Callable[..., Any])


class Handlers(Generic[_Handler]):
    """One backend's handler per IR node type, registered with ``@handlers.register(ir.Type, ...)``.

    Every backend (evaluator, CP-SAT compiler, renderer) dispatches through one of these, so a test can list
    the node types a backend lacks (``missing``) instead of a new node type being silently skipped somewhere.
    """

    def __init__(self, backend: str, types: tuple[type[Node], ...] = RULE_TYPES) -> None:
        self.backend = backend
        self.types = types
        self.table: dict[type, _Handler] = {}

    def register(self, *types: type[Node]) -> Callable[[_Handler], _Handler]:
        def add(handler: _Handler) -> _Handler:
            for node_type in types:
                self.table[node_type] = handler
            return handler

        return add

    def __getitem__(self, node_type: type) -> _Handler:
        try:
            return self.table[node_type]
        except KeyError:
            raise TypeError(f"{self.backend} has no handler for {node_type.__name__}") from None

    def missing(self) -> list[str]:
        return [node_type.__name__ for node_type in self.types if node_type not in self.table]


# Where each composite node keeps its sub-rules: the one description of the tree's shape that every walk uses.
_CHILD_FIELDS: dict[type, tuple[str, ...]] = {
    All: ("of",),
    Any_: ("of",),
    AtLeast: ("of",),
    Not: ("rule",),
    If: ("condition", "then", "otherwise"),
}


def children(rule: Rule) -> tuple[Rule, ...]:
    """The direct sub-rules of a node (empty for leaves)."""
    out: list[Rule] = []
    for name in _CHILD_FIELDS.get(type(rule), ()):
        value = getattr(rule, name)
        if isinstance(value, tuple):
            out.extend(value)
        elif value is not None:
            out.append(value)
    return tuple(out)


def named_children(rule: Rule) -> tuple[tuple[str, Rule], ...]:
    """The direct sub-rules of a node with their paths below it (``of[0]``, ``condition``...)."""
    out: list[tuple[str, Rule]] = []
    for name in _CHILD_FIELDS.get(type(rule), ()):
        value = getattr(rule, name)
        if isinstance(value, tuple):
            out.extend((f"{name}[{index}]", child) for index, child in enumerate(value))
        elif value is not None:
            out.append((name, value))
    return tuple(out)


def walk_with_paths(rule: Rule, path: str) -> Iterator[tuple[Rule, str]]:
    """The rule and all its descendants, depth first, each with its path (for messages naming a node)."""
    yield rule, path
    for name, child in named_children(rule):
        yield from walk_with_paths(child, f"{path}.{name}")


def walk(rule: Rule) -> tuple[Rule, ...]:
    """The rule and all its descendants, depth first."""
    out: list[Rule] = [rule]
    for child in children(rule):
        out.extend(walk(child))
    return tuple(out)


def fields_read(rule: Rule) -> tuple[str, ...]:
    """The patient fields a rule reads, in first-use order, without repeats."""
    out: dict[str, None] = {}

    def walk(node: Rule) -> None:
        if isinstance(node, CompareFields):
            out[node.left] = None
            out[node.right] = None
        elif isinstance(node, Linear):
            out.update((term.field, None) for term in node.terms)
        elif isinstance(node, Washout):
            out[node.field] = None
            if node.drug_field:
                out[node.drug_field] = None
        elif isinstance(node, LEAF_TYPES):
            out[node.field] = None
        for child in children(node):
            walk(child)

    walk(rule)
    return tuple(out)


# The age and the values estimated with it (eGFR and CrCl from creatinine, ``derived.ESTIMATED_WITH_AGE``): a
# birthday within a plan's horizon may move them.
AGEING = frozenset({"age", "egfr_ml_min_1_73m2", "crcl_ml_min"})


def reads_ageing(fields: Iterable[str]) -> bool:
    """Whether ``fields`` hold the age or a value estimated with it, which a birthday moves."""
    return not AGEING.isdisjoint(fields)


def moves_with_time(leaf: Rule) -> bool:
    """Whether waiting alone can change a leaf: a window, an elapsed time, a washout, or a leaf on the age or a
    value estimated with it."""
    return isinstance(leaf, TIMED_LEAVES) or reads_ageing(fields_read(leaf))
