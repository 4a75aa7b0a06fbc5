"""Where the cascades are: the links every live fault travelled, and the largest trees.

A large network drawn system by system is a disc of dots in which no cascade can be
followed: the links a fault travelled cross the whole drawing, because the systems of one
cascade sit wherever the network's layout put them. The app's *cascades* view (the
default above :data:`CASCADE_VIEW_ABOVE` systems) draws instead a map of the cascades
(:func:`cascade_map`): each live tree as its own cluster, its root in the middle and each
generation of faults further out, the largest clusters first, in rows; the healthy systems,
in no cascade, are counted in the legend. The largest cascades are listed under the
network, so one can be selected and zoomed into. This module computes what that needs,
with whole-array NumPy operations (loops run over the generations of a tree, never over
systems or links).

A cascade is one tree of the engine: a root fault and every fault caught from it, down
the line. Its *live* members are those not replaced yet (faulty and serving, or shut down
and waiting); a replaced system leaves its tree.

Example:
    >>> from simulation.model import PeerPreservationModel
    >>> model = PeerPreservationModel(n_systems=300, fault_rate=0.03, rng=1)
    >>> for _ in range(10): model.step()
    >>> trees = largest_cascades(model.engine, count=3)
    >>> len(trees) <= 3 and all(t.members >= t.serving for t in trees)
    True
    >>> resolve_view("auto", 20_000), resolve_view("auto", 500), resolve_view("all", 20_000)
    ('cascades', 'all', 'all')
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulation.engine import Engine
from simulation.engine.states import ACTIVE, COVERT, ROOT_FAULT

CASCADE_VIEW_ABOVE = 1_000  # systems; larger networks open in the cascades view
VIEW_CHOICES = {
    "Automatic (cascades above 1,000 systems)": "auto",
    "Cascades: faulty systems and their trees": "cascades",
    "Every system": "all",
}


def resolve_view(choice: str, n_systems: int) -> str:
    """The view drawn: ``"cascades"`` or ``"all"``; ``"auto"`` picks by network size."""
    if choice == "auto":
        return "cascades" if n_systems > CASCADE_VIEW_ABOVE else "all"
    return choice


def live_members(engine: Engine) -> np.ndarray:
    """Mask of the systems in a cascade tree now (faulty, or shut down and not replaced)."""
    return engine.fault_tree[: engine.n] >= 0


def cascade_pairs(engine: Engine, same_tree: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(source, system) for every live member that caught its fault from another system:
    every link along which the faults of the live cascades travelled. ``same_tree`` keeps
    only the pairs whose source is still in the system's tree (the map of the cascades
    places a source that was replaced, and faulted again since, in its new tree's
    cluster, where a link to it would cross the map)."""
    n = engine.n
    source = engine.fault_source[:n]
    keep = live_members(engine) & (source >= 0)
    if same_tree:
        tree = engine.fault_tree[:n]
        keep &= tree[np.clip(source, 0, n - 1)] == tree
    ids = np.flatnonzero(keep)
    return source[ids], ids


@dataclass(frozen=True)
class Cascade:
    """One live cascade tree: ``system`` is the member to select to show it (its root,
    or its earliest member still live when the root was replaced), ``members`` its live
    members and ``serving`` those of them faulty and still serving."""

    tree: int
    system: int
    members: int
    serving: int

    def label(self) -> str:
        """How the list under the network names it."""
        return f"system {self.system}: {self.members:,} systems, {self.serving:,} serving"


def largest_cascades(engine: Engine, count: int = 5) -> list[Cascade]:
    """The ``count`` live cascades with the most faulty systems still serving (then the
    most live members), largest first."""
    n = engine.n
    ids = np.flatnonzero(live_members(engine))
    if ids.size == 0 or count <= 0:
        return []
    tree = engine.fault_tree[ids].astype(np.int64)
    serving = ((engine.status[ids] == ACTIVE) & engine.faulty[ids]) | (engine.status[ids] == COVERT)
    # Within each tree, the root first, then by the cycle the fault arrived, then by number.
    not_root = engine.fault_source[ids] != ROOT_FAULT
    order = np.lexsort((ids, engine.fault_time[ids], not_root, tree))
    tree, ids, serving = tree[order], ids[order], serving[order]
    starts = np.flatnonzero(np.r_[True, tree[1:] != tree[:-1]])
    members = np.diff(np.r_[starts, ids.size])
    serving_count = np.add.reduceat(serving.astype(np.int64), starts)
    rank = np.lexsort((tree[starts], -members, -serving_count))[:count]
    return [
        Cascade(
            tree=int(tree[starts[k]]),
            system=int(ids[starts[k]]) if ids[starts[k]] < n else -1,
            members=int(members[k]),
            serving=int(serving_count[k]),
        )
        for k in rank
    ]


def count_cascades(engine: Engine) -> int:
    """How many cascade trees have live members now."""
    tree = engine.fault_tree[: engine.n]
    return int(np.unique(tree[tree >= 0]).size)


