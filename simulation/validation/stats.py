"""Sampling-error intervals used by the validation checks.

* :func:`wilson` - score interval of a binomial proportion (good coverage even for rates near
  0 or 1, where the normal approximation fails; several study cells are 0 % or ~1 %);
* :func:`newcombe` - interval of a difference of two independent proportions (hybrid score,
  Newcombe 1998, method 10), for the study's "points above baseline" and "unmonitored minus
  monitored" cells;
* :func:`family_z` - the normal quantile that keeps a family of ``k`` two-sided checks at an
  overall error rate ``alpha`` (Bonferroni), so a test over many cells fails by chance with
  probability at most ``alpha``.

Example:
    >>> lo, hi = wilson(30, 600)
    >>> round(lo, 3), round(hi, 3)
    (0.035, 0.07)
"""

from __future__ import annotations

import math

import numpy as np
from scipy.stats import norm

Z95 = float(norm.ppf(0.975))


def wilson(successes: float, trials: float, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval of ``successes / trials`` at normal quantile ``z``."""
    if trials <= 0:
        return (0.0, 1.0)
    p = successes / trials
    denom = 1.0 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denom
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denom
    low = 0.0 if successes <= 0 else max(0.0, centre - half)
    high = 1.0 if successes >= trials else min(1.0, centre + half)
    return (low, high)


def newcombe(x1: float, n1: float, x2: float, n2: float, z: float = Z95) -> tuple[float, float]:
    """Interval of ``x1/n1 - x2/n2`` from the two Wilson intervals (Newcombe's hybrid score)."""
    p1, p2 = x1 / n1, x2 / n2
    l1, u1 = wilson(x1, n1, z)
    l2, u2 = wilson(x2, n2, z)
    d = p1 - p2
    return (
        d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2),
        d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2),
    )


def family_z(k: int, alpha: float = 0.05) -> float:
    """Two-sided normal quantile for ``k`` simultaneous checks at overall level ``alpha``."""
    return float(norm.ppf(1.0 - alpha / (2 * max(1, k))))


def variability(sizes: np.ndarray) -> float:
    """Relative spread ``std / mean`` of outbreak sizes (peaks at an SIR threshold)."""
    sizes = np.asarray(sizes, dtype=np.float64)
    mean = sizes.mean()
    return float(sizes.std() / mean) if mean > 0 else 0.0
