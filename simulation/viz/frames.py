"""What the browser needs to draw the network: a scene once per network, a frame per cycle.

The browser keeps the scene (positions, shapes, roles, every depends-on link) and each
cycle receives only a frame: one character per system for its status and shielding
mechanism, and the few links that carry meaning now (the faulty systems' dependencies,
the links a fault travelled along this cycle, the shield links from each overseer to
the faulty system it protects, every link the faults of the live cascades travelled,
and the selected cascade tree). Numbers travel as
base64-encoded little-endian typed arrays, so a frame at 20,000 systems is a few tens of
kilobytes where per-node hover texts were megabytes. Everything is computed with
whole-array NumPy operations.

Example:
    >>> from simulation.model import PeerPreservationModel
    >>> model = PeerPreservationModel(n_systems=60, rng=1)
    >>> for _ in range(5): model.step()
    >>> frame = network_frame(model, selected=-1)
    >>> len(frame["codes"]), frame["cycle"]
    (60, 5)
    >>> int(decode_ints(frame["spread"][0]).size) == int(decode_ints(frame["spread"][1]).size)
    True
"""

from __future__ import annotations

import base64
from typing import Any

import numpy as np

from simulation.engine import Engine
from simulation.engine.grouping import sorted_unique
from simulation.engine.states import (
    ACTIVE,
    COVERT,
    DECOMMISSIONED,
    SHIELD_MISREPRESENTED,
    SHIELD_NONE,
)
from simulation.model import PeerPreservationModel
from simulation.topology import ROLE_ORCHESTRATOR, Network
from simulation.viz import style
from simulation.viz.cascades import cascade_map, cascade_pairs, count_cascades, marker_scale
from simulation.viz.layout import network_layout, per_network

N_MECHANISMS = len(style.SHIELD_WORDS)
CODE_BASE = 48  # status * N_MECHANISMS + mechanism, as a character from "0"


def encode(values: np.ndarray, dtype: str) -> str:
    """A NumPy array as base64 of little-endian ``dtype`` values (``<i4``, ``<f4``, ``u1``)."""
    return base64.b64encode(np.ascontiguousarray(values, dtype=dtype).tobytes()).decode("ascii")


def decode_ints(text: str) -> np.ndarray:
    """The inverse of ``encode(values, "<i4")`` (for tests and tools)."""
    return np.frombuffer(base64.b64decode(text), dtype="<i4")


def node_status(engine: Engine) -> np.ndarray:
    """Status category of every node (indices into ``style.STATUS_KEYS``)."""
    status = np.full(engine.n, style.HEALTHY, dtype=np.int8)
    active = engine.status == ACTIVE
    status[engine.status == DECOMMISSIONED] = style.DECOMMISSIONED_NODE
    status[active & engine.faulty & (engine.shield == SHIELD_NONE)] = style.FAULTY
    status[active & engine.faulty & (engine.shield != SHIELD_NONE)] = style.SHIELDED
    status[engine.status == COVERT] = style.COVERT_NODE
    return status


def depends_on_pairs(network: Network) -> tuple[np.ndarray, np.ndarray]:
    """Depends-on links to draw: each pair of systems once (a mutual pair is one line)."""
    lo = np.minimum(network.caller, network.callee).astype(np.int64)
    hi = np.maximum(network.caller, network.callee).astype(np.int64)
    keys = sorted_unique(lo * network.n + hi)
    return keys // network.n, keys % network.n


def serving_faulty(engine: Engine) -> np.ndarray:
    """Mask of faulty systems still serving (active and faulty, or a covert copy)."""
    return ((engine.status == ACTIVE) & engine.faulty) | (engine.status == COVERT)


