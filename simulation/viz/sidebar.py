"""The app's sidebar: the run's buttons and view options, then the model's settings.

The *Run* card stays at the top of the sidebar while the settings under it scroll, so the
buttons, the end-of-run notice and the "Changed: ... Press Reset to apply." cue are
always in view. Settings wait for Reset; the view options (play speed, which systems to
draw, every link) apply at once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import solara

from simulation.viz.cascades import VIEW_CHOICES
from simulation.viz.controls import AppModel
from simulation.viz.state import SPEED_CHOICES, AppState

VIEW_LABEL = "Network view"


@solara.component
def Sidebar(state: AppState) -> None:
    """Run controls, the view's options, and the model's settings (applied on Reset)."""
    playing, running = state.playing.value, state.running.value
    state.generation.value  # noqa: B018  (re-render after Reset: the applied values change)
    pending = state.pending
    changed = [name for name, value in pending.value.items() if state.applied.get(name) != value]
    with solara.Card("Run", classes=["ppsim-run-card"], style={"margin-bottom": "8px"}):
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
    with solara.Card("View", style={"margin-bottom": "8px"}):
        solara.Select(
            VIEW_LABEL,
            values=list(VIEW_CHOICES),
            value=state.view_choice.value,
            on_value=state.view_choice.set,
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
def EndOfRun(
    model: AppModel, on_continue: Callable[[], None], on_reset: Callable[[], None]
) -> None:
    """Says that the run is over, and offers to run further or start again (in the
    sidebar, under the run buttons, so the figures do not move); the two buttons stand
    one above the other, so neither is cut at the card's edge."""
    with solara.Column(classes=["ppsim-end-of-run"], gap="4px"):
        solara.Info(
            f"The run is over: {model.engine.cycles_run:,} of {model.limit:,} cycles done.",
            dense=True,
        )
        solara.Button(
            f"Continue for {model.config.steps:,} more cycles",
            on_click=on_continue,
            color="primary",
            outlined=True,
            small=True,
            block=True,
        )
        solara.Button("Start again", on_click=on_reset, outlined=True, small=True, block=True)
