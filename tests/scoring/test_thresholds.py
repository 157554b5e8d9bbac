from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from riskmodel.scoring.thresholds import ImplausibleRateWarning, by_capacity, by_cost, by_precision


def test_capacity_is_honoured_exactly_even_with_ties():
    scores = np.array([1, 1, 1, 1, 0.5, 2, 2, 2, 0.1, 0.1])
    periods = np.array(["a"] * 5 + ["b"] * 5)
    c = by_capacity(scores, periods, capacity=3, max_share=1)
    assert c.labels[:5].sum() == 3 and c.labels[5:].sum() == 3
    assert c.cutoff == {"a": 1.0, "b": 2.0}


def test_capacity_as_share_and_per_group():
    rng = np.random.default_rng(0)
    s = rng.random(1000)
    p = np.repeat(["q1", "q2"], 500)
    c = by_capacity(s, p, capacity=0.01)
    assert c.labels[:500].sum() == 5 and c.labels[500:].sum() == 5
    g = np.tile(["d1", "d2"], 500)
    c = by_capacity(s, p, capacity=2, groups=g, max_share=1)
    assert c.labels.sum() == 8
    assert c.to_dict()["queued"] == 8


def test_precision_policy_finds_the_lowest_cut_reaching_the_target():
    val = np.array([0.9, 0.8, 0.7, 0.6, 0.5])
    lab = np.array([1, 1, 1, 0, 0])
    c = by_precision(np.array([0.95, 0.75, 0.55]), val, lab, target=0.75)
    assert c.cutoff["all"] == 0.6 and c.detail["reached"]
    assert c.labels.tolist() == [True, True, False]
    c = by_precision([0.5], val, np.zeros(5, int), target=0.9, max_share=1)
    assert not c.detail["reached"]


def test_cost_policy_and_the_implausible_rate_warning():
    assert by_cost([0.05, 0.5], review_cost=1000, expected_loss=10000, max_share=1).labels.tolist() == [False, True]
    with pytest.warns(ImplausibleRateWarning, match="queues"):
        by_cost(np.full(100, 0.9), review_cost=1, expected_loss=10)


def test_the_warning_looks_at_each_period_and_says_what_to_change():
    """5 % overall, but one quarter queues 20 %: the warning names that quarter and the cost settings."""
    p = np.repeat(pd.to_datetime(["2025-01-01", "2025-04-01", "2025-07-01", "2025-10-01"]), 25)
    prob = np.zeros(100)
    prob[:5] = 0.9
    with pytest.warns(ImplausibleRateWarning, match=r"20.0% of the rows of 2025Q1.*review_cost"):
        by_cost(prob, review_cost=1, expected_loss=10, max_share=0.1, periods=p)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        by_cost(prob, review_cost=1, expected_loss=10, max_share=0.1)  # overall 5 %: no warning without periods
