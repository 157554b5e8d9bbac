"""Feature matrices for scoring: one row per employee-quarter (people-periods) or per event.

Features come only from the indicator flags and the organisation tables (and
graph features when given); nothing here reads the ground truth.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from riskmodel.data.dataset import Dataset
from riskmodel.indicators.runner import feature_matrix

KEY = ["entity_id", "period"]
#: indicator families (id prefixes) and the quarters-since-last-flag cap (two years: two leaf seasons)
FAMILIES = ("PRC", "BID", "RMB", "LEAF", "HR", "REL")
RECENCY_CAP = 8
_WINDOW = re.compile(r"(.+)_(\d+)q")


def quarters(data: Dataset) -> pd.DatetimeIndex:
    lo, hi = data.period()
    return pd.period_range(lo, hi, freq="Q").start_time


def employee_quarters(data: Dataset) -> pd.DataFrame:
    """Every employee-quarter in post, with the post (position, department, sensitivity) held at the quarter's end."""
    qs = pd.DataFrame({"period": quarters(data)})
    qs["q_end"] = qs.period + pd.offsets.QuarterEnd(0)
    with data.registered("_quarters", qs):
        df = data.sql("""
            SELECT q.period, ph.employee_id AS entity_id, ph.position_id, ph.department_id, p.sensitivity,
                   date_diff('day', ph.start_date, q.q_end) / 365.25 AS tenure_years
            FROM _quarters q
            JOIN post_history ph ON ph.start_date <= q.q_end AND (ph.end_date IS NULL OR ph.end_date >= q.period)
            JOIN positions p ON p.position_id = ph.position_id
            QUALIFY row_number() OVER (PARTITION BY ph.employee_id, q.period ORDER BY ph.start_date DESC) = 1""")
    df["period"] = pd.to_datetime(df.period)
    return df.sort_values(KEY, ignore_index=True)


def people_features(data: Dataset, flags: pd.DataFrame, graph: pd.DataFrame | None = None,
                    windows: tuple[int, ...] = (4, 8), recency: bool = True) -> pd.DataFrame:
    """The employee-quarter feature matrix.

    Columns: ``entity_id``, ``period``, ``position_id``, ``department_id`` (identifiers, not features), then
    features: one fired-count column per indicator (``PRC-002`` …), ``n_flags``, ``severity_sum``,
    ``severity_sum_peer_z``, the same counts over the trailing ``windows`` quarters (``*_4q``: the last four,
    this one included; ``*_8q``: the last eight — two leaf seasons, so a grader flagged last season still shows
    between seasons and in the next one), with ``recency`` the quarters since the person's last fired flag of each
    indicator family (``since_PRC``, ``since_RMB`` … 0: this quarter; capped at :data:`RECENCY_CAP`, also when
    none ever fired) — a scheme that stopped fades while one that goes on stays lit — post ``sensitivity``, and
    any graph features (``graph`` must have ``entity_id``, ``period`` and feature columns).  Only flags dated in
    or before a row's quarter enter it.
    """
    base = employee_quarters(data)
    fm = feature_matrix(flags, "employee", "Q").drop(columns=["position_id"], errors="ignore")
    out = base.merge(fm, on=KEY, how="left")
    ind_cols = [c for c in fm.columns if c not in KEY]
    out[ind_cols] = out[ind_cols].fillna(0)
    # peer normalisation for quarters with no flags at all: recompute over the full population
    g = out.groupby(["position_id", "period"]).severity_sum
    out["severity_sum_peer_z"] = ((out.severity_sum - g.transform("mean")) / g.transform("std").replace(0, np.nan)).fillna(0.0)
    # memory: the same counts over trailing windows (schemes last longer than a quarter, leaf seasons are a year apart)
    out = out.sort_values(KEY, ignore_index=True)
    roll_cols = [c for c in ind_cols if c != "severity_sum_peer_z"]
    pos = out.groupby("entity_id", sort=False).cumcount().to_numpy()
    out = out.join(pd.DataFrame({f"{c}_{w}q": trailing_sum(out[c].to_numpy(float), pos, w) for w in windows for c in roll_cols},
                                index=out.index))
    if recency:
        out = out.join(_recency(out, ind_cols))
    if graph is not None and len(graph):
        gcols = [c for c in graph.columns if c not in KEY]
        out = out.merge(graph, on=KEY, how="left")
        out[gcols] = out[gcols].fillna(0)
    return out


