"""Global sensitivity indices with SALib: Sobol (Saltelli sampling) and Morris screening.

The study's ``[vary]`` entries are the uncertain inputs; each is sampled on the unit
interval and mapped through its inverse CDF (see :func:`~simulation.experiments.design.
salib_problem`), so the indices refer to the declared distributions. With replicates, each
sample point's outcome is the mean over its replicates; the model's own randomness that
remains shows up as variance no parameter explains (first-order indices summing below 1).

Indices, each with its 95 % bootstrap confidence half-width (``conf``):

- Sobol: ``S1`` (first order: the share of output variance due to the parameter alone),
  ``ST`` (total: including all its interactions), ``S2`` (pairs, if asked for).
- Morris: ``mu_star`` (mean absolute elementary effect, in outcome units per unit-interval
  step: the screening measure), ``sigma`` (non-linearity / interactions) and ``mu``.

Example:
    >>> indices, skipped = analyse(plan, frame)  # doctest: +SKIP
    >>> indices[indices["index"] == "ST"]  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import io
import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

from simulation.experiments.design import Plan, salib_problem
from simulation.experiments.stats import ok_runs
from simulation.seeding import derive_seed

INDEX_COLUMNS = ("outcome", "parameter", "index", "value", "conf")
BOOTSTRAP_RESAMPLES = 500


def _outcome_vector(plan: Plan, frame: pd.DataFrame, outcome: str) -> np.ndarray:
    """The outcome at every sample point (mean over replicates), NaN where none finished."""
    means = ok_runs(frame).groupby("scenario")[outcome].mean()
    return means.reindex(range(len(plan.scenarios))).to_numpy(dtype=np.float64, na_value=np.nan)


def analyse(
    plan: Plan, frame: pd.DataFrame, outcomes: Sequence[str] | None = None
) -> tuple[pd.DataFrame, dict[str, str]]:
    """Sensitivity indices of every outcome; and the outcomes that could not be analysed
    (with the reason: failed runs, undefined values or no variation)."""
    from SALib.analyze import morris as morris_analyze
    from SALib.analyze import sobol as sobol_analyze

    study = plan.study
    problem = salib_problem(study)
    names = problem["names"]
    seed = derive_seed(study.seed, "analysis") % (2**32)
    records: list[dict] = []
    skipped: dict[str, str] = {}
    for outcome in outcomes or study.outcomes:
        y = _outcome_vector(plan, frame, outcome)
        missing = int(np.isnan(y).sum())
        if missing:
            skipped[outcome] = f"{missing} sample points have no finished run or no value"
            continue
        if np.ptp(y) == 0:
            skipped[outcome] = "does not vary over the samples"
            continue
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            if study.method == "sobol":
                result = sobol_analyze.analyze(
                    problem,
                    y,
                    calc_second_order=study.second_order,
                    num_resamples=BOOTSTRAP_RESAMPLES,
                    conf_level=0.95,
                    seed=seed,
                )
                for index in ("S1", "ST"):
                    for j, name in enumerate(names):
                        records.append(
                            _record(
                                outcome, name, index, result[index][j], result[f"{index}_conf"][j]
                            )
                        )
                if study.second_order:
                    for a in range(len(names)):
                        for b in range(a + 1, len(names)):
                            records.append(
                                _record(
                                    outcome,
                                    f"{names[a]} x {names[b]}",
                                    "S2",
                                    result["S2"][a, b],
                                    result["S2_conf"][a, b],
                                )
                            )
            else:
                result = morris_analyze.analyze(
                    problem,
                    plan.unit_samples,
                    y,
                    num_resamples=BOOTSTRAP_RESAMPLES,
                    conf_level=0.95,
                    num_levels=study.morris_levels,
                    seed=seed,
                )
                for j, name in enumerate(names):
                    records.append(
                        _record(
                            outcome,
                            name,
                            "mu_star",
                            result["mu_star"][j],
                            result["mu_star_conf"][j],
                        )
                    )
                    records.append(_record(outcome, name, "sigma", result["sigma"][j], np.nan))
                    records.append(_record(outcome, name, "mu", result["mu"][j], np.nan))
    return pd.DataFrame.from_records(records, columns=list(INDEX_COLUMNS)), skipped


def _record(outcome: str, parameter: str, index: str, value: float, conf: float) -> dict:
    return {
        "outcome": outcome,
        "parameter": parameter,
        "index": index,
        "value": float(value),
        "conf": float(conf),
    }
