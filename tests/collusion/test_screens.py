"""The collusion-specific screens: hand-computed values, the Italian average-bid rule, small-tender rule, invariances."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from riskmodel.collusion.screens import (EXTRA_SCREEN_NAMES, EXTRA_SCREENS, PROFILE_SCREENS, aba_threshold,
                                         compute_extra_screens)
from riskmodel.indicators.screens import TenderBids

# Named reference tenders (bids deliberately unsorted)
SIX = [103.0, 80.0, 120.0, 95.0, 100.0, 97.0]    # trimmed: 95, 97, 100, 103; A1 98.75; A2 2.75; T 96; winner 97
ROUND = [1_250_000.0, 1_237_411.0, 1_300_000.0]   # two of three bids round at 3 significant digits
EQUAL = [50.0] * 6                                 # no spread: every ratio screen undefined


def frame(**tenders) -> pd.DataFrame:
    return pd.DataFrame([{"tender_id": t, "bid": b} for t, bids in tenders.items() for b in bids])


def test_aba_rule_by_hand():
    s = compute_extra_screens(frame(six=SIX)).loc["six"]
    a1, thr, winner = (float(v[0]) for v in aba_threshold(TenderBids(frame(six=SIX))))
    assert (a1, thr, winner) == pytest.approx((98.75, 96.0, 97.0))
    iqr = 102.25 - 95.5                                     # linear-interpolation quartiles of the six bids
    assert s.aba_below == pytest.approx(2 / 6)              # 80 and 95 fall below T = 96
    assert s.aba_thr_pos == pytest.approx((98.5 - 96.0) / iqr)
    assert s.aba_shift == pytest.approx((98.5 - 98.75) / iqr)
    assert s.aba_gap == pytest.approx((97.0 - 96.0) / iqr)
    assert s.aba_crowd == 0.0                               # 95 and 97 lie just outside 96 ± 0.675
    assert s.rd_low3 == pytest.approx((95 - 80) / (97 - 80))
    assert s.low_tail == pytest.approx((87.5 - 80) / iqr)   # q10 of six bids: 80 + 0.5 × 15
    assert s.lq00 == pytest.approx(math.log(80 / 98.5)) and s.lq100 == pytest.approx(math.log(120 / 98.5))


def test_aba_rule_matches_the_italian_rule_on_discounts():
    """Computed on amounts, the threshold picks the same winner as the legal rule applied to the discounts."""
    rng = np.random.default_rng(3)
    for n in (5, 9, 23, 70):
        reserve = 1e6 * rng.uniform(0.5, 5)
        d = np.round(rng.uniform(0.05, 0.35, n), 5)                  # discounts, 3 decimals of a percent
        k = math.ceil(0.1 * n)
        kept = np.sort(d)[k:n - k]                                     # drop the 10 % highest and lowest discounts
        a1 = kept.mean()
        thr = a1 + (kept[kept > a1] - a1).mean()                       # anomaly threshold on discounts
        win = d[d <= thr + 1e-12].max()                                # highest discount not above it
        bids = frame(t=reserve * (1 - d))
        _, _, winner = aba_threshold(TenderBids(bids))
        assert winner[0] == pytest.approx(reserve * (1 - win), rel=1e-12)
        below = compute_extra_screens(bids, ["aba_below"]).iloc[0, 0]
        assert below == pytest.approx((d > thr + 1e-12).mean())       # excluded as anomalous


@pytest.mark.parametrize("name", EXTRA_SCREEN_NAMES)
def test_small_tender_rule(name):
    need = EXTRA_SCREENS[name].min_bids
    bids = [100.0 * (1.013 ** i) + i * i for i in range(12)]         # distinct, irregular, non-round bids
    s = compute_extra_screens(frame(short=bids[:need - 1], enough=bids[:need]), [name])[name]
    assert math.isnan(s["short"])
    assert not math.isnan(s["enough"]) or name == "round_share"


def test_zero_spread_is_undefined_not_infinite():
    s = compute_extra_screens(frame(eq=EQUAL)).loc["eq"]
    ratio = [n for n in EXTRA_SCREEN_NAMES if n not in ("aba_below", "aba_crowd", "round_share")
             and n not in PROFILE_SCREENS]
    assert s[ratio].isna().all() and np.isfinite(s.drop(ratio).dropna()).all()
    assert (s[list(PROFILE_SCREENS)] == 0).all()                       # every quantile equals the median


def test_scale_free_and_order_free():
    rng = np.random.default_rng(0)
    bids = frame(**{f"t{i}": list(rng.lognormal(10, 0.1, rng.integers(3, 40))) for i in range(30)})
    base = compute_extra_screens(bids)
    shuffled = bids.sample(frac=1.0, random_state=1)
    pd.testing.assert_frame_equal(compute_extra_screens(shuffled), base)
    scale_free = [n for n in EXTRA_SCREEN_NAMES if n != "round_share"]
    scaled = compute_extra_screens(bids.assign(bid=bids.bid * 1.37))
    pd.testing.assert_frame_equal(scaled[scale_free], base[scale_free], rtol=1e-9)


def test_vectorised_equals_one_tender_at_a_time():
    rng = np.random.default_rng(5)
    tenders = {f"t{i}": list(np.round(rng.lognormal(12, 0.08, rng.integers(2, 30)), 2)) for i in range(40)}
    together = compute_extra_screens(frame(**tenders))
    for t, bids in tenders.items():
        alone = compute_extra_screens(frame(**{t: bids}))
        pd.testing.assert_series_equal(together.loc[t], alone.loc[t])


def test_round_and_clustered_bids():
    s = compute_extra_screens(frame(r=ROUND)).loc["r"]
    assert s.round_share == pytest.approx(2 / 3)
    tight = frame(c=[90.0, 100.0, 100.01, 100.02, 100.03, 130.0], s=[90.0, 98.0, 104.0, 112.0, 121.0, 130.0])
    t = compute_extra_screens(tight, ["near_ties", "max_gap"])
    assert t.loc["c", "near_ties"] == pytest.approx(3 / 5) and t.loc["s", "near_ties"] == 0.0
    assert t.loc["c", "max_gap"] > t.loc["s", "max_gap"]


def test_profile_is_monotone_and_unknown_names_fail():
    rng = np.random.default_rng(2)
    p = compute_extra_screens(frame(a=list(rng.normal(100, 5, 25))), PROFILE_SCREENS).iloc[0].to_numpy()
    assert (np.diff(p) >= 0).all() and p[0] < 0 < p[-1]
    with pytest.raises(KeyError, match="unknown screen"):
        compute_extra_screens(frame(a=SIX), ["aba_below", "nope"])
