"""The whole path: features → graph features → labels → train (temporal split) → score → queue → explain → write.

``run_pipeline`` is what ``riskmodel run`` and ``make demo`` call.  Everything
it writes goes to one output folder, atomically, with the model, its card and
the provenance (settings, data fingerprint, code version, seed); reviewers'
decisions and the ledger already in that folder are kept.  Every queue written
here (``run_pipeline``, ``rescore``) is recorded in the run's ledger in the same
step (:func:`riskmodel.ledger.log_alerts`): a run's before its folder replaces
the old one, a re-queue's right after its file, under the ledger's lock.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import time
import warnings
from pathlib import Path

import joblib
import numpy as np
import pandas as pd

from riskmodel import __version__, engine
from riskmodel import ledger as _ledger
from riskmodel.data.dataset import Dataset
from riskmodel.data.store import atomic_dir, write_table
from riskmodel.errors import OutputError, RiskModelError
from riskmodel.provenance import code_version
from riskmodel.scoring import thresholds as th
from riskmodel.scoring.calibration import NO_CALIBRATION_NOTE, ScoreCalibrator
from riskmodel.scoring.events import event_queue, scored_from_file
from riskmodel.scoring.explain import reason_codes
from riskmodel.scoring.features import KEY, feature_columns, people_features
from riskmodel.scoring import labels as _labels
from riskmodel.scoring.labels import assemble_labels, case_labels, review_labels, unmatched_decisions
from riskmodel.scoring.models import MODELS, RiskScorer, make_model
from riskmodel.settings import Settings, load_settings

ALERT_COLUMNS = ["alert_id", "entity_type", "entity_id", "period", "score", "probability", "rank", "policy", "model", "cutoff",
                 "department_id", "position_id", "reasons", "evidence"]
MODEL_FILE = "model.joblib"
LOCALISE_LABELS = True
#: what a run writes; everything else in a run folder (reviewers' decisions, the ledger, their lock files, a
#: reviewer's notes) is not the pipeline's and is carried over when the run is redone
RUN_OUTPUTS = ("flags.parquet", "indicator_thresholds.parquet", "features_people.parquet", "scores.parquet", "alerts.parquet",
               "graph_nodes.parquet", "graph_edges.parquet", MODEL_FILE, "model_card.json", "manifest.json")
#: judgements of a model and queue that a new model or queue makes stale: removed, to be made again
#: ('riskmodel evaluate'), so that no report shows one model's figures under another's name
STALE_OUTPUTS = ("evaluation.json",)
#: the files other commands append to under a lock (``NAME.lock``) while a run may be redone
LOCKED_FILES = ("decisions.csv", "ledger.jsonl")


def graph_features_for(data: Dataset, settings: Settings | None = None) -> pd.DataFrame | None:
    """Graph features per employee-quarter when the graph room is installed (else None).

    The links are REL-002's as configured (``indicators: REL-002:`` hops, decay, weights, ``max_share``; its
    ``threshold`` is the strength from which a dealing counts in ``linked_dealings``), so the features and the
    flags their reasons bring describe the same links.
    """
    try:
        from riskmodel.graph import graph_features
        from riskmodel.graph.indicators import link_settings
    except ImportError:
        return None
    link_params, min_strength = link_settings(settings)
    g = graph_features(data, freq="quarter", link_params=link_params, dealing_min_strength=min_strength,
                       entity_types=("employee",))
    if g is None or g.empty:
        return None
    g = g.drop(columns="entity_type")
    return g.rename(columns={c: c if c.startswith("graph_") or c in ("entity_id", "period") else f"graph_{c}" for c in g.columns})


def _write_graph(data: Dataset, out: Path) -> None:
    """Keep the relationship graph with the run, so a portrait draws an ego network without rebuilding it; then
    let go of the graph and what was computed from it (the run needs it no more)."""
    try:
        from riskmodel.graph.build import graph_frames, release
    except ImportError:
        return
    frames = graph_frames(data, min_share=2, all_growers=False)  # the graph the links were found on (graph.build.cached)
    write_table(frames.nodes, out / "graph_nodes.parquet")
    # in a fixed order: the query engine returns grouped dealings in any order
    write_table(frames.edges.sort_values(["kind", "source", "target"], kind="stable"), out / "graph_edges.parquet")
    del frames
    release(data)


@contextlib.contextmanager
def run_locks(run_dir: Path):
    """Hold the locks of the files other commands append to in ``run_dir`` (:data:`LOCKED_FILES`).

    ``riskmodel decide`` and the ledger's writers take ``NAME.lock`` before they read and write ``NAME``; holding
    those locks while the files are carried into a new run folder and the folders are swapped means no decision or
    ledger entry lands in the old folder after it was copied.  A writer that waited resolves ``RUN/NAME`` once it
    gets the lock, and finds the new folder (whose lock files are the same files: :func:`carry_over` links them).
    Nothing is held when ``run_dir`` does not exist yet.
    """
    with contextlib.ExitStack() as stack:
        if run_dir.is_dir():
            for name in LOCKED_FILES:
                fh = stack.enter_context(open(run_dir / f"{name}.lock", "a"))
                fcntl.flock(fh, fcntl.LOCK_EX)
                stack.callback(fcntl.flock, fh, fcntl.LOCK_UN)
        yield


def carry_over(old: Path, new: Path) -> dict[str, list[str]]:
    """Copy what a run folder holds besides the pipeline's outputs into the folder that will replace it.

    Reviewers' decisions (``decisions.csv``), the hash-chained ledger (``ledger.jsonl``, copied byte for byte, so
    its chain goes on) and anything else that is not in :data:`RUN_OUTPUTS` come along; lock files are linked, not
    copied, so that a lock held on the old folder holds on the new one.  :data:`STALE_OUTPUTS` are left behind.
    Call it under :func:`run_locks`.

    Returns
    -------
    dict
        ``carried`` and ``dropped``: the names, sorted.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> old, new = (pathlib.Path(tempfile.mkdtemp()) for _ in range(2))
    >>> for name in ("decisions.csv", "alerts.parquet", "evaluation.json"):
    ...     _ = (old / name).write_text("x")
    >>> carry_over(old, new)
    {'carried': ['decisions.csv'], 'dropped': ['evaluation.json']}
    """
    carried, dropped = [], []
    if not old.is_dir():
        return {"carried": carried, "dropped": dropped}
    for src in sorted(old.iterdir()):
        name = src.name
        if name in RUN_OUTPUTS or name.startswith("."):  # our outputs, and atomic writes' temporary files
            continue
        if name in STALE_OUTPUTS:
            dropped.append(name)
            continue
        dst = new / name
        if name.endswith(".lock") and src.is_file():
            try:
                os.link(src, dst)
            except OSError:  # a file system without hard links: a fresh lock file (a waiting writer may then race one)
                shutil.copy2(src, dst)
            continue  # a lock file is not worth reporting
        try:
            if src.is_dir() and not src.is_symlink():
                shutil.copytree(src, dst, symlinks=True)
            else:
                shutil.copy2(src, dst, follow_symlinks=False)
        except OSError as exc:
            raise OutputError(f"cannot carry {src} into the new run ({exc.strerror}); the earlier run is left as it was. "
                              f"Free disk space in {old.parent} or move {name} out of the run folder, then run again") from exc
        carried.append(name)
    return {"carried": carried, "dropped": dropped}


def read_card(run_dir: str | Path) -> dict:
    """The model card of the run in ``run_dir``; a clear error when ``run_dir`` is not a run folder."""
    path = Path(run_dir) / "model_card.json"
    require_run(run_dir, "model_card.json")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RiskModelError(f"{path} is not a readable model card ({exc}); run 'riskmodel run --out {run_dir}' again") from exc


def require_run(run_dir: str | Path, *names: str) -> Path:
    """Check that ``run_dir`` is a run folder holding ``names``; raise a :class:`RiskModelError` saying what to do."""
    run_dir = Path(run_dir)
    missing = [n for n in names if not (run_dir / n).is_file()]
    if missing:
        raise RiskModelError(f"{run_dir} is not a run folder (no {', '.join(missing)}): give --run the folder that "
                             f"'riskmodel run --out' wrote")
    return run_dir


def split_periods(periods: pd.Series, test_quarters: int) -> tuple[list, list]:
    ps = sorted(pd.to_datetime(periods).unique())
    if len(ps) <= test_quarters:
        raise RiskModelError(f"the data has {len(ps)} quarters; a temporal split needs more than test_quarters={test_quarters} "
                             f"(set scoring.test_quarters lower)")
    return ps[:-test_quarters], ps[-test_quarters:]


def calibration_split(periods: pd.Series, train: np.ndarray, quarters: int) -> tuple[np.ndarray, np.ndarray]:
    """Split the training rows in time for calibration: the last ``quarters`` training quarters are the
    calibration slice, the quarters before them train the scorer that scores it (:func:`calibrate`); the test
    quarters are in neither.

    Returns boolean masks ``(early_rows, calibration_rows)``; with ``quarters`` 0, or too few training quarters
    to spare them (fewer than twice as many), the slice is empty.

    Examples
    --------
    >>> p = pd.Series(pd.to_datetime(["2024-01-01", "2024-04-01", "2024-07-01", "2024-10-01", "2025-01-01"]))
    >>> fit, cal = calibration_split(p, np.array([True, True, True, True, False]), 2)
    >>> fit.tolist(), cal.tolist()
    ([True, True, False, False, False], [False, False, True, True, False])
    """
    train = np.asarray(train, bool)
    per = pd.to_datetime(pd.Series(periods)).to_numpy()
    qs = sorted(pd.unique(per[train]))
    if quarters <= 0 or len(qs) < 2 * quarters:
        return train.copy(), np.zeros(len(train), bool)
    held = np.isin(per, qs[-quarters:]) & train
    return train & ~held, held


def calibrate(model: str, X: pd.DataFrame, y: np.ndarray, early_rows: np.ndarray, cal_rows: np.ndarray, method: str,
              seed: int = 0) -> tuple[ScoreCalibrator | None, str]:
    """Fit the probability calibrator out of time; ``(None, reason)`` when it cannot be fitted.

    A scorer of the same kind and parameters is fitted on ``early_rows`` (the training quarters before the
    calibration slice) and scores ``cal_rows`` (the slice), which it never saw; the calibrator is fitted on those
    margins and the labels as known (positives 1, everything else 0).  The scorer used for the queue is fitted on
    all training quarters and its margins go through the same calibrator — scikit-learn's
    ``CalibratedClassifierCV(ensemble=False)`` scheme, with a time split instead of folds so that the calibration
    quarters come after the quarters the scorer learnt from, as the test quarters do.  The test quarters are
    never used.
    """
    if method == "none":
        return None, NO_CALIBRATION_NOTE
    if not cal_rows.any():
        return None, "too few training quarters to hold a calibration slice out"
    try:
        early = make_model(model, random_state=seed).fit(X.loc[early_rows], y[early_rows])
        margin = early.decision_function(X.loc[cal_rows])
        return ScoreCalibrator(method).fit(margin, (np.asarray(y)[cal_rows] == 1).astype(int)), ""
    except RiskModelError as exc:
        return None, str(exc)


#: the last training quarters held out to set the precision policy's cut-off (:func:`validation_scores`)
VALIDATION_QUARTERS = 4


def validation_scores(model: str, X: pd.DataFrame, y: np.ndarray, periods, train_periods, seed: int = 0,
                      quarters: int = VALIDATION_QUARTERS) -> tuple[np.ndarray, np.ndarray]:
    """Out-of-time scores and labels for the precision policy's cut-off.

    A scorer of the same kind is fitted on the training quarters before the last ``quarters`` and scores those
    quarters, which it never saw, as the queue's scorer will score the test quarters.  Labels are as known then:
    positives 1, everything else 0 (reliable negatives and unlabelled rows alike), so that under positive–unlabelled
    labels the validation precision is, if anything, underestimated and the cut-off errs towards queuing fewer.

    Raises
    ------
    RiskModelError
        With too few training quarters to hold ``quarters`` out and learn from the rest.
    """
    tp = sorted(pd.unique(pd.Series(pd.to_datetime(train_periods))))
    if len(tp) <= quarters:
        raise RiskModelError(f"policy 'precision' holds out the last {quarters} training quarters to set its cut-off and "
                             f"learns from the ones before, but there are only {len(tp)}: use --policy capacity")
    periods = pd.Series(pd.to_datetime(periods))
    held, early = periods.isin(tp[-quarters:]).to_numpy(), periods.isin(tp[:-quarters]).to_numpy()
    y = np.asarray(y)
    scorer = make_model(model, random_state=seed).fit(X.loc[early], y[early])
    return scorer.decision_function(X.loc[held]), (y[held] == 1).astype(int)


def apply_policy(scores: np.ndarray, frame: pd.DataFrame, settings: Settings, policy: str,
                 val_scores=None, val_labels=None, probabilities=None) -> th.Cutoff:
    s = settings.scoring
    if policy == "capacity":
        groups = frame.department_id.to_numpy() if s.per_department else None
        return th.by_capacity(scores, frame.period.to_numpy(), s.capacity, groups, s.max_queue_share)
    if policy == "precision":
        if val_scores is None:
            raise RiskModelError("policy 'precision' needs validation quarters with labels")
        cut = th.by_precision(scores, val_scores, val_labels, s.target_precision, s.max_queue_share, frame.period.to_numpy())
        cut.detail["validation"] = (f"the last {VALIDATION_QUARTERS} training quarters, scored by the same kind of model "
                                    f"fitted on the quarters before them (out of time); labels as known then")
        return cut
    if policy == "cost":
        if probabilities is None:
            raise RiskModelError("policy 'cost' needs a probability of misconduct, and this model gives none (the rules "
                                 "score is a severity sum, IsolationForest's an anomaly score): use --policy capacity or "
                                 "precision with it, or --model xgboost or logistic")
        return th.by_cost(probabilities, s.review_cost, s.expected_loss, s.max_queue_share, frame.period.to_numpy())
    raise RiskModelError(f"unknown policy {policy!r}; choose capacity, precision or cost")


def _alert_id(entity_type: str, entity_id: str, period, model: str) -> str:
    return "AL-" + hashlib.sha256(f"{entity_type}|{entity_id}|{pd.Timestamp(period).date()}|{model}".encode()).hexdigest()[:12]


def build_queue(model: RiskScorer, model_name: str, X: pd.DataFrame, scores: np.ndarray, cut: th.Cutoff,
                flags: pd.DataFrame, top_k: int, probabilities: np.ndarray | None = None) -> pd.DataFrame:
    """The review queue: the rows the policy selected, ranked, with reason codes and evidence.

    ``score`` is the margin the reason-code contributions add up to; ``probability`` the calibrated probability
    (a non-decreasing function of the margin, so the ranks are the same; NaN when none is given).
    """
    q = X.loc[cut.labels, [*KEY, "department_id", "position_id"]].copy()
    q["score"] = scores[cut.labels]
    q["probability"] = np.asarray(probabilities, float)[cut.labels] if probabilities is not None else np.nan
    q["rank"] = q.groupby("period").score.rank(method="first", ascending=False).astype(int)
    q = q.sort_values(["period", "rank"]).reset_index(drop=True)
    cols = feature_columns(X)
    Xq = X.loc[cut.labels].set_index(KEY).loc[pd.MultiIndex.from_frame(q[KEY]), cols].reset_index(drop=True)
    if len(q):
        contrib = model.contributions(Xq)
        reasons, evidence = reason_codes(contrib, Xq, q[KEY], flags, top_k)
    else:  # a policy that queues nobody (a precision target no cut-off reaches): an empty queue, no explanations
        reasons, evidence = [], []
    q["reasons"] = reasons
    q["evidence"] = evidence
    q["entity_type"] = "employee"
    q["policy"] = cut.policy
    q["model"] = model_name
    q["cutoff"] = q.period.map(lambda p: cut.cutoff.get(p, cut.cutoff.get("all", np.nan)))
    q["alert_id"] = [_alert_id("employee", e, p, model_name) for e, p in zip(q.entity_id, q.period)]
    return q[ALERT_COLUMNS]


def prepare(data_dir: str | Path, settings: Settings, progress: bool = True):
    """Open the data, compute the indicator flags, graph features and the employee-quarter matrix.

    Returns ``(data, flags, indicator_thresholds, X)``; ``flags`` is a :class:`~riskmodel.indicators.runner.FlagStore`
    (every scored row on disk, the fired ones in memory): close it when done.
    """
    data = engine.open_dataset(data_dir, settings)
    store, ind_thresholds, graph = engine.flags_and_graph(data, settings, progress)
    try:
        X = people_features(data, store.fired, graph)
    except BaseException:
        store.close()
        raise
    return data, store, ind_thresholds, X


def fit_models(X: pd.DataFrame, y, model: str, seed: int) -> dict[str, RiskScorer]:
    """Fit the chosen model and, for comparison in the same run, every baseline that can be fitted."""
    fitted = {}
    for name in dict.fromkeys([model, *MODELS]):
        try:
            fitted[name] = make_model(name, random_state=seed).fit(X, y)
        except RiskModelError:
            if name == model:
                raise
    return fitted


def run_pipeline(data_dir: str | Path, out: str | Path, model: str | None = None, policy: str | None = None,
                 settings: Settings | None = None, decisions: pd.DataFrame | None = None, progress: bool = True,
                 source: str = "riskmodel run") -> dict:
    """Compute features, train on earlier quarters, score the later ones and write the review queue.

    Writes to ``out``: ``flags.parquet`` and ``indicator_thresholds.parquet``; ``features_people.parquet``;
    ``scores.parquet`` (every employee-quarter, the chosen model and the three baselines side by side, with
    the split); ``alerts.parquet`` (the queue); ``model.joblib``; ``model_card.json``; ``manifest.json``.

    Onto an earlier run in ``out`` (a rerun, or ``riskmodel train``), what the pipeline does not write is carried
    into the new folder before it replaces the old one: reviewers' decisions, the ledger (whose chain goes on) and
    any other file (:func:`carry_over`); ``evaluation.json``, which judged the earlier model, is removed.  The
    manifest lists both (``carried_over``, ``removed_as_stale``).  A run that fails leaves the earlier one as it was.

    The queue is recorded in ``out/ledger.jsonl`` before the new folder replaces the old one, under the ledger's
    lock, appending to the chain carried over (or starting one): a ``model`` entry when the model or threshold
    changed, a ``queue`` entry (the file's SHA-256, the model and policy, ``source``) and each alert not recorded
    before (:func:`riskmodel.ledger.log_alerts`).  A ledger whose last entry is torn or was changed is refused
    before any work is done.  ``source`` names the command in the card's ``queue`` and the ledger
    (``riskmodel train`` passes its own).

    Runs where ``engine.backend`` says (:mod:`riskmodel.engine`): this machine, or a Dask cluster.

    Returns the run manifest.
    """
    settings = settings or load_settings()
    with engine.session(settings):
        return _run_pipeline(data_dir, out, model, policy, settings, decisions, progress, source)


def _run_pipeline(data_dir, out, model, policy, settings: Settings, decisions, progress, source) -> dict:
    s = settings.scoring
    model = model or s.model
    policy = policy or s.policy
    if model not in MODELS:
        raise RiskModelError(f"unknown model {model!r}; choose one of {', '.join(MODELS)}")
    if (Path(out) / _ledger.LEDGER_FILE).is_file():  # the new queue will be chained onto it: a torn or changed end
        _ledger.head(Path(out) / _ledger.LEDGER_FILE)  # is refused now, not after the whole run
    t0 = time.perf_counter()
    data, store, ind_thresholds, X = prepare(data_dir, settings, progress)
    with store:
        # the graph is written now, beside the flag parts, and let go of before training
        _write_graph(data, store.folder)
        return _train_score_write(data, data_dir, store, ind_thresholds, X, out, model, policy, settings, decisions, t0,
                                  source)


def _train_score_write(data: Dataset, data_dir, store, ind_thresholds: pd.DataFrame, X: pd.DataFrame, out, model: str, policy: str,
                       settings: Settings, decisions, t0: float, source: str = "riskmodel run") -> dict:
    s = settings.scoring
    flags = store.fired
    train_p, test_p = split_periods(X.period, s.test_quarters)
    split_at = pd.Timestamp(test_p[0])
    # labels as known when the test period starts: no case opened later is used
    # past reviewers' decisions (from the data) and this run's reviewers' decisions (the feedback loop)
    history = review_labels(data, asof=split_at)
    if decisions is not None and len(bad := unmatched_decisions(decisions, X)):
        warnings.warn(f"{len(bad)} reviewer decision(s) on employees match no employee-quarter of the data and are not "
                      f"used as labels, e.g. {[f'{e} {p.date()}' for e, p in zip(bad.entity_id[:3], bad.period[:3])]}: "
                      f"check the entity ids and periods in the decisions file", stacklevel=2)
    decisions = pd.concat([history, decisions], ignore_index=True) if decisions is not None and len(decisions) else history
    case_lab = case_labels(data, asof=split_at, lookback_months=s.label_lookback_months, X=X if LOCALISE_LABELS else None)
    y = assemble_labels(X, case_lab, decisions)
    cols = feature_columns(X)
    # reviewed rows are labelled now, whatever their quarter: they join the training data
    reviewed = assemble_labels(X, pd.DataFrame(columns=["entity_id", "period", "label"]), decisions).to_numpy() != -1
    train = X.period.isin(train_p).to_numpy() | reviewed
    fitted = fit_models(X.loc[train, cols], y[train], model, s.seed)
    scores = engine.decision_scores(fitted, X[cols])
    chosen = fitted[model]
    # probabilities: a calibrator fitted out of time — on the last training quarters, scored by the same scorer
    # fitted on the quarters before them — maps the chosen scorer's margin to a probability
    cal_method, cal_quarters = s.calibration, s.calibration_quarters
    early_rows, cal_rows = calibration_split(X.period, X.period.isin(train_p).to_numpy(), cal_quarters if cal_method != "none" else 0)
    calibrator, cal_note = calibrate(model, X[cols], y.to_numpy(), early_rows, cal_rows, cal_method, s.seed)
    # a probability of misconduct: calibrated, or the fitted model's own; none for a severity sum or an anomaly score
    has_prob = calibrator is not None or chosen.probabilistic
    prob_all = (calibrator.predict(scores[model]) if calibrator is not None
                else chosen.predict_proba(X[cols])[:, 1] if has_prob else np.full(len(X), np.nan))
    test = ~train
    Xt = X[test].reset_index(drop=True)
    st = scores[model][test]
    # the precision policy's cut-off is set out of time on the last training quarters
    val_s, val_y = (validation_scores(model, X[cols], y.to_numpy(), X.period, train_p, s.seed)
                    if policy == "precision" else (None, None))
    probs = prob_all[test] if has_prob else None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", th.ImplausibleRateWarning)
        cut = apply_policy(st, Xt, settings, policy, val_s, val_y, probs)
    queue = build_queue(chosen, model, Xt, st, cut, flags, s.top_reasons, probs)
    events, event_models = (event_queue(flags, case_lab, test_p, s.event_capacity, s.seed, s.event_model,
                                        under_review=queue[KEY], scored=store.scored)
                            if s.event_capacity else (pd.DataFrame(), {}))
    if len(events):
        queue = pd.concat([queue, _event_alerts(events)], ignore_index=True)

    score_table = X[[*KEY, "department_id", "position_id"]].copy()
    score_table["split"] = np.where(train, "train", "test")
    score_table["calibration"] = cal_rows
    score_table["label_known"] = y.to_numpy()
    for name, v in scores.items():
        score_table[f"score_{name}"] = v
    score_table["probability"] = prob_all
    card = {
        "model": model, "estimator": repr(chosen),
        # every hyperparameter, defaults included (the repr shows only those changed from the defaults)
        "estimator_params": {k: v if isinstance(v, (int, float, str, bool, type(None))) else repr(v)
                             for k, v in chosen.get_params().items()},
        "policy": cut.to_dict(), "features": cols,
        "train_periods": [str(pd.Timestamp(p).date()) for p in train_p], "test_periods": [str(pd.Timestamp(p).date()) for p in test_p],
        "labels": {"positives": int((y[train] == 1).sum()), "reliable_negatives": int((y[train] == 0).sum()),
                   "unlabelled": int((y[train] == -1).sum()), "as_of": str(split_at.date()),
                   "localised": bool(LOCALISE_LABELS), "lookback_months": s.label_lookback_months,
                   "outside_span": _labels.OUTSIDE_SPAN,
                   "label_frequency": float(getattr(chosen, "label_frequency_", float("nan"))),
                   "window": f"a case marks its subject's quarters from {s.label_lookback_months} months before it opened to "
                             "its opening" + (", narrowed to the span of the subject's red flags of the case type's "
                                              f"families; the window's other quarters are {_labels.OUTSIDE_SPAN} (leaf-purchasing "
                                              "cases: unlabelled, the off-season is no stop)" if LOCALISE_LABELS else ""),
                   "source": "case archive (subjects of misconduct cases opened before the test period) and reviewers' "
                             "decisions made before it (alert_reviews) and in this run (decisions.csv)",
                   "pu_method": "Elkan & Noto (2008) weighting; label frequency c = %.3f" % getattr(chosen, "label_frequency_", float("nan"))},
        "capacity": s.capacity, "seed": s.seed, "data_fingerprint": data.fingerprint,
        # absolute, so that 'riskmodel train' and 'evaluate' find the data from any folder
        "data_source": str(Path(data_dir).resolve()),
        "code_version": code_version(), "package_version": __version__, "settings": settings.model_dump(mode="json"),
        "warnings": [str(w.message) for w in caught], "seconds": round(time.perf_counter() - t0, 1),
        "baselines": sorted(set(fitted) - {model}),
        "calibration": calibration_card(calibrator, cal_method, cal_quarters, X.period[cal_rows], cal_note),
        "event_models": event_models, "event_capacity": s.event_capacity,
        "review_workload": review_workload(queue, s),
        "queue": queue_card(queue, model, cut.to_dict(), source),
    }
    out = Path(out).resolve()
    # the locks of decisions.csv and ledger.jsonl are taken only for the carry-over and the swap, not while writing
    with contextlib.ExitStack() as locks, atomic_dir(out) as tmp:
        store.write(tmp / "flags.parquet")
        write_table(ind_thresholds, tmp / "indicator_thresholds.parquet")
        write_table(X, tmp / "features_people.parquet")
        write_table(score_table, tmp / "scores.parquet")
        write_table(queue, tmp / "alerts.parquet")
        for name in ("graph_nodes.parquet", "graph_edges.parquet"):
            if (store.folder / name).is_file():
                shutil.move(store.folder / name, tmp / name)
        joblib.dump({"model": chosen, "name": model, "features": cols, "card": card, "all_models": fitted,
                     "calibrator": calibrator}, tmp / MODEL_FILE)
        (tmp / "model_card.json").write_text(json.dumps(card, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
        from riskmodel.data.store import write_manifest

        locks.enter_context(run_locks(out))
        kept = carry_over(out, tmp)
        # the queue goes on the record before anyone can read it: onto the chain just carried over, whose lock
        # run_locks holds (the new folder is no one else's yet)
        _ledger.log_alerts(tmp, source=source, written=True, record_as=out, lock=False)
        manifest = write_manifest(tmp, {"step": "run", "model": model, "policy": policy, "alerts": len(queue),
                                        "data_fingerprint": data.fingerprint, "code_version": code_version(), "seed": s.seed,
                                        "carried_over": kept["carried"], "removed_as_stale": kept["dropped"]})
    return manifest


def queue_card(queue: pd.DataFrame, model: str, policy: dict, source: str, events_chosen_beside: dict | None = None,
               events: dict | None = None) -> dict:
    """What the model card says about ``alerts.parquet``: the model and policy of its people queue, and its events.

    ``riskmodel run`` queues people with the model it trained; ``riskmodel score`` may re-queue them with a
    baseline or another policy, and says so here (the card's ``model`` and ``policy`` stay those of the training).
    ``events_chosen_beside`` names the people queue the event alerts were chosen beside (an event of a person in
    it that quarter took no slot): by default this one; after a ``riskmodel score`` that could not choose them
    again, the earlier one they were kept from.  ``events``, from ``riskmodel score``, says whether they were chosen
    again and how (:func:`_rechoose_events`).
    """
    people = int((queue.entity_type == "employee").sum()) if len(queue) else 0
    beside = events_chosen_beside or {"model": model, "policy": policy.get("policy"), "source": source}
    return {"model": model, "policy": policy, "people_alerts": people, "event_alerts": int(len(queue) - people),
            "events_chosen_beside": beside, "source": source, **({"events": events} if events is not None else {}),
            "written_at": pd.Timestamp.now(tz="UTC").isoformat(timespec="seconds")}


def review_workload(queue: pd.DataFrame, s) -> dict:
    """What the queue asks of reviewers per test quarter (stated in the model card next to the capacity settings)."""
    per_q = queue.groupby(["period", "entity_type"]).size().unstack(fill_value=0)
    return {"capacity": s.capacity, "event_capacity_per_type": s.event_capacity,
            "people_per_quarter": float(per_q.get("employee", pd.Series(0.0)).mean()) if len(per_q) else 0.0,
            "events_per_quarter": float(per_q.drop(columns="employee", errors="ignore").sum(axis=1).mean()) if len(per_q) else 0.0,
            "note": "people: the top scoring.capacity of employees in each quarter (a share, rounded up); events: up to "
                    "scoring.event_capacity of each type per quarter, none for a person already in the people queue "
                    "that quarter (their events are read in their file)"}


def calibration_card(calibrator: ScoreCalibrator | None, method: str, quarters: int, periods: pd.Series, note: str) -> dict:
    """What the model card says about the probabilities."""
    held = sorted(str(pd.Timestamp(p).date()) for p in pd.unique(periods))
    base = {"method": method, "quarters": quarters, "periods": held,
            "fitted_on": "the last training quarters (never the test quarters), scored out of time by the same kind of "
                         "scorer fitted on the training quarters before them; labels as known at the as-of date: known "
                         "positives 1, everything else 0; then divided by the label frequency c (Elkan & Noto's e1 on "
                         "those quarters). The queue's scorer is fitted on all training quarters and its margin goes "
                         "through this calibrator (CalibratedClassifierCV(ensemble=False) with a time split)",
            "ranking": "the queue is ordered by the margin; the calibrated probability is a non-decreasing (sigmoid: "
                       "strictly increasing) function of it, so the order is the same; reason-code contributions "
                       "(exact TreeSHAP) add up to the margin, not to the probability"}
    if calibrator is None:
        return {**base, "fitted": False, "note": note or "not calibrated",
                "probability": "the scorer's own sigmoid of the margin (uncalibrated)"}
    return {**base, "fitted": True, **calibrator.to_dict(),
            "probability": "P(misconduct) = min(1, sigmoid(slope × margin + intercept) / c)" if method == "sigmoid"
            else "P(misconduct) = min(1, isotonic(margin) / c)"}


def load_model(path: str | Path) -> dict:
    """Load a saved model bundle (``model``, ``name``, ``features``, ``card``)."""
    p = Path(path)
    p = p / MODEL_FILE if p.is_dir() else p
    if not p.is_file():
        raise RiskModelError(f"no model at {p}: run 'riskmodel run' or 'riskmodel train' first")
    return joblib.load(p)


def rescore(run_dir: str | Path, model: str, policy: str, settings: Settings | None = None,
            out: str | Path | None = None, data_dir: str | Path | None = None) -> pd.DataFrame:
    """Re-queue a run's employees with another of its fitted models or another threshold policy (no retraining).

    The people queue in ``alerts.parquet`` is replaced, and the event alerts (tenders, orders, claims, …) are
    chosen again beside it, as ``riskmodel run`` chooses them beside its own: a person's events of a quarter in
    which that person is queued take no event slot, so none is queued twice, and the events of a person who left
    the queue come back (:func:`_rechoose_events`).  They are ranked by the run's event scorer
    (``scoring.event_model``, ``event_capacity`` and ``seed`` as the run recorded them), not by the people model,
    and read from the run's ``flags.parquet``; a supervised event scorer also needs the labels the run trained it
    on, from the case archive of the run's dataset (``data_dir``, else the card's ``data_source``).  Where that
    dataset cannot be found, or is no longer the run's data, the run's event alerts are kept as they were, and the
    card's ``queue.events`` says why.  The card's ``queue.events_chosen_beside`` names the people queue the event
    alerts were chosen beside (the new one, or the earlier one they were kept from), and ``riskmodel evaluate``
    says so.  The model card's ``queue`` and the manifest say which model and policy the people queue now comes
    from (the card's ``model`` and ``policy`` stay those the run was trained with); ``evaluation.json``, made for
    the earlier queue, is removed: run 'riskmodel evaluate' again.  The queue, card and manifest are written and
    the queue recorded in the run's ledger in one step under the ledger's lock (:func:`riskmodel.ledger.log_alerts`,
    ``riskmodel score``); a ledger whose last entry is torn or was changed is refused before anything is written.

    With ``out``, another folder (new, or empty), ``run_dir`` is left as it was and ``out`` becomes a new run
    folder in one atomic step: the run's files (its decisions and notes too) are copied, but not its ledger, its
    lock files or its stale outputs, and the new queue replaces the copy's.  ``out`` gets a ledger of its own: a
    copy of the parent's would be a second chain claiming the parent's history and then going on apart from it.
    Its chain starts with an ``origin`` entry naming ``run_dir`` and the head (``seq``, ``hash``) of its ledger,
    which must verify (:func:`riskmodel.ledger.log_origin`), followed by the record of the new queue; the parent's
    history stays in the parent's ledger, checked against that head with
    ``riskmodel ledger verify RUN/ledger.jsonl --anchor SEQ:HASH``.

    Parameters
    ----------
    run_dir : path-like
        The run folder.
    model : str
        One of the run's fitted models.
    policy : str
        ``capacity``, ``precision`` or ``cost``.
    settings : Settings, optional
        Default: :func:`riskmodel.settings.load_settings`.
    out : path-like, optional
        A new run folder to write instead of re-queuing ``run_dir`` in place.
    data_dir : path-like, optional
        The run's dataset, for a supervised event scorer's labels where the data has moved (default: the card's
        ``data_source``); refused when it is not the data the run was made from.  Not read for ``rules``.

    Returns
    -------
    pandas.DataFrame
        The new people queue (``alerts.parquet`` holds it and the event alerts).
    """
    from riskmodel.data.store import read_manifest

    settings = settings or load_settings()
    run_dir = require_run(run_dir, MODEL_FILE, "model_card.json", "features_people.parquet", "flags.parquet",
                          "scores.parquet", "alerts.parquet")
    fork = out is not None and Path(out).resolve() != run_dir.resolve()
    if fork and Path(out).exists() and (not Path(out).is_dir() or any(Path(out).iterdir())):
        raise RiskModelError(f"{out} exists and is not empty: 'riskmodel score --out' makes a new run folder from "
                             f"{run_dir}, with a ledger of its own; choose a new folder, or re-queue {out} itself with "
                             f"'riskmodel score --run {out}'")
    people, queue, card = _requeue(run_dir, model, policy, settings, data_dir)
    info = {k: v for k, v in (read_manifest(run_dir) or {}).items() if k not in ("fingerprint", "tables")}
    info.update({"step": "score", "model": model, "policy": policy, "alerts": len(queue), "trained_model": card["model"]})
    if not fork:
        if (run_dir / _ledger.LEDGER_FILE).is_file():  # a queue it cannot record is not written
            _ledger.head(run_dir / _ledger.LEDGER_FILE)
        stale = [n for n in STALE_OUTPUTS if (run_dir / n).is_file()]
        info["removed_as_stale"] = stale
        with _ledger.locked(run_dir / _ledger.LEDGER_FILE):
            for name in stale:  # first: a judgement of the old queue never sits beside the new one
                (run_dir / name).unlink()
            _write_queue(run_dir, queue, card, info)
            _ledger.log_alerts(run_dir, source="riskmodel score", written=True, lock=False)
        return people
    out = Path(out).resolve()
    with atomic_dir(out) as tmp:
        with run_locks(run_dir):  # no decision or ledger entry lands in the parent between its copy and its head
            parent_ledger = run_dir / _ledger.LEDGER_FILE
            parent = _ledger.verify(parent_ledger) if parent_ledger.is_file() else None
            copied = _copy_run(run_dir, tmp)
            _ledger.log_origin(tmp / _ledger.LEDGER_FILE, run_dir, parent, copied, "riskmodel score --out", lock=False)
        info.update({"removed_as_stale": [], "parent_run": run_dir.resolve().as_posix(), "copied_from_parent": copied})
        _write_queue(tmp, queue, card, info)
        _ledger.log_alerts(tmp, source="riskmodel score --out", written=True, record_as=out, lock=False)
    return people


def _requeue(run_dir: Path, model: str, policy: str, settings: Settings,
             data_dir: str | Path | None = None) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """The new people queue, the whole queue (with the event alerts chosen beside it) and the updated card; writes
    nothing."""
    bundle = load_model(run_dir)
    if model not in bundle["all_models"]:
        raise RiskModelError(f"the run in {run_dir} has no fitted {model!r} model (it has {', '.join(bundle['all_models'])})")
    X = pd.read_parquet(run_dir / "features_people.parquet")
    missing = [c for c in bundle["features"] if c not in X.columns]
    if missing:
        raise RiskModelError(f"{run_dir / 'features_people.parquet'} lacks {len(missing)} of the model's feature column(s) "
                             f"(e.g. {', '.join(missing[:5])}): the features and {run_dir / MODEL_FILE} do not belong "
                             f"together; run 'riskmodel run --out {run_dir}' to compute them again")
    flags = pd.read_parquet(run_dir / "flags.parquet", filters=[("fired", "==", True)])  # reason codes read the fired rows
    sc = pd.read_parquet(run_dir / "scores.parquet")
    test = (sc.split == "test").to_numpy()
    Xt = X[test].reset_index(drop=True)
    m = bundle["all_models"][model]
    st = m.decision_function(Xt[bundle["features"]])
    val_s, val_y = (validation_scores(model, X[bundle["features"]], sc.label_known.to_numpy(), sc.period,
                                      bundle["card"]["train_periods"], bundle["card"].get("seed", 0))
                    if policy == "precision" else (None, None))
    # the chosen model's calibrated probabilities; a baseline's own (uncalibrated) ones
    calibrator = bundle.get("calibrator") if model == bundle["name"] else None
    probs = (calibrator.predict(st) if calibrator is not None
             else m.predict_proba(Xt[bundle["features"]])[:, 1] if getattr(m, "probabilistic", True) else None)
    cut = apply_policy(st, Xt, settings, policy, val_s, val_y, probs)
    people = build_queue(m, model, Xt, st, cut, flags, settings.scoring.top_reasons, probs)
    card = read_card(run_dir)
    # the event alerts are chosen again beside the new people queue: an event of a person queued that quarter
    # takes no slot, as in 'riskmodel run'
    events, how = _rechoose_events(run_dir, people, card, settings, flags, X, data_dir)
    beside = None  # this queue
    if events is None:  # kept as they were (a run made before 'probability' existed lacks it)
        old = pd.read_parquet(run_dir / "alerts.parquet")
        events = old[(old.entity_type != "employee").to_numpy()].reindex(columns=ALERT_COLUMNS)
        # the people queue they were chosen beside: the earlier one (a card written before this was recorded:
        # the trained model's, as the run queued it)
        beside = (card.get("queue") or {}).get("events_chosen_beside") or {
            "model": card["model"], "policy": (card.get("policy") or {}).get("policy"), "source": "riskmodel run"}
    else:
        card["event_models"] = how["event_models"]
    queue = pd.concat([people, events], ignore_index=True) if len(events) else people
    card["queue"] = queue_card(queue, model, cut.to_dict(), "riskmodel score", beside, events=how)
    card["review_workload"] = review_workload(queue, settings.scoring.model_copy(update={"event_capacity": how["event_capacity"]}))
    return people, queue, card


def _rechoose_events(run_dir: Path, people: pd.DataFrame, card: dict, settings: Settings, flags: pd.DataFrame,
                     X: pd.DataFrame, data_dir: str | Path | None = None) -> tuple[pd.DataFrame | None, dict]:
    """The run's event alerts chosen again beside the people queue ``people``, as ``riskmodel run`` would have
    chosen them beside it; None where the run's event scorer needs labels that cannot be had.

    The event scorer is the run's: ``scoring.event_model``, ``event_capacity`` and ``seed`` as the card recorded
    them (a re-queue changes the people model or policy, not the event scorer; the current settings stand in for
    what an older card lacks), over the run's test quarters.  ``rules`` ranks by the severity of the fired flags
    and reads ``flags.parquet`` only.  A supervised scorer is fitted again, as the run fitted it, on every scored
    event of ``flags.parquet`` with the labels of the run's people as known when its test period starts
    (:func:`riskmodel.scoring.labels.case_labels`): these come from the case archive of the run's dataset,
    ``data_dir`` or the card's ``data_source``.  Where that dataset cannot be found, or its fingerprint is not the
    run's (regenerated or changed since), the events cannot be chosen as the run would have: None, and the returned
    note says why; a ``data_dir`` given that is not the run's data is an error.

    Returns
    -------
    tuple of (pandas.DataFrame or None, dict)
        The event alerts (columns :data:`ALERT_COLUMNS`), or None to keep the run's; and what the card's
        ``queue.events`` records: ``rechosen``, ``event_model``, ``event_capacity``, ``labels`` (where they came
        from) and ``event_models`` (the scorer used per event type) or ``note`` (why they were kept).
    """
    from riskmodel.scoring.datasource import resolve_data_source

    ran = (card.get("settings") or {}).get("scoring") or {}
    now = settings.scoring
    capacity = int(card.get("event_capacity", ran.get("event_capacity", now.event_capacity)))
    event_model = ran.get("event_model", now.event_model)
    how = {"rechosen": True, "event_model": event_model, "event_capacity": capacity}
    test_p = [pd.Timestamp(p) for p in card["test_periods"]]
    no_labels = pd.DataFrame(columns=["entity_id", "period", "label"])
    if not capacity:
        return pd.DataFrame(columns=ALERT_COLUMNS), {**how, "labels": "none (scoring.event_capacity is 0: no event alerts)",
                                                      "event_models": {}}
    if event_model == "rules":
        labels, how["labels"] = no_labels, "none needed (rules ranks events by the severity of their fired flags)"
    else:
        src = Path(data_dir) if data_dir is not None else None
        if src is None:
            try:
                src = resolve_data_source(card, run_dir)
            except RiskModelError:
                return None, {**how, "rechosen": False,
                              "note": f"the run's event scorer ({event_model}) learns from the labels of the case archive, "
                                      f"and the run's dataset is not where its model card says (data_source "
                                      f"{card.get('data_source')!r}): the event alerts are kept as they were, chosen beside "
                                      f"an earlier people queue; give the dataset with 'riskmodel score --data DIR' to "
                                      f"choose them again"}
        if not src.is_dir():
            given = "--data" if data_dir is not None else f"the model card's data_source ({run_dir / 'model_card.json'})"
            raise RiskModelError(f"{given}: {src} is not a folder; give the dataset the run in {run_dir} was made from "
                                 f"with 'riskmodel score --data DIR'")
        data = engine.open_dataset(src, settings)
        want = card.get("data_fingerprint")
        if want and data.fingerprint != want:
            if data_dir is not None:
                raise RiskModelError(f"{src} (data fingerprint {data.fingerprint}) is not the data the run in {run_dir} was "
                                     f"made from (fingerprint {want}, {card.get('data_source')}): its case archive would "
                                     f"not give the labels the run's event scorer ({event_model}) learned from; give the "
                                     f"run's dataset with --data")
            return None, {**how, "rechosen": False,
                          "note": f"the run's event scorer ({event_model}) learns from the labels of the case archive, and "
                                  f"the dataset at {src} is no longer the run's (fingerprint {data.fingerprint}, the run's "
                                  f"{want}): the event alerts are kept as they were, chosen beside an earlier people queue; "
                                  f"give the run's dataset with 'riskmodel score --data DIR', or run 'riskmodel run' again "
                                  f"on the new data"}
        localised = (card.get("labels") or {}).get("localised", LOCALISE_LABELS)
        labels = case_labels(data, asof=test_p[0], lookback_months=int(ran.get("label_lookback_months", now.label_lookback_months)),
                             X=X if localised else None)
        how["labels"] = f"the case archive of {src}, as known on {test_p[0].date()}"
    events, used = event_queue(flags, labels, test_p, capacity, int(card.get("seed", ran.get("seed", now.seed))), event_model,
                               under_review=people[KEY], scored=scored_from_file(run_dir / "flags.parquet"))
    how["event_models"] = used
    return (_event_alerts(events) if len(events) else pd.DataFrame(columns=ALERT_COLUMNS)), how


def _event_alerts(events: pd.DataFrame) -> pd.DataFrame:
    """:func:`event_queue`'s rows as alerts: their ids, no post, no probability (event scorers are not calibrated:
    their score orders the queue only)."""
    events = events.assign(position_id=None, probability=np.nan)
    events["alert_id"] = [_alert_id(t, e, p, m) for t, e, p, m in zip(events.entity_type, events.entity_id, events.period, events.model)]
    return events[ALERT_COLUMNS]


def _write_queue(folder: Path, queue: pd.DataFrame, card: dict, info: dict) -> None:
    """Write a re-queued run's ``alerts.parquet``, ``model_card.json`` and manifest, each atomically."""
    import io

    from riskmodel.data.store import atomic_write_bytes, write_manifest

    buf = io.BytesIO()
    queue.to_parquet(buf, index=False)
    atomic_write_bytes(folder / "alerts.parquet", buf.getvalue())
    atomic_write_bytes(folder / "model_card.json", json.dumps(card, ensure_ascii=False, indent=2, default=str).encode("utf-8"))
    write_manifest(folder, info)


def _copy_run(src: Path, dst: Path) -> list[str]:
    """Copy a run folder's files into a new run folder: all but its ledger, lock files, hidden temporary files and
    :data:`STALE_OUTPUTS`; returns the names copied, sorted."""
    copied = []
    for path in sorted(src.iterdir()):
        name = path.name
        if name.startswith(".") or name.endswith(".lock") or name == _ledger.LEDGER_FILE or name in STALE_OUTPUTS:
            continue
        try:
            if path.is_dir() and not path.is_symlink():
                shutil.copytree(path, dst / name, symlinks=True)
            else:
                shutil.copy2(path, dst / name, follow_symlinks=False)
        except OSError as exc:
            raise OutputError(f"cannot copy {path} into the new run folder ({exc.strerror}); {src} is left as it was. "
                              f"Free disk space in {dst.parent} or choose another --out") from exc
        copied.append(name)
    return copied


def backtest(data_dir: str | Path, quarters: int = 4, model: str | None = None, settings: Settings | None = None,
             progress: bool = True) -> pd.DataFrame:
    """Replay the last ``quarters`` quarters: for each, train on the quarters before it with the labels known
    when it began, queue it by review capacity, and report what the queue would have caught, next to what the
    rules-only baseline (:class:`~riskmodel.scoring.models.RulesScorer`) would have caught at the same capacity.
    Runs where ``engine.backend`` says, as :func:`run_pipeline` does.

    What it reads, never ``truth/``:

    - the dataset's tables, for the red flags and the employee-quarter features (a quarter's row uses what was
      known at its end, data-derived indicator fences included: each is set from the values known by then);
    - the case archive (``cases``, ``case_people``: the subjects of misconduct cases) as it stood when each quarter
      began, for the training labels, and as it stands at the data's end, to judge the queues: a queued
      employee-quarter is *caught* when a case opened in the ``scoring.label_lookback_months`` after it names the
      person;
    - reviewers' decisions (``alert_reviews``) made before each quarter began, as training labels.

    Cases open months after the misconduct and the archive ends with the data, so a case about a replayed quarter
    may not have opened yet, the more likely the later the quarter: the caught counts are lower bounds.
    ``months_of_data_after`` says how long cases had to open, and ``attrs['note']`` says it in words.

    Parameters
    ----------
    data_dir : path-like
        The dataset (no ``truth/`` needed).
    quarters : int, default=4
        How many of the last quarters to replay.
    model : {'xgboost', 'rules', 'iforest', 'logistic'}, optional
        Default: ``scoring.model``.
    settings : Settings, optional
    progress : bool, default=True

    Returns
    -------
    DataFrame
        One row per replayed quarter: ``period``; the model's ``queued``, ``caught_by_later_cases`` and
        ``share_caught``; the baseline's ``rules_queued``, ``rules_caught_by_later_cases`` and
        ``rules_share_caught``; ``positives_known_at_training``; ``months_of_data_after`` (from the quarter's end to
        the end of the data's last quarter, ``attrs['data_end']``); ``note`` (why the model could not be trained
        for the quarter, else empty).  ``attrs`` holds ``model``, ``baseline``, ``policy``, ``capacity``,
        ``judged_by``, ``data_end``, ``label_lookback_months`` and ``note``.
    """
    settings = settings or load_settings()
    with engine.session(settings):
        return _backtest(data_dir, quarters, model, settings, progress)


def _backtest(data_dir, quarters: int, model: str | None, settings: Settings, progress: bool) -> pd.DataFrame:
    s = settings.scoring
    model = model or s.model
    data, store, _, X = prepare(data_dir, settings, progress)
    store.close()  # the replay reads the feature matrix only
    cols = feature_columns(X)
    periods = sorted(X.period.unique())
    if len(periods) <= quarters:
        raise RiskModelError(f"only {len(periods)} quarters: cannot replay {quarters}")
    later = case_labels(data, asof=None, lookback_months=s.label_lookback_months)
    rules = make_model("rules").fit(X[cols])  # the baseline needs no labels: the same scorer every quarter
    last = pd.Period(pd.Timestamp(periods[-1]), "Q")

    def caught(scores: np.ndarray, Xq: pd.DataFrame) -> tuple[int, int]:
        queued = Xq[apply_policy(scores, Xq, settings, "capacity").labels]
        return len(queued), len(queued.merge(later, on=["entity_id", "period"], how="inner"))

    rows = []
    for q in periods[-quarters:]:
        q = pd.Timestamp(q)
        known = case_labels(data, asof=q, lookback_months=s.label_lookback_months, X=X if LOCALISE_LABELS else None)
        y = assemble_labels(X, known, review_labels(data, asof=q))
        train = (X.period < q).to_numpy()
        cur = (X.period == q).to_numpy()
        Xq = X[cur].reset_index(drop=True)
        row = {"period": q, "queued": 0, "caught_by_later_cases": 0, "share_caught": np.nan}
        try:
            m = make_model(model, random_state=s.seed).fit(X.loc[train, cols], y[train])
        except RiskModelError as exc:
            row["note"] = str(exc)
        else:
            n, hit = caught(m.decision_function(Xq[cols]), Xq)
            row.update(queued=n, caught_by_later_cases=hit, share_caught=hit / max(n, 1), note="")
        n, hit = caught(rules.decision_function(Xq[cols]), Xq)
        known_then = set(y[train & (y == 1).to_numpy()].index)  # row positions of the positives known then
        rows.append(row | {"rules_queued": n, "rules_caught_by_later_cases": hit, "rules_share_caught": hit / max(n, 1),
                           "positives_known_at_training": len(known_then),
                           "months_of_data_after": 3 * (last - pd.Period(q, "Q")).n})
    out = pd.DataFrame(rows)[["period", "queued", "caught_by_later_cases", "share_caught", "rules_queued",
                              "rules_caught_by_later_cases", "rules_share_caught", "positives_known_at_training",
                              "months_of_data_after", "note"]]
    data_end = last.end_time.normalize()
    out.attrs.update(model=model, baseline="rules", policy="capacity", capacity=s.capacity,
                     judged_by="cases opened later (the archive at the data's end), never truth/",
                     data_end=f"{data_end:%Y-%m-%d}", label_lookback_months=s.label_lookback_months,
                     note=_late_cases_note(out, data_end, s.label_lookback_months))
    return out


def _late_cases_note(bt: pd.DataFrame, data_end: pd.Timestamp, lookback: int) -> str:
    """Which replayed quarters' caught counts are lower bounds: those with less than ``lookback`` months of data
    after them, in which a case naming a queued person could still open."""
    short = bt[bt.months_of_data_after < lookback]
    if short.empty:
        return (f"Every replayed quarter has at least {lookback} months of data after it (to {data_end:%Y-%m-%d}): "
                f"every case that could count it as caught has had time to open.")
    names = ", ".join(str(pd.Period(p, "Q")) for p in short.period)
    lo, hi = int(short.months_of_data_after.min()), int(short.months_of_data_after.max())
    return (f"The caught counts of {names} are lower bounds: a queued quarter counts as caught when a case opened "
            f"within {lookback} months after it names the person, but the archive ends with the data's last "
            f"quarter ({data_end:%Y-%m-%d}), only {lo if lo == hi else f'{lo}–{hi}'} months after "
            f"{'that quarter' if len(short) == 1 else 'those quarters'} (months_of_data_after). Cases open months after "
            f"the misconduct, so some may not have opened yet, most of all for the last quarters.")
