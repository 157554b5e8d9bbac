"""The periodic supervision report (监督报告): headline numbers, heatmaps, high-risk posts and business types,
cross comparisons with abnormal changes marked, the review queue and last quarter's decisions, data quality.

A report is for a month (``2025-09``, what the scheduled ``report batch`` makes) or a quarter (``2025Q3``): red
flags, heatmaps, posts and comparisons cover that month or quarter, and the headline compares it with the month or
quarter before.  Alerts are made per quarter, at its end, from the whole quarter's data, so the review queue is
that of the last quarter complete by the period's end (:func:`queue_quarter`: a quarter's own, or its last month's;
the first two months of a quarter list the quarter before's), and the decisions are those on the quarter before's
queue.  Nothing in the report reads data dated after the period's end: the case archive stands as it did that day.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from riskmodel.errors import RiskModelError
from riskmodel.reports.figures import bars, heatmap, t
from riskmodel.reports.rundata import FAMILY_NAMES, RunData


#: the report's sections, in its order (zh, en)
SECTIONS = (("总体情况", "Headline numbers"), ("风险热力图", "Heatmaps"), ("高风险岗位", "High-risk posts"),
            ("横向比较", "Cross comparison"), ("待核查预警", "Review queue"), ("上季度预警的核查结论", "Decisions on last quarter's alerts"),
            ("案件档案统计", "Case archive"), ("数据质量", "Data quality"))


def section(number: int, lang: str = "zh") -> str:
    """The Markdown heading of section ``number`` (from 1) in the report's language.

    Examples
    --------
    >>> section(5, "en")
    '## 5 · Review queue'
    """
    return f"## {number} · {SECTIONS[number - 1][0 if lang == 'zh' else 1]}"


def parse_period(period: str) -> tuple[pd.Timestamp, pd.Timestamp, str]:
    """``2025-09`` (a month) or ``2025Q3`` (a quarter) → (first day, last day, 'M' or 'Q').

    Examples
    --------
    >>> parse_period("2025Q3")[:2]
    (Timestamp('2025-07-01 00:00:00'), Timestamp('2025-09-30 00:00:00'))
    """
    try:
        p = pd.Period(period, freq="Q" if "Q" in period.upper() else "M")
    except (ValueError, TypeError) as exc:
        raise RiskModelError(f"period {period!r} is neither a month (2025-09) nor a quarter (2025Q3)") from exc
    return p.start_time, p.end_time.normalize(), p.freqstr[0]


def check_period(run: RunData, period: str) -> None:
    """Fail before any work when the period has no data."""
    lo, hi, _ = parse_period(period)
    months = run.flags.month
    if not ((months >= lo) & (months <= hi)).any():
        raise RiskModelError(f"no data in period {period}: the run covers {months.min():%Y-%m} to {months.max():%Y-%m}")


def _fired(run: RunData) -> pd.DataFrame:
    return run.flags[run.flags.fired.astype(bool)]


def headline(run: RunData, period: str, lang: str = "zh") -> pd.DataFrame:
    """Headline numbers for the period and the one before it, of the same length: a month against the month
    before, a quarter against the quarter before.  The columns name their periods.

    Alerts are made per quarter: in a monthly report their rows count, for each column, the queue of the last
    quarter complete by the month's end (:func:`queue_quarter`; the rows say so, and the columns name the quarter),
    so several months can show the same queue.

    Examples
    --------
    A monthly report's columns (red flags of each month; alerts of the last quarter complete by each month's end)::

        本期 2025-10（预警：2025Q3）    上期 2025-09（预警：2025Q3）
    """
    lo, hi, freq = parse_period(period)
    prev = pd.Period(lo, freq) - 1
    f = _fired(run)
    a = run.alerts
    a_quarter = pd.to_datetime(a.period).dt.to_period("Q")

    def nums(p: pd.Period) -> list[int]:
        ff = f[(f.month >= p.start_time) & (f.month <= p.end_time)]
        aa = a[a_quarter == queue_quarter(str(p))]
        return [len(ff), ff.employee_id.nunique(), ff.indicator_id.nunique(), len(aa), int((aa.entity_type == "employee").sum())]

    def column(which: tuple[str, str], p: pd.Period) -> str:
        if freq == "Q":
            return t(lang, f"{which[0]} {p}", f"{which[1]} {p}")
        q = queue_quarter(str(p))
        return t(lang, f"{which[0]} {p}（预警：{q}）", f"{which[1]} {p} (alerts: {q})")

    monthly = freq == "M"
    rows = [t(lang, "触发红旗（项次）", "red flags fired"), t(lang, "涉及人员", "people involved"), t(lang, "触发的指标", "indicators fired"),
            t(lang, "预警（待核查，截至月末的最近一季）", "alerts for review, latest quarter by the month's end")
            if monthly else t(lang, "预警（待核查）", "alerts (for review)"),
            t(lang, "人员预警（截至月末的最近一季）", "people alerts, latest quarter by the month's end")
            if monthly else t(lang, "人员预警", "people alerts")]
    cur = pd.Period(lo, freq)
    return pd.DataFrame({column(("本期", "this period"), cur): nums(cur),
                         column(("上期", "previous period"), prev): nums(prev)}, index=rows)


#: kinds of unit (``departments.dept_type``) in English, for the English report's unit labels and the
#: de-identified queue's coarse units
_DEPT_TYPE_EN = {"leadership": "leadership team", "functional": "functional department", "procurement": "procurement department",
                 "finance": "finance department", "leaf": "leaf department", "station": "leaf-purchasing station",
                 "warehouse": "warehouse", "logistics": "logistics department"}


def unit_labels(run: RunData, lang: str = "zh") -> pd.Series:
    """``department_id`` → how the report names the unit: its own name in Chinese; in English its kind and id
    ('leaf-purchasing station D037'), since the departments table names units in Chinese only.

    The id is the one the dataset and ``riskmodel report portrait --entity-kind department`` use, so an English
    reader can look a unit up without its Chinese name.
    """
    d = run.departments.set_index("department_id")
    if lang == "zh":
        return d.name.where(d.name.notna() & (d.name.astype(str) != ""), d.index.to_series())
    kind = d.dept_type.map(_DEPT_TYPE_EN).fillna("unit")
    return kind + " " + d.index.to_series().astype(str)


def department_month(run: RunData, months: int = 12, end: str | None = None, lang: str = "zh") -> pd.DataFrame:
    """Severity of fired flags per department and month (departments with any flag, busiest first), units named in
    the report's language (:func:`unit_labels`)."""
    f = _fired(run).dropna(subset=["department_id"])
    last = pd.Timestamp(end) if end else f.month.max()
    f = f[(f.month > last - pd.DateOffset(months=months)) & (f.month <= last)]
    tab = f.pivot_table(index="department_id", columns="month", values="severity", aggfunc="sum", fill_value=0)
    tab = tab.loc[tab.sum(axis=1).sort_values(ascending=False).index[:25]]
    names = unit_labels(run, lang)
    tab.index = [names.get(i, i) for i in tab.index]
    tab.columns = [c.strftime("%Y-%m") for c in tab.columns]
    return tab


