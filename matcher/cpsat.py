"""Compile the criteria IR to CP-SAT over one patient's variables.

Three-valued logic is kept exact with *dual rails*: every node compiles to a pair
of literals ``(is_true, is_false)``; both false means unknown.  Kleene AND, OR and
NOT become plain Boolean constraints on the rails, so the solver and the
vectorized evaluator agree by construction (a property test checks it).

Patient values are *alternatives*: a field holds one value per guarding literal
(exactly one guard is true), which is how actions change data (a taper target, a
stopped immunosuppressant, a repeated test).  The wait ``t`` (days after the
as-of date) is an integer variable; calendar cut-offs are tables indexed by ``t``
(``AddElement``), so calendar months stay exact.  Constants fold away while
compiling, so an immutable, known patient yields a tiny model.

Numbers are scaled by 10**6 to integers; the loader and derived values round to
that precision, so both backends compare the same numbers.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
from ortools.sat.python import cp_model

from matcher import ir
from matcher.context import Context, linear_total, washout_days
from matcher.dates import day_number, from_day_number, subtract
from matcher.derived import ESTIMATED_WITH_AGE, Derived, at_ages, birthdays
from matcher.ir import OPERATORS
from matcher.kleene import FALSE, TRUE, UNKNOWN

SCALE = 10**6
Lit = bool | cp_model.IntVar | cp_model.LiteralT  # a Python bool is a folded constant
Rails = tuple[Lit, Lit]
UNKNOWN_RAILS: Rails = (False, False)


@dataclass(frozen=True)
class Unknown:
    pass


@dataclass(frozen=True)
class Never:
    pass


@dataclass(frozen=True)
class TestDay:
    """The date of a test repeated by a plan: a variable the planner ties to the enrolment day.  A test done in
    the ``lead_days`` up to it (a biopsy, its histology read by then) is dated at the earliest it may be done, so
    a window its date opens closes no later than it may in fact."""

    lead_days: int = 0


@dataclass(frozen=True)
class PlanDay:
    """A date on the enrolment day itself (a drug course that goes on up to it)."""


@dataclass(frozen=True)
class EitherSex:
    """A derived value that only a blank sex leaves unknown (eGFR, CrCl): a woman's and a man's.  A comparison
    both decide alike is decided, as in the evaluator."""

    woman: float
    man: float


Value = Unknown | Never | TestDay | PlanDay | EitherSex | float | str | bool | cp_model.LinearExpr
Alternatives = list[tuple[Lit, Value]]


def scaled(value: float) -> int:
    return int(round(value * SCALE))


class Model(cp_model.CpModel):
    """A CpModel without the deprecated camelCase aliases, which CpModel sets on every new instance: about
    0.7 ms a model, as much as solving one of the what-if models, and a near-miss scan builds two per plan."""

    def _add_pre_pep8_methods(self) -> None:
        return None

    def clone(self) -> Model:
        clone = Model()
        clone.proto.copy_from(self.proto)
        clone.rebuild_constant_map()
        return clone


class Compiler:
    """Builds rails for rules over one patient, with ``t`` the wait in days."""

    def __init__(self, ctx: Context, row: int, horizon: int, fixed_day: int | None = None) -> None:
        self.ctx = ctx
        self.row = row
        self.today = ctx.today
        self.model = Model()
        lo, hi = (fixed_day, fixed_day) if fixed_day is not None else (0, horizon)
        self.horizon = hi
        self.t = self.model.new_int_var(lo, hi, "wait_days")
        self.test_day = self.model.new_int_var(lo, hi, "test_day")
        self.overrides: dict[str, Alternatives] = {}
        # A caller's constant for a rule nothing can change (None: compile it); the parity tests leave it unset.
        self.fold: Callable[[ir.Rule], Rails | None] | None = None
        # Date columns of tests a plan may repeat: a renewable window on them fails when stale, as a window the text
        # states does, and a blank date is no test (as ``never``), so a plan repeats the test rather than stay
        # undecided for want of it (review 30 M3); the awaited date of a repeat is an override, still unknown.
        self.repeatable: frozenset[str] = frozenset()
        self._cutoffs: dict[ir.Duration, cp_model.IntVar] = {}
        self._count = 0

    # ----- literals -------------------------------------------------------
    def _new(self, name: str) -> cp_model.IntVar:
        self._count += 1
        return self.model.new_bool_var(f"{name}_{self._count}")

    def conj(self, lits: list[Lit]) -> Lit:
        """AND of literals, folding constants; a new literal only when two or more remain."""
        rest = []
        for lit in lits:
            if lit is False:
                return False
            if lit is not True:
                rest.append(lit)
        if not rest:
            return True
        if len(rest) == 1:
            return rest[0]
        out = self._new("and")
        self.model.add_bool_and(rest).only_enforce_if(out)  # type: ignore[arg-type]
        self.model.add_bool_or([~lit for lit in rest]).only_enforce_if(~out)  # type: ignore[operator]
        return out

    def disj(self, lits: list[Lit]) -> Lit:
        """OR, by De Morgan: not (all of the negations)."""
        return self.neg(self.conj([self.neg(lit) for lit in lits]))

    @staticmethod
    def neg(lit: Lit) -> Lit:
        return (not lit) if isinstance(lit, bool) else ~lit

    def reify(self, expr: cp_model.LinearExpr | int, op: str, bound: int) -> Lit:
        """A literal equal to ``expr op bound`` (folded when expr is a constant)."""
        if isinstance(expr, (int, np.integer)):
            return bool(_apply(op, int(expr), bound))
        out = self._new("cmp")
        self.model.add(_constraint(expr, op, bound)).only_enforce_if(out)
        self.model.add(_constraint(expr, _NEGATE[op], bound)).only_enforce_if(~out)
        return out

    def count_at_least(self, lits: list[Lit], k: int) -> Lit:
        constant = sum(1 for lit in lits if lit is True)
        variables = [lit for lit in lits if not isinstance(lit, bool)]
        if not variables:
            return constant >= k
        return self.reify(cast(cp_model.LinearExpr, sum(variables)), ">=", k - constant)

    # ----- patient values ---------------------------------------------------
    def alternatives(self, field: str) -> Alternatives:
        if field in self.overrides:
            return self.overrides[field]
        return self.recorded(field)

    def recorded(self, field: str) -> Alternatives:
        """The field as recorded, moved only by the wait: a value estimated with the age (eGFR, CrCl from
        creatinine) holds one value per stretch between the birthdays within the horizon, as the evaluator
        estimates it on each date (review 42 F5: a plan held a CrCl of 30.1 past a 65th birthday, where a screen
        on that date reads 29.7), and where only a blank sex leaves it unknown, a woman's and a man's; every
        other field, its one value."""
        if field not in ESTIMATED_WITH_AGE:
            return [(True, self.original(field))]
        estimates, index = self.ctx.derived[field], [self.row]
        if len(self._age_stretches) > 1:
            age_now = float(self.ctx.values("age")[self.row])
            ages = [age_now + passed for passed in range(len(self._age_stretches))]
            estimates, index = at_ages(self.ctx.cohort, self.row, field, ages), list(range(len(ages)))
        return [(guard, _estimated(estimates, at)) for guard, at in zip(self._age_stretches, index, strict=True)]

    @functools.cached_property
    def _birthdays_passed(self) -> list[Lit]:
        """Per birthday within the horizon (none where the age is unknown), whether the enrolment day is on or
        after it."""
        if np.isnan(self.ctx.values("age")[self.row]):
            return []
        return [self.reify(self.t, ">=", offset) for offset in birthday_offsets(self.ctx, self.row, self.horizon)]

    @functools.cached_property
    def _age_stretches(self) -> list[Lit]:
        """Per stretch of the horizon between birthdays, whether the enrolment day falls in it (exactly one does)."""
        passed = self._birthdays_passed
        starts: list[Lit] = [True, *passed]
        ends: list[Lit] = [*passed, False]
        return [self.conj([start, self.neg(end)]) for start, end in zip(starts, ends, strict=True)]

    def original(self, field: str) -> Value:
        if field == "age":
            return self._age_expression()
        values = self.ctx.values(field)
        raw = values[self.row]
        if values.dtype == np.int8:
            return Unknown() if raw == UNKNOWN else bool(raw == TRUE)
        if values.dtype == object:
            return Unknown() if raw is None else str(self.ctx.lowered_at(field, self.row))
        number = float(raw)  # a Python float: math's tests on it cost less than numpy's on a numpy scalar
        if math.isnan(number):  # a test the plan may repeat with its date blank: none to count on, so it is repeated
            return Never() if field in self.repeatable else Unknown()
        if number == -math.inf:
            return Never()
        return number

    def _age_expression(self) -> Value:
        """Completed years at the enrolment day: today's age plus the birthdays passed by then."""
        age_now = self.ctx.values("age")[self.row]
        if np.isnan(age_now):
            return Unknown()
        passed = self._birthdays_passed
        if not passed:
            return float(age_now)
        already = sum(1 for p in passed if p is True)
        pending = [p for p in passed if not isinstance(p, bool)]
        return cast(cp_model.LinearExpr, scaled(age_now + already) + SCALE * sum(pending))

    def cutoff(self, duration: ir.Duration) -> cp_model.LinearExpr | int:
        """Day number of (enrolment day minus duration), as a table over t."""
        var = self._cutoffs.get(duration)  # one lookup: equal durations of different leaves compare field by field
        if var is None:
            table = cutoff_table(self.ctx.as_of, duration, self.horizon)
            var = self._cutoffs[duration] = self.model.new_int_var(min(table), max(table), "cutoff")
            self.model.add_element(self.t, table, var)
        return var

    def enrolment_day(self) -> cp_model.LinearExpr:
        return cast(cp_model.LinearExpr, self.today + self.t)

    def date_expr(self, value: Value) -> cp_model.LinearExpr | int:
        if isinstance(value, TestDay):
            return cast(cp_model.LinearExpr, self.today + self.test_day - value.lead_days)
        if isinstance(value, PlanDay):
            return self.enrolment_day()
        return int(cast(float, value))

    # ----- rules ------------------------------------------------------------
    def rails(self, rule: ir.Rule) -> Rails:
        """(is_true, is_false) of a rule.  Where every part is decided (no unknown), is_false is
        just the negation of is_true, which keeps the model half the size for known data."""
        if self.fold is not None and (folded := self.fold(rule)) is not None:
            return folded
        return RAILS[type(rule)](self, rule)

    def _leaf(self, rule: ir.Rule) -> Rails:
        field = cast(str, getattr(rule, "field"))  # noqa: B009 - every remaining leaf has a field
        if isinstance(rule, ir.Washout) and rule.drug_field is not None:
            # An action may change the date and the drug's name together: every pair of alternatives.
            alternatives = [
                (self.conj([date_guard, name_guard]), self._washout(rule, date, name))
                for date_guard, date in self.alternatives(field)
                for name_guard, name in self.alternatives(rule.drug_field)
            ]
        else:
            alternatives = [(guard, self._leaf_value(rule, value)) for guard, value in self.alternatives(field)]
        is_true = self.disj([self.conj([guard, pair[0]]) for guard, pair in alternatives])
        if all(decided(pair) for _, pair in alternatives):  # the guards are exclusive and exhaustive
            return is_true, self.neg(is_true)
        return is_true, self.disj([self.conj([guard, pair[1]]) for guard, pair in alternatives])

    def _leaf_value(self, rule: ir.Rule, value: Value) -> Rails:
        if isinstance(value, EitherSex):
            if not isinstance(rule, (ir.Compare, ir.Range)):
                value = Unknown()
            else:  # decided where a woman's and a man's value decide alike, unknown where they differ
                woman, man = self._leaf_value(rule, value.woman), self._leaf_value(rule, value.man)
                return self.conj([woman[0], man[0]]), self.conj([woman[1], man[1]])
        if isinstance(value, Unknown) and not isinstance(rule, ir.Known):
            return UNKNOWN_RAILS
        return LEAF_VALUES[type(rule)](self, rule, value)

    def _date_after_cutoff(self, value: Value, duration: ir.Duration) -> Lit:
        date = self.date_expr(value)
        cutoff = self.cutoff(duration)
        if isinstance(date, int) and isinstance(cutoff, int):
            return date > cutoff
        return self.reify(cast(cp_model.LinearExpr, date - cutoff), ">", 0)

    def _washout(self, rule: ir.Washout, value: Value, name: Value) -> Rails:
        """Washed out under the longest possible half-life; not washed out under the shortest."""
        if isinstance(value, Unknown):
            return UNKNOWN_RAILS
        if isinstance(value, Never):
            return True, False
        recorded = None if isinstance(name, (Unknown, Never)) else str(name)
        fewest, most = washout_days(rule, self.ctx.facts, recorded)
        if np.isnan(fewest):  # no half-life known: washed out never, and not on the day of a dose (as the evaluator)
            if isinstance(value, PlanDay):
                return False, True
            since = cast(cp_model.LinearExpr, self.enrolment_day() - self.date_expr(value))
            return False, self.reify(since, "<", 1)
        elapsed = cast(cp_model.LinearExpr, self.enrolment_day() - self.date_expr(value))
        done = self.reify(elapsed, ">=", int(most))
        if fewest == most:
            return done, self.neg(done)
        return done, self.reify(elapsed, "<", int(fewest))

    def _compare_fields(self, rule: ir.CompareFields) -> Rails:
        left, right = self.original(rule.left), self.original(rule.right)
        if isinstance(left, Unknown) or isinstance(right, Unknown):
            return UNKNOWN_RAILS
        holds = self.reify(cast(cp_model.LinearExpr, _number(left) - _number(right)), rule.op, 0)
        return holds, self.neg(holds)

    def _linear(self, rule: ir.Linear) -> Rails:
        """The patient's own values (like compare_fields); a term that moves with the wait (age) keeps an integer
        coefficient, so the sum stays exact in scaled integers."""
        values = [self.original(term.field) for term in rule.terms]
        if any(isinstance(value, Unknown) for value in values):
            return UNKNOWN_RAILS
        if all(isinstance(value, float) for value in values):
            total = float(linear_total(rule, [np.array([value]) for value in values])[0])
            holds: Lit = _apply(rule.op, scaled(total), scaled(rule.value))
            return holds, not holds
        expression: cp_model.LinearExpr | int = 0
        for term, value in zip(rule.terms, values, strict=True):
            if isinstance(value, float):
                expression += scaled(term.k * value)
            else:
                expression += int(term.k) * cast(cp_model.LinearExpr, value)
        holds = self.reify(expression, rule.op, scaled(rule.value))
        return holds, self.neg(holds)

    def criterion(self, criterion: ir.Criterion) -> Rails:
        """Rails of 'the patient meets this criterion' (an exclusion's rule swapped)."""
        is_true, is_false = self.rails(cast(ir.Rule, criterion.rule))
        if criterion.kind == "exclusion":
            is_true, is_false = is_false, is_true
        if criterion.applies_when is not None:
            condition = self.rails(criterion.applies_when)
            exact = decided(condition) and decided((is_true, is_false))
            is_true, is_false = self.disj([condition[1], is_true]), self.conj([condition[0], is_false])
            if exact:
                is_false = self.neg(is_true)
        return is_true, is_false


