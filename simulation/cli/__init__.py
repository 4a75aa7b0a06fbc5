"""Command line: the Typer app, its shared options, console output and one module per command.

The app and the ``ppsim`` entry point live in :mod:`simulation.cli.entry` and are imported
from here on first use (``from simulation.cli import app, main``), so that importing a
helper such as :mod:`simulation.cli.options` does not build the whole app.
"""

from __future__ import annotations

from simulation import lazy_exports

_EXPORTS = {
    name: "simulation.cli.entry"
    for name in (
        "COMMAND_MODULES",
        "PpsimGroup",
        "UsageError",
        "app",
        "escape_help",
        "main",
        "one_line_usage_errors",
        "report_bug",
        "usage_error_line",
    )
}

__all__ = sorted(_EXPORTS)
__getattr__ = lazy_exports(__name__, _EXPORTS)
