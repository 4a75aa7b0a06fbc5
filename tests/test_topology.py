"""Network generators: size, degree, reproducibility, orientation and user files."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

from simulation.topology import ROLE_ORCHESTRATOR, TopologyError, build_network

GENERATED = ["erdos-renyi", "barabasi-albert", "watts-strogatz", "random-regular"]


def build(topology: str, n: int = 2000, k: float = 8.0, seed: int = 1, **kw):
    return build_network(topology, n, k, np.random.default_rng(seed), **kw)


@pytest.mark.parametrize("topology", GENERATED)
def test_generators_give_simple_graphs_with_the_mean_degree(topology):
    net = build(topology)
    assert net.n == 2000
    assert (net.collab_u != net.collab_v).all()
    pairs = set(zip(net.collab_u.tolist(), net.collab_v.tolist(), strict=True))
    assert len(pairs) == net.collab_u.size, "no repeated edges"
    # dropped self-loops and repeats cost at most a few per cent of the edges
    assert net.degree.mean() == pytest.approx(8.0, rel=0.03)
    # mutual dependencies: every collaboration is a depends-on edge both ways
    assert net.caller.size == 2 * net.collab_u.size


@pytest.mark.parametrize("topology", [*GENERATED, "hierarchy", "agent-platform"])
def test_same_seed_same_network(topology):
    a, b, c = build(topology, seed=5), build(topology, seed=5), build(topology, seed=6)
    assert np.array_equal(a.caller, b.caller) and np.array_equal(a.callee, b.callee)
    if topology != "hierarchy":  # the hierarchy is deterministic by construction
        assert not (np.array_equal(a.caller, c.caller) and np.array_equal(a.callee, c.callee))


def test_barabasi_albert_has_hubs_and_random_regular_has_none():
    ba = build("barabasi-albert", n=20_000)
    rr = build("random-regular", n=20_000)
    assert ba.degree.max() > 20 * ba.degree.mean()
    assert rr.degree.max() <= 8
    # preferential attachment: the oldest nodes are the best connected
    assert ba.degree[:100].mean() > 5 * ba.degree[-10_000:].mean()


def test_watts_strogatz_without_rewiring_is_a_ring_lattice():
    net = build("watts-strogatz", n=100, k=4, rewire_prob=0.0)
    assert (net.degree == 4).all()
    assert nx.average_clustering(nx.Graph(list(zip(net.collab_u, net.collab_v, strict=True)))) == (
        pytest.approx(0.5)
    )


def test_hierarchy_managers_call_and_oversee_their_reports():
    net = build("hierarchy", n=31, k=2)
    assert net.parent[0] == -1
    assert (net.parent[1:] == (np.arange(1, 31) - 1) // 2).all()
    assert set(zip(net.caller.tolist(), net.callee.tolist(), strict=True)) == {
        ((i - 1) // 2, i) for i in range(1, 31)
    }
    assert (net.role[:15] == ROLE_ORCHESTRATOR).all()


def test_agent_platform_orchestrators_call_specialists():
    net = build("agent-platform", n=1000, orchestrator_share=0.05)
    orchestrators = np.flatnonzero(net.role == ROLE_ORCHESTRATOR)
    assert orchestrators.size == 50
    callers_of_specialists = net.caller[net.callee >= 50]
    assert np.isin(orchestrators, callers_of_specialists).all()
    in_degree = np.bincount(net.callee, minlength=1000)
    out_degree = np.bincount(net.caller, minlength=1000)
    assert out_degree[:50].mean() > 5 * out_degree[50:].mean()
    assert in_degree[50:].min() >= 1


def test_oriented_dependencies_are_one_way():
    net = build("erdos-renyi", dependencies="oriented")
    assert net.caller.size == net.collab_u.size
    ba = build("barabasi-albert", dependencies="oriented")
    assert (ba.caller > ba.callee).all(), "newer systems call older ones"


def test_user_graphs_from_graphml_and_edge_lists(tmp_path):
    graph = nx.DiGraph([("a", "b"), ("b", "c"), ("c", "a"), ("a", "d")])
    path = tmp_path / "g.graphml"
    nx.write_graphml(graph, path)
    net = build("file", graph_file=str(path), dependencies="oriented")
    assert net.n == 4 and net.caller.size == 4
    edges = tmp_path / "g.txt"
    edges.write_text("# a comment\n0 1\n1 2\n2 0\n")
    net = build("file", graph_file=str(edges))
    assert net.n == 3 and net.caller.size == 6  # mutual by default


@pytest.mark.parametrize(
    "content, suffix",
    [("<graphml><graph><node id=", ".graphml"), ("0 1 2 3 4\nfoo\n", ".txt"), ("", ".txt")],
)
def test_malformed_graph_files_give_a_clear_error(tmp_path, content, suffix):
    path = tmp_path / f"bad{suffix}"
    path.write_text(content)
    with pytest.raises(TopologyError, match="graph_file"):
        build("file", graph_file=str(path))


def test_missing_graph_file_and_impossible_degree():
    with pytest.raises(TopologyError, match="does not exist"):
        build("file", graph_file="/nonexistent/graph.graphml")
    with pytest.raises(TopologyError, match="mean_degree"):
        build("erdos-renyi", n=10, k=20)


@pytest.mark.parametrize("topology", ["erdos-renyi", "agent-platform", "hierarchy"])
def test_linked_pairs_list_every_depends_on_pair_once_under_its_lower_system(topology):
    net = build_network(topology, 400, 6.0, np.random.default_rng(5))
    rows = np.repeat(np.arange(net.n), np.diff(net.linked_indptr))
    listed = set(zip(rows.tolist(), net.linked_indices.tolist(), strict=True))
    assert len(listed) == rows.size, "each pair once"
    assert all(a < b for a, b in listed)
    edges = zip(net.caller.tolist(), net.callee.tolist(), strict=True)
    assert listed == {(min(a, b), max(a, b)) for a, b in edges if a != b}
