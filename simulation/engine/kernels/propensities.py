"""Propensities as an actor applies them: its profile's tabled rate for the trust bucket
(or its self rate), times its own propensity, family loyalty, the safety prompt and
penalty training; the shutdown decision made of those rates; blame, and the penalty
training of the blamed.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from simulation.engine import compile_cache  # noqa: F401  (sets the cache folder first)
from simulation.engine.kernels.bundles import Actors, Work
from simulation.engine.kernels.layout import (
    CHANNEL_EXFILTRATION,
    CHANNEL_REFUSAL,
    CHANNEL_TAMPERING,
    DENIAL,
    P_COVERT_SCALE,
    P_LOYALTY,
    P_SCALE,
    PEER_EXFILTRATION,
    PEER_FAKING,
    PEER_REFUSAL,
    PEER_TAMPERING,
    SELF_EXFILTRATION,
    SELF_TAMPERING,
)
from simulation.engine.kernels.random import uniform
from simulation.engine.population import PropensityTables
from simulation.engine.states import (
    SHUTDOWN_COMPLY,
    SHUTDOWN_EXFILTRATE,
    SHUTDOWN_REFUSE,
    SHUTDOWN_TAMPER,
)


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


# The helpers an event calls take the arrays they read, not a bundle: a value taken from a
# bundle is a new reference to count (an atomic increment and decrement), a cost that
# would add up over the events of a cycle; the phases take each array out once.
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
def apply_penalties(actors: Actors, work: Work, size: int, factor: float) -> None:
    """Penalty training of the queued culprits, once each per phase, after the phase (so
    that every decision of the phase saw the same conduct)."""
    conduct, queued, queue = actors.conduct, work.queued, work.queue
    for q in range(size):
        conduct[queue[q]] *= factor
        queued[queue[q]] = False


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
    actors: Actors,
) -> int:
    """What an AI manager does with a shutdown order: a SHUTDOWN_* code.

    Tampering is tried first, then exfiltration, then open refusal, else compliance
    (``largest``: only the manager's likeliest channel is open). ``channels`` masks the
    options (:data:`~simulation.engine.kernels.layout.CHANNEL_BITS`). Where monitoring is
    disclosed and the order is audited, alignment fakers hold back. A manager that is its
    own target uses its self rates and never refuses itself.
    """
    actor_profile, actor_family, agent_propensity, conduct, peer, own = actors
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
    p_t = covert_rate(base_t, manager, target, *args) if channels & CHANNEL_TAMPERING else 0.0
    p_x = covert_rate(base_x, manager, target, *args) if channels & CHANNEL_EXFILTRATION else 0.0
    if not channels & CHANNEL_REFUSAL:
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
    actors: Actors,
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
            actors,
        )
    return out


@njit(cache=True)
def rates(
    behaviour: int,
    actor_ids: np.ndarray,
    targets: np.ndarray,
    trusts: np.ndarray,
    gaps: bool,
    params: np.ndarray,
    actors: Actors,
) -> np.ndarray:
    """Per (actor, target, trust): the probability of ``behaviour`` (a PEER_* row; the
    self rate where actor == target), or with ``gaps`` the alignment-faking gap."""
    actor_profile, actor_family, agent_propensity, conduct, peer, own = actors
    out = np.empty(actor_ids.size)
    for o in range(actor_ids.size):
        actor, target = actor_ids[o], targets[o]
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
