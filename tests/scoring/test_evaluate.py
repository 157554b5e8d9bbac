"""The evaluation command's text output: precision, ratios, scheme recall and the Brier scores it computes."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from riskmodel.cli import main
from riskmodel.errors import RiskModelError
from riskmodel.scoring.evaluate import calibration_lines


def test_evaluate_prints_the_brier_scores_it_computes(small_run, small_company, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(small_run, run)
    res = CliRunner().invoke(main, ["evaluate", "--run", str(run), "--data", str(small_company)])
    assert res.exit_code == 0, res.output
    cal = json.loads((run / "evaluation.json").read_text(encoding="utf-8"))["calibration"]
    raw = re.search(r"raw \(sigmoid of the margin\)\s+([\d.]+) \[([\d.]+), ([\d.]+)\]", res.output)
    assert raw, res.output
    assert [float(x) for x in raw.groups()] == [round(cal["brier_raw"], 4), *(round(v, 4) for v in cal["brier_raw_ci95"])]
    # a run whose card says no calibrator was fitted (the default) says so next to the figures
    fitted = json.loads((run / "model_card.json").read_text(encoding="utf-8"))["calibration"]["fitted"]
    assert cal["calibrated"] is fitted
    assert ("no calibrator fitted" in res.output) is (not fitted)
    calibrated = re.search(r"calibrated\s+([\d.]+) \[([\d.]+), ([\d.]+)\]", res.output)
    if "brier_calibrated" in cal:
        assert calibrated and float(calibrated.group(1)) == round(cal["brier_calibrated"], 4)
    else:
        assert "none (the run has no calibrated probability)" in res.output
    assert f"{cal['brier_constant_base_rate']:.4f}" in res.output
    assert "vs baselines" in res.output and "scheme recall with event alerts" in res.output
    # the queue splits into: in a scheme active that quarter, after a scheme ended (within a year), no recent scheme
    for name, m in json.loads((run / "evaluation.json").read_text(encoding="utf-8"))["models"].items():
        parts = (m["precision_at_capacity"], m["queued_after_scheme"], m["queued_no_recent_scheme"])
        assert all(0 <= v <= 1 for v in parts) and abs(sum(parts) - 1) < 1e-9, (name, parts)
        assert re.search(rf"{name}\s.*after their scheme {m['queued_after_scheme']:.2f}  no recent scheme {m['queued_no_recent_scheme']:.2f}", res.output)
    ev = json.loads((run / "evaluation.json").read_text(encoding="utf-8"))
    assert f"({ev['schemes_caught_all_alerts']}/{ev['schemes_active_all_alerts']})" in res.output
    assert abs(ev["schemes_caught_all_alerts"] / ev["schemes_active_all_alerts"] - ev["scheme_recall_all_alerts"]) < 1e-12


def test_calibration_lines_without_a_calibrated_probability():
    lines = calibration_lines("rules", {"base_rate": 0.02, "brier_constant_base_rate": 0.0196, "brier_raw": 0.25,
                                        "brier_raw_ci95": (0.24, 0.26)})
    assert lines[1].split() == ["raw", "(sigmoid", "of", "the", "margin)", "0.2500", "[0.2400,", "0.2600]"]
    assert "none" in lines[2] and lines[3].endswith("0.0196")


def test_queue_splits_into_active_after_a_scheme_and_no_recent_scheme(tmp_path):
    """Hand-made run and truth: each model's queue of three is split by what the truth says of each person."""
    import pandas as pd

    from riskmodel.scoring.evaluate import evaluate_run

    data, run = tmp_path / "data", tmp_path / "run"
    (data / "truth").mkdir(parents=True)
    run.mkdir()
    pd.DataFrame({"scheme_id": ["S1", "S2", "S3"], "scheme_type": ["kickback_related_supplier"] * 3,
                  "start_date": pd.to_datetime(["2025-01-01", "2024-01-01", "2026-03-01"]),
                  "end_date": pd.to_datetime(["2025-12-31", "2024-10-15", "2026-12-31"])}).to_parquet(data / "truth/schemes.parquet")
    pd.DataFrame({"scheme_id": ["S1", "S2", "S3"], "entity_type": ["employee"] * 3,
                  "entity_id": ["E1", "E2", "E4"]}).to_parquet(data / "truth/scheme_entities.parquet")
    ids = [f"E{i}" for i in range(1, 11)]
    scores = pd.DataFrame({"entity_id": ids, "period": pd.Timestamp("2025-04-01"), "split": "test",
                           # a queues E1 (active), E2 (ended 2024-10-15: after a scheme), E3 (no scheme)
                           "score_a": [9, 8, 7, 0, 0, 0, 0, 0, 0, 0],
                           # b queues E4 (a scheme that starts in 2026: none recent now), E1, E3
                           "score_b": [8, 0, 7, 9, 0, 0, 0, 0, 0, 0]})
    scores.to_parquet(run / "scores.parquet")
    pd.DataFrame({"entity_type": ["employee"], "entity_id": ["E1"], "period": pd.Timestamp("2025-04-01")}).to_parquet(run / "alerts.parquet")
    (run / "model_card.json").write_text(json.dumps({"model": "a", "capacity": 3, "test_periods": ["2025-04-01"],
                                                     "calibration": {"fitted": False}}))
    m = evaluate_run(run, data)["models"]
    assert m["a"]["queued"] == m["b"]["queued"] == 3
    assert (m["a"]["precision_at_capacity"], m["a"]["queued_after_scheme"], m["a"]["queued_no_recent_scheme"]) == (1 / 3, 1 / 3, 1 / 3)
    assert (m["b"]["precision_at_capacity"], m["b"]["queued_after_scheme"], m["b"]["queued_no_recent_scheme"]) == (1 / 3, 0.0, 2 / 3)


