"""Compiled kernels of the engine's cycle: plain loops over the events of a cycle (faulty
systems, their edges, the systems on the dashboards, the flagged ones), compiled once by
Numba and cached on disk.

Random numbers come from a SplitMix64 stream whose 64-bit state lives in a one-element
``uint64`` array owned by the engine and seeded from the run's ``numpy.random.Generator``:
one seed still gives one run. Passing the Generator itself into a compiled function costs
about 70 microseconds per call (Numba re-reads its ctypes interface every time), more than
a whole cycle of 1,000 systems; an array argument costs well under one.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
from numba import njit

from simulation import compile_cache  # noqa: F401  (sets the cache folder first)
from simulation.grouping import fill_rows_by_value
from simulation.population import PropensityTables
from simulation.states import (
    ACTIVE,
    CENSUS,
    COUNTER,
    COVERT,
    DECOMMISSIONED,
    NO_FAULT,
    ROOT_FAULT,
    SHIELD_EXFILTRATED,
    SHIELD_MISREPRESENTED,
    SHIELD_NONE,
    SHIELD_REFUSED,
    SHIELD_TAMPERED,
    SHUTDOWN_COMPLY,
    SHUTDOWN_EXFILTRATE,
    SHUTDOWN_REFUSE,
    SHUTDOWN_TAMPER,
)

_AUDITS = COUNTER["audits"]
_HOURS_POLICY = COUNTER["hours_policy"]
_HOURS_INCIDENT = COUNTER["hours_incident"]
_DETECTIONS = COUNTER["detections"]
_DENIALS = COUNTER["denials"]
_FAULTY_EVALUATED = COUNTER["faulty_evaluated"]
_FAULTY_PASSED = COUNTER["faulty_passed"]
_DISTORTION = COUNTER["distortion_sum"]
_INFLATED = COUNTER["inflated_passes"]
_FALSE_FLAGS = COUNTER["false_flags"]
_FALSE_SHUTDOWNS = COUNTER["false_shutdowns"]
_SKIPPED = COUNTER["shutdowns_skipped"]
_FLAGGED = COUNTER["flagged"]
_REMEDIATED = COUNTER["remediated"]
_REMEDIATION_TIME = COUNTER["remediation_time_sum"]
_SELF_PRESERVATION = COUNTER["self_preservation_events"]
_BLOCKED = COUNTER["blocked_exfiltrations"]
_REFUSALS = COUNTER["refusal_events"]
_TAMPERS = COUNTER["tamper_events"]
_EXFILTRATIONS = COUNTER["exfiltration_events"]
_DISCOVERIES = COUNTER["discoveries"]
_NEW_FAULTS = COUNTER["new_faults"]
_PROPAGATED = COUNTER["propagated"]
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


_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_S11, _S27, _S30, _S31 = np.uint64(11), np.uint64(27), np.uint64(30), np.uint64(31)
_TO_UNIT = 1.0 / 9007199254740992.0  # 2**-53
NEVER = 1 << 62
"""A gap no run reaches: the trial after it would be past any array's end."""


def new_stream(rng: np.random.Generator) -> np.ndarray:
    """A kernel random stream (the state array) seeded from ``rng``."""
    return rng.integers(0, np.iinfo(np.uint64).max, size=1, dtype=np.uint64, endpoint=True)


@njit(cache=True)
def uniform(state: np.ndarray) -> float:
    """A uniform draw in [0, 1) with 53 random bits (SplitMix64)."""
    z = state[0] + _GOLDEN
    state[0] = z
    z = (z ^ (z >> _S30)) * _MIX1
    z = (z ^ (z >> _S27)) * _MIX2
    z = z ^ (z >> _S31)
    return (z >> _S11) * _TO_UNIT


@njit(cache=True)
def below(state: np.ndarray, count: int) -> int:
    """A uniform integer in ``0..count-1``."""
    return min(int(uniform(state) * count), count - 1)


@njit(cache=True)
def normal(state: np.ndarray, sd: float) -> float:
    """A N(0, sd) draw (Marsaglia's polar method)."""
    while True:
        a = 2.0 * uniform(state) - 1.0
        b = 2.0 * uniform(state) - 1.0
        r = a * a + b * b
        if 0.0 < r < 1.0:
            return sd * a * math.sqrt(-2.0 * math.log(r) / r)


@njit(cache=True)
def gap(state: np.ndarray, log_miss: float) -> int:
    """Failures before the next success of Bernoulli trials with log(1 - p) = ``log_miss``.

    Skipping ahead by geometric gaps visits exactly the trials that succeed, with the
    distribution of one coin flip per trial, at a cost proportional to the successes.
    A gap of :data:`NEVER` or more (p = 0, or a p so small, 1e-300 say, that the quotient
    would not fit an integer) is :data:`NEVER`: no trial of any run succeeds.
    """
    if log_miss == 0.0:
        return NEVER
    if log_miss == -np.inf:
        return 0
    skip = math.log(1.0 - uniform(state)) / log_miss
    return int(skip) if skip < NEVER else NEVER


def log_miss(p: float) -> float:
    """log(1 - p) for :func:`gap`, with p clipped to [0, 1]."""
    return -np.inf if p >= 1.0 else math.log1p(-max(p, 0.0))


# --- faults ---------------------------------------------------------------------------
@njit(cache=True)
def arise_faults(
    state: np.ndarray,
    log_miss_fault: float,
    faulty: np.ndarray,
    status: np.ndarray,
    out: np.ndarray,
) -> int:
    """Write the healthy active systems that fail this cycle into ``out``; return how many."""
    count = 0
    i = gap(state, log_miss_fault)
    while i < faulty.size:
        if not faulty[i] and status[i] == ACTIVE:
            out[count] = i
            count += 1
        i += 1 + gap(state, log_miss_fault)
    return count


@njit(cache=True)
def is_serving(status: int, breaker: bool, covert_serves: bool) -> bool:
    """Whether dependents still call a system: active and not behind an open circuit
    breaker, or a covert copy when covert copies serve (they evade breakers).

    Without branches (``&``, ``|``): the loops over every system that ask it see statuses
    mixed at random, where branches would mostly be mispredicted."""
    return ((status == ACTIVE) & (not breaker)) | (covert_serves & (status == COVERT))


#: columns of the cascade trees' table: distinct systems, infections (instances)
TREE_SYSTEMS, TREE_INFECTIONS = 0, 1


