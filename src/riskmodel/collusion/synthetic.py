"""A small synthetic bid-level dataset where rigged tenders look rigged (tests, examples, notebook smoke runs).

Competitive tenders: each bidder prices its own cost estimate plus a margin, so
bids scatter by several percent.  Collusive tenders: the designated winner
bids, and the cover bids sit a few percent above it and close together (the
pattern the screens look for).  A share of tenders gets one or two bids so the
small-tender rules are exercised.  It is NOT a model of any real market.

With ``identities=True`` every bid also names its bidder, and every tender a
period and a market: a ring of three firms shares out the "ring" markets (each
market has its designated member, who wins there every period while the
others cover), and competitive tenders draw their bidders from the market's
local firms, the lowest bid winning.  The bids are the same as without
identities (the identities come from a separate random stream).
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def synthetic_bids(n_tenders: int = 200, collusive_share: float = 0.3, seed: int = 0,
                   dataset: str = "synthetic", small_share: float = 0.1, identities: bool = False,
                   n_markets: int = 12, n_periods: int = 6, ring_firms: int = 3,
                   covers: int | None = None, mixed_markets: bool = False) -> pd.DataFrame:
    """Bid-level table in the shape of :mod:`riskmodel.collusion.bids`.

    Parameters
    ----------
    n_tenders : int, default=200
    collusive_share : float, default=0.3
    seed : int, default=0
    dataset : str, default="synthetic"
    small_share : float, default=0.1
        Share of tenders with only 1 or 2 bids.
    identities : bool, default=False
        Add ``bidder``, ``period`` (1 … ``n_periods``) and ``market``.
    n_markets, n_periods : int, default=12, 6
        Markets (a quarter of them, at least one, shared out by the ring) and periods.
    ring_firms : int, default=3
        Members of the ring (``R1`` …); ring market ``m`` belongs to member ``m mod ring_firms``.
    covers : int, optional
        Cover bidders per rigged tender, drawn at random among the other
        members (then local firms fill the remaining bids).  Default: every
        other member covers.  With a larger ring and fewer covers, each
        member is absent from many rigged tenders, so a member can be held
        out (:mod:`riskmodel.collusion.holdout`) and still leave rigged
        tenders to train on.
    mixed_markets : bool, default=False
        Competitive tenders are drawn from every market, the ring's included
        (as a district's contract is competitive in the years the cartel
        stays away); by default only from the markets outside the ring.

    Examples
    --------
    >>> df = synthetic_bids(20, seed=3)
    >>> sorted(df.columns)
    ['bid', 'bid_idx', 'collusive_tender', 'dataset', 'tender_id']
    >>> bool(df.groupby("tender_id").collusive_tender.nunique().eq(1).all())
    True
    >>> ident = synthetic_bids(20, seed=3, identities=True)
    >>> sorted(set(ident.columns) - set(df.columns)), bool(ident.bid.sort_values().equals(df.bid.sort_values()))
    (['bidder', 'market', 'period'], True)
    """
    rng = np.random.default_rng(seed)
    collusive = rng.random(n_tenders) < collusive_share
    small = rng.random(n_tenders) < small_share
    n = np.where(small, rng.integers(1, 3, n_tenders), rng.integers(3, 12, n_tenders))
    size = np.exp(rng.normal(13.0, 1.0, n_tenders))  # tender size, CNY
    tender = np.repeat(np.arange(n_tenders), n)
    rank = np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)
    base = size[tender]
    competitive_bid = base * (1 + rng.uniform(0.0, 0.25, len(tender)))
    # rigged: winner a little above cost; covers 3-8 % above the winner and within ~1 % of each other
    winner = size * (1 + rng.uniform(0.05, 0.15, n_tenders))
    gap = rng.uniform(0.03, 0.08, n_tenders)
    cover = winner[tender] * (1 + gap[tender]) * (1 + rng.normal(0, 0.004, len(tender)))
    rigged_bid = np.where(rank == 0, winner[tender], cover)
    bid = np.where(collusive[tender], rigged_bid, competitive_bid)
    df = pd.DataFrame({"dataset": dataset, "tender_id": [f"T{t:04d}" for t in tender], "bid_idx": rank,
                       "bid": np.round(bid, 2), "collusive_tender": collusive[tender].astype(int)})
    if identities:
        df = df.join(_identities(collusive, n, rank, tender, seed, n_markets, n_periods, ring_firms, covers,
                                 mixed_markets))
    return df.sample(frac=1.0, random_state=seed).reset_index(drop=True)  # files are rarely sorted


def _identities(collusive: np.ndarray, n: np.ndarray, rank: np.ndarray, tender: np.ndarray, seed: int,
                n_markets: int, n_periods: int, n_ring_firms: int = 3, covers: int | None = None,
                mixed_markets: bool = False) -> pd.DataFrame:
    """Bidder, period and market of every bid (bids in tender order, ``rank`` 0 the lowest)."""
    rng = np.random.default_rng([seed, 1])
    n_ring = max(n_markets // 4, 1)
    if n_ring_firms < 2 or (covers is not None and not 0 <= covers < n_ring_firms):
        raise ValueError(f"a ring needs at least 2 firms and 0 to ring_firms - 1 covers; got {n_ring_firms}, {covers}")
    ring_firms = np.array([f"R{i + 1}" for i in range(n_ring_firms)])
    n_local = int(max(n.max(), 3)) + 2
    # every market has its own local firms (some shared with the neighbouring market); ring markets have an owner
    local = [[f"F{(m * (n_local - 2) + j):03d}" for j in range(n_local)] for m in range(n_markets)]
    first_competitive = 0 if mixed_markets else n_ring
    market = np.where(collusive, rng.integers(0, n_ring, len(n)),
                      rng.integers(first_competitive, max(n_markets, n_ring + 1), len(n)) % n_markets)
    period = rng.integers(1, n_periods + 1, len(n))
    bidder = np.empty(len(tender), dtype=object)
    for t in np.unique(tender):  # a fixture of a few hundred tenders: clarity over vectorisation
        rows = np.flatnonzero(tender == t)
        m = market[t]
        pool = list(rng.permutation(local[m]))
        if collusive[t]:
            owner = ring_firms[m % n_ring_firms]
            others = [f for f in ring_firms if f != owner]
            cover = others if covers is None else list(rng.choice(others, covers, replace=False))
            names = [owner, *cover, *pool][: len(rows)]
        else:
            names = pool[: len(rows)]
        bidder[rows[np.argsort(rank[rows])]] = names
    return pd.DataFrame({"bidder": bidder, "period": period[tender], "market": [f"M{m:02d}" for m in market[tender]]})
