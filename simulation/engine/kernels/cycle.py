"""The whole cycle: one compiled call runs many oversight cycles, each through the phases
its ``phases`` bits select, in the order of :data:`~simulation.engine.kernels.layout.PHASES`;
with the evaluator rotations and trust growth, which change who oversees whom.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from numba import njit

from simulation.engine import compile_cache  # noqa: F401  (sets the cache folder first)
from simulation.engine.grouping import fill_rows_by_value
from simulation.engine.kernels.bundles import (
    AT_ACTORS,
    AT_CASCADES,
    AT_GRAPH,
    AT_OVERSIGHT,
    AT_PACKED,
    AT_RECORDS,
    AT_ROTATIONS,
    AT_RUN,
    AT_WORK,
    Actors,
    Cascades,
    Graph,
    Oversight,
    Packed,
    Records,
    Rotations,
    Run,
    Work,
    systems_of,
)
from simulation.engine.kernels.census import census
from simulation.engine.kernels.evaluation import evaluate
from simulation.engine.kernels.faults import arise_faults, propagate, reserve_trees, seed
from simulation.engine.kernels.layout import (
    ARISE_FAULTS,
    CARRY_FLAGGED,
    CENSUS_PHASE,
    COUNT_NEW_FAULTS,
    COUNT_PROPAGATED,
    DISCOVERY_AUDITS,
    ESCALATIONS,
    EVALUATE,
    EXECUTE,
    GROW_TRUST,
    P_TRUST_GROWTH,
    P_TRUST_INITIAL,
    PROPAGATE,
    REPLACE,
    S_GROW_TRUST,
    SCRATCH_ARISEN,
)
from simulation.engine.kernels.shutdowns import discover_hidden, escalate, execute, replace


@njit(cache=True)
def install_overseers(table: np.ndarray, trust_initial: float, oversight: Oversight) -> None:
    """Make ``table`` the overseers, index who oversees whom again and start every slot's
    trust afresh: an evaluator rotation."""
    oversight.overseers[:] = table
    fill_rows_by_value(oversight.overseers, oversight.oversees_indptr, oversight.oversees_indices)
    oversight.trust[:] = trust_initial


@njit(cache=True)
def grow_trust(growth: float, trust: np.ndarray) -> None:
    """Every slot's trust grows by ``growth`` of the way to full trust."""
    flat = trust.reshape(-1)
    for e in range(flat.size):
        flat[e] = flat[e] * (1.0 - growth) + growth


@njit(cache=True)
def cycle(
    phases: int, first: int, count: int, first_row: int, arrays: tuple
) -> tuple[np.ndarray, np.ndarray]:
    """Run ``count`` oversight cycles from cycle ``first``, each through the phases
    selected by the bits of ``phases`` (see :data:`~simulation.engine.kernels.layout.PHASES`),
    cycle ``first + c`` writing its counters and census into row ``first_row + c`` of the
    metric tables; returns the cascade trees' table and its membership pool (new arrays if
    they had to grow, see :func:`~simulation.engine.kernels.faults.join_tree`). ``step`` runs one
    cycle per call, ``run`` many: a call from Python costs about 5 microseconds, a tenth of
    a cycle of 1,000 systems.

    ``arrays`` holds the fields of the bundles of
    :data:`~simulation.engine.kernels.bundles.CYCLE_BUNDLES` one after another (see
    :func:`~simulation.engine.kernels.bundles.flat`): the run, the engine's packed per-system
    arrays, the oversight, the service graph, the actors, the working space, the metric
    tables, the evaluator rotations and the cascade trees. One flat tuple, so that calling
    the cycle costs little more than the work it does.

    An evaluator rotation installs table r of the rotations as the overseer table (see
    :func:`install_overseers`) before the phases of the cycle its ``rotate_at[r]`` names,
    so a run whose overseers are drawn again every cycle still runs its cycles in one call.
    """
    run = Run(*arrays[AT_RUN])
    packed = Packed(*arrays[AT_PACKED])
    systems = systems_of(packed.flags, packed.events, packed.last_score, packed.evaluation_phase)
    oversight = Oversight(*arrays[AT_OVERSIGHT])
    graph = Graph(*arrays[AT_GRAPH])
    actors = Actors(*arrays[AT_ACTORS])
    work = Work(*arrays[AT_WORK])
    counter_rows, census_rows = Records(*arrays[AT_RECORDS])
    tables, rotate_at = Rotations(*arrays[AT_ROTATIONS])
    cascades = Cascades(*arrays[AT_CASCADES])
    params, switches, scratch, carry = run.params, run.switches, work.scratch, work.carry
    rotation = 0
    for c in range(count):
        t = first + c
        counts, census_out = counter_rows[first_row + c], census_rows[first_row + c]
        if rotation < rotate_at.size and rotate_at[rotation] == t:
            install_overseers(tables[rotation], params[P_TRUST_INITIAL], oversight)
            rotation += 1
        # each system joins at most one tree per cycle, as an infection or a new root
        cascades = reserve_trees(cascades, carry, systems.status.size)
        if phases & PROPAGATE:
            counts[COUNT_PROPAGATED] += propagate(run, t, systems, graph, cascades, work)
        if phases & ARISE_FAULTS:
            arisen = scratch[SCRATCH_ARISEN]
            found = arise_faults(run, systems, arisen)
            counts[COUNT_NEW_FAULTS] += found
            cascades = seed(arisen, found, t, systems, cascades, carry)
        if phases & ESCALATIONS:
            escalate(run, t, systems, counts)
        if phases & DISCOVERY_AUDITS:
            discover_hidden(run, t, systems, oversight, actors, work, counts)
        if phases & EVALUATE:
            carry[CARRY_FLAGGED] = evaluate(run, t, systems, oversight, actors, work, counts)
        if phases & EXECUTE:
            execute(run, t, systems, oversight, actors, work, counts, carry[CARRY_FLAGGED])
        if phases & REPLACE:
            replace(run, t, systems, oversight, actors)
        if phases & GROW_TRUST and switches[S_GROW_TRUST]:
            grow_trust(params[P_TRUST_GROWTH], oversight.trust)
        if phases & CENSUS_PHASE:
            census(run, t, systems, oversight, graph, work, census_out)
    return cascades.trees, cascades.pool


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
