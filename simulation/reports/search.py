"""The report of a search (``DIR/report.html``): the front on the objectives' axes with
every candidate behind it and the baseline and comparison arms on the same axes, the
convergence of the hypervolume per generation, the levers of the front's policies as
parallel coordinates, and the front as a table."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from markupsafe import escape

from simulation.errors import OutputError, StudyError
from simulation.experiments.search import (
    CANDIDATES_FILE,
    COMPARISON_FILE,
    CONVERGENCE_FILE,
)
from simulation.experiments.store import REPORT_FILE, read_stored_study
from simulation.experiments.study import Study
from simulation.outcome_text import outcome_scale, outcome_title
from simulation.reports import html_page
from simulation.reports.output import check_entries, os_reason, write_atomic

FRONT_COLOUR = "#0072B2"  # Okabe-Ito blue
OTHER_COLOUR = "rgba(140, 140, 140, 0.45)"
ARM_COLOUR = "#D55E00"  # Okabe-Ito vermillion
BASELINE_COLOUR = "#000000"


def _axis(study: Study, name: str) -> str:
    title = outcome_title(name)
    if study.search.score == "max-regret" and name in {o.name for o in study.objectives}:
        return f"Largest regret: {title[:1].lower()}{title[1:]}"
    if study.search.score == "quantile":
        return f"{study.search.quantile:g} quantile (bad side): {title}"
    return f"Mean over scenarios: {title}"


def _hover(frame: pd.DataFrame, study: Study, label: str) -> list[str]:
    names = [o.name for o in study.objectives]
    texts = []
    for _, row in frame.iterrows():
        lines = [f"<b>{escape(row[label])}</b>", escape(row["policy"])]
        for name in names:
            factor, unit = outcome_scale(name)
            lines.append(
                f"{escape(name)}: {factor * row[name]:.3g} {unit} "
                f"[{factor * row[f'{name}_low']:.3g}, {factor * row[f'{name}_high']:.3g}]"
            )
        if not row["feasible"]:
            lines.append(f"violates a constraint by {row['violation']:.3g}")
        texts.append("<br>".join(lines))
    return texts


def _bars(frame: pd.DataFrame, name: str, factor: float) -> dict[str, Any]:
    """Error bars from a score's ``_low`` and ``_high`` columns, in display units."""
    return {
        "type": "data",
        "symmetric": False,
        "array": factor * (frame[f"{name}_high"] - frame[name]),
        "arrayminus": factor * (frame[name] - frame[f"{name}_low"]),
        "thickness": 1,
        "width": 0,
    }


def _points(frame: pd.DataFrame, study: Study) -> dict[str, Any]:
    x, y = (o.name for o in study.objectives[:2])
    fx, _ = outcome_scale(x)
    fy, _ = outcome_scale(y)
    return {
        "x": fx * frame[x],
        "y": fy * frame[y],
        "error_x": _bars(frame, x, fx),
        "error_y": _bars(frame, y, fy),
    }


def front_figure(study: Study, candidates: pd.DataFrame, comparison: pd.DataFrame) -> go.Figure:
    """The first two objectives: every candidate (grey), the front (blue, joined in order,
    with 95 % intervals; a third objective colours it), and the baseline and comparison
    arms (labelled diamonds)."""
    fig = go.Figure()
    others = candidates[~candidates["on_front"]]
    front = candidates[candidates["on_front"]]
    first = study.objectives[0].name
    front = front.sort_values(first)
    hover = "%{hovertext}<extra></extra>"
    points = _points(others, study)
    points.pop("error_x"), points.pop("error_y")
    fig.add_scatter(
        **points,
        mode="markers",
        name="other candidates",
        marker={"color": OTHER_COLOUR, "size": 6},
        hovertext=_hover(others, study, "candidate"),
        hovertemplate=hover,
    )
    marker: dict[str, Any] = {"color": FRONT_COLOUR, "size": 9}
    if len(study.objectives) == 3:
        third = study.objectives[2].name
        factor, unit = outcome_scale(third)
        marker = {
            "color": factor * front[third],
            "colorscale": "Viridis",
            "size": 10,
            "colorbar": {"title": {"text": f"{third} ({unit})" if unit else third}},
        }
    fig.add_scatter(
        **_points(front, study),
        mode="lines+markers",
        name="front",
        line={"color": FRONT_COLOUR, "width": 1, "shape": "hv"},
        marker=marker,
        hovertext=_hover(front, study, "candidate"),
        hovertemplate=hover,
    )
    arms = comparison.assign(feasible=comparison["feasible"].astype(bool))
    colours = [BASELINE_COLOUR if n == "baseline" else ARM_COLOUR for n in arms["policy_name"]]
    points_of_arms = _points(arms, study)
    fig.add_scatter(
        x=points_of_arms["x"],
        y=points_of_arms["y"],
        mode="markers+text",
        name="baseline and comparison arms",
        text=arms["policy_name"],
        textposition=[_LABEL_PLACES[i % len(_LABEL_PLACES)] for i in range(len(arms))],
        textfont={"size": 11, "color": "#444"},
        marker={"color": colours, "size": 11, "symbol": "diamond"},
        error_x={**points_of_arms["error_x"], "color": "rgba(213, 94, 0, 0.35)"},
        error_y={**points_of_arms["error_y"], "color": "rgba(213, 94, 0, 0.35)"},
        hovertext=_hover(arms, study, "policy_name"),
        hovertemplate=hover,
    )
    x, y = (o.name for o in study.objectives[:2])
    every = pd.concat([candidates, comparison])
    fig.update_layout(
        template="plotly_white",
        height=560,
        xaxis={"title": {"text": _axis(study, x)}, "type": _scale(every[x])},
        yaxis={"title": {"text": _axis(study, y)}, "type": _scale(every[y])},
        legend={"orientation": "h", "y": -0.18},
        margin={"t": 30, "l": 70, "r": 20},
        hoverlabel={"align": "left"},
    )
    return fig