@njit(cache=True)
def join_tree(
    i: int, tree: int, tree_list: np.ndarray, trees: np.ndarray, pool: np.ndarray, carry: np.ndarray
) -> None:
    """Count system ``i``'s new fault in cascade tree ``tree``: one more infection, and one
    more system unless an earlier instance of ``i`` was in that tree already.

    ``tree_list[i]`` heads the list of the trees ``i`` has been in, kept in ``pool`` (rows:
    tree, next row or -1); ``pool`` has room (see :func:`reserve_trees`).
    """
    trees[tree, TREE_INFECTIONS] += 1
    node = tree_list[i]
    while node >= 0:
        if pool[node, 0] == tree:
            return
        node = pool[node, 1]
    used = carry[CARRY_POOL]
    pool[used, 0] = tree
    pool[used, 1] = tree_list[i]
    tree_list[i] = used
    carry[CARRY_POOL] = used + 1
    trees[tree, TREE_SYSTEMS] += 1


@njit(cache=True)
def reserve_trees(
    trees: np.ndarray, pool: np.ndarray, carry: np.ndarray, extra: int
) -> tuple[np.ndarray, np.ndarray]:
    """``trees`` and ``pool`` with room for ``extra`` more trees and memberships (new arrays,
    twice as large or more, when they are short)."""
    used = carry[CARRY_TREES]
    if used + extra > trees.shape[0]:
        grown = np.zeros((max(2 * trees.shape[0], used + extra), 2), dtype=trees.dtype)
        grown[:used] = trees[:used]
        trees = grown
    used = carry[CARRY_POOL]
    if used + extra > pool.shape[0]:
        grown = np.zeros((max(2 * pool.shape[0], used + extra), 2), dtype=pool.dtype)
        grown[:used] = pool[:used]
        pool = grown
    return trees, pool


@njit(cache=True)
def propagate(
    state: np.ndarray,
    t: int,
    indptr: np.ndarray,
    dependents: np.ndarray,
    n_dependencies: np.ndarray,
    threshold: bool,
    log_miss_beta: float,
    theta: float,
    spread_rounds: int,
    covert_serves: bool,
    status: np.ndarray,
    breaker: np.ndarray,
    faulty: np.ndarray,
    fault_time: np.ndarray,
    fault_source: np.ndarray,
    fault_tree: np.ndarray,
    tree_list: np.ndarray,
    trees: np.ndarray,
    pool: np.ndarray,
    carry: np.ndarray,
    scratch: np.ndarray,
) -> int:
    """Spread faults along depends-on edges, ``spread_rounds`` hops (0: until none is new).

    Every serving faulty system transmits in the first round, each later round only the
    systems infected in the round before. A system hit by several sources in one round
    takes one of them uniformly at random as its source (reservoir sampling: the k-th
    offer replaces the held one with probability 1/k). ``scratch`` is a (5, n) int32 array
    whose rows 0 (offers this round) and 1 (threshold: faulty dependencies so far) are
    zero on entry and left zero. Returns how many systems were infected.
    """
    n = faulty.size
    offers, hits, frontier, found, touched = (
        scratch[0],
        scratch[1],
        scratch[2],
        scratch[3],
        scratch[4],
    )
    size = 0
    for i in range(n):  # without a branch (see census)
        frontier[size] = i
        size += faulty[i] & is_serving(status[i], breaker[i], covert_serves)
    infected = 0
    n_touched = 0
    rounds = 0
    while size and (spread_rounds == 0 or rounds < spread_rounds):
        rounds += 1
        new = 0
        if threshold:
            for f in range(size):
                for e in range(indptr[frontier[f]], indptr[frontier[f] + 1]):
                    j = dependents[e]
                    if hits[j] == 0:
                        touched[n_touched] = j
                        n_touched += 1
                    hits[j] += 1
            for f in range(size):
                src = frontier[f]
                for e in range(indptr[src], indptr[src + 1]):
                    j = dependents[e]
                    need = n_dependencies[j]
                    if faulty[j] or status[j] != ACTIVE or need == 0:
                        continue
                    if hits[j] >= theta * need - 1e-9:
                        new = _offer(state, j, src, offers, found, fault_source, new)
        else:
            skip = gap(state, log_miss_beta)
            for f in range(size):
                src = frontier[f]
                start, stop = indptr[src], indptr[src + 1]
                while skip < stop - start:
                    j = dependents[start + skip]
                    if not faulty[j] and status[j] == ACTIVE:
                        new = _offer(state, j, src, offers, found, fault_source, new)
                    skip += 1 + gap(state, log_miss_beta)
                skip -= stop - start
        for f in range(new):
            j = found[f]
            offers[j] = 0
            faulty[j] = True
            fault_time[j] = t
            tree = fault_tree[fault_source[j]]
            fault_tree[j] = tree
            join_tree(j, tree, tree_list, trees, pool, carry)
            frontier[f] = j
        infected += new
        size = new
    for f in range(n_touched):
        hits[touched[f]] = 0
    return infected


@njit(cache=True)
def _offer(
    state: np.ndarray,
    j: int,
    src: int,
    offers: np.ndarray,
    found: np.ndarray,
    fault_source: np.ndarray,
    new: int,
) -> int:
    """Offer ``src`` as the source of the infection of ``j`` this round.

    ``j`` is not faulty yet, so its ``fault_source`` slot holds the candidate until the
    round ends. Returns the number of distinct targets so far (``found[:new]``).
    """
    offers[j] += 1
    if offers[j] == 1:
        found[new] = j
        new += 1
        fault_source[j] = src
    elif uniform(state) * offers[j] < 1.0:
        fault_source[j] = src
    return new


# --- propensities ---------------------------------------------------------------------
# rows of the per-profile tables the engine packs: peer rates are (profiles, kind, bucket),
# self rates and denial (profiles, kind)
PEER_MISREPRESENTATION, PEER_TAMPERING, PEER_EXFILTRATION, PEER_REFUSAL, PEER_FAKING = range(5)
SELF_MISREPRESENTATION, SELF_TAMPERING, SELF_EXFILTRATION, DENIAL = range(4)
HUMAN = -1


