"""Graph features per entity and period, and the ego-network figure."""

from __future__ import annotations

import warnings

import matplotlib
import pandas as pd
import pytest

from riskmodel.graph import build_graph, ego_figure, graph_features
from riskmodel.graph.features import FEATURE_COLUMNS
from riskmodel.graph.figure import ego_subgraph
from riskmodel.plotting import use_cjk_font


def test_features_one_row_per_entity_and_period(tiny):
    f = graph_features(tiny)
    assert list(f.columns[:3]) == ["entity_type", "entity_id", "period"]
    assert not f.duplicated(["entity_type", "entity_id", "period"]).any()
    assert set(f.entity_type) <= set(FEATURE_COLUMNS)
    row = f.set_index(["entity_type", "entity_id"]).loc[("employee", "E1")]
    assert row.link_strength_max == pytest.approx(1.0) and row.conflict_score_max == pytest.approx(2.0)
    assert row.n_suppliers == 1 and row.top_supplier_share == pytest.approx(1.0)
    grower = f.set_index(["entity_type", "entity_id"]).loc[("grower", "G1")]
    assert grower.n_graders == 1 and grower.link_strength_max == pytest.approx(1.0)
    assert f.set_index(["entity_type", "entity_id"]).loc[("supplier", "S2")].related_bidder_strength > 0


def test_ego_figure_draws_chinese_labels(tiny):
    assert use_cjk_font() is not None, "install a CJK font (fonts-noto-cjk): Chinese labels would show as boxes"
    G = build_graph(tiny)
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*[Gg]lyph.*missing.*")
        fig = ego_figure(G, "employee:E1")
        fig.canvas.draw()
    texts = {t.get_text() for t in fig.axes[0].texts}
    assert {"张三", "甲公司", "138****5678"} <= texts
    assert "张三" in fig.axes[0].get_title()
    matplotlib.pyplot.close(fig)


def test_ego_subgraph_keeps_the_relationship_part_first(tiny):
    G = build_graph(tiny)
    for i in range(100):  # bury E4's shared account under many growers he graded
        G.add_edge("employee:E4", f"grower:X{i}", kind="grades")
        G.nodes[f"grower:X{i}"].update(kind="grower", label=f"X{i}")
    H = ego_subgraph(G, "employee:E4", radius=2, max_nodes=10)
    assert len(H) == 10 and {"bank_account:6222021234567890123", "grower:G1"} <= set(H)
    with pytest.raises(KeyError, match="employee:E404"):
        ego_subgraph(G, "employee:E404")


def test_link_features_are_as_of_each_quarter():
    """S1 is registered in May and E1 first orders from it in August: no link in Q1, strength alone in Q2, the
    dealing's score from Q3 on."""
    from riskmodel.data.dataset import Dataset
    from tests.graph.conftest import frame, tiny_tables

    t = tiny_tables()
    t["suppliers"][0]["registration_date"] = "2024-05-01"
    t["purchase_orders"][0]["order_date"] = "2024-08-01"
    t["purchase_orders"].append({"po_id": "PO0", "supplier_id": "S4", "buyer_id": "E5", "amount": 1_000, "order_date": "2024-01-15"})
    data = Dataset.from_frames({name: frame(name, rows) for name, rows in t.items()})
    f = graph_features(data, freq="quarter", entity_types=("employee",)).set_index(["entity_id", "period"])
    e1 = f.loc["E1"].sort_index()
    assert e1.n_links.tolist() == [0, 1, 1, 1]
    assert e1.conflict_score_max.tolist() == pytest.approx([0.0, 1.0, 2.0, 2.0])


def test_deciding_on_a_linked_supplier_counts_from_the_first_deciding_dealing():
    """E1 receives S1's goods in January (a receiver does not choose the supplier) and requests, approves and
    buys from S1 in August: the dealing bonus, REL-002 and the end of REL-001 date from August, not January."""
    from riskmodel.data.dataset import Dataset
    from riskmodel.graph.indicators import DealingWithLinkedParty, SharedAttributeLink
    from riskmodel.graph.links import conflict_links
    from tests.graph.conftest import frame, tiny_tables

    t = tiny_tables()
    t["purchase_orders"][0]["order_date"] = "2024-08-01"
    t["purchase_orders"].append({"po_id": "PO0", "supplier_id": "S1", "buyer_id": "E5", "amount": 1_000, "order_date": "2024-01-15"})
    t["goods_receipts"] = [{"receipt_id": "GR0", "po_id": "PO0", "receiver_id": "E1", "receipt_date": "2024-01-20"}]
    data = Dataset.from_frames({name: frame(name, rows) for name, rows in t.items()})
    link = conflict_links(data).set_index(["employee_id", "counterparty_id"]).loc[("E1", "S1")]
    assert link["first"] == pd.Timestamp("2024-01-15") and link.first_decided == pd.Timestamp("2024-08-01")
    f = graph_features(data, freq="quarter", entity_types=("employee",)).set_index(["entity_id", "period"])
    assert f.loc["E1"].sort_index().conflict_score_max.tolist() == pytest.approx([1.0, 1.0, 2.0, 2.0])
    rel2 = DealingWithLinkedParty().run(data).query("entity_id == 'E1' and supplier_id == 'S1'")
    assert rel2.period.tolist() == [pd.Timestamp("2024-08-01")]
    rel1 = SharedAttributeLink().run(data).query("entity_id == 'E1' and supplier_id == 'S1'")
    assert len(rel1) == 1 and rel1.period.iloc[0] < pd.Timestamp("2024-04-01") and rel1.fired.all()
    assert list(rel1.evidence.iloc[0]) == [], "the pair's documents are REL-002's, all dated after this row"


