"""Score a search's policies over its scenarios, and find the non-dominated ones.

Every policy (a search candidate, the baseline or a comparison arm) runs on the same
scenarios with the same seeds. For each policy, outcome and scenario the *scenario value*
is the mean over the scenario's finished replicates. A policy's score of an outcome is,
over the scenarios:

- ``mean``: the mean of its scenario values;
- ``quantile``: the ``q`` quantile on the outcome's bad side (``q`` of the scenarios are
  at least as good: the upper quantile of a minimised outcome, the lower of a maximised
  one);
- ``max-regret``: its largest *regret*, the distance (toward worse) of its scenario value
  from the best scenario value of any policy evaluated there, so 0 for a policy that is
  best in every scenario. A constraint is judged on the mean instead (a budget bounds
  hours, not regrets of hours).

Each score has a 95 % percentile bootstrap interval over the scenarios (resampled with
one fixed seed, so the same values always give the same interval). A policy missing a
scenario value of a scored outcome (every replicate failed, or the outcome undefined
there) cannot be scored: its score is NaN and it is left out of the front.

All objectives are turned into minimisation by their sign, and the front is the set of
feasible policies no other feasible policy dominates (as good in every objective, better
in one). Hypervolume (:func:`hypervolume`) measures a front: the volume it dominates
below a reference point, in objectives normalised by :class:`Normaliser`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from simulation.experiments.study import Constraint, Objective, SearchSettings

BOOTSTRAP_RESAMPLES = 1000
BOOTSTRAP_SEED = 20261207
LEVEL = 0.95


def scenario_values(runs: pd.DataFrame, outcomes: Sequence[str]) -> dict[str, pd.DataFrame]:
    """Per outcome, a table of policies (rows, by ``arm``) by scenarios (columns): the mean
    over each scenario's finished replicates (NaN where none finished)."""
    ok = runs[runs["status"] == "ok"]
    policies = pd.Index(sorted(runs["arm"].unique()), name="arm")
    scenarios = pd.Index(sorted(runs["scenario"].unique()), name="scenario")
    means = ok.groupby(["arm", "scenario"])[list(outcomes)].mean()
    return {
        name: means[name].unstack("scenario").reindex(index=policies, columns=scenarios)
        for name in outcomes
    }


@dataclass(frozen=True)
class Scores:
    """Each policy's score of each scored outcome, with its interval (policies as rows)."""

    value: pd.DataFrame
    low: pd.DataFrame
    high: pd.DataFrame


def _bootstrap_indices(scenarios: int) -> np.ndarray:
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    return rng.integers(0, scenarios, size=(BOOTSTRAP_RESAMPLES, scenarios))


def _reduce(values: np.ndarray, how: str, q: float) -> np.ndarray:
    """Reduce the last axis (scenarios) of bad-side-up values: mean, quantile or max."""
    if how == "mean":
        return values.mean(axis=-1)
    if how == "quantile":
        return np.quantile(values, q, axis=-1)
    return values.max(axis=-1)


def score_outcome(
    table: pd.DataFrame, sense: str, how: str, q: float = 0.9
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Score every policy (row) of one outcome's scenario table; ``sense`` is ``min`` or
    ``max`` (which side is bad), ``how`` ``mean``, ``quantile`` or ``max-regret``.

    Returns the scores and their bootstrap interval, in the outcome's own direction (a
    regret is >= 0, lower better, whatever the sense).
    """
    values = table.to_numpy(dtype=np.float64)
    sign = 1.0 if sense == "min" else -1.0
    if values.size == 0:
        empty = np.full(len(table), np.nan)
        return empty, empty, empty
    bad_up = sign * values  # higher is worse from here on
    if how == "max-regret":
        best = np.nanmin(bad_up, axis=0) if np.isfinite(bad_up).any() else bad_up[0]
        bad_up, sign = bad_up - best, 1.0
    complete = np.isfinite(bad_up).all(axis=1)
    score = np.full(len(table), np.nan)
    low = np.full(len(table), np.nan)
    high = np.full(len(table), np.nan)
    if complete.any():
        rows = bad_up[complete]
        score[complete] = sign * _reduce(rows, how, q)
        resampled = rows[:, _bootstrap_indices(rows.shape[1])]  # policies x B x scenarios
        spread = sign * _reduce(resampled, how, q)
        bounds = np.quantile(spread, [(1 - LEVEL) / 2, (1 + LEVEL) / 2], axis=1)
        low[complete], high[complete] = bounds.min(axis=0), bounds.max(axis=0)
    return score, low, high


def score_policies(
    tables: dict[str, pd.DataFrame],
    objectives: Sequence[Objective],
    constraints: Sequence[Constraint],
    settings: SearchSettings,
) -> Scores:
    """Score every policy on the objectives (by ``settings.score``) and the constrained
    outcomes (by the same score, or the mean where the objectives use max-regret)."""
    how = settings.score
    senses = {o.name: o.sense for o in objectives}
    plan = [(o.name, o.sense, how) for o in objectives]
    for c in constraints:
        if c.name not in senses:
            plan.append((c.name, "min" if c.high is not None else "max", how))
    index = next(iter(tables.values())).index
    value, low, high = (pd.DataFrame(index=index) for _ in range(3))
    for name, sense, method in plan:
        if method == "max-regret" and name not in senses:
            method = "mean"
        s, lo, hi = score_outcome(tables[name], sense, method, settings.quantile)
        value[name], low[name], high[name] = s, lo, hi
    return Scores(value, low, high)


def constraint_values(
    tables: dict[str, pd.DataFrame],
    constraints: Sequence[Constraint],
    settings: SearchSettings,
) -> pd.DataFrame:
    """Each policy's value of each constrained outcome, as the constraint judges it (the
    search's score; the mean where that score is max-regret)."""
    index = next(iter(tables.values())).index
    found = pd.DataFrame(index=index)
    how = "mean" if settings.score == "max-regret" else settings.score
    for c in constraints:
        sense = "min" if c.high is not None else "max"
        found[c.name] = score_outcome(tables[c.name], sense, how, settings.quantile)[0]
    return found


