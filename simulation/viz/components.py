"""Where the page's plotly.js comes from: the copy inside the installed plotly package.

The network view and the plots load ``static/assets/plotly.min.js`` from the app's own
server, so the page needs nothing from outside this machine and always runs the
plotly.js that matches the installed plotly.
"""

from __future__ import annotations

import solara.server.settings

from simulation.reports.html_page import PLOTLY_DATA


def serve_plotly_js() -> None:
    """Let the server answer ``static/assets/plotly.min.js`` from the plotly package."""
    extra = solara.server.settings.assets.extra_locations
    if str(PLOTLY_DATA) not in extra:
        extra.append(str(PLOTLY_DATA))
