"""A site's own facts (``$MATCHER_SITE_FACTS``) laid over the bundled ones, as YAML documents.

A site sets its own practice and adds drugs the bundled facts lack.  Reviewers turned a site file into an early
end of a washout, a dose read lower or a code read as another in many ways (review rounds 13-20), so every entry
is checked here before the facts are built: a site may only add, and nothing it adds may name a known drug.
"""

from __future__ import annotations

import re
from typing import Any

from matcher.names import drug_key, holds_stem


def laid_over(bundled: dict[str, Any], site: dict[str, Any]) -> dict[str, Any]:
    """The bundled facts document with the site's entries laid over it; ValueError naming the entry a site may
    not write."""
    _only_what_a_site_may(site)
    document: dict[str, Any] = _lay_over(bundled, site, ())  # a new document: the bundled one is left as it is
    _new_names_name_no_known_drug(bundled, site)
    _no_drug_moved(bundled, document["drug_classes"])
    _no_biologic_spelled_as_conventional(bundled, document, site)
    return document


# A site's own practice, which it sets as it likes: what a plan's actions cost, the tablets it stocks, its taper.
_PRACTICE = ("action_burden_days", "tablet_mg", "taper_schedule")
# What a site may write: its practice, and drugs the bundled facts lack (half-lives, class members, spellings).
# Codes' spellings, steroid equivalences, the columns holding drug names and the what-if change model are not a
# site's: reviewers re-read a diagnosis, a dose and a biopsy result through each of them.
_SITE_MAY = {**dict.fromkeys(_PRACTICE, ()), "half_lives_days": (), "drug_classes": (), "drug_names": ("spellings",)}


def _only_what_a_site_may(site: dict[str, Any]) -> None:
    for key, value in site.items():
        if key not in _SITE_MAY:
            raise ValueError(f"{key}: not a site's to change (a site sets {', '.join(_PRACTICE)} and adds drugs)")
        inner = _SITE_MAY[key]
        if inner and isinstance(value, dict) and set(value) - set(inner):
            raise ValueError(f"{key}: a site may set only {', '.join(inner)} here")


def _new_names_name_no_known_drug(bundled: dict[str, Any], site: dict[str, Any]) -> None:
    """A drug or spelling a site adds names no drug the bundled facts know, once its own drug's names are taken
    out ("mabthera sc" as ofatumumab is rituximab; "chloroquine diphosphate" as hydroxychloroquine is chloroquine;
    "prednisone acetate" as a new drug is prednisone)."""
    spellings = bundled["drug_names"]["spellings"]
    known: dict[str, str] = {}
    for name in [*bundled["half_lives_days"], *bundled["steroid_equivalent_mg"], *spellings]:
        known[drug_key(name)] = name
    for members in bundled["drug_classes"].values():
        known.update((drug_key(member), member) for member in members)
    for name, others in spellings.items():
        known.update((drug_key(other), name) for other in others)
    added: list[tuple[Any, Any]] = [(name, name) for name in site.get("half_lives_days", {})]
    added += [(m, m) for members in site.get("drug_classes", {}).values() for m in members or ()]
    for name, others in (site.get("drug_names", {}).get("spellings") or {}).items():
        added += [(name, name)] + [(name, other) for other in others or ()]
    not_drugs = {drug_key(word) for word in bundled["drug_classes"]} | {"none"}
    for drug, word in added:
        if not isinstance(word, str) or not isinstance(drug, str):  # a null, a number, a date or !!binary bytes
            raise ValueError(f"{word!r} ({drug!r}): a drug's name is text")
        key = drug_key(word)
        if not key or key in not_drugs or drug_key(drug) in not_drugs:
            raise ValueError(f"{word!r} ({drug}): a drug's name, not a class, `none` or a word without letters")
        if _mixes_scripts(word):
            raise ValueError(f"{word!r} ({drug}) mixes Latin letters with look-alikes of another script")
        own = {k for k, v in known.items() if v == drug}  # the names the bundled facts give this drug, if any
        rest = key
        for part in sorted(own, key=len, reverse=True):
            rest = rest.replace(part, " ")
        named = next((known[k] for k in known if known[k] != drug and _names(k, key, rest, own)), None)
        if named is not None:
            raise ValueError(f"{word!r} ({drug}) names {named!r}, a drug the facts know")
    given = {drug_key(str(name)) for name in site.get("half_lives_days", {})}
    for name in site.get("drug_names", {}).get("spellings") or {}:
        if drug_key(str(name)) not in set(known) | given:
            # a name only a trial's defaults give a half-life (other_b_cell_depletion) would lend it to the spelling
            raise ValueError(f"drug_names.spellings.{name}: spell a drug the facts know, or give it a half-life")


