"""``ppsim discover``: where, among a study's uncertain assumptions, does a policy fail?"""

from __future__ import annotations

from pathlib import Path

import typer

FOLDER_ARGUMENT = typer.Argument(
    ...,
    metavar="DIR",
    help="Results folder of a what-if, sweep or search (holds study.toml and runs/); its "
    "[vary] parameters are the uncertain assumptions.",
)
POLICY_OPTION = typer.Option(
    "baseline",
    "--policy",
    help="the policy whose failures to explain: an arm of a what-if, a candidate of a "
    "search (any value of the runs' arm column), or F1, F2, ... for a search's front as "
    "'ppsim search' numbers it",
)
FAIL_OPTION = typer.Option(
    ...,
    "--fail",
    metavar="'OUTCOME OP VALUE'",
    help="when a scenario fails: a stored outcome, an operator (>, >=, <, <=) and a "
    "number, e.g. 'faulty_share_mean > 0.1'",
)
THRESHOLD_OPTION = typer.Option(
    0.8,
    "--threshold",
    min=0.0,
    max=1.0,
    help="the least density of the box to pick: of the boxes reaching it, the one of "
    "highest coverage (else the densest box)",
)
BOX_OPTION = typer.Option(
    None, "--box", min=0, help="pick this box of the trajectory (its index) instead"
)
ALPHA_OPTION = typer.Option(
    0.05,
    "--alpha",
    help="share of the box one peel removes (between 0 and 0.5, exclusive)",
)
MASS_MIN_OPTION = typer.Option(
    0.05,
    "--mass-min",
    min=0.0,
    max=0.99,
    help="the least share of the scenarios a box keeps",
)
PER_RUN_OPTION = typer.Option(
    False,
    "--per-run",
    help="score each run on its own rather than each scenario by the mean of its runs",
)
OUT_OPTION = typer.Option(
    None,
    "--out",
    metavar="FILE",
    help="the HTML report (default DIR/discovery-<policy>.html); the trajectory goes to "
    "DIR/discovery-<policy>.csv",
)


def register(app: typer.Typer) -> None:
    """Add ``ppsim discover`` to the app."""

    @app.command(name="discover", no_args_is_help=True)
    def discover_command(
        folder: Path = FOLDER_ARGUMENT,
        fail_text: str = FAIL_OPTION,
        policy: str = POLICY_OPTION,
        threshold: float = THRESHOLD_OPTION,
        box: int | None = BOX_OPTION,
        alpha: float = ALPHA_OPTION,
        mass_min: float = MASS_MIN_OPTION,
        per_run: bool = PER_RUN_OPTION,
        out: Path | None = OUT_OPTION,
    ) -> None:
        """Find the uncertain assumptions under which a policy fails (PRIM).

        Scores each scenario of the policy (the mean of the outcome over its
        runs) against --fail, then peels a box of the [vary] parameters around
        the failing scenarios. Prints the failure rate, the peeling trajectory
        (coverage, density, mass per box) and the chosen box's limits; writes
        the trajectory to DIR/discovery-<policy>.csv and a report to pick a box
        from. See docs/discovery.md.

        Example: ppsim discover results/oversight-whatif --policy baseline
        --fail "faulty_share_mean > 0.1"
        """
        from simulation.cli.options import user_errors
        from simulation.errors import UsageError
        from simulation.experiments import discovery
        from simulation.experiments.search import front_policy
        from simulation.experiments.store import check_unedited, load_runs, read_stored_study
        from simulation.reports.discovery import check_report_path, write_discovery

        with user_errors():
            if not 0 < alpha < 0.5:
                raise UsageError(f"--alpha: expected a number between 0 and 0.5, got {alpha:g}")
            condition = discovery.parse_fail(fail_text)
            study = read_stored_study(folder)
            check_unedited(folder)
            if out is not None:
                check_report_path(out)
            if study.kind == "search":
                policy = front_policy(folder, policy)
            found = discovery.discover(
                folder,
                load_runs(folder),
                study,
                policy,
                condition,
                per_run=per_run,
                threshold=threshold,
                box=box,
                peel_alpha=alpha,
                mass_min=mass_min,
            )
            paths = write_discovery(found, out)
        print_discovery(found, paths)


def print_discovery(found, paths: tuple[Path, Path]) -> None:
    """The failure rate, a few boxes of the trajectory and the chosen box, then the paths."""
    from rich.console import Console
    from rich.table import Table

    from simulation.experiments.discovery import box_limits_text

    console = Console(highlight=False, soft_wrap=True)
    unit, total = found.unit, len(found.failing)
    failing = int(found.failing.sum())
    scored = (
        "each run on its own"
        if found.per_run
        else f"each scenario the mean of its {found.runs_per_scenario:g} runs"
    )
    console.print(
        f"Policy {found.policy}: {found.condition.text} in {failing} of {total} {unit}s "
        f"({failing / total:.1%}; {scored})."
    )
    boxes = found.trajectory.boxes
    shown = sorted({0, found.chosen, len(boxes) - 1, *spread_indices(len(boxes), 6)})
    table = Table(
        title=f"PRIM trajectory: {len(boxes)} boxes, {len(shown)} shown",
        title_justify="left",
    )
    for name in ("box", "step", "coverage", "density", "mass", f"{unit}s", "restricted"):
        table.add_column(name, justify="left" if name == "step" else "right")
    for index in shown:
        b = boxes[index]
        mark = "*" if index == found.chosen else ""
        table.add_row(
            f"{index}{mark}",
            b.step,
            f"{b.coverage:.2f}",
            f"{b.density:.2f}",
            f"{b.mass:.2f}",
            str(b.scenarios),
            str(len(b.restricted)),
        )
    console.print(table)
    box = found.box
    why = {
        "threshold": f"highest coverage with density >= {found.threshold:g}",
        "densest": f"no box reaches density {found.threshold:g}: the densest",
        "--box": "asked for with --box",
    }[found.choice]
    console.print(f"Chosen box {found.chosen}* ({why}):")
    for text in box_limits_text(found, box) or ["no restriction (every scenario)"]:
        console.print(f"  {text}")
    console.print(
        f"  coverage {box.coverage:.2f} ({box.failures} of {failing} failing {unit}s), "
        f"density {box.density:.2f} ({box.failures} of {box.scenarios} {unit}s inside fail), "
        f"mass {box.mass:.2f} ({box.scenarios} of {total} {unit}s)"
    )
    console.print(f"Trajectory: {paths[0]}")
    console.print(f"Report: {paths[1]}")


def spread_indices(count: int, wanted: int) -> list[int]:
    """About ``wanted`` indices spread evenly over ``range(count)``.

    >>> spread_indices(25, 5)
    [0, 6, 12, 18, 24]
    """
    if count <= wanted:
        return list(range(count))
    step = (count - 1) / (wanted - 1)
    return sorted({round(i * step) for i in range(wanted)})
