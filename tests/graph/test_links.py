"""Shared-attribute links on named reference graphs with known answers."""

from __future__ import annotations

import networkx as nx
import pytest

from riskmodel.graph.links import attribute_links, attribute_paths, conflict_links, related_bidders, shared_attribute_pairs
from tests.graph.conftest import attr_graph


def phone_triangle() -> nx.Graph:
    """E1's mobile is S1's legal representative's phone: one link of strength 1."""
    return attr_graph([("employee:E1", "phone:13812345678", "phone"), ("supplier:S1", "phone:13812345678", "legal_rep_phone")])


def switchboard_star(n: int = 4) -> nx.Graph:
    """``n`` suppliers and one employee hold one landline (a business park's switchboard)."""
    G = attr_graph([(f"supplier:S{i}", "phone:045185001234", "company_phone") for i in range(n)])
    G.add_node("employee:E1", kind="employee", label="E1")
    G.add_edge("employee:E1", "phone:045185001234", kind="attribute", role="phone")
    G.nodes["phone:045185001234"]["subkind"] = "landline"
    return G


def spouse_path() -> nx.Graph:
    """E1 and E2 share a home; E2's mobile is S1's legal representative's: E1 → S1 in two hops."""
    return attr_graph([("employee:E1", "address:南岗区学府路1号301室", "home_address"), ("employee:E2", "address:南岗区学府路1号301室", "home_address"),
                       ("employee:E2", "phone:13900001111", "phone"), ("supplier:S1", "phone:13900001111", "legal_rep_phone")])


def test_phone_triangle():
    p = attribute_paths(phone_triangle())
    assert p[["source", "target", "hops"]].values.tolist() == [["employee:E1", "supplier:S1", 1]]
    assert p.strength[0] == pytest.approx(1.0)
    assert "法定代表人电话" in p.explanation_zh[0] and "legal representative's phone" in p.explanation_en[0]


def test_switchboard_weight_is_inverse_frequency_of_a_landline():
    pairs = shared_attribute_pairs(switchboard_star(4))
    assert set(pairs.share) == {5} and pairs.weight.iloc[0] == pytest.approx(0.3 / 4)
    links = conflict_links(switchboard_star(4))
    assert (links.strength < 0.1).all() and len(links) == 4


def test_attributes_held_by_many_link_nobody():
    assert attribute_paths(switchboard_star(30), max_hops=1).empty
    assert len(attribute_paths(switchboard_star(30), max_hops=1, max_share=40)) == 30


def test_spouse_path_two_hops_and_no_employee_pairs():
    p = attribute_paths(spouse_path())
    got = {(s, t): (h, round(x, 3)) for s, t, h, x in zip(p.source, p.target, p.hops, p.strength)}
    assert got == {("employee:E2", "supplier:S1"): (1, 1.0), ("employee:E1", "supplier:S1"): (2, round(0.6 * 1.0 * 0.5, 3))}
    assert attribute_paths(spouse_path(), max_hops=1).target.tolist() == ["supplier:S1"]
    zh = p.set_index("source").explanation_zh["employee:E1"]
    assert zh.index("员工 E1") < zh.index("员工 E2") < zh.index("供应商 S1")


def test_several_shared_attributes_combine_as_independent_evidence():
    G = attr_graph([("employee:E1", "address:道里区中央大街9号101室", "home_address"), ("supplier:S1", "address:道里区中央大街9号101室", "registered_address"),
                    ("employee:E1", "phone:045185009999", "phone"), ("supplier:S1", "phone:045185009999", "company_phone")])
    G.nodes["phone:045185009999"]["subkind"] = "landline"
    links = attribute_links(G)
    row = links[(links.u == "employee:E1") & (links.v == "supplier:S1")].iloc[0]
    assert row.n_shared == 2 and row.strength == pytest.approx(1 - (1 - 0.6) * (1 - 0.3))


def test_dealing_ranks_above_a_plain_link():
    G = attr_graph([("employee:E1", "phone:13812345678", "phone"), ("supplier:S1", "phone:13812345678", "legal_rep_phone"),
                    ("employee:E2", "bank_account:6222000011112222", "salary_account"),
                    ("supplier:S2", "bank_account:6222000011112222", "company_account")])
    G.add_edge("employee:E2", "supplier:S2", kind="deals", roles=["approver"], count=3, evidence=["PO1", "PO2", "PO3"])
    G.add_edge("employee:E1", "supplier:S1", kind="deals", roles=["receiver"], count=1)
    links = conflict_links(G)
    assert links.employee_id.tolist() == ["E2", "E1"]
    assert links.deals.tolist() == [True, False] and links.score.tolist() == [2.0, 1.0]
    assert links.evidence[0] == ["PO1", "PO2", "PO3"]


def test_employee_pairs_are_never_conflicts():
    G = attr_graph([("employee:E1", "address:南岗区学府路1号301室", "home_address"), ("employee:E2", "address:南岗区学府路1号301室", "home_address")])
    assert conflict_links(G).empty


def test_conflict_links_from_tables(tiny):
    links = conflict_links(tiny)
    top = links.iloc[0]
    assert (top.employee_id, top.counterparty_id, top.deals) in {("E1", "S1", True), ("E4", "G1", True)}
    got = {(e, c): d for e, c, d in zip(links.employee_id, links.counterparty_id, links.deals)}
    assert got[("E1", "S1")] and got[("E4", "G1")] and not got[("E3", "S2")]
    assert ("E2", "S2") in got and links.set_index(["employee_id", "counterparty_id"]).hops[("E2", "S2")] == 2
    assert not any(c.startswith("E") for c in links.counterparty_id)


def test_related_bidders(tiny):
    rb = related_bidders(tiny)
    assert rb[["tender_id", "supplier_a", "supplier_b"]].values.tolist()[0] == ["T1", "S1", "S2"]
    assert rb.strength.max() < 0.5, "S1 and S2 only share the park's switchboard (and, two hops away, E3's phone)"
