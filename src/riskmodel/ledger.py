"""The tamper-evident record: a hash-chained log of alerts, decisions, model changes, reports and tier changes.

One JSON object per line (JSON lines).  Every entry carries the hash of the
entry before it, so editing, deleting, inserting or reordering any entry
breaks the chain at that point, and :func:`verify` names the first bad entry.
This is what the paper's "blockchain" asks for (区块链保证监督教育数据不易被篡改),
without the distributed part: one office, one append-only file.

Entry
-----
``seq``          1-based position; equals the line number
``ts``           UTC time of the append (ISO 8601)
``kind``         what is recorded: ``alert``, ``queue``, ``decision``, ``model``, ``report``, ``tier_change``,
                 ``origin``, ... (see :data:`KINDS`; other lowercase words are accepted)
``actor_role``   the role that caused it (one of :data:`ACTOR_ROLES`)
``actor``        who, where known (a user name or id), else ``null``
``payload``      the record itself (any JSON object)
``prev_hash``    ``hash`` of the previous entry (64 zeros for the first)
``hash``         SHA-256 over the canonical encoding of the fields above
``sig``          optional: HMAC-SHA256 of ``hash`` with a signing key

The canonical encoding is JSON with sorted keys, no whitespace, UTF-8
(``ensure_ascii=False``); lines are written in that same encoding.

What it protects against, and what not
--------------------------------------
Without a key, anyone who can write the file can rebuild the whole chain
after an edit; record the head (:func:`head`: last ``seq`` and ``hash``) in a
report or send it elsewhere and pass it to ``verify(anchor=...)``, or sign with
a key kept away from the file (``RISKMODEL_LEDGER_KEY``).  Removing entries at
the end leaves a valid shorter chain: only an anchor detects that.

What a run's ledger holds
-------------------------
``riskmodel run``, ``train`` and ``score`` record every review queue they write
(:func:`log_alerts`: the model and threshold, the file's hash, each new alert)
before anyone can read it; ``riskmodel decide`` records each decision, the
report commands each report.  A rerun or retrain carries the ledger into the
new folder and its chain goes on; ``score --out`` starts a new chain in the new
folder whose first entry names the parent run and its ledger's head
(:func:`log_origin`).

Writers
-------
Appends take an exclusive ``fcntl`` lock on ``PATH.lock`` and write each batch
with one ``write`` on a file opened with ``O_APPEND``, then ``fsync``: two
processes never interleave and a reader never sees half an entry, except
after a crash mid-write, which :func:`verify` reports as an unreadable last
line (and :func:`append` refuses to chain onto).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import hmac
import json
import math
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from riskmodel.errors import RiskModelError

GENESIS = "0" * 64
#: roles that may appear as ``actor_role`` (riskmodel's five roles, plus ``system`` for automatic records)
ACTOR_ROLES = ("supervisor", "analyst", "model_reviewer", "education_officer", "leadership", "system")
#: the kinds riskmodel itself writes
KINDS = ("alert", "queue", "decision", "model", "report", "tier_change", "origin")
LEDGER_FILE = "ledger.jsonl"
KEY_ENV = "RISKMODEL_LEDGER_KEY"
_KIND = re.compile(r"[a-z][a-z0-9_]{0,39}")
_FIELDS = ("seq", "ts", "kind", "actor_role", "actor", "payload", "prev_hash")


class LedgerError(RiskModelError):
    """A ledger cannot be read or appended to (not: a failed verification, which is a result)."""


def canonical(obj: Any) -> bytes:
    """The canonical encoding: JSON, sorted keys, no whitespace, UTF-8.

    Examples
    --------
    >>> canonical({"b": 1, "a": "监督"})
    b'{"a":"\\xe7\\x9b\\x91\\xe7\\x9d\\xa3","b":1}'
    """
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8")


def jsonable(value: Any) -> Any:
    """Turn numpy/pandas scalars, timestamps, paths, sets and NaN into plain JSON values.

    Examples
    --------
    >>> import numpy as np
    >>> jsonable({"n": np.int64(3), "x": float("nan"), "s": {"b", "a"}})
    {'n': 3, 'x': None, 's': ['a', 'b']}
    """
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (set, frozenset)):
        return sorted(jsonable(v) for v in value)
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, Path):
        return value.as_posix()
    if isinstance(value, (dt.datetime, dt.date)):
        return None if str(value) == "NaT" else value.isoformat()
    if isinstance(value, np.datetime64):
        return None if np.isnat(value) else pd.Timestamp(value).isoformat()
    if hasattr(value, "tolist"):  # numpy scalars and arrays
        return jsonable(value.tolist())
    if value is pd.NaT or value is pd.NA:
        return None
    raise LedgerError(f"cannot record a value of type {type(value).__name__} ({value!r:.60}) in the ledger; "
                      f"convert it to text or a number first")


def _entry_hash(entry: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical({f: entry.get(f) for f in _FIELDS})).hexdigest()


def _sign(key: bytes, digest: str) -> str:
    return hmac.new(key, digest.encode("ascii"), hashlib.sha256).hexdigest()


def signing_key(key: bytes | str | None = None) -> bytes | None:
    """The HMAC signing key: ``key`` if given, else ``$RISKMODEL_LEDGER_KEY``, else None (no signatures)."""
    if key is None:
        key = os.environ.get(KEY_ENV) or None
    if key is None:
        return None
    return key.encode("utf-8") if isinstance(key, str) else bytes(key)


@contextlib.contextmanager
def locked(path: str | Path) -> Iterator[None]:
    """Hold the writer lock of the ledger at ``path`` (``PATH.lock``, exclusive ``fcntl`` lock).

    For a writer that must do something else under the same lock as its append (write the file the entry
    records, say): inside the block, append with ``lock=False``.  The lock is per open file, so taking it again
    inside the block, even in the same process, would wait for ever.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _last_line(path: Path) -> bytes | None:
    """The last line of a file, read backwards from the end (None when the file is empty)."""
    with open(path, "rb") as fh:
        fh.seek(0, os.SEEK_END)
        end = fh.tell()
        if end == 0:
            return None
        fh.seek(end - 1)
        if fh.read(1) != b"\n":
            raise LedgerError(f"{path} ends with a partial entry (an interrupted write); run 'riskmodel ledger verify {path}' "
                              f"and restore the file from a copy before appending")
        pos, buf = end - 1, b""  # buf never holds the final newline
        while pos > 0:
            step = min(65536, pos)
            pos -= step
            fh.seek(pos)
            buf = fh.read(step) + buf
            nl = buf.rfind(b"\n")
            if nl != -1:
                return buf[nl + 1:]
        return buf


