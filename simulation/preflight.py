"""Checks of a run's configuration that need more than its own values, made before anything
runs: the graph file's contents, the profile mix's profiles and families, and whether a
network generator can build ``n_systems`` with the ``mean_degree`` asked.

A study checks every run's configuration here (see
:func:`simulation.experiments.design.check_runs`) before its output folder is created, so
an input that would fail every run is refused in one line instead of filling the folder
with failed rows.

Example:
    >>> from simulation.profiles import available_profiles
    >>> check_run(SimulationConfig(n_systems=30), available_profiles())  # nothing to refuse
    >>> try:
    ...     check_run(SimulationConfig(n_systems=3, topology="random-regular"), {})
    ... except TopologyError as exc:
    ...     print(str(exc)[:40])
    mean_degree: 8 is too high for 3 systems
"""

from __future__ import annotations

import functools
import os

import numpy as np

from simulation.config import SimulationConfig
from simulation.engine.population import assign_profiles
from simulation.errors import ConfigError, TopologyError
from simulation.profiles import ABSTRACT_NAME, Profile, resolve_mix
from simulation.topology import read_graph_file, size_problem

CROSS_FAMILY = (
    "assignment: 'cross-family' needs a profile_mix with at least two model families; add a "
    "profile of another family or choose another assignment"
)
"""Why a population of one model family cannot have cross-family overseers: the engine's
refusal, which :func:`check_run` makes before a study writes anything."""


@functools.lru_cache(maxsize=64)
def _graph_nodes(path: str, mtime_ns: int, size: int) -> int:
    return read_graph_file(path).number_of_nodes()


def graph_nodes(path: str) -> int:
    """The systems of a graph file (read again only when it changes), or the
    :class:`~simulation.errors.TopologyError` saying why no run can use it."""
    try:
        stat = os.stat(path)
    except OSError:
        return read_graph_file(path).number_of_nodes()  # raises, naming the file
    return _graph_nodes(path, stat.st_mtime_ns, stat.st_size)


def initial_faults_problem(initial_faults: int, nodes: int, graph_file: str) -> str | None:
    """Why ``initial_faults`` cannot all be seeded in a graph file of ``nodes`` systems."""
    if initial_faults <= nodes:
        return None
    return (
        f"initial_faults: {initial_faults} exceeds the {nodes} systems of graph_file "
        f"{graph_file}; use at most {nodes}"
    )


def check_run(config: SimulationConfig, profiles: dict[str, Profile]) -> None:
    """Raise the error a run of ``config`` would stop with before its first cycle, if any:
    an unusable graph file, more initial faults than its systems, a network its generator
    cannot build, a profile mix that does not resolve against ``profiles``, or
    cross-family oversight of a population of one model family."""
    n = config.n_systems
    if config.topology == "file":
        n = graph_nodes(config.graph_file)
        if problem := initial_faults_problem(config.initial_faults, n, config.graph_file):
            raise ConfigError(problem)
    elif problem := size_problem(config.topology, n, config.mean_degree, config.orchestrator_share):
        raise TopologyError(problem)
    if config.propensity is not None:
        if config.assignment == "cross-family":  # abstract agents are one family
            raise ConfigError(
                CROSS_FAMILY + f" (abstract agents are all of family {ABSTRACT_NAME!r})"
            )
        return
    chosen, weights = resolve_mix(config.profile_mix, profiles)
    if config.assignment != "cross-family":
        return
    if len({p.family for p in chosen}) < 2:
        raise ConfigError(CROSS_FAMILY)
    drawn = np.unique(assign_profiles(n, weights, np.random.default_rng(0)))
    families = {chosen[i].family for i in drawn}
    if len(families) < 2:
        raise ConfigError(
            f"assignment: 'cross-family' needs systems of two model families, but the {n} "
            f"systems of profile_mix {config.profile_mix!r} are all of family "
            f"{families.pop()!r}; give the other families more weight, or more systems"
        )
