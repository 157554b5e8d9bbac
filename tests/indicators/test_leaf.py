"""Golden fixtures for the leaf-purchasing family (LEAF-…)."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest

from riskmodel.data.dataset import Dataset
from riskmodel.indicators import leaf
from riskmodel.indicators.registry import all_indicators
from riskmodel.indicators.runner import compute_flags
from riskmodel.settings import load_settings
from tests.indicators.golden import Case, check_case, frame, run_case

SEASON = "2024-10-{:02d} {}"
LEAF_IDS = [f"LEAF-00{k}" for k in range(1, 10)]
# a grower's leaf over twelve lots: mostly level 3, some 2 and 4 (the same pattern for every ordinary grower)
PATTERN = (3, 2, 3, 4, 3, 2, 3, 3, 4, 2, 3, 3)


def _lot(i: int, station: str, grader: str, grower: str, level: int, year: int = 2024, **kw) -> dict:
    return {"purchase_id": f"{station}-{year}-{i:05d}", "station_id": station, "grader_id": grader, "grower_id": grower,
            "purchased_at": SEASON.replace("2024", str(year)).format(1 + i % 28, "10:00"),
            "grade": f"C{min(max(level, 1), 4)}F", "weight_kg": 100.0, **kw}


def grading_station(station: str, favoured: dict[str, int], lookalike: dict[str, int], n_ordinary: int = 60,
                    n_regulars: int = 0, year: int = 2024) -> list[dict]:
    """Lots of one station and season (``year``) with graders A, B, C.

    Ordinary growers' twelve lots go round the three graders in turn.  ``favoured`` growers bring nine lots to A,
    who shifts their level by the given amount (−1: one level better), and three to B and C, who grade them as
    everyone else.  ``lookalike`` growers also bring nine lots to A, but their leaf itself is shifted for every grader
    (really better or poorer leaf), so nothing is A's doing.  ``n_regulars`` more growers bring nine lots to A and
    are graded by him as by everyone else.
    """
    graders = [f"{station}A", f"{station}B", f"{station}C"]
    rows, i = [], itertools.count()
    for g in range(n_ordinary):
        for k, lvl in enumerate(PATTERN):
            rows.append(_lot(next(i), station, graders[k % 3], f"{station}-O{g:02d}", lvl, year))
    for grower, shift in favoured.items():
        for k, lvl in enumerate(PATTERN):
            by_a = k < 9
            rows.append(_lot(next(i), station, graders[0] if by_a else graders[1 + k % 2], grower, lvl + (shift if by_a else 0),
                             year))
    lookalike = {**lookalike, **{f"{station}-R{k:02d}": 0 for k in range(n_regulars)}}
    for grower, shift in lookalike.items():
        for k, lvl in enumerate(PATTERN):
            rows.append(_lot(next(i), station, graders[0] if k < 9 else graders[1 + k % 2], grower, lvl + shift, year))
    return rows


def grader_station(station: str, graders: dict[str, tuple[int, int, int, int]]) -> list[dict]:
    """Lots of one station and season: each grader's counts of levels 1–4."""
    rows, i = [], itertools.count()
    for grader, counts in graders.items():
        for level, n in enumerate(counts, start=1):
            rows += [_lot(next(i), station, grader, f"G{next(i) % 40:02d}", level) for _ in range(n)]
    return rows


def _contracts(rows: list[tuple[str, str, float, float]], year: int = 2024) -> list[dict]:
    """(contract_id, grower, contracted kg, area mu) at station ST1 unless the grower id says otherwise."""
    return [{"contract_id": c, "grower_id": g, "station_id": g.split(":")[0] if ":" in g else "ST1", "year": year,
             "contracted_kg": kg, "area_mu": mu} for c, g, kg, mu in rows]


def _deliveries(grower: str, station: str, kgs: list[float], contract: str | None, start: int = 0) -> list[dict]:
    return [{"purchase_id": f"{grower}-{start + k}", "grower_id": grower, "station_id": station, "grader_id": "E9",
             "contract_id": contract, "purchased_at": SEASON.format(1 + k, "09:30"), "weight_kg": kg, "grade": "C3F"}
            for k, kg in enumerate(kgs)]


