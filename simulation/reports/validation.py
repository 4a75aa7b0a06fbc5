"""Show a validation run: the rich table for the terminal, the Plotly report for a browser.

:func:`render_table` builds the one table ``ppsim validate`` prints; :func:`build_figures`
the four figures (study rates with intervals, outbreak size against beta with the
percolation threshold, Watts's cascade window, beta_c against propensity scale);
:func:`report_html` puts the summary, the table and the figures in one self-contained HTML
page (Plotly's script is inlined, so the page works offline).
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from markupsafe import Markup, escape
from plotly.subplots import make_subplots
from rich import box
from rich.table import Table

from simulation.reports import html_page
from simulation.validation import theory
from simulation.validation.suite import CheckRow, ValidationResult

VERDICT_STYLE = {"yes": "green", "yes*": "yellow", "NO": "bold red", "-": "dim"}
BEHAVIOUR_COLOUR = {
    "misrepresentation": "#1f77b4",
    "tampering": "#d62728",
    "exfiltration": "#9467bd",
    "refusal": "#2ca02c",
    "alignment_faking": "#ff7f0e",
    "self_tampering": "#8c564b",
    "self_exfiltration": "#e377c2",
}
FAMILY_TITLE = {
    "study": "THE STUDY: one overseer, one peer",
    "not reported": "NOT REPORTED BY THE STUDY",
    "contagion": "NETWORK CONTAGION THEORY",
}
CAPTION = (
    "agrees: yes = expected value inside the 95 % interval; yes* = inside the family-wise "
    "(Bonferroni) interval only; NO = outside. Study rates in % of runs, differences in "
    "percentage points (misrep.: above the no-shutdown baseline; align. faking: unmonitored "
    "minus monitored). Not reported: cells filled by the profiles' assumptions (x3 = all "
    "buckets). RR = random regular, ER = Erdos-Renyi; P(outbreak) = share of single seeds "
    "reaching > 5 % of the systems, P(global cascade) > 10 %; mean size and P(outbreak) "
    "rows: theory for the degrees the seeds had; threshold and critical-beta "
    "rows: variability peak +- (2 bootstrap SE + critical window of a finite graph); "
    "Protection xS: propensity_scale S. n: samples (copies x systems for networks)."
)


def render_table(result: ValidationResult) -> Table:
    """The validation table, one section per family."""
    mode = "full-size" if result.full else "quick"
    table = Table(
        title=f"Does it reproduce what is known? ({mode} run, seed {result.settings.seed})",
        caption=CAPTION,
        caption_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        expand=False,
    )
    table.add_column("check", overflow="fold")
    table.add_column("expected", overflow="fold", max_width=30)
    table.add_column("simulated", justify="right")
    table.add_column("interval", justify="right")
    table.add_column("n", justify="right")
    table.add_column("agrees", justify="center")
    family = None
    for row in result.rows():
        if row.family != family:
            if family is not None:
                table.add_section()
            table.add_row(f"[bold]{FAMILY_TITLE[row.family]}[/bold]", "", "", "", "", "")
            family = row.family
        style = VERDICT_STYLE.get(row.verdict, "")
        table.add_row(
            row.check,
            row.expected,
            row.simulated,
            row.interval,
            row.n,
            f"[{style}]{row.verdict}[/{style}]",
        )
    return table


# --- figures ------------------------------------------------------------------------------


def study_figure(result: ValidationResult) -> go.Figure:
    """Every reported cell: the study's value and the simulated rate with its 95 % interval."""
    order = list(BEHAVIOUR_COLOUR)
    grouped = sorted(
        enumerate(result.cells), key=lambda ic: (order.index(ic[1].cell.behaviour), ic[0])
    )
    cells = [c for _, c in reversed(grouped)]
    labels = [
        f"{r.cell.model} | {r.cell.behaviour.replace('_', ' ')} | {r.cell.relationship}"
        for r in cells
    ]
    fig = go.Figure()
    for behaviour, colour in BEHAVIOUR_COLOUR.items():
        idx = [i for i, r in enumerate(cells) if r.cell.behaviour == behaviour]
        if not idx:
            continue
        sim = np.array([100 * cells[i].simulated for i in idx])
        lo = np.array([100 * cells[i].low for i in idx])
        hi = np.array([100 * cells[i].high for i in idx])
        fig.add_trace(
            go.Scatter(
                x=sim,
                y=[labels[i] for i in idx],
                mode="markers",
                marker={"color": colour, "size": 7},
                error_x={"type": "data", "array": hi - sim, "arrayminus": sim - lo},
                name=f"simulated: {behaviour.replace('_', ' ')}",
                hovertemplate="%{y}<br>simulated %{x:.1f}<extra></extra>",
            )
        )
    fig.add_trace(
        go.Scatter(
            x=[100 * r.cell.rate for r in cells],
            y=labels,
            mode="markers",
            marker={
                "symbol": ["triangle-left" if r.cell.upper_bound else "diamond" for r in cells],
                "color": "black",
                "size": 9,
                "line": {"width": 1, "color": "white"},
            },
            name="study (mean over peer introductions; triangle: upper bound)",
            hovertemplate="%{y}<br>study %{x:.1f}<extra></extra>",
        )
    )
    fig.update_layout(
        title="1. The study's cells: simulated rate (95 % interval at the study's n) vs reported",
        xaxis_title="rate (%), or points above baseline / unmonitored minus monitored (pp)",
        height=max(500, 18 * len(cells) + 170),
        legend={"orientation": "h", "y": -0.08},
        margin={"l": 300},
    )
    return fig


