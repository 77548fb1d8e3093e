"""matcher: match patients to CAR-T trials for refractory autoimmune disease."""

__version__ = "0.1.0"
