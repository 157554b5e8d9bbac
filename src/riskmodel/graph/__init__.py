"""Relationship graph mining: who is linked to whom through shared identifiers, dealings and bids.

The analysts' API follows networkx: :func:`build_graph` returns a :class:`networkx.Graph` (node attributes
``kind`` and ``label``), algorithms return ``{node: value}`` or node sets, edge weights are named explicitly, and
heavy algorithms switch to igraph on large graphs (:mod:`riskmodel.graph.algorithms`).  Detectors return tidy
DataFrames with an explanation (the path) per row; the ``REL-…`` indicators in
:mod:`riskmodel.graph.indicators` wrap them for the catalogue.

>>> from riskmodel.graph import build_graph, conflict_links, bid_rings, graph_features, ego_figure  # doctest: +SKIP
"""

from riskmodel.graph.algorithms import (betweenness, component_of, connected_components, degree, k_hop_neighbourhood,
                                        k_hop_sizes, louvain, pagerank, to_igraph)
from riskmodel.graph.bidding import bid_communities, bid_rings, cobid_graph, cobid_pairs, community_bidding
from riskmodel.graph.build import (GraphFrames, build_graph, entity_attributes, frames_from_networkx, graph_frames,
                                   grower_dealings, supplier_dealings)
from riskmodel.graph.features import dealing_centrality, graph_features
from riskmodel.graph.figure import ego_figure
from riskmodel.graph.links import (KIND_WEIGHTS, attribute_links, attribute_paths, conflict_links, dealings,
                                   related_bidders, shared_attribute_pairs)
from riskmodel.graph.normalize import normalize_account, normalize_address, normalize_id, normalize_phone

__all__ = [
    "GraphFrames", "build_graph", "graph_frames", "frames_from_networkx", "entity_attributes", "supplier_dealings",
    "grower_dealings", "normalize_phone", "normalize_address", "normalize_account", "normalize_id",
    "KIND_WEIGHTS", "shared_attribute_pairs", "attribute_links", "attribute_paths", "conflict_links", "dealings",
    "related_bidders", "cobid_pairs", "cobid_graph", "bid_communities", "community_bidding", "bid_rings",
    "pagerank", "betweenness", "degree", "connected_components", "component_of", "k_hop_sizes", "k_hop_neighbourhood",
    "louvain", "to_igraph", "dealing_centrality", "graph_features", "ego_figure",
]
