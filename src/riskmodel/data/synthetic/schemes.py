"""Planted schemes and their benign look-alikes.

Each planter changes the *specs* the area generators materialise (a requisition
routed to a relative's company, a tender whose bids come from a ring, a claim
in a city with no trip) and records what it touched in the ground truth.  The
look-alikes are built the same way so that naive rules fire on them too.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from riskmodel.data.synthetic import identity as idn
from riskmodel.data.synthetic.base import Context, rotation_year
from riskmodel.data.synthetic.leaf import LeafScheme
from riskmodel.data.synthetic.procurement import CAT, SPEC_COLUMNS, pick_holder

SCHEME_TYPES = (
    "kickback_related_supplier", "split_purchase", "bid_rigging_ring", "approver_self_dealing",
    "fake_travel_claims", "duplicate_invoices", "unrotated_tenure_favours",
    "leaf_upgrading", "leaf_downgrading", "over_contract_purchase",
)
_BUY_CATS = ["C01", "C02", "C04", "C05", "C08", "C09", "C13", "C18"]


def _period(ctx: Context, rng, months: tuple[int, int]) -> tuple[pd.Timestamp, pd.Timestamp]:
    length = pd.DateOffset(months=int(rng.integers(*months)))
    latest = ctx.end - length
    span = max((latest - ctx.start).days, 1)
    start = ctx.start + pd.Timedelta(days=int(rng.integers(0, span)))
    return start.normalize(), min(start + length, ctx.end).normalize()


def _dates(rng, start, end, n) -> pd.DatetimeIndex:
    days = max((pd.Timestamp(end) - pd.Timestamp(start)).days, 1)
    return pd.DatetimeIndex(sorted(pd.Timestamp(start) + pd.to_timedelta(rng.integers(0, days + 1, n), unit="D")))


def _spec(**kw) -> dict:
    row = {c: None for c in SPEC_COLUMNS}
    row.update({"mode": "auto", "urgent": False, "skip_receipt": False, "invoice_before_order": False})
    row.update(kw)
    return row


def _holder_dept(org: dict, employee: str, date) -> str:
    r = org["roster"]
    hit = r[(r.employee_id == employee) & (r.ryear == rotation_year([date])[0])]
    return hit.department_id.iloc[0] if len(hit) else org["employees"].set_index("employee_id").department_id[employee]


def _holders(org: dict, post: str, ryear: int, dept_type: str | None = None) -> np.ndarray:
    r = org["roster"]
    r = r[(r.post_code == post) & (r.ryear == ryear)]
    if dept_type:
        r = r[r.department_id.isin(org["departments"].department_id[org["departments"].dept_type == dept_type])]
    return r.employee_id.to_numpy()


def _new_supplier(ctx: Context, rng, sup: pd.DataFrame, category: str, registered) -> dict:
    name, gender = idn.names(rng, 1)
    trade = CAT.set_index("category_id").trade[category]
    return {"supplier_id": ctx.ids("S", 1, 5)[0], "name": idn.company_names(rng, 1, np.array([trade]))[0] + "",
            "credit_code": idn.credit_codes(rng, 1, start=int(ctx.ids("_cc", 1, 1)[0][3:]) + 5_000_000)[0],
            "registration_date": pd.Timestamp(registered).normalize(), "registered_capital": float(rng.choice([50e4, 100e4, 200e4])),
            "address": idn.urban_addresses(rng, 1)[0], "phone": idn.mobile_phones(rng, 1)[0], "bank_account": idn.bank_accounts(rng, 1)[0],
            "legal_rep_name": name[0], "legal_rep_id_number": idn.id_numbers(rng, [pd.Timestamp("1975-05-05")], gender)[0],
            "legal_rep_phone": idn.mobile_phones(rng, 1)[0], "main_category_id": category}


def _qty_for(prices: pd.DataFrame, category: str, date, amount: float) -> float:
    month = pd.Timestamp(date).to_period("M").to_timestamp()
    p = prices[(prices.category_id == category) & (prices.month == month)].reference_unit_price.iloc[0]
    return round(amount / p, 2)


class Planter:
    """Plants every scheme and look-alike into one company; see the module docstring."""

    def __init__(self, ctx: Context, org: dict, sup: pd.DataFrame, prices: pd.DataFrame, grow: pd.DataFrame):
        self.ctx, self.org, self.prices, self.grow = ctx, org, prices, grow
        self.sup = sup
        self.new_suppliers: list[dict] = []
        self.proc: list[dict] = []
        self.claims: list[dict] = []
        self.leaf: list[LeafScheme] = []
        self.emp = org["employees"].set_index("employee_id")
        # employees already in a scheme or a look-alike: one role each keeps truth readable
        self.used: set[str] = set(org["reserved"]["unrotated_lookalike"])

    def _free(self, pool: np.ndarray, rng) -> str:
        free = np.array([e for e in pool if e not in self.used])
        # one role per person while people last; a small company with many schemes reuses someone
        e = rng.choice(free if len(free) else np.asarray(pool))
        self.used.add(e)
        return e

    # -- procurement schemes ------------------------------------------------------------------------
    def plant_procurement(self) -> None:
        ctx, n = self.ctx, self.ctx.preset.schemes
        rng = ctx.rng("schemes.procurement")
        lim = ctx.settings.policy
        for k in range(n):  # kickbacks through a relative's company
            start, end = _period(ctx, rng, (12, 20))
            e = self._free(_holders(self.org, "procurement_officer", rotation_year([start])[0]), rng)
            cat = _BUY_CATS[k % len(_BUY_CATS)]
            s = _new_supplier(ctx, rng, self.sup, cat, start - pd.Timedelta(days=int(rng.integers(30, 120))))
            surname = self.emp.name[e][0]
            s["legal_rep_name"] = surname + s["legal_rep_name"][1:]
            if k % 2 == 0:
                s["legal_rep_phone"] = idn.phone_variant(self.emp.phone[e], k)
            else:
                s["address"] = idn.address_variant(self.emp.address[e], k)
            self.new_suppliers.append(s)
            sid = ctx.new_scheme("kickback_related_supplier", start, end)
            ctx.add_entities(sid, "employee", [e])
            ctx.add_entities(sid, "supplier", [s["supplier_id"]])
            for d in _dates(rng, start, end, int(rng.integers(8, 17))):
                amt = rng.uniform(0.15, 0.9) * lim.tender_limit
                self.proc.append(_spec(department_id=_holder_dept(self.org, e, d), requester_id=e, category_id=cat, request_date=d,
                                       quantity=_qty_for(self.prices, cat, d, amt), supplier_id=s["supplier_id"],
                                       price_factor=rng.uniform(1.2, 1.45), mode="direct", tag=sid))
            others = self.sup[self.sup.main_category_id == cat].supplier_id.to_numpy()
            for d in _dates(rng, start, end, int(rng.integers(1, 3))):
                amt = rng.uniform(1.3, 2.5) * lim.tender_limit
                cover = list(rng.choice(others, min(3, len(others)), replace=False))
                f = rng.uniform(1.2, 1.3)
                self.proc.append(_spec(department_id=_holder_dept(self.org, e, d), requester_id=e, category_id=cat, request_date=d,
                                       quantity=_qty_for(self.prices, cat, d, amt), mode="tender_fixed", bidders=[s["supplier_id"], *cover],
                                       bid_factors=[f, *(f * (1 + rng.uniform(0.04, 0.12, len(cover))))], tag=sid))
            for d in _dates(rng, start, end, int(rng.integers(6, 12))):  # the lifestyle shows in claims
                self.claims.append({"employee_id": e, "category": "hospitality", "expense_date": d + pd.Timedelta(days=int((5 - d.day_of_week) % 7 if rng.random() < 0.5 else 0)),
                                    "city": lim.home_city, "amount": float(np.round(rng.uniform(0.6, 0.99) * lim.claim_limits.hospitality, -1)), "tag": sid})

        for k in range(n):  # splitting to stay under the tender limit
            start, _ = _period(ctx, rng, (1, 2))
            e = self._free(_holders(self.org, "procurement_officer", rotation_year([start])[0]), rng)
            cat = _BUY_CATS[(k + 3) % len(_BUY_CATS)]
            sup_id = rng.choice(self.sup[self.sup.main_category_id == cat].supplier_id.to_numpy())
            parts = int(rng.integers(3, 7))
            dates = _dates(rng, start, start + pd.Timedelta(days=int(rng.integers(5, 25))), parts)
            sid = ctx.new_scheme("split_purchase", dates[0], dates[-1])
            ctx.add_entities(sid, "employee", [e])
            ctx.add_entities(sid, "supplier", [sup_id])
            for d in dates:
                amt = rng.uniform(0.85, 0.98) * lim.tender_limit
                self.proc.append(_spec(department_id=_holder_dept(self.org, e, d), requester_id=e, category_id=cat, request_date=d,
                                       quantity=_qty_for(self.prices, cat, d, amt / 1.08), supplier_id=sup_id,
                                       price_factor=rng.uniform(1.03, 1.1), mode="direct", tag=sid))

        for k in range(n):  # bid-rigging rings: rotate winners, cover bids tight above the winner
            start, end = _period(ctx, rng, (12, 24))
            counts = self.sup.main_category_id.value_counts()
            cats = [c for c in _BUY_CATS if counts.get(c, 0) >= 6]
            cat = cats[k % len(cats)]
            pool = self.sup[self.sup.main_category_id == cat].supplier_id.to_numpy()
            ring = list(rng.choice(pool, min(len(pool) - 1, int(rng.integers(3, 6))), replace=False))
            sid = ctx.new_scheme("bid_rigging_ring", start, end)
            ctx.add_entities(sid, "supplier", ring)
            proc_dept = self.org["departments"].department_id[self.org["departments"].dept_type == "procurement"].iloc[0]
            for i, d in enumerate(_dates(rng, start, end, int(rng.integers(5, 11)))):
                amt = rng.uniform(1.3, 4.0) * lim.tender_limit
                winner = ring[i % len(ring)]
                losers = [r for r in ring if r != winner]
                wf = rng.uniform(1.10, 1.25)
                factors = [wf, *(wf * (1 + np.cumsum(rng.uniform(0.005, 0.025, len(losers)))))]
                bidders = [winner, *losers]
                if rng.random() < 0.3:
                    bidders.append(rng.choice([p for p in pool if p not in ring]))
                    factors.append(wf * rng.uniform(1.15, 1.4))
                req = pick_holder(self.org["roster"], pd.Series([proc_dept]), pd.Series([d]), ("procurement_officer",), rng)[0]
                self.proc.append(_spec(department_id=proc_dept, requester_id=req, category_id=cat, request_date=d,
                                       quantity=_qty_for(self.prices, cat, d, amt), mode="tender_rigged", bidders=bidders,
                                       bid_factors=factors, tag=sid))

        for k in range(n):  # a department head approving his own purchases from a company he is tied to
            start, end = _period(ctx, rng, (6, 14))
            e = self._free(_holders(self.org, "manager", rotation_year([start])[0]), rng)
            cat = ["C07", "C09", "C18", "C11"][k % 4]
            s = _new_supplier(ctx, rng, self.sup, cat, ctx.start - pd.Timedelta(days=int(rng.integers(200, 2000))))
            if k % 2 == 0:
                s["bank_account"] = self.emp.bank_account[e]
            else:
                s["address"] = idn.address_variant(self.emp.address[e], k + 1)
            self.new_suppliers.append(s)
            sid = ctx.new_scheme("approver_self_dealing", start, end)
            ctx.add_entities(sid, "employee", [e])
            ctx.add_entities(sid, "supplier", [s["supplier_id"]])
            for d in _dates(rng, start, end, int(rng.integers(5, 11))):
                amt = rng.uniform(0.4, 0.95) * lim.approval_limit
                fake = rng.random() < 0.6
                self.proc.append(_spec(department_id=_holder_dept(self.org, e, d), requester_id=e, category_id=cat, request_date=d,
                                       quantity=_qty_for(self.prices, cat, d, amt), supplier_id=s["supplier_id"], approver_id=e,
                                       price_factor=rng.uniform(1.2, 1.4), mode="direct", skip_receipt=fake,
                                       invoice_before_order=fake and rng.random() < 0.5, tag=sid))

        # look-alikes: urgent purchases just under the limit; a new supplier that wins fairly
        for k in range(ctx.preset.lookalikes):
            d = ctx.start + pd.Timedelta(days=int(rng.integers(0, (ctx.end - ctx.start).days - 60)))
            e = rng.choice(_holders(self.org, "procurement_officer", rotation_year([d])[0]))
            cat = _BUY_CATS[k % len(_BUY_CATS)]
            lid = ctx.new_lookalike("urgent_near_limit", "split_purchase")
            ctx.add_lookalike_entities(lid, "employee", [e])
            self.proc.append(_spec(department_id=_holder_dept(self.org, e, d), requester_id=e, category_id=cat, request_date=d,
                                   quantity=_qty_for(self.prices, cat, d, rng.uniform(0.88, 0.97) * lim.tender_limit), urgent=True,
                                   mode="direct", price_factor=1.0, tag=lid))
            d2 = d + pd.Timedelta(days=int(rng.integers(30, 60)))
            s = _new_supplier(ctx, rng, self.sup, cat, d2 - pd.Timedelta(days=int(rng.integers(30, 90))))
            self.new_suppliers.append(s)
            lid = ctx.new_lookalike("new_supplier_fair_win", "kickback_related_supplier")
            ctx.add_lookalike_entities(lid, "supplier", [s["supplier_id"]])
            pool = self.sup[self.sup.main_category_id == cat].supplier_id.to_numpy()
            others = list(rng.choice(pool, min(3, len(pool)), replace=False))
            self.proc.append(_spec(department_id=_holder_dept(self.org, e, d2), requester_id=e, category_id=cat, request_date=d2,
                                   quantity=_qty_for(self.prices, cat, d2, rng.uniform(1.2, 2.0) * lim.tender_limit), mode="tender_fixed",
                                   bidders=[s["supplier_id"], *others], bid_factors=[0.97, *rng.uniform(1.01, 1.12, len(others))], tag=lid))

    def record_procurement(self, specs: pd.DataFrame, tenders: pd.DataFrame) -> None:
        """After materialising: map each planted spec to the orders and tenders it became."""
        tagged = specs[specs.tag.notna()]
        for tag, g in tagged.groupby("tag"):
            add = self.ctx.add_entities if tag.startswith("SCH") else self.ctx.add_lookalike_entities
            add(tag, "purchase_order", g.po_id.dropna())
            add(tag, "tender", g.tender_id.dropna())
        single = tenders[tenders.method == "single_source"].tender_id
        if len(single):
            lid = self.ctx.new_lookalike("single_source_item", "bid_rigging_ring")
            self.ctx.add_lookalike_entities(lid, "tender", single)

    # -- reimbursement schemes ----------------------------------------------------------------------
    def plant_claims(self, supplier_invoices: pd.DataFrame) -> None:
        ctx, n = self.ctx, self.ctx.preset.schemes
        rng = ctx.rng("schemes.claims")
        lim = ctx.settings.policy
        home = lim.home_city
        from riskmodel.data.synthetic.reimbursement import CITIES, holidays
        for k in range(n):  # trips that never happened
            start, end = _period(ctx, rng, (6, 12))
            ry = rotation_year([start])[0]
            e = self._free(np.concatenate([_holders(self.org, p, ry) for p in ("manager", "technician", "procurement_officer")]), rng)
            sid = ctx.new_scheme("fake_travel_claims", start, end)
            ctx.add_entities(sid, "employee", [e])
            for d in _dates(rng, start, end, int(rng.integers(4, 9))):
                city = rng.choice(CITIES)
                days = int(rng.integers(2, 4))
                self.claims.append({"employee_id": e, "category": "travel", "expense_date": d, "city": city,
                                    "amount": float(np.round(rng.uniform(600, 2400))), "tag": sid})
                for j in range(days):
                    day = d + pd.Timedelta(days=j)
                    self.claims.append({"employee_id": e, "category": "lodging", "expense_date": day, "city": city,
                                        "amount": float(np.round(rng.uniform(0.8, 1.0) * lim.claim_limits.lodging)), "tag": sid})
                    self.claims.append({"employee_id": e, "category": "meals", "expense_date": day, "city": city,
                                        "amount": float(np.round(rng.uniform(80, 160))), "tag": sid})
                if rng.random() < 0.6:  # and a claim at home on one of those days: two cities, one day
                    self.claims.append({"employee_id": e, "category": "meals", "expense_date": d + pd.Timedelta(days=1), "city": home,
                                        "amount": float(np.round(rng.uniform(60, 200))), "tag": sid})

        inv_numbers = supplier_invoices.invoice_number.to_numpy()
        for k in range(n):  # the same fapiao claimed again (and a supplier's fapiao claimed as one's own)
            start, end = _period(ctx, rng, (6, 12))
            ry = rotation_year([start])[0]
            e = self._free(np.concatenate([_holders(self.org, p, ry) for p in ("clerk", "manager", "station_manager")]), rng)
            sid = ctx.new_scheme("duplicate_invoices", start, end)
            ctx.add_entities(sid, "employee", [e])
            numbers = list(rng.integers(10**9, 10**10, int(rng.integers(2, 5))).astype(str))
            numbers = [x + f"{int(rng.integers(0, 10**10)):010d}" for x in numbers]
            if len(inv_numbers):
                numbers.append(rng.choice(inv_numbers))
            for num in numbers:
                for d in _dates(rng, start, end, int(rng.integers(2, 4))):
                    cat = rng.choice(["office", "meals", "hospitality"])
                    self.claims.append({"employee_id": e, "category": cat, "expense_date": d, "city": home, "invoice_number": num,
                                        "amount": float(np.round(rng.uniform(0.4, 0.95) * getattr(lim.claim_limits, cat))), "tag": sid})

        hol = holidays(ctx)
        for e in self.org["reserved"]["unrotated_scheme"]:  # the long-tenured station manager's favours
            self.used.add(e)
            sid = ctx.new_scheme("unrotated_tenure_favours", ctx.start, ctx.end)
            ctx.add_entities(sid, "employee", [e])
            weekend_days = pd.date_range(ctx.start, ctx.end, freq="W-SAT")
            days = np.concatenate([rng.choice(hol, int(rng.integers(6, 11))), rng.choice(weekend_days, int(rng.integers(6, 11)))])
            for d in days:
                self.claims.append({"employee_id": e, "category": "hospitality", "expense_date": pd.Timestamp(d), "city": home,
                                    "amount": float(np.round(rng.uniform(0.9, 0.995) * lim.claim_limits.hospitality, -1)), "tag": sid})
            for d in rng.choice(hol, int(rng.integers(4, 9))):
                self.claims.append({"employee_id": e, "category": "fuel", "expense_date": pd.Timestamp(d), "city": home,
                                    "amount": float(np.round(rng.uniform(0.85, 0.99) * lim.claim_limits.fuel, -1)), "tag": sid})
        for e in self.org["reserved"]["unrotated_lookalike"]:
            lid = ctx.new_lookalike("remote_station_tenure", "unrotated_tenure_favours")
            ctx.add_lookalike_entities(lid, "employee", [e])

    def record_claims(self, specs: pd.DataFrame) -> None:
        for tag, g in specs[specs.tag.notna()].groupby("tag"):
            (self.ctx.add_entities if tag.startswith("SCH") else self.ctx.add_lookalike_entities)(tag, "claim", g.claim_id)
        # look-alike: station staff claiming on weekends in the season, as the season requires
        rng = self.ctx.rng("schemes.weekend")
        r = self.org["roster"]
        sm = r[(r.post_code == "station_manager") & ~r.employee_id.isin(self.used)].employee_id.unique()
        wk = specs[(specs.expense_date.dt.day_of_week >= 5) & specs.expense_date.dt.month.isin([10, 11]) & specs.tag.isna()]
        for e in rng.choice(sm, min(len(sm), self.ctx.preset.lookalikes), replace=False):
            lid = self.ctx.new_lookalike("season_weekend_work", "unrotated_tenure_favours")
            self.ctx.add_lookalike_entities(lid, "employee", [e])
            self.ctx.add_lookalike_entities(lid, "claim", wk.claim_id[wk.employee_id == e])

    # -- leaf schemes ---------------------------------------------------------------------------------
    def plant_leaf(self, station_info: pd.DataFrame) -> set[str]:
        """Plant leaf schemes; returns the busy stations (benign late hours). Adjusts station quality for look-alikes."""
        ctx, n = self.ctx, self.ctx.preset.schemes
        rng = ctx.rng("schemes.leaf")
        r = self.org["roster"]
        st = station_info.set_index("department_id").station_id
        grow = self.grow
        taken_stations: set[str] = set()

        def grader_run(post: str) -> tuple[str, str, list[int]]:
            """A holder of ``post`` who stays at one station for at least two seasons."""
            rr = r[(r.post_code == post) & r.ryear.isin(ctx.years) & ~r.employee_id.isin(self.used)]
            runs = rr.groupby(["employee_id", "department_id"]).ryear.apply(sorted)
            runs = runs[runs.apply(len) >= min(2, len(ctx.years))]
            runs = runs[~runs.index.get_level_values(1).map(st).isin(taken_stations)]
            e, dept = runs.index[rng.integers(len(runs))]
            years = runs[(e, dept)]
            first = int(rng.integers(0, max(1, len(years) - 1)))
            self.used.add(e)
            return e, st[dept], years[first:first + int(rng.integers(2, 4))]

        for k in range(n):
            for kind, scheme_type in (("up", "leaf_upgrading"), ("down", "leaf_downgrading")):
                e, station, years = grader_run("grader")
                taken_stations.add(station)
                pool = grow[(grow.station_id == station) & ~grow.is_cooperative]
                chosen = pool.sample(int(rng.integers(6, 15) if kind == "up" else rng.integers(15, 30)), random_state=int(rng.integers(1 << 31)))
                if kind == "up":  # favoured growers are kin: same surname, one shares the grader's phone or account
                    surname = self.emp.name[e][0]
                    grow.loc[chosen.index, "name"] = [surname + nm[1:] for nm in chosen.name]
                    i0 = chosen.index[0]
                    if k % 2 == 0:
                        grow.loc[i0, "phone"] = idn.phone_variant(self.emp.phone[e], k + 1)
                    else:
                        grow.loc[i0, "bank_account"] = self.emp.bank_account[e]
                sid = ctx.new_scheme(scheme_type, f"{years[0]}-09-25", f"{years[-1]}-12-25")
                ctx.add_entities(sid, "employee", [e])
                ctx.add_entities(sid, "grower", chosen.grower_id)
                self.leaf.append(LeafScheme(sid, kind, station, list(years), grader_id=e, growers=list(chosen.grower_id)))
        for k in range(n):
            e, station, years = grader_run("station_manager")
            taken_stations.add(station)
            pool = grow[(grow.station_id == station) & ~grow.is_cooperative]
            chosen = pool.sample(int(rng.integers(3, 9)), random_state=int(rng.integers(1 << 31)))
            outside = grow[(grow.station_id != station) & ~grow.is_cooperative].sample(int(rng.integers(2, 5)), random_state=int(rng.integers(1 << 31)))
            sid = ctx.new_scheme("over_contract_purchase", f"{years[0]}-09-25", f"{years[-1]}-12-25")
            ctx.add_entities(sid, "employee", [e])
            ctx.add_entities(sid, "grower", list(chosen.grower_id) + list(outside.grower_id))
            self.leaf.append(LeafScheme(sid, "over", station, list(years), growers=list(chosen.grower_id), outsiders=list(outside.grower_id)))

        # look-alikes: stations whose leaf really is better; cooperatives delivering a lot; busy stations open late
        free = station_info[~station_info.station_id.isin(taken_stations)]
        m = min(ctx.preset.lookalikes, len(free) // 3)
        better = free.sample(m, random_state=int(rng.integers(1 << 31)))
        station_info.loc[better.index, "quality"] += 0.7
        for row in better.itertuples():
            lid = ctx.new_lookalike("better_leaf_station", "leaf_upgrading")
            graders = r[(r.post_code == "grader") & (r.department_id == row.department_id)].employee_id
            ctx.add_lookalike_entities(lid, "employee", graders[~graders.isin(self.used)])
        coops = grow[grow.is_cooperative]
        if len(coops):
            lid = ctx.new_lookalike("cooperative_volume", "over_contract_purchase")
            ctx.add_lookalike_entities(lid, "grower", coops.grower_id)
        busy = station_info[~station_info.station_id.isin(taken_stations)].nlargest(m, "size")
        for row in busy.itertuples():
            lid = ctx.new_lookalike("busy_station_late_hours", "over_contract_purchase")
            managers = r[(r.post_code == "station_manager") & (r.department_id == row.department_id)].employee_id
            ctx.add_lookalike_entities(lid, "employee", managers[~managers.isin(self.used)])
        return set(busy.station_id)

    def frequent_travellers(self) -> dict[str, float]:
        """Look-alike: people who really travel a lot (every trip approved)."""
        rng = self.ctx.rng("schemes.travellers")
        r = self.org["roster"]
        pool = r[r.post_code.isin(["technician", "manager"]) & ~r.employee_id.isin(self.used)].employee_id.unique()
        who = rng.choice(pool, min(len(pool), self.ctx.preset.lookalikes), replace=False)
        for e in who:
            lid = self.ctx.new_lookalike("frequent_traveller", "fake_travel_claims")
            self.ctx.add_lookalike_entities(lid, "employee", [e])
        return {e: 12.0 for e in who}
