"""Small statistics shared by the study reports: means with confidence intervals.

Replicates of a scenario are independent runs. Differences (a policy's paired effect) get
a Student-t interval ``mean +- t(0.975, n-1) * sd / sqrt(n)``. Outcomes themselves are
summarised with a bootstrap percentile interval of the mean, which stays inside the range
the values can take (a share or a count never gets a band below zero, as a t-interval of
two replicates easily would). With fewer than ``FEW_REPLICATES`` values no interval is
reliable, and the reports say so.

Example:
    >>> mean, low, high = mean_ci([1.0, 2.0, 3.0])
    >>> round(mean, 3), round(high - mean, 3)
    (2.0, 2.484)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy.special import stdtrit

from simulation.experiments.store import STATUS_OK


def _finite(values: Sequence[float] | np.ndarray) -> tuple[np.ndarray, float]:
    """The finite values and their mean (NaN when there are none)."""
    x = np.asarray(values, dtype=np.float64)
    x = x[np.isfinite(x)]
    return x, float(x.mean()) if x.size else float("nan")


def mean_ci(
    values: Sequence[float] | np.ndarray, level: float = 0.95
) -> tuple[float, float, float]:
    """Mean and t confidence interval of the finite values (NaN bounds with fewer than 2)."""
    x, mean = _finite(values)
    if x.size < 2:
        return mean, float("nan"), float("nan")
    half = float(stdtrit(x.size - 1, 0.5 + level / 2) * x.std(ddof=1) / np.sqrt(x.size))
    return mean, mean - half, mean + half


FEW_REPLICATES = 5
BOOTSTRAP_RESAMPLES = 4000
BOOTSTRAP_SEED = 20260101


def bootstrap_ci(
    values: Sequence[float] | np.ndarray, level: float = 0.95
) -> tuple[float, float, float]:
    """Mean and bootstrap percentile interval of the finite values (NaN bounds with fewer
    than 2). Resampling is seeded, so the same values always give the same interval, and
    the bounds lie between the smallest and largest value.

    >>> mean, low, high = bootstrap_ci([0.0, 0.0, 1.0])
    >>> low >= 0.0 and high <= 1.0
    True
    """
    x, mean = _finite(values)
    if x.size < 2:
        return mean, float("nan"), float("nan")
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    means = x[rng.integers(0, x.size, size=(BOOTSTRAP_RESAMPLES, x.size))].mean(axis=1)
    low, high = np.quantile(means, [0.5 - level / 2, 0.5 + level / 2])
    return mean, float(low), float(high)


def ok_runs(frame: pd.DataFrame) -> pd.DataFrame:
    """Only the runs that finished."""
    return frame[frame["status"] == STATUS_OK]


def group_summary(
    frame: pd.DataFrame, by: Sequence[str], outcomes: Sequence[str], level: float = 0.95
) -> pd.DataFrame:
    """One row per group and outcome: ``n``, ``mean``, ``ci_low``, ``ci_high`` (bootstrap
    percentile interval of the mean, see :func:`bootstrap_ci`).

    Groups keep the order in which they first appear (run-key order for a factorial).
    """
    ok = ok_runs(frame)
    records = []
    groups = ok.groupby(list(by), sort=False, dropna=False) if by else [((), ok)]
    for key, part in groups:
        key = key if isinstance(key, tuple) else (key,)
        for outcome in outcomes:
            values = part[outcome].to_numpy(dtype=np.float64, na_value=np.nan)
            mean, low, high = bootstrap_ci(values, level)
            n = int(np.isfinite(values).sum())
            records.append(
                {
                    **dict(zip(by, key, strict=True)),
                    "outcome": outcome,
                    "n": n,
                    "mean": mean,
                    "ci_low": low,
                    "ci_high": high,
                }
            )
    return pd.DataFrame.from_records(
        records, columns=[*by, "outcome", "n", "mean", "ci_low", "ci_high"]
    )
