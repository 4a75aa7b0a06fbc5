"""Terminal side of ``ppsim search``: live progress per generation (runs, hypervolume) and
the front, the comparison policies and the files written, printed at the end."""

from __future__ import annotations

import math
import signal
from pathlib import Path

import numpy as np
import pandas as pd
import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from simulation import interrupts
from simulation.cli.console import RESULTS_ROOT, err_console, out_console, print_table
from simulation.cli.options import fail, user_errors
from simulation.experiments.executors import open_executor, worker_count
from simulation.experiments.search import (
    GenerationRecord,
    SearchInterrupted,
    SearchLost,
    SearchResult,
    run_search,
)
from simulation.experiments.study import Study, run_count
from simulation.outcome_text import outcome_scale
from simulation.reports.output import out_folder


class SearchBar:
    """One progress bar per stage (comparison policies, then each generation) and a line
    per finished generation with its front and hypervolume."""

    def __init__(self) -> None:
        self.bar = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("runs"),
            TextColumn("[red]{task.fields[failed]} failed"),
            TimeElapsedColumn(),
            console=err_console,
        )
        self.task = None
        self.failed = 0
        self.started = False

    def stage(self, title: str, runs: int, stored: int) -> None:
        if not self.started:
            self.bar.start()
            self.started = True
        if self.task is not None:
            self.bar.remove_task(self.task)
        self.failed = 0
        self.task = self.bar.add_task(title, total=max(runs, 1), completed=stored, failed=0)
        if runs == 0:
            self.bar.update(self.task, completed=1)

    def advance(self, failed: bool) -> None:
        self.failed += failed
        self.bar.update(self.task, advance=1, failed=self.failed)

    def generation_done(self, record: GenerationRecord) -> None:
        reused = f", {record.stored} stored" if record.stored else ""
        self.bar.console.print(
            f"generation {record.generation}: {record.new} new of {record.candidates} "
            f"({record.ran} runs{reused}); front {record.front} of {record.evaluated}, "
            f"hypervolume {record.hypervolume:.4f}",
            highlight=False,
        )

    def stop(self) -> None:
        if self.started:
            if self.task is not None:
                self.bar.remove_task(self.task)
            self.bar.stop()


def execute_search(
    study: Study, out: str | None, workers: int | None, scheduler: str | None
) -> SearchResult:
    """Run the search with live progress; exit 130/143 (finished runs stored) on Ctrl-C or
    SIGTERM, 2 on invalid input, 1 if the executor lost runs."""
    with user_errors():
        out_dir = out_folder(out) or RESULTS_ROOT / study.name
        workers, note = worker_count(workers, scheduler, run_count(study))
    if note:
        err_console.print(f"Note: {note}.", style="yellow", highlight=False)
    bar = SearchBar()
    try:
        with user_errors(), open_executor(workers, scheduler) as (executor, slots, label):
            settings = study.search
            err_console.print(
                f"Search [bold]{study.name}[/] -> {out_dir}  ({label}): {settings.algorithm}, "
                f"{settings.population} candidates x {settings.generations} generations, "
                f"scored by {_score_words(study)} over the scenarios",
                soft_wrap=True,
            )
            try:
                return run_search(study, out_dir, executor, workers=slots, progress=bar)
            finally:
                bar.stop()
    except SearchInterrupted as stop:
        how = "Terminated (SIGTERM)" if stop.signum == signal.SIGTERM else "Interrupted"
        interrupts.report(text=f"{how}: {stop}.")
        raise typer.Exit(128 + stop.signum) from None
    except SearchLost as lost:
        fail(str(lost), code=1)
    raise AssertionError("unreachable")


def _score_words(study: Study) -> str:
    settings = study.search
    if settings.score == "quantile":
        return f"the {settings.quantile:g} quantile on each objective's bad side"
    return "the mean" if settings.score == "mean" else "the largest regret"


def _value(name: str, value: float, low: float, high: float) -> str:
    factor, unit = outcome_scale(name)
    if not math.isfinite(value):
        return "n/a"
    unit = f" {unit}" if unit else ""
    return f"{factor * value:.3g} [{factor * low:.3g}, {factor * high:.3g}]{unit}"