def _tail(path: Path) -> tuple[int, str]:
    """(seq, hash) of the last entry, checking it is intact."""
    if not path.is_file():
        return 0, GENESIS
    line = _last_line(path)
    if line is None:
        return 0, GENESIS
    try:
        last = json.loads(line)
        seq, digest = int(last["seq"]), str(last["hash"])
    except (ValueError, KeyError, TypeError) as exc:
        raise LedgerError(f"the last entry of {path} is unreadable ({exc}); run 'riskmodel ledger verify {path}'") from exc
    if _entry_hash(last) != digest:
        raise LedgerError(f"the last entry of {path} (seq {seq}) does not match its hash; the ledger was changed. "
                          f"Run 'riskmodel ledger verify {path}' before appending")
    return seq, digest


def _build(kind: str, payload: Mapping[str, Any], actor_role: str, actor: str | None) -> dict:
    if not _KIND.fullmatch(str(kind)):
        raise LedgerError(f"ledger kind {kind!r} must be a lowercase word such as {', '.join(KINDS)}")
    if actor_role not in ACTOR_ROLES:
        raise LedgerError(f"actor role {actor_role!r} is not one of {', '.join(ACTOR_ROLES)}")
    if not isinstance(payload, Mapping):
        raise LedgerError(f"a ledger payload must be a mapping (a dict), not {type(payload).__name__}")
    return {"kind": kind, "actor_role": actor_role, "actor": None if actor is None else str(actor), "payload": jsonable(payload)}


