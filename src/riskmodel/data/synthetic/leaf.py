"""Leaf purchasing: growers, contracts, station plans, grade prices and purchase transactions.

Purchases are the largest table; :func:`purchases` yields them one chunk of
stations at a time so the ``large`` preset is generated with bounded memory.
Planted leaf schemes are given as :class:`LeafScheme` and applied inside the
chunk that holds their station.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from riskmodel.data.synthetic import identity as idn
from riskmodel.data.synthetic.base import Context

GRADE_BASE = {"B1F": 31.0, "B2F": 27.5, "B3F": 23.5, "B4F": 18.5, "C1F": 36.0, "C2F": 32.5, "C3F": 29.0, "C4F": 24.5,
              "X1F": 25.0, "X2F": 21.5, "X3F": 17.5, "X4F": 13.5}
POSITIONS = np.array(["B", "C", "X"])
SEASON = ("09-25", "12-25")
_MONTH_W = {9: 0.5, 10: 1.6, 11: 1.4, 12: 0.7}


@dataclass
class LeafScheme:
    """A planted leaf scheme: ``kind`` is 'up' (人情烟), 'down' (压级压价) or 'over' (超合同/无合同, night buying)."""

    scheme_id: str
    kind: str
    station_id: str
    years: list[int]
    grader_id: str | None = None
    growers: list[str] = field(default_factory=list)
    outsiders: list[str] = field(default_factory=list)  # growers from other stations (跨区收购)


def grade_prices(ctx: Context) -> pd.DataFrame:
    rows = [(y, g, round(p * 1.03 ** (y - ctx.years[0]), 2)) for y in ctx.years for g, p in GRADE_BASE.items()]
    return pd.DataFrame(rows, columns=["year", "grade", "price_per_kg"])


def growers(ctx: Context, station_info: pd.DataFrame) -> pd.DataFrame:
    rng = ctx.rng("leaf.growers")
    n = ctx.preset.n_growers
    w = station_info["size"].to_numpy()
    st = np.sort(rng.choice(len(station_info), n, p=w / w.sum()))
    county = station_info.county.to_numpy()[st]
    town = station_info.township.to_numpy()[st]
    coop = rng.random(n) < 0.03
    name, gender = idn.names(rng, n, np.where(rng.random(n) < 0.8, "男", "女"))
    coop_name = np.char.add(np.char.add(town.astype(str), np.char.zfill(np.arange(n).astype(str) , 1)), "烟叶种植专业合作社")
    birth = pd.Timestamp("1955-01-01") + pd.to_timedelta(rng.integers(0, 40 * 365, n), unit="D")
    return pd.DataFrame({
        "grower_id": ctx.ids("G", n, 6), "name": np.where(coop, coop_name, name),
        "id_number": idn.id_numbers(rng, birth, gender, county), "phone": idn.mobile_phones(rng, n),
        "address": idn.rural_addresses(rng, county, town), "bank_account": idn.bank_accounts(rng, n),
        "station_id": station_info.station_id.to_numpy()[st], "is_cooperative": coop,
        "skill": rng.normal(0, 0.3, n),
    })


def contracts(ctx: Context, grow: pd.DataFrame) -> pd.DataFrame:
    rng = ctx.rng("leaf.contracts")
    frames = []
    for year in ctx.years:
        g = grow[rng.random(len(grow)) < 0.95]
        area = np.round(rng.lognormal(np.log(25), 0.55, len(g)) * np.where(g.is_cooperative, 12, 1), 1)
        frames.append(pd.DataFrame({"grower_id": g.grower_id.to_numpy(), "station_id": g.station_id.to_numpy(), "year": year,
                                    "area_mu": area, "contracted_kg": np.round(area * rng.uniform(130, 170, len(g)), -1)}))
    c = pd.concat(frames, ignore_index=True)
    c.insert(0, "contract_id", ctx.ids("GC", len(c), 7))
    return c


def station_plans(ctx: Context, con: pd.DataFrame) -> pd.DataFrame:
    rng = ctx.rng("leaf.plans")
    p = con.groupby(["station_id", "year"], as_index=False).contracted_kg.sum()
    p["plan_kg"] = np.round(p.contracted_kg * rng.uniform(0.98, 1.06, len(p)), -2)
    return p[["station_id", "year", "plan_kg"]]


def purchases(ctx: Context, org: dict, grow: pd.DataFrame, con: pd.DataFrame, prices: pd.DataFrame,
              schemes: list[LeafScheme], busy_stations: set[str]) -> Iterator[tuple[pd.DataFrame, dict[str, np.ndarray]]]:
    """Yield ``(purchases, {scheme_id: purchase_ids})`` one chunk of stations at a time."""
    info = org["station_info"]
    roster = org["roster"]
    graders = roster[roster.post_code == "grader"].merge(info[["station_id", "department_id"]], on="department_id")
    price = prices.set_index(["year", "grade"]).price_per_kg
    quality = info.set_index("station_id").quality
    step = ctx.preset.chunk_stations
    ids = info.station_id.to_numpy()
    for c0 in range(0, len(ids), step):
        chunk = set(ids[c0:c0 + step])
        rng = ctx.rng(f"leaf.purchases.{c0}")
        cc = con[con.station_id.isin(chunk)]
        cc = cc.merge(grow[["grower_id", "skill", "is_cooperative"]], on="grower_id")
        over = {}
        for s in schemes:
            if s.kind == "over" and s.station_id in chunk:
                for g in s.growers:
                    over[g] = s
        # production: most deliver a little under contract; planted growers far above
        mult = rng.uniform(0.82, 1.03, len(cc))
        in_over = cc.grower_id.isin(over) & cc.year.isin({y for s in schemes if s.kind == "over" for y in s.years})
        mult = np.where(in_over, rng.uniform(1.6, 2.8, len(cc)), mult)
        cc = cc.assign(produced=cc.contracted_kg * mult)
        # outsiders sell at a scheme station without a contract there (cross-area purchasing)
        extra = []
        for s in schemes:
            if s.kind == "over" and s.station_id in chunk and s.outsiders:
                for y in s.years:
                    extra.append(pd.DataFrame({"grower_id": s.outsiders, "station_id": s.station_id, "year": y, "contract_id": None,
                                               "skill": 0.0, "is_cooperative": False, "produced": rng.uniform(1500, 5000, len(s.outsiders))}))
        if extra:
            cc = pd.concat([cc, *extra], ignore_index=True)
        visits = 1 + rng.poisson(ctx.preset.visits_per_grower - 1, len(cc)) + np.where(cc.is_cooperative, 6, 0)
        lots = rng.integers(2, 5, visits.sum())
        # visit level
        v_idx = np.repeat(np.arange(len(cc)), visits)
        v = cc.iloc[v_idx].reset_index(drop=True)
        day = np.empty(len(v), dtype="datetime64[ns]")
        for y in ctx.years:
            m = (v.year == y).to_numpy()
            from riskmodel.data.synthetic.base import random_dates
            day[m] = random_dates(rng, f"{y}-{SEASON[0]}", f"{y}-{SEASON[1]}", int(m.sum()), _MONTH_W).to_numpy()
        v["day"] = pd.DatetimeIndex(day)
        # grader on duty: a random grader of that station in that rotation year
        v["ryear"] = v.year  # the season (Sep–Dec) lies in rotation year = calendar year
        g = graders[graders.station_id.isin(chunk)][["ryear", "station_id", "employee_id"]]
        g = g.assign(_k=g.groupby(["ryear", "station_id"]).cumcount())
        nk = g.groupby(["ryear", "station_id"])._k.max().add(1)
        v["_k"] = (rng.random(len(v)) * nk.reindex(pd.MultiIndex.from_frame(v[["ryear", "station_id"]])).to_numpy()).astype(int)
        v = v.merge(g, on=["ryear", "station_id", "_k"], how="left").rename(columns={"employee_id": "grader_id"})
        # favoured / pressed growers go to their grader (they wait for his queue)
        for s in schemes:
            if s.kind in ("up", "down") and s.station_id in chunk:
                m = v.grower_id.isin(s.growers) & v.year.isin(s.years)
                v.loc[m & (rng.random(len(v)) < 0.85), "grader_id"] = s.grader_id
        # lot level
        l_idx = np.repeat(np.arange(len(v)), lots)
        lot = v.iloc[l_idx].reset_index(drop=True)
        n = len(lot)
        weight = lot.produced.to_numpy() / np.repeat(visits, 1)[v_idx][l_idx] / np.repeat(lots, lots) * rng.uniform(0.7, 1.3, n)
        pos = rng.choice(POSITIONS, n, p=[0.35, 0.42, 0.23])
        q = quality.reindex(lot.station_id).to_numpy() + lot.skill.to_numpy() + rng.normal(0, 0.55, n)
        level = np.clip(np.round(2.6 - 1.3 * q), 1, 4).astype(int)
        flags = {}
        for s in schemes:
            if s.kind in ("up", "down") and s.station_id in chunk:
                m = (lot.grader_id.eq(s.grader_id) & lot.grower_id.isin(s.growers) & lot.year.isin(s.years)).to_numpy()
                shift = m & (rng.random(n) < 0.8)
                level = np.where(shift, np.clip(level + (-1 if s.kind == "up" else 1), 1, 4), level)
                flags[s.scheme_id] = shift
        grade = np.char.add(np.char.add(pos.astype(str), level.astype(str)), "F")
        # time of day: opening hours; busy stations stay open late in the peak; planted night buying
        minutes = rng.integers(7 * 60 + 20, 17 * 60 + 40, n)
        busy = lot.station_id.isin(busy_stations).to_numpy() & lot.day.dt.month.isin([10, 11]).to_numpy()
        minutes = np.where(busy & (rng.random(n) < 0.12), rng.integers(18 * 60, 19 * 60 + 30, n), minutes)
        for s in schemes:
            if s.kind == "over" and s.station_id in chunk:
                m = (lot.grower_id.isin(s.growers + s.outsiders) & lot.year.isin(s.years) & lot.station_id.eq(s.station_id)).to_numpy()
                night = m & (rng.random(n) < 0.45)
                minutes = np.where(night, rng.integers(21 * 60, 26 * 60, n) % 1440, minutes)
                flags[s.scheme_id] = m
        ts = lot.day + pd.to_timedelta(minutes, unit="m") + pd.to_timedelta(rng.integers(0, 60, n), unit="s")
        ts = ts + pd.to_timedelta(np.where(minutes < 7 * 60, 1, 0), unit="D")  # after midnight: next day
        unit_price = price.reindex(pd.MultiIndex.from_arrays([lot.year.to_numpy(), grade])).to_numpy()
        w = np.round(weight, 1)
        out = pd.DataFrame({"station_id": lot.station_id, "grader_id": lot.grader_id, "grower_id": lot.grower_id,
                            "contract_id": lot.contract_id, "purchased_at": ts, "grade": grade, "weight_kg": w,
                            "unit_price": unit_price, "amount": np.round(w * unit_price, 2)})
        order = np.argsort(out.purchased_at.to_numpy(), kind="stable")
        out = out.iloc[order].reset_index(drop=True)
        out.insert(0, "purchase_id", ctx.ids("LP", len(out), 9))
        yield out, {k: out.purchase_id.to_numpy()[np.asarray(f)[order]] for k, f in flags.items()}
