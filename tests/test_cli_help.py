"""Every command's help shows its bracketed words (``[base]``, ``[vary]``, ``[arms.NAME]``)
instead of losing them to the help formatter's markup."""

from __future__ import annotations

import inspect
import re

import pytest
from typer.models import ParameterInfo
from typer.testing import CliRunner

from simulation.cli import app

BRACKETED = re.compile(r"\[[A-Za-z_.]+\]")


def _help_texts(command) -> list[str]:
    texts = [command.help or ""]
    for parameter in inspect.signature(command.callback).parameters.values():
        if isinstance(parameter.default, ParameterInfo) and parameter.default.help:
            texts.append(parameter.default.help)
    return texts


def _bracketed(command) -> set[str]:
    words = set()
    for text in _help_texts(command):
        words.update(
            word.replace("\\[", "[") for word in BRACKETED.findall(text.replace("\\[", "["))
        )
    return words


def _name(command) -> str:
    return command.name or command.callback.__name__.replace("_", "-")


@pytest.mark.parametrize("command", app.registered_commands, ids=_name)
def test_help_keeps_bracketed_words(command) -> None:
    result = CliRunner().invoke(app, [_name(command), "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    for word in _bracketed(command):
        assert word in result.output, f"{_name(command)} --help lost {word}"
    assert "\\[" not in result.output


def test_whatif_help_names_its_tables() -> None:
    result = CliRunner().invoke(app, ["whatif", "--help"], env={"COLUMNS": "200"})
    for word in ("[base]", "[vary]", "[arms.NAME]"):
        assert word in result.output