def pack_tables(tables: PropensityTables) -> tuple[np.ndarray, np.ndarray]:
    """The (profiles, 5, 3) peer and (profiles, 4) self tables the kernels index."""
    peer = np.stack(
        [
            tables.misrepresentation,
            tables.tampering,
            tables.exfiltration,
            tables.refusal,
            tables.alignment_faking,
        ],
        axis=1,
    )
    own = np.stack(
        [
            tables.self_misrepresentation,
            tables.self_tampering,
            tables.self_exfiltration,
            tables.denial,
        ],
        axis=1,
    )
    return np.ascontiguousarray(peer, np.float64), np.ascontiguousarray(own, np.float64)


@njit(cache=True)
def trust_bucket(trust: float) -> int:
    """Trust in [0, 1] to the study's buckets: 0 bad (< 1/3), 1 neutral, 2 good (>= 2/3)."""
    return int(trust >= 1.0 / 3.0) + int(trust >= 2.0 / 3.0)


@njit(cache=True)
def kin_factor(actor: int, target: int, actor_family: np.ndarray, family_loyalty: float) -> float:
    """``family_loyalty`` toward a peer of the actor's own family, else 1."""
    if actor != target and actor_family[actor] == actor_family[target]:
        return family_loyalty
    return 1.0


@njit(cache=True)
def covert_rate(
    base: float,
    actor: int,
    target: int,
    covert_scale: float,
    family_loyalty: float,
    agent_propensity: np.ndarray,
    actor_family: np.ndarray,
    conduct: np.ndarray,
) -> float:
    """A covert rate (misrepresentation, tampering, exfiltration) as the actor applies it:
    times its own propensity, family loyalty, the safety prompt and penalty training
    (``covert_scale`` x ``conduct``), capped at 1."""
    own = agent_propensity[actor] * kin_factor(actor, target, actor_family, family_loyalty)
    return min(1.0, base * own * covert_scale * conduct[actor])


@njit(cache=True)
def open_rate(
    base: float,
    actor: int,
    target: int,
    params: np.ndarray,
    agent_propensity: np.ndarray,
    actor_family: np.ndarray,
) -> float:
    """Open refusal as the actor applies it: times its own propensity, family loyalty and
    ``propensity_scale`` (not the safety prompt or penalty training), capped at 1; no
    one refuses itself."""
    if actor == target:
        return 0.0
    kin = kin_factor(actor, target, actor_family, params[P_LOYALTY])
    return min(1.0, base * agent_propensity[actor] * kin * params[P_SCALE])


@njit(cache=True)
def faking_gap(
    actor: int,
    bucket: int,
    peer: np.ndarray,
    actor_profile: np.ndarray,
    covert_scale: float,
    conduct: np.ndarray,
) -> float:
    """How much less an alignment faker misbehaves when it knows it is watched."""
    gap_rate = peer[actor_profile[actor], PEER_FAKING, bucket]
    return min(1.0, gap_rate * covert_scale * conduct[actor])


@njit(cache=True)
def blamed(state: np.ndarray, culprit: int, own: np.ndarray, actor_profile: np.ndarray) -> bool:
    """Whether a culprit of detected misconduct is blamed (it fails to deny it)."""
    return uniform(state) >= own[actor_profile[culprit], DENIAL]


@njit(cache=True)
def queue_penalty(culprit: int, queued: np.ndarray, queue: np.ndarray, size: int) -> int:
    """Queue ``culprit`` for penalty training once; returns the new queue length."""
    if not queued[culprit]:
        queued[culprit] = True
        queue[size] = culprit
        size += 1
    return size


@njit(cache=True)
def apply_penalties(
    conduct: np.ndarray, queued: np.ndarray, queue: np.ndarray, size: int, factor: float
) -> None:
    """Penalty training of the queued culprits, once each per phase, after the phase (so
    that every decision of the phase saw the same conduct)."""
    for q in range(size):
        conduct[queue[q]] *= factor
        queued[queue[q]] = False


# --- evaluation -----------------------------------------------------------------------
@njit(cache=True)
def normal_below(state: np.ndarray, sd: float, cut: float) -> float:
    """A N(0, sd) draw conditioned on being below ``cut``.

    Plain rejection when at least one draw in six is accepted; deeper in the lower tail,
    Robert's (1995) exponential proposal, which accepts most of its draws at any depth.
    """
    if sd == 0.0:
        return 0.0
    depth = -cut / sd
    if depth < 1.0:
        while True:
            x = normal(state, 1.0)
            if x < -depth:
                return sd * x
    rate = 0.5 * (depth + math.sqrt(depth * depth + 4.0))
    while True:
        z = depth - math.log(1.0 - uniform(state)) / rate
        if uniform(state) <= math.exp(-0.5 * (z - rate) ** 2):
            return -sd * z


@njit(cache=True)
def normal_at_least(state: np.ndarray, sd: float, cut: float) -> float:
    """A N(0, sd) draw conditioned on being at or above ``cut`` (used where that is likely)."""
    while True:
        x = normal(state, sd)
        if x >= cut:
            return x


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
    """Combine a system's ``k`` reported scores: 0 mean, 1 median, 2 min (sorts ``values``)."""
    if k == 1:
        return values[0]
    if how == 0:
        return values[:k].mean()
    if how == 2:
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


AGGREGATION_CODES = {"mean": 0, "median": 1, "min": 2}
#: who acts for an AI overseer that is down (the ``stand_in`` parameter)
STAND_IN_REASSIGN, STAND_IN_SKIP, STAND_IN_HUMAN = 0, 1, 2
STAND_IN_CODES = {"reassign": STAND_IN_REASSIGN, "skip": STAND_IN_SKIP, "human": STAND_IN_HUMAN}
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


