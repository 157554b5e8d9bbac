"""Reviewer decisions: recorded per alert, read back as labels, and replayed in backtests."""

from __future__ import annotations

import contextlib
import fcntl
import io
from pathlib import Path

import pandas as pd

from riskmodel.config import REVIEWER_ROLES
from riskmodel.data.store import atomic_write_bytes
from riskmodel.errors import InputFileError, RiskModelError

DECISIONS = ("confirmed", "dismissed", "needs_information")
ROLES = ("supervisor", "analyst", "model_reviewer", "education_officer", "leadership")

DECISION_COLUMNS = ["alert_id", "entity_type", "entity_id", "period", "decision", "reviewer_role", "decided_at", "note"]
DECISIONS_FILE = "decisions.csv"


@contextlib.contextmanager
def _locked(path: Path):
    """An exclusive lock beside ``path`` so that two reviewers' writes never interleave."""
    lock = path.with_name(path.name + ".lock")
    with open(lock, "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def read_decisions(path: str | Path) -> pd.DataFrame:
    """Read a decisions CSV (the file ``record_decision`` writes, or one reviewers filled in), checking it.

    ``period`` may be any day of the quarter decided on; it is read as the quarter's first day."""
    path = Path(path)
    if not path.is_file():
        return pd.DataFrame(columns=DECISION_COLUMNS)
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    except (UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise InputFileError(f"{path}: not a readable UTF-8 CSV ({exc}); save it as CSV UTF-8") from exc
    missing = [c for c in ("entity_id", "period", "decision") if c not in df]
    if missing:
        raise InputFileError(f"{path}: missing column(s) {missing}; expected {DECISION_COLUMNS}")
    bad = df[~df.decision.isin(DECISIONS)]
    if len(bad):
        raise InputFileError(f"{path}: column 'decision' has {len(bad)} unknown value(s) {sorted(set(bad.decision))[:5]} "
                             f"(rows {list(bad.index[:5] + 2)}); allowed: {', '.join(DECISIONS)}")
    period = pd.to_datetime(df.period, errors="coerce")
    if period.isna().any():
        rows = list(df.index[period.isna()][:5] + 2)
        raise InputFileError(f"{path}: column 'period' has unreadable dates in rows {rows}; use YYYY-MM-DD")
    # labels are per employee-quarter: any day of a quarter stands for it (2025-02-15 is 2025Q1)
    df["period"] = period.dt.to_period("Q").dt.start_time
    if "decided_at" in df:
        df["decided_at"] = pd.to_datetime(df.decided_at, errors="coerce")
    return df


def record_decision(run_dir: str | Path, alert_id: str, decision: str, reviewer_role: str, note: str = "",
                    decided_at: pd.Timestamp | None = None) -> dict:
    """Append a reviewer's decision on an alert to ``RUN/decisions.csv`` (atomically, under a lock)."""
    run_dir = Path(run_dir)
    if decision not in DECISIONS:
        raise RiskModelError(f"decision must be one of {', '.join(DECISIONS)}, not {decision!r}")
    if reviewer_role not in REVIEWER_ROLES:
        raise RiskModelError(f"reviewer role must be one of {', '.join(REVIEWER_ROLES)}, not {reviewer_role!r}: decisions on alerts "
                             f"are made by those who review the identified queue (leadership and education officers see "
                             f"de-identified reports only)")
    if not (run_dir / "alerts.parquet").is_file():
        raise RiskModelError(f"{run_dir} is not a run folder (no alerts.parquet): give --run the folder that "
                             f"'riskmodel run --out' wrote")
    alerts = pd.read_parquet(run_dir / "alerts.parquet", columns=["alert_id", "entity_type", "entity_id", "period"])
    hit = alerts[alerts.alert_id == alert_id]
    if hit.empty:
        raise RiskModelError(f"no alert {alert_id} in {run_dir / 'alerts.parquet'}; the queue's alert ids are in that file "
                             f"(or: riskmodel export alerts --run {run_dir} --role supervisor --out queue.csv)")
    a = hit.iloc[0]
    row = {"alert_id": alert_id, "entity_type": a.entity_type, "entity_id": a.entity_id, "period": pd.Timestamp(a.period).date().isoformat(),
           "decision": decision, "reviewer_role": reviewer_role,
           "decided_at": (decided_at or pd.Timestamp.now()).isoformat(timespec="seconds"), "note": note}
    path = run_dir / DECISIONS_FILE
    try:  # the tamper-evident record (riskmodel.ledger, issue #7), when installed: RUN/ledger.jsonl
        from riskmodel.ledger import log_decision
    except ImportError:
        log_decision = None
    with _locked(path):
        old = pd.read_csv(path, dtype=str, keep_default_na=False) if path.is_file() else pd.DataFrame(columns=DECISION_COLUMNS)
        new = pd.concat([old, pd.DataFrame([row])], ignore_index=True)
        buf = io.StringIO()
        new.to_csv(buf, index=False)
        # under the decisions lock, the ledger first: a decision that trains the model is never left out of the
        # record (a ledger that refuses the entry, e.g. a torn one, leaves decisions.csv as it was), and two
        # reviewers' decisions reach both files in the same order
        if log_decision is not None:
            log_decision(run_dir, row)
        atomic_write_bytes(path, buf.getvalue().encode("utf-8"))
    return row
