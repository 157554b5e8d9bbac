"""The relationship graph built from tables: nodes, kinds, labels, roles, dealings; networkx and igraph agree."""

from __future__ import annotations

from riskmodel.graph.build import build_graph, frames_from_networkx, graph_frames, supplier_dealings


def test_nodes_have_kind_and_label(tiny):
    G = build_graph(tiny, min_share=1)
    assert G.nodes["employee:E1"] == {"kind": "employee", "label": "张三", "entity_id": "E1"}
    assert G.nodes["phone:13812345678"]["kind"] == "phone" and G.nodes["phone:13812345678"]["label"] == "138****5678"
    assert G.nodes["phone:045185001234"]["subkind"] == "landline"
    assert G.nodes["tender:T1"]["kind"] == "tender"
    kinds = {d["kind"] for _, d in G.nodes(data=True)}
    assert kinds <= {"employee", "supplier", "grower", "tender", "phone", "address", "bank_account", "id_number"}


def test_variants_meet_on_one_attribute_node(tiny):
    G = build_graph(tiny)
    assert set(G.neighbors("phone:13812345678")) == {"employee:E1", "supplier:S1"}
    assert G.edges["supplier:S1", "phone:13812345678"]["role"] == "legal_rep_phone"
    assert set(G.neighbors("phone:045185001234")) == {"supplier:S1", "supplier:S2", "supplier:S3", "supplier:S4"}
    assert set(G.neighbors("address:南岗区学府路1号2单元301室")) == {"employee:E2", "employee:E3"}
    assert set(G.neighbors("bank_account:6222021234567890123")) >= {"employee:E4", "grower:G1"}


def test_min_share_keeps_only_linking_attributes(tiny):
    G1, G2 = build_graph(tiny, min_share=1), build_graph(tiny, min_share=2)
    attrs = [n for n, d in G2.nodes(data=True) if d["kind"] in ("phone", "address", "bank_account", "id_number")]
    assert all(G2.degree(a) >= 2 for a in attrs)
    assert G1.number_of_nodes() > G2.number_of_nodes()


def test_dealing_edges_carry_roles_and_documents(tiny):
    G = build_graph(tiny)
    e = G.edges["employee:E1", "supplier:S1"]
    assert e["kind"] == "deals" and set(e["roles"]) == {"approver", "buyer", "requester"}
    assert e["count"] == 1 and e["evidence"] == ["PO1"]
    assert G.edges["employee:E4", "grower:G1"]["kind"] == "grades"
    assert G.edges["supplier:S1", "tender:T1"]["won"] is True and G.edges["supplier:S2", "tender:T1"]["won"] is False


def test_dealings_by_period(tiny):
    d = supplier_dealings(tiny, freq="year")
    assert d.period.astype(str).tolist() == ["2024-01-01"]


def test_dealings_from_tenders_alone():
    """Without purchase orders the tenders' branch comes first in the UNION, and it names its columns too."""
    from riskmodel.data.dataset import Dataset

    from .conftest import frame, tiny_tables

    tables = tiny_tables()
    del tables["purchase_orders"]
    tables["tenders"][0]["requisition_id"] = "R1"
    data = Dataset.from_frames({name: frame(name, rows) for name, rows in tables.items()})
    d = supplier_dealings(data).set_index("supplier_id")
    assert d.employee_id.tolist() == ["E1", "E1"] and sorted(d.index) == ["S1", "S2"]
    assert set(d.loc["S1", "roles"]) == {"approver", "requester"} and d.loc["S1", "amount"] == 0


def test_networkx_round_trip_and_igraph_agree(tiny):
    f = graph_frames(tiny)
    G = f.to_networkx()
    back = frames_from_networkx(G)
    assert set(back.nodes.node) == set(G) and len(back.edges) == G.number_of_edges()
    g = f.to_igraph()
    assert g.vcount() == G.number_of_nodes() and g.ecount() == G.number_of_edges()
    ig_edges = {frozenset((g.vs[e.source]["name"], g.vs[e.target]["name"])) for e in g.es}
    assert ig_edges == {frozenset(e) for e in G.edges()}


def test_empty_dataset_gives_an_empty_graph():
    import pandas as pd

    from riskmodel.data.dataset import Dataset

    G = build_graph(Dataset.from_frames({"positions": pd.DataFrame({"position_id": ["P1"]})}))
    assert G.number_of_nodes() == 0


def test_cached_results_are_shared_between_callers_that_ask_the_same(tiny):
    """REL indicators and graph features ask for the same links: defaults given or left out are one computation."""
    from riskmodel.graph.build import cached
    from riskmodel.graph.links import KIND_WEIGHTS, conflict_links

    calls = []

    def links(frames, max_hops: int = 2, kind_weights: dict | None = None):
        calls.append((max_hops, kind_weights))
        return conflict_links(frames, max_hops=max_hops, kind_weights=kind_weights)

    a = cached(tiny, links)
    b = cached(tiny, links, max_hops=2)
    w = cached(tiny, links, kind_weights=dict(reversed(KIND_WEIGHTS.items())))
    w2 = cached(tiny, links, kind_weights=dict(KIND_WEIGHTS))
    c = cached(tiny, links, max_hops=1)
    assert a is b and w is w2 and c is not a
    assert len(calls) == 3  # defaults, the explicit weights (in any order), one hop
    assert a.equals(conflict_links(graph_frames(tiny)))


def test_linked_growers_only_keeps_growers_that_share_and_the_same_links(tiny):
    """``all_growers=False`` (the graph the run caches) drops G2, who shares nothing, and E4's grading of G2; the
    links found on it are those of the whole graph."""
    from riskmodel.graph.build import entity_attributes
    from riskmodel.graph.links import conflict_links, related_bidders

    full, lean = graph_frames(tiny, min_share=2), graph_frames(tiny, min_share=2, all_growers=False)
    assert {"grower:G1", "grower:G2"} <= set(full.nodes.node)
    assert "grower:G1" in set(lean.nodes.node) and "grower:G2" not in set(lean.nodes.node)
    grades = lean.edges_of("grades")
    assert list(zip(grades.source, grades.target)) == [("employee:E4", "grower:G1")]
    others = [f.edges_of("deals", "bids", "attribute").reset_index(drop=True) for f in (full, lean)]
    assert others[0].equals(others[1])
    assert conflict_links(full).equals(conflict_links(lean))
    assert related_bidders(full).equals(related_bidders(lean))
    every = entity_attributes(tiny)
    shared = every[every.groupby("target").source.transform("nunique") >= 2].reset_index(drop=True)
    assert entity_attributes(tiny, min_share=2).equals(shared)
