"""Library errors name the library's parameter; only the CLI names its option (as sqlite-utils does)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from matcher.cli import main
from matcher.errors import ParameterError
from matcher.scenario import check_slot_overrides
from matcher.synth import parse_mix


def test_library_names_the_parameter():
    with pytest.raises(ParameterError) as raised:
        parse_mix("XYZ=1")
    assert raised.value.parameter == "mix"
    assert str(raised.value).startswith("mix: 'XYZ' is not a diagnosis code")
    with pytest.raises(ParameterError, match=r"^slots names unknown trial 'NCT00000000'; known: NCT06056921$"):
        check_slot_overrides({"NCT00000000": 1}, ["NCT06056921"])


def test_cli_names_the_option():
    result = CliRunner().invoke(main, ["synth", "--n", "5", "--mix", "XYZ=1", "-o", "unused.csv"])
    assert result.exit_code == 2
    assert "Error: --mix: 'XYZ' is not a diagnosis code" in result.output


def test_a_value_with_braces_is_not_taken_for_the_placeholder():
    error = ParameterError("changes", "{option}: unknown column(s): {odd}")
    assert error.worded("--set") == "--set: unknown column(s): {odd}"
