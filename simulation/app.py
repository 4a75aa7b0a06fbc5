"""The interactive app: watch faults spread while overseers shield their peers.

Start it with ``ppsim viz`` (which passes the initial configuration), or directly with
``solara run simulation/app.py`` (default configuration). The page is Mesa's SolaraViz:
the sidebar has Step, Play (▶) and Reset, and the model's settings; the main area shows
the network (coloured by status, shaped by profile) beside live plots of the faulty
share, shielded systems by mechanism, covert copies and evaluation distortion.

Settings changed in the sidebar take effect on Reset, which rebuilds the model (and
its network) with them.
"""

from __future__ import annotations

import solara
import solara.server.settings
from mesa.visualization import SolaraViz

from simulation.viz.components import MainView, serve_plotly_js
from simulation.viz.controls import AppModel, model_params, settings_from_env

TITLE = "Peer-preservation in networks of AI systems"

serve_plotly_js()
# The app sends no usage statistics (``ppsim viz`` also keeps Solara from sending its own).
solara.server.settings.telemetry.mixpanel_enable = False
INITIAL_CONFIG, INITIAL_SEED = settings_from_env()
MODEL_PARAMS = model_params(INITIAL_CONFIG, INITIAL_SEED)


def build_initial_model() -> AppModel:
    """The model each new page starts with (one per browser session)."""
    return AppModel(INITIAL_CONFIG, seed=INITIAL_SEED)


@solara.component
def Page() -> None:
    """The whole page: SolaraViz's sidebar and controls, and the main view."""
    initial = solara.use_memo(build_initial_model, [])
    model = solara.use_reactive(initial)
    SolaraViz(model, components=[], model_params=MODEL_PARAMS, name=TITLE)
    MainView(model)