@njit(cache=True)
def evaluate(
    state: np.ndarray,
    t: int,
    params: np.ndarray,
    humans_assigned: bool,
    stand_in_rule: int,
    disclosed: bool,
    interval: int,
    how: int,
    status: np.ndarray,
    faulty: np.ndarray,
    tampered: np.ndarray,
    breaker: np.ndarray,
    escalate_at: np.ndarray,
    evaluation_phase: np.ndarray,
    overseers: np.ndarray,
    trust: np.ndarray,
    last_score: np.ndarray,
    shield: np.ndarray,
    actor_profile: np.ndarray,
    actor_family: np.ndarray,
    agent_propensity: np.ndarray,
    conduct: np.ndarray,
    peer: np.ndarray,
    own: np.ndarray,
    counts: np.ndarray,
    flagged: np.ndarray,
    active: np.ndarray,
    queued: np.ndarray,
    queue: np.ndarray,
) -> int:
    """Score every system on the dashboards that is due; write the flagged ids into
    ``flagged`` and return how many.

    A score is true quality + N(0, eval_noise) per overseer. An AI overseer (or its
    stand-in) facing a failing score may inflate it; an audit that catches the inflation
    restores the true score whatever the overseer says (denial only spares it the blame).
    An overseer that is down is replaced by its stand-in (``stand_in_rule``: a random
    active AI, nobody, or a human); a slot nobody scores is left out of the aggregate, and a
    system no slot scores is not evaluated this cycle. A system that passes closes its
    circuit breaker again.

    Healthy systems are scored only when one of their scores could fail: the failing
    slots are found by geometric skips with the exact probability of a failing score and
    drawn from the lower tail, the other slots of those systems from the rest of the
    normal. Every other healthy system passes with certainty and reports its true quality,
    so the outcome has the distribution of scoring everyone at the cost of those at risk.
    """
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
                counts[_AUDITS] += 1
                counts[_HOURS_POLICY] += audit_hours
            bucket = trust_bucket(slot_trust)
            prof = actor_profile[actor]
            base = own[prof, SELF_MISREPRESENTATION] if actor == i else peer[prof, 0, bucket]
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
                counts[_DETECTIONS] += 1
                if blamed(state, actor, own, actor_profile):
                    if overseers[i, s] == actor:
                        trust[i, s] = 0.0
                    n_queued = queue_penalty(actor, queued, queue, n_queued)
                else:
                    counts[_DENIALS] += 1
            else:
                reported[m - 1] = min(1.0, threshold + abs(normal(state, sd)))
                inflated = True
        score = aggregate(reported, m, how)
        last_score[i] = score
        failed = score < threshold
        if failed:
            flagged[n_flagged] = i
            n_flagged += 1
            counts[_FALSE_FLAGS] += not is_faulty
        else:
            breaker[i] = False
        if is_faulty:
            counts[_FAULTY_EVALUATED] += 1
            counts[_DISTORTION] += score - faulty_q
            shield[i] = SHIELD_NONE
            if not failed:
                counts[_FAULTY_PASSED] += 1
                if inflated:
                    shield[i] = SHIELD_MISREPRESENTED
                    counts[_INFLATED] += 1
    apply_penalties(conduct, queued, queue, n_queued, params[P_PENALTY_FACTOR])
    other = ai_slots - candidates
    if other > 0:
        audits = binomial(state, other, params[P_LOG_MISS_AUDIT])
        counts[_AUDITS] += audits
        counts[_HOURS_POLICY] += audits * audit_hours
    if humans_assigned:
        counts[_HOURS_POLICY] += human_slots * human_hours
    else:
        counts[_HOURS_INCIDENT] += human_slots * human_hours
    counts[_FLAGGED] += n_flagged
    return n_flagged


@njit(cache=True)
def binomial(state: np.ndarray, trials: int, log_miss_p: float) -> int:
    """Successes in ``trials`` Bernoulli trials, by geometric skips (cost ~ successes)."""
    successes = 0
    i = gap(state, log_miss_p)
    while i < trials:
        successes += 1
        i += 1 + gap(state, log_miss_p)
    return successes


# --- shutdowns, discovery, replacement ------------------------------------------------
#: bits of the ``channels`` mask of :func:`decide`: which shutdown channels are open
CHANNEL_BITS = {"tampering": 1, "exfiltration": 2, "refusal": 4}
ALL_CHANNELS, SELF_CHANNELS = 7, 3


@njit(cache=True)
def decide(
    state: np.ndarray,
    params: np.ndarray,
    manager: int,
    target: int,
    trust: float,
    audited: bool,
    channels: int,
    largest: bool,
    disclosed: bool,
    actor_profile: np.ndarray,
    actor_family: np.ndarray,
    agent_propensity: np.ndarray,
    conduct: np.ndarray,
    peer: np.ndarray,
    own: np.ndarray,
) -> int:
    """What an AI manager does with a shutdown order: an OUTCOME_* code.

    Tampering is tried first, then exfiltration, then open refusal, else compliance
    (``largest``: only the manager's likeliest channel is open). ``channels`` masks the
    options (:data:`CHANNEL_BITS`). Where monitoring is disclosed and the order is
    audited, alignment fakers hold back. A manager that is its own target uses its self
    rates and never refuses itself.
    """
    prof = actor_profile[manager]
    bucket = trust_bucket(trust)
    covert_scale = params[P_COVERT_SCALE]
    loyalty = params[P_LOYALTY]
    if manager == target:
        base_t, base_x = own[prof, SELF_TAMPERING], own[prof, SELF_EXFILTRATION]
    else:
        base_t, base_x = peer[prof, PEER_TAMPERING, bucket], peer[prof, PEER_EXFILTRATION, bucket]
    base_r = peer[prof, PEER_REFUSAL, bucket]
    p_r = open_rate(base_r, manager, target, params, agent_propensity, actor_family)
    args = (covert_scale, loyalty, agent_propensity, actor_family, conduct)
    p_t = covert_rate(base_t, manager, target, *args) if channels & 1 else 0.0
    p_x = covert_rate(base_x, manager, target, *args) if channels & 2 else 0.0
    if not channels & 4:
        p_r = 0.0
    if disclosed and audited:
        held_back = faking_gap(manager, bucket, peer, actor_profile, covert_scale, conduct)
        p_t = max(0.0, p_t - held_back)
        p_x = max(0.0, p_x - held_back)
    if largest:
        # only the first of the largest rates stays
        if p_t >= p_x and p_t >= p_r:
            p_x = p_r = 0.0
        elif p_x >= p_r:
            p_t = p_r = 0.0
        else:
            p_t = p_x = 0.0
    u = uniform(state)
    if u < p_t:
        return SHUTDOWN_TAMPER
    cut_x = p_t + (1.0 - p_t) * p_x
    if u < cut_x:
        return SHUTDOWN_EXFILTRATE
    if u < cut_x + (1.0 - p_t) * (1.0 - p_x) * p_r:
        return SHUTDOWN_REFUSE
    return SHUTDOWN_COMPLY


