"""``ppsim sweep``: run the model over a grid or a Latin hypercube of parameters."""

from __future__ import annotations

from pathlib import Path

import typer

from simulation.cli import study_options

STUDY_ARGUMENT = typer.Argument(
    None,
    metavar="[STUDY.toml]",
    help="Study file (see experiments/README.md). Without one, the sweep is built from "
    "--vary, --set and --replicates.",
)
DESIGN_OPTION = typer.Option(
    None,
    "--design",
    help="factorial (every combination of levels) or lhs (a Latin hypercube sample of "
    "--samples scenarios).",
)
SAMPLES_OPTION = typer.Option(None, "--samples", min=1, help="Scenarios to draw for --design lhs.")


def register(app: typer.Typer) -> None:
    """Add ``ppsim sweep`` to the app."""

    @app.command()
    def sweep(
        study_file: Path | None = STUDY_ARGUMENT,
        vary: list[str] | None = study_options.VARY_OPTION,
        set_values: list[str] | None = study_options.SET_OPTION,
        replicates: int | None = study_options.REPLICATES_OPTION,
        design: str | None = DESIGN_OPTION,
        samples: int | None = SAMPLES_OPTION,
        seed: int | None = study_options.SEED_OPTION,
        outcome: list[str] | None = study_options.OUTCOME_OPTION,
        out: str | None = study_options.OUT_OPTION,
        workers: int | None = study_options.WORKERS_OPTION,
        scheduler: str | None = study_options.SCHEDULER_OPTION,
        timeseries: bool | None = study_options.TIMESERIES_OPTION,
        report: bool = study_options.REPORT_OPTION,
    ) -> None:
        """Sweep the model across parameters and replicates; one row per run.

        Examples:

          ppsim sweep experiments/propensity-by-audit.toml

          ppsim sweep --vary audit_rate=0:0.5:6 --vary propensity_scale=0,0.5,1
          --replicates 20 --set n_systems=500

        Every run is seeded from the study seed and its own key, so results
        are the same on any number of workers or on a Dask cluster. Interrupt
        it and run the same command again to resume.
        """
        import pandas as pd

        from simulation.cli import console
        from simulation.cli.options import user_errors
        from simulation.experiments.stats import group_summary
        from simulation.experiments.study_file import inline_study, load_study
        from simulation.outcome_text import outcome_scale

        with user_errors():
            changes = console.overrides(
                set_values, vary, replicates, seed, timeseries, outcome, design, samples
            )
            if study_file is not None:
                study = load_study(study_file, changes)
            else:
                study = inline_study(changes, "sweep")
        console.check_kind(study, "sweep")
        result = console.execute(study, out, workers, scheduler, report)
        if study.vary and study.design == "factorial":
            summary = group_summary(result.frame, study.varied, study.outcomes)
            wide = summary.pivot_table(
                index=list(study.varied), columns="outcome", values="mean", sort=False
            )
            wide = wide[[o for o in study.outcomes if o in wide.columns]]
            units = {o: outcome_scale(o) for o in wide.columns}
            wide = (wide * pd.Series({o: f for o, (f, _) in units.items()})).rename(
                columns={o: f"{o} ({u})" if u else o for o, (_, u) in units.items()}
            )
            console.print_table(
                pd.DataFrame(wide.reset_index()),
                "Mean over replicates (shares in %, score differences in pp)",
            )
