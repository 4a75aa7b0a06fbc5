"""The event-proportional samplers have the distributions they claim."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.special import ndtr

from simulation.sampling import (
    bernoulli_positions,
    component_labels,
    gather_edges,
    masked_value_counts,
    truncated_normal,
)


@pytest.mark.parametrize("p", [0.001, 0.01, 0.3])
def test_bernoulli_positions_match_independent_coin_flips(p):
    rng = np.random.default_rng(1)
    n, reps = 5000, 400
    hits = np.zeros(n)
    counts = []
    for _ in range(reps):
        picks = bernoulli_positions(rng, n, p)
        assert np.all(np.diff(picks) > 0) and (picks.size == 0 or picks[-1] < n)
        hits[picks] += 1
        counts.append(picks.size)
    # the count per draw is Binomial(n, p): mean within 4 standard errors of n p
    se = np.sqrt(n * p * (1 - p) / reps)
    assert abs(np.mean(counts) - n * p) < 4 * se
    assert np.var(counts) == pytest.approx(n * p * (1 - p), rel=0.25)
    # every position is equally likely: first and second halves within 4 standard errors
    half = hits[: n // 2].sum() - hits[n // 2 :].sum()
    assert abs(half) < 4 * np.sqrt(hits.sum())


def test_truncated_normal_respects_the_cut_and_the_shape():
    rng = np.random.default_rng(2)
    sd, cut = 0.03, -0.05
    below = truncated_normal(rng, 20_000, sd, cut, below=True)
    above = truncated_normal(rng, 20_000, sd, cut, below=False)
    assert below.max() < cut <= above.min()
    # the share of the lower tail below cut - sd matches the normal's ratio of tails
    expected = ndtr((cut - sd) / sd) / ndtr(cut / sd)
    observed = np.mean(below < cut - sd)
    assert abs(observed - expected) < 4 * np.sqrt(expected * (1 - expected) / below.size)


def test_component_labels_agree_with_scipy():
    rng = np.random.default_rng(3)
    for n, e in [(2, 1), (50, 30), (500, 450), (3000, 2500)]:
        a, b = rng.integers(0, n, e), rng.integers(0, n, e)
        labels = component_labels(n, a, b)
        graph = coo_matrix((np.ones(e), (a, b)), shape=(n, n))
        count, reference = connected_components(graph, directed=False)
        assert len(set(labels.tolist())) == count
        assert len(set(zip(labels.tolist(), reference.tolist(), strict=True))) == count


def test_gather_edges_lists_every_entry_of_the_rows():
    indptr = np.array([0, 2, 2, 5])
    indices = np.array([7, 8, 1, 2, 3])
    rows, cols = gather_edges(indptr, indices, np.array([2, 0, 1]))
    assert rows.tolist() == [2, 2, 2, 0, 0]
    assert cols.tolist() == [1, 2, 3, 7, 8]


@pytest.mark.parametrize("share", [0.01, 0.5])
def test_masked_value_counts_count_codes_under_the_mask_on_both_paths(share):
    rng = np.random.default_rng(3)
    values = rng.integers(0, 5, 20_000).astype(np.int8)
    mask = rng.random(values.size) < share
    counts = masked_value_counts(values, mask, 5)
    expected = [np.count_nonzero(values[mask] == code) for code in range(5)]
    assert counts.tolist()[1:] == expected[1:]