def business_month(run: RunData, months: int = 12, end: str | None = None, lang: str = "zh") -> pd.DataFrame:
    """Severity of fired flags per business type (indicator family) and month."""
    f = _fired(run)
    last = pd.Timestamp(end) if end else f.month.max()
    f = f[(f.month > last - pd.DateOffset(months=months)) & (f.month <= last)]
    tab = f.pivot_table(index="family", columns="month", values="severity", aggfunc="sum", fill_value=0)
    tab.index = [FAMILY_NAMES.get(i, (i, i))[0 if lang == "zh" else 1] for i in tab.index]
    tab.columns = [c.strftime("%Y-%m") for c in tab.columns]
    return tab


def abnormal(tab: pd.DataFrame, z: float = 2.0, min_change: float = 3.0) -> pd.DataFrame:
    """Mark cells that jump from their row's own history: |value − trailing mean| > z × trailing std (6 months)
    and by at least ``min_change`` severity points (so a move from 0 to 1 is not news)."""
    mean = tab.T.shift(1).rolling(6, min_periods=3).mean().T
    std = tab.T.shift(1).rolling(6, min_periods=3).std().T.replace(0, np.nan)
    change = (tab - mean).abs()
    return (change > z * std.fillna(np.inf)) & (change >= min_change) & (tab > 0)


