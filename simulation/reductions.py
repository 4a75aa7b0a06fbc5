"""How a run's per-cycle metrics are reduced to one number: the run's record (its columns
and cascade trees) and the reductions every outcome of :mod:`simulation.metrics` is built
from (mean, peak, total, ratio of totals, weighted mean, the censored remediation time).

Example:
    >>> record = RunRecord({"faulty_share": [0.1, 0.3]}, np.zeros(0, np.int64), 10)
    >>> round(mean_of("faulty_share")(record), 3)
    0.2
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class RunRecord:
    """What a run leaves to be reduced: its metrics over the cycles (one sequence per
    column, as the engine's ``metric_columns``) and its cascade tree sizes. A column is read
    as a float array once, on first use, so a run's outcomes need no DataFrame.
    """

    columns: Mapping[str, Sequence[float]]
    cascade_sizes: np.ndarray
    n_systems: int
    _floats: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    def column(self, name: str) -> np.ndarray:
        """The metric ``name`` over the run's cycles, as float64 (NaN where undefined)."""
        values = self._floats.get(name)
        if values is None:
            values = np.asarray(self.columns[name], dtype=np.float64)
            self._floats[name] = values
        return values


#: The directions an outcome can improve in (see :attr:`Outcome.better`).


# --- reductions over a run ---------------------------------------------------------------
def _sum(values: np.ndarray) -> float:
    """Sum over the cycles where the metric is defined (as pandas sums, NaN skipped):
    ``np.nansum``'s result without its checks and copies, which cost more than the sum."""
    return float(np.add.reduce(np.where(np.isnan(values), 0.0, values)))


def mean_of(column: str) -> Callable[[RunRecord], float]:
    def reduce(r: RunRecord) -> float:
        values = r.column(column)
        defined = int(np.count_nonzero(~np.isnan(values)))
        return _sum(values) / defined if defined else float("nan")

    return reduce


def peak_of(column: str) -> Callable[[RunRecord], float]:
    def reduce(r: RunRecord) -> float:
        values = r.column(column)
        return float(np.nanmax(values)) if not np.isnan(values).all() else float("nan")

    return reduce


def total_of(column: str) -> Callable[[RunRecord], float]:
    return lambda r: _sum(r.column(column))


def ratio_of_totals(numerator: str, denominator: str) -> Callable[[RunRecord], float]:
    def reduce(r: RunRecord) -> float:
        below = _sum(r.column(denominator))
        return _sum(r.column(numerator)) / below if below else float("nan")

    return reduce


def _weighted_sum(r: RunRecord, column: str, weight: str) -> float:
    """Sum of ``column`` x ``weight`` over the cycles, a cycle where ``column`` is undefined
    counting 0 (its weight is then 0 too: a mean over no events)."""
    return _sum(np.nan_to_num(r.column(column), nan=0.0) * r.column(weight))


def weighted_mean(column: str, weight: str) -> Callable[[RunRecord], float]:
    def reduce(r: RunRecord) -> float:
        total = _sum(r.column(weight))
        return _weighted_sum(r, column, weight) / total if total else float("nan")

    return reduce


def _downtime(r: RunRecord) -> float:
    return _sum(r.n_systems - r.column("in_service"))


def _faults_ended_and_open(r: RunRecord) -> tuple[float, float, float, float]:
    """Remediated faults and their summed times; faults still open at the end and their ages."""
    remediated = _sum(r.column("remediated"))
    times = _weighted_sum(r, "remediation_time_mean", "remediated")
    return (
        remediated,
        times,
        float(r.column("faulty_unremediated")[-1]),
        float(r.column("unremediated_age_sum")[-1]),
    )


def _restricted_remediation_time(r: RunRecord) -> float:
    remediated, times, still_open, ages = _faults_ended_and_open(r)
    faults = remediated + still_open
    return (times + ages) / faults if faults else float("nan")


def _unremediated_share(r: RunRecord) -> float:
    remediated, _, still_open, _ = _faults_ended_and_open(r)
    faults = remediated + still_open
    return still_open / faults if faults else float("nan")


def _cascades(r: RunRecord) -> np.ndarray:
    return r.cascade_sizes if r.cascade_sizes.size else np.zeros(1)
