"""``riskmodel backtest``: each replayed quarter's queue next to the rules-only baseline's at the same capacity, judged
by cases opened later (never the ground truth), a JSON output written atomically, and the note that recent quarters'
caught counts are lower bounds."""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest
from click.testing import CliRunner

from riskmodel.cli import main
from riskmodel.scoring import pipeline

QUARTERS = ["2025Q3", "2025Q4"]


@pytest.fixture(scope="module")
def blind(small_company, tmp_path_factory):
    """The small company without its truth/ folder: the backtest must not need it."""
    out = tmp_path_factory.mktemp("backtest") / "company"
    shutil.copytree(small_company, out, ignore=shutil.ignore_patterns("truth"))
    return out


@pytest.fixture(scope="module")
def logistic(blind):
    return pipeline.backtest(blind, quarters=2, model="logistic", progress=False)


@pytest.fixture(scope="module")
def rules_json(blind, tmp_path_factory):
    """The command line's JSON for the rules model itself, written with --out."""
    out = tmp_path_factory.mktemp("backtest_out") / "replay.json"
    out.write_text("an earlier replay", encoding="utf-8")
    r = CliRunner().invoke(main, ["backtest", "--data", str(blind), "--quarters", "2", "--model", "rules",
                                  "--format", "json", "--out", str(out), "--quiet"])
    assert r.exit_code == 0, r.output
    return out, r.output


def test_each_quarter_has_the_rules_baseline_at_the_same_capacity(logistic, rules_json):
    assert [str(pd.Period(p, "Q")) for p in logistic.period] == QUARTERS
    assert (logistic.note == "").all() and (logistic.queued > 0).all()
    assert (logistic.rules_queued == logistic.queued).all(), "the same capacity for both"
    assert (logistic.rules_caught_by_later_cases <= logistic.rules_queued).all()
    assert (logistic.rules_share_caught == logistic.rules_caught_by_later_cases / logistic.rules_queued).all()
    # the baseline's figures are those of the rules model's own replay, whichever model is replayed beside it
    own = pd.DataFrame(json.loads(rules_json[0].read_text(encoding="utf-8"))["quarters"])
    assert own.period.tolist() == QUARTERS
    for col in ("queued", "caught_by_later_cases", "share_caught"):
        assert own[col].tolist() == own[f"rules_{col}"].tolist() == logistic[f"rules_{col}"].tolist(), col
    assert logistic.attrs["model"] == "logistic" and logistic.attrs["baseline"] == "rules"


def test_recent_quarters_are_said_to_be_lower_bounds(logistic):
    lookback = logistic.attrs["label_lookback_months"]
    assert logistic.attrs["data_end"] == "2025-12-31"
    assert logistic.months_of_data_after.tolist() == [3, 0]
    note = logistic.attrs["note"]
    assert note.startswith("The caught counts of 2025Q3, 2025Q4 are lower bounds")
    assert f"within {lookback} months" in note and "only 0–3 months after those quarters" in note
    enough = logistic.assign(months_of_data_after=[lookback + 3, lookback])
    assert pipeline._late_cases_note(enough, pd.Timestamp("2025-12-31"), lookback).startswith("Every replayed quarter")
    one = logistic.assign(months_of_data_after=[lookback, 0])
    assert "of 2025Q4 are lower bounds" in pipeline._late_cases_note(one, pd.Timestamp("2025-12-31"), lookback)


def test_json_goes_to_the_file_whole_and_the_note_to_the_terminal(rules_json):
    out, printed = rules_json
    r = json.loads(out.read_text(encoding="utf-8"))
    assert {"model", "baseline", "policy", "capacity", "judged_by", "data_end", "note"} <= set(r)
    assert r["model"] == "rules" and r["policy"] == "capacity" and "never truth/" in r["judged_by"]
    assert [q["months_of_data_after"] for q in r["quarters"]] == [3, 0]
    assert sorted(p.name for p in out.parent.iterdir()) == ["replay.json"], "the earlier file replaced, no temporary left"
    assert f"wrote the replay of 2 quarter(s) to {out}" in printed
    assert "note: The caught counts of 2025Q3, 2025Q4 are lower bounds" in printed


def test_the_table_and_json_on_the_terminal(logistic, monkeypatch):
    monkeypatch.setattr(pipeline, "backtest", lambda *a, **k: logistic)
    r = CliRunner().invoke(main, ["backtest", "--data", "unused", "--quiet"])
    assert r.exit_code == 0, r.output
    assert r.output.startswith("logistic and the rules baseline, capacity policy")
    assert "rules_caught_by_later_cases" in r.output and "2025Q4" in r.output
    assert r.output.rstrip().endswith(logistic.attrs["note"])
    r = CliRunner().invoke(main, ["backtest", "--data", "unused", "--format", "json", "--quiet"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["quarters"][1]["period"] == "2025Q4", "stdout holds the JSON only"
    assert "lower bounds" in r.stderr