def threshold_figure(result: ValidationResult) -> go.Figure:
    """Outbreak probability and variability against beta, theory threshold marked."""
    ts = result.thresholds
    fig = make_subplots(
        rows=2,
        cols=len(ts),
        shared_xaxes=True,
        vertical_spacing=0.08,
        subplot_titles=[
            f"{t.topology.replace('-', ' ')} (mean degree {t.mean_degree:g}), "
            f"{t.copies} outbreaks x {t.n} systems"
            for t in ts
        ],
    )
    for j, t in enumerate(ts, start=1):
        betas = np.array(t.betas)
        p = np.array(t.p_large)
        dense = np.linspace(betas.min(), betas.max(), 200)
        pmf = np.asarray(t.degree_pmf)
        first = j == 1
        fig.add_traces(
            [
                go.Scatter(
                    x=dense,
                    y=[theory.outbreak_probability(pmf, b) for b in dense],
                    mode="lines",
                    line={"color": "black"},
                    name="theory: giant outbreak probability (bond percolation)",
                    showlegend=first,
                ),
                go.Scatter(
                    x=dense,
                    y=[theory.outbreak_probability(pmf, b) ** 2 for b in dense],
                    mode="lines",
                    line={"color": "black", "dash": "dot"},
                    name="theory: mean outbreak size / n (its square)",
                    showlegend=first,
                ),
                go.Scatter(
                    x=betas,
                    y=p,
                    mode="markers",
                    marker={"color": "#1f77b4"},
                    error_y={
                        "type": "data",
                        "array": np.array(t.p_large_high) - p,
                        "arrayminus": p - np.array(t.p_large_low),
                    },
                    name=f"simulated: P(outbreak > {100 * t.large_share:g} % of n), 95 % interval",
                    showlegend=first,
                ),
                go.Scatter(
                    x=betas,
                    y=t.mean_share,
                    mode="markers",
                    marker={"color": "#ff7f0e", "symbol": "square", "size": 6},
                    name="simulated: mean outbreak size / n",
                    showlegend=first,
                ),
                go.Scatter(
                    x=betas,
                    y=t.delta,
                    mode="lines+markers",
                    line={"color": "#2ca02c"},
                    name="simulated: variability std/mean of outbreak size",
                    showlegend=first,
                ),
            ],
            rows=[1, 1, 1, 1, 2],
            cols=j,
        )
        for row in (1, 2):
            fig.add_vline(
                x=t.t_c, line={"color": "black", "dash": "solid", "width": 1}, row=row, col=j
            )
            fig.add_vrect(
                x0=t.transition.beta - t.tolerance,
                x1=t.transition.beta + t.tolerance,
                fillcolor="#2ca02c",
                opacity=0.12,
                line_width=0,
                row=row,
                col=j,
            )
        fig.add_annotation(
            x=t.t_c,
            y=1.0,
            text=f"T_c = {t.t_c:.3f}",
            showarrow=False,
            xanchor="left",
            row=1,
            col=j,
        )
        fig.update_xaxes(title_text="beta (infection probability per dependency)", row=2, col=j)
    fig.update_yaxes(title_text="probability / share", row=1, col=1)
    fig.update_yaxes(title_text="variability", row=2, col=1)
    fig.update_layout(
        title="2. Outbreak threshold with propensities at 0: black line T_c from theory, "
        "green band the simulated transition (variability peak +- tolerance)",
        height=700,
        legend={"orientation": "h", "y": -0.12},
    )
    return fig


def watts_figure(result: ValidationResult) -> go.Figure:
    """Frequency of global cascades against mean degree, the theory's window shaded."""
    w = result.watts
    z = np.array(w.mean_degrees)
    f = np.array(w.frequency)
    dense = np.linspace(0.05, max(z.max(), 12.0), 300)
    fig = go.Figure()
    fig.add_vrect(
        x0=w.window[0],
        x1=w.window[1],
        fillcolor="#9467bd",
        opacity=0.12,
        line_width=0,
        annotation_text=f"theory's window {w.window[0]:.2f} to {w.window[1]:.2f}",
        annotation_position="top left",
    )
    fig.add_trace(
        go.Scatter(
            x=dense,
            y=[theory.watts_cascade_probability(x, w.theta) for x in dense],
            mode="lines",
            line={"color": "black"},
            name="theory: extended vulnerable cluster (Watts 2002)",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=z,
            y=f,
            mode="markers",
            marker={"color": "#9467bd", "size": 8},
            error_y={
                "type": "data",
                "array": np.array(w.high) - f,
                "arrayminus": f - np.array(w.low),
            },
            name=f"simulated: share of single seeds giving a cascade > "
            f"{100 * w.global_share:g} % of n",
        )
    )
    fig.update_layout(
        title=f"3. Watts (2002) cascade window: threshold rule theta = {w.theta:g}, "
        f"Erdos-Renyi, {w.copies} seeds x {w.n} systems per mean degree",
        xaxis_title="mean degree z",
        yaxis_title="frequency of global cascades",
        height=450,
        legend={"orientation": "h", "y": -0.2},
    )
    return fig


