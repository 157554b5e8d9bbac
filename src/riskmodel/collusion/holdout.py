"""Firm checks: does the classifier recognise collusion, or the neighbourhood of the firms that make the label?

Where the label of a tender is "one of the accused firms bid" (the Ohio
school-milk data), a classifier that scores the tenders well may have learnt
where those firms bid (which districts, which co-bidders: their
neighbourhood in the bidding network) rather than how collusive tenders
look.  Two checks ask the question; neither changes the screens or the model.

Leave one cartel firm out (:func:`leave_one_firm_out`)
    For each accused firm ``f``: the **test** tenders are those ``f`` bid in
    (the positives, and any competitive tender ``f`` bid in), plus, as
    negatives, the competitive tenders of the same markets (``negatives_from``,
    e.g. the school district) that ``f`` did not bid in and a random share
    (``negative_share``, seeded, the same draw for every firm) of the other
    competitive tenders; **training** is every other labelled tender.  So
    ``f``'s tenders never train the model.  Why negatives are needed: every
    tender with ``f`` is collusive by construction of the label, so ``f``'s
    tenders alone have one class and no ROC AUC.  The same markets'
    competitive tenders are the hardest fair comparison (the same buyers'
    contracts in years the cartel was absent) but can be few; the random share
    keeps the AUC from resting on a handful of tenders.  The figures per
    model: ROC AUC against all the test negatives (``roc_auc``) and against
    the same markets' only (``roc_auc_market``), the share of ``f``'s
    tenders (TPR) and of the negatives (FPR) flagged by the decision rule
    learnt on the training tenders only (ours: the threshold of its inner
    cross-validation; the reference: 0.5), and the median scores of both.

    The history screens of a test tender (incumbency, co-bidding, rotation…)
    may read ``f``'s *earlier bids* as history.  That is legitimate: those
    screens read bids, bidders, years and districts, never a label, and at
    prediction time the whole bidding history is known.  What ``f``'s tenders
    cannot do is teach the model what a collusive tender looks like.

Placebo cartel (:func:`placebo_check`)
    The sharper test.  For each accused firm, the non-accused firm of the most
    similar activity (:func:`match_placebo_firms`: tenders bid, markets, share
    of tenders won; all from bids) stands in for it.  Among the competitive
    tenders only (so no collusion is behind any label), a tender is labelled
    1 where a placebo firm bid, and the same cross-validation is run as on
    the real label, in the same run with the same settings.  If the identity
    screens "detect" this fake cartel as well as the real one, they recognise
    firm neighbourhoods, not collusion.

Criteria, fixed before the checks were first run on real data:

* leave-one-out passes for a firm when ours' ROC AUC on its held-out
  tenders reaches :data:`~riskmodel.collusion.evaluate.GOAL_RATIO` times the
  reference's (the goal of issue #8, applied to an unseen cartel member);
* the placebo passes when the identity screens' gain on the fake cartel
  (ROC AUC of ours minus ours without identity screens) is below
  :data:`PLACEBO_GAIN_SHARE` of their gain on the real label.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.metrics import roc_auc_score

from riskmodel.collusion.evaluate import (GOAL_RATIO, NO_IDENTITY, OURS, REFERENCE, CollusionEvaluationError,
                                          DatasetEvaluation, _json_default, default_models, evaluate_dataset)
from riskmodel.collusion.identity import has_identities
from riskmodel.collusion.model import LABEL, tender_table

#: the placebo passes when its identity gain stays below this share of the real label's
PLACEBO_GAIN_SHARE = 0.5
#: the models of the firm checks: ours, the reference, ours without the identity screens
FIRM_CHECK_MODELS = (OURS, REFERENCE, NO_IDENTITY)


def firm_check_models(random_state: int = 0, n_jobs: int = 1, n_estimators: int = 300, inner_cv: int = 5,
                      inner_repeats: int = 2) -> dict[str, object]:
    """Ours, the reference and ours without the identity screens (:func:`~riskmodel.collusion.evaluate.default_models`)."""
    models = default_models(random_state, n_jobs, n_estimators, ablation=True, inner_cv=inner_cv,
                            inner_repeats=inner_repeats)
    return {m: models[m] for m in FIRM_CHECK_MODELS}


def _one_dataset(bids: pd.DataFrame) -> str:
    names = bids["dataset"].unique() if "dataset" in bids.columns else ["<bids>"]
    if len(names) != 1:
        raise CollusionEvaluationError(f"the firm checks take one dataset, got {list(names)}")
    if not has_identities(bids):
        raise CollusionEvaluationError(f"dataset '{names[0]}': the firm checks need the bidder of every bid "
                                       "(column 'bidder')")
    return str(names[0])


def _check_firms(bids: pd.DataFrame, firms: Sequence[str], name: str) -> list[str]:
    firms = [str(f) for f in firms]
    if not firms:
        raise CollusionEvaluationError(f"dataset '{name}': name at least one firm to hold out")
    known = set(bids["bidder"].astype(str))
    unknown = [f for f in firms if f not in known]
    if unknown:
        raise CollusionEvaluationError(f"dataset '{name}': firm(s) {unknown} never bid; the bidders are named as in "
                                       f"column 'bidder' (e.g. {sorted(known)[:5]})")
    return firms


def firm_presence(bids: pd.DataFrame, firms: Sequence[str]) -> pd.DataFrame:
    """Per tender (index: tender id as string), whether each of ``firms`` bid in it.

    Examples
    --------
    >>> b = pd.DataFrame({"tender_id": [1, 1, 2], "bid": [1.0, 2.0, 3.0], "bidder": ["A", "B", "B"]})
    >>> firm_presence(b, ["A", "B"]).to_dict("index")
    {'1': {'A': True, 'B': True}, '2': {'A': False, 'B': True}}
    """
    tid = bids["tender_id"].astype(str)
    hit = pd.crosstab(tid, bids["bidder"].astype(str)).reindex(columns=list(firms), fill_value=0) > 0
    hit.columns.name, hit.index.name = None, "tender_id"
    return hit


@dataclass
class HeldOutFirm:
    """One accused firm held out: its tenders (and the same markets' competitive tenders) as the test set."""

    firm: str
    n_positive: int
    n_negative: int
    n_firm_competitive: int
    n_too_few_bids: int
    n_train: int
    n_train_collusive: int
    n_markets: int
    n_negative_market: int
    metrics: dict[str, dict[str, float]]

    @property
    def passed(self) -> bool | None:
        """Ours' ROC AUC ≥ GOAL_RATIO × the reference's on this firm's test set (None where undefined)."""
        o, r = self.metrics[OURS]["roc_auc"], self.metrics[REFERENCE]["roc_auc"]
        if not (np.isfinite(o) and np.isfinite(r)):
            return None
        return bool(o >= GOAL_RATIO * r - 1e-12)

    def to_dict(self) -> dict:
        return {**asdict(self), "passed": self.passed}


def _auc(y: np.ndarray, score: np.ndarray) -> float:
    return float(roc_auc_score(y, score)) if len(np.unique(y)) == 2 else float("nan")


def _holdout_metrics(y: np.ndarray, score: np.ndarray, flag: np.ndarray, threshold: float,
                     same_market: np.ndarray) -> dict[str, float]:
    pos, neg = y == 1, y == 0
    keep = pos | same_market
    return {"roc_auc": _auc(y, score), "roc_auc_market": _auc(y[keep], score[keep]),
            "tpr": float(flag[pos].mean()) if pos.any() else float("nan"),
            "fpr": float(flag[neg].mean()) if neg.any() else float("nan"),
            "median_score_positive": float(np.median(score[pos])) if pos.any() else float("nan"),
            "median_score_negative": float(np.median(score[neg])) if neg.any() else float("nan"),
            "threshold": float(threshold)}


def leave_one_firm_out(bids: pd.DataFrame, firms: Sequence[str], *, negatives_from: str = "market",
                       negative_share: float = 0.3, min_bids: int = 2, models: Mapping[str, object] | None = None, random_state: int = 0,
                       n_jobs: int = 1, n_estimators: int = 300, inner_cv: int = 5, inner_repeats: int = 2,
                       table: pd.DataFrame | None = None,
                       progress: Callable[[str], None] | None = None) -> list[HeldOutFirm]:
    """Hold out each of ``firms`` in turn: train without its tenders, test on them (see the module docstring).

    Parameters
    ----------
    bids : pandas.DataFrame
        ONE dataset's bids with ``bidder`` on every row and ``negatives_from``.
    firms : sequence of str
        The accused firms (as named in ``bidder``).
    negatives_from : str, default="market"
        A tender-level column: the competitive tenders sharing a value with a
        held-out firm's tenders (and without that firm) are its test negatives.
    negative_share : float, default=0.3
        Share of the other competitive tenders also held out as test
        negatives (drawn once with ``random_state``, the same for every firm).
    min_bids : int, default=2
        As in :func:`~riskmodel.collusion.evaluate.evaluate_dataset`; the
        firm's tenders with fewer bids are counted in ``n_too_few_bids``.
    models : mapping, optional
        Default :func:`firm_check_models` (built from the other arguments).
    table : pandas.DataFrame, optional
        The dataset's :func:`~riskmodel.collusion.model.tender_table` (index
        level ``tender_id``), if already computed.

    Returns
    -------
    list of HeldOutFirm

    Raises
    ------
    CollusionEvaluationError
        Several datasets, no bidders, an unknown firm, no ``negatives_from``
        column, or a training set without both classes.

    Examples
    --------
    >>> from riskmodel.collusion.synthetic import synthetic_bids
    >>> b = synthetic_bids(300, seed=2, identities=True, n_markets=24, ring_firms=6, covers=1, mixed_markets=True)
    >>> r = leave_one_firm_out(b, ["R1"], n_estimators=20, inner_cv=3, inner_repeats=1)[0]
    >>> r.n_positive > 0 and r.n_negative > 0, r.metrics["ours"]["roc_auc"] > 0.8
    (True, True)
    """
    name = _one_dataset(bids)
    firms = _check_firms(bids, firms, name)
    if negatives_from not in bids.columns or bids[negatives_from].isna().any():
        raise CollusionEvaluationError(f"dataset '{name}': the held-out firm's negatives are the competitive tenders "
                                       f"of its '{negatives_from}', a column the bids lack or leave empty")
    if table is None:
        table = tender_table(bids)
    tid = table.index.get_level_values("tender_id").astype(str)
    table = table.set_axis(tid)
    usable = (table[LABEL].notna() & (table["n_bids"] >= min_bids)).to_numpy()
    y_all = table[LABEL].fillna(-1).astype(int).to_numpy()
    present = firm_presence(bids, firms).reindex(tid, fill_value=False)
    per = bids.assign(tender_id=bids["tender_id"].astype(str)).groupby("tender_id")[negatives_from]
    if (per.nunique() > 1).any():
        raise CollusionEvaluationError(f"dataset '{name}': column '{negatives_from}' differs within a tender")
    where = per.first().reindex(tid).astype(str).to_numpy()
    models = dict(models) if models is not None else firm_check_models(random_state, n_jobs, n_estimators, inner_cv,
                                                                       inner_repeats)
    if not 0 <= negative_share < 1:
        raise CollusionEvaluationError(f"negative_share must be in [0, 1), got {negative_share}")
    drawn = np.random.default_rng(random_state).random(len(tid)) < negative_share
    X_all = table.drop(columns=[LABEL])
    out = []
    for f in firms:
        with_f = present[f].to_numpy()
        markets = np.unique(where[with_f])
        same_market = np.isin(where, markets) & ~with_f & (y_all == 0)
        negatives = same_market | (drawn & ~with_f & (y_all == 0))
        test = usable & (with_f | negatives)
        train = usable & ~with_f & ~negatives
        y_train, y_test = y_all[train], y_all[test]
        if len(np.unique(y_train)) < 2:
            raise CollusionEvaluationError(f"dataset '{name}': without firm {f}'s tenders and its markets' "
                                           "competitive tenders, training has a single class")
        metrics = {}
        for m, est in models.items():
            fitted = clone(est).fit(X_all[train], y_train)
            score = fitted.predict_proba(X_all[test])[:, 1]
            flag = fitted.predict(X_all[test])
            metrics[m] = _holdout_metrics(y_test, score, flag, getattr(fitted, "threshold_", 0.5), same_market[test])
            if hasattr(fitted, "selected_"):
                metrics[m]["selected"] = str(fitted.selected_)
        out.append(HeldOutFirm(
            firm=f, n_positive=int((y_test == 1).sum()), n_negative=int((y_test == 0).sum()),
            n_firm_competitive=int((with_f & usable & (y_all == 0)).sum()),
            n_too_few_bids=int((with_f & ~usable).sum()), n_train=int(train.sum()),
            n_train_collusive=int((y_train == 1).sum()), n_markets=len(markets),
            n_negative_market=int((same_market & usable).sum()), metrics=metrics))
        if progress:
            progress(f"{name}: firm {f} held out")
    return out


def firm_activity(bids: pd.DataFrame) -> pd.DataFrame:
    """Per bidder, from bids only: tenders bid in, markets bid in (if a ``market`` column), share of tenders won.

    The winner is the tender's ``is_winner`` bid where exactly one is marked,
    else its lowest bid (as in :mod:`riskmodel.collusion.identity`).
    """
    from riskmodel.collusion.identity import IdentityBids

    ib = IdentityBids(bids)
    b = ib.bids
    act = b.groupby("bidder").agg(tenders=("t", "nunique"), wins=("win", "sum"))
    if ib.has_market:
        mk = ib.tenders["market"].to_numpy()[b["t"].to_numpy()]
        act["markets"] = pd.Series(mk).groupby(b["bidder"].to_numpy()).nunique()
    act["win_share"] = act["wins"] / act["tenders"]
    return act.drop(columns="wins")


def match_placebo_firms(bids: pd.DataFrame, firms: Sequence[str]) -> pd.DataFrame:
    """For each accused firm, the non-accused firm of the most similar activity (one each, none twice).

    Activity (:func:`firm_activity`): log tenders bid in, log markets bid in
    and share of tenders won, each standardised over all bidders; the
    distance is Euclidean.  The accused firms are matched from the most
    active down, each to the nearest firm not yet taken.

    Returns
    -------
    pandas.DataFrame
        One row per accused firm (index ``firm``): ``placebo``, ``distance``
        and both firms' activity.

    Examples
    --------
    >>> b = pd.DataFrame({"tender_id": [1, 1, 2, 2, 3, 3, 4, 4], "bid": [1., 2., 1., 2., 1., 2., 2., 1.],
    ...                   "bidder": ["A", "B", "A", "C", "D", "B", "D", "E"], "market": list("mmnnoopp")})
    >>> match_placebo_firms(b, ["A"])["placebo"].tolist()
    ['D']
    """
    name = _one_dataset(bids) if "dataset" in bids.columns else "<bids>"
    firms = _check_firms(bids, firms, name)
    act = firm_activity(bids)
    feats = pd.DataFrame({"log_tenders": np.log(act["tenders"]), "win_share": act["win_share"]})
    if "markets" in act.columns:
        feats["log_markets"] = np.log(act["markets"])
    sd = feats.std(ddof=0).replace(0, 1.0)
    z = (feats - feats.mean()) / sd
    pool = [b for b in act.index if b not in firms]
    if len(pool) < len(firms):
        raise CollusionEvaluationError(f"dataset '{name}': {len(pool)} other bidders for {len(firms)} placebo firms")
    rows = []
    for f in sorted(firms, key=lambda f: (-act.loc[f, "tenders"], f)):
        d = np.sqrt(((z.loc[pool] - z.loc[f]) ** 2).sum(axis=1))
        pick = d.sort_values(kind="stable").index[0]
        pool.remove(pick)
        rows.append({"firm": f, "placebo": pick, "distance": float(d[pick]),
                     **{f"firm_{c}": act.loc[f, c] for c in act.columns},
                     **{f"placebo_{c}": act.loc[pick, c] for c in act.columns}})
    return pd.DataFrame(rows).set_index("firm")


@dataclass
class PlaceboCheck:
    """The fake cartel of matched ordinary firms, evaluated like the real label in the same run."""

    matches: pd.DataFrame
    placebo: DatasetEvaluation
    real: DatasetEvaluation

    @staticmethod
    def _gain(d: DatasetEvaluation) -> float:
        return d.metrics[OURS]["roc_auc"] - d.metrics[NO_IDENTITY]["roc_auc"]

    @property
    def real_gain(self) -> float:
        """ROC AUC of ours minus ours without identity screens, real label."""
        return self._gain(self.real)

    @property
    def placebo_gain(self) -> float:
        """The same on the placebo label."""
        return self._gain(self.placebo)

    @property
    def passed(self) -> bool:
        """The identity screens gain less on the fake cartel than PLACEBO_GAIN_SHARE of their real gain."""
        return bool(self.placebo_gain < PLACEBO_GAIN_SHARE * self.real_gain)

    def to_dict(self) -> dict:
        return {"matches": self.matches.reset_index().to_dict("records"), "placebo": self.placebo.to_dict(),
                "real": self.real.to_dict(), "real_identity_gain": self.real_gain,
                "placebo_identity_gain": self.placebo_gain, "gain_share_limit": PLACEBO_GAIN_SHARE,
                "passed": self.passed}


def placebo_labels(bids: pd.DataFrame, placebo_firms: Sequence[str]) -> pd.Series:
    """Competitive tenders (label 0) labelled 1 where a placebo firm bid, else 0; other tenders left out."""
    lab = bids.assign(tender_id=bids["tender_id"].astype(str)).groupby("tender_id")[LABEL].first()
    competitive = lab.index[lab == 0]
    hit = firm_presence(bids, placebo_firms).reindex(competitive, fill_value=False).any(axis=1)
    return hit.astype(int).rename(LABEL)


def placebo_check(bids: pd.DataFrame, firms: Sequence[str], *, real: DatasetEvaluation | None = None,
                  min_bids: int = 2, n_splits: int = 5, models: Mapping[str, object] | None = None,
                  random_state: int = 0, n_jobs: int = 1, n_estimators: int = 300, inner_cv: int = 5,
                  inner_repeats: int = 2, progress: Callable[[str], None] | None = None) -> PlaceboCheck:
    """Relabel the competitive tenders by the presence of firms matched to ``firms`` and cross-validate.

    The screens are computed on every bid (the history of the cartel's
    tenders included), as for the real label; only the label changes.
    ``real`` is the real label's evaluation with the same models and
    settings (it must hold ours and ours without identity screens); it is
    computed here when not given.

    Raises
    ------
    CollusionEvaluationError
        As :func:`leave_one_firm_out`; ``real`` without ours without identity screens.
    """
    name = _one_dataset(bids)
    matches = match_placebo_firms(bids, firms)
    models = dict(models) if models is not None else firm_check_models(random_state, n_jobs, n_estimators, inner_cv,
                                                                       inner_repeats)
    args = {"min_bids": min_bids, "n_splits": n_splits, "random_state": random_state, "models": models,
            "progress": progress}
    if real is None:
        real = evaluate_dataset(bids, **args)
    if NO_IDENTITY not in real.metrics or OURS not in real.metrics:
        raise CollusionEvaluationError(f"dataset '{name}': the real label's evaluation lacks '{OURS}' or "
                                       f"'{NO_IDENTITY}' (run it with ablation)")
    fake = evaluate_dataset(bids, labels=placebo_labels(bids, matches["placebo"].tolist()), **args)
    return PlaceboCheck(matches=matches, placebo=fake, real=real)


@dataclass
class FirmCheck:
    """Both firm checks on one dataset, with their parameters."""

    dataset: str
    firms: list[str]
    negatives_from: str
    held_out: list[HeldOutFirm]
    placebo: PlaceboCheck | None
    parameters: dict
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    def held_out_table(self) -> pd.DataFrame:
        """One row per held-out firm and model: test counts, ROC AUC, TPR, FPR, median scores."""
        rows = [{"firm": h.firm, "model": m, "positives": h.n_positive, "negatives": h.n_negative,
                 "negatives_same_market": h.n_negative_market,
                 "train": h.n_train, "train_collusive": h.n_train_collusive,
                 **{k: v for k, v in met.items() if k != "selected"}}
                for h in self.held_out for m, met in h.metrics.items()]
        return pd.DataFrame(rows)

    @property
    def held_out_passed(self) -> bool | None:
        """Every held-out firm passed (None when none was run or one is undefined)."""
        verdicts = [h.passed for h in self.held_out]
        if not verdicts or any(v is None for v in verdicts):
            return None
        return all(verdicts)

    def to_dict(self) -> dict:
        return {"dataset": self.dataset, "firms": self.firms, "negatives_from": self.negatives_from,
                "parameters": self.parameters, "seconds": self.seconds,
                "held_out": [h.to_dict() for h in self.held_out], "held_out_passed": self.held_out_passed,
                "placebo": None if self.placebo is None else self.placebo.to_dict(),
                "criteria": {"held_out_auc_ratio": GOAL_RATIO, "placebo_gain_share": PLACEBO_GAIN_SHARE}}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2, default=_json_default)

    def to_text(self) -> str:
        """Plain-text figures and what they mean."""
        lines = [f"{self.dataset}: firm checks for {', '.join(self.firms)}"]
        if self.held_out:
            share = self.parameters.get("negative_share", 0)
            lines += ["", f"Leave one cartel firm out (test: the firm's tenders + the competitive tenders of its "
                          f"{self.negatives_from}s + {share:.0%} of the other competitive tenders; the firm's tenders "
                          "never train; 'AUC mkt' against its markets' competitive tenders only):",
                      f"  {'firm':<16}{'model':<18}{'pos':>5}{'neg':>5}{'mkt':>5}{'ROC AUC':>9}{'AUC mkt':>9}{'TPR':>7}"
                      f"{'FPR':>7}{'med+':>7}{'med-':>7}"]
            for h in self.held_out:
                for m, met in h.metrics.items():
                    lines.append(f"  {h.firm:<16}{m:<18}{h.n_positive:>5}{h.n_negative:>5}{h.n_negative_market:>5}"
                                 f"{met['roc_auc']:>9.3f}{met['roc_auc_market']:>9.3f}"
                                 f"{met['tpr']:>7.3f}{met['fpr']:>7.3f}{met['median_score_positive']:>7.3f}"
                                 f"{met['median_score_negative']:>7.3f}")
                lines.append(f"  {h.firm}: ours / reference = {_ratio(h):.3f} (≥ {GOAL_RATIO}): "
                             f"{'passed' if h.passed else 'undefined' if h.passed is None else 'NOT passed'}")
        if self.placebo is not None:
            p = self.placebo
            lines += ["", "Placebo cartel (competitive tenders relabelled by the presence of matched ordinary firms):"]
            for f, r in p.matches.iterrows():
                lines.append(f"  {f} -> {r['placebo']} (distance {r['distance']:.2f})")
            lines.append(f"  {'label':<10}{'used':>6}{'pos':>5}{'ours':>8}{'no ident':>10}{'reference':>11}{'gain':>7}")
            for lab, d in (("real", p.real), ("placebo", p.placebo)):
                lines.append(f"  {lab:<10}{d.n_used:>6}{d.n_collusive_used:>5}{d.metrics[OURS]['roc_auc']:>8.3f}"
                             f"{d.metrics[NO_IDENTITY]['roc_auc']:>10.3f}{d.metrics[REFERENCE]['roc_auc']:>11.3f}"
                             f"{PlaceboCheck._gain(d):>7.3f}")
            lines.append(f"  identity gain on the placebo {p.placebo_gain:.3f} vs {PLACEBO_GAIN_SHARE} × real "
                         f"{p.real_gain:.3f}: {'passed' if p.passed else 'NOT passed'}")
        lines += ["", verdict(self, "en")]
        return "\n".join(lines)


