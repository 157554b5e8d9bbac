"""A run folder keeps what the pipeline does not make: reviewers' decisions, the ledger, a reviewer's notes.

Rerunning or retraining a run replaces its outputs atomically and carries the rest over; ``score`` re-queues
people and chooses the event alerts again beside them (tests/scoring/test_rescore_events.py); errors on a folder that is not a run are messages.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import threading
import time

import pandas as pd
import pytest
from click.testing import CliRunner

from riskmodel import ledger
from riskmodel.cli import main
from riskmodel.data.store import atomic_dir
from riskmodel.errors import OutputError, RiskModelError
from riskmodel.scoring import pipeline
from riskmodel.scoring.feedback import read_decisions, record_decision
from riskmodel.scoring.datasource import resolve_data_source
from riskmodel.scoring.pipeline import carry_over, rescore, run_locks, run_pipeline


def _copy(run, dest):
    """A copy of the shared run without the records other tests may have added to it (reports log to its ledger)."""
    shutil.copytree(run, dest, ignore=shutil.ignore_patterns("ledger.jsonl*", "decisions.csv*"))
    return dest


def test_retrain_keeps_decisions_and_ledger_and_a_failed_one_changes_nothing(small_run, small_company, tmp_path, monkeypatch):
    run = _copy(small_run, tmp_path / "run")
    a = pd.read_parquet(run / "alerts.parquet")
    record_decision(run, a.alert_id[0], "confirmed", "supervisor", "查实")
    record_decision(run, a.alert_id[1], "dismissed", "analyst")
    (run / "evaluation.json").write_text("{}", encoding="utf-8")
    (run / "复核笔记.txt").write_text("E00001: 约谈 2025-03", encoding="utf-8")
    (run / "exports").mkdir()
    (run / "exports" / "alerts.csv").write_text("a,b\n", encoding="utf-8")
    decisions = (run / "decisions.csv").read_bytes()
    chain = (run / "ledger.jsonl").read_bytes()
    assert ledger.verify(run / "ledger.jsonl").ok and len(ledger.read_entries(run / "ledger.jsonl")) == 2
    before = {p.name: p.read_bytes() for p in run.iterdir() if p.is_file()}

    # a retrain that fails at its last step, the new folder filled, leaves the earlier run as it was
    def failing(root, info):
        assert (root / "decisions.csv").is_file() and (root / "ledger.jsonl").is_file(), "carried over by then"
        raise OutputError("disk full (test)")

    with monkeypatch.context() as m:
        m.setattr("riskmodel.data.store.write_manifest", failing)
        with pytest.raises(OutputError, match="disk full"):
            run_pipeline(small_company, run, decisions=read_decisions(run / "decisions.csv"), progress=False)
    assert (run / "exports" / "alerts.csv").is_file()
    assert {p.name: p.read_bytes() for p in run.iterdir() if p.is_file()} == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".run")], "no temporary folder is left behind"

    # 'riskmodel train' with a relative --data path, as 'make demo' gives one: decisions and ledger survive
    monkeypatch.chdir(small_company.parent)
    res = CliRunner().invoke(main, ["train", "--run", str(run), "--data", small_company.name, "--quiet"])
    assert res.exit_code == 0, res.output
    card = json.loads((run / "model_card.json").read_text(encoding="utf-8"))
    assert card["data_source"] == str(small_company.resolve()), "the data source is stored absolute"
    monkeypatch.chdir(tmp_path)
    assert resolve_data_source(card, run) == small_company.resolve(), "and found from another folder"
    assert "retrained with 2 decision(s)" in res.output
    assert "kept from the earlier run: decisions.csv, exports, ledger.jsonl, 复核笔记.txt" in res.output
    assert "removed evaluation.json" in res.output and "riskmodel evaluate" in res.output
    assert (run / "decisions.csv").read_bytes() == decisions
    # the chain goes on: the earlier entries as they were, then the retrained queue's record
    assert (run / "ledger.jsonl").read_bytes().startswith(chain)
    assert ledger.read_entries(run / "ledger.jsonl", "queue")[-1]["payload"]["recorded_by"] == "riskmodel train"
    assert (run / "复核笔记.txt").read_text(encoding="utf-8") == "E00001: 约谈 2025-03"
    assert (run / "exports" / "alerts.csv").is_file()
    assert not (run / "evaluation.json").exists(), "the earlier model's evaluation is stale"
    manifest = json.loads((run / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["carried_over"] == ["decisions.csv", "exports", "ledger.jsonl", "复核笔记.txt"]
    assert manifest["removed_as_stale"] == ["evaluation.json"]
    # the chain goes on in the new run
    b = pd.read_parquet(run / "alerts.parquet")
    record_decision(run, b.alert_id[0], "needs_information", "supervisor")
    entries = ledger.read_entries(run / "ledger.jsonl")
    assert [e["seq"] for e in entries] == list(range(1, len(entries) + 1)) and entries[-1]["kind"] == "decision"
    assert ledger.verify(run / "ledger.jsonl").ok
    assert len(read_decisions(run / "decisions.csv")) == 3


def test_a_decision_made_during_the_swap_lands_in_the_new_run(small_run, tmp_path):
    run = _copy(small_run, tmp_path / "run")
    a = pd.read_parquet(run / "alerts.parquet")
    record_decision(run, a.alert_id[0], "confirmed", "supervisor")
    done = threading.Event()
    errors = []

    def reviewer():
        try:
            record_decision(run, a.alert_id[1], "dismissed", "analyst")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        done.set()

    with contextlib.ExitStack() as locks, atomic_dir(run) as tmp:
        for name in pipeline.RUN_OUTPUTS:
            if (run / name).is_file():
                shutil.copy2(run / name, tmp / name)
        locks.enter_context(run_locks(run))
        t = threading.Thread(target=reviewer)
        t.start()
        time.sleep(0.5)
        assert not done.is_set(), "the reviewer waits while the run is carried over and swapped"
        carry_over(run, tmp)
    t.join(10)
    assert done.is_set() and not errors, errors
    assert read_decisions(run / "decisions.csv").decision.tolist() == ["confirmed", "dismissed"]
    entries = ledger.read_entries(run / "ledger.jsonl")
    assert [e["payload"]["decision"] for e in entries] == ["confirmed", "dismissed"]
    assert ledger.verify(run / "ledger.jsonl").ok


def test_carry_over_keeps_what_the_pipeline_does_not_make():
    import tempfile
    from pathlib import Path

    old, new = Path(tempfile.mkdtemp()), Path(tempfile.mkdtemp())
    for name in ("alerts.parquet", "model_card.json", "decisions.csv", "ledger.jsonl", "evaluation.json", "notes.md",
                 "decisions.csv.lock", ".alerts.parquet.x1y2"):
        (old / name).write_text(name)
    kept = carry_over(old, new)
    assert kept == {"carried": ["decisions.csv", "ledger.jsonl", "notes.md"], "dropped": ["evaluation.json"]}
    assert sorted(p.name for p in new.iterdir()) == ["decisions.csv", "decisions.csv.lock", "ledger.jsonl", "notes.md"]
    assert (new / "decisions.csv.lock").stat().st_ino == (old / "decisions.csv.lock").stat().st_ino, "one lock for both"


def test_score_requeues_and_says_where_the_queue_comes_from(small_run, tmp_path):
    run = _copy(small_run, tmp_path / "run")
    (run / "evaluation.json").write_text("{}", encoding="utf-8")
    before = pd.read_parquet(run / "alerts.parquet")
    events = before[before.entity_type != "employee"].reset_index(drop=True)
    assert len(events), "the small run has event alerts"
    card0 = json.loads((run / "model_card.json").read_text(encoding="utf-8"))
    assert card0["queue"]["model"] == card0["model"] and card0["queue"]["source"] == "riskmodel run"

    res = CliRunner().invoke(main, ["score", "--run", str(run), "--model", "rules", "--policy", "capacity"])
    assert res.exit_code == 0, res.output
    after = pd.read_parquet(run / "alerts.parquet")
    people = after[after.entity_type == "employee"]
    assert set(people.model) == {"rules"} and len(people) > 0
    # the event alerts are chosen again beside the new people queue (what they are: test_rescore_events.py)
    events = after[after.entity_type != "employee"].reset_index(drop=True)
    assert len(events) and set(events.entity_type) <= set(before.entity_type) - {"employee"}
    assert f"{len(people)} people alerts (rules, policy capacity) and {len(events)} event alerts (chosen again" in res.output

    card = json.loads((run / "model_card.json").read_text(encoding="utf-8"))
    assert card["model"] == card0["model"], "the card still describes the trained model"
    q = card["queue"]
    assert (q["model"], q["policy"]["policy"], q["source"]) == ("rules", "capacity", "riskmodel score")
    assert (q["people_alerts"], q["event_alerts"]) == (len(people), len(events))
    assert set(people.cutoff.round(9)) <= {round(v, 9) for v in q["policy"]["cutoff"].values()}
    manifest = json.loads((run / "manifest.json").read_text(encoding="utf-8"))
    assert (manifest["step"], manifest["model"], manifest["policy"], manifest["alerts"]) == ("score", "rules", "capacity", len(after))
    assert manifest["trained_model"] == card0["model"] and manifest["tables"]["alerts"] == len(after)
    assert not (run / "evaluation.json").exists() and "removed evaluation.json" in res.output


def test_score_with_features_lacking_a_model_column_is_a_message(small_run, tmp_path):
    run = _copy(small_run, tmp_path / "run")
    X = pd.read_parquet(run / "features_people.parquet")
    col = json.loads((run / "model_card.json").read_text(encoding="utf-8"))["features"][0]
    X.drop(columns=col).to_parquet(run / "features_people.parquet", index=False)
    with pytest.raises(RiskModelError, match=f"features_people.parquet lacks 1 of the model's feature column.*{col}"):
        rescore(run, "xgboost", "capacity")


@pytest.mark.parametrize("command", [["evaluate"], ["train", "--quiet"], ["score", "--model", "rules"],
                                     ["decide", "AL-000000000000", "--decision", "confirmed", "--role", "supervisor"]])
def test_a_folder_that_is_not_a_run_is_a_message(command, small_company, tmp_path):
    for folder in (tmp_path / "empty", small_company):  # an empty folder, and a dataset given as the run by mistake
        folder.mkdir(exist_ok=True)
        res = CliRunner().invoke(main, [*command, "--run", str(folder)])
        assert res.exit_code == 2, res.output
        assert isinstance(res.exception, SystemExit), "a message, not a traceback"
        assert f"{folder} is not a run folder" in res.output and "riskmodel run --out" in res.output


def test_an_old_relative_data_source_is_read_from_the_current_folder(small_company, tmp_path, monkeypatch):
    card = {"data_source": small_company.name}
    monkeypatch.chdir(small_company.parent)
    assert resolve_data_source(card, tmp_path) == small_company.resolve()
    monkeypatch.chdir(tmp_path)
    with pytest.raises(RiskModelError, match=f"data_source '{small_company.name}'.*--data DIR"):
        resolve_data_source(card, tmp_path)


def test_the_cost_policy_needs_a_probability_and_rules_alerts_claim_none(small_run, tmp_path):
    run = _copy(small_run, tmp_path / "run")
    before = (run / "alerts.parquet").read_bytes()
    res = CliRunner().invoke(main, ["score", "--run", str(run), "--model", "rules", "--policy", "cost"])
    assert res.exit_code != 0 and "needs a probability of misconduct" in res.output
    assert (run / "alerts.parquet").read_bytes() == before, "a refused re-queue leaves the queue as it was"
    res = CliRunner().invoke(main, ["score", "--run", str(run), "--model", "iforest", "--policy", "capacity"])
    assert res.exit_code == 0, res.output
    people = pd.read_parquet(run / "alerts.parquet").query("entity_type == 'employee'")
    assert people.probability.isna().all(), "an anomaly score is no probability"


def test_score_with_the_precision_policy_records_its_out_of_time_validation(small_run, tmp_path):
    run = _copy(small_run, tmp_path / "run")
    res = CliRunner().invoke(main, ["score", "--run", str(run), "--model", "logistic", "--policy", "precision"])
    assert res.exit_code == 0, res.output
    card = json.loads((run / "model_card.json").read_text(encoding="utf-8"))
    detail = card["queue"]["policy"]["detail"]
    assert card["queue"]["model"] == "logistic" and "out of time" in detail["validation"]
    assert 0 <= detail["validation_precision"] <= 1
