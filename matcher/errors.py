"""Domain errors.  The CLI turns each into a one-line message and exit status 2."""


class MatcherError(Exception):
    """Base of every error the matcher reports to its user."""


class CohortError(MatcherError):
    """A cohort file cannot be read as a whole (not a per-row problem)."""


class TrialModelError(MatcherError):
    """A trial YAML file is invalid; the message points at the YAML path."""


class FactsError(MatcherError):
    """A site's facts file cannot be read or does not fit facts.yaml."""


class ParameterError(MatcherError):
    """An argument of a library call cannot be used.

    The template names the argument as ``{option}``: the library's own message says the parameter
    (``slots``), and the CLI says the option that set it (``--slots``), so command-line words stay in cli.py.
    """

    def __init__(self, parameter: str, template: str) -> None:
        self.parameter = parameter
        self.template = template
        super().__init__(self.worded(parameter))

    def worded(self, option: str) -> str:
        return self.template.replace("{option}", option)
