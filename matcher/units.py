"""Unit conversion for ``STEM[unit]`` column headers, with pint.

A header unit is turned into one multiplicative factor to the contract's
canonical unit, computed once per column, so conversion costs one vector
multiply.  Mass <-> amount conversions use the column's molar mass.
"""

from __future__ import annotations

import re
from functools import cache
from typing import TYPE_CHECKING

from matcher.errors import CohortError

if TYPE_CHECKING:
    import pint

_SCALE = re.compile(r"^\s*(?:10\^(?P<exp>-?\d+)|(?P<num>\d+(?:\.\d+)?(?:e-?\d+)?))\s*(?=/|\*|$|\s|[a-zA-Z])")
_AREA_LABEL = "/1.73m2"


@cache
def _registry() -> pint.UnitRegistry:
    import pint  # imported on the first unit header: pint (and pandas under it) cost every run a fifth of a second

    registry: pint.UnitRegistry = pint.UnitRegistry()
    registry.enable_contexts("chemistry")
    return registry


def _split(unit: str) -> tuple[float, str]:
    """Split a lab unit like ``10^9/L`` into a scale (1e9) and a pint expression (``1/L``)."""
    text = unit.strip().replace("µ", "u").replace("μ", "u").replace("³", "3").replace("²", "2")
    scale = 1.0
    match = _SCALE.match(text)
    if match and (match.group("exp") or match.group("num")):
        scale = 10.0 ** int(match.group("exp")) if match.group("exp") else float(match.group("num"))
        text = text[match.end() :].strip()
    text = re.sub(r"(?<=[a-zA-Z])([23])\b", r"**\1", text)  # mm3 -> mm**3
    per_hours = re.search(r"/(\d+)\s*h\b", text)  # g/24h: per 24 hours
    if per_hours:
        scale /= float(per_hours.group(1))
        text = text[: per_hours.start()] + "/hour" + text[per_hours.end() :]
    if text.startswith("/"):
        text = "1" + text
    return scale, text or "dimensionless"


@cache
def conversion_factor(column: str, given: str, canonical: str, molar_mass_g_mol: float | None) -> float:
    """The factor that turns values in ``given`` units into ``canonical`` units.

    Raises CohortError naming the column when the unit is unknown or of another kind.
    """
    if given.replace(" ", "").lower() == canonical.replace(" ", "").lower():
        return 1.0
    given_area, canonical_area = _AREA_LABEL in given, _AREA_LABEL in canonical
    if given_area != canonical_area:
        raise CohortError(f"column {column!r}: unit {given!r} is not convertible to {canonical!r}")
    given, canonical = given.replace(_AREA_LABEL, ""), canonical.replace(_AREA_LABEL, "")
    registry = _registry()
    import pint

    try:
        given_scale, given_expr = _split(given)
        canonical_scale, canonical_expr = _split(canonical)
        quantity = registry.Quantity(given_scale, given_expr)
        target = registry.Unit(canonical_expr)
    except (pint.errors.PintError, ValueError, AttributeError, TypeError, SyntaxError) as exc:
        raise CohortError(f"column {column!r}: unknown unit {given!r}") from exc
    candidates = [quantity]
    if molar_mass_g_mol:
        molar_mass = registry.Quantity(molar_mass_g_mol, "g/mol")
        candidates += [quantity / molar_mass, quantity * molar_mass]
    for candidate in candidates:
        try:
            if molar_mass_g_mol:
                converted = candidate.to(target, "chemistry", mw=registry.Quantity(molar_mass_g_mol, "g/mol"))
            else:
                converted = candidate.to(target)
        except (pint.errors.DimensionalityError, ZeroDivisionError):
            continue
        return float(converted.magnitude) / canonical_scale
    raise CohortError(f"column {column!r}: unit {given!r} is not convertible to {canonical!r}")
