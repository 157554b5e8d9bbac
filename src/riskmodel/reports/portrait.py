"""Risk portraits (风险画像) of an employee, department, post, station, business type or period.

A portrait reads only what it shows, so that it renders in seconds on a large run (``bench/bench_portrait.py``):
the entity's fired flags and its post's scores and features through DuckDB (:class:`RunData`), the indicators'
titles without importing their code (:func:`riskmodel.indicators.registry.titles`), one person's integrity
profile, and the part of the relationship graph its ego network needs (:meth:`RunData.graph_around`).  Its figures
are SVG (:mod:`riskmodel.reports.figures`): the notebook never loads matplotlib.
"""

from __future__ import annotations

import pandas as pd

from riskmodel.errors import RiskModelError
from riskmodel.indicators.registry import titles
from riskmodel.reports.figures import bars_svg, ego_svg, t, trend_svg
from riskmodel.reports.rundata import FAMILY_NAMES, RunData

KINDS = ("employee", "department", "post", "station", "business_type", "period")
_COL = {"employee": "employee_id", "department": "department_id", "post": "position_id", "station": "station_id",
        "business_type": "family"}


def _range(run: RunData, periods: str | None) -> tuple[pd.Timestamp, pd.Timestamp]:
    """``2025Q1:2025Q4``, ``2025Q3`` or ``2025-09``; default: the whole run."""
    if not periods:
        lo, hi = run.flag_months()
        return lo, hi + pd.offsets.MonthEnd(0)
    a, _, b = periods.partition(":")
    try:
        pa = pd.Period(a, freq="Q" if "Q" in a.upper() else "M")
        pb = pd.Period(b or a, freq="Q" if "Q" in (b or a).upper() else "M")
    except (ValueError, TypeError) as exc:
        raise RiskModelError(f"period {periods!r} is not like 2025Q3, 2025-09 or 2025Q1:2025Q4") from exc
    return pa.start_time, pb.end_time.normalize()


def check_entity(run: RunData, kind: str, entity_id: str) -> None:
    """Fail before any work on an unknown kind or entity."""
    if kind not in KINDS:
        raise RiskModelError(f"entity kind {kind!r} is not one of {', '.join(KINDS)}")
    known = {
        "employee": lambda: set(run.employees.employee_id),
        "department": lambda: set(run.departments.department_id),
        "post": lambda: set(run.positions.position_id),
        "station": lambda: set(run.data.table("stations").station_id),
        "business_type": lambda: set(FAMILY_NAMES),
        "period": lambda: run.flag_periods,
    }[kind]()
    if entity_id not in known:
        example = sorted(known)[:3]
        raise RiskModelError(f"unknown {kind} {entity_id!r} in {run.card['data_source']} (e.g. {', '.join(map(str, example))})")


def _fired(run: RunData, kind: str, entity_id: str, periods: str | None) -> pd.DataFrame:
    """The entity's flags that fired in the period range (a period portrait: every flag that fired in it)."""
    if kind == "period":
        f = run.fired_flags()
        lo, hi = _range(run, entity_id)
    else:
        lo, hi = _range(run, periods)
        f = run.fired_flags(_COL[kind], entity_id)
    return f[(f.month >= lo) & (f.month <= hi)]


def _indicator_names(ids, lang: str) -> list[str]:
    """``PRC-002 化整为零规避招标`` for each id (the catalogue's titles, read without importing every indicator)."""
    ids = list(ids)
    names = titles(set(ids))
    return [f"{i} {names[i][0 if lang == 'zh' else 1]}" if i in names else i for i in ids]


def title(run: RunData, kind: str, entity_id: str, lang: str = "zh") -> str:
    if kind == "employee":
        e = run.employees.set_index("employee_id").loc[entity_id]
        pos = run.positions.set_index("position_id").loc[e.position_id]
        dept = run.departments.set_index("department_id").name.get(e.department_id, e.department_id)
        return f"{entity_id} · {dept} · {pos.title_zh if lang == 'zh' else pos.title_en}"
    if kind == "department":
        return f"{entity_id} · {run.departments.set_index('department_id').name[entity_id]}"
    if kind == "post":
        p = run.positions.set_index("position_id").loc[entity_id]
        return f"{entity_id} · {p.title_zh if lang == 'zh' else p.title_en}"
    if kind == "business_type":
        return FAMILY_NAMES[entity_id][0 if lang == "zh" else 1]
    return entity_id


