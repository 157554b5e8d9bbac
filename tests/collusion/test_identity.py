"""Identity screens: hand-computed values on a named history, no look-ahead, no label, no firm constant."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from riskmodel.collusion.identity import (IDENTITY_SCREEN_NAMES, IDENTITY_SCREENS, compute_identity_screens,
                                          has_identities)
from riskmodel.collusion.model import tender_table
from riskmodel.collusion.synthetic import synthetic_bids

# Market m: X wins a1 (period 1), Y wins a2 (period 2) against X and Z, X wins a3 (period 3) against Y.
# Market n: Y wins n2 (period 2) against Z.  s1 (period 1, market n) has a single bid.
HISTORY = [
    ("a1", 10.0, "X", 1, "m"), ("a1", 11.0, "Y", 1, "m"),
    ("a2", 12.0, "X", 2, "m"), ("a2", 10.0, "Y", 2, "m"), ("a2", 13.0, "Z", 2, "m"),
    ("a3", 9.0, "X", 3, "m"), ("a3", 9.5, "Y", 3, "m"),
    ("n2", 20.0, "Y", 2, "n"), ("n2", 21.0, "Z", 2, "n"),
    ("s1", 5.0, "Z", 1, "n"),
]


def history(rows=HISTORY) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["tender_id", "bid", "bidder", "period", "market"])


@pytest.fixture(scope="module")
def screens() -> pd.DataFrame:
    return compute_identity_screens(history())


def test_values_by_hand(screens):
    a2, a3, n2 = screens.loc["a2"], screens.loc["a3"], screens.loc["n2"]
    # a2: the market's previous winner (X) lost to Y; Y had won none of the market's 1 earlier tender
    assert (a2.inc_win, a2.market_win_share) == (0.0, 0.0)
    assert a2.entry_overlap == pytest.approx(2 / 3)          # {X, Y, Z} against {X, Y}
    # (X, Y) met in a1, the only earlier tender of each: 1; Z's only earlier tender (s1) met neither: 0 twice
    assert a2.cobid_rate == pytest.approx(1 / 3)
    assert a2.rotation == 1.0                                # X, a loser now, beat Y in a1; Z never met Y
    assert a2.win_own_dev == pytest.approx(math.log(10 / 20))   # Y's other bid in period 2: 20 (n2)
    assert a2.cover_own_dev == pytest.approx(math.log(13 / 21))  # X has no other bid in period 2; Z bid 21
    # a3: X won a1 of the market's two earlier tenders; Y (loser) beat X in a2
    assert (a3.inc_win, a3.market_win_share, a3.rotation) == (0.0, 0.5, 1.0)
    assert a3.entry_overlap == pytest.approx(2 / 3)
    assert a3.cobid_rate == 1.0                              # X bid twice before, Y three times; they met twice
    assert n2.win_own_dev == pytest.approx(math.log(2.0)) and n2.cover_own_dev == pytest.approx(math.log(21 / 13))


def test_no_history_and_small_tenders_are_nan(screens):
    assert screens.loc["a1"].isna().all()                    # the first period: no history, single bids per firm
    n2 = screens.loc["n2"]
    assert np.isnan(n2.rotation)                             # the loser Z never met the winner Y before
    assert screens.loc["s1"].isna().all()                    # one bid: no identity screen (small-tender rule)
    # s1 (Z alone, period 1) is market n's previous period: history even though it was too small to screen
    assert (n2.inc_win, n2.market_win_share, n2.entry_overlap, n2.cobid_rate) == (0.0, 0.0, 0.5, 0.0)
    assert all(s.min_bids == 2 and s.family == "identity" and s.source for s in IDENTITY_SCREENS.values())


def test_later_tenders_never_change_earlier_values(screens):
    later = history(HISTORY + [("a4", 8.5, "Z", 4, "m"), ("a4", 8.0, "X", 4, "m"), ("n4", 30.0, "Y", 4, "n"),
                               ("n4", 31.0, "X", 4, "n")])
    again = compute_identity_screens(later)
    pd.testing.assert_frame_equal(again.loc[screens.index], screens)
    assert again.loc["a4", "inc_win"] == 1.0 and again.loc["a4", "market_win_share"] == pytest.approx(2 / 3)


def test_no_firm_constant_renaming_firms_changes_nothing(screens):
    renamed = history().assign(bidder=lambda d: d.bidder.map({"X": "zz", "Y": "aa", "Z": "mm"}))
    pd.testing.assert_frame_equal(compute_identity_screens(renamed), screens)


def test_the_label_is_never_read():
    bids = synthetic_bids(80, seed=4, identities=True)
    flipped = bids.assign(collusive_tender=1 - bids.collusive_tender)
    a, b = tender_table(bids), tender_table(flipped)
    pd.testing.assert_frame_equal(a[list(IDENTITY_SCREEN_NAMES)], b[list(IDENTITY_SCREEN_NAMES)])


def test_marked_winner_overrides_the_lowest_bid():
    h = history().assign(is_winner=lambda d: (d.tender_id == "a2") & (d.bidder == "Z"))  # Z won a2 at 13 (a scoring rule)
    s = compute_identity_screens(h)
    assert np.isnan(s.loc["a2", "rotation"])                                  # the winner Z never met X or Y before
    assert s.loc["a3", "inc_win"] == 0.0 and s.loc["a3", "rotation"] == 0.0  # X won a3; Y lost to Z, not X, in a2
    assert s.loc["a2", "win_own_dev"] == pytest.approx(math.log(13 / 21))     # Z's bid against its other bid


def test_missing_columns():
    no_period = history().drop(columns="period")
    s = compute_identity_screens(no_period)
    for name in ("inc_win", "market_win_share", "entry_overlap", "cobid_rate", "rotation"):
        assert s[name].isna().all()
    # one period: Y's bids in a1, a2, a3, n2 are all its own pattern
    assert s.loc["n2", "win_own_dev"] == pytest.approx(math.log(20) - np.mean(np.log([11.0, 10.0, 9.5])))
    no_market = compute_identity_screens(history().drop(columns="market"))
    assert no_market["inc_win"].isna().all() and no_market.loc["a3", "cobid_rate"] == 1.0
    assert not has_identities(history().drop(columns="bidder"))
    with pytest.raises(ValueError, match="bidder"):
        compute_identity_screens(history().drop(columns="bidder"))
    with pytest.raises(KeyError, match="unknown identity screen"):
        compute_identity_screens(history(), ["loyalty"])


def test_dates_as_periods():
    dates = history().assign(period=lambda d: pd.to_datetime(d.period.map({1: "2024-03-01", 2: "2024-09-01",
                                                                            3: "2025-03-01"})))
    pd.testing.assert_frame_equal(compute_identity_screens(dates), compute_identity_screens(history()))


def test_ring_markets_show_in_the_screens():
    t = tender_table(synthetic_bids(240, seed=6, identities=True))
    t = t[t.n_bids >= 2]
    by = t.groupby("collusive_tender")
    # the ring's owner wins its market every period; competitive markets change hands
    assert by.inc_win.mean().loc[1] > 0.9 > 0.5 > by.inc_win.mean().loc[0]
    assert by.market_win_share.mean().loc[1] > by.market_win_share.mean().loc[0]
    assert by.cobid_rate.mean().loc[1] > by.cobid_rate.mean().loc[0]
