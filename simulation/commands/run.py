"""``ppsim run`` (placeholder; being written)."""

import typer

from simulation.cli_options import config_options
from simulation.config import SimulationConfig


def register(app: typer.Typer) -> None:
    @app.command()
    @config_options
    def run(
        seed: int = typer.Option(0, help="seed"),
        *,
        config: SimulationConfig,
        config_seed: int | None,
    ) -> None:
        """Run one simulation."""
        print(config, seed, config_seed)
