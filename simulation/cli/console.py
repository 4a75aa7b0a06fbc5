"""Terminal side of ``ppsim sweep``, ``whatif`` and ``sensitivity``: turning options into
study overrides, the live progress bar, and the summary tables printed at the end."""

from __future__ import annotations

import signal
from pathlib import Path

import pandas as pd
import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from simulation import interrupts
from simulation.cli.options import fail, user_errors
from simulation.config import parse_assignment
from simulation.experiments.design import Plan
from simulation.experiments.executors import open_executor, worker_count
from simulation.experiments.runner import RunsLost, StudyInterrupted, StudyResult, run_study
from simulation.experiments.study import Study, run_count
from simulation.experiments.study_file import Overrides, given_once, parse_vary_option
from simulation.reports.output import out_folder
from simulation.reports.study import build_report

RESULTS_ROOT = Path("results")

err_console = Console(stderr=True)
out_console = Console()


def overrides(
    set_values: list[str] | None,
    vary: list[str] | None,
    replicates: int | None,
    seed: int | None,
    timeseries: bool | None,
    outcomes: list[str] | None = None,
    design: str | None = None,
    samples: int | None = None,
) -> Overrides:
    """Turn command-line options into study overrides (validated with the study)."""
    return Overrides(
        set_values=given_once((parse_assignment(item) for item in set_values or []), "--set"),
        vary=given_once((parse_vary_option(item) for item in vary or []), "--vary"),
        replicates=replicates,
        seed=seed,
        design=design,
        samples=samples,
        outcomes=list(outcomes) if outcomes else None,
        timeseries=timeseries,
    )


class BarProgress:
    """Live progress: runs done of total, failures, elapsed time and ETA (on stderr)."""

    def __init__(self, title: str, header: str = "") -> None:
        self.title = title
        self.header = header
        self.bar = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TaskProgressColumn(),
            TextColumn("[red]{task.fields[failed]} failed"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=err_console,
            transient=False,
        )
        self.task = None
        self.failed = 0

    def start(self, total: int, skipped: int, retried: int) -> None:
        if self.header:  # only now: a study refused before it starts stays one line
            err_console.print(self.header, soft_wrap=True)
        if skipped == total:
            err_console.print(f"All {total} runs are already stored; nothing to run.")
        elif skipped:
            err_console.print(
                f"Resuming: {skipped} of {total} runs already stored, skipped"
                + (f"; {retried} failed runs will run again." if retried else ".")
            )
        elif retried:
            err_console.print(f"{retried} failed runs will run again.")
        self.bar.start()
        self.task = self.bar.add_task(self.title, total=total, completed=skipped, failed=0)

    def advance(self, failed: bool) -> None:
        self.failed += failed
        self.bar.update(self.task, advance=1, failed=self.failed)

    def stop(self) -> None:
        if self.task is not None:  # a bar never started would print an empty line
            self.bar.stop()


def execute(
    study: Study,
    out: str | Path | None,
    workers: int | None,
    scheduler: str | None,
    report: bool,
    suffix: str = "",
) -> StudyResult:
    """Run a study with the progress bar, print what happened, write the report; exit 130
    (after storing finished runs) on Ctrl-C, 2 on invalid input."""
    with user_errors():
        out_dir = out_folder(out) or RESULTS_ROOT / f"{study.name}{suffix}"
        workers, note = worker_count(workers, scheduler, run_count(study))
    if note:
        err_console.print(f"Note: {note}.", style="yellow", highlight=False)
    progress = BarProgress(study.name)
    try:
        with user_errors(), open_executor(workers, scheduler) as (executor, slots, label):
            progress.header = f"Study [bold]{study.name}[/] -> {out_dir}  ({label})"
            try:
                result = run_study(study, out_dir, executor, workers=slots, progress=progress)
            finally:
                progress.stop()
    except StudyInterrupted as stop:
        how = "Terminated (SIGTERM)" if stop.signum == signal.SIGTERM else "Interrupted"
        interrupts.report(
            text=f"{how}: {stop.stored} of {stop.total} runs are stored in {stop.out_dir}. "
            "Run the same command again to resume."
        )
        raise typer.Exit(128 + stop.signum) from None
    except RunsLost as lost:
        fail(str(lost), code=1)
    failed_now = f", {result.failed} failed" if result.failed else ""
    err_console.print(
        f"Done: {result.ran} runs ran{failed_now}, {result.skipped} skipped (already stored); "
        f"{len(result.frame)} of {result.total} runs in {out_dir / 'runs'}"
    )
    if result.failed_total:
        first = result.frame[result.frame["status"] != "ok"].iloc[0]
        err_console.print(
            f"[red]{result.failed_total} runs failed[/], e.g. {first['run_key']}: "
            f"{first['error']}. Rerun the command to try them again."
        )
    if report:
        with user_errors():  # a full disk is the user's to fix, not a bug
            path = build_report(out_dir, result.frame)
        err_console.print(f"Report: {path}")
    return result


