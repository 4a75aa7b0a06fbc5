"""The compiled orders give exactly NumPy's stable orders, ties and empty rows included."""

from __future__ import annotations

import numpy as np
import pytest

from simulation.grouping import group_order, order_within_rows


@pytest.mark.parametrize("seed", range(4))
def test_group_order_is_numpys_stable_argsort(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 50))
    rows = rng.integers(0, n, size=int(rng.integers(0, 400)))
    assert group_order(rows, n).tolist() == np.argsort(rows, kind="stable").tolist()


@pytest.mark.parametrize("seed", range(4))
def test_order_within_rows_is_numpys_lexsort(seed):
    rng = np.random.default_rng(seed)
    rows = np.sort(rng.integers(0, 30, size=300))
    keys = rng.integers(0, 5, size=300).astype(float)  # many ties: stability counts
    assert order_within_rows(rows, keys).tolist() == np.lexsort((keys, rows)).tolist()
    draws = rng.random(300)
    assert order_within_rows(rows, draws).tolist() == np.lexsort((draws, rows)).tolist()