def heatmaps(run: RunData, period: str, lang: str = "zh"):
    """The two heatmaps of the report, with abnormal changes framed.

    Each row is coloured on its own scale (a month's severity as a share of the row's highest month; the numbers
    in the cells are the severities), so that the leaf-purchasing peak of a few stations in December does not
    wash out every other row: a row's own peaks and quiet months show whatever its size.
    """
    _, hi, _ = parse_period(period)
    dm = department_month(run, end=hi, lang=lang)
    bm = business_month(run, end=hi, lang=lang)
    cb = t(lang, "占本行最高月的比例\n格中数字：严重度合计", "share of the row's peak\nnumbers: severity")
    note = t(lang, "（每行按自身最高月份着色；蓝框：异常变化）", " (each row on its own scale; blue frame: abnormal change)")
    return (heatmap(dm, t(lang, "部门 × 月份 风险热力图", "Risk by department × month") + note, cb, abnormal(dm), scale="row"),
            heatmap(bm, t(lang, "业务类型 × 月份 风险热力图", "Risk by business type × month") + note, cb, abnormal(bm), scale="row"))


def post_holders(run: RunData, lo: pd.Timestamp, hi: pd.Timestamp) -> pd.Series:
    """How many people held each post at some time from ``lo`` to ``hi`` (``position_id`` → count).

    From the post history, so that a month's report does not count people who take the post up later in its
    quarter (rotation is on 1 March); without a ``post_history`` table, from the posts the run's quarterly features
    give the people in the quarters the period touches.
    """
    if run.data.has("post_history"):
        ph = run.data.table("post_history")
        start, end = pd.to_datetime(ph.start_date), pd.to_datetime(ph.end_date)
        held = ph[(start <= hi) & (end.isna() | (end >= lo))]
        return held.groupby("position_id").employee_id.nunique()
    f = run.features
    return f[(f.period >= lo.to_period("Q").start_time) & (f.period <= hi)].groupby("position_id").entity_id.nunique()


def high_risk_posts(run: RunData, period: str, lang: str = "zh", top: int = 10) -> pd.DataFrame:
    """Posts ranked by fired severity per holder in the period (rates, not totals, so big posts do not dominate)."""
    lo, hi, _ = parse_period(period)
    f = _fired(run)
    f = f[(f.month >= lo) & (f.month <= hi) & f.position_id.notna()]
    pos = run.positions.set_index("position_id")
    holders = post_holders(run, lo, hi)
    g = f.groupby("position_id").agg(severity=("severity", "sum"), people=("employee_id", "nunique"))
    g["holders"] = holders.reindex(g.index)
    g["severity_per_holder"] = (g.severity / g.holders).round(2)
    g["post"] = pos.reindex(g.index)["title_zh" if lang == "zh" else "title_en"]
    g["sensitivity"] = pos.reindex(g.index).sensitivity
    out = g.sort_values("severity_per_holder", ascending=False).head(top).set_index("post")
    out.index.name = t(lang, "岗位", "post")
    return out[["sensitivity", "holders", "people", "severity", "severity_per_holder"]].rename(columns={
        "sensitivity": t(lang, "风险等级", "sensitivity"), "holders": t(lang, "在岗人数", "holders"),
        "people": t(lang, "涉及人数", "people flagged"), "severity": t(lang, "严重度", "severity"),
        "severity_per_holder": t(lang, "人均严重度", "severity per holder")})


def high_risk_chart(run: RunData, period: str, lang: str = "zh"):
    tab = high_risk_posts(run, period, lang)
    s = tab[tab.columns[-1]]
    return bars(s, t(lang, "高风险岗位（人均红旗严重度）", "High-risk posts (severity per holder)"), t(lang, "人均严重度", "severity per holder"))


