"""``ppsim report``: rebuild a study's report.html from its stored results."""

from __future__ import annotations

from pathlib import Path

import typer

FOLDER_ARGUMENT = typer.Argument(
    ...,
    metavar="DIR",
    help="Results folder of a sweep, what-if, sensitivity study or search (holds study.toml "
    "and runs/).",
)


def register(app: typer.Typer) -> None:
    """Add ``ppsim report`` to the app."""

    @app.command(no_args_is_help=True)
    def report(folder: Path = FOLDER_ARGUMENT) -> None:
        """Rebuild DIR/report.html from the results stored in DIR (no run is repeated).

        Example: ppsim report results/propensity-by-audit
        """
        from simulation.cli.options import user_errors
        from simulation.reports.study import build_report

        with user_errors():
            path = build_report(folder)
        typer.echo(f"Report: {path}")
