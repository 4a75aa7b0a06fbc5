"""How robust a what-if's verdicts are: each arm's paired effect read scenario by scenario.

A what-if's ``[vary]`` holds what the study is unsure of (structural assumptions such as
``stand_in``, unmeasured numbers such as ``fault_rate``), and every arm meets the same
scenarios with the same seeds. The pooled effect (:mod:`~simulation.experiments.whatif`)
averages over them; this module asks instead whether an arm's effect holds in every
scenario, and if not, which assumption it hangs on.

**Per scenario.** For each arm (not the baseline), outcome and scenario: the paired
differences ``arm - baseline`` over the scenario's replicates, their mean (the scenario's
*effect*) and Student-t 95 % interval. The effect is *better* in that scenario when the
whole interval lies on the better side of zero (below it for an outcome where lower is
better, :attr:`simulation.metrics.Outcome.better`), *worse* when it lies on the other
side. A scenario with a single finished pair has no interval: it is judged by the sign of
its difference alone (an exact zero, as an arm with no mechanism gives under common random
numbers, is neither), so a study of one replicate per scenario still reads, but noisier.

**Per arm and outcome** (a row of ``robustness.csv``):

- ``scenarios``: scenarios with at least one finished pair (arm and baseline).
- ``share_better`` / ``share_worse``: the share of those scenarios where the effect is
  better / worse beyond its own interval.
- ``median_effect``: the median of the scenarios' effects, in the outcome's stored unit
  (shares as fractions: 0.052 is 5.2 percentage points).
- ``worst_effect``: the effect of the scenario where it is worst in the outcome's
  direction (the highest for lower-is-better), better or not.
- ``max_regret``: per scenario, the distance of the arm's mean outcome from the best mean
  of any arm there (the baseline included); its largest value over the scenarios. An arm
  that is best everywhere has 0.
- ``verdict``, by the first rule that applies:

  1. ``no effect``: no scenario has finished runs of both arms; or the arm's every lever
     has no mechanism under the study's assumptions in every scenario
     (:func:`~simulation.experiments.mechanisms.inert_arms`; the shares keep what was
     measured, e.g. the evaluator reshuffle of cross-family oversight at
     ``family_loyalty = 1``); or ``share_better == share_worse == 0``.
  2. ``robust better``: ``share_worse == 0``, ``share_better >= 0.5`` (better beyond
     its interval in at least half the scenarios, worse in none), and better on either
     side of every split of the scenarios by one assumption (see ``depends_on``: each
     side's median effect is better and more of its scenarios are better than worse),
     so that no assumption, whichever way it goes, leaves the arm without its effect.
  3. ``robust worse``: the same with better and worse exchanged.
  4. ``depends``: anything else: better in some scenarios and worse in others; better
     (or worse) in fewer than half of them and neutral in the rest; or better (worse)
     under one side of an assumption only, e.g. in the upper half of ``fault_rate``.

- ``depends_on`` (``depends`` verdicts; ``no mechanism: <reasons>`` for an arm without
  one, else empty): the assumption the effect hangs on. Each varied factor splits the
  scenarios in two: a numeric one at the median of its values over the scenarios (lower
  half ``<= m``, upper ``> m``), a categorical one into each choice against the rest (one
  split for two choices). On each side: the median effect, and how many scenarios are
  better and worse. A side *is better* when its median effect is on the better side and
  more of its scenarios are better than worse; *is worse* likewise. A split *flips the
  sign* when one side is better and the other worse. Among the splits that flip, the
  one that moves the balance ``(better - worse) / scenarios`` most between its sides is
  named (ties: the larger gap between the medians), with the other factors that flip too;
  if none flips, the split that moves the balance most, said not to flip. The text gives
  both sides' median effects in display units (shares in pp) and their counts, so a
  reader can check it against the per-scenario effects, e.g.
  ``stand_in: human -> +5.2 pp (worse in 4 of 4), others -> -6.4 pp (better in 7 of 8)``.

Example:
    >>> table = robustness(frame, study)  # doctest: +SKIP
    >>> write_robustness("results/oversight-whatif", table)  # doctest: +SKIP
    PosixPath('results/oversight-whatif/robustness.csv')
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import stdtrit

from simulation.experiments.splits import (  # noqa: F401 - robustness's own names too
    Cells,
    Side,
    Split,
    SplitReading,
    cells_by_arm,
    depends_on,
    direction,
    effect_text,
    side_effects,
    split_readings,
    splits,
)
from simulation.experiments.stats import ok_runs
from simulation.experiments.study import BASELINE, Study
from simulation.experiments.whatif import _Pairs
from simulation.reports.output import write_atomic

ROBUSTNESS_FILE = "robustness.csv"
COLUMNS = (
    "arm",
    "outcome",
    "scenarios",
    "share_better",
    "share_worse",
    "median_effect",
    "worst_effect",
    "max_regret",
    "verdict",
    "depends_on",
)
ROBUST_BETTER = "robust better"
ROBUST_WORSE = "robust worse"
NO_EFFECT = "no effect"
DEPENDS = "depends"
VERDICTS = (ROBUST_BETTER, ROBUST_WORSE, DEPENDS, NO_EFFECT)
#: The least share of scenarios better (worse) beyond their interval for a robust verdict.
ROBUST_SHARE = 0.5
SCENARIO_COLUMNS = (
    "arm",
    "outcome",
    "scenario",
    "n",
    "effect",
    "ci_low",
    "ci_high",
    "better",
    "worse",
    "regret",
)


# --------------------------------------------------------------------------------------
# Scenario by scenario


def scenario_factors(frame: pd.DataFrame, study: Study) -> pd.DataFrame:
    """The varied values of each scenario, one row per scenario (indexed by its number)
    and one column per varied parameter: read from the stored runs, which hold every
    parameter of their run, or from the study's design when the frame lacks a column."""
    names = list(study.varied)
    if all(name in frame.columns for name in names) and not frame.empty:
        return frame.groupby("scenario", sort=True)[names].first()
    from simulation.experiments.design import scenarios

    _, values, _ = scenarios(study)
    index = pd.RangeIndex(len(values), name="scenario")
    return pd.DataFrame(list(values), index=index, columns=names)


