"""Explanations: per-alert contributions turned into reason codes (Chinese and English) with the raw evidence."""

from __future__ import annotations

import numpy as np
import pandas as pd

from riskmodel.indicators.registry import all_indicators
from riskmodel.scoring.features import split_window

_ZH_NUM = {2: "两", 3: "三", 4: "四", 5: "五", 6: "六", 8: "八"}
_EN_NUM = {2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 8: "eight"}

_GENERIC = {
    "n_flags": ("本季度触发红旗{v:.0f}项次", "{v:.0f} red flags fired this quarter"),
    "severity_sum": ("本季度红旗严重度合计{v:.0f}", "red-flag severity {v:.0f} this quarter"),
    "severity_sum_peer_z": ("红旗严重度高于同岗位人员{v:.1f}个标准差", "red-flag severity {v:.1f} standard deviations above the same post"),
    "sensitivity": ("所在岗位风险等级{v:.0f}", "post sensitivity level {v:.0f}"),
    "tenure_years": ("现岗位任职{v:.1f}年", "{v:.1f} years in the current post"),
}


_FAMILY = {"PRC": ("采购", "procurement"), "BID": ("招投标", "tender"), "RMB": ("报销", "reimbursement"),
           "LEAF": ("烟叶收购", "leaf-purchasing"), "HR": ("人事", "HR"), "REL": ("关系", "relationship")}


def feature_text(feature: str, value: float, catalogue: dict | None = None) -> tuple[str, str]:
    """Chinese and English text for one feature's value (indicator counts use the catalogue titles).

    ``catalogue`` is :func:`~riskmodel.indicators.registry.all_indicators` (looked up when not given).
    """
    if feature.startswith("since_") and feature[6:] in _FAMILY:
        zh, en = _FAMILY[feature[6:]]
        if value == 0:
            return f"本季度有{zh}类红旗", f"{en} red flags this quarter"
        return f"最近一次{zh}类红旗在{value:.0f}个季度前", f"last {en} red flag {value:.0f} quarter{'' if value == 1 else 's'} ago"
    cat = catalogue if catalogue is not None else all_indicators()
    base, window = split_window(feature)
    when_zh, when_en = (f"近{_ZH_NUM.get(window, window)}个季度", f"in the last {_EN_NUM.get(window, window)} quarters") if window else ("本季度", "this quarter")
    if base in cat:
        c = cat[base]
        return f"{c.title_zh}（{base}）{when_zh}触发{value:.0f}次", f"{c.title_en} ({base}) fired {value:.0f} times {when_en}"
    if base in _GENERIC:
        zh, en = _GENERIC[base]
        zh, en = zh.format(v=value), en.format(v=value)
        return (zh, en) if not window else (f"{when_zh}{zh.replace('本季度', '')}", f"{en.replace(' this quarter', '')} {when_en}")
    return f"关系网络特征 {feature} = {value:.3g}", f"relationship feature {feature} = {value:.3g}"


def reason_codes(contrib: pd.DataFrame, X: pd.DataFrame, keys: pd.DataFrame, flags: pd.DataFrame,
                 top_k: int = 3) -> tuple[list[list[dict]], list[list[str]]]:
    """For each row: the ``top_k`` features pushing the score up, as reason codes, and the evidence ids.

    Parameters
    ----------
    contrib : DataFrame
        Per-feature contributions (``bias`` column ignored), rows aligned with ``X`` and ``keys``.
    X : DataFrame
        The feature values.
    keys : DataFrame
        ``entity_id`` and ``period`` (quarter start) of each row.
    flags : DataFrame
        The indicator flags; the fired ones of the entity in the quarter (or the trailing year for
        ``*_4q``, ``*_8q`` … features) supply the concrete evidence text and transaction ids.

    Returns
    -------
    reasons : list of list of dict
        ``{"feature", "value", "contribution", "text_zh", "text_en", "indicator_id"}`` per reason.
    evidence : list of list of str
        Transaction and entity ids behind the reasons.
    """
    fired = flags[flags.fired.astype(bool) & flags.employee_id.isin(keys.entity_id.unique())]
    fired = fired.assign(quarter=pd.to_datetime(fired.period).dt.to_period("Q").dt.start_time)
    fired = fired.sort_values("value", ascending=False, kind="stable")
    # one small block per (person, indicator): the queue's reasons look up these, never the whole table
    blocks = {k: (g.quarter.to_numpy(), g.text_zh.to_numpy(), g.text_en.to_numpy(), g.entity_id.astype(str).to_numpy(),
                  g.evidence.to_numpy())
              for k, g in fired.groupby(["employee_id", "indicator_id"], sort=False)}
    cat = all_indicators()
    cols = [c for c in contrib.columns if c != "bias"]
    C = contrib[cols].to_numpy()
    V = X[cols].to_numpy(dtype=float)
    emps = keys.entity_id.to_numpy()
    quarters = pd.to_datetime(keys.period).to_numpy()
    reasons, evidence = [], []
    for i in range(len(C)):  # the queue only: tens to hundreds of rows
        order = np.argsort(-C[i])
        rs, ev = [], []
        for j in order[:top_k]:
            if C[i, j] <= 0:
                break
            f, v = cols[j], float(V[i, j])
            zh, en = feature_text(f, v, cat)
            base, window = split_window(f)
            block = blocks.get((emps[i], base))
            if block is not None:
                q = quarters[i]
                start = (pd.Timestamp(q) - pd.DateOffset(months=3 * (window or 1))).to_datetime64()
                hit = np.flatnonzero((block[0] <= q) & (block[0] > start))
                if len(hit):  # blocks are sorted by value: the first hit is the strongest
                    zh, en = f"{zh}：{block[1][hit[0]]}", f"{en}: {block[2][hit[0]]}"
                    ev += list(block[3][hit]) + [str(x) for e in block[4][hit] for x in (e if e is not None else [])]
            rs.append({"feature": f, "indicator_id": base if "-" in base else None, "value": v,
                       "contribution": float(C[i, j]), "text_zh": zh, "text_en": en})
        reasons.append(rs)
        evidence.append(list(dict.fromkeys(ev))[:50])
    return reasons, evidence
