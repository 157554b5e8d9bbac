"""Tender features and the two tender classifiers: ours and the random-forest reference.

* :func:`tender_table` turns bids into one row per tender: every screen of
  :mod:`riskmodel.indicators.screens`, the further screens of
  :mod:`riskmodel.collusion.screens` (average-bid auctions, robust shape,
  clusters, rounding, the quantile profile), one context covariate (the
  tender's size, ``log_median_bid``) and the label; where the bids name their
  bidders, also the identity screens of :mod:`riskmodel.collusion.identity`
  (incumbency, coordinated entry, rotation, a firm's bid against its own).
* :func:`reference_classifier` is the plain random forest on the classic
  screens of Huber & Imhof (2019): the yardstick our classifier must beat.
* :class:`ScreenClassifier` is ours.  It holds a fixed, small menu of
  candidate models (:data:`CANDIDATES`: extremely randomised trees, gradient
  boosting and a logistic regression on every feature, their soft vote, and
  trees on three narrower views: the screens, the bid distribution's
  profile and, where bidders are named, the identity screens) and **chooses among them by an inner cross-validation of the
  training data it is given**, by ROC AUC.  Inside an outer cross-validation
  this is nested cross-validation: the test fold never takes part in the
  choice.  The same inner out-of-fold scores give the Platt calibration and
  the decision threshold.

The menu and every learner's settings are fixed a priori, the same for every
dataset; only the choice among the menu is data-driven, and only on training data.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import ExtraTreesClassifier, RandomForestClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score, roc_curve
from sklearn.model_selection import RepeatedStratifiedKFold, StratifiedGroupKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import QuantileTransformer
from sklearn.utils.validation import check_is_fitted
from threadpoolctl import threadpool_limits

from riskmodel.collusion.identity import (IDENTITY_SCREEN_NAMES, IDENTITY_SCREENS, compute_identity_screens,
                                          has_identities)
from riskmodel.collusion.screens import EXTRA_SCREEN_NAMES, EXTRA_SCREENS, PROFILE_SCREENS, compute_extra_screens
from riskmodel.indicators.screens import CLASSIC_SCREENS, EXTENDED_SCREENS, SCREENS, TenderBids, compute_screens

#: context covariate: log of the tender's median bid (its size); not scale-free, so not a screen
SIZE_FEATURE = "log_median_bid"
#: every screen: the shared catalogue, then the screens of :mod:`riskmodel.collusion.screens`
ALL_SCREENS: tuple[str, ...] = (*EXTENDED_SCREENS, *EXTRA_SCREEN_NAMES)
#: features of :class:`ScreenClassifier` by default
DEFAULT_FEATURES: tuple[str, ...] = (*ALL_SCREENS, SIZE_FEATURE)
LABEL = "collusive_tender"


def tender_table(bids: pd.DataFrame, screens: Sequence[str] = ALL_SCREENS) -> pd.DataFrame:
    """One row per tender: screens, tender size and label.

    Parameters
    ----------
    bids : pandas.DataFrame
        Bid-level table (see :mod:`riskmodel.collusion.bids`): ``dataset``,
        ``tender_id``, ``bid`` and optionally ``collusive_tender``.
    screens : sequence of str, default=ALL_SCREENS
        Names from :data:`riskmodel.indicators.screens.SCREENS` or
        :data:`riskmodel.collusion.screens.EXTRA_SCREENS`.

    Returns
    -------
    pandas.DataFrame
        Indexed by (``dataset``, ``tender_id``); the screens, ``log_median_bid``,
        the identity screens (:data:`IDENTITY_SCREEN_NAMES`) for a dataset
        whose bids name their bidders (``bidder`` on every row; columns absent
        when no dataset does, NaN for the datasets that do not) and
        ``collusive_tender`` (nullable Int8; <NA> where unknown).  The label is
        never an input of any screen.

    Raises
    ------
    KeyError
        An unknown screen name.

    Examples
    --------
    >>> bids = pd.DataFrame({"dataset": "d", "tender_id": ["a"] * 3, "bid": [90.0, 100.0, 110.0],
    ...                      "collusive_tender": 1})
    >>> t = tender_table(bids, ["n_bids", "cv"])
    >>> t.round(3).reset_index().to_dict("records")
    [{'dataset': 'd', 'tender_id': 'a', 'n_bids': 3, 'cv': 0.1, 'log_median_bid': 4.605, 'collusive_tender': 1}]
    """
    unknown = [n for n in screens if n not in SCREENS and n not in EXTRA_SCREENS]
    if unknown:
        raise KeyError(f"unknown screen(s) {unknown}; known: {', '.join(ALL_SCREENS)}")
    shared = [n for n in screens if n in SCREENS]
    extra = [n for n in screens if n not in SCREENS]
    frames = []
    # one pass per dataset (tender ids are unique only within a dataset); the screens are vectorised over tenders
    for name, part in bids.groupby("dataset", sort=False):
        tb = TenderBids(part, "tender_id", "bid")
        t = compute_screens(tb, shared)
        if extra:
            t = t.join(compute_extra_screens(tb, extra))
        t = t[list(screens)]
        t[SIZE_FEATURE] = np.log(tb.quantile(0.5))
        if has_identities(part):  # computed from bids, bidders, periods and markets only, never the label
            t = t.join(compute_identity_screens(part.drop(columns=[LABEL], errors="ignore")))
        if LABEL in part.columns:
            t[LABEL] = part.groupby("tender_id")[LABEL].first().reindex(t.index).astype("Int8")
        else:
            t[LABEL] = pd.array([pd.NA] * len(t), dtype="Int8")
        t.index = pd.MultiIndex.from_arrays([np.repeat(str(name), len(t)), t.index.astype(str)],
                                            names=["dataset", "tender_id"])
        frames.append(t)
    if not frames:
        return pd.DataFrame()
    out = pd.concat(frames)
    ident = [c for c in IDENTITY_SCREEN_NAMES if c in out.columns]
    return out[[c for c in out.columns if c not in ident and c != LABEL] + ident + [LABEL]]


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


#: Learners of the menu: name -> (kind, view).  Views: ``all`` the classifier's features; ``screens`` all but the
#: quantile profile and the identity screens; ``distribution`` the number of bids, the quantile profile and the
#: tender size; ``identity`` the identity screens and the number of bids (empty where the bids name no bidder).
MEMBERS: dict[str, tuple[str, str]] = {
    "trees": ("extra_trees", "all"),
    "boost": ("xgboost", "all"),
    "linear": ("logistic", "all"),
    "trees_screens": ("extra_trees", "screens"),
    "trees_profile": ("extra_trees", "distribution"),
    "trees_identity": ("extra_trees", "identity"),
}
#: The candidate models of :class:`ScreenClassifier`: name -> members whose probabilities are averaged (soft vote).
#: Listed in order of preference: a tie in inner ROC AUC goes to the earlier one.
CANDIDATES: dict[str, tuple[str, ...]] = {
    "vote": ("trees", "boost", "linear"),
    "trees": ("trees",),
    "boost": ("boost",),
    "linear": ("linear",),
    "screens": ("trees_screens",),
    "distribution": ("trees_profile",),
    "identity": ("trees_identity",),
    "all": ("trees", "boost", "linear", "trees_screens", "trees_profile", "trees_identity"),
}


def _view(view: str, features: Sequence[str]) -> list[str]:
    if view == "all":
        return list(features)
    if view == "screens":
        return [f for f in features if f not in PROFILE_SCREENS and f not in IDENTITY_SCREENS]
    if view == "distribution":
        return [f for f in features if f in PROFILE_SCREENS or f in ("n_bids", SIZE_FEATURE)]
    if view == "identity":
        ident = [f for f in features if f in IDENTITY_SCREENS]
        return [f for f in features if f == "n_bids"] + ident if ident else []
    raise ValueError(f"unknown view {view!r}")


class ScreenClassifier(ClassifierMixin, BaseEstimator):
    """Our tender classifier: a fixed menu of candidate models, one chosen by inner cross-validation, calibrated.

    ``fit`` splits the training tenders into ``inner_cv`` stratified folds,
    scores every candidate of ``candidates`` out of fold, keeps the one with
    the highest ROC AUC (``selected_``; the inner cross-validation is repeated
    ``inner_repeats`` times), refits it on all the training
    tenders, Platt-calibrates it on its out-of-fold scores and learns the
    decision threshold from them.  Evaluated by an outer cross-validation (as
    :func:`riskmodel.collusion.evaluate.evaluate` does), this is nested
    cross-validation: no choice ever sees a test tender.

    Parameters
    ----------
    features : sequence of str, default=DEFAULT_FEATURES
        Columns of the tender table to use (:func:`tender_table`).
    identity : bool, default=True
        Also use the identity screens (:data:`IDENTITY_SCREEN_NAMES`) that
        ``X`` holds with at least one value (a dataset whose bids name their
        bidders).  Where ``X`` has none, ``identity`` changes nothing.  They
        join every view but ``screens`` and ``distribution``, and the menu's
        ``identity`` candidate reads them alone (with the number of bids).
    candidates : sequence of str, default=every key of CANDIDATES
        The menu (names of :data:`CANDIDATES`).  One name: that model, no choice.
        A member whose view has no column among ``features`` (or the same
        columns as the ``all`` view) is left out of its candidates, and a
        candidate left with no member is dropped from the menu.
    n_estimators : int, default=300
        Trees of the extra-trees members and boosting rounds of the xgboost member.
    inner_cv : int, default=5
        Folds of the inner cross-validation (lowered to the size of the smaller class if needed).
    inner_repeats : int, default=2
        Times the inner cross-validation is repeated with other splits; each
        candidate's out-of-fold score is the mean over the repeats, which
        steadies the choice on small training sets.
    calibrate : bool, default=True
        Platt-scale the chosen model's scores (a logistic fit on their log-odds,
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
    selected_ : str
        The candidate chosen on the training data.
    inner_auc_ : dict of str to float
        Inner out-of-fold ROC AUC of every candidate on the menu (empty when no inner split was possible).
    members_ : dict of str to Pipeline
        The chosen candidate's members, fitted on all the training data.
    calibrator_ : LogisticRegression or None
    threshold_ : float
        Cut-off on ``predict_proba(X)[:, 1]``; flags are ``>= threshold_``.
    oof_score_ : ndarray
        Calibrated out-of-fold scores of the training tenders (chosen candidate).
    classes_ : ndarray, [0, 1]
    feature_names_in_ : ndarray of str
        The features used: ``features``, then the identity screens used.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame({"cv": np.r_[rng.uniform(0, .02, 30), rng.uniform(.03, .1, 30)]})
    >>> y = np.r_[np.ones(30), np.zeros(30)].astype(int)
    >>> clf = ScreenClassifier(features=["cv"], n_estimators=20).fit(X, y)
    >>> bool((clf.predict(X) == y).mean() > 0.9), 0 < clf.threshold_ < 1, clf.selected_ in clf.inner_auc_
    (True, True, True)
    """

    def __init__(self, features: Sequence[str] = DEFAULT_FEATURES, candidates: Sequence[str] = tuple(CANDIDATES),
                 n_estimators: int = 300, inner_cv: int = 5, inner_repeats: int = 2, calibrate: bool = True,
                 threshold: str | float = "balanced", max_fpr: float | None = None, random_state: int = 0,
                 n_jobs: int = 1, identity: bool = True):
        self.features = features
        self.identity = identity
        self.candidates = candidates
        self.n_estimators = n_estimators
        self.inner_cv = inner_cv
        self.inner_repeats = inner_repeats
        self.calibrate = calibrate
        self.threshold = threshold
        self.max_fpr = max_fpr
        self.random_state = random_state
        self.n_jobs = n_jobs

    # -- the menu ---------------------------------------------------------------------------------
    def _learner(self, kind: str):
        rs = self.random_state
        if kind == "extra_trees":
            return ExtraTreesClassifier(n_estimators=self.n_estimators, min_samples_leaf=3, max_features=0.5,
                                        random_state=rs, n_jobs=self.n_jobs)
        if kind == "xgboost":
            from xgboost import XGBClassifier

            return XGBClassifier(n_estimators=self.n_estimators, learning_rate=0.03, max_depth=3, subsample=0.8,
                                 colsample_bytree=0.8, min_child_weight=2, random_state=rs, verbosity=0,
                                 # one thread: these trees are tiny, and OpenMP threads spin-wait badly on a busy
                                 # machine (2 threads took 150 s where 1 took 0.8 s on the Italian tenders)
                                 n_jobs=1)
        # NaN (small-tender rule) become the median plus a "missing" indicator for the linear member
        return Pipeline([("impute", SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True)),
                         ("normal", QuantileTransformer(n_quantiles=100, output_distribution="normal",
                                                        random_state=rs)),
                         ("logit", LogisticRegression(C=0.3, max_iter=2000))])

    def _menu(self, features: Sequence[str]) -> tuple[dict[str, tuple[str, ...]], dict[str, Pipeline]]:
        """The usable candidates and their (unfitted) members, each reading its view of ``features``."""
        unknown = [c for c in self.candidates if c not in CANDIDATES]
        if unknown or not len(self.candidates):
            raise ValueError(f"unknown or no candidate(s) {unknown or list(self.candidates)}; known: {list(CANDIDATES)}")
        members: dict[str, Pipeline] = {}
        menu: dict[str, tuple[str, ...]] = {}
        for cand in self.candidates:
            names = []
            for m in CANDIDATES[cand]:
                cols = _view(MEMBERS[m][1], features)
                # a view with no column, or with the columns of the "all" view under another name, adds nothing
                if not cols or (MEMBERS[m][1] != "all" and cols == list(features)):
                    continue
                names.append(m)
                if m not in members:
                    members[m] = Pipeline([("view", _select(cols)), ("model", self._learner(MEMBERS[m][0]))])
            if names:
                menu[cand] = tuple(names)
        if not menu:
            raise ValueError(f"no candidate of {list(self.candidates)} has a column among the features "
                             f"{list(features)}")
        return menu, members

    def _features(self, X: pd.DataFrame) -> list[str]:
        """``features``, then (with ``identity``) the identity screens ``X`` holds with at least one value."""
        feats = list(self.features)
        if self.identity:
            feats += [c for c in IDENTITY_SCREEN_NAMES if c in X.columns and c not in feats and X[c].notna().any()]
        return feats

    @staticmethod
    def _X(X: pd.DataFrame, features: Sequence[str]) -> pd.DataFrame:
        missing = [c for c in features if c not in X.columns]
        if missing:
            raise ValueError(f"X lacks feature column(s) {missing}; build it with tender_table()")
        return X[list(features)].astype(float)

    def fit(self, X: pd.DataFrame, y, groups=None) -> ScreenClassifier:
        """Fit on a tender table ``X`` (DataFrame with the feature columns) and labels ``y`` (0/1).

        ``groups`` (optional, one value per row, e.g. the tender's market)
        keeps each group within one fold of the inner cross-validation, as
        an outer grouped cross-validation does for the test folds.
        """
        # BLAS threads on these small matrices only wait for each other (5x slower on a busy 2-core machine)
        with warnings.catch_warnings(), threadpool_limits(limits=1, user_api="blas"):
            # small training sets: QuantileTransformer lowers n_quantiles to n_samples, which is what we want
            warnings.filterwarnings("ignore", message="n_quantiles", category=UserWarning)
            return self._fit(X, y, groups)

    def _inner_splits(self, Xf: pd.DataFrame, y: np.ndarray, k: int, groups) -> list[tuple[np.ndarray, np.ndarray]]:
        repeats = max(int(self.inner_repeats), 1)
        if groups is None:
            inner = RepeatedStratifiedKFold(n_splits=k, n_repeats=repeats, random_state=self.random_state)
            return list(inner.split(Xf, y))
        return [split for r in range(repeats)
                for split in StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=self.random_state + r)
                .split(Xf, y, np.asarray(groups))]

    def _fit(self, X: pd.DataFrame, y, groups=None) -> ScreenClassifier:
        features = self._features(X)
        Xf = self._X(X, features)
        y = np.asarray(y).astype(int)
        counts = np.bincount(y, minlength=2)
        if len(counts) != 2 or counts.min() == 0:
            raise ValueError("ScreenClassifier needs both collusive (1) and competitive (0) tenders to fit")
        if groups is not None and len(groups) != len(y):
            raise ValueError(f"groups has {len(groups)} values for {len(y)} tenders")
        menu, members = self._menu(features)
        self.classes_ = np.array([0, 1])
        self.feature_names_in_ = np.asarray(features, dtype=object)
        k = int(min(self.inner_cv, counts.min()))
        if groups is not None:
            k = int(min(k, len(np.unique(np.asarray(groups)))))
        self.inner_auc_: dict[str, float] = {}
        oof: dict[str, np.ndarray] = {}
        if k >= 2:
            needed = sorted({m for names in menu.values() for m in names}, key=list(MEMBERS).index)
            member_oof = {m: np.zeros(len(y)) for m in needed}
            repeats = max(int(self.inner_repeats), 1)
            for train, test in self._inner_splits(Xf, y, k, groups):  # every tender is tested once per repeat
                for m in needed:
                    fitted = clone(members[m]).fit(Xf.iloc[train], y[train])
                    member_oof[m][test] += fitted.predict_proba(Xf.iloc[test])[:, 1] / repeats
            for cand, names in menu.items():
                oof[cand] = np.mean([member_oof[m] for m in names], axis=0)
                self.inner_auc_[cand] = float(roc_auc_score(y, oof[cand]))
            self.selected_ = max(menu, key=lambda c: self.inner_auc_[c])  # max keeps the first of equals
        else:  # too few tenders of a class for an inner split: the first candidate, in-sample scores
            self.selected_ = next(iter(menu))
        self.members_ = {m: clone(members[m]).fit(Xf, y) for m in menu[self.selected_]}
        raw = oof[self.selected_] if self.selected_ in oof else self._raw(Xf)
        self.calibrator_ = None
        if self.calibrate and self.selected_ in oof:
            self.calibrator_ = LogisticRegression().fit(_logit(raw), y)
        self.oof_score_ = self._calibrated(raw)
        if self.max_fpr is not None:
            self.threshold_ = capped_fpr_threshold(y, self.oof_score_, float(self.max_fpr))
        elif self.threshold == "balanced":
            self.threshold_ = balanced_threshold(y, self.oof_score_)
        else:
            self.threshold_ = float(self.threshold)
        return self

    def _raw(self, Xf: pd.DataFrame) -> np.ndarray:
        return np.mean([est.predict_proba(Xf)[:, 1] for est in self.members_.values()], axis=0)

    def _calibrated(self, raw: np.ndarray) -> np.ndarray:
        if self.calibrator_ is None:
            return raw
        return self.calibrator_.predict_proba(_logit(raw))[:, 1]

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """Probability of collusion per tender, columns ``[competitive, collusive]``."""
        check_is_fitted(self, "members_")
        with threadpool_limits(limits=1, user_api="blas"):
            p = self._calibrated(self._raw(self._X(X, self.feature_names_in_)))
        return np.column_stack([1 - p, p])

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """1 (flag as collusive) where the probability reaches ``threshold_``, else 0."""
        return (self.predict_proba(X)[:, 1] >= self.threshold_).astype(int)
