"""Compiled grouping of edge lists, for building a network and drawing overseers.

At a million systems a network has tens of millions of edge entries, and NumPy's stable
sorts of them take seconds; the orders here come from one counting pass (or a sort of
each row's few entries) and are identical to the NumPy expressions they replace.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from simulation.engine import compile_cache  # noqa: F401  (sets the cache folder first)


@njit(cache=True)
def group_order(rows: np.ndarray, n: int) -> np.ndarray:
    """The order that sorts ``rows`` (values 0..n-1) stably, by counting: the same as
    ``np.argsort(rows, kind="stable")``.

    >>> group_order(np.array([2, 0, 2, 1]), 3).tolist()
    [1, 3, 0, 2]
    """
    start = np.zeros(n + 1, dtype=np.int64)
    for r in rows:
        start[r + 1] += 1
    for r in range(n):
        start[r + 1] += start[r]
    order = np.empty(rows.size, dtype=np.int64)
    for i in range(rows.size):
        order[start[rows[i]]] = i
        start[rows[i]] += 1
    return order


@njit(cache=True)
def first_of_each_pair(first: np.ndarray, second: np.ndarray, n: int) -> np.ndarray:
    """Positions, ascending, of the first occurrence of each distinct pair
    ``(first[i], second[i])`` of values ``0..n-1``: what ``np.unique`` of the pairs'
    keys with ``return_index`` gives, sorted, in one pass per pair instead of a sort.

    >>> first_of_each_pair(np.array([0, 1, 0, 0]), np.array([2, 2, 2, 1]), 3).tolist()
    [0, 1, 3]
    """
    seen_with = np.full(n, -1, dtype=np.int64)  # the last ``first`` each ``second`` met
    keep = np.zeros(first.size, dtype=np.bool_)
    for i in group_order(first, n):  # each value's pairs together, in their order
        if seen_with[second[i]] != first[i]:
            seen_with[second[i]] = first[i]
            keep[i] = True
    return np.flatnonzero(keep)


def sorted_unique(values: np.ndarray) -> np.ndarray:
    """The distinct values, ascending: ``np.unique(values)``, which in NumPy 2 hashes
    first and costs several times a sort on the few thousand keys of a network's edges.

    >>> sorted_unique(np.array([5, 1, 5, 3, 1])).tolist()
    [1, 3, 5]
    """
    ordered = np.sort(values)
    first = np.empty(ordered.size, dtype=bool)
    first[:1] = True
    np.not_equal(ordered[1:], ordered[:-1], out=first[1:])
    return ordered[first]


@njit(cache=True)
def rows_by_value(table: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Where each value ``0..n-1`` appears in the rows of a 2-D ``table``, as CSR
    (``indptr``, ``indices`` of rows, in row order); other values are skipped. For an
    overseer table it gives each system the systems it oversees.

    >>> indptr, rows = rows_by_value(np.array([[1, -1], [1, 0], [5, 1]]), 2)
    >>> indptr.tolist(), rows.tolist()
    ([0, 1, 4], [1, 0, 1, 2])
    """
    count = 0
    for value in table.ravel():
        count += 0 <= value < n
    indptr = np.empty(n + 1, dtype=np.int64)
    rows = np.empty(count, dtype=np.int64)
    fill_rows_by_value(table, indptr, rows)
    return indptr, rows


@njit(cache=True)
def fill_rows_by_value(table: np.ndarray, indptr: np.ndarray, rows: np.ndarray) -> None:
    """:func:`rows_by_value` written into arrays of the right sizes (``indptr`` of n + 1
    entries, ``rows`` of as many as ``table`` holds values in ``0..n-1``): a new overseer
    table of as many such values re-indexes without allocating."""
    n = indptr.size - 1
    k = table.shape[1]
    flat = table.ravel()
    indptr[:] = 0
    for value in flat:
        if 0 <= value < n:
            indptr[value + 1] += 1
    for value in range(n):
        indptr[value + 1] += indptr[value]
    fill = indptr[:-1].copy()
    for i in range(flat.size):
        value = flat[i]
        if 0 <= value < n:
            rows[fill[value]] = i // k
            fill[value] += 1
