"""The per-dataset evaluation: counts reported, both models in the same folds, honest metrics."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from riskmodel.collusion.evaluate import CollusionEvaluationError, evaluate, evaluate_dataset
from riskmodel.collusion.model import ScreenClassifier, reference_classifier
from riskmodel.collusion.synthetic import synthetic_bids

FAST = {"inner_cv": 3, "inner_repeats": 1}


@pytest.fixture(scope="module")
def ev(mini_bids):
    return evaluate(mini_bids, n_splits=3, n_estimators=20, random_state=0, **FAST)


def test_counts_reported_not_dropped(ev, mini_bids):
    d = ev["mini"]
    n = mini_bids.groupby("tender_id").size()
    label = mini_bids.groupby("tender_id").collusive_tender.first()
    assert d.n_tenders == len(n)
    assert d.n_too_few_bids == int((n < 2).sum()) > 0
    assert d.n_collusive_too_few_bids == int(label[n < 2].sum())
    assert d.n_used == int((n >= 2).sum()) == len(d.predictions)
    assert d.n_collusive_used == int(label[n >= 2].sum())


def test_both_models_scored_on_the_same_folds(ev):
    d = ev["mini"]
    p = d.predictions
    assert set(d.metrics) == {"ours", "reference"}
    assert sorted(p.fold.unique()) == [0, 1, 2] and p.score_ours.notna().all() and p.score_reference.notna().all()
    # the classifier must beat chance on tenders whose rigged bids are tight
    assert d.metrics["ours"]["roc_auc"] > 0.9 and d.metrics["reference"]["roc_auc"] > 0.85
    assert len(d.thresholds["ours"]) == 3 and d.thresholds["reference"] == [0.5] * 3
    assert len(d.selected["ours"]) == 3 and "reference" not in d.selected    # ours chose a model in each fold
    assert all(sel in auc and auc[sel] == max(auc.values()) for sel, auc in zip(d.selected["ours"], d.inner_auc["ours"]))


def test_metrics_agree_with_predictions(ev):
    d = ev["mini"]
    p, m = d.predictions, d.metrics["ours"]
    competitive = p[p.collusive_tender == 0]
    rigged = p[p.collusive_tender == 1]
    assert m["fpr"] == pytest.approx(competitive.flag_ours.mean())
    assert m["tpr"] == pytest.approx(rigged.flag_ours.mean())
    assert m["balanced_accuracy"] == pytest.approx((m["tpr"] + 1 - m["fpr"]) / 2)
    assert m["accuracy"] == pytest.approx((p.flag_ours == p.collusive_tender).mean())


def test_deterministic_and_serialisable(mini_bids, ev):
    again = evaluate(mini_bids, n_splits=3, n_estimators=20, random_state=0, **FAST)
    assert again["mini"].metrics == ev["mini"].metrics
    data = json.loads(ev.to_json())
    assert data["datasets"][0]["dataset"] == "mini" and "predictions" not in data["datasets"][0]
    assert data["datasets"][0]["goal_met"] in (True, False) and data["parameters"]["n_splits"] == 3
    text = ev.to_text()
    assert "mini: 120 tenders" in text and "too few bids (< 2)" in text and "ROC AUC" in text
    assert "ours chose, in the inner CV of each training fold" in text
    assert data["parameters"]["inner_cv"] == 3 and len(data["datasets"][0]["selected"]["ours"]) == 3


def test_datasets_evaluated_separately_and_unlabelled_counted():
    a = synthetic_bids(60, seed=1, dataset="a", small_share=0.0)
    b = synthetic_bids(60, seed=2, dataset="b", small_share=0.0)
    b.loc[b.tender_id == b.tender_id.iloc[0], "collusive_tender"] = pd.NA
    b["collusive_tender"] = b.collusive_tender.astype("Int8")
    light = {"ours": ScreenClassifier(candidates=["trees"], n_estimators=10, **FAST),
             "reference": reference_classifier(n_estimators=10)}
    ev = evaluate(pd.concat([a, b]), n_splits=3, models=light)
    assert [d.dataset for d in ev.datasets] == ["a", "b"]
    assert ev["b"].n_unlabelled == 1 and ev["b"].n_used == 59 and ev["a"].n_unlabelled == 0


def test_too_few_tenders_of_a_class_is_an_error():
    bids = synthetic_bids(30, collusive_share=0.1, seed=4, small_share=0.0)
    with pytest.raises(CollusionEvaluationError, match="needs at least 5 of each"):
        evaluate_dataset(bids, n_splits=5)
    with pytest.raises(CollusionEvaluationError, match="min_bids must be at least 2"):
        evaluate_dataset(bids, min_bids=1)
    with pytest.raises(CollusionEvaluationError, match="one dataset"):
        evaluate_dataset(pd.concat([bids, bids.assign(dataset="other")]))


def test_ablation_adds_ours_without_size(mini_bids):
    ev = evaluate(mini_bids, n_splits=3, n_estimators=10, ablation=True, **FAST)
    assert set(ev["mini"].metrics) == {"ours", "reference", "ours_screens_only"}  # no bidders: no identity ablation
    assert np.isfinite(ev["mini"].metrics["ours_screens_only"]["roc_auc"]) and ev["mini"].identity_screens == []


def test_identity_ablation_and_grouped_folds():
    bids = synthetic_bids(120, seed=3, identities=True)
    ev = evaluate(bids, n_splits=3, n_estimators=10, ablation=True, group_by="market", **FAST)
    d = ev["synthetic"]
    assert set(d.metrics) == {"ours", "reference", "ours_screens_only", "ours_no_identity"}
    assert d.identity_screens and d.group_by == "market" and d.n_groups == bids.market.nunique()
    market = bids.groupby("tender_id").market.first()
    folds_per_market = d.predictions.assign(market=lambda p: p.tender_id.map(market)).groupby("market").fold.nunique()
    assert (folds_per_market == 1).all()                             # no market is both trained and tested on
    assert "folds grouped by market" in ev.to_text() and ev.to_dict()["parameters"]["group_by"] == "market"
    with pytest.raises(CollusionEvaluationError, match="differs within a tender"):
        evaluate_dataset(bids.assign(market=bids.bidder), n_splits=3, group_by="market")
    with pytest.raises(CollusionEvaluationError, match="lack that column"):
        evaluate_dataset(bids, n_splits=3, group_by="buyer")


class _Spy:
    """A classifier that remembers which tenders it was trained on (and learns nothing)."""

    seen: list[set] = []

    def get_params(self, deep=True):
        return {}

    def set_params(self, **params):
        return self

    def fit(self, X, y):
        _Spy.seen.append(set(X.index.get_level_values("tender_id")))
        return self

    def predict_proba(self, X):
        return np.full((len(X), 2), 0.5)

    def predict(self, X):
        return np.zeros(len(X), dtype=int)


def test_no_test_tender_is_ever_trained_on(mini_bids):
    _Spy.seen = []
    d = evaluate_dataset(mini_bids, n_splits=3, models={"spy": _Spy()})
    p = d.predictions
    assert len(_Spy.seen) == 3
    for k, trained in enumerate(_Spy.seen):
        tested = set(p.loc[p.fold == k, "tender_id"])
        assert trained and not trained & tested and trained | tested == set(p.tender_id)
