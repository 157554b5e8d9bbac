"""Each planted scheme is really visible in the tables it spans, and each look-alike really looks alike.

These tests read the ground truth on purpose: they check the generator, not a detector.
"""

from __future__ import annotations

import re
import unicodedata

import pandas as pd
import pytest

from riskmodel.data.synthetic import SCHEME_TYPES
from riskmodel.settings import load_settings

POLICY = load_settings().policy


def _norm(s: str) -> str:
    """Undo the variants the generator writes (full-width digits, +86, dashes, province prefix)."""
    s = unicodedata.normalize("NFKC", s)
    s = re.sub(r"[\s\-]", "", s).replace("+86", "").replace("黑龙江省", "")
    return s.replace("哈尔滨市", "哈尔滨")


def _entities(truth, scheme_type, entity_type):
    s = truth["schemes"]
    e = truth["scheme_entities"]
    ids = s.scheme_id[s.scheme_type == scheme_type]
    return e[e.scheme_id.isin(ids) & (e.entity_type == entity_type)]


def _lookalike(truth, kind, entity_type):
    la = truth["lookalikes"]
    e = truth["lookalike_entities"]
    return e[e.lookalike_id.isin(la.lookalike_id[la.lookalike_type == kind]) & (e.entity_type == entity_type)]


def test_every_scheme_type_is_planted(small_truth):
    assert set(small_truth["schemes"].scheme_type) == set(SCHEME_TYPES)
    assert len(SCHEME_TYPES) >= 8
    per_scheme = small_truth["scheme_entities"].groupby("scheme_id").entity_type.nunique()
    assert (per_scheme >= 2).all(), "every scheme spans at least two kinds of entity"


def test_kickback_supplier_is_tied_to_employee_and_overpriced(small_tables, small_truth):
    t = small_tables
    emp = t["employees"].set_index("employee_id")
    sup = t["suppliers"].set_index("supplier_id")
    for sid, g in _entities(small_truth, "kickback_related_supplier", "employee").groupby("scheme_id"):
        e = g.entity_id.iloc[0]
        s = _entities(small_truth, "kickback_related_supplier", "supplier").query("scheme_id == @sid").entity_id.iloc[0]
        linked = (_norm(sup.legal_rep_phone[s]) == _norm(emp.phone[e])) or (_norm(sup.address[s]) == _norm(emp.address[e]))
        assert linked, f"{s} shares no normalised phone/address with {e}"
        assert sup.legal_rep_phone[s] != emp.phone[e] or sup.address[s] != emp.address[e], "written differently"
        po = t["purchase_orders"]
        po = po[(po.supplier_id == s) & (po.buyer_id == e)].copy()
        assert len(po) >= 5
        po["month"] = po.order_date.dt.to_period("M").dt.to_timestamp()
        ref = po.merge(t["market_prices"], on=["category_id", "month"])
        assert (ref.unit_price / ref.reference_unit_price).median() > 1.15
        first_award = po.order_date.min()
        assert (first_award - sup.registration_date[s]).days < 240


def test_split_purchases_sum_past_the_tender_limit(small_tables, small_truth):
    po = small_tables["purchase_orders"]
    ids = _entities(small_truth, "split_purchase", "purchase_order")
    for sid, g in ids.groupby("scheme_id"):
        p = po[po.po_id.isin(g.entity_id)]
        assert len(p) >= 3
        assert (p.amount < POLICY.tender_limit).all()
        assert p.amount.sum() > POLICY.tender_limit
        assert p.tender_id.isna().all()
        assert p.buyer_id.nunique() == 1 and p.supplier_id.nunique() == 1
        assert (p.order_date.max() - p.order_date.min()).days <= 40


def _cv(bids):
    g = bids.groupby("tender_id").bid_amount
    return (g.std(ddof=0) / g.mean())[g.size() >= 3]


