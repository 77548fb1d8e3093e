"""Synthetic cohorts in the contract's columns, for demos, load tests and benchmarks.

Patients are drawn with a disease mix, per-disease activity scores (SLEDAI-2K,
ESSDAI, mRSS, MMT-8, BVAS...), labs correlated where a trial reads them together
(creatinine drives eGFR and CrCl, which are left mostly blank so the matcher
computes them), therapy histories, and events dated around the screening date.
The distributions are plausible, not fitted to a registry: the file is test
data, never evidence.  They are tuned so that the bundled trials' verdicts
spread over eligible, ineligible and unknown, and so that many patients are near
misses: a live vaccine or a biologic a few weeks ago, a glucocorticoid dose just
above a limit, a cardiac event 4-5 months ago, a pregnancy test too old, an
immunosuppressant started or changed recently.

Determinism: rows are drawn in blocks of ``BLOCK_ROWS``, each from its own numpy
Generator seeded by (seed, block), so a file depends on its options only, never
on how it is streamed.  Blanks come from a second stream per block, so a larger
``blank_fraction`` blanks a superset of the cells and leaves the others alone.

Modules: ``options`` (what is asked for), ``draws`` (a block and its random draws), ``people``,
``disease``, ``clinical`` and ``treatment`` (the column groups), ``writer`` (blanks, units, Arrow, files).
"""

from matcher.synth.options import (
    BLOCK_ROWS,
    CHUNK_ROWS,
    DEFAULT_AS_OF,
    DEFAULT_BLANK_FRACTION,
    DEFAULT_MIX,
    SynthOptions,
    parse_mix,
)
from matcher.synth.writer import column_names, generate, write_cohort

__all__ = [
    "BLOCK_ROWS",
    "CHUNK_ROWS",
    "DEFAULT_AS_OF",
    "DEFAULT_BLANK_FRACTION",
    "DEFAULT_MIX",
    "SynthOptions",
    "column_names",
    "generate",
    "parse_mix",
    "write_cohort",
]
