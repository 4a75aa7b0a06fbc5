"""``ppsim run``: simulate one network of AI systems and report what happened.

Builds a :class:`~simulation.model.PeerPreservationModel` from the command line (or a TOML
file), steps it with a progress bar, prints a table of outcomes and, with ``--out``,
writes ``summary.json``, ``timeseries.parquet`` (and ``.csv``) and ``report.html`` into a
folder, all at once or not at all.
"""

import json
import shlex
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

import simulation
from simulation.cli.commands.profiles import ProfileDirsOption, check_profile_dirs
from simulation.cli.options import config_options, is_interactive, user_errors
from simulation.config import SimulationConfig
from simulation.errors import UsageError
from simulation.metrics import SUMMARY_DESCRIPTIONS, outcome_sections

if TYPE_CHECKING:  # the model, pandas and Plotly load only when a run starts
    import pandas as pd

    from simulation.model import PeerPreservationModel

SUMMARY_FILE = "summary.json"
TIMESERIES_FILE = "timeseries.parquet"
CSV_FILE = "timeseries.csv"
REPORT_FILE = "report.html"


def result_files(csv: bool) -> tuple[str, ...]:
    """The files ``--out`` receives (with ``--csv``, the time series as CSV too)."""
    return (SUMMARY_FILE, TIMESERIES_FILE, REPORT_FILE) + ((CSV_FILE,) if csv else ())


# The outcome table, in sections a reader can scan (as declared in the outcome registry).
SUMMARY_SECTIONS = outcome_sections()


RUN_HELP = (
    "Run one simulation and show its outcomes.\n\n"
    "Without options it simulates the built-in default: 1,000 AI systems on an agent "
    "platform, the study's average model, 200 oversight cycles. Set any parameter with its "
    "own option (e.g. --audit-rate 0.2), with --set name=value, or from a TOML file with "
    "--config (options override the file).\n\n"
    "With --out DIR it writes summary.json, timeseries.parquet and report.html (an "
    "interactive report that opens offline in any browser).\n\n"
    "Examples: ppsim run --profile-mix gemini-3-pro=0.5,claude-opus-4.5=0.5 --out "
    "results/mix;  ppsim run --config study.toml --seed 3 --json"
)


def command_line(ctx: typer.Context) -> str:
    """The options given to this command, as an equivalent ``ppsim run ...`` line.

    Rebuilt from what the parser received (not ``sys.argv``), so it is right however the
    command was invoked; options left at their defaults are omitted.
    """
    words = ["ppsim", ctx.info_name or "run"]
    for param in ctx.command.params:
        if getattr(param, "param_type_name", "") != "option" or param.name is None:
            continue
        source = ctx.get_parameter_source(param.name)
        if getattr(source, "name", "") not in ("COMMANDLINE", "ENVIRONMENT"):
            continue
        value = ctx.params.get(param.name)
        if param.is_flag:
            if value:
                words.append(param.opts[0])
            elif param.secondary_opts:
                words.append(param.secondary_opts[0])
            continue
        for item in value if param.multiple else [value]:
            words += [param.opts[0], str(item)]
    return shlex.join(words)


def dumps(value: Any, indent: int = 2, level: int = 0) -> str:
    """JSON with nested objects indented but lists of numbers on one line (compact and
    readable, e.g. the cascade size distribution). NaN is refused: see :func:`json_safe`."""
    pad, inner = " " * (indent * level), " " * (indent * (level + 1))
    if isinstance(value, dict) and value:
        items = (
            f"{inner}{json.dumps(str(k))}: {dumps(v, indent, level + 1)}" for k, v in value.items()
        )
        return "{\n" + ",\n".join(items) + f"\n{pad}}}"
    if isinstance(value, list) and any(isinstance(v, dict | list) for v in value):
        items = (f"{inner}{dumps(v, indent, level + 1)}" for v in value)
        return "[\n" + ",\n".join(items) + f"\n{pad}]"
    return json.dumps(value, allow_nan=False)