# LEAF-008: eight ordinary stations, each a little over on one grower; ST9 buys a good deal without contracts.
_STATIONS = [f"S{k}" for k in range(1, 10)]
_L008_CONTRACTS = [{"contract_id": f"C-{s}-{g}", "grower_id": f"{s}-{g}", "station_id": s, "year": 2024,
                    "contracted_kg": 1000.0, "area_mu": 7.0} for s in _STATIONS for g in range(3)]
_L008_LOTS = [lot for s in _STATIONS for g in range(3)
              for lot in _deliveries(f"{s}-{g}", s, [500.0, 500.0 + (5.0 * (_STATIONS.index(s) + 1) if g == 0 else 0.0)],
                                     f"C-{s}-{g}")]
_L008_LOTS += _deliveries("OUT-1", "S9", [400.0, 400.0], None)                        # no contract: 800 of 3,800 kg
_L008_LOTS += _deliveries("S8-COOP", "S8", [20_000.0, 19_000.0], "C-S8-COOP")          # a cooperative within contract
_L008_CONTRACTS += [{"contract_id": "C-S8-COOP", "grower_id": "S8-COOP", "station_id": "S8", "year": 2024,
                     "contracted_kg": 40_000.0, "area_mu": 280.0}]

# LEAF-009: 24 neighbours at ST1 deliver 130–165 kg/mu; one grower 330 kg/mu; a cooperative 150 kg/mu on 300 mu.
_L009_CONTRACTS = [{"contract_id": f"C{k}", "grower_id": f"N{k:02d}", "station_id": "ST1", "year": 2024,
                    "area_mu": 20.0, "contracted_kg": 3000.0} for k in range(24)]
_L009_CONTRACTS += [{"contract_id": "CX", "grower_id": "X1", "station_id": "ST1", "year": 2024, "area_mu": 20.0,
                     "contracted_kg": 6800.0},
                    {"contract_id": "CC", "grower_id": "COOP", "station_id": "ST1", "year": 2024, "area_mu": 300.0,
                     "contracted_kg": 46_000.0}]
_L009_LOTS = [lot for k in range(24) for lot in _deliveries(f"N{k:02d}", "ST1", [20.0 * (130 + (k * 7) % 36)], f"C{k}")]
_L009_LOTS += _deliveries("X1", "ST1", [3300.0, 3300.0], "CX") + _deliveries("COOP", "ST1", [22_500.0, 22_500.0], "CC")

