"""``report.html`` of a study: Plotly figures chosen to fit the study.

Outcomes are titled by their descriptions and shown in their units (shares in %, score
differences in percentage points); related panels share one grid.

- Sweep, one varied parameter: each outcome as a line over it with a 95 % bootstrap band
  (it stays in the outcome's range; too few replicates are pointed out).
- Sweep, two or more: lines over the first parameter, one per level of the second, and
  heatmaps of the mean over both (averaged over any further parameters).
- Latin hypercube sweep: each outcome against each parameter, one point per scenario.
- What-if: each arm's paired effect on each outcome with its 95 % interval, and the human
  hours each arm adds (the policy's own, the incidents', and their total, which the
  verdict judges) against the reduction in faulty share and shielded systems; then each
  effect scenario by scenario (:mod:`~simulation.experiments.robustness`): every arm's
  effect in every scenario, a heat table arm x assumption coloured by the effect's sign
  on either side of each assumption, and the robustness table with its verdicts.
- Sensitivity: Sobol S1/ST or Morris mu*/sigma bars with their intervals.

plotly.js is written once beside the report (``plotly.min.js``, shared by the reports of
the folder), so the folder works offline. The report is rebuilt from the stored results
alone (``ppsim report DIR``).

Example:
    >>> build_report("results/propensity-by-audit")  # doctest: +SKIP
    PosixPath('results/propensity-by-audit/report.html')
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from markupsafe import escape

from simulation import page
from simulation.config import config_fields
from simulation.errors import OutputError
from simulation.experiments import robustness, sensitivity, whatif
from simulation.experiments.design import Plan, make_plan
from simulation.experiments.stats import FEW_REPLICATES, group_summary, ok_runs
from simulation.experiments.store import (
    REPORT_FILE,
    STATUS_OK,
    check_unedited,
    load_runs,
    load_timeseries,
    read_stored_study,
)
from simulation.experiments.study import BASELINE, Study, Variable
from simulation.metrics import OUTCOMES, SUMMARY_DESCRIPTIONS, outcome_scale, outcome_title
from simulation.output import check_entries, os_reason, write_atomic

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
    (see :func:`simulation.page.figure`)."""
    shared = _layout_values(title, height)
    shared["template"] = page.plotly_template(shared["template"])
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
    fmt = page.format_number
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
    for key, outcome, _ in whatif.COST_PARTS:
        if f"{key}_added" in rows:
            table[f"added: {outcome_title(outcome)}"] = rows[f"{key}_added"]
            table[f"95 % CI ({key})"] = _interval_text(rows[f"{key}_low"], rows[f"{key}_high"])
    table["faulty share cut (pp)"] = rows["faulty_share_reduction"] * factor
    table["95 % CI (faulty)"] = _interval_text(rows["faulty_low"], rows["faulty_high"], factor)
    table["shielded cut (systems)"] = rows["shielded_reduction"]
    table["95 % CI (shielded)"] = _interval_text(rows["shielded_low"], rows["shielded_high"])
    table["faulty cut per hour (pp/h)"] = rows["reduction_per_hour"] * factor
    table["verdict"] = rows["verdict"]
    return table


def _whatif_section(study: Study, frame: pd.DataFrame) -> list[str]:
    from simulation.experiments.mechanisms import inert_arms

    inert = inert_arms(study)
    table = whatif.effects(frame, study)
    costs = whatif.cost_benefit(frame, study, inert=inert)
    interval_columns = tuple(c for c in _costs_table(costs).columns if c.startswith("95 %"))
    return [
        page.figure(
            _effect_figure(study, table),
            "Paired differences arm - baseline over the same scenarios and seeds (common "
            "random numbers); bars are 95 % t-intervals over the pairs. An interval that "
            "excludes zero is an effect distinguishable from the model's noise. Shares in "
            "percentage points, other outcomes in their own units.",
        ),
        page.figure(
            _cost_figure(costs),
            "Right and up is more effort for more reliability; up and left is cheap safety. "
            "Effort is the total human hours added, the policy's own plus those incidents "
            "force. Bars are 95 % intervals; hover a marker for its arm.",
        ),
        page.section(
            "Effects (arm - baseline), sorted by effect within each outcome",
            _table(_effects_table(study, table), left=("arm", "outcome", "95 % CI")),
            level=3,
        ),
        page.section(
            "Cost and benefit, the largest cut in faulty share first",
            _table(_costs_table(costs), left=("arm", "verdict", *interval_columns)),
            level=3,
        ),
        _robustness_section(study, frame, inert),
    ]


