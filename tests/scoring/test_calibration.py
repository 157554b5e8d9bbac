"""Probability calibration: fitted on held-out quarters only, keeps the margin's order, improves the Brier score."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from riskmodel.errors import RiskModelError
from riskmodel.scoring.calibration import ScoreCalibrator, brier
from riskmodel.scoring.pipeline import calibration_split


def _overconfident(n=20000, seed=0, c=1.0):
    """Margins whose sigmoid is far too confident: the true log-odds are 0.4 × margin - 1.5; a share ``c`` of
    positives is labelled."""
    rng = np.random.default_rng(seed)
    margin = rng.normal(-2, 3, n)
    y = (rng.random(n) < 1 / (1 + np.exp(-(0.4 * margin - 1.5)))).astype(int)
    s = y * (rng.random(n) < c)
    return margin, y, s


@pytest.mark.parametrize("method", ["sigmoid", "isotonic"])
def test_calibration_improves_the_brier_score_on_new_rows(method):
    m_fit, y_fit, _ = _overconfident(seed=0)
    m_new, y_new, _ = _overconfident(seed=1)
    cal = ScoreCalibrator(method, label_frequency=None).fit(m_fit, y_fit)
    raw = 1 / (1 + np.exp(-m_new))
    assert brier(cal.predict(m_new), y_new) < 0.8 * brier(raw, y_new)
    # and it is close to the true probabilities
    truth = 1 / (1 + np.exp(-(0.4 * m_new - 1.5)))
    assert np.abs(cal.predict(m_new) - truth).mean() < 0.02


def test_sigmoid_keeps_the_order_and_isotonic_never_reverses_it():
    m, y, _ = _overconfident()
    grid = np.linspace(-12, 8, 500)
    assert (np.diff(ScoreCalibrator("sigmoid", None).fit(m, y).predict(grid)) > 0).all()
    assert (np.diff(ScoreCalibrator("isotonic", None).fit(m, y).predict(grid)) >= 0).all()


def test_label_frequency_correction_recovers_the_positive_rate():
    # only 40 % of positives are known: uncorrected, the probabilities are 0.4 times too low
    m, y, s = _overconfident(n=40000, c=0.4)
    plain = ScoreCalibrator("sigmoid", label_frequency=None).fit(m, s)
    fixed = ScoreCalibrator("sigmoid", label_frequency=0.4).fit(m, s)
    assert plain.predict(m).mean() < 0.6 * y.mean()
    assert abs(fixed.predict(m).mean() - y.mean()) < 0.15 * y.mean()
    est = ScoreCalibrator("sigmoid").fit(m, s)
    assert 0 < est.label_frequency_ <= 1 and est.to_dict()["label_frequency_source"] == "estimate"
    assert (est.predict(m) <= 1).all() and (est.predict(m) >= 0).all()


def test_sklearn_contract_and_record():
    m, y, _ = _overconfident(n=3000)
    est = ScoreCalibrator("isotonic", label_frequency=0.5)
    assert clone(est).get_params() == est.get_params()
    assert est.fit(m, y) is est
    before = est.predict(m)
    assert np.array_equal(est.predict(m), before), "predict never changes state"
    d = ScoreCalibrator().fit(m, y).to_dict()
    assert d["method"] == "sigmoid" and d["slope"] > 0 and d["rows"] == 3000 and d["known_positives"] == int(y.sum())


def test_bad_input_is_a_clear_error():
    m, y, _ = _overconfident(n=500)
    with pytest.raises(RiskModelError, match="method must be one of"):
        ScoreCalibrator("beta").fit(m, y)
    with pytest.raises(RiskModelError, match="one label per margin"):
        ScoreCalibrator().fit(m, y[:-1])
    with pytest.raises(RiskModelError, match="0 known positives"):
        ScoreCalibrator().fit(m, np.zeros_like(y))
    with pytest.raises(RiskModelError, match="NaN or infinite"):
        ScoreCalibrator().fit(np.r_[m[:-1], np.nan], y)
    with pytest.raises(RiskModelError, match="does not rise"):
        ScoreCalibrator().fit(m, (m < np.median(m)).astype(int))
    with pytest.raises(RiskModelError, match="label_frequency"):
        ScoreCalibrator(label_frequency=1.5).fit(m, y)


def test_the_calibration_slice_is_the_last_training_quarters_and_never_test():
    periods = pd.Series(pd.to_datetime([f"{y}-{m:02d}-01" for y in (2023, 2024, 2025) for m in (1, 4, 7, 10)]).repeat(3))
    train = (periods < "2025-01-01").to_numpy()
    fit, cal = calibration_split(periods, train, 2)
    assert set(periods[cal].dt.strftime("%Y-%m")) == {"2024-07", "2024-10"}
    assert not (cal & ~train).any() and not (fit & cal).any() and ((fit | cal) == train).all()
    assert periods[fit].max() < periods[cal].min(), "the calibrator sees only quarters after the scorer's"
    fit, cal = calibration_split(periods, train, 0)
    assert not cal.any() and (fit == train).all()
    fit, cal = calibration_split(periods, train, 5)  # 8 training quarters cannot spare 5
    assert not cal.any()


def test_isotonic_calibration_on_the_small_runs_features_out_of_time(small_run):
    """The default is no calibration (see the model card); calibration itself stays tested on real features: the
    run's own feature matrix and known labels, isotonic asked for explicitly, fitted on the last training quarters
    by a scorer that never saw them."""
    import json

    from riskmodel.scoring.features import feature_columns
    from riskmodel.scoring.pipeline import calibrate, calibration_card

    card = json.loads((small_run / "model_card.json").read_text())
    X = pd.read_parquet(small_run / "features_people.parquet")
    sc = pd.read_parquet(small_run / "scores.parquet")
    X = X.merge(sc[["entity_id", "period", "split", "label_known", "score_xgboost"]], on=["entity_id", "period"])
    train = (X.split == "train").to_numpy()
    early, cal_rows = calibration_split(X.period, train, 2)
    assert cal_rows.any() and not (cal_rows & ~train).any()
    cols = feature_columns(X.drop(columns=["split", "label_known", "score_xgboost"]))
    assert cols == card["features"]
    cal, note = calibrate("xgboost", X[cols], X.label_known.to_numpy(), early, cal_rows, "isotonic", seed=0)
    assert cal is not None, note
    assert cal.method == "isotonic" and 0 < cal.label_frequency_ <= 1
    prob = cal.predict(X.score_xgboost.to_numpy())
    assert ((prob >= 0) & (prob <= 1)).all()
    order = np.argsort(X.score_xgboost.to_numpy(), kind="stable")
    assert (np.diff(prob[order]) >= -1e-12).all(), "a non-decreasing map of the margin"
    out = calibration_card(cal, "isotonic", 2, X.period[cal_rows], note)
    assert out["fitted"] and out["probability"].startswith("P(misconduct) = min(1, isotonic(margin)")
    # asked for nothing, it says so
    none, why = calibrate("xgboost", X[cols], X.label_known.to_numpy(), early, cal_rows, "none")
    assert none is None and "none" in why