CASES = [
    Case("LEAF-001", "one grader grades far better than his peers; at a better-leaf station every grader grades high", {
        "leaf_purchases": grader_station("ST1", {"E1": (40, 50, 15, 5), "E2": (10, 40, 45, 15), "E3": (12, 38, 45, 15),
                                                 "E4": (10, 42, 43, 15)})
                          + grader_station("ST2", {"F1": (35, 55, 15, 5), "F2": (38, 50, 17, 5), "F3": (36, 54, 15, 5)})},
        fired={"E1"}, silent={"E2", "F1", "F2", "F3"}, params={"min_lots": 50}),
    Case("LEAF-002", "grader A gives six regulars one level better; a regular whose leaf is really better stays silent", {
        "leaf_purchases": grading_station("ST1", {f"FAV{k}": -1 for k in range(6)}, {"GOODLEAF": -1})},
        fired={f"FAV{k}" for k in range(6)}, silent={"GOODLEAF", "ST1-O00"}),
    Case("LEAF-003", "grader A gives six regulars one level worse; a regular whose leaf is really poorer stays silent", {
        "leaf_purchases": grading_station("ST1", {f"PRS{k}": +1 for k in range(6)}, {"POORLEAF": +1})},
        fired={f"PRS{k}" for k in range(6)}, silent={"POORLEAF", "ST1-O00"}),
    Case("LEAF-004", "a grower delivers 1.5x his contract; a cooperative delivers a lot within a large contract", {
        "grower_contracts": _contracts([("C1", "G1", 1000, 7), ("C2", "G2", 1000, 7), ("C3", "COOP", 50_000, 330)]),
        "leaf_purchases": _deliveries("G1", "ST1", [500, 500, 500], "C1") + _deliveries("G2", "ST1", [600, 500], "C2")
                          + _deliveries("COOP", "ST1", [16_000, 16_000, 16_000], "C3")},
        fired={"G1"}, silent={"G2", "COOP"}),
    Case("LEAF-005", "a grower of ST2 sells at ST1 without a contract; a contracted grower with a blank contract_id", {
        "growers": [{"grower_id": "G1", "station_id": "ST2"}, {"grower_id": "G2", "station_id": "ST1"},
                    {"grower_id": "G3", "station_id": "ST1"}],
        "grower_contracts": _contracts([("C2", "G2", 3000, 20), ("C3", "G3", 3000, 20)]),
        "leaf_purchases": _deliveries("G1", "ST1", [800, 900], None) + _deliveries("G2", "ST1", [700], None)
                          + _deliveries("G3", "ST1", [1500], "C3")},
        fired={"G1"}, silent={"G2", "G3"}),
    Case("LEAF-006", "ST1 buys between 22:30 and 00:40; busy ST2 serves its queue until 19:25 in the peak", {
        "leaf_purchases": [
            {"purchase_id": "N1", "station_id": "ST1", "purchased_at": "2024-10-12 22:30"},
            {"purchase_id": "N2", "station_id": "ST1", "purchased_at": "2024-10-13 00:40"},
            {"purchase_id": "N3", "station_id": "ST1", "purchased_at": "2024-10-12 10:00"},
            {"purchase_id": "B1", "station_id": "ST2", "purchased_at": "2024-10-12 18:50"},
            {"purchase_id": "B2", "station_id": "ST2", "purchased_at": "2024-10-12 19:25"},
            {"purchase_id": "B3", "station_id": "ST2", "purchased_at": "2024-10-13 07:05"}]},
        fired={"ST1"}, silent={"ST2"}, policy={"station_hours": ["07:00", "18:00"]}),
    Case("LEAF-007", "ST1 buys 1,200 kg on a plan of 1,000; large ST2 stays within its plan", {
        "station_plans": [{"station_id": "ST1", "year": 2024, "plan_kg": 1000}, {"station_id": "ST2", "year": 2024, "plan_kg": 50_000}],
        "leaf_purchases": _deliveries("G1", "ST1", [600, 600], "C1") + _deliveries("G2", "ST2", [24_000, 24_500], "C2")},
        fired={"ST1"}, silent={"ST2"}),
    Case("LEAF-008", "S9 buys a fifth of its leaf without contracts; S8 with a large cooperative stays with the others", {
        "grower_contracts": _L008_CONTRACTS, "leaf_purchases": _L008_LOTS},
        fired={"S9"}, silent={"S1", "S8"}),
    Case("LEAF-009", "a grower delivers 330 kg/mu among neighbours at 130–165; a cooperative delivers 150 kg/mu on 300 mu", {
        "grower_contracts": _L009_CONTRACTS, "leaf_purchases": _L009_LOTS},
        fired={"X1"}, silent={"COOP", "N00", "N05"}),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.indicator_id}:{c.name[:30]}")
def test_golden(case):
    check_case(case)


def _managers(m1_until: str, m2_from: str) -> dict:
    """Station ST1's department D1 managed by M1 until ``m1_until``, then by M2 from ``m2_from``."""
    return {"positions": [{"position_id": "P04", "post_code": "station_manager", "sensitivity": 3}],
            "post_history": [{"assignment_id": "A1", "employee_id": "M1", "department_id": "D1", "position_id": "P04",
                              "start_date": "2020-03-01", "end_date": m1_until},
                             {"assignment_id": "A2", "employee_id": "M2", "department_id": "D1", "position_id": "P04",
                              "start_date": m2_from, "end_date": None}]}


def test_station_manager_is_linked_to_station_breaches():
    tables = {"leaf_purchases": CASES[5].tables["leaf_purchases"],
              "stations": [{"station_id": "ST1", "department_id": "D1"}, {"station_id": "ST2", "department_id": "D2"}],
              **_managers("2024-02-29", "2024-03-01")}
    flags = run_case(Case("LEAF-006", "linked", tables, set(), set()))
    assert flags.loc[flags.fired, "employee_id"].tolist() == ["M2"]


def test_favour_needs_the_graders_circle_not_one_lucky_grower():
    # one favoured grower among eight regulars graded fairly: the pair is compared, but the grader is not significant
    rows = grading_station("ST1", {"FAV0": -1}, {}, n_regulars=8)
    flags = run_case(Case("LEAF-002", "one", {"leaf_purchases": rows}, set(), set()))
    assert not flags.fired.any()
    assert "FAV0" in set(flags.entity_id)