def cross_comparison(run: RunData, period: str, by: str = "department", lang: str = "zh") -> pd.DataFrame:
    """This period vs the mean of the previous four, per department or business type, with abnormal changes marked."""
    lo, hi, freq = parse_period(period)
    f = _fired(run).copy()
    f["p"] = f.month.dt.to_period(freq).dt.start_time
    key = "department_id" if by == "department" else "family"
    tab = f.pivot_table(index=key, columns="p", values="severity", aggfunc="sum", fill_value=0)
    cur = lo.to_period(freq).start_time
    if cur not in tab.columns:
        tab[cur] = 0
    prev = [c for c in tab.columns if c < cur][-4:]
    out = pd.DataFrame({"now": tab[cur], "before": tab[prev].mean(axis=1) if prev else np.nan,
                        "sd": tab[prev].std(axis=1) if len(prev) > 1 else np.nan})
    out["change"] = out.now - out.before
    out["abnormal"] = (out.change.abs() > 2 * out.sd.replace(0, np.nan).fillna(np.inf)) & (out.change.abs() >= 3) & (out.now > 0)
    out = out[(out.now > 0) | (out.before > 0)].sort_values("change", ascending=False)
    names = unit_labels(run, lang) if by == "department" else pd.Series({k: v[0 if lang == "zh" else 1] for k, v in FAMILY_NAMES.items()})
    out.index = [names.get(i, i) for i in out.index]
    out = out.round(1).drop(columns="sd")
    out["abnormal"] = np.where(out.abnormal, t(lang, "⚠ 异常", "⚠ abnormal"), "")
    return out.rename(columns={"now": t(lang, "本期", "this period"), "before": t(lang, "前四期均值", "mean of previous 4"),
                               "change": t(lang, "变化", "change"), "abnormal": t(lang, "标记", "mark")}).head(20)


#: what an alert is about, as the review queue names it (zh, en)
ENTITY_NAMES = {"employee": ("人员", "person"), "tender": ("招标项目", "tender"), "claim": ("报销单", "expense claim"),
                "purchase_order": ("采购订单", "purchase order"), "leaf_purchase": ("烟叶收购记录", "leaf purchase"),
                "supplier": ("供应商", "supplier"), "grower": ("烟农", "grower")}
#: the de-identified queue's coarse post labels (Chinese, from :mod:`riskmodel.linkage.deid`) in English
_SENSITIVITY_EN = {3: "high-risk post", 2: "medium-risk post", 1: "ordinary post"}


def _label_en(run: RunData) -> dict[str, str]:
    """The de-identified queue's Chinese unit and post labels → English: coarse kinds, and a unit's own name (shown
    where the view keeps it) → its English label (:func:`unit_labels`; only names no two units share)."""
    from riskmodel.linkage.deid import DEPT_TYPE_ZH, SENSITIVITY_ZH

    d = run.departments
    unique = ~d.name.duplicated(keep=False) & d.name.notna()
    own = dict(zip(d.name[unique], unit_labels(run, "en").reindex(d.department_id[unique]).to_numpy()))
    return (own | {DEPT_TYPE_ZH[k]: v for k, v in _DEPT_TYPE_EN.items() if k in DEPT_TYPE_ZH}
            | {SENSITIVITY_ZH[k]: v for k, v in _SENSITIVITY_EN.items() if k in SENSITIVITY_ZH}
            | {"全公司": "company-wide", "其他部门": "other department", "相关岗位": "related post"})


def queue_quarter(period: str) -> pd.Period:
    """The quarter whose review queue the report for ``period`` lists: the last quarter complete by the period's end.

    Alerts are made per quarter, at its end, from the whole quarter's data.  A quarter's report, and the report on
    its last month, list that quarter's queue; the reports on its first two months list the quarter before's, since
    their own quarter's queue is made from data past their end.

    Examples
    --------
    >>> str(queue_quarter("2025Q3")), str(queue_quarter("2025-12")), str(queue_quarter("2025-11"))
    ('2025Q3', '2025Q4', '2025Q3')
    """
    hi = parse_period(period)[1]
    q = pd.Period(hi, "Q")
    return q if q.end_time.normalize() == hi else q - 1


def _quarter_alerts(run: RunData, period: str) -> pd.DataFrame:
    """The alerts of the period's queue (:func:`queue_quarter`): people by rank, then events by rank (every event
    type's first, then its second …), so that a cut at the top N keeps the highest-ranked of every kind."""
    a = run.alerts
    a = a[pd.to_datetime(a.period).dt.to_period("Q") == queue_quarter(period)]
    order = (a.entity_type != "employee").astype(int)
    return a.assign(_order=order).sort_values(["_order", "rank", "entity_type"], kind="stable").drop(columns="_order")


