"""Business trips and expense claims.

Claims come from specs too (one row per claim) so that planted claims share the
code path with ordinary ones.
"""

from __future__ import annotations

import datetime as dt

import chinese_calendar
import numpy as np
import pandas as pd

from riskmodel.data.synthetic.base import Context, random_dates, rotation_year
from riskmodel.data.synthetic.procurement import _fapiao_numbers

CITIES = np.array(["北京", "上海", "长春", "沈阳", "大连", "齐齐哈尔", "牡丹江", "佳木斯", "大庆", "昆明", "郑州", "广州", "杭州", "成都"])
CITY_W = np.array([12, 6, 6, 6, 4, 8, 8, 6, 6, 4, 3, 3, 2, 2], dtype=float)
PURPOSES = np.array(["参加全省烟叶工作会议", "烟叶收购工作调研", "物资采购考察", "参加业务培训", "烟叶调拨对接", "技术交流", "审计对接", "招标项目现场考察"])
TRIPS_PER_YEAR = {"leader": 8, "manager": 6, "procurement_officer": 6, "technician": 4, "station_manager": 3, "inspector": 3,
                  "accountant": 1.5, "hr_officer": 1.5, "education_officer": 1.5, "clerk": 0.8}
# (category, posts, claims per year, log-mean amount, log-sd)
LOCAL = [
    ("hospitality", ("leader", "manager", "station_manager"), 6, np.log(700), 0.5),
    ("fuel", ("driver", "station_manager"), 18, np.log(320), 0.35),
    ("toll", ("driver",), 10, np.log(120), 0.5),
    ("office", ("clerk", "education_officer", "hr_officer"), 3, np.log(260), 0.6),
    ("meals", ("grader", "weigher", "cashier", "station_manager"), 4, np.log(120), 0.4),
]
DESCRIPTIONS = {"travel": "差旅交通费", "lodging": "住宿费", "meals": "餐费", "hospitality": "业务招待费", "fuel": "车辆燃油费",
                "toll": "过路过桥费", "office": "办公用品费"}
CLAIM_COLUMNS = ["employee_id", "category", "expense_date", "city", "amount", "trip_id", "invoice_number", "approver_id", "tag"]


def holidays(ctx: Context) -> pd.DatetimeIndex:
    """Statutory holidays (not make-up workdays) in the window, from a maintained calendar."""
    days = chinese_calendar.get_holidays(ctx.start.date(), min(ctx.end.date(), dt.date(2026, 12, 31)), include_weekends=False)
    return pd.DatetimeIndex(days)


def trips(ctx: Context, org: dict, extra_per_year: dict[str, float] | None = None) -> pd.DataFrame:
    """Approved business trips, by post; ``extra_per_year`` gives some employees many more (frequent travellers)."""
    rng = ctx.rng("reimbursement.trips")
    roster = org["roster"]
    frames = []
    for year in ctx.years:
        r = roster[roster.ryear == year]
        lam = r.post_code.map(TRIPS_PER_YEAR).fillna(0.3).to_numpy()
        if extra_per_year:
            lam = lam + r.employee_id.map(extra_per_year).fillna(0).to_numpy()
        k = rng.poisson(lam)
        who = np.repeat(r.employee_id.to_numpy(), k)
        start = random_dates(rng, f"{year}-01-01", f"{year}-12-31", len(who), {2: 0.4, 10: 0.6, 11: 0.7})
        frames.append(pd.DataFrame({"employee_id": who, "start_date": start}))
    t = pd.concat(frames, ignore_index=True).sort_values("start_date", ignore_index=True)
    n = len(t)
    t["end_date"] = t.start_date + pd.to_timedelta(rng.integers(0, 5, n), unit="D")
    t = t[t.end_date <= ctx.end]
    # one trip at a time per person: drop overlaps
    prev_end = t.groupby("employee_id").end_date.shift()
    t = t[prev_end.isna() | (t.start_date > prev_end)].reset_index(drop=True)
    n = len(t)
    t["destination_city"] = rng.choice(CITIES, n, p=CITY_W / CITY_W.sum())
    t["purpose"] = rng.choice(PURPOSES, n)
    t["approver_id"] = approver_for(org, t.employee_id, t.start_date)
    t.insert(0, "trip_id", ctx.ids("TR", n, 6))
    return t[["trip_id", "employee_id", "approver_id", "destination_city", "start_date", "end_date", "purpose"]]


def approver_for(org: dict, employee: pd.Series, dates: pd.Series) -> np.ndarray:
    """The head of the employee's department at that date; heads and leaders go to the first leader."""
    roster = org["roster"]
    ry = rotation_year(dates)
    where = roster.set_index(["ryear", "employee_id"]).department_id
    dept = where.reindex(pd.MultiIndex.from_arrays([ry, np.asarray(employee)])).to_numpy()
    heads = roster[roster.post_code == "manager"].set_index(["ryear", "department_id"]).employee_id
    head = heads.reindex(pd.MultiIndex.from_arrays([ry, dept])).to_numpy()
    top = roster[roster.post_code == "leader"].employee_id.iloc[0]
    out = np.where(pd.isna(head) | (head == np.asarray(employee)), top, head)
    second = roster[roster.post_code == "leader"].employee_id.unique()[1]
    return np.where(out == np.asarray(employee), second, out)


