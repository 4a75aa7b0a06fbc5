"""The bundles the kernels pass instead of long lists of arrays: named tuples of the arrays
that belong together (a run's stream and settings, the systems' state, the overseers, the
service graph, the actors' rates, the cascade trees, the working space).

Numba compiles a named tuple of arrays into a plain structure, so a phase that takes a
bundle runs as fast as one that takes its arrays. Across the border from Python it is
another matter: Numba types a named tuple argument in Python (about 2 microseconds a call)
and each tuple nested in an argument costs about 0.1 microseconds more, while one flat
tuple of arrays costs no more than as many positional arguments. So the engine hands the
compiled cycle one flat tuple, the fields of :data:`CYCLE_BUNDLES` one after another (see
:func:`flat`), and the cycle names the bundles again by the slices ``AT_*``.

A helper called for each event (an infection, a shutdown, a decision) takes the arrays it
reads rather than a bundle: every array taken from a bundle is a new reference to count,
an atomic increment and decrement, which would add up over the events of a cycle.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np
from numba.extending import register_jitable

from simulation.engine import compile_cache  # noqa: F401  (sets the cache folder first)
from simulation.engine.kernels.layout import (
    ROW_BREAKER,
    ROW_ESCALATE_AT,
    ROW_FAULT_SOURCE,
    ROW_FAULT_TIME,
    ROW_FAULT_TREE,
    ROW_FAULTY,
    ROW_REPLACE_AT,
    ROW_SHIELD,
    ROW_SHIELDED_BY,
    ROW_STATUS,
    ROW_TAMPERED,
    ROW_TREE_LIST,
)

Run = namedtuple("Run", "state params switches")
Run.__doc__ = """The run's random stream (a one-element uint64 state), its scalar parameters
(:data:`~simulation.engine.kernels.layout.PARAMS`) and its settings
(:data:`~simulation.engine.kernels.layout.SWITCHES`)."""

Systems = namedtuple(
    "Systems",
    "status shield faulty tampered breaker shielded_by escalate_at replace_at fault_time "
    "fault_source fault_tree tree_list last_score evaluation_phase",
)
Systems.__doc__ = """Every per-system array: the rows of the engine's packed ``flags``
(int8: status, shield; yes/no: faulty, tampered, breaker) and ``events`` (int64:
shielded_by, escalate_at, replace_at, fault_time, fault_source, fault_tree, tree_list),
then the last aggregate score and the cycle phase of each system's evaluations."""

Oversight = namedtuple("Oversight", "overseers trust oversees_indptr oversees_indices")
Oversight.__doc__ = """Who oversees whom: the (n, k) overseer table, the trust of each slot,
and the reverse index (the systems each actor oversees, as CSR rows)."""

Graph = namedtuple(
    "Graph",
    "dependents_indptr dependents_indices n_dependencies linked_indptr linked_indices",
)
Graph.__doc__ = """The service graph (see :class:`simulation.topology.Network`): each
system's dependents (CSR), its number of dependencies, and each linked pair once (CSR)."""

Actors = namedtuple("Actors", "actor_profile actor_family agent_propensity conduct peer own")
Actors.__doc__ = """What every rule about an actor reads: each actor's row of the rate
tables, its family, its own propensity and its conduct (penalty training), then the packed
peer (rows, 5, 3) and self (rows, 4) rate tables."""

Cascades = namedtuple("Cascades", "trees pool")
Cascades.__doc__ = """The cascade trees' table (distinct systems, infections per tree) and
the pool of tree memberships (rows: tree, next row or -1); both grow as new arrays."""

Work = namedtuple("Work", "scratch queued queue carry")
Work.__doc__ = """Working space: the (7, n) int32 scratch rows
(:data:`~simulation.engine.kernels.layout.SCRATCH_ROWS`), the penalty-training queue (who is
queued, in order) and the ``carry`` values one phase leaves for another or for Python."""

Packed = namedtuple("Packed", "flags events last_score evaluation_phase")
Packed.__doc__ = """The engine's per-system arrays as it keeps them: the packed int8
``flags`` and int64 ``events`` rows, the last scores and the evaluation phases (the cycle
makes them :class:`Systems`, see :func:`systems_of`)."""

Records = namedtuple("Records", "counter_rows census_rows")
Records.__doc__ = """The metric tables the cycles fill: a row of counters and a row of
census per cycle."""

Rotations = namedtuple("Rotations", "tables rotate_at")
Rotations.__doc__ = """Evaluator rotations to install on the way: overseer tables, one per
rotation, and the cycle each starts."""

#: the bundles the compiled cycle reads, in the order their fields follow one another in
#: its flat tuple of arrays: those the engine builds once, then those of each call
CYCLE_BUNDLES = (Run, Packed, Oversight, Graph, Actors, Work, Records, Rotations, Cascades)


def _places(bundles: tuple[type, ...]) -> list[slice]:
    """Where each bundle's fields sit when the fields of ``bundles`` follow one another."""
    places, start = [], 0
    for bundle in bundles:
        places.append(slice(start, start + len(bundle._fields)))
        start += len(bundle._fields)
    return places


#: where each bundle's fields sit in the cycle's flat tuple of arrays
(
    AT_RUN,
    AT_PACKED,
    AT_OVERSIGHT,
    AT_GRAPH,
    AT_ACTORS,
    AT_WORK,
    AT_RECORDS,
    AT_ROTATIONS,
    AT_CASCADES,
) = _places(CYCLE_BUNDLES)


def flat(*bundles: tuple) -> tuple:
    """The fields of ``bundles`` one after another: the compiled cycle's flat tuple of
    arrays, or its first part (the bundles, in the order of :data:`CYCLE_BUNDLES`).

    >>> flat(Records(1, 2), Cascades(3, 4))
    (1, 2, 3, 4)
    """
    return tuple(field for bundle in bundles for field in bundle)


@register_jitable(inline="always")
def systems_of(
    flags: np.ndarray, events: np.ndarray, last_score: np.ndarray, evaluation_phase: np.ndarray
) -> Systems:
    """The :class:`Systems` bundle of the engine's packed per-system arrays: views of
    their rows, in Python and in compiled code alike (where it is inlined into the
    caller)."""
    return Systems(
        flags[ROW_STATUS],
        flags[ROW_SHIELD],
        flags[ROW_FAULTY].view(np.bool_),
        flags[ROW_TAMPERED].view(np.bool_),
        flags[ROW_BREAKER].view(np.bool_),
        events[ROW_SHIELDED_BY],
        events[ROW_ESCALATE_AT],
        events[ROW_REPLACE_AT],
        events[ROW_FAULT_TIME],
        events[ROW_FAULT_SOURCE],
        events[ROW_FAULT_TREE],
        events[ROW_TREE_LIST],
        last_score,
        evaluation_phase,
    )
