"""Identity screens: what bidder identities and the bidding history say about a tender.

The screens of :mod:`riskmodel.indicators.screens` and
:mod:`riskmodel.collusion.screens` read one tender's bids.  Where the bid file
also names the **bidder** (and, for histories, the tender's **period** and
**market**), the literature's identity-based screens become possible: cartels
that share out a market keep the same firm winning the same buyer's contract
(incumbency, market allocation), enter tenders as a group (coordinated entry),
take turns winning among the same firms (bid rotation) and price their
allocated contracts differently from the rest of their own business.

Rules every screen here follows
-------------------------------
* Computed from bids, bidders, periods, markets and winners only.  **No
  label** (and nothing derived from one) is ever read, so a classifier that
  uses these screens cannot learn the label back from them.
* **No firm constant.**  A screen describes how this tender relates to the
  bids before it (or to the same firm's other bids in the period), never a
  fixed attribute of a firm (its size, its overall win rate, its id): a firm
  constant would let a classifier recognise *which* firms bid, and where the
  label is "a cartel member bid" (the Ohio school-milk data) that is the label
  itself.
* **Only earlier periods are history.**  ``inc_win``, ``market_win_share``,
  ``entry_overlap``, ``cobid_rate`` and ``rotation`` read tenders of strictly
  earlier periods (tenders of the same period are not ordered, so none is the
  history of another).  ``win_own_dev`` and ``cover_own_dev`` compare a bid
  with the same firm's *other* bids of the same period.  Adding later tenders
  never changes a screen's value.
* The winner is the bid marked ``is_winner`` where the file says which bid won
  (exactly one per tender), else the lowest bid (ties: the first bidder in
  sort order).
* **Small-tender rule**: every screen needs :data:`IDENTITY_MIN_BIDS` (2) bids
  (a single bid had no competition to screen) and is NaN below it; NaN also
  where the history it reads is empty (a market's first period, a pair of
  firms that never met) or a column it needs is absent.

=================  ==============  ====================================================================
name               needs           definition (per tender; "before" = in strictly earlier periods)
=================  ==============  ====================================================================
inc_win            market, period  1 if the winner also won (one of) the market's tender(s) in the
                                   market's latest earlier period, else 0
market_win_share   market, period  share of the market's tenders before that this tender's winner won
entry_overlap      market, period  Jaccard similarity of this tender's bidders and the bidders of the
                                   market's latest earlier period
cobid_rate         period          mean over pairs of bidders of: tenders both bid in before / tenders
                                   the less active of the two bid in before (pairs with history only)
rotation           period          among the losing bidders who met the winner before, the share that
                                   beat the winner at least once before
win_own_dev        —               log(winning bid) − mean log of the winner's other bids in the period
cover_own_dev      —               the same for each losing bid, averaged over the losing bidders
=================  ==============  ====================================================================

Without a ``period`` column the whole file is one period (``win_own_dev``,
``cover_own_dev``) and the history screens are NaN; without ``market`` the
market screens are NaN.

References
----------
.. [PZ99] Porter, R. H. & Zona, J. D. (1999). Ohio school milk markets: an
   analysis of bidding. *RAND Journal of Economics* 30(2):263–288.
.. [P00] Pesendorfer, M. (2000). A study of collusion in first-price
   auctions. *Review of Economic Studies* 67(3):381–411.
.. [CD16] Conley, T. G. & Decarolis, F. (2016). Detecting bidders groups in
   collusive auctions. *American Economic Journal: Microeconomics* 8(2):1–38.
.. [PZ93] Porter, R. H. & Zona, J. D. (1993). Detection of bid rigging in
   procurement auctions. *Journal of Political Economy* 101(3):518–538.
.. [I09] Ishii, R. (2009). Favor exchange in collusion: empirical study of
   repeated procurement auctions in Japan. *International Journal of
   Industrial Organization* 27(2):137–144.
.. [OECD] OECD (2009/2025). Guidelines for fighting bid rigging in public
   procurement: bid rotation and market allocation.

Examples
--------
>>> import pandas as pd
>>> bids = pd.DataFrame({"tender_id": ["a1", "a1", "a2", "a2", "b2", "b2"],
...                      "bid": [10.0, 11.0, 10.5, 11.5, 20.0, 21.0],
...                      "bidder": ["X", "Y", "X", "Y", "Y", "Z"],
...                      "period": [1, 1, 2, 2, 2, 2], "market": ["m", "m", "m", "m", "n", "n"]})
>>> s = compute_identity_screens(bids)
>>> s.loc["a2", ["inc_win", "market_win_share", "entry_overlap", "cobid_rate", "rotation"]].tolist()
[1.0, 1.0, 1.0, 1.0, 0.0]
>>> s.loc["a1"].isna().all()  # the market's first period: no history
np.True_
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import numpy as np
import pandas as pd

from riskmodel.indicators.screens import Screen

__all__ = ["IDENTITY_MIN_BIDS", "IDENTITY_SCREENS", "IDENTITY_SCREEN_NAMES", "IdentityBids", "compute_identity_screens",
           "has_identities"]

#: Fewest bids for an identity screen: a single bid had no competition.
IDENTITY_MIN_BIDS = 2
#: Identity screens by stable short name.  ``func`` takes an :class:`IdentityBids` and returns one value per tender.
IDENTITY_SCREENS: dict[str, Screen] = {}

_PZ99 = "Porter & Zona (1999), RAND Journal of Economics 30(2):263–288"
_P00 = "Pesendorfer (2000), Review of Economic Studies 67(3):381–411"
_CD = "Conley & Decarolis (2016), AEJ: Microeconomics 8(2):1–38"
_PZ93 = "Porter & Zona (1993), Journal of Political Economy 101(3):518–538"
_I09 = "Ishii (2009), IJIO 27(2):137–144"
_OECD = "OECD Guidelines for fighting bid rigging in public procurement"


def has_identities(bids: pd.DataFrame) -> bool:
    """Whether a bid table names its bidders (a ``bidder`` column with a value on every row).

    Examples
    --------
    >>> has_identities(pd.DataFrame({"tender_id": [1], "bid": [1.0], "bidder": ["X"]}))
    True
    >>> has_identities(pd.DataFrame({"tender_id": [1], "bid": [1.0], "bidder": [None]}))
    False
    """
    return "bidder" in bids.columns and len(bids) > 0 and bool(bids["bidder"].notna().all())


def _period_key(s: pd.Series) -> np.ndarray:
    """An orderable float key of a period column (a year, a number or a date)."""
    if pd.api.types.is_numeric_dtype(s):
        return s.to_numpy(dtype=float)
    return pd.to_datetime(s).to_numpy(dtype="datetime64[ns]").astype(np.int64).astype(float)


class IdentityBids:
    """A bid table with identities, prepared once for every identity screen.

    Parameters
    ----------
    bids : pandas.DataFrame
        One dataset's bids: ``tender_id``, ``bid``, ``bidder``; optional
        ``period``, ``market``, ``is_winner`` (as checked by
        :func:`riskmodel.collusion.bids.validate_bids`).

    Attributes
    ----------
    index : pandas.Index
        Tender ids, sorted (as :class:`riskmodel.indicators.screens.TenderBids`).
    bids : pandas.DataFrame
        ``t`` (tender position), ``bidder``, ``bid``, ``lb`` (log bid), ``p``
        (period key), ``win`` (bool).
    tenders : pandas.DataFrame
        Per tender position: ``n``, ``p``, ``market``, ``winner``, ``win_bid``.
    has_period, has_market : bool
    """

    def __init__(self, bids: pd.DataFrame):
        if not has_identities(bids):
            raise ValueError("identity screens need a 'bidder' column with a value on every row")
        codes, uniques = pd.factorize(bids["tender_id"].astype(str), sort=True)
        self.index = pd.Index(uniques, name="tender_id")
        self.has_period = "period" in bids.columns and bool(bids["period"].notna().all())
        self.has_market = "market" in bids.columns and bool(bids["market"].notna().all())
        b = pd.DataFrame({"t": codes, "bidder": bids["bidder"].astype(str).to_numpy(),
                          "bid": bids["bid"].to_numpy(dtype=float),
                          "mark": (bids["is_winner"].fillna(False).astype(bool).to_numpy()
                                   if "is_winner" in bids.columns else False)})
        b["lb"] = np.log(b["bid"])
        b["p"] = _period_key(bids["period"]) if self.has_period else 0.0
        b = b.sort_values(["t", "bid", "bidder"], kind="stable").reset_index(drop=True)
        lowest = (~b["t"].duplicated()).to_numpy()
        one_marked = b.groupby("t")["mark"].transform("sum").to_numpy() == 1
        b["win"] = np.where(one_marked, b["mark"].to_numpy(), lowest)  # exactly one marked winner: it; else the lowest
        b = b.drop(columns="mark")
        self.bids = b
        n = np.bincount(b["t"], minlength=len(self.index))
        w = b[b["win"]].set_index("t")
        t = pd.DataFrame({"n": n, "p": b.groupby("t")["p"].first().reindex(range(len(n))).to_numpy()})
        t["winner"] = w["bidder"].reindex(range(len(n))).to_numpy()
        t["win_bid"] = w["bid"].reindex(range(len(n))).to_numpy()
        if self.has_market:
            mk = pd.Series(bids["market"].astype(str).to_numpy()).groupby(codes).first()
            t["market"] = mk.reindex(range(len(n))).to_numpy()
        self.tenders = t

    def series(self, values: np.ndarray, name: str) -> pd.Series:
        return pd.Series(values, index=self.index, name=name)

    # -- shared pieces -------------------------------------------------------------------------
    def market_previous(self) -> pd.DataFrame:
        """Per tender position: its market and the market's latest earlier period (``prev``, NaN if none)."""
        t = self.tenders[["market", "p"]].copy()
        mp = t.drop_duplicates().sort_values(["market", "p"])
        mp["prev"] = mp.groupby("market")["p"].shift()
        return t.reset_index(names="t").merge(mp, on=["market", "p"], how="left").set_index("t").sort_index()

    def before(self, events: pd.DataFrame, keys: list[str], queries: pd.DataFrame) -> np.ndarray:
        """Count of ``events`` with the same ``keys`` in periods strictly before each query's period ``p``.

        ``events`` and ``queries`` hold ``keys`` and ``p``; the answer is aligned with ``queries``' rows.
        """
        if not len(queries):
            return np.zeros(0)
        cnt = events.groupby(keys + ["p"], sort=False).size().rename("c").reset_index().sort_values("p")
        cnt["cum"] = cnt.groupby(keys)["c"].cumsum()
        q = queries[keys + ["p"]].reset_index(drop=True).reset_index(names="_row").sort_values("p")
        # exact period excluded: same-period tenders are not each other's history
        m = pd.merge_asof(q, cnt[keys + ["p", "cum"]], on="p", by=keys, allow_exact_matches=False)
        return m.sort_values("_row")["cum"].fillna(0.0).to_numpy()

    def pairs(self) -> pd.DataFrame:
        """Every unordered pair of bidders within a tender: ``t``, ``a`` < ``b`` (bidder ids), ``p``, and
        ``a_win``/``b_win``."""
        b = self.bids[["t", "bidder", "p", "win"]]
        m = b.merge(b, on="t", suffixes=("_a", "_b"))
        m = m[m["bidder_a"] < m["bidder_b"]]
        return pd.DataFrame({"t": m["t"].to_numpy(), "a": m["bidder_a"].to_numpy(), "b": m["bidder_b"].to_numpy(),
                             "p": m["p_a"].to_numpy(), "a_win": m["win_a"].to_numpy(), "b_win": m["win_b"].to_numpy()})


