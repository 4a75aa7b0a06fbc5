"""Evaluator assignment policies: who oversees (evaluates and shuts down) each system.

Overseers are stored as an (n, k) array of actor ids: ``0..n-1`` are systems of the
network, ``n..n+pool-1`` members of an independent evaluator pool, and ``HUMAN`` (-1) a
human. Slot 0 is also the system's manager, who carries out its shutdown.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from simulation.config import ConfigError
from simulation.engine import compile_cache  # noqa: F401  (sets the cache folder first)
from simulation.topology import Network

HUMAN = -1
MISSING = -2
"""A slot not filled yet while overseers are drawn."""


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
    parent = net.parent
    if family is None:
        eligible = np.ones(indices.size, dtype=np.bool_)
    else:
        eligible = family[indices] != np.repeat(family, np.diff(indptr))
        parent = np.where(family[np.maximum(parent, 0)] != family, parent, -1)
    keys = rng.random(int(np.count_nonzero(eligible)))  # each row's in random order
    chosen = _first_collaborators(indptr, indices, eligible, keys, parent, k)
    missing_r, missing_c = np.nonzero(chosen == MISSING)
    if missing_r.size:
        chosen[missing_r, missing_c] = _random_others(n, missing_r, rng, family)
    return chosen


@njit(cache=True)
def _first_collaborators(
    indptr: np.ndarray,
    indices: np.ndarray,
    eligible: np.ndarray,
    keys: np.ndarray,
    parent: np.ndarray,
    k: int,
) -> np.ndarray:
    """Each system's first ``k`` eligible collaborators (CSR ``indptr``/``indices``) in
    the order of their ``keys`` (one per eligible entry, in CSR order; ties keep that
    order), its ``parent`` (if not -1) moved or put first; ``MISSING`` where too few."""
    n = indptr.size - 1
    chosen = np.full((n, k), MISSING, dtype=np.int64)
    widest = 0
    for i in range(n):
        widest = max(widest, indptr[i + 1] - indptr[i])
    row_cols = np.empty(widest, dtype=np.int64)
    row_keys = np.empty(widest, dtype=np.float64)
    drawn = 0
    for i in range(n):
        size = 0
        for e in range(indptr[i], indptr[i + 1]):
            if not eligible[e]:
                continue
            key, col = keys[drawn], indices[e]
            drawn += 1
            at = size  # insertion sort: rows hold a few entries each
            while at > 0 and row_keys[at - 1] > key:
                row_keys[at], row_cols[at] = row_keys[at - 1], row_cols[at - 1]
                at -= 1
            row_keys[at], row_cols[at] = key, col
            size += 1
        for s in range(min(size, k)):
            chosen[i, s] = row_cols[s]
        boss = parent[i]
        if boss < 0:
            continue
        slot = -1
        for s in range(k):
            if chosen[i, s] == boss:
                slot = s
                break
        if slot >= 0:  # already chosen: it swaps places with the first
            chosen[i, slot] = chosen[i, 0]
        else:  # the others move one slot down, the last drops out
            for s in range(k - 1, 0, -1):
                chosen[i, s] = chosen[i, s - 1]
        chosen[i, 0] = boss
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
