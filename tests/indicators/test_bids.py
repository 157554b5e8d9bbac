"""Golden fixtures for the tender and bid family (BID-…)."""

from __future__ import annotations

import dataclasses

import pytest

from tests.indicators.golden import Case, check_case, run_case

CATEGORIES = [{"category_id": "C01", "single_source": False}, {"category_id": "C02", "single_source": False},
              {"category_id": "C09", "single_source": True}]


def tenders(spec: dict[str, dict]) -> dict[str, list[dict]]:
    """``tenders``/``bids``/``categories`` tables from ``{tender_id: {"bids": [...], other tender columns}}``.

    ``bids`` is a list of amounts (bidders ``<tender>-1``, ``<tender>-2``…) or of ``(supplier, amount)``;
    the lowest bid wins.
    """
    t_rows, b_rows = [], []
    for tid, s in spec.items():
        s = dict(s)
        bids = [b if isinstance(b, tuple) else (f"{tid}-{k + 1}", b) for k, b in enumerate(s.pop("bids"))]
        winner, award = min(bids, key=lambda b: b[1])
        for k, (sup, amount) in enumerate(bids):
            b_rows.append({"bid_id": f"B-{tid}-{k + 1}", "tender_id": tid, "supplier_id": sup, "bid_amount": float(amount),
                           "is_winner": sup == winner})
        t_rows.append({"tender_id": tid, "department_id": "D01", "category_id": "C01", "method": "open",
                       "close_date": "2024-03-15", "quantity": 1.0, "estimated_amount": float(award),
                       "winner_supplier_id": winner, "awarded_amount": float(award), **s})
    return {"tenders": t_rows, "bids": b_rows, "categories": CATEGORIES}


# ordinary competitive tenders: independent prices, a few percent apart
ORDINARY = {"O1": [100, 106, 113, 121], "O2": [200, 209, 221, 236, 240], "O3": [50, 52.5, 56, 58, 61],
            "O4": [80, 86, 88, 95], "O5": [300, 318, 330, 351], "O6": [120, 123, 131, 140, 148],
            "O7": [90, 95.5, 99, 104], "O8": [60, 64, 65, 71, 73], "O9": [150, 153, 162, 170], "O10": [70, 72, 77, 80, 86]}
SCREEN_TENDERS = tenders({
    **{k: {"bids": v} for k, v in ORDINARY.items()},
    "TIGHT": {"bids": [100, 100.8, 101.5, 102.1]},           # cover bids written a step above the winner
    "COVER": {"bids": [100, 118, 118.5, 119, 119.4]},        # isolated winner, covers bunched far above
    "TWO": {"bids": [100, 100.3]},                           # two close bids: too few to screen
    "SS": {"bids": [100], "method": "single_source", "category_id": "C09"},
})
LOOKALIKES = {"O1", "O2", "O3", "TWO", "SS"}

# co-bidding: ring A, B, C meets in five C01 tenders and takes turns; ten other firms bid around them;
# in C02 the only three suppliers X, Y, Z meet in every tender (a thin market) and win in turn too.
_RING = {f"R{i}": {"bids": [(w, 100), *[(s, 102 + j) for j, s in enumerate(x for x in "ABC" if x != w)]],
                   "close_date": f"2024-0{i}-10"} for i, w in enumerate("ABCAB", start=1)}
_OTHERS = [f"S{k:02d}" for k in range(10)]
_MARKET = {f"M{i:02d}": {"bids": [(_OTHERS[i % 10], 100), (_OTHERS[(i + 3) % 10], 106), (_OTHERS[(i + 7) % 10], 111)]}
           for i in range(20)}
_THIN = {f"X{i}": {"bids": [(s, 100 + 5 * ((j + i) % 3)) for j, s in enumerate("XYZ")], "category_id": "C02"}
         for i in range(6)}
ROTATION_TENDERS = tenders({**_RING, **_MARKET, **_THIN})