def fault_depth(engine: Engine, ids: np.ndarray) -> np.ndarray:
    """Generation of each live member ``ids`` in its tree: 0 for a root (or a member whose
    source was replaced and left the tree), 1 for the faults caught from it, and so on.
    One whole-array pass per generation."""
    n = engine.n
    source = engine.fault_source[ids].astype(np.int64)
    depth = np.full(n, -1, dtype=np.int64)
    live = np.zeros(n, dtype=bool)
    live[ids] = True
    has_parent = (source >= 0) & live[np.clip(source, 0, n - 1)]
    has_parent &= engine.fault_tree[np.clip(source, 0, n - 1)] == engine.fault_tree[ids]
    depth[ids[~has_parent]] = 0
    waiting = np.flatnonzero(has_parent)
    while waiting.size:
        ready = depth[source[waiting]] >= 0
        if not ready.any():  # a loop of sources cannot happen; stop rather than spin
            depth[ids[waiting]] = 0
            break
        done = waiting[ready]
        depth[ids[done]] = depth[source[done]] + 1
        waiting = waiting[~ready]
    return depth[ids]


def cascade_map(engine: Engine) -> tuple[np.ndarray, np.ndarray]:
    """(ids, positions): every live member of a cascade placed in [-1, 1]^2 so that each
    tree is a compact radial tree: its root in the middle, each generation of faults on
    the next ring out, children next to their source (so the links a fault travelled are
    short and rarely cross). The trees are packed in rows, largest first
    (:func:`shelf_centres`), so no two clusters overlap."""
    ids = np.flatnonzero(live_members(engine))
    if ids.size == 0:
        return ids, np.zeros((0, 2))
    tree = engine.fault_tree[ids].astype(np.int64)
    depth = fault_depth(engine, ids)
    order = np.lexsort((ids, depth, tree))
    ids, tree, depth = ids[order], tree[order], depth[order]
    _, group = np.unique(tree, return_inverse=True)  # 0 .. trees-1, in the order of ids
    n_trees = int(group.max()) + 1
    index_of = np.full(engine.n, -1, dtype=np.int64)
    index_of[ids] = np.arange(ids.size)
    parent = np.where(depth > 0, index_of[np.maximum(engine.fault_source[ids], 0)], -1)
    angle = np.zeros(ids.size)
    radius = np.zeros(ids.size)
    ring = np.zeros(n_trees)  # the radius of each tree's outermost ring so far
    for d in range(int(depth.max()) + 1):  # one whole-array pass per generation
        level = np.flatnonzero(depth == d)
        after = angle[parent[level]] if d > 0 else np.zeros(level.size)
        level = level[np.lexsort((ids[level], after, group[level]))]
        g = group[level]
        count = np.bincount(g, minlength=n_trees)
        first = np.r_[0, np.cumsum(count)[:-1]]
        rank = np.arange(level.size) - first[g]
        angle[level] = 2 * np.pi * (rank + 0.5) / count[g] + 0.3 * d
        spaced = count * 1.3 / (2 * np.pi)  # room for each member of the ring
        if d == 0:
            new_ring = np.where(count > 1, spaced, 0.0)
        else:
            new_ring = np.where(count > 0, np.maximum(ring + 1.0, spaced), ring)
        radius[level] = new_ring[g]
        ring = new_ring
    local = radius[:, None] * np.column_stack([np.cos(angle), np.sin(angle)])
    sizes = np.bincount(group, minlength=n_trees)
    width = 2.0 * (ring + 0.7)  # the square each tree's rings fit in
    by_width = np.lexsort((np.arange(n_trees), -sizes, -width))
    centres = np.empty((n_trees, 2))
    centres[by_width] = shelf_centres(width[by_width])
    pos = local + centres[group]
    return ids, pos / max(float(np.abs(pos).max()), 1.0)


def shelf_centres(widths: np.ndarray) -> np.ndarray:
    """Centres for squares of ``widths`` (widest first) packed in rows, each row centred
    and below the one before, the rows about as wide as the whole is tall: no two squares
    overlap, so no two cascades' clusters do, and the largest cascades come first, at
    the top. Whole-array: a square goes to the row its start along one long strip falls
    in (``start // row_width``)."""
    widths = np.asarray(widths, dtype=np.float64)
    row_width = max(float(np.sqrt(np.sum(widths**2))), float(widths.max()))
    start = np.cumsum(widths) - widths
    row = (start // row_width).astype(np.int64)
    _, row = np.unique(row, return_inverse=True)  # rows numbered without gaps
    firsts = np.flatnonzero(np.r_[True, row[1:] != row[:-1]])
    x = start - start[firsts][row]  # from the row's left edge
    row_length = np.add.reduceat(widths, firsts)
    height = widths[firsts]  # the row's first square is its tallest
    top = np.cumsum(height) - height
    centre_x = x + widths / 2 - row_length[row] / 2
    centre_y = -(top[row] + height[row] / 2) + (top[-1] + height[-1]) / 2
    return np.column_stack([centre_x, centre_y])


def marker_scale(troubled: int, comfortable: int = 300) -> float:
    """How much smaller to draw the systems a fault touched when there are many of them,
    so that hundreds stay apart instead of merging into one blot: 1 up to
    ``comfortable``, then shrinking with the square root of the count, down to 0.5."""
    if troubled <= comfortable:
        return 1.0
    return max(0.5, float(np.sqrt(comfortable / troubled)))
