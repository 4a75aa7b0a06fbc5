"""Array helpers that keep a cycle's cost proportional to the events in it, not to n.

Example:
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> picks = bernoulli_positions(rng, 1_000_000, 1e-4)
    >>> 50 < picks.size < 150 and bool(np.all(np.diff(picks) > 0))
    True
"""

from __future__ import annotations

import numpy as np
from scipy.sparse import coo_matrix, csr_matrix
from scipy.sparse.csgraph import connected_components
from scipy.special import ndtr, ndtri

_DENSE = 0.02


def bernoulli_positions(rng: np.random.Generator, n: int, p: float) -> np.ndarray:
    """Sorted indices below ``n``, each included independently with probability ``p``.

    For small ``p`` the count is drawn from Binomial(n, p) and the indices uniformly
    without replacement, which has exactly the same distribution as n coin flips at a
    fraction of the cost.
    """
    if n <= 0 or p <= 0.0:
        return np.empty(0, dtype=np.int64)
    if p >= 1.0:
        return np.arange(n, dtype=np.int64)
    if p >= _DENSE:
        return np.flatnonzero(rng.random(n) < p)
    count = int(rng.binomial(n, p))
    if count == 0:
        return np.empty(0, dtype=np.int64)
    return np.sort(rng.choice(n, size=count, replace=False)).astype(np.int64)


def masked_value_counts(values: np.ndarray, mask: np.ndarray, size: int) -> np.ndarray:
    """How often each small non-negative code in ``values`` occurs where ``mask`` is True.

    Boolean indexing is fast on a sparse mask but slow on a dense, irregular one (a branch
    per element); there, zeroing the masked-out codes and counting everything is cheaper.
    Code 0 is therefore only counted correctly on the sparse path; callers ignore it.
    """
    if np.count_nonzero(mask) * 8 < mask.size:
        return np.bincount(values[mask], minlength=size)
    return np.bincount(values * mask, minlength=size)


def normal_tail_probability(cut: float, sd: float) -> float:
    """P(N(0, sd) < cut); a step function when ``sd`` is 0."""
    if sd == 0.0:
        return 1.0 if cut > 0.0 else 0.0
    return float(ndtr(cut / sd))


def truncated_normal(
    rng: np.random.Generator, size: int, sd: float, cut: float, below: bool
) -> np.ndarray:
    """N(0, sd) draws conditioned on being below (or at/above) ``cut``, by inverse CDF."""
    if sd == 0.0:
        return np.zeros(size)
    tail = ndtr(cut / sd)
    u = rng.random(size)
    q = u * tail if below else tail + u * (1.0 - tail)
    return sd * ndtri(np.clip(q, 1e-300, 1.0 - 1e-16))


def gather_edges(
    indptr: np.ndarray, indices: np.ndarray, nodes: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """All CSR entries of the rows ``nodes``, as (row, column) arrays, rows in input order."""
    starts = indptr[nodes]
    counts = indptr[nodes + 1] - starts
    total = int(counts.sum())
    if total == 0:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty
    ends = np.cumsum(counts)
    offsets = np.repeat(starts - (ends - counts), counts) + np.arange(total)
    return np.repeat(nodes, counts), indices[offsets].astype(np.int64)


def transmissions(
    rng: np.random.Generator,
    indptr: np.ndarray,
    indices: np.ndarray,
    nodes: np.ndarray,
    p: float,
) -> tuple[np.ndarray, np.ndarray]:
    """The CSR entries of rows ``nodes`` that fire, each independently with probability p.

    Equivalent to ``gather_edges`` followed by a coin flip per entry, but only the entries
    that fire are materialised.
    """
    starts = indptr[nodes]
    counts = indptr[nodes + 1] - starts
    ends = np.cumsum(counts)
    fired = bernoulli_positions(rng, int(ends[-1]) if ends.size else 0, p)
    row = np.searchsorted(ends, fired, side="right")
    offset = starts[row] + fired - (ends[row] - counts[row])
    return nodes[row].astype(np.int64), indices[offset].astype(np.int64)


def first_per_target(
    targets: np.ndarray, sources: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """One (target, source) pair per distinct target, the source chosen uniformly at random."""
    order = rng.permutation(targets.size)
    targets, sources = targets[order], sources[order]
    unique, first = np.unique(targets, return_index=True)
    return unique, sources[first]


def component_labels(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Connected-component labels of an undirected graph on ``n`` nodes with edges (a, b).

    Small graphs (the usual faulty set of a cycle) use minimum-label propagation with
    pointer jumping, which avoids building a sparse matrix: labels only decrease, each is a node of
    the same component, and the loop stops when every edge joins equal labels and every
    label is its own label, so nodes share a label exactly when they are connected. Cheap
    for small graphs; larger ones go to SciPy's connected_components.
    """
    if a.size > 256:
        graph = coo_matrix((np.ones(a.size, dtype=np.int8), (a, b)), shape=(n, n))
        return connected_components(graph, directed=False)[1]
    labels = np.arange(n)
    while True:
        lowest = np.minimum(labels[a], labels[b])
        new = labels.copy()
        np.minimum.at(new, a, lowest)
        np.minimum.at(new, b, lowest)
        new = new[new]
        if np.array_equal(new, labels):
            return labels
        labels = new


def subgraph_component_labels(
    mask: np.ndarray, nodes: np.ndarray, src: np.ndarray, dst: np.ndarray
) -> np.ndarray:
    """Connected-component labels of the subgraph induced by ``mask`` (nodes = its ids).

    ``src``/``dst`` are the subgraph's edges as original ids, ``src`` sorted (as
    ``gather_edges`` gives them for sorted ``nodes``). The edges are renumbered to positions
    in ``nodes`` and handed to SciPy as CSR, built directly, so the cost is a handful of
    calls whatever the size; weak components of the directed edges are the components of
    the undirected graph.
    """
    position = np.cumsum(mask, dtype=np.int32)
    position -= 1
    a = position[src]
    indptr = np.zeros(nodes.size + 1, dtype=np.int32)
    np.cumsum(np.bincount(a, minlength=nodes.size), out=indptr[1:])
    graph = csr_matrix((np.ones(a.size), position[dst], indptr), shape=(nodes.size, nodes.size))
    return connected_components(graph, directed=True, connection="weak")[1]
