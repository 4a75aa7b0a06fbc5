"""The compiled orders give exactly NumPy's stable orders, ties and empty rows included."""

from __future__ import annotations

import numpy as np
import pytest

from simulation.engine.grouping import first_of_each_pair, group_order
from simulation.engine.oversight import MISSING, _first_collaborators


@pytest.mark.parametrize("seed", range(4))
def test_group_order_is_numpys_stable_argsort(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 50))
    rows = rng.integers(0, n, size=int(rng.integers(0, 400)))
    assert group_order(rows, n).tolist() == np.argsort(rows, kind="stable").tolist()


def _first_collaborators_by_lexsort(indptr, indices, eligible, keys, parent, k):
    """The vectorised NumPy expression ``oversight._first_collaborators`` replaces."""
    n = indptr.size - 1
    rows = np.repeat(np.arange(n), np.diff(indptr))[eligible]
    cols = indices[eligible]
    order = np.lexsort((keys, rows))
    rows, cols = rows[order], cols[order]
    rank = np.arange(rows.size) - np.searchsorted(rows, np.arange(n))[rows]
    chosen = np.full((n, k), MISSING)
    chosen[rows[rank < k], rank[rank < k]] = cols[rank < k]
    idx = np.flatnonzero(parent >= 0)
    already = (chosen[idx] == parent[idx, None]).any(axis=1)
    move, swap = idx[~already], idx[already]
    chosen[move, 1:] = chosen[move, :-1]
    chosen[move, 0] = parent[move]
    where = np.argmax(chosen[swap] == parent[swap, None], axis=1)
    chosen[swap, where] = chosen[swap, 0]
    chosen[swap, 0] = parent[swap]
    return chosen


@pytest.mark.parametrize("seed", range(6))
def test_first_collaborators_are_numpys_lexsort_order(seed):
    """Ties in the keys keep CSR order; a parent among the first k swaps to the front,
    another pushes the rest down; ineligible entries draw no key."""
    rng = np.random.default_rng(seed)
    n, k = 40, int(rng.integers(1, 5))
    indptr = np.concatenate([[0], np.cumsum(rng.integers(0, 7, n))])
    indices = rng.integers(0, n, indptr[-1])
    eligible = rng.random(indices.size) < 0.8
    keys = rng.integers(0, 3, int(eligible.sum())).astype(float)  # many ties
    parent = np.where(rng.random(n) < 0.5, rng.integers(0, n, n), -1)
    parent[:5] = [indices[indptr[i]] if indptr[i + 1] > indptr[i] else -1 for i in range(5)]
    expected = _first_collaborators_by_lexsort(indptr, indices, eligible, keys, parent, k)
    got = _first_collaborators(indptr, indices, eligible, keys, parent, k)
    assert got.tolist() == expected.tolist()


@pytest.mark.parametrize("seed", range(4))
def test_first_of_each_pair_is_numpys_unique_index(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 30))
    first, second = rng.integers(0, n, (2, int(rng.integers(0, 500))))
    _, expected = np.unique(first * n + second, return_index=True)
    assert first_of_each_pair(first, second, n).tolist() == np.sort(expected).tolist()
