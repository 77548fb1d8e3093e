"""How names are matched: a drug's or a code's spelling, whatever its case, spacing, dashes or Unicode variant."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable


def spelling_key(name: str) -> str:
    """A spelling as it is matched: lower case, without spaces, dashes or underscores ("IV-G" as "ivg").

    Unicode variants read as the plain letters (full-width "ｒｉｔｕｘｉｍａｂ", an accent, a zero-width space or a
    soft hyphen inside a name), so that no variant of a known name can be made to spell another drug or code."""
    text = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", name)).casefold()
    return "".join(ch for ch in text if ch not in _BLANK_LETTERS and unicodedata.category(ch) not in _NOT_SPELLED)


def drug_key(name: str) -> str:
    """A drug's name as it is matched: as ``spelling_key``, and without dots ("ritu.ximab"); codes keep theirs, as
    "II.I" is no class III."""
    return spelling_key(name).replace(".", "").strip(",;:")


# What separates the drugs of a list written in one cell ("tacrolimus with prednisone", "MMF (prednisone)"), once
# full-width brackets and commas read as theirs (NFKC); the ideographic comma (、) has no such form.
_DRUG_LIST_SEPARATORS = re.compile(r"[;,+/&|()\[\]\n\u3001]| and | with | plus ")


# Combining marks, format characters (zero-width space, soft hyphen), separators, dashes and control characters;
# the underscore, and characters drawn blank though counted as letters or symbols (Hangul fillers, braille blank).
_NOT_SPELLED = frozenset({"Mn", "Me", "Cf", "Cc", "Zs", "Zl", "Zp", "Pd"})
_BLANK_LETTERS = frozenset("_\u115f\u1160\u3164\uffa0\u2800")


def drug_list_parts(text: str) -> list[str]:
    """The parts of a cell that may each name a drug, trimmed, the empty ones left out."""
    parts = _DRUG_LIST_SEPARATORS.split(unicodedata.normalize("NFKC", text))
    return [part.strip() for part in parts if drug_key(part)]


def holds_stem(name: str, stems: Iterable[str], brands: Iterable[str] = ()) -> bool:
    """Whether ``name`` holds one of ``stems`` matched as cells are (spaces, dashes and invisible characters
    dropped: "isatuximab-irfc", "epratuzumab sc"), once the ``brands`` it may hold are taken out (CellCept, which
    no INN is)."""
    key = drug_key(name)
    for brand in sorted({drug_key(brand) for brand in brands} - {""}, key=len, reverse=True):
        key = key.replace(brand, " ")
    return any(drug_key(stem) in key for stem in stems)