RAILS: ir.Handlers[Callable[[Compiler, Any], Rails]] = ir.Handlers("the CP-SAT compiler")
LEAF_VALUES: ir.Handlers[Callable[[Compiler, Any, Value], Rails]] = ir.Handlers(
    "the CP-SAT compiler (leaf values)", tuple(t for t in ir.LEAF_TYPES if t not in (ir.CompareFields, ir.Linear))
)


@RAILS.register(ir.Not)
def _not(compiler: Compiler, rule: ir.Not) -> Rails:
    is_true, is_false = compiler.rails(rule.rule)
    return is_false, is_true


@RAILS.register(ir.CompareFields)
def _compare_fields(compiler: Compiler, rule: ir.CompareFields) -> Rails:
    return compiler._compare_fields(rule)


@RAILS.register(ir.Linear)
def _linear(compiler: Compiler, rule: ir.Linear) -> Rails:
    return compiler._linear(rule)


@RAILS.register(*LEAF_VALUES.types)
def _leaf(compiler: Compiler, rule: ir.Rule) -> Rails:
    return compiler._leaf(rule)


@RAILS.register(ir.All, ir.Any_, ir.AtLeast, ir.If)
def _composite(compiler: Compiler, rule: ir.All | ir.Any_ | ir.AtLeast | ir.If) -> Rails:
    parts = [compiler.rails(child) for child in ir.children(rule)]
    trues = [p[0] for p in parts]
    if isinstance(rule, ir.If) and rule.otherwise is None:
        parts.append((True, False))
        trues.append(True)
    exact = all(decided(p) for p in parts)
    if isinstance(rule, ir.All):
        is_true = compiler.conj(trues)
        return is_true, compiler.neg(is_true) if exact else compiler.disj([p[1] for p in parts])
    if isinstance(rule, ir.Any_):
        is_true = compiler.disj(trues)
        return is_true, compiler.neg(is_true) if exact else compiler.conj([p[1] for p in parts])
    if isinstance(rule, ir.AtLeast):
        is_true = compiler.count_at_least(trues, rule.k)
        if exact:
            return is_true, compiler.neg(is_true)
        return is_true, compiler.neg(compiler.count_at_least([compiler.neg(p[1]) for p in parts], rule.k))
    # (C and T) or (not C and O) or (T and O), as in the evaluator.
    (c_true, c_false), (then_true, then_false), (other_true, other_false) = parts
    is_true = compiler.disj(
        [
            compiler.conj([c_true, then_true]),
            compiler.conj([c_false, other_true]),
            compiler.conj([then_true, other_true]),
        ]
    )
    if exact:
        return is_true, compiler.neg(is_true)
    is_false = compiler.conj(
        [
            compiler.disj([c_false, then_false]),
            compiler.disj([c_true, other_false]),
            compiler.disj([then_false, other_false]),
        ]
    )
    return is_true, is_false


