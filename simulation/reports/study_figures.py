"""The figures of a study's report: the sweep lines, heatmaps and scatters, and the
what-if effect and cost figures and tables, with the layout helpers they share
(:mod:`simulation.reports.study` assembles the page)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from simulation.config import config_fields
from simulation.experiments import whatif
from simulation.experiments.stats import FEW_REPLICATES, group_summary, ok_runs
from simulation.experiments.study import Study, Variable
from simulation.metrics import SUMMARY_DESCRIPTIONS
from simulation.outcome_text import outcome_scale, outcome_title
from simulation.reports import html_page

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


def _rgba(color: str, alpha: float) -> str:
    r, g, b = (int(color[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def _color(i: int) -> str:
    return COLORS[i % len(COLORS)]


def _numeric(var: Variable) -> bool:
    return var.form in ("uniform", "loguniform", "integers") or all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in var.values
    )


def _label(outcome: str) -> str:
    return SUMMARY_DESCRIPTIONS.get(outcome, outcome)


def _layout_values(title: str, height: int) -> dict[str, Any]:
    """The layout every report figure shares (its template by name)."""
    return {
        "title": {"text": title, "x": 0.01},
        "template": "plotly_white",
        "height": height,
        "margin": {"l": 70, "r": 30, "t": 70, "b": 50},
        "legend": {"orientation": "h", "y": 1.0, "yanchor": "bottom", "x": 1, "xanchor": "right"},
    }


def _layout(fig: go.Figure, title: str, height: int) -> go.Figure:
    fig.update_layout(**_layout_values(title, height))
    return fig


def _dict_figure(
    data: list[dict[str, Any]], layout: dict[str, Any], title: str, height: int
) -> dict[str, Any]:
    """A figure as a plain dict, with the shared layout and its template written out
    (see :func:`simulation.reports.html_page.figure`)."""
    shared = _layout_values(title, height)
    shared["template"] = html_page.plotly_template(shared["template"])
    return {"data": data, "layout": {**shared, **layout}}


def _columns(count: int, spacing: float) -> list[list[float]]:
    """Horizontal domains of ``count`` side-by-side panels (as ``make_subplots`` lays
    out one row)."""
    width = (1.0 - spacing * (count - 1)) / count
    return [[j * (width + spacing), j * (width + spacing) + width] for j in range(count)]


def _panel_title(text: str, domain: list[float], size: int) -> dict[str, Any]:
    return {
        "text": text,
        "x": (domain[0] + domain[1]) / 2,
        "xref": "paper",
        "xanchor": "center",
        "y": 1.0,
        "yref": "paper",
        "yanchor": "bottom",
        "showarrow": False,
        "font": {"size": size},
    }


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


def _parameter_title(name: str) -> str:
    """A varied parameter as an axis title: its description and unit, and its name."""
    field = next((f for f in config_fields() if f.name == name), None)
    if field is None:
        return name
    text, unit = field.help, field.unit
    text = text[:1].upper() + text[1:] if text else name
    return f"{text}{f' ({unit})' if unit else ''} [{name}]"


def _scaled(summary: pd.DataFrame, outcome: str) -> pd.DataFrame:
    """Summary rows of one outcome in the unit it is shown in (%, pp, ...)."""
    factor, _ = outcome_scale(outcome)
    part = summary[summary["outcome"] == outcome].copy()
    for column in ("mean", "ci_low", "ci_high"):
        part[column] = part[column] * factor
    return part


def _grid(count: int, columns: int, titles: list[str], **extra) -> tuple[go.Figure, int]:
    """A grid of ``count`` panels, ``columns`` wide, titled; and its number of rows."""
    from plotly.subplots import make_subplots  # a tenth of a second, and a what-if needs none

    rows = max(1, math.ceil(count / columns))
    fig = make_subplots(
        rows=rows,
        cols=columns,
        subplot_titles=titles,
        horizontal_spacing=0.08 if columns > 1 else 0.02,
        vertical_spacing=min(0.3, 0.5 / rows),
        **extra,
    )
    fig.update_annotations(font_size=12)
    return fig, rows


def _place(index: int, columns: int) -> tuple[int, int]:
    return index // columns + 1, index % columns + 1


def _sweep_lines(study: Study, frame: pd.DataFrame) -> list[tuple[go.Figure, str]]:
    """Each outcome over the first varied parameter, all in one grid of panels (one line
    per level of the second parameter); with two or more parameters, a second grid of
    heatmaps of the mean over the first two."""
    first = study.vary[0]
    second = study.vary[1] if len(study.vary) > 1 else None
    by = [first.name] + ([second.name] if second else [])
    summary = group_summary(frame, by, study.outcomes)
    outcomes = list(study.outcomes)
    columns = 2 if len(outcomes) > 1 else 1
    titles = [outcome_title(o) for o in outcomes]
    fig, rows = _grid(len(outcomes), columns, titles)
    draw = _band if _numeric(first) else _errorbars
    for index, outcome in enumerate(outcomes):
        row, col = _place(index, columns)
        part = _scaled(summary, outcome)
        if second is None:
            draw(fig, part[first.name], part, _color(0), outcome, row, col, False)
        else:
            for i, level in enumerate(second.values):
                sub = part[part[second.name] == level]
                label = f"{second.name} = {level}"
                draw(fig, sub[first.name], sub, _color(i), label, row, col, index == 0)
        fig.update_xaxes(title_text=_parameter_title(first.name), row=row, col=col)
    rest = [v.name for v in study.vary[2:]]
    note = f" (averaged over {', '.join(rest)})" if rest else ""
    title = f"Outcomes over {first.name}{note}"
    figures = [(_layout(fig, title, 120 + 300 * rows), "")]
    if second is not None:
        figures.append((_heatmaps(study, summary, first, second), ""))
    return figures


def _heatmaps(study: Study, summary: pd.DataFrame, first: Variable, second: Variable) -> go.Figure:
    outcomes = list(study.outcomes)
    columns = 2 if len(outcomes) > 1 else 1
    fig, rows = _grid(len(outcomes), columns, [outcome_title(o) for o in outcomes])
    for index, outcome in enumerate(outcomes):
        row, col = _place(index, columns)
        part = _scaled(summary, outcome)
        grid = part.pivot(index=second.name, columns=first.name, values="mean")
        grid = grid.reindex(index=list(second.values), columns=list(first.values))
        fig.add_trace(
            go.Heatmap(
                z=grid.to_numpy(dtype=np.float64),
                x=[str(v) for v in grid.columns],
                y=[str(v) for v in grid.index],
                colorscale="Viridis",
                showscale=False,
                hovertemplate=f"{first.name}=%{{x}}<br>{second.name}=%{{y}}<br>"
                "mean %{z:.4g}<extra>" + outcome + "</extra>",
            ),
            row=row,
            col=col,
        )
        fig.update_xaxes(title_text=first.name, type="category", row=row, col=col)
        fig.update_yaxes(title_text=second.name, type="category", row=row, col=col)
    title = f"Mean of each outcome over {first.name} x {second.name} (brighter is higher)"
    return _layout(fig, title, 120 + 300 * rows)


def _sweep_scatter(study: Study, frame: pd.DataFrame) -> list[tuple[go.Figure, str]]:
    """Latin hypercube: each outcome (rows) against each parameter (columns), one grid."""
    ok = ok_runs(frame)
    means = ok.groupby("scenario")[[*study.varied, *study.outcomes]].agg(
        {**{v: "first" for v in study.varied}, **{o: "mean" for o in study.outcomes}}
    )
    outcomes, columns = list(study.outcomes), len(study.vary)
    fig, rows = _grid(
        len(outcomes) * columns, columns, [""] * (len(outcomes) * columns), shared_yaxes=True
    )
    for i, outcome in enumerate(outcomes):
        factor, _ = outcome_scale(outcome)
        for j, var in enumerate(study.vary):
            fig.add_trace(
                go.Scatter(
                    x=means[var.name],
                    y=means[outcome] * factor,
                    mode="markers",
                    marker={"color": _color(j), "size": 6, "opacity": 0.75},
                    showlegend=False,
                    hovertemplate=f"{var.name}=%{{x}}<br>{outcome}=%{{y:.4g}}<extra></extra>",
                ),
                row=i + 1,
                col=j + 1,
            )
            if var.form == "loguniform":
                fig.update_xaxes(type="log", row=i + 1, col=j + 1)
            if i == len(outcomes) - 1:
                fig.update_xaxes(title_text=_parameter_title(var.name), row=i + 1, col=j + 1)
        fig.update_yaxes(title_text=outcome_title(outcome), title_font_size=11, row=i + 1, col=1)
    return [(_layout(fig, "Each outcome against each parameter", 120 + 260 * rows), "")]


def _few_replicates_note(frame: pd.DataFrame, study: Study) -> str:
    """A warning when some scenario has fewer finished replicates than intervals need."""
    ok = ok_runs(frame)
    if ok.empty:
        return ""
    fewest = int(ok.groupby("scenario").size().min()) if "scenario" in ok else len(ok)
    if fewest >= FEW_REPLICATES:
        return ""
    return (
        f"Too few replicates for reliable intervals: some scenarios have only {fewest} "
        f"finished run(s) (at least {FEW_REPLICATES} are needed); the bands show the spread "
        "of the runs there, not a trustworthy 95 % interval. Raise 'replicates' and rerun."
    )


def _sweep_figures(study: Study, frame: pd.DataFrame) -> list[tuple[go.Figure, str]]:
    if not study.vary:
        summary = group_summary(frame, [], study.outcomes)
        outcomes = list(study.outcomes)
        columns = min(3, len(outcomes))
        fig, rows = _grid(len(outcomes), columns, [outcome_title(o) for o in outcomes])
        for index, outcome in enumerate(outcomes):
            row, col = _place(index, columns)
            part = _scaled(summary, outcome)
            _errorbars(fig, ["base"], part, _color(index), outcome, row, col, False)
        return [(_layout(fig, "Outcomes of the base configuration", 120 + 260 * rows), "")]
    if study.design == "lhs":
        note = "One point per sampled scenario (mean over its replicates)."
        figures = _sweep_scatter(study, frame)
        return [(f, note) for f, _ in figures]
    note = (
        "Mean over replicates; bands and bars are 95 % bootstrap percentile intervals of the "
        "mean, which stay within the range the outcome can take. Shares are in %, score "
        "differences in percentage points (pp)."
    )
    return [(f, note) for f, _ in _sweep_lines(study, frame)]


# --------------------------------------------------------------------------------------
# What-if


def _arm_order(study: Study, table: pd.DataFrame) -> list[str]:
    """Arms from the largest cut of the first outcome (most negative effect) to the largest
    rise; arms without an effect last."""
    first = table[table["outcome"] == study.outcomes[0]].set_index("arm")["effect"]
    arms = list(study.arm_names[1:])
    return sorted(
        arms, key=lambda arm: (not np.isfinite(first.get(arm, np.nan)), first.get(arm, 0))
    )


def _zero_line(col: int, axis: str, across: str | None = None) -> dict[str, Any]:
    """A dotted line at 0 on axis ``axis`` ("x": vertical) across subplot ``col`` of a
    one-row grid (spanning ``across``, by default that subplot's other axis): what
    ``add_vline``/``add_hline`` draw, a tenth of a second cheaper."""
    suffix = "" if col == 1 else str(col)
    other = {"x": "y", "y": "x"}[axis]
    return {
        "type": "line",
        "line": {"color": "#999", "dash": "dot"},
        f"{axis}0": 0,
        f"{axis}1": 0,
        f"{axis}ref": f"{axis}{suffix}",
        f"{other}0": 0,
        f"{other}1": 1,
        f"{other}ref": f"{across or other + suffix} domain",
    }


def _effect_figure(study: Study, table: pd.DataFrame) -> dict[str, Any]:
    """One panel per outcome, the arms down a shared axis: each arm's paired effect with
    its interval."""
    outcomes = list(study.outcomes)
    arms = _arm_order(study, table)
    domains = _columns(len(outcomes), 0.03)
    data: list[dict[str, Any]] = []
    layout: dict[str, Any] = {
        "yaxis": {"autorange": "reversed", "anchor": "x"},
        "annotations": [],
        "shapes": [],
    }
    for j, outcome in enumerate(outcomes):
        factor, unit = outcome_scale(outcome)
        part = table[table["outcome"] == outcome].set_index("arm").reindex(arms)
        effect, low, high = ((part[c] * factor).to_numpy() for c in ("effect", "ci_low", "ci_high"))
        axis = "x" if j == 0 else f"x{j + 1}"
        data.append(
            {
                "type": "scatter",
                "x": effect,
                "y": arms,
                "xaxis": axis,
                "yaxis": "y",
                "mode": "markers",
                "marker": {"color": _color(j), "size": 9},
                "error_x": {
                    "type": "data",
                    "symmetric": False,
                    "array": high - effect,
                    "arrayminus": effect - low,
                },
                "showlegend": False,
                "customdata": np.stack([low, high, part["n"].to_numpy()], axis=1),
                "hovertemplate": "%{y}: %{x:.4g} (95% CI %{customdata[0]:.4g} to "
                "%{customdata[1]:.4g}, %{customdata[2]} pairs)<extra>" + outcome + "</extra>",
            }
        )
        layout[axis.replace("x", "xaxis", 1)] = {
            "domain": domains[j],
            "anchor": "y",
            "title": {"text": f"change{f' ({unit})' if unit else ''}"},
        }
        layout["annotations"].append(_panel_title(outcome_title(outcome), domains[j], 11))
        layout["shapes"].append(_zero_line(j + 1, "x", across="y"))
    return _dict_figure(
        data,
        layout,
        "Effect of each policy versus the baseline (arm - baseline), sorted by the first outcome",
        160 + 48 * len(arms),
    )


def _cost_figure(costs: pd.DataFrame) -> dict[str, Any]:
    """Effort against reliability: one marker per arm, named in the legend and on hover
    (labels on the markers would pile up where arms are close)."""
    factor, _ = outcome_scale(whatif.FAULTY)
    panels = (
        ("faulty_share_reduction", "faulty_low", "faulty_high", factor),
        ("shielded_reduction", "shielded_low", "shielded_high", 1.0),
    )
    titles = [
        f"Cut in {outcome_title(whatif.FAULTY)[:1].lower()}{outcome_title(whatif.FAULTY)[1:]}",
        f"Cut in {outcome_title(whatif.SHIELDED)[:1].lower()}{outcome_title(whatif.SHIELDED)[1:]}",
    ]
    domains = _columns(2, 0.1)
    symbols = ("circle", "square", "diamond", "triangle-up", "star", "hexagon", "x", "cross")
    rows = costs.reset_index(drop=True).to_dict("records")
    key = whatif.COST_KEY
    data: list[dict[str, Any]] = []
    layout: dict[str, Any] = {"annotations": [], "shapes": []}
    for col, (y, low, high, scale) in enumerate(panels, start=1):
        x_axis, y_axis = ("x", "y") if col == 1 else (f"x{col}", f"y{col}")
        for i, row in enumerate(rows):
            data.append(
                {
                    "type": "scatter",
                    "x": [row[f"{whatif.COST_KEY}_added"]],
                    "y": [row[y] * scale],
                    "xaxis": x_axis,
                    "yaxis": y_axis,
                    "mode": "markers",
                    "marker": {
                        "color": _color(i),
                        "size": 11,
                        "symbol": symbols[i % len(symbols)],
                    },
                    "error_x": {
                        "type": "data",
                        "symmetric": False,
                        "array": [row[f"{key}_high"] - row[f"{key}_added"]],
                        "arrayminus": [row[f"{key}_added"] - row[f"{key}_low"]],
                    },
                    "error_y": {
                        "type": "data",
                        "symmetric": False,
                        "array": [(row[high] - row[y]) * scale],
                        "arrayminus": [(row[y] - row[low]) * scale],
                    },
                    "name": row["arm"],
                    "legendgroup": row["arm"],
                    "showlegend": col == 1,
                    "hovertemplate": row["arm"] + ": %{x:.3g} h/cycle, cut %{y:.3g}<extra></extra>",
                }
            )
        layout[x_axis.replace("x", "xaxis", 1)] = {
            "domain": domains[col - 1],
            "anchor": y_axis,
            "title": {"text": f"added: {outcome_title(whatif.COST_OUTCOME)}"},
        }
        layout[y_axis.replace("y", "yaxis", 1)] = {"domain": [0.0, 1.0], "anchor": x_axis}
        layout["annotations"].append(_panel_title(titles[col - 1], domains[col - 1], 12))
        layout["shapes"] += [_zero_line(col, "y"), _zero_line(col, "x")]
    layout["yaxis"]["title"] = {"text": "cut (higher is better)"}
    layout["legend"] = {"orientation": "v", "x": 1.02, "y": 1, "yanchor": "top"}
    return _dict_figure(
        data, layout, "Human effort each policy costs against the reliability it buys", 480
    )


def _interval_text(low: pd.Series, high: pd.Series, factor: float = 1.0) -> list[str]:
    fmt = html_page.format_number
    return [f"{fmt(lo * factor)} to {fmt(hi * factor)}" for lo, hi in zip(low, high, strict=True)]


def _effects_table(study: Study, table: pd.DataFrame) -> pd.DataFrame:
    """Effects per outcome (in the study's order), arms sorted by effect, in display units."""
    order = {outcome: i for i, outcome in enumerate(study.outcomes)}
    rows = table.assign(_o=table["outcome"].map(order)).sort_values(["_o", "effect"])
    factor = rows["outcome"].map(lambda o: outcome_scale(o)[0])
    shown = rows.assign(
        outcome=rows["outcome"].map(outcome_title),
        baseline_mean=rows["baseline_mean"] * factor,
        arm_mean=rows["arm_mean"] * factor,
        effect=rows["effect"] * factor,
    )
    shown["95 % CI"] = _interval_text(rows["ci_low"] * factor, rows["ci_high"] * factor)
    shown["relative"] = [f"{100 * r:+.3g} %" if math.isfinite(r) else "–" for r in rows["relative"]]
    return shown[
        ["outcome", "arm", "n", "baseline_mean", "arm_mean", "effect", "95 % CI", "relative"]
    ]


def _costs_table(costs: pd.DataFrame) -> pd.DataFrame:
    """Cost and benefit per arm with their 95 % intervals, the largest cut in faulty share
    first: the policy, incident and total hours added (the verdict judges the total)."""
    factor, _ = outcome_scale(whatif.FAULTY)
    rows = costs.sort_values("faulty_share_reduction", ascending=False)
    table = pd.DataFrame({"arm": rows["arm"], "n": rows["n"]})
    for key, _, label in whatif.COST_PARTS:
        if f"{key}_added" in rows:
            table[label] = rows[f"{key}_added"]
            table[f"95 % CI ({key})"] = _interval_text(rows[f"{key}_low"], rows[f"{key}_high"])
    table["faulty share cut (pp)"] = rows["faulty_share_reduction"] * factor
    table["95 % CI (faulty)"] = _interval_text(rows["faulty_low"], rows["faulty_high"], factor)
    table["shielded cut (systems)"] = rows["shielded_reduction"]
    table["95 % CI (shielded)"] = _interval_text(rows["shielded_low"], rows["shielded_high"])
    table["faulty cut per hour (pp/h)"] = rows["reduction_per_hour"] * factor
    table["verdict"] = rows["verdict"]
    return table


def _table(frame: pd.DataFrame, left: tuple[str, ...] = ()) -> str:
    """``frame`` as a table, numbers right-aligned (the columns in ``left`` are text)."""
    rows = (list(row) for _, row in frame.iterrows())  # as rows: ints of float frames as floats
    return html_page.table(
        list(frame.columns), rows, right=[c for c in frame.columns if c not in left]
    )
