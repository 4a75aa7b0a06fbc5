"""``report.html`` of a study: self-contained Plotly figures chosen to fit the study.

- Sweep, one varied parameter: each outcome as a line over it with a 95 % band.
- Sweep, two or more: lines over the first parameter, one per level of the second, and a
  heatmap of the mean over both (averaged over any further parameters).
- Latin hypercube sweep: each outcome against each parameter, one point per scenario.
- What-if: each arm's paired effect on each outcome with its 95 % interval, and the human
  hours each arm adds against the reduction in faulty share and shielded systems.
- Sensitivity: Sobol S1/ST or Morris mu*/sigma bars with their intervals.

plotly.js is embedded once in the page, so the file works offline. The report is rebuilt
from the stored results alone (``ppsim report DIR``).

Example:
    >>> build_report("results/propensity-by-audit")  # doctest: +SKIP
    PosixPath('results/propensity-by-audit/report.html')
"""

from __future__ import annotations

import html
import math
import os
import uuid
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.offline import get_plotlyjs
from plotly.subplots import make_subplots

from simulation.experiments import sensitivity, whatif
from simulation.experiments.design import Plan, make_plan
from simulation.experiments.stats import group_summary, ok_runs
from simulation.experiments.store import (
    REPORT_FILE,
    STATUS_OK,
    load_runs,
    load_timeseries,
    read_stored_study,
)
from simulation.experiments.study import BASELINE, Study, Variable
from simulation.metrics import SUMMARY_DESCRIPTIONS

