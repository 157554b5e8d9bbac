"""Graph algorithms with networkx's interface and igraph's speed.

Each function takes a :class:`networkx.Graph` (or an :class:`igraph.Graph` whose vertices have a ``name``, or
:class:`~riskmodel.graph.build.GraphFrames`) and returns what the networkx algorithm returns (``{node: value}``,
a list of node sets).  ``backend='auto'`` runs igraph once a networkx graph has more than
:data:`IGRAPH_ABOVE_EDGES` edges (measured on 200k nodes / 2M edges: PageRank 0.5 s vs 10 s, components 0.06 s
vs 1.1 s); the converted igraph graph is cached on the networkx graph (``G.graph``) and rebuilt when the node or
edge count changes.  Results agree with networkx (tests compare them on small named graphs).
"""

from __future__ import annotations

import random

import networkx as nx
import numpy as np

IGRAPH_ABOVE_EDGES = 50_000
_CACHE_KEY = "_riskmodel_igraph"


def _is_igraph(G) -> bool:
    return type(G).__module__.startswith("igraph")


def _use_igraph(G, backend: str) -> bool:
    if backend not in ("auto", "networkx", "igraph"):
        raise ValueError(f"backend must be 'auto', 'networkx' or 'igraph', not {backend!r}")
    if _is_igraph(G):
        if backend == "networkx":
            raise ValueError("an igraph.Graph was given: use backend='igraph' or 'auto'")
        return True
    return backend == "igraph" or (backend == "auto" and G.number_of_edges() > IGRAPH_ABOVE_EDGES)


def to_igraph(G: nx.Graph, weight: str | None = None):
    """An undirected :class:`igraph.Graph` of a networkx graph (vertex ``name`` = node), cached on ``G``.

    ``weight`` copies that edge attribute (missing = 1) to the igraph edge attribute ``weight``.
    """
    import igraph as ig

    if _is_igraph(G):
        return G
    from riskmodel.graph.build import GraphFrames

    if isinstance(G, GraphFrames):
        return G.to_igraph()
    key = (G.number_of_nodes(), G.number_of_edges(), weight)
    cached = G.graph.get(_CACHE_KEY)
    if cached is not None and cached[0] == key:
        return cached[1]
    nodes = list(G)
    index = {n: i for i, n in enumerate(nodes)}
    if weight is None:
        edges = [(index[u], index[v]) for u, v in G.edges()]
    else:
        triples = [(index[u], index[v], d.get(weight, 1.0)) for u, v, d in G.edges(data=True)]
        edges = [(u, v) for u, v, _ in triples]
    g = ig.Graph(n=len(nodes), edges=edges, directed=G.is_directed())
    g.vs["name"] = nodes
    if weight is not None:
        g.es["weight"] = [float(w) for _, _, w in triples]
    G.graph[_CACHE_KEY] = (key, g)
    return g


def _weights(g, weight: str | None):
    if weight is None:
        return None
    if weight in g.es.attributes():
        return g.es[weight]
    return None


def _names(g) -> list:
    return g.vs["name"] if "name" in g.vs.attributes() else list(range(g.vcount()))


def pagerank(G, alpha: float = 0.85, weight: str | None = None, backend: str = "auto", implementation: str = "prpack") -> dict:
    """PageRank of every node, as :func:`networkx.pagerank` (dangling nodes teleport uniformly).

    ``implementation`` is igraph's solver: ``prpack`` (default, fastest on large graphs) or ``arpack`` (much faster
    on small bipartite graphs such as employee–supplier dealings, where PRPACK's iteration converges slowly:
    measured 1.3 s vs 0.015 s on 1,260 nodes).

    Examples
    --------
    >>> G = nx.karate_club_graph()
    >>> a, b = pagerank(G, backend="networkx"), pagerank(G, backend="igraph")
    >>> max(abs(a[n] - b[n]) for n in G) < 1e-6
    True
    """
    if not _use_igraph(G, backend):
        return nx.pagerank(G, alpha=alpha, weight=weight, tol=1e-10, max_iter=1000)
    g = to_igraph(G, weight)
    vals = g.pagerank(damping=alpha, weights=_weights(g, weight), directed=g.is_directed(), implementation=implementation)
    return dict(zip(_names(g), vals))


