"""A review queue is on the record from the moment it is written, and evaluate judges the queue reviewers have.

``riskmodel run``, ``train`` and ``score`` append the queue they write to the run's ledger (the chain carried over
from the earlier run goes on); ``score --out`` starts a new chain naming the parent run and its ledger's head;
after ``score --model M`` the evaluation's model is M, the trained model is named apart, and the event alerts are
those chosen beside M's people queue.
"""

from __future__ import annotations

import hashlib
import json
import shutil

import pandas as pd
import pytest
from click.testing import CliRunner

from riskmodel import ledger
from riskmodel.cli import main
from riskmodel.scoring.pipeline import run_pipeline


def _copy(run, dest):
    """A copy of the shared run with its ledger (other tests may have appended reports to it), without lock files."""
    shutil.copytree(run, dest, ignore=shutil.ignore_patterns("*.lock", "evaluation.json"))
    return dest


def _cli(*args):
    res = CliRunner().invoke(main, [str(a) for a in args])
    assert res.exit_code == 0, res.output
    return res


def _sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_run_score_train_and_decide_each_go_on_the_record_and_the_chain_holds(small_run, small_company, tmp_path):
    run = _copy(small_run, tmp_path / "run")
    led = run / ledger.LEDGER_FILE
    card = json.loads((run / "model_card.json").read_text(encoding="utf-8"))
    alerts = pd.read_parquet(run / "alerts.parquet")

    # 'riskmodel run' recorded its queue as it wrote it: the model and threshold, the file, every alert
    entries = ledger.read_entries(led)
    assert [e["kind"] for e in entries[:2]] == ["model", "queue"]
    model, queue = entries[0]["payload"], entries[1]["payload"]
    assert (model["model"], model["data_fingerprint"], model["code_version"]) == (
        card["model"], card["data_fingerprint"], card["code_version"])
    assert model["cutoffs"] and model["policy"]["policy"] == card["policy"]["policy"]
    assert queue["sha256"] == _sha(run / "alerts.parquet") and queue["alerts"] == len(alerts)
    assert (queue["recorded_by"], queue["run"]) == ("riskmodel run", small_run.resolve().as_posix())
    assert {e["payload"]["alert_id"] for e in entries if e["kind"] == "alert"} == set(alerts.alert_id)

    # logging the same queue again appends nothing
    res = _cli("ledger", "log-alerts", "--run", run, "--role", "supervisor")
    assert "appended 0 entries" in res.output and len(ledger.read_entries(led)) == len(entries)

    # 'riskmodel score' re-queues people with another model: the new file and its alerts are recorded at once
    other = "rules" if card["model"] != "rules" else "logistic"
    _cli("score", "--run", run, "--model", other)
    new = ledger.read_entries(led)[len(entries):]
    assert [e["kind"] for e in new[:2]] == ["model", "queue"] and new[0]["payload"]["model"] == other
    assert new[1]["payload"]["sha256"] == _sha(run / "alerts.parquet")
    assert new[1]["payload"]["recorded_by"] == "riskmodel score" and new[1]["payload"]["model"] == other
    people = pd.read_parquet(run / "alerts.parquet").query("entity_type == 'employee'")
    assert set(people.alert_id) <= {e["payload"]["alert_id"] for e in new if e["kind"] == "alert"}

    # 'riskmodel train' carries the ledger into the new folder and appends the retrained queue to its chain
    before = led.read_bytes()
    _cli("train", "--run", run, "--data", small_company, "--quiet")
    assert led.read_bytes().startswith(before)
    last_queue = ledger.read_entries(led, "queue")[-1]["payload"]
    assert last_queue["recorded_by"] == "riskmodel train" and last_queue["sha256"] == _sha(run / "alerts.parquet")

    # a decision on the retrained queue goes on the same chain, and the whole chain verifies
    a = pd.read_parquet(run / "alerts.parquet").alert_id.iloc[0]
    _cli("decide", a, "--decision", "confirmed", "--role", "supervisor", "--run", run)
    last = ledger.read_entries(led)[-1]
    assert (last["kind"], last["payload"]["alert_id"]) == ("decision", a)
    assert "chain intact" in _cli("ledger", "verify", led).output


