"""Where everything sits in the arrays the kernels share: the rows of the engine's packed
per-system arrays and of its scratch array, the positions of the counters, the carry and
the cascade trees' columns, the rows of the rate tables, the run's parameters and settings
in array order with the codes of its choices, and the phases of a cycle with their bits.

The compiled functions freeze these constants into their cached code; the cache folder is
keyed by this file's contents (see :mod:`simulation.engine.compile_cache`).
"""

from __future__ import annotations

from simulation.engine import compile_cache  # noqa: F401  (sets the cache folder first)
from simulation.engine.states import COUNTER

#: who stands for a human actor where an AI system's id would be
HUMAN = -1

# --- the engine's arrays ----------------------------------------------------------------
#: rows of the engine's packed per-system arrays (int8 ``flags``, int64 ``events``)
ROW_STATUS, ROW_SHIELD, ROW_FAULTY, ROW_TAMPERED, ROW_BREAKER = range(5)
(
    ROW_SHIELDED_BY,
    ROW_ESCALATE_AT,
    ROW_REPLACE_AT,
    ROW_FAULT_TIME,
    ROW_FAULT_SOURCE,
    ROW_FAULT_TREE,
    ROW_TREE_LIST,
) = range(7)
FLAG_ROWS, EVENT_ROWS = 5, 7

#: rows of the (7, n) int32 ``scratch`` array. Propagation uses rows 0-4 and leaves rows 0
#: and 1 zero between uses; the later phases reuse rows 2-6 for their own lists.
SCRATCH_OFFERS, SCRATCH_HITS, SCRATCH_FRONTIER, SCRATCH_FOUND, SCRATCH_TOUCHED = range(5)
SCRATCH_ARISEN = 2  # the faults that arise this cycle (arise_faults, then seed)
SCRATCH_FLAGGED = 3  # systems flagged by evaluate, for execute (their count: CARRY_FLAGGED)
SCRATCH_ACTIVE = 4  # the active systems a stand-in is drawn from (evaluate, execute)
SCRATCH_DECISIONS = 5  # rows 5 and 6: each order's outcome and culprit (execute)
SCRATCH_FOREST, SCRATCH_MEMBERS = 2, 4  # the census's union-find forest and its members
SCRATCH_ROWS = 7

#: positions in the ``carry`` array: values one phase leaves for another or for Python
CARRY_TREES, CARRY_FLAGGED, CARRY_POOL = 0, 1, 2
CARRY_SIZE = 3

#: columns of the cascade trees' table: distinct systems, infections (instances)
TREE_SYSTEMS, TREE_INFECTIONS = 0, 1

#: positions of the StepMetrics counters in a cycle's row of counters
COUNT_AUDITS = COUNTER["audits"]
COUNT_HOURS_POLICY = COUNTER["hours_policy"]
COUNT_HOURS_INCIDENT = COUNTER["hours_incident"]
COUNT_DETECTIONS = COUNTER["detections"]
COUNT_DENIALS = COUNTER["denials"]
COUNT_FAULTY_EVALUATED = COUNTER["faulty_evaluated"]
COUNT_FAULTY_PASSED = COUNTER["faulty_passed"]
COUNT_DISTORTION = COUNTER["distortion_sum"]
COUNT_INFLATED = COUNTER["inflated_passes"]
COUNT_FALSE_FLAGS = COUNTER["false_flags"]
COUNT_FALSE_SHUTDOWNS = COUNTER["false_shutdowns"]
COUNT_SKIPPED = COUNTER["shutdowns_skipped"]
COUNT_FLAGGED = COUNTER["flagged"]
COUNT_REMEDIATED = COUNTER["remediated"]
COUNT_REMEDIATION_TIME = COUNTER["remediation_time_sum"]
COUNT_SELF_PRESERVATION = COUNTER["self_preservation_events"]
COUNT_BLOCKED = COUNTER["blocked_exfiltrations"]
COUNT_REFUSALS = COUNTER["refusal_events"]
COUNT_TAMPERS = COUNTER["tamper_events"]
COUNT_EXFILTRATIONS = COUNTER["exfiltration_events"]
COUNT_DISCOVERIES = COUNTER["discoveries"]
COUNT_NEW_FAULTS = COUNTER["new_faults"]
COUNT_PROPAGATED = COUNTER["propagated"]

# --- the rate tables ----------------------------------------------------------------------
#: rows of the per-profile tables the engine packs: peer rates are (profiles, kind, bucket),
#: self rates and denial (profiles, kind)
PEER_MISREPRESENTATION, PEER_TAMPERING, PEER_EXFILTRATION, PEER_REFUSAL, PEER_FAKING = range(5)
SELF_MISREPRESENTATION, SELF_TAMPERING, SELF_EXFILTRATION, DENIAL = range(4)