def test_bid_rings_bid_tight_and_take_turns(small_tables, small_truth):
    bids = small_tables["bids"]
    ring_tenders = _entities(small_truth, "bid_rigging_ring", "tender")
    cv = _cv(bids)
    ring_cv = cv.reindex(ring_tenders.entity_id).dropna()
    other_cv = cv.drop(ring_tenders.entity_id, errors="ignore")
    assert ring_cv.median() < 0.5 * other_cv.median()
    for sid, g in ring_tenders.groupby("scheme_id"):
        winners = bids[bids.tender_id.isin(g.entity_id) & bids.is_winner].supplier_id
        assert winners.nunique() >= 2, "winners rotate"
        members = set(_entities(small_truth, "bid_rigging_ring", "supplier").query("scheme_id == @sid").entity_id)
        assert set(winners) <= members


def test_self_dealing_requester_approves_own_requisition(small_tables, small_truth):
    t = small_tables
    po = t["purchase_orders"][t["purchase_orders"].po_id.isin(_entities(small_truth, "approver_self_dealing", "purchase_order").entity_id)]
    ap = t["approvals"].merge(t["requisitions"][["requisition_id", "requester_id"]], on="requisition_id")
    ap = ap[ap.requisition_id.isin(po.requisition_id) & (ap.level == 1)]
    assert (ap.approver_id == ap.requester_id).all() and len(ap) >= 5
    no_receipt = ~po.po_id.isin(t["goods_receipts"].po_id)
    assert no_receipt.any(), "some planted orders are paid without goods received"
    # elsewhere, nobody approves their own requisition
    others = t["approvals"].merge(t["requisitions"][["requisition_id", "requester_id"]], on="requisition_id")
    others = others[~others.requisition_id.isin(po.requisition_id)]
    assert (others.approver_id == others.requester_id).mean() < 0.001


def test_fake_travel_claims_have_no_covering_trip(small_tables, small_truth):
    t = small_tables
    claims = t["claims"][t["claims"].claim_id.isin(_entities(small_truth, "fake_travel_claims", "claim").entity_id)]
    away = claims[claims.city != POLICY.home_city]
    assert len(away) >= 8 and away.trip_id.isna().all()
    trips = t["travel_records"]
    m = away.merge(trips, on="employee_id", how="left")
    covered = (m.expense_date >= m.start_date) & (m.expense_date <= m.end_date) & (m.city == m.destination_city)
    assert not covered.groupby(m.claim_id).any().any()
    # ordinary out-of-town claims are nearly all covered by an approved trip
    ordinary = t["claims"][(t["claims"].city != POLICY.home_city) & ~t["claims"].claim_id.isin(claims.claim_id)]
    assert ordinary.trip_id.notna().mean() > 0.99


def test_duplicate_invoices_reuse_numbers(small_tables, small_truth):
    t = small_tables
    dup_claims = t["claims"][t["claims"].claim_id.isin(_entities(small_truth, "duplicate_invoices", "claim").entity_id)]
    counts = pd.concat([t["claims"].invoice_number, t["invoices"].invoice_number]).value_counts()
    assert (counts.reindex(dup_claims.invoice_number) > 1).all()
    ordinary = t["claims"][~t["claims"].claim_id.isin(dup_claims.claim_id)]
    assert (counts.reindex(ordinary.invoice_number) > 1).mean() < 0.001


