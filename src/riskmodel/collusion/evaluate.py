"""Cross-validated evaluation of the tender classifiers on labelled bid data, per dataset.

For each dataset: tenders with fewer than ``min_bids`` bids cannot be screened;
they are counted (with how many of them were collusive) and reported, never
dropped silently.  Tenders with an unknown label are counted too.  The rest go
through a stratified ``n_splits``-fold cross-validation with a fixed seed; in
every fold *both* classifiers (ours and the random-forest reference, or any
other given) are fitted on the same training tenders and scored on the same
test tenders, so their figures are comparable.  Metrics are computed on the
pooled out-of-fold predictions:

* ``roc_auc`` (threshold-free; also per fold: ``auc_fold_mean``, ``auc_fold_sd``),
* ``accuracy``, ``balanced_accuracy``, ``fpr`` (share of competitive tenders
  flagged: the false accusations a supervision office must avoid) and ``tpr``
  (share of rigged tenders flagged), at each classifier's own decision rule
  (the reference: probability 0.5; ours: the threshold learnt in training).

With ``group_by`` (a bid column constant within a tender, e.g. ``market``)
the folds are grouped as well as stratified: all tenders of a group fall in
the same fold, and ours groups its inner cross-validation the same way.  Where
the same buyer's contracts recur year after year, this asks whether the
classifier recognises collusion in markets it has never seen, rather than
markets it has seen in other years.

Goal (issue #8): our ROC AUC at least :data:`GOAL_RATIO` times the reference's
in the same run, or no lower than it where the reference already exceeds
:data:`GOAL_CEILING`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.metrics import accuracy_score, balanced_accuracy_score, roc_auc_score
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold

from riskmodel.collusion.identity import IDENTITY_SCREEN_NAMES
from riskmodel.collusion.model import (DEFAULT_FEATURES, LABEL, SIZE_FEATURE, ScreenClassifier, reference_classifier,
                                       tender_table)
from riskmodel.errors import RiskModelError

GOAL_RATIO = 1.05
GOAL_CEILING = 0.95
OURS, REFERENCE = "ours", "reference"
#: ours without the identity screens (ablation); not run on a dataset without them, where it would repeat ours
NO_IDENTITY = "ours_no_identity"


class CollusionEvaluationError(RiskModelError):
    """A dataset cannot be evaluated (no labels, or too few tenders of a class for the folds)."""


def default_models(random_state: int = 0, n_jobs: int = 1, n_estimators: int = 300,
                   ablation: bool = False, max_fpr: float | None = None, inner_cv: int = 5,
                   inner_repeats: int = 2) -> dict[str, object]:
    """The classifiers compared by default: ours and the reference (and ours without the tender size).

    Parameters
    ----------
    random_state : int, default=0
    n_jobs : int, default=1
    n_estimators : int, default=300
        Trees/rounds of ours; the reference gets ``max(n_estimators, 100)``
        trees (scikit-learn's default is 100; 500 in the literature).
    ablation : bool, default=False
        Also ``ours_screens_only``: our classifier without ``log_median_bid``,
        which shows how much of the gain comes from the tender size rather
        than from the bids' distribution; and :data:`NO_IDENTITY`, ours
        without the identity screens (run only on datasets that have them),
        which shows what the bidders' identities add.
    max_fpr : float, optional
        Our classifiers' decision rule caps the training false-positive rate
        (see :class:`~riskmodel.collusion.model.ScreenClassifier`) instead of
        maximising balanced accuracy.
    inner_cv, inner_repeats : int, default=5, 2
        The inner cross-validation in which ours chooses among its candidate
        models (inside each outer training fold: nested cross-validation).
    """
    inner = {"inner_cv": inner_cv, "inner_repeats": inner_repeats}
    models: dict[str, object] = {
        OURS: ScreenClassifier(n_estimators=n_estimators, max_fpr=max_fpr, random_state=random_state, n_jobs=n_jobs,
                               **inner),
        REFERENCE: reference_classifier(n_estimators=max(n_estimators, 100), random_state=random_state, n_jobs=n_jobs),
    }
    if ablation:
        models["ours_screens_only"] = ScreenClassifier(
            features=tuple(f for f in DEFAULT_FEATURES if f != SIZE_FEATURE), n_estimators=n_estimators,
            max_fpr=max_fpr, random_state=random_state, n_jobs=n_jobs, **inner)
        models[NO_IDENTITY] = ScreenClassifier(n_estimators=n_estimators, max_fpr=max_fpr, random_state=random_state,
                                               n_jobs=n_jobs, identity=False, **inner)
    return models


@dataclass
class DatasetEvaluation:
    """Figures for one dataset.  ``predictions`` holds every used tender's out-of-fold score per model."""

    dataset: str
    n_tenders: int
    n_used: int
    n_collusive_used: int
    n_too_few_bids: int
    n_collusive_too_few_bids: int
    n_unlabelled: int
    min_bids: int
    n_splits: int
    random_state: int
    metrics: dict[str, dict[str, float]]
    thresholds: dict[str, list[float]] = field(default_factory=dict)
    selected: dict[str, list[str]] = field(default_factory=dict)
    inner_auc: dict[str, list[dict[str, float]]] = field(default_factory=dict)
    identity_screens: list[str] = field(default_factory=list)
    group_by: str | None = None
    n_groups: int | None = None
    seconds: float = 0.0
    predictions: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)

    @property
    def auc_ratio(self) -> float:
        """Our ROC AUC over the reference's."""
        return self.metrics[OURS]["roc_auc"] / self.metrics[REFERENCE]["roc_auc"]

    def judged(self, identity_counts: bool | None = None) -> tuple[str, float, bool]:
        """The goal's verdict: the model it is judged on, that model's ROC AUC, and whether it reaches
        ``GOAL_RATIO`` × the reference's (at least the reference's where that is above ``GOAL_CEILING``).

        Where ours reads identity screens (the ablation ``ours_no_identity`` was run), their gain counts only when
        the firm checks passed (``identity_counts``: :func:`riskmodel.collusion.holdout.identity_gain_counts`);
        otherwise, failed or not run, the goal is judged on ours without them.
        """
        ref = self.metrics[REFERENCE]["roc_auc"]
        model = NO_IDENTITY if NO_IDENTITY in self.metrics and not identity_counts else OURS
        auc = self.metrics[model]["roc_auc"]
        need = ref if ref > GOAL_CEILING else GOAL_RATIO * ref
        return model, auc, bool(auc >= need - 1e-12)

    @property
    def goal_met(self) -> bool:
        """The goal without the firm checks (:meth:`judged`): identity screens' gain not counted."""
        return self.judged()[2]

    def to_dict(self) -> dict:
        d = asdict(self)
        d.pop("predictions")
        if OURS in self.metrics and REFERENCE in self.metrics:
            d["auc_ratio"] = round(self.auc_ratio, 4)
            d["goal_judged_on"], _, d["goal_met"] = self.judged()
        return d