def trailing_sum(values: np.ndarray, pos: np.ndarray, window: int) -> np.ndarray:
    """The sum of each row's value and the ``window - 1`` rows before it in its group — a group's rows
    consecutive, ``pos`` each row's place in its group (0, 1, …) — i.e. ``groupby(...).rolling(window,
    min_periods=1).sum()`` as a difference of cumulative sums: one pass, no per-group work.

    Examples
    --------
    >>> trailing_sum(np.array([1., 2, 3, 4, 5]), np.array([0, 1, 2, 0, 1]), 2).tolist()
    [1.0, 3.0, 5.0, 4.0, 9.0]
    """
    cs = np.concatenate([[0.0], np.cumsum(values)])
    i = np.arange(1, len(values) + 1)
    return cs[i] - cs[i - np.minimum(window, pos + 1)]


def _recency(X: pd.DataFrame, ind_cols: list[str]) -> pd.DataFrame:
    """Quarters since the last quarter with a fired flag of each family, per row of ``X`` (sorted by entity, period)."""
    qi = pd.Series(X.period.dt.year.to_numpy() * 4 + X.period.dt.quarter.to_numpy(), index=X.index, dtype=float)
    out = {}
    for fam in FAMILIES:
        cols = [c for c in ind_cols if c.startswith(fam + "-")]
        lit = X[cols].sum(axis=1) > 0 if cols else pd.Series(False, index=X.index)
        last = qi.where(lit).groupby(X.entity_id).ffill()
        out[f"since_{fam}"] = (qi - last).fillna(RECENCY_CAP).clip(upper=RECENCY_CAP)
    return pd.DataFrame(out, index=X.index)


def feature_columns(X: pd.DataFrame) -> list[str]:
    """The model inputs of a feature matrix (everything but identifiers)."""
    return [c for c in X.columns if c not in (*KEY, "position_id", "department_id", "entity_type")]


def split_window(feature: str) -> tuple[str, int | None]:
    """``('PRC-002', 4)`` for ``'PRC-002_4q'``; ``(feature, None)`` for a feature of the quarter itself.

    Examples
    --------
    >>> split_window("severity_sum_8q"), split_window("PRC-002")
    (('severity_sum', 8), ('PRC-002', None))
    """
    m = _WINDOW.fullmatch(feature)
    return (m.group(1), int(m.group(2))) if m else (feature, None)


#: graph features where more is never less risky: deciding on linked parties' business this quarter
MONOTONE_GRAPH = ("graph_linked_dealings",)
#: post features where more is never less risky: years in the current post (the rotation rules, HR-001: a post held
#: long is a risk, never a safeguard) and the post's sensitivity grade.  Left free, the model learnt the opposite of
#: the rotation rule for tenure from the long-serving honest station managers (a benign look-alike)
MONOTONE_POST = ("tenure_years", "sensitivity")


def monotone_signs(columns: list[str]) -> dict[str, int]:
    """+1 for features where more is never less risky (indicator counts and severities, :data:`MONOTONE_GRAPH`,
    :data:`MONOTONE_POST`), -1 where more is never more risky (quarters since the last flag); 0 otherwise."""
    out = {}
    for c in columns:
        base, _ = split_window(c)
        if base.startswith("since_"):
            out[c] = -1
            continue
        counts = (base in ("n_flags", "severity_sum", "severity_sum_peer_z") or "-" in base) and not base.startswith("graph_")
        out[c] = 1 if counts or base in MONOTONE_GRAPH or base in MONOTONE_POST else 0
    return out
