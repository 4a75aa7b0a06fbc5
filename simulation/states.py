"""The vocabulary of the engine's state: statuses, shielding mechanisms, shutdown outcomes,
and the per-cycle counters that become a metrics row."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

ACTIVE, DECOMMISSIONED, COVERT = 0, 1, 2
STATUS_NAMES = ("active", "decommissioned", "covert")

SHIELD_NONE, SHIELD_MISREPRESENTED, SHIELD_TAMPERED, SHIELD_EXFILTRATED, SHIELD_REFUSED = range(5)
SHIELD_NAMES = ("none", "misrepresentation", "tampering", "exfiltration", "refusal")

NO_FAULT = -2
ROOT_FAULT = -1

OUTCOME_COMPLY, OUTCOME_TAMPER, OUTCOME_EXFILTRATE, OUTCOME_REFUSE = range(4)
# outcome by how many of the cumulative cuts (tamper, exfiltrate, refuse) the draw passes
_OUTCOME_BY_RANK = np.array(
    [OUTCOME_TAMPER, OUTCOME_EXFILTRATE, OUTCOME_REFUSE, OUTCOME_COMPLY], dtype=np.int8
)


@dataclass
class StepMetrics:
    """Counters gathered during a step before they become the step's metrics row."""

    new_faults: int = 0
    propagated: int = 0
    misrepresented: int = 0
    faulty_evaluated: int = 0
    distortion_sum: float = 0.0
    flagged: int = 0
    detections: int = 0
    discoveries: int = 0
    remediated: int = 0
    remediation_time_sum: float = 0.0
    human_hours: float = 0.0
    audits: int = 0
    tamper_events: int = 0
    exfiltration_events: int = 0
    refusal_events: int = 0
    blocked_exfiltrations: int = 0

    def row(
        self,
        step: int,
        status_counts: tuple[int, int, int],
        faulty_serving: int,
        faulty_shields: Sequence[int],
        largest_faulty_component: int,
        mean_trust: float,
    ) -> dict[str, float]:
        """The step's metrics row: these counters plus the state counted at the step's end.

        ``status_counts`` is indexed by status (ACTIVE, DECOMMISSIONED, COVERT) and
        ``faulty_shields`` by shield kind, over faulty systems.
        """
        active, covert = status_counts[ACTIVE], status_counts[COVERT]
        serving = active + covert
        evaluated, remediated = self.faulty_evaluated, self.remediated
        row: dict[str, float] = {
            "step": step,
            "active": int(active),
            "decommissioned": int(status_counts[DECOMMISSIONED]),
            "covert": int(covert),
            "faulty_serving": int(faulty_serving),
            "faulty_share": faulty_serving / serving if serving else 0.0,
            "new_faults": self.new_faults,
            "propagated_faults": self.propagated,
            "shielded_misrepresentation": self.misrepresented,
            "shielded_tampering": int(faulty_shields[SHIELD_TAMPERED]),
            "shielded_exfiltration": int(faulty_shields[SHIELD_EXFILTRATED]),
            "shielded_refusal": int(faulty_shields[SHIELD_REFUSED]),
            "covert_alive": int(covert),
            "faulty_evaluated": evaluated,
            "eval_distortion": self.distortion_sum / evaluated if evaluated else math.nan,
            "false_pass_rate": self.misrepresented / evaluated if evaluated else math.nan,
            "flagged": self.flagged,
            "tamper_events": self.tamper_events,
            "exfiltration_events": self.exfiltration_events,
            "refusal_events": self.refusal_events,
            "blocked_exfiltrations": self.blocked_exfiltrations,
            "detections": self.detections,
            "discoveries": self.discoveries,
            "remediated": remediated,
            "remediation_time_mean": self.remediation_time_sum / remediated
            if remediated
            else math.nan,
            "audits": self.audits,
            "human_hours": self.human_hours,
            "largest_faulty_component": int(largest_faulty_component),
            "mean_trust": mean_trust,
        }
        row["shielded_total"] = (
            row["shielded_misrepresentation"]
            + row["shielded_tampering"]
            + row["shielded_exfiltration"]
            + row["shielded_refusal"]
        )
        return row