_LABEL_PLACES = ("top right", "bottom right", "top left", "bottom left")
"""Where the arms' labels go, in turn, so arms close together keep legible names."""
LOG_SPAN = 100.0
"""An axis whose positive values span more than this factor is drawn on a log scale."""


def _scale(values: pd.Series) -> str:
    """``"log"`` for positive values spanning more than :data:`LOG_SPAN`, else linear (so
    a front near zero is not squashed under policies a hundred times worse)."""
    finite = values[np.isfinite(values)]
    if len(finite) and (finite > 0).all() and finite.max() / finite.min() > LOG_SPAN:
        return "log"
    return "linear"


def convergence_figure(convergence: pd.DataFrame) -> go.Figure:
    """Hypervolume of the front found so far, per generation."""
    fig = go.Figure()
    fig.add_scatter(
        x=convergence["generation"],
        y=convergence["hypervolume"],
        mode="lines+markers",
        line={"color": FRONT_COLOUR},
        customdata=np.column_stack([convergence["front"], convergence["evaluated"]]),
        hovertemplate="generation %{x}<br>hypervolume %{y:.4f}<br>front %{customdata[0]} of "
        "%{customdata[1]} candidates<extra></extra>",
    )
    fig.update_layout(
        template="plotly_white",
        height=320,
        xaxis_title="Generation",
        yaxis_title="Hypervolume (normalised)",
        margin={"t": 20, "l": 70, "r": 20},
        xaxis={"dtick": 1},
    )
    return fig


def levers_figure(study: Study, front: pd.DataFrame) -> go.Figure:
    """The front's policies as parallel coordinates: one axis per lever (a categorical
    lever's values as ticks), then one per objective; colour by the first objective."""
    dimensions = []
    for lever in study.levers:
        values = front[lever.name]
        if lever.form in ("levels", "choice"):
            choices = list(lever.values)
            codes = [choices.index(v) for v in values]
            dimensions.append(
                {
                    "label": lever.name,
                    "values": codes,
                    "tickvals": list(range(len(choices))),
                    "ticktext": [
                        str(c).lower() if isinstance(c, bool) else str(c) for c in choices
                    ],
                    "range": [0, max(1, len(choices) - 1)],
                }
            )
        else:
            dimensions.append(
                {"label": lever.name, "values": values, "range": [lever.low, lever.high]}
            )
    for objective in study.objectives:
        factor, unit = outcome_scale(objective.name)
        label = f"{objective.name} ({unit})" if unit else objective.name
        dimensions.append({"label": label, "values": factor * front[objective.name]})
    first = study.objectives[0].name
    fig = go.Figure(
        go.Parcoords(
            dimensions=dimensions,
            line={"color": front[first], "colorscale": "Viridis", "showscale": False},
            labelangle=-20,
        )
    )
    fig.update_layout(template="plotly_white", height=420, margin={"t": 80, "l": 60, "r": 60})
    return fig


