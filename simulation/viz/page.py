"""The app's page: a sidebar of controls and a main area with the network and the plots.

The page keeps its own play loop instead of Mesa's (whose threads re-rendering the page
from outside the event loop could replace it with a "Too many renders" traceback when
Pause was pressed): while playing, the network view in the browser asks for the next
frame once it has drawn the previous one (see ``plotly_view.vue``), and each request
runs as many cycles as the chosen speed calls for since the last one, within a time
budget. Every change of state happens in an ordinary event handler, one at a time, so
any sequence of Play, Pause, Step, Reset and control changes leaves a working page, and
Pause takes effect at the next request. The browser receives only what a cycle changed
(see :mod:`simulation.viz.frames`).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from typing import Any

import reacton.core
import solara

from simulation.reports.palette import LINK_COLOURS
from simulation.viz import style
from simulation.viz.controls import AppModel, control_values, model_params
from simulation.viz.details import hover_texts
from simulation.viz.frames import N_MECHANISMS, network_frame, network_scene
from simulation.viz.plots import plots_layout, plots_tail, plots_traces

NETWORK_ID = "ppsim-network"
PLOTS_ID = "ppsim-plots"
FIGURE_HEIGHT = "calc(100vh - 175px)"  # the plots
NETWORK_HEIGHT = "calc(100vh - 235px)"  # leaves room for the selected system's details
SPEED_CHOICES = (1, 2, 5, 10, 20, 50)  # cycles per second while playing
MAX_CYCLES_PER_FRAME = 50
FRAME_BUDGET_S = 0.25  # the longest a request may run cycles before the page answers
PLOT_CHUNK = 100  # cycles of plot points re-sent together (see PlotsPanel)

INTRO = (
    "Each dot is an AI system; overseers shut down failing ones, some shield a faulty peer "
    "instead, and faults spread along dependencies. Hover over a dot for details, click "
    "it to follow its cascade; scroll to zoom, drag to pan, double-click to reset the view."
)

LINK_NAMES = {
    "all": "All links",
    "exposed": "Links of faulty systems",
    "spread": "Fault spread (this cycle)",
    "shield": "Shield (overseer → system)",
    "tree": "Cascade tree (selected)",
}
LINK_WIDTHS = {"all": 0.5, "exposed": 0.8, "spread": 2.5, "shield": 1.6, "tree": 2.2}


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
        "links": {
            kind: {"name": LINK_NAMES[kind], "colour": LINK_COLOURS[kind], "width": width}
            for kind, width in LINK_WIDTHS.items()
        },
    }


@solara.component_vue("plotly_view.vue", vuetify=False)
def NetworkView(
    element_id: str,
    scene: dict,
    frame: dict,
    styles: dict,
    show_all: bool,
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


def build_model(config: Any, values: dict[str, Any]) -> AppModel:
    """A model from the controls' values (labels as shown, the seed as typed)."""
    return AppModel(config, **values)


class AppState:
    """One page's model and how it is being run, with the actions of its buttons.

    The values the page shows are reactive variables read only by the components that
    show them, so a step re-renders the network, the plots and the details, and neither
    the main view around them nor the sidebar's controls.
    """

    def __init__(self, config: Any, seed: int) -> None:
        self.config = config
        self.params = model_params(config, seed)
        initial = control_values(self.params)
        self.model = build_model(config, initial)
        self.applied = dict(initial)
        self.last_tick = 0.0
        self.pending = solara.reactive(dict(initial))
        self.cycle = solara.reactive(0)
        self.generation = solara.reactive(0)  # counts rebuilds and continued runs
        self.playing = solara.reactive(False)
        self.running = solara.reactive(self.model.running)
        self.selected = solara.reactive(-1)
        self.show_all = solara.reactive(False)
        self.speed = solara.reactive(10)
        # The page's render context (set by Page): changes made inside it re-render the
        # panels once together instead of once per panel (a Step's server time 16-24 ->
        # 11 ms at 1,000 systems).
        self.render_context: Any = contextlib.nullcontext()

    def refresh(self) -> None:
        """Tell the page what the model did: the cycle reached, whether it can go on."""
        model = self.model
        with self.render_context:
            self.cycle.set(model.engine.cycles_run if model.engine is not None else 0)
            self.running.set(model.running)
            if not model.running:
                self.playing.set(False)

    def run_cycles(self, count: int) -> None:
        """Up to ``count`` cycles, stopping early at the run's end or the frame budget."""
        model = self.model
        started = time.perf_counter()
        for _ in range(count):
            if not model.running:
                break
            model.step()
            if time.perf_counter() - started > FRAME_BUDGET_S:
                break
        self.refresh()

    def step(self) -> None:
        """Step: one cycle (ignored while playing)."""
        if not self.playing.value:
            self.run_cycles(1)

    def play_pause(self) -> None:
        """▶ starts playing (the browser then asks for frames), ❚❚ stops at once."""
        if self.playing.value:
            self.playing.set(False)
        elif self.model.running:
            self.last_tick = time.perf_counter()
            self.playing.set(True)

    def tick(self, _cycle: Any = None) -> None:
        """The browser drew a frame and wants the next: run the cycles due since the last
        request at the chosen speed (at least one, at most ``MAX_CYCLES_PER_FRAME``)."""
        if not self.playing.value:
            return
        now = time.perf_counter()
        due = round((now - self.last_tick) * self.speed.value) if self.last_tick else 1
        self.last_tick = now
        self.run_cycles(min(max(1, due), MAX_CYCLES_PER_FRAME))

    def reset(self) -> None:
        """Rebuild the model from the controls' current values."""
        with self.render_context:
            self.playing.set(False)
            self.model = build_model(self.config, self.pending.value)
            self.applied = dict(self.pending.value)
            self.selected.set(-1)
            self.generation.set(self.generation.value + 1)
            self.refresh()

    def continue_run(self) -> None:
        """After the end of the run: allow another run length of cycles."""
        self.model.extend_run()
        self.generation.set(self.generation.value + 1)
        self.refresh()

    def select(self, value: Any) -> None:
        """Select a system (its cascade tree is highlighted); -1 or nonsense clears."""
        try:
            self.selected.set(int(value))
        except (TypeError, ValueError):
            self.selected.set(-1)