@LEAF_VALUES.register(ir.Known)
def _known(compiler: Compiler, rule: ir.Known, value: Value) -> Rails:
    return (False, True) if isinstance(value, Unknown) else (True, False)


@LEAF_VALUES.register(ir.Dated)
def _dated(compiler: Compiler, rule: ir.Dated, value: Value) -> Rails:
    return UNKNOWN_RAILS if isinstance(value, Never) else (True, False)


@LEAF_VALUES.register(ir.Compare)
def _compare(compiler: Compiler, rule: ir.Compare, value: Value) -> Rails:
    holds = compiler.reify(_number(value), rule.op, scaled(rule.value))
    return holds, compiler.neg(holds)


@LEAF_VALUES.register(ir.Range)
def _range(compiler: Compiler, rule: ir.Range, value: Value) -> Rails:
    number = _number(value)
    parts: list[Lit] = []
    if rule.min is not None:
        parts.append(compiler.reify(number, ">=" if rule.min_inclusive else ">", scaled(rule.min)))
    if rule.max is not None:
        parts.append(compiler.reify(number, "<=" if rule.max_inclusive else "<", scaled(rule.max)))
    holds = compiler.conj(parts)
    return holds, compiler.neg(holds)


@LEAF_VALUES.register(ir.InSet)
def _in_set(compiler: Compiler, rule: ir.InSet, value: Value) -> Rails:
    word = str(value).lower()
    member = word in {v.lower() for v in rule.values}
    if not member and not compiler.ctx.facts.recognises(rule.field, word):
        return UNKNOWN_RAILS
    return member, not member