def betweenness(G, normalized: bool = True, weight: str | None = None, backend: str = "auto") -> dict:
    """Betweenness centrality of every node, as :func:`networkx.betweenness_centrality` (exact; ``weight`` is a
    distance).  igraph counts each unordered pair once, as networkx does for undirected graphs."""
    if not _use_igraph(G, backend):
        return nx.betweenness_centrality(G, normalized=normalized, weight=weight)
    g = to_igraph(G, weight)
    vals = np.asarray(g.betweenness(directed=g.is_directed(), weights=_weights(g, weight)), dtype=float)
    n = g.vcount()
    if normalized and n > 2:
        vals = vals * (2.0 if not g.is_directed() else 1.0) / ((n - 1) * (n - 2))
    return dict(zip(_names(g), vals.tolist()))


def degree(G, weight: str | None = None, backend: str = "auto") -> dict:
    """(Weighted) degree of every node, as ``dict(G.degree(weight=...))``."""
    if not _use_igraph(G, backend):
        return dict(G.degree(weight=weight))
    g = to_igraph(G, weight)
    vals = g.strength(weights=_weights(g, weight)) if weight else g.degree()
    return dict(zip(_names(g), vals))


def connected_components(G, backend: str = "auto") -> list[set]:
    """The connected components as node sets, largest first (networkx yields them unordered)."""
    if not _use_igraph(G, backend):
        comps = list(nx.connected_components(G))
    else:
        g = to_igraph(G)
        names = np.asarray(_names(g), dtype=object)
        memb = np.asarray(g.connected_components(mode="weak").membership)
        order = np.argsort(memb, kind="stable")
        cuts = np.flatnonzero(np.diff(memb[order])) + 1
        comps = [set(part.tolist()) for part in np.split(names[order], cuts)] if len(memb) else []
    return sorted(comps, key=len, reverse=True)


def component_of(G, backend: str = "auto") -> dict:
    """``{node: component number}``, numbered largest component first."""
    return {n: i for i, c in enumerate(connected_components(G, backend)) for n in c}


def k_hop_sizes(G, k: int = 2, nodes=None, backend: str = "auto") -> dict:
    """How many other nodes lie within ``k`` hops of each node (of ``nodes``, default all)."""
    if not _use_igraph(G, backend):
        nodes = G if nodes is None else nodes
        return {n: len(nx.single_source_shortest_path_length(G, n, cutoff=k)) - 1 for n in nodes}
    g = to_igraph(G)
    names = _names(g)
    if nodes is None:
        return dict(zip(names, (np.asarray(g.neighborhood_size(order=k)) - 1).tolist()))
    idx = [g.vs.find(name=n).index for n in nodes]
    return dict(zip(nodes, (np.asarray(g.neighborhood_size(idx, order=k)) - 1).tolist()))


def k_hop_neighbourhood(G, node, k: int = 2, backend: str = "auto") -> set:
    """The nodes within ``k`` hops of ``node`` (itself included), as ``set(nx.ego_graph(G, node, k))``."""
    if not _use_igraph(G, backend):
        return set(nx.single_source_shortest_path_length(G, node, cutoff=k))
    g = to_igraph(G)
    names = _names(g)
    return {names[i] for i in g.neighborhood(g.vs.find(name=node).index, order=k)}


def louvain(G, weight: str | None = "weight", resolution: float = 1.0, seed: int = 0, backend: str = "auto") -> list[set]:
    """Louvain modularity communities as node sets, largest first (:func:`networkx.community.louvain_communities`;
    igraph's ``community_multilevel`` with Python's RNG seeded by ``seed`` and restored afterwards)."""
    if not _use_igraph(G, backend):
        if G.number_of_nodes() == 0:
            return []
        comms = nx.community.louvain_communities(G, weight=weight, resolution=resolution, seed=seed)
    else:
        g = to_igraph(G, weight)
        state = random.getstate()
        random.seed(seed)
        try:
            cl = g.community_multilevel(weights=_weights(g, weight), resolution=resolution)
        finally:
            random.setstate(state)
        names = _names(g)
        comms = [{names[i] for i in c} for c in cl]
    return sorted(comms, key=lambda c: (-len(c), str(min(map(str, c)))))
