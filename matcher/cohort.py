"""A cohort: patient ids, typed column arrays and the rows that could not be read; and its entry points.

``load_cohort`` reads a file (matcher.reading: CSV or Parquet to Arrow, headers against the contract) and
validates its values (matcher.validate: typed arrays, a RowProblem per unusable value).  Bad values do not stop
the run: the row is marked ``invalid`` with reasons naming the columns (never the values), and every output
reports it.  Date bounds are relative to the as-of date, so ``check_as_of`` applies them at screening time.
Problems with the file as a whole (no ``patient_id`` column, duplicate or blank ids, a unit that cannot be
converted, a ragged line, bytes that are not UTF-8) raise CohortError naming the file, the line or row, and the
column.  In a semicolon-delimited file a decimal comma (``1,5``) is read as a decimal point.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import cast

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from matcher import ir
from matcher.contract import DERIVED_FROM, columns, nearest_column, plausible_ranges
from matcher.dates import day_number
from matcher.derived import completed_years
from matcher.errors import CohortError
from matcher.facts import Facts, default_facts
from matcher.kleene import TRUE
from matcher.reading import ParquetColumns, first_line, read_csv, read_header, resolve_headers
from matcher.units import conversion_factor
from matcher.validate import (
    RowProblem,
    RowProblems,
    as_strings,
    blank_column,
    lowered_codes,
    parse_column,
    reason_text,
    to_numpy,
)


@dataclass
class Cohort:
    """A cohort in canonical columns, with the rows that could not be read."""

    source: str
    ids: np.ndarray
    values: dict[str, np.ndarray]
    invalid: dict[int, tuple[RowProblem, ...]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    # The screening date the values were taken at: ``age_years`` is the age then.  Set by ``check_as_of``, or by
    # the first context that reads the cohort; a later date (a plan's, ``--wait``) grows ``age_years``.
    screened_on: dt.date | None = None
    # Per text column: (the array encoded, its codes, its distinct lower-cased values); see text_codes.
    _text_codes: dict[str, tuple[np.ndarray, np.ndarray, list[str]]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    _uncompacted: set[str] = field(default_factory=set, init=False, repr=False, compare=False)

    def __len__(self) -> int:
        return len(self.ids)

    def text_codes(self, name: str) -> tuple[np.ndarray, list[str]]:
        """A text column as dictionary codes (-1 = blank) and its distinct lower-cased values.

        Built once per column and shared by every screening context; a column replaced
        by another array (a what-if change) is encoded again.
        """
        column = self.column(name)
        cached = self._text_codes.get(name)
        if cached is None or cached[0] is not column:
            cached = (column, *lowered_codes(column, name))
            self._text_codes[name] = cached
        elif name in self._uncompacted:  # taken from a larger cohort: renumbered over the words its rows use
            codes = cached[1].copy()
            used, renumbered = np.unique(codes[codes >= 0], return_inverse=True)
            codes[codes >= 0] = renumbered
            cached = self._text_codes[name] = (column, codes, [cached[2][code] for code in used])
        self._uncompacted.discard(name)
        return cached[1], cached[2]

    def per_word(self, name: str, value: Callable[[str], object], blank: object) -> np.ndarray:
        """Per row, ``value`` of the row's lower-cased text in column ``name`` (``blank`` where it is blank)."""
        codes, words = self.text_codes(name)
        return np.array([value(word) for word in words] + [blank])[codes]  # code -1 picks the trailing blank

    def column(self, name: str) -> np.ndarray:
        """A contract column; an absent column is all blank."""
        if name not in self.values:
            self.values[name] = blank_column(columns()[name], len(self.ids))
        return self.values[name]

    def take(self, rows: list[int]) -> Cohort:
        """A cohort of the given rows (their invalid reasons kept)."""
        index = np.asarray(rows, dtype=int)
        invalid = {new: self.invalid[old] for new, old in enumerate(rows) if old in self.invalid}
        values = {name: column[index] for name, column in self.values.items()}
        taken = Cohort(self.source, self.ids[index], values, invalid, list(self.warnings), self.screened_on)
        for name, (column, codes, words) in self._text_codes.items():
            if self.values.get(name) is column:  # already encoded: the rows' codes, over all the words for now
                taken._text_codes[name] = (values[name], codes[index], words)
                taken._uncompacted.add(name)
        return taken

    def valid_mask(self) -> np.ndarray:
        mask = np.ones(len(self.ids), dtype=bool)
        if self.invalid:
            mask[list(self.invalid)] = False
        return mask