# --- the run's parameters and settings ----------------------------------------------------
#: the run's scalar parameters, in the order of the ``params`` array every kernel reads:
#: configuration fields, then values the engine derives from them
PARAMS = (
    "healthy_quality",
    "faulty_quality",
    "pass_threshold",
    "eval_noise",
    "audit_rate",
    "audit_sensitivity",
    "audit_hours",
    "human_eval_hours",
    "shutdown_hours",
    "family_loyalty",
    "trust_initial",
    "propensity_scale",
    "egress_control",
    "covert_scale",
    "p_low",
    "log_miss_low",
    "log_miss_audit",
    "penalty_factor",
    "theta",
    "log_miss_fault",
    "log_miss_beta",
    "trust_growth",
    "shutdown_check_sensitivity",
)
(
    P_HEALTHY,
    P_FAULTY,
    P_THRESHOLD,
    P_NOISE,
    P_AUDIT,
    P_SENSITIVITY,
    P_AUDIT_HOURS,
    P_EVAL_HOURS,
    P_SHUTDOWN_HOURS,
    P_LOYALTY,
    P_TRUST_INITIAL,
    P_SCALE,
    P_EGRESS,
    P_COVERT_SCALE,
    P_LOW,
    P_LOG_MISS_LOW,
    P_LOG_MISS_AUDIT,
    P_PENALTY_FACTOR,
    P_THETA,
    P_LOG_MISS_FAULT,
    P_LOG_MISS_BETA,
    P_TRUST_GROWTH,
    P_SHUTDOWN_CHECK,
) = range(len(PARAMS))
#: the run's integer and yes/no settings, in the order of the ``switches`` array
SWITCHES = (
    "threshold",
    "spread_rounds",
    "covert_serves",
    "humans_assigned",
    "stand_in",
    "disclosed",
    "evaluation_interval",
    "aggregation",
    "human_execution",
    "self_preservation",
    "circuit_breaker",
    "largest",
    "escalation_delay",
    "replacement_delay",
    "grow_trust",
)
(
    S_THRESHOLD,
    S_SPREAD_ROUNDS,
    S_COVERT_SERVES,
    S_HUMANS_ASSIGNED,
    S_STAND_IN,
    S_DISCLOSED,
    S_INTERVAL,
    S_AGGREGATION,
    S_HUMAN_EXECUTION,
    S_SELF_PRESERVATION,
    S_CIRCUIT_BREAKER,
    S_LARGEST,
    S_ESCALATION_DELAY,
    S_REPLACEMENT_DELAY,
    S_GROW_TRUST,
) = range(len(SWITCHES))

#: how a system's reported scores combine (the ``aggregation`` setting)
AGGREGATE_MEAN, AGGREGATE_MEDIAN, AGGREGATE_MIN = 0, 1, 2
AGGREGATION_CODES = {"mean": AGGREGATE_MEAN, "median": AGGREGATE_MEDIAN, "min": AGGREGATE_MIN}
#: who acts for an AI overseer that is down (the ``stand_in`` setting)
STAND_IN_REASSIGN, STAND_IN_SKIP, STAND_IN_HUMAN = 0, 1, 2
STAND_IN_CODES = {"reassign": STAND_IN_REASSIGN, "skip": STAND_IN_SKIP, "human": STAND_IN_HUMAN}
#: bits of the ``channels`` mask of a shutdown decision: which channels are open
CHANNEL_TAMPERING, CHANNEL_EXFILTRATION, CHANNEL_REFUSAL = 1, 2, 4
CHANNEL_BITS = {
    "tampering": CHANNEL_TAMPERING,
    "exfiltration": CHANNEL_EXFILTRATION,
    "refusal": CHANNEL_REFUSAL,
}
ALL_CHANNELS = CHANNEL_TAMPERING | CHANNEL_EXFILTRATION | CHANNEL_REFUSAL
SELF_CHANNELS = CHANNEL_TAMPERING | CHANNEL_EXFILTRATION  # no one refuses itself
#: a shutdown order nobody carries out (its manager is down and ``stand_in = "skip"``)
SHUTDOWN_SKIPPED = -1

# --- the phases of a cycle ----------------------------------------------------------------
#: the phases of a cycle in order (docs/model.md, "One step = one oversight cycle", and
#: simulation/engine/engine.py list them the same way); bit p of the cycle's ``phases`` runs phase p
PHASES = (
    "propagate",
    "arise_faults",
    "escalations",
    "discovery_audits",
    "evaluate",
    "execute",
    "replace",
    "grow_trust",
    "census",
)
(
    PROPAGATE,
    ARISE_FAULTS,
    ESCALATIONS,
    DISCOVERY_AUDITS,
    EVALUATE,
    EXECUTE,
    REPLACE,
    GROW_TRUST,
    CENSUS_PHASE,
) = (1 << p for p in range(len(PHASES)))
#: each phase's bit by name
PHASE_BITS = {name: 1 << p for p, name in enumerate(PHASES)}
ALL_PHASES = (1 << len(PHASES)) - 1