def _top_reasons(texts: pd.Series, lang: str, n: int = 3) -> pd.Series:
    """The first ``n`` reasons of each alert (the de-identified view joins them all with '；')."""
    sep = "；" if lang == "zh" else "; "
    return texts.fillna("").map(lambda s: sep.join([r for r in str(s).split("；") if r][:n]))


def _year_known_posts(rv, a: pd.DataFrame, view: pd.DataFrame) -> pd.Series:
    """The de-identified post labels, made safe for a report that tells each row's year.

    The de-identification hides the year of a row only when it generalises the row to level 3 (a post's
    sensitivity across the company and all years).  Listing such a row in one quarter's report tells its year, so
    its post is kept only where at least k people held a post of that sensitivity in the company that year, and
    shown as '*' otherwise.
    """
    post = view.post_zh.copy()
    risky = (view.gen_level == 3) & ~post.isin(["—", "*"])
    sensitivity = rv.data.table("positions").set_index("position_id").sensitivity
    for i in view.index[risky]:  # rare: a queue has a handful of level-3 rows at most
        held = rv.deid.holders(pd.Timestamp(a.at[i, "period"]).year)
        if held[held.sensitivity == sensitivity.get(a.at[i, "position_id"])].employee_id.nunique() < rv.deid.k:
            post.at[i] = "*"
    return post


def queue(run: RunData, period: str, lang: str = "zh", top: int | None = 30, audience: str = "supervisor") -> pd.DataFrame:
    """The review queue of the last quarter complete by the period's end (see :func:`queue_quarter`): people first,
    then events, with the top three reasons, in the report's language.

    De-identified audiences (leadership, education officers, model reviewers) get the queue through
    :class:`riskmodel.linkage.roles.RoleView`: pseudonyms, coarse units and posts, scrubbed reasons.

    Parameters
    ----------
    run : RunData
    period : str
        A month (``2025-11``) or a quarter (``2025Q4``).
    lang : {'zh', 'en'}, default='zh'
    top : int or None, default=30
        How many alerts to list (``None``: all); :func:`queue_caption` states how many are left out.
    audience : str, default='supervisor'

    Returns
    -------
    DataFrame
        One row per alert, indexed by the alert's id (its pseudonym for de-identified audiences), with the quarter,
        rank, kind of entity, entity, unit, post, score and main reasons; empty when the quarter has no alerts.
        ``attrs['left_out']`` counts the alerts the de-identified view did not give (0 when it gave them all).

    Warns
    -----
    UserWarning
        When the de-identified view leaves out alerts of the queue: they are not listed, and the warning says how
        many and which ranks.
    """
    from riskmodel.linkage.roles import POLICIES, RoleView

    a = _quarter_alerts(run, period)
    a = a if top is None else a.head(top)
    left_out = 0
    if not POLICIES[audience].identified:
        rv = RoleView(audience, run.data)
        v = rv.alerts(run.run_dir).set_index("alert_ref")
        refs = pd.Series([rv.deid.pseudonymizer(x, "alert") for x in a.alert_id], index=a.index)
        given = refs.isin(v.index).to_numpy()
        if not given.all():  # list what the view gives, and say what it did not (never by id: the report is de-identified)
            gone = a[~given]
            left_out = len(gone)
            warnings.warn(f"the de-identified view for {audience} gives {len(a) - left_out} of the {len(a)} alerts of "
                          f"{queue_quarter(period)} to be listed: {left_out} {'is' if left_out == 1 else 'are'} left out of this queue ("
                          + ", ".join(f"{e} #{r}" for e, r in zip(gone.entity_type, gone["rank"]))
                          + "); the supervisor's report lists them", stacklevel=2)
            a, refs = a[given], refs[given]
        v = v.loc[refs]
        v.index = a.index
        en = _label_en(run)
        unit, post = v.unit_zh, _year_known_posts(rv, a, v)
        if lang != "zh":
            unit, post = unit.map(lambda x: en.get(x, x)), post.map(lambda x: en.get(x, x))
        out = pd.DataFrame({"id": refs, "entity": v.entity_ref, "unit": unit, "post": post,
                            "reasons": _top_reasons(v[f"reasons_{lang}"], lang)}, index=a.index)
    else:
        key = "text_zh" if lang == "zh" else "text_en"
        sep = "；" if lang == "zh" else "; "
        depts = unit_labels(run, lang)
        posts = run.positions.set_index("position_id")["title_zh" if lang == "zh" else "title_en"]
        out = pd.DataFrame({"id": a.alert_id, "entity": a.entity_id, "unit": a.department_id.map(depts).fillna("—"),
                            "post": a.position_id.map(posts).fillna("—"),
                            "reasons": a.reasons.map(lambda rs: sep.join(r[key] for r in list(rs)[:3]) if rs is not None else "")})
    out["quarter"] = str(queue_quarter(period))
    out["type"] = a.entity_type.map(lambda e: ENTITY_NAMES.get(e, (e, e))[0 if lang == "zh" else 1])
    out["rank"] = a["rank"]
    out["score"] = a.score.round(3)
    out = out.set_index("id")[["quarter", "rank", "type", "entity", "unit", "post", "score", "reasons"]]
    out.index.name = t(lang, "预警编号", "alert")
    out = out.rename(columns={
        "quarter": t(lang, "季度", "quarter"), "rank": t(lang, "排名", "rank"), "type": t(lang, "对象类型", "type"),
        "entity": t(lang, "对象", "entity"), "unit": t(lang, "单位", "unit"), "post": t(lang, "岗位", "post"),
        "score": t(lang, "风险分", "score"), "reasons": t(lang, "主要原因", "main reasons")})
    out.attrs["left_out"] = left_out
    return out