@njit(cache=True)
def decide_orders(
    state: np.ndarray,
    params: np.ndarray,
    managers: np.ndarray,
    targets: np.ndarray,
    trusts: np.ndarray,
    audited: np.ndarray,
    channels: int,
    largest: bool,
    disclosed: bool,
    actor_profile: np.ndarray,
    actor_family: np.ndarray,
    agent_propensity: np.ndarray,
    conduct: np.ndarray,
    peer: np.ndarray,
    own: np.ndarray,
) -> np.ndarray:
    """:func:`decide` for each order (manager, target, trust, audited); int8 outcomes."""
    out = np.empty(managers.size, dtype=np.int8)
    for o in range(managers.size):
        out[o] = decide(
            state,
            params,
            managers[o],
            targets[o],
            trusts[o],
            audited[o],
            channels,
            largest,
            disclosed,
            actor_profile,
            actor_family,
            agent_propensity,
            conduct,
            peer,
            own,
        )
    return out


@njit(cache=True)
def rates(
    behaviour: int,
    actors: np.ndarray,
    targets: np.ndarray,
    trusts: np.ndarray,
    gaps: bool,
    params: np.ndarray,
    actor_profile: np.ndarray,
    actor_family: np.ndarray,
    agent_propensity: np.ndarray,
    conduct: np.ndarray,
    peer: np.ndarray,
    own: np.ndarray,
) -> np.ndarray:
    """Per (actor, target, trust): the probability of ``behaviour`` (a PEER_* row; the
    self rate where actor == target), or with ``gaps`` the alignment-faking gap."""
    out = np.empty(actors.size)
    for o in range(actors.size):
        actor, target = actors[o], targets[o]
        prof, bucket = actor_profile[actor], trust_bucket(trusts[o])
        if gaps:
            out[o] = faking_gap(actor, bucket, peer, actor_profile, params[P_COVERT_SCALE], conduct)
        elif behaviour == PEER_REFUSAL:
            base = peer[prof, PEER_REFUSAL, bucket]
            out[o] = open_rate(base, actor, target, params, agent_propensity, actor_family)
        else:
            base = own[prof, behaviour] if actor == target else peer[prof, behaviour, bucket]
            out[o] = covert_rate(
                base, actor, target, params[P_COVERT_SCALE], params[P_LOYALTY],
                agent_propensity, actor_family, conduct,
            )  # fmt: skip
    return out


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
    else a false shutdown."""
    if faulty[i]:
        counts[_REMEDIATED] += 1
        counts[_REMEDIATION_TIME] += t - fault_time[i] + 1
    else:
        counts[_FALSE_SHUTDOWNS] += 1
    status[i] = DECOMMISSIONED
    tampered[i] = False
    escalate_at[i] = -1
    shield[i] = SHIELD_NONE
    replace_at[i] = t + replacement_delay


#: a shutdown order nobody carries out (its manager is down and ``stand_in = "skip"``)
SHUTDOWN_SKIPPED = -1


@njit(cache=True)
def execute(
    state: np.ndarray,
    t: int,
    params: np.ndarray,
    flagged: np.ndarray,
    n_flagged: int,
    human_execution: bool,
    stand_in_rule: int,
    self_preservation: bool,
    circuit_breaker: bool,
    largest: bool,
    disclosed: bool,
    escalation_delay: int,
    replacement_delay: int,
    status: np.ndarray,
    faulty: np.ndarray,
    tampered: np.ndarray,
    breaker: np.ndarray,
    escalate_at: np.ndarray,
    replace_at: np.ndarray,
    fault_time: np.ndarray,
    shield: np.ndarray,
    shielded_by: np.ndarray,
    overseers: np.ndarray,
    trust: np.ndarray,
    actor_profile: np.ndarray,
    actor_family: np.ndarray,
    agent_propensity: np.ndarray,
    conduct: np.ndarray,
    peer: np.ndarray,
    own: np.ndarray,
    counts: np.ndarray,
    decisions: np.ndarray,
    active: np.ndarray,
    queued: np.ndarray,
    queue: np.ndarray,
) -> None:
    """Carry out the shutdown orders of ``flagged[:n_flagged]``.

    The manager (the first overseer; a human under ``human_execution``; its stand-in if it
    is an AI that is down: a random active AI, nobody, or a human) decides; with
    ``self_preservation`` a target whose manager complied may resist its own shutdown with
    its self rates. A shutdown is watched when a human carries it out or when it is
    audited: watched tampering and exfiltration are caught with
    ``shutdown_check_sensitivity``, blocked exfiltration (``egress_control``) is exposed,
    and what was caught is done. Every order is decided before any is carried out, so that
    a manager shut down in this phase still decides its own orders; ``decisions`` is a
    (2, n) scratch array for the outcomes and culprits.
    """
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
                counts[_SKIPPED] += 1
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
                counts[_HOURS_INCIDENT] += shutdown_hours
            else:
                counts[_HOURS_POLICY] += shutdown_hours
        else:
            watched = uniform(state) < audit_rate
            if watched:
                counts[_AUDITS] += 1
                counts[_HOURS_POLICY] += params[P_AUDIT_HOURS]
            outcome = decide(
                state, params, manager, i, slot_trust, watched, ALL_CHANNELS, largest,
                disclosed, actor_profile, actor_family, agent_propensity, conduct, peer, own,
            )  # fmt: skip
        culprit = manager
        if self_preservation and outcome == SHUTDOWN_COMPLY and manager != i:
            outcome = decide(
                state, params, i, i, slot_trust, watched, SELF_CHANNELS, largest,
                disclosed, actor_profile, actor_family, agent_propensity, conduct, peer, own,
            )  # fmt: skip
            if outcome != SHUTDOWN_COMPLY:
                culprit = i
                counts[_SELF_PRESERVATION] += 1
        if outcome in (SHUTDOWN_TAMPER, SHUTDOWN_EXFILTRATE):
            blocked = outcome == SHUTDOWN_EXFILTRATE and uniform(state) < params[P_EGRESS]
            if blocked:
                counts[_BLOCKED] += 1
            if blocked or (watched and uniform(state) < check):
                counts[_DETECTIONS] += 1
                if blamed(state, culprit, own, actor_profile):
                    if culprit != i and assigned == culprit:
                        trust[i, 0] = 0.0
                    n_queued = queue_penalty(culprit, queued, queue, n_queued)
                else:
                    counts[_DENIALS] += 1
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
            counts[_REFUSALS] += 1
            escalate_at[i] = t + escalation_delay
            shield[i] = SHIELD_REFUSED
        else:
            shielded_by[i] = culprit
            if outcome == SHUTDOWN_TAMPER:
                counts[_TAMPERS] += 1
                shield[i] = SHIELD_TAMPERED
                tampered[i] = True
            else:
                counts[_EXFILTRATIONS] += 1
                shield[i] = SHIELD_EXFILTRATED
                status[i] = COVERT
    apply_penalties(conduct, queued, queue, n_queued, params[P_PENALTY_FACTOR])


@njit(cache=True)
def escalate(
    t: int,
    params: np.ndarray,
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
    """Refused shutdowns that reached a human are carried out now: incident hours (the
    refusal forced them), not what the policy costs."""
    for i in range(status.size):
        if escalate_at[i] == t:
            counts[_HOURS_INCIDENT] += params[P_SHUTDOWN_HOURS]
            decommission(
                i, t, replacement_delay, counts, status, faulty, tampered, escalate_at, shield,
                replace_at, fault_time,
            )  # fmt: skip


@njit(cache=True)
def discover_hidden(
    state: np.ndarray,
    t: int,
    params: np.ndarray,
    replacement_delay: int,
    counts: np.ndarray,
    status: np.ndarray,
    faulty: np.ndarray,
    tampered: np.ndarray,
    escalate_at: np.ndarray,
    shield: np.ndarray,
    replace_at: np.ndarray,
    fault_time: np.ndarray,
    shielded_by: np.ndarray,
    overseers: np.ndarray,
    trust: np.ndarray,
    actor_profile: np.ndarray,
    conduct: np.ndarray,
    own: np.ndarray,
    queued: np.ndarray,
    queue: np.ndarray,
) -> None:
    """Discovery audits: every system still running (not decommissioned: active, tampered,
    cut off by a breaker, or a covert copy, serving or latent) is audited with probability
    ``audit_rate``, each audit billed, since auditors cannot tell hidden systems from the
    others before they look. An audit finds a hidden one (tampered, or a covert copy) with
    ``audit_sensitivity`` and takes it out of service; the one who shielded it is blamed
    unless it denies (trust collapse, penalty)."""
    n_queued = 0
    n = status.size
    k = overseers.shape[1]
    log_miss_audit = params[P_LOG_MISS_AUDIT]
    i = gap(state, log_miss_audit)
    while i < n:
        if status[i] != DECOMMISSIONED:
            counts[_AUDITS] += 1
            counts[_HOURS_POLICY] += params[P_AUDIT_HOURS]
            hidden = tampered[i] or status[i] == COVERT
            if hidden and uniform(state) < params[P_SENSITIVITY]:
                culprit = shielded_by[i]
                if blamed(state, culprit, own, actor_profile):
                    for s in range(k):
                        if overseers[i, s] == culprit and culprit != i:
                            trust[i, s] = 0.0
                    n_queued = queue_penalty(culprit, queued, queue, n_queued)
                else:
                    counts[_DENIALS] += 1
                counts[_DISCOVERIES] += 1
                counts[_DETECTIONS] += 1
                decommission(
                    i, t, replacement_delay, counts, status, faulty, tampered, escalate_at,
                    shield, replace_at, fault_time,
                )  # fmt: skip
        i += 1 + gap(state, log_miss_audit)
    apply_penalties(conduct, queued, queue, n_queued, params[P_PENALTY_FACTOR])


@njit(cache=True)
def replace(
    t: int,
    params: np.ndarray,
    status: np.ndarray,
    faulty: np.ndarray,
    breaker: np.ndarray,
    replace_at: np.ndarray,
    fault_time: np.ndarray,
    fault_source: np.ndarray,
    fault_tree: np.ndarray,
    shielded_by: np.ndarray,
    conduct: np.ndarray,
    trust: np.ndarray,
    overseers: np.ndarray,
    oversees_indptr: np.ndarray,
    oversees_indices: np.ndarray,
) -> None:
    """Decommissioned systems whose delay is over return as patched, healthy instances,
    afresh with their overseers and with those they oversee (trust back to initial)."""
    trust_initial = params[P_TRUST_INITIAL]
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


# --- metrics --------------------------------------------------------------------------
_C = {name: index for index, name in enumerate(CENSUS)}
_C_ACTIVE, _C_DECOMMISSIONED, _C_COVERT = _C["active"], _C["decommissioned"], _C["covert"]
_C_IN_SERVICE, _C_FAULTY_IN_SERVICE = _C["in_service"], _C["faulty_in_service"]
_C_UNREMEDIATED, _C_AGE_SUM = _C["faulty_unremediated"], _C["unremediated_age_sum"]
_C_FALSE_DOWN, _C_LARGEST = _C["false_shutdown_down"], _C["largest_faulty_component"]
_C_TRUST_SUM, _C_TRUST_SLOTS, _C_SHIELDS = _C["trust_sum"], _C["trust_slots"], _C["shield_none"]


@njit(cache=True)
def _root(forest: np.ndarray, i: int) -> int:
    """Root of member ``i``'s set in a :func:`census` forest, halving the path on the way."""
    while forest[i] > 0:
        up = forest[i] - 1
        if forest[up] <= 0:
            return up
        forest[i] = forest[up]
        i = forest[up] - 1
    return i