def summary(run: RunData, kind: str, entity_id: str, periods: str | None = None, lang: str = "zh") -> pd.DataFrame:
    """Score, rank among peers and counts for the entity."""
    fired = _fired(run, kind, entity_id, periods)
    rows = [(t(lang, "触发红旗（项次）", "red flags fired"), len(fired)),
            (t(lang, "触发的指标", "indicators fired"), fired.indicator_id.nunique()),
            (t(lang, "红旗严重度合计", "severity total"), int(fired.severity.sum()))]
    if kind == "employee":
        sc = run.post_scores(entity_id)
        col = f"score_{run.card['model']}"
        mine = sc[sc.entity_id == entity_id].sort_values("period")
        if len(mine):
            last = mine.iloc[-1]
            peers = sc[(sc.period == last.period) & (sc.position_id == last.position_id)]
            rank = int((peers[col] > last[col]).sum()) + 1
            rows += [(t(lang, "最新风险分", "latest risk score"), round(float(last[col]), 3)),
                     (t(lang, "同岗位排名", "rank among the same post"), f"{rank} / {len(peers)}")]
        a = run.alerts[(run.alerts.entity_type == "employee") & (run.alerts.entity_id == entity_id)]
        rows.append((t(lang, "预警次数", "alerts"), len(a)))
    return pd.DataFrame(rows, columns=[t(lang, "项目", "item"), t(lang, "数值", "value")])


def score_trend(run: RunData, kind: str, entity_id: str, lang: str = "zh"):
    """Risk score by quarter (employee: model score and peer median) or flag severity by month (others)."""
    if kind == "employee":
        sc = run.post_scores(entity_id)
        col = f"score_{run.card['model']}"
        mine = sc[sc.entity_id == entity_id][["period", col, "position_id"]].sort_values("period")
        peer = sc[sc.position_id.isin(mine.position_id)].groupby("period")[col].median().rename("peer")
        d = mine.merge(peer, on="period")
        return trend_svg(d, "period", [col, "peer"], t(lang, "风险分趋势", "Risk score by quarter"), t(lang, "风险分", "score"),
                         [t(lang, "本人", "this person"), t(lang, "同岗位中位数", "same-post median")], xformat="quarter")
    d = _fired(run, kind, entity_id, None).groupby("month").severity.sum().rename("severity").reset_index()
    return trend_svg(d, "month", ["severity"], t(lang, "红旗严重度趋势", "Red-flag severity by month"), t(lang, "严重度", "severity"))


def reasons(run: RunData, kind: str, entity_id: str, lang: str = "zh") -> pd.DataFrame:
    """Reason codes of the entity's alerts (or the alerts inside a department/post/station)."""
    a = run.alerts
    if kind == "employee":
        a = a[(a.entity_type == "employee") & (a.entity_id == entity_id)]
    elif kind in ("department", "post"):
        a = a[a[_COL[kind]] == entity_id]
    else:
        return pd.DataFrame()
    key = "text_zh" if lang == "zh" else "text_en"
    # a merged red flag has no model contribution: a dash in the table, never a number
    rows = [(str(pd.Timestamp(r.period).to_period("Q")), r.entity_type, r.entity_id,
             "—" if x["contribution"] is None else round(float(x["contribution"]), 3), x[key])
            for r in a.itertuples() for x in (r.reasons if r.reasons is not None else [])]
    return pd.DataFrame(rows, columns=[t(lang, "季度", "quarter"), t(lang, "对象类型", "type"), t(lang, "对象", "entity"),
                                       t(lang, "贡献", "contribution"), t(lang, "原因", "reason")])


def flags_fired(run: RunData, kind: str, entity_id: str, periods: str | None = None, lang: str = "zh", top: int = 30) -> pd.DataFrame:
    """The red flags that fired, most severe first, with their evidence."""
    f = _fired(run, kind, entity_id, periods).sort_values(["severity", "value"], ascending=False).head(top)
    key = "text_zh" if lang == "zh" else "text_en"
    return pd.DataFrame({
        t(lang, "指标", "indicator"): _indicator_names(f.indicator_id, lang),
        t(lang, "日期", "date"): pd.to_datetime(f.period).dt.strftime("%Y-%m-%d"),
        t(lang, "说明", "detail"): f[key],
        t(lang, "证据", "evidence"): f.evidence.map(lambda e: ", ".join(list(e)[:4]) if e is not None else ""),
    }).reset_index(drop=True)


def by_indicator(run: RunData, kind: str, entity_id: str, periods: str | None = None, lang: str = "zh"):
    s = _fired(run, kind, entity_id, periods).groupby("indicator_id").size()
    if s.empty:
        return None
    s.index = _indicator_names(s.index, lang)
    return bars_svg(s, t(lang, "触发的红旗指标", "Red flags that fired"), t(lang, "次数", "times"))


def peer_comparison(run: RunData, entity_id: str, lang: str = "zh") -> pd.DataFrame:
    """An employee's features in their latest quarter next to the same post's median and 90th percentile."""
    peers = run.post_features(entity_id)
    mine = peers[peers.entity_id == entity_id]
    if mine.empty:
        return pd.DataFrame()
    last = mine.iloc[-1]
    q90 = peers[[c for c in run.card["features"] if c in peers]].quantile(0.9)
    cols = [c for c in run.card["features"] if last.get(c, 0) or q90.get(c, 0)][:15]
    return pd.DataFrame({t(lang, "本人", "this person"): last[cols].astype(float).round(2),
                         t(lang, "同岗位中位数", "post median"): peers[cols].median().round(2),
                         t(lang, "同岗位90分位", "post 90th percentile"): q90[cols].round(2)})