def test_off_hours_minutes_wrap_round_midnight():
    flags = run_case(CASES[5])
    night = flags[flags.entity_id == "ST1"].iloc[0]
    assert night.value == pytest.approx(6 * 60 + 20)  # 00:40: 6 h 40 min after 18:00, 6 h 20 min before 07:00
    assert set(night.evidence) == {"N1", "N2"}


def test_bh_adjust_matches_scipy():
    p = np.array([0.001, 0.2, 0.03, np.nan, 0.04])
    q = leaf.bh_adjust(p)
    assert np.isnan(q[3]) and q[0] == pytest.approx(0.004) and q[2] == pytest.approx(0.05333, rel=1e-3)


# -- when a flag is dated: never before its evidence is complete -------------------------------------------------------
#: the unit whose last purchase of the season a row's value is computed from (LEAF-001: the grader and his peers at
#: the station; LEAF-005, LEAF-006: the evidence says it)
UNIT = {"LEAF-001": ["station_id"], "LEAF-002": ["station_id", "grader_id", "grower_id"],
        "LEAF-003": ["station_id", "grader_id", "grower_id"], "LEAF-004": ["grower_id"], "LEAF-007": ["station_id"],
        "LEAF-008": ["station_id"], "LEAF-009": ["grower_id"]}


def assert_dated_after_evidence(flags: pd.DataFrame, lots: pd.DataFrame) -> int:
    """Every row is dated at or after its evidence lots and the last lot of its unit that season; returns the rows
    checked (vectorised: one merge per kind of unit)."""
    f = flags.reset_index(drop=True).assign(yr=lambda d: d.period.dt.year, grader_id=lambda d: d.employee_id)
    lots = lots.assign(yr=lots.purchased_at.dt.year)
    ev = f.evidence.explode().dropna()
    last = pd.Series(pd.Timestamp.min, index=f.index)
    if len(ev):
        last = last.combine(ev.map(lots.set_index("purchase_id").purchased_at).groupby(level=0).max(), max,
                            fill_value=pd.Timestamp.min)
    for iid, keys in UNIT.items():
        rows = f[f.indicator_id == iid]
        if rows.empty:
            continue
        unit = lots.groupby([*keys, "yr"]).purchased_at.max().rename("unit_last").reset_index()
        m = rows[[*keys, "yr"]].astype({k: str for k in keys}).reset_index().merge(
            unit.astype({k: str for k in keys}), on=[*keys, "yr"], how="left").set_index("index").unit_last
        assert m.notna().all(), f"{iid}: rows without lots of their unit in the season"
        last[m.index] = np.maximum(last[m.index].to_numpy(), m.to_numpy())
    early = f.period < last
    assert not early.any(), ("dated before their evidence (look-ahead):\n"
                             + f.loc[early, ["indicator_id", "entity_id", "period"]].assign(last=last[early]).head().to_string())
    return len(f)


@pytest.mark.parametrize("case", [c for c in CASES if "leaf_purchases" in c.tables], ids=lambda c: c.indicator_id)
def test_no_flag_is_dated_before_its_last_evidence_lot(case):
    flags = run_case(case)
    lots = frame("leaf_purchases", case.tables["leaf_purchases"])
    assert assert_dated_after_evidence(flags, lots) == len(flags) > 0


def test_small_company_leaf_flags_are_dated_after_their_evidence(small_company):
    data = Dataset.from_dir(small_company)
    flags, _ = compute_flags(data, only=LEAF_IDS)
    lots = data.table("leaf_purchases")
    lots["purchased_at"] = pd.to_datetime(lots.purchased_at)
    assert len(set(flags.loc[flags.fired, "indicator_id"])) >= 4 and set(flags.indicator_id) >= set(LEAF_IDS) - {"LEAF-001"}
    assert assert_dated_after_evidence(flags, lots) == len(flags)
    # a season's flags land in the quarter of its last purchase, never in the quarters before it
    season_end = lots.groupby(lots.purchased_at.dt.year).purchased_at.max()
    q = pd.to_datetime(flags.period).dt.to_period("Q")
    first_q = pd.to_datetime(flags.period.dt.year.map(lots.groupby(lots.purchased_at.dt.year).purchased_at.min())).dt.to_period("Q")
    assert (q >= first_q).all()
    seasonal = flags[flags.indicator_id.isin(["LEAF-001", "LEAF-002", "LEAF-003"])]
    assert (seasonal.period == seasonal.period.dt.year.map(season_end)).all()