def _scored(frame: pd.DataFrame, study: Study) -> dict[str, list[str]]:
    names = study.outcomes  # a search's: its objectives, then its other constrained outcomes
    return {
        f"{name} (95% CI)": [
            _value(name, v, lo, hi)
            for v, lo, hi in zip(
                frame[name], frame[f"{name}_low"], frame[f"{name}_high"], strict=True
            )
        ]
        for name in names
    }


def _number(x: float) -> str:
    """Three significant digits, whole numbers from 100 up (no exponent)."""
    if not math.isfinite(x):
        return "n/a"
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.3g}"


def _lever_text(value: object) -> str:
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    return f"{value:g}" if isinstance(value, float) else str(value)


FRONT_COLUMNS = 8
"""Front policies shown side by side; the rest are in front.parquet and the report."""


def _print_front(front: pd.DataFrame, study: Study, title: str) -> None:
    """The front side by side, one column per policy (in order of the first objective):
    its name, its levers, then each scored outcome and its interval."""
    shown = front.head(FRONT_COLUMNS)
    names = study.outcomes  # a search's: its objectives, then its other constrained outcomes
    table = Table(title=title, title_justify="left")
    table.add_column("", no_wrap=True)
    for i in range(len(shown)):
        table.add_column(f"F{i + 1}", justify="right", overflow="fold")
    table.add_row("candidate", *(c.removeprefix("cand-") for c in shown["candidate"]))
    for lever in study.levers:
        table.add_row(lever.name, *(_lever_text(v) for v in shown[lever.name]))
    table.add_section()
    units = []
    for name in names:
        factor, unit = outcome_scale(name)
        units.append(f"{name} in {unit}" if unit else name)
        table.add_row(name, *(_number(factor * v) for v in shown[name]))
        for side in ("low", "high"):
            values = shown[f"{name}_{side}"]
            table.add_row(f"  95% CI {side}", *(_number(factor * v) for v in values))
    table.caption = "; ".join(units) + "; 95% CI: bootstrap over the scenarios"
    table.caption_justify = "left"
    out_console.print(table)
    if len(front) > FRONT_COLUMNS:
        out_console.print(
            f"... {len(front) - FRONT_COLUMNS} more front policies in front.parquet and the report."
        )


def print_search(result: SearchResult) -> None:
    """The front (each policy's levers and scores), the baseline and comparison arms and
    which front policies dominate them, and the files written."""
    study = result.study
    front = result.front
    senses = ", ".join(f"{o.sense} {o.name}" for o in study.objectives)
    constraints = "; ".join(c.describe() for c in study.constraints)
    title = f"Pareto front: {len(front)} policies ({senses}"
    title += f"; subject to {constraints})" if constraints else ")"
    if front.empty:
        err_console.print(
            "[yellow]No candidate met every constraint (or could be scored): the front is "
            "empty; see candidates.parquet for each one's violation.[/]"
        )
    else:
        _print_front(front, study, title)
    comparison = result.comparison
    size = len(front)
    verdicts = [f"by {len(d.split())} of {size}" if d else "no" for d in comparison["dominated_by"]]
    columns: dict[str, list[str]] = {
        "policy": list(comparison["policy_name"]),
        "changes": list(comparison["policy"]),
    }
    for name in [o.name for o in study.objectives]:
        factor, unit = outcome_scale(name)
        columns[f"{name} ({unit})" if unit else name] = [
            _number(factor * v) for v in comparison[name]
        ]
        columns["95% CI" + " " * len(columns)] = [
            f"{_number(factor * lo)}–{_number(factor * hi)}"
            for lo, hi in zip(comparison[f"{name}_low"], comparison[f"{name}_high"], strict=True)
        ]
    columns["dominated by the front"] = verdicts
    print_table(
        pd.DataFrame(columns),
        "The baseline and the comparison arms, scored the same way",
        limit=100,
    )
    failed = f", {result.failed} failed" if result.failed else ""
    err_console.print(
        f"Done: {result.ran} runs ran{failed}, {result.stored} were stored already; "
        f"{len(result.candidates)} candidates evaluated"
    )
    for path in result.paths.values():
        err_console.print(f"Wrote {Path(path)}", highlight=False)
