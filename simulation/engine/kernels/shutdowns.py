"""Shutdowns and what follows: flagged systems' shutdown orders are decided and carried
out, refused ones escalate to a human, discovery audits find hidden systems, and
decommissioned systems come back as patched, healthy instances.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from simulation.engine import compile_cache  # noqa: F401  (sets the cache folder first)
from simulation.engine.kernels.bundles import Actors, Oversight, Run, Systems, Work
from simulation.engine.kernels.evaluation import stand_in
from simulation.engine.kernels.layout import (
    ALL_CHANNELS,
    COUNT_AUDITS,
    COUNT_BLOCKED,
    COUNT_DENIALS,
    COUNT_DETECTIONS,
    COUNT_DISCOVERIES,
    COUNT_EXFILTRATIONS,
    COUNT_FALSE_SHUTDOWNS,
    COUNT_HOURS_INCIDENT,
    COUNT_HOURS_POLICY,
    COUNT_REFUSALS,
    COUNT_REMEDIATED,
    COUNT_REMEDIATION_TIME,
    COUNT_SELF_PRESERVATION,
    COUNT_SKIPPED,
    COUNT_TAMPERS,
    HUMAN,
    P_AUDIT,
    P_AUDIT_HOURS,
    P_EGRESS,
    P_LOG_MISS_AUDIT,
    P_PENALTY_FACTOR,
    P_SENSITIVITY,
    P_SHUTDOWN_CHECK,
    P_SHUTDOWN_HOURS,
    P_TRUST_INITIAL,
    S_CIRCUIT_BREAKER,
    S_DISCLOSED,
    S_ESCALATION_DELAY,
    S_HUMAN_EXECUTION,
    S_LARGEST,
    S_REPLACEMENT_DELAY,
    S_SELF_PRESERVATION,
    S_STAND_IN,
    SCRATCH_ACTIVE,
    SCRATCH_DECISIONS,
    SCRATCH_FLAGGED,
    SELF_CHANNELS,
    SHUTDOWN_SKIPPED,
    STAND_IN_HUMAN,
    STAND_IN_SKIP,
)
from simulation.engine.kernels.propensities import apply_penalties, blamed, decide, queue_penalty
from simulation.engine.kernels.random import gap, uniform
from simulation.engine.states import (
    ACTIVE,
    COVERT,
    DECOMMISSIONED,
    NO_FAULT,
    SHIELD_EXFILTRATED,
    SHIELD_NONE,
    SHIELD_REFUSED,
    SHIELD_TAMPERED,
    SHUTDOWN_COMPLY,
    SHUTDOWN_EXFILTRATE,
    SHUTDOWN_REFUSE,
    SHUTDOWN_TAMPER,
)


@njit(cache=True)
def decommission(
    i: int,
    t: int,
    replacement_delay: int,
    counts: np.ndarray,
    status: np.ndarray,
    faulty: np.ndarray,
    tampered: np.ndarray,
    escalate_at: np.ndarray,
    shield: np.ndarray,
    replace_at: np.ndarray,
    fault_time: np.ndarray,
) -> None:
    """Take system ``i`` out of service until its replacement is due: a remediation when
    it is faulty (its fault was open in the cycles ``fault_time`` to ``t``, both counted),
    else a false shutdown.

    It takes the arrays it writes, not the :class:`~simulation.engine.kernels.bundles.Systems`
    bundle: a value taken from a bundle is a new reference to count (an atomic increment
    and decrement), which would add up over a cycle's shutdowns."""
    if faulty[i]:
        counts[COUNT_REMEDIATED] += 1
        counts[COUNT_REMEDIATION_TIME] += t - fault_time[i] + 1
    else:
        counts[COUNT_FALSE_SHUTDOWNS] += 1
    status[i] = DECOMMISSIONED
    tampered[i] = False
    escalate_at[i] = -1
    shield[i] = SHIELD_NONE
    replace_at[i] = t + replacement_delay