def _identity_screen(name: str, needs: tuple[str, ...], title_en: str, title_zh: str, source: str):
    """Register an identity screen; the wrapper applies the small-tender rule and NaN where a needed column is absent."""

    def decorate(fn: Callable[[IdentityBids], np.ndarray]):
        def wrapper(bids: pd.DataFrame | IdentityBids) -> pd.Series:
            ib = bids if isinstance(bids, IdentityBids) else IdentityBids(bids)
            ok = all(getattr(ib, f"has_{n}") for n in needs)
            with np.errstate(invalid="ignore", divide="ignore"):
                values = np.asarray(fn(ib), dtype=float) if ok else np.full(len(ib.index), np.nan)
            values = np.where(np.isfinite(values) & (ib.tenders["n"].to_numpy() >= IDENTITY_MIN_BIDS), values, np.nan)
            return ib.series(values, name)

        wrapper.__name__, wrapper.__doc__ = fn.__name__, fn.__doc__
        wrapper.needs = needs
        IDENTITY_SCREENS[name] = Screen(name, wrapper, IDENTITY_MIN_BIDS, "identity", False, title_en, title_zh, source)
        return wrapper

    return decorate


@_identity_screen("inc_win", ("market", "period"), "Incumbent wins again", "在位者再次中标", f"{_PZ99}; {_P00}; {_OECD}")
def inc_win(ib: IdentityBids) -> np.ndarray:
    """1 if the winner also won the market's tender(s) of the market's latest earlier period, else 0.

    Market allocation keeps each buyer with "its" firm year after year
    (Porter & Zona 1999 on Ohio school milk; Pesendorfer 2000 on Florida and
    Texas school milk: incumbency).  Competition lets the contract change hands.
    """
    mp = ib.market_previous()
    t = ib.tenders
    prev_win = pd.DataFrame({"market": t["market"], "prev": t["p"], "winner": t["winner"]}).drop_duplicates()
    q = pd.DataFrame({"market": mp["market"], "prev": mp["prev"], "winner": t["winner"]})
    hit = q.merge(prev_win.assign(hit=1.0), on=["market", "prev", "winner"], how="left")["hit"].fillna(0.0).to_numpy()
    return np.where(mp["prev"].notna().to_numpy(), hit, np.nan)