def _ratio(h: HeldOutFirm) -> float:
    r = h.metrics[REFERENCE]["roc_auc"]
    return h.metrics[OURS]["roc_auc"] / r if r else float("nan")


def identity_gain_counts(check: FirmCheck | None) -> bool | None:
    """Whether the identity screens' gain may count towards the goal: True when both firm checks ran and passed,
    False when either failed, None when the question is open (a check not run or incomplete, or no check)."""
    if check is None:
        return None
    lo = check.held_out_passed if check.held_out else None
    pl = None if check.placebo is None else check.placebo.passed
    if lo is False or pl is False:
        return False
    return True if lo is True and pl is True else None


def verdict(check: FirmCheck, lang: str = "en") -> str:
    """A plain statement of what the checks mean for the goal, from their figures and the fixed criteria.

    The identity screens' gain may count towards the goal only when both
    checks were run and passed; it cannot when either failed; otherwise the
    question stays open.
    """
    zh = lang == "zh"
    lo = check.held_out_passed if check.held_out else "not run"
    pl = "not run" if check.placebo is None else check.placebo.passed
    parts = []
    if lo == "not run":
        parts.append("留一企业检验未运行。" if zh else "Leave one firm out: not run.")
    elif lo is None:
        parts.append("留一企业检验未能完成（某企业的测试集缺少一类）。" if zh else
                     "Leave one firm out: incomplete (a firm's test set lacks a class).")
    elif lo:
        parts.append("留一企业：每家被指控企业的招标都不参与训练时，本模型在这些招标上仍达到参照模型的 "
                     f"{GOAL_RATIO} 倍，学到的不只是这几家企业本身。" if zh else
                     "Leave one firm out: with each accused firm's tenders kept out of training, ours still reaches "
                     f"{GOAL_RATIO}× the reference on them; what it learnt is not those firms themselves.")
    else:
        failed = [h.firm for h in check.held_out if h.passed is False]
        parts.append(f"留一企业：{', '.join(failed)} 的招标不参与训练时，本模型在这些招标上达不到参照模型的 {GOAL_RATIO} 倍。"
                     if zh else f"Leave one firm out: with {', '.join(failed)}'s tenders kept out of training, ours "
                                f"does not reach {GOAL_RATIO}× the reference on them.")
    if pl == "not run":
        parts.append("安慰剂检验未运行。" if zh else "Placebo: not run.")
    else:
        p = check.placebo
        if pl:
            parts.append(f"安慰剂：换成活动相近的普通企业后，身份筛查的增益（{p.placebo_gain:.3f}）低于真实标注增益"
                         f"（{p.real_gain:.3f}）的 {PLACEBO_GAIN_SHARE} 倍：它们识别的不只是企业的投标圈子。" if zh else
                         f"Placebo: for ordinary firms of similar activity the identity screens gain {p.placebo_gain:.3f} "
                         f"AUC, under {PLACEBO_GAIN_SHARE} of their {p.real_gain:.3f} on the real label: they "
                         "recognise more than the firms' bidding neighbourhood.")
        else:
            parts.append(f"安慰剂：换成活动相近的普通企业后，身份筛查同样“识别”出假卡特尔（增益 {p.placebo_gain:.3f}，"
                         f"真实标注 {p.real_gain:.3f}）：它们识别的是企业的投标圈子，而非串通行为。" if zh else
                         f"Placebo: the identity screens 'detect' a fake cartel of ordinary firms of similar activity "
                         f"too (gain {p.placebo_gain:.3f} AUC against {p.real_gain:.3f} on the real label): they "
                         "recognise the firms' bidding neighbourhood, not collusion.")
    if pl != "not run":
        p = check.placebo
        rn, pn = p.real.metrics[NO_IDENTITY]["roc_auc"], p.placebo.metrics[NO_IDENTITY]["roc_auc"]
        rr, pr = p.real.metrics[REFERENCE]["roc_auc"], p.placebo.metrics[REFERENCE]["roc_auc"]
        # "as well" unless the real label's AUC is higher by more than the fold-to-fold spread (noise, not a tuning)
        spread = max(p.real.metrics[NO_IDENTITY].get("auc_fold_sd", 0.0), p.placebo.metrics[NO_IDENTITY].get(
            "auc_fold_sd", 0.0))
        as_high = not (rn - pn > (spread if np.isfinite(spread) else 0.0))
        parts.append((f"不含身份筛查时，本模型在安慰剂上的 AUC 为 {pn:.3f}，真实标注 {rn:.3f}（参照模型 {pr:.3f} 对 {rr:.3f}）："
                      + ("报价筛查对普通企业的“识别”一样好（差距不超过各折间的波动），这一标注也不能证明它们识别的是串通。" if as_high else
                         "报价筛查对真实卡特尔的识别好于对普通企业。")) if zh else
                     (f"Without identity screens ours scores {pn:.3f} on the placebo against {rn:.3f} on the real "
                      f"label (the reference {pr:.3f} against {rr:.3f}): "
                      + ("the bid screens 'detect' the ordinary firms as well (within the fold-to-fold spread), so "
                         "on this label they do not show collusion detection either." if as_high else
                         "the bid screens find the real cartel better than the ordinary firms.")))
    counts = identity_gain_counts(check)
    if counts is False:
        parts.append("结论：身份筛查带来的提升不能作为目标达成的依据。" if zh else
                     "So the gain from the identity screens cannot be counted as meeting the goal.")
    elif counts:
        parts.append("结论：身份筛查带来的提升可以计入目标。" if zh else
                     "So the gain from the identity screens may count towards the goal.")
    else:
        parts.append("结论：尚不能判断，两项检验都需运行并完成。" if zh else
                     "Not decided: both checks must run and complete.")
    return " ".join(parts)


