"""``ppsim search``: the Pareto front of oversight policies over a study's scenarios."""

from __future__ import annotations

from pathlib import Path

import typer

from simulation.cli import study_options

STUDY_ARGUMENT = typer.Argument(
    ...,
    metavar="STUDY.toml",
    help="Search study file (kind = 'search'): [base], the uncertain [vary] parameters, "
    "[levers] with their domains, [objectives], optional [constraints], [arms.NAME] to "
    "compare with, and [search] settings.",
)
GENERATIONS_OPTION = typer.Option(
    None, "--generations", min=1, help="Generations to run (default: the study's [search])."
)
POPULATION_OPTION = typer.Option(
    None, "--population", min=4, help="Candidates per generation (default: the study's)."
)


def register(app: typer.Typer) -> None:
    """Add ``ppsim search`` to the app."""

    @app.command(name="search", no_args_is_help=True)
    def search_command(
        study_file: Path = STUDY_ARGUMENT,
        set_values: list[str] | None = study_options.SET_OPTION,
        replicates: int | None = study_options.REPLICATES_OPTION,
        seed: int | None = study_options.SEED_OPTION,
        generations: int | None = GENERATIONS_OPTION,
        population: int | None = POPULATION_OPTION,
        out: str | None = study_options.OUT_OPTION,
        workers: int | None = study_options.WORKERS_OPTION,
        scheduler: str | None = study_options.SCHEDULER_OPTION,
        report: bool = study_options.REPORT_OPTION,
    ) -> None:
        """Search the policy levers for the Pareto front of the objectives.

        NSGA-II (or NSGA-III) proposes combinations of the levers; each runs on
        the same scenarios and seeds (common random numbers) and is scored over
        the scenarios by its mean, a quantile or its largest regret. Prints each
        generation's front size and hypervolume, then the front and where the
        baseline and the comparison arms stand against it. Writes
        DIR/front.parquet, candidates.parquet, comparison.parquet,
        convergence.csv and report.html. Every run is stored as it finishes:
        run the same command again to resume, or with more --generations to
        go on.

        Example: ppsim search experiments/policy-search.toml --workers 2
        """
        from simulation.cli import console, search_console
        from simulation.cli.options import user_errors
        from simulation.experiments.study_file import load_study

        with user_errors():
            changes = console.overrides(set_values, None, replicates, seed, None)
            changes.search = {
                key: value
                for key, value in (("generations", generations), ("population", population))
                if value is not None
            }
            study = load_study(study_file, changes)
        console.check_kind(study, "search")
        result = search_console.execute_search(study, out, workers, scheduler)
        search_console.print_search(result)
        if report:
            from simulation.reports.search import build_search_report

            with user_errors():
                path = build_search_report(result.out_dir)
            console.err_console.print(f"Report: {path}")
