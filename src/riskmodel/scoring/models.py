"""Risk scorers with the scikit-learn contract: XGBoost (monotone, PU-weighted), rules, IsolationForest, logistic scorecard.

Labels are ``1`` (positive), ``0`` (reliable negative: a dismissed alert) and
``-1`` (unlabelled).  The supervised scorers handle positive–unlabelled data
with Elkan & Noto's weighting (2008, "Learning classifiers from only positive
and unlabeled data", KDD): a first classifier estimates the probability that
an example is *labelled*; the label frequency ``c`` is its mean on held-out
positives; each unlabelled example then enters the final fit twice, as a
positive with weight ``w = (1-c)/c · g/(1-g)`` and as a negative with ``1-w``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.ensemble import IsolationForest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted

from riskmodel.engine import fit_estimator
from riskmodel.errors import RiskModelError
from riskmodel.scoring.features import monotone_signs


def _frame(X, columns=None, dtype=float) -> pd.DataFrame:
    X = X if isinstance(X, pd.DataFrame) else pd.DataFrame(np.asarray(X), columns=columns)
    return X.astype(dtype)


def _rows(X, idx: np.ndarray):
    """Rows ``idx`` (positions) of a frame or an array."""
    return X.iloc[idx].reset_index(drop=True) if isinstance(X, pd.DataFrame) else X[idx]


class RiskScorer(ClassifierMixin, BaseEstimator):
    """Shared behaviour: feature checks, ``decision_function`` (higher = riskier), ``predict_proba``.

    ``probabilistic`` says whether ``predict_proba`` estimates a probability of misconduct (a model fitted to
    labels) or only maps a score to (0, 1) for the scikit-learn contract (a severity sum, an anomaly score); the
    expected-cost policy and the alerts' ``probability`` use only the former.
    """

    probabilistic: bool = True

    def _check_columns(self, X: pd.DataFrame) -> pd.DataFrame:
        check_is_fitted(self, "feature_names_in_")
        X = _frame(X, list(self.feature_names_in_))
        missing = [c for c in self.feature_names_in_ if c not in X.columns]
        extra = [c for c in X.columns if c not in self.feature_names_in_]
        if missing or extra:
            raise RiskModelError(f"{type(self).__name__} was trained on {len(self.feature_names_in_)} features; "
                                 f"the data lacks {missing[:5]} and has unknown {extra[:5]}: recompute features with the "
                                 f"settings the model was trained with, or retrain")
        return X[list(self.feature_names_in_)]

    def predict_proba(self, X) -> np.ndarray:
        s = self.decision_function(X)
        p = 1 / (1 + np.exp(-np.clip(s, -30, 30)))
        return np.column_stack([1 - p, p])

    def predict(self, X) -> np.ndarray:
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(int)


class RulesScorer(RiskScorer):
    """Rules only: the sum of the severities of the indicators that fired (``severity_sum``).

    Parameters
    ----------
    column : str, default='severity_sum'
    tiebreak : str, default='severity_sum_4q'
        Added with a tiny weight so that equal sums are ordered by the trailing year.

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame({"severity_sum": [0, 5, 2], "severity_sum_4q": [1, 5, 9]})
    >>> RulesScorer().fit(X).decision_function(X).round(3).tolist()
    [0.001, 5.005, 2.009]
    """

    probabilistic = False  # its score is no probability of misconduct

    def __init__(self, column: str = "severity_sum", tiebreak: str = "severity_sum_4q"):
        self.column = column
        self.tiebreak = tiebreak

    def fit(self, X, y=None, sample_weight=None):
        X = _frame(X)
        if self.column not in X:
            raise RiskModelError(f"RulesScorer needs a '{self.column}' column")
        self.feature_names_in_ = np.array(X.columns, dtype=object)
        return self

    def decision_function(self, X) -> np.ndarray:
        X = self._check_columns(X)
        s = X[self.column].to_numpy()
        return s + (1e-3 * X[self.tiebreak].to_numpy() if self.tiebreak in X else 0)

    def contributions(self, X) -> pd.DataFrame:
        """Per-feature parts of the score: the indicator severities that sum to it."""
        X = self._check_columns(X)
        out = pd.DataFrame(0.0, index=X.index, columns=X.columns)
        out[self.column] = X[self.column]
        if self.tiebreak in X:
            out[self.tiebreak] = 1e-3 * X[self.tiebreak]
        return out


class IForestScorer(RiskScorer):
    """Unsupervised baseline: scikit-learn's IsolationForest (Liu, Ting & Zhou 2008); labels are ignored.

    Parameters
    ----------
    n_estimators : int, default=200
    random_state : int, default=0
    """

    probabilistic = False  # its score is no probability of misconduct

    def __init__(self, n_estimators: int = 200, random_state: int = 0):
        self.n_estimators = n_estimators
        self.random_state = random_state

    def fit(self, X, y=None, sample_weight=None):
        X = _frame(X)
        self.feature_names_in_ = np.array(X.columns, dtype=object)
        self.model_ = IsolationForest(n_estimators=self.n_estimators, random_state=self.random_state, n_jobs=1).fit(X)
        return self

    def decision_function(self, X) -> np.ndarray:
        return -self.model_.score_samples(self._check_columns(X))

    def contributions(self, X) -> pd.DataFrame:
        import shap

        X = self._check_columns(X)
        sv = shap.TreeExplainer(self.model_).shap_values(X)
        return pd.DataFrame(-np.asarray(sv), index=X.index, columns=X.columns)


def _pu_fit_data(X, y: np.ndarray, first_stage, random_state: int):
    """Elkan–Noto weighting; returns (X, y, weight, c) — ``X`` a frame or an array, the rows the same kind."""
    y = np.asarray(y)
    if not (y == 1).any():
        raise RiskModelError("no positive labels to learn from: the archive has no cases in the training period "
                             "and no alert has been confirmed yet; use --model rules or iforest until labels exist")
    s = (y == 1).astype(int)
    known_neg = y == 0
    # c: the share of positives that are labelled, from out-of-fold scores of the labelled positives
    g = np.zeros(len(y))
    n_splits = int(min(5, max(2, s.sum())))
    for tr, te in StratifiedKFold(n_splits, shuffle=True, random_state=random_state).split(X, s):
        m = fit_estimator(first_stage(), _rows(X, tr), s[tr])
        g[te] = m.predict_proba(_rows(X, te))[:, 1]
    c = float(np.clip(g[s == 1].mean(), 1e-3, 1.0))
    unl = (y == -1)
    gu = np.clip(g[unl], 1e-6, 1 - 1e-6)
    w = np.clip((1 - c) / c * gu / (1 - gu), 0, 1)
    # positives, reliable negatives, then every unlabelled row twice (as a positive with weight w, as a negative
    # with 1 − w), rows of weight 0 left out: one selection of X's rows (at scale one copy, not three)
    rows = np.concatenate([np.flatnonzero(s == 1), np.flatnonzero(known_neg), np.flatnonzero(unl), np.flatnonzero(unl)])
    yf = np.concatenate([np.ones(s.sum()), np.zeros(known_neg.sum()), np.ones(unl.sum()), np.zeros(unl.sum())])
    wf = np.concatenate([np.ones(s.sum()), np.ones(known_neg.sum()), w, 1 - w])
    keep = wf > 0
    return _rows(X, rows[keep]), yf[keep], wf[keep], c


class XGBScorer(RiskScorer):
    """Gradient-boosted trees (XGBoost) with monotone constraints and positive–unlabelled weighting.

    Parameters
    ----------
    n_estimators, max_depth, learning_rate, subsample, colsample_bytree, min_child_weight
        XGBoost's parameters.
    monotone : bool, default=True
        Constrain indicator counts and severities to never lower the score
        (:func:`riskmodel.scoring.features.monotone_signs`).
    pu : {'elkan_noto', 'none'}, default='elkan_noto'
        How unlabelled rows are treated (``none``: as negatives).
    random_state : int, default=0
    """

    def __init__(self, n_estimators: int = 300, max_depth: int = 4, learning_rate: float = 0.05, subsample: float = 0.8,
                 colsample_bytree: float = 0.8, min_child_weight: float = 1.0, monotone: bool = True,
                 pu: str = "elkan_noto", random_state: int = 0):
        self.n_estimators = n_estimators
        self.max_depth = max_depth
        self.learning_rate = learning_rate
        self.subsample = subsample
        self.colsample_bytree = colsample_bytree
        self.min_child_weight = min_child_weight
        self.monotone = monotone
        self.pu = pu
        self.random_state = random_state

    def _xgb(self, n_estimators=None):
        from xgboost import XGBClassifier

        cols = list(self.feature_names_in_)
        signs = monotone_signs(cols) if self.monotone else {c: 0 for c in cols}
        return XGBClassifier(n_estimators=n_estimators or self.n_estimators, max_depth=self.max_depth,
                             learning_rate=self.learning_rate, subsample=self.subsample,
                             colsample_bytree=self.colsample_bytree, min_child_weight=self.min_child_weight,
                             monotone_constraints=tuple(signs[c] for c in cols), tree_method="hist",
                             random_state=self.random_state, n_jobs=2, eval_metric="logloss")

    def fit(self, X, y, sample_weight=None):
        # float32: XGBoost's own precision (it casts to it), so the trees are the same and the PU training rows
        # (every unlabelled row twice) take half the memory
        X = _frame(X, dtype=np.float32)
        self.feature_names_in_ = np.array(X.columns, dtype=object)
        y = np.asarray(y)
        if self.pu == "elkan_noto":
            Xf, yf, wf, self.label_frequency_ = _pu_fit_data(X, y, lambda: self._xgb(100), self.random_state)
        elif self.pu == "none":
            Xf, yf, wf, self.label_frequency_ = X, (y == 1).astype(int), None, 1.0
        else:
            raise RiskModelError(f"pu must be 'elkan_noto' or 'none', not {self.pu!r}")
        self.model_ = fit_estimator(self._xgb(), Xf, yf, wf)
        self.classes_ = np.array([0, 1])
        return self

    def decision_function(self, X) -> np.ndarray:
        """The model margin (log-odds)."""
        return self.model_.predict(self._check_columns(X), output_margin=True)

    def contributions(self, X) -> pd.DataFrame:
        """Exact TreeSHAP contributions (XGBoost's ``pred_contribs``); with ``bias`` they sum to the margin."""
        import xgboost as xgb

        X = self._check_columns(X)
        c = self.model_.get_booster().predict(xgb.DMatrix(X), pred_contribs=True)
        return pd.DataFrame(c, index=X.index, columns=[*X.columns, "bias"])


class LogisticScorecard(RiskScorer):
    """A logistic-regression scorecard on standardised features, with the same PU weighting.

    Parameters
    ----------
    C : float, default=0.5
    pu : {'elkan_noto', 'none'}, default='elkan_noto'
    random_state : int, default=0
    """

    def __init__(self, C: float = 0.5, pu: str = "elkan_noto", random_state: int = 0):
        self.C = C
        self.pu = pu
        self.random_state = random_state

    def _lr(self):
        # Newton's method with the exact Hessian converges to the optimum itself.  L-BFGS stopped at its tolerance
        # in the nearly flat directions the windowed counts make, where last-bit differences in the features (a
        # parallel sum adds in another order from run to run) moved it: the same data gave scores up to 1.6 apart
        return LogisticRegression(C=self.C, solver="newton-cholesky", max_iter=200)

    def fit(self, X, y, sample_weight=None):
        X = _frame(X)
        self.feature_names_in_ = np.array(X.columns, dtype=object)
        self.scaler_ = StandardScaler().fit(X)
        # one array, standardised in place; the PU rows are taken from it as an array (no frame copies)
        Z = X.to_numpy(dtype=float, copy=True)
        del X
        Z -= self.scaler_.mean_
        Z /= self.scaler_.scale_
        y = np.asarray(y)
        if self.pu == "elkan_noto":
            Zf, yf, wf, self.label_frequency_ = _pu_fit_data(Z, y, self._lr, self.random_state)
            del Z
        else:
            Zf, yf, wf, self.label_frequency_ = Z, (y == 1).astype(int), None, 1.0
        self.model_ = self._lr().fit(Zf, yf, sample_weight=wf)
        self.classes_ = np.array([0, 1])
        return self

    def decision_function(self, X) -> np.ndarray:
        return self.model_.decision_function(self.scaler_.transform(self._check_columns(X)))

    def contributions(self, X) -> pd.DataFrame:
        """coefficient × standardised value per feature; with ``bias`` (the intercept) they sum to the log-odds."""
        X = self._check_columns(X)
        Z = self.scaler_.transform(X)
        out = pd.DataFrame(Z * self.model_.coef_[0], index=X.index, columns=X.columns)
        out["bias"] = self.model_.intercept_[0]
        return out


MODELS = {"xgboost": XGBScorer, "rules": RulesScorer, "iforest": IForestScorer, "logistic": LogisticScorecard}


def make_model(name: str, random_state: int = 0, **params) -> RiskScorer:
    if name not in MODELS:
        raise RiskModelError(f"unknown model {name!r}; choose one of {', '.join(MODELS)}")
    cls = MODELS[name]
    if "random_state" in cls().get_params():
        params["random_state"] = random_state
    return cls(**params)
