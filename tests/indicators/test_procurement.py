"""Golden fixtures for the procurement family (PRC-…)."""

from __future__ import annotations

import pytest

from tests.indicators.golden import Case, check_case

D = "2024-03-{:02d}"

CASES = [
    Case("PRC-001", "second order takes the line over budget; another line stays within", {
        "budget_lines": [{"budget_line_id": "BL1", "amount": 100_000}, {"budget_line_id": "BL2", "amount": 100_000}],
        "requisitions": [{"requisition_id": "R1", "budget_line_id": "BL1"}, {"requisition_id": "R2", "budget_line_id": "BL1"},
                         {"requisition_id": "R3", "budget_line_id": "BL2"}, {"requisition_id": "R4", "budget_line_id": "BL2"}],
        "purchase_orders": [
            {"po_id": "PO1", "requisition_id": "R1", "amount": 60_000, "order_date": D.format(1)},
            {"po_id": "PO2", "requisition_id": "R2", "amount": 50_000, "order_date": D.format(5)},
            {"po_id": "PO3", "requisition_id": "R3", "amount": 60_000, "order_date": D.format(1)},
            {"po_id": "PO4", "requisition_id": "R4", "amount": 39_000, "order_date": D.format(5)}]},
        fired={"PO2"}, silent={"PO1", "PO3", "PO4"}),
    Case("PRC-002", "three orders under the limit to one supplier in 12 days; one urgent order near the limit alone", {
        "purchase_orders": [
            {"po_id": "A1", "buyer_id": "E1", "supplier_id": "S1", "amount": 180_000, "order_date": D.format(1)},
            {"po_id": "A2", "buyer_id": "E1", "supplier_id": "S1", "amount": 175_000, "order_date": D.format(6)},
            {"po_id": "A3", "buyer_id": "E1", "supplier_id": "S1", "amount": 190_000, "order_date": D.format(12)},
            {"po_id": "U1", "buyer_id": "E2", "supplier_id": "S2", "amount": 195_000, "order_date": D.format(3)},
            {"po_id": "U2", "buyer_id": "E2", "supplier_id": "S2", "amount": 20_000, "order_date": "2024-07-03"}]},
        fired={"A2", "A3"}, silent={"U1", "U2"}),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.indicator_id}:{c.name[:30]}")
def test_golden(case):
    check_case(case)
