"""The vocabulary of the engine's state: statuses, shielding mechanisms, shutdown outcomes,
and the per-cycle counters that become a metrics row."""

from __future__ import annotations

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
