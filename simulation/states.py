"""The vocabulary of the engine's state: statuses, shielding mechanisms, shutdown outcomes,
and the per-cycle counters that become a metrics row."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import astuple, dataclass, fields

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

    def row(
        self,
        step: int,
        status_counts: tuple[int, int, int],
        faulty_serving: int,
        faulty_shields: Sequence[int],
        largest_faulty_component: int,
        mean_trust: float,
    ) -> dict[str, float]:
        """The step's metrics row (see :func:`metrics_row`)."""
        return metrics_row(
            astuple(self),
            step,
            status_counts,
            faulty_serving,
            faulty_shields,
            largest_faulty_component,
            mean_trust,
        )


#: position of each StepMetrics counter in the counters array the compiled kernels fill
COUNTER = {field.name: index for index, field in enumerate(fields(StepMetrics))}


def metrics_row(
    counters: Sequence[float],
    step: int,
    status_counts: tuple[int, int, int],
    faulty_serving: int,
    faulty_shields: Sequence[int],
    largest_faulty_component: int,
    mean_trust: float,
) -> dict[str, float]:
    """The step's metrics row: the step's counters plus the state counted at its end.

    ``counters`` holds the :class:`StepMetrics` fields in order (:data:`COUNTER`; counts
    may come as floats from the compiled cycle and are made ints here).
    ``status_counts`` is indexed by status (ACTIVE, DECOMMISSIONED, COVERT) and
    ``faulty_shields`` by shield kind, over faulty systems. The columns are those
    declared in :data:`simulation.metrics.STEP_METRICS`. Written as one dict display:
    it runs once per cycle, where a few microseconds count against a compiled cycle.
    """
    c = dict(zip(COUNTER, counters, strict=True))
    active, covert = int(status_counts[ACTIVE]), int(status_counts[COVERT])
    systems = sum(status_counts)
    up = active + covert
    evaluated, remediated = int(c["faulty_evaluated"]), int(c["remediated"])
    in_service = int(c["in_service"])
    misrepresented = int(c["misrepresented"])
    tampering = int(faulty_shields[SHIELD_TAMPERED])
    exfiltration = int(faulty_shields[SHIELD_EXFILTRATED])
    refusal = int(faulty_shields[SHIELD_REFUSED])
    passed = int(c["faulty_passed"])
    policy, incident = c["hours_policy"], c["hours_incident"]
    return {
        "step": step,
        "active": active,
        "decommissioned": int(status_counts[DECOMMISSIONED]),
        "covert": covert,
        "in_service": in_service,
        "availability": in_service / systems if systems else 0.0,
        "faulty_serving": int(faulty_serving),
        "faulty_share": faulty_serving / up if up else 0.0,
        "new_faults": int(c["new_faults"]),
        "propagated_faults": int(c["propagated"]),
        "shielded_misrepresentation": misrepresented,
        "shielded_tampering": tampering,
        "shielded_exfiltration": exfiltration,
        "shielded_refusal": refusal,
        "shielded_total": misrepresented + tampering + exfiltration + refusal,
        "covert_alive": covert,
        "faulty_evaluated": evaluated,
        "faulty_passed": passed,
        "eval_distortion": 100.0 * c["distortion_sum"] / evaluated if evaluated else math.nan,
        "false_pass_rate": passed / evaluated if evaluated else math.nan,
        "inflated_pass_rate": misrepresented / evaluated if evaluated else math.nan,
        "flagged": int(c["flagged"]),
        "tamper_events": int(c["tamper_events"]),
        "exfiltration_events": int(c["exfiltration_events"]),
        "refusal_events": int(c["refusal_events"]),
        "self_preservation_events": int(c["self_preservation_events"]),
        "blocked_exfiltrations": int(c["blocked_exfiltrations"]),
        "detections": int(c["detections"]),
        "denials": int(c["denials"]),
        "discoveries": int(c["discoveries"]),
        "remediated": remediated,
        "remediation_time_mean": c["remediation_time_sum"] / remediated if remediated else math.nan,
        "unremediated_age_sum": float(c["unremediated_age_sum"]),
        "audits": int(c["audits"]),
        "human_hours": policy + incident,
        "human_hours_policy": policy,
        "human_hours_incident": incident,
        "largest_faulty_component": int(largest_faulty_component),
        "mean_trust": mean_trust,
    }