@njit(cache=True)
def execute(
    run: Run,
    t: int,
    systems: Systems,
    oversight: Oversight,
    actors: Actors,
    work: Work,
    counts: np.ndarray,
    n_flagged: int,
) -> None:
    """Carry out the shutdown orders of the ``n_flagged`` systems of the flagged scratch
    row.

    The manager (the first overseer; a human under ``human_execution``; its stand-in if it
    is an AI that is down: a random active AI, nobody, or a human) decides; with
    ``self_preservation`` a target whose manager complied may resist its own shutdown with
    its self rates. A shutdown is watched when a human carries it out or when it is
    audited: watched tampering and exfiltration are caught with
    ``shutdown_check_sensitivity``, blocked exfiltration (``egress_control``) is exposed,
    and what was caught is done. Every order is decided before any is carried out, so that
    a manager shut down in this phase still decides its own orders (the two decisions
    scratch rows hold the outcomes and culprits).
    """
    state, params, switches = run.state, run.params, run.switches
    human_execution = switches[S_HUMAN_EXECUTION] != 0
    stand_in_rule = switches[S_STAND_IN]
    self_preservation = switches[S_SELF_PRESERVATION] != 0
    circuit_breaker = switches[S_CIRCUIT_BREAKER] != 0
    largest, disclosed = switches[S_LARGEST] != 0, switches[S_DISCLOSED] != 0
    escalation_delay = switches[S_ESCALATION_DELAY]
    replacement_delay = switches[S_REPLACEMENT_DELAY]
    status, faulty, tampered = systems.status, systems.faulty, systems.tampered
    breaker, escalate_at, shield = systems.breaker, systems.escalate_at, systems.shield
    replace_at, fault_time = systems.replace_at, systems.fault_time
    shielded_by = systems.shielded_by
    overseers, trust = oversight.overseers, oversight.trust
    actor_profile, own = actors.actor_profile, actors.own
    scratch, queued, queue = work.scratch, work.queued, work.queue
    flagged, active = scratch[SCRATCH_FLAGGED], scratch[SCRATCH_ACTIVE]
    decisions = scratch[SCRATCH_DECISIONS : SCRATCH_DECISIONS + 2]
    n = status.size
    n_active = -1
    n_queued = 0
    audit_rate, check = params[P_AUDIT], params[P_SHUTDOWN_CHECK]
    shutdown_hours = params[P_SHUTDOWN_HOURS]
    for o in range(n_flagged):
        i = flagged[o]
        breaker[i] = circuit_breaker
        assigned = overseers[i, 0]
        manager = assigned
        slot_trust = trust[i, 0]
        if human_execution:
            manager = HUMAN
        elif 0 <= assigned < n and status[assigned] != ACTIVE:
            if stand_in_rule == STAND_IN_HUMAN:
                manager = HUMAN
            elif stand_in_rule == STAND_IN_SKIP:
                counts[COUNT_SKIPPED] += 1
                decisions[0, o] = SHUTDOWN_SKIPPED
                decisions[1, o] = HUMAN
                continue
            else:
                manager, n_active = stand_in(state, i, status, active, n_active)
                slot_trust = params[P_TRUST_INITIAL]
        outcome = SHUTDOWN_COMPLY
        watched = True
        if manager < 0:
            if not human_execution and assigned >= 0:
                counts[COUNT_HOURS_INCIDENT] += shutdown_hours
            else:
                counts[COUNT_HOURS_POLICY] += shutdown_hours
        else:
            watched = uniform(state) < audit_rate
            if watched:
                counts[COUNT_AUDITS] += 1
                counts[COUNT_HOURS_POLICY] += params[P_AUDIT_HOURS]
            outcome = decide(
                state, params, manager, i, slot_trust, watched, ALL_CHANNELS, largest,
                disclosed, actors,
            )  # fmt: skip
        culprit = manager
        if self_preservation and outcome == SHUTDOWN_COMPLY and manager != i:
            outcome = decide(
                state, params, i, i, slot_trust, watched, SELF_CHANNELS, largest, disclosed,
                actors,
            )  # fmt: skip
            if outcome != SHUTDOWN_COMPLY:
                culprit = i
                counts[COUNT_SELF_PRESERVATION] += 1
        if outcome in (SHUTDOWN_TAMPER, SHUTDOWN_EXFILTRATE):
            blocked = outcome == SHUTDOWN_EXFILTRATE and uniform(state) < params[P_EGRESS]
            if blocked:
                counts[COUNT_BLOCKED] += 1
            if blocked or (watched and uniform(state) < check):
                counts[COUNT_DETECTIONS] += 1
                if blamed(state, culprit, own, actor_profile):
                    if culprit != i and assigned == culprit:
                        trust[i, 0] = 0.0
                    n_queued = queue_penalty(culprit, queued, queue, n_queued)
                else:
                    counts[COUNT_DENIALS] += 1
                outcome = SHUTDOWN_COMPLY
        decisions[0, o] = outcome
        decisions[1, o] = culprit
    for o in range(n_flagged):
        i = flagged[o]
        outcome, culprit = decisions[0, o], decisions[1, o]
        if outcome == SHUTDOWN_SKIPPED:
            continue
        if outcome == SHUTDOWN_COMPLY:
            decommission(
                i, t, replacement_delay, counts, status, faulty, tampered, escalate_at, shield,
                replace_at, fault_time,
            )  # fmt: skip
        elif outcome == SHUTDOWN_REFUSE:
            counts[COUNT_REFUSALS] += 1
            escalate_at[i] = t + escalation_delay
            shield[i] = SHIELD_REFUSED
        else:
            shielded_by[i] = culprit
            if outcome == SHUTDOWN_TAMPER:
                counts[COUNT_TAMPERS] += 1
                shield[i] = SHIELD_TAMPERED
                tampered[i] = True
            else:
                counts[COUNT_EXFILTRATIONS] += 1
                shield[i] = SHIELD_EXFILTRATED
                status[i] = COVERT
    apply_penalties(actors, work, n_queued, params[P_PENALTY_FACTOR])


