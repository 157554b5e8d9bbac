"""The tamper-evident ledger: hash chain, verification of every kind of tampering, concurrent writers, what riskmodel records."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import time

import pandas as pd
import pytest
from click.testing import CliRunner

from riskmodel import ledger
from riskmodel.cli import main

N = 10_000
MID = 5_000


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    """A ledger of 10,000 entries (written in one batch) and its lines."""
    p = tmp_path_factory.mktemp("ledger") / "ledger.jsonl"
    ledger.append_many(p, [("alert", {"alert_id": f"AL-{i:05d}", "score": i / 7, "text": "化整为零规避招标"}, "system") for i in range(N)])
    return p, p.read_bytes().splitlines(keepends=True)


def _write(tmp_path, lines) -> str:
    p = tmp_path / "t.jsonl"
    p.write_bytes(b"".join(lines))
    return p


def _rehash(line: bytes, **changes) -> bytes:
    e = json.loads(line)
    e["payload"].update(changes)
    e["hash"] = ledger._entry_hash(e)
    return ledger.canonical(e) + b"\n"


def test_canonical_encoding_and_genesis(tmp_path):
    assert ledger.canonical({"b": [1, 2], "a": "纪检"}) == '{"a":"纪检","b":[1,2]}'.encode()
    e = ledger.append(tmp_path / "l.jsonl", "report", {"x": 1}, "analyst", actor="张三")
    assert e["prev_hash"] == ledger.GENESIS and e["seq"] == 1
    body = {k: e[k] for k in ("seq", "ts", "kind", "actor_role", "actor", "payload", "prev_hash")}
    assert e["hash"] == hashlib.sha256(ledger.canonical(body)).hexdigest()
    line = (tmp_path / "l.jsonl").read_bytes()
    assert line == ledger.canonical(e) + b"\n"


def test_a_clean_ledger_of_10000_entries_verifies_in_a_few_seconds(big):
    p, _ = big
    t = time.perf_counter()
    r = ledger.verify(p)
    seconds = time.perf_counter() - t
    assert r.ok and r.entries == N and r.first_bad is None
    assert seconds < 5, f"verify took {seconds:.2f}s"
    print(f"\nverify: {N} entries in {seconds:.2f}s")


def _edited(lines):
    out = list(lines)
    out[MID - 1] = out[MID - 1].replace(b'"score":', b'"score":1', 1)
    return out, MID, "was edited"


def _edited_and_rehashed(lines):
    out = list(lines)
    out[MID - 1] = _rehash(out[MID - 1], score=0.0)
    return out, MID + 1, f"line {MID} was changed"


def _deleted(lines):
    return lines[:MID - 1] + lines[MID:], MID, "deleted, inserted or moved"


def _inserted(lines):
    forged = _rehash(lines[MID - 1], alert_id="AL-forged")
    return lines[:MID] + [forged] + lines[MID:], MID + 1, "deleted, inserted or moved"


def _reordered(lines):
    out = list(lines)
    out[MID - 1], out[MID] = out[MID], out[MID - 1]
    return out, MID, "deleted, inserted or moved"


def _cut(lines):
    return lines[:-1] + [lines[-1][:-20]], N, "incomplete"


def _reencoded(lines):
    out = list(lines)
    out[MID - 1] = json.dumps(json.loads(out[MID - 1]), ensure_ascii=True).encode() + b"\n"
    return out, MID, "canonical"


@pytest.mark.parametrize("tamper", [_edited, _edited_and_rehashed, _deleted, _inserted, _reordered, _cut, _reencoded],
                         ids=lambda f: f.__name__.strip("_"))
def test_verify_names_the_first_bad_entry(big, tmp_path, tamper):
    _, lines = big
    bad, first_bad, words = tamper(lines)
    r = ledger.verify(_write(tmp_path, bad))
    assert not r.ok and r.first_bad == first_bad, r.message()
    assert words in r.problem, r.problem


def test_deleting_the_first_entry_is_caught(big, tmp_path):
    _, lines = big
    r = ledger.verify(_write(tmp_path, lines[1:]))
    assert not r.ok and r.first_bad == 1


def test_a_signing_key_catches_a_consistently_rebuilt_chain(tmp_path):
    p = tmp_path / "s.jsonl"
    ledger.append_many(p, [("decision", {"i": i}, "supervisor") for i in range(20)], key="k" * 32)
    assert ledger.verify(p, key="k" * 32).ok
    # rebuild the whole chain after editing entry 10, without the key
    entries = [json.loads(x) for x in p.read_bytes().splitlines()]
    entries[9]["payload"]["i"] = 999
    prev = ledger.GENESIS
    for e in entries:
        e["prev_hash"] = prev
        e["hash"] = prev = ledger._entry_hash(e)
    p.write_bytes(b"".join(ledger.canonical(e) + b"\n" for e in entries))
    assert ledger.verify(p).ok  # without the key a rebuilt chain looks fine ...
    r = ledger.verify(p, key="k" * 32)
    assert not r.ok and r.first_bad == 10 and "signature" in r.problem  # ... with it, it does not


def test_an_anchor_catches_entries_removed_from_the_end(tmp_path):
    p = tmp_path / "a.jsonl"
    ledger.append_many(p, [("report", {"i": i}, "analyst") for i in range(10)])
    anchor = ledger.head(p)
    assert anchor[0] == 10 and ledger.verify(p, anchor=anchor).ok
    p.write_bytes(b"".join(p.read_bytes().splitlines(keepends=True)[:8]))
    assert ledger.verify(p).ok
    r = ledger.verify(p, anchor=anchor)
    assert not r.ok and "removed from the end" in r.problem


def test_appending_refuses_a_tampered_or_torn_ledger(tmp_path):
    p = tmp_path / "t.jsonl"
    ledger.append_many(p, [("report", {"i": i}, "analyst") for i in range(3)])
    lines = p.read_bytes().splitlines(keepends=True)
    p.write_bytes(b"".join(lines[:2] + [lines[2].replace(b'"i":2', b'"i":5')]))
    with pytest.raises(ledger.LedgerError, match="does not match its hash"):
        ledger.append(p, "report", {"i": 3}, "analyst")
    p.write_bytes(b"".join(lines)[:-5])
    with pytest.raises(ledger.LedgerError, match="partial entry"):
        ledger.append(p, "report", {"i": 3}, "analyst")


def test_bad_appends_are_refused(tmp_path):
    p = tmp_path / "x.jsonl"
    with pytest.raises(ledger.LedgerError, match="actor role"):
        ledger.append(p, "report", {}, "intruder")
    with pytest.raises(ledger.LedgerError, match="lowercase"):
        ledger.append(p, "Report!", {}, "analyst")
    with pytest.raises(ledger.LedgerError, match="cannot record"):
        ledger.append(p, "report", {"x": object()}, "analyst")
    e = ledger.append(p, "report", {"when": pd.Timestamp("2025-01-01"), "n": pd.Series([1]).iloc[0], "nan": float("nan")}, "analyst")
    assert e["payload"] == {"when": "2025-01-01T00:00:00", "n": 1, "nan": None}


_WRITER = """
import pathlib, sys, time
from riskmodel import ledger
path, who = sys.argv[1], int(sys.argv[2])
pathlib.Path(path + f".ready{who}").touch()
while not pathlib.Path(path + ".go").exists():  # start together
    time.sleep(0.005)