def check_kind(study: Study, kind: str) -> None:
    """Refuse a study of another kind, naming the command that runs it."""
    if study.kind != kind:
        fail(
            f"{study.origin}: kind = {study.kind!r}; run it with 'ppsim {study.kind} "
            f"{study.origin}'"
        )


def print_table(frame: pd.DataFrame, title: str, limit: int = 40) -> None:
    """Print a DataFrame as a rich table (numbers with 4 significant digits)."""
    table = Table(title=title, title_justify="left")
    for column in frame.columns:
        numeric = pd.api.types.is_numeric_dtype(frame[column])
        table.add_column(str(column), justify="right" if numeric else "left", overflow="fold")
    for _, row in frame.head(limit).iterrows():
        table.add_row(*(_cell(v) for v in row))
    out_console.print(table)
    if len(frame) > limit:
        out_console.print(f"... {len(frame) - limit} more rows in the report.")


def _cell(value) -> str:
    if isinstance(value, float):
        return "–" if value != value else f"{value:.4g}"
    return str(value)


def print_whatif(frame: pd.DataFrame, study: Study) -> None:
    """Each outcome per arm (sorted by effect) with its paired effect and interval, in the
    outcome's unit (shares in %, score differences in pp), then the cost-benefit table:
    policy, incident and total hours added, the verdict judging effort on the total."""
    from simulation.experiments import whatif
    from simulation.outcome_text import outcome_scale, outcome_title

    table = whatif.effects(frame, study)
    for outcome in study.outcomes:
        factor, _ = outcome_scale(outcome)
        part = table[table["outcome"] == outcome].sort_values("effect")
        print_table(
            pd.DataFrame(
                {
                    "arm": ["baseline", *part["arm"]],
                    "mean": [factor * part["baseline_mean"].mean(), *factor * part["arm_mean"]],
                    "effect": [0.0, *factor * part["effect"]],
                    "95% CI": [
                        "",
                        *map(_interval, factor * part["ci_low"], factor * part["ci_high"]),
                    ],
                    "change": ["", *(_percent(r) for r in part["relative"])],
                }
            ),
            f"{outcome}: {outcome_title(outcome)} (effect = arm - baseline, paired "
            f"over {int(part['n'].min()) if len(part) else 0} runs)",
            limit=500,
        )
    costs = whatif.cost_benefit(frame, study).sort_values("faulty_share_reduction", ascending=False)
    share, _ = outcome_scale(whatif.FAULTY)
    verdicts, notes = _footnoted(costs)
    print_table(
        pd.DataFrame(
            {
                "arm": costs["arm"],
                **{
                    f"{label} (95% CI)": list(
                        map(
                            _effect_text,
                            costs[f"{key}_added"],
                            costs[f"{key}_low"],
                            costs[f"{key}_high"],
                        )
                    )
                    for key, _, label in whatif.cost_parts(frame)
                },
                "faulty share cut (pp)": share * costs["faulty_share_reduction"],
                "shielded cut": costs["shielded_reduction"],
                "verdict": verdicts,
            }
        ),
        "Human effort each policy costs against the reliability it buys",
        limit=500,
    )
    for number, (arm, reasons) in enumerate(notes, start=1):
        out_console.print(f"[{number}] {arm}: no mechanism: {reasons}", highlight=False)


def _footnoted(costs: pd.DataFrame) -> tuple[list[str], list[tuple[str, str]]]:
    """The verdicts of ``costs`` (:func:`~simulation.experiments.whatif.cost_benefit`) with
    each "no mechanism" reason moved to a numbered note (the reasons are sentences, too
    long for a table cell), and the notes as (arm, reasons)."""
    from simulation.experiments.whatif import verdict_text

    short, notes = [], []
    rows = zip(
        costs["arm"], costs["reliability"], costs["effort"], costs["no_mechanism"], strict=True
    )
    for arm, reliability, effort, reasons in rows:
        mark = ""
        if reasons:
            notes.append((arm, reasons))
            mark = f"no mechanism [{len(notes)}]"
        short.append(verdict_text(reliability, effort, mark))
    return short, notes


