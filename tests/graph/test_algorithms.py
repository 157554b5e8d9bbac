"""igraph-backed algorithms return what networkx returns, on named reference graphs."""

from __future__ import annotations

import networkx as nx
import pytest

from riskmodel.graph import algorithms as alg

REFERENCE = {
    "karate": nx.karate_club_graph,
    "les_miserables": nx.les_miserables_graph,
    "florentine": nx.florentine_families_graph,
    "davis_southern_women": nx.davis_southern_women_graph,  # bipartite, like people and companies
    "two_components": lambda: nx.disjoint_union(nx.path_graph(5), nx.star_graph(4)),
}


@pytest.fixture(params=sorted(REFERENCE))
def G(request):
    return REFERENCE[request.param]()


def close(a: dict, b: dict, tol: float) -> bool:
    return a.keys() == b.keys() and max(abs(a[k] - b[k]) for k in a) < tol


def test_pagerank_matches(G):
    assert close(alg.pagerank(G, backend="networkx"), alg.pagerank(G, backend="igraph"), 1e-6)


def test_pagerank_solvers_agree(G):
    assert close(alg.pagerank(G, backend="igraph", implementation="arpack"), alg.pagerank(G, backend="networkx"), 1e-6)


def test_weighted_pagerank_matches():
    G = nx.les_miserables_graph()
    assert close(alg.pagerank(G, weight="weight", backend="networkx"), alg.pagerank(G, weight="weight", backend="igraph"), 1e-6)


def test_betweenness_matches(G):
    assert close(alg.betweenness(G, backend="networkx"), alg.betweenness(G, backend="igraph"), 1e-9)
    assert close(alg.betweenness(G, normalized=False, backend="networkx"), alg.betweenness(G, normalized=False, backend="igraph"), 1e-9)


def test_degree_matches(G):
    assert alg.degree(G, backend="networkx") == alg.degree(G, backend="igraph")


def test_components_match(G):
    a, b = alg.connected_components(G, backend="networkx"), alg.connected_components(G, backend="igraph")
    assert sorted(map(sorted, a)) == sorted(map(sorted, b))
    assert [len(c) for c in a] == sorted((len(c) for c in a), reverse=True)


def test_k_hop_sizes_match(G):
    for k in (1, 2):
        assert alg.k_hop_sizes(G, k, backend="networkx") == alg.k_hop_sizes(G, k, backend="igraph")
    some = list(G)[:3]
    assert alg.k_hop_sizes(G, 2, nodes=some, backend="igraph") == {n: len(nx.ego_graph(G, n, 2)) - 1 for n in some}
    n = some[0]
    assert alg.k_hop_neighbourhood(G, n, 2, backend="igraph") == set(nx.ego_graph(G, n, 2)) == alg.k_hop_neighbourhood(G, n, 2, backend="networkx")


def test_louvain_finds_the_same_planted_communities():
    G = nx.ring_of_cliques(6, 5)
    a, b = alg.louvain(G, weight=None, backend="networkx"), alg.louvain(G, weight=None, backend="igraph")
    expected = sorted(sorted(range(i * 5, i * 5 + 5)) for i in range(6))
    assert sorted(map(sorted, a)) == expected == sorted(map(sorted, b))


def test_louvain_is_deterministic_with_a_seed():
    G = nx.les_miserables_graph()
    assert alg.louvain(G, backend="igraph", seed=1) == alg.louvain(G, backend="igraph", seed=1)
    assert alg.louvain(G, backend="networkx", seed=1) == alg.louvain(G, backend="networkx", seed=1)


def test_auto_backend_and_cache():
    G = nx.gnm_random_graph(2_000, alg.IGRAPH_ABOVE_EDGES + 1, seed=1)
    assert alg._use_igraph(G, "auto") and not alg._use_igraph(nx.karate_club_graph(), "auto")
    g1 = alg.to_igraph(G)
    assert alg.to_igraph(G) is g1, "the converted graph is cached on G"
    G.add_edge(0, "new")
    assert alg.to_igraph(G) is not g1, "and rebuilt when G changes"
    with pytest.raises(ValueError, match="backend"):
        alg.pagerank(G, backend="graph-tool")


def test_igraph_graph_accepted_directly():
    G = nx.karate_club_graph()
    g = alg.to_igraph(G)
    assert close(alg.pagerank(g), alg.pagerank(G, backend="networkx"), 1e-6)
