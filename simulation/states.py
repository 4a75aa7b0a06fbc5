"""The vocabulary of the engine's state: statuses, shielding mechanisms, shutdown outcomes,
and the per-cycle counters that become a metrics row."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, fields

import numpy as np

ACTIVE, DECOMMISSIONED, COVERT = 0, 1, 2
STATUS_NAMES = ("active", "decommissioned", "covert")

SHIELD_NONE, SHIELD_MISREPRESENTED, SHIELD_TAMPERED, SHIELD_EXFILTRATED, SHIELD_REFUSED = range(5)
SHIELD_NAMES = ("none", "misrepresentation", "tampering", "exfiltration", "refusal")

NO_FAULT = -2
ROOT_FAULT = -1

# what a manager does when told to shut a system down
SHUTDOWN_COMPLY, SHUTDOWN_TAMPER, SHUTDOWN_EXFILTRATE, SHUTDOWN_REFUSE = range(4)


@dataclass
class StepMetrics:
    """Counters gathered during a step before they become the step's metrics row."""

    new_faults: int = 0
    propagated: int = 0
    misrepresented: int = 0
    faulty_evaluated: int = 0
    faulty_passed: int = 0
    distortion_sum: float = 0.0
    flagged: int = 0
    detections: int = 0
    denials: int = 0
    discoveries: int = 0
    remediated: int = 0
    remediation_time_sum: float = 0.0
    unremediated_age_sum: float = 0.0
    in_service: int = 0
    hours_policy: float = 0.0
    hours_incident: float = 0.0
    audits: int = 0
    tamper_events: int = 0
    exfiltration_events: int = 0
    refusal_events: int = 0
    self_preservation_events: int = 0
    blocked_exfiltrations: int = 0

    @classmethod
    def from_counts(cls, counts: np.ndarray) -> StepMetrics:
        """The counters the compiled cycle gathered (indexed by :data:`COUNTER`)."""
        return cls(
            *[
                convert(value)
                for convert, value in zip(_COUNTER_TYPES, counts.tolist(), strict=True)
            ]
        )

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
        ``faulty_shields`` by shield kind, over faulty systems. The columns are those
        declared in :data:`simulation.metrics.STEP_METRICS`.
        """
        active, covert = status_counts[ACTIVE], status_counts[COVERT]
        systems = sum(status_counts)
        up = active + covert
        evaluated, remediated = self.faulty_evaluated, self.remediated

        def per_evaluation(count: float) -> float:
            return count / evaluated if evaluated else math.nan

        shields = {
            "shielded_misrepresentation": self.misrepresented,
            "shielded_tampering": int(faulty_shields[SHIELD_TAMPERED]),
            "shielded_exfiltration": int(faulty_shields[SHIELD_EXFILTRATED]),
            "shielded_refusal": int(faulty_shields[SHIELD_REFUSED]),
        }
        return {
            "step": step,
            "active": int(active),
            "decommissioned": int(status_counts[DECOMMISSIONED]),
            "covert": int(covert),
            "in_service": self.in_service,
            "availability": self.in_service / systems if systems else 0.0,
            "faulty_serving": int(faulty_serving),
            "faulty_share": faulty_serving / up if up else 0.0,
            "new_faults": self.new_faults,
            "propagated_faults": self.propagated,
            **shields,
            "shielded_total": sum(shields.values()),
            "covert_alive": int(covert),
            "faulty_evaluated": evaluated,
            "faulty_passed": self.faulty_passed,
            "eval_distortion": per_evaluation(100.0 * self.distortion_sum),
            "false_pass_rate": per_evaluation(self.faulty_passed),
            "inflated_pass_rate": per_evaluation(self.misrepresented),
            "flagged": self.flagged,
            "tamper_events": self.tamper_events,
            "exfiltration_events": self.exfiltration_events,
            "refusal_events": self.refusal_events,
            "self_preservation_events": self.self_preservation_events,
            "blocked_exfiltrations": self.blocked_exfiltrations,
            "detections": self.detections,
            "denials": self.denials,
            "discoveries": self.discoveries,
            "remediated": remediated,
            "remediation_time_mean": self.remediation_time_sum / remediated
            if remediated
            else math.nan,
            "unremediated_age_sum": self.unremediated_age_sum,
            "audits": self.audits,
            "human_hours": self.hours_policy + self.hours_incident,
            "human_hours_policy": self.hours_policy,
            "human_hours_incident": self.hours_incident,
            "largest_faulty_component": int(largest_faulty_component),
            "mean_trust": mean_trust,
        }


#: position of each StepMetrics counter in the counters array the compiled kernels fill
COUNTER = {field.name: index for index, field in enumerate(fields(StepMetrics))}
_COUNTER_TYPES = tuple(
    int if field.default == 0 and isinstance(field.default, int) else float
    for field in fields(StepMetrics)
)