@_identity_screen("market_win_share", ("market", "period"), "Winner's share of the market's earlier tenders",
                  "中标人在该市场以往招标中的中标占比", f"{_PZ99}; {_OECD} (market allocation)")
def market_win_share(ib: IdentityBids) -> np.ndarray:
    """Share of the market's earlier tenders that this tender's winner won.

    A stable firm–market assignment (each district "belongs" to one firm) is
    the footprint of market allocation; a market shared by competition has
    winners that change.
    """
    t = ib.tenders
    tenders_before = ib.before(t[["market", "p"]], ["market"], t[["market", "p"]])
    wins_before = ib.before(t[["market", "winner", "p"]], ["market", "winner"], t[["market", "winner", "p"]])
    return np.where(tenders_before > 0, wins_before / np.where(tenders_before > 0, tenders_before, 1), np.nan)


@_identity_screen("entry_overlap", ("market", "period"), "Same bidders as the market's previous tender",
                  "与该市场上一期投标人重合度", f"{_CD} (coordinated entry); {_PZ99} (participation)")
def entry_overlap(ib: IdentityBids) -> np.ndarray:
    """Jaccard similarity of this tender's bidders and those of the market's latest earlier period.

    A group that coordinates entry shows up as the same set of firms, tender
    after tender (Conley & Decarolis 2016); outsiders are kept away.
    """
    mp = ib.market_previous()
    b = ib.bids[["t", "bidder"]].assign(market=mp["market"].to_numpy()[ib.bids["t"]], p=ib.bids["p"])
    prev_set = b[["market", "p", "bidder"]].drop_duplicates()
    size_prev = prev_set.groupby(["market", "p"]).size().rename("n_prev").reset_index().rename(columns={"p": "prev"})
    cur = b.assign(prev=mp["prev"].to_numpy()[b["t"]])
    inter = cur.merge(prev_set.rename(columns={"p": "prev"}), on=["market", "prev", "bidder"]).groupby("t").size()
    inter = inter.reindex(range(len(ib.index)), fill_value=0).to_numpy(dtype=float)
    n_prev = pd.DataFrame({"market": mp["market"], "prev": mp["prev"]}).merge(size_prev, on=["market", "prev"],
                                                                              how="left")["n_prev"].to_numpy()
    n_cur = ib.tenders["n"].to_numpy(dtype=float)
    return inter / (n_cur + n_prev - inter)  # n_prev NaN (no earlier period): NaN


