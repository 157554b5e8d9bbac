"""Shared helpers of the linkage room: opening data, reading a run, who held which post when."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from riskmodel.data.dataset import Dataset
from riskmodel.errors import RiskModelError

DataLike = Dataset | Mapping[str, pd.DataFrame] | str | Path


def as_dataset(data: DataLike) -> Dataset:
    """A :class:`~riskmodel.data.dataset.Dataset` from a Dataset, a folder path or a mapping of tables.

    A folder is checked against the data contract as it is opened (as every command that computes checks it:
    :meth:`~riskmodel.data.dataset.Dataset.from_dir` with ``check=True``); a folder written by ``generate`` or
    ``validate --write-parquet`` is trusted while its manifest matches.

    Examples
    --------
    >>> ds = as_dataset({"positions": pd.DataFrame({"position_id": ["P1"]})})
    >>> sorted(ds.tables)
    ['positions']
    """
    if isinstance(data, Dataset):
        return data
    if isinstance(data, Mapping):
        return Dataset.from_frames(dict(data), threads=1)
    path = Path(data)
    if not path.exists():
        raise RiskModelError(f"no dataset at {path}; pass --data DIR (a folder written by 'riskmodel generate' or your own tables)")
    return Dataset.from_dir(path, check=True, threads=1)


def table(data: Dataset, name: str, needed_by: str) -> pd.DataFrame:
    """A whole table, or a clear error naming the step that needs it."""
    data.require(name, needed_by=needed_by)
    return data.table(name)


def as_of_date(data: Dataset, as_of: str | pd.Timestamp | None = None) -> pd.Timestamp:
    """``as_of`` if given, else the last day with activity in the data (else the last archive date, else today)."""
    if as_of is not None:
        return pd.Timestamp(as_of).normalize()
    try:
        return data.period()[1]
    except RiskModelError:
        pass
    if data.has("cases"):
        c = data.table("cases")
        d = pd.concat([c.opened_date, c.closed_date]).dropna()
        if len(d):
            return pd.Timestamp(d.max()).normalize()
    return pd.Timestamp.today().normalize()


def holders_at(data: Dataset, as_of: pd.Timestamp) -> pd.DataFrame:
    """Who holds which post on ``as_of``: employee_id, department_id, position_id, start_date (leavers excluded)."""
    ph = table(data, "post_history", "finding a post's holders")
    emp = table(data, "employees", "finding a post's holders")
    on = ph[(ph.start_date <= as_of) & (ph.end_date.isna() | (ph.end_date >= as_of))]
    gone = set(emp.employee_id[emp.leave_date.notna() & (emp.leave_date <= as_of)])
    on = on[~on.employee_id.isin(gone)]
    return on[["employee_id", "department_id", "position_id", "start_date"]].reset_index(drop=True)


def post_on(data: Dataset, people: pd.DataFrame, date_col: str, dept_col: str | None = None) -> pd.DataFrame:
    """The post (department_id, position_id) each row's ``employee_id`` held on the row's date.

    Where ``dept_col`` is given, a post in that department is preferred (the
    latest held there on or before the date), then any post held on the date,
    then the employee's current post.  Returns ``people`` with ``post_department_id``
    and ``post_position_id`` added.
    """
    ph = table(data, "post_history", "finding who held which post")
    emp = table(data, "employees", "finding who held which post")
    p = people.reset_index(drop=True).copy()
    p["_row"] = np.arange(len(p))
    cols = {date_col: "_date", **({dept_col: "_dept"} if dept_col else {})}
    m = p[["_row", "employee_id", *cols]].rename(columns=cols).merge(ph, on="employee_id", how="inner")
    started = m.start_date <= m._date
    on_date = started & (m.end_date.isna() | (m.end_date >= m._date))
    pick = pd.DataFrame(index=p._row)
    if dept_col:
        same = m[started & (m.department_id == m._dept)].sort_values("start_date").groupby("_row").last()
        pick["d1"], pick["p1"] = same.department_id, same.position_id
    anyp = m[on_date].sort_values("start_date").groupby("_row").last()
    pick["d2"], pick["p2"] = anyp.department_id, anyp.position_id
    cur = p[["_row", "employee_id"]].merge(emp[["employee_id", "department_id", "position_id"]], on="employee_id", how="left").set_index("_row")
    d = pick.get("d1", pd.Series(index=pick.index, dtype=object)).fillna(pick.d2).fillna(cur.department_id)
    q = pick.get("p1", pd.Series(index=pick.index, dtype=object)).fillna(pick.p2).fillna(cur.position_id)
    p["post_department_id"] = d.reindex(p._row).to_numpy()
    p["post_position_id"] = q.reindex(p._row).to_numpy()
    return p.drop(columns="_row")


def read_run(run_dir: str | Path, needs_alerts: bool = True, employees: list[str] | None = None) -> dict[str, pd.DataFrame]:
    """A run folder's alerts, decisions and (if present) flags and scores.

    ``employees`` reads only those people's flags (DuckDB pushes the filter into the scan; a run holds hundreds of
    thousands of flags).  Raises a :class:`~riskmodel.errors.RiskModelError` saying how to make a run when there is none.
    """
    from riskmodel.scoring.feedback import DECISIONS_FILE, read_decisions

    run_dir = Path(run_dir)
    out: dict[str, pd.DataFrame] = {}
    alerts = run_dir / "alerts.parquet"
    if alerts.is_file():
        out["alerts"] = pd.read_parquet(alerts)
    elif needs_alerts:
        raise RiskModelError(f"no alerts.parquet in {run_dir}; make a run with 'riskmodel run --data DIR --out {run_dir}'")
    else:
        out["alerts"] = pd.DataFrame(columns=["alert_id", "entity_type", "entity_id", "period", "department_id", "position_id", "reasons"])
    out["decisions"] = read_decisions(run_dir / DECISIONS_FILE)
    for name in ("flags", "scores"):
        p = run_dir / f"{name}.parquet"
        if p.is_file() and name == "flags" and employees is not None:
            import duckdb

            with duckdb.connect() as con:  # through Arrow: the column types pandas.read_parquet gives
                out[name] = con.sql(f"SELECT * FROM read_parquet('{p.as_posix()}') WHERE employee_id IN (SELECT unnest($ids))",
                                    params={"ids": list(employees)}).to_arrow_table().to_pandas()
        elif p.is_file():
            out[name] = pd.read_parquet(p)
    return out


def reason_indicators(reasons: object) -> list[str]:
    """Indicator ids named in an alert's ``reasons`` (a list of dicts)."""
    if reasons is None or (isinstance(reasons, float) and reasons != reasons):
        return []
    return [r["indicator_id"] for r in reasons if isinstance(r, Mapping) and r.get("indicator_id")]


def latest_decisions(decisions: pd.DataFrame) -> pd.DataFrame:
    """The last decision per alert (a reviewer may revise one)."""
    if decisions.empty:
        return decisions
    d = decisions.copy()
    if "decided_at" in d:
        d = d.sort_values("decided_at", kind="stable")
    key = "alert_id" if "alert_id" in d and d.alert_id.astype(str).str.len().gt(0).all() else ["entity_id", "period"]
    return d.drop_duplicates(key, keep="last")


def case_subjects(data: Dataset, cases: pd.DataFrame) -> pd.DataFrame:
    """One row per case person with the post they held in the case's department when it opened."""
    cp = table(data, "case_people", "linking cases to people")
    people = cp.merge(cases[["case_id", "department_id", "opened_date"]], on="case_id")
    if people.empty:
        return people.assign(post_department_id=pd.Series(dtype=object), post_position_id=pd.Series(dtype=object))
    return post_on(data, people, "opened_date", dept_col="department_id")
