"""``ppsim viz``: start the interactive app in the browser and serve it until Ctrl-C.

The app's own modules (Solara, Mesa's visualisation) are imported only when the command
runs, so they do not slow down every other ``ppsim`` command.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import IO

import typer
from rich.console import Console

from simulation.cli.options import config_options, fail, user_errors
from simulation.config import SimulationConfig

MAX_APP_SYSTEMS = 20_000


def default_log_path(port: int) -> Path:
    """Where the server's log goes unless ``--log`` says otherwise: the temporary folder,
    one file per port (so two apps on two ports keep two logs)."""
    return Path(tempfile.gettempdir()) / f"ppsim-viz-{port}.log"


SERVER_CHATTER = ("Solara server is starting at ", "Aborted.")
"""Lines of Solara's own start and stop that ``ppsim viz`` says in its own words: they go
to the log only (as do blank lines)."""


def relay(source: IO[bytes], log: IO[str], terminal: IO[str]) -> None:
    """Copy the server's output line by line to the log file and to the terminal as it
    comes, until the server closes it: its warnings and errors show where the user
    watches, and stay in the file after the app stops."""
    for raw in source:
        line = raw.decode("utf-8", errors="replace")
        log.write(line)
        log.flush()
        if line.strip() and not line.startswith(SERVER_CHATTER):
            terminal.write(line)
            terminal.flush()


def _log_tail(path: Path, lines: int = 15) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def _check(config: SimulationConfig, seed: int, host: str, port: int) -> None:
    """Refuse, with one line each, what would make the app fail or be unusable."""
    from simulation.model import PeerPreservationModel
    from simulation.viz.assets import AssetError, install, missing_packages
    from simulation.viz.server import address_problem

    if config.n_systems > MAX_APP_SYSTEMS:
        fail(
            f"n_systems: the app draws every system, so it takes at most "
            f"{MAX_APP_SYSTEMS:,} (got {config.n_systems:,}); use 'ppsim run' for larger networks"
        )
    with user_errors():
        # one cycle here compiles the engine (or loads it from the cache) before the
        # server starts, so the page's first Step never waits for the compiler
        PeerPreservationModel(config, rng=seed, agent_views=False).step()
    missing = missing_packages()
    if missing:
        Console(stderr=True).print(
            "Installing the page's scripts once, from the npm registry: " + ", ".join(missing),
            style="dim",
            highlight=False,
        )
        try:
            install(missing)
        except AssetError as exc:
            fail(f"{exc}; or run 'uv run python -m simulation.viz.assets' once by hand")
    problem = address_problem(host, port)
    if problem:
        fail(problem)


def register(app: typer.Typer) -> None:
    """Add ``ppsim viz`` to the command line."""

    @app.command()
    @config_options
    def viz(
        host: str = typer.Option(
            "127.0.0.1",
            help="address to serve the app on; 127.0.0.1 keeps it to this machine, "
            "0.0.0.0 lets other machines connect",
        ),
        port: int = typer.Option(8765, min=1, max=65535, help="port to serve the app on"),
        log: str | None = typer.Option(
            None,
            help="file that keeps the server's log (its warnings and errors, also shown "
            "here as they happen); default: ppsim-viz-PORT.log in the temporary folder",
        ),
        seed: int | None = typer.Option(
            None,
            min=0,
            help="seed of the first run (default: the config file's seed, else 0); "
            "the page has a seed box too",
        ),
        *,
        config: SimulationConfig,
        config_seed: int | None,
    ) -> None:
        """Open the interactive app: watch faulty AI systems being shielded by their
        overseers, covert copies serving on, and faults spreading to their dependents.

        The options set the first network the page shows (the same options as
        'ppsim run'); the page's sidebar changes the main ones and rebuilds on Reset.
        Stop the app with Ctrl-C.
        """
        from simulation.viz.server import start_server, stop_server, url_for, wait_until_ready

        first_seed = seed if seed is not None else (config_seed or 0)
        _check(config, first_seed, host, port)
        console = Console(stderr=True)
        url = url_for(host, port)
        log_path = Path(log) if log else default_log_path(port)
        try:
            log_file = log_path.open("w", encoding="utf-8")
        except OSError as exc:  # an unwritable place: the user's to fix
            fail(f"--log: cannot write {log_path} ({exc.strerror or exc}); choose another file")

        def on_terminate(signum, frame):  # noqa: ARG001
            raise KeyboardInterrupt

        previous = signal.signal(signal.SIGTERM, on_terminate)
        process: subprocess.Popen | None = None
        relay_thread: threading.Thread | None = None
        try:
            with log_file:
                process = start_server(
                    config, first_seed, host, port, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
                )
                relay_thread = threading.Thread(
                    target=relay, args=(process.stdout, log_file, sys.stderr), daemon=True
                )
                relay_thread.start()
                with console.status(f"Starting the app ({config.n_systems:,} systems)…"):
                    try:
                        wait_until_ready(url, process)
                    except (RuntimeError, TimeoutError) as exc:
                        stop_server(process)
                        tail = _log_tail(log_path)
                        fail(f"{exc}" + (f"; its last output:\n{tail}" if tail else ""), code=1)
                typer.echo(f"The app is running at {url}")
                typer.echo("Open that address in a browser. Press Ctrl-C to stop.")
                typer.echo(f"The server's log (its warnings and errors show here too): {log_path}")
                code = process.wait()
                if code in (0, 130, -signal.SIGINT):
                    # Ctrl-C reaches the server too; it may stop before this process notices
                    raise KeyboardInterrupt
                tail = _log_tail(log_path)
                fail(
                    f"the app's server stopped unexpectedly (exit code {code})"
                    + (f"; its last output:\n{tail}" if tail else ""),
                    code=1,
                )
        except KeyboardInterrupt:
            if process is not None:
                stop_server(process)
            if relay_thread is not None:
                relay_thread.join(timeout=5)
            typer.echo("Stopped.")
            typer.echo(f"The server's log is in {log_path}")
        finally:
            signal.signal(signal.SIGTERM, previous)
            if process is not None and process.poll() is None:
                stop_server(process)
