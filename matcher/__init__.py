"""matcher: match patients to CAR-T trials for refractory autoimmune disease.

The Python API (``matcher.screen``, ``matcher.whatif``, ``matcher.near_misses``, ``matcher.allocate``,
``matcher.load_trials``, ``matcher.read_cohort``; see ``matcher.api``) takes a pandas DataFrame, a pyarrow Table
or a file path and returns pandas DataFrames.  It is imported on first use, so the command line does not pay
for pandas.
"""

from __future__ import annotations

from typing import Any

from matcher.errors import MatcherError

__version__ = "0.1.0"
_API = ("screen", "whatif", "near_misses", "allocate", "load_trials", "read_cohort")
__all__ = [*_API, "MatcherError", "__version__"]


def __getattr__(name: str) -> Any:
    if name in _API:
        from matcher import api

        return getattr(api, name)
    raise AttributeError(f"module 'matcher' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_API})
