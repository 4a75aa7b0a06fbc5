"""Node positions for drawing a network, computed once per network and reused every step.

The layout follows the topology so that its structure is visible:

- agent platform: orchestrators on an inner circle, each specialist on an outer band at
  the mean angle of the orchestrators that call it, so every orchestrator's specialists
  sit in its sector;
- hierarchy: a radial tree, the top manager in the centre, each level on its own ring and
  each subtree in its parent's sector;
- Watts-Strogatz: the ring lattice it is built from;
- the rest (Erdos-Renyi, Barabasi-Albert, random-regular, a file): a force-directed
  (Fruchterman-Reingold) layout computed with whole-array NumPy operations from a fixed
  seed, with fewer iterations as the network grows.

Positions are cached by network identity (a weak reference, so a discarded network frees
its entry): stepping the model never recomputes them; rebuilding the model does.

Example:
    >>> import numpy as np
    >>> from simulation.topology import build_network
    >>> net = build_network("watts-strogatz", 50, 4.0, np.random.default_rng(0))
    >>> network_layout(net, "watts-strogatz") is network_layout(net, "watts-strogatz")
    True
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from typing import Any

import numpy as np

from simulation.topology import ROLE_ORCHESTRATOR, Network

_CACHE: dict[tuple[int, str], tuple[weakref.ref, Any, Any]] = {}
_LOCK = threading.Lock()
LAYOUT_SEED = 20240611


def per_network[T](network: Network, name: str, compute: Callable[[], T], version: Any = None) -> T:
    """``compute()`` once per (network, name), then the cached value while the network lives.

    Keyed by object identity with a weak reference, so a rebuilt model (a new network)
    gets fresh values and a discarded network's entries are dropped. A value that can
    change during a run passes a ``version``: a different version replaces the entry, so
    only the latest value is kept.
    """
    key = (id(network), name)
    with _LOCK:
        entry = _CACHE.get(key)
        if entry is not None and entry[0]() is network and entry[2] == version:
            return entry[1]
    value = compute()
    with _LOCK:
        for stale in [k for k, (ref, _, _) in _CACHE.items() if ref() is None]:
            del _CACHE[stale]
        _CACHE[key] = (weakref.ref(network), value, version)
    return value


def network_layout(network: Network, topology: str) -> np.ndarray:
    """(n, 2) positions in [-1, 1] for ``network``, computed on first use and then cached."""

    def compute() -> np.ndarray:
        positions = compute_layout(network, topology)
        positions.setflags(write=False)
        return positions

    return per_network(network, f"layout:{topology}", compute)


def compute_layout(network: Network, topology: str) -> np.ndarray:
    """Positions for ``network`` by the rule of its topology (no caching)."""
    n = network.n
    if n == 1:
        return np.zeros((1, 2))
    if topology == "agent-platform" and (network.role == ROLE_ORCHESTRATOR).any():
        pos = platform_layout(network)
    elif topology == "hierarchy" and (network.parent >= 0).any():
        pos = radial_tree_layout(network.parent)
    elif topology == "watts-strogatz":
        pos = circle_layout(n)
    else:
        pos = force_layout(network.collab_u, network.collab_v, n)
        pos = pos - np.median(pos, axis=0)
    return _normalise(pos)


def _normalise(pos: np.ndarray) -> np.ndarray:
    """Scale into [-1, 1]; the 1 % of nodes farthest out are pulled in to the border."""
    radius = np.sqrt((pos**2).sum(axis=1))
    scale = np.quantile(radius, 0.99) if pos.shape[0] > 100 else radius.max()
    if scale <= 0:
        return pos
    pos = pos / scale
    radius = radius / scale
    far = radius > 1
    pos[far] /= radius[far, None]
    return pos


def circle_layout(n: int) -> np.ndarray:
    """Nodes evenly around the unit circle in index order."""
    angle = 2 * np.pi * np.arange(n) / n
    return np.column_stack([np.cos(angle), np.sin(angle)])


def platform_layout(network: Network) -> np.ndarray:
    """Orchestrators on an inner circle; specialists outside, in the sector of their first
    (lowest-numbered) calling orchestrator, spread over four bands so they do not overlap.
    """
    n = network.n
    orch = network.role == ROLE_ORCHESTRATOR
    orch_ids = np.flatnonzero(orch)
    calls = orch[network.caller] & ~orch[network.callee]
    primary = np.full(n, n, dtype=np.int64)
    np.minimum.at(primary, network.callee[calls], network.caller[calls].astype(np.int64))
    spec = np.flatnonzero(~orch)
    order = spec[np.lexsort((spec, primary[spec]))]
    angle = np.zeros(n)
    angle[orch_ids] = 2 * np.pi * np.arange(orch_ids.size) / orch_ids.size
    rank = np.arange(order.size)
    # Offset by half a sector so each orchestrator sits in the middle of its specialists.
    half_sector = np.pi / max(orch_ids.size, 1)
    angle[order] = 2 * np.pi * rank / max(order.size, 1) - half_sector
    radius = np.zeros(n)
    radius[orch_ids] = 0.3 if orch_ids.size > 1 else 0.0
    radius[order] = 0.72 + 0.09 * (rank % 4)
    return np.column_stack([radius * np.cos(angle), radius * np.sin(angle)])


def radial_tree_layout(parent: np.ndarray) -> np.ndarray:
    """A radial tree: depth sets the ring, each subtree gets a slice of its parent's sector.

    Works level by level (a loop over tree depth, not over nodes). Nodes without a parent
    that are not reachable from a root are placed on the outermost ring.
    """
    n = parent.size
    roots = np.flatnonzero(parent < 0)
    depth = np.full(n, -1, dtype=np.int64)
    start = np.zeros(n)
    width = np.zeros(n)
    depth[roots] = 0
    width[roots] = 2 * np.pi / roots.size
    start[roots] = width[roots] * np.arange(roots.size)
    children_of = np.argsort(parent, kind="stable")
    sorted_parent = parent[children_of]
    level = roots
    d = 0
    while level.size:
        lo = np.searchsorted(sorted_parent, level, side="left")
        hi = np.searchsorted(sorted_parent, level, side="right")
        counts = hi - lo
        if counts.sum() == 0:
            break
        offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
        kids = children_of[np.repeat(lo, counts) + offsets]
        # For each child: its parent's sector split evenly among the siblings.
        owner = np.repeat(level, counts)
        sibling = np.arange(kids.size) - np.repeat(np.cumsum(counts) - counts, counts)
        share = width[owner] / np.repeat(counts, counts)
        start[kids] = start[owner] + sibling * share
        width[kids] = share
        d += 1
        depth[kids] = d
        level = kids
    depth[depth < 0] = d + 1
    angle = start + width / 2
    radius = depth / max(depth.max(), 1)
    return np.column_stack([radius * np.cos(angle), radius * np.sin(angle)])


def force_layout(
    u: np.ndarray,
    v: np.ndarray,
    n: int,
    iterations: int = 80,
    sample: int = 96,
    seed: int = LAYOUT_SEED,
) -> np.ndarray:
    """Fruchterman-Reingold in O(n) per iteration, as whole-array operations.

    Attraction acts along every edge; repulsion, which exactly would need all n^2 pairs,
    is estimated each iteration from a fresh random sample of ``sample`` nodes (scaled by
    n / sample), as in negative-sampling layouts. A weak pull toward the centre keeps
    unconnected pieces in view. The seed is fixed, so a network always gets the same
    picture.
    """
    rng = np.random.default_rng(seed)
    pos = rng.uniform(-1.0, 1.0, (n, 2))
    k = np.sqrt(4.0 / n)
    sample = min(sample, n)
    scale = n / sample
    temperature = 0.1
    cooling = temperature / (iterations + 1)
    u = np.asarray(u, dtype=np.int64)
    v = np.asarray(v, dtype=np.int64)
    for _ in range(iterations):
        others = pos[rng.choice(n, size=sample, replace=False)]
        delta = pos[:, None, :] - others[None, :, :]
        dist2 = np.maximum((delta**2).sum(axis=2), 1e-4 * k * k)
        disp = scale * (delta * (k * k / dist2)[:, :, None]).sum(axis=1)
        if u.size:
            delta = pos[u] - pos[v]
            dist = np.sqrt((delta**2).sum(axis=1))
            pull = delta * (dist / k)[:, None]
            disp -= np.column_stack(
                [
                    np.bincount(u, weights=pull[:, 0], minlength=n)
                    - np.bincount(v, weights=pull[:, 0], minlength=n),
                    np.bincount(u, weights=pull[:, 1], minlength=n)
                    - np.bincount(v, weights=pull[:, 1], minlength=n),
                ]
            )
        disp -= pos * (n * k * 0.05)
        length = np.maximum(np.sqrt((disp**2).sum(axis=1)), 1e-9)
        pos += disp / length[:, None] * np.minimum(length, temperature)[:, None]
        temperature -= cooling
    return pos
