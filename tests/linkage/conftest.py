"""Fixtures of the linkage tests: the small company as a Dataset, a pseudonym key, and a small run folder.

The run folder is assembled from the small company's tables (not by running the
pipeline, which takes a minute): alerts on the subjects of closed cases, a
cluster of alerts in one post, flags, and reviewers' decisions recorded through
``record_decision`` (so the ledger hook runs too).
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from riskmodel.data.dataset import Dataset
from riskmodel.linkage.deid import Pseudonymizer

KEY = "ab" * 32


@pytest.fixture(scope="session")
def small_ds(small_company) -> Dataset:
    return Dataset.from_dir(small_company, threads=1)


@pytest.fixture(scope="session")
def pseud() -> Pseudonymizer:
    return Pseudonymizer(bytes.fromhex(KEY))


@pytest.fixture
def key_env(monkeypatch):
    """The pseudonym key in the environment (as a deployment would set it)."""
    monkeypatch.setenv("RISKMODEL_PSEUDONYM_KEY", KEY)
    monkeypatch.delenv("RISKMODEL_PSEUDONYM_KEY_FILE", raising=False)
    monkeypatch.delenv("RISKMODEL_ROLE", raising=False)
    return KEY


def _reason(iid: str, zh: str, en: str) -> dict:
    return {"feature": f"{iid}_4q", "indicator_id": iid, "value": 2.0, "contribution": 0.5, "text_zh": zh, "text_en": en}


@pytest.fixture(scope="session")
def small_run(small_company, tmp_path_factory):
    """A run folder on the small company: alerts.parquet, flags.parquet, model_card.json, decisions via record_decision."""
    from riskmodel.linkage.common import holders_at
    from riskmodel.scoring.feedback import record_decision

    tables = {n: pd.read_parquet(small_company / f"{n}.parquet") for n in ("employees", "post_history", "cases", "case_people")}
    ds = Dataset.from_frames(tables)
    emp = tables["employees"].set_index("employee_id")
    end = pd.Timestamp("2025-12-31")
    held = holders_at(ds, end)
    # four alerts in one post with several holders (one dismissed: three remain, an alert concentration)
    subjects = set(tables["case_people"].employee_id)
    sizes = held.groupby(["department_id", "position_id"]).employee_id.nunique()
    dept, pos = sizes[sizes >= 5].index[0]
    cluster = held[(held.department_id == dept) & (held.position_id == pos) & ~held.employee_id.isin(subjects)].employee_id.head(4).tolist()
    # and one confirmed alert on someone elsewhere (a post with no case)
    case_posts = set(zip(tables["cases"].department_id, emp.position_id.reindex(tables["case_people"].employee_id)))
    other = held[~held.employee_id.isin(subjects | set(cluster)) & (held.department_id != dept)]
    other = other[[(d, p) not in case_posts for d, p in zip(other.department_id, other.position_id)]]
    confirmed_emp = other.employee_id.iloc[0]
    rows = []
    for i, e in enumerate([*cluster, confirmed_emp]):
        name = emp.loc[e, "name"]
        reasons = [_reason("RMB-001", f"异地报销无对应出差审批：{name}在外地报销3次", "away-from-home claim with no trip"),
                   _reason("PRC-002" if i % 2 else "RMB-004", "化整为零规避招标", "split purchase")]
        rows.append({"alert_id": f"AL-test{i:04d}", "entity_type": "employee", "entity_id": e, "period": pd.Timestamp("2025-07-01"),
                     "score": 2.0 - 0.1 * i, "rank": i + 1, "policy": "capacity", "model": "xgboost", "cutoff": 0.5,
                     "department_id": emp.loc[e, "department_id"], "position_id": emp.loc[e, "position_id"],
                     "reasons": reasons, "evidence": [e, f"CL{i:07d}", emp.loc[e, "phone"]]})
    alerts = pd.DataFrame(rows)
    flags = pd.DataFrame({
        "indicator_id": ["RMB-001"] * len(alerts) + ["LEAF-002"], "entity_type": "employee",
        "entity_id": [*alerts.entity_id, cluster[0]], "period": [pd.Timestamp("2025-07-01")] * (len(alerts) + 1),
        "value": 2.0, "threshold": 1.0, "threshold_method": "policy", "fired": True, "severity": 2, "evidence": [[]] * (len(alerts) + 1),
        "employee_id": [*alerts.entity_id, cluster[0]], "department_id": [*alerts.department_id, dept],
        "position_id": [*alerts.position_id, pos], "supplier_id": None, "station_id": None, "grower_id": None,
        "text_zh": "", "text_en": ""})
    # and a history of flags over two years, so that before/after comparisons have quarters on both sides
    quarters = pd.date_range("2024-01-01", "2025-10-01", freq="QS")
    hist = pd.DataFrame([(e, q) for e in (cluster[1], confirmed_emp) for q in quarters[::2]], columns=["employee_id", "period"])
    hist = hist.merge(held[["employee_id", "department_id", "position_id"]].drop_duplicates("employee_id"), on="employee_id")
    flags = pd.concat([flags, flags.iloc[[0] * len(hist)].assign(
        entity_id=hist.employee_id.to_numpy(), employee_id=hist.employee_id.to_numpy(), period=hist.period.to_numpy(),
        department_id=hist.department_id.to_numpy(), position_id=hist.position_id.to_numpy())], ignore_index=True)
    run = tmp_path_factory.mktemp("linkage_run") / "run"
    run.mkdir()
    alerts.to_parquet(run / "alerts.parquet", index=False)
    flags.to_parquet(run / "flags.parquet", index=False)
    (run / "model_card.json").write_text(json.dumps({"model": "xgboost", "policy": {"policy": "capacity"}, "data_source": str(small_company),
                                                     "data_fingerprint": "test", "code_version": "test", "features": ["a", "b"]}))
    record_decision(run, f"AL-test{len(cluster):04d}", "confirmed", "supervisor", "查实", decided_at=pd.Timestamp("2025-10-01"))
    record_decision(run, "AL-test0001", "dismissed", "supervisor", decided_at=pd.Timestamp("2025-10-02"))
    run_info = {"dir": run, "cluster_post": (dept, pos), "cluster": cluster, "confirmed_employee": confirmed_emp,
                "confirmed_post": (emp.loc[confirmed_emp, "department_id"], emp.loc[confirmed_emp, "position_id"])}
    np.testing.assert_equal(len(alerts), len(cluster) + 1)
    return run_info
