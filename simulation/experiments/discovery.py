"""Scenario discovery: where, among a study's uncertain assumptions, does a policy fail?

A study's ``[vary]`` parameters are what it is unsure of; every policy (a what-if's arm, a
search's candidate, a sweep's single baseline) meets the same scenarios. For one policy
and a failure condition on a stored outcome (``faulty_share_mean > 0.1``), each scenario
is scored by the mean of the outcome over its finished replicates (or, with ``per_run``,
each run counts alone), and fails when the mean meets the condition. PRIM
(:mod:`simulation.experiments.prim`) then peels a box of the uncertainties around the
failing scenarios; its trajectory and the box chosen from it are the result, read by
``ppsim discover`` and its report. ``docs/discovery.md`` defines every number.

Example:
    >>> condition = parse_fail("faulty_share_mean > 0.1")
    >>> condition.holds(np.array([0.05, 0.1, 0.2])).tolist(), condition.text
    ([False, False, True], 'faulty_share_mean > 0.1')
"""

from __future__ import annotations

import io
import math
import operator
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from simulation.errors import UsageError
from simulation.experiments.prim import Box, Trajectory, prim
from simulation.experiments.stats import ok_runs
from simulation.experiments.study import BASELINE, Study, StudyError, Variable
from simulation.metrics import SUMMARY_DESCRIPTIONS
from simulation.tomlfile import did_you_mean

OPERATORS: dict[str, Callable[[Any, Any], Any]] = {
    ">=": operator.ge,
    "<=": operator.le,
    ">": operator.gt,
    "<": operator.lt,
}
FAIL_FORM = "'OUTCOME > VALUE' (operators >, >=, <, <=), e.g. 'faulty_share_mean > 0.1'"
_FAIL_RE = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(>=|<=|>|<)\s*(\S+)\s*$")
SHOWN_NAMES = 8
"""How many names an error lists before saying how many there are in all."""


@dataclass(frozen=True)
class FailCondition:
    """``outcome operator value``: when a scenario counts as failing."""

    outcome: str
    operator: str
    value: float

    @property
    def text(self) -> str:
        return f"{self.outcome} {self.operator} {self.value:g}"

    def holds(self, values: np.ndarray) -> np.ndarray:
        """Which of ``values`` meet the condition (a missing value never does)."""
        return np.asarray(OPERATORS[self.operator](values, self.value), dtype=bool)


def name_list(names: Sequence[str]) -> str:
    """Names for a one-line message: all of a short list, else the first few and the count.

    >>> name_list(["a", "b"]), name_list([f"c{i}" for i in range(20)])
    ('a, b', 'c0, c1, c2, c3, c4, c5, c6, c7, ... (20 in all)')
    """
    if len(names) <= SHOWN_NAMES:
        return ", ".join(names)
    return ", ".join(names[:SHOWN_NAMES]) + f", ... ({len(names)} in all)"


def parse_fail(text: str) -> FailCondition:
    """The condition ``--fail`` gives, checked: a stored outcome, an operator, a number."""
    found = _FAIL_RE.match(text or "")
    if found is None:
        raise UsageError(f"--fail: expected {FAIL_FORM}, got {text!r}")
    outcome, op, number = found.groups()
    if outcome not in SUMMARY_DESCRIPTIONS:
        raise UsageError(
            f"--fail: {outcome!r} is not an outcome stored in the runs"
            f"{did_you_mean(outcome, SUMMARY_DESCRIPTIONS)}; they are "
            f"{name_list(list(SUMMARY_DESCRIPTIONS))}"
        )
    try:
        value = float(number)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise UsageError(f"--fail: {number!r} is not a finite number; expected {FAIL_FORM}")
    return FailCondition(outcome, op, value)


