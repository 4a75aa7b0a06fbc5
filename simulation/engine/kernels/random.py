"""Random numbers for the compiled cycle: a SplitMix64 stream and the draws built on it
(uniform, integer, normal, geometric gaps, binomial, tails of the normal).

The stream's 64-bit state lives in a one-element ``uint64`` array owned by the engine and
seeded from the run's ``numpy.random.Generator``: one seed still gives one run. Passing the
Generator itself into a compiled function costs about 70 microseconds per call (Numba
re-reads its ctypes interface every time), more than a whole cycle of 1,000 systems; an
array argument costs well under one.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from simulation.engine import compile_cache  # noqa: F401  (sets the cache folder first)

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_S11, _S27, _S30, _S31 = np.uint64(11), np.uint64(27), np.uint64(30), np.uint64(31)
_TO_UNIT = 1.0 / 9007199254740992.0  # 2**-53
NEVER = 1 << 62
"""A gap no run reaches: the trial after it would be past any array's end."""


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
    A gap of :data:`NEVER` or more (p = 0, or a p so small, 1e-300 say, that the quotient
    would not fit an integer) is :data:`NEVER`: no trial of any run succeeds.
    """
    if log_miss == 0.0:
        return NEVER
    if log_miss == -np.inf:
        return 0
    skip = math.log(1.0 - uniform(state)) / log_miss
    return int(skip) if skip < NEVER else NEVER


def log_miss(p: float) -> float:
    """log(1 - p) for :func:`gap`, with p clipped to [0, 1]."""
    return -np.inf if p >= 1.0 else math.log1p(-max(p, 0.0))


@njit(cache=True)
def normal_below(state: np.ndarray, sd: float, cut: float) -> float:
    """A N(0, sd) draw conditioned on being below ``cut``.

    Plain rejection when at least one draw in six is accepted; deeper in the lower tail,
    Robert's (1995) exponential proposal, which accepts most of its draws at any depth.
    """
    if sd == 0.0:
        return 0.0
    depth = -cut / sd
    if depth < 1.0:
        while True:
            x = normal(state, 1.0)
            if x < -depth:
                return sd * x
    rate = 0.5 * (depth + math.sqrt(depth * depth + 4.0))
    while True:
        z = depth - math.log(1.0 - uniform(state)) / rate
        if uniform(state) <= math.exp(-0.5 * (z - rate) ** 2):
            return -sd * z


@njit(cache=True)
def normal_at_least(state: np.ndarray, sd: float, cut: float) -> float:
    """A N(0, sd) draw conditioned on being at or above ``cut`` (used where that is likely)."""
    while True:
        x = normal(state, sd)
        if x >= cut:
            return x


@njit(cache=True)
def binomial(state: np.ndarray, trials: int, log_miss_p: float) -> int:
    """Successes in ``trials`` Bernoulli trials, by geometric skips (cost ~ successes)."""
    successes = 0
    i = gap(state, log_miss_p)
    while i < trials:
        successes += 1
        i += 1 + gap(state, log_miss_p)
    return successes
