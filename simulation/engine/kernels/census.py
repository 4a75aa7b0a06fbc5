"""The census: the state counted at the end of a cycle (systems by status, in service,
faults still open by shield kind and age, the largest connected group of them, trust).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from simulation.engine import compile_cache  # noqa: F401  (sets the cache folder first)
from simulation.engine.kernels.bundles import Graph, Oversight, Run, Systems, Work
from simulation.engine.kernels.faults import is_serving
from simulation.engine.kernels.layout import S_COVERT_SERVES, SCRATCH_FOREST, SCRATCH_MEMBERS
from simulation.engine.states import (
    ACTIVE,
    CENSUS,
    COVERT,
    DECOMMISSIONED,
    SHIELD_EXFILTRATED,
    SHIELD_MISREPRESENTED,
    SHIELD_NONE,
    SHIELD_REFUSED,
    SHIELD_TAMPERED,
)

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
    run: Run,
    t: int,
    systems: Systems,
    oversight: Oversight,
    graph: Graph,
    work: Work,
    out: np.ndarray,
) -> None:
    """The state counted at the end of cycle ``t`` into ``out`` (see
    :data:`simulation.engine.states.CENSUS`).

    Faulty systems not decommissioned (their faults still open: serving, hidden or cut
    off) are counted by shield kind and with their ages (cycles ``fault_time`` to ``t``,
    both counted); the largest connected group of them along depends-on edges (either
    direction) is found by union-find over each linked pair once (``linked_indptr`` /
    ``linked_indices``, see :class:`~simulation.topology.Network`). The forest and member
    scratch rows hold, per system, 0 outside every faulty group, the size of its set
    negated at a set's root, or its parent plus one (one read of it tells a linked
    system's membership and the next step to its root, which halves the cache misses of a
    million-system census), and the members in order.
    """
    covert_serves = run.switches[S_COVERT_SERVES] != 0
    status, faulty, breaker = systems.status, systems.faulty, systems.breaker
    shield, fault_time = systems.shield, systems.fault_time
    trust = oversight.trust
    linked_indptr, linked = graph.linked_indptr, graph.linked_indices
    forest, member_ids = work.scratch[SCRATCH_FOREST], work.scratch[SCRATCH_MEMBERS]
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
