"""Suppliers and the procurement chain: budget → requisition → approval → (tender, bids) → order → receipt → invoice → payment.

Baseline purchases and planted ones go through the same :func:`materialise`,
driven by a table of *specs* (one row per requisition); a scheme changes a
spec (supplier, price, approver, bids) rather than writing rows by hand.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from riskmodel.data.synthetic import identity as idn
from riskmodel.data.synthetic.base import Context, random_dates, rotation_year

# id, zh, en, unit, base unit price, quantity range, single source, trade word, who buys it
CATEGORIES = [
    ("C01", "复合肥", "Compound fertiliser", "吨", 3200, (5, 60), False, "农资", "hq"),
    ("C02", "农药", "Pesticide", "箱", 800, (10, 200), False, "农资", "hq"),
    ("C03", "育苗物资", "Seedling trays", "套", 45, (200, 5000), False, "农资", "hq"),
    ("C04", "烤房设备", "Curing-barn equipment", "台", 28000, (1, 20), False, "设备", "hq"),
    ("C05", "烘烤燃煤", "Curing coal", "吨", 900, (20, 400), False, "能源", "station"),
    ("C06", "烟叶包装麻片", "Jute wrapping", "片", 12, (2000, 40000), False, "包装", "station"),
    ("C07", "办公用品", "Office supplies", "批", 1500, (1, 10), False, "商贸", "any"),
    ("C08", "计算机设备", "Computers", "台", 5500, (1, 40), False, "科技", "hq"),
    ("C09", "劳保用品", "Protective clothing", "套", 120, (20, 500), False, "商贸", "station"),
    ("C10", "车辆维修", "Vehicle repair", "次", 2500, (1, 10), False, "汽车服务", "hq"),
    ("C11", "印刷品", "Printing", "批", 3000, (1, 10), False, "印刷", "hq"),
    ("C12", "维修工程", "Building repair works", "项", 60000, (1, 4), False, "建筑工程", "hq"),
    ("C13", "电力设备", "Electrical equipment", "台", 15000, (1, 10), False, "电气", "hq"),
    ("C14", "烟叶定级仪器", "Leaf-grading instruments", "台", 85000, (1, 4), True, "仪器", "hq"),
    ("C15", "专用软件服务", "Industry software service", "年", 240000, (1, 1), True, "软件", "hq"),
    ("C16", "餐饮会务服务", "Catering and meetings", "次", 8000, (1, 5), False, "餐饮", "hq"),
    ("C17", "运输服务", "Transport", "车次", 1800, (5, 80), False, "物流", "station"),
    ("C18", "消防安防设备", "Fire and security equipment", "套", 6000, (1, 20), False, "安防", "any"),
]
CAT = pd.DataFrame(CATEGORIES, columns=["category_id", "name_zh", "name_en", "unit", "base_price", "qty", "single_source", "trade", "buyer"])
ROUND_PRICE_CATEGORIES = ("C07", "C10", "C11", "C16")
SPEC_COLUMNS = ["department_id", "requester_id", "category_id", "request_date", "quantity", "urgent", "supplier_id",
                "price_factor", "mode", "bidders", "bid_factors", "approver_id", "skip_receipt", "invoice_before_order", "tag"]


def categories() -> pd.DataFrame:
    return CAT[["category_id", "name_zh", "name_en", "unit", "single_source"]].copy()


def market_prices(ctx: Context) -> pd.DataFrame:
    """Monthly market reference unit price: base × (2 % a year drift) × seasonal wobble."""
    rng = ctx.rng("procurement.market")
    months = pd.date_range(ctx.start - pd.DateOffset(years=1), ctx.end, freq="MS")
    t = np.arange(len(months)) / 12
    rows = []
    for c in CAT.itertuples():
        walk = np.exp(np.cumsum(rng.normal(0, 0.01, len(months))))
        price = c.base_price * (1.02 ** t) * walk * (1 + 0.03 * np.sin(2 * np.pi * (months.month - 3) / 12))
        rows.append(pd.DataFrame({"category_id": c.category_id, "month": months, "reference_unit_price": price.round(2)}))
    return pd.concat(rows, ignore_index=True)


def suppliers(ctx: Context) -> pd.DataFrame:
    """Suppliers per category (single-source categories get exactly one), with identifying attributes."""
    rng = ctx.rng("procurement.suppliers")
    n = ctx.preset.n_suppliers
    single = CAT[CAT.single_source]
    multi = CAT[~CAT.single_source]
    cats = np.concatenate([single.category_id.to_numpy(), rng.choice(multi.category_id.to_numpy(), n - len(single))])
    rng.shuffle(cats)
    trade = CAT.set_index("category_id").trade.reindex(cats).to_numpy()
    reg = ctx.start - pd.to_timedelta(rng.integers(200, 25 * 365, n), unit="D")
    rep_gender = np.where(rng.random(n) < 0.75, "男", "女")
    rep_name, rep_gender = idn.names(rng, n, rep_gender)
    rep_birth = pd.Timestamp("1960-01-01") + pd.to_timedelta(rng.integers(0, 35 * 365, n), unit="D")
    df = pd.DataFrame({
        "supplier_id": ctx.ids("S", n, 5), "name": idn.company_names(rng, n, trade),
        "credit_code": idn.credit_codes(rng, n), "registration_date": reg.normalize(),
        "registered_capital": (np.exp(rng.normal(np.log(3e6), 1.0, n)) / 1e4).round() * 1e4,
        "address": idn.urban_addresses(rng, n), "phone": idn.landlines(rng, n), "bank_account": idn.bank_accounts(rng, n),
        "legal_rep_name": rep_name, "legal_rep_id_number": idn.id_numbers(rng, rep_birth, rep_gender),
        "legal_rep_phone": idn.mobile_phones(rng, n), "main_category_id": cats,
    })
    # Benign: suppliers in one business park share its switchboard number and building address.
    for k in range(ctx.preset.lookalikes):
        members = rng.choice(n, 4, replace=False)
        df.loc[members, "phone"] = idn.landlines(rng, 1)[0]
        building = idn.urban_addresses(rng, 1)[0].rsplit("单元", 1)[0]
        df.loc[members, "address"] = [f"{building}单元{rng.integers(101, 1900)}室" for _ in members]
        lid = ctx.new_lookalike("shared_switchboard", "kickback_related_supplier")
        ctx.add_lookalike_entities(lid, "supplier", df.supplier_id.to_numpy()[members])
    return df


def empty_specs() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in SPEC_COLUMNS})


def baseline_specs(ctx: Context, org: dict, stations: pd.DataFrame) -> pd.DataFrame:
    """Ordinary purchases: seasonal (year-end flush, pre-season coal and jute), spread over departments."""
    rng = ctx.rng("procurement.baseline")
    n = ctx.preset.requisitions_per_year * len(ctx.years)
    dates = random_dates(rng, ctx.start, ctx.end, n, {1: 0.8, 2: 0.6, 8: 1.3, 9: 1.4, 11: 1.6, 12: 1.9})
    roster = org["roster"]
    depts = org["departments"]
    buying = depts[depts.dept_type.isin(["procurement", "leaf", "station", "warehouse", "functional", "logistics", "finance"])]
    is_station = buying.dept_type.eq("station").to_numpy()
    w = np.where(is_station, 0.6, np.where(buying.dept_type.eq("procurement"), 12.0, 1.5))
    dept = rng.choice(buying.department_id.to_numpy(), n, p=w / w.sum())
    station_dept = np.isin(dept, stations.department_id)
    hq_cats = CAT[CAT.buyer.isin(["hq", "any"])].category_id.to_numpy()
    st_cats = CAT[CAT.buyer.isin(["station", "any"])].category_id.to_numpy()
    cat = np.where(station_dept, rng.choice(st_cats, n), rng.choice(hq_cats, n))
    single_src = CAT.set_index("category_id").single_source.reindex(cat).to_numpy()
    keep = ~single_src | (rng.random(n) < 0.15)  # single-source items are bought rarely
    lo, hi = (np.array([CAT.set_index("category_id").qty[c][i] for c in cat]) for i in (0, 1))
    qty = np.exp(rng.uniform(np.log(lo), np.log(hi + 1e-9)))
    qty = np.where(hi > 50, np.round(qty, -1).clip(lo), np.round(qty).clip(lo))
    specs = pd.DataFrame({"department_id": dept, "category_id": cat, "request_date": dates, "quantity": qty,
                          "urgent": rng.random(n) < 0.05})[keep].reset_index(drop=True)
    specs["requester_id"] = pick_holder(roster, specs.department_id, specs.request_date,
                                        ("procurement_officer", "station_manager", "clerk", "manager"), rng)
    for c in SPEC_COLUMNS:
        if c not in specs:
            specs[c] = None
    specs["mode"] = "auto"
    specs["skip_receipt"] = False
    specs["invoice_before_order"] = False
    return specs[SPEC_COLUMNS]


def pick_holder(roster: pd.DataFrame, dept: pd.Series, dates: pd.Series, prefer: tuple[str, ...], rng) -> np.ndarray:
    """For each (department, date) pick a holder of the first preferred post present there (vectorised)."""
    ry = rotation_year(dates)
    q = pd.DataFrame({"department_id": np.asarray(dept), "ryear": ry, "_i": np.arange(len(ry))})
    r = roster[roster.post_code.isin(prefer)].copy()
    r["_rank"] = r.post_code.map({p: i for i, p in enumerate(prefer)})
    r = r[r._rank == r.groupby(["ryear", "department_id"])._rank.transform("min")]
    m = q.merge(r[["ryear", "department_id", "employee_id"]], on=["ryear", "department_id"], how="left")
    m["_u"] = rng.random(len(m))
    m = m.sort_values(["_i", "_u"]).drop_duplicates("_i")
    fallback = roster[roster.post_code == "leader"].employee_id.iloc[0]
    return m.sort_values("_i").employee_id.fillna(fallback).to_numpy()


def materialise(ctx: Context, specs: pd.DataFrame, org: dict, sup: pd.DataFrame, prices: pd.DataFrame,
                budget_slack: np.ndarray | None = None) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """Turn requisition specs into every procurement table.

    Returns the tables and ``specs`` with the ids created for each spec
    (``requisition_id``, ``tender_id``, ``po_id``), so planters can record
    their entities.
    """
    rng = ctx.rng("procurement.materialise")
    pol = ctx.settings.policy
    s = specs.sort_values("request_date", kind="stable").reset_index(drop=True).copy()
    n = len(s)
    s["requisition_id"] = ctx.ids("R", n, 7)
    month = s.request_date.dt.to_period("M").dt.to_timestamp()
    ref = prices.set_index(["category_id", "month"]).reference_unit_price
    s["ref_price"] = ref.reindex(pd.MultiIndex.from_arrays([s.category_id, month])).to_numpy()
    s["estimated_amount"] = (s.quantity * s.ref_price).round(2)
    single = s.category_id.map(CAT.set_index("category_id").single_source).astype(bool)

    # budget lines: per department x category x year, from the plan, with slack (some tight)
    s["year"] = s.request_date.dt.year
    plan = s.groupby(["department_id", "category_id", "year"], as_index=False).estimated_amount.sum()
    slack = rng.uniform(0.95, 1.5, len(plan)) if budget_slack is None else budget_slack
    plan["amount"] = (plan.estimated_amount * slack / 1000).round() * 1000 + 1000
    plan["budget_line_id"] = ctx.ids("BL", len(plan), 5)
    s = s.merge(plan[["department_id", "category_id", "year", "budget_line_id"]], on=["department_id", "category_id", "year"], how="left")
    budget = plan[["budget_line_id", "department_id", "category_id", "year", "amount"]]

    # approvals: level 1 department head (or the override), 2 finance head, 3 a leader
    roster = org["roster"]
    ry = rotation_year(s.request_date)
    heads = roster[roster.post_code == "manager"].set_index(["ryear", "department_id"]).employee_id
    head = heads.reindex(pd.MultiIndex.from_arrays([ry, s.department_id])).to_numpy()
    leaders = roster[roster.post_code == "leader"].employee_id.unique()
    fin_dept = org["departments"].loc[org["departments"].dept_type == "finance", "department_id"].iloc[0]
    fin_head = heads.reindex(pd.MultiIndex.from_arrays([ry, np.full(n, fin_dept)])).to_numpy()
    lvl1 = np.where(pd.notna(s.approver_id), s.approver_id, np.where(pd.isna(head), leaders[0], head))
    lvl1 = np.where(lvl1 == s.requester_id, np.where(pd.notna(s.approver_id), lvl1, leaders[1 % len(leaders)]), lvl1)
    rejected = rng.random(n) < 0.03
    rejected &= s.tag.isna().to_numpy()  # planted requisitions go through
    t0 = s.request_date + pd.to_timedelta(rng.integers(0, 3, n), unit="D") + pd.to_timedelta(rng.integers(8 * 60, 18 * 60, n), unit="m")
    ap = [pd.DataFrame({"requisition_id": s.requisition_id, "approver_id": lvl1, "level": 1, "decided_at": t0,
                        "decision": np.where(rejected, "rejected", "approved")})]
    need2 = (s.estimated_amount > pol.approval_limit).to_numpy() & ~rejected
    need3 = (s.estimated_amount > pol.leadership_limit).to_numpy() & ~rejected
    t1 = t0 + pd.to_timedelta(rng.integers(60, 3 * 1440, n), unit="m")
    ap.append(pd.DataFrame({"requisition_id": s.requisition_id, "approver_id": fin_head, "level": 2, "decided_at": t1, "decision": "approved"})[need2])
    t2 = t1 + pd.to_timedelta(rng.integers(60, 3 * 1440, n), unit="m")
    ap.append(pd.DataFrame({"requisition_id": s.requisition_id, "approver_id": rng.choice(leaders, n), "level": 3, "decided_at": t2, "decision": "approved"})[need3])
    approvals = pd.concat(ap, ignore_index=True).sort_values("decided_at", kind="stable", ignore_index=True)
    approvals.insert(0, "approval_id", ctx.ids("AP", len(approvals), 7))
    approved_at = t2.where(need3, t1.where(need2, t0)).dt.normalize()

    # who sells: given, else a category supplier with persistent popularity (natural concentration)
    cat_sup = sup.groupby("main_category_id").supplier_id.apply(list).to_dict()
    pop = pd.Series(rng.pareto(1.5, len(sup)) + 0.1, index=sup.supplier_id)
    chosen = s.supplier_id.to_numpy().copy()
    for cat, idx in s.index[pd.isna(s.supplier_id)].groupby(s.category_id[pd.isna(s.supplier_id)]).items():
        cands = cat_sup[cat]
        w = pop.reindex(cands).to_numpy()
        chosen[idx] = rng.choice(cands, len(idx), p=w / w.sum())
    # nobody buys from a company before it exists: re-draw those (planted suppliers are new, ordinary buyers may not find them yet)
    reg = sup.set_index("supplier_id").registration_date
    early = np.flatnonzero(pd.isna(s.supplier_id).to_numpy() & (reg.reindex(chosen).to_numpy() > s.request_date.to_numpy()))
    for i in early:  # a handful of rows
        cands = [c for c in cat_sup[s.category_id.iat[i]] if reg[c] <= s.request_date.iat[i]]
        chosen[i] = rng.choice(cands) if cands else chosen[i]
    s["supplier_id"] = chosen

    # tenders: required above the limit (unless single source), sometimes held voluntarily; specs may force them
    auto = s["mode"].eq("auto")
    tender = (auto & ~single & ((s.estimated_amount > pol.tender_limit) | ((s.estimated_amount > 0.5 * pol.tender_limit) & (rng.random(n) < 0.15))))
    tender |= auto & single & (s.estimated_amount > pol.tender_limit)  # single-source: a one-bid tender on record
    tender |= s["mode"].isin(["tender_rigged", "tender_fixed"])
    tender &= ~pd.Series(rejected)
    tix = np.flatnonzero(tender.to_numpy())
    s["tender_id"] = None
    s.loc[tix, "tender_id"] = ctx.ids("T", len(tix), 5)
    publish = approved_at + pd.to_timedelta(rng.integers(1, 6, n), unit="D")
    close = publish + pd.to_timedelta(rng.integers(10, 25, n), unit="D")
    bids = _bids(ctx, s.loc[tix], single.loc[tix], publish[tix], close[tix], sup, rng)
    win = bids[bids.is_winner].set_index("tender_id")
    tenders = pd.DataFrame({
        "tender_id": s.tender_id[tix], "requisition_id": s.requisition_id[tix], "department_id": s.department_id[tix],
        "category_id": s.category_id[tix], "method": np.where(single[tix], "single_source", np.where(rng.random(len(tix)) < 0.75, "open", "invited")),
        "publish_date": publish[tix], "close_date": close[tix], "quantity": s.quantity[tix], "estimated_amount": s.estimated_amount[tix],
    }).reset_index(drop=True)
    tenders["winner_supplier_id"] = tenders.tender_id.map(win.supplier_id)
    tenders["awarded_amount"] = tenders.tender_id.map(win.bid_amount)

    # orders
    ok = ~rejected
    pf = s.price_factor.astype(float).to_numpy()
    pf = np.where(np.isnan(pf), rng.lognormal(0.01, 0.05, n), pf)
    unit_price = s.ref_price * pf
    s.loc[tix, "supplier_id"] = s.tender_id[tix].map(win.supplier_id).to_numpy()
    unit_price[tix] = (s.tender_id[tix].map(win.bid_amount) / s.quantity[tix]).to_numpy()
    rnd = s.category_id.isin(ROUND_PRICE_CATEGORIES).to_numpy()
    unit_price = np.where(rnd, np.round(unit_price, -1), np.round(unit_price, 2))
    order_date = np.where(tender, close + pd.to_timedelta(rng.integers(2, 10, n), unit="D"), approved_at + pd.to_timedelta(rng.integers(0, 5, n), unit="D"))
    order_date = pd.DatetimeIndex(order_date).normalize()
    s["po_id"] = None
    s.loc[ok, "po_id"] = ctx.ids("PO", int(ok.sum()), 7)
    buyer = s.requester_id
    po = pd.DataFrame({"po_id": s.po_id, "requisition_id": s.requisition_id, "tender_id": s.tender_id, "supplier_id": s.supplier_id,
                       "department_id": s.department_id, "buyer_id": buyer, "category_id": s.category_id, "order_date": order_date,
                       "quantity": s.quantity, "unit_price": unit_price, "amount": (s.quantity * unit_price).round(2)})[ok].reset_index(drop=True)
    po = po[po.order_date <= ctx.end].reset_index(drop=True)

    # receipts, invoices, payments
    m = len(po)
    spec = s[s.po_id.notna()].set_index("po_id").reindex(po.po_id)
    skip = spec.skip_receipt.fillna(False).astype(bool).to_numpy()
    early_inv = spec.invoice_before_order.fillna(False).astype(bool).to_numpy()
    rdate = po.order_date + pd.to_timedelta(rng.integers(2, 25, m), unit="D")
    rqty = np.where(rng.random(m) < 0.05, (po.quantity * rng.uniform(0.8, 0.99, m)).round(1), po.quantity)
    keepers = roster[roster.post_code == "warehouse_keeper"]
    receiver = pick_holder(roster, po.department_id, po.order_date, ("warehouse_keeper", "clerk"), rng)
    has_keeper = np.isin(po.department_id, keepers.department_id)
    central = roster[(roster.post_code == "warehouse_keeper")].employee_id.unique()
    receiver = np.where(has_keeper, receiver, rng.choice(central, m))
    rec_mask = ~skip & (rdate <= ctx.end).to_numpy()
    receipts = pd.DataFrame({"po_id": po.po_id, "receiver_id": receiver, "receipt_date": rdate, "quantity": rqty})[rec_mask].reset_index(drop=True)
    receipts.insert(0, "receipt_id", ctx.ids("GR", len(receipts), 7))
    share = rqty / po.quantity.to_numpy()
    idate = np.where(early_inv, po.order_date - pd.to_timedelta(rng.integers(3, 20, m), unit="D"),
                     np.where(skip, po.order_date + pd.to_timedelta(rng.integers(1, 10, m), unit="D"),
                              rdate + pd.to_timedelta(rng.integers(0, 15, m), unit="D")))
    idate = pd.DatetimeIndex(idate)
    inv_mask = (idate <= ctx.end)
    invoices = pd.DataFrame({"invoice_number": _fapiao_numbers(rng, m), "po_id": po.po_id, "supplier_id": po.supplier_id,
                             "invoice_date": idate, "amount": np.where(skip, po.amount, (po.amount * share).round(2))})[inv_mask].reset_index(drop=True)
    invoices.insert(0, "invoice_id", ctx.ids("INV", len(invoices), 7))
    k = len(invoices)
    pdate = invoices.invoice_date + pd.to_timedelta(rng.integers(5, 45, k), unit="D")
    payer = pick_holder(roster, pd.Series(np.full(k, fin_dept)), invoices.invoice_date, ("cashier",), rng)
    acct = invoices.supplier_id.map(sup.set_index("supplier_id").bank_account)
    payments = pd.DataFrame({"invoice_id": invoices.invoice_id, "po_id": invoices.po_id, "payer_id": payer, "payment_date": pdate,
                             "amount": invoices.amount, "bank_account": acct})[(pdate <= ctx.end).to_numpy()].reset_index(drop=True)
    payments.insert(0, "payment_id", ctx.ids("PAY", len(payments), 7))

    requisitions = s[["requisition_id", "department_id", "requester_id", "category_id", "budget_line_id", "request_date",
                      "quantity", "estimated_amount", "urgent"]].copy()
    requisitions["urgent"] = requisitions.urgent.astype(bool)
    tables = {"budget_lines": budget, "requisitions": requisitions, "approvals": approvals, "tenders": tenders, "bids": bids,
              "purchase_orders": po, "goods_receipts": receipts, "invoices": invoices, "payments": payments}
    return tables, s


def _fapiao_numbers(rng, n: int) -> np.ndarray:
    """20-digit e-fapiao numbers (unique with overwhelming probability)."""
    hi = rng.integers(10**9, 10**10, n)
    lo = rng.integers(0, 10**10, n)
    return np.char.add(hi.astype(str), np.char.zfill(lo.astype(str), 10)).astype(object)


def _bids(ctx: Context, s: pd.DataFrame, single: pd.Series, publish, close, sup: pd.DataFrame, rng) -> pd.DataFrame:
    """Competitive bids by default; specs may give the bidders and their bid factors (rings, fixed winners)."""
    cat_sup = sup.groupby("main_category_id").supplier_id.apply(np.array).to_dict()
    all_sup = sup.supplier_id.to_numpy()
    frames = []
    est = s.estimated_amount.to_numpy()
    for j, (row, sgl) in enumerate(zip(s.itertuples(), single)):  # a few thousand tenders at most
        if row.bidders is not None and len(row.bidders):
            who = np.asarray(row.bidders, dtype=object)
            amount = est[j] * np.asarray(row.bid_factors, dtype=float)
        else:
            if sgl:
                who = np.array([row.supplier_id], dtype=object)
            else:
                pool = cat_sup.get(row.category_id, all_sup)
                k = int(min(len(pool), rng.integers(3, 9)))
                who = rng.choice(pool, k, replace=False)
                if rng.random() < 0.2:  # an outside bidder now and then
                    who = np.append(who, rng.choice(all_sup))
                who = pd.unique(who)
            cost = rng.lognormal(-0.02, 0.08, len(who))
            amount = est[j] * cost * (1 + rng.uniform(0.02, 0.15, len(who)))
            if sgl:
                amount = est[j] * rng.uniform(0.97, 1.06, 1)
        amount = np.round(amount, -2 if est[j] > 1e5 else 0)
        t = pd.Timestamp(publish.iloc[j]) + (pd.Timestamp(close.iloc[j]) - pd.Timestamp(publish.iloc[j])) * rng.uniform(0.2, 0.99, len(who))
        frames.append(pd.DataFrame({"tender_id": row.tender_id, "supplier_id": who, "bid_amount": amount,
                                    "submitted_at": pd.DatetimeIndex(t).floor("min")}))
    if not frames:
        return pd.DataFrame(columns=["bid_id", "tender_id", "supplier_id", "bid_amount", "submitted_at", "is_winner"])
    bids = pd.concat(frames, ignore_index=True)
    bids["is_winner"] = bids.bid_amount == bids.groupby("tender_id").bid_amount.transform("min")
    bids["is_winner"] &= ~bids.duplicated(["tender_id", "is_winner"]) | ~bids.is_winner  # one winner on ties
    bids.insert(0, "bid_id", ctx.ids("B", len(bids), 7))
    return bids