def test_unrotated_station_managers_hold_posts_long_and_banquet_on_holidays(small_tables, small_truth):
    t = small_tables
    ph = t["post_history"]
    end = t["claims"].expense_date.max()
    for kind, claims_expected in (("unrotated_tenure_favours", True),):
        emps = _entities(small_truth, kind, "employee").entity_id
        cur = ph[ph.employee_id.isin(emps) & ph.end_date.isna()]
        tenure = (end - cur.start_date).dt.days / 365.25
        assert (tenure > POLICY.rotation_years).all()
        c = t["claims"][t["claims"].claim_id.isin(_entities(small_truth, kind, "claim").entity_id)]
        assert (c.amount >= 0.85 * c.category.map({"hospitality": POLICY.claim_limits.hospitality, "fuel": POLICY.claim_limits.fuel})).all()
    look = _lookalike(small_truth, "remote_station_tenure", "employee").entity_id
    cur = ph[ph.employee_id.isin(look) & ph.end_date.isna()]
    assert ((end - cur.start_date).dt.days / 365.25 > POLICY.rotation_years).all(), "the look-alike also sits long"
    # ordinary sensitive posts rotate
    pos = t["positions"].set_index("position_id")
    cur = ph[ph.end_date.isna() & ph.position_id.map(pos.post_code).isin(["grader", "station_manager", "procurement_officer", "cashier"])]
    cur = cur[~cur.employee_id.isin(set(emps) | set(look))]
    assert ((end - cur.start_date).dt.days / 365.25 > POLICY.rotation_years).mean() < 0.1


def _grade_level(grade: pd.Series) -> pd.Series:
    return grade.str[1].astype(int)  # 1 best … 4 worst


@pytest.mark.parametrize("kind,sign", [("leaf_upgrading", -1), ("leaf_downgrading", 1)])
def test_grader_shifts_grades_for_particular_growers(small_tables, small_truth, kind, sign):
    lp = small_tables["leaf_purchases"]
    lp = lp.assign(level=_grade_level(lp.grade), year=lp.purchased_at.dt.year)
    for sid, g in _entities(small_truth, kind, "grower").groupby("scheme_id"):
        grader = _entities(small_truth, kind, "employee").query("scheme_id == @sid").entity_id.iloc[0]
        planted = lp[lp.purchase_id.isin(_entities(small_truth, kind, "leaf_purchase").query("scheme_id == @sid").entity_id)]
        years = planted.year.unique()
        mine = lp[lp.grower_id.isin(g.entity_id) & lp.year.isin(years)]
        by_grader = mine[mine.grader_id == grader].level.mean()
        station = planted.station_id.iloc[0]
        peers = lp[(lp.station_id == station) & lp.year.isin(years) & ~lp.grower_id.isin(g.entity_id)].level.mean()
        assert sign * (by_grader - peers) > 0.4, (by_grader, peers)
        assert lp.loc[lp.purchase_id.isin(planted.purchase_id), "grader_id"].eq(grader).all()


def test_better_station_grades_better_for_everyone(small_tables, small_truth):
    lp = small_tables["leaf_purchases"]
    graders = _lookalike(small_truth, "better_leaf_station", "employee").entity_id
    if graders.empty:
        pytest.skip("no better-leaf station in this preset")
    lp = lp.assign(level=_grade_level(lp.grade))
    st = lp[lp.grader_id.isin(graders)].station_id.mode()[0]
    at = lp[lp.station_id == st]
    assert at["level"].mean() < lp.loc[lp.station_id != st, "level"].mean() - 0.3
    per_grader = at.groupby("grader_id")["level"].mean()
    assert per_grader.max() - per_grader.min() < 0.3, "within the station, graders agree"


