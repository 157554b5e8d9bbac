"""Integrity education: materials (topic tags, target posts), learning events, required credits."""

from __future__ import annotations

import numpy as np
import pandas as pd

from riskmodel.data.synthetic.base import Context, random_dates

# topic tag -> (posts it targets, titles)
TOPICS = {
    "procurement": ("procurement_officer;manager;warehouse_keeper", ["物资采购廉洁风险防控", "采购审批流程与责任", "化整为零规避招标典型案例剖析"]),
    "tender": ("procurement_officer;manager;leader", ["招标投标法规解读", "围标串标的识别与防范", "未招先定、明招暗定警示录"]),
    "reimbursement": ("all", ["差旅费管理办法解读", "虚假报销典型案例警示", "发票真伪与重复报销风险"]),
    "hospitality": ("leader;manager;station_manager", ["公务接待规定", "公款吃喝问题警示", "中央八项规定精神学习"]),
    "gifts": ("all", ["节日期间廉洁提醒", "违规收送礼品礼金典型案例"]),
    "leaf_grading": ("grader;station_manager;inspector", ["烟叶分级标准与定级纪律", "人情烟、关系烟危害与防范", "压级压价问题警示"]),
    "leaf_contract": ("station_manager;grader;weigher", ["烟叶收购合同管理", "超合同收购与跨区收购的纪律要求", "夜间收购禁令解读"]),
    "conflict_of_interest": ("procurement_officer;manager;leader;station_manager", ["利益冲突申报与回避制度", "亲属经商办企业规范"]),
    "rotation": ("station_manager;grader;cashier;procurement_officer", ["重点岗位轮岗交流制度"]),
    "official_car": ("driver;station_manager;manager", ["公务用车管理规定", "公车私用典型案例"]),
    "integrity_general": ("all", ["廉洁从业若干规定", "党纪处分条例学习", "廉洁文化建设", "警示教育片：贪欲之害"]),
}
KINDS = np.array(["video", "article", "course", "warning_case", "test"])


def materials(ctx: Context) -> pd.DataFrame:
    rng = ctx.rng("education.materials")
    rows = []
    for topic, (posts, titles) in TOPICS.items():
        for t in titles:
            for part in range(1, 4):
                extra = rng.choice(list(TOPICS)) if rng.random() < 0.3 else None
                tags = topic if extra in (None, topic) else f"{topic};{extra}"
                kind = rng.choice(KINDS, p=[0.3, 0.25, 0.2, 0.15, 0.1])
                rows.append((f"{t}（{'一二三'[part - 1]}）", kind, tags, posts))
    m = pd.DataFrame(rows, columns=["title", "kind", "topic_tags", "target_posts"])
    n = len(m)
    m.insert(0, "material_id", ctx.ids("M", n, 4))
    m["minutes"] = np.round(np.where(m.kind == "article", rng.uniform(5, 20, n), rng.uniform(15, 90, n)))
    m["credits"] = np.round(m.minutes / 15, 1)
    m["published_date"] = ctx.start - pd.Timedelta(days=400) + pd.to_timedelta(rng.integers(0, 365 * len(ctx.years) + 300, n), unit="D")
    return m


def learning(ctx: Context, org: dict, mats: pd.DataFrame) -> pd.DataFrame:
    """Learning events: most people keep up, some lag; study peaks before Spring Festival and in the off-season."""
    rng = ctx.rng("education.learning")
    roster = org["roster"]
    frames = []
    lag = dict(zip(org["employees"].employee_id, rng.random(len(org["employees"])) < 0.12))
    for year in ctx.years:
        r = roster[roster.ryear == year]
        lam = np.where(r.employee_id.map(lag), 2.0, 12.0)
        k = rng.poisson(lam)
        who = np.repeat(r.employee_id.to_numpy(), k)
        post = np.repeat(r.post_code.to_numpy(), k)
        day = random_dates(rng, f"{year}-01-01", f"{year}-12-31", len(who), {1: 1.8, 2: 1.2, 9: 1.3, 10: 0.6, 11: 0.6})
        frames.append(pd.DataFrame({"employee_id": who, "post": post, "day": day}))
    ev = pd.concat(frames, ignore_index=True)
    n = len(ev)
    # pick a material targeted at the post (or 'all'), published before the day
    targeted = {p: mats.index[(mats.target_posts == "all") | mats.target_posts.str.split(";").apply(lambda x, p=p: p in x)].to_numpy()
                for p in ev.post.unique()}
    pick = np.empty(n, dtype=int)
    for p, idx in ev.groupby("post").groups.items():
        pick[idx] = rng.choice(targeted[p], len(idx))
    m = mats.iloc[pick].reset_index(drop=True)
    ok = (m.published_date <= ev.day).to_numpy()
    ev, m = ev[ok].reset_index(drop=True), m[ok].reset_index(drop=True)
    n = len(ev)
    frac = rng.uniform(0.4, 1.15, n)
    minutes = np.round(m.minutes.to_numpy() * frac, 1)
    completed = frac >= 0.8
    score = np.where(completed & m.kind.isin(["test", "course", "warning_case"]).to_numpy(), np.clip(rng.normal(82, 9, n), 30, 100).round(), np.nan)
    out = pd.DataFrame({"employee_id": ev.employee_id, "material_id": m.material_id,
                        "started_at": ev.day + pd.to_timedelta(rng.integers(8 * 60, 22 * 60, n), unit="m"),
                        "minutes": minutes, "completed": completed, "test_score": score,
                        "points": np.where(completed, m.credits.to_numpy() * 10, 0.0)})
    out = out.sort_values("started_at", ignore_index=True)
    out.insert(0, "event_id", ctx.ids("LE", len(out), 7))
    return out


def credit_requirements(ctx: Context, positions: pd.DataFrame) -> pd.DataFrame:
    rows = [(p.position_id, y, {3: 40.0, 2: 30.0, 1: 20.0}[p.sensitivity]) for p in positions.itertuples() for y in ctx.years]
    return pd.DataFrame(rows, columns=["position_id", "year", "required_credits"])
