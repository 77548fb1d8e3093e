"""Blocks to files: blanks, unit variants and decimals, Arrow columns, CSV or Parquet written in chunks."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterator, Sequence
from functools import cache
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from matcher.contract import columns
from matcher.dates import EPOCH
from matcher.errors import MatcherError
from matcher.synth.clinical import heart_and_vitals, labs
from matcher.synth.disease import disease_course, lungs, lupus, myositis, sjogren, vasculitis
from matcher.synth.draws import Block, Column, Text
from matcher.synth.options import BLOCK_ROWS, CHUNK_ROWS, SynthOptions
from matcher.synth.people import administrative, demographics, infections_and_history, reproduction
from matcher.synth.treatment import drugs, glucocorticoids
from matcher.units import conversion_factor

# Columns the blank fraction leaves alone: identity and coordination, not clinical facts.
_NEVER_BLANKED = frozenset({"patient_id", "site", "preferences", "priority", "diagnosis"})

# Header units written with --unit-variants, and the decimals a lab would report in them.
_UNIT_VARIANTS = {
    "creatinine_mg_dl": ("umol/L", 0),
    "hemoglobin_g_l": ("g/dL", 1),
    "platelets_10e9_l": ("/mm3", -3),
    "anc_10e9_l": ("/mm3", -1),
    "upcr_g_g": ("mg/mmol", 1),
}

# Decimals of float columns as written; the rest get two.
_DECIMALS = {
    "age_years": 1,
    "weight_kg": 1,
    "height_cm": 0,
    "saliva_flow_unstimulated_ml_min": 3,
    "mrss_change_6m_pct": 1,
    "fvc_pct_pred": 0,
    "dlco_pct_pred": 0,
    "fvc_change_6m_pct": 1,
    "dlco_change_6m_pct": 1,
    "phga_vas": 1,
    "ptga_vas": 1,
    "extramuscular_vas": 1,
    "skin_rash_vas": 1,
    "haq_di": 3,
    "iim_probability_pct": 0,
    "hemoglobin_g_l": 0,
    "anc_10e9_l": 2,
    "platelets_10e9_l": 0,
    "egfr_ml_min_1_73m2": 0,
    "crcl_ml_min": 0,
    "lvef_pct": 0,
    "spo2_pct": 0,
    "systolic_bp_mmhg": 0,
    "diastolic_bp_mmhg": 0,
    "mean_pap_mmhg": 0,
    "life_expectancy_months": 0,
}


def _draw_block(options: SynthOptions, index: int, size: int) -> dict[str, Column]:
    """Every column of one block of patients, blanks applied."""
    b = Block(options, index, size)
    administrative(b, options, index * BLOCK_ROWS)
    age, female, pediatric = demographics(b)
    reproduction(b, age, female)
    since_diagnosis = disease_course(b, age)
    subtype = b.columns["diagnosis_subtype"]
    assert isinstance(subtype, Text)
    nephritis, work_up = lupus(b, pediatric)
    sjogren(b)
    ild = lungs(b, subtype)
    myositis(b, subtype)
    vasculitis(b, subtype)
    labs(b, age, female, nephritis, subtype)
    heart_and_vitals(b, age, nephritis, ild)
    infections_and_history(b, female)
    glucocorticoids(b, age)
    drugs(b, since_diagnosis, nephritis, work_up)
    _blank(b.columns, options, index, size)
    return b.columns


def _blank(values: dict[str, Column], options: SynthOptions, index: int, size: int) -> None:
    """Blank each clinical cell with probability ``blank_fraction`` (one draw per cell, in contract order)."""
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(options.seed, spawn_key=(index, 1))))
    for name in columns():
        if name not in values or name in _NEVER_BLANKED:
            continue
        drop = rng.random(size, dtype=np.float32) < options.blank_fraction
        column = values[name]
        if isinstance(column, Text):
            column.codes = np.where(drop, -1, column.codes)
        else:
            values[name] = np.where(drop, np.nan, column)
    # A dose without the drug's name is a data error, not an unknown: blank the dose with it.
    drug, dose = values["glucocorticoid"], values["glucocorticoid_mg_day"]
    assert isinstance(drug, Text) and isinstance(dose, np.ndarray)
    values["glucocorticoid_mg_day"] = np.where((drug.codes < 0) & (dose > 0), np.nan, dose)


def _headers(options: SynthOptions, names: Sequence[str]) -> list[str]:
    contract = columns()
    if not options.unit_variants:
        return list(names)
    return [f"{contract[n].stem}[{_UNIT_VARIANTS[n][0]}]" if n in _UNIT_VARIANTS else n for n in names]


def _arrow_type(kind: str) -> pa.DataType:
    return {"float": pa.float64(), "int": pa.int64(), "bool": pa.bool_()}.get(kind, pa.string())


def _schema(options: SynthOptions, names: Sequence[str]) -> pa.Schema:
    contract = columns()
    headers = _headers(options, names)
    return pa.schema([pa.field(h, _arrow_type(contract[n].kind)) for h, n in zip(headers, names, strict=True)])


@cache
def _iso_days(as_of: dt.date, count: int) -> pa.Array:
    """ISO spellings of the ``count`` days up to ``as_of`` (index = days back), then ``never``."""
    days = pa.array(np.arange((as_of - EPOCH).days, (as_of - EPOCH).days - count, -1, dtype=np.int32), pa.date32())
    return pa.concat_arrays([pc.cast(days, pa.string()), pa.array(["never"])])


def _decoded(codes: np.ndarray, labels: pa.Array) -> pa.Array:
    indices = pa.array(codes.astype(np.int32), mask=codes < 0)
    return pa.DictionaryArray.from_arrays(indices, labels).dictionary_decode()


def _to_arrow(name: str, column: Column, options: SynthOptions) -> pa.Array:
    contract = columns()[name]
    if isinstance(column, Text):
        return _decoded(column.codes, pa.array(list(column.labels), pa.string()))
    if contract.kind == "id":
        digits = pc.cast(pa.array(column.astype(np.int64)), pa.string())
        return pc.binary_join_element_wise("S", pc.utf8_lpad(digits, max(6, len(str(options.rows))), "0"), "")
    blank = np.isnan(column)
    if contract.kind == "date":
        back = (options.as_of - EPOCH).days - column
        finite = np.isfinite(back)
        count = 1 << int(back[finite].max(initial=0)).bit_length()  # few distinct tables, cached
        return _decoded(np.where(finite, back, np.where(blank, -1, count)), _iso_days(options.as_of, count))
    if contract.kind == "bool":
        return pa.array(column == 1, pa.bool_(), mask=blank)
    if contract.kind == "int":
        return pa.array(np.where(blank, 0, np.round(column)).astype(np.int64), pa.int64(), mask=blank)
    decimals = _DECIMALS.get(name, 2)
    if options.unit_variants and name in _UNIT_VARIANTS:
        unit, decimals = _UNIT_VARIANTS[name]
        column = column / conversion_factor(name, unit, contract.unit, contract.molar_mass_g_mol)
    return pa.array(np.round(column, decimals) + 0.0, pa.float64(), mask=blank)  # + 0.0 turns -0.0 into 0.0


@cache
def column_names() -> tuple[str, ...]:
    """The contract columns a synthetic cohort has, in contract order."""
    drawn = _draw_block(SynthOptions(rows=1, trial_ids=("T",)), 0, 1)
    return tuple(name for name in columns() if name in drawn)


def _blocks(options: SynthOptions) -> Iterator[pa.Table]:
    names = column_names()
    schema = _schema(options, names)
    for index, start in enumerate(range(0, options.rows, BLOCK_ROWS)):
        drawn = _draw_block(options, index, min(BLOCK_ROWS, options.rows - start))
        yield pa.Table.from_arrays([_to_arrow(name, drawn[name], options) for name in names], schema=schema)


def generate(options: SynthOptions, chunk_rows: int = CHUNK_ROWS) -> Iterator[pa.Table]:
    """The cohort as Arrow tables of ``chunk_rows`` rows (the last may be shorter); memory stays bounded."""
    if chunk_rows < 1:
        raise MatcherError(f"chunk_rows must be at least 1, not {chunk_rows}")
    pending: list[pa.Table] = []
    pending_rows = 0
    for block in _blocks(options):
        pending.append(block)
        pending_rows += block.num_rows
        while pending_rows >= chunk_rows:
            merged = pa.concat_tables(pending)
            yield merged.slice(0, chunk_rows)
            pending, pending_rows = [merged.slice(chunk_rows)], pending_rows - chunk_rows
    if pending_rows:
        yield pa.concat_tables(pending)


def write_cohort(
    path: str | Path,
    options: SynthOptions,
    chunk_rows: int = CHUNK_ROWS,
    progress: Callable[[int, int], None] | None = None,
) -> None:
    """Stream the cohort to ``path``: Parquet when it ends in .parquet, else CSV.

    Written to a temporary file beside it and renamed, so an interrupted run
    leaves no half-written cohort.  ``progress(rows_done, rows)`` is called
    after each chunk.
    """
    target = Path(path)
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    schema = _schema(options, column_names())
    tables = generate(options, chunk_rows)
    try:
        with open(temporary, "wb") as sink:
            if target.suffix.lower() in (".parquet", ".pq"):
                writer: pq.ParquetWriter | pacsv.CSVWriter = pq.ParquetWriter(sink, schema)
            else:
                sink.write((",".join(schema.names) + "\n").encode("utf-8"))
                spelling = pacsv.WriteOptions(include_header=False, quoting_style="none", batch_size=8192)
                writer = pacsv.CSVWriter(sink, schema, write_options=spelling)
            with writer:
                done = 0
                for table in tables:
                    writer.write_table(table)
                    done += table.num_rows
                    if progress:
                        progress(done, options.rows)
        os.replace(temporary, target)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise MatcherError(f"{target}: cannot write the cohort ({exc.strerror or exc})") from exc
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