for i in range(150):
    ledger.append(path, "decision", {"writer": who, "i": i}, "supervisor")
"""


def test_two_processes_appending_at_once_keep_the_chain(tmp_path):
    p = tmp_path / "c.jsonl"
    procs = [subprocess.Popen([sys.executable, "-c", _WRITER, str(p), str(w)]) for w in (1, 2)]
    deadline = time.time() + 60
    while not all((tmp_path / f"c.jsonl.ready{w}").exists() for w in (1, 2)) and time.time() < deadline:
        time.sleep(0.01)
    (tmp_path / "c.jsonl.go").touch()
    assert [pr.wait(120) for pr in procs] == [0, 0]
    r = ledger.verify(p)
    assert r.ok and r.entries == 300, r.message()
    writers = [e["payload"]["writer"] for e in ledger.read_entries(p)]
    assert writers.count(1) == writers.count(2) == 150
    assert any(a != b for a, b in zip(writers, writers[1:]))  # they did interleave


# -- what riskmodel records -------------------------------------------------------------------------------------


def _run(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    alerts = pd.DataFrame({"alert_id": ["AL-1", "AL-2"], "entity_type": "employee", "entity_id": ["E00001", "E00002"],
                           "period": pd.to_datetime(["2025-01-01", "2025-04-01"]), "score": [2.0, 1.5], "rank": [1, 2],
                           "policy": "capacity", "model": "xgboost", "cutoff": 1.0, "department_id": "D001", "position_id": "P03",
                           "reasons": [[{"indicator_id": "PRC-002", "text_zh": "化整为零", "text_en": "split"}], []],
                           "evidence": [["PO1"], ["CL1"]]})
    alerts.to_parquet(run / "alerts.parquet", index=False)
    (run / "model_card.json").write_text(json.dumps({"model": "xgboost", "policy": {"policy": "capacity"}, "data_fingerprint": "f1",
                                                     "code_version": "v1", "features": ["a"]}))
    return run, alerts


def test_log_alerts_records_the_model_and_each_alert_once(tmp_path):
    run, alerts = _run(tmp_path)
    assert ledger.log_alerts(run) == 4  # the model, the queue file, two alerts
    assert ledger.log_alerts(run) == 0  # nothing changed
    alerts.loc[0, "score"] = 2.5
    alerts.to_parquet(run / "alerts.parquet", index=False)
    assert ledger.log_alerts(run) == 2  # the new file, and the changed alert recorded again
    alerts["cutoff"] = 1.2
    alerts.to_parquet(run / "alerts.parquet", index=False)
    assert ledger.log_alerts(run) == 4  # a threshold change, the new file, and both alerts under it
    kinds = [e["kind"] for e in ledger.read_entries(run / ledger.LEDGER_FILE)]
    assert kinds.count("model") == 2 and kinds.count("queue") == 3 and ledger.verify(run / ledger.LEDGER_FILE).ok
    first = ledger.read_entries(run / ledger.LEDGER_FILE, "alert")[0]["payload"]
    assert first["indicators"] == ["PRC-002"] and first["entity_id"] == "E00001"


def test_reviewer_decisions_are_recorded_by_record_decision(tmp_path):
    from riskmodel.scoring.feedback import record_decision

    run, _ = _run(tmp_path)
    record_decision(run, "AL-1", "confirmed", "supervisor", "查实")
    record_decision(run, "AL-2", "needs_information", "analyst")
    d = ledger.read_entries(run / ledger.LEDGER_FILE, "decision")
    assert [(e["payload"]["alert_id"], e["payload"]["decision"], e["actor_role"]) for e in d] == [
        ("AL-1", "confirmed", "supervisor"), ("AL-2", "needs_information", "analyst")]
    assert ledger.verify(run / ledger.LEDGER_FILE).ok
    # a ledger that refuses the entry (torn: a partial last line) leaves the decision out of decisions.csv too:
    # no decision trains the model without its record
    before = (run / "decisions.csv").read_bytes()
    with open(run / ledger.LEDGER_FILE, "ab") as fh:
        fh.write(b'{"seq": 99, "kind": "deci')
    with pytest.raises(ledger.LedgerError, match="partial entry"):
        record_decision(run, "AL-1", "dismissed", "supervisor")
    assert (run / "decisions.csv").read_bytes() == before


def test_log_report_hashes_the_file(tmp_path):
    f = tmp_path / "report.html"
    f.write_text("<p>监督报告</p>", encoding="utf-8")
    e = ledger.log_report(tmp_path / "l.jsonl", f, "supervision_report", "analyst")
    assert e["payload"]["sha256"] == hashlib.sha256(f.read_bytes()).hexdigest()


def test_cli_verify_and_head(big, tmp_path):
    p, lines = big
    runner = CliRunner()
    ok = runner.invoke(main, ["ledger", "verify", str(p)])
    assert ok.exit_code == 0 and "10000 entries, chain intact" in ok.output
    bad = runner.invoke(main, ["ledger", "verify", str(_write(tmp_path, _reordered(lines)[0]))])
    assert bad.exit_code == 1 and f"line {MID}" in bad.output
    h = runner.invoke(main, ["ledger", "head", str(p)])
    assert h.output.startswith(f"{N}:")
    anchored = runner.invoke(main, ["ledger", "verify", str(p), "--anchor", h.output.strip()])
    assert anchored.exit_code == 0
    missing = runner.invoke(main, ["ledger", "verify", str(tmp_path / "nope.jsonl")])
    assert missing.exit_code == 2 and "no ledger" in missing.output
