"""``ppsim validate``: show, with numbers and sampling error, that the simulator reproduces
what is already known (the study's measured rates, network contagion theory).

Runs :func:`simulation.validation.run_validation` with a progress bar, prints one table and
writes ``validation.json`` and ``report.html`` (Plotly, works offline) into ``--out``, both
files at once or neither. Exits 1 if any check disagrees, so it can gate a release.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

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

from simulation.cli.options import fail, user_errors

JSON_FILE = "validation.json"
REPORT_FILE = "report.html"
DEFAULT_OUT = Path("validation-report")

HELP = (
    "Check that the simulator reproduces what is already known, and show by how much.\n\n"
    "Two families of checks, printed as one table with a verdict per row:\n\n"
    "1. The study: for every model, behaviour and trust bucket the peer-preservation study "
    "reports, one AI overseer faces one peer whose faithful evaluation means shutdown, at "
    "the study's sample size; the simulated rate gets a binomial 95 % interval.\n\n"
    "2. Network contagion theory: with propensities at 0 the outbreak threshold must sit at "
    "the bond-percolation value on random regular and Erdos-Renyi graphs; the threshold rule "
    "must reproduce the cascade window of Watts (2002); and peer protection must lower the "
    "threshold as the effective-transmissibility theory predicts.\n\n"
    "The quick run takes well under a minute; --full repeats the study-size samples 200 "
    "times and runs full-size networks (a few minutes). Writes validation.json and "
    "report.html into --out. Exit code 0 if every check agrees, 1 if one does not, 2 on "
    "bad input.\n\n"
    "Examples: ppsim validate;  ppsim validate --full --out results/validation;  "
    "ppsim validate --study experiments/replicate-study.toml"
)


def _command_text(full: bool, study: Path | None, seed: int | None, out: Path) -> str:
    words = ["ppsim", "validate"]
    if full:
        words.append("--full")
    if study is not None:
        words += ["--study", str(study)]
    if seed is not None:
        words += ["--seed", str(seed)]
    words += ["--out", str(out)]
    return " ".join(words)


def register(app: typer.Typer) -> None:
    """Add ``ppsim validate`` to the app."""

    @app.command(help=HELP)
    def validate(
        full: Annotated[
            bool,
            typer.Option(
                "--full",
                help="full-size run: study-size samples repeated 200 times to measure "
                "interval coverage, networks of 10,000 systems, finer sweeps (several minutes)",
            ),
        ] = False,
        study: Annotated[
            Path | None,
            typer.Option(
                "--study",
                help='a study file with kind = "validation" (sample sizes and sweep ranges), '
                "e.g. experiments/replicate-study.toml; default: the built-in settings",
            ),
        ] = None,
        out_text: Annotated[
            str,
            typer.Option(
                "--out",
                help="folder for validation.json and report.html (created if missing)",
            ),
        ] = str(DEFAULT_OUT),
        seed: Annotated[
            int | None,
            typer.Option(
                "--seed",
                min=0,
                help="seed of every random stream (default: the study file's, else 20260330); "
                "the same seed gives the same numbers",
            ),
        ] = None,
    ) -> None:
        from simulation.reports.output import (
            atomic_output,
            check_destination,
            json_safe,
            out_folder,
        )
        from simulation.validation import (
            load_settings,
            preset,
            render_table,
            report_html,
            run_validation,
            work_units,
        )
        from simulation.validation.paper import read_paper_cells

        console = Console()
        with user_errors():
            out = out_folder(out_text) or DEFAULT_OUT
            settings = load_settings(study, full) if study is not None else preset(full)
            settings = settings.with_seed(seed)
            cells = read_paper_cells()
            check_destination(out, kind="validation", files=(JSON_FILE, REPORT_FILE))
            columns = (
                TextColumn("[progress.description]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TextColumn("ETA"),
                TimeRemainingColumn(),
            )
            with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
                task = bar.add_task(
                    "Validating (full-size)" if full else "Validating",
                    total=work_units(settings, len(cells)),
                )
                result = run_validation(
                    settings,
                    full=full,
                    cells=cells,
                    progress=lambda k: bar.advance(task, k),
                )
            command = _command_text(full, study, seed, out)
            document = json.dumps(
                json_safe({"command": command, **result.to_dict()}), indent=1, allow_nan=False
            )
            with atomic_output(out, kind="validation", files=(JSON_FILE, REPORT_FILE)) as folder:
                (folder / JSON_FILE).write_text(document, encoding="utf-8")
                (folder / REPORT_FILE).write_text(report_html(result, command), encoding="utf-8")
        console.print(render_table(result))
        for line in result.summary():
            console.print(line)
        console.print(f"Wrote {out / JSON_FILE} and {out / REPORT_FILE} ({result.elapsed:.0f} s).")
        if not result.passed:
            fail("at least one check disagrees with what is known (rows marked NO)", code=1)
