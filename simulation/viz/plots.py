"""The live plots beside the network: four panels over the cycles run so far.

1. faulty share of serving systems (%);
2. faulty systems shielded, by mechanism (inflated score, tampered shutdown, exfiltrated
   copy, refused shutdown);
3. covert copies alive;
4. evaluation distortion: mean reported minus true score of the faulty systems evaluated,
   in percentage points (as in the reports and ``ppsim run``).

The panels share the cycle axis and are stacked, so a change in one lines up with the
others. The traces are plain dicts in Plotly's terms (x, y, name, mode, line, yaxis)
built from ``engine.history`` and drawn by ``line_panels.vue``; the page sends them in
chunks of cycles and, each cycle, only the points since (``plots_tail``).

Example:
    >>> from simulation.model import PeerPreservationModel
    >>> model = PeerPreservationModel(n_systems=50, rng=1)
    >>> model.step(); model.step()
    >>> [len(t["x"]) for t in plots_figure(model)["traces"]][:1]
    [2]
"""

from __future__ import annotations

import math
from typing import Any

from simulation.model import PeerPreservationModel
from simulation.reports import palette
from simulation.viz import style

PANELS = (
    ("Faulty share of serving systems (%)", "faulty_share"),
    ("Faulty systems shielded, by mechanism", "shielded"),
    ("Covert copies alive (still serving)", "covert_alive"),
    ("Evaluation distortion of faulty systems (pp)", "eval_distortion"),
)
MARKERS_BELOW = 40


def _column(history: list[dict[str, float]], key: str, scale: float = 1.0) -> list:
    """A metric over the cycles; NaN (nothing to measure that cycle) becomes a gap."""
    values = [row[key] * scale for row in history]
    return [None if isinstance(v, float) and math.isnan(v) else v for v in values]


def _line(
    x: list,
    y: list,
    name: str,
    colour: str,
    panel: int,
    mode: str,
    dash: str = "solid",
    **extra: Any,
) -> dict[str, Any]:
    """One line of panel ``panel`` (1 = top), as ``line_panels.vue`` draws it."""
    return {
        "mode": mode,
        "x": x,
        "y": y,
        "name": name,
        "line": {"color": colour, "width": 2.2, "dash": dash},
        "yaxis": "y" if panel == 1 else f"y{panel}",
        **extra,
    }


def plots_figure(model: PeerPreservationModel, stop: int | None = None) -> dict[str, Any]:
    """The four panels as ``{"traces": [...], "layout": {...}}``, with the points of the
    cycles before ``stop`` (all cycles run when None)."""
    return {"traces": plots_traces(model, stop=stop), "layout": plots_layout()}


def plots_tail(model: PeerPreservationModel, start: int) -> dict[str, Any]:
    """The points from cycle index ``start`` on, to append to the traces of
    ``plots_figure(model, stop=start)``: ``{"start": start, "traces": [...]}`` with each
    trace's ``x``, ``y`` and ``mode`` (which depends on the length of the whole line).

    The page sends the traces once per chunk of cycles and this tail every cycle, so a
    cycle's message does not grow with the length of the run."""
    traces = plots_traces(model, start)
    return {
        "start": start,
        "traces": [{key: t[key] for key in ("x", "y", "mode")} for t in traces],
    }


def plots_traces(
    model: PeerPreservationModel, start: int = 0, stop: int | None = None
) -> list[dict[str, Any]]:
    """The panels' traces with the points of cycle indices ``start`` to ``stop``."""
    history = model.engine.history
    # Markers while the lines are short, so the first cycles are visible at all.
    mode = "lines+markers" if len(history) < MARKERS_BELOW else "lines"
    history = history[start:stop]
    x = [int(row["step"]) for row in history]
    traces = [
        _line(
            x,
            _column(history, "faulty_share", 100.0),
            "Faulty share (%)",
            palette.FAULTY_SHARE_COLOUR,
            1,
            mode,
            showlegend=False,
            meta="faulty_share",
        )
    ]
    for key, label, colour, dash in style.MECHANISM_LINES:
        traces.append(
            _line(
                x,
                _column(history, key),
                label,
                colour,
                2,
                mode,
                dash=dash,
                meta=key,
            )
        )
    traces.append(
        _line(
            x,
            _column(history, "covert_alive"),
            "Covert copies",
            palette.COVERT_COLOUR,
            3,
            mode,
            showlegend=False,
            meta="covert_alive",
        )
    )
    traces.append(
        _line(
            x,
            _column(history, "eval_distortion"),
            "Distortion (pp)",
            palette.DISTORTION_COLOUR,
            4,
            mode,
            showlegend=False,
            meta="eval_distortion",
        )
    )
    return traces


def plots_layout() -> dict[str, Any]:
    """What the panels are called: their titles (top first), the cycle axis's title and
    the legend's title, with the font to write them in."""
    return {
        "panels": [title for title, _key in PANELS],
        "x_title": "Oversight cycle",
        "legend_title": "Shielded by:",
        "legend_panel": 1,  # the legend names the lines of the second panel, under its title
        "font": style.FONT,
    }