@dataclass(frozen=True)
class Discovery:
    """One policy's failures read by PRIM: the scenarios (``factors``, one row each, with
    the scored ``outcome`` and whether it ``failing``), the trajectory, the chosen box and
    why it was chosen (``choice``: ``threshold``, ``densest`` or ``--box``)."""

    folder: Path
    study: Study
    policy: str
    condition: FailCondition
    per_run: bool
    factors: pd.DataFrame
    outcome: np.ndarray
    failing: np.ndarray
    runs_per_scenario: float
    trajectory: Trajectory
    chosen: int
    choice: str
    threshold: float

    @property
    def box(self) -> Box:
        return self.trajectory.boxes[self.chosen]

    @property
    def unit(self) -> str:
        """What a row of ``factors`` is: ``scenario`` or ``run``."""
        return "run" if self.per_run else "scenario"

    @property
    def variables(self) -> dict[str, Variable]:
        return {v.name: v for v in self.study.vary}


def policies(frame: pd.DataFrame) -> list[str]:
    """The policies a results folder holds: every value of its ``arm`` column, in order."""
    return [str(a) for a in dict.fromkeys(frame["arm"])]


def check_policy(frame: pd.DataFrame, policy: str, folder: Path) -> None:
    """Refuse a policy the folder's runs do not hold, listing those they do."""
    found = policies(frame)
    if policy not in found:
        raise UsageError(
            f"--policy {policy!r}: no runs of it in {folder}{did_you_mean(policy, found)}; "
            f"its policies are {name_list(found)}"
        )


def scenario_table(
    frame: pd.DataFrame, study: Study, policy: str, outcome: str, per_run: bool
) -> tuple[pd.DataFrame, np.ndarray, float]:
    """The policy's scenarios (or runs): one row each of the varied parameters, the outcome
    (its mean over the finished replicates), and the mean number of runs behind a row.
    Rows without a value of the outcome are left out."""
    runs = ok_runs(frame)
    runs = runs[runs["arm"] == policy]
    values = pd.to_numeric(runs[outcome], errors="coerce")
    runs, values = runs[values.notna()], values[values.notna()]
    names = list(study.varied)
    if per_run:
        factors = runs[names].reset_index(drop=True)
        return factors, values.to_numpy(dtype=np.float64), 1.0
    grouped = runs.groupby("scenario", sort=True)
    factors = grouped[names].first().reset_index(drop=True)
    means = values.groupby(runs["scenario"], sort=True).mean().to_numpy(dtype=np.float64)
    count = float(grouped.size().mean()) if len(factors) else 0.0
    return factors, means, count


def discover(
    folder: str | Path,
    frame: pd.DataFrame,
    study: Study,
    policy: str,
    condition: FailCondition,
    *,
    per_run: bool = False,
    threshold: float = 0.8,
    box: int | None = None,
    peel_alpha: float = 0.05,
    mass_min: float = 0.05,
) -> Discovery:
    """Score the policy's scenarios by ``condition`` and run PRIM over the study's varied
    parameters; refuse (one line) a study with nothing varied, a policy without runs, and
    a condition that no scenario or every scenario meets (nothing to tell apart)."""
    folder = Path(folder)
    if not study.vary:
        raise StudyError(
            f"{folder}: the study varies no parameter, so there is nothing to discover"
        )
    if frame.empty:
        raise StudyError(f"{folder}: no runs stored")
    check_policy(frame, policy, folder)
    factors, outcome, runs_each = scenario_table(frame, study, policy, condition.outcome, per_run)
    unit = "run" if per_run else "scenario"
    if not len(factors):
        raise StudyError(
            f"{folder}: no finished run of {policy!r} has a value of {condition.outcome}"
        )
    failing = condition.holds(outcome)
    if not failing.any() or failing.all():
        which = "no" if not failing.any() else "every"
        raise UsageError(
            f"--fail {condition.text!r}: {which} {unit} of {policy!r} fails ({len(factors)} "
            f"{unit}s, {condition.outcome} from {outcome.min():.4g} to {outcome.max():.4g}); "
            "choose a value in between"
        )
    trajectory = prim(factors, failing, peel_alpha=peel_alpha, mass_min=mass_min)
    if box is not None:
        last = len(trajectory.boxes) - 1
        if not 0 <= box <= last:
            raise UsageError(f"--box {box}: the trajectory has boxes 0 to {last}")
        chosen, choice = box, "--box"
    else:
        chosen = trajectory.choose(threshold)
        reached = trajectory.boxes[chosen].density >= threshold
        choice = "threshold" if reached else "densest"
    return Discovery(
        folder=folder,
        study=study,
        policy=policy,
        condition=condition,
        per_run=per_run,
        factors=factors,
        outcome=outcome,
        failing=failing,
        runs_per_scenario=runs_each,
        trajectory=trajectory,
        chosen=chosen,
        choice=choice,
        threshold=threshold,
    )


