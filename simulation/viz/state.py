"""One page's state: its model, how it is being run, and the actions of its buttons.

The page keeps its own play loop instead of Mesa's (whose threads re-rendering the page
from outside the event loop could replace it with a "Too many renders" traceback when
Pause was pressed): while playing, the network view in the browser asks for the next
frame once it has drawn the previous one (see ``plotly_view.vue``), and each request
runs as many cycles as the chosen speed calls for since the last one, within a time
budget. Every change of state happens in an ordinary event handler, one at a time, so
any sequence of Play, Pause, Step, Reset and control changes leaves a working page, and
Pause takes effect at the next request.
"""

from __future__ import annotations

import contextlib
import logging
import time
from typing import Any

import solara

from simulation.viz.cascades import VIEW_CHOICES, resolve_view
from simulation.viz.controls import AppModel, control_values, model_params
from simulation.viz.messages import in_sidebar_words

SPEED_CHOICES = (1, 2, 5, 10, 20, 50)  # cycles per second while playing
MAX_CYCLES_PER_FRAME = 50
FRAME_BUDGET_S = 0.25  # the longest a request may run cycles before the page answers
LOG = logging.getLogger("ppsim.viz")


def build_model(config: Any, values: dict[str, Any]) -> AppModel:
    """A model from the controls' values (labels as shown, the seed as typed). Settings
    the model cannot run are reported in the server's log too, in the sidebar's words."""
    model = AppModel(config, **values)
    if model.build_error:
        LOG.warning("settings that cannot be run: %s", in_sidebar_words(model.build_error))
    return model


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
        self.view_choice = solara.reactive(next(iter(VIEW_CHOICES)))
        # A request to zoom to a system's cascade: its key changes with every request.
        self.zoom = solara.reactive({"key": 0, "system": -1})
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

    def zoom_to(self, system: int) -> None:
        """Select ``system`` and zoom the network to its cascade tree."""
        with self.render_context:
            self.select(system)
            self.zoom.set({"key": self.zoom.value["key"] + 1, "system": int(system)})

    def view(self) -> str:
        """The network view drawn now: ``"cascades"`` or ``"all"``."""
        network = self.model.network
        n = network.n if network is not None else 0
        return resolve_view(VIEW_CHOICES[self.view_choice.value], n)