def test_a_run_onto_a_tampered_ledger_is_refused_before_any_work(small_run, small_company, tmp_path):
    run = _copy(small_run, tmp_path / "run")
    led = run / ledger.LEDGER_FILE
    ledger.log_alerts(run)  # (the run recorded its queue already: nothing new)
    lines = led.read_text(encoding="utf-8").splitlines(keepends=True)
    last = json.loads(lines[-1])
    last["ts"] = "2000-01-01T00:00:00+00:00"  # an edit, the hash left as it was
    lines[-1] = ledger.canonical(last).decode("utf-8") + "\n"
    led.write_text("".join(lines), encoding="utf-8")
    with pytest.raises(ledger.LedgerError, match="does not match its hash"):
        run_pipeline(small_company, run, progress=False)


def test_score_out_starts_a_new_chain_that_names_the_parent_and_its_head(small_run, tmp_path):
    from riskmodel.scoring.feedback import record_decision

    run = _copy(small_run, tmp_path / "run")
    led = run / ledger.LEDGER_FILE
    ledger.log_alerts(run)  # (the run recorded its queue already: nothing new)
    record_decision(run, pd.read_parquet(run / "alerts.parquet").alert_id.iloc[0], "dismissed", "analyst")
    parent_bytes = led.read_bytes()
    seq, head = ledger.head(led)
    out = tmp_path / "out"
    res = _cli("score", "--run", run, "--model", "iforest", "--out", out)
    assert led.read_bytes() == parent_bytes, "the parent run is left as it was"
    assert f"({seq}:{head})" in res.output

    entries = ledger.read_entries(out / ledger.LEDGER_FILE)
    origin = entries[0]
    assert (origin["kind"], origin["seq"], origin["prev_hash"]) == ("origin", 1, ledger.GENESIS)
    assert origin["payload"]["parent_head"] == {"seq": seq, "hash": head}
    assert origin["payload"]["parent_run"] == run.resolve().as_posix()
    copied = origin["payload"]["copied"]
    assert {"alerts.parquet", "decisions.csv"} <= set(copied) and ledger.LEDGER_FILE not in copied
    assert [e["kind"] for e in entries[1:3]] == ["model", "queue"]
    assert entries[2]["payload"]["sha256"] == _sha(out / "alerts.parquet")
    assert entries[2]["payload"]["run"] == out.resolve().as_posix()
    assert ledger.verify(out / ledger.LEDGER_FILE).ok
    assert ledger.verify(led, anchor=(seq, head)).ok, "the parent's history checks against the origin's anchor"
    parent_hashes = {e["hash"] for e in ledger.read_entries(led)}
    assert not parent_hashes & {e["hash"] for e in entries}, "no entry claims the parent's history"
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["parent_run"] == run.resolve().as_posix() and manifest["model"] == "iforest"

    # OUT now is a run with its own ledger: scoring another run into it is refused, and it is left as it was
    mine = (out / ledger.LEDGER_FILE).read_bytes()
    res = CliRunner().invoke(main, ["score", "--run", str(run), "--model", "rules", "--out", str(out)])
    assert res.exit_code == 2 and "exists and is not empty" in res.output and f"score --run {out}" in res.output
    assert (out / ledger.LEDGER_FILE).read_bytes() == mine

    # a parent whose ledger does not verify cannot vouch for a new run: refused, nothing written
    lines = led.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[0] = lines[0].replace('"kind":"model"', '"kind":"modex"', 1)
    led.write_text("".join(lines), encoding="utf-8")
    res = CliRunner().invoke(main, ["score", "--run", str(run), "--model", "rules", "--out", str(tmp_path / "out2")])
    assert res.exit_code == 2 and "does not verify" in res.output and "TAMPERED at line 1" in res.output
    assert not (tmp_path / "out2").exists()


