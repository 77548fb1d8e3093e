"""The ``matcher`` command line: a thin click layer over the library.

Domain errors (MatcherError) become a one-line message and exit status 2 here, and only here
(``common.reports_errors``); library parameters are named by the options that set them.
"""

from __future__ import annotations

import click

from matcher.cli.allocation import allocate_command, report_command
from matcher.cli.importing import import_group
from matcher.cli.schedule import schedule_command
from matcher.cli.screening import screen_command, whatif_command
from matcher.cli.tools import synth_command, trials_group


@click.group()
@click.version_option(package_name="matcher")
def main() -> None:
    """Match patients to CAR-T trials for refractory autoimmune disease."""


for _command in (
    screen_command,
    whatif_command,
    allocate_command,
    schedule_command,
    report_command,
    synth_command,
    trials_group,
    import_group,
):
    main.add_command(_command)

__all__ = ["main"]