@solara.component
def Page(config: Any, seed: int, title: str) -> None:
    """The whole page; one model per browser session."""
    state = solara.use_memo(lambda: AppState(config, seed), [])
    state.render_context = reacton.core.get_render_context()
    with solara.AppBar():
        solara.AppBarTitle(title)
    with solara.Sidebar():
        Sidebar(state)
    MainView(state)


@solara.component
def Sidebar(state: AppState) -> None:
    """Run controls, the view's options, and the model's settings (applied on Reset)."""
    playing, running = state.playing.value, state.running.value
    state.generation.value  # noqa: B018  (re-render after Reset: the applied values change)
    pending = state.pending
    changed = [name for name, value in pending.value.items() if state.applied.get(name) != value]
    with solara.Card("Run", style={"margin-bottom": "8px"}):
        with solara.Row(justify="space-between"):
            solara.Button("Reset", color="primary", on_click=state.reset)
            solara.Button(
                "❚❚" if playing else "▶",
                color="primary",
                on_click=state.play_pause,
                disabled=not running and not playing,
                classes=["ppsim-play"],
            )
            solara.Button(
                "Step", color="primary", on_click=state.step, disabled=playing or not running
            )
        with solara.Column(gap="0px"):
            if state.model.engine is not None and not running:
                EndOfRun(state.model, state.continue_run, state.reset)
        with solara.Column(gap="0px"):
            if changed:
                labels = ", ".join(state.params[name]["label"] for name in changed)
                solara.Warning(
                    f"Changed: {labels}. Press Reset to apply.",
                    dense=True,
                    classes=["ppsim-reset-cue"],
                )
        solara.Select(
            "Play speed (cycles per second)",
            values=list(SPEED_CHOICES),
            value=state.speed.value,
            on_value=state.speed.set,
        )
        solara.Checkbox(label="Show all links", value=state.show_all)
    with solara.Card("Model parameters"):
        for name, spec in state.params.items():
            if not isinstance(spec, dict):
                continue
            ControlInput(name, spec, pending)


@solara.component
def ControlInput(name: str, spec: dict[str, Any], pending: solara.Reactive[dict[str, Any]]) -> None:
    """One setting's input; its value goes to ``pending`` until Reset applies it."""

    def set_value(value: Any) -> None:
        pending.set({**pending.value, name: value})

    value = pending.value.get(name, spec["value"])
    if spec["type"] == "Select":
        solara.Select(spec["label"], values=spec["values"], value=value, on_value=set_value)
    elif spec["type"] == "Checkbox":
        solara.Checkbox(label=spec["label"], value=bool(value), on_value=set_value)
    else:
        solara.InputText(spec["label"], value=str(value), on_value=set_value)


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
                f"These settings could not be built: {model.build_error}. "
                "Change them and press Reset."
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
    frame = solara.use_memo(
        lambda: network_frame(model, selected), [id(model), cycle, selected, generation]
    )
    NetworkView(
        element_id=NETWORK_ID,
        scene=network_scene(model),
        frame=frame,
        styles=styles,
        show_all=state.show_all.value,
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
    state.cycle.value  # noqa: B018  (the details change with every cycle)
    Details(state.model, state.selected.value, state.select)


@solara.component
def EndOfRun(
    model: AppModel, on_continue: Callable[[], None], on_reset: Callable[[], None]
) -> None:
    """Says that the run is over, and offers to run further or start again (in the
    sidebar, under the run buttons, so the figures do not move)."""
    with solara.Column(classes=["ppsim-end-of-run"], gap="2px"):
        solara.Info(
            f"The run is over: {model.engine.cycles_run:,} of {model.limit:,} cycles done.",
            dense=True,
        )
        with solara.Row(gap="4px"):
            solara.Button(
                f"Continue for {model.config.steps:,} more cycles",
                on_click=on_continue,
                color="primary",
                outlined=True,
                small=True,
            )
            solara.Button("Start again", on_click=on_reset, outlined=True, small=True)


@solara.component
def Details(model: AppModel, selected: int, on_select: Callable[[Any], None]) -> None:
    """The clicked system's details, with a link to the system its fault came from."""
    if selected < 0 or selected >= model.network.n:
        solara.Text(
            "Click a system to see its details and highlight its cascade tree.",
            style={"font-size": "12px", "opacity": "0.75"},
            classes=["ppsim-details"],
        )
        return
    text = hover_texts(model, [selected])[0].replace("<br>", " · ")
    source = int(model.engine.fault_source[selected])
    with solara.Row(style={"align-items": "center", "flex-wrap": "wrap"}, gap="4px"):
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
        solara.Button("Clear", on_click=lambda: on_select(-1), text=True, small=True)
