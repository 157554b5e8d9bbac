"""Targeted education (即查即教、以案促改), personal recommendations, learning analytics and whether education helped.

*Targeted plans.*  When confirmed findings (closed cases, alerts a reviewer
confirmed) or alerts concentrate in a post — a position in one department,
e.g. the graders of one station — that post gets a plan: materials whose topic
tags match what was found (:mod:`riskmodel.linkage.topics`), for the post's
current holders, due ``education_due_days`` after the plan date.  Nobody is
asked to study a material again that they have completed.

*Recommendations* (paper §2.1: 依据职工岗位特点、兴趣爱好、学习经历 …主动推送) score each
material a person has not completed:

==========================================  ======
the material …                              points
==========================================  ======
covers a topic of the person's red flags    3 per topic (at most 2 topics)
is written for the person's post            1
covers a topic of their weak test results   1
covers a topic they have not studied        0.5
is a warning case or a test                 0.25
==========================================  ======

*Learning analytics* (§2.2): credits against ``credit_requirements`` (pro-rated
within the current year), minutes, test scores, points, leaderboards, and
active and lagging learners by department and post.

*Effect* (§3.2): did flags in a post fall after its targeted education?  A
stacked difference-in-differences: for each educated post, the same post in
departments that were not educated is the comparison; the share of
employee-quarters with a fired flag is compared in the ``window`` quarters
before and after the plan date.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from riskmodel.errors import RiskModelError
from riskmodel.linkage.common import (DataLike, as_dataset, as_of_date, case_subjects, holders_at, latest_decisions,
                                      post_on, read_run, reason_indicators, table)
from riskmodel.linkage.topics import split_tags, topics_for_case, topics_for_indicators

PLAN_COLUMNS = ["plan_id", "department_id", "position_id", "dept_name", "post_title", "trigger", "n_confirmed", "n_alerts",
                "evidence", "topics", "material_ids", "n_holders", "holders", "plan_date", "due_date"]
CONFIRMED = ("case", "confirmed_review", "confirmed_alert")
SIGNAL_COLUMNS = ["source", "ref_id", "date", "department_id", "position_id", "employee_id", "topics", "indicator_ids"]
WEIGHTS = {"flag_topic": 3.0, "post": 1.0, "weak_topic": 1.0, "new_topic": 0.5, "kind": 0.25}


@dataclass
class EducationPlan:
    """Plans per post, the per-person assignments, and where findings concentrate."""

    plans: pd.DataFrame
    assignments: pd.DataFrame
    concentration: pd.DataFrame
    signals: pd.DataFrame


# -- what supervision found -----------------------------------------------------------------------------------


def findings(data: DataLike, run_dir: str | Path | None = None, as_of: str | pd.Timestamp | None = None,
             lookback_months: int = 24, case_statuses: tuple[str, ...] = ("closed",)) -> pd.DataFrame:
    """Every finding in the look-back window, with its post and topics.

    ``source`` is ``case`` (a case with a status in ``case_statuses``; the post
    its subject held in the case's department), ``confirmed_review`` (a past
    alert on an employee that a reviewer confirmed, from the ``alert_reviews``
    history; the post held in the alert's quarter), ``confirmed_alert`` (a
    reviewer confirmed an alert of the run) or ``alert`` (not dismissed, not yet
    confirmed).
    """
    ds = as_dataset(data)
    as_of = as_of_date(ds, as_of)
    since = as_of - pd.DateOffset(months=lookback_months)
    parts = []
    if ds.has("cases"):
        c = ds.table("cases")
        c = c[c.status.isin(list(case_statuses))]
        when = c.closed_date.fillna(c.opened_date)
        c = c.assign(date=when)[(when >= since) & (when <= as_of)]
        subj = case_subjects(ds, c) if len(c) else pd.DataFrame(columns=["case_id", "role", "employee_id", "post_position_id"])
        subj = subj[subj.role == "subject"].drop_duplicates("case_id").set_index("case_id")
        parts.append(pd.DataFrame({
            "source": "case", "ref_id": c.case_id, "date": c.date, "department_id": c.department_id,
            "position_id": c.case_id.map(subj.post_position_id), "employee_id": c.case_id.map(subj.employee_id),
            "topics": [topics_for_case(t, f"{a}{b}") for t, a, b in zip(c.case_type, c.title, c.summary)],
            "indicator_ids": [[] for _ in range(len(c))]}))
    if ds.has("alert_reviews"):  # the review history: past alerts a reviewer confirmed
        r = ds.table("alert_reviews")
        r = r[(r.entity_type == "employee") & (r.decision == "confirmed") & (r.decided_at >= since) & (r.decided_at <= as_of)]
        if len(r):
            r = post_on(ds, r.rename(columns={"entity_id": "employee_id"}), "period")
            parts.append(pd.DataFrame({
                "source": "confirmed_review", "ref_id": r.review_id, "date": r.decided_at, "department_id": r.post_department_id,
                "position_id": r.post_position_id, "employee_id": r.employee_id, "topics": [["integrity_general"]] * len(r),
                "indicator_ids": [[] for _ in range(len(r))]}))
    if run_dir is not None:
        run = read_run(run_dir)
        a = run["alerts"]
        dec = latest_decisions(run["decisions"])
        status = a.alert_id.map(dec.set_index("alert_id").decision) if len(dec) else pd.Series(np.nan, index=a.index)
        when = pd.to_datetime(a.period)
        decided = a.alert_id.map(pd.to_datetime(dec.set_index("alert_id").decided_at)) if len(dec) and "decided_at" in dec else when
        a = a.assign(status=status, date=decided.fillna(when))
        a = a[(a.status != "dismissed") & (when >= since) & (when <= as_of)]
        ids = a.reasons.map(reason_indicators)
        parts.append(pd.DataFrame({
            "source": np.where(a.status == "confirmed", "confirmed_alert", "alert"), "ref_id": a.alert_id, "date": a.date,
            "department_id": a.department_id, "position_id": a.position_id,
            "employee_id": np.where(a.entity_type == "employee", a.entity_id, None),
            "topics": ids.map(lambda x: topics_for_indicators(x) or ["integrity_general"]), "indicator_ids": ids}))
    parts = [p for p in parts if len(p)]
    return pd.concat(parts, ignore_index=True)[SIGNAL_COLUMNS] if parts else pd.DataFrame(columns=SIGNAL_COLUMNS)


def concentration(signals: pd.DataFrame) -> pd.DataFrame:
    """Findings counted by post (department × position), department, position across the company, and business type.

    Returns ``level, key, n_confirmed, n_alerts`` with ``level`` in ``post, department, position, business_type``.
    """
    s = signals.assign(confirmed=signals.source.isin(CONFIRMED).astype(int),
                       alert=(signals.source == "alert").astype(int))
    out = []
    for level, key in (("post", s.department_id.astype(str) + "/" + s.position_id.astype(str)), ("department", s.department_id),
                       ("position", s.position_id)):
        g = s.assign(key=key).dropna(subset=["key"]).groupby("key")[["confirmed", "alert"]].sum().reset_index()
        out.append(g.assign(level=level))
    t = s.explode("topics").dropna(subset=["topics"])
    out.append(t.groupby("topics")[["confirmed", "alert"]].sum().reset_index().rename(columns={"topics": "key"}).assign(level="business_type"))
    res = pd.concat(out, ignore_index=True).rename(columns={"confirmed": "n_confirmed", "alert": "n_alerts"})
    return res[["level", "key", "n_confirmed", "n_alerts"]].sort_values(["level", "n_confirmed", "n_alerts"], ascending=[True, False, False],
                                                                        ignore_index=True)


# -- targeted plans -------------------------------------------------------------------------------------------


def _materials(ds) -> pd.DataFrame:
    m = table(ds, "materials", "education plans")
    return m.assign(tags=m.topic_tags.map(split_tags), posts=m.target_posts.map(split_tags))


def _completed(ds) -> pd.DataFrame:
    if not ds.has("learning_events"):
        return pd.DataFrame(columns=["employee_id", "material_id"])
    ev = ds.table("learning_events")
    return ev[ev.completed.astype(bool)][["employee_id", "material_id"]].drop_duplicates()


def _ranked_materials(mats: pd.DataFrame, posts: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """Materials for each (key, post_code, topics) row, ranked: topic overlap, warning cases first, newest."""
    m = mats[mats.published_date <= as_of]
    x = posts[["key", "post_code", "topics"]].merge(m[["material_id", "tags", "posts", "kind", "published_date"]], how="cross")
    x["overlap"] = [len(set(a) & set(b)) for a, b in zip(x.topics, x.tags)]
    x["for_post"] = [(p in ps) or ("all" in ps) for p, ps in zip(x.post_code, x.posts)]
    x["general"] = x.tags.map(lambda t: "integrity_general" in t)
    x = x[x.for_post & ((x.overlap > 0) | x.general)]
    x["is_case"] = x.kind.isin(["warning_case", "test"]).astype(int)
    x = x.sort_values(["key", "overlap", "is_case", "published_date", "material_id"], ascending=[True, False, False, False, True])
    x["rank"] = x.groupby("key").cumcount()
    return x[["key", "material_id", "overlap", "rank"]]


def education_plan(data: DataLike, run_dir: str | Path | None = None, as_of: str | pd.Timestamp | None = None,
                   settings=None, case_statuses: tuple[str, ...] = ("closed",)) -> EducationPlan:
    """Targeted education plans for the posts where findings concentrate.

    A post (department × position) gets a plan when it has at least
    ``linkage.min_confirmed`` confirmed findings (closed cases, alerts a
    reviewer confirmed, in the run or in the review history) in the look-back window (trigger ``confirmed``), or at least
    ``linkage.min_alerts`` open alerts (trigger ``alert_concentration``).

    Parameters
    ----------
    data : Dataset, mapping of tables, or path
    run_dir : path-like, optional
        A run folder; adds its alerts and reviewers' decisions.
    as_of : date, optional
        The plan date (default: the data's last day); holders are those in post on that day.
    settings : Settings, optional
    case_statuses : tuple of str, default=('closed',)

    Returns
    -------
    EducationPlan
        ``plans`` (one row per post; ``holders`` are employee ids), ``assignments`` (employee × material, never one
        the employee completed), ``concentration`` and the ``signals`` behind them.

    Examples
    --------
    >>> import tempfile
    >>> from riskmodel.data.synthetic import generate_company
    >>> path = tempfile.mkdtemp() + "/co"
    >>> _ = generate_company("small", seed=11, out=path, progress=False)
    >>> p = education_plan(path)
    >>> set(p.plans.trigger) <= {"confirmed", "alert_concentration"} and bool((p.plans.n_confirmed >= 1).all())
    True
    """
    from riskmodel.settings import load_settings

    s = (settings or load_settings()).linkage
    ds = as_dataset(data)
    as_of = as_of_date(ds, as_of)
    sig = findings(ds, run_dir, as_of, s.lookback_months, case_statuses)
    conc = concentration(sig) if len(sig) else pd.DataFrame(columns=["level", "key", "n_confirmed", "n_alerts"])
    post = sig.dropna(subset=["department_id", "position_id"])
    post = post.assign(confirmed=post.source.isin(CONFIRMED).astype(int), alert=(post.source == "alert").astype(int))
    g = post.groupby(["department_id", "position_id"]).agg(
        n_confirmed=("confirmed", "sum"), n_alerts=("alert", "sum"),
        evidence=("ref_id", lambda r: sorted(set(r))),
        topics=("topics", lambda ts: sorted({t for x in ts for t in x}))).reset_index()
    g["trigger"] = np.select([g.n_confirmed >= s.min_confirmed, g.n_alerts >= s.min_alerts], ["confirmed", "alert_concentration"], "")
    g = g[g.trigger != ""].reset_index(drop=True)
    empty_assign = pd.DataFrame(columns=["plan_id", "employee_id", "department_id", "position_id", "material_id", "due_date"])
    if g.empty:
        return EducationPlan(pd.DataFrame(columns=PLAN_COLUMNS), empty_assign, conc, sig)
    dep = table(ds, "departments", "education plans").set_index("department_id")
    pos = table(ds, "positions", "education plans").set_index("position_id")
    g["dept_name"] = g.department_id.map(dep["name"])
    g["post_title"] = g.position_id.map(pos.title_zh)
    g["post_code"] = g.position_id.map(pos.post_code)
    g["plan_id"] = ["EP-" + hashlib.sha256(f"{d}|{p}|{as_of.date()}".encode()).hexdigest()[:10] for d, p in zip(g.department_id, g.position_id)]
    g["plan_date"] = as_of
    g["due_date"] = as_of + pd.Timedelta(days=s.education_due_days)
    ranked = _ranked_materials(_materials(ds), g.rename(columns={"plan_id": "key"}), as_of).rename(columns={"key": "plan_id"})
    n = s.materials_per_plan
    g["material_ids"] = g.plan_id.map(ranked[ranked["rank"] < n].groupby("plan_id").material_id.agg(list)).map(
        lambda x: x if isinstance(x, list) else [])
    held = holders_at(ds, as_of)
    h = g[["plan_id", "department_id", "position_id", "due_date"]].merge(held[["employee_id", "department_id", "position_id"]],
                                                                          on=["department_id", "position_id"])
    g["holders"] = g.plan_id.map(h.groupby("plan_id").employee_id.agg(sorted)).map(lambda x: x if isinstance(x, list) else [])
    g["n_holders"] = g.holders.map(len)
    # each holder gets the plan's best n materials they have not completed
    cand = h.merge(ranked[ranked["rank"] < 3 * n], on="plan_id")
    done = _completed(ds).assign(_done=True)
    cand = cand.merge(done, on=["employee_id", "material_id"], how="left")
    cand = cand[cand._done.isna()].sort_values(["plan_id", "employee_id", "rank"])
    assign = cand[cand.groupby(["plan_id", "employee_id"]).cumcount() < n]
    assign = assign[["plan_id", "employee_id", "department_id", "position_id", "material_id", "due_date"]].reset_index(drop=True)
    plans = g[PLAN_COLUMNS].sort_values(["trigger", "n_confirmed", "n_alerts"], ascending=[True, False, False], ignore_index=True)
    return EducationPlan(plans, assign, conc, sig)


def widen_plans(plan: EducationPlan, data: DataLike, k: int = 3) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The education side's view of the plans: audiences of at least ``k`` people, nobody singled out.

    A plan for a post with fewer than ``k`` holders would tell the education
    side who was found out.  Such a plan is widened to the same post in every
    unit of the same kind (e.g. all 采购员 of the 烟叶分公司-type units), else to
    the post company-wide, else withheld; plans that widen to the same audience
    are merged, and a narrower plan inside a wider one is absorbed by it (the
    difference of the two would single people out).  The result names units and posts, never people: the per-material
    counts say how many in the audience still have to study each material.

    Returns
    -------
    (plans, assignments) : tuple of DataFrame
        ``plan_id, unit_zh, post_zh, scope, trigger, n_confirmed, n_alerts, topics, material_ids, n_audience,
        plan_date, due_date`` and ``plan_id, material_id, n_to_study``.
    """
    from riskmodel.linkage.deid import DEPT_TYPE_ZH

    ds = as_dataset(data)
    p = plan.plans
    cols = ["plan_id", "unit_zh", "post_zh", "scope", "trigger", "n_confirmed", "n_alerts", "topics", "material_ids", "n_audience",
            "plan_date", "due_date"]
    if p.empty:
        return pd.DataFrame(columns=cols), pd.DataFrame(columns=["plan_id", "material_id", "n_to_study"])
    as_of = pd.Timestamp(p.plan_date.iloc[0])
    dep = table(ds, "departments", "education plans").set_index("department_id")
    held = holders_at(ds, as_of).drop_duplicates(["employee_id", "department_id", "position_id"])
    held = held.assign(dept_type=held.department_id.map(dep.dept_type))
    p = p.assign(dept_type=p.department_id.map(dep.dept_type))
    n_post = held.groupby(["department_id", "position_id"]).employee_id.nunique()
    n_kind = held.groupby(["dept_type", "position_id"]).employee_id.nunique()
    n_all = held.groupby("position_id").employee_id.nunique()
    a0 = pd.Series([n_post.get((d, q), 0) for d, q in zip(p.department_id, p.position_id)], index=p.index)
    a1 = pd.Series([n_kind.get((d, q), 0) for d, q in zip(p.dept_type, p.position_id)], index=p.index)
    a2 = p.position_id.map(n_all).fillna(0)
    p["scope"] = np.select([a0 >= k, a1 >= k, a2 >= k], ["post", "unit_kind", "company"], "withheld")
    p = p[p.scope != "withheld"].copy()
    # a narrower plan inside a wider one is absorbed by it: otherwise the difference would single people out
    wide_all = set(p.position_id[p.scope == "company"])
    wide_kind = set(zip(p.dept_type[p.scope == "unit_kind"], p.position_id[p.scope == "unit_kind"]))
    kind_pairs = pd.Series(list(zip(p.dept_type, p.position_id)), index=p.index)
    p.loc[(p.scope == "post") & kind_pairs.isin(wide_kind), "scope"] = "unit_kind"
    p.loc[p.position_id.isin(wide_all), "scope"] = "company"
    p["unit_zh"] = np.select([p.scope == "post", p.scope == "unit_kind"], [p.dept_name, p.dept_type.map(DEPT_TYPE_ZH).fillna("其他部门")], "全公司")
    p["group"] = np.select([p.scope == "post", p.scope == "unit_kind"], [p.department_id, p.dept_type], "*") + "|" + p.position_id
    g = p.groupby("group").agg(unit_zh=("unit_zh", "first"), post_zh=("post_title", "first"), scope=("scope", "first"),
                               position_id=("position_id", "first"), dept_type=("dept_type", "first"), department_id=("department_id", "first"),
                               trigger=("trigger", lambda t: "confirmed" if (t == "confirmed").any() else "alert_concentration"), n_confirmed=("n_confirmed", "sum"), n_alerts=("n_alerts", "sum"),
                               topics=("topics", lambda ts: sorted({t for x in ts for t in x})),
                               material_ids=("material_ids", lambda ms: list(dict.fromkeys(m for x in ms for m in x))),
                               plan_date=("plan_date", "first"), due_date=("due_date", "first")).reset_index()
    g["plan_id"] = ["EP-" + hashlib.sha256(f"{x}|{as_of.date()}".encode()).hexdigest()[:10] for x in g.group]
    # the audience of each widened plan, and who still has to study each material
    aud = []
    for r in g.itertuples():  # one per plan
        m = held.position_id == r.position_id
        if r.scope == "post":
            m &= held.department_id == r.department_id
        elif r.scope == "unit_kind":
            m &= held.dept_type == r.dept_type
        aud.append(held.loc[m, ["employee_id"]].assign(plan_id=r.plan_id))
    audience = pd.concat(aud, ignore_index=True).drop_duplicates()
    g["n_audience"] = g.plan_id.map(audience.groupby("plan_id").size()).fillna(0).astype(int)
    pm = g[["plan_id", "material_ids"]].explode("material_ids").dropna().rename(columns={"material_ids": "material_id"})
    x = audience.merge(pm, on="plan_id").merge(_completed(ds).assign(_done=True), on=["employee_id", "material_id"], how="left")
    todo = x[x._done.isna()].groupby(["plan_id", "material_id"]).size().rename("n_to_study").reset_index()
    return g[cols].sort_values(["trigger", "n_confirmed"], ascending=[True, False], ignore_index=True), todo


# -- personal recommendations -------------------------------------------------------------------------------


def recommend(data: DataLike, employees: list[str] | None = None, run_dir: str | Path | None = None,
              as_of: str | pd.Timestamp | None = None, n: int = 5, flag_quarters: int = 4) -> pd.DataFrame:
    """Up to ``n`` materials per person, never one they completed (scoring in the module docstring).

    Parameters
    ----------
    data : Dataset, mapping of tables, or path
    employees : list of str, optional
        Employee ids (default: everyone in post on ``as_of``).
    run_dir : path-like, optional
        A run folder whose ``flags.parquet`` (fired flags in the last ``flag_quarters``) and alerts give each
        person's risk topics.
    as_of : date, optional
    n : int, default=5

    Returns
    -------
    DataFrame
        ``employee_id, material_id, title, kind, topic_tags, score, reason_zh``, best first per person.

    Examples
    --------
    >>> import tempfile
    >>> from riskmodel.data.synthetic import generate_company
    >>> path = tempfile.mkdtemp() + "/co"
    >>> _ = generate_company("small", seed=11, out=path, progress=False)
    >>> r = recommend(path, n=3)
    >>> int(r.groupby("employee_id").size().max())
    3
    """
    ds = as_dataset(data)
    as_of = as_of_date(ds, as_of)
    held = holders_at(ds, as_of).drop_duplicates("employee_id")
    if employees is not None:
        missing = sorted(set(employees) - set(held.employee_id))
        if missing:
            raise RiskModelError(f"employee(s) {', '.join(missing[:5])} hold no post on {as_of.date()} in {ds.source}; "
                                 f"check the ids or pass --as-of")
        held = held[held.employee_id.isin(employees)]
    pos = table(ds, "positions", "recommendations").set_index("position_id")
    people = held.assign(post_code=held.position_id.map(pos.post_code))
    # risk topics from the person's fired flags and alerts
    risk = pd.DataFrame(columns=["employee_id", "topic"])
    if run_dir is not None:
        run = read_run(run_dir, needs_alerts=False, employees=None if employees is None else list(people.employee_id))
        since = as_of - pd.DateOffset(months=3 * flag_quarters)
        parts = []
        if "flags" in run:
            f = run["flags"]
            f = f[f.fired.astype(bool) & f.employee_id.isin(people.employee_id) & (pd.to_datetime(f.period) >= since)]
            parts.append(pd.DataFrame({"employee_id": f.employee_id, "ids": f.indicator_id.map(lambda i: [i])}))
        a = run["alerts"]
        a = a[(a.entity_type == "employee") & a.entity_id.isin(people.employee_id)]
        parts.append(pd.DataFrame({"employee_id": a.entity_id, "ids": a.reasons.map(reason_indicators)}))
        r = pd.concat(parts, ignore_index=True)
        r["topic"] = r.ids.map(topics_for_indicators)
        risk = r.explode("topic").dropna(subset=["topic"])[["employee_id", "topic"]]
    risk_topics = risk.groupby("employee_id").topic.agg(lambda t: list(t.value_counts().index[:2]))
    ev = ds.table("learning_events") if ds.has("learning_events") else pd.DataFrame(
        columns=["employee_id", "material_id", "completed", "test_score", "started_at"])
    mats = _materials(ds)
    ev = ev[ev.employee_id.isin(people.employee_id) & (ev.started_at <= as_of + pd.Timedelta(days=1))]
    ev = ev.merge(mats[["material_id", "tags"]], on="material_id", how="left").explode("tags")
    studied = ev.groupby("employee_id").tags.agg(lambda t: set(t.dropna()))
    weak = ev[ev.test_score < 70].groupby("employee_id").tags.agg(lambda t: set(t.dropna()))
    done = _completed(ds)
    m = mats[mats.published_date <= as_of]
    x = people[["employee_id", "post_code"]].merge(m[["material_id", "title", "kind", "topic_tags", "tags", "posts"]], how="cross")
    x = x[[(p in ps) or ("all" in ps) for p, ps in zip(x.post_code, x.posts)]]
    x = x.merge(done.assign(_done=True), on=["employee_id", "material_id"], how="left")
    x = x[x._done.isna()].drop(columns="_done")
    rt = x.employee_id.map(risk_topics)
    st = x.employee_id.map(studied)
    wk = x.employee_id.map(weak)
    flag_hits = [len(set(t) & set(r)) if isinstance(r, list) else 0 for t, r in zip(x.tags, rt)]
    weak_hit = [bool(set(t) & w) if isinstance(w, set) else False for t, w in zip(x.tags, wk)]
    new_hit = [bool(set(t) - s) if isinstance(s, set) else True for t, s in zip(x.tags, st)]
    for_post = [p in ps for p, ps in zip(x.post_code, x.posts)]
    w = WEIGHTS
    x["score"] = (w["flag_topic"] * np.array(flag_hits) + w["post"] * np.array(for_post) + w["weak_topic"] * np.array(weak_hit)
                  + w["new_topic"] * np.array(new_hit) + w["kind"] * x.kind.isin(["warning_case", "test"]).to_numpy())
    reasons = []
    for fh, fp, wh, nh in zip(flag_hits, for_post, weak_hit, new_hit):
        r = (["与本人风险提示相关"] if fh else []) + (["本岗位必学"] if fp else []) + (["巩固薄弱环节"] if wh else []) + (["尚未学习的主题"] if nh else [])
        reasons.append("；".join(r) or "廉洁通识")
    x["reason_zh"] = reasons
    x = x.sort_values(["employee_id", "score", "material_id"], ascending=[True, False, True])
    x = x[x.groupby("employee_id").cumcount() < n]
    return x[["employee_id", "material_id", "title", "kind", "topic_tags", "score", "reason_zh"]].reset_index(drop=True)


# -- learning analytics ---------------------------------------------------------------------------------------


def learning_progress(data: DataLike, year: int | None = None, as_of: str | pd.Timestamp | None = None,
                      lagging_share: float = 0.5) -> pd.DataFrame:
    """Each person's learning in ``year``: credits vs. the requirement, minutes, tests, points, status.

    Credits count each completed material once a year.  Within the current
    year the requirement is pro-rated by the days elapsed.  ``status`` is
    ``lagging`` below ``lagging_share`` of the (pro-rated) requirement,
    ``active`` at or above it and in the top quarter by points, else ``normal``.

    Examples
    --------
    >>> import tempfile
    >>> from riskmodel.data.synthetic import generate_company
    >>> path = tempfile.mkdtemp() + "/co"
    >>> _ = generate_company("small", seed=11, out=path, progress=False)
    >>> p = learning_progress(path, 2024)
    >>> sorted(p.status.unique())
    ['active', 'lagging', 'normal']
    """
    ds = as_dataset(data)
    as_of = as_of_date(ds, as_of)
    year = int(year or as_of.year)
    lo, hi = pd.Timestamp(year=year, month=1, day=1), pd.Timestamp(year=year, month=12, day=31)
    ref = min(hi, as_of)
    held = holders_at(ds, ref).drop_duplicates("employee_id")
    ev = table(ds, "learning_events", "learning analytics")
    ev = ev[(ev.started_at >= lo) & (ev.started_at < ref + pd.Timedelta(days=1))]
    mats = table(ds, "materials", "learning analytics").set_index("material_id")
    ev = ev.assign(credits=ev.material_id.map(mats.credits))
    comp = ev[ev.completed.astype(bool)].drop_duplicates(["employee_id", "material_id"])
    g = ev.groupby("employee_id").agg(n_events=("event_id", "size"), minutes=("minutes", "sum"), points=("points", "sum"),
                                      n_tests=("test_score", "count"), mean_test_score=("test_score", "mean"),
                                      last_activity=("started_at", "max"))
    c = comp.groupby("employee_id").agg(n_completed=("material_id", "size"), credits=("credits", "sum"))
    req = table(ds, "credit_requirements", "learning analytics")
    req = req[req.year == year].set_index("position_id").required_credits
    out = held[["employee_id", "department_id", "position_id"]].set_index("employee_id").join(g).join(c).reset_index()
    for col in ("n_events", "minutes", "points", "n_tests", "n_completed", "credits"):
        out[col] = out[col].fillna(0)
    out["required_credits"] = out.position_id.map(req)
    share = 1.0 if ref >= hi else max((ref - lo).days + 1, 1) / ((hi - lo).days + 1)
    out["expected_credits"] = out.required_credits * share
    out["progress"] = out.credits / out.expected_credits.replace(0, np.nan)
    top = out.points.quantile(0.75) if len(out) else 0
    out["status"] = np.select([out.progress < lagging_share, (out.progress >= 1) & (out.points >= top)], ["lagging", "active"], "normal")
    out.insert(1, "year", year)
    return out.sort_values("employee_id", ignore_index=True)


def learning_summary(progress: pd.DataFrame, by: tuple[str, ...] = ("department_id", "position_id")) -> pd.DataFrame:
    """Active and lagging learners, mean progress, test score and points per head, by department and/or post."""
    g = progress.groupby(list(by), dropna=False).agg(
        n_people=("employee_id", "size"), n_active=("status", lambda s: int((s == "active").sum())),
        n_lagging=("status", lambda s: int((s == "lagging").sum())), mean_progress=("progress", "mean"),
        mean_test_score=("mean_test_score", "mean"), points_per_head=("points", "mean")).reset_index()
    g["lagging_share"] = g.n_lagging / g.n_people
    return g.sort_values("lagging_share", ascending=False, ignore_index=True)


def leaderboard(progress: pd.DataFrame, by: str = "employee_id", n: int = 10) -> pd.DataFrame:
    """Learning points leaderboard (学习积分排行榜): people, or departments/posts by points per head.

    Examples
    --------
    >>> p = pd.DataFrame({"employee_id": ["E1", "E2", "E3"], "department_id": ["D1", "D1", "D2"],
    ...                   "points": [50.0, 20.0, 40.0], "credits": [5.0, 2.0, 4.0]})
    >>> leaderboard(p, "department_id").department_id.tolist()
    ['D2', 'D1']
    """
    if by == "employee_id":
        cols = [c for c in ("employee_id", "department_id", "position_id", "points", "credits", "mean_test_score") if c in progress]
        out = progress[cols].sort_values(["points", "employee_id"], ascending=[False, True]).head(n)
    else:
        out = progress.groupby(by).agg(n_people=("employee_id", "size"), points_per_head=("points", "mean"),
                                       credits_per_head=("credits", "mean")).reset_index()
        out = out.sort_values(["points_per_head", by], ascending=[False, True]).head(n)
    out = out.reset_index(drop=True)
    out.insert(0, "rank", np.arange(1, len(out) + 1))
    return out


# -- did it help? ---------------------------------------------------------------------------------------------


def flag_panel(data: DataLike, flags: pd.DataFrame) -> pd.DataFrame:
    """Employee-quarters (from post history, over the flags' quarters) with ``y`` = 1 if any flag fired for them."""
    ds = as_dataset(data)
    ph = table(ds, "post_history", "the education-effect panel")
    f = flags[flags.fired.astype(bool) & flags.employee_id.notna()]
    periods = pd.to_datetime(flags.period).dt.to_period("Q")
    if periods.empty:
        raise RiskModelError("no flags to measure an effect on; pass a run folder with flags.parquet")
    quarters = pd.period_range(periods.min(), periods.max(), freq="Q")
    rows = []
    for q in quarters:  # one filter per quarter (a dozen), not per row
        start = q.start_time
        on = ph[(ph.start_date <= start) & (ph.end_date.isna() | (ph.end_date >= start))]
        rows.append(on[["employee_id", "department_id", "position_id"]].assign(quarter=q))
    panel = pd.concat(rows, ignore_index=True).drop_duplicates(["employee_id", "quarter"])
    fired = f.assign(quarter=pd.to_datetime(f.period).dt.to_period("Q"))[["employee_id", "quarter"]].drop_duplicates().assign(y=1)
    panel = panel.merge(fired, on=["employee_id", "quarter"], how="left")
    panel["y"] = panel.y.fillna(0).astype(float)
    return panel


@dataclass
class EffectResult:
    """Difference-in-differences of the flag rate after targeted education."""

    did: float
    se: float
    n_treated_units: int
    n_comparison_units: int
    per_unit: pd.DataFrame
    means: pd.DataFrame

    def summary(self) -> str:
        lo, hi = self.did - 1.96 * self.se, self.did + 1.96 * self.se
        return (f"difference-in-differences of the flag rate: {self.did:+.3f} (95% CI {lo:+.3f} to {hi:+.3f}) over "
                f"{self.n_treated_units} educated post(s) vs {self.n_comparison_units} comparison post(s); "
                f"negative = risk fell more where education was targeted")


def education_effect(panel: pd.DataFrame, treated: pd.DataFrame, window: int = 4, outcome: str = "y") -> EffectResult:
    """Stacked difference-in-differences of ``outcome`` around each treated post's plan date.

    Parameters
    ----------
    panel : DataFrame
        ``employee_id, department_id, position_id, quarter`` (pandas Period) and ``outcome`` (see :func:`flag_panel`).
    treated : DataFrame
        ``department_id, position_id, plan_date``: posts that received targeted education, and when.
    window : int, default=4
        Quarters before and after the plan date.

    Returns
    -------
    EffectResult
        Pooled DiD (weighted by treated employee-quarters), its standard error (cell means taken as independent,
        so optimistic when few posts are treated), per-unit DiDs and the four means.

    Examples
    --------
    >>> q = pd.period_range("2024Q1", "2025Q4", freq="Q")
    >>> rows = [(f"E{d}{i}", d, "P1", p, float(d == "D1" and p < q[4] and i < 3))
    ...         for d in ("D1", "D2", "D3") for i in range(5) for p in q]
    >>> panel = pd.DataFrame(rows, columns=["employee_id", "department_id", "position_id", "quarter", "y"])
    >>> r = education_effect(panel, pd.DataFrame({"department_id": ["D1"], "position_id": ["P1"], "plan_date": ["2025-01-01"]}))
    >>> round(r.did, 2)
    -0.6
    """
    t = treated.assign(plan_q=pd.to_datetime(treated.plan_date).dt.to_period("Q")).drop_duplicates(["department_id", "position_id"])
    tkeys = set(zip(t.department_id, t.position_id))
    unit = list(zip(panel.department_id, panel.position_id))
    is_t = np.array([u in tkeys for u in unit])
    per, cells = [], []
    for r in t.itertuples():  # one stack per educated post
        lo, hi = r.plan_q - window, r.plan_q + window
        inwin = (panel.quarter >= lo) & (panel.quarter < hi)
        me = inwin & (panel.department_id == r.department_id) & (panel.position_id == r.position_id)
        comp = inwin & ~is_t & (panel.position_id == r.position_id)
        if not comp.any():
            comp = inwin & ~is_t
        after = panel.quarter >= r.plan_q
        m = {}
        for name, mask in (("treated_before", me & ~after), ("treated_after", me & after),
                           ("comparison_before", comp & ~after), ("comparison_after", comp & after)):
            yv = panel.loc[mask, outcome]
            m[name] = (yv.mean(), yv.var(ddof=1) / len(yv) if len(yv) > 1 else np.nan, len(yv))
        if any(v[2] == 0 for v in m.values()):
            continue
        did = (m["treated_after"][0] - m["treated_before"][0]) - (m["comparison_after"][0] - m["comparison_before"][0])
        var = sum(v[1] for v in m.values() if not np.isnan(v[1]))
        n_comp = len(set(zip(panel.department_id[comp], panel.position_id[comp])))
        per.append({"department_id": r.department_id, "position_id": r.position_id, "plan_quarter": str(r.plan_q), "did": did,
                    "se": np.sqrt(var), "weight": m["treated_before"][2] + m["treated_after"][2], "n_comparison_units": n_comp})
        cells.append({"department_id": r.department_id, "position_id": r.position_id, **{k: v[0] for k, v in m.items()}})
    if not per:
        raise RiskModelError("no educated post has flags both before and after its plan date with a comparison group; "
                             "widen --window or use a run that covers the quarters around the plan date")
    pu = pd.DataFrame(per)
    w = pu.weight / pu.weight.sum()
    comp_units = set(zip(panel.department_id[~is_t], panel.position_id[~is_t])) & {u for u in unit if u[1] in set(t.position_id)}
    return EffectResult(float((w * pu.did).sum()), float(np.sqrt((w ** 2 * pu.se ** 2).sum())), len(pu),
                        len(comp_units) or int(pu.n_comparison_units.max()), pu, pd.DataFrame(cells))
