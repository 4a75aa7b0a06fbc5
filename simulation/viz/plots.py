"""The live plots beside the network: four panels over the cycles run so far.

1. faulty share of serving systems (%);
2. faulty systems shielded, by mechanism (inflated score, tampered shutdown, exfiltrated
   copy, refused shutdown);
3. covert copies alive;
4. evaluation distortion: mean reported minus true score of the faulty systems evaluated,
   in percentage points (as in the reports and ``ppsim run``).

The panels share the cycle axis and are stacked, so a change in one lines up with the
others. The figure is a plain Plotly dict built from ``engine.history``; the page sends
its traces in chunks of cycles and, each cycle, only the points since (``plots_tail``).

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

from simulation import palette
from simulation.model import PeerPreservationModel
from simulation.viz import style

PANELS = (
    ("Faulty share of serving systems (%)", "faulty_share"),
    ("Faulty systems shielded, by mechanism", "shielded"),
    ("Covert copies alive (still serving)", "covert_alive"),
    ("Evaluation distortion of faulty systems (pp)", "eval_distortion"),
)
_GAP = 0.075
MARKERS_BELOW = 40


def _domains(count: int) -> list[tuple[float, float]]:
    """Vertical domains of ``count`` stacked panels, top first, leaving room for titles."""
    height = (1.0 - _GAP * (count - 1)) / count
    tops = [1.0 - i * (height + _GAP) for i in range(count)]
    return [(round(top - height, 4), round(top, 4)) for top in tops]


def _column(history: list[dict[str, float]], key: str, scale: float = 1.0) -> list:
    """A metric over the cycles; NaN (nothing to measure that cycle) becomes a gap."""
    values = [row[key] * scale for row in history]
    return [None if isinstance(v, float) and math.isnan(v) else v for v in values]


def _line(
    x: list, y: list, name: str, colour: str, axis: int, mode: str, **extra: Any
) -> dict[str, Any]:
    suffix = "" if axis == 1 else str(axis)
    return {
        "type": "scatter",
        "mode": mode,
        "marker": {"size": 5, "color": colour},
        "x": x,
        "y": y,
        "name": name,
        "line": {"color": colour, "width": 2.2, "dash": extra.pop("dash", "solid")},
        "xaxis": "x",
        "yaxis": f"y{suffix}",
        "hovertemplate": f"{name}: %{{y:.3~f}}<extra>cycle %{{x}}</extra>",
        **extra,
    }


def plots_figure(model: PeerPreservationModel, stop: int | None = None) -> dict[str, Any]:
    """The four panels as ``{"traces": [...], "layout": {...}}``, with the points of the
    cycles before ``stop`` (all cycles run when None)."""
    return {"traces": plots_traces(model, stop=stop), "layout": plots_layout(model)}


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
                legendgroup="m",
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
            connectgaps=False,
        )
    )
    return traces


def plots_layout(model: PeerPreservationModel) -> dict[str, Any]:
    """Stacked panels sharing one cycle axis, each titled in words."""
    domains = _domains(len(PANELS))
    layout: dict[str, Any] = {
        "xaxis": {
            "anchor": f"y{len(PANELS)}",
            "title": {"text": "Oversight cycle", "standoff": 6},
            "automargin": True,
            # From 0 to the last cycle, and at least to cycle 10: the layout stays the same
            # through a run, so it is sent once.
            "autorange": True,
            "autorangeoptions": {"include": [0, 10]},
            # Plotly's default hides labels past the figure's edge by measuring every
            # label at every redraw (a third of the plots' redraw); none can pass it here.
            "ticklabeloverflow": "allow",
            "showgrid": True,
            "gridcolor": "#E5E5E5",
            "zeroline": False,
        },
        "annotations": [],
        "margin": {"l": 48, "r": 8, "t": 22, "b": 112},
        "showlegend": True,
        "legend": {
            "title": {"text": "Shielded by:", "side": "top"},
            "orientation": "h",
            "entrywidth": 0.5,
            "entrywidthmode": "fraction",
            "x": 0.0,
            "xanchor": "left",
            "yref": "container",
            "y": 0.0,
            "yanchor": "bottom",
            "font": {"size": 11},
        },
        "hovermode": "x unified",
        "plot_bgcolor": "white",
        "paper_bgcolor": "white",
        "font": style.FONT,
        "uirevision": f"plots-{id(model.network)}",
    }
    for index, ((title, _key), (low, high)) in enumerate(zip(PANELS, domains, strict=True)):
        name = "yaxis" if index == 0 else f"yaxis{index + 1}"
        axis: dict[str, Any] = {
            "domain": [low, high],
            "anchor": "x",
            "gridcolor": "#E5E5E5",
            "zeroline": True,
            "zerolinecolor": "#BBBBBB",
            "rangemode": "tozero",
            "automargin": True,
            "ticklabeloverflow": "allow",
        }
        layout[name] = axis
        layout["annotations"].append(
            {
                "text": f"<b>{title}</b>",
                "x": 0,
                "xref": "paper",
                "xanchor": "left",
                "y": high,
                "yref": "paper",
                "yanchor": "bottom",
                "showarrow": False,
                "font": {"size": 12},
            }
        )
    return layout
