"""The ``ppsim`` command line: each command lives in ``simulation/commands/`` and registers
itself on this Typer app."""

from __future__ import annotations

import importlib

import typer

app = typer.Typer(
    name="ppsim",
    help="Simulate peer-preservation in networks of AI systems: how far faults cascade when "
    "the models that grade and manage other models shield them, and which oversight "
    "policy stops it.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

COMMAND_MODULES = (
    "run",
    "profiles",
    "sweep",
    "whatif",
    "sensitivity",
    "report",
    "validate",
    "viz",
)

for _name in COMMAND_MODULES:
    importlib.import_module(f"simulation.commands.{_name}").register(app)


def main() -> None:
    app()