def test_a_dealing_without_a_date_is_no_crash():
    """An order without its date (the run does not enforce the contract) leaves that role undated, not the run broken."""
    from riskmodel.data.dataset import Dataset
    from riskmodel.graph.links import conflict_links
    from tests.graph.conftest import frame, tiny_tables

    t = tiny_tables()
    t["purchase_orders"][0]["order_date"] = None
    data = Dataset.from_frames({name: frame(name, rows) for name, rows in t.items()})
    link = conflict_links(data).set_index(["employee_id", "counterparty_id"]).loc[("E1", "S1")]
    assert link.deals and pd.isna(link.first_decided)


def test_linked_dealings_count_the_quarters_related_party_business():
    """E1 (linked to S1 by his phone) requests, approves and buys one S1 order in Q1 and two in Q3: the feature
    counts them in their quarters and is zero between; receiving goods (E1's receipts of PO4 in Q3 and PO0 in Q4)
    is no decision."""
    from riskmodel.data.dataset import Dataset
    from tests.graph.conftest import frame, tiny_tables

    t = tiny_tables()
    t["requisitions"] += [{"requisition_id": "R2", "requester_id": "E1"}, {"requisition_id": "R3", "requester_id": "E1"}]
    t["purchase_orders"] += [
        {"po_id": "PO2", "requisition_id": "R2", "supplier_id": "S1", "buyer_id": "E1", "amount": 10.0, "order_date": "2024-08-01"},
        {"po_id": "PO3", "requisition_id": "R3", "supplier_id": "S1", "buyer_id": "E1", "amount": 10.0, "order_date": "2024-09-01"},
        {"po_id": "PO0", "supplier_id": "S1", "buyer_id": "E5", "amount": 1.0, "order_date": "2024-11-15"},
        {"po_id": "PO4", "supplier_id": "S1", "buyer_id": "E5", "amount": 1.0, "order_date": "2024-08-15"}]
    t["goods_receipts"] = [{"receipt_id": "GR0", "po_id": "PO0", "receiver_id": "E1", "receipt_date": "2024-11-20"},
                           {"receipt_id": "GR4", "po_id": "PO4", "receiver_id": "E1", "receipt_date": "2024-08-20"}]
    data = Dataset.from_frames({name: frame(name, rows) for name, rows in t.items()})
    f = graph_features(data, freq="quarter", entity_types=("employee",)).set_index(["entity_id", "period"])
    assert f.loc["E1"].sort_index().linked_dealings.tolist() == [1, 0, 2, 0]
    # the grader E4 grades G1, whose bank account is his, in Q4; nobody else deals with a linked party
    assert f.loc["E4"].sort_index().linked_dealings.tolist() == [0, 0, 0, 1]
    assert f.linked_dealings.drop(["E1", "E4"], level=0).eq(0).all()


def test_scoring_graph_features_follow_rel_002s_settings():
    """The graph features the scoring uses are built on REL-002's configured links: a phone weighted 0.1 no longer
    makes E1's link to S1 strong enough for his dealings to count, and a threshold above every link silences them
    all; with the defaults, E1 and the grader E4 count theirs."""
    from riskmodel.data.dataset import Dataset
    from riskmodel.scoring.pipeline import graph_features_for
    from riskmodel.settings import load_settings
    from tests.graph.conftest import frame, tiny_tables

    data = Dataset.from_frames({name: frame(name, rows) for name, rows in tiny_tables().items()})

    def dealings(rel2=None):
        s = load_settings(overrides={"indicators": {"REL-002": rel2}} if rel2 else None)
        return graph_features_for(data, s).groupby("entity_id").graph_linked_dealings.sum()

    default = dealings()
    assert default["E1"] > 0 and default["E4"] > 0
    weak_phone = dealings({"weight_mobile": 0.1})
    assert weak_phone["E1"] == 0 and weak_phone["E4"] == default["E4"]
    assert dealings({"threshold": 1.01}).eq(0).all()
