"""Co-bidding communities and rotation on reference bidding graphs."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
from scipy.stats import hypergeom

from riskmodel.graph.bidding import bid_communities, bid_rings, cobid_graph, cobid_pairs, community_bidding


def bidding_graph(tenders: list[tuple[str, str, list[str], str | None]]) -> nx.Graph:
    """``(tender, category, bidders, winner)`` → a relationship graph with tender nodes and bid edges."""
    G = nx.Graph()
    for t, cat, bidders, winner in tenders:
        G.add_node(f"tender:{t}", kind="tender", category_id=cat)
        for k, s in enumerate(bidders):
            G.add_node(f"supplier:{s}", kind="supplier", label=s)
            won = s == winner
            G.add_edge(f"supplier:{s}", f"tender:{t}", kind="bids", won=won, amount=100.0 if won else 102.0 + k)
    return G


def two_rings_and_noise() -> nx.Graph:
    """Ring A–D rotates over 8 tenders; ring K–M rotates over 6; 30 other tenders go to pairs of others; a
    thin category where P, Q, R always meet."""
    ts = [(f"a{i}", "C1", ["A", "B", "C", "D"], "ABCD"[i % 4]) for i in range(8)]
    ts += [(f"k{i}", "C1", ["K", "L", "M"], "KLM"[i % 3]) for i in range(6)]
    ts += [(f"n{i}", "C1", [f"N{i}", f"O{i}"], f"N{i}") for i in range(30)]
    ts += [(f"t{i}", "C2", ["P", "Q", "R"], "PQR"[i % 3]) for i in range(6)]
    return bidding_graph(ts)


def test_cobid_p_value_is_hypergeometric():
    p = cobid_pairs(two_rings_and_noise()).set_index(["u", "v"])
    row = p.loc[("supplier:A", "supplier:B")]
    assert (row.joint, row.n_u, row.n_v, row.tenders) == (8, 8, 8, 44)
    assert row.p_value == pytest.approx(hypergeom.sf(7, 44, 8, 8))
    thin = p.loc[("supplier:P", "supplier:Q")]
    assert thin.p_value == pytest.approx(1.0), "a thin market where all meet is no evidence"


def test_cobid_graph_and_communities():
    H = cobid_graph(two_rings_and_noise())
    assert set(H) == {f"supplier:{s}" for s in "ABCDKLM"}
    comms = bid_communities(H)
    groups = {}
    for n, c in comms.items():
        groups.setdefault(c, set()).add(n.split(":")[1])
    assert sorted(map(sorted, groups.values())) == [["A", "B", "C", "D"], ["K", "L", "M"]]
    assert H.edges["supplier:A", "supplier:B"]["weight"] == pytest.approx(-np.log10(hypergeom.sf(7, 44, 8, 8)))


def test_rotation_and_cover_gap():
    comm, mem = bid_rings(two_rings_and_noise())
    c = comm.set_index(comm.members.map(lambda m: "".join(m)))
    assert c.loc["ABCD"].rotation == pytest.approx(1.0) and c.loc["ABCD"].n_joint == 8
    assert c.loc["ABCD"].cover_gap == pytest.approx(0.02), "lowest losing bid 102 over the winning 100 (103 when A wins)"
    assert c.loc["KLM"].distinct_winners == 3
    assert set(mem.supplier_id) == set("ABCDKLM")
    assert mem.set_index("supplier_id").partners["A"] == ["B", "C", "D"]


def test_dominant_winner_is_not_rotation():
    G = bidding_graph([(f"x{i}", "C1", ["X", "Y", "Z"], "X") for i in range(6)] +
                      [(f"n{i}", "C1", [f"N{i}", f"O{i}"], f"N{i}") for i in range(20)])
    comm, _ = bid_rings(G)
    assert len(comm) == 1 and comm.rotation[0] == pytest.approx(1 / 3)


def test_no_bids_no_communities():
    comm, mem = community_bidding(nx.Graph(), {})
    assert comm.empty and mem.empty