def _arm_means(frame: pd.DataFrame, outcomes: Sequence[str]) -> pd.DataFrame:
    """Mean of each outcome per scenario (rows) and (outcome, arm) (columns), over the
    finished runs where it is defined."""
    ok = ok_runs(frame)
    values = ok[list(outcomes)].apply(pd.to_numeric, errors="coerce")
    return values.groupby([ok["scenario"], ok["arm"]]).mean().unstack("arm")


def _grouped_t(
    groups: np.ndarray, values: np.ndarray, level: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per distinct value of ``groups``: the values' count, mean and t-interval half-width
    (NaN below two values), as :func:`~simulation.experiments.stats.mean_ci` gives them;
    and the distinct groups, in increasing order."""
    keys, inverse = np.unique(groups, return_inverse=True)
    n = np.bincount(inverse, minlength=keys.size)
    mean = np.bincount(inverse, values, keys.size) / n
    squares = np.bincount(inverse, (values - mean[inverse]) ** 2, keys.size)
    with np.errstate(invalid="ignore", divide="ignore"):
        sd = np.sqrt(squares / (n - 1))
        t = stdtrit(np.maximum(n - 1, 1), 0.5 + level / 2)
        half = np.where(n >= 2, t * sd / np.sqrt(n), np.nan)
    return keys, n, mean, half


def scenario_effects(
    frame: pd.DataFrame,
    study: Study,
    outcomes: Sequence[str] | None = None,
    level: float = 0.95,
) -> pd.DataFrame:
    """One row per arm, outcome and scenario (with finished pairs): the number of pairs
    ``n``, the mean paired effect and its t-interval (as
    :func:`~simulation.experiments.stats.mean_ci` gives it; NaN with one pair), whether it
    is ``better`` or ``worse`` beyond that interval (by sign alone with one pair), and the
    arm's ``regret`` there (distance of its mean outcome from the best arm's). Rows are in
    the order outcome, arm (as in the study), scenario."""
    outcomes = list(outcomes or study.outcomes)
    table = _Pairs(frame, outcomes)
    means = _arm_means(frame, outcomes)
    scenario_of = table.index.get_level_values("scenario").to_numpy(dtype=np.int64)
    parts = []
    for outcome in outcomes:
        sign = direction(outcome)
        arm_means = means[outcome]
        best = ((sign * arm_means).max(axis=1) * sign).to_numpy(dtype=np.float64)
        for arm in table.arms_present(study, outcome):
            both, base, value = table.pairs(outcome, arm)
            if not both.any():
                continue
            scenario, n, effect, half = _grouped_t(scenario_of[both], value - base, level)
            low, high = effect - half, effect + half
            # the interval's bounds in the better direction; with one pair, the effect
            good_low = np.where(n >= 2, np.minimum(sign * low, sign * high), sign * effect)
            good_high = np.where(n >= 2, np.maximum(sign * low, sign * high), sign * effect)
            rows = arm_means.index.get_indexer(scenario)
            mean = arm_means[arm].to_numpy(dtype=np.float64)[rows]
            parts.append(
                pd.DataFrame(
                    {
                        "arm": arm,
                        "outcome": outcome,
                        "scenario": scenario,
                        "n": n,
                        "effect": effect,
                        "ci_low": low,
                        "ci_high": high,
                        "better": good_low > 0,
                        "worse": good_high < 0,
                        "regret": np.abs(best[rows] - mean),
                    }
                )
            )
    if not parts:
        return pd.DataFrame(columns=list(SCENARIO_COLUMNS))
    return pd.concat(parts, ignore_index=True)


# --------------------------------------------------------------------------------------
# Per arm and outcome


def verdict(
    share_better: float,
    share_worse: float,
    no_mechanism: bool = False,
    sides: Sequence[str] = (),
) -> str:
    """The verdict from the shares of scenarios better and worse beyond their intervals
    and how every side of every split reads (``sides``: "better", "worse" or "unclear"),
    by the rules of the module's docstring, in order.

    >>> verdict(1.0, 0.0), verdict(0.2, 0.0), verdict(0.5, 0.25), verdict(0.0, 0.0)
    ('robust better', 'depends', 'depends', 'no effect')
    >>> verdict(0.5, 0.0, sides=["better", "unclear"])
    'depends'
    """
    if no_mechanism or (share_better == 0 and share_worse == 0):
        return NO_EFFECT
    if share_worse == 0 and share_better >= ROBUST_SHARE and set(sides) <= {"better"}:
        return ROBUST_BETTER
    if share_better == 0 and share_worse >= ROBUST_SHARE and set(sides) <= {"worse"}:
        return ROBUST_WORSE
    return DEPENDS


def robustness(
    frame: pd.DataFrame,
    study: Study,
    outcomes: Sequence[str] | None = None,
    level: float = 0.95,
    inert: Mapping[str, Sequence[str]] | None = None,
    per_scenario: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per arm (not the baseline) and outcome, with the columns :data:`COLUMNS`
    (see the module's docstring), arms and outcomes in the study's order.

    ``inert`` maps an arm with no mechanism to the reasons (computed by
    :func:`~simulation.experiments.mechanisms.inert_arms` when None); ``per_scenario`` is
    :func:`scenario_effects` of the same runs, when the caller has it."""
    outcomes = list(outcomes or study.outcomes)
    if inert is None:
        from simulation.experiments.mechanisms import inert_arms

        inert = inert_arms(study)
    if per_scenario is None:
        per_scenario = scenario_effects(frame, study, outcomes, level)
    factor_splits = splits(scenario_factors(frame, study))
    grouped = cells_by_arm(per_scenario)
    records = []
    for outcome in outcomes:
        sign = direction(outcome)
        for arm in study.arm_names[1:]:
            cells = grouped.get((arm, outcome))
            records.append(_row(arm, outcome, cells, sign, inert.get(arm), factor_splits))
    return pd.DataFrame.from_records(records, columns=list(COLUMNS))


