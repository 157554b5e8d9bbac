"""A small synthetic bid-level dataset where rigged tenders look rigged (tests, examples, notebook smoke runs).

Competitive tenders: each bidder prices its own cost estimate plus a margin, so
bids scatter by several percent.  Collusive tenders: the designated winner
bids, and the cover bids sit a few percent above it and close together (the
pattern the screens look for).  A share of tenders gets one or two bids so the
small-tender rules are exercised.  It is NOT a model of any real market.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def synthetic_bids(n_tenders: int = 200, collusive_share: float = 0.3, seed: int = 0,
                   dataset: str = "synthetic", small_share: float = 0.1) -> pd.DataFrame:
    """Bid-level table in the shape of :mod:`riskmodel.collusion.bids`.

    Parameters
    ----------
    n_tenders : int, default=200
    collusive_share : float, default=0.3
    seed : int, default=0
    dataset : str, default="synthetic"
    small_share : float, default=0.1
        Share of tenders with only 1 or 2 bids.

    Examples
    --------
    >>> df = synthetic_bids(20, seed=3)
    >>> sorted(df.columns)
    ['bid', 'bid_idx', 'collusive_tender', 'dataset', 'tender_id']
    >>> bool(df.groupby("tender_id").collusive_tender.nunique().eq(1).all())
    True
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
    return df.sample(frac=1.0, random_state=seed).reset_index(drop=True)  # files are rarely sorted
