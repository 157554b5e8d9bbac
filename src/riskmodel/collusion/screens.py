"""Further bid-rigging screens for the tender classifier: average-bid auctions, robust shape, clusters, rounding.

The screens of :mod:`riskmodel.indicators.screens` (shared with the ``BID-…``
indicators) describe first-price tenders: a designated winner at the bottom,
cover bids above it.  The screens here add what the literature knows about
other award rules and other cartel habits.  Each one is defined from that
reasoning, the same for every dataset (nothing is fitted to a country), is a
pure, vectorised function of a :class:`~riskmodel.indicators.screens.TenderBids`
and follows the same small-tender rule: NaN below :attr:`Screen.min_bids`
bids, NaN where a denominator is zero.

Average-bid auctions (``aba_…``)
--------------------------------
In an average-bid auction the contract goes to the bid closest to an
*anomaly threshold* computed from the bids themselves, not to the lowest bid.
The Italian rule of the Turin road-works tenders (Law 109/1994, art. 21
c. 1-bis; described by Conley & Decarolis 2016) is, in amounts (bid =
reserve × (1 − discount), and every step below is affine-equivariant, so
amounts and discounts give the same answer):

1. drop the ``ceil(10 %)`` lowest and highest bids (the "wings");
2. ``A1`` = mean of the remaining bids;
3. ``A2`` = mean shortfall ``A1 − b`` of the remaining bids below ``A1``;
4. threshold ``T = A1 − A2``; bids below ``T`` are excluded as anomalously
   low; the winner is the lowest bid at or above ``T``.

A cartel wins such an auction by submitting *many coordinated bids* that
move the trimmed average and crowd the region just above the threshold
(Conley & Decarolis 2016).  So the screens measure where the threshold sits
in the bids' distribution, how much the trimmed average is pulled away from
the median, how crowded the threshold's neighbourhood is and how close the
winner sits to it.  The rule is applied from 5 bids, the legal minimum for
automatic exclusion.  In a first-price tender these are plain (robust)
descriptions of the lower half of the distribution.

=============  ========  ===============================================================
name           min bids  definition (IQR = q75 − q25, quantiles by linear interpolation)
=============  ========  ===============================================================
aba_below      5         share of bids below the anomaly threshold T
aba_thr_pos    5         (median − T) / IQR: depth of the threshold below the median
aba_shift      5         (median − A1) / IQR: trimmed average pulled away from the median
aba_gap        5         (w − T) / IQR, w the lowest bid ≥ T: the winner's margin
aba_crowd      5         share of bids within T ± 0.1 · IQR: crowding at the threshold
bowley         4         (q75 + q25 − 2 q50) / IQR  (quantile skewness)
moors          8         ((q87.5 − q62.5) + (q37.5 − q12.5)) / IQR  (quantile kurtosis)
low_tail       5         (q10 − b1) / IQR: a detached group of very low bids
high_tail      5         (bn − q90) / IQR: a detached group of very high bids
near_ties      5         share of adjacent gaps below 0.1 × the mean gap: near-identical bids
max_gap        4         largest gap between adjacent bids / (bn − b1): bids in separate groups
rd_low3        3         (b2 − b1) / (b3 − b1): the winner's isolation among the three lowest
round_share    2         share of bids that are round at three significant digits
lq00 … lq100   5         log(q / median) at the quantiles 0, 5, 10, 20, 30, 40, 60, 70, 80, 90, 95, 100 %
=============  ========  ===============================================================

The quantile profile (``lq…``) describes the whole shape of the bid
distribution relative to its median, as the bid-distribution images of
Huber, Imhof et al. do for convolutional networks: a block of coordinated bids
shows as a flat stretch of the profile, a detached group as a jump.

References
----------
.. [CD16] Conley, T. G. & Decarolis, F. (2016). Detecting bidders groups in
   collusive auctions. *American Economic Journal: Microeconomics*
   8(2):1–38.  doi:10.1257/mic.20130254
.. [D18] Decarolis, F. (2018). Comparing public procurement auctions.
   *International Economic Review* 59(2):391–419.
.. [WIH22] Wallimann, H., Imhof, D. & Huber, M. (2022). A machine learning
   approach for flagging incomplete bid-rigging cartels. *Computational
   Economics* 62:1669–1720.
.. [IKR18] Imhof, D., Karagök, Y. & Rutz, S. (2018). Screening for bid
   rigging — does it work? *Journal of Competition Law & Economics*
   14(2):235–261.
.. [BZ87] Bowley (1920) / Moors, J. J. A. (1988). A quantile alternative for
   kurtosis. *Journal of the Royal Statistical Society D* 37(1):25–32.

Examples
--------
>>> import pandas as pd
>>> bids = pd.DataFrame({"tender_id": [1] * 6, "bid": [80.0, 95.0, 97.0, 100.0, 103.0, 120.0]})
>>> s = compute_extra_screens(bids, ["aba_below", "aba_gap", "rd_low3"])
>>> s.round(3).to_dict("records")
[{'aba_below': 0.333, 'aba_gap': 0.148, 'rd_low3': 0.882}]
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from riskmodel.indicators.screens import Screen, TenderBids, _screen as _catalogue_screen

__all__ = ["ABA_TRIM", "EXTRA_SCREENS", "EXTRA_SCREEN_NAMES", "PROFILE_SCREENS", "aba_threshold", "compute_extra_screens"]

#: Screens of this module, by stable short name (kept apart from the shared ``BID-…`` catalogue).
EXTRA_SCREENS: dict[str, Screen] = {}
#: Share of bids dropped from each wing before averaging (Italian rule: 10 %, rounded up).
ABA_TRIM = 0.10
#: Half-width of the threshold's neighbourhood, in IQRs, for ``aba_crowd``.
CROWD_BAND = 0.10
#: A gap below this share of the tender's mean gap counts as a near-tie.
NEAR_TIE = 0.10
#: Significant digits of a "round" bid.
ROUND_DIGITS = 3

_CD = "Conley & Decarolis (2016), AEJ: Microeconomics 8(2):1–38"
_WIH = "Wallimann, Imhof & Huber (2022), Computational Economics 62:1669–1720"
_IKR = "Imhof, Karagök & Rutz (2018), JCLE 14(2):235–261"
_MOORS = "Bowley (1920); Moors (1988), JRSS D 37(1):25–32; robust shape"


def _screen(name: str, min_bids: int, family: str, title_en: str, title_zh: str, source: str):
    """Register a screen of this module: the shared catalogue's wrapper and small-tender rule, in EXTRA_SCREENS."""
    return _catalogue_screen(name, min_bids, family, title_en, title_zh, source, registry=EXTRA_SCREENS)