@dataclass
class Evaluation:
    """Every dataset's :class:`DatasetEvaluation` and the run's parameters."""

    datasets: list[DatasetEvaluation]
    parameters: dict

    def __getitem__(self, name: str) -> DatasetEvaluation:
        for d in self.datasets:
            if d.dataset == name:
                return d
        raise KeyError(name)

    def table(self) -> pd.DataFrame:
        """One row per dataset and model: counts, ROC AUC, balanced accuracy, accuracy, FPR, TPR."""
        rows = []
        for d in self.datasets:
            for model, m in d.metrics.items():
                rows.append({"dataset": d.dataset, "model": model, "tenders": d.n_tenders, "used": d.n_used,
                             "collusive_used": d.n_collusive_used, "too_few_bids": d.n_too_few_bids,
                             "collusive_too_few": d.n_collusive_too_few_bids, "unlabelled": d.n_unlabelled, **m})
        return pd.DataFrame(rows)

    def to_dict(self) -> dict:
        return {"parameters": self.parameters, "goal": {"auc_ratio": GOAL_RATIO, "or_equal_above": GOAL_CEILING},
                "datasets": [d.to_dict() for d in self.datasets]}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2, default=_json_default)

    def to_text(self) -> str:
        """A plain-text report: one block per dataset, then the goal check."""
        lines = [f"Collusion screens, stratified {self.parameters['n_splits']}-fold CV, seed "
                 f"{self.parameters['random_state']}, tenders with fewer than {self.parameters['min_bids']} bids "
                 "not screened (counted below)."]
        for d in self.datasets:
            share = d.n_collusive_used / d.n_used if d.n_used else float("nan")
            lines += ["", f"{d.dataset}: {d.n_tenders} tenders; used {d.n_used} ({d.n_collusive_used} collusive, "
                      f"{share:.1%}); too few bids (< {d.min_bids}): {d.n_too_few_bids} "
                      f"({d.n_collusive_too_few_bids} collusive); unlabelled: {d.n_unlabelled}"]
            if d.identity_screens:
                lines.append(f"  bidders named: identity screens {', '.join(d.identity_screens)}")
            if d.group_by:
                lines.append(f"  folds grouped by {d.group_by} ({d.n_groups} groups)")
            lines.append(f"  {'model':<20}{'ROC AUC':>9}{'±sd':>7}{'bal.acc':>9}{'accuracy':>10}{'FPR':>7}{'TPR':>7}")
            for model, m in d.metrics.items():
                lines.append(f"  {model:<20}{m['roc_auc']:>9.3f}{m['auc_fold_sd']:>7.3f}{m['balanced_accuracy']:>9.3f}"
                             f"{m['accuracy']:>10.3f}{m['fpr']:>7.3f}{m['tpr']:>7.3f}")
            for model, chosen in d.selected.items():
                counts = pd.Series(chosen).value_counts()
                lines.append(f"  {model} chose, in the inner CV of each training fold: "
                             + ", ".join(f"{c} ×{k}" for c, k in counts.items()))
            if OURS in d.metrics and REFERENCE in d.metrics:
                model, auc, met = d.judged()
                judged = "" if model == OURS else (f"; judged on {model}, {auc / d.metrics[REFERENCE]['roc_auc']:.3f}: the "
                                                   "identity screens' gain counts only once the firm checks pass")
                lines.append(f"  ours / reference ROC AUC = {d.auc_ratio:.3f} (goal ≥ {GOAL_RATIO}, or ≥ 1 where the "
                             f"reference > {GOAL_CEILING}{judged}): {'met' if met else 'NOT met'}")
        return "\n".join(lines)


