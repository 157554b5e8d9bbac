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


def _window(run: RunData, kind: str, entity_id: str, periods: str | None) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """The portrait's period range: a period portrait's own period, else ``periods``; None when none was chosen."""
    chosen = entity_id if kind == "period" else periods
    return _range(run, chosen) if chosen else None


def _overlaps(quarter_start: pd.Series, window: tuple[pd.Timestamp, pd.Timestamp] | None) -> pd.Series:
    """Which quarters (given by their first day, as ``scores`` and ``alerts`` store them) overlap ``window`` and
    are complete by its end: a quarter's scores and alerts are made from the whole quarter's data, so a portrait
    of 2025-08 shows none of 2025Q3's (as the supervision report of 2025-08 lists 2025Q2's queue), one of 2025-09
    or 2025Q3 shows them."""
    if window is None:
        return pd.Series(True, index=quarter_start.index)
    q = pd.to_datetime(quarter_start)
    end = q + pd.offsets.QuarterEnd(0)
    return (end <= window[1].normalize()) & (end >= window[0])


def _entity_flags(run: RunData, kind: str, entity_id: str) -> pd.DataFrame:
    """Every flag of the entity that fired, in any period (a period portrait: every flag of the run)."""
    return run.fired_flags() if kind == "period" else run.fired_flags(_COL[kind], entity_id)


def _fired(run: RunData, kind: str, entity_id: str, periods: str | None) -> pd.DataFrame:
    """The entity's flags that fired in the period range (a period portrait: every flag that fired in it)."""
    lo, hi = _range(run, entity_id if kind == "period" else periods)
    f = _entity_flags(run, kind, entity_id)
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
    """Score, rank among peers and counts for the entity, in the period range (default: the whole run).

    An employee's latest score and rank are those of the last quarter in the range, the alerts those of its
    quarters (a month's portrait: the quarter the month is in).
    """
    fired = _fired(run, kind, entity_id, periods)
    window = _window(run, kind, entity_id, periods)
    rows = [(t(lang, "触发红旗（项次）", "red flags fired"), len(fired)),
            (t(lang, "触发的指标", "indicators fired"), fired.indicator_id.nunique()),
            (t(lang, "红旗严重度合计", "severity total"), int(fired.severity.sum()))]
    if kind == "employee":
        sc = run.post_scores(entity_id)
        col = f"score_{run.card['model']}"
        mine = sc[(sc.entity_id == entity_id) & _overlaps(sc.period, window)].sort_values("period")
        if len(mine):
            last = mine.iloc[-1]
            peers = sc[(sc.period == last.period) & (sc.position_id == last.position_id)]
            rank = int((peers[col] > last[col]).sum()) + 1
            quarter = str(pd.Timestamp(last.period).to_period("Q"))
            rows += [(t(lang, f"最新风险分（{quarter}）", f"latest risk score ({quarter})"), round(float(last[col]), 3)),
                     (t(lang, "同岗位排名", "rank among the same post"), f"{rank} / {len(peers)}")]
        a = _entity_alerts(run, kind, entity_id)
        rows.append((t(lang, "预警次数", "alerts"), int(_overlaps(a.period, window).sum())))
    return pd.DataFrame(rows, columns=[t(lang, "项目", "item"), t(lang, "数值", "value")])


def _entity_alerts(run: RunData, kind: str, entity_id: str) -> pd.DataFrame:
    """The alerts a portrait lists: an employee's own, or every alert inside a department or post."""
    a = run.alerts
    if kind == "employee":
        return a[(a.entity_type == "employee") & (a.entity_id == entity_id)]
    if kind in ("department", "post"):
        return a[a[_COL[kind]] == entity_id]
    return a.iloc[:0]


