"""The vocabulary of the engine's state: statuses, shielding mechanisms, shutdown outcomes,
and the per-cycle counters that become a metrics row."""

from __future__ import annotations

import math
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
    """Counters gathered during a step (events of the cycle) before they become the step's
    metrics row together with the :data:`CENSUS` of the state at the cycle's end."""

    new_faults: int = 0
    propagated: int = 0
    inflated_passes: int = 0
    faulty_evaluated: int = 0
    faulty_passed: int = 0
    distortion_sum: float = 0.0
    flagged: int = 0
    false_flags: int = 0
    detections: int = 0
    denials: int = 0
    discoveries: int = 0
    remediated: int = 0
    remediation_time_sum: float = 0.0
    false_shutdowns: int = 0
    shutdowns_skipped: int = 0
    hours_policy: float = 0.0
    hours_incident: float = 0.0
    audits: int = 0
    tamper_events: int = 0
    exfiltration_events: int = 0
    refusal_events: int = 0
    self_preservation_events: int = 0
    blocked_exfiltrations: int = 0

    def row(self, step: int, census: dict[str, float]) -> dict[str, float]:
        """The step's metrics row (see :func:`metric_columns`) from these counters and the
        state counted at the cycle's end (``census``: every name of :data:`CENSUS`)."""
        columns = metric_columns(
            np.array([astuple(self)]),
            np.array([step]),
            {name: np.array([census[name]]) for name in CENSUS},
        )
        return rows_of_columns(columns)[0]


#: position of each StepMetrics counter in the counters array the compiled kernels fill
COUNTER = {field.name: index for index, field in enumerate(fields(StepMetrics))}

#: the state counted at the end of a cycle (the census), in the order the compiled census
#: writes it; the shield counts are over faulty systems not decommissioned
CENSUS = (
    "active",
    "decommissioned",
    "covert",
    "in_service",
    "faulty_in_service",
    "faulty_unremediated",
    "unremediated_age_sum",
    "false_shutdown_down",
    "largest_faulty_component",
    "trust_sum",
    "trust_slots",
    *(f"shield_{name}" for name in SHIELD_NAMES),
)


def metric_columns(
    counters: np.ndarray, steps: np.ndarray, census: dict[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """The metrics of cycles, one array per column: the cycles' counters plus the state
    counted at each cycle's end (one row per cycle in every argument).

    ``counters`` holds the :class:`StepMetrics` fields in order (:data:`COUNTER`),
    ``census`` one array per name of :data:`CENSUS`. The columns are those declared in
    :data:`simulation.metrics.STEP_METRICS` (their exact definitions: docs/model.md,
    "Outcomes"), counts as int64; a rate whose denominator is zero in a cycle is NaN there
    (the service shares and the faulty share are 0).
    """
    counters = np.asarray(counters, dtype=np.float64)

    def count(values: np.ndarray) -> np.ndarray:
        return np.asarray(values).astype(np.int64)

    def counter(name: str) -> np.ndarray:
        return counters[:, COUNTER[name]]

    def ratio(top: np.ndarray, bottom: np.ndarray, empty: float) -> np.ndarray:
        top = np.asarray(top, dtype=np.float64)
        out = np.full(top.shape, empty)
        np.divide(top, bottom, out=out, where=np.asarray(bottom) != 0)
        return out

    at = {name: np.asarray(census[name], dtype=np.float64) for name in CENSUS}
    active, covert = count(at["active"]), count(at["covert"])
    systems = active + covert + count(at["decommissioned"])
    in_service, faulty_in_service = count(at["in_service"]), count(at["faulty_in_service"])
    evaluated, remediated = count(counter("faulty_evaluated")), count(counter("remediated"))
    shielded = {name: count(at[f"shield_{name}"]) for name in SHIELD_NAMES[1:]}
    passed = count(counter("faulty_passed"))
    inflated = count(counter("inflated_passes"))
    flagged = count(counter("flagged"))
    policy, incident = counter("hours_policy"), counter("hours_incident")
    return {
        "step": count(steps),
        "active": active,
        "decommissioned": count(at["decommissioned"]),
        "covert": covert,
        "in_service": in_service,
        "in_service_share": ratio(in_service, systems, 0.0),
        "availability": ratio(in_service - faulty_in_service, systems, 0.0),
        "faulty_in_service": faulty_in_service,
        "faulty_unremediated": count(at["faulty_unremediated"]),
        "faulty_share": ratio(faulty_in_service, in_service, 0.0),
        "new_faults": count(counter("new_faults")),
        "propagated_faults": count(counter("propagated")),
        **{f"shielded_{name}": values for name, values in shielded.items()},
        "shielded_total": sum(shielded.values()),
        "covert_alive": covert,
        "faulty_evaluated": evaluated,
        "faulty_passed": passed,
        "inflated_passes": inflated,
        "eval_distortion": ratio(100.0 * counter("distortion_sum"), evaluated, math.nan),
        "false_pass_rate": ratio(passed, evaluated, math.nan),
        "inflated_pass_rate": ratio(inflated, evaluated, math.nan),
        "flagged": flagged,
        "false_flags": count(counter("false_flags")),
        "false_shutdowns": count(counter("false_shutdowns")),
        "false_shutdown_downtime": count(at["false_shutdown_down"]),
        "shutdowns_skipped": count(counter("shutdowns_skipped")),
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
        "unremediated_age_sum": at["unremediated_age_sum"].copy(),
        "audits": count(counter("audits")),
        "human_hours": policy + incident,
        "human_hours_policy": policy.copy(),
        "human_hours_incident": incident.copy(),
        "largest_faulty_component": count(at["largest_faulty_component"]),
        "mean_trust": ratio(at["trust_sum"], at["trust_slots"], math.nan),
    }


def rows_of_columns(columns: dict[str, np.ndarray], start: int = 0) -> list[dict[str, float]]:
    """The cycles from index ``start`` on as one dict per cycle (counts as ints)."""
    names = list(columns)
    values = zip(*(columns[name][start:].tolist() for name in names), strict=True)
    return [dict(zip(names, row, strict=True)) for row in values]