# --------------------------------------------------------------------------------------
# A box in words


def _number(value: float, integer: bool) -> str:
    return f"{int(round(value))}" if integer else f"{value:.4g}"


def _value(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def limit_text(trajectory: Trajectory, box: Box, name: str, integer: bool = False) -> str:
    """One input's limits in words: ``fault_rate >= 0.0025``, ``2 <= delay <= 6``,
    ``stand_in in {reassign, skip}``; the input's name alone when unrestricted."""
    limits = box.limits[name]
    if name in trajectory.categorical:
        return f"{name} in {{{', '.join(_value(v) for v in limits)}}}"
    low, high = limits
    full_low, full_high = trajectory.ranges[name]
    low_cut, high_cut = low != full_low, high != full_high
    if low_cut and high_cut:
        return f"{_number(low, integer)} <= {name} <= {_number(high, integer)}"
    if low_cut:
        return f"{name} >= {_number(low, integer)}"
    if high_cut:
        return f"{name} <= {_number(high, integer)}"
    return name


def integer_inputs(discovery: Discovery) -> set[str]:
    """The inputs whose values are whole numbers (shown without decimals)."""
    return {
        name
        for name in discovery.factors.columns
        if pd.api.types.is_integer_dtype(discovery.factors[name])
        and not pd.api.types.is_bool_dtype(discovery.factors[name])
    }


def box_limits_text(discovery: Discovery, box: Box) -> list[str]:
    """Each restricted input's limits in words, in the study's order of ``[vary]``."""
    integers = integer_inputs(discovery)
    order = [n for n in discovery.study.varied if n in box.restricted]
    return [limit_text(discovery.trajectory, box, n, n in integers) for n in order]


def trajectory_frame(discovery: Discovery) -> pd.DataFrame:
    """The trajectory as a table, one row per box: its statistics, whether it is the chosen
    one, and every input's limits (``<name>_low``/``<name>_high``, or the kept values
    joined by ``|``)."""
    rows = []
    for b in discovery.trajectory.boxes:
        row: dict[str, Any] = {
            "policy": discovery.policy,
            "fail": discovery.condition.text,
            "box": b.index,
            "step": b.step,
            "coverage": b.coverage,
            "density": b.density,
            "mass": b.mass,
            f"{discovery.unit}s": b.scenarios,
            "failing": b.failures,
            "restricted": len(b.restricted),
            "chosen": b.index == discovery.chosen,
            "limits": "; ".join(box_limits_text(discovery, b)),
        }
        for name in discovery.trajectory.inputs:
            if name in discovery.trajectory.categorical:
                row[name] = "|".join(_value(v) for v in b.limits[name])
            else:
                row[f"{name}_low"], row[f"{name}_high"] = b.limits[name]
        rows.append(row)
    return pd.DataFrame(rows)


def trajectory_csv(discovery: Discovery) -> str:
    """:func:`trajectory_frame` as CSV text."""
    buffer = io.StringIO()
    trajectory_frame(discovery).to_csv(buffer, index=False)
    return buffer.getvalue()


def output_stem(policy: str) -> str:
    """``discovery-<policy>``: the name of the files a discovery writes into the folder."""
    return f"discovery-{policy}"


DEFAULT_POLICY = BASELINE
