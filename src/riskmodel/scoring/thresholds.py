"""Threshold policies: pure functions returning the cut-off(s) and the labels.

Each returns a :class:`Cutoff`; the cut-off is saved with the results so a
reader knows exactly why an entity was queued.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd


@dataclass
class Cutoff:
    """A policy's result: ``labels`` (bool per row), the cut-off(s) and a description."""

    policy: str
    labels: np.ndarray
    cutoff: dict = field(default_factory=dict)
    detail: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"policy": self.policy, "cutoff": {str(k): float(v) for k, v in self.cutoff.items()},
                "detail": self.detail, "queued": int(self.labels.sum()), "rows": int(len(self.labels))}


class ImplausibleRateWarning(UserWarning):
    """A policy queues more than a plausible share of the population."""


#: what to change when a policy queues too many
_ADVICE = {"capacity": "lower scoring.capacity", "precision": "raise scoring.target_precision",
           "cost": "raise scoring.review_cost or lower scoring.expected_loss (the cut-off is their ratio)"}


def _warn_rate(labels: np.ndarray, policy: str, max_share: float, periods=None) -> None:
    """Warn when the share queued, overall or in any one period, exceeds ``max_share``."""
    labels = np.asarray(labels, bool)
    share, where = (labels.mean() if len(labels) else 0.0), "of rows"
    if periods is not None and len(labels):
        by = pd.Series(labels).groupby(np.asarray(periods)).mean()
        if by.max() > max(share, max_share):
            worst = by.idxmax()
            label = pd.Timestamp(worst).to_period("Q") if isinstance(worst, (pd.Timestamp, np.datetime64)) else worst
            share, where = by.max(), f"of the rows of {label}"
    if share > max_share:
        warnings.warn(f"policy {policy} queues {share:.1%} {where} (more than {max_share:.0%}): reviewers cannot "
                      f"look at that many; {_ADVICE.get(policy, 'raise the cut-off')}", ImplausibleRateWarning, stacklevel=3)


def by_capacity(scores, periods, capacity: float, groups=None, max_share: float = 0.05) -> Cutoff:
    """The top ``capacity`` rows per period (and per group, e.g. department): exactly that many, ties broken by order.

    ``capacity`` ≥ 1 is a count per period (per group); < 1 is a share of the period's (group's) rows, rounded up.

    Examples
    --------
    >>> c = by_capacity([0.9, 0.1, 0.5, 0.7, 0.2], ["Q1", "Q1", "Q1", "Q2", "Q2"], capacity=1)
    >>> c.labels.tolist(), c.cutoff
    ([True, False, False, True, False], {'Q1': 0.9, 'Q2': 0.7})
    """
    df = pd.DataFrame({"s": np.asarray(scores, float), "p": np.asarray(periods)})
    keys = ["p"]
    if groups is not None:
        df["g"] = np.asarray(groups)
        keys.append("g")
    df["rank"] = df.groupby(keys).s.rank(method="first", ascending=False)
    size = df.groupby(keys).s.transform("size")
    k = np.full(len(df), capacity) if capacity >= 1 else np.ceil(capacity * size)
    labels = (df["rank"] <= k).to_numpy()
    cut = df[labels].groupby("p").s.min().to_dict()
    _warn_rate(labels, "capacity", max_share, df.p.to_numpy())
    return Cutoff("capacity", labels, cut, {"capacity": capacity, "per_group": groups is not None})


def by_precision(scores, val_scores, val_labels, target: float = 0.8, max_share: float = 0.05, periods=None) -> Cutoff:
    """The lowest cut-off whose precision on validation data reaches ``target``; applied to ``scores``.

    If no cut-off reaches the target, the one with the best precision is used and ``detail['reached']`` is False.
    """
    vs = np.asarray(val_scores, float)
    vl = np.asarray(val_labels, int)
    order = np.argsort(-vs, kind="stable")
    tp = np.cumsum(vl[order])
    prec = tp / np.arange(1, len(vs) + 1)
    ok = np.flatnonzero(prec >= target)
    reached = len(ok) > 0
    i = ok.max() if reached else int(np.argmax(prec))
    cut = float(vs[order][i]) if len(vs) else np.inf
    labels = np.asarray(scores, float) >= cut
    _warn_rate(labels, "precision", max_share, periods)
    return Cutoff("precision", labels, {"all": cut}, {"target": target, "reached": reached,
                                                     "validation_precision": float(prec[i]) if len(vs) else float("nan")})


def by_cost(probabilities, review_cost: float, expected_loss: float, max_share: float = 0.05, periods=None) -> Cutoff:
    """Queue where the expected loss avoided exceeds the cost of a review: p × loss > cost.

    ``probabilities`` must be probabilities of misconduct (a fitted, ideally calibrated, model's), not a score
    squashed into (0, 1).

    Examples
    --------
    >>> by_cost([0.01, 0.2, 0.6], review_cost=2000, expected_loss=50000).labels.tolist()
    [False, True, True]
    """
    cut = review_cost / expected_loss
    labels = np.asarray(probabilities, float) > cut
    _warn_rate(labels, "cost", max_share, periods)
    return Cutoff("cost", labels, {"all": cut}, {"review_cost": review_cost, "expected_loss": expected_loss})
