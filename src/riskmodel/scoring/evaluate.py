"""Evaluation against the synthetic company's ground truth.

This is the only module that reads ``truth/``; features, graph and model code
never do (a test enforces it).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from riskmodel import config
from riskmodel.data.store import read_manifest
from riskmodel.errors import RiskModelError
from riskmodel.provenance import code_version

_LINKS = {"employee": "employee_id", "supplier": "supplier_id", "grower": "grower_id"}
#: bootstrap draws of every interval in the evaluation
BOOTSTRAP_DRAWS = 1000


def load_truth(dataset_dir: str | Path) -> dict[str, pd.DataFrame]:
    """Read ``DIR/truth/*.parquet`` (schemes, scheme_entities, lookalikes, lookalike_entities)."""
    d = Path(dataset_dir) / config.TRUTH_DIRNAME
    if not d.is_dir():
        raise RiskModelError(f"{dataset_dir} has no {config.TRUTH_DIRNAME}/ folder: evaluation needs a generated dataset's ground truth")
    return {p.stem: pd.read_parquet(p) for p in d.glob("*.parquet")}


def _touched(flags: pd.DataFrame) -> pd.DataFrame:
    """Every (entity_type, entity_id, indicator_id) a fired flag touches: its entity, its links, its evidence."""
    f = flags[flags.fired.astype(bool)]
    parts = [f[["entity_type", "entity_id", "indicator_id"]]]
    for etype, col in _LINKS.items():
        if col in f:
            g = f[f[col].notna()]
            parts.append(pd.DataFrame({"entity_type": etype, "entity_id": g[col], "indicator_id": g.indicator_id}))
    ev = f[["entity_type", "evidence", "indicator_id"]].explode("evidence").dropna(subset=["evidence"])
    ev = ev.rename(columns={"evidence": "entity_id"})
    # evidence ids are transactions of several kinds; each is matched against every event type (ids never collide
    # across tables in a real extract either, since truth keys carry their type)
    ev = pd.concat([ev.assign(entity_type=t) for t in ("purchase_order", "claim", "leaf_purchase", "tender")], ignore_index=True)
    parts.append(ev[["entity_type", "entity_id", "indicator_id"]])
    return pd.concat(parts, ignore_index=True).drop_duplicates()


def indicator_coverage(flags: pd.DataFrame, truth: dict[str, pd.DataFrame]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """How often planted schemes and their look-alikes light indicators.

    Returns
    -------
    schemes : DataFrame
        Per scheme type: entities, share of entities lit by any indicator, the indicators lit.
    lookalikes : DataFrame
        Per look-alike type: the scheme type it mimics, share of its entities lit by the indicators
        that lit that scheme type (``lit_share``), the same share for the scheme's entities of the same
        entity types (``scheme_share``) and their ratio.
    """
    touched = _touched(flags)
    se = truth["scheme_entities"].merge(truth["schemes"][["scheme_id", "scheme_type"]], on="scheme_id")
    hit = se.merge(touched, on=["entity_type", "entity_id"], how="left")
    rows = []
    lit_by_type = {}
    for st, g in hit.groupby("scheme_type"):
        ent = g.drop_duplicates(["entity_type", "entity_id"])
        lit = g.dropna(subset=["indicator_id"])
        lit_by_type[st] = set(lit.indicator_id)
        rows.append({"scheme_type": st, "schemes": g.scheme_id.nunique(), "entities": len(ent),
                     "lit_share": lit.drop_duplicates(["entity_type", "entity_id"]).shape[0] / max(len(ent), 1),
                     "schemes_lit": lit.scheme_id.nunique(), "indicators": ", ".join(sorted(lit_by_type[st]))})
    schemes = pd.DataFrame(rows)
    le = truth["lookalike_entities"].merge(truth["lookalikes"], on="lookalike_id")
    out = []
    for lt, g in le.groupby("lookalike_type"):
        mimics = g.mimics.iloc[0]
        relevant = set().union(*[v for k, v in lit_by_type.items() if k == mimics]) if mimics in lit_by_type else set()
        types = set(g.entity_type)
        t = touched[touched.indicator_id.isin(relevant)]
        ents = g.drop_duplicates(["entity_type", "entity_id"])
        la_share = ents.merge(t, on=["entity_type", "entity_id"]).drop_duplicates(["entity_type", "entity_id"]).shape[0] / max(len(ents), 1)
        s_ents = se[(se.scheme_type == mimics) & se.entity_type.isin(types)].drop_duplicates(["entity_type", "entity_id"])
        s_share = s_ents.merge(t, on=["entity_type", "entity_id"]).drop_duplicates(["entity_type", "entity_id"]).shape[0] / max(len(s_ents), 1)
        # the best single discriminator: the indicator lighting most of the scheme's entities while lighting
        # its look-alike's less than half as often
        best, best_s, best_la = None, 0.0, np.nan
        for iid, ti in t.groupby("indicator_id"):
            si = s_ents.merge(ti, on=["entity_type", "entity_id"]).drop_duplicates(["entity_type", "entity_id"]).shape[0] / max(len(s_ents), 1)
            li = ents.merge(ti, on=["entity_type", "entity_id"]).drop_duplicates(["entity_type", "entity_id"]).shape[0] / max(len(ents), 1)
            if si > best_s and li < 0.5 * si:
                best, best_s, best_la = iid, si, li
        out.append({"lookalike_type": lt, "mimics": mimics, "entities": len(ents), "lit_share": la_share,
                    "scheme_share": s_share, "ratio": la_share / s_share if s_share else np.nan,
                    "best_indicator": best, "best_scheme_share": best_s, "best_lookalike_share": best_la})
    return schemes, pd.DataFrame(out)


#: how long after a scheme ended a queued person counts as "after the scheme" rather than with no recent scheme: four
#: quarters, one leaf season (a season's evidence is complete only at its end, and the next season decides
#: whether a grader's scheme went on)
AFTER_SCHEME_QUARTERS = 4
#: the name of the reference learner fitted on the truth (:func:`supervised_ceiling`) in the evaluation's intervals
CEILING = "ceiling"


def employee_quarter_truth(truth: dict[str, pd.DataFrame], keys: pd.DataFrame, after_quarters: int = 0) -> np.ndarray:
    """1 where the employee takes part in a planted scheme active in that quarter (``after_quarters`` > 0: or
    in one that ended at most that many quarters before the quarter began).

    Examples
    --------
    >>> truth = {"schemes": pd.DataFrame({"scheme_id": ["S1"], "start_date": pd.to_datetime(["2024-02-01"]),
    ...                                   "end_date": pd.to_datetime(["2024-12-25"])}),
    ...          "scheme_entities": pd.DataFrame({"scheme_id": ["S1"], "entity_type": ["employee"], "entity_id": ["E1"]})}
    >>> keys = pd.DataFrame({"entity_id": ["E1"] * 4 + ["E2"], "period": pd.to_datetime(
    ...     ["2023-10-01", "2024-10-01", "2025-07-01", "2026-01-01", "2024-10-01"])})
    >>> employee_quarter_truth(truth, keys).tolist(), employee_quarter_truth(truth, keys, after_quarters=4).tolist()
    ([0, 1, 0, 0, 0], [0, 1, 1, 0, 0])
    """
    se = truth["scheme_entities"].query("entity_type == 'employee'").merge(truth["schemes"], on="scheme_id")
    k = keys[["entity_id", "period"]].copy()
    k["_i"] = np.arange(len(k))
    k["q_end"] = pd.to_datetime(k.period) + pd.offsets.QuarterEnd(0)
    m = k.merge(se, left_on="entity_id", right_on="entity_id")
    until = m.end_date + pd.DateOffset(months=3 * after_quarters) if after_quarters else m.end_date
    hit = m[(m.start_date <= m.q_end) & (until >= pd.to_datetime(m.period))]._i.unique()
    y = np.zeros(len(k), dtype=int)
    y[hit] = 1
    return y


def _bootstrap(values: np.ndarray, stat, n: int = BOOTSTRAP_DRAWS, seed: int = 0) -> tuple[float, float]:
    if len(values) == 0:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    draws = [stat(values[rng.integers(0, len(values), len(values))]) for _ in range(n)]
    return float(np.percentile(draws, 2.5)), float(np.percentile(draws, 97.5))


def person_bootstrap(y: np.ndarray, queues: dict[str, np.ndarray], people: np.ndarray, reference: str,
                     n: int = BOOTSTRAP_DRAWS, seed: int = 0) -> tuple[dict[str, tuple[float, float]], dict[str, tuple[float, float]]]:
    """95 % intervals of each queue's precision and of ``reference``'s precision ratio to every other queue,
    resampling people, not rows.

    A person in an ongoing scheme is queued quarter after quarter, so a queue's rows are not independent: 84
    employee-quarters may be 40 people.  Each draw resamples the test population's people with replacement (a
    person drawn twice counts twice, one not drawn not at all) and recomputes every queue's precision on the same
    draw, so the ratios' intervals are paired.

    Parameters
    ----------
    y : array of 0/1
        Truth per test row.
    queues : dict of name -> bool array
        Each model's queue over the test rows.
    people : array
        The person of each test row.
    reference : str
        The queue whose precision is divided by the others'.

    Returns
    -------
    precision_ci, ratio_ci : dict
        ``{name: (lo, hi)}``; the ratios for every name but ``reference``.

    Examples
    --------
    >>> y = np.array([1, 1, 0, 0, 1, 0])
    >>> q = {"a": np.array([1, 1, 0, 0, 0, 0], bool), "b": np.array([0, 1, 1, 0, 0, 0], bool)}
    >>> pc, rc = person_bootstrap(y, q, np.array(["P1", "P1", "P2", "P3", "P4", "P5"]), "a", n=200)
    >>> pc["a"]  # the queue of a holds one person, P1, who is in a scheme
    (1.0, 1.0)
    """
    ids, inv = np.unique(np.asarray(people).astype(str), return_inverse=True)
    y = np.asarray(y, float)
    rng = np.random.default_rng(seed)
    draws = {name: [] for name in queues}
    for _ in range(n if len(ids) else 0):
        w = np.bincount(rng.integers(0, len(ids), len(ids)), minlength=len(ids))[inv]
        for name, q in queues.items():
            wq = w[q]
            draws[name].append(float((wq * y[q]).sum() / wq.sum()) if wq.sum() else np.nan)
    prec = {name: _percentiles(np.asarray(d)[~np.isnan(d)].tolist()) for name, d in draws.items()}
    ratio = {}
    for name, d in draws.items():
        if name != reference:
            with np.errstate(divide="ignore", invalid="ignore"):  # a draw where the other queue caught nobody
                r = np.asarray(draws[reference]) / np.asarray(d)
            ratio[name] = _percentiles(r[np.isfinite(r)].tolist())
    return prec, ratio


#: upper quantiles of the predicted probability that bound the reliability bins: positives are rare (1–2 % of
#: employee-quarters), so equal-count deciles would put nearly all of them in the top bin
RELIABILITY_QUANTILES = (0.0, 0.5, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995, 1.0)


def reliability(prob: np.ndarray, y: np.ndarray, quantiles=RELIABILITY_QUANTILES) -> pd.DataFrame:
    """Predicted probability against the observed rate, in bins bounded by quantiles of the prediction.

    Returns one row per non-empty bin: ``predicted`` (mean), ``observed`` (rate), ``n``.

    Examples
    --------
    >>> r = reliability(np.array([0.1, 0.1, 0.9, 0.9]), np.array([0, 0, 1, 1]), quantiles=(0, 0.5, 1))
    >>> r[["predicted", "observed", "n"]].values.tolist()
    [[0.1, 0.0, 2.0], [0.9, 1.0, 2.0]]
    """
    prob = np.asarray(prob, float)
    order = pd.Series(prob).rank(method="first", pct=True).to_numpy()
    bins = np.clip(np.searchsorted(np.asarray(quantiles[1:-1]), order, side="left"), 0, len(quantiles) - 2)
    df = pd.DataFrame({"prob": prob, "y": np.asarray(y, float), "bin": bins})
    return df.groupby("bin").agg(predicted=("prob", "mean"), observed=("y", "mean"), n=("y", "size")).reset_index()


def calibration_report(test: pd.DataFrame, y: np.ndarray, model: str, seed: int = 0, calibrated: bool = True) -> dict:
    """Brier score of the chosen model's raw probability (the sigmoid of its margin) and of the calibrated one.

    ``test`` is the test part of ``scores.parquet``; without a ``probability`` column (a run made before
    calibration existed) only the raw figures are given.  ``calibrated`` (from the run's model card) is recorded as
    such: False when no calibrator was fitted, so the "calibrated" figures are the scorer's own probability's.
    Bootstrap 95 % intervals over test rows.
    """
    from riskmodel.scoring.calibration import brier

    raw = 1 / (1 + np.exp(-np.clip(test[f"score_{model}"].to_numpy(float), -30, 30)))
    out = {"base_rate": float(np.mean(y)), "brier_constant_base_rate": brier(np.full(len(y), np.mean(y)), y),
           "brier_raw": brier(raw, y), "mean_predicted_raw": float(raw.mean())}
    rng = np.random.default_rng(seed)
    draws = [rng.integers(0, len(y), len(y)) for _ in range(500)] if len(y) else []
    out["brier_raw_ci95"] = _percentiles([brier(raw[d], y[d]) for d in draws])
    out["calibrated"] = bool(calibrated)
    if "probability" in test and test.probability.notna().any():
        cal = test.probability.to_numpy(float)
        out.update({"brier_calibrated": brier(cal, y), "mean_predicted_calibrated": float(cal.mean()),
                    "brier_calibrated_ci95": _percentiles([brier(cal[d], y[d]) for d in draws]),
                    "brier_difference_ci95": _percentiles([brier(cal[d], y[d]) - brier(raw[d], y[d]) for d in draws])})
    return out


def calibration_lines(model: str, cal: dict) -> list[str]:
    """The Brier scores of :func:`calibration_report` as text lines for the ``evaluate`` command.

    Examples
    --------
    >>> cal = {"base_rate": 0.0158, "brier_constant_base_rate": 0.0156, "brier_raw": 0.0073,
    ...        "brier_raw_ci95": (0.0061, 0.0086), "brier_calibrated": 0.0071, "brier_calibrated_ci95": (0.006, 0.0083),
    ...        "brier_difference_ci95": (-0.0006, 0.0002)}
    >>> print("\\n".join(calibration_lines("xgboost", cal)))
    Brier score of xgboost on the test quarters (lower is better; 95 % bootstrap intervals):
      raw (sigmoid of the margin)  0.0073 [0.0061, 0.0086]
      calibrated                   0.0071 [0.0060, 0.0083]  calibrated - raw [-0.0006, +0.0002]
      constant base rate 0.0158    0.0156
    """
    lo, hi = cal["brier_raw_ci95"]
    out = [f"Brier score of {model} on the test quarters (lower is better; 95 % bootstrap intervals):",
           f"  raw (sigmoid of the margin)  {cal['brier_raw']:.4f} [{lo:.4f}, {hi:.4f}]"]
    if "brier_calibrated" in cal:
        lo, hi = cal["brier_calibrated_ci95"]
        dlo, dhi = cal["brier_difference_ci95"]
        out.append(f"  calibrated                   {cal['brier_calibrated']:.4f} [{lo:.4f}, {hi:.4f}]  "
                   f"calibrated - raw [{dlo:+.4f}, {dhi:+.4f}]"
                   + ("" if cal.get("calibrated", True) else "  (no calibrator fitted: the scorer's own probability)"))
    else:
        out.append("  calibrated                   none (the run has no calibrated probability)")
    out.append(f"  constant base rate {cal['base_rate']:.4f}    {cal['brier_constant_base_rate']:.4f}")
    return out


def _percentiles(draws: list[float]) -> tuple[float, float]:
    return (float(np.percentile(draws, 2.5)), float(np.percentile(draws, 97.5))) if len(draws) else (float("nan"), float("nan"))


def _run_truth(run_dir: Path, card: dict, dataset_dir: str | Path) -> tuple[dict[str, pd.DataFrame], str | None]:
    """The ground truth of ``dataset_dir`` and its fingerprint, refused where the dataset is not the run's: another
    company's truth would judge the run's people by schemes they were never in."""
    from riskmodel.data.store import folder_fingerprint

    # the tables as they are now (a manifest may describe files since changed), as the run fingerprinted them
    truth_fp = folder_fingerprint(dataset_dir) or (read_manifest(dataset_dir) or {}).get("fingerprint")
    if card.get("data_fingerprint") and truth_fp and truth_fp != card["data_fingerprint"]:
        raise RiskModelError(f"{dataset_dir} (data fingerprint {truth_fp}) is not the data the run {run_dir} was made "
                             f"from (fingerprint {card['data_fingerprint']}, {card.get('data_source')}): its truth does "
                             f"not describe the run's people; pass --data with the run's dataset")
    return load_truth(dataset_dir), truth_fp


def evaluate_run(run_dir: str | Path, dataset_dir: str | Path, capacity: float | None = None, seed: int = 0) -> dict:
    """Precision at review capacity and scheme recall on the test quarters, for the model and every baseline.

    Reads the run's ``scores.parquet`` and the dataset's ground truth; writes nothing.  Precision is the share of
    queued employee-quarters whose employee takes part in a planted scheme active that quarter; the rest of the
    queue splits into ``queued_after_scheme`` (the employee's scheme ended in the :data:`AFTER_SCHEME_QUARTERS`
    quarters before: a late catch, a false positive all the same) and ``queued_no_recent_scheme`` (no scheme of
    theirs active then or ended in those quarters: mostly people never in a scheme, whom a review troubles for
    nothing); scheme recall is the share of planted schemes active in the test period (and involving an employee)
    with at least one of their employees queued in a test quarter.  95 % confidence intervals by bootstrap: of
    precision and of the precision ratios by resampling people (:func:`person_bootstrap`), of recall by resampling
    schemes.  ``evaluated_with`` records the code version, the fingerprints of the run's data and of the dataset
    whose truth was read, and the bootstrap's seed and draws; a dataset whose fingerprint differs from the run's is
    refused (its truth would not describe the run's people).

    The run's current queue decides what "the model" is: ``model`` is the model of the people queue in
    ``alerts.parquet`` (the model card's ``queue``; after ``riskmodel score --model M``, M), the one whose
    precision ratios to the others are given; ``trained_model`` is the one the run trained, whose probability
    ``calibration`` judges (named there as ``model``).  ``queue`` judges the queue as it stands, whatever its
    policy: its people alerts (precision with its interval, the rest split as above, scheme recall), its policy
    and source, and ``events_chosen_beside``, the people queue its event alerts were chosen beside (an event of a
    person queued there that quarter took no slot: the current one, unless ``riskmodel score`` could not choose them
    again and kept the earlier queue's).  ``scheme_recall_all_alerts`` counts every alert in ``alerts.parquet``,
    that is the current people queue and those event alerts.  ``supervised_ceiling`` is XGBoost fitted on the truth of the training
    quarters (:func:`supervised_ceiling`): what perfect labels would give these features, with its precision ratio
    to every model (``None`` for a run folder without its feature matrix).
    """
    import json

    from sklearn.metrics import average_precision_score

    from riskmodel.scoring.thresholds import by_capacity

    run_dir = Path(run_dir)
    card = json.loads((run_dir / "model_card.json").read_text(encoding="utf-8"))
    capacity = capacity if capacity is not None else card["capacity"]
    scores = pd.read_parquet(run_dir / "scores.parquet")
    test = scores[scores.split == "test"].reset_index(drop=True)
    truth, truth_fp = _run_truth(run_dir, card, dataset_dir)
    trained = card["model"]
    qcard = card.get("queue") or {}
    best = qcard.get("model") or trained  # the model of the queue reviewers have now
    if f"score_{best}" not in scores:
        raise RiskModelError(f"{run_dir / 'model_card.json'} says the queue comes from {best!r}, but "
                             f"{run_dir / 'scores.parquet'} has no score_{best} column: the run folder's files do not "
                             f"belong together; run 'riskmodel run --out {run_dir}' again")
    y = employee_quarter_truth(truth, test)
    # the queue's other rows: people whose scheme ended in the year before the quarter (caught late), and the rest
    y_after = employee_quarter_truth(truth, test, AFTER_SCHEME_QUARTERS) - y
    se = truth["scheme_entities"].merge(truth["schemes"], on="scheme_id")
    lo, hi = test.period.min(), test.period.max() + pd.offsets.QuarterEnd(0)
    active = se[(se.entity_type == "employee") & (se.start_date <= hi) & (se.end_date >= lo)]
    models, caught_by, queues = {}, {}, {}
    for col in [c for c in scores.columns if c.startswith("score_")]:
        name = col.removeprefix("score_")
        cut = by_capacity(test[col].to_numpy(), test.period.to_numpy(), capacity, max_share=1.0)
        q = queues[name] = cut.labels
        queued = test[q]
        per_q = pd.Series(y[q]).groupby(queued.period.to_numpy()).mean()
        caught = active[active.entity_id.isin(queued.entity_id)].scheme_id.unique()
        caught_by[name] = set(caught)
        ids = active.scheme_id.unique()
        hit = np.isin(ids, caught).astype(float)
        models[name] = {
            **_composition(y, y_after, q, test.entity_id),
            "precision_by_quarter": {str(pd.Timestamp(k).date()): float(v) for k, v in per_q.items()},
            "scheme_recall": float(hit.mean()) if len(hit) else float("nan"),
            "scheme_recall_ci95": _bootstrap(hit, np.mean, seed=seed), "schemes_active": int(len(ids)),
            "schemes_caught": int(len(caught)), "average_precision": float(average_precision_score(y, test[col])) if y.any() else float("nan"),
        }
    ratio = {b: _ratio(models[best], models[b]) for b in models if b != best}
    prec_ci, ratio_ci = person_bootstrap(y, queues, test.entity_id.to_numpy(), best, BOOTSTRAP_DRAWS, seed)
    for name, ci in prec_ci.items():
        models[name]["precision_ci95"] = ci
    ceiling, ceiling_q = supervised_ceiling(run_dir, card, test, y, y_after, truth, capacity)
    if ceiling is not None:
        # the ceiling against every queue, on the same people drawn: how far each model is from it
        c_ci, c_ratio_ci = person_bootstrap(y, {**queues, CEILING: ceiling_q}, test.entity_id.to_numpy(), CEILING,
                                            BOOTSTRAP_DRAWS, seed)
        ceiling["precision_ci95"] = c_ci[CEILING]
        ceiling["precision_ratio_vs_models"] = {n: _ratio(ceiling, m) for n, m in models.items()}
        ceiling["precision_ratio_ci95"] = c_ratio_ci
    # every alert of the run (people and events) against every planted scheme active in the test period
    alerts = pd.read_parquet(run_dir / "alerts.parquet")
    if missing := [c for c in ("entity_type", "entity_id", "period") if c not in alerts]:
        raise RiskModelError(f"{run_dir / 'alerts.parquet'} has no {', '.join(missing)} column: it is not a review queue "
                             f"that riskmodel wrote; run 'riskmodel run --out {run_dir}' again")
    queue = _queue_report(test, y, y_after, alerts, active, qcard, card, seed)
    alerts = alerts[["entity_type", "entity_id"]]
    active_all = se[(se.start_date <= hi) & (se.end_date >= lo)]
    hit_all = active_all.merge(alerts.drop_duplicates(), on=["entity_type", "entity_id"])
    all_ids = active_all.scheme_id.unique()
    caught_all = np.isin(all_ids, hit_all.scheme_id.unique()).astype(float)
    by_type_all = {st: float(np.isin(g.scheme_id.unique(), hit_all.scheme_id.unique()).mean()) for st, g in active_all.groupby("scheme_type")}
    by_type = {st: float(np.isin(g.scheme_id.unique(), list(caught_by[best])).mean()) for st, g in active.groupby("scheme_type")}
    return {"model": best, "trained_model": trained, "capacity": capacity, "test_periods": card["test_periods"],
            "positives_in_test": int(y.sum()), "rows_in_test": int(len(y)), "queue": queue, "models": models,
            "supervised_ceiling": ceiling,
            "precision_ratio_vs_baselines": ratio,
            "precision_ratio_ci95": ratio_ci,
            "scheme_recall_by_type": by_type,
            "scheme_recall_all_alerts": float(caught_all.mean()) if len(all_ids) else float("nan"),
            "schemes_caught_all_alerts": int(caught_all.sum()), "schemes_active_all_alerts": int(len(all_ids)),
            "scheme_recall_all_alerts_ci95": _bootstrap(caught_all, np.mean, seed=seed),
            "scheme_recall_all_alerts_by_type": by_type_all, "alerts_by_type": alerts.entity_type.value_counts().to_dict(),
            "calibration": {"model": trained, **calibration_report(test, y, trained, seed, _fitted(card))},
            "data_source": str(Path(dataset_dir).resolve()),
            "run": str(run_dir),
            "evaluated_with": {"code_version": code_version(), "run_data_fingerprint": card.get("data_fingerprint"),
                               "truth_data_fingerprint": truth_fp, "model_seed": card.get("seed"),
                               "bootstrap_seed": seed, "bootstrap_draws": BOOTSTRAP_DRAWS}}


def supervised_ceiling(run_dir: Path, card: dict, test: pd.DataFrame, y: np.ndarray, y_after: np.ndarray,
                       truth: dict[str, pd.DataFrame], capacity: float) -> tuple[dict, np.ndarray] | tuple[None, None]:
    """What the features could give with perfect labels: XGBoost fitted on the ground truth of the training quarters.

    The run's model learns from the case archive and reviewers' decisions (positive–unlabelled: most misconduct
    is not, or not yet, a case).  This reference learner has the run's feature matrix, the run's XGBoost settings
    (the defaults when the run trained another model) and the same training quarters, but every training row
    labelled by the truth (:func:`employee_quarter_truth`), no PU weighting.  It is a diagnostic that only
    evaluation can make, never a model: the gap between the model's precision and this one's is what better
    labels (more cases, reviewers' decisions) could add; the ceiling's own false positives are what the features
    cannot tell apart, whatever the labels.

    Returns the ceiling's figures (as each model's in :func:`evaluate_run`) and its queue over ``test``'s rows, or
    ``(None, None)`` for a run folder without ``features_people.parquet``.
    """
    from riskmodel.scoring.models import make_model
    from riskmodel.scoring.thresholds import by_capacity

    path = run_dir / "features_people.parquet"
    if not path.exists():
        return None, None
    X = pd.read_parquet(path)
    missing = [c for c in card["features"] if c not in X]
    if missing:
        raise RiskModelError(f"{path} lacks {len(missing)} of the model card's feature column(s) (e.g. {missing[:3]}): "
                             f"the run folder's files do not belong together; run 'riskmodel run --out {run_dir}' again")
    X["period"] = pd.to_datetime(X.period)
    train_p = set(pd.to_datetime(card["train_periods"]))
    train = X[X.period.isin(train_p)]
    keys = test[["entity_id", "period"]].assign(period=pd.to_datetime(test.period))
    Xt = keys.merge(X, on=["entity_id", "period"], how="left", validate="one_to_one")
    if Xt[card["features"]].isna().all(axis=1).any():
        raise RiskModelError(f"{path} has no features for some of {run_dir / 'scores.parquet'}'s test rows: the run "
                             f"folder's files do not belong together; run 'riskmodel run --out {run_dir}' again")
    params = dict(card.get("estimator_params") or {}) if card["model"] == "xgboost" else {}
    params = {k: v for k, v in params.items() if k not in ("pu", "random_state")}
    seed = int(card.get("seed") or 0)
    model = make_model("xgboost", random_state=seed, **params, pu="none")
    y_train = employee_quarter_truth(truth, train)
    model.fit(train[card["features"]], y_train)
    q = by_capacity(model.decision_function(Xt[card["features"]]), Xt.period.to_numpy(), capacity, max_share=1.0).labels
    return {**_composition(y, y_after, q, test.entity_id), "training_rows": int(len(train)), "training_positives": int(y_train.sum()),
            "estimator": repr(model), "seed": seed}, q


def _composition(y: np.ndarray, y_after: np.ndarray, q: np.ndarray, people: pd.Series) -> dict:
    """A queue over the test rows (``q``) judged against the truth: its precision, size, people, and the shares of
    its other rows after a scheme and with no recent scheme (NaN for an empty queue)."""
    share = (lambda v: float(v[q].mean())) if q.any() else (lambda v: float("nan"))  # noqa: E731
    return {"precision_at_capacity": share(y), "queued": int(q.sum()), "queued_people": int(people[q].nunique()),
            "queued_after_scheme": share(y_after), "queued_no_recent_scheme": share(1 - y - y_after)}


def _ratio(a: dict, b: dict) -> float:
    """``a``'s precision at capacity over ``b``'s (infinite where ``b`` caught nobody)."""
    return a["precision_at_capacity"] / b["precision_at_capacity"] if b["precision_at_capacity"] else float("inf")


def _queue_report(test: pd.DataFrame, y: np.ndarray, y_after: np.ndarray, alerts: pd.DataFrame, active: pd.DataFrame,
                  qcard: dict, card: dict, seed: int) -> dict:
    """The people queue in ``alerts.parquet`` as it stands, judged like each model's queue at capacity."""
    people = alerts[(alerts.entity_type == "employee").to_numpy()]
    keys = pd.MultiIndex.from_arrays([people.entity_id.astype(str), pd.to_datetime(people.period)])
    q = pd.MultiIndex.from_arrays([test.entity_id.astype(str), pd.to_datetime(test.period)]).isin(keys)
    ids = active.scheme_id.unique()
    caught = active[active.entity_id.isin(test.entity_id[q])].scheme_id.unique()
    ci, _ = person_bootstrap(y, {"queue": q}, test.entity_id.to_numpy(), "queue", BOOTSTRAP_DRAWS, seed)
    comp = _composition(y, y_after, q, test.entity_id)
    policy = qcard.get("policy") or card.get("policy") or {}
    beside = qcard.get("events_chosen_beside") or {"model": card["model"], "policy": (card.get("policy") or {}).get("policy"),
                                                   "source": "riskmodel run"}
    return {"model": qcard.get("model") or card["model"], "policy": policy.get("policy"), "source": qcard.get("source"),
            "people_alerts": int(len(people)), "people_alerts_in_test": int(q.sum()),
            "queued_people": comp["queued_people"], "precision": comp["precision_at_capacity"], "precision_ci95": ci["queue"],
            "queued_after_scheme": comp["queued_after_scheme"], "queued_no_recent_scheme": comp["queued_no_recent_scheme"],
            "scheme_recall": float(np.isin(ids, caught).mean()) if len(ids) else float("nan"),
            "schemes_caught": int(len(caught)), "schemes_active": int(len(ids)),
            "event_alerts": int(len(alerts) - len(people)), "events_chosen_beside": beside}


def _fitted(card: dict) -> bool:
    """Whether the run's probabilities went through a fitted calibrator (runs before the card said so: assume yes)."""
    return bool(card.get("calibration", {}).get("fitted", True))


def curves(run_dir: str | Path, dataset_dir: str | Path) -> dict[str, pd.DataFrame]:
    """Curves for the model evaluation report, on the test quarters against the ground truth.

    Returns ``pr`` (precision–recall points per model), ``calibration`` (the trained model's predicted
    probability vs observed rate in bins of :data:`RELIABILITY_QUANTILES`, ``kind`` raw — the sigmoid of the
    margin — and calibrated), ``capacity`` (precision and recall of positives as the review
    capacity grows, per model) and ``stability`` (the precision at the configured capacity, per department and per
    quarter, of the model of the run's current queue: the card's ``queue``, as in :func:`evaluate_run`).  A dataset
    whose fingerprint is not the run's is refused, as there.
    """
    import json

    from sklearn.metrics import precision_recall_curve

    from riskmodel.scoring.thresholds import by_capacity

    run_dir = Path(run_dir)
    card = json.loads((run_dir / "model_card.json").read_text(encoding="utf-8"))
    scores = pd.read_parquet(run_dir / "scores.parquet")
    test = scores[scores.split == "test"].reset_index(drop=True)
    y = employee_quarter_truth(_run_truth(run_dir, card, dataset_dir)[0], test)
    cols = [c for c in test.columns if c.startswith("score_")]
    pr = []
    for c in cols:
        p, r, _ = precision_recall_curve(y, test[c])
        pr.append(pd.DataFrame({"model": c.removeprefix("score_"), "precision": p, "recall": r}))
    trained = f"score_{card['model']}"
    best = f"score_{(card.get('queue') or {}).get('model') or card['model']}"
    best = best if best in test else trained
    prob = 1 / (1 + np.exp(-np.clip(test[trained].to_numpy(), -30, 30)))
    cal = [reliability(prob, y).assign(kind="raw")]
    if "probability" in test and test.probability.notna().any():
        cal.append(reliability(test.probability.to_numpy(float), y).assign(kind="calibrated"))
    cal = pd.concat(cal, ignore_index=True)
    cap_rows = []
    for share in (0.0025, 0.005, 0.01, 0.02, 0.03, 0.05):
        for c in cols:
            lab = by_capacity(test[c].to_numpy(), test.period.to_numpy(), share, max_share=1.0).labels
            cap_rows.append({"model": c.removeprefix("score_"), "capacity": share, "precision": y[lab].mean() if lab.any() else np.nan,
                             "recall": y[lab].sum() / max(y.sum(), 1), "queued": int(lab.sum())})
    lab = by_capacity(test[best].to_numpy(), test.period.to_numpy(), card["capacity"], max_share=1.0).labels
    t = test.assign(y=y, queued=lab)
    stab = pd.concat([
        t[t.queued].groupby("department_id").y.agg(["mean", "size"]).assign(by="department"),
        t[t.queued].groupby(t.period.astype(str)).y.agg(["mean", "size"]).assign(by="quarter"),
    ]).rename(columns={"mean": "precision", "size": "queued"})
    return {"pr": pd.concat(pr, ignore_index=True), "calibration": cal, "capacity": pd.DataFrame(cap_rows),
            "stability": stab.reset_index(names="group")}
