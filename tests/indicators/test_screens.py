"""Bid-rigging screens: hand-computed values, scipy agreement, the small-tender rule, vectorisation."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from riskmodel.indicators.screens import CLASSIC_SCREENS, EXTENDED_SCREENS, SCREENS, compute_screens

SQRT3 = math.sqrt(3)

# Named reference tenders (bids deliberately unsorted: the screens must sort them)
COVER = [112.0, 100.0, 111.0, 110.0]          # isolated winner, bunched cover bids
PAIR = [60.0, 50.0]                            # two bids: only the 2-bid screens exist
SOLO = [70.0]                                  # one bid: only n_bids
TIED_LOSERS = [105.0, 100.0, 105.0]            # the losing bids are identical: rd's denominator is 0
FLAT = [100.0, 100.0, 100.0, 100.0]            # all equal: no shape to measure
TENDERS = {"COVER": COVER, "PAIR": PAIR, "SOLO": SOLO, "TIED": TIED_LOSERS, "FLAT": FLAT}


def _frame(tenders: dict[str, list[float]]) -> pd.DataFrame:
    return pd.DataFrame([(t, b) for t, bids in tenders.items() for b in bids], columns=["tender_id", "bid"])


@pytest.fixture(scope="module")
def screens() -> pd.DataFrame:
    return compute_screens(_frame(TENDERS))


def test_hand_computed_values_on_the_cover_tender(screens):
    s = screens.loc["COVER"]
    # mean 108.25; squared deviations 68.0625 + 3.0625 + 7.5625 + 14.0625 = 92.75; s = sqrt(92.75 / 3)
    assert s.cv == pytest.approx(math.sqrt(92.75 / 3) / 108.25)
    assert s.spd == pytest.approx(12 / 100)
    assert s.diffp == pytest.approx(10 / 100)
    assert s.rd == pytest.approx(10 / 1.0)                 # losing bids 110, 111, 112: s = 1
    assert s.rd_alt == pytest.approx(10 / ((112 - 110) / 2))
    assert s.rd_nor == pytest.approx(10 / (12 / 3))
    assert s.cv_losing == pytest.approx(1 / 111)
    assert s.spd_losing == pytest.approx(2 / 110)
    assert s.diffp_23 == pytest.approx(1 / 110)
    assert s.mad_med == pytest.approx(1.0 / 110.5)         # median 110.5, |dev| 10.5, .5, .5, 1.5 -> MAD 1
    assert s.rd_mad == pytest.approx(10 / 1.0)             # losers' median 111, |dev| 1, 0, 1 -> MAD 1
    assert s.tie_share == 0
    assert s.n_bids == 4


def test_moments_and_ks_agree_with_scipy(screens):
    x = np.array(COVER)
    s = screens.loc["COVER"]
    assert s["skew"] == pytest.approx(stats.skew(x, bias=False))
    assert s["kurt"] == pytest.approx(stats.kurtosis(x, bias=False))
    z = (x - x.mean()) / x.std(ddof=1)
    assert s.ks == pytest.approx(stats.kstest(z, stats.uniform(loc=-SQRT3, scale=2 * SQRT3).cdf).statistic)
    assert s["skew"] < 0 and s["kurt"] > 0  # one low bid under a bunch: negative skew, peaked


def test_small_tender_rules(screens):
    pair, solo = screens.loc["PAIR"], screens.loc["SOLO"]
    assert pair.cv == pytest.approx(np.std(PAIR, ddof=1) / 55)
    assert pair.spd == pytest.approx(0.2) and pair.diffp == pytest.approx(0.2)
    needs_three = [n for n, s in SCREENS.items() if s.min_bids >= 3]
    assert pair[needs_three].isna().all()
    assert solo.n_bids == 1
    assert solo.drop("n_bids").isna().all()
    # the documented minimums
    assert {n: SCREENS[n].min_bids for n in CLASSIC_SCREENS} == {
        "n_bids": 1, "cv": 2, "spd": 2, "diffp": 2, "rd": 3, "skew": 3, "kurt": 4, "ks": 3}
    assert np.isnan(screens.loc["TIED", "kurt"])  # 3 bids: kurtosis needs 4


@pytest.mark.parametrize("name", EXTENDED_SCREENS)
def test_each_screen_is_nan_below_its_minimum_and_defined_at_it(name):
    need = SCREENS[name].min_bids
    bids = {"AT": [100.0 + 7 * k + k * k for k in range(need)]}  # distinct, unevenly spaced
    if need > 1:
        bids["BELOW"] = bids["AT"][: need - 1]
    s = SCREENS[name].func(_frame(bids))
    assert np.isfinite(s["AT"])
    if need > 1:
        assert np.isnan(s["BELOW"])


def test_zero_denominators_are_nan_not_inf(screens):
    tied, flat = screens.loc["TIED"], screens.loc["FLAT"]
    assert np.isnan(tied.rd) and np.isnan(tied.rd_alt)
    assert tied.tie_share == pytest.approx(2 / 3)
    assert flat.cv == 0 and flat.spd == 0 and flat.tie_share == 1
    assert flat[["skew", "kurt", "ks", "rd", "rd_nor", "gap_cv"]].isna().all()
    assert not np.isinf(screens.to_numpy(dtype=float)).any()


def _per_tender_reference(b: np.ndarray) -> dict[str, float]:
    """Straightforward per-tender formulas (the vectorised code must agree)."""
    b = np.sort(b)
    n = len(b)
    lose = b[1:]
    med = np.median(b)
    gaps = np.diff(b)
    win3 = [np.std(b[i:i + 3], ddof=1) / b[i:i + 3].mean() for i in range(n - 2)]
    z = (b - b.mean()) / b.std(ddof=1)
    return {
        "cv": b.std(ddof=1) / b.mean(), "spd": (b[-1] - b[0]) / b[0], "diffp": (b[1] - b[0]) / b[0],
        "rd": (b[1] - b[0]) / lose.std(ddof=1), "skew": stats.skew(b, bias=False),
        "kurt": stats.kurtosis(b, bias=False) if n >= 4 else np.nan,
        "ks": stats.kstest(z, stats.uniform(loc=-SQRT3, scale=2 * SQRT3).cdf).statistic,
        "rd_alt": (b[1] - b[0]) / np.diff(lose).mean(), "rd_nor": (b[1] - b[0]) / gaps.mean(),
        "cv_losing": lose.std(ddof=1) / lose.mean(), "mad_med": np.median(np.abs(b - med)) / med,
        "iqr_med": (np.quantile(b, .75) - np.quantile(b, .25)) / med if n >= 4 else np.nan,
        "rd_mad": (b[1] - b[0]) / np.median(np.abs(lose - np.median(lose))) if n >= 4 else np.nan,
        "gap_cv": gaps.std(ddof=1) / gaps.mean() if n >= 4 else np.nan,
        "cv3_min": min(win3), "cv3_med": float(np.median(win3)),
    }


def test_vectorised_screens_match_per_tender_formulas():
    rng = np.random.default_rng(7)
    n = rng.integers(3, 15, 150)
    tender = np.repeat([f"T{i:03d}" for i in range(len(n))], n)
    bids = np.exp(rng.normal(12, 1, len(n)))[np.repeat(np.arange(len(n)), n)] * rng.uniform(1, 1.3, n.sum())
    df = pd.DataFrame({"tender_id": tender, "bid": bids}).sample(frac=1, random_state=1)
    got = compute_screens(df)
    want = pd.DataFrame({t: _per_tender_reference(g.to_numpy()) for t, g in df.groupby("tender_id").bid}).T
    pd.testing.assert_frame_equal(got[want.columns].sort_index(), want.sort_index().astype(float),
                                  check_names=False, rtol=1e-9)


def test_invariant_to_row_order_and_currency_unit():
    df = _frame({"A": COVER, "B": [9.0, 10.0, 14.0, 11.5, 30.0]})
    base = compute_screens(df)
    shuffled = compute_screens(df.sample(frac=1, random_state=3))
    in_fen = compute_screens(df.assign(bid=df.bid * 100))
    pd.testing.assert_frame_equal(base, shuffled)
    pd.testing.assert_frame_equal(base, in_fen, rtol=1e-9)


def test_catalogue_names_and_sources():
    assert CLASSIC_SCREENS == ("n_bids", "cv", "spd", "diffp", "rd", "skew", "kurt", "ks")
    for name, s in SCREENS.items():
        assert s.name == name and s.source and s.title_zh and s.title_en
        first_author = s.source.split()[0].rstrip(",")
        assert first_author in s.func.__doc__, f"{name}: the docstring should cite {s.source}"
    with pytest.raises(KeyError, match="unknown screen"):
        compute_screens(_frame({"A": COVER}), ["cv", "nope"])


def test_custom_column_names_and_empty_input():
    df = pd.DataFrame({"t": ["x", "x", "x"], "amount": [1.0, 2.0, 4.0]})
    assert compute_screens(df, ["spd"], tender_col="t", bid_col="amount").loc["x", "spd"] == pytest.approx(3.0)
    empty = compute_screens(pd.DataFrame({"tender_id": [], "bid": []}))
    assert empty.empty and list(empty.columns) == list(EXTENDED_SCREENS)