def score_trend(run: RunData, kind: str, entity_id: str, lang: str = "zh", periods: str | None = None):
    """Risk score by quarter (employee: model score and peer median) or flag severity by month (others).

    With a period range (``periods``, or a period portrait's own period) the trend ends with the range and keeps
    the quarters or months before it for context; the range is shaded and labelled "所选期间 / selected period".
    Months without a fired flag are drawn as zero severity, not skipped.
    """
    window = _window(run, kind, entity_id, periods)
    mark = t(lang, "所选期间", "selected period")
    if kind == "employee":
        sc = run.post_scores(entity_id)
        col = f"score_{run.card['model']}"
        mine = sc[sc.entity_id == entity_id][["period", col, "position_id"]].sort_values("period")
        if window is not None:  # quarters complete by the range's end (see _overlaps)
            mine = mine[pd.to_datetime(mine.period) + pd.offsets.QuarterEnd(0) <= window[1].normalize()]
        peer = sc[sc.position_id.isin(mine.position_id)].groupby("period")[col].median().rename("peer")
        d = mine.merge(peer, on="period")
        shown = d.period[_overlaps(d.period, window)] if window is not None else d.period.iloc[:0]
        return trend_svg(d, "period", [col, "peer"], t(lang, "风险分趋势", "Risk score by quarter"), t(lang, "风险分", "score"),
                         [t(lang, "本人", "this person"), t(lang, "同岗位中位数", "same-post median")], xformat="quarter",
                         highlight=(shown.min(), shown.max()) if len(shown) else None, highlight_label=mark)
    d = _monthly_severity(run, kind, entity_id, window)
    shown = d.month[d.month >= window[0]] if window is not None else d.month.iloc[:0]
    return trend_svg(d, "month", ["severity"], t(lang, "红旗严重度趋势", "Red-flag severity by month"), t(lang, "严重度", "severity"),
                     highlight=(shown.min(), shown.max()) if len(shown) else None, highlight_label=mark)


def _monthly_severity(run: RunData, kind: str, entity_id: str, window: tuple[pd.Timestamp, pd.Timestamp] | None) -> pd.DataFrame:
    """Fired-flag severity per month, every month from the run's first up to the end of ``window`` (default: the
    run's last), zero where nothing fired: a line drawn straight across months without flags would invent values."""
    first, last = run.flag_months()
    end = last if window is None else min(last, window[1].to_period("M").start_time)
    months = pd.date_range(first, max(first, end), freq="MS", name="month")
    f = _entity_flags(run, kind, entity_id)
    sev = f.groupby("month").severity.sum().reindex(months, fill_value=0)
    return sev.rename("severity").reset_index()


def reasons(run: RunData, kind: str, entity_id: str, lang: str = "zh", periods: str | None = None) -> pd.DataFrame | None:
    """Reason codes of the entity's alerts (or the alerts inside a department/post) in the period range; None for a
    station, business type or period, whose alerts are not listed."""
    from riskmodel.reports.supervision import ENTITY_NAMES

    if kind not in ("employee", "department", "post"):
        return None
    a = _entity_alerts(run, kind, entity_id)
    a = a[_overlaps(a.period, _window(run, kind, entity_id, periods))].sort_values(["period", "rank"])
    if a.empty:
        return pd.DataFrame({t(lang, "说明", "note"): [t(lang, "所选期间无预警", "no alerts in the period")]})
    key = "text_zh" if lang == "zh" else "text_en"
    i = 0 if lang == "zh" else 1
    # a merged red flag has no model contribution: a dash in the table, never a number
    rows = [(str(pd.Timestamp(r.period).to_period("Q")), ENTITY_NAMES.get(r.entity_type, (r.entity_type,) * 2)[i], r.entity_id,
             "—" if x["contribution"] is None else round(float(x["contribution"]), 3), x[key])
            for r in a.itertuples() for x in (r.reasons if r.reasons is not None else [])]
    return pd.DataFrame(rows, columns=[t(lang, "季度", "quarter"), t(lang, "对象类型", "type"), t(lang, "对象", "entity"),
                                       t(lang, "贡献", "contribution"), t(lang, "原因", "reason")])


