"""Golden fixtures for the reimbursement family (RMB-…)."""

from __future__ import annotations

import numpy as np
import pytest

from riskmodel.indicators.reimbursement import benford_mad_critical, day_calendar

from tests.indicators.golden import Case, check_case, run_case

FAR = "2020-01-01"


def _posts(post: str, people: list[str], dept: str = "D1") -> list[dict]:
    """Post-history rows: everyone in ``people`` has held ``post`` in ``dept`` since 2020."""
    return [{"assignment_id": f"A-{e}", "employee_id": e, "department_id": dept, "position_id": post, "start_date": FAR}
            for e in people]


def _claims(employee: str, amounts: list[float], category: str = "meals", start: str = "2024-03-04") -> list[dict]:
    """One claim per amount, on consecutive days from ``start``, ids ``<employee>-<n>``."""
    days = np.datetime64(start) + np.arange(len(amounts))
    return [{"claim_id": f"{employee}-{i}", "employee_id": employee, "category": category, "amount": float(a),
             "expense_date": str(d), "city": "哈尔滨"} for i, (a, d) in enumerate(zip(amounts, days))]


def _benford_amounts(n: int) -> list[float]:
    """``n`` amounts spread evenly on a log scale between 10 and 10,000: first digits follow Benford's law."""
    return list(np.round(10 ** (1 + 3 * (np.arange(n) + 0.5) / n), 2))


# the leaf season is 09-25 … 12-25; D2 is a purchasing station
DEPTS = [{"department_id": "D1", "dept_type": "functional"}, {"department_id": "D2", "dept_type": "station"}]