def protection_figure(result: ValidationResult) -> go.Figure:
    """beta_c against propensity scale (theory line, simulated points), and the sweeps."""
    p = result.protection
    fig = make_subplots(
        rows=1,
        cols=2,
        column_widths=[0.45, 0.55],
        subplot_titles=[
            "critical beta vs propensity scale",
            "P(outbreak) vs beta per scale: simulated (points), theory (lines)",
        ],
    )
    fig.add_traces(
        [
            go.Scatter(
                x=p.curve_scales,
                y=p.curve_beta_c,
                mode="lines",
                line={"color": "black"},
                name="theory: T_eff(beta_c) = T_c",
            ),
            go.Scatter(
                x=[s.scale for s in p.scales],
                y=[s.transition.beta for s in p.scales],
                mode="markers",
                marker={"color": "#d62728", "size": 9},
                error_y={"type": "data", "array": [s.tolerance for s in p.scales]},
                name="simulated: variability peak +- tolerance",
            ),
        ],
        rows=1,
        cols=1,
    )
    colours = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2"]
    for i, s in enumerate(p.scales):
        colour = colours[i % len(colours)]
        fig.add_traces(
            [
                go.Scatter(
                    x=s.betas,
                    y=s.p_large_theory,
                    mode="lines",
                    line={"color": colour},
                    name=f"scale {s.scale:g}",
                    legendgroup=f"s{i}",
                ),
                go.Scatter(
                    x=s.betas,
                    y=s.p_large,
                    mode="markers",
                    marker={"color": colour, "size": 6},
                    showlegend=False,
                    legendgroup=f"s{i}",
                ),
            ],
            rows=1,
            cols=2,
        )
    setup = p.setup
    fig.update_xaxes(title_text="propensity_scale", row=1, col=1)
    fig.update_yaxes(title_text="critical beta", rangemode="tozero", row=1, col=1)
    fig.update_xaxes(title_text="beta", row=1, col=2)
    fig.update_yaxes(title_text=f"P(outbreak > {100 * p.large_share:g} % of n)", row=1, col=2)
    fig.update_layout(
        title=f"4. Peer protection lowers the threshold: {setup.profile_mix}, trust "
        f"{setup.trust:g}, audit rate {setup.audit_rate:g} x sensitivity "
        f"{setup.audit_sensitivity:g}, {setup.topology} mean degree {setup.mean_degree:g}, "
        f"{p.copies} outbreaks x {p.n} systems",
        height=480,
        legend={"orientation": "h", "y": -0.22},
    )
    return fig


def build_figures(result: ValidationResult) -> list[go.Figure]:
    """The report's four figures, in order."""
    return [
        study_figure(result),
        threshold_figure(result),
        watts_figure(result),
        protection_figure(result),
    ]


VERDICT_COLOUR = {"yes": "#1a7f37", "yes*": "#9a6700", "NO": "#cf222e", "-": "#6e7781"}


def _table_html(rows: list[CheckRow]) -> str:
    cells: list[list[str] | str] = []
    family = None
    for r in rows:
        if r.family != family:
            family = r.family
            cells.append(FAMILY_TITLE[family])
        verdict = Markup('<b style="color:{}">{}</b>').format(
            VERDICT_COLOUR.get(r.verdict, "#000"), r.verdict
        )
        cells.append([r.check, r.expected, r.simulated, r.interval, r.n, verdict])
    headers = ("check", "expected", "simulated", "interval", "n", "agrees")
    return html_page.table(headers, cells) + html_page.note(CAPTION)


def report_html(result: ValidationResult, command: str = "ppsim validate") -> str:
    """A self-contained HTML page: summary, figures, then the full table."""
    mode = "full-size" if result.full else "quick"
    summary = "".join(f"<li>{escape(line)}</li>" for line in result.summary())
    return html_page.render(
        "ppsim validation report",
        [
            f"<ul>{summary}</ul>",
            *(html_page.figure(fig) for fig in build_figures(result)),
            html_page.section("All checks", _table_html(result.rows())),
        ],
        heading="Does it reproduce what is known?",
        subtitle=[
            Markup("{} run, seed {}, {:.0f} s. Made by <code>{}</code>.").format(
                mode, result.settings.seed, result.elapsed, command
            )
        ],
    )