def flags_fired(run: RunData, kind: str, entity_id: str, periods: str | None = None, lang: str = "zh", top: int = 30) -> pd.DataFrame:
    """The red flags that fired, most severe first and then most recent, with their evidence.

    Raw values are not compared across indicators (kilograms would outrank z-scores): the ``top`` rows are shared
    out among the indicators that fired, each indicator's most severe and most recent first, so that every fired
    indicator shows (as long as fewer than ``top`` fired); then they are listed by severity and date.
    """
    f = _fired(run, kind, entity_id, periods).sort_values(["severity", "period"], ascending=False, kind="stable")
    f = f.reset_index(drop=True)
    if f.empty:
        return pd.DataFrame({t(lang, "说明", "note"): [t(lang, "所选期间未触发红旗", "no red flags fired in the period")]})
    turn = f.groupby("indicator_id").cumcount()  # 0 for each indicator's first row, 1 for its second …
    order = {i: n for n, i in enumerate(dict.fromkeys(f.indicator_id))}  # indicators by their most severe, most recent flag
    pick = f.assign(_turn=turn.to_numpy(), _ind=f.indicator_id.map(order)).sort_values(["_turn", "_ind"]).head(top)
    f = f.loc[pick.index].sort_values(["severity", "period"], ascending=False, kind="stable")
    key = "text_zh" if lang == "zh" else "text_en"
    return pd.DataFrame({
        t(lang, "指标", "indicator"): _indicator_names(f.indicator_id, lang),
        t(lang, "严重度", "severity"): f.severity.astype(int).to_numpy(),
        t(lang, "日期", "date"): pd.to_datetime(f.period).dt.strftime("%Y-%m-%d").to_numpy(),
        t(lang, "说明", "detail"): f[key].to_numpy(),
        t(lang, "证据", "evidence"): f.evidence.map(lambda e: ", ".join(list(e)[:4]) if e is not None else "").to_numpy(),
    })


def by_indicator(run: RunData, kind: str, entity_id: str, periods: str | None = None, lang: str = "zh"):
    s = _fired(run, kind, entity_id, periods).groupby("indicator_id").size()
    if s.empty:
        return None
    s.index = _indicator_names(s.index, lang)
    return bars_svg(s, t(lang, "触发的红旗指标", "Red flags that fired"), t(lang, "次数", "times"))


def _feature_names(features: list[str], lang: str) -> list[str]:
    """Readable names of feature ids (``HR-001_4q`` → ``敏感岗位长期未轮岗（HR-001，近四个季度）``), the indicators'
    titles read without importing their code."""
    from types import SimpleNamespace

    from riskmodel.scoring.explain import feature_name

    ids = {f.split("_", 1)[0] for f in features}
    cat = {i: SimpleNamespace(title_zh=zh, title_en=en) for i, (zh, en) in titles(ids).items()}
    return [feature_name(f, cat)[0 if lang == "zh" else 1] for f in features]


def peer_comparison(run: RunData, entity_id: str, lang: str = "zh", periods: str | None = None) -> pd.DataFrame:
    """An employee's features in their latest quarter (in the period range) next to the same post's median and
    90th percentile that quarter."""
    window = _window(run, "employee", entity_id, periods)
    peers = run.post_features(entity_id) if window is None else _post_features_until(run, entity_id, window)
    mine = peers[peers.entity_id == entity_id]
    if mine.empty:
        return pd.DataFrame({t(lang, "说明", "note"): [t(lang, "所选期间不在岗，无同岗位比较", "not in post in the period: no peers to compare")]})
    last = mine.iloc[-1]
    q90 = peers[[c for c in run.card["features"] if c in peers]].quantile(0.9)
    cols = [c for c in run.card["features"] if last.get(c, 0) or q90.get(c, 0)][:15]
    quarter = str(pd.Timestamp(last.period).to_period("Q"))
    out = pd.DataFrame({t(lang, f"本人（{quarter}）", f"this person ({quarter})"): last[cols].astype(float).round(2),
                        t(lang, "同岗位中位数", "post median"): peers[cols].median().round(2),
                        t(lang, "同岗位90分位", "post 90th percentile"): q90[cols].round(2)})
    out.index = _feature_names(cols, lang)
    out.index.name = t(lang, "特征", "feature")
    return out