def _json_default(o):
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    return str(o)


def _metrics(y: np.ndarray, score: np.ndarray, flag: np.ndarray, fold: np.ndarray) -> dict[str, float]:
    fold_auc = [roc_auc_score(y[fold == k], score[fold == k]) for k in np.unique(fold)
                if len(np.unique(y[fold == k])) == 2]
    neg, pos = y == 0, y == 1
    return {"roc_auc": float(roc_auc_score(y, score)),
            "auc_fold_mean": float(np.mean(fold_auc)), "auc_fold_sd": float(np.std(fold_auc, ddof=1))
            if len(fold_auc) > 1 else float("nan"),
            "accuracy": float(accuracy_score(y, flag)), "balanced_accuracy": float(balanced_accuracy_score(y, flag)),
            "fpr": float(flag[neg].mean()), "tpr": float(flag[pos].mean()), "n_flagged": int(flag.sum())}


def evaluate_dataset(bids: pd.DataFrame, *, min_bids: int = 2, n_splits: int = 5, random_state: int = 0,
                     models: Mapping[str, object] | None = None, n_jobs: int = 1, n_estimators: int = 300,
                     group_by: str | None = None, progress: Callable[[str], None] | None = None,
                     labels: pd.Series | None = None) -> DatasetEvaluation:
    """Evaluate the classifiers on one dataset's bids by stratified k-fold cross-validation.

    Parameters
    ----------
    bids : pandas.DataFrame
        Bid-level table of ONE dataset (see :mod:`riskmodel.collusion.bids`).
    min_bids : int, default=2
        Tenders with fewer bids are not screened (counted in
        ``n_too_few_bids``).  At least 2: a single bid has no distribution.
    n_splits : int, default=5
    random_state : int, default=0
        Seeds the folds and every model.
    models : mapping of name to estimator, optional
        Default :func:`default_models` (``ours`` and ``reference``).  Each is
        cloned per fold, fitted on the tender table's training rows and must
        offer ``predict_proba`` and ``predict``.
    n_jobs, n_estimators : int
        Passed to :func:`default_models`.
    group_by : str, optional
        A bid column constant within each tender (e.g. ``market``): folds are
        grouped by it (:class:`~sklearn.model_selection.StratifiedGroupKFold`),
        and ours groups its inner cross-validation by it too.
    progress : callable, optional
        Called with a short message after each fold.
    labels : pandas.Series, optional
        Tender labels (0/1) indexed by tender id, replacing the file's: the
        screens are still computed on every bid (histories included), and a
        tender absent from ``labels`` counts as unlabelled.  For placebo
        labels (:mod:`riskmodel.collusion.holdout`).

    Returns
    -------
    DatasetEvaluation

    Raises
    ------
    CollusionEvaluationError
        Several datasets in ``bids``; no labelled tender with enough bids; fewer
        than ``n_splits`` tenders in a class; ``group_by`` not a column, not
        constant within a tender, or with fewer than ``n_splits`` groups.
    """
    names = bids["dataset"].unique()
    if len(names) != 1:
        raise CollusionEvaluationError(f"evaluate_dataset takes one dataset, got {list(names)}; use evaluate()")
    if min_bids < 2:
        raise CollusionEvaluationError(f"min_bids must be at least 2 (one bid has no distribution to screen), got {min_bids}")
    name = str(names[0])
    t0 = time.perf_counter()
    table = tender_table(bids)
    if labels is not None:
        new = pd.Series(labels, dtype="Int8")
        new.index = new.index.astype(str)
        table[LABEL] = new.reindex(table.index.get_level_values("tender_id")).to_numpy()
    labelled = table[LABEL].notna()
    enough = table["n_bids"] >= min_bids
    used = table[labelled & enough]
    y = used[LABEL].to_numpy(dtype=int)
    counts = np.bincount(y, minlength=2) if len(y) else np.zeros(2, int)
    if counts.min() < n_splits:
        raise CollusionEvaluationError(
            f"dataset '{name}': {int(counts[1])} collusive and {int(counts[0])} competitive labelled tenders with at "
            f"least {min_bids} bids; {n_splits}-fold cross-validation needs at least {n_splits} of each")
    models = dict(models) if models is not None else default_models(random_state, n_jobs, n_estimators)
    identity = [c for c in IDENTITY_SCREEN_NAMES if c in used.columns and used[c].notna().any()]
    if not identity:
        models.pop(NO_IDENTITY, None)  # it would repeat ours
    groups = None
    if group_by is not None:
        groups = _tender_groups(bids, group_by, used.index.get_level_values("tender_id"), name)
        if len(np.unique(groups)) < n_splits:
            raise CollusionEvaluationError(f"dataset '{name}': {len(np.unique(groups))} groups in '{group_by}'; "
                                           f"{n_splits}-fold grouped cross-validation needs at least {n_splits}")
        folds = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=random_state)
    else:
        folds = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=random_state)
    fold = np.full(len(used), -1)
    scores = {m: np.full(len(used), np.nan) for m in models}
    flags = {m: np.zeros(len(used), dtype=int) for m in models}
    thresholds: dict[str, list[float]] = {m: [] for m in models}
    selected: dict[str, list[str]] = {m: [] for m in models if hasattr(models[m], "candidates")}
    inner_auc: dict[str, list[dict[str, float]]] = {m: [] for m in selected}
    X = used.drop(columns=[LABEL])
    for k, (train, test) in enumerate(folds.split(X, y, groups)):
        fold[test] = k
        for m, est in models.items():
            if groups is not None and isinstance(est, ScreenClassifier):
                fitted = clone(est).fit(X.iloc[train], y[train], groups=groups[train])
            else:
                fitted = clone(est).fit(X.iloc[train], y[train])
            scores[m][test] = fitted.predict_proba(X.iloc[test])[:, 1]
            flags[m][test] = fitted.predict(X.iloc[test])
            thresholds[m].append(float(getattr(fitted, "threshold_", 0.5)))
            if m in selected:
                selected[m].append(str(fitted.selected_))
                inner_auc[m].append({c: round(a, 4) for c, a in fitted.inner_auc_.items()})
        if progress:
            progress(f"{name}: fold {k + 1}/{n_splits} done")
    metrics = {m: _metrics(y, scores[m], flags[m], fold) for m in models}
    pred = pd.DataFrame({"tender_id": used.index.get_level_values("tender_id"), LABEL: y, "fold": fold,
                         "n_bids": used["n_bids"].to_numpy()})
    for m in models:
        pred[f"score_{m}"] = scores[m]
        pred[f"flag_{m}"] = flags[m]
    too_few = table[~enough]
    return DatasetEvaluation(
        dataset=name, n_tenders=len(table), n_used=len(used), n_collusive_used=int(counts[1]),
        n_too_few_bids=len(too_few), n_collusive_too_few_bids=int((too_few[LABEL] == 1).sum()),
        n_unlabelled=int((~labelled & enough).sum()), min_bids=min_bids, n_splits=n_splits,
        random_state=random_state, metrics=metrics, thresholds=thresholds,
        selected=selected, inner_auc=inner_auc, identity_screens=identity, group_by=group_by,
        n_groups=None if groups is None else int(len(np.unique(groups))),
        seconds=round(time.perf_counter() - t0, 2), predictions=pred)