# -- a season's results are final when the season ends: later seasons never change them ------------------------------
_SEASONAL = {"leaf_purchases": "purchased_at", "grower_contracts": "year", "station_plans": "year"}


def _with_next_season(tables: dict[str, list[dict]]) -> dict[str, list[dict]]:
    """The tables plus a different next season: a year later, every third lot left out, weights up 30 %."""
    out = {}
    for name, rows in tables.items():
        nxt = []
        if name in _SEASONAL:
            for k, r in enumerate(rows):
                if name == "leaf_purchases" and k % 3 == 1:
                    continue
                r = dict(r)
                if name == "leaf_purchases":
                    r["purchased_at"] = pd.Timestamp(r["purchased_at"]) + pd.DateOffset(years=1)
                    r["purchase_id"] = f"{r['purchase_id']}-next"
                    if "weight_kg" in r:
                        r["weight_kg"] = r["weight_kg"] * 1.3
                else:
                    r["year"] = r["year"] + 1
                if r.get("contract_id"):
                    r["contract_id"] = f"{r['contract_id']}-next"
                nxt.append(r)
        out[name] = list(rows) + nxt
    return out


def _comparable(flags: pd.DataFrame) -> pd.DataFrame:
    f = flags.assign(evidence=flags.evidence.map(tuple))
    return f.sort_values(["entity_id", "period", "employee_id", "station_id"], kind="stable").reset_index(drop=True)


# LEAF-008's fence is Tukey's over all station-years (the base class derives data-driven thresholds from every row),
# so a later season can move it: left out here until fences are derived per period.
@pytest.mark.parametrize("case", [c for c in CASES if "leaf_purchases" in c.tables and c.indicator_id != "LEAF-008"],
                         ids=lambda c: c.indicator_id)
def test_a_later_season_never_changes_an_earlier_seasons_result(case):
    cls = all_indicators()[case.indicator_id]
    settings = load_settings(overrides={"policy": case.policy} if case.policy else None)
    alone = Dataset.from_frames({n: frame(n, r) for n, r in case.tables.items()})
    both = Dataset.from_frames({n: frame(n, r) for n, r in _with_next_season(case.tables).items()})
    ind = cls(policy=settings.policy, **case.params)
    a, b = ind.compute(alone), ind.compute(both)
    later = pd.to_datetime(b.period).dt.year > pd.to_datetime(a.period).dt.year.max()
    assert later.any(), "the next season is scored too"
    for c in ("evidence",):
        for f in (a, b):
            if c in f:
                f[c] = f[c].map(lambda e: tuple(e) if isinstance(e, (list, tuple, np.ndarray)) else ())  # NULL: none
    keys = [k for k in ("entity_id", "period", "employee_id", "station_id") if k in a]
    pd.testing.assert_frame_equal(a.sort_values(keys).reset_index(drop=True),
                                  b[~later][a.columns].sort_values(keys).reset_index(drop=True), check_dtype=False)


def test_small_company_seasons_are_final_when_they_end(small_tables):
    lots = small_tables["leaf_purchases"]
    years = sorted(pd.to_datetime(lots.purchased_at).dt.year.unique())
    assert len(years) >= 2
    first = years[0]
    tables = {n: small_tables[n] for n in ("leaf_purchases", "grower_contracts", "growers", "station_plans", "stations",
                                           "positions", "post_history")}
    cut = dict(tables, leaf_purchases=lots[pd.to_datetime(lots.purchased_at).dt.year <= first],
               grower_contracts=tables["grower_contracts"][tables["grower_contracts"].year <= first],
               station_plans=tables["station_plans"][tables["station_plans"].year <= first])
    ids = [i for i in LEAF_IDS if i != "LEAF-008"]          # see test_a_later_season_never_changes_an_earlier_seasons_result
    early, _ = compute_flags(Dataset.from_frames(cut), only=ids)
    full, _ = compute_flags(Dataset.from_frames(tables), only=ids)
    full = full[full.period.dt.year <= first]
    assert early.fired.sum() > 0
    pd.testing.assert_frame_equal(_comparable(early), _comparable(full))