def _post_features_until(run: RunData, employee_id: str, window: tuple[pd.Timestamp, pd.Timestamp]) -> pd.DataFrame:
    """:meth:`RunData.post_features` for the person's latest quarter that overlaps ``window``."""
    if "features" in run.__dict__:
        X = run.features
        mine = X[(X.entity_id == employee_id) & _overlaps(X.period, window)].sort_values("period")
        if mine.empty:
            return mine
        return X[(X.period == mine.period.iloc[-1]) & (X.position_id == mine.position_id.iloc[-1])]
    lo = (window[0].to_period("Q").start_time).to_pydatetime()
    return run._sql("""WITH me AS (SELECT period, position_id FROM features WHERE entity_id = $id AND period >= $lo
                                   AND period <= $hi ORDER BY period DESC LIMIT 1)
                       SELECT features.* FROM features JOIN me USING (period, position_id)""", ("features",),
                    {"id": employee_id, "lo": lo, "hi": window[1].to_pydatetime()})


def review_history(run: RunData, entity_id: str, lang: str = "zh") -> pd.DataFrame:
    """Every decision on record about the entity (:attr:`RunData.reviews`: the office's earlier reviews and this
    run's), oldest first, in the report's language."""
    from riskmodel.reports.supervision import DECISION_NAMES

    d = run.reviews
    d = d[(d.entity_id == entity_id) & d.entity_type.isin(["employee", None]).to_numpy()]
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
    return ego_svg(G, node, radius=2, lang=lang) if node in G and G.degree(node) else None


#: integrity tiers (:data:`riskmodel.linkage.profiles.TIERS`) as a report names them
TIER_NAMES = {"green": ("绿色（常规）", "green (routine)"), "yellow": ("黄色（提醒）", "yellow (reminder)"),
              "red": ("红色（重点监督）", "red (close supervision)")}
#: the measures of each tier (:data:`riskmodel.linkage.profiles.MEASURES`) in English
_MEASURES_EN = {
    "red": "admonition or a heart-to-heart talk with a follow-up visit; their business reviewed monthly; first in line for "
           "rotation out of a sensitive post; warning-case education required, with a test",
    "yellow": "a reminder talk within 30 days; targeted learning materials to finish by a deadline; their red flags reviewed "
              "each quarter",
    "green": "routine integrity education, to the yearly credit requirement",
}
_EXEMPLARY_EN = "a candidate for commendation as an example to others"