CASES = [
    Case("RMB-001", "claims in a city with no trip, or on someone else's trip; the frequent traveller's claims all covered", {
        "travel_records": [
            {"trip_id": "T1", "employee_id": "E1", "destination_city": "北京", "start_date": "2024-03-03", "end_date": "2024-03-05"},
            *[{"trip_id": f"T2{k}", "employee_id": "E2", "destination_city": c, "start_date": s, "end_date": e}
              for k, (c, s, e) in enumerate([("上海", "2024-04-01", "2024-04-03"), ("长春", "2024-04-08", "2024-04-09"),
                                             ("北京", "2024-04-15", "2024-04-19")])]],
        "claims": [
            {"claim_id": "OK1", "employee_id": "E1", "category": "lodging", "city": "北京", "expense_date": "2024-03-04", "trip_id": "T1"},
            {"claim_id": "BAD1", "employee_id": "E1", "category": "lodging", "city": "上海", "expense_date": "2024-03-04", "trip_id": "T1"},
            {"claim_id": "BAD2", "employee_id": "E1", "category": "meals", "city": "北京", "expense_date": "2024-03-20"},
            {"claim_id": "BAD3", "employee_id": "E3", "category": "lodging", "city": "北京", "expense_date": "2024-03-04", "trip_id": "T1"},
            {"claim_id": "HOME", "employee_id": "E3", "category": "meals", "city": "哈尔滨", "expense_date": "2024-03-04"},
            # the frequent traveller: every claim inside an approved trip, the ticket bought the day before
            {"claim_id": "FT1", "employee_id": "E2", "category": "travel", "city": "上海", "expense_date": "2024-03-31", "trip_id": "T20"},
            {"claim_id": "FT2", "employee_id": "E2", "category": "lodging", "city": "上海", "expense_date": "2024-04-02", "trip_id": "T20"},
            {"claim_id": "FT3", "employee_id": "E2", "category": "meals", "city": "长春", "expense_date": "2024-04-09", "trip_id": "T21"},
            {"claim_id": "FT4", "employee_id": "E2", "category": "lodging", "city": "北京", "expense_date": "2024-04-18", "trip_id": "T22"}]},
        fired={"BAD1", "BAD2", "BAD3"}, silent={"OK1", "HOME", "FT1", "FT2", "FT3", "FT4"}),
    Case("RMB-002", "a made-up trip with a meal at home the same day, a home claim mid-trip; a departure day is one route", {
        "travel_records": [
            {"trip_id": "T2", "employee_id": "E2", "destination_city": "北京", "start_date": "2024-03-03", "end_date": "2024-03-05"},
            {"trip_id": "T3", "employee_id": "E3", "destination_city": "北京", "start_date": "2024-03-03", "end_date": "2024-03-06"}],
        "claims": [
            {"claim_id": "A1", "employee_id": "E1", "category": "lodging", "city": "北京", "expense_date": "2024-03-04"},
            {"claim_id": "A2", "employee_id": "E1", "category": "meals", "city": "哈尔滨", "expense_date": "2024-03-04"},
            {"claim_id": "C1", "employee_id": "E3", "category": "lodging", "city": "北京", "expense_date": "2024-03-04", "trip_id": "T3"},
            {"claim_id": "C2", "employee_id": "E3", "category": "hospitality", "city": "哈尔滨", "expense_date": "2024-03-04"},
            # departure and return days: breakfast at home, then the train and dinner in 北京
            {"claim_id": "B1", "employee_id": "E2", "category": "meals", "city": "哈尔滨", "expense_date": "2024-03-03"},
            {"claim_id": "B2", "employee_id": "E2", "category": "travel", "city": "北京", "expense_date": "2024-03-03", "trip_id": "T2"},
            {"claim_id": "B3", "employee_id": "E2", "category": "meals", "city": "北京", "expense_date": "2024-03-03", "trip_id": "T2"},
            {"claim_id": "B4", "employee_id": "E2", "category": "meals", "city": "北京", "expense_date": "2024-03-05", "trip_id": "T2"},
            {"claim_id": "B5", "employee_id": "E2", "category": "meals", "city": "哈尔滨", "expense_date": "2024-03-05"}]},
        fired={"E1", "E3"}, silent={"E2"}),
    Case("RMB-003", "one fapiao on two days, twice in a day, or a supplier's fapiao claimed; a split hotel fapiao and placeholders are not", {
        "invoices": [{"invoice_id": "INV1", "invoice_number": "23012345678900000001", "supplier_id": "S1"},
                     {"invoice_id": "INV2", "invoice_number": "23012345678900000002", "supplier_id": "S1"}],
        "claims": [
            {"claim_id": "D1", "employee_id": "E1", "category": "meals", "expense_date": "2024-05-03", "invoice_number": "23019999888877776666"},
            {"claim_id": "D2", "employee_id": "E1", "category": "office", "expense_date": "2024-06-20", "invoice_number": "23019999888877776666"},
            {"claim_id": "D3", "employee_id": "E4", "category": "office", "expense_date": "2024-06-21", "invoice_number": "2301 2345 6789 0000 0001"},
            {"claim_id": "D4", "employee_id": "E7", "category": "travel", "expense_date": "2024-06-21", "invoice_number": "23015555444433332222"},
            {"claim_id": "D5", "employee_id": "E7", "category": "travel", "expense_date": "2024-06-21", "invoice_number": "23015555444433332222"},
            # one hotel fapiao split into lodging and meals lines of one claim
            {"claim_id": "S1", "employee_id": "E2", "category": "lodging", "expense_date": "2024-05-10", "invoice_number": "44001234567890123456"},
            {"claim_id": "S2", "employee_id": "E2", "category": "meals", "expense_date": "2024-05-10", "invoice_number": "44001234567890123456"},
            # no fapiao: placeholders typed by the clerk
            {"claim_id": "P1", "employee_id": "E3", "category": "toll", "expense_date": "2024-05-11", "invoice_number": "0"},
            {"claim_id": "P2", "employee_id": "E5", "category": "toll", "expense_date": "2024-05-12", "invoice_number": "0"},
            {"claim_id": "P3", "employee_id": "E5", "category": "toll", "expense_date": "2024-05-13", "invoice_number": "无"},
            {"claim_id": "P4", "employee_id": "E6", "category": "toll", "expense_date": "2024-05-14", "invoice_number": "无"},
            {"claim_id": "U1", "employee_id": "E6", "category": "meals", "expense_date": "2024-05-14", "invoice_number": "23010000111122223333"}]},
        fired={"D1", "D2", "D3", "D4", "D5"}, silent={"S1", "S2", "P1", "P2", "P3", "P4", "U1"}),
    Case("RMB-004", "hospitality on a Saturday, Spring Festival, National Day; not on a make-up Saturday or a station's season weekend", {
        "departments": DEPTS,
        "post_history": [*_posts("P_MGR", ["E1"], "D1"), *_posts("P_SM", ["E2"], "D2")],
        "claims": [
            {"claim_id": "W1", "employee_id": "E1", "category": "hospitality", "amount": 1800, "expense_date": "2024-03-09"},  # Saturday
            {"claim_id": "W2", "employee_id": "E1", "category": "hospitality", "amount": 1500, "expense_date": "2024-02-12"},  # Spring Festival
            {"claim_id": "W3", "employee_id": "E2", "category": "hospitality", "amount": 1900, "expense_date": "2024-10-03"},  # National Day, in season
            {"claim_id": "W4", "employee_id": "E2", "category": "hospitality", "amount": 900, "expense_date": "2024-03-16"},   # Saturday, off season
            {"claim_id": "M1", "employee_id": "E1", "category": "hospitality", "amount": 700, "expense_date": "2024-10-12"},   # make-up workday
            {"claim_id": "M2", "employee_id": "E1", "category": "hospitality", "amount": 700, "expense_date": "2024-03-13"},   # Wednesday
            {"claim_id": "M3", "employee_id": "E2", "category": "hospitality", "amount": 800, "expense_date": "2024-11-09"},   # season Saturday
            {"claim_id": "M4", "employee_id": "E2", "category": "fuel", "amount": 300, "expense_date": "2024-03-16"}]},
        fired={"W1", "W2", "W3", "W4"}, silent={"M1", "M2", "M3", "M4"}),
    Case("RMB-005", "fuel and tolls on Spring Festival, National Day and Labour Day; not on weekends, make-up days or the station's season", {
        "departments": DEPTS,
        "post_history": [*_posts("P_DRV", ["E1"], "D1"), *_posts("P_SM", ["E2"], "D2")],
        "claims": [
            {"claim_id": "F1", "employee_id": "E1", "category": "fuel", "amount": 780, "expense_date": "2024-02-12"},
            {"claim_id": "F2", "employee_id": "E1", "category": "toll", "amount": 120, "expense_date": "2024-10-03"},
            {"claim_id": "F3", "employee_id": "E2", "category": "fuel", "amount": 700, "expense_date": "2024-05-01"},
            {"claim_id": "N1", "employee_id": "E1", "category": "fuel", "amount": 300, "expense_date": "2024-10-12"},  # make-up workday
            {"claim_id": "N2", "employee_id": "E1", "category": "fuel", "amount": 300, "expense_date": "2024-03-09"},  # ordinary Saturday
            {"claim_id": "N3", "employee_id": "E2", "category": "fuel", "amount": 350, "expense_date": "2024-10-03"},  # station, in season
            {"claim_id": "N4", "employee_id": "E1", "category": "hospitality", "amount": 900, "expense_date": "2024-02-12"}]},
        fired={"F1", "F2", "F3"}, silent={"N1", "N2", "N3", "N4"}),
    Case("RMB-006", "five hospitality claims just under the limit; capped lodging at the limit and two near-limit claims are not", {
        "post_history": _posts("P_SM", [f"E{i}" for i in range(1, 7)]),
        "claims": [
            *_claims("E1", [1850, 1990, 1920, 1880, 1960], "hospitality"), *_claims("E1", [120] * 7, start="2024-05-01"),
            *_claims("E2", [500] * 6, "lodging"), *_claims("E2", [120] * 6, start="2024-05-01"),  # capped at the limit
            *_claims("E3", [1900, 290], "hospitality"), *_claims("E3", [110] * 10, start="2024-05-01"),  # only two
            *_claims("E4", [700, 650], "hospitality"), *_claims("E4", [130] * 10, start="2024-05-01"),
            *_claims("E5", [820], "hospitality"), *_claims("E5", [90] * 11, start="2024-05-01"),
            *_claims("E6", [140] * 12, start="2024-05-01")]},
        fired={"E1"}, silent={"E2", "E3", "E4", "E5", "E6"}),
    Case("RMB-007", "half the claims in round hundreds; two round bills, and amounts ending in 0, are ordinary", {
        "post_history": _posts("P_MGR", [f"E{i}" for i in range(1, 7)]),
        "claims": [
            *_claims("E1", [300, 500, 800, 1000, 1200, 600, 123.5, 87, 145, 233, 78, 96]),
            *_claims("E2", [300, 500, 123.5, 87, 145, 233, 78, 96, 112, 67, 88, 131]),
            *_claims("E3", [350, 1850, 420, 130, 90, 240, 170, 60, 110, 80, 70, 990]),
            *[r for i in (4, 5, 6) for r in _claims(f"E{i}", list(np.arange(12) * 7.3 + 41.2))]]},
        fired={"E1"}, silent={"E2", "E3", "E4", "E5", "E6"}),
    Case("RMB-007", "fuel cards topped up by the hundred are excluded by category", {
        "post_history": _posts("P_DRV", [f"E{i}" for i in range(1, 7)]),
        "claims": [
            *_claims("E1", [300, 500, 800, 1000, 1200, 600, 123.5, 87, 145, 233, 78, 96], "office"),
            *_claims("E2", [300, 500, 300, 500, 300, 200], "fuel"), *_claims("E2", [123.5, 87, 145, 233, 78, 96], start="2024-05-01"),
            *[r for i in (3, 4, 5, 6) for r in _claims(f"E{i}", list(np.arange(12) * 7.3 + 41.2))]]},
        fired={"E1"}, silent={"E2", "E3"}, params={"exclude_categories": ["fuel"]}),
    Case("RMB-008", "forty amounts all starting with 8 or 9; a Benford-like claimant and a small sample are not", {
        "post_history": _posts("P_MGR", [f"E{i}" for i in range(1, 8)]),
        "claims": [
            *_claims("E1", [95 + i if i % 2 else 880 + 3 * i for i in range(40)]),
            *[r for i in (2, 3, 4, 5, 6) for r in _claims(f"E{i}", _benford_amounts(40 + i))],
            *_claims("E7", [95 + i for i in range(20)])]},  # too few claims to judge
        fired={"E1"}, silent={"E2", "E3", "E4", "E5", "E6", "E7"}),
    Case("RMB-009", "a buyer hosting 9,500 while other buyers host nothing; a leader hosting like the other leaders", {
        "post_history": [*_posts("P_BUY", [f"B{i}" for i in range(1, 7)]), *_posts("P_LEAD", [f"L{i}" for i in range(1, 7)])],
        "claims": [
            *_claims("B1", [1900] * 5, "hospitality"),
            *_claims("B2", [800], "hospitality"),
            *[r for i, total in enumerate([8000, 9500, 10000, 11000, 12000, 9000], start=1)
              for r in _claims(f"L{i}", [total / 10] * 10, "hospitality")]]},
        fired={"B1"}, silent={"B2", "L4", "L5"}),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.indicator_id}:{c.name[:30]}")
