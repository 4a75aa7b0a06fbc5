"""Small engines built for one experiment: the model's own code, a hand-made network.

The validation runs the simulator's :class:`~simulation.engine.Engine` itself, not a copy of
its rules. What it changes is only the network the engine sees and where faults start:

* :func:`pair_network` builds ``m`` disjoint pairs in which system ``2i`` is the only
  collaborator (so the overseer and manager) of system ``2i+1``: the study's micro-scenario,
  ``m`` times over, stepped as one engine;
* :func:`disjoint_copies` builds ``copies`` independent random graphs side by side, so that
  many single-seed outbreaks (one root per copy) run in one engine step instead of one
  engine each;
* :func:`make_engine` builds the engine; ``Engine.seed_faults`` then puts one root fault on
  each chosen system (what ``initial_faults`` does, but at chosen places).

Example:
    >>> import numpy as np
    >>> from simulation.config import SimulationConfig
    >>> net = pair_network(3)
    >>> engine = make_engine(SimulationConfig(n_systems=6, profile_mix="honest"), net, 1)
    >>> engine.overseers[1::2, 0].tolist()
    [0, 2, 4]
"""

from __future__ import annotations

import numpy as np

from simulation.config import SimulationConfig
from simulation.engine import Engine
from simulation.engine.population import PropensityTables
from simulation.profiles import Profile, available_profiles, resolve_mix
from simulation.topology import Network, build_network


def pair_network(pairs: int) -> Network:
    """``pairs`` disjoint collaborations 2i -- 2i+1 with no depends-on edges (no contagion)."""
    n = 2 * pairs
    even = np.arange(0, n, 2, dtype=np.int64)
    none = np.empty(0, dtype=np.int64)
    return Network(n, even, even + 1, none, none, np.zeros(n, np.int8), np.full(n, -1, np.int64))


def disjoint_copies(
    topology: str, n: int, mean_degree: float, copies: int, rng: np.random.Generator
) -> Network:
    """``copies`` independent graphs from the model's own generator, side by side.

    Each copy is ``build_network(topology, n, mean_degree, rng)`` with mutual dependencies
    (every collaboration a two-way dependency); copy ``c`` holds systems ``c*n .. c*n+n-1``.
    """
    us, vs = [], []
    for c in range(copies):
        net = build_network(topology, n, mean_degree, rng, dependencies="mutual")
        us.append(net.collab_u.astype(np.int64) + c * n)
        vs.append(net.collab_v.astype(np.int64) + c * n)
    u, v = np.concatenate(us), np.concatenate(vs)
    total = n * copies
    return Network(
        total,
        u,
        v,
        np.concatenate([u, v]),
        np.concatenate([v, u]),
        np.zeros(total, np.int8),
        np.full(total, -1, np.int64),
    )


def copy_roots(n: int, copies: int, rng: np.random.Generator) -> np.ndarray:
    """One uniformly random system in each copy of :func:`disjoint_copies`."""
    return np.arange(copies, dtype=np.int64) * n + rng.integers(0, n, copies)


def profile_tables(
    mix: str, profiles: dict[str, Profile] | None = None
) -> tuple[PropensityTables, np.ndarray]:
    """Propensity tables and weights of a profile mix, as the Mesa model builds them."""
    chosen, weights = resolve_mix(mix, profiles if profiles is not None else available_profiles())
    return PropensityTables.from_profiles(chosen), weights


def make_engine(
    config: SimulationConfig,
    network: Network,
    seed: int | np.random.Generator,
    profiles: dict[str, Profile] | None = None,
) -> Engine:
    """The model's engine on a hand-made network (``config.initial_faults`` must be 0)."""
    if config.initial_faults:
        raise ValueError("initial_faults: place faults with Engine.seed_faults in a harness")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    tables, weights = profile_tables(config.profile_mix, profiles)
    return Engine(config, network, tables, weights, rng)


def run_to_extinction(engine: Engine, max_cycles: int) -> int:
    """Step until no faulty system serves any more; return the number of cycles run.

    Raises ``RuntimeError`` if faults still serve after ``max_cycles`` (the caller chose a
    set-up in which infectious periods are too long to finish).
    """
    cycles = 0
    while engine.serving_faulty().any():
        if cycles >= max_cycles:
            raise RuntimeError(
                f"outbreaks still active after {max_cycles} cycles; raise max_cycles "
                "or the audit rate of the set-up"
            )
        engine.step()
        cycles += 1
    return cycles
