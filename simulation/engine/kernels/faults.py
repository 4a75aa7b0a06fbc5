"""Faults: new ones arise in healthy active systems, faults spread along depends-on edges
from the faulty systems that serve, and every fault joins a cascade tree (a root fault
starts one, an infection joins its source's).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from simulation.engine import compile_cache  # noqa: F401  (sets the cache folder first)
from simulation.engine.kernels.bundles import Cascades, Graph, Run, Systems, Work
from simulation.engine.kernels.layout import (
    CARRY_POOL,
    CARRY_TREES,
    P_LOG_MISS_BETA,
    P_LOG_MISS_FAULT,
    P_THETA,
    S_COVERT_SERVES,
    S_SPREAD_ROUNDS,
    S_THRESHOLD,
    SCRATCH_FOUND,
    SCRATCH_FRONTIER,
    SCRATCH_HITS,
    SCRATCH_OFFERS,
    SCRATCH_TOUCHED,
    TREE_INFECTIONS,
    TREE_SYSTEMS,
)
from simulation.engine.kernels.random import gap, uniform
from simulation.engine.states import ACTIVE, COVERT, ROOT_FAULT


@njit(cache=True)
def arise_faults(run: Run, systems: Systems, out: np.ndarray) -> int:
    """Write the healthy active systems that fail this cycle into ``out``; return how many."""
    state, log_miss_fault = run.state, run.params[P_LOG_MISS_FAULT]
    faulty, status = systems.faulty, systems.status
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


@njit(cache=True)
def join_tree(
    i: int, tree: int, tree_list: np.ndarray, trees: np.ndarray, pool: np.ndarray, carry: np.ndarray
) -> None:
    """Count system ``i``'s new fault in cascade tree ``tree``: one more infection, and one
    more system unless an earlier instance of ``i`` was in that tree already.

    ``tree_list[i]`` heads the list of the trees ``i`` has been in, kept in ``pool`` (rows:
    tree, next row or -1); ``pool`` has room (see :func:`reserve_trees`). It takes arrays,
    not bundles: a value taken from a bundle is a new reference to count (an atomic
    increment and decrement), which would add up over a cycle's infections.
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
def reserve_trees(cascades: Cascades, carry: np.ndarray, extra: int) -> Cascades:
    """``cascades`` with room for ``extra`` more trees and memberships (new arrays, twice as
    large or more, when they are short)."""
    trees, pool = cascades.trees, cascades.pool
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
    return Cascades(trees, pool)


@njit(cache=True)
def seed(
    ids: np.ndarray, count: int, t: int, systems: Systems, cascades: Cascades, carry: np.ndarray
) -> Cascades:
    """Make ``ids[:count]`` faulty now (those not faulty yet), each the root of a new
    cascade tree; returns the cascades (new arrays when they had to grow)."""
    cascades = reserve_trees(cascades, carry, count)
    faulty, fault_time = systems.faulty, systems.fault_time
    fault_source, fault_tree = systems.fault_source, systems.fault_tree
    tree_list, trees, pool = systems.tree_list, cascades.trees, cascades.pool
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
    return cascades


@njit(cache=True)
def propagate(
    run: Run, t: int, systems: Systems, graph: Graph, cascades: Cascades, work: Work
) -> int:
    """Spread faults along depends-on edges, ``spread_rounds`` hops (0: until none is new).

    Every serving faulty system transmits in the first round, each later round only the
    systems infected in the round before, by independent cascade (``beta`` per faulty
    dependency per round) or by the threshold rule (``theta``). A system hit by several
    sources in one round takes one of them uniformly at random as its source (reservoir
    sampling: the k-th offer replaces the held one with probability 1/k). The scratch rows
    of offers this round and (threshold rule) faulty dependencies so far are zero on entry
    and left zero. Returns how many systems were infected.
    """
    state, params, switches = run.state, run.params, run.switches
    threshold = switches[S_THRESHOLD] != 0
    log_miss_beta, theta = params[P_LOG_MISS_BETA], params[P_THETA]
    spread_rounds = switches[S_SPREAD_ROUNDS]
    covert_serves = switches[S_COVERT_SERVES] != 0
    indptr, dependents = graph.dependents_indptr, graph.dependents_indices
    n_dependencies = graph.n_dependencies
    status, breaker, faulty = systems.status, systems.breaker, systems.faulty
    fault_time, fault_source = systems.fault_time, systems.fault_source
    fault_tree, tree_list = systems.fault_tree, systems.tree_list
    trees, pool = cascades.trees, cascades.pool
    scratch, carry = work.scratch, work.carry
    n = faulty.size
    offers, hits, frontier, found, touched = (
        scratch[SCRATCH_OFFERS],
        scratch[SCRATCH_HITS],
        scratch[SCRATCH_FRONTIER],
        scratch[SCRATCH_FOUND],
        scratch[SCRATCH_TOUCHED],
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