def append_many(path: str | Path, records: Iterable[tuple[str, Mapping[str, Any], str] | tuple[str, Mapping[str, Any], str, str | None]],
                key: bytes | str | None = None, lock: bool = True) -> list[dict]:
    """Append several entries in one locked write.

    Parameters
    ----------
    path : path-like
        The ledger file (created if missing).
    records : iterable of (kind, payload, actor_role[, actor])
    key : bytes or str, optional
        HMAC signing key (default: ``$RISKMODEL_LEDGER_KEY`` if set).
    lock : bool, default=True
        Take the ledger's lock for the append; False only where the caller holds it already (:func:`locked`,
        or :func:`riskmodel.scoring.pipeline.run_locks` around a run folder being replaced) or writes a ledger
        in a folder no one else knows of yet.

    Returns
    -------
    list of dict
        The entries as written.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "ledger.jsonl"
    >>> [e["seq"] for e in append_many(p, [("report", {"n": 1}, "analyst"), ("report", {"n": 2}, "analyst")])]
    [1, 2]
    """
    path = Path(path)
    built = [_build(*r) if len(r) == 4 else _build(*r, None) for r in records]
    if not built:
        return []
    k = signing_key(key)
    with locked(path) if lock else contextlib.nullcontext():
        seq, prev = _tail(path)
        now = dt.datetime.now(dt.timezone.utc).isoformat(timespec="microseconds")
        lines = []
        for b in built:
            seq += 1
            entry = {"seq": seq, "ts": now, **b, "prev_hash": prev}
            entry["hash"] = prev = _entry_hash(entry)
            if k is not None:
                entry["sig"] = _sign(k, entry["hash"])
            lines.append(canonical(entry) + b"\n")
            b.clear()
            b.update(entry)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        try:
            data = b"".join(lines)
            written = os.write(fd, data)
            if written != len(data):
                raise LedgerError(f"short write to {path} ({written} of {len(data)} bytes); the disk may be full")
            os.fsync(fd)
        finally:
            os.close(fd)
    return built


def append(path: str | Path, kind: str, payload: Mapping[str, Any], actor_role: str, actor: str | None = None,
           key: bytes | str | None = None) -> dict:
    """Append one entry to the hash-chained ledger at ``path`` (atomic, safe against concurrent writers).

    Parameters
    ----------
    path : path-like
        The ledger file, created if missing (a run's ledger is ``RUN/ledger.jsonl``).
    kind : str
        What is recorded (``alert``, ``decision``, ``model``, ``report``, ``tier_change``, ...).
    payload : mapping
        The record; numpy/pandas values are converted to JSON.
    actor_role : str
        One of :data:`ACTOR_ROLES`.
    actor : str, optional
        Who (user name or id).
    key : bytes or str, optional
        HMAC signing key (default: ``$RISKMODEL_LEDGER_KEY`` if set).

    Returns
    -------
    dict
        The entry as written (with ``seq``, ``hash``, ``prev_hash``).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "ledger.jsonl"
    >>> e = append(p, "decision", {"alert_id": "AL-1", "decision": "confirmed"}, "supervisor")
    >>> e["seq"], e["prev_hash"] == GENESIS, verify(p).ok
    (1, True, True)
    """
    return append_many(path, [(kind, payload, actor_role, actor)], key=key)[0]