# --------------------------------------------------------------------------------------
# What-if robustness across scenarios

BETTER_COLOUR = "#0072B2"  # Okabe-Ito blue: an effect in the better direction
WORSE_COLOUR = "#D55E00"  # Okabe-Ito vermillion: in the worse direction


def _better_text(outcome: str) -> str:
    return f"{OUTCOMES[outcome].better} is better"


def _scenario_labels(factors: pd.DataFrame) -> dict[int, str]:
    """Each scenario as ``scenario 3: stand_in=human, fault_rate=0.002`` (for hovers)."""
    labels = {}
    for scenario, row in factors.iterrows():
        values = ", ".join(f"{name}={_short(value)}" for name, value in row.items())
        labels[int(scenario)] = f"scenario {scenario}" + (f": {values}" if values else "")
    return labels


def _short(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


STRIP_COLUMNS = 4
"""Panels per row of the strip figure: more would crowd their titles."""


def _strip_figure(
    study: Study, per_scenario: pd.DataFrame, labels: dict[int, str]
) -> dict[str, Any]:
    """One panel per outcome (in rows of :data:`STRIP_COLUMNS`), the arms down each:
    each arm's effect in every scenario, a point each over a box of their spread, zero
    marked. A point is blue where its scenario is better beyond its interval, vermillion
    where worse, grey otherwise, so the shares of the robustness table can be counted
    off the figure. Points are spread across their row by a seeded jitter, so the figure
    is the same every time."""
    outcomes = list(study.outcomes)
    arms = list(study.arm_names[1:])
    columns = min(STRIP_COLUMNS, len(outcomes))
    rows_count = math.ceil(len(outcomes) / columns)
    domains = _columns(columns, 0.04)
    figure_height = 90 + rows_count * (90 + 34 * len(arms))
    gap = 80 / (figure_height - 120)  # room for a row's axis title and the next titles
    height = (1.0 - gap * (rows_count - 1)) / rows_count
    jitter = np.random.default_rng(0)
    cells = robustness.cells_by_arm(per_scenario)
    data: list[dict[str, Any]] = []
    layout: dict[str, Any] = {"annotations": [], "shapes": []}
    for j, outcome in enumerate(outcomes):
        row, col = divmod(j, columns)
        factor, unit = outcome_scale(outcome)
        unit = "pp" if unit == "%" else unit  # a difference of shares
        suffix = "" if j == 0 else str(j + 1)
        x_axis, y_axis = f"x{suffix}", f"y{suffix}"
        points: dict[str, list[Any]] = {"x": [], "y": [], "color": [], "text": []}
        for i, arm in enumerate(arms):
            rows = cells.get((arm, outcome))
            if rows is None:
                continue
            effects = (rows.effect * factor).tolist()
            data.append(
                {
                    "type": "box",
                    "orientation": "h",
                    "x": effects,
                    "y": [i] * len(effects),
                    "name": arm,
                    "xaxis": x_axis,
                    "yaxis": y_axis,
                    "boxpoints": False,
                    "fillcolor": "rgba(0,0,0,0)",
                    "line": {"color": "#b0b0b0", "width": 1},
                    "hoverinfo": "skip",
                    "showlegend": False,
                }
            )
            points["x"] += effects
            points["y"] += (i + jitter.uniform(-0.25, 0.25, len(effects))).tolist()
            points["color"] += [
                BETTER_COLOUR if better else WORSE_COLOUR if worse else "#8c8c8c"
                for better, worse in zip(rows.better, rows.worse, strict=True)
            ]
            points["text"] += [
                f"{arm}<br>{labels.get(int(s), str(s))}<br>"
                + ("better" if b else "worse" if w else "not beyond its interval")
                for s, b, w in zip(rows.scenario, rows.better, rows.worse, strict=True)
            ]
        data.append(
            {
                "type": "scatter",
                "mode": "markers",
                "x": points["x"],
                "y": points["y"],
                "xaxis": x_axis,
                "yaxis": y_axis,
                "marker": {"color": points["color"], "size": 6, "opacity": 0.85},
                "text": points["text"],
                "hovertemplate": "%{text}<br>effect %{x:.4g}<extra></extra>",
                "showlegend": False,
            }
        )
        top = 1.0 - row * (height + gap)
        layout[f"xaxis{suffix}"] = {
            "domain": domains[col],
            "anchor": y_axis,
            "title": {"text": f"change{f' ({unit})' if unit else ''}", "font": {"size": 11}},
        }
        layout[f"yaxis{suffix}"] = {
            "domain": [top - height, top],
            "anchor": x_axis,
            "autorange": "reversed",
            "tickvals": list(range(len(arms))),
            "ticktext": arms,
            "showticklabels": col == 0,
            "zeroline": False,
            "showgrid": False,
        }
        title = _panel_title(f"{outcome} ({_better_text(outcome)})", domains[col], 11)
        title["y"], title["yref"] = top, "paper"
        layout["annotations"].append(title)
        layout["shapes"].append(_zero_line(j + 1, "x", across=y_axis))
    return _dict_figure(
        data,
        layout,
        "Effect of each policy in every scenario (arm - baseline, mean over its replicates)",
        figure_height,
    )


def _assumption_figure(study: Study, sides: pd.DataFrame) -> dict[str, Any]:
    """A heat table arm x assumption per outcome (a menu picks the outcome): each cell is
    the arm's median effect over the scenarios on one side of an assumption (a numeric
    one's lower and upper half, each choice of a categorical one), blue where it is better,
    vermillion where worse, as strong as the arm's largest such effect; the cells carry
    the effect and how many of the side's scenarios are better and worse."""
    outcomes = [o for o in study.outcomes if (sides["outcome"] == o).any()]
    arms = list(study.arm_names[1:])
    data: list[dict[str, Any]] = []
    for j, outcome in enumerate(outcomes):
        part = sides[sides["outcome"] == outcome]
        columns = list(
            dict.fromkeys(f"{f}: {s}" for f, s in zip(part["factor"], part["side"], strict=True))
        )
        cell = {
            (arm, f"{factor}: {side}"): row
            for arm, factor, side, row in zip(
                part["arm"], part["factor"], part["side"], part.itertuples(), strict=True
            )
        }
        sign = robustness.direction(outcome)
        z, text, hover = [], [], []
        for arm in arms:
            found = [cell.get((arm, column)) for column in columns]
            good = [sign * r.median_effect if r is not None else np.nan for r in found]
            largest = np.nanmax(np.abs(good)) if np.isfinite(good).any() else 0.0
            z.append([g / largest if largest > 0 else 0.0 for g in good])
            text.append(
                [
                    robustness.effect_text(outcome, r.median_effect) if r is not None else ""
                    for r in found
                ]
            )
            hover.append(
                [
                    f"{r.reading}: better in {r.better}, worse in {r.worse} of {r.scenarios}"
                    if r is not None
                    else "no scenario"
                    for r in found
                ]
            )
        data.append(
            {
                "type": "heatmap",
                "z": z,
                "x": columns,
                "y": arms,
                "text": text,
                "customdata": hover,
                "texttemplate": "%{text}",
                "hovertemplate": "%{y}, %{x}: median %{text}<br>%{customdata}<extra></extra>",
                "zmin": -1,
                "zmax": 1,
                "colorscale": [[0.0, WORSE_COLOUR], [0.5, "#f7f7f7"], [1.0, BETTER_COLOUR]],
                "showscale": False,
                "xgap": 2,
                "ygap": 2,
                "visible": j == 0,
            }
        )
    layout: dict[str, Any] = {
        "yaxis": {"autorange": "reversed", "type": "category", "automargin": True},
        "xaxis": {"type": "category", "automargin": True},
        "margin": {"l": 70, "r": 30, "t": 110, "b": 40},
    }
    if len(outcomes) > 1:
        layout["updatemenus"] = [
            {
                "type": "dropdown",
                "x": 0.0,
                "xanchor": "left",
                "y": 1.02,
                "yanchor": "bottom",
                "buttons": [
                    {
                        "label": f"{outcome} ({_better_text(outcome)})",
                        "method": "restyle",
                        "args": [{"visible": [k == j for k in range(len(outcomes))]}],
                    }
                    for j, outcome in enumerate(outcomes)
                ],
            }
        ]
    title = "Where each effect holds: median effect on either side of each assumption"
    return _dict_figure(data, layout, title, 220 + 36 * len(arms))


def _robustness_table(study: Study, table: pd.DataFrame) -> pd.DataFrame:
    """The robustness rows in display units (shares of scenarios in %, effects in pp)."""
    shown = pd.DataFrame(
        {
            "outcome": [f"{o} ({_better_text(o)})" for o in table["outcome"]],
            "arm": table["arm"],
            "scenarios": table["scenarios"],
            "better": [f"{100 * v:.0f} %" if v == v else "–" for v in table["share_better"]],
            "worse": [f"{100 * v:.0f} %" if v == v else "–" for v in table["share_worse"]],
        }
    )
    for column in ("median_effect", "worst_effect"):
        shown[column.replace("_", " ")] = [
            robustness.effect_text(o, v)
            for o, v in zip(table["outcome"], table[column], strict=True)
        ]
    shown["max regret"] = [
        robustness.effect_text(o, v, signed=False)
        for o, v in zip(table["outcome"], table["max_regret"], strict=True)
    ]
    shown["verdict"] = table["verdict"]
    shown["depends on"] = table["depends_on"]
    return shown


def _robustness_section(
    study: Study, frame: pd.DataFrame, inert: dict[str, list[str]] | None = None
) -> str:
    """The scenario-by-scenario reading of the paired effects (see
    :mod:`simulation.experiments.robustness`): each arm's effect in every scenario, the
    heat table arm x assumption, and the robustness table with its verdicts."""
    per_scenario = robustness.scenario_effects(frame, study)
    if per_scenario.empty:
        return ""
    factors = robustness.scenario_factors(frame, study)
    table = robustness.robustness(frame, study, inert=inert, per_scenario=per_scenario)
    parts = [
        page.note(
            "Each effect read scenario by scenario. A scenario's effect is better (worse) "
            "when its 95 % t-interval over the replicates lies wholly on the better (worse) "
            "side of zero; with one replicate, by its sign. Robust better: worse in no "
            "scenario, better in at least half, and better on either side of every "
            "assumption; robust worse likewise; no effect: no scenario beyond its "
            "interval, or no mechanism; depends: anything else, with the assumption it "
            "hangs on (the one whose two sides flip the effect's sign, else the one that "
            "moves the balance of better over worse scenarios most) and the median effect "
            "on either side. Regret: distance of the arm's mean from the best arm's in the "
            "scenario. The same table is in robustness.csv (effects in stored units)."
        ),
        page.figure(
            _strip_figure(study, per_scenario, _scenario_labels(factors)),
            "One point per scenario, blue where the effect is better beyond its 95 % "
            "interval, vermillion where worse, grey otherwise; hover a point for its "
            "assumptions. A policy whose points all lie on the better side of zero holds "
            "whatever the assumptions; one whose points straddle zero depends on them.",
            name="robustness-strips",
        ),
    ]
    sides = robustness.side_effects(per_scenario, factors)
    if not sides.empty:
        parts.append(
            page.figure(
                _assumption_figure(study, sides),
                "Blue: the policy's median effect on that side of the assumption is better, "
                "vermillion: worse, pale: near zero (each row scaled to its largest cell). "
                "A row blue on one side of an assumption and vermillion on the other is a "
                "verdict that hangs on it. The menu picks the outcome.",
                name="robustness-assumptions",
            )
        )
    parts.append(
        _table(_robustness_table(study, table), left=("outcome", "arm", "verdict", "depends on"))
    )
    return page.section("Robustness across the scenarios", *parts, level=3)


# --------------------------------------------------------------------------------------
# Sensitivity


def _sensitivity_section(plan: Plan, frame: pd.DataFrame) -> list[str]:
    study = plan.study
    indices, skipped = sensitivity.analyse(plan, frame)
    parts: list[str] = []
    wanted = ("S1", "ST") if study.method == "sobol" else ("mu_star", "sigma")
    for outcome in study.outcomes:
        if outcome in skipped:
            parts.append(page.note(f"{outcome}: not analysed, {skipped[outcome]}."))
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
        parts.append(page.figure(_layout(fig, f"{outcome}: {_label(outcome)}", 380)))
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
    parts.append(page.note(explain))
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


def _table(frame: pd.DataFrame, left: tuple[str, ...] = ()) -> str:
    """``frame`` as a table, numbers right-aligned (the columns in ``left`` are text)."""
    rows = (list(row) for _, row in frame.iterrows())  # as rows: ints of float frames as floats
    return page.table(list(frame.columns), rows, right=[c for c in frame.columns if c not in left])


def _parameters_html(study: Study) -> str:
    rows = [(v.name, v.describe()) for v in study.vary] or [
        ("(none)", "the base configuration only")
    ]
    defaults = type(study.base)().to_dict()
    changed = {k: v for k, v in study.base.to_dict().items() if defaults[k] != v}
    base = ", ".join(f"{k} = {v}" for k, v in changed.items()) or "all defaults"
    arms = ""
    if study.arms:
        arm_rows = [(BASELINE, "(base configuration)")] + [
            (a.name, ", ".join(f"{k} = {v}" for k, v in a.changes.items())) for a in study.arms
        ]
        arms = page.section("Policy arms", page.table(("arm", "changes"), arm_rows), level=3)
    return (
        page.table(("parameter", "values"), rows) + page.note(f"Base configuration: {base}.") + arms
    )


def _failures_html(frame: pd.DataFrame) -> str:
    failed = frame[frame["status"] != STATUS_OK]
    if failed.empty:
        return ""
    shown = failed[["run_key", "seed", "error"]].head(20)
    more = f" (first 20 of {len(failed)})" if len(failed) > 20 else ""
    return page.section(f"Failed runs{more}", _table(shown, left=("run_key", "error")))


def _design_text(study: Study, plan: Plan) -> str:
    if study.kind == "sensitivity":
        if study.method == "sobol":
            second = ", with second-order indices" if study.second_order else ""
            return f"Sobol (Saltelli sampling), {study.sobol_samples} base samples{second}"
        return f"Morris, {study.morris_trajectories} trajectories on {study.morris_levels} levels"
    if study.design == "lhs":
        return f"Latin hypercube, {study.samples} scenarios"
    return f"full factorial, {len(plan.scenarios)} scenarios"


def render(
    study: Study,
    frame: pd.DataFrame,
    series: pd.DataFrame | None = None,
    shared_plotly: bool = False,
) -> str:
    """The report page for stored results (a complete HTML document); with
    ``shared_plotly`` it loads ``plotly.min.js`` from its own folder instead of embedding
    it."""
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
    results = []
    if ok == 0:
        results.append(page.note("No finished runs yet."))
    elif study.kind == "whatif":
        results += _whatif_section(study, frame)
    elif study.kind == "sensitivity":
        if missing or failed:
            results.append(
                page.note("Sensitivity indices need every sample point; finish the study.")
            )
        results += _sensitivity_section(plan, frame)
    else:
        results.append(page.note(_few_replicates_note(frame, study), warn=True))
        results += [page.figure(fig, note) for fig, note in _sweep_figures(study, frame)]
    over_time = ""
    if series is not None and not series.empty and ok:
        over_time = page.section("Over time", page.figure(_series_figure(study, series, frame)))
    summary = (
        f"{kind_text.capitalize()}: {_design_text(study, plan)}, {study.replicates} "
        f"replicate(s), seed {study.seed}, {study.base.n_systems} systems x "
        f"{study.base.steps} cycles. {status}."
    )
    return page.render(
        f"{study.name}: ppsim study report",
        [
            page.section("Parameters", _parameters_html(study)),
            page.section("Results", *results),
            over_time,
            _failures_html(frame),
            page.section(
                "The data",
                page.note("One row per run (parameters, seed, run key, status and every outcome):"),
                '<pre>import pandas as pd\nruns = pd.read_parquet("runs")\n\n'
                'import polars as pl\nruns = pl.read_parquet("runs/*.parquet")\n\n'
                "import duckdb\nduckdb.sql(\"SELECT * FROM 'runs/*.parquet'\")</pre>",
                page.note(
                    f"Built {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')} by ppsim report."
                ),
            ),
        ],
        heading=study.name,
        subtitle=[escape(line) for line in (study.description, summary) if line],
        shared_plotly=shared_plotly,
    )


def build_report(out_dir: str | Path, runs: pd.DataFrame | None = None) -> Path:
    """Write ``report.html`` in a results folder from its stored results (atomically),
    with the ``plotly.min.js`` it loads beside it. ``runs`` is the folder's stored runs
    when the caller has just loaded them (as :func:`run_study` returns them)."""
    out_dir = Path(out_dir)
    study = read_stored_study(out_dir)
    check_unedited(out_dir)
    check_entries(out_dir, files=(REPORT_FILE, page.PLOTLY_FILE), option="")
    frame = load_runs(out_dir) if runs is None else runs
    series = load_timeseries(out_dir) if study.timeseries else None
    text = render(study, frame, series, shared_plotly=True)
    try:
        page.write_plotly_js(out_dir)
        return write_atomic(out_dir / REPORT_FILE, text)
    except OSError as exc:  # a full disk, a read-only folder: the user's to fix
        where = exc.filename if exc.filename is not None else out_dir / REPORT_FILE
        raise OutputError(f"cannot write {where} ({os_reason(exc)})") from None