# Columns a run reads besides the trials' own fields: allocation's preferences and priority, a site for quotas.
RUN_COLUMNS = ("preferences", "priority", "site")


def columns_to_read(trials: Iterable[ir.Trial], extra: Iterable[str] = ()) -> set[str]:
    """The contract columns a run over ``trials`` reads: what their criteria read (a derived value by every
    column it may come from), what what-if actions change, what the loader's consistency rules compare,
    ``RUN_COLUMNS`` and ``extra`` (a scenario's quota columns).  The rest of a file need not be read."""
    facts = default_facts()
    wanted = {*RUN_COLUMNS, *extra, "glucocorticoid", "glucocorticoid_mg_day", "weight_kg"}
    wanted |= {
        *facts.drug_names.columns,
        *(name for pair in facts.none_contradicted_by.items() for name in (pair[0], *pair[1])),
    }
    wanted |= {value for value in _strings(facts.change.model_dump()) if value in columns()}
    for trial in trials:
        for criterion in trial.criteria:
            rules = [criterion.applies_when] + ([] if criterion.is_manual else [cast(ir.Rule, criterion.rule)])
            wanted |= {name for rule in rules if rule is not None for name in ir.fields_read(rule)}
    pending = list(wanted)
    while pending:  # a derived value by each column it may be computed from
        for alternative in DERIVED_FROM.get(pending.pop(), ()):
            fresh = set(alternative) - wanted
            wanted |= fresh
            pending.extend(fresh)
    return wanted


def _strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _strings(item)


def load_cohort(path: str | Path, wanted: Collection[str] | None = None) -> Cohort:
    """Read and validate a cohort file; the file type is taken from its suffix.

    ``wanted``: the contract columns to read (see ``columns_to_read``); the file's other columns are
    neither read (Parquet) nor converted (CSV) nor checked, and stay blank.  None reads them all.
    """
    path = Path(path)
    if not path.exists():
        raise CohortError(f"{path}: no such file")
    if path.is_dir() or path.suffix.lower() in (".parquet", ".pq"):
        cohort = cohort_from_table(ParquetColumns(path), str(path), wanted=wanted)
    else:
        table, delimiter = read_csv(path, wanted)
        cohort = cohort_from_table(table, str(path), decimal_comma=delimiter == ";", wanted=wanted)
        del table
    pa.default_memory_pool().release_unused()  # the text table is gone; give its memory back
    return cohort


def given_columns(path: str | Path) -> set[str]:
    """The contract columns a cohort file gives, from its header (or Parquet schema) alone."""
    path = Path(path)
    if not path.exists():
        raise CohortError(f"{path}: no such file")
    if path.is_dir() or path.suffix.lower() in (".parquet", ".pq"):
        try:
            names = pq.ParquetDataset(path).schema.names
        except (pa.ArrowException, OSError) as exc:
            raise CohortError(f"{path}: not a readable Parquet file ({first_line(exc)})") from exc
    else:
        names, _ = read_header(path)
    return set(resolve_headers(names, str(path))[0])


