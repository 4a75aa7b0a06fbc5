"""Command-line options shared by ``ppsim sweep``, ``whatif`` and ``sensitivity``.

Kept apart from :mod:`simulation.cli.console` so registering the commands imports
nothing heavy.
"""

import typer

SET_OPTION = typer.Option(
    None,
    "--set",
    metavar="NAME=VALUE",
    help="Change a base parameter for every run, e.g. --set n_systems=500 (repeatable).",
)
VARY_OPTION = typer.Option(
    None,
    "--vary",
    metavar="NAME=VALUES",
    help="Vary a parameter: start:stop:count (e.g. audit_rate=0:0.5:6), a list "
    "(propensity_scale=0,0.5,1; separate with ';' when values hold commas), or a "
    "distribution uniform(0,1), loguniform(0.001,0.01), integers(1,4), choice(a,b) "
    "(repeatable).",
)
REPLICATES_OPTION = typer.Option(
    None, "--replicates", min=1, help="Runs per scenario, each with its own seed."
)
SEED_OPTION = typer.Option(
    None, "--seed", min=0, help="Study seed (every run's seed derives from it)."
)
OUT_OPTION = typer.Option(
    None,
    "--out",
    help="Results folder (default: results/<study name>). Rerun into the same folder to "
    "resume an interrupted study.",
)
WORKERS_OPTION = typer.Option(
    None,
    "--workers",
    min=1,
    help="Local worker processes (default: every core); 1 runs in this process.",
)
SCHEDULER_OPTION = typer.Option(
    None,
    "--scheduler",
    metavar="tcp://HOST:PORT",
    help="Run on an existing Dask distributed cluster instead (its workers need ppsim).",
)
TIMESERIES_OPTION = typer.Option(
    None,
    "--timeseries/--no-timeseries",
    help="Also store every run's per-cycle metrics (timeseries/ in the results folder).",
    show_default=False,
)
REPORT_OPTION = typer.Option(True, "--report/--no-report", help="Write report.html at the end.")
OUTCOME_OPTION = typer.Option(
    None,
    "--outcome",
    metavar="NAME",
    help="Outcome to report, e.g. faulty_share_mean (repeatable; default: the study's list; "
    "all outcomes are listed in experiments/README.md). Every outcome is stored anyway.",
)
