"""Golden fixtures for the HR family (HR-…)."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.indicators.golden import Case, check_case, run_case

POSITIONS = [{"position_id": "P04", "post_code": "station_manager", "title_zh": "收购站站长", "title_en": "Station manager",
              "sensitivity": 3},
             {"position_id": "P05", "post_code": "grader", "title_zh": "烟叶定级员", "title_en": "Tobacco grader",
              "sensitivity": 3},
             {"position_id": "P10", "post_code": "clerk", "title_zh": "办事员", "title_en": "Clerk", "sensitivity": 1}]
STATIONS = [{"station_id": f"ST{k}", "department_id": f"D{k}"} for k in range(1, 4)]
# the data's period: activity from January to December 2024
PERIOD = [{"claim_id": "C-first", "employee_id": "X", "category": "office", "expense_date": "2024-01-02", "amount": 10.0},
          {"claim_id": "C-last", "employee_id": "X", "category": "office", "expense_date": "2024-12-31", "amount": 10.0}]


def _post(aid: str, emp: str, dept: str, pos: str, start: str, end: str | None = None) -> dict:
    return {"assignment_id": aid, "employee_id": emp, "department_id": dept, "position_id": pos, "start_date": start,
            "end_date": end}


def _claims(emp: str, days: list[str], amount: float, category: str = "hospitality") -> list[dict]:
    return [{"claim_id": f"{emp}-{d}-{category}", "employee_id": emp, "category": category, "expense_date": d,
             "amount": amount} for d in days]


HISTORY = [
    _post("A1", "E1", "D1", "P04", "2015-03-01"),                         # ten years at ST1, never rotated
    _post("A2", "E2", "D1", "P05", "2016-03-01", "2021-02-28"),           # rotated after five years…
    _post("A3", "E2", "D2", "P05", "2021-03-01"),                         # …and at ST2 for under four
    _post("A4", "E3", "D3", "P10", "2005-06-01"),                         # a clerk: not a sensitive post
    _post("A5", "E4", "D3", "P05", "2016-03-01", "2020-02-29"),           # grader made manager of the same station:
    _post("A6", "E4", "D3", "P04", "2020-03-01"),                         # not a rotation
]

# HR-002: station managers; E1 and E2 long in post, the rest rotated in recently (peers for the fence)
PEERS = [f"M{k:02d}" for k in range(10)]
HR2_HISTORY = [_post("B1", "E1", "D1", "P04", "2014-03-01"), _post("B2", "E2", "D2", "P04", "2013-03-01"),
               _post("B3", "E3", "D3", "P04", "2023-03-01")]
HR2_HISTORY += [_post(f"B{p}", p, f"D{4 + k}", "P04", "2022-03-01") for k, p in enumerate(PEERS)]
NATIONAL_DAY = ["2024-10-01", "2024-10-02", "2024-10-03", "2024-10-04", "2024-10-05", "2024-10-06"]
HR2_CLAIMS = (PERIOD
              + _claims("E1", NATIONAL_DAY, 1400.0) + _claims("E1", ["2024-02-11", "2024-02-12"], 300.0, "fuel")
              + _claims("E2", ["2024-10-19", "2024-10-20", "2024-10-26", "2024-11-02"], 1500.0)  # season weekends
              + _claims("E2", ["2024-10-03"], 500.0)
              + _claims("E3", NATIONAL_DAY, 1300.0)
              + [c for k, p in enumerate(PEERS) for c in _claims(p, ["2024-10-04"], 100.0 * k)])

CASES = [
    Case("HR-001", "a station manager ten years in place and a grader promoted in his own station; a rotated grader", {
        "positions": POSITIONS, "stations": STATIONS, "post_history": HISTORY, "claims": PERIOD},
        fired={"E1", "E4"}, silent={"E2", "E3"}),
    Case("HR-002", "a long-tenured manager's National Day banquets; a long-tenured remote manager working season weekends", {
        "positions": POSITIONS, "post_history": HR2_HISTORY, "claims": HR2_CLAIMS},
        fired={"E1"}, silent={"E2", "E3", "M09"}),
    Case("HR-003", "a grader still grading at the station he was rotated away from; a grader newly posted in September", {
        "positions": POSITIONS, "stations": STATIONS,
        "post_history": [_post("G1", "E1", "D1", "P05", "2020-03-01"),
                         _post("G2", "E2", "D1", "P05", "2019-03-01", "2024-02-29"), _post("G3", "E2", "D2", "P05", "2024-03-01"),
                         _post("G4", "E4", "D1", "P05", "2024-09-20")],
        "leaf_purchases": [{"purchase_id": f"L{k}", "station_id": "ST1", "grader_id": g, "purchased_at": f"2024-10-{10 + k} 09:00",
                            "weight_kg": 120.0} for k, g in enumerate(["E1", "E2", "E2", "E4", "E1"])]},
        fired={"E2"}, silent={"E1", "E4"}),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.indicator_id}:{c.name[:30]}")
def test_golden(case):
    check_case(case)


def test_tenure_is_measured_at_year_end_with_the_policy_rule():
    flags = run_case(CASES[0]).set_index("entity_id")
    assert flags.loc["E1", "value"] == pytest.approx((pd.Timestamp("2024-12-31") - pd.Timestamp("2015-03-01")).days / 365.25)
    assert flags.loc["E1", "threshold"] == 5
    assert flags.loc["E4", "value"] > 8  # the stay began when he came to D3 as a grader
    assert "E3" not in flags.index       # a clerk's post is not scored
    stricter = run_case(Case("HR-001", "policy", CASES[0].tables, set(), set(), policy={"rotation_years": 3}))
    assert set(stricter.loc[stricter.fired, "entity_id"]) == {"E1", "E2", "E4"}


def test_festival_spending_counts_holidays_not_weekends():
    flags = run_case(CASES[1]).set_index("entity_id")
    assert flags.loc["E1", "value"] == pytest.approx(6 * 1400 + 2 * 300)
    assert flags.loc["E2", "value"] == pytest.approx(500)  # the season's weekend claims are not festival days
    assert "E3" not in flags.index                          # in post for under two years: not scored here