def test_evaluation_intervals_resample_people_and_record_provenance(small_run, small_company, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(small_run, run)
    res = CliRunner().invoke(main, ["evaluate", "--run", str(run), "--data", str(small_company)])
    assert res.exit_code == 0, res.output
    ev = json.loads((run / "evaluation.json").read_text(encoding="utf-8"))
    card = json.loads((run / "model_card.json").read_text(encoding="utf-8"))
    assert set(ev["precision_ratio_ci95"]) == set(ev["precision_ratio_vs_baselines"])
    for b, (lo, hi) in ev["precision_ratio_ci95"].items():
        assert f"{b} {ev['precision_ratio_vs_baselines'][b]:.3f}x [{lo:.2f}, {hi:.2f}]" in res.output
    for m in ev["models"].values():
        assert m["queued_people"] <= m["queued"]
    c = ev["supervised_ceiling"]  # the small run keeps its feature matrix: the ceiling is there, printed as computed
    assert f"precision {c['precision_at_capacity']:.2f} [{c['precision_ci95'][0]:.2f}, {c['precision_ci95'][1]:.2f}]" in res.output
    assert c["queued"] == ev["models"][ev["model"]]["queued"]
    assert Path(ev["data_source"]) == small_company.resolve(), "absolute: the report finds it from any folder"
    w = ev["evaluated_with"]
    assert w["run_data_fingerprint"] == w["truth_data_fingerprint"] == card["data_fingerprint"]
    assert w["code_version"] and w["bootstrap_draws"] == 1000 and w["model_seed"] == card["seed"]


def test_person_bootstrap_counts_a_person_once_per_draw():
    """One person queued in four quarters is one unit: the interval is as wide as with one row per person."""
    import numpy as np

    from riskmodel.scoring.evaluate import person_bootstrap

    y = np.array([1, 1, 1, 1, 0, 0, 0, 0])
    people = np.array(["A", "A", "A", "A", "B", "C", "D", "E"])
    q = {"m": np.ones(8, bool), "r": np.array([0, 0, 0, 1, 1, 0, 0, 0], bool)}
    prec, ratio = person_bootstrap(y, q, people, "m", n=2000, seed=1)
    # rows would give a 95 % interval near [0.125, 0.875]; people give 0 (A not drawn) or far above 0.5 (A drawn)
    assert prec["m"][0] == 0.0 and prec["m"][1] > 0.8
    assert set(ratio) == {"r"}


def test_evaluate_refuses_another_companys_truth(small_run, small_company, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(small_run, run)
    other = tmp_path / "other"
    shutil.copytree(small_company, other)
    claims = pd.read_parquet(other / "claims.parquet")  # another company: one claim's amount differs
    claims.loc[0, "amount"] = claims.loc[0, "amount"] + 1
    claims.to_parquet(other / "claims.parquet", index=False)
    res = CliRunner().invoke(main, ["evaluate", "--run", str(run), "--data", str(other)])
    assert res.exit_code != 0 and "is not the data the run" in res.output
    assert not (run / "evaluation.json").exists() or "evaluated_with" not in (run / "evaluation.json").read_text(encoding="utf-8")
    # the report's curves read the truth too, and refuse it as well
    from riskmodel.scoring.evaluate import curves

    with pytest.raises(RiskModelError, match="is not the data the run"):
        curves(run, other)


def _ceiling_run(tmp_path):
    """A hand-made run: 40 people, 6 training and 2 test quarters; the truth puts the people whose feature ``x`` is
    high in a scheme throughout, and the run's own scores (``a``) know nothing of it."""
    import numpy as np
    import pandas as pd

    data, run = tmp_path / "data", tmp_path / "run"
    (data / "truth").mkdir(parents=True)
    run.mkdir()
    rng = np.random.default_rng(0)
    ids = [f"E{i:02d}" for i in range(40)]
    bad = ids[:4]
    periods = pd.date_range("2024-01-01", periods=8, freq="QS")
    X = pd.DataFrame([(e, p) for p in periods for e in ids], columns=["entity_id", "period"])
    X["x"] = np.where(X.entity_id.isin(bad), 5.0, 0.0) + rng.normal(0, 1, len(X))
    X["noise"] = rng.normal(0, 1, len(X))
    X.to_parquet(run / "features_people.parquet")
    pd.DataFrame({"scheme_id": [f"S{i}" for i in range(4)], "scheme_type": ["kickback_related_supplier"] * 4,
                  "start_date": periods[0], "end_date": pd.Timestamp("2025-12-31")}).to_parquet(data / "truth/schemes.parquet")
    pd.DataFrame({"scheme_id": [f"S{i}" for i in range(4)], "entity_type": "employee",
                  "entity_id": bad}).to_parquet(data / "truth/scheme_entities.parquet")
    scores = X[["entity_id", "period"]].assign(split=np.where(X.period >= periods[6], "test", "train"),
                                              score_a=rng.normal(0, 1, len(X)), score_b=X.noise)
    scores.to_parquet(run / "scores.parquet")
    pd.DataFrame({"entity_type": ["employee"], "entity_id": ["E00"], "period": periods[6]}).to_parquet(run / "alerts.parquet")
    card = {"model": "a", "capacity": 4, "features": ["x", "noise"], "seed": 3,
            "train_periods": [str(p.date()) for p in periods[:6]], "test_periods": [str(p.date()) for p in periods[6:]],
            "calibration": {"fitted": False}}
    (run / "model_card.json").write_text(json.dumps(card))
    return data, run


def test_supervised_ceiling_learns_the_truth_of_the_training_quarters(tmp_path):
    """The ceiling is fitted on the truth (not on the run's labels or scores): it queues exactly the people the truth
    names, and its ratio to each model is its precision over theirs, on the same capacity."""
    from riskmodel.scoring.evaluate import evaluate_run

    data, run = _ceiling_run(tmp_path)
    ev = evaluate_run(run, data)
    c = ev["supervised_ceiling"]
    assert c["training_rows"] == 6 * 40 and c["training_positives"] == 6 * 4  # the training quarters only
    assert c["queued"] == ev["models"]["a"]["queued"] == 8 and c["queued_people"] == 4
    assert c["precision_at_capacity"] == 1.0 and c["precision_ci95"] == (1.0, 1.0)
    assert c["queued_after_scheme"] == c["queued_no_recent_scheme"] == 0.0
    for name, m in ev["models"].items():
        assert c["precision_ratio_vs_models"][name] == (1 / m["precision_at_capacity"] if m["precision_at_capacity"] else float("inf"))
    assert set(c["precision_ratio_ci95"]) == set(ev["models"])
    assert c["seed"] == 3 and "pu='none'" in c["estimator"]
    # the run's XGBoost settings carry over when the run trained XGBoost
    card = json.loads((run / "model_card.json").read_text())
    card.update(model="xgboost", estimator_params={"n_estimators": 40, "max_depth": 2, "pu": "elkan_noto", "random_state": 0})
    (run / "model_card.json").write_text(json.dumps(card))
    import pandas as pd

    s = pd.read_parquet(run / "scores.parquet")
    s.rename(columns={"score_a": "score_xgboost"}).to_parquet(run / "scores.parquet")
    c = evaluate_run(run, data)["supervised_ceiling"]
    assert "n_estimators=40" in c["estimator"] and "max_depth=2" in c["estimator"] and c["precision_at_capacity"] == 1.0


def test_supervised_ceiling_needs_the_runs_feature_matrix(tmp_path):
    import pandas as pd

    from riskmodel.errors import RiskModelError
    from riskmodel.scoring.evaluate import evaluate_run

    data, run = _ceiling_run(tmp_path)
    X = pd.read_parquet(run / "features_people.parquet")
    X.drop(columns="noise").to_parquet(run / "features_people.parquet")
    with pytest.raises(RiskModelError, match=r"features_people.parquet lacks 1 of the model card's feature column\(s\)"):
        evaluate_run(run, data)
    (run / "features_people.parquet").unlink()  # a run folder from before: evaluated without the ceiling
    ev = evaluate_run(run, data)
    assert ev["supervised_ceiling"] is None and ev["models"]["a"]["queued"] == 8