def review_history(run: RunData, entity_id: str, lang: str = "zh") -> pd.DataFrame:
    """Every decision on record about the entity (:attr:`RunData.reviews`: the office's earlier reviews and this
    run's), oldest first, in the report's language."""
    from riskmodel.reports.supervision import DECISION_NAMES

    d = run.reviews
    d = d[d.entity_id == entity_id]
    if d.empty:
        return pd.DataFrame({t(lang, "说明", "note"): [t(lang, "暂无核查记录", "no reviews recorded")]})
    i = 0 if lang == "zh" else 1
    where = {"archive": ("以往复核记录", "earlier reviews"), "run": ("本次运行的预警", "this run's alerts")}
    return pd.DataFrame({t(lang, "预警/复核编号", "alert / review"): d.alert_id.to_numpy(),
                         t(lang, "季度", "quarter"): [str(pd.Timestamp(p).to_period("Q")) for p in d.period],
                         t(lang, "结论", "decision"): [DECISION_NAMES.get(x, (x, x))[i] for x in d.decision],
                         t(lang, "复核人角色", "reviewer's role"): d.reviewer_role.fillna("").to_numpy(),
                         t(lang, "作出日期", "decided on"): [x.date() if pd.notna(x) else "—" for x in d.decided_at],
                         t(lang, "记录来源", "recorded in"): [where.get(x, (x, x))[i] for x in d.recorded_in]})


def ego_network(run: RunData, entity_id: str, lang: str = "zh", kind: str = "employee"):
    """The relationship ego-network of a flagged employee, supplier or grower (None when the graph room is absent or
    the entity has no relationships).

    Reads from the graph the run saved only the part the figure needs (:meth:`RunData.graph_around`), so the figure
    is the one :func:`riskmodel.graph.ego_figure` would draw from the whole graph, as SVG
    (:func:`~riskmodel.reports.figures.ego_svg`).  Runs that did not save a graph fall back to building it.
    """
    try:
        from riskmodel.graph import build_graph
    except ImportError:
        return None
    node = f"{kind}:{entity_id}"
    edges_path, nodes_path = run.run_dir / "graph_edges.parquet", run.run_dir / "graph_nodes.parquet"
    G = run.graph_around(node, radius=2) if edges_path.is_file() and nodes_path.is_file() else build_graph(run.data)
    return ego_svg(G, node, radius=2) if node in G and G.degree(node) else None


def integrity_profile(run: RunData, entity_id: str, lang: str = "zh") -> pd.DataFrame:
    """The employee's integrity profile (廉政档案): supervision, alerts and decisions, training, tier and measures."""
    from riskmodel.linkage.profiles import integrity_profiles

    ledger = run.run_dir / "ledger.jsonl"
    row = integrity_profiles(run.data, run.run_dir, ledger if ledger.is_file() else None, employees=[entity_id])
    if row.empty:
        return pd.DataFrame({t(lang, "说明", "note"): [t(lang, "不在岗或无档案", "not in post, no profile")]})
    r = row.iloc[0]
    items = [("years_in_post", "现岗位年限", "years in post"), ("cases_subject", "案件（当事人）", "cases as subject"),
             ("interviews_12m", "近12个月谈话", "interviews, 12 months"), ("alerts_4q", "近四季度预警", "alerts, 4 quarters"),
             ("alerts_confirmed", "预警查实", "alerts confirmed"), ("alerts_dismissed", "预警排除", "alerts dismissed"),
             ("credits_last_year", "上年学分", "credits last year"), ("required_last_year", "应修学分", "credits required"),
             ("mean_test_score", "平均测试成绩", "mean test score"), ("suggested_tier", "建议等级", "suggested tier"),
             ("tier", "记录等级", "recorded tier"), ("reasons_zh", "依据", "grounds"), ("measures_zh", "措施", "measures")]
    return pd.DataFrame([(zh if lang == "zh" else en, r[c]) for c, zh, en in items if c in r],
                        columns=[t(lang, "项目", "item"), t(lang, "内容", "value")])


def education(run: RunData, entity_id: str, lang: str = "zh") -> pd.DataFrame:
    """Linked education: the materials recommended for the person's flags and post (never one already completed)."""
    from riskmodel.linkage.education import recommend

    rec = recommend(run.data, [entity_id], run.run_dir)
    if rec.empty:
        return pd.DataFrame({t(lang, "说明", "note"): [t(lang, "暂无推荐", "nothing to recommend")]})
    return rec[["material_id", "title", "kind", "topic_tags", "reason_zh"]].rename(columns={
        "material_id": t(lang, "编号", "id"), "title": t(lang, "学习材料", "material"), "kind": t(lang, "形式", "kind"),
        "topic_tags": t(lang, "主题", "topics"), "reason_zh": t(lang, "推荐理由", "why")})
