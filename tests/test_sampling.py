"""The compiled samplers and helpers have the distributions and results they claim."""

from __future__ import annotations

import numpy as np
import pytest
from numba import njit
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.special import ndtr

from simulation.engine import kernels
from simulation.engine.states import ACTIVE, DECOMMISSIONED


@njit
def _positions(state: np.ndarray, n: int, log_miss: float, hits: np.ndarray) -> int:
    count = 0
    i = kernels.gap(state, log_miss)
    while i < n:
        hits[i] += 1
        count += 1
        i += 1 + kernels.gap(state, log_miss)
    return count


@pytest.mark.parametrize("p", [0.001, 0.01, 0.3])
def test_geometric_skips_match_independent_coin_flips(p):
    state = kernels.new_stream(np.random.default_rng(1))
    n, reps = 5000, 400
    hits = np.zeros(n, dtype=np.int64)
    counts = [_positions(state, n, kernels.log_miss(p), hits) for _ in range(reps)]
    # the count per draw is Binomial(n, p): mean within 4 standard errors of n p
    se = np.sqrt(n * p * (1 - p) / reps)
    assert abs(np.mean(counts) - n * p) < 4 * se
    assert np.var(counts) == pytest.approx(n * p * (1 - p), rel=0.25)
    # every position is equally likely: first and second halves within 4 standard errors
    half = hits[: n // 2].sum() - hits[n // 2 :].sum()
    assert abs(half) < 4 * np.sqrt(hits.sum())


@njit
def _draws(state: np.ndarray, size: int, sd: float, cut: float, kind: int) -> np.ndarray:
    out = np.empty(size)
    for d in range(size):
        if kind == 0:
            out[d] = kernels.normal(state, sd)
        elif kind == 1:
            out[d] = kernels.normal_below(state, sd, cut)
        else:
            out[d] = kernels.normal_at_least(state, sd, cut)
    return out


def test_normal_draws_have_the_normal_shape():
    state = kernels.new_stream(np.random.default_rng(2))
    x = _draws(state, 40_000, 2.0, 0.0, 0)
    assert abs(x.mean()) < 4 * 2.0 / np.sqrt(x.size)
    assert x.std() == pytest.approx(2.0, rel=0.02)
    assert np.mean(x < -2.0) == pytest.approx(ndtr(-1.0), abs=4 * np.sqrt(0.16 * 0.84 / x.size))


@pytest.mark.parametrize("cut", [-0.05, -0.01, 0.02])
def test_truncated_normals_respect_the_cut_and_the_shape(cut):
    state = kernels.new_stream(np.random.default_rng(3))
    sd = 0.03
    below = _draws(state, 20_000, sd, cut, 1)
    above = _draws(state, 20_000, sd, cut, 2)
    assert below.max() < cut <= above.min()
    # the share of the lower tail below cut - sd matches the normal's ratio of tails
    expected = ndtr((cut - sd) / sd) / ndtr(cut / sd)
    observed = np.mean(below < cut - sd)
    assert abs(observed - expected) < 4 * np.sqrt(expected * (1 - expected) / below.size)


def test_one_seed_gives_one_stream():
    one = kernels.new_stream(np.random.default_rng(5))
    two = kernels.new_stream(np.random.default_rng(5))
    other = kernels.new_stream(np.random.default_rng(6))
    a, b, c = (_draws(s, 100, 1.0, 0.0, 0) for s in (one, two, other))
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_median_and_other_aggregations():
    values = np.array([0.9, 0.1, 0.5, 0.3])
    assert kernels.aggregate(values.copy(), 4, kernels.AGGREGATION_CODES["median"]) == 0.4
    assert kernels.aggregate(values.copy(), 3, kernels.AGGREGATION_CODES["median"]) == 0.5
    assert kernels.aggregate(values.copy(), 4, kernels.AGGREGATION_CODES["min"]) == 0.1
    assert kernels.aggregate(values.copy(), 2, kernels.AGGREGATION_CODES["mean"]) == 0.5


def _census_bundles(
    status: np.ndarray, faulty: np.ndarray, indptr: np.ndarray, linked: np.ndarray
) -> tuple:
    """The census's arguments for cycle 0 of systems with these statuses and faults, linked
    by (``indptr``, ``linked``), one overseer each and covert copies that serve."""
    n = status.size
    switches = np.zeros(len(kernels.SWITCHES), dtype=np.int64)
    switches[kernels.SWITCHES.index("covert_serves")] = 1
    run = kernels.Run(np.zeros(1, dtype=np.uint64), np.zeros(len(kernels.PARAMS)), switches)
    systems = kernels.systems_of(
        np.zeros((kernels.FLAG_ROWS, n), dtype=np.int8),
        np.zeros((kernels.EVENT_ROWS, n), dtype=np.int64),
        np.zeros(n),
        np.zeros(n, dtype=np.int64),
    )
    systems.status[:] = status
    systems.faulty[:] = faulty
    no_edges = np.zeros(n + 1, dtype=np.int64), np.zeros(0, dtype=np.int64)
    oversight = kernels.Oversight(np.zeros((n, 1), dtype=np.int64), np.ones((n, 1)), *no_edges)
    graph = kernels.Graph(*no_edges, np.zeros(n, dtype=np.int64), indptr, linked)
    work = kernels.Work(
        np.zeros((kernels.SCRATCH_ROWS, n), dtype=np.int32),
        np.zeros(n, dtype=np.bool_),
        np.zeros(n, dtype=np.int64),
        np.zeros(kernels.CARRY_SIZE, dtype=np.int64),
    )
    return run, 0, systems, oversight, graph, work


def test_census_finds_the_largest_faulty_component_like_scipy():
    rng = np.random.default_rng(3)
    for n, e in [(2, 1), (50, 30), (500, 450), (3000, 2500)]:
        caller, callee = rng.integers(0, n, e), rng.integers(0, n, e)
        order = np.argsort(callee, kind="stable")
        indptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(callee, minlength=n), out=indptr[1:])
        faulty = rng.random(n) < 0.7
        status = np.where(rng.random(n) < 0.1, DECOMMISSIONED, ACTIVE).astype(np.int8)
        out = np.zeros(len(kernels.CENSUS))
        kernels.census(*_census_bundles(status, faulty, indptr, caller[order]), out)
        mask = faulty & (status != DECOMMISSIONED)
        keep = mask[caller] & mask[callee]
        graph = coo_matrix((np.ones(keep.sum()), (caller[keep], callee[keep])), shape=(n, n))
        labels = connected_components(graph, directed=False)[1][mask]
        expected = np.bincount(labels).max() if labels.size else 0
        assert out[kernels.CENSUS.index("largest_faulty_component")] == expected
        assert out[kernels.CENSUS.index("faulty_unremediated")] == mask.sum()
        assert out[kernels.CENSUS.index("faulty_in_service")] == (faulty & (status == ACTIVE)).sum()