def queue_caption(run: RunData, period: str, lang: str = "zh", top: int | None = 30) -> str:
    """One sentence above the queue: which quarter it is, how many alerts it holds and how many are listed.

    A monthly report names the quarter whose queue it lists, e.g. '截至 2025-11 月末的最近一季 2025Q3 的待核查预警共
    41 条（人员 21 条，事项 20 条），按排名列出前 30 条，其余 11 条未列出。'
    """
    a = _quarter_alerts(run, period)
    q = str(queue_quarter(period))
    n, people = len(a), int((a.entity_type == "employee").sum())
    shown = n if top is None else min(n, top)
    monthly = parse_period(period)[2] == "M"
    if lang == "zh":
        which = f"截至 {period} 月末的最近一季 {q}" if monthly else q
        if n == 0:
            return f"{which} 没有待核查预警。"
        head = f"{which} 的待核查预警共 {n} 条（人员 {people} 条，事项 {n - people} 条）"
        return head + ("，全部列出。" if shown == n else f"，按排名列出前 {shown} 条，其余 {n - shown} 条未列出。")
    which = f"the latest quarter complete by the end of {period} ({q})" if monthly else q
    if n == 0:
        return f"No alerts for review in {which}."
    head = f"The review queue of {which} holds {n} alerts ({people} people, {n - people} events)"
    return head + (", all listed." if shown == n else f"; the first {shown} by rank are listed, the other {n - shown} are not.")


#: reviewers' decisions (:data:`riskmodel.scoring.feedback.DECISIONS`) as the report names them (zh, en)
DECISION_NAMES = {"confirmed": ("属实", "confirmed"), "dismissed": ("排除", "dismissed"),
                  "needs_information": ("需补充材料", "needs information")}


def decisions(run: RunData, period: str, lang: str = "zh") -> pd.DataFrame:
    """What reviewers decided on the previous quarter's alerts (the quarter before :func:`queue_quarter`) by the end
    of the report's period: the office's earlier reviews and this run's decisions (:attr:`RunData.reviews`)."""
    d = run.reviews
    prev = queue_quarter(period) - 1
    end = parse_period(period)[1] + pd.Timedelta(days=1)
    dd = d[(pd.to_datetime(d.period).dt.to_period("Q") == prev).to_numpy() & ~(d.decided_at >= end).to_numpy()]
    if dd.empty:
        return pd.DataFrame({t(lang, "说明", "note"): [t(lang, f"{prev} 的预警尚无核查结论记录",
                                                          f"no reviewer decisions recorded on the alerts of {prev}")]})
    out = dd.groupby("decision").size().rename(t(lang, "件数", "count")).to_frame()
    out.index = [DECISION_NAMES.get(x, (x, x))[0 if lang == "zh" else 1] for x in out.index]
    out.index.name = t(lang, f"{prev} 预警的核查结论", f"decisions on the alerts of {prev}")
    return out


