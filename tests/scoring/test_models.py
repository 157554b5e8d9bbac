"""Every scorer follows the scikit-learn contract; explanations add up; PU weighting estimates the label frequency."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from riskmodel.errors import RiskModelError
from riskmodel.scoring.models import MODELS, XGBScorer, _pu_fit_data, make_model


def _data(n=600, seed=0, c=0.5):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"PRC-001": rng.poisson(0.3, n), "PRC-002": rng.poisson(0.2, n), "severity_sum": rng.poisson(1, n),
                      "severity_sum_4q": rng.poisson(3, n), "tenure_years": rng.uniform(0, 10, n)})
    risk = 1.5 * X["PRC-002"] + 0.8 * X["PRC-001"] + 0.2 * X.severity_sum
    truth = (risk + rng.normal(0, 0.5, n) > 1.5).astype(int)
    labelled = truth.to_numpy() & (rng.random(n) < c)
    y = np.where(labelled, 1, -1)
    return X, y, truth.to_numpy()


@pytest.mark.parametrize("name", list(MODELS))
def test_sklearn_contract(name):
    X, y, _ = _data()
    est = make_model(name, random_state=1)
    params = est.get_params()
    assert clone(est).get_params() == params, "__init__ only stores its arguments"
    assert est.fit(X, y) is est
    assert list(est.feature_names_in_) == list(X.columns)
    fitted = {k: v for k, v in vars(est).items() if k.endswith("_")}
    assert fitted, "fit sets attributes ending in _"
    s1 = est.decision_function(X)
    p = est.predict_proba(X)
    assert s1.shape == (len(X),) and np.allclose(p.sum(axis=1), 1)
    assert set(np.unique(est.predict(X))) <= {0, 1}
    assert np.allclose(est.decision_function(X), s1), "predict never changes state"
    assert est.get_params() == params
    again = make_model(name, random_state=1).fit(X, y).decision_function(X)
    assert np.allclose(again, s1), "same seed, same scores"


@pytest.mark.parametrize("name", list(MODELS))
def test_a_different_feature_set_fails_clearly(name):
    X, y, _ = _data()
    est = make_model(name).fit(X, y)
    with pytest.raises(RiskModelError, match="trained on 5 features"):
        est.decision_function(X.drop(columns=["tenure_years"]))


@pytest.mark.parametrize("name", ["xgboost", "logistic", "rules"])
def test_contributions_add_up_to_the_score(name):
    X, y, _ = _data()
    est = make_model(name).fit(X, y)
    contrib = est.contributions(X.iloc[:50])
    assert np.allclose(contrib.sum(axis=1), est.decision_function(X.iloc[:50]), atol=1e-4)


def test_supervised_models_rank_the_planted_signal():
    X, y, truth = _data(n=2000)
    for name in ("xgboost", "logistic"):
        s = make_model(name).fit(X, y).decision_function(X)
        top = np.argsort(-s)[: truth.sum()]
        assert truth[top].mean() > 0.7, name


def test_monotone_constraints_hold():
    X, y, _ = _data()
    est = XGBScorer(n_estimators=50).fit(X, y)
    lo = X.copy()
    hi = X.copy()
    hi["PRC-002"] += 3
    assert (est.decision_function(hi) >= est.decision_function(lo) - 1e-9).all()


def test_long_tenure_never_lowers_the_score():
    """The rotation rule as a constraint: where long-serving people are mostly unlabelled (honest station managers),
    a free model learns that tenure lowers the score; the monotone one may not."""
    X, y, _ = _data(n=3000)
    y = np.where(X.tenure_years > 6, np.where(y == 1, -1, y), y)  # the long-serving are never caught here
    free = XGBScorer(n_estimators=80, monotone=False).fit(X, y)
    est = XGBScorer(n_estimators=80).fit(X, y)
    lo, hi = X.assign(tenure_years=1.0), X.assign(tenure_years=9.0)
    assert (free.decision_function(hi) < free.decision_function(lo) - 1e-6).any(), "the data pull tenure down"
    assert (est.decision_function(hi) >= est.decision_function(lo) - 1e-9).all()


def test_elkan_noto_estimates_the_label_frequency():
    X, y, truth = _data(n=3000, c=0.4)
    from sklearn.linear_model import LogisticRegression

    _, _, w, c = _pu_fit_data(X, y, lambda: LogisticRegression(max_iter=1000), 0)
    assert 0.2 < c < 0.65
    assert (w >= 0).all() and (w <= 1).all()


def test_no_positive_labels_is_a_clear_error():
    X, _, _ = _data()
    with pytest.raises(RiskModelError, match="no positive labels"):
        make_model("xgboost").fit(X, np.full(len(X), -1))
    make_model("rules").fit(X, np.full(len(X), -1))  # unsupervised baselines still work


def test_logistic_scorecard_is_stable_under_rounding_noise(small_run):
    """Features that differ in their last bits (a parallel sum adds in another order from one run to the next) give
    the same scorecard: the baseline must be reproducible.  The windowed counts are nearly collinear; a solver that
    stops at its tolerance in such a valley lands where the noise pushed it."""
    import pandas as pd

    from riskmodel.scoring.features import feature_columns
    from riskmodel.scoring.models import LogisticScorecard

    X = pd.read_parquet(small_run / "features_people.parquet")
    X = X[feature_columns(X)].astype(float)
    rng = np.random.default_rng(0)
    y = np.where((X["severity_sum_4q"] > X["severity_sum_4q"].quantile(0.9)) & (rng.random(len(X)) < 0.6), 1, -1)
    noisy = X * (1 + 1e-13 * rng.standard_normal(X.shape))
    a = LogisticScorecard().fit(X, y).decision_function(X)
    b = LogisticScorecard().fit(noisy, y).decision_function(X)
    assert np.abs(a - b).max() < 1e-6
