"""The interactive app: watch faults spread while overseers shield their peers.

Start it with ``ppsim viz`` (which passes the initial configuration), or directly with
``solara run simulation/app.py`` (default configuration). The sidebar has Reset, Play
(▶, ❚❚ pauses) and Step, the play speed, a switch for drawing every link, and the model's
settings; the main area shows the network (coloured by status, shaped by profile, with
the links a fault travelled, the shield links and the selected cascade tree) beside live
plots of the faulty share, shielded systems by mechanism, covert copies and evaluation
distortion (see :mod:`simulation.viz.page`).

Settings changed in the sidebar take effect on Reset, which rebuilds the model (and its
network) with them; until then the sidebar says which settings wait for it.
"""

from __future__ import annotations

import logging

import solara
import solara.server.settings

from simulation.model import load_engine
from simulation.viz.components import serve_plotly_js
from simulation.viz.controls import settings_from_env
from simulation.viz.page import Page as AppPage

TITLE = "Peer-preservation in networks of AI systems"

serve_plotly_js()
# The app sends no usage statistics (``ppsim viz`` also keeps Solara from sending its own),
# and Solara's badge, which would cover the plots' axis titles, is not shown.
solara.server.settings.telemetry.mixpanel_enable = False
solara.server.settings.theme.show_banner = False
INITIAL_CONFIG, INITIAL_SEED = settings_from_env()
# The app's own warnings go to the server's output, which ``ppsim viz`` shows and logs.
_handler = logging.StreamHandler()
_handler.setFormatter(logging.Formatter("%(levelname)s ppsim viz: %(message)s"))
logging.getLogger("ppsim.viz").addHandler(_handler)
logging.getLogger("ppsim.viz").propagate = False


# The first cycle of a process loads the compiled engine from Numba's cache (about a
# second); loading it while the server starts keeps the page's first Step from waiting.
load_engine()


@solara.component
def Page() -> None:
    """The whole page (one model per browser session)."""
    AppPage(INITIAL_CONFIG, INITIAL_SEED, TITLE)
