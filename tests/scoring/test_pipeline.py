"""The whole path on the small company (with its ground truth removed), the queue, feedback and evaluation."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from riskmodel.cli import main
from riskmodel.data.schema import ENTITY_TYPES
from riskmodel.errors import RiskModelError
from riskmodel.scoring.events import SAME_GROUP
from riskmodel.scoring.feedback import read_decisions, record_decision
from riskmodel.scoring.pipeline import ALERT_COLUMNS, load_model, rescore
from riskmodel.settings import load_settings


def test_alerts_have_the_queue_columns_reasons_and_evidence(small_run):
    a = pd.read_parquet(small_run / "alerts.parquet")
    assert list(a.columns) == ALERT_COLUMNS
    assert len(a) > 0 and set(a.entity_type) <= set(ENTITY_TYPES)
    assert a.alert_id.is_unique
    for reasons in a.reasons:
        assert len(reasons) >= 1
        for r in reasons:
            assert r["text_zh"] and r["text_en"]
            # a model reason pushes the score up; a merged red flag is no model contribution (None) and names its
            # indicator, as do the other flags in one line and an event's note on the others of its group
            assert r["contribution"] > 0 if r["contribution"] is not None else (r["indicator_id"] or r["feature"] in ("other_flags", SAME_GROUP))
    assert (a.score >= a.cutoff).all(), "the cut-off is saved next to every alert"


def test_capacity_per_quarter_matches_the_setting(small_run):
    a = pd.read_parquet(small_run / "alerts.parquet")
    events = a[a.entity_type != "employee"]
    assert (events.groupby(["entity_type", "period"]).size() <= load_settings().scoring.event_capacity).all()
    a = a[a.entity_type == "employee"]
    sc = pd.read_parquet(small_run / "scores.parquet")
    cap = load_settings().scoring.capacity
    per_q = sc[sc.split == "test"].groupby("period").size()
    assert (a.groupby("period").size() == np.ceil(cap * per_q)).all()
    work = json.loads((small_run / "model_card.json").read_text())["review_workload"]
    assert work["people_per_quarter"] == pytest.approx(np.ceil(cap * per_q).mean()) and work["capacity"] == cap
    assert work["events_per_quarter"] <= 6 * load_settings().scoring.event_capacity


def test_model_artifact_records_provenance(small_run):
    bundle = load_model(small_run)
    card = bundle["card"]
    for key in ("features", "settings", "data_fingerprint", "code_version", "seed", "train_periods", "test_periods", "labels"):
        assert card[key] not in (None, "", [])
    assert max(card["train_periods"]) < min(card["test_periods"]), "temporal split"
    assert set(bundle["all_models"]) == {"xgboost", "rules", "iforest", "logistic"}


def test_rescore_with_a_baseline_and_policy(small_run, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(small_run, run)
    q = rescore(run, "rules", "capacity")
    assert set(q.model) == {"rules"} and len(q) > 0
    with pytest.raises(RiskModelError, match="no fitted"):
        rescore(run, "nonexistent", "capacity")


def test_decisions_are_recorded_and_become_labels(small_run, tmp_path):
    from riskmodel.scoring.labels import assemble_labels

    run = tmp_path / "run"
    shutil.copytree(small_run, run)
    a = pd.read_parquet(run / "alerts.parquet")
    record_decision(run, a.alert_id[0], "confirmed", "supervisor", "查实")
    record_decision(run, a.alert_id[1], "dismissed", "supervisor")
    d = read_decisions(run / "decisions.csv")
    assert d.decision.tolist() == ["confirmed", "dismissed"]
    X = a[["entity_id", "period"]]
    y = assemble_labels(X, pd.DataFrame(columns=["entity_id", "period", "label"]), d)
    assert y.tolist()[:2] == [1, 0]
    with pytest.raises(RiskModelError, match="decision must be"):
        record_decision(run, a.alert_id[0], "maybe", "supervisor")
    with pytest.raises(RiskModelError, match="no alert"):
        record_decision(run, "AL-nope", "confirmed", "supervisor")
    (run / "bad.csv").write_text("entity_id,period,decision\nE1,2025-01-01,perhaps\n", encoding="utf-8")
    with pytest.raises(RiskModelError, match="perhaps"):
        read_decisions(run / "bad.csv")


def test_evaluate_reads_truth_only_at_evaluation_time(small_run, small_company, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(small_run, run)
    res = CliRunner().invoke(main, ["evaluate", "--run", str(run), "--data", str(small_company), "--format", "json"])
    assert res.exit_code == 0, res.output
    r = json.loads(res.output)
    assert set(r["models"]) == {"xgboost", "rules", "iforest", "logistic"}
    for m in r["models"].values():
        assert 0 <= m["precision_at_capacity"] <= 1 and m["queued"] > 0
    assert (run / "evaluation.json").is_file()
    # the run itself could not have read the truth: it ran on a copy without it
    card = json.loads((run / "model_card.json").read_text())
    assert not (__import__("pathlib").Path(card["data_source"]) / "truth").exists()


def test_probabilities_are_calibrated_out_of_time_and_keep_the_margins_order(small_run):
    card = json.loads((small_run / "model_card.json").read_text())
    cal = card["calibration"]
    assert cal["method"] in ("sigmoid", "isotonic", "none") and "ranking" in cal
    assert cal["fitted"] or cal["note"], "an unfitted calibration says why"
    sc = pd.read_parquet(small_run / "scores.parquet")
    assert sc.probability.between(0, 1).all()
    assert not (sc.calibration & (sc.split == "test")).any(), "the test quarters are never used to calibrate"
    if sc.calibration.any():
        assert sc.period[sc.calibration].min() > max(pd.to_datetime(p) for p in card["train_periods"][:-cal["quarters"]])
    # a monotone map of the margin: ordering by probability never contradicts ordering by margin
    t = sc[sc.split == "test"].sort_values("score_xgboost")
    assert (np.diff(t.probability.to_numpy()) >= -1e-12).all()
    a = pd.read_parquet(small_run / "alerts.parquet")
    people = a[a.entity_type == "employee"]
    assert people.probability.between(0, 1).all()
    for _, g in people.groupby("period"):
        g = g.sort_values("rank")
        assert (np.diff(g.score.to_numpy()) <= 0).all() and (np.diff(g.probability.to_numpy()) <= 1e-12).all()


def test_queued_explanations_add_up_to_the_alert_score(small_run):
    bundle = load_model(small_run)
    X = pd.read_parquet(small_run / "features_people.parquet")
    a = pd.read_parquet(small_run / "alerts.parquet")
    a = a[a.entity_type == "employee"]
    rows = X.set_index(["entity_id", "period"]).loc[pd.MultiIndex.from_frame(a[["entity_id", "period"]]), bundle["features"]]
    contrib = bundle["model"].contributions(rows.reset_index(drop=True))
    assert np.allclose(contrib.sum(axis=1).to_numpy(), a.score.to_numpy(), atol=1e-4), "SHAP adds up to the margin"
    for reasons, c in zip(a.reasons, contrib.drop(columns="bias").to_dict("records")):
        for r in reasons:
            if r["contribution"] is not None:  # merged red flags are not model contributions
                assert r["contribution"] == pytest.approx(c[r["feature"]], abs=1e-5)


def test_event_alerts_are_ranked_by_severity_unless_told_otherwise(small_run):
    card = json.loads((small_run / "model_card.json").read_text())
    assert set(card["event_models"].values()) <= {"rules"}
    a = pd.read_parquet(small_run / "alerts.parquet")
    ev = a[a.entity_type != "employee"]
    assert ev.probability.isna().all(), "event scores are not probabilities"
    for r in ev.itertuples():
        assert len(r.reasons) > 0 and r.score >= sum(x["contribution"] or 0 for x in r.reasons) - 1e-9 >= 0


def test_backtest_replays_each_quarter_with_what_was_known_then(small_company, tmp_path):
    from riskmodel.scoring.pipeline import backtest

    blind = tmp_path / "company"
    shutil.copytree(small_company, blind, ignore=shutil.ignore_patterns("truth"))  # judged by later cases, never by truth
    bt = backtest(blind, quarters=2, model="rules", progress=False)
    assert len(bt) == 2 and bt.period.is_monotonic_increasing and (bt.note == "").all()
    assert (bt.queued > 0).all() and (bt.caught_by_later_cases <= bt.queued).all()
    assert np.allclose(bt.share_caught, bt.caught_by_later_cases / bt.queued)
    # labels grow with time: a later quarter trains on at least the positives known before the earlier one
    assert bt.positives_known_at_training.is_monotonic_increasing
    with pytest.raises(RiskModelError, match="cannot replay"):
        backtest(blind, quarters=99, model="rules", progress=False)


def test_model_card_records_every_hyperparameter(small_run):
    from riskmodel.scoring.pipeline import load_model

    card = json.loads((small_run / "model_card.json").read_text())
    model = load_model(small_run)["model"]
    assert card["estimator"] == "XGBScorer()", "the repr names no hyperparameter: the card must list them"
    p = card["estimator_params"]
    assert (p["n_estimators"], p["max_depth"], p["learning_rate"], p["monotone"]) == (
        model.n_estimators, model.max_depth, model.learning_rate, model.monotone)
    assert len(p) == len(model.get_params())


def test_the_precision_policy_is_validated_out_of_time(monkeypatch):
    """The cut-off's scorer learns from the quarters before the held-out ones and never sees them; every label
    that is not a known positive counts as a negative."""
    from riskmodel.errors import RiskModelError
    from riskmodel.scoring import pipeline

    periods = pd.Series(np.repeat(pd.date_range("2023-01-01", periods=8, freq="QS"), 10))
    X = pd.DataFrame({"f": np.arange(80.0)})
    y = np.tile([1, 0, -1, -1, -1, -1, -1, -1, -1, -1], 8)
    seen = {}

    class Spy:
        def __init__(self, **kw):
            pass

        def fit(self, Xf, yf):
            seen["rows"] = Xf.index.tolist()
            return self

        def decision_function(self, Xs):
            return Xs.f.to_numpy()

    monkeypatch.setattr(pipeline, "make_model", lambda name, random_state=0: Spy())
    s, lab = pipeline.validation_scores("xgboost", X, y, periods, periods.unique()[:8], quarters=4)
    assert seen["rows"] == list(range(40)), "fitted on the first four quarters only"
    assert s.tolist() == list(range(40, 80)) and lab.tolist() == [1] + [0] * 9 + ([1] + [0] * 9) * 3
    with pytest.raises(RiskModelError, match="only 4"):
        pipeline.validation_scores("xgboost", X, y, periods, periods.unique()[:4], quarters=4)