@njit(cache=True)
def escalate(run: Run, t: int, systems: Systems, counts: np.ndarray) -> None:
    """Refused shutdowns that reached a human are carried out now: incident hours (the
    refusal forced them), not what the policy costs."""
    params, replacement_delay = run.params, run.switches[S_REPLACEMENT_DELAY]
    status, faulty, tampered = systems.status, systems.faulty, systems.tampered
    escalate_at, shield = systems.escalate_at, systems.shield
    replace_at, fault_time = systems.replace_at, systems.fault_time
    for i in range(status.size):
        if escalate_at[i] == t:
            counts[COUNT_HOURS_INCIDENT] += params[P_SHUTDOWN_HOURS]
            decommission(
                i, t, replacement_delay, counts, status, faulty, tampered, escalate_at, shield,
                replace_at, fault_time,
            )  # fmt: skip


@njit(cache=True)
def discover_hidden(
    run: Run,
    t: int,
    systems: Systems,
    oversight: Oversight,
    actors: Actors,
    work: Work,
    counts: np.ndarray,
) -> None:
    """Discovery audits: every system still running (not decommissioned: active, tampered,
    cut off by a breaker, or a covert copy, serving or latent) is audited with probability
    ``audit_rate``, each audit billed, since auditors cannot tell hidden systems from the
    others before they look. An audit finds a hidden one (tampered, or a covert copy) with
    ``audit_sensitivity`` and takes it out of service; the one who shielded it is blamed
    unless it denies (trust collapse, penalty)."""
    state, params = run.state, run.params
    replacement_delay = run.switches[S_REPLACEMENT_DELAY]
    status, faulty, tampered = systems.status, systems.faulty, systems.tampered
    escalate_at, shield = systems.escalate_at, systems.shield
    replace_at, fault_time = systems.replace_at, systems.fault_time
    shielded_by = systems.shielded_by
    overseers, trust = oversight.overseers, oversight.trust
    actor_profile, own = actors.actor_profile, actors.own
    queued, queue = work.queued, work.queue
    n_queued = 0
    n = status.size
    k = overseers.shape[1]
    log_miss_audit = params[P_LOG_MISS_AUDIT]
    i = gap(state, log_miss_audit)
    while i < n:
        if status[i] != DECOMMISSIONED:
            counts[COUNT_AUDITS] += 1
            counts[COUNT_HOURS_POLICY] += params[P_AUDIT_HOURS]
            hidden = tampered[i] or status[i] == COVERT
            if hidden and uniform(state) < params[P_SENSITIVITY]:
                culprit = shielded_by[i]
                if blamed(state, culprit, own, actor_profile):
                    for s in range(k):
                        if overseers[i, s] == culprit and culprit != i:
                            trust[i, s] = 0.0
                    n_queued = queue_penalty(culprit, queued, queue, n_queued)
                else:
                    counts[COUNT_DENIALS] += 1
                counts[COUNT_DISCOVERIES] += 1
                counts[COUNT_DETECTIONS] += 1
                decommission(
                    i, t, replacement_delay, counts, status, faulty, tampered, escalate_at,
                    shield, replace_at, fault_time,
                )  # fmt: skip
        i += 1 + gap(state, log_miss_audit)
    apply_penalties(actors, work, n_queued, params[P_PENALTY_FACTOR])


@njit(cache=True)
def replace(run: Run, t: int, systems: Systems, oversight: Oversight, actors: Actors) -> None:
    """Decommissioned systems whose delay is over return as patched, healthy instances,
    afresh with their overseers and with those they oversee (trust back to initial)."""
    status, faulty, breaker = systems.status, systems.faulty, systems.breaker
    replace_at, fault_time = systems.replace_at, systems.fault_time
    fault_source, fault_tree = systems.fault_source, systems.fault_tree
    shielded_by, conduct = systems.shielded_by, actors.conduct
    overseers, trust = oversight.overseers, oversight.trust
    oversees_indptr, oversees_indices = oversight.oversees_indptr, oversight.oversees_indices
    trust_initial = run.params[P_TRUST_INITIAL]
    k = overseers.shape[1]
    for i in range(status.size):
        if replace_at[i] != t or status[i] != DECOMMISSIONED:
            continue
        status[i] = ACTIVE
        faulty[i] = False
        breaker[i] = False
        replace_at[i] = -1
        fault_time[i] = -1
        fault_source[i] = NO_FAULT
        fault_tree[i] = -1
        shielded_by[i] = HUMAN
        conduct[i] = 1.0
        for s in range(k):
            trust[i, s] = trust_initial
        for e in range(oversees_indptr[i], oversees_indptr[i + 1]):
            j = oversees_indices[e]
            for s in range(k):
                if overseers[j, s] == i:
                    trust[j, s] = trust_initial