@dataclass(frozen=True)
class Verification:
    """The result of :func:`verify`.

    ``first_bad`` is the line number (= expected ``seq``) of the first entry
    that fails, or None when the whole chain holds.
    """

    path: str
    ok: bool
    entries: int
    first_bad: int | None = None
    problem: str = ""
    head_hash: str = GENESIS
    signed: bool = False

    def message(self) -> str:
        if self.ok:
            sig = ", signatures checked" if self.signed else ""
            return f"{self.path}: {self.entries} entries, chain intact{sig} (head {self.head_hash[:16]})"
        return f"{self.path}: TAMPERED at line {self.first_bad}: {self.problem}"


def verify(path: str | Path, key: bytes | str | None = None, anchor: tuple[int, str] | None = None) -> Verification:
    """Check every entry's hash, its link to the previous entry, its position and (with a key) its signature.

    Parameters
    ----------
    path : path-like
        The ledger.
    key : bytes or str, optional
        The signing key; when given (or ``$RISKMODEL_LEDGER_KEY`` is set), every entry must carry a valid ``sig``.
    anchor : (int, str), optional
        A ``(seq, hash)`` recorded earlier (:func:`head`); the ledger must still hold that entry unchanged,
        which also detects entries removed from the end.

    Returns
    -------
    Verification
        ``ok``, number of entries, and for a broken chain the first bad line and what is wrong with it.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "ledger.jsonl"
    >>> _ = append_many(p, [("report", {"n": i}, "analyst") for i in range(3)])
    >>> lines = p.read_text(encoding="utf-8").splitlines()
    >>> _ = p.write_text("\\n".join([lines[0], lines[2], lines[1]]) + "\\n", encoding="utf-8")
    >>> r = verify(p)
    >>> r.ok, r.first_bad
    (False, 2)
    """
    path = Path(path)
    if not path.is_file():
        raise LedgerError(f"no ledger at {path}; a run's ledger is RUN/{LEDGER_FILE} (begun by 'riskmodel run', which records "
                          f"its queue there)")
    k = signing_key(key)
    prev, n = GENESIS, 0

    def bad(line_no: int, problem: str) -> Verification:
        return Verification(str(path), False, n, line_no, problem, prev, k is not None)

    with open(path, "rb") as fh:
        for line_no, raw in enumerate(fh, start=1):
            if not raw.endswith(b"\n"):
                return bad(line_no, "the last line is incomplete (an interrupted write or a cut file)")
            try:
                e = json.loads(raw)
            except ValueError:
                return bad(line_no, "not a readable JSON entry (edited by hand or corrupted)")
            if not isinstance(e, dict) or any(f not in e for f in (*_FIELDS, "hash")):
                return bad(line_no, "an entry with missing fields (edited or forged)")
            if e["seq"] != line_no:
                return bad(line_no, f"holds entry seq {e['seq']} where seq {line_no} belongs: an entry was deleted, inserted or moved")
            if e["prev_hash"] != prev:
                return bad(line_no, f"its prev_hash does not match line {line_no - 1}'s hash: line {line_no - 1} was changed and "
                                    f"re-hashed, or an entry before it was deleted, inserted or moved")
            if _entry_hash(e) != e["hash"]:
                return bad(line_no, f"its content does not match its hash: entry seq {e['seq']} ({e['kind']}) was edited")
            if k is not None and not hmac.compare_digest(str(e.get("sig", "")), _sign(k, e["hash"])):
                return bad(line_no, "missing or wrong signature: the entry was written or re-hashed without the signing key")
            if raw.rstrip(b"\n") != canonical(e):
                return bad(line_no, "not in canonical form (re-encoded or edited by hand)")
            prev, n = e["hash"], line_no
    if anchor is not None:
        a_seq, a_hash = int(anchor[0]), str(anchor[1])
        if a_seq > n:
            return Verification(str(path), False, n, n + 1, f"the anchor names seq {a_seq} but the ledger ends at {n}: "
                                                            f"entries were removed from the end", prev, k is not None)
        if not _hash_at(path, a_seq).startswith(a_hash):
            return Verification(str(path), False, n, a_seq, f"entry seq {a_seq} differs from the anchor's hash: "
                                                            f"the ledger was rebuilt", prev, k is not None)
    return Verification(str(path), True, n, None, "", prev, k is not None)


