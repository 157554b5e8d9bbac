"""Small hand-made companies and named reference graphs for the graph tests."""

from __future__ import annotations

import networkx as nx
import pytest

from riskmodel.data.dataset import Dataset
from tests.indicators.golden import frame


def tiny_tables() -> dict[str, list[dict]]:
    """Employee 张三 (E1) requests and approves orders from 甲公司 (S1), whose legal representative's phone is his;
    spouses E2, E3 share a home; four suppliers share a business park's switchboard; grader E4 grades grower G1,
    who holds E4's bank account; E3's phone is supplier S2's legal representative's; E5 shares nothing."""
    return {
        "employees": [
            {"employee_id": "E1", "name": "张三", "phone": "138-1234-5678"},
            {"employee_id": "E2", "name": "李四", "address": "黑龙江省哈尔滨市南岗区学府路1号2单元301室"},
            {"employee_id": "E3", "name": "王芳", "address": "南岗区学府路1号 2单元301室", "phone": "13900009999"},
            {"employee_id": "E4", "name": "赵六", "bank_account": "6222 0212 3456 7890 123"},
            {"employee_id": "E5", "name": "钱七", "phone": "13600001111"}],
        "suppliers": [
            {"supplier_id": "S1", "name": "甲公司", "legal_rep_phone": "+86 13812345678", "phone": "0451-85001234"},
            {"supplier_id": "S2", "name": "乙公司", "legal_rep_phone": "139 0000 9999", "phone": "0451 8500 1234"},
            {"supplier_id": "S3", "name": "丙公司", "phone": "(0451)85001234"},
            {"supplier_id": "S4", "name": "丁公司", "phone": "+86 451 8500 1234"}],
        "growers": [{"grower_id": "G1", "name": "赵大", "bank_account": "6222021234567890123"},
                    {"grower_id": "G2", "name": "孙二"}],
        "requisitions": [{"requisition_id": "R1", "requester_id": "E1"}],
        "approvals": [{"approval_id": "A1", "requisition_id": "R1", "approver_id": "E1"}],
        "purchase_orders": [{"po_id": "PO1", "requisition_id": "R1", "supplier_id": "S1", "buyer_id": "E1", "amount": 50_000,
                             "order_date": "2024-03-01"}],
        "tenders": [{"tender_id": "T1", "category_id": "C1", "close_date": "2024-04-01", "winner_supplier_id": "S1"}],
        "bids": [{"bid_id": "b1", "tender_id": "T1", "supplier_id": "S1", "is_winner": True, "bid_amount": 100.0},
                 {"bid_id": "b2", "tender_id": "T1", "supplier_id": "S2", "is_winner": False, "bid_amount": 101.0}],
        "leaf_purchases": [{"purchase_id": "LP1", "grader_id": "E4", "grower_id": "G1", "purchased_at": "2024-10-01 09:00"},
                           {"purchase_id": "LP2", "grader_id": "E4", "grower_id": "G2", "purchased_at": "2024-10-01 10:00"}],
    }


@pytest.fixture
def tiny():
    return Dataset.from_frames({name: frame(name, rows) for name, rows in tiny_tables().items()})


def attr_graph(edges: list[tuple[str, str, str]]) -> nx.Graph:
    """A relationship graph from ``(entity node, attribute node, role)`` triples; kinds from the node names."""
    G = nx.Graph()
    for ent, attr, role in edges:
        G.add_node(ent, kind=ent.split(":")[0], label=ent.split(":")[1])
        G.add_node(attr, kind=attr.split(":")[0], label=attr.split(":")[1])
        G.add_edge(ent, attr, kind="attribute", role=role)
    return G