@LEAF_VALUES.register(ir.Flag)
def _flag(compiler: Compiler, rule: ir.Flag, value: Value) -> Rails:
    matches = bool(value) == rule.value
    return matches, not matches


@LEAF_VALUES.register(ir.OccurredWithin)
def _occurred_within(compiler: Compiler, rule: ir.OccurredWithin, value: Value) -> Rails:
    renewable = rule.renewable and rule.field not in compiler.repeatable
    if isinstance(value, Never):
        return (False, False) if renewable else (False, True)
    holds = compiler._date_after_cutoff(value, rule.window)
    return holds, False if renewable else compiler.neg(holds)


@LEAF_VALUES.register(ir.ElapsedAtLeast)
def _elapsed_at_least(compiler: Compiler, rule: ir.ElapsedAtLeast, value: Value) -> Rails:
    if isinstance(value, Never):
        return rule.when_never, not rule.when_never
    holds = compiler.neg(compiler._date_after_cutoff(value, rule.duration))
    return holds, compiler.neg(holds)


@LEAF_VALUES.register(ir.Washout)
def _washout_value(compiler: Compiler, rule: ir.Washout, value: Value) -> Rails:
    return compiler._washout(rule, value, Unknown())


@functools.lru_cache(maxsize=256)
def cutoff_table(as_of: dt.date, duration: ir.Duration, horizon: int) -> list[int]:
    """Day numbers of (as_of + t - duration) for t = 0..horizon, shared by every patient's model."""
    return [day_number(subtract(as_of + dt.timedelta(days=day), duration)) for day in range(horizon + 1)]