def run_model(model: "PeerPreservationModel", show_progress: bool) -> None:
    """Step the model to the end, with a progress bar on stderr if asked."""
    if not show_progress:
        model.run()
        return
    columns = (
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("cycles"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=Console(stderr=True)) as progress:
        task = progress.add_task("Simulating", total=model.config.steps)
        model.run(progress=lambda step: progress.update(task, completed=step))


def summary_document(
    config: SimulationConfig,
    seed: int,
    model: "PeerPreservationModel",
    series: "pd.DataFrame",
    *,
    command: str,
    profile_dirs: tuple[Path, ...],
    wall_time: float,
) -> dict[str, Any]:
    """Everything ``summary.json`` records about a finished run (JSON-ready)."""
    from simulation.reports.output import json_safe
    from simulation.reports.run import size_distribution

    return json_safe(
        {
            "ppsim_version": simulation.__version__,
            "command": command,
            "seed": seed,
            "parameters": config.to_dict(),
            "profiles": [p.name for p in model.profiles],
            "profile_dirs": [str(d) for d in profile_dirs],
            "steps_run": int(len(series)),
            "wall_time_seconds": round(wall_time, 4),
            "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "metrics": model.outcomes(),
            "cascade_size_distribution": size_distribution(model.engine.cascade_sizes()),
        }
    )


def write_results(folder: Path, series: "pd.DataFrame", document: dict, csv: bool) -> list[str]:
    """Write the result files into ``folder``, the staging folder of :func:`atomic_output`
    (which publishes them all at once); returns their names, in writing order."""
    from simulation.reports.run import run_report_html

    series.to_parquet(folder / TIMESERIES_FILE, index=False)
    names = [TIMESERIES_FILE]
    if csv:
        series.to_csv(folder / CSV_FILE, index=False)
        names.append(CSV_FILE)
    (folder / REPORT_FILE).write_text(run_report_html(series, document), encoding="utf-8")
    names.append(REPORT_FILE)
    (folder / SUMMARY_FILE).write_text(dumps(document) + "\n", encoding="utf-8")
    names.append(SUMMARY_FILE)
    return names


def outcome_table(metrics: dict[str, Any]) -> Table:
    """The run's outcomes with their values and meanings, in sections."""
    from simulation.outcome_text import format_outcome

    table = Table(title="Outcomes of the run", header_style="bold", title_justify="left")
    table.add_column("outcome", style="cyan", no_wrap=True)
    table.add_column("value", justify="right", no_wrap=True)
    table.add_column("meaning")
    shown = set()
    for _, names in SUMMARY_SECTIONS:
        for name in names:
            if name in metrics:
                table.add_row(
                    name, format_outcome(name, metrics[name]), SUMMARY_DESCRIPTIONS.get(name, "")
                )
                shown.add(name)
        table.add_section()
    for name in metrics.keys() - shown:  # outcomes added to the model later still show
        table.add_row(name, format_outcome(name, metrics[name]), SUMMARY_DESCRIPTIONS.get(name, ""))
    return table


def describe(config: SimulationConfig, seed: int) -> str:
    """One line naming the run, e.g. for the start message."""
    return (
        f"{config.n_systems:,} systems · {config.topology} · {config.population_label} · "
        f"{config.steps:,} cycles · seed {seed}"
    )


def register(app: typer.Typer) -> None:
    """Add ``ppsim run`` to the app."""

    @app.command(help=RUN_HELP)
    @config_options
    def run(
        ctx: typer.Context,
        seed: Annotated[
            int | None,
            typer.Option(
                "--seed",
                min=0,
                help="seed of the run's random numbers: the same seed gives the same run "
                "(default: the --config file's seed, else 0)",
                show_default=False,
            ),
        ] = None,
        out: Annotated[
            str | None,
            typer.Option(
                "--out",
                help="folder for summary.json, timeseries.parquet and report.html (created "
                "if missing; other files in it are kept; written only when the run finishes)",
                metavar="DIR",
            ),
        ] = None,
        csv: Annotated[
            bool,
            typer.Option("--csv", help="with --out, also write the time series as timeseries.csv"),
        ] = False,
        profile_dir: ProfileDirsOption = None,
        json_output: Annotated[
            bool,
            typer.Option("--json", help="print the summary as JSON on stdout instead of the table"),
        ] = False,
        quiet: Annotated[
            bool,
            typer.Option("--quiet", "-q", help="no progress bar or status messages on stderr"),
        ] = False,
        *,
        config: SimulationConfig,
        config_seed: int | None,
    ) -> None:
        """Run one simulation and show its outcomes (help text: ``RUN_HELP``)."""
        from simulation.model import PeerPreservationModel
        from simulation.reports.output import atomic_output, check_destination, out_folder

        run_seed = seed if seed is not None else (config_seed if config_seed is not None else 0)
        err = Console(stderr=True)
        show_progress = is_interactive() and not quiet
        with user_errors():
            if csv and out is None:
                raise UsageError("--csv: only with --out DIR, where it writes timeseries.csv")
            dirs = check_profile_dirs(profile_dir)
            out_dir = out_folder(out)
            if out_dir is not None:
                check_destination(out_dir, kind="run", files=result_files(csv))
            start = time.perf_counter()
            if show_progress:
                with err.status("Building the network"):
                    model = PeerPreservationModel(config, rng=run_seed, profile_dirs=dirs)
            else:
                model = PeerPreservationModel(config, rng=run_seed, profile_dirs=dirs)
            config = model.config  # a graph file decides n_systems
            if not quiet:  # only now: an input error must stay a single line
                err.print(f"Running {describe(config, run_seed)}", style="dim", highlight=False)
            run_model(model, show_progress)
            wall_time = time.perf_counter() - start
            series = model.timeseries()
            document = summary_document(
                config,
                run_seed,
                model,
                series,
                command=command_line(ctx),
                profile_dirs=dirs,
                wall_time=wall_time,
            )
            written: list[str] = []
            if out_dir is not None:
                with atomic_output(
                    out_dir, last=(SUMMARY_FILE,), kind="run", files=result_files(csv)
                ) as folder:
                    written = write_results(folder, series, document, csv)
        if json_output:
            typer.echo(dumps(document))
        else:
            Console().print(outcome_table(document["metrics"]))
        if out_dir is not None:
            where = f"Wrote {', '.join(written)} to {out_dir.expanduser().absolute()}"
            if json_output:
                if not quiet:
                    err.print(where, highlight=False)
            else:
                Console().print(where, highlight=False)
        elif not json_output and not quiet:
            err.print(
                f"Finished in {wall_time:.2f} s. Add --out DIR to save the results and an "
                "HTML report.",
                style="dim",
                highlight=False,
            )