# -- LEAF-002 / LEAF-003 season by season ------------------------------------------------------------------------------
def test_a_pair_fires_in_each_season_it_happens_in():
    fav = {f"FAV{k}": -1 for k in range(6)}
    late = {f"LATE{k}": -1 for k in range(6)}        # fair regulars of A in 2024, favoured from 2025
    rows = (grading_station("ST1", fav, {"GOODLEAF": -1, **{g: 0 for g in late}}, year=2024)
            + grading_station("ST1", {**fav, **late}, {"GOODLEAF": -1}, year=2025))
    flags = run_case(Case("LEAF-002", "two seasons", {"leaf_purchases": rows}, set(), set()))
    fired = flags[flags.fired]
    seasons = fired.groupby("entity_id").period.agg(lambda p: sorted(p.dt.year))
    for g in fav:
        assert seasons.get(g) == [2024, 2025], f"{g} is favoured in both seasons: {seasons.get(g)}"
    for g in late:
        assert seasons.get(g) == [2025], f"{g} is favoured from 2025 only: {seasons.get(g)}"
        assert not flags[(flags.entity_id == g) & (flags.period.dt.year == 2024)].fired.any()
    assert "GOODLEAF" not in seasons
    at = frame("leaf_purchases", rows).set_index("purchase_id").purchased_at
    raw = leaf.GraderUpgradesGrower().compute(Dataset.from_frames({"leaf_purchases": frame("leaf_purchases", rows)}))
    seasons = raw.set_index(["grower_id", "year"]).seasons
    for row in fired.itertuples():
        pooled = seasons[(row.entity_id, row.period.year)]
        years = set(at[list(row.evidence)].dt.year)
        assert max(years) == row.period.year and years <= {2024, 2025}, "evidence: the pooled seasons' lots, none later"
        assert row.text_zh.startswith(f"该定级员{pooled}年") and f"in {pooled} " in row.text_en
    # LATE growers were graded fairly in 2024: their 2025 evidence is 2025's alone
    assert all(seasons[(g, 2025)] == "2025" or not raw[(raw.grower_id == g) & (raw.year == 2025)].value.gt(0).any()
               for g in late)
    assert (fired.employee_id == "ST1A").all()


def test_downgrading_fires_per_season_too():
    rows = (grading_station("ST1", {f"PRS{k}": +1 for k in range(6)}, {}, year=2024)
            + grading_station("ST1", {f"PRS{k}": +1 for k in range(3)}, {f"PRS{k}": 0 for k in range(3, 6)}, year=2025))
    flags = run_case(Case("LEAF-003", "two seasons", {"leaf_purchases": rows}, set(), set()))
    fired = flags[flags.fired]
    assert set(fired[fired.period.dt.year == 2024].entity_id) == {f"PRS{k}" for k in range(6)}
    assert set(fired[fired.period.dt.year == 2025].entity_id) <= {f"PRS{k}" for k in range(3)}
    assert fired[fired.period.dt.year == 2025].entity_id.nunique() >= 2


def test_station_manager_is_the_one_in_post_when_the_season_is_complete():
    lots = (_deliveries("G1", "ST1", [600, 600], "C1")                     # 1 and 2 October
            + [{**r, "purchase_id": "late", "purchased_at": "2024-11-20 10:00"} for r in _deliveries("G1", "ST1", [50], "C1")])
    tables = {"leaf_purchases": lots, "station_plans": [{"station_id": "ST1", "year": 2024, "plan_kg": 1000}],
              "stations": [{"station_id": "ST1", "department_id": "D1"}],
              **_managers("2024-10-31", "2024-11-01")}
    flags = run_case(Case("LEAF-007", "rotated", tables, set(), set()))
    row = flags[flags.fired].iloc[0]
    assert row.period == pd.Timestamp("2024-11-20 10:00") and row.employee_id == "M2"


def _favour_seasons(years: list[int], n_fav: int = 6, n_regulars: int = 10) -> list[dict]:
    """Grader A of ST1 favours ``n_fav`` of his regulars by one level in each of ``years``; ``n_regulars`` more
    regulars are graded fairly."""
    fav = {f"FAV{k}": -1 for k in range(n_fav)}
    return [lot for y in years for lot in grading_station("ST1", fav, {}, n_regulars=n_regulars, year=y)]