def data_quality(run: RunData, lang: str = "zh") -> pd.DataFrame:
    """Data-quality notes: indicators that scored nothing, and the contract check of the source."""
    from riskmodel.data.contracts import validate_dataset

    rep = validate_dataset(run.data_dir)
    rows = [(t(lang, "数据契约检查", "data contract check"),
             t(lang, "通过", "passed") if rep.ok else t(lang, f"{len(rep.errors)} 项错误", f"{len(rep.errors)} errors"))]
    rows.append((t(lang, "数据指纹", "data fingerprint"), run.card["data_fingerprint"][:16]))
    thr = pd.read_parquet(run.run_dir / "indicator_thresholds.parquet")
    idle = thr[thr.scored == 0].indicator_id.tolist()
    rows.append((t(lang, "未能计算的指标（缺表或无数据）", "indicators with nothing to score"), ", ".join(idle) or "—"))
    rows += [(f"{p.table}.{p.column or ''}", p.message) for p in rep.warnings[:5]]
    return pd.DataFrame(rows, columns=[t(lang, "项目", "item"), t(lang, "结果", "result")])


#: case types (``cases.case_type``, written in Chinese by the source system and by the synthetic archive,
#: :mod:`riskmodel.data.synthetic.archive`; '预警核实' is the de-identified digest's type for a verified alert) in English
CASE_TYPE_EN = {"受贿": "bribery", "违规采购": "procurement violation", "围标串标": "bid rigging",
                "虚假报销": "false expense claims", "烟叶收购违规": "leaf-purchasing violation",
                "违反八项规定": "breach of the eight-point rules", "工作作风": "work conduct",
                "违规饮酒": "drinking in breach of rules", "预警核实": "verified alert"}


def archive_statistics(run: RunData, period: str, lang: str = "zh") -> tuple[pd.DataFrame, pd.DataFrame]:
    """Cases by type × year and the rectification ledger's completion by department (电子档案 statistics), as the
    archive stood at the period's end.

    Only cases opened by the period's last day count, and only their rectification items; an item counts as done
    if completed by that day.  The period's own year, when partial, is labelled with the day it runs to.

    Parameters
    ----------
    run : RunData
    period : str
        A month (``2025-09``) or a quarter (``2025Q3``).
    lang : {'zh', 'en'}, default='zh'
        Case types and units are named in this language (case types unknown to :data:`CASE_TYPE_EN` keep their
        code in English).

    Returns
    -------
    (DataFrame, DataFrame)
        Cases by type (rows) and year opened (columns); rectification items, done, done on time, overdue and the
        rates by department.
    """
    from riskmodel.linkage.archive import Archive, case_counts, rectification_completion

    _, hi, _ = parse_period(period)
    known = Archive.from_data(run.data).known_on(hi)
    counts = case_counts(known, by=("case_type", "year"))
    grid = counts.pivot_table(index="case_type", columns="year", values="n_cases", aggfunc="sum", fill_value=0)
    if lang != "zh":
        grid.index = [CASE_TYPE_EN.get(c, c) for c in grid.index]
    grid.index.name = t(lang, "案件类型", "case type")
    if not (hi.month == 12 and hi.day == 31):  # the period's own year is partial: its column says to when
        grid.columns = [t(lang, f"{y}（截至{hi.month}月{hi.day}日）", f"{y} (to {hi:%-d %b})") if y == hi.year else str(y)
                        for y in grid.columns]
    grid.columns.name = t(lang, "立案年份", "year opened")
    rect = rectification_completion(known, as_of=hi)
    names = unit_labels(run, lang)
    if "department_id" in rect:
        rect = rect.assign(department_id=[names.get(d, d) for d in rect.department_id]).set_index("department_id")
        rect.index.name = t(lang, "部门", "department")
    return grid, rect.round(2).rename(columns={
        "n_items": t(lang, "整改事项", "items"), "done": t(lang, "已完成", "done"), "done_on_time": t(lang, "按期完成", "done on time"),
        "overdue": t(lang, "逾期未完成", "overdue"), "completion_rate": t(lang, "完成率", "completion rate"),
        "on_time_rate": t(lang, "按期完成率", "on-time rate")})