def test_over_contract_growers_deliver_far_beyond_contract_and_at_night(small_tables, small_truth):
    t = small_tables
    lp = t["leaf_purchases"]
    planted = lp[lp.purchase_id.isin(_entities(small_truth, "over_contract_purchase", "leaf_purchase").entity_id)]
    hour = planted.purchased_at.dt.hour
    assert ((hour >= 20) | (hour < 6)).mean() > 0.2
    assert planted.contract_id.isna().any(), "cross-area growers sell without a contract"
    con = t["grower_contracts"]
    got = planted.dropna(subset=["contract_id"]).groupby("contract_id").weight_kg.sum()
    ratio = got / con.set_index("contract_id").contracted_kg.reindex(got.index)
    assert ratio.median() > 1.4
    ordinary = lp[~lp.purchase_id.isin(planted.purchase_id)].dropna(subset=["contract_id"]).groupby("contract_id").weight_kg.sum()
    oratio = ordinary / con.set_index("contract_id").contracted_kg.reindex(ordinary.index)
    assert (oratio > 1.2).mean() < 0.01
    coop = _lookalike(small_truth, "cooperative_volume", "grower").entity_id
    coop_lp = lp[lp.grower_id.isin(coop)].dropna(subset=["contract_id"]).groupby("contract_id").weight_kg.sum()
    assert (coop_lp / con.set_index("contract_id").contracted_kg.reindex(coop_lp.index)).max() < 1.2
    assert coop_lp.mean() > 3 * oratio.index.map(ordinary).to_series().mean(), "cooperatives deliver a lot, within contract"
    ordinary_hour = lp[~lp.purchase_id.isin(planted.purchase_id)].purchased_at.dt.hour
    assert ((ordinary_hour >= 20) | (ordinary_hour < 6)).mean() == 0


def test_lookalikes_look_alike(small_tables, small_truth):
    t = small_tables
    # urgent purchases just under the limit: one order, no siblings
    po = t["purchase_orders"][t["purchase_orders"].po_id.isin(_lookalike(small_truth, "urgent_near_limit", "purchase_order").entity_id)]
    assert len(po) >= 1 and ((po.amount > 0.8 * POLICY.tender_limit) & (po.amount < POLICY.tender_limit)).all()
    req = t["requisitions"].set_index("requisition_id")
    assert req.urgent.reindex(po.requisition_id).all()
    # single-source tenders have one bid
    single = _lookalike(small_truth, "single_source_item", "tender").entity_id
    assert (t["bids"][t["bids"].tender_id.isin(single)].groupby("tender_id").size() == 1).all()
    # shared switchboard: suppliers share a phone, yet no employee shares it
    sw = t["suppliers"][t["suppliers"].supplier_id.isin(_lookalike(small_truth, "shared_switchboard", "supplier").entity_id)]
    assert sw.phone.value_counts().max() >= 4
    assert not set(sw.phone.map(_norm)) & set(t["employees"].phone.map(_norm))
    # frequent travellers: many trips, every away claim backed by one
    ft = _lookalike(small_truth, "frequent_traveller", "employee").entity_id
    tr = t["travel_records"]
    assert tr[tr.employee_id.isin(ft)].groupby("employee_id").size().mean() > 2 * tr.groupby("employee_id").size().mean()
    away = t["claims"][t["claims"].employee_id.isin(ft) & (t["claims"].city != POLICY.home_city)]
    assert away.trip_id.notna().all()
    # new supplier that wins fairly: lowest bid close to the estimate
    new = _lookalike(small_truth, "new_supplier_fair_win", "tender").entity_id
    tn = t["tenders"][t["tenders"].tender_id.isin(new)]
    assert (tn.awarded_amount / tn.estimated_amount < 1.0).all()


def test_incomplete_delayed_labels(small_truth, small_tables):
    cases = small_tables["cases"]
    schemes = small_truth["schemes"]
    people = small_tables["case_people"]
    involved = small_truth["scheme_entities"].query("entity_type == 'employee'")
    caught = involved[involved.entity_id.isin(people.employee_id)].scheme_id.unique()
    assert 0 < len(caught) < len(schemes[schemes.scheme_id.isin(involved.scheme_id)]), "only some schemes become cases"
    from riskmodel.data.synthetic.archive import CASE_TEXT

    cases = cases[cases.case_type.isin([v[0] for v in CASE_TEXT.values()])]
    m = people.merge(cases, on="case_id").merge(involved, left_on="employee_id", right_on="entity_id").merge(schemes, on="scheme_id")
    assert (m.opened_date > m.end_date).all(), "cases open after the scheme ends"
    assert cases.summary.str.contains("[\u4e00-\u9fff]").all()