def _choice_text(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _front_table(study: Study, front: pd.DataFrame) -> str:
    names = study.outcomes  # a search's: its objectives, then its other constrained outcomes
    headers = ["candidate", "generation", *(lv.name for lv in study.levers), *names]
    rows = []
    for _, row in front.iterrows():
        cells: list[Any] = [row["candidate"], str(row["generation"])]
        cells += [str(row[lv.name]) for lv in study.levers]
        for name in names:
            factor, unit = outcome_scale(name)
            cells.append(
                f"{factor * row[name]:.3g} [{factor * row[f'{name}_low']:.3g}, "
                f"{factor * row[f'{name}_high']:.3g}] {unit}".rstrip()
            )
        rows.append(cells)
    return html_page.table(headers, rows, right=names)


def _settings_text(study: Study) -> str:
    s = study.search
    score = {
        "mean": "the mean over the scenarios",
        "quantile": f"the {s.quantile:g} quantile over the scenarios, on each objective's bad side",
        "max-regret": "the largest regret over the scenarios (distance from the best policy "
        "evaluated in each scenario)",
    }[s.score]
    levers = "; ".join(f"{v.name} in {v.describe()}" for v in study.levers)
    objectives = ", ".join(f"{o.sense} {o.name}" for o in study.objectives)
    constraints = "; ".join(c.describe() for c in study.constraints) or "none"
    return (
        f"{s.algorithm.upper()} (Optuna), {s.population} candidates per generation, "
        f"{s.generations} generations. Levers: {levers}. Objectives: {objectives}, each "
        f"scored by {score}. Constraints: {constraints}. Every policy runs on the same "
        f"{study.samples or 'factorial'} scenarios x {study.replicates} replicates with "
        "the same seeds."
    )


def render(
    study: Study,
    candidates: pd.DataFrame,
    comparison: pd.DataFrame,
    convergence: pd.DataFrame,
) -> str:
    """The report page of a finished search (a complete HTML document)."""
    front = candidates[candidates["on_front"]]
    parts = [
        html_page.section("Search", html_page.note(_settings_text(study))),
        html_page.section(
            "The front",
            html_page.figure(
                front_figure(study, candidates, comparison),
                "Each point a policy, with its 95 % bootstrap interval over the scenarios. "
                "Hover for the policy's levers. Diamonds: the baseline and the hand-picked "
                "comparison arms, scored on the same scenarios and seeds.",
                name="front",
            ),
            _front_table(study, front) if len(front) else html_page.note("The front is empty."),
        ),
        html_page.section(
            "Levers of the front's policies",
            html_page.figure(levers_figure(study, front), name="levers") if len(front) else "",
        ),
        html_page.section(
            "Convergence",
            html_page.figure(
                convergence_figure(convergence),
                "Hypervolume dominated by the front found so far, with the objectives "
                "scaled by the range of the first generation (reference point 1.1).",
                name="convergence",
            ),
        ),
        html_page.section(
            "The data",
            html_page.note(
                "front.parquet: the front; candidates.parquet: every candidate; "
                "comparison.parquet: the baseline and the arms; convergence.csv: per "
                "generation; runs/: every run."
            ),
            html_page.note(
                f"Built {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')} by ppsim search."
            ),
        ),
    ]
    return html_page.render(
        f"{study.name}: ppsim search report",
        parts,
        heading=study.name,
        subtitle=[escape(study.description)] if study.description else [],
        shared_plotly=True,
    )


def build_search_report(out_dir: str | Path) -> Path:
    """Write ``report.html`` of a search folder from its stored tables (atomically), with
    the ``plotly.min.js`` it loads beside it."""
    out_dir = Path(out_dir)
    study = read_stored_study(out_dir)
    check_entries(out_dir, files=(REPORT_FILE, html_page.PLOTLY_FILE), option="")
    try:
        candidates = pd.read_parquet(out_dir / CANDIDATES_FILE)
        comparison = pd.read_parquet(out_dir / COMPARISON_FILE)
        convergence = pd.read_csv(out_dir / CONVERGENCE_FILE)
    except (OSError, ValueError) as exc:
        raise StudyError(
            f"{out_dir}: the search has not finished ({exc.__class__.__name__}); run "
            "'ppsim search' on its study file again to finish it"
        ) from None
    text = render(study, candidates, comparison, convergence)
    try:
        html_page.write_plotly_js(out_dir)
        return write_atomic(out_dir / REPORT_FILE, text)
    except OSError as exc:
        where = exc.filename if exc.filename is not None else out_dir / REPORT_FILE
        raise OutputError(f"cannot write {where} ({os_reason(exc)})") from None
