"""A small translator from the criteria IR to DuckDB SQL: the "equivalent SQL" of the screening benchmark.

Writing SQL by hand for ~260 criteria is not practical, so the benchmark
generates it from the same trial models.  Unknown is SQL NULL, so AND, OR and
NOT are SQL's own three-valued logic, which is Kleene's.  Columns arrive as
the loader parsed them (numbers and dates as DOUBLE with NULL for blank; dates
are days since 1970-01-01, ``never`` is -infinity; booleans as BOOLEAN; text
as VARCHAR), and the derived values (age, prednisone equivalent, eGFR, CrCl)
are computed in SQL with the formulas of matcher/derived.py.

Numbers are written as ``'repr'::DOUBLE`` so that the engine parses exactly the
double that Python holds (a bare ``0.413`` would be a DECIMAL).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable

from matcher import ir
from matcher.context import washout_days
from matcher.contract import DERIVED_FIELDS
from matcher.dates import day_number, subtract
from matcher.facts import Facts
from matcher.trials import effective_facts

_OPERATORS = {"<": "<", "<=": "<=", ">": ">", ">=": ">=", "==": "=", "!=": "<>"}


def number(value: float) -> str:
    return f"'{float(value)!r}'::DOUBLE"


def text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def derived_name(field: str) -> str:
    """The SQL column of a derived field (eGFR and CrCl also exist as reported columns)."""
    return f"derived_{field}"


def derived_columns(facts: Facts, as_of: dt.date) -> dict[str, str]:
    """SQL for each derived field, in dependency order, over the parsed columns (see matcher/derived.py)."""
    birth = "(DATE '1970-01-01' + CAST(birth_date AS INTEGER))"
    before_birthday = (
        f"CASE WHEN {as_of.month} < month({birth}) OR ({as_of.month} = month({birth}) AND {as_of.day} < day({birth})) "
        "THEN 1 ELSE 0 END"
    )
    age = (
        f"CASE WHEN isfinite(birth_date) THEN CAST({as_of.year} - year({birth}) - {before_birthday} AS DOUBLE) "
        "ELSE floor(age_years) END"
    )
    factor = " ".join(
        f"WHEN {text(name.lower())} THEN {number(5.0 / mg)}" for name, mg in sorted(facts.steroid_equivalent_mg.items())
    )
    prednisone = (
        "CASE WHEN glucocorticoid_mg_day = 0 THEN 0.0::DOUBLE "
        f"ELSE round_even(glucocorticoid_mg_day * (CASE lower(glucocorticoid) {factor} ELSE NULL END), 6) END"
    )
    per_kg = (
        "CASE WHEN derived_prednisone_equivalent_mg_day = 0 THEN 0.0::DOUBLE "
        "ELSE round_even(derived_prednisone_equivalent_mg_day / (CASE WHEN weight_kg > 0 THEN weight_kg END), 6) END"
    )
    scr = "(CASE WHEN creatinine_mg_dl > 0 THEN creatinine_mg_dl END)"

    def ckd_epi(female: str) -> str:
        ratio = f"({scr} / CASE WHEN {female} THEN {number(0.7)} ELSE {number(0.9)} END)"
        alpha = f"CASE WHEN {female} THEN {number(-0.241)} ELSE {number(-0.302)} END"
        # numpy's minimum and maximum propagate NaN; SQL's least and greatest skip NULL, so spell them out.
        low = f"CASE WHEN {ratio} < 1 THEN {ratio} WHEN {ratio} >= 1 THEN {number(1.0)} END"
        high = f"CASE WHEN {ratio} > 1 THEN {ratio} WHEN {ratio} <= 1 THEN {number(1.0)} END"
        ckd = (
            f"({number(142.0)} * pow({low}, {alpha}) * pow({high}, {number(-1.2)}) "
            f"* pow({number(0.9938)}, derived_age))"
        )
        return f"CASE WHEN {female} THEN {ckd} * {number(1.012)} ELSE {ckd} END"

    def cockcroft(female: str) -> str:
        crcl = f"(({number(140.0)} - derived_age) * weight_kg / ({number(72.0)} * {scr}))"
        return f"CASE WHEN {female} THEN {crcl} * {number(0.85)} ELSE {crcl} END"

    female = "(sex = 'F')"
    child = f"({number(0.413)} * height_cm / {scr})"
    egfr = (
        "CASE WHEN egfr_ml_min_1_73m2 IS NOT NULL THEN egfr_ml_min_1_73m2 ELSE round_even(CASE WHEN derived_age >= 18 "
        f"THEN (CASE WHEN sex IS NULL THEN NULL ELSE {ckd_epi(female)} END) "
        f"WHEN derived_age < 18 THEN {child} END, 6) END"
    )
    crcl = (
        "CASE WHEN crcl_ml_min IS NOT NULL THEN crcl_ml_min "
        f"ELSE round_even(CASE WHEN sex IS NULL THEN NULL ELSE {cockcroft(female)} END, 6) END"
    )
    columns = {
        "age": age,
        "prednisone_equivalent_mg_day": prednisone,
        "prednisone_equivalent_mg_kg_day": per_kg,
        "egfr_ml_min_1_73m2": egfr,
        "crcl_ml_min": crcl,
    }
    # With sex blank alone, a woman's and a man's value (matcher.derived's by_sex): a comparison both decide alike.
    blank_sex = "sex IS NULL AND egfr_ml_min_1_73m2 IS NULL AND derived_age >= 18"
    for sex, literal in (("woman", "TRUE"), ("man", "FALSE")):
        columns[f"egfr_ml_min_1_73m2_{sex}"] = f"CASE WHEN {blank_sex} THEN round_even({ckd_epi(literal)}, 6) END"
        columns[f"crcl_ml_min_{sex}"] = (
            f"CASE WHEN sex IS NULL AND crcl_ml_min IS NULL THEN round_even({cockcroft(literal)}, 6) END"
        )
    return columns


class Translator:
    """Rule -> SQL boolean expression (NULL = unknown) for one trial's facts and screening date."""

    def __init__(self, facts: Facts, as_of: dt.date) -> None:
        self.facts = facts
        self.as_of = as_of
        self.today = day_number(as_of)

    def field(self, name: str) -> str:
        return quoted(derived_name(name) if name in DERIVED_FIELDS else name)

    def cutoff(self, duration: ir.Duration) -> int:
        return day_number(subtract(self.as_of, duration))

    def rule(self, rule: ir.Rule) -> str:
        handler: Callable[[ir.Rule], str] = getattr(self, "_" + type(rule).__name__.lower())
        return f"({handler(rule)})"

    def _compare(self, rule: ir.Compare) -> str:
        return self._either_sex(rule.field, lambda name: f"{name} {_OPERATORS[rule.op]} {number(rule.value)}")

    def _either_sex(self, field: str, condition: Callable[[str], str]) -> str:
        """``condition`` of the field; for eGFR and CrCl with sex blank, what a woman's and a man's value give alike."""
        if field not in ("egfr_ml_min_1_73m2", "crcl_ml_min"):
            return condition(self.field(field))
        woman, man = (condition(quoted(derived_name(f"{field}_{sex}"))) for sex in ("woman", "man"))
        return f"coalesce({condition(self.field(field))}, CASE WHEN ({woman}) = ({man}) THEN ({woman}) END)"

    def _linear(self, rule: ir.Linear) -> str:
        total = " + ".join(f"({number(term.k)} * {self.field(term.field)})" for term in rule.terms)
        return f"round_even({total}, 6) {_OPERATORS[rule.op]} {number(rule.value)}"

    def _range(self, rule: ir.Range) -> str:
        def inside(name: str) -> str:
            parts = []
            if rule.min is not None:
                parts.append(f"{name} {'>=' if rule.min_inclusive else '>'} {number(rule.min)}")
            if rule.max is not None:
                parts.append(f"{name} {'<=' if rule.max_inclusive else '<'} {number(rule.max)}")
            return " AND ".join(parts)

        return self._either_sex(rule.field, inside)

    def _comparefields(self, rule: ir.CompareFields) -> str:
        return f"{self.field(rule.left)} {_OPERATORS[rule.op]} {self.field(rule.right)}"

    def _inset(self, rule: ir.InSet) -> str:
        wanted = ", ".join(text(value.lower()) for value in sorted(set(rule.values)))
        return f"lower({self.field(rule.field)}) IN ({wanted})"

    def _flag(self, rule: ir.Flag) -> str:
        return self.field(rule.field) if rule.value else f"NOT {self.field(rule.field)}"

    def _occurredwithin(self, rule: ir.OccurredWithin) -> str:
        within = f"{self.field(rule.field)} > {self.cutoff(rule.window)}"
        return f"CASE WHEN coalesce({within}, FALSE) THEN TRUE END" if rule.renewable else within

    def _elapsedatleast(self, rule: ir.ElapsedAtLeast) -> str:
        column = self.field(rule.field)
        never = "TRUE" if rule.when_never else "FALSE"
        return f"CASE WHEN {column} = '-inf'::DOUBLE THEN {never} ELSE {column} <= {self.cutoff(rule.duration)} END"

    def _washout(self, rule: ir.Washout) -> str:
        column = self.field(rule.field)
        fewest, most = self._washout_days(rule, 0), self._washout_days(rule, 1)
        elapsed = f"({self.today} - {column})"
        return (
            f"CASE WHEN {column} = '-inf'::DOUBLE THEN TRUE WHEN {elapsed} >= {most} THEN TRUE "
            f"WHEN {elapsed} < {fewest} THEN FALSE END"
        )

    def _washout_days(self, rule: ir.Washout, end: int) -> str:
        """The fewest (end 0) or most (end 1) days the washout needs, by the recorded drug name if any."""
        unnamed = washout_days(rule, self.facts, None)[end]
        fallback = "NULL" if math.isnan(unnamed) else number(unnamed)
        if rule.drug_field is None:
            return fallback
        names = sorted({*self.facts.half_lives_days, *self.facts.drug_classes})
        cases = " ".join(
            f"WHEN {text(name)} THEN {number(washout_days(rule, self.facts, name)[end])}" for name in names
        )
        name = self.field(rule.drug_field)
        return f"(CASE WHEN {name} IS NULL THEN {fallback} ELSE (CASE lower({name}) {cases} ELSE NULL END) END)"

    def _dated(self, rule: ir.Dated) -> str:
        return f"CASE WHEN {self.field(rule.field)} > '-inf'::DOUBLE THEN TRUE END"

    def _known(self, rule: ir.Known) -> str:
        return f"{self.field(rule.field)} IS NOT NULL"

    def _all(self, rule: ir.All) -> str:
        return " AND ".join(self.rule(child) for child in rule.of)

    def _any_(self, rule: ir.Any_) -> str:
        return " OR ".join(self.rule(child) for child in rule.of)

    def _atleast(self, rule: ir.AtLeast) -> str:
        children = [self.rule(child) for child in rule.of]
        true_count = " + ".join(f"CAST(coalesce({child}, FALSE) AS INTEGER)" for child in children)
        unknown_count = " + ".join(f"CAST({child} IS NULL AS INTEGER)" for child in children)
        return (
            f"CASE WHEN ({true_count}) >= {rule.k} THEN TRUE "
            f"WHEN ({true_count}) + ({unknown_count}) < {rule.k} THEN FALSE ELSE NULL END"
        )

    def _not(self, rule: ir.Not) -> str:
        return f"NOT {self.rule(rule.rule)}"

    def _if(self, rule: ir.If) -> str:
        condition, then = self.rule(rule.condition), self.rule(rule.then)
        otherwise = self.rule(rule.otherwise) if rule.otherwise is not None else "TRUE"
        return f"({condition} AND {then}) OR (NOT {condition} AND {otherwise}) OR ({then} AND {otherwise})"

    def criterion(self, criterion: ir.Criterion) -> str:
        """Whether the patient meets the criterion (an exclusion is met when its rule is false)."""
        assert not isinstance(criterion.rule, ir.ManualCheck)
        rule = self.rule(criterion.rule)
        holds = rule if criterion.kind == "inclusion" else f"(NOT {rule})"
        if criterion.applies_when is not None:
            holds = f"((NOT {self.rule(criterion.applies_when)}) OR {holds})"
        return holds


