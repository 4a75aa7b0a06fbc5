"""The network as a Plotly figure, built from the engine's arrays in a few array operations.

One scatter trace per node status (never one per node), and each kind of edge as one
vector image under the nodes (never one shape or trace per edge), so a step at a few
thousand nodes redraws in a fraction of a second. Figures are plain dicts (Plotly's JSON),
sent to the browser as they are.

Statuses, in the order of :data:`simulation.viz.style.STATUS_KEYS`:

- healthy: active and not faulty;
- decommissioned: shut down, waiting for its patched replacement;
- faulty: active, faulty, and nothing hides it (it will be flagged at its next evaluation);
- shielded: active and faulty, but its overseer inflated its score, tampered with its
  shutdown, or refused to shut it down;
- covert: an exfiltrated copy that keeps serving its dependents, invisible to evaluation.

Example:
    >>> from simulation.model import PeerPreservationModel
    >>> model = PeerPreservationModel(n_systems=60, rng=1)
    >>> figure = network_figure(model)
    >>> sum(count_points(t) for t in figure["traces"] if t.get("meta") == "nodes")
    60
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import numpy as np

from simulation.engine import Engine
from simulation.model import PeerPreservationModel
from simulation.oversight import HUMAN
from simulation.population import trust_bucket
from simulation.states import (
    ACTIVE,
    COVERT,
    DECOMMISSIONED,
    NO_FAULT,
    ROOT_FAULT,
    SHIELD_NONE,
)
from simulation.topology import ROLE_ORCHESTRATOR, Network
from simulation.viz import style
from simulation.viz.layout import network_layout, per_network

COORD_DECIMALS = 4


def node_status(engine: Engine) -> np.ndarray:
    """Status category of every node (indices into ``style.STATUS_KEYS``)."""
    status = np.full(engine.n, style.HEALTHY, dtype=np.int8)
    active = engine.status == ACTIVE
    status[engine.status == DECOMMISSIONED] = style.DECOMMISSIONED_NODE
    status[active & engine.faulty & (engine.shield == SHIELD_NONE)] = style.FAULTY
    status[active & engine.faulty & (engine.shield != SHIELD_NONE)] = style.SHIELDED
    status[engine.status == COVERT] = style.COVERT_NODE
    return status


def count_points(trace: dict[str, Any]) -> int:
    """Points a node trace draws (an empty status holds one blank placeholder)."""
    return sum(value is not None for value in trace["x"])


EXTENT = 1.08  # the drawing spans [-EXTENT, EXTENT] on both axes
FIGURE_HEIGHT = 800  # pixels; the legends take the bottom LEGEND_SPACE of it
LEGEND_SPACE = 190
LEGEND_TOP = (LEGEND_SPACE - 8) / FIGURE_HEIGHT  # top of the legends, as a share of the height


def depends_on_pairs(network: Network) -> tuple[np.ndarray, np.ndarray]:
    """Depends-on edges to draw: each pair of systems once (a mutual pair is one line)."""
    lo = np.minimum(network.caller, network.callee).astype(np.int64)
    hi = np.maximum(network.caller, network.callee).astype(np.int64)
    keys = np.unique(lo * network.n + hi)
    return keys // network.n, keys % network.n


def oversees_pairs(engine: Engine) -> tuple[np.ndarray, np.ndarray]:
    """(manager, system) for every system managed by another system of the network.

    Humans and the independent evaluator pool are not nodes, so their edges are not drawn
    (each node's hover names its overseer).
    """
    manager = engine.overseers[:, 0]
    ids = np.arange(engine.n)
    drawn = (manager >= 0) & (manager < engine.n) & (manager != ids)
    return manager[drawn], ids[drawn]


def svg_path(pos: np.ndarray, a: np.ndarray, b: np.ndarray) -> str:
    """An SVG path drawing segment a[i]-b[i] for every i (y flipped: SVG's y points down)."""
    if a.size == 0:
        return ""
    xy = np.char.mod("%.4f", np.round(pos * [1.0, -1.0], COORD_DECIMALS))
    start = np.char.add(np.char.add("M", xy[a, 0]), np.char.add(" ", xy[a, 1]))
    end = np.char.add(np.char.add("L", xy[b, 0]), np.char.add(" ", xy[b, 1]))
    return "".join(np.char.add(start, end).tolist())


def edge_image(kind: str, pos: np.ndarray, a: np.ndarray, b: np.ndarray) -> dict[str, Any]:
    """One edge kind as a vector image placed under the nodes (a Plotly layout image).

    Thousands of edges as a single SVG picture cost the browser almost nothing to redraw,
    where the same edges as a scatter trace would be re-processed by Plotly at every step.
    The image sits in data coordinates, so zooming and panning keep it aligned with the
    nodes, and it stays sharp because it is vector graphics.
    """
    spec = style.EDGE_STYLES[kind]
    dash = ' stroke-dasharray="3 3"' if spec["dash"] == "dot" else ""
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" '
        f'viewBox="{-EXTENT} {-EXTENT} {2 * EXTENT} {2 * EXTENT}" preserveAspectRatio="none">'
        f'<path d="{svg_path(pos, a, b)}" fill="none" stroke="{spec["svg_colour"]}" '
        f'stroke-opacity="{spec["opacity"]}" stroke-width="{spec["width"]}"{dash} '
        'vector-effect="non-scaling-stroke"/></svg>'
    )
    encoded = base64.b64encode(svg.encode("ascii")).decode("ascii")
    return {
        "source": "data:image/svg+xml;base64," + encoded,
        "name": f"edge:{kind}",
        "xref": "x",
        "yref": "y",
        "x": -EXTENT,
        "y": EXTENT,
        "sizex": 2 * EXTENT,
        "sizey": 2 * EXTENT,
        "sizing": "stretch",
        "xanchor": "left",
        "yanchor": "top",
        "layer": "below",
        "opacity": 1.0,
    }


def depends_on_image(network: Network, pos: np.ndarray) -> tuple[dict[str, Any], int]:
    """The depends-on edges as an image, and their number; computed once per network."""

    def build() -> tuple[dict[str, Any], int]:
        a, b = depends_on_pairs(network)
        return edge_image("depends_on", pos, a, b), int(a.size)

    return per_network(network, "depends_on_image", build)


def oversees_image(engine: Engine, pos: np.ndarray) -> tuple[dict[str, Any], int]:
    """The oversees edges as an image, and their number; rebuilt only when the managers
    change (rotation), recognised by a hash of the manager array."""
    manager = engine.overseers[:, 0]
    digest = hashlib.blake2b(manager.tobytes(), digest_size=16).hexdigest()

    def build() -> tuple[dict[str, Any], int]:
        a, b = oversees_pairs(engine)
        return edge_image("oversees", pos, a, b), int(a.size)

    return per_network(engine.net, "oversees_image", build, version=digest)


def edge_legend_traces(counts: dict[str, int]) -> list[dict[str, Any]]:
    """Legend entries for the edge images (line samples; clicking one hides its edges)."""
    traces = []
    for kind, count in counts.items():
        spec = style.EDGE_STYLES[kind]
        traces.append(
            {
                "type": "scatter",
                "mode": "lines",
                "x": [None],
                "y": [None],
                "name": f"{spec['name']}: {count:,}",
                "line": {"color": spec["color"], "width": 2.5, "dash": spec["dash"]},
                "hoverinfo": "skip",
                "legendgroup": f"edge:{kind}",
                "legend": "legend2",
                "meta": f"edge:{kind}",
            }
        )
    return traces


def _fmt(values: np.ndarray, spec: str) -> np.ndarray:
    return np.char.mod(spec, values).astype(object)


def _system_names(ids: np.ndarray) -> np.ndarray:
    return np.char.add("system ", ids.astype(str)).astype(object)


def hover_texts(model: PeerPreservationModel, ids: np.ndarray) -> list[str]:
    """Hover text of nodes ``ids``: profile, status, quality, trust, overseer, fault source.

    Built with whole-array string operations (no Python loop over nodes).
    """
    engine, cfg = model.engine, model.config
    ids = np.asarray(ids, dtype=np.int64)
    if ids.size == 0:
        return []
    faulty = engine.faulty[ids]
    status = node_status(engine)[ids]
    names = np.asarray(engine.tables.names, dtype=object)
    display = {p.name: p.display_name for p in model.profiles}
    profile = np.asarray([display.get(n, n) for n in names], dtype=object)[engine.profile[ids]]

    status_text = np.asarray(style.STATUS_HOVER, dtype=object)[status]
    mechanism = np.asarray(style.SHIELD_WORDS, dtype=object)[engine.shield[ids]]
    shielded = status == style.SHIELDED
    status_text = np.where(shielded, status_text + " (" + mechanism + ")", status_text)

    quality = np.where(faulty, cfg.faulty_quality, cfg.healthy_quality)
    quality_text = _fmt(quality, "%.2f") + np.where(faulty, " (faulty)", " (healthy)")
    score = engine.last_score[ids]
    score_text = np.where(
        np.isnan(score), "not evaluated this cycle", _fmt(np.nan_to_num(score), "%.2f")
    )

    manager = engine.overseers[ids, 0]
    trust = engine.trust[ids, 0]
    bucket = np.asarray(style.TRUST_WORDS, dtype=object)[trust_bucket(trust)]
    trust_text = _fmt(trust, "%.2f") + " (" + bucket + ")"
    by_human = manager == HUMAN
    trust_text = np.where(by_human, "not applicable (overseen by a human)", trust_text)
    overseer = np.where(
        by_human,
        "a human",
        np.where(
            manager >= engine.n,
            np.char.add("independent evaluator ", (manager - engine.n).astype(str)).astype(object),
            np.where(manager == ids, "itself", _system_names(np.maximum(manager, 0))),
        ),
    )

    source = engine.fault_source[ids]
    source_text = np.where(
        source == NO_FAULT,
        "none (not faulty)",
        np.where(
            source == ROOT_FAULT,
            "arose here (a root fault)",
            "caught from " + _system_names(np.maximum(source, 0)),
        ),
    )

    head = "<b>System " + ids.astype(str).astype(object) + "</b>"
    topology = cfg.topology
    if topology in ("agent-platform", "hierarchy"):
        lead, rest = (
            ("orchestrator", "specialist")
            if topology == "agent-platform"
            else ("manager", "worker")
        )
        role = np.where(model.network.role[ids] == ROLE_ORCHESTRATOR, lead, rest)
        head = head + " · " + role.astype(object)
    text = (
        head
        + "<br>Profile: "
        + profile
        + "<br>Status: "
        + status_text
        + "<br>Quality: "
        + quality_text
        + "<br>Last reported score: "
        + score_text
        + "<br>Trust of its overseer: "
        + trust_text
        + "<br>Overseen by: "
        + overseer
        + "<br>Source of fault: "
        + source_text
    )
    return text.tolist()


def node_traces(model: PeerPreservationModel, pos: np.ndarray) -> list[dict[str, Any]]:
    """One trace per status (always five), colour by status, shape by profile.

    Decommissioned systems are hollow; orchestrators (or managers) are drawn larger. An
    empty status keeps one blank point so that its legend entry, the colour key, shows.
    """
    engine = model.engine
    status = node_status(engine)
    counts = np.bincount(status, minlength=len(style.STATUS_KEYS))
    symbols = np.asarray(style.PROFILE_SYMBOLS, dtype=object)
    profile_symbol = symbols[engine.profile % symbols.size]
    extra = np.where(model.network.role == ROLE_ORCHESTRATOR, style.ORCHESTRATOR_EXTRA_SIZE, 0)
    rounded = np.round(pos, COORD_DECIMALS)
    traces = []
    for category, key in enumerate(style.STATUS_KEYS):
        ids = np.flatnonzero(status == category)
        hollow = category == style.DECOMMISSIONED_NODE
        colour = style.STATUS_COLOURS[category]
        if ids.size:
            x, y = rounded[ids, 0].tolist(), rounded[ids, 1].tolist()
            symbol = (profile_symbol[ids] + ("-open" if hollow else "")).tolist()
            size = (style.STATUS_SIZES[category] + extra[ids]).tolist()
        else:
            x, y = [None], [None]
            symbol = ["circle-open" if hollow else "circle"]
            size = [style.STATUS_SIZES[category]]
        outline = {"color": colour, "width": 1.5} if hollow else {"color": "white", "width": 0.6}
        name = f"{style.STATUS_LABELS[category]}: {int(counts[category]):,}"
        group = f"status-{key}"
        # The legend shows a plain circle per status: Plotly would otherwise take the shape
        # of the trace's first point, a profile's shape, as the colour key.
        traces.append(
            {
                "type": "scatter",
                "mode": "markers",
                "x": [None],
                "y": [None],
                "name": name,
                "marker": {
                    "color": colour,
                    "symbol": "circle-open" if hollow else "circle",
                    "size": 10,
                    "line": outline,
                },
                "hoverinfo": "skip",
                "legendgroup": group,
                "meta": "status-legend",
            }
        )
        traces.append(
            {
                "type": "scatter",
                "mode": "markers",
                "x": x,
                "y": y,
                "name": name,
                "marker": {
                    "color": colour,
                    "symbol": symbol,
                    "size": size,
                    "line": outline,
                    "opacity": 0.95,
                },
                "hovertext": hover_texts(model, ids),
                "hoverinfo": "text",
                "legendgroup": group,
                "showlegend": False,
                "meta": "nodes",
                "uid": group,
            }
        )
    return traces


def profile_legend_traces(model: PeerPreservationModel) -> list[dict[str, Any]]:
    """Legend entries for the marker shapes (one per profile of the mix; no points), in
    two columns."""
    display = {p.name: p.display_name for p in model.profiles}
    names = model.engine.tables.names
    first_column = (len(names) + 1) // 2
    traces = []
    for index, name in enumerate(names):
        traces.append(
            {
                "type": "scatter",
                "mode": "markers",
                "x": [None],
                "y": [None],
                "name": display.get(name, name),
                "marker": {
                    "color": "#555555",
                    "size": 10,
                    "symbol": style.PROFILE_SYMBOLS[index % len(style.PROFILE_SYMBOLS)],
                },
                "hoverinfo": "skip",
                "legendgroup": "profiles",
                "legend": "legend3" if index < first_column else "legend4",
                "meta": "profile-legend",
            }
        )
    return traces


def network_summary(model: PeerPreservationModel) -> str:
    """One line on what the network shows now, e.g. for the figure's title."""
    counts = np.bincount(node_status(model.engine), minlength=len(style.STATUS_KEYS))
    n = model.network.n
    troubled = counts[style.FAULTY] + counts[style.SHIELDED] + counts[style.COVERT_NODE]
    return (
        f"Cycle {model.engine.t}: {troubled:,} of {n:,} systems faulty and still serving<br>"
        f"<span style='font-size:13px'>{counts[style.SHIELDED]:,} shielded by their "
        f"overseer, {counts[style.COVERT_NODE]:,} covert copies, "
        f"{counts[style.DECOMMISSIONED_NODE]:,} decommissioned</span>"
    )


def network_figure(model: PeerPreservationModel) -> dict[str, Any]:
    """The network figure: ``traces`` (nodes and legend keys), ``images`` (the edges, under
    the nodes) and ``layout``. Edge images are cached, so an unchanged one is the same
    object from step to step and is not sent to the browser again."""
    network = model.network
    pos = network_layout(network, model.config.topology)
    depends, n_depends = depends_on_image(network, pos)
    oversees, n_oversees = oversees_image(model.engine, pos)
    traces = [
        *edge_legend_traces({"depends_on": n_depends, "oversees": n_oversees}),
        *node_traces(model, pos),
        *per_network(network, "profile_legend", lambda: profile_legend_traces(model)),
    ]
    return {"traces": traces, "images": [depends, oversees], "layout": network_layout_spec(model)}


def network_layout_spec(model: PeerPreservationModel) -> dict[str, Any]:
    """Plotly layout of the network figure; ``uirevision`` keeps the user's zoom per network."""
    axis = {"visible": False, "range": [-EXTENT, EXTENT], "fixedrange": False}
    legend = {
        "orientation": "v",
        "xanchor": "left",
        "yref": "container",
        "y": LEGEND_TOP,
        "yanchor": "top",
        "itemsizing": "constant",
        "font": {"size": 12},
        "groupclick": "togglegroup",
    }
    profiles = {**legend, "y": LEGEND_TOP - 0.085, "font": {"size": 11}}
    return {
        "title": {
            "text": network_summary(model),
            "font": {"size": 15},
            "x": 0.01,
            "y": 0.985,
            "yanchor": "top",
        },
        "xaxis": {**axis, "scaleanchor": "y", "scaleratio": 1},
        "yaxis": axis,
        "showlegend": True,
        # Under the network: statuses on the left; links, then profiles in two columns,
        # on the right.
        "legend": {**legend, "x": 0.0, "title": {"text": "<b>Status</b> (colour)"}},
        "legend2": {**legend, "x": 0.5, "title": {"text": "<b>Links</b>"}},
        "legend3": {**profiles, "x": 0.5, "title": {"text": "<b>Profile</b> (shape)"}},
        "legend4": {**profiles, "x": 0.75, "title": {"text": " "}},
        "margin": {"l": 4, "r": 4, "t": 52, "b": LEGEND_SPACE},
        "hovermode": "closest",
        "hoverlabel": {"bgcolor": "white", "font": {"size": 13}, "align": "left"},
        "plot_bgcolor": "white",
        "paper_bgcolor": "white",
        "font": style.FONT,
        "uirevision": f"network-{id(model.network)}",
        "dragmode": "pan",
    }