def cohort_from_table(
    table: pa.Table | ParquetColumns, source: str, decimal_comma: bool = False, wanted: Collection[str] | None = None
) -> Cohort:
    """Validate an Arrow table against the contract (shared by CSV, Parquet, Arrow tables and DataFrames).

    Every source enters here, column by column (a Parquet file is read a column at a time).

    ``decimal_comma``: read ``1,5`` in number columns as 1.5 (semicolon-delimited CSV).
    """
    names = [str(name) for name in table.column_names]
    resolved, unknown = resolve_headers(names, source)
    if "patient_id" not in resolved:
        raise CohortError(f"{source}: required column 'patient_id' is missing")
    n = table.num_rows
    if n == 0:
        raise CohortError(f"{source}: the file has a header but no patient rows")
    hinted = ", ".join(_with_hint(name, resolved) for name in unknown)
    warnings = [f"{source}: ignoring unknown columns: {hinted}"] if unknown else []

    with _readable(source, "patient_id"):
        id_text = as_strings(table.column(resolved["patient_id"][0]))
    ids = to_numpy(id_text, object)
    if id_text.null_count or pc.count_distinct(id_text).as_py() != n:
        _report_ids(ids, source)
    problems = RowProblems()
    values: dict[str, np.ndarray] = {}
    text_codes: dict[str, tuple[np.ndarray, list[str]]] = {}
    contract = columns()
    for name, (position, unit) in resolved.items():
        if name == "patient_id" or (wanted is not None and name not in wanted):
            continue
        column = contract[name]
        factor = 1.0
        if unit is not None:
            if not column.numeric:
                raise CohortError(f"{source}: column {names[position]!r}: {name} takes no unit")
            try:
                factor = conversion_factor(name, unit, column.unit, column.molar_mass_g_mol)
            except CohortError as exc:
                raise CohortError(f"{source}: {exc}") from exc
        with _readable(source, names[position]):
            values[name] = parse_column(table.column(position), column, factor, problems, decimal_comma, text_codes)

    cohort = Cohort(source=source, ids=ids, values=values, warnings=warnings)
    for name, (codes, words) in text_codes.items():  # what screening would compute again from the strings
        cohort._text_codes[name] = (values[name], codes, words)
    _check_consistency(cohort, problems)
    cohort.invalid = problems.merged_with({})
    return cohort


def _with_hint(header: str, resolved: dict[str, tuple[int, str | None]]) -> str:
    """An unknown header, with the contract column it most likely meant when the file does not give that one."""
    nearest = nearest_column(header)
    return f"{header} (did you mean {nearest}?)" if nearest and nearest not in resolved else header


@contextmanager
def _readable(source: str, header: str) -> Iterator[None]:
    """A column Arrow cannot turn into text (e.g. a nested Parquet type) is a file error; its errors name the file."""
    try:
        yield
    except (pa.ArrowNotImplementedError, pa.ArrowTypeError, pa.ArrowInvalid) as exc:
        raise CohortError(f"{source}: column {header!r} cannot be read as text or numbers") from exc
    except CohortError as exc:
        raise CohortError(f"{source}: {exc}") from exc


def _report_ids(ids: np.ndarray, source: str) -> None:
    """Name the first blank or repeated id (only run when Arrow has seen one)."""
    blank = np.flatnonzero(ids == None)  # noqa: E711 - elementwise on an object array
    if blank.size:
        more = f" (and {blank.size - 1} more rows)" if blank.size > 1 else ""
        raise CohortError(f"{source}: row {int(blank[0]) + 2}: column 'patient_id' is blank{more}")
    check_unique_ids(ids, source)


def check_unique_ids(ids: np.ndarray, source: str) -> None:
    """Name the first repeated id with every row holding it (file rows: the header is row 1)."""
    _, inverse, counts = np.unique(ids.astype(str), return_inverse=True, return_counts=True)
    repeated = np.flatnonzero(counts[inverse] > 1)
    if repeated.size:
        first = inverse[repeated[0]]
        rows = [int(r) + 2 for r in repeated[inverse[repeated] == first]]
        others = len(np.unique(inverse[repeated])) - 1
        more = f" (and {others} more duplicated ids)" if others else ""
        raise CohortError(
            f"{source}: duplicate patient_id {ids[repeated[0]]!r} in rows {', '.join(map(str, rows))} "
            f"(column 'patient_id'){more}"
        )