def screening_query(trials: list[ir.Trial], as_of: dt.date, table: str = "cohort") -> tuple[str, list[list[str]]]:
    """One query screening every patient against every trial.

    Output columns: ``row_id``, then per trial ``t{k}_status`` (0 ineligible, 1
    unknown, 2 eligible, 3 invalid, as matcher.screening) and one BOOLEAN per
    non-manual criterion, ``t{k}_c{i}`` (NULL = unknown), in the trial's order.
    Returns the SQL and, per trial, the output names of its criterion columns.
    Derived values are computed once (the bundled trials share one table of steroid equivalents).
    """
    facts_of = [effective_facts(trial) for trial in trials]
    steroid_tables = {tuple(sorted(facts.steroid_equivalent_mg.items())) for facts in facts_of}
    if len(steroid_tables) > 1:
        raise NotImplementedError("trials with different steroid equivalents would need one derived layer each")
    expressions = derived_columns(facts_of[0], as_of)
    # One layer per derived value, so a later formula reads an earlier one by name (eGFR and CrCl read age).
    derived_source = table
    for name in expressions:  # DERIVED_FIELDS first (in order), then the by-sex values, which read age
        derived_source = f"(SELECT *, {expressions[name]} AS {quoted(derived_name(name))} FROM {derived_source})"
    criteria_parts, status_parts, names = ["row_id", "valid"], ["row_id"], []
    for k, (trial, facts) in enumerate(zip(trials, facts_of, strict=True)):
        translator = Translator(facts, as_of)
        columns = []
        for i, criterion in enumerate(c for c in trial.criteria if not c.is_manual):
            name = f"t{k}_c{i}"
            criteria_parts.append(f"{translator.criterion(criterion)} AS {name}")
            columns.append(name)
        names.append(columns)
        verdict = " AND ".join(columns) if columns else "TRUE"
        status_parts.append(
            f"CASE WHEN NOT valid THEN 3 WHEN ({verdict}) IS NULL THEN 1 WHEN ({verdict}) THEN 2 ELSE 0 END::TINYINT "
            f"AS t{k}_status"
        )
        status_parts.extend(columns)
    criteria_query = f"SELECT {', '.join(criteria_parts)} FROM {derived_source}"
    return f"SELECT {', '.join(status_parts)} FROM ({criteria_query})", names