def minimised(scores: pd.DataFrame, objectives: Sequence[Objective], how: str) -> np.ndarray:
    """The objectives' scores as a matrix to minimise (policies x objectives): a maximised
    outcome's score negated; a regret (``how`` = ``max-regret``) is minimised as it is."""
    columns = [scores[o.name].to_numpy(dtype=np.float64) for o in objectives]
    signs = [1.0 if how == "max-regret" or o.sense == "min" else -1.0 for o in objectives]
    return np.column_stack(columns) * np.array(signs)


def non_dominated(points: np.ndarray) -> np.ndarray:
    """Mask of the rows of ``points`` (to minimise) that no other row dominates; rows with a
    NaN are never in it. Equal rows are all kept."""
    points = np.asarray(points, dtype=np.float64)
    valid = np.isfinite(points).all(axis=1)
    mask = valid.copy()
    if not valid.any():
        return mask
    p = points[valid]
    no_worse = (p[:, None, :] <= p[None, :, :]).all(axis=2)  # [j, i]: j no worse than i
    better = (p[:, None, :] < p[None, :, :]).any(axis=2)
    dominated = (no_worse & better).any(axis=0)
    mask[np.flatnonzero(valid)] = ~dominated
    return mask


@dataclass(frozen=True)
class Normaliser:
    """Maps minimised objectives onto [0, 1] by the range of a first set of points (the
    first generation), so hypervolumes of later generations are comparable; the
    reference point is 1.1 in every objective."""

    ideal: np.ndarray
    nadir: np.ndarray
    reference: float = 1.1

    @classmethod
    def of(cls, points: np.ndarray) -> Normaliser:
        points = np.asarray(points, dtype=np.float64)
        return cls(points.min(axis=0), points.max(axis=0))

    def __call__(self, points: np.ndarray) -> np.ndarray:
        span = np.where(self.nadir > self.ideal, self.nadir - self.ideal, 1.0)
        return (np.asarray(points, dtype=np.float64) - self.ideal) / span


def hypervolume(points: np.ndarray, reference: float | Sequence[float]) -> float:
    """The volume that ``points`` (to minimise, 1 to 3 objectives) dominate below the
    reference point; points not below it in every objective add nothing. Exact: a sweep
    in two objectives, slabs of two-objective sweeps in three."""
    points = np.asarray(points, dtype=np.float64).reshape(len(points), -1)
    ref = np.broadcast_to(np.asarray(reference, dtype=np.float64), points.shape[1:])
    inside = points[np.isfinite(points).all(axis=1) & (points < ref).all(axis=1)]
    if inside.size == 0:
        return 0.0
    d = inside.shape[1]
    if d == 1:
        return float(ref[0] - inside[:, 0].min())
    if d == 2:
        return _hv2(inside, ref)
    if d == 3:
        order = np.argsort(inside[:, 2], kind="stable")
        p = inside[order]
        levels = np.append(p[:, 2], ref[2])
        volume = 0.0
        for k in range(len(p)):
            depth = levels[k + 1] - levels[k]
            if depth > 0:
                volume += depth * _hv2(p[: k + 1, :2], ref[:2])
        return float(volume)
    raise ValueError(f"hypervolume of {d} objectives: 1 to 3 are supported")


def _hv2(points: np.ndarray, ref: np.ndarray) -> float:
    order = np.lexsort((points[:, 1], points[:, 0]))
    p = points[order]
    best_y = np.minimum.accumulate(p[:, 1])
    next_x = np.append(p[1:, 0], ref[0])
    return float(np.sum((next_x - p[:, 0]) * (ref[1] - best_y)))