def integrity_profile(run: RunData, entity_id: str, lang: str = "zh") -> pd.DataFrame:
    """The employee's integrity profile (廉政档案): supervision, alerts and decisions, training, tier and measures."""
    from riskmodel.linkage.profiles import RULES, integrity_profiles

    ledger = run.run_dir / "ledger.jsonl"
    row = integrity_profiles(run.data, run.run_dir, ledger if ledger.is_file() else None, employees=[entity_id])
    if row.empty:
        return pd.DataFrame({t(lang, "说明", "note"): [t(lang, "不在岗或无档案", "not in post, no profile")]})
    r = row.iloc[0].copy()
    i = 0 if lang == "zh" else 1
    for c in ("suggested_tier", "tier"):
        r[c] = TIER_NAMES.get(r[c], (r[c],) * 2)[i]
    if lang != "zh":
        r["reasons_zh"] = "; ".join(RULES[k][2] for k in r["rules"] if k in RULES) or "—"
        tier = row.tier.iloc[0]
        exemplary = bool(r["exemplary"]) and tier == "green"
        r["measures_zh"] = _MEASURES_EN.get(tier, r["measures_zh"]) + (f"; {_EXEMPLARY_EN}" if exemplary else "")
    items = [("years_in_post", "现岗位年限", "years in post"), ("cases_subject", "案件（当事人）", "cases as subject"),
             ("interviews_12m", "近12个月谈话", "interviews, 12 months"), ("alerts_4q", "近四季度预警", "alerts, 4 quarters"),
             ("alerts_confirmed", "本次运行预警查实", "this run's alerts confirmed"),
             ("alerts_dismissed", "本次运行预警排除", "this run's alerts dismissed"),
             # the office's earlier reviews (alert_reviews), which the grounds below may cite
             ("reviews_confirmed", "近12个月以往复核确认", "earlier reviews confirmed, 12 months"),
             ("reviews_needs_information", "近12个月以往复核需补充材料", "earlier reviews needing information, 12 months"),
             ("credits_last_year", "上年学分", "credits last year"), ("required_last_year", "应修学分", "credits required"),
             ("mean_test_score", "平均测试成绩", "mean test score"), ("suggested_tier", "建议等级", "suggested tier"),
             ("tier", "记录等级", "recorded tier"), ("reasons_zh", "依据", "grounds"), ("measures_zh", "措施", "measures")]
    return pd.DataFrame([(zh if lang == "zh" else en, r[c]) for c, zh, en in items if c in r],
                        columns=[t(lang, "项目", "item"), t(lang, "内容", "value")])


#: learning materials' kinds (:data:`riskmodel.data.schema.MATERIAL_KINDS`) as a report names them
MATERIAL_KIND_NAMES = {"video": ("视频", "video"), "article": ("文章", "article"), "course": ("课程", "course"),
                       "warning_case": ("警示案例", "warning case"), "test": ("测试", "test")}
#: the recommender's reasons (:func:`riskmodel.linkage.education.recommend`) in English
_WHY_EN = {"与本人风险提示相关": "related to their red flags", "本岗位必学": "required for the post",
           "巩固薄弱环节": "a weak topic to strengthen", "尚未学习的主题": "a topic not yet studied",
           "廉洁通识": "general integrity"}


def _topic_names(tags: str, lang: str) -> str:
    """``hospitality;leaf_contract`` → ``公务接待、烟叶合同与收购纪律`` (or ``hospitality, leaf contract`` in English)."""
    from riskmodel.linkage.topics import TOPIC_ZH

    parts = [p for p in str(tags or "").split(";") if p]
    if lang == "zh":
        return "、".join(TOPIC_ZH.get(p, p) for p in parts)
    return ", ".join(p.replace("_", " ") for p in parts)


def education(run: RunData, entity_id: str, lang: str = "zh") -> pd.DataFrame:
    """Linked education: the materials recommended for the person's flags and post (never one already completed)."""
    from riskmodel.linkage.education import recommend

    rec = recommend(run.data, [entity_id], run.run_dir)
    if rec.empty:
        return pd.DataFrame({t(lang, "说明", "note"): [t(lang, "暂无推荐", "nothing to recommend")]})
    i = 0 if lang == "zh" else 1
    why = rec.reason_zh if lang == "zh" else rec.reason_zh.map(lambda s: "; ".join(_WHY_EN.get(p, p) for p in str(s).split("；")))
    return pd.DataFrame({
        t(lang, "编号", "id"): rec.material_id.to_numpy(), t(lang, "学习材料", "material"): rec.title.to_numpy(),
        t(lang, "形式", "kind"): rec.kind.map(lambda k: MATERIAL_KIND_NAMES.get(k, (k, k))[i]).to_numpy(),
        t(lang, "主题", "topics"): rec.topic_tags.map(lambda s: _topic_names(s, lang)).to_numpy(),
        t(lang, "推荐理由", "why"): why.to_numpy()})