def test_golden(case):
    check_case(case)


def test_calendar_knows_makeup_workdays_and_holidays():
    cal = day_calendar(np.array(["2024-02-12", "2024-02-04", "2024-02-18", "2024-03-09", "2024-03-13"], dtype="datetime64[ns]"))
    cal = cal.set_index(cal.day.dt.strftime("%m-%d"))
    assert cal.loc["02-12", "holiday_zh"] == "春节" and not cal.loc["02-12", "workday"]
    assert cal.loc["02-04", "makeup_workday"] and cal.loc["02-18", "workday"]  # Sundays worked in lieu of the festival
    assert not cal.loc["03-09", "workday"] and cal.loc["03-13", "workday"]


def test_calendar_outside_the_package_years_knows_weekends_only():
    cal = day_calendar(np.array(["2099-10-01", "2099-10-03"], dtype="datetime64[ns]"))
    assert not cal.known.any() and cal.holiday.isna().all()
    assert cal.workday.tolist() == [True, False]  # 2099-10-01 is a Thursday, 10-03 a Saturday


def test_benford_small_sample_bound_shrinks_to_nigrini_range():
    crit = benford_mad_critical(np.array([30, 300, 3000, 30000]), 0.99)
    assert (np.diff(crit) < 0).all()
    assert crit[0] > 0.015 > crit[-1], "Nigrini's bounds hold for large samples only"