def trip_claims(ctx: Context, trips_df: pd.DataFrame) -> pd.DataFrame:
    """Transport once per trip, lodging per night, meals per day, in the destination city."""
    rng = ctx.rng("reimbursement.trip_claims")
    lim = ctx.settings.policy.claim_limits
    days = (trips_df.end_date - trips_df.start_date).dt.days.to_numpy() + 1
    travel = pd.DataFrame({"employee_id": trips_df.employee_id, "category": "travel", "expense_date": trips_df.start_date,
                           "city": trips_df.destination_city, "amount": np.round(np.minimum(rng.lognormal(np.log(700), 0.5, len(days)), lim.travel * 0.98), 0),
                           "trip_id": trips_df.trip_id})
    idx = np.repeat(np.arange(len(days)), days)
    offset = np.concatenate([np.arange(d) for d in days]) if len(days) else np.array([], int)
    per_day = trips_df.iloc[idx].reset_index(drop=True)
    day = per_day.start_date + pd.to_timedelta(offset, unit="D")
    meals = pd.DataFrame({"employee_id": per_day.employee_id, "category": "meals", "expense_date": day, "city": per_day.destination_city,
                          "amount": np.round(rng.uniform(60, 160, len(day)), 0), "trip_id": per_day.trip_id})
    night = offset < np.repeat(np.maximum(days - 1, 1), days)
    lodging = pd.DataFrame({"employee_id": per_day.employee_id, "category": "lodging", "expense_date": day, "city": per_day.destination_city,
                            "amount": np.round(np.minimum(rng.lognormal(np.log(330), 0.2, len(day)), lim.lodging), 0), "trip_id": per_day.trip_id})[night]
    return pd.concat([travel, meals, lodging], ignore_index=True)


def local_claims(ctx: Context, org: dict, station_depts: set, season) -> pd.DataFrame:
    """Claims at home: hospitality, fuel, tolls, office supplies, overtime meals (more in the leaf season)."""
    rng = ctx.rng("reimbursement.local")
    roster = org["roster"]
    lim = ctx.settings.policy.claim_limits
    frames = []
    for year in ctx.years:
        r = roster[roster.ryear == year]
        for cat, posts, per_year, mu, sd in LOCAL:
            rr = r[r.post_code.isin(posts)]
            k = rng.poisson(per_year, len(rr))
            who = np.repeat(rr.employee_id.to_numpy(), k)
            at_station = np.repeat(rr.department_id.isin(station_depts).to_numpy(), k)
            # station staff claim mostly in the purchasing season, weekends included (the season does not stop on Sunday)
            d_any = random_dates(rng, f"{year}-01-01", f"{year}-12-31", len(who))
            d_season = random_dates(rng, f"{year}-{season[0]}", f"{year}-{season[1]}", len(who))
            d = pd.DatetimeIndex(np.where(at_station & (rng.random(len(who)) < 0.7), d_season, d_any))
            # office staff rarely claim on weekends
            wk = d.day_of_week >= 5
            d = pd.DatetimeIndex(np.where(wk & ~at_station & (rng.random(len(who)) < 0.85), d - pd.to_timedelta(d.day_of_week - 4, unit="D"), d))
            amount = np.minimum(rng.lognormal(mu, sd, len(who)), getattr(lim, cat) * rng.uniform(0.6, 1.0, len(who)))
            frames.append(pd.DataFrame({"employee_id": who, "category": cat, "expense_date": d, "city": ctx.settings.policy.home_city,
                                        "amount": np.round(amount, 1), "trip_id": None}))
    return pd.concat(frames, ignore_index=True)


def materialise(ctx: Context, specs: pd.DataFrame, org: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Claims table from claim specs; returns the table and specs with their ``claim_id``."""
    rng = ctx.rng("reimbursement.materialise")
    s = specs.sort_values("expense_date", kind="stable").reset_index(drop=True).copy()
    s = s[(s.expense_date >= ctx.start) & (s.expense_date <= ctx.end)].reset_index(drop=True)
    n = len(s)
    s["claim_id"] = ctx.ids("CL", n, 7)
    s["submit_date"] = (s.expense_date + pd.to_timedelta(rng.integers(1, 30, n), unit="D")).clip(upper=ctx.end)
    s["invoice_number"] = s.invoice_number.where(s.invoice_number.notna(), pd.Series(_fapiao_numbers(rng, n)))
    s["approver_id"] = s.approver_id.where(s.approver_id.notna(), pd.Series(approver_for(org, s.employee_id, s.expense_date)))
    s["description"] = s.category.map(DESCRIPTIONS) + np.where(s.city.eq(ctx.settings.policy.home_city), "", "（" + s.city + "）")
    claims = s[["claim_id", "employee_id", "approver_id", "category", "expense_date", "submit_date", "city", "amount",
                "invoice_number", "trip_id", "description"]].copy()
    return claims, s