def print_sensitivity(plan: Plan, frame: pd.DataFrame) -> None:
    """The indices per outcome and parameter, each as value ± 95 % half-width."""
    from simulation.experiments import sensitivity

    indices, skipped = sensitivity.analyse(plan, frame)
    for name, reason in skipped.items():
        err_console.print(f"[yellow]{name}: not analysed, {reason}.[/]")
    if indices.empty:
        return
    indices["text"] = [
        f"{v:.3f} ± {c:.3f}" if c == c else f"{v:.3f}"
        for v, c in zip(indices["value"], indices["conf"], strict=True)
    ]
    wide = indices.pivot_table(
        index=["outcome", "parameter"],
        columns="index",
        values="text",
        aggfunc="first",
        sort=False,
    ).reset_index()
    wide.columns.name = None
    print_table(wide, f"Sensitivity indices ({plan.study.method}, ± 95 % interval)", limit=500)


def _interval(low: float, high: float) -> str:
    return "–" if low != low else f"{low:.3g} to {high:.3g}"


def _effect_text(effect: float, low: float, high: float) -> str:
    """An effect with its interval in one cell, ``1.6 (1.4 to 1.8)``: three cost columns
    with an interval column each would not fit a terminal."""
    return "–" if effect != effect else f"{effect:.3g} ({_interval(low, high)})"


def _percent(ratio: float) -> str:
    return "–" if ratio != ratio else f"{100 * ratio:+.1f} %"


def print_robustness(table: pd.DataFrame, study: Study, path: Path | None = None) -> None:
    """The robustness of each arm's effect across the scenarios: the full reading of the
    study's first outcome (shares of scenarios better and worse beyond their interval,
    median and worst effect, largest regret, verdict, and what a ``depends`` verdict
    hangs on as a numbered note), then per outcome the arms of each verdict, so a
    terminal shows the whole study without a row per arm and outcome."""
    from simulation.experiments.robustness import VERDICTS, effect_text

    if table.empty:
        return
    first = study.outcomes[0]
    part = table[table["outcome"] == first]
    notes: list[tuple[str, str]] = []
    verdicts = []
    for arm, found, because in zip(part["arm"], part["verdict"], part["depends_on"], strict=True):
        if because:
            notes.append((arm, because))
            found = f"{found} [{len(notes)}]"
        verdicts.append(found)
    count = int(part["scenarios"].max()) if len(part) else 0
    print_table(
        pd.DataFrame(
            {
                "arm": part["arm"],
                "better": [_share(v) for v in part["share_better"]],
                "worse": [_share(v) for v in part["share_worse"]],
                "median effect": [effect_text(first, v) for v in part["median_effect"]],
                "worst effect": [effect_text(first, v) for v in part["worst_effect"]],
                "max regret": [effect_text(first, v, signed=False) for v in part["max_regret"]],
                "verdict": verdicts,
            }
        ),
        f"Robustness of {first} across {count} scenarios (better, worse: share of scenarios "
        "where the paired effect lies beyond its 95% interval)",
        limit=500,
    )
    for number, (arm, because) in enumerate(notes, start=1):
        out_console.print(f"[{number}] {arm}: {because}", highlight=False)
    if study.replicates < 2:
        out_console.print(
            "One replicate per scenario: each scenario is judged by the sign of its "
            "difference alone (no interval).",
            highlight=False,
        )
    elif study.replicates == 2:
        out_console.print(
            "Two replicates per scenario: each scenario's 95% interval reaches 12.7 standard "
            "errors either side of its effect, so few scenarios clear it; 3 or more replicates "
            "read the scenarios far better.",
            highlight=False,
        )
    print_table(
        pd.DataFrame(
            {
                "outcome": list(study.outcomes),
                **{
                    found: [
                        ", ".join(
                            table.loc[(table["outcome"] == o) & (table["verdict"] == found), "arm"]
                        )
                        or "–"
                        for o in study.outcomes
                    ]
                    for found in VERDICTS
                },
            }
        ),
        "Verdicts on every outcome: the arms in each",
        limit=500,
    )
    if path is not None:
        out_console.print(
            f"Every outcome, with what each verdict depends on: {path}", highlight=False
        )


def _share(value: float) -> str:
    return "–" if value != value else f"{100 * value:.0f} %"
