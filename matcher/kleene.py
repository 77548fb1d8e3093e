"""Three-valued (Kleene) truth as int8 codes: 0 false, 1 unknown, 2 true.

The codes are ordered, so AND is ``min``, OR is ``max`` and NOT is ``2 - x``; every backend and the loader
share them from here.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

FALSE, UNKNOWN, TRUE = 0, 1, 2


def tri(known: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """Kleene codes from a known-mask and a truth-mask: 2·(known and true) + (not known), in bytes."""
    known = np.asarray(known, dtype=bool)
    codes = np.logical_and(known, truth).view(np.int8) << 1
    codes += np.logical_not(known).view(np.int8)
    return codes


def conjunction(parts: Sequence[np.ndarray]) -> np.ndarray:
    return np.minimum.reduce(parts)


def disjunction(parts: Sequence[np.ndarray]) -> np.ndarray:
    return np.maximum.reduce(parts)


def negation(codes: np.ndarray) -> np.ndarray:
    return (TRUE - codes).astype(np.int8)


def implies(condition: np.ndarray, then: np.ndarray) -> np.ndarray:
    return np.maximum(TRUE - condition, then).astype(np.int8)


def case_split(condition: np.ndarray, then: np.ndarray, otherwise: np.ndarray) -> np.ndarray:
    """(C and T) or (not C and O) or (T and O): the last term makes an unknown condition harmless
    where both branches hold, which is what Kleene logic says of a case split."""
    return np.maximum.reduce(
        [np.minimum(condition, then), np.minimum(TRUE - condition, otherwise), np.minimum(then, otherwise)]
    ).astype(np.int8)


def at_least(parts: Sequence[np.ndarray], k: int) -> np.ndarray:
    """True where k parts are true, false where fewer than k can be, unknown between."""
    true_count = np.zeros(len(parts[0]), dtype=np.int16)
    possible = np.zeros(len(parts[0]), dtype=np.int16)
    for part in parts:
        true_count += part == TRUE
        possible += part != FALSE
    return np.where(true_count >= k, TRUE, np.where(possible < k, FALSE, UNKNOWN)).astype(np.int8)
