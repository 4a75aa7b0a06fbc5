"""``ppsim sweep``: not written yet; registers nothing."""

import typer


def register(app: typer.Typer) -> None:
    """Add the command to the app (nothing yet)."""
