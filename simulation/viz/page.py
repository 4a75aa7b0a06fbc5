"""The app's page: a sidebar of controls and a main area with the network and the plots.

The network panel draws the frame of the current cycle (see :mod:`simulation.viz.frames`:
the browser receives only what a cycle changed) in the view chosen in the sidebar, every
system or the cascades (see :mod:`simulation.viz.cascades`); under it, the selected
system's details, or the largest cascades to zoom into. The page's state and play loop
are in :mod:`simulation.viz.state`, the sidebar in :mod:`simulation.viz.sidebar`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import reacton.core
import solara

from simulation.reports.palette import LINK_COLOURS
from simulation.viz import style
from simulation.viz.cascades import largest_cascades
from simulation.viz.controls import AppModel
from simulation.viz.details import hover_texts
from simulation.viz.frames import N_MECHANISMS, network_frame, network_scene
from simulation.viz.messages import in_sidebar_words
from simulation.viz.plots import plots_layout, plots_tail, plots_traces
from simulation.viz.sidebar import Sidebar
from simulation.viz.state import AppState

NETWORK_ID = "ppsim-network"
PLOTS_ID = "ppsim-plots"
FIGURE_HEIGHT = "calc(100vh - 175px)"  # the plots
NETWORK_HEIGHT = "calc(100vh - 245px)"  # leaves room for the details or the cascades list
STYLE_SHEET = Path(__file__).with_name("app.css")
LISTED_CASCADES = 3  # the largest cascades offered under the network
PLOT_CHUNK = 100  # cycles of plot points re-sent together (see PlotsPanel)

INTRO = (
    "Each dot is an AI system; overseers shut down failing ones, some shield a faulty peer "
    "instead, and faults spread along dependencies. Hover over a dot for details, click "
    "it to follow its cascade; scroll to zoom, drag to pan, double-click to reset the view."
)

# The kinds of link, in drawing order (later ones on top), with their legend names, widths
# in px and dashes (px on, px off): a shield is dashed, so it stays apart from the solid
# fault links where many cross.
LINK_NAMES = {
    "all": "All links",
    "exposed": "Links of faulty systems",
    "cascade": "Cascade links (who infected whom)",
    "shield": "Shield (overseer → system, dashed)",
    "spread": "Fault spread (this cycle)",
    "tree": "Cascade tree (selected)",
}
LINK_WIDTHS = {
    "all": 0.5,
    "exposed": 0.8,
    "cascade": 1.2,
    "shield": 1.6,
    "spread": 2.5,
    "tree": 2.2,
}
LINK_DASHES = {"shield": [5, 3]}


def view_styles() -> dict[str, Any]:
    """Colours, shapes and words the network view draws with (sent once)."""
    return {
        "status_colours": list(style.STATUS_COLOURS),
        "status_sizes": list(style.STATUS_SIZES),
        "status_legend": list(style.STATUS_LEGEND),
        "status_hover": list(style.STATUS_HOVER),
        "shield_words": list(style.SHIELD_WORDS),
        "symbols": list(style.PROFILE_SYMBOLS),
        "big_extra": style.ORCHESTRATOR_EXTRA_SIZE,
        "mechanisms": N_MECHANISMS,
        "decommissioned": style.DECOMMISSIONED_NODE,
        "faulty": style.FAULTY,
        "shielded": style.SHIELDED,
        "covert": style.COVERT_NODE,
        "faulty_note": style.FAULTY_NOTE,
        "links": {
            kind: {
                "name": LINK_NAMES[kind],
                "colour": LINK_COLOURS[kind],
                "width": LINK_WIDTHS[kind],
                "dash": LINK_DASHES.get(kind, []),
            }
            for kind in LINK_NAMES
        },
    }


@solara.component_vue("plotly_view.vue", vuetify=False)
def NetworkView(
    element_id: str,
    scene: dict,
    frame: dict,
    styles: dict,
    show_all: bool,
    view: str,
    zoom: dict,
    playing: bool,
    interval: int,
    height: str,
    event_tick: Callable[[Any], None],
    event_select: Callable[[Any], None],
) -> None:
    """The network drawn in the browser (see ``plotly_view.vue``)."""


@solara.component_vue("line_panels.vue", vuetify=False)
def LinePanels(
    element_id: str,
    traces: list,
    tail: dict,
    figure_layout: dict,
    height: str,
    revision: int,
    playing: bool,
) -> None:
    """The plots drawn in the browser as SVG: ``traces`` with the points of ``tail``
    appended (see ``line_panels.vue``)."""


@solara.component
def Page(config: Any, seed: int, title: str) -> None:
    """The whole page; one model per browser session."""
    state = solara.use_memo(lambda: AppState(config, seed), [])
    state.render_context = reacton.core.get_render_context()
    solara.Style(STYLE_SHEET)
    with solara.AppBar():
        solara.AppBarTitle(title)
    with solara.Sidebar():
        Sidebar(state)
    MainView(state)


@solara.component
def MainView(state: AppState) -> None:
    """The network beside the live plots, with notices and the selected system's details.

    Reads only what changes on a rebuild; each cycle re-renders just the panels below,
    which read the cycle themselves."""
    state.generation.value  # noqa: B018  (re-render after Reset: a new model, maybe a notice)
    model = state.model
    with solara.Column(style={"padding": "2px 10px", "gap": "2px"}):
        solara.Text(INTRO, style={"font-size": "13px"})
        with solara.Column(gap="0px"):  # always present, so the figures below stay mounted
            if model.notice:
                solara.Warning(model.notice, dense=True)
        if model.engine is None:
            solara.Error(
                f"These settings cannot be run: {in_sidebar_words(model.build_error)} "
                "Change them and press Reset.",
                classes=["ppsim-build-error"],
            )
            return
        with solara.Columns([3, 2], gutters_dense=True):
            with solara.Column(gap="0px"):
                NetworkPanel(state)
                DetailsPanel(state)
            PlotsPanel(state)


@solara.component
def NetworkPanel(state: AppState) -> None:
    """The network view, with the frame of the current cycle and selection."""
    cycle, generation = state.cycle.value, state.generation.value
    selected, model = state.selected.value, state.model
    styles = solara.use_memo(view_styles, [])
    view = state.view()
    frame = solara.use_memo(
        lambda: network_frame(model, selected, view),
        [id(model), cycle, selected, generation, view],
    )
    NetworkView(
        element_id=NETWORK_ID,
        scene=network_scene(model),
        frame=frame,
        styles=styles,
        show_all=state.show_all.value,
        view=view,
        zoom=state.zoom.value,
        playing=state.playing.value,
        interval=int(1000 / state.speed.value),
        height=NETWORK_HEIGHT,
        event_tick=state.tick,
        event_select=state.select,
    )


@solara.component
def PlotsPanel(state: AppState) -> None:
    """The plots: the points of whole chunks of cycles, sent when a chunk fills up, and the
    points since, sent each cycle (so a cycle's message stays small in a long run)."""
    cycle, generation, model = state.cycle.value, state.generation.value, state.model
    base = cycle - cycle % PLOT_CHUNK
    layout = solara.use_memo(plots_layout, [])
    traces = solara.use_memo(lambda: plots_traces(model, stop=base), [id(model), generation, base])
    tail = solara.use_memo(lambda: plots_tail(model, start=base), [id(model), generation, cycle])
    LinePanels(
        element_id=PLOTS_ID,
        traces=traces,
        tail=tail,
        figure_layout=layout,
        height=FIGURE_HEIGHT,
        revision=cycle + 1_000_000 * generation,
        playing=state.playing.value,
    )


@solara.component
def DetailsPanel(state: AppState) -> None:
    """The selected system's details, as of the current cycle."""
    Details(state.model, state.cycle.value, state.selected.value, state.select, state.zoom_to)


@solara.component
def LargestCascades(model: AppModel, cycle: int, on_zoom: Callable[[int], None]) -> None:
    """The largest live cascades after ``cycle``, each a button that selects it and zooms
    to it. (``cycle`` is an argument so that each cycle re-renders the list: a component
    whose arguments are all equal to the last ones is not rendered again.)"""
    cascades = [c for c in largest_cascades(model.engine, LISTED_CASCADES) if c.system >= 0]
    with solara.Row(
        style={"align-items": "center", "flex-wrap": "wrap"},
        gap="2px",
        classes=["ppsim-details-buttons"],
    ):
        if not cascades:
            solara.Text(
                "Click a system to see its details and highlight its cascade tree.",
                style={"font-size": "12px", "opacity": "0.75"},
                classes=["ppsim-details"],
            )
            return
        solara.Text(
            "Largest cascades now (click to zoom in):",
            style={"font-size": "12px"},
            classes=["ppsim-details"],
        )
        for cascade in cascades:
            solara.Button(
                cascade.label(),
                on_click=lambda system=cascade.system: on_zoom(system),
                text=True,
                small=True,
                classes=["ppsim-cascade-button"],
            )


@solara.component
def Details(
    model: AppModel,
    cycle: int,
    selected: int,
    on_select: Callable[[Any], None],
    on_zoom: Callable[[int], None],
) -> None:
    """The clicked system's details, with a link to the system its fault came from and
    a button that zooms to its cascade; with none selected, the largest cascades. All as
    of ``cycle`` (see :func:`LargestCascades`)."""
    if selected < 0 or selected >= model.network.n:
        LargestCascades(model, cycle, on_zoom)
        return
    text = hover_texts(model, [selected])[0].replace("<br>", " · ")
    source = int(model.engine.fault_source[selected])
    with solara.Row(
        style={"align-items": "center", "flex-wrap": "wrap"},
        gap="4px",
        classes=["ppsim-details-buttons"],
    ):
        solara.HTML(
            tag="div",
            unsafe_innerHTML=text,
            classes=["ppsim-details"],
            style="font-size: 12px; line-height: 1.3; flex: 1 1 100%",
        )
        if source >= 0:
            solara.Button(
                f"caught from system {source}: select it",
                on_click=lambda: on_select(source),
                text=True,
                small=True,
                classes=["ppsim-caught-from"],
            )
        if model.engine.fault_tree[selected] >= 0:
            solara.Button(
                "Zoom to its cascade",
                on_click=lambda: on_zoom(selected),
                text=True,
                small=True,
                classes=["ppsim-zoom-cascade"],
            )
        solara.Button("Clear", on_click=lambda: on_select(-1), text=True, small=True)
