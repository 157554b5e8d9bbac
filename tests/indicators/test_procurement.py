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

# -- PRC-003 … PRC-012 --------------------------------------------------------------------------------------------------
def _approved(req: str, approver: str, level: int = 1, decision: str = "approved") -> dict:
    return {"approval_id": f"AP-{req}-{level}", "requisition_id": req, "approver_id": approver, "level": level,
            "decision": decision}


def _concentration_tables() -> dict:
    """Approvers A2–A4 and A5 buy category C1 mostly from S1, the market leader; A1 sends most of his to S9."""
    orders, approvals = [], []

    def add(approver: str, supplier: str, n: int) -> None:
        for _ in range(n):
            i = len(orders)
            orders.append({"po_id": f"P{i:03d}", "requisition_id": f"R{i:03d}", "supplier_id": supplier, "category_id": "C1",
                           "order_date": f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}"})
            approvals.append(_approved(f"R{i:03d}", approver))

    for a in ("A2", "A3", "A4"):
        add(a, "S1", 24)
        add(a, "S2", 6)
    add("A1", "S9", 6)  # a supplier nobody else uses
    add("A1", "S1", 4)
    add("A5", "S1", 34)  # a large department buying from the market leader
    add("A5", "S2", 6)
    return {"purchase_orders": orders, "approvals": approvals}


def _switching_orders() -> list[dict]:
    rows = []

    def add(buyer: str, suppliers: list[str]) -> None:
        for s in suppliers:
            i = len(rows)
            rows.append({"po_id": f"P{i:03d}", "buyer_id": buyer, "supplier_id": s, "category_id": "C1",
                         "order_date": f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}"})

    add("E1", ["S1", "S2"] * 5)  # alternates every time
    add("E2", ["S1"] * 9 + ["S3"])  # changed once, after a failed delivery
    add("E3", ["S1"] * 20)
    return rows


def _hhi_orders() -> list[dict]:
    rows = []

    def add(buyer: str, suppliers: list[str], amount: float = 10_000) -> None:
        for s in suppliers:
            rows.append({"po_id": f"P{len(rows):03d}", "buyer_id": buyer, "supplier_id": s, "amount": amount,
                         "order_date": "2024-05-01"})

    for b in ("B1", "B2", "B3", "B4", "B5", "B6"):
        add(b, [f"S{k}" for k in range(12)])  # spread over 12 suppliers: HHI 0.083
    add("X1", ["S9"] * 9 + ["S1", "S2", "S3"])  # 75 % with one supplier: HHI 0.58
    add("L1", ["S1", "S2", "S3", "S4", "S5"] * 2 + ["S1", "S2"])  # a station manager's five local suppliers: HHI 0.21
    add("T1", ["S9"] * 3)  # a tiny buyer: too few orders to score
    return rows


def _market_orders() -> list[dict]:
    rows = [{"po_id": f"N{k:02d}", "category_id": "C1", "quantity": 10, "unit_price": 3200 * (0.96 + 0.004 * k),
             "order_date": D.format(1 + k)} for k in range(25)]
    rows.append({"po_id": "HI", "category_id": "C1", "quantity": 10, "unit_price": 4384, "order_date": D.format(10)})
    rows.append({"po_id": "OK", "category_id": "C1", "quantity": 10, "unit_price": 3500, "order_date": D.format(11)})
    return rows


def _benford_orders() -> list[dict]:
    rows = [{"po_id": f"F{k:02d}", "buyer_id": "E1", "amount": 8_000 + 30 * k, "order_date": "2024-06-01"} for k in range(60)]
    # amounts spread evenly on a log scale follow Benford's law by construction
    rows += [{"po_id": f"G{k:02d}", "buyer_id": "E2", "amount": round(10 ** (3 + 2 * (k + 0.5) / 60), 2),
              "order_date": "2024-06-01"} for k in range(60)]
    rows += [{"po_id": f"H{k:02d}", "buyer_id": "E3", "amount": 9_000 + k, "order_date": "2024-06-01"} for k in range(20)]
    return rows


CASES += [
    Case("PRC-003", "self-approval; a head's own request approved by a leader; a head approving a subordinate", {
        "requisitions": [{"requisition_id": "R1", "requester_id": "E1"}, {"requisition_id": "R2", "requester_id": "E2"},
                         {"requisition_id": "R3", "requester_id": "E3"}, {"requisition_id": "R4", "requester_id": "E4"}],
        "approvals": [_approved("R1", "E1"), _approved("R2", "E9"), _approved("R3", "E2"),
                      _approved("R4", "E4", level=1, decision="rejected"), _approved("R4", "E9", level=2)],
        "purchase_orders": [{"po_id": "PO1", "requisition_id": "R1", "buyer_id": "E1"},
                            {"po_id": "PO2", "requisition_id": "R2", "buyer_id": "E2"},
                            {"po_id": "PO3", "requisition_id": "R3", "buyer_id": "E3"},
                            {"po_id": "PO4", "requisition_id": "R4", "buyer_id": "E4"}]},
        fired={"PO1"}, silent={"PO2", "PO3", "PO4"}),
    Case("PRC-004", "an approver's orders go to a supplier nobody else uses; a big department buys from the market leader",
         _concentration_tables(), fired={"A1"}, silent={"A2", "A5"}),
    Case("PRC-005", "a buyer alternates suppliers at every order; another changed once after a failed delivery",
         {"purchase_orders": _switching_orders()}, fired={"E1"}, silent={"E2", "E3"}),
    Case("PRC-006", "direct orders weeks after (or before) registration; a new company winning an open tender; an old one", {
        "suppliers": [{"supplier_id": "S1", "registration_date": "2024-01-01"},
                      {"supplier_id": "S2", "registration_date": "2024-01-01"},
                      {"supplier_id": "S3", "registration_date": "2015-06-01"},
                      {"supplier_id": "S7", "registration_date": "2024-06-01"}],
        "purchase_orders": [{"po_id": "P1", "supplier_id": "S1", "order_date": "2024-02-15"},
                            {"po_id": "P2", "supplier_id": "S2", "order_date": "2024-03-10", "tender_id": "T1"},
                            {"po_id": "P3", "supplier_id": "S3", "order_date": "2024-02-01"},
                            {"po_id": "P7", "supplier_id": "S7", "order_date": "2024-01-10"}],
        "tenders": [{"tender_id": "T1", "winner_supplier_id": "S2", "close_date": "2024-03-01"}],
        "bids": [{"bid_id": f"B{k}", "tender_id": "T1", "supplier_id": s} for k, s in enumerate(["S2", "S4", "S5", "S6"])]},
        fired={"S1", "S7"}, silent={"S2", "S3"}),
    Case("PRC-007", "a buyer with 75 % of spend at one supplier; a station manager's five local suppliers; a tiny buyer",
         {"purchase_orders": _hhi_orders()}, fired={"X1"}, silent={"L1", "T1", "B1"}),
    Case("PRC-008", "fertiliser 37 % above the month's reference; another 9 % above, within the category's spread", {
        "market_prices": [{"category_id": "C1", "month": "2024-03-01", "reference_unit_price": 3200}],
        "categories": [{"category_id": "C1", "name_zh": "复合肥"}],
        "purchase_orders": _market_orders()},
        fired={"HI"}, silent={"OK", "N00", "N24"}),
    Case("PRC-009", "invoice 12 days before the order; a shop sale invoiced on the order day; an ordinary late invoice", {
        "purchase_orders": [{"po_id": f"PO{k}", "order_date": D.format(20)} for k in (1, 2, 3)],
        "invoices": [{"invoice_id": "I1", "po_id": "PO1", "invoice_date": D.format(8)},
                     {"invoice_id": "I2", "po_id": "PO2", "invoice_date": D.format(20)},
                     {"invoice_id": "I3", "po_id": "PO3", "invoice_date": D.format(28)}]},
        fired={"PO1"}, silent={"PO2", "PO3"}),
    Case("PRC-010", "paid with nothing received; paid before receipt; paid after receipt; an exempt service", {
        "purchase_orders": [{"po_id": "PO1", "category_id": "C01"}, {"po_id": "PO2", "category_id": "C01"},
                            {"po_id": "PO3", "category_id": "C01"}, {"po_id": "PO4", "category_id": "C16"},
                            {"po_id": "PO5", "category_id": "C01"}],
        "payments": [{"payment_id": "PAY1", "po_id": "PO1", "payment_date": "2024-04-01", "amount": 40_000},
                     {"payment_id": "PAY2", "po_id": "PO2", "payment_date": "2024-04-10", "amount": 40_000},
                     {"payment_id": "PAY3", "po_id": "PO3", "payment_date": "2024-04-15", "amount": 40_000},
                     {"payment_id": "PAY4", "po_id": "PO4", "payment_date": "2024-04-15", "amount": 8_000},
                     {"payment_id": "PAY5", "po_id": "PO5", "payment_date": "2024-06-30", "amount": 40_000}],
        "goods_receipts": [{"receipt_id": "GR2", "po_id": "PO2", "receipt_date": "2024-04-20"},
                           {"receipt_id": "GR3", "po_id": "PO3", "receipt_date": "2024-04-01"},
                           {"receipt_id": "GR5", "po_id": "PO5", "receipt_date": "2024-06-30"}]},
        fired={"PO1", "PO2"}, silent={"PO3", "PO4", "PO5"}, params={"exempt_categories": ["C16"]}),
    Case("PRC-011", "30,000 for 7 units at 4,285.71; 20 lots of office supplies at 1,500; a round lump sum; a tender award", {
        "purchase_orders": [
            {"po_id": "RND", "amount": 30_000, "quantity": 7, "unit_price": 4285.71},
            {"po_id": "OFF", "amount": 30_000, "quantity": 20, "unit_price": 1500},
            {"po_id": "LMP", "amount": 50_000, "quantity": 1, "unit_price": 50_000},
            {"po_id": "TND", "amount": 300_000, "quantity": 11, "unit_price": 27272.73, "tender_id": "T1"},
            {"po_id": "ODD", "amount": 31_874.56, "quantity": 8, "unit_price": 3984.32}]},
        fired={"RND"}, silent={"OFF", "LMP", "TND", "ODD"}),
    Case("PRC-012", "60 amounts all starting with 8; 60 amounts spread as Benford's law; 20 amounts (too few to test)",
         {"purchase_orders": _benford_orders()}, fired={"E1"}, silent={"E2", "E3"}),
]



@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.indicator_id}:{c.name[:30]}")
def test_golden(case):
    check_case(case)


def test_price_above_market_names_the_category_in_each_language():
    """PRC-008's English reason names the category in English (the categories table's ``name_en``), the Chinese one in
    Chinese; a category the table lacks is named by its id in both."""
    import re

    from tests.indicators.golden import run_case

    orders = _market_orders() + [{"po_id": "C2HI", "category_id": "C2", "quantity": 10, "unit_price": 500,
                                  "order_date": D.format(12)}]
    flags = run_case(Case("PRC-008", "names", {
        "market_prices": [{"category_id": "C1", "month": "2024-03-01", "reference_unit_price": 3200},
                          {"category_id": "C2", "month": "2024-03-01", "reference_unit_price": 300}],
        "categories": [{"category_id": "C1", "name_zh": "复合肥", "name_en": "Compound fertiliser"}],
        "purchase_orders": orders}, fired=set(), silent=set())).set_index("entity_id")
    assert flags.loc["HI", "text_en"] == "unit price 37% above the market reference (category: Compound fertiliser)"
    assert flags.loc["HI", "text_zh"] == "单价高于同类市场均价37%（类别：复合肥）"
    assert not flags.text_en.str.contains(re.compile(r"[\u4e00-\u9fff]")).any()
    assert flags.loc["C2HI", "text_en"].endswith("(category: C2)") and flags.loc["C2HI", "text_zh"].endswith("（类别：C2）")