def _favour(rows: list[dict], cls=leaf.GraderUpgradesGrower, **params) -> pd.DataFrame:
    return cls(**params).compute(Dataset.from_frames({"leaf_purchases": frame("leaf_purchases", rows)}))


def test_favour_that_goes_on_accumulates_evidence_across_seasons():
    # Stouffer's sum alone (no circle count test): one season of this circle is not enough (A's circle among his
    # fair regulars, q above alpha) ...
    one = _favour(_favour_seasons([2024]), circle_z=())
    assert not (one.value > 0).any() and (one.grader_q > 0.05).all()
    # ... two seasons of it are: 2025 pools 2024 and 2025, and 2024's own result stays as it was
    two = _favour(_favour_seasons([2024, 2025]), circle_z=())
    fired = two[two.value > 0]
    assert set(fired.year) == {2025} and set(fired.grower_id) == {f"FAV{k}" for k in range(6)}
    assert (fired.seasons == "2024–2025").all() and (fired.n_seasons == 2).all() and (fired.n_lots == 18).all()
    assert two[two.year == 2025].grader_q.iloc[0] < 0.05 < two[two.year == 2024].grader_q.iloc[0]


def test_pooled_favour_never_reads_a_later_season():
    # three seasons, the third one different (A favours nobody, fewer growers): seasons one and two read the same
    # whether it is there or not (pooled pairs, windows, Simes and the per-season Benjamini–Hochberg family alike)
    third = grading_station("ST1", {}, {}, n_ordinary=40, n_regulars=12, year=2026)
    two = _favour(_favour_seasons([2024, 2025]))
    three = _favour(_favour_seasons([2024, 2025]) + third)
    assert (three.year == 2026).any() and not (three[three.year == 2026].value > 0).any()
    for df in (two, three):
        df["evidence"] = df.evidence.map(tuple)
    earlier = three[three.year < 2026].reset_index(drop=True)
    pd.testing.assert_frame_equal(two.reset_index(drop=True), earlier[two.columns], check_dtype=False)
    data_two = Dataset.from_frames({"leaf_purchases": frame("leaf_purchases", _favour_seasons([2024, 2025]))})
    pairs_two = leaf.grader_grower_pairs(data_two, 6, 3, 0.5, user="LEAF-002")
    assert set(pairs_two.window_from) == {2024, 2025} and pairs_two.groupby("yr").window_from.max().to_dict() == {2024: 2024, 2025: 2025}
    # the pairs are kept for the other indicator that reads them, and let go of once it has
    assert leaf._PAIRS[data_two]
    pd.testing.assert_frame_equal(leaf.grader_grower_pairs(data_two, 6, 3, 0.5, user="LEAF-003"), pairs_two)
    assert not leaf._PAIRS[data_two]


def test_a_favour_that_starts_late_is_not_diluted_by_the_fair_seasons_before_it():
    fair = {f"FAV{k}": 0 for k in range(6)}
    rows = (grading_station("ST1", {}, fair, n_regulars=10, year=2023)
            + grading_station("ST1", {}, fair, n_regulars=10, year=2024)
            + grading_station("ST1", {f"FAV{k}": -1 for k in range(6)}, {}, n_regulars=6, year=2025))
    out = _favour(rows)
    fired = out[out.value > 0]
    assert set(fired.year) == {2025} and set(fired.grower_id) == {f"FAV{k}" for k in range(6)}
    assert (fired.seasons == "2025").all(), "the window that shows the favour is this season alone"


# -- LEAF-002 / LEAF-003: small circles, low-baseline growers -----------------------------------------------------------
def test_a_small_circle_among_many_fair_regulars_is_found_by_the_count_test():
    # one season, six favoured among sixteen regulars: Stouffer's sum dilutes them (see the test above), the number
    # of regulars graded far better than chance allows does not
    rows = _favour_seasons([2024])
    with_count, without = _favour(rows), _favour(rows, circle_z=())
    assert set(with_count[with_count.value > 0].grower_id) == {f"FAV{k}" for k in range(6)}
    assert not (without.value > 0).any()
    assert with_count.grader_q.iloc[0] < 0.05 < without.grader_q.iloc[0]
    # a fair grader's regulars stay silent with the count test on
    fair = _favour([lot for lot in grading_station("ST1", {}, {}, n_regulars=16, year=2024)])
    assert not (fair.value > 0).any()


