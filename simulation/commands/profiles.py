"""``ppsim profiles`` (placeholder; being written)."""

import typer


def register(app: typer.Typer) -> None:
    @app.command()
    def profiles() -> None:
        """List profiles."""