def test_evaluate_after_score_judges_the_queue_reviewers_have(small_run, small_company, tmp_path):
    from riskmodel.reports import evaluation as EV
    from riskmodel.reports.rundata import RunData
    from riskmodel.scoring.evaluate import curves, employee_quarter_truth, load_truth

    run = _copy(small_run, tmp_path / "run")
    trained = json.loads((run / "model_card.json").read_text(encoding="utf-8"))["model"]
    other = "rules" if trained != "rules" else "logistic"
    _cli("score", "--run", run, "--model", other)
    res = _cli("evaluate", "--run", run, "--data", small_company)
    ev = json.loads((run / "evaluation.json").read_text(encoding="utf-8"))

    # the queue's model is "the model"; the trained one is named apart, and judged for its probability
    assert (ev["model"], ev["trained_model"]) == (other, trained)
    assert trained in ev["precision_ratio_vs_baselines"] and other not in ev["precision_ratio_vs_baselines"]
    m = ev["models"]
    assert ev["precision_ratio_vs_baselines"][trained] == pytest.approx(
        m[other]["precision_at_capacity"] / m[trained]["precision_at_capacity"])
    assert ev["calibration"]["model"] == trained

    # the queue as it stands, judged by hand against the truth
    people = pd.read_parquet(run / "alerts.parquet").query("entity_type == 'employee'").reset_index(drop=True)
    y = employee_quarter_truth(load_truth(small_company), people)
    q = ev["queue"]
    assert (q["model"], q["source"], q["people_alerts"]) == (other, "riskmodel score", len(people))
    assert q["precision"] == pytest.approx(y.mean())
    assert q["events_chosen_beside"]["model"] == other and q["event_alerts"] > 0

    assert f"{other} (the queue's model) vs the others" in res.output
    assert "chosen beside the people queue of" not in res.output, "the event alerts were chosen beside this queue"
    assert f"Brier score of {trained} (the trained model)" in res.output

    # the evaluation report agrees: which queue, whose probability, whose stability
    r = RunData(run)
    rows = dict(EV.data_and_labels(r, "en").values)
    assert other in rows["current review queue"] and f"the trained model is {trained}" in rows["current review queue"]
    assert set(EV.calibration_table(r, "en")["model"].iloc[:2]) == {trained}
    assert EV.metrics(r, "en").columns.str.startswith(f"{other}'s precision").any()
    stab = curves(run, small_company)["stability"]
    assert stab.query("by == 'quarter'").queued.sum() == m[other]["queued"]


def test_a_policy_that_queues_nobody_gives_an_empty_queue_on_the_record(small_run, tmp_path):
    """The precision policy may find no cut-off reaching its target: no people alerts, and still a recorded queue."""
    import numpy as np

    from riskmodel.scoring import thresholds as th
    from riskmodel.scoring.pipeline import ALERT_COLUMNS, build_queue, load_model

    bundle = load_model(small_run)
    X = pd.read_parquet(small_run / "features_people.parquet").head(50)
    m = bundle["all_models"]["logistic"]
    cut = th.Cutoff("precision", np.zeros(len(X), bool))
    q = build_queue(m, "logistic", X, m.decision_function(X[bundle["features"]]), cut, pd.DataFrame(), 3)
    assert q.empty and list(q.columns) == ALERT_COLUMNS
    run = _copy(small_run, tmp_path / "run")
    q.to_parquet(run / "alerts.parquet", index=False)
    assert ledger.log_alerts(run) == 2  # the threshold's change, and the (empty) queue file
    assert ledger.read_entries(run / ledger.LEDGER_FILE, "queue")[-1]["payload"]["alerts"] == 0