def test_circle_count_p_is_exact_and_calibrated():
    z = pd.Series([2.0, 2.5, 0.1, -0.3, 1.9, 0.0, -1.0, 0.2, 0.4, -0.2, np.nan])
    g = [pd.Series(["g"] * 11)]
    # 3 of 10 scores (the NaN does not count) reach 1.645: P(Binomial(10, q) >= 3), q = P(Z >= 1.645) ≈ 0.05
    q = 0.5 * math.erfc(1.645 / math.sqrt(2))
    assert leaf.circle_count_p(z, g, 1.645).iloc[0] == pytest.approx(
        1 - sum(math.comb(10, k) * q ** k * (1 - q) ** (10 - k) for k in range(3)), rel=1e-9)
    # under the null (independent standard normal z-scores) it rejects at most as often as its level
    rng = np.random.default_rng(0)
    sims = pd.Series(rng.standard_normal(40 * 4000))
    groups = [pd.Series(np.repeat(np.arange(4000), 40))]
    p = leaf.circle_count_p(sims, groups, 2.326).groupby(groups[0].to_numpy()).first()
    assert 0.002 < (p <= 0.05).mean() <= 0.05        # discrete: conservative, but not degenerate
    assert leaf.simes(np.array([[0.01, 0.04, 0.5]]))[0] == pytest.approx(0.03)


def test_station_grower_variance_recovers_the_spread_of_growers():
    rng = np.random.default_rng(1)
    n = rng.integers(5, 30, 400)
    true = rng.normal(0, 0.4, 400)                              # τ² = 0.16
    sums = np.array([rng.normal(t, 0.7, k).sum() for t, k in zip(true, n)])   # σ² = 0.49
    ss_between = (sums ** 2 / n).sum() - sums.sum() ** 2 / n.sum()
    tau2 = leaf.station_grower_variance(ss_between, len(n), n.sum(), (n * n).sum(), 0.49)
    assert 0.12 < float(tau2) < 0.20
    assert float(leaf.station_grower_variance(0.0, 10, 100, 1000, 0.49)) == 0.0, "never negative"


def _all_to_a(station: str, growers: dict[str, int], year: int = 2024) -> list[dict]:
    """Growers who bring all twelve lots to grader A (the first season of a grower, or a circle favoured from the
    start): nobody else ever grades them.  A shifts each one's level by the given amount."""
    return [_lot(10_000 + 100 * j + k, station, f"{station}A", grower, lvl + shift, year)
            for j, (grower, shift) in enumerate(growers.items()) for k, lvl in enumerate(PATTERN)]


@pytest.mark.parametrize("cls, shift", [(leaf.GraderUpgradesGrower, -1), (leaf.GraderDowngradesGrower, +1)])
def test_a_circle_nobody_else_grades_is_compared_with_the_station_average(cls, shift):
    circle = {f"KIN{k}": shift for k in range(6)}
    rows = grading_station("ST1", {}, {}, n_regulars=10) + _all_to_a("ST1", circle)
    out = _favour(rows, cls=cls)
    kin = out[out.grower_id.str.startswith("KIN")]
    assert len(kin) == 6 and (kin.n_other == 0).all() and (kin.base_weight == 0).all()
    assert set(kin[kin.value > 0].grower_id) == set(circle)
    flags = run_case(Case(cls.id, "first season", {"leaf_purchases": rows}, set(), set()))
    text = flags[flags.fired].iloc[0]
    assert "经验贝叶斯基准" in text.text_zh and "empirical-Bayes baseline" in text.text_en
    # without the prior these growers cannot be compared and are not scored
    none = _favour(rows, cls=cls, baseline_prior="none")
    assert not none.grower_id.str.startswith("KIN").any()


def test_one_grower_with_really_better_leaf_that_nobody_else_grades_stays_silent():
    # a grader fair to his regulars, and one grower whose leaf is a level better who brings every lot to him: one
    # grower is no circle, and the grader is not significant
    rows = grading_station("ST1", {}, {}, n_regulars=10) + _all_to_a("ST1", {"GOODLEAF": 0})
    rows = [{**r, "grade": f"C{max(int(r['grade'][1]) - 1, 1)}F"} if r["grower_id"] == "GOODLEAF" else r for r in rows]
    out = _favour(rows)
    assert "GOODLEAF" in set(out.grower_id) and not (out.value > 0).any()