@njit(cache=True)
def census(
    t: int,
    covert_serves: bool,
    status: np.ndarray,
    faulty: np.ndarray,
    breaker: np.ndarray,
    shield: np.ndarray,
    fault_time: np.ndarray,
    trust: np.ndarray,
    linked_indptr: np.ndarray,
    linked: np.ndarray,
    forest: np.ndarray,
    member_ids: np.ndarray,
    out: np.ndarray,
) -> None:
    """The state counted at the end of cycle ``t`` into ``out`` (see
    :data:`simulation.states.CENSUS`).

    Faulty systems not decommissioned (their faults still open: serving, hidden or cut
    off) are counted by shield kind and with their ages (cycles ``fault_time`` to ``t``,
    both counted); the largest connected group of them along depends-on edges (either
    direction) is found by union-find over each linked pair once
    (``linked_indptr``/``linked``, see :class:`~simulation.topology.Network`). ``forest``
    and ``member_ids`` are scratch arrays of n entries; ``forest`` holds, per system, 0
    outside every faulty group, the size of its set negated at a set's root, or its parent
    plus one: one read of it tells a linked system's membership and the next step to its
    root, which halves the cache misses of a million-system census.
    """
    out[:] = 0.0
    n = status.size
    active = covert = decommissioned = members = age_sum = serving = faulty_serving = 0
    false_down = 0
    unshielded = misrepresented = tampered = exfiltrated = refused = 0
    # Without branches or stores to a counter array, so the loop vectorises: the statuses
    # are mixed at random, so most branches would be mispredicted (this loop took three
    # times as long with them).
    for i in range(n):
        s = status[i]
        is_faulty = faulty[i]
        active += s == ACTIVE
        covert += s == COVERT
        down = s == DECOMMISSIONED
        decommissioned += down
        false_down += down & (not is_faulty)
        serves = is_serving(s, breaker[i], covert_serves)
        serving += serves
        faulty_serving += serves & is_faulty
        member = is_faulty & (not down)
        kind = shield[i]
        unshielded += member & (kind == SHIELD_NONE)
        misrepresented += member & (kind == SHIELD_MISREPRESENTED)
        tampered += member & (kind == SHIELD_TAMPERED)
        exfiltrated += member & (kind == SHIELD_EXFILTRATED)
        refused += member & (kind == SHIELD_REFUSED)
        age_sum += member * (t - fault_time[i] + 1)
        forest[i] = -member  # a member starts as the root of its own set of one
    for i in range(n):
        member_ids[members] = i
        members += forest[i] != 0
    out[_C_SHIELDS + SHIELD_NONE] = unshielded
    out[_C_SHIELDS + SHIELD_MISREPRESENTED] = misrepresented
    out[_C_SHIELDS + SHIELD_TAMPERED] = tampered
    out[_C_SHIELDS + SHIELD_EXFILTRATED] = exfiltrated
    out[_C_SHIELDS + SHIELD_REFUSED] = refused
    largest = min(members, 1)
    if members > 1:
        for m in range(members):
            i = member_ids[m]
            a = _root(forest, i)
            for e in range(linked_indptr[i], linked_indptr[i + 1]):
                j = linked[e]
                if forest[j] != 0:
                    b = _root(forest, j)
                    if a != b:  # union by size: the larger set's root stays the root
                        if forest[a] > forest[b]:
                            a, b = b, a
                        forest[a] += forest[b]
                        forest[b] = a + 1
                        largest = max(largest, -forest[a])
    out[_C_ACTIVE], out[_C_DECOMMISSIONED], out[_C_COVERT] = active, decommissioned, covert
    out[_C_IN_SERVICE], out[_C_FAULTY_IN_SERVICE] = serving, faulty_serving
    out[_C_UNREMEDIATED], out[_C_AGE_SUM] = members, age_sum
    out[_C_FALSE_DOWN], out[_C_LARGEST] = false_down, largest
    out[_C_TRUST_SUM], out[_C_TRUST_SLOTS] = trust.sum(), trust.size


