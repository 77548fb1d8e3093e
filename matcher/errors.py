"""Domain errors.  The CLI turns each into a one-line message and exit status 2."""


class MatcherError(Exception):
    """Base of every error the matcher reports to its user."""


class CohortError(MatcherError):
    """A cohort file cannot be read as a whole (not a per-row problem)."""


class TrialModelError(MatcherError):
    """A trial YAML file is invalid; the message points at the YAML path."""


class FactsError(MatcherError):
    """A site's facts file cannot be read or does not fit facts.yaml."""