def decided(rails: Rails) -> bool:
    """Whether is_false is exactly the negation of is_true (the value is never unknown)."""
    is_true, is_false = rails
    if isinstance(is_true, bool) or isinstance(is_false, bool):
        return isinstance(is_true, bool) and isinstance(is_false, bool) and is_true != is_false
    return bool(cast(cp_model.IntVar, is_true).index == -cast(cp_model.IntVar, is_false).index - 1)


def birthday_offsets(ctx: Context, row: int, horizon: int) -> list[int]:
    """The days after the as-of date, up to ``horizon``, on which patient ``row`` completes another year."""
    birth = ctx.cohort.column("birth_date")[row]
    as_of = ctx.as_of
    if np.isfinite(birth):
        born = from_day_number(int(birth))
        offsets = []
        for year in range(as_of.year, as_of.year + horizon // 365 + 2):
            offset = (_anniversary(born, year) - as_of).days
            if 0 < offset <= horizon:
                offsets.append(offset)
        return offsets
    years = float(ctx.cohort.column("age_years")[row])
    since = (as_of - (ctx.cohort.screened_on or as_of)).days  # the age was given on the screening date
    return [day - since for day in birthdays(years, since + horizon) if day > since]


def _anniversary(born: dt.date, year: int) -> dt.date:
    """The birthday in ``year``; 29 February falls on 1 March in common years, as in the evaluator."""
    try:
        return born.replace(year=year)
    except ValueError:
        return dt.date(year, 3, 1)


def _estimated(derived: Derived, at: int) -> Value:
    """A derived value at index ``at``: its number, a woman's and a man's where only a blank sex leaves it
    unknown, or unknown."""
    value = float(derived.values[at])
    if not math.isnan(value):
        return value
    if derived.by_sex is not None:
        woman, man = float(derived.by_sex[0][at]), float(derived.by_sex[1][at])
        if not (math.isnan(woman) or math.isnan(man)):
            return EitherSex(woman, man)
    return Unknown()


def _number(value: Value) -> cp_model.LinearExpr | int:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return scaled(float(value))
    return cast(cp_model.LinearExpr, value)


_NEGATE = {"<": ">=", "<=": ">", ">": "<=", ">=": "<", "==": "!=", "!=": "=="}


def _apply(op: str, left: int, right: int) -> bool:
    return bool(OPERATORS[op](left, right))


def _constraint(expr: cp_model.LinearExpr, op: str, bound: int) -> cp_model.BoundedLinearExpression:
    return cast(cp_model.BoundedLinearExpression, OPERATORS[op](expr, bound))


def kleene(rails: Rails, solver: cp_model.CpSolver | None = None) -> int:
    """The Kleene code of solved (or constant) rails."""
    is_true, is_false = rails
    if _solved(is_true, solver):
        return TRUE
    return FALSE if _solved(is_false, solver) else UNKNOWN


def _solved(lit: Lit, solver: cp_model.CpSolver | None) -> bool:
    return lit if isinstance(lit, bool) else bool(cast(cp_model.CpSolver, solver).boolean_value(lit))
