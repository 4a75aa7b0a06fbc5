"""``ppsim sensitivity``: global sensitivity indices (Sobol or Morris) with SALib."""

from __future__ import annotations

from pathlib import Path

import typer

from simulation.cli import study_options

STUDY_ARGUMENT = typer.Argument(
    ...,
    metavar="STUDY.toml",
    help="Sensitivity study file: [vary] holds the uncertain parameters and their ranges or "
    "distributions.",
)
METHOD_OPTION = typer.Option(
    None,
    "--method",
    help="sobol (variance-based: first-order and total indices; more runs) or morris "
    "(elementary-effects screening; few runs). Default: the study's method.",
)


def register(app: typer.Typer) -> None:
    """Add ``ppsim sensitivity`` to the app."""

    @app.command(name="sensitivity", no_args_is_help=True)
    def sensitivity_command(
        study_file: Path = STUDY_ARGUMENT,
        method: str | None = METHOD_OPTION,
        set_values: list[str] | None = study_options.SET_OPTION,
        replicates: int | None = study_options.REPLICATES_OPTION,
        seed: int | None = study_options.SEED_OPTION,
        outcome: list[str] | None = study_options.OUTCOME_OPTION,
        out: str | None = study_options.OUT_OPTION,
        workers: int | None = study_options.WORKERS_OPTION,
        scheduler: str | None = study_options.SCHEDULER_OPTION,
        report: bool = study_options.REPORT_OPTION,
    ) -> None:
        """Which parameters drive each outcome? Global sensitivity with SALib.

        Sobol gives the share of each outcome's variance due to each
        parameter alone (S1) and with its interactions (ST); Morris ranks
        parameters cheaply (mu*, sigma). All with 95 % bootstrap intervals.
        Results go to results/<name>-<method> unless --out is given.

        Example: ppsim sensitivity experiments/sensitivity.toml --method morris
        """
        from simulation.cli import console
        from simulation.cli.options import user_errors
        from simulation.experiments.study_file import load_study

        with user_errors():
            changes = console.overrides(set_values, None, replicates, seed, None, outcome)
            study = load_study(study_file, changes)
            if method is not None:
                study = study.with_method(method)
        console.check_kind(study, "sensitivity")
        result = console.execute(study, out, workers, scheduler, report, f"-{study.method}")
        console.print_sensitivity(result.plan, result.frame)