def _iqr(tb: TenderBids) -> np.ndarray:
    return tb.quantile(0.75) - tb.quantile(0.25)


def _group_min(tb: TenderBids, values: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Smallest of ``values`` per tender over the bids where ``valid`` holds (NaN where none)."""
    if not len(values):
        return np.empty(0)
    red = np.minimum.reduceat(np.where(valid, values, np.inf), tb.start)
    return np.where(np.isfinite(red), red, np.nan)


def aba_threshold(tb: TenderBids, trim: float = ABA_TRIM) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The average-bid auction's trimmed average ``A1``, anomaly threshold ``T`` and winning bid, per tender.

    Parameters
    ----------
    tb : TenderBids
    trim : float, default=ABA_TRIM
        Share of bids dropped from each wing (rounded up).

    Returns
    -------
    a1, threshold, winner : ndarray
        Per tender (aligned with ``tb.index``); NaN where nothing remains after trimming.

    Examples
    --------
    >>> import pandas as pd
    >>> tb = TenderBids(pd.DataFrame({"tender_id": [1] * 6, "bid": [80.0, 95.0, 97.0, 100.0, 103.0, 120.0]}))
    >>> [round(float(v[0]), 3) for v in aba_threshold(tb)]
    [98.75, 96.0, 97.0]
    """
    k = np.ceil(trim * tb.n - 1e-9).astype(np.int64)
    keep = (tb.rank >= k[tb.g]) & (tb.rank < (tb.n - k)[tb.g])
    with np.errstate(invalid="ignore", divide="ignore"):
        a1 = tb.mean(keep)
        below = keep & (tb.b < a1[tb.g])
        a2 = tb.sum(a1[tb.g] - tb.b, below) / tb.count(below)
    a2 = np.where(tb.count(below) > 0, a2, 0.0)  # all remaining bids equal: no shortfall, T = A1
    thr = a1 - a2
    winner = _group_min(tb, tb.b, tb.b >= thr[tb.g] - 1e-9 * np.abs(thr[tb.g]))
    return a1, thr, winner


@_screen("aba_below", 5, "aba", "Share of bids below the anomaly threshold", "低于异常阈值的报价占比", _CD)
def aba_below(tb: TenderBids) -> np.ndarray:
    """Share of bids below the average-bid auction's anomaly threshold (excluded as anomalously low).

    Cartel bids placed to move the trimmed average change how many bids end
    up below the threshold.

    >>> import pandas as pd
    >>> float(aba_below(pd.DataFrame({"tender_id": [1] * 5, "bid": [80.0, 95.0, 100.0, 105.0, 120.0]})).iloc[0])
    0.2
    """
    _, thr, _ = aba_threshold(tb)
    return tb.count(tb.b < thr[tb.g]) / tb.n


@_screen("aba_thr_pos", 5, "aba", "Depth of the anomaly threshold below the median", "异常阈值相对中位数的位置", _CD)
def aba_thr_pos(tb: TenderBids) -> np.ndarray:
    """``(median − T) / IQR``: how deep in the lower half the anomaly threshold lies.

    >>> import pandas as pd
    >>> float(aba_thr_pos(pd.DataFrame({"tender_id": [1] * 5, "bid": [80.0, 95.0, 100.0, 105.0, 120.0]})).iloc[0])
    0.5
    """
    _, thr, _ = aba_threshold(tb)
    return (tb.quantile(0.5) - thr) / _iqr(tb)


@_screen("aba_shift", 5, "aba", "Trimmed average against the median", "截尾均值偏离中位数", _CD)
def aba_shift(tb: TenderBids) -> np.ndarray:
    """``(median − A1) / IQR``: how far the trimmed average is pulled from the median.

    A block of coordinated bids on one side of the distribution moves the
    average but hardly the median.

    >>> import pandas as pd
    >>> float(aba_shift(pd.DataFrame({"tender_id": [1] * 5, "bid": [80.0, 95.0, 100.0, 105.0, 120.0]})).iloc[0])
    0.0
    """
    a1, _, _ = aba_threshold(tb)
    return (tb.quantile(0.5) - a1) / _iqr(tb)


@_screen("aba_gap", 5, "aba", "Winner's margin above the anomaly threshold", "中标价距异常阈值", _CD)
def aba_gap(tb: TenderBids) -> np.ndarray:
    """``(w − T) / IQR`` with ``w`` the lowest bid at or above the threshold (the average-bid winner).

    Many coordinated bids near the threshold make one of them land just above it.

    >>> import pandas as pd
    >>> round(float(aba_gap(pd.DataFrame({"tender_id": [1] * 6, "bid": [80.0, 95, 97, 100, 103, 120]})).iloc[0]), 3)
    0.148
    """
    _, thr, winner = aba_threshold(tb)
    return (winner - thr) / _iqr(tb)


@_screen("aba_crowd", 5, "aba", "Crowding at the anomaly threshold", "异常阈值附近的报价密集度", _CD)
def aba_crowd(tb: TenderBids) -> np.ndarray:
    """Share of bids within ``T ± 0.1 × IQR``: bids crowding where the award is decided.

    >>> import pandas as pd
    >>> float(aba_crowd(pd.DataFrame({"tender_id": [1] * 5, "bid": [80.0, 95.0, 96.0, 100.0, 120.0]})).iloc[0])
    0.4
    """
    _, thr, _ = aba_threshold(tb)
    band = CROWD_BAND * _iqr(tb)
    near = np.abs(tb.b - thr[tb.g]) <= band[tb.g]
    return tb.count(near) / tb.n


@_screen("bowley", 4, "shape", "Quantile skewness (Bowley)", "分位数偏度", _MOORS)
def bowley(tb: TenderBids) -> np.ndarray:
    """``(q75 + q25 − 2 q50) / IQR``: skewness that a few extreme bids cannot move.

    >>> import pandas as pd
    >>> float(bowley(pd.DataFrame({"tender_id": [1] * 5, "bid": [90.0, 99.0, 100.0, 105.0, 400.0]})).iloc[0])
    0.6666666666666666
    """
    q25, q50, q75 = tb.quantile(0.25), tb.quantile(0.5), tb.quantile(0.75)
    return (q75 + q25 - 2 * q50) / (q75 - q25)


@_screen("moors", 8, "shape", "Quantile kurtosis (Moors)", "分位数峰度", _MOORS)
def moors(tb: TenderBids) -> np.ndarray:
    """``((q87.5 − q62.5) + (q37.5 − q12.5)) / IQR``: peakedness that a few extreme bids cannot move.

    About 1.23 for normal bids; higher when a tight core of bids sits in wider tails.

    >>> import pandas as pd
    >>> round(float(moors(pd.DataFrame({"tender_id": [1] * 8, "bid": [1.0, 2, 3, 4, 5, 6, 7, 8]})).iloc[0]), 3)
    1.0
    """
    q = {p: tb.quantile(p) for p in (0.125, 0.25, 0.375, 0.625, 0.75, 0.875)}
    return ((q[0.875] - q[0.625]) + (q[0.375] - q[0.125])) / (q[0.75] - q[0.25])


@_screen("low_tail", 5, "shape", "Detached low bids", "低端离群报价", _CD)
def low_tail(tb: TenderBids) -> np.ndarray:
    """``(q10 − b1) / IQR``: how far the lowest bid stands below the bulk.

    >>> import pandas as pd
    >>> round(float(low_tail(pd.DataFrame({"tender_id": [1] * 5, "bid": [60.0, 95.0, 100.0, 105.0, 110.0]})).iloc[0]), 3)
    1.4
    """
    return (tb.quantile(0.10) - tb.nth(0)) / _iqr(tb)


@_screen("high_tail", 5, "shape", "Detached high bids", "高端离群报价", _IKR)
def high_tail(tb: TenderBids) -> np.ndarray:
    """``(bn − q90) / IQR``: how far the highest bid stands above the bulk (e.g. a deliberately losing bid).

    >>> import pandas as pd
    >>> round(float(high_tail(pd.DataFrame({"tender_id": [1] * 5, "bid": [90.0, 95.0, 100.0, 105.0, 150.0]})).iloc[0]), 3)
    1.8
    """
    return (tb.last() - tb.quantile(0.90)) / _iqr(tb)


def _gaps(tb: TenderBids) -> tuple[np.ndarray, np.ndarray]:
    has_next = tb.rank + 1 <= tb.n[tb.g] - 1
    nxt = np.concatenate([tb.b[1:], [np.nan]]) if len(tb.b) else tb.b
    return np.where(has_next, nxt - tb.b, np.nan), has_next


@_screen("near_ties", 5, "cluster", "Near-identical bids", "近乎相同的报价", _CD)
def near_ties(tb: TenderBids) -> np.ndarray:
    """Share of gaps between adjacent bids below 0.1 × the tender's mean gap.

    Bids priced independently leave gaps of varied size (about 10 % of the gaps
    would fall below 0.1 × the mean if bids were spread at random); a group
    writing many bids to look different packs them closer.

    >>> import pandas as pd
    >>> float(near_ties(pd.DataFrame({"tender_id": [1] * 5, "bid": [90.0, 100.0, 100.1, 100.2, 130.0]})).iloc[0])
    0.5
    """
    gap, has = _gaps(tb)
    mean_gap = (tb.last() - tb.nth(0)) / (tb.n - 1)
    small = has & (gap < NEAR_TIE * mean_gap[tb.g])
    return np.where(mean_gap > 0, tb.count(small) / (tb.n - 1), np.nan)  # all bids equal: no gap to compare


@_screen("max_gap", 4, "cluster", "Largest gap between adjacent bids", "相邻报价最大间距", _WIH)
def max_gap(tb: TenderBids) -> np.ndarray:
    """Largest gap between adjacent bids over the range ``bn − b1``: bids falling into separate groups.

    >>> import pandas as pd
    >>> float(max_gap(pd.DataFrame({"tender_id": [1] * 4, "bid": [100.0, 101.0, 109.0, 110.0]})).iloc[0])
    0.8
    """
    gap, has = _gaps(tb)
    if not len(gap):
        return np.empty(0)
    red = np.maximum.reduceat(np.where(has, gap, -np.inf), tb.start)
    return np.where(np.isfinite(red), red, np.nan) / (tb.last() - tb.nth(0))


@_screen("rd_low3", 3, "cover", "Isolation of the lowest bid among the three lowest", "最低三价中最低价的孤立度", _IKR)
def rd_low3(tb: TenderBids) -> np.ndarray:
    """``(b2 − b1) / (b3 − b1)`` in [0, 1]: near 1 when the winner stands apart from two close cover bids.

    >>> import pandas as pd
    >>> float(rd_low3(pd.DataFrame({"tender_id": [1] * 3, "bid": [100.0, 108.0, 110.0]})).iloc[0])
    0.8
    """
    return (tb.nth(1) - tb.nth(0)) / (tb.nth(2) - tb.nth(0))


@_screen("round_share", 2, "rounding", "Share of round bids", "整数报价占比", _IKR)
def round_share(tb: TenderBids) -> np.ndarray:
    """Share of bids that are round at three significant digits (e.g. 1 250 000, 0.145).

    A firm that prices a job from its costs quotes a precise figure; a bid
    written only to lose (a cover bid) or agreed at a meeting is often a
    round number.  Uninformative where the published amounts were converted
    (deflated, or computed from discounts), which a report should say.

    >>> import pandas as pd
    >>> float(round_share(pd.DataFrame({"tender_id": [1] * 4, "bid": [1250000.0, 1237411.0, 0.145, 3.0]})).iloc[0])
    0.75
    """
    scale = 10.0 ** (np.floor(np.log10(tb.b)) - (ROUND_DIGITS - 1))
    q = tb.b / scale
    return tb.count(np.abs(q - np.round(q)) < 1e-6 * np.maximum(q, 1.0)) / tb.n


# -- quantile profile -------------------------------------------------------------------------

#: Quantiles of the profile screens ``lq00`` … ``lq100`` (the median is the reference, so it is left out).
PROFILE_QUANTILES: tuple[float, ...] = (0.0, 0.05, 0.10, 0.20, 0.30, 0.40, 0.60, 0.70, 0.80, 0.90, 0.95, 1.0)
#: Fewest bids for a quantile profile (below it a few bids are better read by the other screens).
PROFILE_MIN_BIDS = 5


def _profile_screen(q: float) -> None:
    name = f"lq{int(round(q * 100)):02d}"

    def fn(tb: TenderBids) -> np.ndarray:
        return np.log(tb.quantile(q) / tb.quantile(0.5))

    fn.__name__ = name
    fn.__doc__ = (f"``log(q{q * 100:g} / median)`` of the bids (needs {PROFILE_MIN_BIDS} bids; quantiles by linear "
                  "interpolation).\n\n    One point of the tender's bid distribution relative to its median: "
                  "together the profile screens describe the whole shape (where a group of bids sits, how far the "
                  "tails reach), as the bid-distribution images of Huber, Imhof et al. do.  Scale-free.")
    _screen(name, PROFILE_MIN_BIDS, "profile", f"Bid profile: quantile {q:g} / median", f"报价分布：{q:g}分位数/中位数",
            "Huber, Imhof & Ishii (2022); Wallimann, Imhof & Huber (2022); quantile profile")(fn)


for _q in PROFILE_QUANTILES:
    _profile_screen(_q)

#: Names of the profile screens.
PROFILE_SCREENS: tuple[str, ...] = tuple(n for n, s in EXTRA_SCREENS.items() if s.family == "profile")

#: Names of the screens of this module, in catalogue order.
EXTRA_SCREEN_NAMES: tuple[str, ...] = tuple(EXTRA_SCREENS)


def compute_extra_screens(bids: pd.DataFrame | TenderBids, names: Sequence[str] | Iterable[str] | None = None,
                          tender_col: str = "tender_id", bid_col: str = "bid") -> pd.DataFrame:
    """Compute screens of this module, one row per tender (as :func:`riskmodel.indicators.screens.compute_screens`).

    Raises
    ------
    KeyError
        For an unknown screen name (the message lists the known ones).
    """
    names = list(EXTRA_SCREENS) if names is None else list(names)
    unknown = [n for n in names if n not in EXTRA_SCREENS]
    if unknown:
        raise KeyError(f"unknown screen(s) {unknown}; known: {', '.join(EXTRA_SCREENS)}")
    tb = bids if isinstance(bids, TenderBids) else TenderBids(bids, tender_col, bid_col)
    return pd.DataFrame({n: EXTRA_SCREENS[n].func(tb) for n in names}, index=tb.index)