def _tender_groups(bids: pd.DataFrame, column: str, tender_ids: pd.Index, name: str) -> np.ndarray:
    """The value of ``column`` for each tender of ``tender_ids`` (it must be constant within a tender)."""
    if column not in bids.columns or bids[column].isna().any():
        raise CollusionEvaluationError(f"dataset '{name}': cannot group the folds by '{column}': the bids "
                                       f"{'lack that column' if column not in bids.columns else 'leave it empty'}")
    per = bids.groupby(bids["tender_id"].astype(str))[column]
    if (per.nunique() > 1).any():
        raise CollusionEvaluationError(f"dataset '{name}': column '{column}' differs within a tender; folds can only "
                                       "be grouped by a tender-level column (e.g. market)")
    return per.first().reindex(tender_ids).astype(str).to_numpy()


def evaluate(bids: pd.DataFrame, *, min_bids: int = 2, n_splits: int = 5, random_state: int = 0,
             models: Mapping[str, object] | None = None, n_jobs: int = 1, n_estimators: int = 300,
             ablation: bool = False, max_fpr: float | None = None, inner_cv: int = 5, inner_repeats: int = 2,
             group_by: str | None = None, progress: Callable[[str], None] | None = None) -> Evaluation:
    """Evaluate every dataset in ``bids`` separately (models are never trained across datasets).

    Parameters are those of :func:`evaluate_dataset` (``group_by`` applies to
    every dataset that has the column; the others get stratified folds); ``ablation``,
    ``max_fpr``, ``inner_cv`` and ``inner_repeats`` are passed to :func:`default_models`.

    Examples
    --------
    >>> from riskmodel.collusion.synthetic import synthetic_bids
    >>> ev = evaluate(synthetic_bids(n_tenders=60, seed=1), n_splits=3, n_estimators=20, inner_cv=3, inner_repeats=1)
    >>> d = ev.datasets[0]
    >>> d.n_used + d.n_too_few_bids == d.n_tenders, d.metrics["ours"]["roc_auc"] > 0.8
    (True, True)
    """
    if models is None:
        models = default_models(random_state, n_jobs, n_estimators, ablation=ablation, max_fpr=max_fpr,
                                inner_cv=inner_cv, inner_repeats=inner_repeats)
    results = []
    for _, part in bids.groupby("dataset", sort=False):
        grouped = group_by if group_by is not None and group_by in part.columns and part[group_by].notna().all() \
            else None
        results.append(evaluate_dataset(part, min_bids=min_bids, n_splits=n_splits, random_state=random_state,
                                        models=models, group_by=grouped, progress=progress))
    params = {"min_bids": min_bids, "n_splits": n_splits, "random_state": random_state, "n_estimators": n_estimators,
              "max_fpr": max_fpr, "inner_cv": inner_cv, "inner_repeats": inner_repeats, "group_by": group_by,
              "models": {k: type(v).__name__ for k, v in models.items()}}
    return Evaluation(results, params)