def _names(known: str, key: str, rest: str, own: set[str]) -> bool:
    """Whether a new name (``key``; ``rest`` once its drug's own names are taken out) names the drug ``known``
    spells: it holds that name outside its own drug's names ("chloroquine diphosphate" as hydroxychloroquine),
    or anywhere except as part of one of them ("campath 1h" as mycophenolate, whose "mpa" cuts "campath"), or
    begins with its first letters ("ritux", "ritux 1g" as ofatumumab).  Matched as cells are, without spaces or
    dashes, so a short abbreviation counts inside a longer name too: "rtxsc" spells the cell "RTX SC" (review
    22), at the cost of refusing cycloserine and azacitidine, which hold "cyc" and "aza"."""
    inside_own = any(known in name for name in own)
    lead = re.split(r"\d", key, maxsplit=1)[0]  # "ritux" of "ritux 1g": a dose after the first letters
    return known in rest or (known in key and not inside_own) or (len(lead) >= 4 and known.startswith(lead))


def _mixes_scripts(word: str) -> bool:
    """Plain Latin letters beside any other letter: a look-alike of a Latin name ("rіtuximab" with a Cyrillic і,
    "rıtuximab" with a dotless ı).  A name wholly in another script (利妥昔单抗) is not a look-alike."""
    letters = [ch for ch in drug_key(word) if ch.isalpha()]
    return any(ch.isascii() for ch in letters) and not all(ch.isascii() for ch in letters)


def _lay_over(bundled: Any, site: Any, path: tuple[str, ...]) -> Any:
    """The site's entry over the bundled one.  Its own practice (``_PRACTICE``) it sets: mappings merged key by
    key, other values replaced.  Elsewhere, clinical facts, it may only add: new keys, new list items, a
    longer half-life.  Removing or changing one could end a washout early or read a dose or a code otherwise
    (a shorter half-life, a class emptied, a steroid equivalence changed)."""
    where = ".".join(path)
    if isinstance(bundled, dict) and isinstance(site, dict):
        merged = dict(bundled)
        for key, value in site.items():
            if key not in bundled and path[:1] and path[0] in _PRACTICE:  # a misspelt action or drug changes nothing
                raise ValueError(f"{where}.{key}: not one of {', '.join(map(str, bundled))}")
            merged[key] = _lay_over(bundled[key], value, (*path, str(key))) if key in bundled else value
        return merged
    if isinstance(bundled, dict):
        raise ValueError(f"{where}: a mapping of entries, as in the bundled facts")
    if path[:1] and path[0] in _PRACTICE:
        return site
    if isinstance(bundled, list):
        if not isinstance(site, list):
            raise ValueError(f"{where}: a list of entries to add to the bundled ones")
        return bundled + [item for item in site if item not in bundled]
    if path[:1] == ("half_lives_days",):
        if _number(site) >= bundled:
            return site
        raise ValueError(f"{where}: {site} days is shorter than the bundled {bundled}; a site may only lengthen it")
    if site != bundled:
        raise ValueError(f"{where}: a site may add to the bundled facts, not change them (bundled: {bundled})")
    return site


def _number(value: Any) -> float:
    """A site's value as the facts will read it ("1" is 1); NaN where it is no number (validation refuses it)."""
    try:
        return float(value)
    except (TypeError, ValueError, OverflowError):
        return float("nan")


def _no_biologic_spelled_as_conventional(bundled: dict[str, Any], merged: dict[str, Any], site: dict[str, Any]) -> None:
    """A site spells no drug that a column of conventional drugs takes (``known_names_only``) with a biologic's
    INN stem: ``mycophenolate: [epratuzumab]`` read a stopped antibody as mycophenolate, and NCT06983964 passed it
    (round 21).  The brands the bundled facts give the drug (CellCept) are not read for stems."""
    stems = bundled["biologic_name_stems"]
    classes = merged["drug_classes"]
    taken = {
        drug_key(drug)
        for names in bundled["known_names_only"].values()
        for name in names
        for drug in classes.get(name, [name])
    }
    spellings = bundled["drug_names"]["spellings"]
    brands = [other for drug, others in spellings.items() if drug_key(drug) in taken for other in others]
    for drug, others in (site.get("drug_names", {}).get("spellings") or {}).items():
        if drug_key(drug) not in taken:
            continue
        for other in others or ():
            if holds_stem(other, stems, brands):
                raise ValueError(
                    f"drug_names.spellings.{drug}: {other!r} is named as a biologic (it holds an INN stem of"
                    " biologic_name_stems): a biologic is no spelling of a conventional drug; the cohort records it"
                    " in other_biologic"
                )


def _no_drug_moved(bundled: dict[str, Any], merged: dict[str, list[str]]) -> None:
    """A site adds to a class only drugs the bundled facts do not know: a known one keeps its classes, or its
    having none (mycophenolate, or cyclophosphamide, added to the anti-CD20 class would be washed out by its own
    few days there)."""
    spellings = bundled["drug_names"]["spellings"]
    held = {drug for members in bundled["drug_classes"].values() for drug in members}
    held |= {*bundled["half_lives_days"], *bundled["steroid_equivalent_mg"], *spellings}
    held |= {other for others in spellings.values() for other in others}
    held_keys = {drug_key(drug) for drug in held}
    for name, members in merged.items():
        moved = sorted(m for m in set(members) - set(bundled["drug_classes"].get(name, ())) if drug_key(m) in held_keys)
        if moved:
            raise ValueError(
                f"drug_classes.{name}: {', '.join(moved)} is a drug the bundled facts know, of its own class"
            )
