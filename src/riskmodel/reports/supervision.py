"""The periodic supervision report (监督报告): headline numbers, heatmaps, high-risk posts and business types,
cross comparisons with abnormal changes marked, the review queue and last period's decisions, data quality."""

from __future__ import annotations

import numpy as np
import pandas as pd

from riskmodel.errors import RiskModelError
from riskmodel.reports.figures import bars, heatmap, t
from riskmodel.reports.rundata import FAMILY_NAMES, RunData


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
    """Headline numbers for the period and the one before."""
    lo, hi, freq = parse_period(period)
    prev_lo = (pd.Period(lo, freq) - 1).start_time
    f = _fired(run)
    a = run.alerts
    a_period = pd.to_datetime(a.period)

    def nums(s, e):
        ff = f[(f.month >= s) & (f.month <= e)]
        aa = a[(a_period >= s.to_period("Q").start_time) & (a_period <= e)]
        return [len(ff), ff.employee_id.nunique(), ff.indicator_id.nunique(), len(aa), int((aa.entity_type == "employee").sum())]

    rows = [t(lang, "触发红旗（项次）", "red flags fired"), t(lang, "涉及人员", "people involved"), t(lang, "触发的指标", "indicators fired"),
            t(lang, "预警（待核查）", "alerts (for review)"), t(lang, "人员预警", "people alerts")]
    return pd.DataFrame({t(lang, "本期", "this period"): nums(lo, hi), t(lang, "上期", "previous period"): nums(prev_lo, lo - pd.Timedelta(days=1))},
                        index=rows)


def _dept_names(run: RunData) -> pd.Series:
    return run.departments.set_index("department_id").name


def department_month(run: RunData, months: int = 12, end: str | None = None) -> pd.DataFrame:
    """Severity of fired flags per department and month (departments with any flag, busiest first)."""
    f = _fired(run).dropna(subset=["department_id"])
    last = pd.Timestamp(end) if end else f.month.max()
    f = f[(f.month > last - pd.DateOffset(months=months)) & (f.month <= last)]
    tab = f.pivot_table(index="department_id", columns="month", values="severity", aggfunc="sum", fill_value=0)
    tab = tab.loc[tab.sum(axis=1).sort_values(ascending=False).index[:25]]
    names = _dept_names(run)
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
    """The two heatmaps of the report, with abnormal changes framed."""
    _, hi, _ = parse_period(period)
    dm = department_month(run, end=hi)
    bm = business_month(run, end=hi, lang=lang)
    cb = t(lang, "红旗严重度合计", "red-flag severity")
    return (heatmap(dm, t(lang, "部门 × 月份 风险热力图（蓝框：异常变化）", "Risk by department × month (blue frame: abnormal change)"), cb, abnormal(dm)),
            heatmap(bm, t(lang, "业务类型 × 月份 风险热力图（蓝框：异常变化）", "Risk by business type × month (blue frame: abnormal change)"), cb, abnormal(bm)))


def high_risk_posts(run: RunData, period: str, lang: str = "zh", top: int = 10) -> pd.DataFrame:
    """Posts ranked by fired severity per holder in the period (rates, not totals, so big posts do not dominate)."""
    lo, hi, _ = parse_period(period)
    f = _fired(run)
    f = f[(f.month >= lo) & (f.month <= hi) & f.position_id.notna()]
    pos = run.positions.set_index("position_id")
    holders = run.features[(run.features.period >= lo.to_period("Q").start_time) & (run.features.period <= hi)].groupby("position_id").entity_id.nunique()
    g = f.groupby("position_id").agg(severity=("severity", "sum"), people=("employee_id", "nunique"))
    g["holders"] = holders.reindex(g.index)
    g["severity_per_holder"] = (g.severity / g.holders).round(2)
    g["post"] = pos.reindex(g.index)["title_zh" if lang == "zh" else "title_en"]
    g["sensitivity"] = pos.reindex(g.index).sensitivity
    out = g.sort_values("severity_per_holder", ascending=False).head(top).set_index("post", drop=False)
    out.index.name = None
    return out[["post", "sensitivity", "holders", "people", "severity", "severity_per_holder"]].rename(columns={
        "post": t(lang, "岗位", "post"), "sensitivity": t(lang, "风险等级", "sensitivity"), "holders": t(lang, "在岗人数", "holders"),
        "people": t(lang, "涉及人数", "people flagged"), "severity": t(lang, "严重度", "severity"),
        "severity_per_holder": t(lang, "人均严重度", "severity per holder")})


def high_risk_chart(run: RunData, period: str, lang: str = "zh"):
    tab = high_risk_posts(run, period, lang)
    s = tab.set_index(tab.columns[0])[tab.columns[-1]]
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
    names = _dept_names(run) if by == "department" else pd.Series({k: v[0 if lang == "zh" else 1] for k, v in FAMILY_NAMES.items()})
    out.index = [names.get(i, i) for i in out.index]
    out = out.round(1).drop(columns="sd")
    out["abnormal"] = np.where(out.abnormal, t(lang, "⚠ 异常", "⚠ abnormal"), "")
    return out.rename(columns={"now": t(lang, "本期", "this period"), "before": t(lang, "前四期均值", "mean of previous 4"),
                               "change": t(lang, "变化", "change"), "abnormal": t(lang, "标记", "mark")}).head(20)