def firm_check(bids: pd.DataFrame, firms: Sequence[str], *, leave_one_out: bool = True, placebo: bool = True,
               real: DatasetEvaluation | None = None, negatives_from: str = "market", negative_share: float = 0.3,
               min_bids: int = 2,
               n_splits: int = 5, random_state: int = 0, n_jobs: int = 1, n_estimators: int = 300,
               inner_cv: int = 5, inner_repeats: int = 2,
               progress: Callable[[str], None] | None = None) -> FirmCheck:
    """Run :func:`leave_one_firm_out` and/or :func:`placebo_check` on one dataset with the same models.

    Examples
    --------
    >>> from riskmodel.collusion.synthetic import synthetic_bids
    >>> b = synthetic_bids(300, seed=2, identities=True, n_markets=24, ring_firms=6, covers=1, mixed_markets=True)
    >>> fc = firm_check(b, ["R1", "R2"], placebo=False, n_estimators=20, inner_cv=3, inner_repeats=1)
    >>> [h.firm for h in fc.held_out], fc.held_out_passed in (True, False)
    (['R1', 'R2'], True)
    """
    if not (leave_one_out or placebo):
        raise CollusionEvaluationError("choose at least one firm check (leave one out, placebo)")
    name = _one_dataset(bids)
    firms = _check_firms(bids, firms, name)
    t0 = time.perf_counter()
    models = firm_check_models(random_state, n_jobs, n_estimators, inner_cv, inner_repeats)
    held = (leave_one_firm_out(bids, firms, negatives_from=negatives_from, negative_share=negative_share,
                               min_bids=min_bids, models=models, random_state=random_state, progress=progress)
            if leave_one_out else [])
    pc = (placebo_check(bids, firms, real=real, min_bids=min_bids, n_splits=n_splits, models=models,
                        random_state=random_state, progress=progress) if placebo else None)
    params = {"min_bids": min_bids, "n_splits": n_splits, "random_state": random_state, "n_estimators": n_estimators,
              "inner_cv": inner_cv, "inner_repeats": inner_repeats, "negatives_from": negatives_from,
              "negative_share": negative_share,
              "models": list(models)}
    return FirmCheck(dataset=name, firms=firms, negatives_from=negatives_from, held_out=held, placebo=pc,
                     parameters=params, seconds=round(time.perf_counter() - t0, 2))