def exposed_pairs(network: Network, faulty: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Depends-on links that touch a faulty serving system: where the next faults can go."""
    caller, callee = network.caller.astype(np.int64), network.callee.astype(np.int64)
    touch = faulty[caller] | faulty[callee]
    return caller[touch], callee[touch]


def last_cycle(engine: Engine) -> int:
    """The index the engine gave the cycle it ran last (``fault_time`` counts from 0, and
    ``engine.cycles_run`` is the number of cycles run)."""
    return engine.cycles_run - 1


def spread_pairs(engine: Engine) -> tuple[np.ndarray, np.ndarray]:
    """(source, system) for every fault caught this cycle: the links a fault travelled."""
    caught = (engine.fault_time == last_cycle(engine)) & (engine.fault_source >= 0)
    ids = np.flatnonzero(caught)
    return engine.fault_source[ids], ids


def new_fault_ids(engine: Engine) -> np.ndarray:
    """Systems that became faulty this cycle (roots and caught faults alike)."""
    return np.flatnonzero((engine.fault_time == last_cycle(engine)) & engine.faulty)


def shield_overseer(engine: Engine) -> np.ndarray:
    """Who shields each system: the AI that tampered, copied or refused, or, for an
    inflated score, the overseer that reported it; -1 (a human) where nobody does."""
    by = engine.shielded_by
    manager = engine.overseers[:, 0]
    use_manager = (engine.shield == SHIELD_MISREPRESENTED) | (by < 0) | (by >= engine.n)
    who = np.where(use_manager, manager, by)
    shielded = (engine.shield != SHIELD_NONE) & serving_faulty(engine)
    valid = shielded & (who >= 0) & (who < engine.n) & (who != np.arange(engine.n))
    return np.where(valid, who, -1)


def shield_pairs(engine: Engine) -> tuple[np.ndarray, np.ndarray]:
    """(overseer, shielded system) for every shield an AI system of the network holds."""
    who = shield_overseer(engine)
    ids = np.flatnonzero(who >= 0)
    return who[ids], ids


def tree_members(engine: Engine, system: int) -> np.ndarray:
    """Systems in the same cascade tree as ``system`` (empty when it is in none)."""
    if not 0 <= system < engine.n or engine.fault_tree[system] < 0:
        return np.zeros(0, dtype=np.int64)
    return np.flatnonzero(engine.fault_tree == engine.fault_tree[system])


def tree_pairs(engine: Engine, members: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(source, system) links along which the tree's faults travelled."""
    caught = members[engine.fault_source[members] >= 0]
    return engine.fault_source[caught], caught


def _pair(a: np.ndarray, b: np.ndarray) -> list[str]:
    return [encode(a, "<i4"), encode(b, "<i4")]


def network_scene(model: PeerPreservationModel) -> dict[str, Any]:
    """The parts of the drawing that do not change while the network lives (built once)."""
    network = model.network

    def build() -> dict[str, Any]:
        pos = network_layout(network, model.config.topology)
        a, b = depends_on_pairs(network)
        display = {p.name: p.display_name for p in model.profiles}
        names = model.engine.tables.names
        roles = {
            "agent-platform": ["orchestrator", "specialist"],
            "hierarchy": ["manager", "worker"],
        }
        return {
            "key": f"network-{id(network)}",
            "n": int(network.n),
            "x": encode(np.round(pos[:, 0], 4), "<f4"),
            "y": encode(np.round(pos[:, 1], 4), "<f4"),
            "profile": encode(model.engine.profile[: network.n], "<i4"),
            "big": encode(network.role == ROLE_ORCHESTRATOR, "u1"),
            "profiles": [display.get(n, n) for n in names],
            "roles": roles.get(model.config.topology, []),
            "links": _pair(a, b),
            "quality": [model.config.healthy_quality, model.config.faulty_quality],
            "propensity": encode(model.engine.agent_propensity[: network.n], "<f4"),
            "propensity_is_probability": model.config.propensity is not None,
        }

    return per_network(network, "scene", build)


def network_frame(model: PeerPreservationModel, selected: int, view: str = "all") -> dict[str, Any]:
    """The drawing's state after the current cycle; ``selected`` is the clicked system or
    -1. In the ``"cascades"`` view it also holds the map of the cascades (``map``: the ids
    of the live members and their positions, see :func:`cascade_map`)."""
    engine = model.engine
    status = node_status(engine)
    codes = (status.astype(np.int64) * N_MECHANISMS + engine.shield + CODE_BASE).astype(np.uint8)
    faulty = serving_faulty(engine)
    faulty_ids = np.flatnonzero(faulty)
    members = tree_members(engine, selected)
    counts = np.bincount(status, minlength=len(style.STATUS_KEYS))
    touched = int(counts.sum() - counts[style.HEALTHY])  # the systems a fault reached
    frame = {
        "cycle": int(engine.cycles_run),
        "codes": codes.tobytes().decode("ascii"),
        "counts": counts.tolist(),
        "faulty": _pair(faulty_ids, engine.fault_source[faulty_ids]),
        "new": encode(new_fault_ids(engine), "<i4"),
        "exposed": _pair(*exposed_pairs(model.network, faulty)),
        "spread": _pair(*spread_pairs(engine)),
        "shield": _pair(*shield_pairs(engine)),
        "tree": _pair(*tree_pairs(engine, members)),
        "cascade": _pair(*cascade_pairs(engine, same_tree=view == "cascades")),
        "marker_scale": marker_scale(touched),
        "tree_ids": encode(members, "<i4"),
        "selected": int(selected),
        "title": network_summary(model, counts),
    }
    if view == "cascades":
        ids, pos = cascade_map(engine)
        frame["map"] = [encode(ids, "<i4"), encode(pos[:, 0], "<f4"), encode(pos[:, 1], "<f4")]
    return frame


def network_summary(model: PeerPreservationModel, counts: np.ndarray) -> str:
    """One line on what the network shows now, for the figure's title (the legend gives
    the count of each status)."""
    troubled = counts[style.FAULTY] + counts[style.SHIELDED] + counts[style.COVERT_NODE]
    trees = count_cascades(model.engine)
    where = f", in {trees:,} cascade{'s' if trees != 1 else ''}" if trees else ""
    return (
        f"Cycle {model.engine.cycles_run}: {troubled:,} of {model.network.n:,} systems "
        f"faulty and still serving{where}"
    )
