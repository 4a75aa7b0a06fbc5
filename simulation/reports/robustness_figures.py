"""The robustness section of a what-if study's report: every arm's effect scenario by
scenario (strip figure), the heat table arm x assumption, and the robustness table with
its verdicts (:mod:`~simulation.experiments.robustness` computes them)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from simulation.experiments import robustness
from simulation.experiments.study import Study
from simulation.metrics import OUTCOMES
from simulation.outcome_text import outcome_scale
from simulation.reports import html_page
from simulation.reports.study_figures import (
    _columns,
    _dict_figure,
    _panel_title,
    _table,
    _zero_line,
)

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
        html_page.note(
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
        html_page.figure(
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
            html_page.figure(
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
    return html_page.section("Robustness across the scenarios", *parts, level=3)
