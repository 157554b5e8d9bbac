"""Bid-rigging screens: statistics of the distribution of bids within one tender.

A *screen* turns the bids of a tender into one number that moves when bids are
rigged.  Cartels that allocate a tender to a designated winner submit cover
bids that are close to each other and sit above the winner's: the bids'
variance shrinks (``cv``, ``kurt``), the gap between the two lowest bids grows
relative to the gaps among the losing bids (``rd``, ``diffp``) and the
distribution becomes skewed and far from uniform (``skew``, ``ks``).

Every screen here is a pure function of a bid table with one row per bid
(``tender_id``, ``bid``) and returns one value per tender (a
:class:`pandas.Series` indexed by tender id, sorted).  All of them are
vectorised over tenders (numpy on bids sorted once by tender and amount); none
loops over tenders in Python.  The indicator catalogue wraps them as
``BID-…`` indicators under the stable short names of :data:`SCREENS`.

Conventions
-----------
* Bids are sorted ascending within a tender: ``b1 <= b2 <= … <= bn``.  The
  lowest bid is taken as the winning bid (first-price sealed-bid tenders); the
  *losing bids* are ``b2 … bn``.  Where the award went to another bid (scoring
  rules, average-bid auctions), the "two lowest bids" screens still describe
  the bottom of the distribution, not the award.
* Standard deviations are sample standard deviations (``ddof=1``); skewness
  and kurtosis are the bias-corrected sample statistics (as
  ``scipy.stats.skew(bias=False)`` and ``scipy.stats.kurtosis(bias=False)``,
  excess kurtosis), the formulas of Huber & Imhof (2019).

Small-tender rule
-----------------
Each screen has a minimum number of bids (:attr:`Screen.min_bids`, listed in
the table below).  For a tender with fewer bids the screen is **NaN**, never a
made-up value: with two bids there are no "losing bids" to compare, with three
the kurtosis is undefined.  A screen whose denominator is zero (for example all
losing bids identical, so their standard deviation is 0) is NaN as well, and
``tie_share`` records the ties that cause it.  Classifiers downstream must
accept NaN (tree ensembles do; :mod:`riskmodel.collusion` uses those).

=============  ========  ===============================================================
name           min bids  definition
=============  ========  ===============================================================
n_bids         1         number of bids
cv             2         s / mean  (coefficient of variation)
spd            2         (bn - b1) / b1  (spread)
diffp          2         (b2 - b1) / b1  (percentage difference of the two lowest)
rd             3         (b2 - b1) / s(b2 … bn)  (relative distance)
skew           3         bias-corrected sample skewness
kurt           4         bias-corrected sample excess kurtosis
ks             3         Kolmogorov–Smirnov distance to the uniform with the same mean and s
rd_alt         3         (b2 - b1) / mean gap between adjacent losing bids
rd_nor         3         (b2 - b1) / mean gap between adjacent bids
cv_losing      3         s / mean of the losing bids
spd_losing     3         (bn - b2) / b2
diffp_23       3         (b3 - b2) / b2
mad_med        3         median absolute deviation / median  (robust cv)
iqr_med        4         interquartile range / median  (robust spread)
rd_mad         4         (b2 - b1) / MAD(b2 … bn)  (robust relative distance)
gap_cv         4         cv of the gaps between adjacent bids
cv3_min        3         smallest cv over windows of 3 adjacent sorted bids
cv3_med        3         median cv over windows of 3 adjacent sorted bids
tie_share      2         share of bids exactly equal to another bid of the tender
=============  ========  ===============================================================

References
----------
.. [HI19] Huber, M. & Imhof, D. (2019). Machine learning with screens for
   detecting bid-rigging cartels. *International Journal of Industrial
   Organization* 65:277–301.  doi:10.1016/j.ijindorg.2019.04.002
.. [IKR18] Imhof, D., Karagök, Y. & Rutz, S. (2018). Screening for bid
   rigging — does it work? *Journal of Competition Law & Economics*
   14(2):235–261.  doi:10.1093/joclec/nhy006
.. [GR22] García Rodríguez, M. J., Rodríguez-Montequín, V., Ballesteros-Pérez,
   P., Love, P. E. D. & Signor, R. (2022). Collusion detection in public
   procurement auctions with machine learning algorithms. *Automation in
   Construction* 133:104047.  doi:10.1016/j.autcon.2021.104047
.. [WIH22] Wallimann, H., Imhof, D. & Huber, M. (2022). A machine learning
   approach for flagging incomplete bid-rigging cartels. *Computational
   Economics* 62:1669–1720.  doi:10.1007/s10614-022-10315-w

Examples
--------
>>> import pandas as pd
>>> bids = pd.DataFrame({"tender_id": ["a"] * 4 + ["b"] * 2,
...                      "bid": [100.0, 110.0, 111.0, 112.0, 50.0, 60.0]})
>>> s = compute_screens(bids, ["n_bids", "diffp", "rd_nor", "kurt"])
>>> s.loc["a"].round(3).to_dict()
{'n_bids': 4.0, 'diffp': 0.1, 'rd_nor': 2.5, 'kurt': 3.577}
>>> s.loc["b"].isna().to_dict()  # 2 bids: rd_nor needs 3, kurt needs 4
{'n_bids': False, 'diffp': False, 'rd_nor': True, 'kurt': True}
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import wraps

import numpy as np
import pandas as pd

__all__ = [
    "CLASSIC_SCREENS", "EXTENDED_SCREENS", "SCREENS", "Screen", "TenderBids", "compute_screens",
    "cv", "cv3_med", "cv3_min", "cv_losing", "diffp", "diffp_23", "gap_cv", "iqr_med", "ks", "kurt", "mad_med",
    "n_bids", "rd", "rd_alt", "rd_mad", "rd_nor", "skew", "spd", "spd_losing", "tie_share",
]


class TenderBids:
    """Bids sorted once by tender and amount, with the group bookkeeping every screen shares.

    Parameters
    ----------
    bids : pandas.DataFrame
        One row per bid.
    tender_col : str, default="tender_id"
        Column identifying the tender.
    bid_col : str, default="bid"
        Column holding the bid amount (positive, finite; not checked here, the
        loaders check it).

    Attributes
    ----------
    index : pandas.Index
        Tender ids, sorted; every screen is aligned to it.
    g : ndarray of int
        Tender position (into ``index``) of each sorted bid.
    b : ndarray of float
        The bids, ascending within each tender.
    n : ndarray of int
        Number of bids per tender.
    start : ndarray of int
        Position in ``b`` of each tender's lowest bid.
    rank : ndarray of int
        0 for a tender's lowest bid, 1 for the second lowest, …
    """

    def __init__(self, bids: pd.DataFrame, tender_col: str = "tender_id", bid_col: str = "bid"):
        codes, uniques = pd.factorize(bids[tender_col], sort=True)
        values = bids[bid_col].to_numpy(dtype=float)
        order = np.lexsort((values, codes))
        self.index = pd.Index(uniques, name=tender_col)
        self.g = codes[order]
        self.b = values[order]
        self.n = np.bincount(self.g, minlength=len(self.index))
        self.start = np.concatenate([[0], np.cumsum(self.n)[:-1]]).astype(np.int64)
        self.rank = np.arange(len(self.b)) - self.start[self.g]

    # -- group reductions (all vectorised) -------------------------------------------------
    def sum(self, x: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
        """Sum of ``x`` per tender (over the bids where ``mask`` is true)."""
        w = x if mask is None else np.where(mask, x, 0.0)
        return np.bincount(self.g, weights=w, minlength=len(self.index))

    def count(self, mask: np.ndarray) -> np.ndarray:
        return np.bincount(self.g, weights=mask.astype(float), minlength=len(self.index))

    def nth(self, k: int) -> np.ndarray:
        """The ``k``-th lowest bid (0-based) per tender; NaN where the tender has fewer."""
        out = np.full(len(self.index), np.nan)
        ok = self.n > k
        out[ok] = self.b[self.start[ok] + k]
        return out

    def last(self) -> np.ndarray:
        """The highest bid per tender."""
        return self.b[self.start + self.n - 1]

    def mean(self, mask: np.ndarray | None = None) -> np.ndarray:
        cnt = self.n if mask is None else self.count(mask)
        with np.errstate(invalid="ignore", divide="ignore"):
            return self.sum(self.b, mask) / cnt

    def std(self, mask: np.ndarray | None = None) -> np.ndarray:
        """Sample standard deviation (``ddof=1``), two-pass for accuracy."""
        cnt = self.n if mask is None else self.count(mask)
        m = self.mean(mask)
        dev2 = (self.b - m[self.g]) ** 2
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.sqrt(self.sum(dev2, mask) / (cnt - 1))

    def sorted_quantile(self, values: np.ndarray, counts: np.ndarray, starts: np.ndarray, q: float) -> np.ndarray:
        """Quantile (linear interpolation, numpy's default) of values already sorted within groups."""
        out = np.full(len(counts), np.nan)
        ok = counts > 0
        pos = q * (counts[ok] - 1)
        lo = np.floor(pos).astype(np.int64)
        hi = np.ceil(pos).astype(np.int64)
        frac = pos - lo
        s = starts[ok]
        out[ok] = values[s + lo] * (1 - frac) + values[s + hi] * frac
        return out

    def quantile(self, q: float) -> np.ndarray:
        return self.sorted_quantile(self.b, self.n, self.start, q)

    def mad(self, first_rank: int = 0) -> np.ndarray:
        """Median absolute deviation from the median of the bids ranked ``>= first_rank``."""
        keep = self.rank >= first_rank
        g, b = self.g[keep], self.b[keep]
        cnt = np.bincount(g, minlength=len(self.index))
        starts = np.concatenate([[0], np.cumsum(cnt)[:-1]]).astype(np.int64)
        med = self.sorted_quantile(b, cnt, starts, 0.5)
        dev = np.abs(b - med[g])
        order = np.lexsort((dev, g))
        return self.sorted_quantile(dev[order], cnt, starts, 0.5)

    def series(self, values: np.ndarray, name: str) -> pd.Series:
        return pd.Series(values, index=self.index, name=name)


@dataclass(frozen=True)
class Screen:
    """One screen of the catalogue.

    Parameters
    ----------
    name : str
        Stable short name (``cv``, ``rd``…), also the column name in
        :func:`compute_screens`.
    func : callable
        ``func(bids) -> pandas.Series`` (bids as a DataFrame or :class:`TenderBids`).
    min_bids : int
        Fewest bids for which the screen is defined; below it the value is NaN.
    family : str
        ``count``, ``variance`` (dispersion), ``cover`` (gap between winner and
        cover bids), ``shape`` (asymmetry, tails, uniformity) or ``ties``.
    classic : bool
        Whether it belongs to the screens of Huber & Imhof (2019) that the
        reference classifier uses.
    title_en, title_zh : str
        Titles for reports.
    source : str
        Short citation.
    """

    name: str
    func: Callable[..., pd.Series]
    min_bids: int
    family: str
    classic: bool
    title_en: str
    title_zh: str
    source: str


#: Every screen, by stable short name, in catalogue order.
SCREENS: dict[str, Screen] = {}


def _screen(name: str, min_bids: int, family: str, title_en: str, title_zh: str, source: str,
            classic: bool = False, registry: dict[str, Screen] | None = None):
    """Register a screen (in ``registry``, default :data:`SCREENS`); the wrapper accepts a DataFrame or
    TenderBids and applies the small-tender rule."""

    def decorate(fn: Callable[[TenderBids], np.ndarray]) -> Callable[..., pd.Series]:
        @wraps(fn)
        def wrapper(bids: pd.DataFrame | TenderBids, tender_col: str = "tender_id", bid_col: str = "bid") -> pd.Series:
            tb = bids if isinstance(bids, TenderBids) else TenderBids(bids, tender_col, bid_col)
            with np.errstate(invalid="ignore", divide="ignore"):
                values = np.asarray(fn(tb), dtype=float)
            # a zero denominator gives inf or NaN: both mean "not defined here"
            values = np.where(np.isfinite(values) & (tb.n >= min_bids), values, np.nan)
            return tb.series(values, name)

        (SCREENS if registry is None else registry)[name] = Screen(name, wrapper, min_bids, family, classic, title_en,
                                                                   title_zh, source)
        return wrapper

    return decorate


_HI = "Huber & Imhof (2019), IJIO 65:277–301"
_IKR = "Imhof, Karagök & Rutz (2018), JCLE 14(2):235–261"
_GR = "García Rodríguez et al. (2022), Automation in Construction 133:104047"
_WIH = "Wallimann, Imhof & Huber (2022), Computational Economics 62:1669–1720"


# -- classic screens (Huber & Imhof 2019; also used by García Rodríguez et al. 2022) -----------

@_screen("n_bids", 1, "count", "Number of bids", "投标人数", _HI, classic=True)
def n_bids(tb: TenderBids) -> np.ndarray:
    """Number of bids in the tender.

    Few bidders make collusion easier to organise; it is also the context in
    which every other screen must be read.  Source: Huber & Imhof (2019).

    >>> import pandas as pd
    >>> n_bids(pd.DataFrame({"tender_id": [1, 1, 2], "bid": [1.0, 2.0, 3.0]})).tolist()
    [2.0, 1.0]
    """
    return tb.n.astype(float)


@_screen("cv", 2, "variance", "Coefficient of variation", "变异系数", _HI, classic=True)
def cv(tb: TenderBids) -> np.ndarray:
    """Coefficient of variation ``s / mean`` of the bids (needs 2 bids).

    Cover bids prepared to lose are placed close together, so rigged tenders
    show a low CV (the "variance screen").  Source: Huber & Imhof (2019);
    Imhof, Karagök & Rutz (2018).

    >>> import pandas as pd
    >>> round(float(cv(pd.DataFrame({"tender_id": [1, 1, 1], "bid": [90.0, 100.0, 110.0]})).iloc[0]), 4)
    0.1
    """
    return tb.std() / tb.mean()


@_screen("spd", 2, "variance", "Spread", "报价极差率", _HI, classic=True)
def spd(tb: TenderBids) -> np.ndarray:
    """Spread ``(max - min) / min`` (needs 2 bids).

    A narrow range of bids signals coordinated pricing.  Source: Huber &
    Imhof (2019).

    >>> import pandas as pd
    >>> float(spd(pd.DataFrame({"tender_id": [1, 1, 1], "bid": [100.0, 150.0, 125.0]})).iloc[0])
    0.5
    """
    return (tb.last() - tb.nth(0)) / tb.nth(0)


@_screen("diffp", 2, "cover", "Percentage difference of the two lowest bids", "最低两价差率", _HI, classic=True)
def diffp(tb: TenderBids) -> np.ndarray:
    """Percentage difference of the two lowest bids ``(b2 - b1) / b1`` (needs 2 bids).

    The designated winner can leave a comfortable margin below the first cover
    bid.  Source: Huber & Imhof (2019).

    >>> import pandas as pd
    >>> float(diffp(pd.DataFrame({"tender_id": [1, 1, 1], "bid": [120.0, 100.0, 110.0]})).iloc[0])
    0.1
    """
    return (tb.nth(1) - tb.nth(0)) / tb.nth(0)


@_screen("rd", 3, "cover", "Relative distance", "相对距离", _HI, classic=True)
def rd(tb: TenderBids) -> np.ndarray:
    """Relative distance ``(b2 - b1) / s(b2 … bn)`` (needs 3 bids; NaN if the losing bids are all equal).

    A large gap between the winner and tightly packed losing bids is the
    pattern of cover bidding.  Source: Imhof, Karagök & Rutz (2018); Huber &
    Imhof (2019).

    >>> import pandas as pd
    >>> float(rd(pd.DataFrame({"tender_id": [1] * 4, "bid": [100.0, 110.0, 111.0, 112.0]})).iloc[0])
    10.0
    """
    return (tb.nth(1) - tb.nth(0)) / tb.std(tb.rank >= 1)


def _central_moment_sums(tb: TenderBids) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    m = tb.mean()
    d = tb.b - m[tb.g]
    return tb.sum(d ** 2), tb.sum(d ** 3), tb.sum(d ** 4)


@_screen("skew", 3, "shape", "Skewness", "偏度", _HI, classic=True)
def skew(tb: TenderBids) -> np.ndarray:
    """Bias-corrected sample skewness (needs 3 bids; NaN if all bids are equal).

    ``G1 = sqrt(n (n-1)) / (n-2) * m3 / m2**1.5``, as
    ``scipy.stats.skew(bias=False)``.  Cover bids bunched above an isolated
    low winner give a negative skew.  Source: Huber & Imhof (2019).

    >>> import pandas as pd
    >>> round(float(skew(pd.DataFrame({"tender_id": [1] * 4, "bid": [100.0, 110.0, 111.0, 112.0]})).iloc[0]), 4)
    -1.8717
    """
    n = tb.n.astype(float)
    s2, s3, _ = _central_moment_sums(tb)
    m2, m3 = s2 / n, s3 / n
    g1 = m3 / m2 ** 1.5
    return np.sqrt(n * (n - 1)) / (n - 2) * g1


@_screen("kurt", 4, "shape", "Kurtosis", "峰度", _HI, classic=True)
def kurt(tb: TenderBids) -> np.ndarray:
    """Bias-corrected sample excess kurtosis (needs 4 bids; NaN if all bids are equal).

    As ``scipy.stats.kurtosis(bias=False)``; Huber & Imhof (2019) write it as
    ``n(n+1)/((n-1)(n-2)(n-3)) Σ((b-mean)/s)**4 - 3(n-1)**2/((n-2)(n-3))``.
    Collusion concentrates bids, raising the kurtosis.

    >>> import pandas as pd
    >>> round(float(kurt(pd.DataFrame({"tender_id": [1] * 4, "bid": [100.0, 110.0, 111.0, 112.0]})).iloc[0]), 4)
    3.5769
    """
    n = tb.n.astype(float)
    s2, _, s4 = _central_moment_sums(tb)
    m2, m4 = s2 / n, s4 / n
    g2 = m4 / m2 ** 2 - 3.0
    return (n - 1) / ((n - 2) * (n - 3)) * ((n + 1) * g2 + 6.0)


_SQRT3 = np.sqrt(3.0)


@_screen("ks", 3, "shape", "Kolmogorov–Smirnov uniformity statistic", "KS均匀性统计量", _HI, classic=True)
def ks(tb: TenderBids) -> np.ndarray:
    """Kolmogorov–Smirnov distance between the bids and a uniform distribution (needs 3 bids).

    The bids are standardised, ``z = (b - mean) / s``, and compared with the
    uniform distribution of the same mean and standard deviation, U(-√3, √3):
    ``D = max_i max(i/n - F(z_i), F(z_i) - (i-1)/n)``.  Competitive bids spread
    roughly evenly; rigged bids (a lone low winner, a cluster of covers) do
    not.  Huber & Imhof (2019) use a KS statistic against a uniform
    distribution as a screen; papers differ on the reference uniform's bounds,
    this choice (matched mean and variance) makes the statistic invariant to
    the tender's scale and location.  NaN when all bids are equal.

    >>> import pandas as pd
    >>> round(float(ks(pd.DataFrame({"tender_id": [1] * 4, "bid": [100.0, 110.0, 111.0, 112.0]})).iloc[0]), 4)
    0.3409
    """
    z = (tb.b - tb.mean()[tb.g]) / tb.std()[tb.g]
    f = np.clip((z + _SQRT3) / (2 * _SQRT3), 0.0, 1.0)
    n = tb.n[tb.g].astype(float)
    i = tb.rank + 1.0
    d = np.maximum(i / n - f, f - (i - 1) / n)
    if not len(d):
        return np.empty(0)
    d = np.where(np.isfinite(d), d, -np.inf)  # zero-variance tenders: -inf, NaN after the max
    out = np.maximum.reduceat(d, tb.start)
    return np.where(np.isfinite(out), out, np.nan)


# -- cover-bidding screens on the losing bids (Imhof, Karagök & Rutz 2018) ----------------------

@_screen("rd_alt", 3, "cover", "Alternative relative distance", "相对距离(替代)", _IKR)
def rd_alt(tb: TenderBids) -> np.ndarray:
    """``(b2 - b1)`` over the mean gap between adjacent losing bids, ``(bn - b2) / (n - 2)`` (needs 3 bids).

    Above 1 the winner is further from the first cover bid than the cover bids
    are from each other.  NaN if the losing bids are all equal.  Source:
    Imhof, Karagök & Rutz (2018), "alternative relative distance".

    >>> import pandas as pd
    >>> float(rd_alt(pd.DataFrame({"tender_id": [1] * 4, "bid": [100.0, 110.0, 111.0, 112.0]})).iloc[0])
    10.0
    """
    return (tb.nth(1) - tb.nth(0)) * (tb.n - 2) / (tb.last() - tb.nth(1))


@_screen("rd_nor", 3, "cover", "Normalised distance", "相对距离(归一)", _IKR)
def rd_nor(tb: TenderBids) -> np.ndarray:
    """``(b2 - b1)`` over the mean gap between adjacent bids, ``(bn - b1) / (n - 1)`` (needs 3 bids).

    Bounded in ``[0, n - 1]``, so it stays finite where ``rd`` explodes.
    Source: Imhof, Karagök & Rutz (2018), "normalised distance".

    >>> import pandas as pd
    >>> float(rd_nor(pd.DataFrame({"tender_id": [1] * 4, "bid": [100.0, 110.0, 111.0, 112.0]})).iloc[0])
    2.5
    """
    return (tb.nth(1) - tb.nth(0)) * (tb.n - 1) / (tb.last() - tb.nth(0))


@_screen("cv_losing", 3, "variance", "CV of the losing bids", "落标价变异系数", _IKR)
def cv_losing(tb: TenderBids) -> np.ndarray:
    """Coefficient of variation of the losing bids ``b2 … bn`` (needs 3 bids).

    Cover bids are the ones a cartel writes; their dispersion is the cleanest
    variance screen, undisturbed by a winner who may be genuinely cheaper.
    Source: in the spirit of Imhof, Karagök & Rutz (2018), who read the losing
    bids' dispersion through the relative distance.

    >>> import pandas as pd
    >>> round(float(cv_losing(pd.DataFrame({"tender_id": [1] * 4, "bid": [100.0, 110.0, 111.0, 112.0]})).iloc[0]), 5)
    0.00901
    """
    losing = tb.rank >= 1
    return tb.std(losing) / tb.mean(losing)


@_screen("spd_losing", 3, "variance", "Spread of the losing bids", "落标价极差率", _IKR)
def spd_losing(tb: TenderBids) -> np.ndarray:
    """Spread of the losing bids ``(bn - b2) / b2`` (needs 3 bids).

    The spread screen of Huber & Imhof (2019) restricted to the cover bids, as
    the losing-bid screens of Imhof, Karagök & Rutz (2018): a cartel's covers
    span a narrow range even when the winner stands apart.

    >>> import pandas as pd
    >>> round(float(spd_losing(pd.DataFrame({"tender_id": [1] * 4, "bid": [100.0, 110.0, 111.0, 112.0]})).iloc[0]), 5)
    0.01818
    """
    return (tb.last() - tb.nth(1)) / tb.nth(1)


@_screen("diffp_23", 3, "cover", "Percentage difference of the 2nd and 3rd lowest bids", "次低与第三低价差率", _IKR)
def diffp_23(tb: TenderBids) -> np.ndarray:
    """``(b3 - b2) / b2`` (needs 3 bids): how close the first two cover bids are.

    Compared with ``diffp`` it separates "the winner is isolated" from "the
    bids are sparse everywhere".  Source: gap screens of Imhof, Karagök & Rutz
    (2018) applied one rank higher.

    >>> import pandas as pd
    >>> round(float(diffp_23(pd.DataFrame({"tender_id": [1] * 3, "bid": [100.0, 110.0, 121.0]})).iloc[0]), 4)
    0.1
    """
    return (tb.nth(2) - tb.nth(1)) / tb.nth(1)


# -- robust variants -----------------------------------------------------------------------

@_screen("mad_med", 3, "variance", "Robust CV (MAD / median)", "稳健变异系数", _HI + "; robust variant")
def mad_med(tb: TenderBids) -> np.ndarray:
    """Median absolute deviation over the median (needs 3 bids): a CV that one outlying bid cannot move.

    A single wild bid (a mistake, a bidder that does not want the job) inflates
    ``cv`` and hides a tight cluster; the MAD ignores it.  Robust counterpart
    of the variance screen of Huber & Imhof (2019).

    >>> import pandas as pd
    >>> round(float(mad_med(pd.DataFrame({"tender_id": [1] * 5, "bid": [100.0, 101.0, 102.0, 103.0, 500.0]})).iloc[0]), 5)
    0.0098
    """
    return tb.mad() / tb.quantile(0.5)


@_screen("iqr_med", 4, "variance", "Robust spread (IQR / median)", "稳健极差率", _HI + "; robust variant")
def iqr_med(tb: TenderBids) -> np.ndarray:
    """Interquartile range over the median (needs 4 bids; quartiles by linear interpolation).

    Robust counterpart of the spread ``spd`` (Huber & Imhof 2019).

    >>> import pandas as pd
    >>> float(iqr_med(pd.DataFrame({"tender_id": [1] * 5, "bid": [100.0, 101.0, 102.0, 103.0, 500.0]})).iloc[0])
    0.0196078431372549
    """
    return (tb.quantile(0.75) - tb.quantile(0.25)) / tb.quantile(0.5)


@_screen("rd_mad", 4, "cover", "Robust relative distance", "稳健相对距离", _IKR + "; robust variant")
def rd_mad(tb: TenderBids) -> np.ndarray:
    """``(b2 - b1) / MAD(b2 … bn)`` (needs 4 bids; NaN when the MAD is 0).

    The relative distance with the losing bids' standard deviation replaced by
    their median absolute deviation, so one far-off cover bid does not mask
    the gap.  Robust counterpart of ``rd`` (Imhof, Karagök & Rutz 2018).

    >>> import pandas as pd
    >>> float(rd_mad(pd.DataFrame({"tender_id": [1] * 5, "bid": [100.0, 110.0, 111.0, 112.0, 300.0]})).iloc[0])
    10.0
    """
    return (tb.nth(1) - tb.nth(0)) / tb.mad(first_rank=1)


def _next(x: np.ndarray, k: int = 1, fill=np.nan) -> np.ndarray:
    """``x`` shifted ``k`` places up (element i holds x[i + k]); the last ``k`` places hold ``fill``."""
    return np.concatenate([x[k:], np.full(min(k, len(x)), fill, dtype=np.result_type(x, type(fill)))])


def _same_tender_next(tb: TenderBids, k: int = 1) -> np.ndarray:
    """Whether the bid ``k`` places further in sorted order belongs to the same tender."""
    return tb.rank + k <= tb.n[tb.g] - 1


def _gaps(tb: TenderBids) -> tuple[np.ndarray, np.ndarray]:
    """Gap from each sorted bid to the next one of its tender (NaN for a tender's highest bid), and whether it exists."""
    has_next = _same_tender_next(tb)
    return np.where(has_next, _next(tb.b) - tb.b, np.nan), has_next


@_screen("gap_cv", 4, "shape", "CV of the gaps between adjacent bids", "报价间距变异系数", _WIH)
def gap_cv(tb: TenderBids) -> np.ndarray:
    """Coefficient of variation of the gaps between adjacent sorted bids (needs 4 bids, i.e. 3 gaps).

    Independent competitive bids leave irregular gaps; bids written by one
    hand to look different tend to be evenly stepped (low ``gap_cv``) or to
    leave one big hole (high).  Source: uniformity screens of Huber & Imhof
    (2019), on the spacings as in the subgroup screens of Wallimann, Imhof &
    Huber (2022).  NaN when every gap is 0.

    >>> import pandas as pd
    >>> float(gap_cv(pd.DataFrame({"tender_id": [1] * 4, "bid": [100.0, 110.0, 120.0, 130.0]})).iloc[0])
    0.0
    """
    gap, has = _gaps(tb)
    cnt = tb.count(has)
    gz = np.where(has, gap, 0.0)
    mean = tb.sum(gz) / cnt
    var = tb.sum(np.where(has, (gz - mean[tb.g]) ** 2, 0.0)) / (cnt - 1)
    return np.sqrt(var) / mean


def _window_cv3(tb: TenderBids) -> tuple[np.ndarray, np.ndarray]:
    """CV of each window of 3 adjacent sorted bids, and whether the window exists."""
    b0, b1, b2 = tb.b, _next(tb.b, 1), _next(tb.b, 2)
    ok = _same_tender_next(tb, 2)
    m = (b0 + b1 + b2) / 3.0
    s = np.sqrt(((b0 - m) ** 2 + (b1 - m) ** 2 + (b2 - m) ** 2) / 2.0)
    return np.where(ok, s / m, np.nan), ok


@_screen("cv3_min", 3, "variance", "Smallest CV over 3 adjacent bids", "相邻三价最小变异系数", _WIH)
def cv3_min(tb: TenderBids) -> np.ndarray:
    """Smallest coefficient of variation over windows of 3 adjacent sorted bids (needs 3 bids).

    A cartel that does not include every bidder (an incomplete cartel) still
    leaves a tight cluster of its own bids somewhere in the distribution;
    screens over subgroups of bids find it where whole-tender screens are
    diluted by the competitors.  Adjacent windows keep this linear in the
    number of bids.  Source: Wallimann, Imhof & Huber (2022), summary screens
    over subgroups of 3 or 4 bids.

    >>> import pandas as pd
    >>> round(float(cv3_min(pd.DataFrame({"tender_id": [1] * 5, "bid": [80.0, 100.0, 100.5, 101.0, 140.0]})).iloc[0]), 5)
    0.00498
    """
    v, ok = _window_cv3(tb)
    if not len(v):
        return np.empty(0)
    red = np.minimum.reduceat(np.where(ok, v, np.inf), tb.start)
    return np.where(np.isfinite(red), red, np.nan)


@_screen("cv3_med", 3, "variance", "Median CV over 3 adjacent bids", "相邻三价变异系数中位数", _WIH)
def cv3_med(tb: TenderBids) -> np.ndarray:
    """Median coefficient of variation over windows of 3 adjacent sorted bids (needs 3 bids).

    Source: Wallimann, Imhof & Huber (2022), summary screens over subgroups.

    >>> import pandas as pd
    >>> round(float(cv3_med(pd.DataFrame({"tender_id": [1] * 3, "bid": [90.0, 100.0, 110.0]})).iloc[0]), 4)
    0.1
    """
    v, ok = _window_cv3(tb)
    g, vals = tb.g[ok], v[ok]
    order = np.lexsort((vals, g))
    cnt = np.bincount(g, minlength=len(tb.index))
    starts = np.concatenate([[0], np.cumsum(cnt)[:-1]]).astype(np.int64)
    return tb.sorted_quantile(vals[order], cnt, starts, 0.5)


@_screen("tie_share", 2, "ties", "Share of tied bids", "相同报价占比", _GR)
def tie_share(tb: TenderBids) -> np.ndarray:
    """Share of the tender's bids that equal (exactly) another bid of the same tender (needs 2 bids).

    Identical bids are rare between firms that price independently and a
    classic sign of coordination; they also make the relative-distance
    screens undefined (zero denominator), which this screen records.  Source:
    identical bids among the collusive markers discussed by García Rodríguez
    et al. (2022).

    >>> import pandas as pd
    >>> float(tie_share(pd.DataFrame({"tender_id": [1] * 4, "bid": [100.0, 105.0, 105.0, 110.0]})).iloc[0])
    0.5
    """
    same_next = _same_tender_next(tb) & (_next(tb.b) == tb.b)
    same_prev = np.concatenate([[False], same_next[:-1]]) if len(same_next) else same_next
    tied = same_next | same_prev
    return tb.count(tied) / tb.n


#: The screens of Huber & Imhof (2019), used by the reference classifier.
CLASSIC_SCREENS: tuple[str, ...] = tuple(name for name, s in SCREENS.items() if s.classic)
#: Every screen.
EXTENDED_SCREENS: tuple[str, ...] = tuple(SCREENS)


def compute_screens(bids: pd.DataFrame | TenderBids, names: Sequence[str] | Iterable[str] | None = None,
                    tender_col: str = "tender_id", bid_col: str = "bid") -> pd.DataFrame:
    """Compute several screens at once, one row per tender.

    Parameters
    ----------
    bids : pandas.DataFrame or TenderBids
        One row per bid.
    names : sequence of str, optional
        Screen names (keys of :data:`SCREENS`); default every screen.
    tender_col, bid_col : str
        Column names in ``bids``.

    Returns
    -------
    pandas.DataFrame
        Indexed by tender id (sorted), one float column per screen
        (``n_bids`` as int), NaN where a screen is not defined for the tender.

    Raises
    ------
    KeyError
        For an unknown screen name (the message lists the known ones).

    Examples
    --------
    >>> import pandas as pd
    >>> bids = pd.DataFrame({"tender_id": [7, 7, 7], "bid": [90.0, 100.0, 110.0]})
    >>> compute_screens(bids, ["cv", "spd"]).round(3).to_dict("records")
    [{'cv': 0.1, 'spd': 0.222}]
    """
    names = list(SCREENS) if names is None else list(names)
    unknown = [n for n in names if n not in SCREENS]
    if unknown:
        raise KeyError(f"unknown screen(s) {unknown}; known: {', '.join(SCREENS)}")
    tb = bids if isinstance(bids, TenderBids) else TenderBids(bids, tender_col, bid_col)
    out = pd.DataFrame({n: SCREENS[n].func(tb) for n in names}, index=tb.index)
    if "n_bids" in out:
        out["n_bids"] = out["n_bids"].astype(int)
    return out