@_identity_screen("cobid_rate", ("period",), "Bidders who kept meeting before", "投标人以往共同投标频率",
                  f"{_CD} (coordinated entry); Imhof (2019), JCLE 15(4) (collusive interaction); BID-011")
def cobid_rate(ib: IdentityBids) -> np.ndarray:
    """Mean over the tender's pairs of bidders of how often they met before, relative to their activity.

    For a pair ``(a, b)``: tenders both bid in before, over the tenders the
    less active of the two bid in before (1: wherever the smaller firm went,
    the other was there too).  Pairs with no history are left out; NaN where
    no pair has one.
    """
    pr = ib.pairs()
    if not len(pr):
        return np.full(len(ib.index), np.nan)
    co = ib.before(pr[["a", "b", "p"]], ["a", "b"], pr)
    part = ib.bids[["bidder", "p"]]
    na = ib.before(part, ["bidder"], pr[["a", "p"]].rename(columns={"a": "bidder"}))
    nb = ib.before(part, ["bidder"], pr[["b", "p"]].rename(columns={"b": "bidder"}))
    low = np.minimum(na, nb)
    rate = np.where(low > 0, co / np.where(low > 0, low, 1), np.nan)
    return pd.Series(rate).groupby(pr["t"].to_numpy()).mean().reindex(range(len(ib.index))).to_numpy()


@_identity_screen("rotation", ("period",), "Losing bidders who beat the winner before", "落标人曾胜过本次中标人的比例",
                  f"{_PZ93}; {_I09}; {_OECD} (bid rotation)")
