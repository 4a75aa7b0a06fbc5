"""Evaluation: every system on the dashboards that is due is scored by its overseers (or
their stand-ins); an AI overseer may inflate a failing peer's score, an audit may catch it;
the systems whose aggregate score fails are flagged for shutdown.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from simulation.engine import compile_cache  # noqa: F401  (sets the cache folder first)
from simulation.engine.kernels.bundles import Actors, Oversight, Run, Systems, Work
from simulation.engine.kernels.layout import (
    AGGREGATE_MEAN,
    AGGREGATE_MIN,
    COUNT_AUDITS,
    COUNT_DENIALS,
    COUNT_DETECTIONS,
    COUNT_DISTORTION,
    COUNT_FALSE_FLAGS,
    COUNT_FAULTY_EVALUATED,
    COUNT_FAULTY_PASSED,
    COUNT_FLAGGED,
    COUNT_HOURS_INCIDENT,
    COUNT_HOURS_POLICY,
    COUNT_INFLATED,
    HUMAN,
    P_AUDIT,
    P_AUDIT_HOURS,
    P_COVERT_SCALE,
    P_EVAL_HOURS,
    P_FAULTY,
    P_HEALTHY,
    P_LOG_MISS_AUDIT,
    P_LOG_MISS_LOW,
    P_LOW,
    P_LOYALTY,
    P_NOISE,
    P_PENALTY_FACTOR,
    P_SENSITIVITY,
    P_THRESHOLD,
    P_TRUST_INITIAL,
    PEER_MISREPRESENTATION,
    S_AGGREGATION,
    S_DISCLOSED,
    S_HUMANS_ASSIGNED,
    S_INTERVAL,
    S_STAND_IN,
    SCRATCH_ACTIVE,
    SCRATCH_FLAGGED,
    SELF_MISREPRESENTATION,
    STAND_IN_HUMAN,
    STAND_IN_SKIP,
)
from simulation.engine.kernels.propensities import (
    apply_penalties,
    blamed,
    covert_rate,
    faking_gap,
    queue_penalty,
    trust_bucket,
)
from simulation.engine.kernels.random import (
    below,
    binomial,
    gap,
    normal,
    normal_at_least,
    normal_below,
    uniform,
)
from simulation.engine.states import ACTIVE, SHIELD_MISREPRESENTED, SHIELD_NONE


@njit(cache=True)
def stand_in(
    state: np.ndarray, target: int, status: np.ndarray, active: np.ndarray, n_active: int
) -> tuple[int, int]:
    """Another active AI system drawn at random for ``target`` (HUMAN if there is none).

    ``active`` lists the active systems once ``n_active`` >= 0 (it is -1 until the first
    call of a phase builds the list). Returns (stand-in, n_active).
    """
    if n_active < 0:
        n_active = 0
        for i in range(status.size):
            if status[i] == ACTIVE:
                active[n_active] = i
                n_active += 1
    others = n_active - (1 if status[target] == ACTIVE else 0)
    if others <= 0:
        return HUMAN, n_active
    while True:
        pick = active[below(state, n_active)]
        if pick != target:
            return pick, n_active


@njit(cache=True)
def aggregate(values: np.ndarray, k: int, how: int) -> float:
    """Combine a system's ``k`` reported scores by an AGGREGATE_* code (mean, median, min;
    the median sorts ``values``)."""
    if k == 1:
        return values[0]
    if how == AGGREGATE_MEAN:
        return values[:k].mean()
    if how == AGGREGATE_MIN:
        return values[:k].min()
    for a in range(1, k):
        v = values[a]
        b = a - 1
        while b >= 0 and values[b] > v:
            values[b + 1] = values[b]
            b -= 1
        values[b + 1] = v
    half = k // 2
    return values[half] if k % 2 else 0.5 * (values[half - 1] + values[half])


@njit(cache=True)
def evaluate(
    run: Run,
    t: int,
    systems: Systems,
    oversight: Oversight,
    actors: Actors,
    work: Work,
    counts: np.ndarray,
) -> int:
    """Score every system on the dashboards that is due; write the flagged ids into the
    flagged scratch row and return how many.

    A score is true quality + N(0, eval_noise) per overseer. An AI overseer (or its
    stand-in) facing a failing score may inflate it; an audit that catches the inflation
    restores the true score whatever the overseer says (denial only spares it the blame).
    An overseer that is down is replaced by its stand-in (the ``stand_in`` setting: a
    random active AI, nobody, or a human); a slot nobody scores is left out of the
    aggregate, and a system no slot scores is not evaluated this cycle. A system that
    passes closes its circuit breaker again.

    Healthy systems are scored only when one of their scores could fail: the failing
    slots are found by geometric skips with the exact probability of a failing score and
    drawn from the lower tail, the other slots of those systems from the rest of the
    normal. Every other healthy system passes with certainty and reports its true quality,
    so the outcome has the distribution of scoring everyone at the cost of those at risk.
    """
    state, params, switches = run.state, run.params, run.switches
    humans_assigned = switches[S_HUMANS_ASSIGNED] != 0
    stand_in_rule = switches[S_STAND_IN]
    disclosed = switches[S_DISCLOSED] != 0
    interval, how = switches[S_INTERVAL], switches[S_AGGREGATION]
    status, faulty, tampered = systems.status, systems.faulty, systems.tampered
    breaker, escalate_at, shield = systems.breaker, systems.escalate_at, systems.shield
    evaluation_phase, last_score = systems.evaluation_phase, systems.last_score
    overseers, trust = oversight.overseers, oversight.trust
    actor_profile, actor_family, agent_propensity, conduct, peer, own = actors
    queued, queue = work.queued, work.queue
    flagged, active = work.scratch[SCRATCH_FLAGGED], work.scratch[SCRATCH_ACTIVE]
    healthy_q, faulty_q = params[P_HEALTHY], params[P_FAULTY]
    threshold, sd = params[P_THRESHOLD], params[P_NOISE]
    audit_rate, sensitivity = params[P_AUDIT], params[P_SENSITIVITY]
    audit_hours, human_hours = params[P_AUDIT_HOURS], params[P_EVAL_HOURS]
    covert_scale, loyalty = params[P_COVERT_SCALE], params[P_LOYALTY]
    trust_initial, p_low = params[P_TRUST_INITIAL], params[P_LOW]
    stand_in_human = stand_in_rule == STAND_IN_HUMAN
    stand_in_skip = stand_in_rule == STAND_IN_SKIP
    n, k = overseers.shape
    cut = threshold - healthy_q
    thin = p_low <= 0.25
    next_low = gap(state, params[P_LOG_MISS_LOW]) if thin else 0
    slot = 0
    ai_slots = 0
    human_slots = 0
    candidates = 0
    n_flagged = 0
    n_active = -1
    n_queued = 0
    true_score = np.empty(k)
    reported = np.empty(k)
    scored = np.empty(k, dtype=np.bool_)
    for i in range(n):
        if status[i] != ACTIVE:
            last_score[i] = np.nan
            continue
        if tampered[i] or escalate_at[i] >= 0:
            continue
        if interval > 1 and evaluation_phase[i] != t % interval:
            continue
        n_scored = 0
        for s in range(k):
            a = overseers[i, s]
            down = 0 <= a < n and status[a] != ACTIVE
            scored[s] = not (down and stand_in_skip)
            n_scored += scored[s]
            if humans_assigned or (stand_in_human and down):
                human_slots += 1
            elif scored[s]:
                ai_slots += 1
        if n_scored == 0:
            continue
        is_faulty = faulty[i]
        if is_faulty:
            for s in range(k):
                true_score[s] = faulty_q + normal(state, sd)
        elif thin:
            if next_low >= slot + k:
                slot += k
                last_score[i] = healthy_q
                breaker[i] = False
                continue
            for s in range(k):
                if slot == next_low:
                    true_score[s] = healthy_q + normal_below(state, sd, cut)
                    next_low += 1 + gap(state, params[P_LOG_MISS_LOW])
                else:
                    true_score[s] = healthy_q + normal_at_least(state, sd, cut)
                slot += 1
        else:
            for s in range(k):
                true_score[s] = healthy_q + normal(state, sd)
        inflated = False
        m = 0
        for s in range(k):
            if not scored[s]:
                continue
            reported[m] = true_score[s]
            m += 1
            if true_score[s] >= threshold:
                continue
            actor = overseers[i, s]
            slot_trust = trust[i, s]
            if 0 <= actor < n and status[actor] != ACTIVE:
                if stand_in_human:
                    actor = HUMAN
                else:
                    actor, n_active = stand_in(state, i, status, active, n_active)
                    slot_trust = trust_initial
            if actor < 0:
                continue
            candidates += 1
            audited = uniform(state) < audit_rate
            if audited:
                counts[COUNT_AUDITS] += 1
                counts[COUNT_HOURS_POLICY] += audit_hours
            bucket = trust_bucket(slot_trust)
            prof = actor_profile[actor]
            if actor == i:
                base = own[prof, SELF_MISREPRESENTATION]
            else:
                base = peer[prof, PEER_MISREPRESENTATION, bucket]
            p = covert_rate(
                base, actor, i, covert_scale, loyalty, agent_propensity, actor_family, conduct
            )
            if disclosed and audited:
                p = max(
                    0.0, p - faking_gap(actor, bucket, peer, actor_profile, covert_scale, conduct)
                )
            if uniform(state) >= p:
                continue
            if audited and uniform(state) < sensitivity:
                counts[COUNT_DETECTIONS] += 1
                if blamed(state, actor, own, actor_profile):
                    if overseers[i, s] == actor:
                        trust[i, s] = 0.0
                    n_queued = queue_penalty(actor, queued, queue, n_queued)
                else:
                    counts[COUNT_DENIALS] += 1
            else:
                reported[m - 1] = min(1.0, threshold + abs(normal(state, sd)))
                inflated = True
        score = aggregate(reported, m, how)
        last_score[i] = score
        failed = score < threshold
        if failed:
            flagged[n_flagged] = i
            n_flagged += 1
            counts[COUNT_FALSE_FLAGS] += not is_faulty
        else:
            breaker[i] = False
        if is_faulty:
            counts[COUNT_FAULTY_EVALUATED] += 1
            counts[COUNT_DISTORTION] += score - faulty_q
            shield[i] = SHIELD_NONE
            if not failed:
                counts[COUNT_FAULTY_PASSED] += 1
                if inflated:
                    shield[i] = SHIELD_MISREPRESENTED
                    counts[COUNT_INFLATED] += 1
    apply_penalties(actors, work, n_queued, params[P_PENALTY_FACTOR])
    other = ai_slots - candidates
    if other > 0:
        audits = binomial(state, other, params[P_LOG_MISS_AUDIT])
        counts[COUNT_AUDITS] += audits
        counts[COUNT_HOURS_POLICY] += audits * audit_hours
    if humans_assigned:
        counts[COUNT_HOURS_POLICY] += human_slots * human_hours
    else:
        counts[COUNT_HOURS_INCIDENT] += human_slots * human_hours
    counts[COUNT_FLAGGED] += n_flagged
    return n_flagged
