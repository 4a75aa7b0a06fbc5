"""Solara components of the app's main area: a short guide, the network and the live plots.

The figures redraw when Mesa's ``update_counter`` ticks (after Step, during Play) or when the
model is rebuilt (Reset). Figures go to the browser as Plotly JSON through a small Vue
component (``plotly_figure.vue``); the network's edges are vector images kept in a
separate property, so a step that does not change them does not resend them.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import plotly
import solara
import solara.server.settings
from mesa.visualization.utils import update_counter

from simulation.viz.network_plot import FIGURE_HEIGHT, network_figure
from simulation.viz.plots import plots_figure

NETWORK_ID = "ppsim-network"
PLOTS_ID = "ppsim-plots"
PLOTLY_JS_DIR = Path(plotly.__file__).parent / "package_data"


def serve_plotly_js() -> None:
    """Let the server answer ``static/assets/plotly.min.js`` from the plotly package.

    The page thus loads the plotly.js that matches the installed plotly, from this
    machine, without a download.
    """
    extra = solara.server.settings.assets.extra_locations
    if str(PLOTLY_JS_DIR) not in extra:
        extra.append(str(PLOTLY_JS_DIR))


@solara.component_vue("plotly_figure.vue", vuetify=False)
def PlotlyFigure(
    element_id: str,
    traces: list,
    images: list,
    figure_layout: dict,
    height: int,
    revision: int,
) -> None:
    """A Plotly figure drawn in the browser (see ``plotly_figure.vue``)."""


INTRO = (
    "Each dot is an AI system. Overseers evaluate the systems they oversee and shut down "
    "failing ones; some shield a faulty peer instead, and faults spread along "
    "dependencies. Press Step or ▶ in the sidebar to watch it. Changed a setting under "
    "Model Parameters? Press Reset to build the new network. Hover over a dot for details; "
    "scroll to zoom, drag to pan, click a legend entry to hide it."
)


@solara.component
def MainView(model: solara.Reactive[Any]) -> None:
    """The main area: a short guide, then the network beside the live plots."""
    tick = update_counter.get()
    current = model.value
    started = time.perf_counter()
    with solara.Column(style={"padding": "4px 12px", "gap": "4px"}):
        solara.Text(INTRO, style={"font-size": "14px"})
        if getattr(current, "notice", None):
            solara.Warning(current.notice)
        if getattr(current, "build_error", None):
            solara.Error(
                f"These settings could not be built: {current.build_error}. "
                "Change them and press Reset."
            )
            return
        network = network_figure(current)
        plots = plots_figure(current)
        elapsed = (time.perf_counter() - started) * 1000
        with solara.Columns([3, 2], gutters_dense=True):
            PlotlyFigure(
                element_id=NETWORK_ID,
                traces=network["traces"],
                images=network["images"],
                figure_layout=network["layout"],
                height=FIGURE_HEIGHT,
                revision=tick,
            )
            PlotlyFigure(
                element_id=PLOTS_ID,
                traces=plots["traces"],
                images=[],
                figure_layout=plots["layout"],
                height=FIGURE_HEIGHT,
                revision=tick,
            )
        solara.Text(
            f"Figures built in {elapsed:.0f} ms on the server.",
            style={"font-size": "11px", "opacity": "0.7"},
            classes=["ppsim-build-time"],
        )
