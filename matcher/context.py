"""One cohort seen at one screening date with one set of facts: the values every backend reads.

Below both backends: the evaluator and the CP-SAT compiler read fields, blanks and cut-off days from here.
The memo tables live here too, so their lifetime is the context's; they are keyed by the IR nodes themselves
(frozen, compared by value), never by ``id()``.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from matcher import ir
from matcher.cohort import Cohort
from matcher.dates import day_number, subtract
from matcher.derived import Derived, derive
from matcher.facts import Facts
from matcher.kleene import UNKNOWN


class Context:
    """One cohort seen at one screening date with one set of facts."""

    def __init__(self, cohort: Cohort, as_of: dt.date, facts: Facts, same_date: Context | None = None) -> None:
        """``same_date``: a context of this cohort and date (other facts); its fact-free derived values are reused."""
        if cohort.screened_on is None:  # a cohort not checked against a date gives its ages at the first one read
            cohort.screened_on = as_of
        self.cohort = cohort
        self.as_of = as_of
        self.today = day_number(as_of)
        self.facts = facts
        self.derived: dict[str, Derived] = derive(cohort, as_of, facts, same_date.derived if same_date else None)
        self._blanks: dict[str, dict[str, np.ndarray]] = {}
        self.rule_codes: dict[ir.Rule, np.ndarray] = {}
        self.criterion_codes: dict[ir.Criterion, np.ndarray] = {}
        self._later: dict[int, Context] = {}

    def __len__(self) -> int:
        return len(self.cohort)

    def values(self, field: str) -> np.ndarray:
        if field in self.derived:
            return self.derived[field].values
        return self.cohort.column(field)

    def lowered_at(self, field: str, row: int) -> str | None:
        """One patient's text value, lower-cased (None where blank)."""
        codes, distinct = self.cohort.text_codes(field)
        return distinct[codes[row]] if codes[row] >= 0 else None

    def blanks(self, field: str) -> dict[str, np.ndarray]:
        """Per input column, the rows where its blank leaves ``field`` unknown (built once per field)."""
        if field in self.derived:
            return self.derived[field].blanks
        if field not in self._blanks:
            column = self.cohort.column(field)
            if column.dtype == np.int8:
                blank = column == UNKNOWN
            elif column.dtype == object:  # a drug's name the facts do not know is as good as blank
                unknown_name = self.cohort.per_word(field, lambda word: not self.facts.recognises(field, word), False)
                blank = (self.cohort.text_codes(field)[0] < 0) | unknown_name
            else:
                blank = np.isnan(column)
            self._blanks[field] = {field: blank}
        return self._blanks[field]

    def cutoff(self, duration: ir.Duration) -> int:
        return day_number(subtract(self.as_of, duration))

    def later(self, days: int) -> Context:
        """This cohort seen ``days`` later, with the same facts (built once per distance)."""
        if days not in self._later:
            self._later[days] = Context(self.cohort, self.as_of + dt.timedelta(days=days), self.facts)
        return self._later[days]

    def forget_nodes(self) -> None:
        """Drop the memoized rule-node arrays (criterion results stay): a million-row screen keeps one criterion's."""
        self.rule_codes.clear()


def washout_days(rule: ir.Washout, facts: Facts, name: str | None) -> tuple[float, float]:
    """Days a washout needs at least and at most, for a recorded drug name (None or "none": not recorded).

    A recorded name missing from the facts, in a column whose rule names a drug class, falls back to the
    class's bounds, as an unrecorded name does, widened by every class ``unknown_name_classes`` lists for its
    column.  A name the facts know outside the rule's class (mycophenolate recorded as the anti-CD20 antibody)
    contradicts the record: the washout is decided only where the named drug and every drug of the class
    agree, as its own half-life would decide it too soon.  A class whose members the facts do not all list
    (``open_drug_classes``: biologics) has no bounds to stand in for a drug of unknown half-life (a site adds
    its biologics to the class, with their half-lives).
    NaN where the half-life is unknown: an unknown name where the rule names no class, no name and no
    ``drug``, or a class standing in that is open.
    """
    named = rule.drug_field is not None and name not in (None, "none")  # "none" beside a dose: as if blank
    drug = name if named else rule.drug
    bounds = facts.half_life_range(drug) if drug is not None else None
    members = facts.drug_classes.get(rule.drug.lower()) if rule.drug is not None else None
    of_class = facts.half_life_range(rule.drug) if members is not None and rule.drug is not None else None
    open_classes = set(facts.open_drug_classes)
    if drug is not None and drug.lower() in open_classes:  # unnamed, or recorded by its class ("biologic")
        return np.nan, np.nan
    if named and members is not None and of_class is not None and (name not in members or bounds is None):
        # outside the class: only where it and the class agree; a member with no half-life of its own: by the
        # class, and by every other class it belongs to (daratumumab recorded as a stopped conventional drug);
        # a name without a half-life in the facts: by every class its column may hold (``unknown_name_classes``)
        kinds = [kind for kind, drugs in facts.drug_classes.items() if name in drugs]
        if bounds is None:  # no half-life of its own, whether or not the facts know the name (a site's spelling)
            kinds += facts.drug_names.unknown_name_classes.get(str(rule.drug_field), ())
        standing_in = {str(rule.drug).lower()} | (set(kinds) if bounds is None else set())
        if standing_in & open_classes:
            return np.nan, np.nan
        ranges = [of_class] + [facts.half_life_range(kind) for kind in kinds]
        known = [r for r in ([bounds] if bounds is not None else []) + ranges if r is not None]
        bounds = (min(low for low, _ in known), max(high for _, high in known))
    if bounds is None:
        return np.nan, np.nan
    return float(np.ceil(rule.half_lives * bounds[0])), float(np.ceil(rule.half_lives * bounds[1]))


def linear_total(rule: ir.Linear, values: list[np.ndarray]) -> np.ndarray:
    """The sum of the terms, rounded to 1e-6 (the CP-SAT backend does the same arithmetic on one patient)."""
    total = np.zeros(len(values[0]))
    for term, column in zip(rule.terms, values, strict=True):
        total = total + term.k * column
    return np.round(total, 6)
