"""The tender table, our classifier (scikit-learn contract, learns from tight bids) and the reference."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict

from riskmodel.collusion.model import (CANDIDATES, DEFAULT_FEATURES, SIZE_FEATURE, ScreenClassifier,
                                       balanced_threshold, reference_classifier, tender_table)
from riskmodel.collusion.identity import IDENTITY_SCREEN_NAMES
from riskmodel.collusion.screens import EXTRA_SCREEN_NAMES, PROFILE_SCREENS
from riskmodel.collusion.synthetic import synthetic_bids
from riskmodel.indicators.screens import CLASSIC_SCREENS, EXTENDED_SCREENS

FAST = {"inner_cv": 3, "inner_repeats": 1}  # the menu and its choice are the same; fewer fits


@pytest.fixture(scope="module")
def table(mini_bids):
    t = tender_table(mini_bids)
    return t[t.n_bids >= 2]


def test_tender_table_shape(mini_bids):
    t = tender_table(mini_bids)
    assert t.index.names == ["dataset", "tender_id"] and len(t) == mini_bids.tender_id.nunique()
    assert set(DEFAULT_FEATURES) <= set(t.columns) and "collusive_tender" in t.columns
    assert set(EXTENDED_SCREENS) | set(EXTRA_SCREEN_NAMES) <= set(DEFAULT_FEATURES)
    one = mini_bids[mini_bids.tender_id == t.index[0][1]]
    assert t.iloc[0][SIZE_FEATURE] == pytest.approx(np.log(one.bid.median()))
    assert (t.groupby("collusive_tender").cv.median().loc[1] < t.groupby("collusive_tender").cv.median().loc[0])


def test_tender_ids_are_per_dataset():
    bids = pd.DataFrame({"dataset": ["a", "a", "b", "b"], "tender_id": ["1", "1", "1", "1"], "bid": [1.0, 2.0, 3.0, 9.0]})
    t = tender_table(bids)
    assert t.loc[("a", "1"), "spd"] == pytest.approx(1.0) and t.loc[("b", "1"), "spd"] == pytest.approx(2.0)


def test_classifier_beats_chance_out_of_sample(table):
    X, y = table.drop(columns="collusive_tender"), table.collusive_tender.astype(int)
    cv = StratifiedKFold(3, shuffle=True, random_state=0)
    ours = cross_val_predict(ScreenClassifier(n_estimators=30, **FAST), X, y, cv=cv,
                             method="predict_proba")[:, 1]
    ref = cross_val_predict(reference_classifier(n_estimators=30), X, y, cv=cv, method="predict_proba")[:, 1]
    assert roc_auc_score(y, ours) > 0.9 and roc_auc_score(y, ref) > 0.9


def test_sklearn_contract(table):
    X, y = table.drop(columns="collusive_tender"), table.collusive_tender.astype(int)
    clf = ScreenClassifier(n_estimators=20, **FAST, random_state=3)
    params = clf.get_params()
    fitted = clf.fit(X, y)
    assert fitted is clf and clf.get_params() == params             # fit stores, never changes, parameters
    assert clone(clf).get_params() == params and not hasattr(clone(clf), "estimator_")
    p = clf.predict_proba(X)
    assert p.shape == (len(X), 2) and np.allclose(p.sum(axis=1), 1) and ((p >= 0) & (p <= 1)).all()
    state = (clf.threshold_, clf.oof_score_.copy())
    pred = clf.predict(X)
    assert clf.threshold_ == state[0] and np.array_equal(clf.oof_score_, state[1])  # predict changes nothing
    assert np.array_equal(pred, (p[:, 1] >= clf.threshold_).astype(int))
    assert list(clf.classes_) == [0, 1] and list(clf.feature_names_in_) == list(DEFAULT_FEATURES)
    again = ScreenClassifier(n_estimators=20, **FAST, random_state=3).fit(X, y)
    assert np.allclose(again.predict_proba(X), p)                     # same seed, same model


def test_handles_nan_screens_and_fixed_threshold(table):
    X, y = table.drop(columns="collusive_tender"), table.collusive_tender.astype(int)
    assert X[["rd", "kurt"]].isna().any().all()                      # small tenders: NaN screens
    clf = ScreenClassifier(n_estimators=20, candidates=["trees"], threshold=0.5, **FAST).fit(X, y)
    assert clf.threshold_ == 0.5
    with pytest.raises(ValueError, match="both collusive"):
        ScreenClassifier().fit(X, np.zeros(len(X)))
    with pytest.raises(ValueError, match="lacks feature"):
        clf.predict_proba(X.drop(columns=["cv"]))


def test_reference_reads_only_the_classic_screens(table):
    X, y = table.drop(columns="collusive_tender"), table.collusive_tender.astype(int)
    ref = reference_classifier(n_estimators=20).fit(X, y)
    noisy = X.assign(**{c: 0.0 for c in X.columns if c not in CLASSIC_SCREENS})
    assert np.array_equal(ref.predict_proba(X), ref.predict_proba(noisy))
    assert ref.steps[-1][1].n_features_in_ == len(CLASSIC_SCREENS)


def test_balanced_threshold_maximises_balanced_accuracy():
    y = np.array([0, 0, 0, 0, 1, 1])
    s = np.array([0.1, 0.2, 0.3, 0.6, 0.5, 0.9])
    t = balanced_threshold(y, s)
    assert t == 0.5  # flags 0.5, 0.6, 0.9: TPR 1, FPR 1/4, the best trade-off


def test_capped_false_positive_rule(table):
    from riskmodel.collusion.model import capped_fpr_threshold

    X, y = table.drop(columns="collusive_tender"), table.collusive_tender.astype(int).to_numpy()
    clf = ScreenClassifier(n_estimators=20, candidates=["vote"], max_fpr=0.05, **FAST).fit(X, y)
    competitive = clf.oof_score_[y == 0]
    assert (competitive >= clf.threshold_).mean() <= 0.05
    assert clf.threshold_ == capped_fpr_threshold(y, clf.oof_score_, 0.05)


def test_the_choice_is_the_best_inner_candidate(table):
    X, y = table.drop(columns="collusive_tender"), table.collusive_tender.astype(int)
    clf = ScreenClassifier(n_estimators=20, **FAST).fit(X, y)
    assert set(clf.inner_auc_) == set(CANDIDATES) - {"identity"}     # the whole menu (no bidders named) was scored
    assert clf.inner_auc_[clf.selected_] == max(clf.inner_auc_.values())
    assert set(clf.members_) == set(CANDIDATES[clf.selected_]) - {"trees_identity"}  # only the chosen model is kept
    # the chosen model's out-of-fold scores are the calibrated scores the threshold was learnt on
    assert roc_auc_score(y, clf.oof_score_) == pytest.approx(clf.inner_auc_[clf.selected_])


def test_inner_choice_depends_on_training_data_only(table):
    """Fitting on a subset never reads the other rows: the same subset with the rest altered gives the same model."""
    X, y = table.drop(columns="collusive_tender"), table.collusive_tender.astype(int)
    train = np.arange(len(X)) % 3 != 0
    a = ScreenClassifier(n_estimators=20, **FAST).fit(X[train], y[train])
    noisy = X.copy()
    noisy.loc[~train, "cv"] = 99.0
    b = ScreenClassifier(n_estimators=20, **FAST).fit(noisy[train], y[train])
    assert a.selected_ == b.selected_ and a.inner_auc_ == b.inner_auc_
    assert np.allclose(a.predict_proba(X[~train]), b.predict_proba(X[~train]))


def test_menu_follows_the_features(table):
    X, y = table.drop(columns="collusive_tender"), table.collusive_tender.astype(int)
    one = ScreenClassifier(n_estimators=20, candidates=["linear"], **FAST).fit(X, y)
    assert one.selected_ == "linear" and list(one.inner_auc_) == ["linear"]
    no_profile = [f for f in DEFAULT_FEATURES if f not in PROFILE_SCREENS]
    clf = ScreenClassifier(features=no_profile, n_estimators=20, **FAST).fit(X, y)
    assert "screens" not in clf.inner_auc_                            # its view would be every feature again
    assert "distribution" in clf.inner_auc_                           # n_bids and the size remain
    with pytest.raises(ValueError, match="unknown or no candidate"):
        ScreenClassifier(candidates=["forest"]).fit(X, y)
    with pytest.raises(ValueError, match="no candidate"):
        ScreenClassifier(features=["cv"], candidates=["distribution"]).fit(X, y)


@pytest.fixture(scope="module")
def ident_table():
    t = tender_table(synthetic_bids(150, seed=2, identities=True))
    return t[t.n_bids >= 2]


def test_identity_screens_join_the_features_only_where_bidders_are_named(table, ident_table):
    assert not set(IDENTITY_SCREEN_NAMES) & set(table.columns)       # no bidder column: no identity columns
    assert list(ident_table.columns[-len(IDENTITY_SCREEN_NAMES) - 1:-1]) == list(IDENTITY_SCREEN_NAMES)
    X, y = ident_table.drop(columns="collusive_tender"), ident_table.collusive_tender.astype(int)
    clf = ScreenClassifier(n_estimators=20, **FAST).fit(X, y)
    assert list(clf.feature_names_in_) == [*DEFAULT_FEATURES, *IDENTITY_SCREEN_NAMES]
    assert set(clf.inner_auc_) == set(CANDIDATES)                    # the identity candidate is on the menu
    plain = ScreenClassifier(n_estimators=20, identity=False, **FAST).fit(X, y)
    assert list(plain.feature_names_in_) == list(DEFAULT_FEATURES) and "identity" not in plain.inner_auc_
    # the identity view reads the identity screens and the number of bids, nothing else
    only = ScreenClassifier(n_estimators=20, candidates=["identity"], **FAST).fit(X, y)
    view = only.members_["trees_identity"].steps[0][1].transformers[0][2]
    assert view == ["n_bids", *IDENTITY_SCREEN_NAMES]
    # a screen column that is NaN throughout (a dataset without markets) is left out
    no_market = X.assign(inc_win=np.nan)
    assert "inc_win" not in ScreenClassifier(n_estimators=10, candidates=["trees"], **FAST).fit(
        no_market, y).feature_names_in_


def test_grouped_inner_cv_keeps_groups_together(ident_table):
    X, y = ident_table.drop(columns="collusive_tender"), ident_table.collusive_tender.astype(int).to_numpy()
    groups = np.arange(len(y)) % 9
    clf = ScreenClassifier(n_estimators=10, candidates=["trees"], inner_cv=3, inner_repeats=2)
    splits = clf._inner_splits(X, y, 3, groups)
    assert len(splits) == 6
    assert all(not set(groups[tr]) & set(groups[te]) for tr, te in splits)
    assert clf.fit(X, y, groups=groups).selected_ == "trees"
    with pytest.raises(ValueError, match="groups has"):
        clf.fit(X, y, groups=groups[:-1])