def queue(run: RunData, period: str, lang: str = "zh", top: int = 30, audience: str = "supervisor") -> pd.DataFrame:
    """The review queue for the period (people first, then events), with the top reasons.

    De-identified audiences (leadership, education officers, model reviewers) get the queue through
    :class:`riskmodel.linkage.roles.RoleView`: pseudonyms, coarse units and posts, scrubbed reasons.
    """
    lo, hi, _ = parse_period(period)
    from riskmodel.linkage.roles import POLICIES, RoleView

    if not POLICIES[audience].identified:
        v = RoleView(audience, run.data).alerts(run.run_dir)
        v = v[(v.year_label.astype(str).str[:4] >= str(lo.year)) & (v.year_label.astype(str).str[:4] <= str(hi.year))] if "year_label" in v else v
        cols = ["alert_ref", "entity_type", "entity_ref", "unit_zh", "post_zh", "rank", "score", f"reasons_{lang}"]
        return v[[c for c in cols if c in v]].head(top).set_index("alert_ref").round(3)
    a = run.alerts
    p = pd.to_datetime(a.period)
    a = a[(p >= lo.to_period("Q").start_time) & (p <= hi)].copy()
    if a.empty:
        return pd.DataFrame()
    key = "text_zh" if lang == "zh" else "text_en"
    a["reasons_text"] = a.reasons.map(lambda rs: "；".join(r[key] for r in list(rs)[:3]) if rs is not None else "")
    a["order"] = (a.entity_type != "employee").astype(int)
    a = a.sort_values(["order", "entity_type", "rank"]).head(top)
    return a[["alert_id", "entity_type", "entity_id", "rank", "score", "reasons_text"]].set_index("alert_id").rename(columns={
        "alert_id": t(lang, "预警编号", "alert"), "entity_type": t(lang, "对象类型", "type"), "entity_id": t(lang, "对象", "entity"),
        "rank": t(lang, "排名", "rank"), "score": t(lang, "风险分", "score"), "reasons_text": t(lang, "主要原因", "main reasons")}).round(3)


def decisions(run: RunData, period: str, lang: str = "zh") -> pd.DataFrame:
    """What reviewers decided on the previous period's alerts."""
    d = run.decisions
    if d.empty:
        return pd.DataFrame({t(lang, "说明", "note"): [t(lang, "上期尚无核查结论记录", "no reviewer decisions recorded yet")]})
    lo, _, freq = parse_period(period)
    prev = (pd.Period(lo, freq) - 1)
    dd = d[(pd.to_datetime(d.period) >= prev.start_time.to_period("Q").start_time) & (pd.to_datetime(d.period) <= prev.end_time)]
    return dd.groupby("decision").size().rename(t(lang, "件数", "count")).to_frame()


def data_quality(run: RunData, lang: str = "zh") -> pd.DataFrame:
    """Data-quality notes: indicators that scored nothing, and the contract check of the source."""
    from riskmodel.data.contracts import validate_dataset

    rep = validate_dataset(run.card["data_source"])
    rows = [(t(lang, "数据契约检查", "data contract check"),
             t(lang, "通过", "passed") if rep.ok else t(lang, f"{len(rep.errors)} 项错误", f"{len(rep.errors)} errors"))]
    rows.append((t(lang, "数据指纹", "data fingerprint"), run.card["data_fingerprint"][:16]))
    thr = pd.read_parquet(run.run_dir / "indicator_thresholds.parquet")
    idle = thr[thr.scored == 0].indicator_id.tolist()
    rows.append((t(lang, "未能计算的指标（缺表或无数据）", "indicators with nothing to score"), ", ".join(idle) or "—"))
    rows += [(f"{p.table}.{p.column or ''}", p.message) for p in rep.warnings[:5]]
    return pd.DataFrame(rows, columns=[t(lang, "项目", "item"), t(lang, "结果", "result")])


def archive_statistics(run: RunData, period: str, lang: str = "zh") -> tuple[pd.DataFrame, pd.DataFrame]:
    """Cases by type × year and the rectification ledger's completion by department (电子档案 statistics)."""
    from riskmodel.linkage.archive import case_counts, rectification_completion

    _, hi, _ = parse_period(period)
    counts = case_counts(run.data, by=("case_type", "year"))
    grid = counts.pivot_table(index="case_type", columns="year", values="n_cases", aggfunc="sum", fill_value=0)
    grid.index.name = t(lang, "案件类型", "case type")
    rect = rectification_completion(run.data, as_of=hi)
    names = _dept_names(run)
    if "department_id" in rect:
        rect = rect.assign(department_id=[names.get(d, d) for d in rect.department_id]).set_index("department_id")
        rect.index.name = t(lang, "部门", "department")
    return grid, rect.round(2)
