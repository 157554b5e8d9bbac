"""Tender features and the two tender classifiers: ours and the random-forest reference.

* :func:`tender_table` turns bids into one row per tender: every screen of
  :mod:`riskmodel.indicators.screens`, one context covariate (the tender's
  size, ``log_median_bid``) and the label.
* :func:`reference_classifier` is the plain random forest on the classic
  screens of Huber & Imhof (2019): the yardstick our classifier must beat.
* :class:`ScreenClassifier` is ours: all screens plus the tender size, a soft
  vote of extremely randomised trees, gradient boosting (xgboost) and a
  logistic regression, with Platt calibration and a decision threshold both
  learnt from out-of-fold predictions *on the training data only*.

Nothing here is tuned per dataset: the ensemble's settings are fixed, so no
hyper-parameter is chosen on a test fold and no nested search is needed; the
calibration and the threshold come from an inner cross-validation of the
training folds.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import ExtraTreesClassifier, RandomForestClassifier, VotingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_curve
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import QuantileTransformer
from sklearn.utils.validation import check_is_fitted

from riskmodel.indicators.screens import CLASSIC_SCREENS, EXTENDED_SCREENS, TenderBids, compute_screens

#: context covariate: log of the tender's median bid (its size); not scale-free, so not a screen
SIZE_FEATURE = "log_median_bid"
#: features of :class:`ScreenClassifier` by default
DEFAULT_FEATURES: tuple[str, ...] = (*EXTENDED_SCREENS, SIZE_FEATURE)
LABEL = "collusive_tender"


def tender_table(bids: pd.DataFrame, screens: Sequence[str] = EXTENDED_SCREENS) -> pd.DataFrame:
    """One row per tender: screens, tender size and label.

    Parameters
    ----------
    bids : pandas.DataFrame
        Bid-level table (see :mod:`riskmodel.collusion.bids`): ``dataset``,
        ``tender_id``, ``bid`` and optionally ``collusive_tender``.
    screens : sequence of str, default=every screen

    Returns
    -------
    pandas.DataFrame
        Indexed by (``dataset``, ``tender_id``); the screens, ``log_median_bid``
        and ``collusive_tender`` (nullable Int8; <NA> where unknown).

    Examples
    --------
    >>> bids = pd.DataFrame({"dataset": "d", "tender_id": ["a"] * 3, "bid": [90.0, 100.0, 110.0],
    ...                      "collusive_tender": 1})
    >>> t = tender_table(bids, ["n_bids", "cv"])
    >>> t.round(3).reset_index().to_dict("records")
    [{'dataset': 'd', 'tender_id': 'a', 'n_bids': 3, 'cv': 0.1, 'log_median_bid': 4.605, 'collusive_tender': 1}]
    """
    frames = []
    # one pass per dataset (tender ids are unique only within a dataset); the screens are vectorised over tenders
    for name, part in bids.groupby("dataset", sort=False):
        tb = TenderBids(part, "tender_id", "bid")
        t = compute_screens(tb, screens)
        t[SIZE_FEATURE] = np.log(tb.quantile(0.5))
        if LABEL in part.columns:
            t[LABEL] = part.groupby("tender_id")[LABEL].first().reindex(t.index).astype("Int8")
        else:
            t[LABEL] = pd.array([pd.NA] * len(t), dtype="Int8")
        t.index = pd.MultiIndex.from_arrays([np.repeat(str(name), len(t)), t.index.astype(str)],
                                            names=["dataset", "tender_id"])
        frames.append(t)
    return pd.concat(frames) if frames else pd.DataFrame()


def _select(columns: Sequence[str]) -> ColumnTransformer:
    return ColumnTransformer([("features", "passthrough", list(columns))], remainder="drop",
                             verbose_feature_names_out=False)


def reference_classifier(n_estimators: int = 500, random_state: int = 0, n_jobs: int = 1) -> Pipeline:
    """The reference: a plain random forest on the classic screens, predicting at probability 0.5.

    The set-up of Huber & Imhof (2019): the screens ``n_bids``, ``cv``,
    ``spd``, ``diffp``, ``rd``, ``skew``, ``kurt``, ``ks`` and a random forest
    with default settings (scikit-learn's, which accept the NaN of the
    small-tender rule).

    Examples
    --------
    >>> reference_classifier(n_estimators=10).steps[-1][1].n_estimators
    10
    """
    return Pipeline([("screens", _select(CLASSIC_SCREENS)),
                     ("forest", RandomForestClassifier(n_estimators=n_estimators, random_state=random_state,
                                                       n_jobs=n_jobs))])


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p)).reshape(-1, 1)


def balanced_threshold(y: np.ndarray, score: np.ndarray) -> float:
    """The score cut-off that maximises balanced accuracy (Youden's J) on ``(y, score)``.

    Flags are ``score >= threshold``.

    Examples
    --------
    >>> balanced_threshold(np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8]))
    0.8
    """
    fpr, tpr, thr = roc_curve(y, score)
    j = tpr - fpr
    best = int(np.argmax(j[1:])) + 1  # thr[0] is +inf (flag nothing)
    return float(thr[best])


def capped_fpr_threshold(y: np.ndarray, score: np.ndarray, max_fpr: float) -> float:
    """The lowest score cut-off whose false-positive rate on ``(y, score)`` stays within ``max_fpr``.

    Flags are ``score >= threshold``; among the cut-offs that flag at most
    ``max_fpr`` of the competitive tenders it keeps the one that finds the
    most rigged ones.

    Examples
    --------
    >>> capped_fpr_threshold(np.array([0, 0, 0, 0, 1, 1]), np.array([.1, .2, .3, .6, .5, .9]), 0.0)
    0.9
    >>> capped_fpr_threshold(np.array([0, 0, 0, 0, 1, 1]), np.array([.1, .2, .3, .6, .5, .9]), 0.25)
    0.5
    """
    fpr, _, thr = roc_curve(y, score, drop_intermediate=False)
    ok = np.flatnonzero(fpr <= max_fpr + 1e-12)
    return float(thr[ok[-1]])  # fpr rises along the curve: the last admissible cut-off flags the most


class ScreenClassifier(ClassifierMixin, BaseEstimator):
    """Our tender classifier: every screen, the tender's size, a calibrated soft-voting ensemble.

    Parameters
    ----------
    features : sequence of str, default=DEFAULT_FEATURES
        Columns of the tender table to use (:func:`tender_table`).
    n_estimators : int, default=300
        Trees in the extra-trees member and boosting rounds in the xgboost member.
    inner_cv : int, default=3
        Folds of the inner cross-validation on the training data that yields
        the out-of-fold scores for calibration and threshold.
    calibrate : bool, default=True
        Platt-scale the ensemble's scores (a logistic fit on their log-odds,
        out of fold) so ``predict_proba`` is a probability.  Monotone: ranking
        and ROC AUC do not change.
    threshold : "balanced" or float, default="balanced"
        ``"balanced"``: the cut-off maximising balanced accuracy on the
        out-of-fold training scores (collusive tenders are rare in some data,
        so 0.5 would flag almost nothing).  A float: a fixed cut-off on the
        (calibrated) probability.
    max_fpr : float, optional
        Caps the share of competitive tenders flagged (false accusations):
        the threshold becomes the lowest cut-off whose out-of-fold
        false-positive rate on the training tenders is at most ``max_fpr``
        (overrides ``threshold``).  Out-of-sample FPR can still exceed it a little.
    random_state : int, default=0
    n_jobs : int, default=1

    Attributes
    ----------
    estimator_ : VotingClassifier
        The ensemble fitted on all the training data.
    calibrator_ : LogisticRegression or None
    threshold_ : float
        Cut-off on ``predict_proba(X)[:, 1]``; flags are ``>= threshold_``.
    oof_score_ : ndarray
        Calibrated out-of-fold scores of the training tenders.
    classes_ : ndarray, [0, 1]
    feature_names_in_ : ndarray of str

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame({"cv": np.r_[rng.uniform(0, .02, 30), rng.uniform(.03, .1, 30)]})
    >>> y = np.r_[np.ones(30), np.zeros(30)].astype(int)
    >>> clf = ScreenClassifier(features=["cv"], n_estimators=20).fit(X, y)
    >>> bool((clf.predict(X) == y).mean() > 0.9), 0 < clf.threshold_ < 1
    (True, True)
    """

    def __init__(self, features: Sequence[str] = DEFAULT_FEATURES, n_estimators: int = 300, inner_cv: int = 3,
                 calibrate: bool = True, threshold: str | float = "balanced", max_fpr: float | None = None,
                 random_state: int = 0, n_jobs: int = 1):
        self.features = features
        self.n_estimators = n_estimators
        self.inner_cv = inner_cv
        self.calibrate = calibrate
        self.threshold = threshold
        self.max_fpr = max_fpr
        self.random_state = random_state
        self.n_jobs = n_jobs

    def _ensemble(self) -> VotingClassifier:
        from xgboost import XGBClassifier

        rs = self.random_state
        trees = ExtraTreesClassifier(n_estimators=self.n_estimators, min_samples_leaf=3, max_features=0.5,
                                     random_state=rs, n_jobs=self.n_jobs)
        boost = XGBClassifier(n_estimators=self.n_estimators, learning_rate=0.03, max_depth=3, subsample=0.8,
                              colsample_bytree=0.8, min_child_weight=2, random_state=rs, verbosity=0,
                              # one thread: these trees are tiny, and OpenMP threads spin-wait badly on a busy
                              # machine (2 threads took 150 s where 1 took 0.8 s on the Italian tenders)
                              n_jobs=1)
        # NaN (small-tender rule) become the median plus a "missing" indicator for the linear member
        linear = Pipeline([("impute", SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True)),
                           ("normal", QuantileTransformer(n_quantiles=100, output_distribution="normal",
                                                          random_state=rs)),
                           ("logit", LogisticRegression(C=0.3, max_iter=2000))])
        return VotingClassifier([("trees", trees), ("boost", boost), ("linear", linear)], voting="soft")

    def _X(self, X: pd.DataFrame) -> pd.DataFrame:
        missing = [c for c in self.features if c not in X.columns]
        if missing:
            raise ValueError(f"X lacks feature column(s) {missing}; build it with tender_table()")
        return X[list(self.features)].astype(float)

    def fit(self, X: pd.DataFrame, y) -> ScreenClassifier:
        """Fit on a tender table ``X`` (DataFrame with the feature columns) and labels ``y`` (0/1)."""
        with warnings.catch_warnings():
            # small training sets: QuantileTransformer lowers n_quantiles to n_samples, which is what we want
            warnings.filterwarnings("ignore", message="n_quantiles", category=UserWarning)
            return self._fit(X, y)

    def _fit(self, X: pd.DataFrame, y) -> ScreenClassifier:
        Xf = self._X(X)
        y = np.asarray(y).astype(int)
        counts = np.bincount(y, minlength=2)
        if len(counts) != 2 or counts.min() == 0:
            raise ValueError("ScreenClassifier needs both collusive (1) and competitive (0) tenders to fit")
        self.classes_ = np.array([0, 1])
        self.feature_names_in_ = np.asarray(self.features, dtype=object)
        k = int(min(self.inner_cv, counts.min()))
        oof = None
        if k >= 2:
            inner = StratifiedKFold(n_splits=k, shuffle=True, random_state=self.random_state)
            oof = cross_val_predict(self._ensemble(), Xf, y, cv=inner, method="predict_proba")[:, 1]
        self.estimator_ = self._ensemble().fit(Xf, y)
        self.calibrator_ = None
        if self.calibrate and oof is not None:
            self.calibrator_ = LogisticRegression().fit(_logit(oof), y)
        if oof is not None:
            self.oof_score_ = self._calibrated(oof)
        else:  # too few tenders of a class for an inner split: in-sample scores, and say so in the threshold
            self.oof_score_ = self._calibrated(self.estimator_.predict_proba(Xf)[:, 1])
        if self.max_fpr is not None:
            self.threshold_ = capped_fpr_threshold(y, self.oof_score_, float(self.max_fpr))
        elif self.threshold == "balanced":
            self.threshold_ = balanced_threshold(y, self.oof_score_)
        else:
            self.threshold_ = float(self.threshold)
        return self

    def _calibrated(self, raw: np.ndarray) -> np.ndarray:
        if self.calibrator_ is None:
            return raw
        return self.calibrator_.predict_proba(_logit(raw))[:, 1]

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """Probability of collusion per tender, columns ``[competitive, collusive]``."""
        check_is_fitted(self, "estimator_")
        p = self._calibrated(self.estimator_.predict_proba(self._X(X))[:, 1])
        return np.column_stack([1 - p, p])

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """1 (flag as collusive) where the probability reaches ``threshold_``, else 0."""
        return (self.predict_proba(X)[:, 1] >= self.threshold_).astype(int)