def _hash_at(path: Path, seq: int) -> str:
    with open(path, "rb") as fh:
        for line_no, raw in enumerate(fh, start=1):
            if line_no == seq:
                return str(json.loads(raw)["hash"])
    return ""


def head(path: str | Path) -> tuple[int, str]:
    """``(seq, hash)`` of the last entry: record it elsewhere and pass it to ``verify(anchor=...)`` later.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "ledger.jsonl"
    >>> head(p)[0]
    0
    """
    path = Path(path)
    with locked(path):
        return _tail(path)


def read_entries(path: str | Path, kind: str | None = None) -> list[dict]:
    """Every entry (optionally of one kind), in order; does not verify (call :func:`verify` for that)."""
    path = Path(path)
    if not path.is_file():
        return []
    out = []
    with open(path, "rb") as fh:
        for raw in fh:
            if raw.strip():
                e = json.loads(raw)
                if kind is None or e.get("kind") == kind:
                    out.append(e)
    return out


# -- what riskmodel records ------------------------------------------------------------------------------


def log_decision(run_dir: str | Path, row: Mapping[str, Any], key: bytes | str | None = None) -> dict:
    """Record a reviewer's decision (a row of ``decisions.csv``) in ``RUN/ledger.jsonl``."""
    return append(Path(run_dir) / LEDGER_FILE, "decision", dict(row), str(row.get("reviewer_role", "system")), key=key)


def log_report(ledger: str | Path, report: str | Path, what: str, actor_role: str, actor: str | None = None,
               extra: Mapping[str, Any] | None = None, key: bytes | str | None = None) -> dict:
    """Record that a report or export was produced: its path, size and SHA-256, who asked, for which role."""
    report = Path(report)
    data = report.read_bytes()
    payload = {"report": what, "path": report.as_posix(), "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest(),
               **(extra or {})}
    return append(ledger, "report", payload, actor_role, actor, key=key)


#: the file holding a run's review queue (people and event alerts), what :func:`log_alerts` records
ALERTS_FILE = "alerts.parquet"


