"""Golden fixtures for the relationship family (REL-…)."""

from __future__ import annotations

import pytest

import pandas as pd

from riskmodel.data.dataset import Dataset
from tests.indicators.golden import Case, check_case, frame

OFFICERS = {"O1": 3, "O2": 3, "O3": 4, "O4": 3, "O5": 3, "O6": 8, "O7": 3, "O8": 2, "O9": 3}  # O6: busy, not a broker
PARK = ["0451-85001234", "0451 8500 1234", "(0451)85001234", "+86 451 8500 1234"]  # one switchboard, four spellings


def _bidding_tables() -> dict:
    """Category C1: ring A, B, C bids together in 6 of 20 tenders and takes turns to win; others bid at random.
    Category C2, a thin market: the same 4 suppliers bid in all 5 tenders.  Category C3: X, Y, Z meet in 6 of 20
    tenders and X always wins (a dominant supplier, not a rotation)."""
    tenders, bids = [], []

    def tender(tid, cat, bidders, winner, day):
        tenders.append({"tender_id": tid, "category_id": cat, "winner_supplier_id": winner, "close_date": f"2024-{1 + day // 28:02d}-{1 + day % 28:02d}"})
        for k, s in enumerate(bidders):
            amount = 100_000 * (1 + 0.01 * k) if s == winner else 100_000 * (1.012 + 0.01 * k)
            bids.append({"bid_id": f"B{tid}{s}", "tender_id": tid, "supplier_id": s, "bid_amount": amount, "is_winner": s == winner})

    others = [f"D{i}" for i in range(10)]
    for t in range(20):
        if t < 6:
            tender(f"T1{t:02d}", "C1", ["A", "B", "C"], "ABC"[t % 3], t)
        else:  # pairs of other suppliers, never the same pair twice
            tender(f"T1{t:02d}", "C1", [others[t % 10], others[(t + 1 + t // 10) % 10]], others[t % 10], t)
    for t in range(5):
        tender(f"T2{t:02d}", "C2", ["P", "Q", "R", "S"], "PQRS"[t % 4], t)
    for t in range(20):
        if t < 6:
            tender(f"T3{t:02d}", "C3", ["X", "Y", "Z"], "X", t)
        else:
            tender(f"T3{t:02d}", "C3", [f"F{t}", f"G{t}"], f"F{t}", t)
    return {"tenders": tenders, "bids": bids}


CASES = [
    Case("REL-001", "employee's mobile is a supplier's legal representative's phone; spouses share a home; an office landline "
         "that is a business park's switchboard", {
             "employees": [
                 {"employee_id": "E1", "name": "张三", "phone": "138-1234-5678"},
                 {"employee_id": "E2", "name": "李四", "address": "黑龙江省哈尔滨市南岗区学府路1号2单元301室"},
                 {"employee_id": "E3", "name": "王芳", "address": "哈尔滨 南岗区学府路1号 2单元301室"},
                 {"employee_id": "E4", "name": "赵六", "phone": PARK[0]}],
             "suppliers": [
                 {"supplier_id": "S1", "name": "甲公司", "legal_rep_phone": "+86 13812345678"},
                 *[{"supplier_id": f"S{k}", "name": f"园区{k}公司", "phone": PARK[k - 2]} for k in range(2, 6)]]},
         fired={"E1"}, silent={"E2", "E3", "E4"}),
    Case("REL-002", "approver buys from a company paid into his own account; a grader grades a grower with his phone; "
         "a receiver only; an approver who shares only a park switchboard", {
             "employees": [
                 {"employee_id": "E1", "name": "张三", "bank_account": "6222 0212 3456 7890 123"},
                 {"employee_id": "E5", "name": "钱七", "address": "道里区中央大街9号1单元101室"},
                 {"employee_id": "E6", "name": "孙八", "phone": PARK[1]},
                 {"employee_id": "E7", "name": "周九", "phone": "13900001111"},
                 {"employee_id": "E8", "name": "吴十", "phone": "13900002222"}],
             "suppliers": [
                 {"supplier_id": "S1", "name": "甲公司", "bank_account": "6222021234567890123"},
                 {"supplier_id": "S2", "name": "乙公司", "address": "黑龙江省哈尔滨市道里区中央大街9号1单元101室"},
                 *[{"supplier_id": f"S{k}", "name": f"园区{k}公司", "phone": PARK[k - 3]} for k in range(3, 7)]],
             "requisitions": [{"requisition_id": "R1", "requester_id": "E1"}, {"requisition_id": "R2", "requester_id": "E9"},
                              {"requisition_id": "R3", "requester_id": "E9"}],
             "approvals": [{"approval_id": "A1", "requisition_id": "R1", "approver_id": "E1"},
                           {"approval_id": "A3", "requisition_id": "R3", "approver_id": "E6"}],
             "purchase_orders": [{"po_id": "PO1", "requisition_id": "R1", "supplier_id": "S1", "buyer_id": "E1", "amount": 90_000, "order_date": "2024-03-01"},
                                 {"po_id": "PO2", "requisition_id": "R2", "supplier_id": "S2", "buyer_id": "E9", "amount": 9_000, "order_date": "2024-03-02"},
                                 {"po_id": "PO3", "requisition_id": "R3", "supplier_id": "S3", "buyer_id": "E9", "amount": 9_000, "order_date": "2024-03-03"}],
             "goods_receipts": [{"receipt_id": "GR2", "po_id": "PO2", "receiver_id": "E5"}],
             "growers": [{"grower_id": "G1", "name": "周大", "phone": "139 0000 1111"}, {"grower_id": "G2", "name": "郑二", "phone": "13700003333"}],
             "leaf_purchases": [{"purchase_id": "LP1", "grader_id": "E7", "grower_id": "G1", "purchased_at": "2024-10-01 09:00"},
                                {"purchase_id": "LP2", "grader_id": "E8", "grower_id": "G2", "purchased_at": "2024-10-01 10:00"}]},
         fired={"E1", "E7"}, silent={"E5", "E6", "E8"}),
    Case("REL-003", "three suppliers meet in 6 of 20 tenders; a thin market where four always meet", _bidding_tables(),
         fired={"A", "B", "C"}, silent={"P", "Q", "R", "S"} | {f"D{i}" for i in range(10)}),
    Case("REL-004", "a ring takes turns to win; a group where one supplier always wins", _bidding_tables(),
         fired={"A", "B", "C"}, silent={"X", "Y", "Z", "P", "Q", "R", "S"}),
    Case("REL-005", "two bidders share a legal representative's mobile; two bidders in one business park share its switchboard", {
        "suppliers": [
            {"supplier_id": "S1", "name": "甲公司", "legal_rep_phone": "13812345678"},
            {"supplier_id": "S2", "name": "乙公司", "phone": "+86 138 1234 5678"},
            *[{"supplier_id": f"S{k}", "name": f"园区{k}公司", "phone": PARK[k - 3]} for k in range(3, 7)]],
        "tenders": [{"tender_id": "T1", "close_date": "2024-03-01"}, {"tender_id": "T2", "close_date": "2024-03-02"}],
        "bids": [{"bid_id": "b1", "tender_id": "T1", "supplier_id": "S1"}, {"bid_id": "b2", "tender_id": "T1", "supplier_id": "S2"},
                 {"bid_id": "b3", "tender_id": "T2", "supplier_id": "S3"}, {"bid_id": "b4", "tender_id": "T2", "supplier_id": "S4"}]},
        fired={"T1"}, silent={"T2"}),
    Case("REL-006", "an officer buying from every other officer's suppliers; officers with their own suppliers, one of them busy", {
        "positions": [{"position_id": "P1", "post_code": "procurement_officer"}],
        "employees": [{"employee_id": e, "position_id": "P1"} for e in ["B", *OFFICERS]],
        "purchase_orders": [
            *[{"po_id": f"PO{o}{k}", "buyer_id": o, "supplier_id": f"S{o}{k}", "amount": 1000.0, "order_date": "2024-05-01"}
              for o, n in OFFICERS.items() for k in range(n)],
            *[{"po_id": f"POB{o}", "buyer_id": "B", "supplier_id": f"S{o}0", "amount": 1000.0, "order_date": "2024-06-01"}
              for o in OFFICERS]]},
        fired={"B"}, silent=set(OFFICERS)),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.indicator_id}:{c.name[:30]}")
def test_golden(case):
    check_case(case)


def test_rel001_counts_a_link_from_the_suppliers_registration():
    """Data from January 2023; supplier S1, registered in May 2024, carries E1's phone: the link is dated then."""
    from riskmodel.indicators.registry import configured

    tables = {"employees": [{"employee_id": "E1", "name": "张三", "phone": "138-1234-5678"}],
              "suppliers": [{"supplier_id": "S1", "name": "甲公司", "legal_rep_phone": "+86 13812345678", "registration_date": "2024-05-01"}],
              "claims": [{"claim_id": "C1", "employee_id": "E9", "expense_date": "2023-01-05", "amount": 10.0}]}
    data = Dataset.from_frames({name: frame(name, rows) for name, rows in tables.items()})
    f = configured(only=["REL-001"])[0].run(data)
    assert f.loc[f.fired, "period"].tolist() == [pd.Timestamp("2024-05-01")]


def test_ring_flags_are_dated_when_the_ring_could_be_seen():
    """The ring A, B, C meets once a month from January to June: at the end of March it has met three times (REL-003
    needs five; REL-004 three, each won by another member), at the end of June six.  The flags are dated at the
    last tender known when they could first fire (June; March), not at the ring's first tender in January."""
    from riskmodel.indicators.registry import configured

    tables = _bidding_tables()
    for t in tables["tenders"]:
        if t["tender_id"] in {f"T1{k:02d}" for k in range(6)}:
            t["close_date"] = f"2024-{int(t['tender_id'][-2:]) + 1:02d}-10"
    data = Dataset.from_frames({name: frame(name, rows) for name, rows in tables.items()})
    for ind in configured(only=["REL-003", "REL-004"]):
        f = ind.run(data).set_index("entity_id")
        assert f.loc[["A", "B", "C"], "fired"].all(), ind.id
        seen = {"REL-003": "2024-06-10", "REL-004": "2024-03-10"}[ind.id]
        assert f.loc[["A", "B", "C"], "period"].eq(pd.Timestamp(seen)).all(), (ind.id, f.period.to_dict())