CASES = [
    Case("BID-001", "one bid in an open tender; single-source by method or by category is benign", {
        **tenders({"T1": {"bids": [120_000]},
                   "T2": {"bids": [300_000], "method": "single_source", "category_id": "C09"},
                   "T3": {"bids": [250_000], "category_id": "C09"},            # category is single-source, method left open
                   "T4": {"bids": [100_000, 104_000, 110_000]}})},
        fired={"T1"}, silent={"T2", "T3", "T4"}),
    Case("BID-001", "threshold 2 applies the 'fewer than three bidders' rule", {
        **tenders({"T1": {"bids": [120_000, 125_000]}, "T4": {"bids": [100_000, 104_000, 110_000]}})},
        fired={"T1"}, silent={"T4"}, params={"threshold": 2}),
    Case("BID-002", "one firm wins 4 of 6 C01 tenders; the sole supplier of a single-source item wins all of its", {
        **tenders({**{f"W{i}": {"bids": [("FAV", 100), (f"O{i}", 105)], "close_date": f"2024-0{i}-10"} for i in range(1, 5)},
                   **{f"L{i}": {"bids": [("RIVAL", 100), ("FAV", 105)], "close_date": f"2024-0{i}-20"} for i in range(1, 3)},
                   **{f"SS{i}": {"bids": [("SOLE", 100)], "method": "single_source", "category_id": "C09",
                                 "close_date": f"2024-0{i}-10"} for i in range(1, 4)}})},
        fired={"FAV"}, silent={"SOLE", "RIVAL"}),
    Case("BID-003", "awarded 30 % above the market reference; a single-source item at its usual price", {
        **tenders({"P1": {"bids": [130_000], "quantity": 1000, "estimated_amount": 100_000},
                   **{f"Q{i}": {"bids": [a], "quantity": 1000}
                      for i, a in enumerate([95_000, 97_000, 98_000, 100_000, 101_000, 102_000])},
                   "SS": {"bids": [103_000], "method": "single_source", "category_id": "C09", "estimated_amount": 100_000}}),
        "market_prices": [{"category_id": "C01", "month": "2024-03-01", "reference_unit_price": 100.0}]},
        fired={"P1"}, silent={"SS", "Q0", "Q5"}),
    Case("BID-004", "cover bids a step above the winner; ordinary spreads, two close bids, a single-source bid",
         SCREEN_TENDERS, fired={"TIGHT"}, silent=LOOKALIKES),
    Case("BID-005", "narrow range of bids; ordinary spreads, two close bids, a single-source bid",
         SCREEN_TENDERS, fired={"TIGHT"}, silent=LOOKALIKES),
    Case("BID-006", "winner 18 % under bunched covers; ordinary gaps", SCREEN_TENDERS, fired={"COVER"}, silent=LOOKALIKES),
    Case("BID-007", "isolated winner over bunched covers (relative distance 30)", SCREEN_TENDERS,
         fired={"COVER"}, silent=LOOKALIKES),
    Case("BID-008", "negatively skewed bids; symmetric ordinary bids", SCREEN_TENDERS, fired={"COVER"}, silent=LOOKALIKES),
    Case("BID-009", "peaked bids (four within 1.5 %, one far below); flat ordinary bids", SCREEN_TENDERS,
         fired={"COVER"}, silent=LOOKALIKES),
    Case("BID-010", "bids far from an even spread; evenly spread ordinary bids", SCREEN_TENDERS,
         fired={"COVER"}, silent=LOOKALIKES),
    Case("BID-011", "a ring of three meets in five tenders (January to May) and takes turns: the tenders of the quarter "
         "its fourth meeting is known in fire, the first three (Q1: three meetings) do not yet; a thin market of three "
         "firms is benign", ROTATION_TENDERS, fired={"R4", "R5"}, silent={"R1", "R2", "R3", "X0", "X1", "M00", "M07"}),
]


def _case(indicator_id: str) -> Case:
    return next(c for c in CASES if c.indicator_id == indicator_id)


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.indicator_id}:{c.name[:30]}")
def test_golden(case):
    check_case(case)


def test_screens_leave_small_tenders_unscored():
    """The small-tender rule: fewer than ``min_bids`` bids is not scored at all (not a value that might fire)."""
    flags = run_case(_case("BID-004"))
    assert "TWO" not in set(flags.entity_id) and "SS" not in set(flags.entity_id)
    kurt = run_case(_case("BID-009"))
    assert set(kurt.entity_id) == {k for k, v in ORDINARY.items() if len(v) >= 4} | {"TIGHT", "COVER"}


def test_evidence_and_links():
    """Screens cite the tender's bids, lowest first, and link the winner and the department."""
    flags = run_case(_case("BID-006")).set_index("entity_id")
    assert list(flags.loc["COVER", "evidence"]) == [f"B-COVER-{k}" for k in range(1, 6)]
    assert flags.loc["COVER", "supplier_id"] == "COVER-1" and flags.loc["COVER", "department_id"] == "D01"
    rot = run_case(_case("BID-011")).set_index("entity_id")
    assert rot.loc["R4", "value"] == 2 and set(rot.loc["R4", "evidence"]) == {"B-R4-1", "B-R4-2", "B-R4-3"}


def test_undated_tenders_count_from_the_start():
    """Tenders without a close date are judged by every partnership, and count towards all of them (as the rings
    of REL-003/004 do): the ring fires on all five tenders."""
    case = _case("BID-011")
    data = {t: [dict(r, close_date=None) if t == "tenders" and str(r["tender_id"]).startswith("R") else r for r in rows]
            for t, rows in case.tables.items()}
    flags = run_case(dataclasses.replace(case, tables=data)).set_index("entity_id")
    assert flags.loc[list(_RING), "fired"].all()


def test_award_price_falls_back_to_the_estimate():
    """Without a market reference for the month, the tender's own estimate is the yardstick, and the reason says so."""
    flags = run_case(_case("BID-003")).set_index("entity_id")
    assert flags.loc["P1", "text_en"].startswith("the winning price is 130% of the market reference")
    assert flags.loc["SS", "value"] == pytest.approx(1.03)
