"""Network generators: collaboration graph plus depends-on edges, in O(nodes + edges).

Every generator draws from the run's ``numpy.random.Generator`` so that the same seed gives
the same network, and works on integer arrays rather than NetworkX objects so that a
million-node network builds in seconds. ``to_networkx`` converts back for users who want
NetworkX's algorithms.

A depends-on edge ``caller -> callee`` means the caller calls the callee, so faults flow
from callee to caller.

Example:
    >>> import numpy as np
    >>> net = build_network("erdos-renyi", 100, 4.0, np.random.default_rng(1))
    >>> net.n, net.collab_u.size > 150
    (100, True)
"""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import networkx as nx
import numpy as np

from simulation.engine.grouping import first_of_each_pair, group_order, sorted_unique
from simulation.errors import TopologyError
from simulation.resources import memory_problem
from simulation.textfile import encoding_problem, read_user_bytes, read_user_text

if TYPE_CHECKING:
    from simulation.config import SimulationConfig

ROLE_SERVICE = 0
ROLE_ORCHESTRATOR = 1


def _csr(rows: np.ndarray, cols: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    order = group_order(rows, n)
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
    return indptr, cols[order].astype(np.int32, copy=False)


@dataclass
class Network:
    """A network of ``n`` systems as arrays.

    ``collab_u``/``collab_v`` are undirected collaboration edges (each once);
    ``caller``/``callee`` are the depends-on edges. ``parent`` is a preferred overseer per
    system (a manager in a hierarchy) or -1. Every depends-on edge joins a collaborating
    pair; ``linked_indptr``/``linked_indices`` list each pair once, under the lower of
    the two systems: the census walks them to find connected groups.
    """

    n: int
    collab_u: np.ndarray
    collab_v: np.ndarray
    caller: np.ndarray
    callee: np.ndarray
    role: np.ndarray
    parent: np.ndarray
    linked_indptr: np.ndarray = field(init=False, repr=False)
    linked_indices: np.ndarray = field(init=False, repr=False)
    dependents_indptr: np.ndarray = field(init=False, repr=False)
    dependents_indices: np.ndarray = field(init=False, repr=False)
    n_dependencies: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        lower = np.minimum(self.collab_u, self.collab_v)
        higher = np.maximum(self.collab_u, self.collab_v)
        self.linked_indptr, self.linked_indices = _csr(lower, higher, self.n)
        self.dependents_indptr, self.dependents_indices = _csr(self.callee, self.caller, self.n)
        self.n_dependencies = np.bincount(self.caller, minlength=self.n).astype(np.int32)

    @property
    def degree(self) -> np.ndarray:
        """Each system's number of collaborators."""
        return np.bincount(np.concatenate([self.collab_u, self.collab_v]), minlength=self.n)

    def collab_csr(self) -> tuple[np.ndarray, np.ndarray]:
        """Each system's collaborators as CSR (``indptr``, ``indices``), built on demand:
        only the drawing of overseers among collaborators needs them."""
        rows = np.concatenate([self.collab_u, self.collab_v])
        cols = np.concatenate([self.collab_v, self.collab_u])
        return _csr(rows, cols, self.n)

    def to_networkx(self) -> nx.DiGraph:
        """The depends-on graph as a NetworkX DiGraph (edge caller -> callee)."""
        graph = nx.DiGraph()
        graph.add_nodes_from(range(self.n))
        graph.add_edges_from(zip(self.caller.tolist(), self.callee.tolist(), strict=True))
        return graph


def _dedupe_undirected(u: np.ndarray, v: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Drop self-loops and repeated pairs, keeping first occurrences in order."""
    keep = u != v
    u, v = u[keep], v[keep]
    lo, hi = np.minimum(u, v), np.maximum(u, v)
    first = first_of_each_pair(lo, hi, n)
    return lo[first].astype(np.int64), hi[first].astype(np.int64)


def _mutual(u: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return np.concatenate([u, v]), np.concatenate([v, u])


def _orient_random(
    u: np.ndarray, v: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    flip = rng.random(u.size) < 0.5
    return np.where(flip, v, u), np.where(flip, u, v)


def pair_of_index(k: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The pair ``(j, i)``, ``j < i``, at position ``k`` of the list (1,0), (2,0), (2,1),
    (3,0), ... of all pairs, i.e. ``k = i (i - 1) / 2 + j``."""
    i = np.floor((1.0 + np.sqrt(1.0 + 8.0 * k.astype(np.float64))) / 2.0).astype(np.int64)
    i -= i * (i - 1) // 2 > k  # correct the rare float rounding either way
    i += (i + 1) * i // 2 <= k
    return k - i * (i - 1) // 2, i


def size_problem(
    topology: str, n: int, mean_degree: float, orchestrator_share: float = 0.05
) -> str | None:
    """Why the generator of ``topology`` cannot build a network of ``n`` systems with this
    ``mean_degree`` (and ``orchestrator_share``), in one line, or ``None`` if it can.

    The generators refuse the same sizes; a study asks here first, for every run, so a
    network no run could build is refused before anything runs.
    """
    if topology == "erdos-renyi" and int(round(n * mean_degree / 2)) > n * (n - 1) // 2:
        return (
            f"mean_degree: {mean_degree:g} is too high for {n} systems; use at most {n - 1} "
            "(every system connected to every other)"
        )
    if topology == "random-regular" and int(round(mean_degree)) >= n:
        return (
            f"mean_degree: {mean_degree:g} is too high for {n} systems on random-regular; "
            f"use at most {n - 1}"
        )
    links = max(1, int(round(mean_degree / 2)))
    if topology == "barabasi-albert" and n <= links:
        return (
            f"mean_degree: {mean_degree:g} is too high for {n} systems on barabasi-albert "
            f"(each new system links to {links}); use at most {2 * (n - 1)}"
        )
    if topology == "watts-strogatz" and 2 * links >= n:
        return (
            f"mean_degree: {mean_degree:g} is too high for {n} systems on watts-strogatz; "
            f"use at most {n - 1}"
        )
    if topology == "agent-platform" and max(1, int(round(orchestrator_share * n))) >= n:
        return "orchestrator_share: leaves no specialists; lower it"
    return None


def erdos_renyi(n: int, mean_degree: float, rng: np.random.Generator):
    """G(n, m) with m = n * mean_degree / 2, by sampling pairs (linear, not quadratic).

    A sparse network draws random pairs and drops repeats; a dense one (over a quarter of
    all pairs, where repeats would make that crawl) draws ``m`` distinct pair indices
    without replacement, so even the complete network builds at once.
    """
    if problem := size_problem("erdos-renyi", n, mean_degree):
        raise TopologyError(problem)
    m = int(round(n * mean_degree / 2))
    max_edges = n * (n - 1) // 2
    if 4 * m > max_edges:
        return pair_of_index(rng.choice(max_edges, size=m, replace=False))
    u = np.empty(0, dtype=np.int64)
    v = np.empty(0, dtype=np.int64)
    while u.size < m:
        draw = int((m - u.size) * 1.1) + 16
        u = np.concatenate([u, rng.integers(0, n, draw)])
        v = np.concatenate([v, rng.integers(0, n, draw)])
        u, v = _dedupe_undirected(u, v, n)
    return u[:m], v[:m]


def random_regular(n: int, mean_degree: float, rng: np.random.Generator):
    """Configuration-model pairing of ``k`` stubs per node; self-loops and repeats dropped."""
    if problem := size_problem("random-regular", n, mean_degree):
        raise TopologyError(problem)
    k = int(round(mean_degree))
    stubs = np.repeat(np.arange(n, dtype=np.int64), k)
    if stubs.size % 2:
        stubs = stubs[:-1]
    rng.shuffle(stubs)
    return _dedupe_undirected(stubs[0::2], stubs[1::2], n)


def barabasi_albert(n: int, mean_degree: float, rng: np.random.Generator):
    """Linear preferential attachment with m = mean_degree / 2 links per new node.

    Each new node picks a uniform position in the list of all edge endpoints so far (the
    classic repeated-nodes trick); positions that point at an earlier edge's target are
    resolved by pointer jumping, so the whole graph is built with array operations.
    """
    if problem := size_problem("barabasi-albert", n, mean_degree):
        raise TopologyError(problem)
    m = max(1, int(round(mean_degree / 2)))
    n_edges = (n - m) * m
    edge = np.arange(n_edges, dtype=np.int64)
    source = edge // m + m
    target = np.full(n_edges, -1, dtype=np.int64)
    target[:m] = np.arange(m)
    later = edge[m:]
    list_len = 2 * ((source[m:] - m) * m)
    pos = (rng.random(later.size) * list_len).astype(np.int64)
    ref_edge = pos // 2
    from_source = pos % 2 == 0
    target[m:][from_source] = source[ref_edge[from_source]]
    pending = np.flatnonzero(target < 0)
    ref = np.full(n_edges, -1, dtype=np.int64)
    ref[m:] = ref_edge
    while pending.size:
        hit = target[ref[pending]]
        done = hit >= 0
        target[pending[done]] = hit[done]
        pending = pending[~done]
        ref[pending] = ref[ref[pending]]
    return _dedupe_undirected(source, target, n)


def watts_strogatz(n: int, mean_degree: float, rewire_prob: float, rng: np.random.Generator):
    """Ring lattice with k/2 neighbours each side; each edge's far end rewired with p."""
    if problem := size_problem("watts-strogatz", n, mean_degree):
        raise TopologyError(problem)
    half = max(1, int(round(mean_degree / 2)))
    u = np.repeat(np.arange(n, dtype=np.int64), half)
    v = (u + np.tile(np.arange(1, half + 1), n)) % n
    rewire = rng.random(u.size) < rewire_prob
    v = np.where(rewire, rng.integers(0, n, u.size), v)
    return _dedupe_undirected(u, v, n)


def hierarchy(n: int, mean_degree: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A manager tree with ``round(mean_degree)`` reports per manager (at least 2)."""
    b = max(2, int(round(mean_degree)))
    child = np.arange(1, n, dtype=np.int64)
    parent = (child - 1) // b
    parents = np.full(n, -1, dtype=np.int64)
    parents[1:] = parent
    return parent, child, parents


def agent_platform(n: int, mean_degree: float, orchestrator_share: float, rng: np.random.Generator):
    """Hub-and-spoke agent platform: orchestrators call many specialist models.

    Each specialist is called by about mean_degree/4 orchestrators (drawn uniformly) and
    calls about mean_degree/4 other specialists as tools; each orchestrator delegates to two
    other orchestrators. Returns (callers, callees, roles).
    """
    if problem := size_problem("agent-platform", n, mean_degree, orchestrator_share):
        raise TopologyError(problem)
    n_orch = max(1, int(round(orchestrator_share * n)))
    per_side = max(1, int(round(mean_degree / 4)))
    specialists = np.arange(n_orch, n, dtype=np.int64)
    spec_rep = np.repeat(specialists, per_side)
    orch_callers = rng.integers(0, n_orch, spec_rep.size)
    tool_callees = rng.integers(n_orch, n, spec_rep.size) if n - n_orch > 1 else spec_rep
    orch = np.arange(n_orch, dtype=np.int64)
    orch_rep = np.repeat(orch, 2 if n_orch > 2 else 0)
    orch_callees = rng.integers(0, n_orch, orch_rep.size)
    callers = np.concatenate([orch_callers, spec_rep, orch_rep])
    callees = np.concatenate([spec_rep, tool_callees, orch_callees])
    keep = callers != callees
    callers, callees = callers[keep], callees[keep]
    key = sorted_unique(callers * n + callees)
    callers, callees = key // n, key % n
    role = np.zeros(n, dtype=np.int8)
    role[:n_orch] = ROLE_ORCHESTRATOR
    return callers, callees, role


def _read_edge_list(text: str, path: str) -> nx.DiGraph:
    """Edge list: ``caller callee`` per line, an optional third column ignored, ``#`` comments."""
    graph = nx.DiGraph()
    for number, line in enumerate(text.splitlines(), start=1):
        tokens = line.split("#", 1)[0].split()
        if not tokens:
            continue
        if len(tokens) not in (2, 3):
            raise TopologyError(
                f"graph_file: {path} line {number}: expected 'u v' (or 'u v weight'), "
                f"got {line.strip()!r}"
            )
        graph.add_edge(tokens[0], tokens[1])
    return graph


def _read_graphml(data: bytes, path: str) -> nx.Graph:
    """GraphML from the file's bytes: XML names its own encoding (a byte-order mark, or
    ``encoding=`` in its declaration), so a UTF-16 file that says so reads as well as a
    UTF-8 one; a file the XML parser cannot read and that is not UTF-8 is refused naming
    the encoding, the parser's complaint otherwise."""
    try:
        return nx.read_graphml(io.BytesIO(data))
    except Exception as exc:  # NetworkX and the XML parser raise many types
        problem = encoding_problem(data)
        if problem:
            raise TopologyError(f"graph_file: {path} {problem}") from None
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise TopologyError(f"graph_file: {path} is not a valid GraphML ({first})") from None


def read_graph_file(path: str) -> nx.Graph:
    """Read GraphML (``.graphml``/``.xml``) or an edge list (``u v`` per line, ``#`` comments).

    The file must be a regular file; an edge list is UTF-8 text (a byte-order mark allowed);
    see :mod:`simulation.textfile`."""
    file = Path(path)
    if file.suffix.lower() in (".graphml", ".xml"):
        graph = _read_graphml(read_user_bytes(file, TopologyError, "graph_file:"), path)
    else:
        graph = _read_edge_list(read_user_text(file, TopologyError, "graph_file:"), path)
    if graph.number_of_nodes() < 2:
        raise TopologyError(f"graph_file: {path} has fewer than 2 nodes")
    return graph


def network_from_graph(graph: nx.Graph, dependencies: str, rng: np.random.Generator) -> Network:
    """Convert a NetworkX graph: directed edges u -> v mean u depends on v.

    Nodes become indices 0..n-1: in numeric order when every label is an integer, else in
    the order the file lists them.
    """
    nodes = list(graph.nodes())
    with contextlib.suppress(TypeError, ValueError):
        nodes.sort(key=int)  # numeric labels keep their numeric order as indices
    index = {node: i for i, node in enumerate(nodes)}
    n = len(nodes)
    pairs = np.array([(index[a], index[b]) for a, b in graph.edges()], dtype=np.int64)
    pairs = pairs.reshape(-1, 2)
    u, v = _dedupe_undirected(pairs[:, 0], pairs[:, 1], n)
    if graph.is_directed() and dependencies == "oriented":
        keep = pairs[:, 0] != pairs[:, 1]
        caller, callee = pairs[keep, 0], pairs[keep, 1]
    elif dependencies == "oriented":
        caller, callee = _orient_random(u, v, rng)
    else:
        caller, callee = _mutual(u, v)
    return Network(n, u, v, caller, callee, np.zeros(n, np.int8), np.full(n, -1, np.int64))


def build_network(
    topology: str,
    n: int,
    mean_degree: float,
    rng: np.random.Generator,
    *,
    rewire_prob: float = 0.1,
    orchestrator_share: float = 0.05,
    dependencies: str = "mutual",
    graph_file: str = "",
) -> Network:
    """Build the network named by ``topology`` from the run's generator.

    ``dependencies`` applies to the undirected generators: ``mutual`` makes every
    collaboration a two-way dependency, ``oriented`` one way (random for Erdos-Renyi,
    Watts-Strogatz and random-regular, newer-calls-older for Barabasi-Albert). The
    hierarchy (managers call their reports) and the agent platform (orchestrators call
    specialists) have their own orientation.
    """
    no_parent = np.full(n, -1, dtype=np.int64)
    plain = np.zeros(n, dtype=np.int8)
    if topology == "file":
        return network_from_graph(read_graph_file(graph_file), dependencies, rng)
    if topology == "hierarchy":
        manager, report, parents = hierarchy(n, mean_degree)
        role = np.zeros(n, dtype=np.int8)
        role[np.unique(manager)] = ROLE_ORCHESTRATOR
        return Network(n, manager, report, manager, report, role, parents)
    if topology == "agent-platform":
        callers, callees, role = agent_platform(n, mean_degree, orchestrator_share, rng)
        u, v = _dedupe_undirected(callers, callees, n)
        return Network(n, u, v, callers, callees, role, no_parent)
    if topology == "erdos-renyi":
        u, v = erdos_renyi(n, mean_degree, rng)
    elif topology == "random-regular":
        u, v = random_regular(n, mean_degree, rng)
    elif topology == "barabasi-albert":
        u, v = barabasi_albert(n, mean_degree, rng)
    elif topology == "watts-strogatz":
        u, v = watts_strogatz(n, mean_degree, rewire_prob, rng)
    else:
        raise TopologyError(f"topology: unknown {topology!r}")
    if dependencies == "mutual":
        caller, callee = _mutual(u, v)
    elif topology == "barabasi-albert":
        caller, callee = np.maximum(u, v), np.minimum(u, v)
    else:
        caller, callee = _orient_random(u, v, rng)
    return Network(n, u, v, caller, callee, plain, no_parent)


def network_for(config: SimulationConfig, rng: np.random.Generator) -> Network:
    """The network a run's configuration asks for, drawn from the run's generator.

    Refused at once if the run would not fit in the memory available (see
    :mod:`simulation.resources`).
    """
    if config.topology != "file":
        problem = memory_problem(config.n_systems, config.mean_degree, config.topology)
        if problem:
            raise TopologyError(problem)
    return build_network(
        config.topology,
        config.n_systems,
        config.mean_degree,
        rng,
        rewire_prob=config.rewire_prob,
        orchestrator_share=config.orchestrator_share,
        dependencies=config.dependencies,
        graph_file=config.graph_file,
    )