def _check_consistency(cohort: Cohort, problems: RowProblems) -> None:
    """Cross-column rules of the contract."""
    if "glucocorticoid_mg_day" in cohort.values and "glucocorticoid" in cohort.values:
        # Both given: a dose needs its drug.  A dose alone (``whatif --set``) keeps the patient's recorded drug.
        dose = cohort.values["glucocorticoid_mg_day"]
        named = cohort.text_codes("glucocorticoid")[0] >= 0
        problems.add((dose > 0) & ~named, "glucocorticoid", "a dose is given without the drug's name")
        _add_per_word(cohort, problems, "glucocorticoid", partial(_unread_glucocorticoid, default_facts()))
        # none (known to take none) beside 0 mg/day is the record of a patient off glucocorticoids
        nothing = cohort.per_word("glucocorticoid", lambda name: name == "none", False)
        problems.add(nothing & (dose > 0), "glucocorticoid", "none, though glucocorticoid_mg_day records a dose")
    for name in default_facts().known_names_only:
        if name in cohort.values:
            _add_per_word(cohort, problems, name, partial(_unread_name, default_facts(), name))
    for name in default_facts().recorded_elsewhere:
        if name in cohort.values:
            _add_per_word(cohort, problems, name, partial(_misplaced, default_facts(), name))
    for name, others in default_facts().none_contradicted_by.items():
        if name not in cohort.values:
            continue
        nothing = cohort.per_word(name, lambda word: word == "none", False)
        for other in others:
            if other in cohort.values and (nothing & (says := _says_something(cohort, other))).any():
                problems.add(nothing & says, name, f"none, though {other} records one")


_SEVERAL = (
    "names more than one drug, and the column holds one: the row cannot be screened as it is (keeping one of them"
    " would leave the other's washout and stable dose unchecked)"
)
_BESIDE = (
    "holds words that are not read beside the name (a dose, route or note, or a drug the facts do not know): if they"
    " are a note, write the name alone; if they name a second drug, the row cannot be screened as it is"
)
_NOT_TAKEN = (
    "not the name of a conventional immunosuppressant the facts know (a dose, route or note beside the name is not"
    " read): write the name alone. A small-molecule immunosuppressant the facts lack is added, with its half-life,"
    " to the conventional class in the site facts; a biologic is recorded in other_biologic and"
    " other_biologic_last_dose (other_b_cell_depletion_last_dose if it depletes B cells)"
)
_NO_NAME = "names no drug: leave the cell blank if it is not recorded, or write none"
_NONE_AND_DRUG = "says none and names a drug as well: the row cannot be screened as it is"


def _unread_name(facts: Facts, column: str, text: str) -> str:
    """Why a cell of a column that takes only known names cannot be read as one drug it takes ("" if it can).  A
    drug misplaced here is reported as such (``_misplaced``), not as unknown."""
    if facts.belongs_elsewhere(column, text) is not None:
        return ""
    known, unread = facts.drugs_in(text)
    if len(known) > 1:
        return _NONE_AND_DRUG if "none" in known else _SEVERAL
    if known and unread:
        return _BESIDE
    if not known:
        return _NOT_TAKEN if unread and not facts.is_placeholder(text) else _NO_NAME
    return "" if facts.takes(column, next(iter(known))) else _NOT_TAKEN


def _unread_glucocorticoid(facts: Facts, text: str) -> str:
    """Why a glucocorticoid cell is not one glucocorticoid the facts know, or none ("" if it is)."""
    steroids = sorted(facts.steroid_equivalent_mg)
    if text in steroids or text == "none":
        return ""
    known, unread = facts.drugs_in(text)
    if "none" in known and len(known) > 1:
        return _NONE_AND_DRUG
    if len(known & set(steroids)) > 1:
        return "names more than one glucocorticoid: the column holds the one taken, its dose in glucocorticoid_mg_day"
    if not known and (not unread or facts.is_placeholder(text)):
        return _NO_NAME
    return f"not a known glucocorticoid ({', '.join(steroids)}) or none"


def _add_per_word(cohort: Cohort, problems: RowProblems, name: str, problem_of: Callable[[str], str]) -> None:
    """Each row's problem with its text in column ``name`` ("" for none)."""
    found = cohort.per_word(name, problem_of, "")
    for problem in sorted(set(found) - {""}):
        problems.add(found == problem, name, str(problem))


def _misplaced(facts: Facts, column: str, text: str) -> str:
    """Why a drug column's text cannot be read there: it names a drug the contract records elsewhere ("" if not)."""
    found = facts.belongs_elsewhere(column, text)
    if found is None:
        return ""
    drug, columns = found
    return f"{drug} belongs in {', '.join(columns)}, where the trials read it, not in {column}"