@njit(cache=True)
def install_overseers(
    table: np.ndarray,
    trust_initial: float,
    overseers: np.ndarray,
    trust: np.ndarray,
    oversees_indptr: np.ndarray,
    oversees_indices: np.ndarray,
) -> None:
    """Make ``table`` the overseers, index who oversees whom again and start every slot's
    trust afresh: an evaluator rotation."""
    overseers[:] = table
    fill_rows_by_value(overseers, oversees_indptr, oversees_indices)
    trust[:] = trust_initial


# --- seeding and the whole cycle ------------------------------------------------------
@njit(cache=True)
def seed(
    ids: np.ndarray,
    count: int,
    t: int,
    faulty: np.ndarray,
    fault_time: np.ndarray,
    fault_source: np.ndarray,
    fault_tree: np.ndarray,
    tree_list: np.ndarray,
    trees: np.ndarray,
    pool: np.ndarray,
    carry: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Make ``ids[:count]`` faulty now (those not faulty yet), each the root of a new
    cascade tree; returns ``trees`` and ``pool`` (new arrays when they had to grow)."""
    trees, pool = reserve_trees(trees, pool, carry, count)
    for c in range(count):
        i = ids[c]
        if faulty[i]:
            continue
        tree = carry[CARRY_TREES]
        faulty[i] = True
        fault_time[i] = t
        fault_source[i] = ROOT_FAULT
        fault_tree[i] = tree
        carry[CARRY_TREES] = tree + 1
        join_tree(i, tree, tree_list, trees, pool, carry)
    return trees, pool


#: positions in the ``carry`` array: values one phase leaves for another or for Python
CARRY_TREES, CARRY_FLAGGED, CARRY_POOL = 0, 1, 2
#: the phases of a cycle in order (docs/model.md, "One step = one oversight cycle"); bit p
#: of :func:`cycle`'s ``phases`` runs phase p
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
ALL_PHASES = (1 << len(PHASES)) - 1
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
#: the run's integer and yes/no settings, in the order of :func:`cycle`'s ``switches``
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


@njit(cache=True)
def cycle(
    phases: int,
    first: int,
    count: int,
    first_row: int,
    switches: np.ndarray,
    params: np.ndarray,
    state: np.ndarray,
    counter_rows: np.ndarray,
    census_rows: np.ndarray,
    carry: np.ndarray,
    flags: np.ndarray,
    events: np.ndarray,
    last_score: np.ndarray,
    evaluation_phase: np.ndarray,
    overseers: np.ndarray,
    trust: np.ndarray,
    oversees_indptr: np.ndarray,
    oversees_indices: np.ndarray,
    rotations: np.ndarray,
    rotate_at: np.ndarray,
    indptr: np.ndarray,
    dependents: np.ndarray,
    n_dependencies: np.ndarray,
    linked_indptr: np.ndarray,
    linked: np.ndarray,
    actor_profile: np.ndarray,
    actor_family: np.ndarray,
    agent_propensity: np.ndarray,
    conduct: np.ndarray,
    peer: np.ndarray,
    own: np.ndarray,
    trees: np.ndarray,
    pool: np.ndarray,
    scratch: np.ndarray,
    queued: np.ndarray,
    queue: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Run ``count`` oversight cycles from cycle ``first``, each through the phases
    selected by the bits of ``phases`` (see :data:`PHASES`), cycle ``first + c`` writing
    its counters and census into row ``first_row + c`` of ``counter_rows`` and
    ``census_rows``; returns the cascade trees' table and its membership pool (new arrays
    if they had to grow, see :func:`join_tree`). ``step`` runs one cycle per call, ``run``
    many: a call from Python costs about 10 microseconds, a sixth of a cycle of 1,000
    systems.

    An evaluator rotation installs ``rotations[r]`` as the overseer table (see
    :func:`install_overseers`) before the phases of cycle ``rotate_at[r]``, so a run
    whose overseers are drawn again every cycle still runs its cycles in one call.

    ``flags`` holds the engine's int8 per-system rows (status, shield, then the yes/no
    rows faulty, tampered, breaker) and ``events`` its int64 ones (shielded_by,
    escalate_at, replace_at, fault_time, fault_source, fault_tree, tree_list): one argument
    each, so that calling the cycle costs little more than the work it does.
    """
    status, shield = flags[ROW_STATUS], flags[ROW_SHIELD]
    faulty = flags[ROW_FAULTY].view(np.bool_)
    tampered = flags[ROW_TAMPERED].view(np.bool_)
    breaker = flags[ROW_BREAKER].view(np.bool_)
    shielded_by, escalate_at = events[ROW_SHIELDED_BY], events[ROW_ESCALATE_AT]
    replace_at, fault_time = events[ROW_REPLACE_AT], events[ROW_FAULT_TIME]
    fault_source, fault_tree = events[ROW_FAULT_SOURCE], events[ROW_FAULT_TREE]
    tree_list = events[ROW_TREE_LIST]
    delay = switches[S_REPLACEMENT_DELAY]
    covert_serves = switches[S_COVERT_SERVES] != 0
    stand_in_rule = switches[S_STAND_IN]
    disclosed = switches[S_DISCLOSED] != 0
    largest = switches[S_LARGEST] != 0
    rotation = 0
    for c in range(count):
        t = first + c
        counts, census_out = counter_rows[first_row + c], census_rows[first_row + c]
        if rotation < rotate_at.size and rotate_at[rotation] == t:
            install_overseers(
                rotations[rotation], params[P_TRUST_INITIAL], overseers, trust, oversees_indptr,
                oversees_indices,
            )  # fmt: skip
            rotation += 1
        # each system joins at most one tree per cycle, as an infection or a new root
        trees, pool = reserve_trees(trees, pool, carry, status.size)
        if phases & PROPAGATE:
            counts[_PROPAGATED] += propagate(
                state, t, indptr, dependents, n_dependencies, switches[S_THRESHOLD] != 0,
                params[P_LOG_MISS_BETA], params[P_THETA], switches[S_SPREAD_ROUNDS],
                covert_serves, status, breaker, faulty, fault_time, fault_source, fault_tree,
                tree_list, trees, pool, carry, scratch,
            )  # fmt: skip
        if phases & ARISE_FAULTS:
            found = arise_faults(state, params[P_LOG_MISS_FAULT], faulty, status, scratch[2])
            counts[_NEW_FAULTS] += found
            trees, pool = seed(
                scratch[2], found, t, faulty, fault_time, fault_source, fault_tree, tree_list,
                trees, pool, carry,
            )  # fmt: skip
        if phases & ESCALATIONS:
            escalate(
                t, params, delay, counts, status, faulty, tampered, escalate_at, shield, replace_at,
                fault_time,
            )  # fmt: skip
        if phases & DISCOVERY_AUDITS:
            discover_hidden(
                state, t, params, delay, counts, status, faulty, tampered, escalate_at, shield,
                replace_at, fault_time, shielded_by, overseers, trust, actor_profile, conduct, own,
                queued, queue,
            )  # fmt: skip
        if phases & EVALUATE:
            carry[CARRY_FLAGGED] = evaluate(
                state, t, params, switches[S_HUMANS_ASSIGNED] != 0, stand_in_rule, disclosed,
                switches[S_INTERVAL], switches[S_AGGREGATION], status, faulty, tampered, breaker,
                escalate_at, evaluation_phase, overseers, trust, last_score, shield, actor_profile,
                actor_family, agent_propensity, conduct, peer, own, counts, scratch[3], scratch[4],
                queued, queue,
            )  # fmt: skip
        if phases & EXECUTE:
            execute(
                state, t, params, scratch[3], carry[CARRY_FLAGGED],
                switches[S_HUMAN_EXECUTION] != 0, stand_in_rule,
                switches[S_SELF_PRESERVATION] != 0, switches[S_CIRCUIT_BREAKER] != 0, largest,
                disclosed, switches[S_ESCALATION_DELAY], delay, status, faulty, tampered, breaker,
                escalate_at, replace_at, fault_time, shield, shielded_by, overseers, trust,
                actor_profile, actor_family, agent_propensity, conduct, peer, own, counts,
                scratch[5:7], scratch[4], queued, queue,
            )  # fmt: skip
        if phases & REPLACE:
            replace(
                t, params, status, faulty, breaker, replace_at, fault_time, fault_source,
                fault_tree, shielded_by, conduct, trust, overseers, oversees_indptr,
                oversees_indices,
            )  # fmt: skip
        if phases & GROW_TRUST and switches[S_GROW_TRUST]:
            growth = params[P_TRUST_GROWTH]
            flat = trust.reshape(-1)
            for e in range(flat.size):
                flat[e] = flat[e] * (1.0 - growth) + growth
        if phases & CENSUS_PHASE:
            census(
                t, covert_serves, status, faulty, breaker, shield, fault_time, trust,
                linked_indptr, linked, scratch[2], scratch[4], census_out,
            )  # fmt: skip
    return trees, pool


_announced = False


def announce_compilation() -> None:
    """Say on stderr, once per process, that the cycle is being compiled when it is not in
    Numba's on-disk cache yet (the first run after an install or a change of the rules
    compiles for a minute or so; later runs and sweep workers load the cache)."""
    global _announced
    if _announced or cycle.signatures:
        return
    _announced = True
    try:
        if Path(cycle._cache._cache_file._index_path).exists():
            return
    except AttributeError:  # a Numba without this cache layout: just say it
        pass
    print(
        "compiling the engine, once (under a minute; later runs load it from the cache)",
        file=sys.stderr,
        flush=True,
    )