COLORS = (
    "#1f77b4",
    "#d62728",
    "#2ca02c",
    "#9467bd",
    "#ff7f0e",
    "#17becf",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
)
_CSS = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1300px; color: #222; }
h1 { margin-bottom: 0.2em; } h2 { margin-top: 1.6em; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: 0.6em 0; font-size: 0.9em; }
td, th { border: 1px solid #ddd; padding: 3px 8px; text-align: right; }
th { background: #f4f4f4; } td.l, th.l { text-align: left; }
.note { color: #555; font-size: 0.92em; max-width: 70em; }
pre { background: #f6f6f6; padding: 0.8em; overflow-x: auto; }
"""


def _rgba(color: str, alpha: float) -> str:
    r, g, b = (int(color[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def _color(i: int) -> str:
    return COLORS[i % len(COLORS)]


def _numeric(var: Variable) -> bool:
    return var.kind in ("uniform", "loguniform", "integers") or all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in var.values
    )


def _label(outcome: str) -> str:
    return SUMMARY_DESCRIPTIONS.get(outcome, outcome)


def _fmt(x: float) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "–"
    if x == 0:
        return "0"
    magnitude = abs(x)
    if magnitude >= 1000:
        return f"{x:,.0f}"
    if magnitude >= 1:
        return f"{x:.3g}" if magnitude < 100 else f"{x:.1f}"
    return f"{x:.3g}"


def _layout(fig: go.Figure, title: str, height: int) -> go.Figure:
    fig.update_layout(
        title={"text": title, "x": 0.01},
        template="plotly_white",
        height=height,
        margin={"l": 70, "r": 30, "t": 70, "b": 50},
        legend={"orientation": "h", "y": -0.18},
    )
    return fig


# --------------------------------------------------------------------------------------
# Sweeps


def _band(fig, x, summary, color, name, row, col, show_legend) -> None:
    fig.add_trace(
        go.Scatter(
            x=list(x) + list(x)[::-1],
            y=list(summary["ci_high"]) + list(summary["ci_low"])[::-1],
            fill="toself",
            mode="lines",
            fillcolor=_rgba(color, 0.18),
            line={"width": 0},
            hoverinfo="skip",
            showlegend=False,
            legendgroup=name,
        ),
        row=row,
        col=col,
    )
    fig.add_trace(
        go.Scatter(
            x=list(x),
            y=list(summary["mean"]),
            mode="lines+markers",
            line={"color": color},
            name=name,
            legendgroup=name,
            showlegend=show_legend,
            customdata=np.stack([summary["ci_low"], summary["ci_high"], summary["n"]], axis=1),
            hovertemplate="%{x}: %{y:.4g} (95% CI %{customdata[0]:.4g} to "
            "%{customdata[1]:.4g}, n=%{customdata[2]})<extra>" + name + "</extra>",
        ),
        row=row,
        col=col,
    )


def _errorbars(fig, x, summary, color, name, row, col, show_legend) -> None:
    fig.add_trace(
        go.Scatter(
            x=[str(v) for v in x],
            y=list(summary["mean"]),
            mode="markers",
            marker={"color": color, "size": 9},
            error_y={
                "type": "data",
                "symmetric": False,
                "array": list(summary["ci_high"] - summary["mean"]),
                "arrayminus": list(summary["mean"] - summary["ci_low"]),
            },
            name=name,
            legendgroup=name,
            showlegend=show_legend,
        ),
        row=row,
        col=col,
    )


def _sweep_lines(study: Study, frame: pd.DataFrame) -> list[tuple[go.Figure, str]]:
    first = study.vary[0]
    second = study.vary[1] if len(study.vary) > 1 else None
    by = [first.name] + ([second.name] if second else [])
    summary = group_summary(frame, by, study.outcomes)
    figures = []
    for outcome in study.outcomes:
        part = summary[summary["outcome"] == outcome]
        cols = 2 if second else 1
        titles = [f"over {first.name}"] + (
            [f"mean over {first.name} x {second.name}"] if second else []
        )
        fig = make_subplots(rows=1, cols=cols, subplot_titles=titles, horizontal_spacing=0.12)
        draw = _band if _numeric(first) else _errorbars
        if second is None:
            draw(fig, part[first.name], part, _color(0), outcome, 1, 1, False)
        else:
            for i, level in enumerate(second.values):
                sub = part[part[second.name] == level]
                draw(fig, sub[first.name], sub, _color(i), f"{second.name}={level}", 1, 1, True)
            grid = part.pivot(index=second.name, columns=first.name, values="mean")
            grid = grid.reindex(index=list(second.values), columns=list(first.values))
            fig.add_trace(
                go.Heatmap(
                    z=grid.to_numpy(dtype=np.float64),
                    x=[str(v) for v in grid.columns],
                    y=[str(v) for v in grid.index],
                    colorscale="Viridis",
                    colorbar={"title": "mean", "x": 1.02},
                    hovertemplate=f"{first.name}=%{{x}}<br>{second.name}=%{{y}}<br>"
                    "mean %{z:.4g}<extra></extra>",
                ),
                row=1,
                col=2,
            )
            fig.update_xaxes(title_text=first.name, type="category", row=1, col=2)
            fig.update_yaxes(title_text=second.name, type="category", row=1, col=2)
        fig.update_xaxes(title_text=first.name, row=1, col=1)
        fig.update_yaxes(title_text=outcome, row=1, col=1)
        rest = [v.name for v in study.vary[2:]]
        note = f" (averaged over {', '.join(rest)})" if rest else ""
        figures.append((_layout(fig, f"{outcome}: {_label(outcome)}{note}", 430), ""))
    return figures


def _sweep_scatter(study: Study, frame: pd.DataFrame) -> list[tuple[go.Figure, str]]:
    ok = ok_runs(frame)
    means = ok.groupby("scenario")[[*study.varied, *study.outcomes]].agg(
        {**{v: "first" for v in study.varied}, **{o: "mean" for o in study.outcomes}}
    )
    figures = []
    for outcome in study.outcomes:
        fig = make_subplots(
            rows=1, cols=len(study.vary), subplot_titles=list(study.varied), shared_yaxes=True
        )
        for j, var in enumerate(study.vary):
            fig.add_trace(
                go.Scatter(
                    x=means[var.name],
                    y=means[outcome],
                    mode="markers",
                    marker={"color": _color(j), "size": 6, "opacity": 0.75},
                    showlegend=False,
                    hovertemplate=f"{var.name}=%{{x}}<br>{outcome}=%{{y:.4g}}<extra></extra>",
                ),
                row=1,
                col=j + 1,
            )
            if var.kind == "loguniform":
                fig.update_xaxes(type="log", row=1, col=j + 1)
        fig.update_yaxes(title_text=outcome, row=1, col=1)
        figures.append((_layout(fig, f"{outcome}: {_label(outcome)}", 380), ""))
    return figures


def _sweep_figures(study: Study, frame: pd.DataFrame) -> list[tuple[go.Figure, str]]:
    if not study.vary:
        summary = group_summary(frame, [], study.outcomes)
        fig = go.Figure(
            go.Bar(
                x=list(summary["outcome"]),
                y=list(summary["mean"]),
                error_y={
                    "type": "data",
                    "array": list(summary["ci_high"] - summary["mean"]),
                },
            )
        )
        return [(_layout(fig, "Outcomes of the base configuration", 380), "")]
    if study.design == "lhs":
        note = "One point per sampled scenario (mean over its replicates)."
        figures = _sweep_scatter(study, frame)
        return [(f, note) for f, _ in figures]
    note = "Mean over replicates; bands and bars are 95 % t-intervals."
    return [(f, note) for f, _ in _sweep_lines(study, frame)]


# --------------------------------------------------------------------------------------
# What-if


def _effect_figure(study: Study, table: pd.DataFrame) -> go.Figure:
    outcomes = list(study.outcomes)
    fig = make_subplots(
        rows=1,
        cols=len(outcomes),
        subplot_titles=outcomes,
        shared_yaxes=True,
        horizontal_spacing=0.03,
    )
    arms = list(study.arm_names[1:])
    for j, outcome in enumerate(outcomes):
        part = table[table["outcome"] == outcome].set_index("arm").reindex(arms)
        fig.add_trace(
            go.Scatter(
                x=part["effect"],
                y=arms,
                mode="markers",
                marker={"color": _color(j), "size": 9},
                error_x={
                    "type": "data",
                    "symmetric": False,
                    "array": part["ci_high"] - part["effect"],
                    "arrayminus": part["effect"] - part["ci_low"],
                },
                showlegend=False,
                customdata=np.stack([part["ci_low"], part["ci_high"], part["n"]], axis=1),
                hovertemplate="%{y}: %{x:.4g} (95% CI %{customdata[0]:.4g} to "
                "%{customdata[1]:.4g}, %{customdata[2]} pairs)<extra>" + outcome + "</extra>",
            ),
            row=1,
            col=j + 1,
        )
        fig.add_vline(x=0, line={"color": "#999", "dash": "dot"}, row=1, col=j + 1)
    fig.update_yaxes(autorange="reversed")
    return _layout(
        fig, "Effect of each policy versus the baseline (arm - baseline)", 120 + 48 * len(arms)
    )


def _cost_figure(costs: pd.DataFrame) -> go.Figure:
    fig = make_subplots(
        rows=1,
        cols=2,
        subplot_titles=["faulty share of service, reduction", "shielded faulty systems, reduction"],
        horizontal_spacing=0.1,
    )
    for col, (y, low, high) in enumerate(
        (
            ("faulty_share_reduction", "faulty_low", "faulty_high"),
            ("shielded_reduction", "shielded_low", "shielded_high"),
        ),
        start=1,
    ):
        for i, row in costs.reset_index(drop=True).iterrows():
            fig.add_trace(
                go.Scatter(
                    x=[row["hours_added"]],
                    y=[row[y]],
                    mode="markers+text",
                    text=[row["arm"]],
                    textposition="top center",
                    marker={"color": _color(i), "size": 11},
                    error_x={
                        "type": "data",
                        "symmetric": False,
                        "array": [row["hours_high"] - row["hours_added"]],
                        "arrayminus": [row["hours_added"] - row["hours_low"]],
                    },
                    error_y={
                        "type": "data",
                        "symmetric": False,
                        "array": [row[high] - row[y]],
                        "arrayminus": [row[y] - row[low]],
                    },
                    name=row["arm"],
                    legendgroup=row["arm"],
                    showlegend=col == 1,
                ),
                row=1,
                col=col,
            )
        fig.add_hline(y=0, line={"color": "#999", "dash": "dot"}, row=1, col=col)
        fig.add_vline(x=0, line={"color": "#999", "dash": "dot"}, row=1, col=col)
        fig.update_xaxes(title_text="human hours per cycle added", row=1, col=col)
    fig.update_yaxes(title_text="reduction (higher is better)", row=1, col=1)
    return _layout(fig, "Human effort each policy costs against the reliability it buys", 480)


def _whatif_section(study: Study, frame: pd.DataFrame) -> list[str]:
    table = whatif.effects(frame, study)
    costs = whatif.cost_benefit(frame, study)
    parts = [
        _figure_html(_effect_figure(study, table)),
        _note(
            "Paired differences arm - baseline over the same scenarios and seeds (common "
            "random numbers); bars are 95 % t-intervals over the pairs. An interval that "
            "excludes zero is an effect distinguishable from the model's noise."
        ),
        _figure_html(_cost_figure(costs)),
        _note("Right and up is more effort for more reliability; up and left is cheap safety."),
        "<h3>Effects (arm - baseline)</h3>",
        _table(
            table.assign(
                **{
                    "95 % CI": [
                        f"{_fmt(lo)} to {_fmt(hi)}"
                        for lo, hi in zip(table["ci_low"], table["ci_high"], strict=True)
                    ],
                    "relative": [
                        f"{100 * r:+.3g} %" if math.isfinite(r) else "–" for r in table["relative"]
                    ],
                }
            )[
                [
                    "arm",
                    "outcome",
                    "n",
                    "baseline_mean",
                    "arm_mean",
                    "effect",
                    "95 % CI",
                    "relative",
                ]
            ],
            left=("arm", "outcome", "95 % CI"),
        ),
        "<h3>Cost and benefit</h3>",
        _table(
            costs[
                [
                    "arm",
                    "n",
                    "hours_added",
                    "faulty_share_reduction",
                    "shielded_reduction",
                    "reduction_per_hour",
                    "verdict",
                ]
            ],
            left=("arm", "verdict"),
        ),
    ]
    return parts


# --------------------------------------------------------------------------------------
# Sensitivity


def _sensitivity_section(plan: Plan, frame: pd.DataFrame) -> list[str]:
    study = plan.study
    indices, skipped = sensitivity.analyse(plan, frame)
    parts: list[str] = []
    wanted = ("S1", "ST") if study.method == "sobol" else ("mu_star", "sigma")
    for outcome in study.outcomes:
        if outcome in skipped:
            parts.append(_note(f"{outcome}: not analysed, {skipped[outcome]}."))
            continue
        part = indices[indices["outcome"] == outcome]
        fig = go.Figure()
        for i, index in enumerate(wanted):
            sub = part[part["index"] == index]
            fig.add_trace(
                go.Bar(
                    x=list(sub["parameter"]),
                    y=list(sub["value"]),
                    name=index,
                    marker_color=_color(i),
                    error_y={
                        "type": "data",
                        "array": list(sub["conf"].fillna(0)),
                        "visible": bool(sub["conf"].notna().any()),
                    },
                )
            )
        fig.update_layout(barmode="group", yaxis_title=outcome)
        parts.append(_figure_html(_layout(fig, f"{outcome}: {_label(outcome)}", 380)))
    if study.method == "sobol":
        explain = (
            "S1: share of the outcome's variance due to the parameter alone; ST: including "
            "its interactions. Error bars: 95 % bootstrap intervals. Indices are over the "
            "declared distributions; with few samples they can stray slightly below 0."
        )
    else:
        explain = (
            "mu*: mean absolute change of the outcome for a step across the parameter's "
            "range (unit-interval scale, so parameters are comparable); sigma: how much that "
            "effect changes with the other parameters (non-linearity, interactions). Error "
            "bars: 95 % bootstrap intervals of mu*."
        )
    parts.append(_note(explain))
    if not indices.empty:
        shown = indices[indices["index"].isin(wanted)]
        parts.append(_table(shown, left=("outcome", "parameter", "index")))
    return parts


# --------------------------------------------------------------------------------------
# Time series


def _series_figure(study: Study, series: pd.DataFrame, frame: pd.DataFrame) -> go.Figure:
    if study.kind == "whatif":
        groups = [(arm, series[series["arm"] == arm]) for arm in study.arm_names]
    elif study.vary and study.design == "factorial":
        first = study.vary[0]
        scenario_level = frame.groupby("scenario")[first.name].first()
        level = series["scenario"].map(scenario_level)
        groups = [(f"{first.name}={v}", series[level == v]) for v in first.values]
    else:
        groups = [("all runs", series)]
    fig = go.Figure()
    for i, (name, part) in enumerate(groups):
        mean = part.groupby("step")["faulty_share"].mean()
        fig.add_trace(
            go.Scatter(x=mean.index, y=mean.to_numpy(), name=name, line={"color": _color(i)})
        )
    fig.update_layout(xaxis_title="cycle", yaxis_title="faulty share of service")
    return _layout(fig, "Faulty share of service over the cycles (mean over runs)", 400)


# --------------------------------------------------------------------------------------
# Page


def _figure_html(fig: go.Figure) -> str:
    return fig.to_html(
        full_html=False,
        include_plotlyjs=False,
        div_id=f"fig-{uuid.uuid4().hex[:10]}",
        config={"displaylogo": False, "responsive": True},
    )


def _note(text: str) -> str:
    return f'<p class="note">{html.escape(text)}</p>'


def _table(frame: pd.DataFrame, left: tuple[str, ...] = ()) -> str:
    head = "".join(
        f'<th class="{"l" if c in left else ""}">{html.escape(str(c))}</th>' for c in frame.columns
    )
    rows = []
    for _, row in frame.iterrows():
        cells = []
        for c in frame.columns:
            v = row[c]
            text = _fmt(float(v)) if isinstance(v, float | np.floating) else str(v)
            cells.append(f'<td class="{"l" if c in left else ""}">{html.escape(text)}</td>')
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(rows)}</table>"


def _parameters_html(study: Study) -> str:
    rows = [{"parameter": v.name, "values": v.describe()} for v in study.vary] or [
        {"parameter": "(none)", "values": "the base configuration only"}
    ]
    defaults = type(study.base)().to_dict()
    changed = {k: v for k, v in study.base.to_dict().items() if defaults[k] != v}
    base = ", ".join(f"{k} = {v}" for k, v in changed.items()) or "all defaults"
    arms = ""
    if study.arms:
        arm_rows = pd.DataFrame(
            [{"arm": BASELINE, "changes": "(base configuration)"}]
            + [
                {"arm": a.name, "changes": ", ".join(f"{k} = {v}" for k, v in a.changes.items())}
                for a in study.arms
            ]
        )
        arms = "<h3>Policy arms</h3>" + _table(arm_rows, left=("arm", "changes"))
    return (
        _table(pd.DataFrame(rows), left=("parameter", "values"))
        + f'<p class="note">Base configuration: {html.escape(base)}.</p>'
        + arms
    )


def _failures_html(frame: pd.DataFrame) -> str:
    failed = frame[frame["status"] != STATUS_OK]
    if failed.empty:
        return ""
    shown = failed[["run_key", "seed", "error"]].head(20)
    more = f" (first 20 of {len(failed)})" if len(failed) > 20 else ""
    return f"<h2>Failed runs{more}</h2>" + _table(shown, left=("run_key", "error"))


def _design_text(study: Study, plan: Plan) -> str:
    if study.kind == "sensitivity":
        if study.method == "sobol":
            second = ", with second-order indices" if study.second_order else ""
            return f"Sobol (Saltelli sampling), {study.sobol_samples} base samples{second}"
        return f"Morris, {study.morris_trajectories} trajectories on {study.morris_levels} levels"
    if study.design == "lhs":
        return f"Latin hypercube, {study.samples} scenarios"
    return f"full factorial, {len(plan.scenarios)} scenarios"


def render(study: Study, frame: pd.DataFrame, series: pd.DataFrame | None = None) -> str:
    """The report page for stored results (a complete HTML document)."""
    plan = make_plan(study)
    ok = int((frame["status"] == STATUS_OK).sum())
    failed = len(frame) - ok
    missing = len(plan.runs) - len(frame)
    status = f"{ok} runs finished, {failed} failed"
    if missing:
        status += f", {missing} not run yet (the study was interrupted; rerun it to finish)"
    kind_text = {
        "sweep": "parameter sweep",
        "whatif": "policy what-if study",
        "sensitivity": "global sensitivity analysis",
    }[study.kind]
    body = [
        f"<h1>{html.escape(study.name)}</h1>",
        f"<p>{html.escape(study.description)}</p>" if study.description else "",
        _note(
            f"{kind_text.capitalize()}: {_design_text(study, plan)}, {study.replicates} "
            f"replicate(s), seed {study.seed}, {study.base.n_systems} systems x "
            f"{study.base.steps} cycles. {status}."
        ),
        "<h2>Parameters</h2>",
        _parameters_html(study),
        "<h2>Results</h2>",
    ]
    if ok == 0:
        body.append(_note("No finished runs yet."))
    elif study.kind == "whatif":
        body += _whatif_section(study, frame)
    elif study.kind == "sensitivity":
        if missing or failed:
            body.append(_note("Sensitivity indices need every sample point; finish the study."))
        body += _sensitivity_section(plan, frame)
    else:
        for fig, note in _sweep_figures(study, frame):
            body += [_figure_html(fig), _note(note) if note else ""]
    if series is not None and not series.empty and ok:
        body += ["<h2>Over time</h2>", _figure_html(_series_figure(study, series, frame))]
    body.append(_failures_html(frame))
    body += [
        "<h2>The data</h2>",
        _note("One row per run (parameters, seed, run key, status and every outcome):"),
        '<pre>import pandas as pd\nruns = pd.read_parquet("runs")\n\n'
        'import polars as pl\nruns = pl.read_parquet("runs/*.parquet")\n\n'
        "import duckdb\nduckdb.sql(\"SELECT * FROM 'runs/*.parquet'\")</pre>",
        _note(f"Built {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')} by ppsim report."),
    ]
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(study.name)}: ppsim study report</title>"
        f'<style>{_CSS}</style><script type="text/javascript">{get_plotlyjs()}</script>'
        "</head><body>\n" + "\n".join(b for b in body if b) + "\n</body></html>\n"
    )


def build_report(out_dir: str | Path) -> Path:
    """Write ``report.html`` in a results folder from its stored results (atomically)."""
    out_dir = Path(out_dir)
    study = read_stored_study(out_dir)
    frame = load_runs(out_dir)
    series = load_timeseries(out_dir) if study.timeseries else None
    text = render(study, frame, series)
    path = out_dir / REPORT_FILE
    tmp = path.with_name(f".{REPORT_FILE}.{uuid.uuid4().hex[:8]}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return path
