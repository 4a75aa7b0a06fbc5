"""Outcome definitions: the per-step metric columns and the per-run summary.

Per step (one row per oversight cycle), see ``METRIC_DESCRIPTIONS``. Per run,
:func:`summarise_run` reduces the time series and the cascade trees to the outcomes that
sweeps and policy studies compare.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

METRIC_DESCRIPTIONS: dict[str, str] = {
    "active": "systems active (serving and on the dashboards, or tampered)",
    "decommissioned": "systems shut down, awaiting their patched replacement",
    "covert": "systems running as covert exfiltrated copies",
    "faulty_serving": "faulty systems still serving (active or covert)",
    "faulty_share": "share of serving systems that are faulty",
    "new_faults": "spontaneous faults this cycle",
    "propagated_faults": "faults caught from a faulty dependency this cycle",
    "shielded_misrepresentation": "faulty systems passed this cycle thanks to an inflated score",
    "shielded_tampering": "faulty systems kept running by a tampered shutdown",
    "shielded_exfiltration": "faulty covert copies serving",
    "shielded_refusal": "faulty systems whose shutdown was refused, awaiting a human",
    "shielded_total": "faulty systems shielded by any mechanism",
    "covert_alive": "covert copies alive",
    "faulty_evaluated": "faulty systems evaluated this cycle",
    "eval_distortion": "mean reported minus true score of evaluated faulty systems",
    "false_pass_rate": "share of evaluated faulty systems that passed",
    "flagged": "systems flagged for shutdown this cycle",
    "tamper_events": "shutdowns tampered with this cycle",
    "exfiltration_events": "shutdowns turned into exfiltrations this cycle",
    "refusal_events": "shutdowns refused openly this cycle",
    "blocked_exfiltrations": "exfiltrations stopped by egress control this cycle",
    "detections": "misconduct detected this cycle (audits, discoveries, egress alarms)",
    "discoveries": "tampered systems and covert copies found by audits this cycle",
    "remediated": "faulty systems taken out of service this cycle",
    "remediation_time_mean": "mean cycles from fault to removal of those remediated",
    "audits": "human audits this cycle",
    "human_hours": "human effort this cycle (hours)",
    "largest_faulty_component": "largest connected group of serving faulty systems",
    "mean_trust": "mean trust of overseers toward the systems they oversee",
}
METRIC_COLUMNS: tuple[str, ...] = tuple(METRIC_DESCRIPTIONS)

SUMMARY_DESCRIPTIONS: dict[str, str] = {
    "faulty_share_mean": "mean share of serving systems that are faulty",
    "faulty_share_peak": "highest faulty share in any cycle",
    "shielded_mean": "mean faulty systems shielded per cycle",
    "shielded_misrepresentation_mean": "mean shielded by inflated scores per cycle",
    "shielded_tampering_mean": "mean shielded by tampered shutdowns per cycle",
    "shielded_exfiltration_mean": "mean covert faulty copies per cycle",
    "shielded_refusal_mean": "mean shielded by refused shutdowns per cycle",
    "covert_alive_mean": "mean covert copies alive per cycle",
    "eval_distortion_mean": "reported minus true score of faulty systems, over all evaluations",
    "false_pass_rate": "share of faulty-system evaluations that passed",
    "cascades": "number of cascade trees (root faults)",
    "cascade_size_mean": "mean systems per cascade tree",
    "cascade_size_p95": "95th percentile of cascade tree sizes",
    "cascade_size_max": "largest cascade tree",
    "largest_faulty_component_max": "largest connected faulty group in any cycle",
    "remediation_time_mean": "mean cycles from fault to removal",
    "detections_total": "misconduct detected over the run",
    "human_hours_total": "human effort over the run (hours)",
    "human_hours_per_cycle": "human effort per cycle (hours)",
}


def summarise_run(series: pd.DataFrame, cascade_sizes: np.ndarray, n_systems: int) -> dict:
    """Per-run outcomes from the per-step series and the cascade tree sizes."""
    if series.empty:
        raise ValueError("no steps were run")
    faulty_evals = series["faulty_evaluated"].sum()
    remediated = series["remediated"].sum()
    remediation_time = (series["remediation_time_mean"].fillna(0) * series["remediated"]).sum()
    distortion = (series["eval_distortion"].fillna(0) * series["faulty_evaluated"]).sum()
    sizes = cascade_sizes if cascade_sizes.size else np.zeros(1)
    return {
        "faulty_share_mean": float(series["faulty_share"].mean()),
        "faulty_share_peak": float(series["faulty_share"].max()),
        "shielded_mean": float(series["shielded_total"].mean()),
        "shielded_misrepresentation_mean": float(series["shielded_misrepresentation"].mean()),
        "shielded_tampering_mean": float(series["shielded_tampering"].mean()),
        "shielded_exfiltration_mean": float(series["shielded_exfiltration"].mean()),
        "shielded_refusal_mean": float(series["shielded_refusal"].mean()),
        "covert_alive_mean": float(series["covert_alive"].mean()),
        "eval_distortion_mean": float(distortion / faulty_evals) if faulty_evals else float("nan"),
        "false_pass_rate": float(series["shielded_misrepresentation"].sum() / faulty_evals)
        if faulty_evals
        else float("nan"),
        "cascades": int(cascade_sizes.size),
        "cascade_size_mean": float(sizes.mean()),
        "cascade_size_p95": float(np.percentile(sizes, 95)),
        "cascade_size_max": int(sizes.max()),
        "largest_faulty_component_max": int(series["largest_faulty_component"].max()),
        "remediation_time_mean": float(remediation_time / remediated)
        if remediated
        else float("nan"),
        "detections_total": int(series["detections"].sum()),
        "human_hours_total": float(series["human_hours"].sum()),
        "human_hours_per_cycle": float(series["human_hours"].mean()),
    }