def _says_something(cohort: Cohort, name: str) -> np.ndarray:
    """Rows where column ``name`` records that something is or was: a date, a value, a flag that is true."""
    values = cohort.values[name]
    if values.dtype == np.int8:
        return values == TRUE
    if values.dtype == object:
        return cohort.per_word(name, lambda word: word != "none", False)
    return np.isfinite(values)


def check_as_of(cohort: Cohort, as_of: dt.date) -> Cohort:
    """The cohort with rows whose dates are impossible at ``as_of`` marked invalid.

    Date bounds (``plausible-ranges.csv``) are relative to the screening date, which
    the loader does not know: a past event dated after it, a birth after it or more
    than 130 years before it.  ``never`` is not a date and is not bounded.  An ``age_years``
    above the age ``birth_date`` gives, or more than a year below it, is a contradiction, not a choice.
    """
    if cohort.screened_on is None:
        cohort.screened_on = as_of  # the date of the run that loaded it: a re-screen days later keeps it
    problems = RowProblems()
    contract = columns()
    for name, bounds in plausible_ranges().items():
        if contract[name].kind != "date" or name not in cohort.values:
            continue
        days = cohort.values[name]
        finite = np.isfinite(days)
        if bounds.low is not None:
            years = -int(bounds.low)
            earliest = day_number(_years_later(as_of, -years))
            problems.add(finite & (days < earliest), name, f"more than {years} years before the as-of date")
        if bounds.high is not None:
            latest = _years_later(as_of, int(bounds.high))
            after = "the as-of date" if latest == as_of else f"{latest.isoformat()}"
            problems.add(finite & (days > day_number(latest)), name, f"after {after} ({as_of.isoformat()})")
    if "birth_date" in cohort.values and "age_years" in cohort.values:
        # Two ages that disagree: the birth date would decide silently (review of NCT06983964, rounds 6 and 7).  An
        # age_years a year below is an extract taken before a birthday; above, or further below, is a contradiction.
        with np.errstate(invalid="ignore"):
            behind = completed_years(cohort.values["birth_date"], cohort.screened_on) - np.floor(
                cohort.values["age_years"]
            )
        problems.add((behind > 1) | (behind < 0), "age_years", "not the age birth_date gives at the as-of date")
    if not problems.reasons:
        return cohort
    checked = replace(cohort, invalid=problems.merged_with(cohort.invalid))
    checked._text_codes.update(cohort._text_codes)  # the same column arrays: their codes still hold
    return checked


def _years_later(day: dt.date, years: int) -> dt.date:
    """The same calendar day ``years`` later (earlier if negative); 29 February falls on the 28th."""
    year = min(max(day.year + years, dt.MINYEAR), dt.MAXYEAR)
    return day.replace(year=year, day=min(day.day, 28)) if (day.month, day.day) == (2, 29) else day.replace(year=year)


def invalid_rows_report(cohort: Cohort, shown: int = 10) -> list[str]:
    """Lines for the user: how many rows are invalid, then the first ``shown`` with row, id and reasons.

    Reasons name columns, never values; the patient id is the one value shown.
    """
    if not cohort.invalid:
        return []
    lines = [f"{cohort.source}: {len(cohort.invalid)} row(s) could not be read; they are reported as invalid"]
    for row, reasons in list(cohort.invalid.items())[:shown]:
        lines.append(f"{cohort.source}: row {row + 2} (patient_id {cohort.ids[row]!r}): {reason_text(reasons)}")
    if len(cohort.invalid) > shown:
        lines.append(f"{cohort.source}: {len(cohort.invalid) - shown} more invalid row(s); see the outputs' reasons")
    return lines


def cohort_from_records(records: list[dict[str, object]], source: str = "records") -> Cohort:
    """A cohort from row dicts whose values are spelled as in a CSV (blank or None = unknown)."""
    names: dict[str, None] = {}
    for record in records:
        names.update(dict.fromkeys(record))
    table = pa.table(
        {
            name: pa.array(
                [None if record.get(name) is None else str(record.get(name)) for record in records], pa.string()
            )
            for name in names
        }
    )
    return cohort_from_table(table, source)