def log_alerts(run_dir: str | Path, ledger: str | Path | None = None, actor_role: str = "system",
               key: bytes | str | None = None, *, source: str = "riskmodel ledger log-alerts", written: bool = False,
               record_as: str | Path | None = None, lock: bool = True) -> int:
    """Record a run's review queue in its ledger: the model and threshold, the queue file, every alert.

    Three kinds of entry, in this order:

    ``model``
        The queue's model and policy (with its cut-offs), the trained model, the data fingerprint, the code
        version and the number of features; appended when it differs from the last ``model`` entry: a model or
        threshold change.
    ``queue``
        The file itself (``alerts.parquet``: path, size, SHA-256), its number of alerts (people, events), the model
        and policy of its people queue, the command that wrote it (``written_by``, from the model card) and the one
        that recorded it (``recorded_by``).  A command that has just written the queue (``written=True``:
        ``riskmodel run``, ``train`` and ``score`` do) records it even when it is byte for byte the last one
        recorded, since writing it again is an event; otherwise it is appended only when the file differs from the
        last ``queue`` entry.
    ``alert``
        Each alert not recorded before (by ``alert_id`` and a hash of its content).

    So ``riskmodel ledger log-alerts`` on a queue already recorded appends nothing, and after the queue was
    replaced by hand it records the file that is there now.

    Parameters
    ----------
    run_dir : path-like
        A run folder (``alerts.parquet``, ``model_card.json``).
    ledger : path-like, optional
        Default ``RUN/ledger.jsonl``.
    actor_role : str, default='system'
    key : bytes or str, optional
    source : str, default='riskmodel ledger log-alerts'
        The command recording the queue (``recorded_by``).
    written : bool, default=False
        True when ``source`` has just written the queue.
    record_as : path-like, optional
        The run folder's name in the record, where ``run_dir`` is a temporary folder that will replace it.
    lock : bool, default=True
        See :func:`append_many`.

    Returns
    -------
    int
        Number of entries appended.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> run = pathlib.Path(tempfile.mkdtemp())
    >>> pd.DataFrame({"alert_id": ["AL-1"], "entity_type": ["employee"], "entity_id": ["E1"], "score": [2.0]}).to_parquet(
    ...     run / "alerts.parquet")
    >>> log_alerts(run), log_alerts(run)  # model, queue, one alert; then nothing new
    (3, 0)
    >>> [e["kind"] for e in read_entries(run / LEDGER_FILE)]
    ['model', 'queue', 'alert']
    """
    run_dir = Path(run_dir)
    ledger = Path(ledger) if ledger else run_dir / LEDGER_FILE
    alerts_path = run_dir / ALERTS_FILE
    if not alerts_path.is_file():
        raise LedgerError(f"no {ALERTS_FILE} in {run_dir}; run 'riskmodel run --out {run_dir}' first")
    data = alerts_path.read_bytes()
    try:
        alerts = pd.read_parquet(alerts_path)
    except Exception as exc:  # pyarrow's errors have no common base
        raise LedgerError(f"{alerts_path} is not a readable Parquet file ({exc}); run 'riskmodel run --out {run_dir}' "
                          f"again") from exc
    card_path = run_dir / "model_card.json"
    try:
        card = json.loads(card_path.read_text(encoding="utf-8")) if card_path.is_file() else {}
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise LedgerError(f"{card_path} is not a readable model card ({exc}); run 'riskmodel run --out {run_dir}' "
                          f"again") from exc
    run_name = Path(record_as or run_dir).resolve().as_posix()
    cutoffs = sorted({round(float(c), 12) for c in alerts["cutoff"].dropna()}) if "cutoff" in alerts else []
    queue = card.get("queue") or {}  # 'riskmodel score' may have re-queued people with another model or policy
    model = {"run": run_name, "model": queue.get("model", card.get("model")),
             "policy": jsonable(queue.get("policy", card.get("policy"))), "trained_model": card.get("model"), "cutoffs": cutoffs,
             "data_fingerprint": card.get("data_fingerprint"), "code_version": card.get("code_version"),
             "features": len(card.get("features") or [])}
    people = int((alerts.entity_type == "employee").sum()) if "entity_type" in alerts else len(alerts)
    policy = model["policy"]
    record = {"run": run_name, "file": ALERTS_FILE, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest(),
              "alerts": len(alerts), "people_alerts": people, "event_alerts": len(alerts) - people,
              "model": model["model"], "policy": policy.get("policy") if isinstance(policy, dict) else policy,
              "trained_model": model["trained_model"], "written_by": queue.get("source"), "recorded_by": source,
              # the people queue the event alerts were chosen beside (after 'riskmodel score', this one or an earlier one)
              "events_chosen_beside": jsonable(queue.get("events_chosen_beside"))}
    with locked(ledger) if lock else contextlib.nullcontext():  # read what is recorded and append under one lock
        old = read_entries(ledger)
        last_model = next((e["payload"] for e in reversed(old) if e["kind"] == "model"), None)
        last_queue = next((e["payload"] for e in reversed(old) if e["kind"] == "queue"), None)
        records: list = []
        compare = {k: v for k, v in model.items() if k != "run"}
        if last_model is None or {k: v for k, v in last_model.items() if k != "run"} != jsonable(compare):
            records.append(("model", model, actor_role))
        if written or last_queue is None or last_queue.get("sha256") != record["sha256"]:
            records.append(("queue", record, actor_role))
        seen = {(e["payload"].get("alert_id"), e["payload"].get("content_sha256")) for e in old if e["kind"] == "alert"}
        cols = [c for c in ("alert_id", "entity_type", "entity_id", "period", "score", "rank", "policy", "model", "cutoff",
                            "department_id", "position_id") if c in alerts]
        for row in alerts.to_dict("records"):  # alerts are a review queue (tens to hundreds), not transactions
            body = {c: jsonable(row[c]) for c in cols}
            reasons = row.get("reasons")
            body["indicators"] = sorted({r.get("indicator_id") for r in (reasons if reasons is not None else []) if r.get("indicator_id")})
            body["content_sha256"] = hashlib.sha256(canonical(jsonable(row))).hexdigest()
            if (body["alert_id"], body["content_sha256"]) not in seen:
                records.append(("alert", body, actor_role))
        append_many(ledger, records, key=key, lock=False)
    return len(records)


