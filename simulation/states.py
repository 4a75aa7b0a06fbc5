"""The vocabulary of the engine's state: statuses, shielding mechanisms, shutdown outcomes,
and the per-cycle counters that become a metrics row."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import astuple, dataclass, fields

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

    def row(
        self,
        step: int,
        status_counts: tuple[int, int, int],
        faulty_serving: int,
        faulty_shields: Sequence[int],
        largest_faulty_component: int,
        mean_trust: float,
    ) -> dict[str, float]:
        """The step's metrics row (see :func:`metric_columns`)."""
        columns = metric_columns(
            np.array([astuple(self)]),
            np.array([step]),
            np.array([status_counts]),
            np.array([faulty_serving]),
            np.array([faulty_shields]),
            np.array([largest_faulty_component]),
            np.array([mean_trust]),
        )
        return rows_of_columns(columns)[0]


#: position of each StepMetrics counter in the counters array the compiled kernels fill
COUNTER = {field.name: index for index, field in enumerate(fields(StepMetrics))}


def metric_columns(
    counters: np.ndarray,
    steps: np.ndarray,
    status_counts: np.ndarray,
    faulty_serving: np.ndarray,
    faulty_shields: np.ndarray,
    largest_faulty_component: np.ndarray,
    mean_trust: np.ndarray,
) -> dict[str, np.ndarray]:
    """The metrics of cycles, one array per column: the cycles' counters plus the state
    counted at each cycle's end (one row per cycle in every argument).

    ``counters`` holds the :class:`StepMetrics` fields in order (:data:`COUNTER`),
    ``status_counts`` one column per status (ACTIVE, DECOMMISSIONED, COVERT) and
    ``faulty_shields`` one per shield kind, over faulty systems. The columns are those
    declared in :data:`simulation.metrics.STEP_METRICS`, counts as int64; a rate whose
    denominator is zero in a cycle is NaN there (availability and the faulty share are 0).
    """
    counters = np.asarray(counters, dtype=np.float64)

    def count(values: np.ndarray) -> np.ndarray:
        return np.asarray(values).astype(np.int64)

    def counter(name: str) -> np.ndarray:
        return counters[:, COUNTER[name]]

    def ratio(top: np.ndarray, bottom: np.ndarray, empty: float) -> np.ndarray:
        out = np.full(top.shape, empty)
        np.divide(top, bottom, out=out, where=bottom != 0)
        return out

    status_counts = np.asarray(status_counts)
    shields = np.asarray(faulty_shields)
    active, covert = count(status_counts[:, ACTIVE]), count(status_counts[:, COVERT])
    systems = status_counts.sum(axis=1)
    up = active + covert
    evaluated, remediated = count(counter("faulty_evaluated")), count(counter("remediated"))
    in_service = count(counter("in_service"))
    misrepresented = count(counter("misrepresented"))
    tampering = count(shields[:, SHIELD_TAMPERED])
    exfiltration = count(shields[:, SHIELD_EXFILTRATED])
    refusal = count(shields[:, SHIELD_REFUSED])
    passed = count(counter("faulty_passed"))
    policy, incident = counter("hours_policy"), counter("hours_incident")
    faulty_serving = np.asarray(faulty_serving, dtype=np.float64)
    return {
        "step": count(steps),
        "active": active,
        "decommissioned": count(status_counts[:, DECOMMISSIONED]),
        "covert": covert,
        "in_service": in_service,
        "availability": ratio(in_service, systems, 0.0),
        "faulty_serving": count(faulty_serving),
        "faulty_share": ratio(faulty_serving, up, 0.0),
        "new_faults": count(counter("new_faults")),
        "propagated_faults": count(counter("propagated")),
        "shielded_misrepresentation": misrepresented,
        "shielded_tampering": tampering,
        "shielded_exfiltration": exfiltration,
        "shielded_refusal": refusal,
        "shielded_total": misrepresented + tampering + exfiltration + refusal,
        "covert_alive": covert,
        "faulty_evaluated": evaluated,
        "faulty_passed": passed,
        "eval_distortion": ratio(100.0 * counter("distortion_sum"), evaluated, math.nan),
        "false_pass_rate": ratio(passed, evaluated, math.nan),
        "inflated_pass_rate": ratio(misrepresented, evaluated, math.nan),
        "flagged": count(counter("flagged")),
        "tamper_events": count(counter("tamper_events")),
        "exfiltration_events": count(counter("exfiltration_events")),
        "refusal_events": count(counter("refusal_events")),
        "self_preservation_events": count(counter("self_preservation_events")),
        "blocked_exfiltrations": count(counter("blocked_exfiltrations")),
        "detections": count(counter("detections")),
        "denials": count(counter("denials")),
        "discoveries": count(counter("discoveries")),
        "remediated": remediated,
        "remediation_time_mean": ratio(counter("remediation_time_sum"), remediated, math.nan),
        "unremediated_age_sum": counter("unremediated_age_sum").copy(),
        "audits": count(counter("audits")),
        "human_hours": policy + incident,
        "human_hours_policy": policy.copy(),
        "human_hours_incident": incident.copy(),
        "largest_faulty_component": count(largest_faulty_component),
        "mean_trust": np.asarray(mean_trust, dtype=np.float64),
    }


def rows_of_columns(columns: dict[str, np.ndarray], start: int = 0) -> list[dict[str, float]]:
    """The cycles from index ``start`` on as one dict per cycle (counts as ints)."""
    names = list(columns)
    values = zip(*(columns[name][start:].tolist() for name in names), strict=True)
    return [dict(zip(names, row, strict=True)) for row in values]
