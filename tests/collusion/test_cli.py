"""``riskmodel collusion evaluate`` through the main command."""

from __future__ import annotations

import json

from click.testing import CliRunner

from riskmodel.cli import main


def test_evaluate_json(mini_csv):
    r = CliRunner().invoke(main, ["collusion", "evaluate", str(mini_csv), "--format", "json", "--folds", "3",
                                  "--trees", "10", "--inner-folds", "3", "--inner-repeats", "1"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    d = data["datasets"][0]
    assert d["dataset"] == "mini" and d["n_used"] + d["n_too_few_bids"] == d["n_tenders"] == 120
    assert set(d["metrics"]) == {"ours", "reference"}
    assert {"roc_auc", "balanced_accuracy", "accuracy", "fpr"} <= set(d["metrics"]["ours"])
    assert d["metrics"]["ours"]["roc_auc"] > 0.8


def test_evaluate_text(mini_csv):
    r = CliRunner().invoke(main, ["collusion", "evaluate", str(mini_csv), "--folds", "3", "--trees", "10",
                                  "--inner-folds", "3", "--inner-repeats", "1"])
    assert r.exit_code == 0, r.output
    assert "mini: 120 tenders" in r.stdout and "reference" in r.stdout and "ours / reference ROC AUC" in r.stdout


def test_bad_csv_is_a_clear_error(write_csv):
    bad = write_csv("tender_id,bid,collusive_tender\nA,100,1\nA,oops,1\n")
    r = CliRunner().invoke(main, ["collusion", "evaluate", str(bad)])
    assert r.exit_code == 2
    assert f"error: {bad}: column 'bid' must be a positive finite number; lines 3 hold 'oops'" in r.output
    assert "Traceback" not in r.output


def test_screens_command(mini_csv, tmp_path):
    out = tmp_path / "screens.csv"
    r = CliRunner().invoke(main, ["collusion", "screens", str(mini_csv), "--out", str(out)])
    assert r.exit_code == 0, r.output
    import pandas as pd

    t = pd.read_csv(out)
    assert len(t) == 120 and {"cv", "rd", "kurt", "log_median_bid"} <= set(t.columns)


def test_max_fpr_option_caps_false_positives(mini_csv):
    r = CliRunner().invoke(main, ["collusion", "evaluate", str(mini_csv), "--format", "json", "--folds", "3",
                                  "--trees", "10", "--inner-folds", "3", "--inner-repeats", "1", "--max-fpr", "0.02"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert d["parameters"]["max_fpr"] == 0.02
    assert d["datasets"][0]["metrics"]["ours"]["fpr"] <= 0.1  # capped in training; out of fold close to it


def test_identities_and_grouped_folds_through_the_cli(tmp_path):
    from riskmodel.collusion.synthetic import synthetic_bids

    path = tmp_path / "ring.csv"
    synthetic_bids(90, seed=9, identities=True, dataset="ring").to_csv(path, index=False)
    r = CliRunner().invoke(main, ["collusion", "evaluate", str(path), "--format", "json", "--folds", "3",
                                  "--trees", "10", "--inner-folds", "3", "--inner-repeats", "1", "--group-by", "market"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)["datasets"][0]
    assert d["group_by"] == "market" and "inc_win" in d["identity_screens"]
    assert "identity" in d["inner_auc"]["ours"][0]                # the identity candidate was on the menu
    out = tmp_path / "screens.csv"
    assert CliRunner().invoke(main, ["collusion", "screens", str(path), "--out", str(out)]).exit_code == 0
    import pandas as pd

    assert {"inc_win", "rotation", "cover_own_dev"} <= set(pd.read_csv(out).columns)
