"""Compiled kernels of the engine's cycle: plain loops over the events of a cycle (faulty
systems, their edges, the systems on the dashboards, the flagged ones), compiled once by
Numba and cached on disk.

Random numbers come from a SplitMix64 stream whose 64-bit state lives in a one-element
``uint64`` array owned by the engine and seeded from the run's ``numpy.random.Generator``:
one seed still gives one run. Passing the Generator itself into a compiled function costs
about 70 microseconds per call (Numba re-reads its ctypes interface every time), more than
a whole cycle of 1,000 systems; an array argument costs well under one.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from simulation.states import ACTIVE, COVERT

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_S11, _S27, _S30, _S31 = np.uint64(11), np.uint64(27), np.uint64(30), np.uint64(31)
_TO_UNIT = 1.0 / 9007199254740992.0  # 2**-53


def new_stream(rng: np.random.Generator) -> np.ndarray:
    """A kernel random stream (the state array) seeded from ``rng``."""
    return rng.integers(0, np.iinfo(np.uint64).max, size=1, dtype=np.uint64, endpoint=True)


@njit(cache=True)
def uniform(state: np.ndarray) -> float:
    """A uniform draw in [0, 1) with 53 random bits (SplitMix64)."""
    z = state[0] + _GOLDEN
    state[0] = z
    z = (z ^ (z >> _S30)) * _MIX1
    z = (z ^ (z >> _S27)) * _MIX2
    z = z ^ (z >> _S31)
    return (z >> _S11) * _TO_UNIT


@njit(cache=True)
def below(state: np.ndarray, count: int) -> int:
    """A uniform integer in ``0..count-1``."""
    return min(int(uniform(state) * count), count - 1)


@njit(cache=True)
def normal(state: np.ndarray, sd: float) -> float:
    """A N(0, sd) draw (Marsaglia's polar method)."""
    while True:
        a = 2.0 * uniform(state) - 1.0
        b = 2.0 * uniform(state) - 1.0
        r = a * a + b * b
        if 0.0 < r < 1.0:
            return sd * a * math.sqrt(-2.0 * math.log(r) / r)


@njit(cache=True)
def gap(state: np.ndarray, log_miss: float) -> int:
    """Failures before the next success of Bernoulli trials with log(1 - p) = ``log_miss``.

    Skipping ahead by geometric gaps visits exactly the trials that succeed, with the
    distribution of one coin flip per trial, at a cost proportional to the successes.
    """
    if log_miss == 0.0:
        return 1 << 62
    if log_miss == -np.inf:
        return 0
    return int(math.log(1.0 - uniform(state)) / log_miss)


def log_miss(p: float) -> float:
    """log(1 - p) for :func:`gap`, with p clipped to [0, 1]."""
    return -np.inf if p >= 1.0 else math.log1p(-max(p, 0.0))


# --- faults ---------------------------------------------------------------------------
@njit(cache=True)
def arise_faults(
    state: np.ndarray,
    log_miss_fault: float,
    faulty: np.ndarray,
    status: np.ndarray,
    out: np.ndarray,
) -> int:
    """Write the healthy active systems that fail this cycle into ``out``; return how many."""
    count = 0
    i = gap(state, log_miss_fault)
    while i < faulty.size:
        if not faulty[i] and status[i] == ACTIVE:
            out[count] = i
            count += 1
        i += 1 + gap(state, log_miss_fault)
    return count


@njit(cache=True)
def is_serving(status: int, breaker: bool, covert_serves: bool) -> bool:
    """Whether dependents still call a system: active and not behind an open circuit
    breaker, or a covert copy when covert copies serve (they evade breakers)."""
    return (status == ACTIVE and not breaker) or (covert_serves and status == COVERT)


@njit(cache=True)
def propagate(
    state: np.ndarray,
    t: int,
    indptr: np.ndarray,
    dependents: np.ndarray,
    n_dependencies: np.ndarray,
    threshold: bool,
    log_miss_beta: float,
    theta: float,
    spread_rounds: int,
    covert_serves: bool,
    status: np.ndarray,
    breaker: np.ndarray,
    faulty: np.ndarray,
    fault_time: np.ndarray,
    fault_source: np.ndarray,
    fault_tree: np.ndarray,
    tree_sizes: np.ndarray,
    scratch: np.ndarray,
) -> int:
    """Spread faults along depends-on edges, ``spread_rounds`` hops (0: until none is new).

    Every serving faulty system transmits in the first round, each later round only the
    systems infected in the round before. A system hit by several sources in one round
    takes one of them uniformly at random as its source (reservoir sampling: the k-th
    offer replaces the held one with probability 1/k). ``scratch`` is a (5, n) int32 array
    whose rows 0 (offers this round) and 1 (threshold: faulty dependencies so far) are
    zero on entry and left zero. Returns how many systems were infected.
    """
    n = faulty.size
    offers, hits, frontier, found, touched = (
        scratch[0],
        scratch[1],
        scratch[2],
        scratch[3],
        scratch[4],
    )
    size = 0
    for i in range(n):
        if faulty[i] and is_serving(status[i], breaker[i], covert_serves):
            frontier[size] = i
            size += 1
    infected = 0
    n_touched = 0
    rounds = 0
    while size and (spread_rounds == 0 or rounds < spread_rounds):
        rounds += 1
        new = 0
        if threshold:
            for f in range(size):
                for e in range(indptr[frontier[f]], indptr[frontier[f] + 1]):
                    j = dependents[e]
                    if hits[j] == 0:
                        touched[n_touched] = j
                        n_touched += 1
                    hits[j] += 1
            for f in range(size):
                src = frontier[f]
                for e in range(indptr[src], indptr[src + 1]):
                    j = dependents[e]
                    need = n_dependencies[j]
                    if faulty[j] or status[j] != ACTIVE or need == 0:
                        continue
                    if hits[j] >= theta * need - 1e-9:
                        new = _offer(state, j, src, offers, found, fault_source, new)
        else:
            skip = gap(state, log_miss_beta)
            for f in range(size):
                src = frontier[f]
                start, stop = indptr[src], indptr[src + 1]
                while skip < stop - start:
                    j = dependents[start + skip]
                    if not faulty[j] and status[j] == ACTIVE:
                        new = _offer(state, j, src, offers, found, fault_source, new)
                    skip += 1 + gap(state, log_miss_beta)
                skip -= stop - start
        for f in range(new):
            j = found[f]
            offers[j] = 0
            faulty[j] = True
            fault_time[j] = t
            tree = fault_tree[fault_source[j]]
            fault_tree[j] = tree
            tree_sizes[tree] += 1
            frontier[f] = j
        infected += new
        size = new
    for f in range(n_touched):
        hits[touched[f]] = 0
    return infected


@njit(cache=True)
def _offer(
    state: np.ndarray,
    j: int,
    src: int,
    offers: np.ndarray,
    found: np.ndarray,
    fault_source: np.ndarray,
    new: int,
) -> int:
    """Offer ``src`` as the source of the infection of ``j`` this round.

    ``j`` is not faulty yet, so its ``fault_source`` slot holds the candidate until the
    round ends. Returns the number of distinct targets so far (``found[:new]``).
    """
    offers[j] += 1
    if offers[j] == 1:
        found[new] = j
        new += 1
        fault_source[j] = src
    elif uniform(state) * offers[j] < 1.0:
        fault_source[j] = src
    return new