def rotation(ib: IdentityBids) -> np.ndarray:
    """Among the losing bidders who met the winner before, the share that beat the winner at least once before.

    In a rotation the members take turns: today's cover bidders won
    yesterday's tenders in which today's winner covered for them (Porter &
    Zona 1993; Ishii 2009 on favour exchange in Japanese tenders).
    """
    pr = ib.pairs()
    if not len(pr):
        return np.full(len(ib.index), np.nan)
    co = ib.before(pr[["a", "b", "p"]], ["a", "b"], pr)
    # directed history: (winner, loser) of each earlier tender in which both bid
    beat = pd.concat([pr.loc[pr["a_win"], ["a", "b", "p"]].rename(columns={"a": "w", "b": "l"}),
                      pr.loc[pr["b_win"], ["b", "a", "p"]].rename(columns={"b": "w", "a": "l"})])
    involved = pr["a_win"] | pr["b_win"]
    cur = pd.DataFrame({"t": pr["t"], "w": np.where(pr["a_win"], pr["a"], pr["b"]),
                        "l": np.where(pr["a_win"], pr["b"], pr["a"]), "p": pr["p"], "co": co})[involved.to_numpy()]
    # has the current loser beaten the current winner before? (loser as 'w', winner as 'l' in the history)
    lost_to = ib.before(beat, ["w", "l"], cur.rename(columns={"w": "l", "l": "w"})[["w", "l", "p"]])
    met = cur["co"].to_numpy() > 0
    num = pd.Series((lost_to > 0) & met).groupby(cur["t"].to_numpy()).sum()
    den = pd.Series(met).groupby(cur["t"].to_numpy()).sum()
    share = (num / den.where(den > 0)).reindex(range(len(ib.index)))
    return share.to_numpy(dtype=float)


def _own_dev(ib: IdentityBids) -> pd.Series:
    """Per bid: log bid minus the mean log of the same firm's other bids in the period (NaN with no other bid)."""
    b = ib.bids
    g = b.groupby(["bidder", "p"])["lb"]
    k, s = g.transform("size").to_numpy(dtype=float), g.transform("sum").to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        return pd.Series(np.where(k > 1, b["lb"].to_numpy() - (s - b["lb"].to_numpy()) / (k - 1), np.nan))


@_identity_screen("win_own_dev", (), "Winning bid against the winner's other bids", "中标价相对中标人本期其他报价",
                  f"{_PZ99} (bids against the firm's own pattern)")
def win_own_dev(ib: IdentityBids) -> np.ndarray:
    """``log(winning bid) − mean log of the winner's other bids in the period``.

    Porter & Zona (1999) found the accused Ohio dairies pricing contracts in
    a way their costs (distance) do not explain: a firm that holds a contract
    by agreement can price it above its own usual level.
    """
    dev = _own_dev(ib)
    w = ib.bids["win"].to_numpy()
    return pd.Series(dev[w].to_numpy(), index=ib.bids["t"][w].to_numpy()).reindex(range(len(ib.index))).to_numpy()


@_identity_screen("cover_own_dev", (), "Losing bids against the same firms' other bids", "落标价相对该企业本期其他报价",
                  f"{_PZ93} (cover bids priced off the firm's pattern); {_PZ99}")
def cover_own_dev(ib: IdentityBids) -> np.ndarray:
    """Mean over the losing bidders of ``log(bid) − mean log of that firm's other bids in the period``.

    A cover bid is written to lose, not priced from costs: it tends to sit
    above the firm's genuine bids (Porter & Zona 1993).
    """
    dev = _own_dev(ib)
    lose = ~ib.bids["win"].to_numpy()
    return dev[lose].groupby(ib.bids["t"][lose].to_numpy()).mean().reindex(range(len(ib.index))).to_numpy()


#: Names of the identity screens, in catalogue order.
IDENTITY_SCREEN_NAMES: tuple[str, ...] = tuple(IDENTITY_SCREENS)


def compute_identity_screens(bids: pd.DataFrame | IdentityBids, names: Sequence[str] | Iterable[str] | None = None
                             ) -> pd.DataFrame:
    """Compute identity screens for ONE dataset's bids, one row per tender (index: sorted tender ids).

    Raises
    ------
    KeyError
        An unknown screen name.
    ValueError
        The bids name no bidder.
    """
    names = list(IDENTITY_SCREENS) if names is None else list(names)
    unknown = [n for n in names if n not in IDENTITY_SCREENS]
    if unknown:
        raise KeyError(f"unknown identity screen(s) {unknown}; known: {', '.join(IDENTITY_SCREENS)}")
    ib = bids if isinstance(bids, IdentityBids) else IdentityBids(bids)
    return pd.DataFrame({n: IDENTITY_SCREENS[n].func(ib) for n in names}, index=ib.index)