def log_origin(ledger: str | Path, parent_run: str | Path, parent: Verification | None, copied: Iterable[str],
               source: str, actor_role: str = "system", key: bytes | str | None = None, lock: bool = True) -> dict:
    """Start the chain of a run folder made from another run: its first entry names the parent and its ledger's head.

    A copy of the parent's ledger would be a second chain claiming the parent's history, going on apart from it;
    instead the new folder's chain starts here (``seq`` 1, ``kind`` ``origin``), and the parent's history up to this
    moment stays in the parent's ledger, pinned by ``parent_head`` (``seq`` and ``hash``): check it with
    ``riskmodel ledger verify PARENT/ledger.jsonl --anchor SEQ:HASH``.

    Parameters
    ----------
    ledger : path-like
        The new folder's ledger; it must not exist yet or be empty.
    parent_run : path-like
        The run folder copied.
    parent : Verification or None
        :func:`verify` of the parent's ledger (it must hold), or None when the parent has none.
    copied : iterable of str
        The names copied from the parent.
    source : str
        The command that made the copy.
    actor_role, key, lock
        As for :func:`append_many`.

    Returns
    -------
    dict
        The entry as written.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> parent, child = (pathlib.Path(tempfile.mkdtemp()) for _ in range(2))
    >>> _ = append(parent / LEDGER_FILE, "report", {"n": 1}, "analyst")
    >>> e = log_origin(child / LEDGER_FILE, parent, verify(parent / LEDGER_FILE), ["alerts.parquet"], "riskmodel score --out")
    >>> e["seq"], e["payload"]["parent_head"]["seq"], e["payload"]["parent_head"]["hash"] == head(parent / LEDGER_FILE)[1]
    (1, 1, True)
    """
    ledger = Path(ledger)
    if parent is not None and not parent.ok:
        raise LedgerError(f"the ledger of {parent_run} does not verify ({parent.message()}); a run made from it cannot "
                          f"vouch for its history: restore {parent.path} from a copy first")
    with locked(ledger) if lock else contextlib.nullcontext():
        if ledger.is_file() and ledger.stat().st_size:
            raise LedgerError(f"{ledger} already holds entries; an 'origin' entry starts a new chain")
        payload = {"parent_run": Path(parent_run).resolve().as_posix(),
                   "parent_ledger": Path(parent.path).resolve().as_posix() if parent is not None else None,
                   "parent_head": {"seq": parent.entries, "hash": parent.head_hash} if parent is not None else None,
                   "copied": sorted(copied), "made_by": source,
                   "note": "this run folder was made from parent_run; its own chain starts here. The parent's earlier "
                           "records (its alerts, decisions, reports) are in parent_ledger up to parent_head: check them "
                           "with 'riskmodel ledger verify PARENT_LEDGER --anchor SEQ:HASH'"}
        return append_many(ledger, [("origin", payload, actor_role)], key=key, lock=False)[0]