def _case(indicator_id: str) -> Case:
    return next(c for c in CASES if c.indicator_id == indicator_id)


def test_two_cities_evidence_lists_the_days_claims():
    flags = run_case(_case("RMB-002"))
    row = flags[flags.fired & (flags.entity_id == "E1")].iloc[0]
    assert sorted(row.evidence) == ["A1", "A2"] and row.value == 2


def test_duplicate_invoice_evidence_includes_the_supplier_invoice():
    flags = run_case(_case("RMB-003")).set_index("entity_id")
    assert sorted(flags.loc["D3", "evidence"]) == ["D3", "INV1"] and flags.loc["D3", "supplier_id"] == "S1"
    assert flags.loc["D1", "value"] == 2
    assert flags.loc["S1", "value"] == 1 and not flags.loc["S1", "fired"]  # the split hotel fapiao: one use
    assert "P1" not in flags.index and "P3" not in flags.index  # placeholders are not numbers


def test_peer_thresholds_are_written_per_row():
    flags = run_case(_case("RMB-009"))
    by = flags.set_index("entity_id")
    assert by.loc["B1", "threshold"] == pytest.approx(6000.0)  # buyers' fence is 0: the floor of 3 hospitality limits
    assert by.loc["L4", "threshold"] > by.loc["L4", "value"]
