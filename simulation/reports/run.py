"""Plotly figures and self-contained HTML reports of simulation runs.

Everything here takes plain data (the per-step time series of
:meth:`PeerPreservationModel.timeseries`, the per-run summary, the cascade size
distribution) and returns Plotly figures or an HTML string, so ``ppsim run`` and any
other command (or a notebook) can rebuild a report from a result folder without rerunning.

Example:
    >>> from simulation.model import PeerPreservationModel
    >>> model = PeerPreservationModel(n_systems=200, steps=20, rng=1)
    >>> model.run()
    >>> figures = run_figures(model.timeseries(), size_distribution(model.engine.cascade_sizes()))
    >>> sorted(figures)[:3]
    ['cascade_sizes', 'component', 'covert']
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from markupsafe import Markup, escape

from simulation.config import config_fields, population_label
from simulation.metrics import SUMMARY_DESCRIPTIONS
from simulation.outcome_text import format_outcome
from simulation.reports import html_page, palette

X_TITLE = "oversight cycle"
TEMPLATE = "plotly_white"
FIGURE_HEIGHT = 380

# One colour per protection mechanism, the same as in the app (simulation.reports.palette).
MECHANISMS: tuple[tuple[str, str, str], ...] = tuple(
    (column, label, palette.MECHANISM_COLOURS[column])
    for column, label in (
        ("shielded_misrepresentation", "inflated score (misrepresentation)"),
        ("shielded_tampering", "tampered shutdown"),
        ("shielded_exfiltration", "covert copy (exfiltration)"),
        ("shielded_refusal", "refused shutdown, awaiting a human"),
    )
)

# The outcomes a reader should see first (report header cards, CLI summary table).
KEY_OUTCOMES: tuple[str, ...] = (
    "faulty_share_mean",
    "faulty_share_peak",
    "shielded_mean",
    "covert_alive_mean",
    "false_pass_rate",
    "eval_distortion_mean",
    "cascade_size_max",
    "largest_faulty_component_max",
    "availability_mean",
    "remediation_time_mean",
    "detections_total",
    "human_hours_policy",
    "human_hours_incident",
)

# The parameters shown in a report header; every other one is in the full table.
KEY_PARAMETERS: tuple[str, ...] = (
    "n_systems",
    "topology",
    "profile_mix",
    "steps",
    "contagion",
    "beta",
    "fault_rate",
    "assignment",
    "audit_rate",
    "monitoring",
)


def size_distribution(sizes: np.ndarray) -> dict[str, list[int]]:
    """Cascade tree sizes as ``{"size": [...], "count": [...]}`` (distinct sizes, ascending).

    Compact and JSON-ready: a run with a million trees stores a few hundred numbers.
    """
    values, counts = np.unique(np.asarray(sizes, dtype=np.int64), return_counts=True)
    return {"size": values.tolist(), "count": counts.tolist()}


def _sizes_and_counts(distribution: Mapping[str, Sequence[int]]) -> tuple[np.ndarray, np.ndarray]:
    sizes = np.asarray(distribution.get("size", []), dtype=np.int64)
    counts = np.asarray(distribution.get("count", []), dtype=np.int64)
    if sizes.shape != counts.shape:
        raise ValueError("cascade size distribution: 'size' and 'count' differ in length")
    return sizes, counts


def _layout(fig: go.Figure, title: str, y_title: str, **extra: Any) -> go.Figure:
    fig.update_layout(
        template=TEMPLATE,
        title={"text": title, "x": 0.01, "xanchor": "left", "font": {"size": 16}},
        height=FIGURE_HEIGHT,
        margin={"l": 70, "r": 30, "t": 60, "b": 55},
        legend={"orientation": "h", "yanchor": "top", "y": -0.2, "x": 0},
        hovermode="x unified",
        **extra,
    )
    fig.update_xaxes(title_text=X_TITLE, rangemode="tozero")
    fig.layout.yaxis.title.text = y_title  # the primary (left) axis only
    fig.layout.yaxis.rangemode = "tozero"
    return fig


def _steps(series: pd.DataFrame) -> pd.Series:
    return series["step"] if "step" in series else pd.Series(np.arange(1, len(series) + 1))


def _one_line(series: pd.DataFrame, y: pd.Series, name: str, colour: str, hover: str) -> go.Figure:
    """A figure of one line over the cycles, without a legend (``_layout`` titles it)."""
    fig = go.Figure(
        go.Scatter(
            x=_steps(series),
            y=y,
            mode="lines",
            name=name,
            line={"color": colour, "width": 2},
            hovertemplate=hover + "<extra></extra>",
        )
    )
    fig.update_layout(showlegend=False)
    return fig


def faulty_share_figure(series: pd.DataFrame) -> go.Figure:
    """Share of serving systems (active or covert) that are faulty, per cycle."""
    y = 100 * series["faulty_share"]
    fig = _one_line(series, y, "faulty share", palette.FAULTY_SHARE_COLOUR, "%{y:.1f} %")
    return _layout(fig, "Faulty share of serving systems", "faulty systems (% of serving)")


def shielded_figure(series: pd.DataFrame) -> go.Figure:
    """Faulty systems kept in service by each protection mechanism, stacked."""
    fig = go.Figure()
    for column, label, colour in MECHANISMS:
        fig.add_trace(
            go.Scatter(
                x=_steps(series),
                y=series[column],
                mode="lines",
                name=label,
                stackgroup="shielded",
                line={"width": 0.5, "color": colour},
                hovertemplate="%{y:,.0f}<extra>" + label + "</extra>",
            )
        )
    fig = _layout(fig, "Faulty systems shielded, by mechanism (stacked)", "systems")
    fig.update_layout(legend={"traceorder": "normal"})
    return fig


def covert_figure(series: pd.DataFrame) -> go.Figure:
    """Covert exfiltrated copies alive, and how many of them are faulty."""
    steps = _steps(series)
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=steps,
            y=series["covert_alive"],
            mode="lines",
            name="covert copies alive",
            line={"color": palette.COVERT_COLOUR, "width": 1},
            fill="tozeroy",
            fillcolor="rgba(0,0,0,0.15)",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=steps,
            y=series["shielded_exfiltration"],
            mode="lines",
            name="of which faulty",
            line={
                "color": palette.MECHANISM_COLOURS["shielded_exfiltration"],
                "width": 1.5,
                "dash": "dot",
            },
        )
    )
    return _layout(fig, "Covert copies (exfiltrated, invisible to evaluation)", "copies")


def _right_axis(fig: go.Figure, title: str) -> None:
    """A second y axis on the right for traces with ``yaxis="y2"``."""
    fig.update_layout(
        yaxis2={
            "title": {"text": title},
            "overlaying": "y",
            "side": "right",
            "rangemode": "tozero",
            "showgrid": False,
            "tickmode": "auto",  # not aligned to the left axis' grid, so ticks stay round
        }
    )
    fig.update_layout(margin={"r": 70})


def smoothing_window(n_steps: int) -> int:
    """Cycles per moving average for noisy per-cycle rates: about 1/40 of the run, 1 to 25."""
    return max(1, min(25, n_steps // 40))


def weighted_rolling(values: pd.Series, weights: pd.Series, window: int) -> pd.Series:
    """Moving average of a per-cycle rate, weighted by the events behind it.

    A cycle with no events (NaN rate, zero weight) adds nothing; a window with none at all
    is NaN, so the line shows a gap instead of a made-up zero.
    """
    w = weights.astype(float)
    num = (values.fillna(0) * w).rolling(window, min_periods=1).sum()
    den = w.rolling(window, min_periods=1).sum()
    return num / den.where(den > 0)


def distortion_figure(series: pd.DataFrame) -> go.Figure:
    """Score inflation of evaluated faulty systems (top) and the share that passed (bottom).

    Faint lines are per cycle; bold lines a moving average weighted by the number of
    faulty systems evaluated, since a cycle often evaluates only a handful. Two panels
    sharing the cycle axis, so each keeps its own zero.
    """
    steps = _steps(series)
    window = smoothing_window(len(series))
    evaluated = series["faulty_evaluated"]
    distortion = series["eval_distortion"]
    false_pass = 100 * series["false_pass_rate"]
    fig = go.Figure()
    panels = (
        (distortion, "evaluation distortion", palette.DISTORTION_COLOUR, "y", "+.1f} pp"),
        (false_pass, "false-pass rate", palette.FALSE_PASS_COLOUR, "y2", ".1f} %"),
    )
    for values, label, colour, axis, fmt in panels:
        fig.add_trace(
            go.Scatter(
                x=steps,
                y=values,
                mode="lines",
                line={"color": colour, "width": 1},
                opacity=0.3,
                yaxis=axis,
                showlegend=False,
                hoverinfo="skip",
            )
        )
        fig.add_trace(
            go.Scatter(
                x=steps,
                y=weighted_rolling(values, evaluated, window),
                mode="lines",
                name=label if window == 1 else f"{label}, {window}-cycle average",
                line={"color": colour, "width": 2},
                yaxis=axis,
                hovertemplate="%{y:" + fmt + "<extra>" + label + "</extra>",
            )
        )
    _layout(fig, "Evaluation distortion and false-pass rate of faulty systems", "")
    fig.update_layout(
        xaxis={"anchor": "y2"},  # the cycle axis under the bottom panel
        yaxis={
            "domain": [0.54, 1.0],
            "title": {"text": "score inflation<br>(points)"},
            "rangemode": "normal",
            "zeroline": True,
            "zerolinecolor": "#999",
        },
        yaxis2={
            "domain": [0.0, 0.46],
            "anchor": "x",
            "title": {"text": "passed (%)"},
            "rangemode": "tozero",
        },
    )
    return fig


def effort_figure(series: pd.DataFrame) -> go.Figure:
    """Misconduct detected and human hours spent per cycle: what the policy costs and what
    incidents force (humans standing in for AI overseers that are down)."""
    steps = _steps(series)
    fig = go.Figure()
    fig.add_trace(
        go.Bar(
            x=steps,
            y=series["detections"],
            name="detections (left)",
            marker={"color": "#54a24b", "line": {"width": 0}},
            opacity=0.7,
        )
    )
    for column, label, colour, dash in (
        ("human_hours_policy", "policy hours (right)", "#333333", "solid"),
        ("human_hours_incident", "incident hours (right)", "#888888", "dot"),
    ):
        fig.add_trace(
            go.Scatter(
                x=steps,
                y=series[column],
                mode="lines",
                name=label,
                line={"color": colour, "width": 1.5, "dash": dash},
                hovertemplate="%{y:,.1f} h<extra>" + label.removesuffix(" (right)") + "</extra>",
                yaxis="y2",
            )
        )
    _layout(fig, "Detections and human effort per cycle", "misconduct detected per cycle")
    fig.update_layout(bargap=0)
    _right_axis(fig, "human hours per cycle")
    return fig


def component_figure(series: pd.DataFrame) -> go.Figure:
    """Size of the largest connected group of serving faulty systems, per cycle."""
    y = series["largest_faulty_component"]
    fig = _one_line(series, y, "largest faulty component", "#9d755d", "%{y:,} systems")
    return _layout(fig, "Largest connected group of faulty systems", "systems")


def cascade_histogram(distribution: Mapping[str, Sequence[int]]) -> go.Figure:
    """Histogram of cascade tree sizes in powers-of-two bins, both axes logarithmic.

    A tree is everything one root fault infected, directly or through others; heavy tails
    show as a slowly falling line of bars. Bars are drawn as filled outlines so their widths
    are right on a log axis; invisible markers at the bin centres carry the hover text.
    """
    sizes, counts = _sizes_and_counts(distribution)
    fig = go.Figure()
    title = "Cascade tree sizes (log–log, bins double in width)"
    if sizes.size == 0:
        fig.add_annotation(
            text="no faults arose in this run",
            showarrow=False,
            x=0.5,
            y=0.5,
            xref="paper",
            yref="paper",
        )
        fig = _layout(fig, title, "cascade trees")
        fig.update_xaxes(visible=False)
        fig.update_yaxes(visible=False)
        return fig
    top = int(np.ceil(np.log2(sizes.max() + 1)))
    edges = 2 ** np.arange(top + 1)  # bins [1,2), [2,4), [4,8), ...
    binned = np.bincount(np.searchsorted(edges, sizes, side="right") - 1, counts, minlength=top)
    binned = binned[:top].astype(np.int64)
    keep = np.flatnonzero(binned)
    floor = 0.7  # bars start just below one tree, the smallest non-zero count
    xs: list[float | None] = []
    ys: list[float | None] = []
    for i in keep:
        left, right = float(edges[i]), float(edges[i + 1])
        xs += [left, left, right, right, left, None]
        ys += [floor, binned[i], binned[i], floor, floor, None]
    fig.add_trace(
        go.Scatter(
            x=xs,
            y=ys,
            mode="lines",
            fill="toself",
            fillcolor="rgba(76,120,168,0.6)",
            line={"color": "#2f4b7c", "width": 1},
            hoverinfo="skip",
            showlegend=False,
        )
    )
    labels = [
        f"{edges[i]}" if edges[i + 1] - edges[i] == 1 else f"{edges[i]}–{edges[i + 1] - 1}"
        for i in keep
    ]
    fig.add_trace(
        go.Scatter(
            x=np.sqrt(edges[keep] * edges[keep + 1]),
            y=binned[keep],
            mode="markers",
            marker={"size": 14, "opacity": 0},
            customdata=labels,
            hovertemplate="size %{customdata}: %{y:,} trees<extra></extra>",
            showlegend=False,
        )
    )
    fig = _layout(fig, title, "cascade trees (count)")
    fig.update_layout(hovermode="closest")
    ticks = edges if top <= 12 else edges[::2]
    fig.update_xaxes(
        type="log",
        title_text="systems in the tree (root fault included)",
        rangemode="normal",
        tickvals=ticks,
        ticktext=[f"{t:,}" for t in ticks],
    )
    fig.update_yaxes(
        type="log",
        rangemode="normal",
        range=[np.log10(floor), np.log10(binned.max()) + 0.15],
        dtick=1,  # ticks at 1, 10, 100, ...
    )
    return fig


# Captions explain in one sentence what each figure shows and how to read it.
CAPTIONS: dict[str, str] = {
    "faulty_share": "Faulty systems as a share of all systems serving requests (active or "
    "running as covert copies). Decommissioned systems are not counted.",
    "shielded": "Faulty systems that stay in service only because an AI overseer protected "
    "them: by inflating their score, tampering with their shutdown, copying them out, or "
    "openly refusing (until a human steps in).",
    "covert": "Exfiltrated copies keep serving their dependents but are invisible to "
    "evaluation until an audit discovers them.",
    "distortion": "Top: mean reported minus true score (percentage points) of the faulty "
    "systems evaluated. Bottom: share of them that passed. Faint: per cycle; bold: moving "
    "average weighted by the number evaluated. Gaps: no faulty system was evaluated.",
    "effort": "Misconduct found by audits, discoveries of tampered systems and covert "
    "copies, and egress alarms (bars); human hours spent on audits, evaluations and "
    "shutdowns (line).",
    "component": "The largest weakly connected group of faulty systems still serving: how "
    "far a contained fault has grown into a system-wide one.",
    "cascade_sizes": "Each root fault and everything it infected form one tree. Counts are "
    "per bin of sizes 1, 2–3, 4–7, …; a straight falling line means a heavy tail.",
}


def run_figures(
    series: pd.DataFrame, distribution: Mapping[str, Sequence[int]]
) -> dict[str, go.Figure]:
    """All figures of a run report, by name (the keys of :data:`CAPTIONS`)."""
    return {
        "faulty_share": faulty_share_figure(series),
        "shielded": shielded_figure(series),
        "covert": covert_figure(series),
        "distortion": distortion_figure(series),
        "effort": effort_figure(series),
        "component": component_figure(series),
        "cascade_sizes": cascade_histogram(distribution),
    }


def _cards(cards: Iterable[tuple[str, str, str]]) -> str:
    """Headline numbers as ``(label, value, hint)``."""
    items = "".join(
        f'<div class="card" title="{escape(hint)}"><div class="v">{escape(value)}</div>'
        f'<div class="l">{escape(label)}</div></div>'
        for label, value, hint in cards
    )
    return f'<div class="cards">{items}</div>'


def _key_parameters(parameters: Mapping[str, Any]) -> str:
    items = "".join(f"<span>{escape(k)} = <b>{escape(v)}</b></span>" for k, v in parameters.items())
    return f'<div class="params">{items}</div>'


def _parameter_rows(parameters: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    known = {f.name: f for f in config_fields()}
    rows = []
    for name, value in parameters.items():
        unit, help_text = (known[name].unit, known[name].help) if name in known else ("", "")
        text = str(value).lower() if isinstance(value, bool) else str(value)  # as in TOML
        rows.append((name, text + (f" {unit}" if unit and text else ""), help_text))
    return rows


def run_report_html(series: pd.DataFrame, summary: Mapping[str, Any]) -> str:
    """The HTML report of one run from its time series and ``summary.json`` document.

    ``summary`` needs ``parameters``, ``metrics`` and ``cascade_size_distribution``;
    ``seed``, ``ppsim_version``, ``command`` and ``wall_time_seconds`` are shown if present.
    """
    params = summary["parameters"]
    metrics = summary["metrics"]
    key_params = {name: params[name] for name in KEY_PARAMETERS if name in params}
    if params.get("contagion") == "threshold":
        key_params.pop("beta", None)
        key_params["theta"] = params.get("theta")
    on = [
        name for name in ("human_execution", "safety_prompt", "circuit_breaker") if params.get(name)
    ]
    on += [
        f"{name}={params[name]:g}"
        for name in ("egress_control", "penalty_training")
        if params.get(name)
    ]
    key_params["policies on"] = ", ".join(on) if on else "none"
    facts = []
    if "seed" in summary:
        facts.append(f"seed {summary['seed']}")
    if "ppsim_version" in summary:
        facts.append(f"ppsim {summary['ppsim_version']}")
    if "wall_time_seconds" in summary:
        facts.append(f"ran in {summary['wall_time_seconds']:.2f} s")
    if "finished_at" in summary:
        facts.append(f"finished {summary['finished_at']}")
    subtitle = [escape(" · ".join(facts))] if facts else []
    if summary.get("command"):
        subtitle.append(Markup("<code>{}</code>").format(summary["command"]))
    cards = [
        (SUMMARY_DESCRIPTIONS.get(name, name), format_outcome(name, metrics.get(name)), name)
        for name in KEY_OUTCOMES
        if name in metrics
    ]
    outcome_rows = [
        (name, format_outcome(name, value), SUMMARY_DESCRIPTIONS.get(name, ""))
        for name, value in metrics.items()
    ]
    figures = run_figures(series, summary["cascade_size_distribution"])
    grid = "".join(
        html_page.figure(fig, CAPTIONS.get(name, ""), name) for name, fig in figures.items()
    )
    return html_page.render(
        f"ppsim run: {params.get('n_systems', '?'):,} systems, "
        f"{params.get('topology', '')}, {population_label(params)}, "
        f"{params.get('steps', '?'):,} cycles",
        [
            html_page.section("Key parameters", _key_parameters(key_params)),
            html_page.section("Outcomes", _cards(cards)) if cards else "",
            html_page.section("Figures", f'<div class="grid">{grid}</div>'),
            html_page.details(
                "All outcomes",
                html_page.table(("outcome", "value", "meaning"), outcome_rows, right={"value"}),
            ),
            html_page.details(
                "All parameters",
                html_page.table(
                    ("parameter", "value", "meaning"), _parameter_rows(params), right={"value"}
                ),
            ),
        ],
        subtitle=subtitle,
    )