def _row(
    arm: str,
    outcome: str,
    cells: Cells | None,
    sign: float,
    reasons: Sequence[str] | None,
    factor_splits: Sequence[Split],
) -> dict[str, Any]:
    """The robustness row of one arm and outcome from its scenarios' cells."""
    if cells is None or not len(cells.scenario):
        nan = float("nan")
        return {
            "arm": arm,
            "outcome": outcome,
            "scenarios": 0,
            **dict.fromkeys(COLUMNS[3:8], nan),
            "verdict": NO_EFFECT,
            "depends_on": f"no scenario has finished runs of both {arm} and {BASELINE}",
        }
    count = len(cells.scenario)
    finite = cells.regret[np.isfinite(cells.regret)]
    max_regret = float(finite.max()) if finite.size else float("nan")
    share_better = float(cells.better.sum()) / count
    share_worse = float(cells.worse.sum()) / count
    effects = cells.effect
    readings = split_readings(cells, factor_splits)
    sides = [side.reading for r in readings for side in (r.first, r.second)]
    found = verdict(share_better, share_worse, bool(reasons), sides)
    if reasons:
        because = "no mechanism: " + "; ".join(reasons)
    elif found == DEPENDS:
        because = depends_on(cells, factor_splits, readings)
    else:
        because = ""
    return {
        "arm": arm,
        "outcome": outcome,
        "scenarios": count,
        "share_better": share_better,
        "share_worse": share_worse,
        "median_effect": float(np.median(effects)),
        "worst_effect": float(effects[np.argmin(sign * effects)]),
        "max_regret": max_regret,
        "verdict": found,
        "depends_on": because,
    }


def csv_text(table: pd.DataFrame) -> str:
    """The robustness table as CSV (full precision; text with commas is quoted)."""
    return table.loc[:, list(COLUMNS)].to_csv(index=False, lineterminator="\n")


def write_robustness(out_dir: str | Path, table: pd.DataFrame) -> Path:
    """Write ``robustness.csv`` in a results folder, all at once or not at all."""
    return write_atomic(Path(out_dir) / ROBUSTNESS_FILE, csv_text(table))
