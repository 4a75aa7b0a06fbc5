"""Policy what-if analysis: paired effects of each arm against the baseline.

Every arm met the same scenarios with the same seeds (common random numbers), so the
effect of an arm is estimated from paired differences ``arm - baseline`` per (scenario,
replicate): their mean, and a Student-t 95 % interval over the pairs. Pairing removes the
variation that scenarios and seeds share, which is most of it, so intervals are much
narrower than comparing independent runs would give.

The cost-benefit view sets the human effort an arm adds (hours per cycle: what the policy
itself spends, what incidents force, and their total) against the reliability it buys
(reduction of the faulty share of service and of shielded systems). The verdict judges
effort on the total: a policy that spends a little more policy time but lets incidents
cost far more does cost hours.

Example:
    >>> effects(frame, study)  # doctest: +SKIP
           arm            outcome   n  baseline_mean  arm_mean  effect  ci_low  ci_high ...
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from simulation.experiments.stats import mean_ci, ok_runs
from simulation.experiments.study import BASELINE, Study

# The human effort a policy costs, as three paired effects in every what-if cost table:
# (key, outcome, console label). ``policy`` is what the policy itself spends (audits, human
# evaluators, human execution, escalations), ``incident`` what incidents force (humans
# standing in for AI overseers that are down), ``total`` their sum. The key prefixes the
# ``<key>_added``, ``<key>_low`` and ``<key>_high`` columns of :func:`cost_benefit`.
#: The effort the verdict, the cost chart and the cut per hour use: the total, since a
#: policy's own hours alone would call an arm cheap whose incidents cost far more.
COST_OUTCOME = "human_hours_per_cycle"
COST_KEY = "total"
COST_PARTS: tuple[tuple[str, str, str], ...] = (
    ("policy", "human_hours_policy_per_cycle", "policy h/cycle added"),
    ("incident", "human_hours_incident_per_cycle", "incident h/cycle added"),
    (COST_KEY, COST_OUTCOME, "total h/cycle added"),
)
FAULTY = "faulty_share_mean"
SHIELDED = "shielded_mean"
EFFECT_COLUMNS = (
    "arm",
    "outcome",
    "n",
    "baseline_mean",
    "arm_mean",
    "effect",
    "ci_low",
    "ci_high",
    "relative",
)


class _Pairs:
    """The successful runs' ``outcomes``, one row per (scenario, replicate) and one column
    per (outcome, arm), kept as one NumPy array with its columns' positions: reading
    columns through pandas' two-level columns cost a report 0.1 s."""

    def __init__(self, frame: pd.DataFrame, outcomes: Sequence[str]) -> None:
        wide = ok_runs(frame).pivot(
            index=["scenario", "replicate"], columns="arm", values=list(outcomes)
        )
        self.index = wide.index
        self.values = wide.to_numpy(dtype=np.float64)
        self.position = {key: i for i, key in enumerate(wide.columns)}

    def arms_present(self, study: Study, outcome: str) -> list[str]:
        """The policy arms with stored runs of ``outcome``, when the baseline has some
        (else none)."""
        arms = {arm for name, arm in self.position if name == outcome}
        return [arm for arm in study.arm_names[1:] if arm in arms] if BASELINE in arms else []

    def pairs(self, outcome: str, arm: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Which (scenario, replicate) rows have a value of ``outcome`` for both the
        baseline and ``arm``, with the baseline's and the arm's values there."""
        base = self.values[:, self.position[(outcome, BASELINE)]]
        value = self.values[:, self.position[(outcome, arm)]]
        both = ~(np.isnan(base) | np.isnan(value))
        return both, base[both], value[both]


def paired_differences(frame: pd.DataFrame, study: Study, outcome: str) -> pd.DataFrame:
    """Per arm and (scenario, replicate): baseline value, arm value and their difference.

    Pairs where either run failed or the outcome is undefined are left out.
    """
    table = _Pairs(frame, [outcome])
    parts = []
    for arm in table.arms_present(study, outcome):
        both, base, value = table.pairs(outcome, arm)
        index = table.index[both]
        parts.append(
            pd.DataFrame(
                {
                    "arm": arm,
                    "scenario": index.get_level_values("scenario"),
                    "replicate": index.get_level_values("replicate"),
                    "baseline": base,
                    "value": value,
                    "difference": value - base,
                }
            )
        )
    if not parts:
        columns = ["arm", "scenario", "replicate", "baseline", "value", "difference"]
        return pd.DataFrame(columns=columns)
    return pd.concat(parts, ignore_index=True)


def effects(
    frame: pd.DataFrame,
    study: Study,
    outcomes: Sequence[str] | None = None,
    level: float = 0.95,
) -> pd.DataFrame:
    """Mean paired effect of every arm on every outcome, with its t confidence interval.

    ``relative`` is the effect as a share of the baseline mean over the same pairs.
    """
    outcomes = list(outcomes or study.outcomes)
    table = _Pairs(frame, outcomes)
    records = []
    for outcome in outcomes:
        present = table.arms_present(study, outcome)
        for arm in study.arm_names[1:]:
            if arm in present:
                _, base_values, values = table.pairs(outcome, arm)
            else:
                base_values = values = np.empty(0)
            n = len(values)
            effect, low, high = mean_ci(values - base_values, level)
            base = float(base_values.mean()) if n else float("nan")
            value = float(values.mean()) if n else float("nan")
            records.append(
                {
                    "arm": arm,
                    "outcome": outcome,
                    "n": n,
                    "baseline_mean": base,
                    "arm_mean": value,
                    "effect": effect,
                    "ci_low": low,
                    "ci_high": high,
                    "relative": effect / base if base else float("nan"),
                }
            )
    return pd.DataFrame.from_records(records, columns=list(EFFECT_COLUMNS))


def cost_parts(frame: pd.DataFrame) -> tuple[tuple[str, str, str], ...]:
    """The entries of ``COST_PARTS`` the stored runs have (all of them, unless the runs
    were stored before an outcome existed); the ``COST_KEY`` part always, since the
    verdict needs it."""
    return tuple(part for part in COST_PARTS if part[0] == COST_KEY or part[1] in frame.columns)


def cost_benefit(
    frame: pd.DataFrame,
    study: Study,
    level: float = 0.95,
    inert: Mapping[str, Sequence[str]] | None = None,
) -> pd.DataFrame:
    """Per arm: the human hours per cycle it adds, as ``<key>_added`` with ``<key>_low``
    and ``<key>_high`` for each part of ``COST_PARTS`` (policy, incident, total), and the
    reductions in faulty share and shielded systems it buys (positive = better), each with
    its interval, and the reduction of the faulty share per added hour of the total. The
    verdict judges effort on the total.

    ``inert`` maps an arm whose levers cannot act under the study's assumptions to the
    reasons (computed by :func:`simulation.experiments.mechanisms.inert_arms` when None);
    such an arm's verdict says "no mechanism" with them."""
    parts = cost_parts(frame)
    outcomes = (*(outcome for _, outcome, _ in parts), FAULTY, SHIELDED)
    table = effects(frame, study, outcomes, level).set_index(["arm", "outcome"])
    if inert is None:
        from simulation.experiments.mechanisms import inert_arms

        inert = inert_arms(study)
    records = []
    for arm in study.arm_names[1:]:
        hours = table.loc[(arm, COST_OUTCOME)]
        faulty = table.loc[(arm, FAULTY)]
        shielded = table.loc[(arm, SHIELDED)]
        per_hour = -faulty["effect"] / hours["effect"] if hours["effect"] > 0 else float("nan")
        record: dict[str, object] = {"arm": arm}
        for key, outcome, _ in parts:
            part = table.loc[(arm, outcome)]
            record.update(
                {
                    f"{key}_added": part["effect"],
                    f"{key}_low": part["ci_low"],
                    f"{key}_high": part["ci_high"],
                }
            )
        record.update(
            {
                "faulty_share_reduction": -faulty["effect"],
                "faulty_low": -faulty["ci_high"],
                "faulty_high": -faulty["ci_low"],
                "shielded_reduction": -shielded["effect"],
                "shielded_low": -shielded["ci_high"],
                "shielded_high": -shielded["ci_low"],
                "reduction_per_hour": per_hour,
                "n": int(faulty["n"]),
                "verdict": verdict(faulty["ci_low"], faulty["ci_high"], hours, inert.get(arm)),
                "reliability": reliability_words(faulty["ci_low"], faulty["ci_high"]),
                "effort": effort_words(hours),
                "no_mechanism": "; ".join(inert.get(arm) or ()),
            }
        )
        records.append(record)
    return pd.DataFrame.from_records(records)


def verdict(
    faulty_low: float,
    faulty_high: float,
    hours: pd.Series,
    no_mechanism: Sequence[str] | None = None,
) -> str:
    """Plain words for an arm, from whether its intervals exclude zero.

    Reliability is judged on the faulty share of service, effort on the total human hours
    per cycle (``hours``: the effect row of ``COST_OUTCOME``), policy plus incident. An
    arm whose levers cannot act (``no_mechanism``: the reasons) says "no mechanism" with
    them instead of "no clear change": its effect is nil by construction, not a question
    more runs would settle. Should its interval still exclude zero (cross-family oversight
    reshuffles evaluators of different rates), the reliability words stay, with the note.
    """
    note = "no mechanism: " + "; ".join(no_mechanism) if no_mechanism else ""
    return verdict_text(reliability_words(faulty_low, faulty_high), effort_words(hours), note)


def reliability_words(faulty_low: float, faulty_high: float) -> str:
    """``more reliable``, ``less reliable`` or ``no clear change``: the faulty share's
    interval below, above or around zero."""
    if faulty_high < 0:
        return "more reliable"
    if faulty_low > 0:
        return "less reliable"
    return "no clear change"


def effort_words(hours: pd.Series) -> str:
    """``costs hours``, ``saves hours`` or ``same hours``: the total hours' interval above,
    below or around zero."""
    if hours["ci_low"] > 0:
        return "costs hours"
    if hours["ci_high"] < 0:
        return "saves hours"
    return "same hours"


def verdict_text(reliability: str, effort: str, note: str = "") -> str:
    """A verdict from its words; a "no mechanism" ``note`` replaces "no clear change", or
    follows other reliability words in brackets (the console passes a numbered mark for
    the note's place, the report the reasons themselves)."""
    if note:
        reliability = note if reliability == "no clear change" else f"{reliability} ({note})"
    return f"{reliability}, {effort}"
