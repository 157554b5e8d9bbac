"""Run the catalogue over a dataset; roll flags up to people, units and periods; write the results."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from riskmodel import __version__
from riskmodel.data.dataset import Dataset
from riskmodel.data.store import atomic_dir, write_table
from riskmodel.indicators.base import FLAG_COLUMNS
from riskmodel.indicators.registry import configured
from riskmodel.provenance import code_version

ROLLUP_TARGETS = ("employee", "supplier", "department", "post", "station", "month")
_TARGET_COL = {"employee": "employee_id", "supplier": "supplier_id", "department": "department_id", "post": "position_id",
               "station": "station_id"}


def compute_flags(data: Dataset, settings=None, only: list[str] | None = None, progress: bool = False) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Run every configured indicator.

    Returns
    -------
    flags : DataFrame
        The tidy flag table (:data:`~riskmodel.indicators.base.FLAG_COLUMNS` plus ``position_id``).
    thresholds : DataFrame
        Per indicator: the threshold used and how it was set, rows scored, rows fired, seconds.
    """
    indicators = configured(settings, only)
    frames, stats = [], []
    with Progress(TextColumn("[bold]indicators[/] {task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), disable=not progress) as bar:
        task = bar.add_task("", total=len(indicators))
        for ind in indicators:
            bar.update(task, description=ind.id)
            f, stat = run_indicator(ind, data)
            frames.append(f)
            stats.append(stat)
            bar.advance(task)
    return attach_posts(stack_flags(frames), data), pd.DataFrame(stats)


def run_indicator(ind, data: Dataset) -> tuple[pd.DataFrame, dict]:
    """One indicator's flag rows and its line of the thresholds table (threshold, rows scored and fired, seconds)."""
    t = time.perf_counter()
    f = ind.run(data)
    return f, {"indicator_id": ind.id, "threshold": float(f.threshold.iloc[0]) if len(f) and ind.threshold_method != "given" else np.nan,
               "threshold_method": ind.threshold_method, "scored": len(f), "fired": int(f.fired.sum()) if len(f) else 0,
               "seconds": round(time.perf_counter() - t, 3), "parameters": json.dumps(ind.params.model_dump(mode="json"), ensure_ascii=False)}


def stack_flags(frames) -> pd.DataFrame:
    """The indicators' flag rows in one table (catalogue order)."""
    frames = [f for f in frames if len(f)]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=FLAG_COLUMNS)


def attach_posts(flags: pd.DataFrame, data: Dataset) -> pd.DataFrame:
    """Fill ``department_id`` (where empty) and ``position_id`` from the employee's post at the flag's period."""
    flags = flags.copy()
    flags["position_id"] = pd.Series(np.nan, index=flags.index, dtype="str")
    if not data.has("post_history") or flags.empty:
        return flags
    ph = data.table("post_history")[["employee_id", "department_id", "position_id", "start_date"]].copy()
    has = flags.employee_id.notna() & flags.period.notna()
    if not has.any():
        return flags
    q = flags.loc[has, ["employee_id", "period"]].reset_index()
    q["period"] = pd.to_datetime(q.period).astype("datetime64[ns]")
    q["employee_id"] = q.employee_id.astype(str)
    ph["employee_id"] = ph.employee_id.astype(str)
    ph["start_date"] = pd.to_datetime(ph.start_date).astype("datetime64[ns]")
    # same-day moves: the same row wins whatever order the table was read in
    ph = ph.sort_values(["start_date", "employee_id", "position_id", "department_id"], kind="stable")
    m = pd.merge_asof(q.sort_values("period", kind="stable"), ph, left_on="period", right_on="start_date",
                      by="employee_id", direction="backward").set_index("index")
    flags.loc[m.index, "position_id"] = m.position_id
    empty_dept = flags.department_id.isna()
    fill = m.department_id.reindex(flags.index[empty_dept])
    flags.loc[empty_dept, "department_id"] = fill
    for c in ("department_id", "position_id"):
        flags[c] = flags[c].astype("str")
    return flags


def feature_matrix(flags: pd.DataFrame, target: str = "employee", freq: str = "Q") -> pd.DataFrame:
    """Wide features per target entity and period: fired count per indicator, totals and peer-normalised scores.

    Parameters
    ----------
    flags : DataFrame
        From :func:`compute_flags`.
    target : {'employee', 'supplier', 'department', 'post', 'station', 'month'}
    freq : {'M', 'Q', 'Y'}
        Period of the rows.

    Returns
    -------
    DataFrame
        Columns ``entity_id``, ``period`` (period start), one count column per
        indicator id, ``n_flags``, ``severity_sum`` and, for employees,
        ``severity_sum_peer_z``: the z-score of ``severity_sum`` among holders of
        the same post in the same period (peer-group normalisation).

    Examples
    --------
    >>> import pandas as pd
    >>> f = pd.DataFrame({"indicator_id": ["PRC-001", "PRC-001"], "employee_id": ["E1", "E1"], "fired": [True, False],
    ...                   "severity": [2, 2], "period": pd.to_datetime(["2024-01-03", "2024-02-01"]), "position_id": ["P3", "P3"]})
    >>> feature_matrix(f)[["entity_id", "PRC-001", "severity_sum"]].to_dict("records")
    [{'entity_id': 'E1', 'PRC-001': 1, 'severity_sum': 2}]
    """
    if target not in ROLLUP_TARGETS:
        raise ValueError(f"target must be one of {ROLLUP_TARGETS}")
    f = flags[flags.fired.astype(bool) & flags.period.notna()].copy()
    f["period"] = pd.to_datetime(f.period).dt.to_period(freq).dt.start_time
    f["entity_id"] = "company" if target == "month" else f[_TARGET_COL[target]]
    f = f[f.entity_id.notna()]
    if f.empty:
        return pd.DataFrame(columns=["entity_id", "period", "n_flags", "severity_sum"])
    counts = f.pivot_table(index=["entity_id", "period"], columns="indicator_id", values="fired", aggfunc="sum", fill_value=0)
    counts.columns.name = None
    out = counts.astype(int)
    out["n_flags"] = out.sum(axis=1)
    out["severity_sum"] = f.groupby(["entity_id", "period"]).severity.sum().reindex(out.index).astype(int)
    out = out.reset_index()
    if target == "employee" and "position_id" in f:
        post = f.groupby(["entity_id", "period"]).position_id.agg(lambda s: s.dropna().iloc[-1] if s.notna().any() else None)
        out["position_id"] = post.reindex(pd.MultiIndex.from_frame(out[["entity_id", "period"]])).to_numpy()
        g = out.groupby(["position_id", "period"]).severity_sum
        out["severity_sum_peer_z"] = ((out.severity_sum - g.transform("mean")) / g.transform("std").replace(0, np.nan)).fillna(0.0)
    return out


def write_features(data: Dataset, out: str | Path, settings=None, only: list[str] | None = None,
                   progress: bool = True) -> tuple[dict, pd.DataFrame]:
    """Compute flags and roll-ups and write them atomically to ``out``; returns the manifest and the flags."""
    from riskmodel.data.store import write_manifest

    flags, thresholds = compute_flags(data, settings, only, progress)
    with atomic_dir(out) as tmp:
        write_table(flags, tmp / "flags.parquet")
        write_table(thresholds, tmp / "thresholds.parquet")
        for target in ROLLUP_TARGETS:
            write_table(feature_matrix(flags, target, "Q"), tmp / f"features_{target}_quarter.parquet")
        manifest = {"step": "features", "source": data.source, "data_fingerprint": data.fingerprint,
                    "code_version": code_version(), "package_version": __version__,
                    "indicators": thresholds.indicator_id.tolist(), "flags": len(flags), "fired": int(flags.fired.sum()) if len(flags) else 0}
        (tmp / "run.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2))
        write_manifest(tmp, manifest)
    return manifest, flags
