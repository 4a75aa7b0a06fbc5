"""``ppsim whatif``: compare oversight policies on the same scenarios and seeds."""

from __future__ import annotations

from pathlib import Path

import typer

from simulation.cli import study_options

STUDY_ARGUMENT = typer.Argument(
    ...,
    metavar="STUDY.toml",
    help="What-if study file: a [base] (the baseline arm), optional uncertain [vary] "
    "parameters, and [arms.NAME] tables of policy changes.",
)


def register(app: typer.Typer) -> None:
    """Add ``ppsim whatif`` to the app."""

    @app.command(name="whatif", no_args_is_help=True)
    def whatif_command(
        study_file: Path = STUDY_ARGUMENT,
        set_values: list[str] | None = study_options.SET_OPTION,
        vary: list[str] | None = study_options.VARY_OPTION,
        replicates: int | None = study_options.REPLICATES_OPTION,
        seed: int | None = study_options.SEED_OPTION,
        outcome: list[str] | None = study_options.OUTCOME_OPTION,
        out: str | None = study_options.OUT_OPTION,
        workers: int | None = study_options.WORKERS_OPTION,
        scheduler: str | None = study_options.SCHEDULER_OPTION,
        timeseries: bool | None = study_options.TIMESERIES_OPTION,
        report: bool = study_options.REPORT_OPTION,
    ) -> None:
        """Compare oversight policies with a baseline on common random numbers.

        Every arm runs on the same scenarios and seeds, so each effect is a
        paired difference (arm - baseline) with a 95 % confidence interval.
        Prints each outcome per arm, the human effort each policy costs
        against the reliability it buys, and how robust each effect is across
        the scenarios (also written to DIR/robustness.csv).

        Example: ppsim whatif experiments/oversight-whatif.toml --workers 2
        """
        from simulation.cli import console
        from simulation.cli.options import user_errors
        from simulation.experiments import robustness
        from simulation.experiments.study_file import load_study

        with user_errors():
            changes = console.overrides(set_values, vary, replicates, seed, timeseries, outcome)
            study = load_study(study_file, changes)
        console.check_kind(study, "whatif")
        result = console.execute(study, out, workers, scheduler, report)
        console.print_whatif(result.frame, study)
        table = robustness.robustness(result.frame, study)
        path = robustness.write_robustness(result.out_dir, table)
        console.print_robustness(table, study, path)
