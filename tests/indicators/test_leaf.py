"""Golden fixtures for the leaf-purchasing family (LEAF-…)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from riskmodel.indicators import leaf
from tests.indicators.golden import Case, check_case, run_case

SEASON = "2024-10-{:02d} {}"
# a grower's leaf over twelve lots: mostly level 3, some 2 and 4 (the same pattern for every ordinary grower)
PATTERN = (3, 2, 3, 4, 3, 2, 3, 3, 4, 2, 3, 3)


def _lot(i: int, station: str, grader: str, grower: str, level: int, **kw) -> dict:
    return {"purchase_id": f"{station}-{i:05d}", "station_id": station, "grader_id": grader, "grower_id": grower,
            "purchased_at": SEASON.format(1 + i % 28, "10:00"), "grade": f"C{min(max(level, 1), 4)}F",
            "weight_kg": 100.0, **kw}


def grading_station(station: str, favoured: dict[str, int], lookalike: dict[str, int], n_ordinary: int = 60,
                    n_regulars: int = 0) -> list[dict]:
    """Lots of one station and season with graders A, B, C.

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
            rows.append(_lot(next(i), station, graders[k % 3], f"{station}-O{g:02d}", lvl))
    for grower, shift in favoured.items():
        for k, lvl in enumerate(PATTERN):
            by_a = k < 9
            rows.append(_lot(next(i), station, graders[0] if by_a else graders[1 + k % 2], grower, lvl + (shift if by_a else 0)))
    lookalike = {**lookalike, **{f"{station}-R{k:02d}": 0 for k in range(n_regulars)}}
    for grower, shift in lookalike.items():
        for k, lvl in enumerate(PATTERN):
            rows.append(_lot(next(i), station, graders[0] if k < 9 else graders[1 + k % 2], grower, lvl + shift))
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


def test_station_manager_is_linked_to_station_breaches():
    tables = {"leaf_purchases": CASES[5].tables["leaf_purchases"],
              "stations": [{"station_id": "ST1", "department_id": "D1"}, {"station_id": "ST2", "department_id": "D2"}],
              "positions": [{"position_id": "P04", "post_code": "station_manager", "sensitivity": 3}],
              "post_history": [{"assignment_id": "A1", "employee_id": "M1", "department_id": "D1", "position_id": "P04",
                                "start_date": "2020-03-01", "end_date": "2024-02-29"},
                               {"assignment_id": "A2", "employee_id": "M2", "department_id": "D1", "position_id": "P04",
                                "start_date": "2024-03-01", "end_date": None}]}
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
