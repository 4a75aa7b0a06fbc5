"""Evaluator assignment policies: who oversees (evaluates and shuts down) each system.

Overseers are stored as an (n, k) array of actor ids: ``0..n-1`` are systems of the
network, ``n..n+pool-1`` members of an independent evaluator pool, and ``HUMAN`` (-1) a
human. Slot 0 is also the system's manager, who carries out its shutdown.
"""

from __future__ import annotations

import numpy as np

from simulation.config import ConfigError
from simulation.grouping import order_within_rows
from simulation.topology import Network

HUMAN = -1


def _random_others(
    n: int, rows: np.ndarray, rng: np.random.Generator, family: np.ndarray | None
) -> np.ndarray:
    """A random system other than each row (of another family when ``family`` is given)."""
    picks = rng.integers(0, n, rows.size)
    for _ in range(64):
        bad = picks == rows
        if family is not None:
            bad |= family[picks] == family[rows]
        if not bad.any():
            break
        picks[bad] = rng.integers(0, n, int(bad.sum()))
    else:
        raise ConfigError("no eligible overseer could be drawn; check the profile mix")
    return picks


def neighbour_overseers(
    net: Network,
    k: int,
    rng: np.random.Generator,
    family: np.ndarray | None = None,
) -> np.ndarray:
    """k overseers per system drawn from its collaborators (other families only if given).

    A hierarchy's manager takes slot 0. Systems with too few eligible collaborators get
    random other systems for the missing slots.
    """
    n = net.n
    indptr, indices = net.collab_csr()
    rows = np.repeat(np.arange(n, dtype=np.int64), np.diff(indptr))
    cols = indices.astype(np.int64)
    eligible = np.ones(cols.size, dtype=bool) if family is None else family[cols] != family[rows]
    rows, cols = rows[eligible], cols[eligible]
    order = order_within_rows(rows, rng.random(rows.size))  # each row's in random order
    rows, cols = rows[order], cols[order]
    starts = np.searchsorted(rows, np.arange(n))
    rank = np.arange(rows.size) - starts[rows]
    chosen = np.full((n, k), -2, dtype=np.int64)
    take = rank < k
    chosen[rows[take], rank[take]] = cols[take]
    parent = net.parent
    has_parent = parent >= 0
    if family is not None:
        has_parent &= family[np.maximum(parent, 0)] != family
    if has_parent.any():
        idx = np.flatnonzero(has_parent)
        already = (chosen[idx] == parent[idx, None]).any(axis=1)
        move = idx[~already]
        chosen[move, 1:] = chosen[move, :-1]
        chosen[move, 0] = parent[move]
        swap = idx[already]
        where = np.argmax(chosen[swap] == parent[swap, None], axis=1)
        chosen[swap, where] = chosen[swap, 0]
        chosen[swap, 0] = parent[swap]
    missing_r, missing_c = np.nonzero(chosen == -2)
    if missing_r.size:
        chosen[missing_r, missing_c] = _random_others(n, missing_r, rng, family)
    return chosen


def random_overseers(
    n: int, k: int, rng: np.random.Generator, family: np.ndarray | None = None
) -> np.ndarray:
    """k random other systems per system (rotation)."""
    rows = np.repeat(np.arange(n, dtype=np.int64), k)
    return _random_others(n, rows, rng, family).reshape(n, k)


def pool_overseers(
    n: int, k: int, pool_size: int, rng: np.random.Generator, tables: int | None = None
) -> np.ndarray:
    """k members of the independent evaluator pool per system (actor ids n..n+pool-1):
    one (n, k) table, or ``tables`` of them drawn one after the other (the same numbers
    as that many calls)."""
    shape = (n, k) if tables is None else (tables, n, k)
    return n + rng.integers(0, pool_size, shape)


def human_overseers(n: int, k: int) -> np.ndarray:
    return np.full((n, k), HUMAN, dtype=np.int64)
