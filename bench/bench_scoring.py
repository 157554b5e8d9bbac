"""Benchmark: training time of every scorer, and explanation time of our reason codes against native TreeSHAP.

Training: on a run's employee-quarter features and the labels it trained with (``features_people.parquet``,
``scores.parquet``), each scorer is fitted on the training quarters — XGBoost with positive–unlabelled weighting
(its first-stage folds included), rules, IsolationForest, the logistic scorecard — and the probability calibration
(an XGBoost fitted on the quarters before the calibration slice, scoring it out of time, and the calibrator); the same-run baseline is a plain ``XGBClassifier`` with the same parameters fitted once on
the same rows (no PU first stage, no monotone constraints).

Explanations, on the same rows in the same run (the run's review queue, then ``--rows`` test rows):

* ours: :meth:`XGBScorer.contributions` (exact TreeSHAP) and :func:`~riskmodel.scoring.explain.reason_codes`
  (Chinese and English texts with the evidence), timed apart;
* native: ``booster.predict(DMatrix, pred_contribs=True)``;
* ``shap.TreeExplainer(booster).shap_values`` (what ``shap`` does for a booster).

The contributions of the three must agree (max |difference| is printed) and add up to the margin.  Each step is
timed ``--repeat`` times, alternating, and the fastest kept (the machine may be shared).  Prints the figures and
writes a JSON record to ``bench/results/``.

Usage: python bench/bench_scoring.py [--run data/processed/demo_run] [--rows 2000] [--repeat 3]
(without a run, one is made from a generated ``small`` company in a temporary folder).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from riskmodel import config
from riskmodel.provenance import code_version
from riskmodel.scoring.explain import reason_codes
from riskmodel.scoring.features import KEY
from riskmodel.scoring.pipeline import calibrate, calibration_split, load_model
from riskmodel.scoring.models import MODELS, make_model

from _measure import Peak  # noqa: E402  (bench/ is on sys.path when run as a script)


def timed(fn, repeat: int):
    """``(result, fastest seconds, peak MB above the start)`` over ``repeat`` runs."""
    best, mb, out = float("inf"), 0.0, None
    for _ in range(repeat):
        with Peak(relative=True) as p:
            out = fn()
        best, mb = min(best, p.seconds), max(mb, p.mb)
    return out, best, mb


def ensure_run(arg: str | None, tmp: Path) -> Path:
    run = Path(arg) if arg else config.PROCESSED_DATA_DIR / "demo_run"
    if (run / "features_people.parquet").is_file():
        return run
    if arg:
        raise SystemExit(f"{run} is not a run folder (no features_people.parquet): run 'riskmodel run' first")
    from riskmodel.data.synthetic import generate_company
    from riskmodel.scoring.pipeline import run_pipeline

    print(f"no run at {run}: generating a small company and running the pipeline in {tmp}")
    generate_company("small", seed=0, out=tmp / "company", progress=False)
    run_pipeline(tmp / "company", tmp / "run", progress=False)
    return tmp / "run"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run", default=None, help="a run folder (default data/processed/demo_run)")
    ap.add_argument("--rows", type=int, default=2000, help="test rows explained besides the queue")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        run = ensure_run(args.run, Path(tmp))
        bench(run, args)


def bench(run: Path, args) -> None:
    import shap
    import xgboost as xgb

    bundle = load_model(run)
    cols = bundle["features"]
    X = pd.read_parquet(run / "features_people.parquet")
    sc = pd.read_parquet(run / "scores.parquet")
    flags = pd.read_parquet(run / "flags.parquet")
    y = sc.label_known.to_numpy()
    train = (sc.split == "train").to_numpy()
    cal_card = bundle["card"].get("calibration", {})
    early_rows, cal_rows = calibration_split(sc.period, train, cal_card.get("quarters", 0))
    Xf, yf = X.loc[train, cols], y[train]
    print(f"run {run}: {len(X):,} employee-quarters, {len(cols)} features; fitting on {int(train.sum()):,} rows "
          f"({int((yf == 1).sum())} known positives); calibration slice {int(cal_rows.sum()):,} rows")

    # -- training ------------------------------------------------------------------------------------------------
    training = []
    fitted = {}
    for name in MODELS:
        m, s, mb = timed(lambda n=name: make_model(n, random_state=args.seed).fit(Xf, yf), args.repeat)
        fitted[name] = m
        training.append({"step": f"fit {name}", "seconds": round(s, 3), "peak_mb": round(mb)})
    ours = fitted["xgboost"]
    plain = ours._xgb()
    plain.set_params(monotone_constraints=None)
    _, s, mb = timed(lambda: plain.fit(Xf, (yf == 1).astype(int)), args.repeat)
    training.append({"step": "baseline: plain XGBClassifier fit (no PU, no constraints)", "seconds": round(s, 3), "peak_mb": round(mb)})
    if cal_rows.any():
        method = cal_card.get("method", "sigmoid")
        _, s, mb = timed(lambda: calibrate("xgboost", X[cols], y, early_rows, cal_rows, method, args.seed), args.repeat)
        training.append({"step": f"calibration ({method}: out-of-time XGBoost + calibrator)", "seconds": round(s, 3), "peak_mb": round(mb)})
    for r in training:
        print(f"  {r['step']:58s} {r['seconds']:8.3f} s  peak +{r['peak_mb']} MB")
    ratio_train = next(r["seconds"] for r in training if r["step"] == "fit xgboost") / max(training[len(MODELS)]["seconds"], 1e-9)
    print(f"  XGBoost with PU weighting / plain fit: {ratio_train:.1f}x")

    # -- explanations --------------------------------------------------------------------------------------------
    alerts = pd.read_parquet(run / "alerts.parquet")
    alerts = alerts[alerts.entity_type == "employee"]
    idx = X.reset_index().set_index(KEY)["index"]
    queue_rows = idx.reindex(pd.MultiIndex.from_frame(alerts[KEY].assign(period=pd.to_datetime(alerts.period)))).dropna().astype(int).to_numpy()
    test_idx = np.flatnonzero(~train)
    rng = np.random.default_rng(args.seed)
    sample = rng.choice(test_idx, min(args.rows, len(test_idx)), replace=False)
    booster = ours.model_.get_booster()
    explainer = shap.TreeExplainer(booster)
    explaining = []
    for label, rows in (("queue", queue_rows), (f"{len(sample)} test rows", sample)):
        Xq = X.loc[rows, cols].reset_index(drop=True)
        keys = X.loc[rows, KEY].reset_index(drop=True)
        n = len(Xq)
        contrib, s_contrib, _ = timed(lambda: ours.contributions(Xq), args.repeat)
        _, s_text, _ = timed(lambda: reason_codes(contrib, Xq, keys, flags, bundle["card"]["settings"]["scoring"]["top_reasons"]), args.repeat)
        native, s_native, _ = timed(lambda: booster.predict(xgb.DMatrix(Xq), pred_contribs=True), args.repeat)
        sv, s_shap, _ = timed(lambda: explainer.shap_values(Xq), args.repeat)
        margin = ours.decision_function(Xq)
        diff_native = float(np.abs(contrib.to_numpy() - native).max())
        diff_shap = float(np.abs(contrib.drop(columns="bias").to_numpy() - np.asarray(sv)).max())
        add_up = float(np.abs(contrib.sum(axis=1).to_numpy() - margin).max())
        rec = {"rows": label, "n": n, "ours_contributions_s": round(s_contrib, 4), "ours_reason_texts_s": round(s_text, 4),
               "ours_total_s": round(s_contrib + s_text, 4), "native_pred_contribs_s": round(s_native, 4),
               "shap_tree_explainer_s": round(s_shap, 4),
               "ours_rows_per_s": round(n / max(s_contrib + s_text, 1e-9)), "native_rows_per_s": round(n / max(s_native, 1e-9)),
               "shap_rows_per_s": round(n / max(s_shap, 1e-9)), "ratio_ours_to_native": round((s_contrib + s_text) / max(s_native, 1e-9), 2),
               "max_abs_diff_vs_native": diff_native, "max_abs_diff_vs_shap": diff_shap, "max_abs_sum_minus_margin": add_up}
        explaining.append(rec)
        print(f"  explain {label} ({n} rows): ours {rec['ours_total_s']:.3f} s (TreeSHAP {s_contrib:.3f} + texts {s_text:.3f}; "
              f"{rec['ours_rows_per_s']:,} rows/s) | native pred_contribs {s_native:.3f} s ({rec['native_rows_per_s']:,} rows/s) | "
              f"shap.TreeExplainer {s_shap:.3f} s ({rec['shap_rows_per_s']:,} rows/s); "
              f"max |ours - native| {diff_native:.1e}, |ours - shap| {diff_shap:.1e}, |sum - margin| {add_up:.1e}")

    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    rec = {"bench": "scoring", "run": str(run), "rows": int(len(X)), "features": len(cols), "trees": int(ours.n_estimators),
           "fit_rows": int(train.sum()), "training": training, "xgboost_pu_over_plain": round(ratio_train, 2),
           "explanations": explaining, "repeat": args.repeat, "seed": args.seed, "code_version": code_version(),
           "when": time.strftime("%Y-%m-%dT%H:%M:%S")}
    path = out / f"scoring-{time.strftime('%Y%m%dT%H%M%S')}.json"
    path.write_text(json.dumps(rec, indent=2, ensure_ascii=False, default=str))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
