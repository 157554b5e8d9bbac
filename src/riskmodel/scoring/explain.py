"""Explanations: per-alert contributions turned into reason codes (Chinese and English) with the raw evidence.

An employee alert's reasons are, in this order:

1. the model's top contributions (the features pushing the score up most), each with its contribution;
2. the person's indicator flags behind the score: every flag that fired in the alert's quarter and, for a
   windowed or recency feature among the top contributions (``severity_sum_8q``, ``since_LEAF`` …), the flags of
   the quarters it summarises — dated in the trailing window up to the quarter, never after it — and for a
   relationship-graph feature the relationship flags that say the same (``graph_link_strength_max``: REL-001,
   REL-002 up to the quarter); one reason per indicator, most severe first, at most ``max_flags`` of them;
3. where more indicators fired than are listed, one reason that names the rest and how often each fired.

A merged flag (2) or the rest (3) is not a model contribution: its ``contribution`` is None (null in
``alerts.parquet``), never a made-up number (the model's weight on those flags is in the feature reasons of 1).
The evidence list is the union of the evidence of the flags the reasons name, those listed first.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from riskmodel.errors import RiskModelError
from riskmodel.indicators.registry import all_indicators
from riskmodel.scoring.features import RECENCY_CAP, split_window

_ZH_NUM = {2: "两", 3: "三", 4: "四", 5: "五", 6: "六", 7: "七", 8: "八", 9: "九", 10: "十"}
_EN_NUM = {2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 7: "seven", 8: "eight", 9: "nine", 10: "ten"}

_GENERIC = {
    "n_flags": ("本季度触发红旗{v:.0f}项次", "{v:.0f} red flags fired this quarter"),
    "severity_sum": ("本季度红旗严重度合计{v:.0f}", "red-flag severity {v:.0f} this quarter"),
    "severity_sum_peer_z": ("红旗严重度高于同岗位人员{v:.1f}个标准差", "red-flag severity {v:.1f} standard deviations above the same post"),
    "sensitivity": ("所在岗位风险等级{v:.0f}", "post sensitivity level {v:.0f}"),
    "tenure_years": ("现岗位任职{v:.1f}年", "{v:.1f} years in the current post"),
}
#: names without a value (:func:`feature_name`)
_GENERIC_NAMES = {
    "n_flags": ("触发红旗项次", "red flags fired"),
    "severity_sum": ("红旗严重度合计", "red-flag severity"),
    "severity_sum_peer_z": ("红旗严重度相对同岗位人员的标准分", "red-flag severity against the same post (standard score)"),
    "sensitivity": ("所在岗位风险等级", "post sensitivity level"),
    "tenure_years": ("现岗位任职年限", "years in the current post"),
}
#: aggregate features that summarise every flag of their window (``*_4q``: the last four quarters)
_AGGREGATES = ("n_flags", "severity_sum", "severity_sum_peer_z")

_FAMILY = {"PRC": ("采购", "procurement"), "BID": ("招投标", "tender"), "RMB": ("报销", "reimbursement"),
           "LEAF": ("烟叶收购", "leaf-purchasing"), "HR": ("人事", "HR"), "REL": ("关系", "relationship")}


#: value formats of the graph features' reasons
_count, _score, _small, _share = "{:.0f}".format, "{:.2f}".format, "{:.4f}".format, "{:.0%}".format
_money_zh, _money_en = "{:,.0f}元".format, "¥{:,.0f}".format


#: graph features (:data:`riskmodel.graph.features.FEATURE_COLUMNS`, ``graph_`` prefixed in the feature matrix):
#: Chinese name, English name, value format (Chinese, English); the words of :mod:`riskmodel.graph.indicators`
_GRAPH = {
    "n_suppliers": ("本季度经手的供应商家数", "suppliers dealt with this quarter", _count, _count),
    "deal_amount": ("本季度经手的业务金额", "value of the business handled this quarter", _money_zh, _money_en),
    "top_supplier_share": ("本季度经手金额中最大一家供应商的占比", "largest supplier's share of the business handled this quarter",
                           _share, _share),
    "betweenness": ("在经手关系网络中的中介中心度", "betweenness centrality in the dealings network", _small, _small),
    "pagerank": ("在经手关系网络中的PageRank值", "PageRank in the dealings network", _small, _small),
    "n_growers_graded": ("本季度定级的烟农户数", "growers whose leaf they graded this quarter", _count, _count),
    "n_links": ("通过共用电话、地址、银行账户等与其关联的供应商和烟农数",
                "suppliers and growers linked to them by a shared phone, address, bank account or the like", _count, _count),
    "link_strength_max": ("与供应商或烟农的最强关联强度", "strength of their strongest link to a supplier or grower", _score, _score),
    "conflict_score_max": ("利益冲突关联的最高得分（本人经手关联方业务的加权计）",
                           "highest conflict-of-interest link score (weighted up where they handle the linked party's business)",
                           _score, _score),
    "linked_dealings": ("本季度作为经办、审批、采购或定级人员经手关联方（供应商或烟农）业务的笔数",
                        "documents of linked suppliers or growers they requested, approved, bought or graded this quarter",
                        _count, _count),
    "n_employees": ("经手该供应商业务的员工人数", "employees handling the supplier's business", _count, _count),
    "top_employee_share": ("该供应商业务中最大一名经手人的占比", "largest handler's share of the supplier's business", _share, _share),
    "cobid_community_size": ("共同投标群体的规模", "size of the co-bidding community", _count, _count),
    "cobid_joint_tenders": ("与该群体共同投标的次数", "tenders bid together with the community", _count, _count),
    "bid_rotation": ("群体内轮流中标的程度", "bid rotation within the community", _score, _score),
    "cover_gap": ("陪标报价与中标价的差距", "gap between cover bids and the winning bid", lambda v: f"{v:.3g}", lambda v: f"{v:.3g}"),
    "related_bidder_strength": ("与其他投标人的最强关联强度", "strength of the strongest link to another bidder", _score, _score),
    "n_graders": ("为该烟农定级的定级员人数", "graders who graded the grower", _count, _count),
}

#: graph features and the indicators that flag what they measure, with the quarters of flags they bring in
#: (None: every quarter up to the alert's; a link found once stays a link)
_GRAPH_FLAGS = {"n_links": (("REL-001", "REL-002"), None), "link_strength_max": (("REL-001", "REL-002"), None),
                "conflict_score_max": (("REL-001", "REL-002"), None), "betweenness": (("REL-006",), 4),
                "linked_dealings": (("REL-002",), None)}

#: reasons for fired flags listed per alert beside the model's top contributions (the rest are named in one line)
MAX_FLAG_REASONS = 5
#: evidence ids kept per alert (the listed reasons' first); every flag with all its evidence is in ``flags.parquet``
MAX_EVIDENCE = 100
#: flagged entities whose id is itself evidence (a transaction, a counterparty); an employee's own id is not
_EVIDENCE_ENTITIES = ("tender", "purchase_order", "claim", "leaf_purchase", "supplier", "grower", "contract")
_FLAG_COLUMNS = ("indicator_id", "entity_type", "entity_id", "period", "value", "fired", "severity", "evidence",
                 "employee_id", "text_zh", "text_en")


def _times_en(n: float) -> str:
    return {1: "once", 2: "twice"}.get(int(n), f"{n:.0f} times") if n == int(n) else f"{n:g} times"


def _when(window: int | None) -> tuple[str, str]:
    """'本季度' / 'this quarter' for one quarter, '近四个季度' / 'in the last four quarters' for four."""
    if not window or window == 1:
        return "本季度", "this quarter"
    return f"近{_ZH_NUM.get(window, window)}个季度", f"in the last {_EN_NUM.get(window, window)} quarters"


def _titles(indicator: str, catalogue: dict) -> tuple[str, str]:
    c = catalogue.get(indicator)
    return (c.title_zh, c.title_en) if c is not None else (indicator, indicator)


def feature_name(feature: str, catalogue: dict | None = None) -> tuple[str, str]:
    """Chinese and English name of a feature, without its value (axis labels, importance tables).

    Examples
    --------
    >>> feature_name("graph_link_strength_max")[1]
    'strength of their strongest link to a supplier or grower'
    >>> feature_name("severity_sum_4q")
    ('红旗严重度合计（近四个季度）', 'red-flag severity (in the last four quarters)')
    """
    if feature.startswith("since_") and feature[6:] in _FAMILY:
        zh, en = _FAMILY[feature[6:]]
        return f"距最近一次{zh}类红旗的季度数", f"quarters since the last {en} red flag"
    base, window = split_window(feature)
    cat = catalogue if catalogue is not None else all_indicators()
    when_zh, when_en = _when(window)
    if base in cat:
        zh, en = _titles(base, cat)
        return (f"{zh}（{base}，{when_zh}）", f"{en} ({base}, {when_en})") if window else (f"{zh}（{base}）", f"{en} ({base})")
    if base in _GENERIC_NAMES:
        zh, en = _GENERIC_NAMES[base]
        return (f"{zh}（{when_zh}）", f"{en} ({when_en})") if window else (zh, en)
    g = _GRAPH.get(feature[6:]) if feature.startswith("graph_") else None
    return (g[0], g[1]) if g else (feature, feature)


def feature_text(feature: str, value: float, catalogue: dict | None = None) -> tuple[str, str]:
    """Chinese and English text for one feature's value (indicator counts use the catalogue titles).

    ``catalogue`` is :func:`~riskmodel.indicators.registry.all_indicators` (looked up when not given).

    Examples
    --------
    >>> feature_text("graph_n_suppliers", 4)
    ('本季度经手的供应商家数为4', 'suppliers dealt with this quarter: 4')
    >>> feature_text("since_RMB", 8)[1]
    'no reimbursement red flag in the last eight quarters'
    """
    if feature.startswith("since_") and feature[6:] in _FAMILY:
        zh, en = _FAMILY[feature[6:]]
        if value == 0:
            return f"本季度有{zh}类红旗", f"{en} red flags this quarter"
        if value >= RECENCY_CAP:  # the cap: none in the window, or the last one longer ago
            when_zh, when_en = _when(RECENCY_CAP)
            return f"{when_zh}无{zh}类红旗", f"no {en} red flag {when_en}"
        return f"最近一次{zh}类红旗在{value:.0f}个季度前", f"last {en} red flag {value:.0f} quarter{'' if value == 1 else 's'} ago"
    cat = catalogue if catalogue is not None else all_indicators()
    base, window = split_window(feature)
    when_zh, when_en = _when(window)
    if base in cat:
        title_zh, title_en = _titles(base, cat)
        if value == 0:
            return f"{title_zh}（{base}）{when_zh}未触发", f"{title_en} ({base}) did not fire {when_en}"
        return f"{title_zh}（{base}）{when_zh}触发{value:.0f}次", f"{title_en} ({base}) fired {_times_en(value)} {when_en}"
    if base in _GENERIC:
        zh, en = _GENERIC[base]
        zh, en = zh.format(v=value), en.format(v=value)
        return (zh, en) if not window else (f"{when_zh}{zh.replace('本季度', '')}", f"{en.replace(' this quarter', '')} {when_en}")
    if feature.startswith("graph_") and feature[6:] in _GRAPH:
        name_zh, name_en, fmt_zh, fmt_en = _GRAPH[feature[6:]]
        return f"{name_zh}为{fmt_zh(value)}", f"{name_en}: {fmt_en(value)}"
    if feature.startswith("graph_"):
        return f"关系网络特征 {feature[6:]} 为{value:.3g}", f"relationship-graph feature {feature[6:]}: {value:.3g}"
    return f"特征 {feature} 为{value:.3g}", f"feature {feature}: {value:.3g}"


def _quarter_index(periods) -> np.ndarray:
    """Quarters as consecutive integers (2025Q1 → 8100), so windows are integer ranges."""
    p = pd.DatetimeIndex(pd.to_datetime(periods))
    return np.asarray(p.year * 4 + (p.quarter - 1), dtype=np.int64)


def _person_flags(flags: pd.DataFrame, people, catalogue: dict) -> dict[str, dict[str, np.ndarray]]:
    """The fired flags of ``people``, per person, strongest first within each indicator: column arrays."""
    missing = [c for c in _FLAG_COLUMNS if c not in flags.columns]
    if missing:
        raise RiskModelError(f"the flags table has no column {', '.join(missing)}: reason codes need the indicator flags "
                             "as 'riskmodel run' writes them (flags.parquet); rerun 'riskmodel run' to rewrite them")
    f = flags[flags.fired.astype(bool) & flags.employee_id.isin(people) & flags.period.notna()]
    low = {i for i, c in catalogue.items() if getattr(c, "direction", "high") == "low"}
    f = f.assign(_q=_quarter_index(f.period), _strength=np.where(f.indicator_id.isin(low), -f.value, f.value),
                 _severity=f.severity.fillna(0).astype(int), _family=f.indicator_id.astype(str).str.split("-", n=1).str[0])
    f = f.sort_values(["employee_id", "indicator_id", "_strength"], ascending=[True, True, False], kind="stable")
    out = {}
    for emp, g in f.groupby("employee_id", sort=False):
        ev = [list(dict.fromkeys(([str(e)] if t in _EVIDENCE_ENTITIES else [])
                                 + [str(x) for x in (x_ if x_ is not None else [])]))
              for t, e, x_ in zip(g.entity_type, g.entity_id, g.evidence)]
        out[emp] = {"indicator": g.indicator_id.astype(str).to_numpy(), "family": g._family.to_numpy(), "q": g._q.to_numpy(),
                    "severity": g._severity.to_numpy(), "text_zh": g.text_zh.astype(str).to_numpy(),
                    "text_en": g.text_en.astype(str).to_numpy(), "evidence": ev}
    return out


def _window(p: dict[str, np.ndarray], q: int, quarters: int) -> np.ndarray:
    """Mask of the flags dated in the ``quarters`` quarters up to and including quarter ``q``."""
    return (p["q"] <= q) & (p["q"] > q - quarters)


def _flag_reason(p: dict, rows: np.ndarray, indicator: str, q: int, widest: int, catalogue: dict) -> dict:
    """One merged reason for an indicator's flags ``rows`` (strongest first): no model contribution (None).

    Flags of earlier quarters are counted over the widest window the alert's reasons summarise (``widest``
    quarters, or as far back as the earliest), this quarter's count beside; the example is this quarter's
    strongest flag where there is one."""
    n = len(rows)
    now = rows[p["q"][rows] == q]
    span = int(q - p["q"][rows].min()) + 1
    when_zh, when_en = _when(1 if span == 1 else max(span, widest))
    now_zh = now_en = ""
    if span > 1:
        k = len(now)
        now_zh = f"（本季度{k}次）" if k else "（本季度未触发）"
        now_en = f" ({_times_en(k)} this quarter)" if k else " (none this quarter)"
    sev = int(p["severity"][rows].max())
    title_zh, title_en = _titles(indicator, catalogue)
    first = now[0] if len(now) else rows[0]
    return {"feature": indicator, "indicator_id": indicator, "value": float(n), "contribution": None,
            "text_zh": f"{title_zh}（{indicator}，严重度{sev}）{when_zh}触发{n}次{now_zh}：{p['text_zh'][first]}",
            "text_en": f"{title_en} ({indicator}, severity {sev}) fired {_times_en(n)} {when_en}{now_en}: {p['text_en'][first]}"}


#: the ``feature`` of the reason that names the red flags left out of the list (their ids and counts only)
OTHER_FLAGS = "other_flags"


def _rest_reason(rest: list[tuple[str, np.ndarray]]) -> dict:
    """One line naming the indicators left out of the list, with how often each fired."""
    k = len(rest)
    zh = "、".join(f"{i} {len(r)}次" for i, r in rest)
    en = ", ".join(f"{i} {_times_en(len(r))}" for i, r in rest)
    return {"feature": OTHER_FLAGS, "indicator_id": None, "value": float(k), "contribution": None,
            "text_zh": f"另有{k}项红旗未逐条列出：{zh}（详见红旗明细）",
            "text_en": f"{k} more red flag{'' if k == 1 else 's'} not listed one by one: {en} (see the flags table)"}


def reason_codes(contrib: pd.DataFrame, X: pd.DataFrame, keys: pd.DataFrame, flags: pd.DataFrame,
                 top_k: int = 3, max_flags: int = MAX_FLAG_REASONS) -> tuple[list[list[dict]], list[list[str]]]:
    """For each row: the ``top_k`` features pushing the score up and the fired flags behind them, with evidence.

    Parameters
    ----------
    contrib : DataFrame
        Per-feature contributions (``bias`` column ignored), rows aligned with ``X`` and ``keys``.
    X : DataFrame
        The feature values.
    keys : DataFrame
        ``entity_id`` and ``period`` (quarter start) of each row.
    flags : DataFrame
        The indicator flags (as in ``flags.parquet``; only the fired ones are read).  A person's flags are
        binned into quarters by their ``period``, as the features are.
    top_k : int, default=3
        Model contributions listed (positive ones only).
    max_flags : int, default=:data:`MAX_FLAG_REASONS`
        Indicators listed from the fired flags beside them, most severe, then most frequent, first; the rest
        are named in one closing reason.

    Returns
    -------
    reasons : list of list of dict
        ``{"feature", "indicator_id", "value", "contribution", "text_zh", "text_en"}`` per reason.  First the
        model's top contributions: ``feature`` the model feature, ``value`` its value, ``contribution`` the
        model's.  Then one per indicator whose flags fired in the quarter, or in the window of a windowed
        (``*_4q``, ``*_8q``), recency (``since_*``) or relationship-graph feature listed above (:data:`_GRAPH_FLAGS`),
        and not already named by one:
        ``feature`` and ``indicator_id`` the indicator, ``value`` how many times it fired in the span the text
        names, ``contribution`` None (not a model contribution; null in Parquet).  Last, where two or more
        indicators are left over beyond ``max_flags``, ``feature`` ``"other_flags"``, ``value`` how many are not
        listed, ``contribution`` None.
    evidence : list of list of str
        The ids behind the reasons (transactions; flagged suppliers, growers, contracts), the listed reasons'
        first, at most :data:`MAX_EVIDENCE`.

    Examples
    --------
    >>> keys = pd.DataFrame({"entity_id": ["E1"], "period": [pd.Timestamp("2025-04-01")]})
    >>> X = pd.DataFrame({"severity_sum": [5.0], "tenure_years": [2.0]})
    >>> contrib = pd.DataFrame({"severity_sum": [1.2], "tenure_years": [-0.1], "bias": [-3.0]})
    >>> flags = pd.DataFrame({"indicator_id": ["RMB-004", "RMB-004", "PRC-002"], "entity_type": "claim",
    ...     "entity_id": ["CL1", "CL2", "CL3"], "period": pd.to_datetime(["2025-05-03", "2025-06-01", "2025-07-02"]),
    ...     "value": 1.0, "fired": True, "severity": 2, "evidence": [["CL1"], ["CL2"], ["CL3"]], "employee_id": "E1",
    ...     "text_zh": "周末招待", "text_en": "weekend hospitality"})
    >>> reasons, evidence = reason_codes(contrib, X, keys, flags)
    >>> [r["text_en"] for r in reasons[0]]  # doctest: +NORMALIZE_WHITESPACE
    ['red-flag severity 5 this quarter',
     'Hospitality on a weekend or statutory holiday (RMB-004, severity 2) fired twice this quarter: weekend hospitality']
    >>> evidence  # PRC-002 fired in July: after the quarter, so not part of it
    [['CL1', 'CL2']]
    """
    if not (len(contrib) == len(X) == len(keys)):
        raise RiskModelError(f"reason codes need one row per alert in the contributions ({len(contrib)}), the features "
                             f"({len(X)}) and the keys ({len(keys)}); they differ — the model and the feature matrix of "
                             "the run do not match: rerun 'riskmodel run'")
    cat = all_indicators()
    persons = _person_flags(flags, keys.entity_id.unique(), cat)
    cols = [c for c in contrib.columns if c != "bias"]
    C = contrib[cols].to_numpy(dtype=float)
    V = X[cols].to_numpy(dtype=float)
    emps = keys.entity_id.to_numpy()
    qs = _quarter_index(keys.period)
    reasons, evidence = [], []
    for i in range(len(C)):  # the queue only: tens to hundreds of rows
        p = persons.get(emps[i])
        q = int(qs[i])
        if p is not None:
            collected = _window(p, q, 1)  # every flag of the quarter
        widest = 1  # the widest window (quarters) the listed features summarise
        rs, ev_rows, named = [], [], set()
        for j in np.argsort(-C[i], kind="stable")[:top_k]:
            if C[i, j] <= 0:
                break
            f, v = cols[j], float(V[i, j])
            zh, en = feature_text(f, v, cat)
            base, window = split_window(f)
            if p is not None and base in cat:
                named.add(base)
                hit = np.flatnonzero(_window(p, q, window or 1) & (p["indicator"] == base))
                if len(hit):  # strongest first: the first one's text is the concrete example
                    zh, en = f"{zh}：{p['text_zh'][hit[0]]}", f"{en}: {p['text_en'][hit[0]]}"
                    ev_rows.extend(hit)
            elif p is not None and base in _AGGREGATES:
                collected |= _window(p, q, window or 1)
                widest = max(widest, window or 1)
            elif p is not None and f.startswith("since_") and f[6:] in _FAMILY and v < RECENCY_CAP:
                collected |= (p["q"] == q - int(v)) & (p["family"] == f[6:])
                widest = max(widest, int(v) + 1)
            elif p is not None and f.startswith("graph_") and f[6:] in _GRAPH_FLAGS:
                inds, quarters = _GRAPH_FLAGS[f[6:]]
                collected |= ((p["q"] <= q) if quarters is None else _window(p, q, quarters)) & np.isin(p["indicator"], inds)
                widest = max(widest, quarters or 1)
            rs.append({"feature": f, "indicator_id": base if base in cat else None, "value": v,
                       "contribution": float(C[i, j]), "text_zh": zh, "text_en": en})
        if p is not None:
            groups = [(ind, np.flatnonzero(collected & (p["indicator"] == ind)))
                      for ind in dict.fromkeys(p["indicator"][collected]) if ind not in named]
            # this quarter's flags first (the alert's own), then most severe, then most frequent
            groups.sort(key=lambda g: (not (p["q"][g[1]] == q).any(), -int(p["severity"][g[1]].max()), -len(g[1]), g[0]))
            listed = len(groups) if len(groups) <= max_flags + 1 else max_flags  # one left over: list it, not a line about it
            rs += [_flag_reason(p, rows, ind, q, widest, cat) for ind, rows in groups[:listed]]
            if len(groups) > listed:
                rs.append(_rest_reason(groups[listed:]))
            ev_rows += [r for _, rows in groups for r in rows]
        ev = [x for r in ev_rows for x in p["evidence"][r]] if p is not None else []
        reasons.append(rs)
        evidence.append(list(dict.fromkeys(ev))[:MAX_EVIDENCE])
    return reasons, evidence
