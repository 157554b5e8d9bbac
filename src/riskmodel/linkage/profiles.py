"""Integrity profiles (廉政档案): supervision results, alerts and decisions, training and tests, and a tier.

Paper §3.2: 平台创建职工廉政档案，对监督检查结果、教育培训记录 … 进行记录，形成个人廉政画像，
为分类施策打下基础。对于廉政风险较高的职工，加大监督的频率并加强教育工作，对表现出优秀业绩的职工，
加入先进典型的库中加以表彰。

Tiers
-----
The rules *suggest* a tier; the tier a person *has* changes only by a recorded
decision (:func:`set_tier`): a ``tier_change`` entry in the tamper-evident
ledger with the reason, who and when.  Everyone starts green.

=====  ==========================================================  ==============================================
tier   suggested when (any of)                                      measures (措施)
=====  ==========================================================  ==============================================
红 red  R1 subject of a case opened in the last ``lookback_months``   诫勉或谈心谈话并回访教育；每月复核其经手业务；
       R2 an alert a reviewer confirmed in the last 4 quarters      敏感岗位优先轮岗交流；警示教育必修并测试
          (the run's decisions or the review history)
黄      Y1 named in a case (not as subject) in the look-back         30日内提醒谈话；推送针对性学习材料并限期完成；
yellow Y2 an admonition or inquiry interview in the last 12 months  每季度复核其业务红旗
       Y3 two or more alerts not yet decided, or one needing
          information (run or review history), in the last 4 quarters
       Y4 a sensitive post (sensitivity 3) held longer than
          ``policy.rotation_years`` without rotation
       Y5 last full year's credits below ``lagging_share`` of the
          requirement and in the company's bottom tenth
绿      none of the above                                            常规廉洁教育，按年度学分要求学习；学分达标、测试均分
green                                                               ≥ 90 且无谈话记录者列入先进典型候选（表彰）
=====  ==========================================================  ==============================================
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from riskmodel import ledger
from riskmodel.errors import RiskModelError
from riskmodel.linkage.common import DataLike, as_dataset, as_of_date, holders_at, latest_decisions, table
from riskmodel.linkage.education import learning_progress

TIERS = ("green", "yellow", "red")
TIER_ZH = {"green": "绿", "yellow": "黄", "red": "红"}
MEASURES = {
    "red": "诫勉或谈心谈话并回访教育；每月复核其经手业务；敏感岗位优先轮岗交流；警示教育必修并测试",
    "yellow": "30日内提醒谈话；推送针对性学习材料并限期完成；每季度复核其业务红旗",
    "green": "常规廉洁教育，按年度学分要求学习",
}
EXEMPLARY_MEASURE = "列入先进典型候选，予以表彰"
RULES = {
    "R1": ("red", "近期为案件当事人", "subject of a recent case"),
    "R2": ("red", "预警经复核确认", "an alert confirmed by a reviewer"),
    "Y1": ("yellow", "近期为案件相关人员", "named in a recent case"),
    "Y2": ("yellow", "近12个月有诫勉或函询谈话", "admonition or inquiry interview in the last 12 months"),
    "Y3": ("yellow", "有待核实的预警", "alerts awaiting a decision"),
    "Y4": ("yellow", "敏感岗位超期未轮岗", "sensitive post held beyond the rotation period"),
    "Y5": ("yellow", "学习学分明显不足", "learning credits well below the requirement and among the lowest tenth"),
}
PROFILE_COLUMNS = ["employee_id", "department_id", "position_id", "sensitivity", "years_in_post", "cases_subject", "cases_related",
                   "open_cases", "interviews_12m", "admonitions_12m", "alerts_4q", "alerts_confirmed", "alerts_dismissed",
                   "alerts_pending", "reviews_confirmed", "reviews_needs_information", "credits_last_year", "required_last_year", "mean_test_score", "points_total",
                   "suggested_tier", "rules", "reasons_zh", "exemplary", "tier", "tier_since", "tier_reason", "tier_by", "measures_zh"]


class TierChangeError(RiskModelError):
    """A tier change without a reason, by a role that may not make it, or to the same tier."""


def recorded_tiers(ledger_path: str | Path | None) -> pd.DataFrame:
    """Each person's current tier from the ledger's ``tier_change`` entries (absent: green)."""
    cols = ["employee_id", "tier", "tier_since", "tier_reason", "tier_by"]
    if ledger_path is None or not Path(ledger_path).is_file():
        return pd.DataFrame(columns=cols)
    rows = [(e["payload"]["employee_id"], e["payload"]["to_tier"], e["ts"], e["payload"]["reason"],
             f"{e.get('actor') or ''} ({e['actor_role']})") for e in ledger.read_entries(ledger_path, "tier_change")]
    return pd.DataFrame(rows, columns=cols).drop_duplicates("employee_id", keep="last")


def _run_alerts(run_dir: str | Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A run's people alerts and reviewers' decisions: the two files a profile reads (not the flags or scores)."""
    from riskmodel.scoring.feedback import DECISIONS_FILE, read_decisions

    run_dir = Path(run_dir)
    alerts = run_dir / "alerts.parquet"
    if not alerts.is_file():
        raise RiskModelError(f"no alerts.parquet in {run_dir}; make a run with 'riskmodel run --data DIR --out {run_dir}'")
    a = pd.read_parquet(alerts, columns=["alert_id", "entity_type", "entity_id", "period"])
    return a, read_decisions(run_dir / DECISIONS_FILE)


def integrity_profiles(data: DataLike, run_dir: str | Path | None = None, ledger_path: str | Path | None = None,
                       as_of: str | pd.Timestamp | None = None, settings=None, employees: list[str] | None = None) -> pd.DataFrame:
    """One integrity profile per person in post on ``as_of``: what supervision and education know, a suggested and a recorded tier.

    Parameters
    ----------
    data : Dataset, mapping of tables, or path
    run_dir : path-like, optional
        A run folder: its alerts and reviewers' decisions.
    ledger_path : path-like, optional
        The ledger holding ``tier_change`` entries (default: none recorded, everyone green).
    as_of : date, optional
    settings : Settings, optional
    employees : list of str, optional
        Profile only these people (a portrait shows one).  Each row equals that person's row of the profiles of
        everyone: rule Y5 still compares with the whole company's credits; people not in post are left out.

    Returns
    -------
    DataFrame
        :data:`PROFILE_COLUMNS`; ``rules`` lists the rule codes that fired (see module docstring).

    Examples
    --------
    >>> import tempfile
    >>> from riskmodel.data.synthetic import generate_company
    >>> path = tempfile.mkdtemp() + "/co"
    >>> _ = generate_company("small", seed=11, out=path, progress=False)
    >>> p = integrity_profiles(path)
    >>> set(p.suggested_tier) <= set(TIERS), set(p.tier)
    (True, {'green'})
    >>> one = integrity_profiles(path, employees=[p.employee_id[0]])
    >>> one.equals(p.head(1))
    True
    """
    from riskmodel.settings import load_settings

    st = settings or load_settings()
    s = st.linkage
    ds = as_dataset(data)
    as_of = as_of_date(ds, as_of)
    held = holders_at(ds, as_of).sort_values("start_date").drop_duplicates("employee_id", keep="last")
    # training: Y5 ranks a person's credits among everyone in post, so the shares are computed for everyone
    credit_share_q10 = np.nan  # no learning tables: rule Y5 cannot fire
    learning = ds.has("learning_events", "materials", "credit_requirements")
    if learning:
        last = learning_progress(ds, as_of.year - 1, as_of, s.lagging_share).set_index("employee_id")
        share = held.employee_id.map(last.credits) / held.employee_id.map(last.required_credits)
        credit_share_q10 = share.quantile(0.1)
    if employees is not None:
        held = held[held.employee_id.isin(set(employees))]
    if held.empty:
        return pd.DataFrame(columns=PROFILE_COLUMNS)
    pos = table(ds, "positions", "integrity profiles").set_index("position_id")
    p = held.assign(sensitivity=held.position_id.map(pos.sensitivity))
    ids = set(p.employee_id)
    # time in the same post (consecutive assignments with the same position count as one)
    ph = table(ds, "post_history", "integrity profiles")
    ph = ph[(ph.start_date <= as_of) & ph.employee_id.isin(ids)].sort_values(["employee_id", "start_date"])
    new_post = ph.position_id.ne(ph.groupby("employee_id").position_id.shift())
    ph = ph.assign(spell=new_post.groupby(ph.employee_id).cumsum())
    spell_start = ph.groupby(["employee_id", "spell"]).start_date.min().groupby("employee_id").last()
    p["years_in_post"] = ((as_of - p.employee_id.map(spell_start)).dt.days / 365.25).round(1)
    since = as_of - pd.DateOffset(months=s.lookback_months)
    # supervision results
    if ds.has("cases", "case_people"):
        c = ds.table("cases")
        cp = ds.table("case_people")
        cp = cp[cp.employee_id.isin(ids)].merge(c[["case_id", "opened_date", "status"]], on="case_id")
        cp = cp[(cp.opened_date >= since) & (cp.opened_date <= as_of)]
        p["cases_subject"] = p.employee_id.map(cp[cp.role == "subject"].groupby("employee_id").size())
        p["cases_related"] = p.employee_id.map(cp[cp.role != "subject"].groupby("employee_id").size())
        p["open_cases"] = p.employee_id.map(cp[cp.status == "open"].groupby("employee_id").size())
    if ds.has("interviews"):
        iv = ds.table("interviews")
        iv = iv[(iv.interview_date > as_of - pd.DateOffset(months=12)) & (iv.interview_date <= as_of) & iv.employee_id.isin(ids)]
        p["interviews_12m"] = p.employee_id.map(iv.groupby("employee_id").size())
        p["admonitions_12m"] = p.employee_id.map(iv[iv.kind.isin(["admonition", "inquiry"])].groupby("employee_id").size())
    # alerts and dispositions
    if run_dir is not None:
        a, decisions = _run_alerts(run_dir)
        a = a[(a.entity_type == "employee") & a.entity_id.isin(ids) & (pd.to_datetime(a.period) > as_of - pd.DateOffset(months=12))]
        dec = latest_decisions(decisions)
        d = a.alert_id.map(dec.set_index("alert_id").decision) if len(dec) else pd.Series(np.nan, index=a.index)
        a = a.assign(decision=d)
        p["alerts_4q"] = p.employee_id.map(a.groupby("entity_id").size())
        p["alerts_confirmed"] = p.employee_id.map(a[a.decision == "confirmed"].groupby("entity_id").size())
        p["alerts_dismissed"] = p.employee_id.map(a[a.decision == "dismissed"].groupby("entity_id").size())
        pend = a[a.decision.isna() | (a.decision == "needs_information")]
        p["alerts_pending"] = p.employee_id.map(pend.groupby("entity_id").size())
        p["_needs_info"] = p.employee_id.map(a[a.decision == "needs_information"].groupby("entity_id").size())
    if ds.has("alert_reviews"):  # the review history: decisions on earlier alerts
        rv = ds.table("alert_reviews")
        rv = rv[(rv.entity_type == "employee") & rv.entity_id.isin(ids) & (rv.decided_at > as_of - pd.DateOffset(months=12))
                & (rv.decided_at <= as_of)]
        p["reviews_confirmed"] = p.employee_id.map(rv[rv.decision == "confirmed"].groupby("entity_id").size())
        p["reviews_needs_information"] = p.employee_id.map(rv[rv.decision == "needs_information"].groupby("entity_id").size())
    if learning:
        p["credits_last_year"] = p.employee_id.map(last.credits)
        p["required_last_year"] = p.employee_id.map(last.required_credits)
        ev = ds.table("learning_events")
        ev = ev[(ev.started_at <= as_of + pd.Timedelta(days=1)) & ev.employee_id.isin(ids)]
        p["mean_test_score"] = p.employee_id.map(ev.groupby("employee_id").test_score.mean()).round(1)
        p["points_total"] = p.employee_id.map(ev.groupby("employee_id").points.sum())
    for col in PROFILE_COLUMNS:
        if col not in p and col not in ("suggested_tier", "rules", "reasons_zh", "exemplary", "tier", "tier_since", "tier_reason",
                                        "tier_by", "measures_zh"):
            p[col] = np.nan
    n = p[["cases_subject", "cases_related", "open_cases", "interviews_12m", "admonitions_12m", "alerts_4q", "alerts_confirmed",
           "alerts_dismissed", "alerts_pending", "reviews_confirmed", "reviews_needs_information"]].fillna(0).astype(int)
    p[n.columns] = n
    needs_info = p.pop("_needs_info").fillna(0) if "_needs_info" in p else pd.Series(0, index=p.index)
    fired = {
        "R1": p.cases_subject > 0,
        "R2": (p.alerts_confirmed > 0) | (p.reviews_confirmed > 0),
        "Y1": p.cases_related > 0,
        "Y2": p.admonitions_12m > 0,
        "Y3": (p.alerts_pending >= 2) | (needs_info > 0) | (p.reviews_needs_information > 0),
        "Y4": (p.sensitivity == 3) & (p.years_in_post > st.policy.rotation_years),
        "Y5": p.credits_last_year.notna() & (p.credits_last_year < s.lagging_share * p.required_last_year)
              & (p.credits_last_year / p.required_last_year <= credit_share_q10),
    }
    fm = pd.DataFrame({k: v.fillna(False).astype(bool).to_numpy() for k, v in fired.items()}, index=p.index)
    codes = fm.dot(pd.Index(fm.columns) + ";").str.rstrip(";")
    p["rules"] = codes.map(lambda c: c.split(";") if c else [])
    red = fm[[k for k, v in RULES.items() if v[0] == "red"]].any(axis=1)
    yellow = fm[[k for k, v in RULES.items() if v[0] == "yellow"]].any(axis=1)
    p["suggested_tier"] = np.select([red, yellow], ["red", "yellow"], "green")
    p["reasons_zh"] = p.rules.map(lambda ks: "；".join(RULES[k][1] for k in ks))
    p["exemplary"] = ((p.suggested_tier == "green") & (p.credits_last_year >= p.required_last_year)
                      & (p.mean_test_score >= 90) & (p.interviews_12m == 0))
    rec = recorded_tiers(ledger_path).set_index("employee_id")
    recorded = p.employee_id.map(rec.tier)
    p["tier"] = np.where(recorded.notna(), recorded, "green")
    p["tier_since"] = p.employee_id.map(rec.tier_since)
    p["tier_reason"] = p.employee_id.map(rec.tier_reason)
    p["tier_by"] = p.employee_id.map(rec.tier_by)
    p["measures_zh"] = p.tier.map(MEASURES) + np.where(p.exemplary & (p.tier == "green"), "；" + EXEMPLARY_MEASURE, "")
    return p[PROFILE_COLUMNS].sort_values("employee_id", ignore_index=True)


def pending_tier_changes(profiles: pd.DataFrame) -> pd.DataFrame:
    """People whose suggested tier differs from their recorded one: the list a supervisor decides on."""
    d = profiles[profiles.suggested_tier != profiles.tier]
    return d[["employee_id", "department_id", "position_id", "tier", "suggested_tier", "rules", "reasons_zh"]].reset_index(drop=True)


def set_tier(ledger_path: str | Path, employee_id: str, tier: str, reason: str, actor: str, actor_role: str = "supervisor",
             profiles: pd.DataFrame | None = None, key: bytes | str | None = None) -> dict:
    """Record a tier change: a ``tier_change`` entry in the ledger with the reason, who and when.

    Only a supervisor may change a tier; the reason must say why (at least 4 characters); the new tier must
    differ from the recorded one.

    Parameters
    ----------
    ledger_path : path-like
    employee_id : str
    tier : {'green', 'yellow', 'red'}
    reason : str
    actor : str
        Who decided (user name or id).
    actor_role : str, default='supervisor'
    profiles : DataFrame, optional
        Current profiles (adds the suggested tier and fired rules to the record).
    key : bytes or str, optional
        Ledger signing key.

    Returns
    -------
    dict
        The ledger entry.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "ledger.jsonl"
    >>> e = set_tier(p, "E00001", "yellow", "函询后需持续关注", actor="张科长")
    >>> e["payload"]["from_tier"], recorded_tiers(p).tier.tolist()
    ('green', ['yellow'])
    """
    if actor_role != "supervisor":
        raise TierChangeError(f"role {actor_role!r} may not change integrity tiers; a supervisor records tier changes")
    if tier not in TIERS:
        raise TierChangeError(f"tier must be one of {', '.join(TIERS)}, not {tier!r}")
    if not reason or len(reason.strip()) < 4:
        raise TierChangeError("a tier change needs a reason (at least 4 characters) saying why; pass --reason")
    if not actor or not str(actor).strip():
        raise TierChangeError("a tier change must say who made it; pass --actor NAME")
    rec = recorded_tiers(ledger_path).set_index("employee_id")
    current = rec.tier.get(employee_id, "green")
    if current == tier:
        raise TierChangeError(f"{employee_id} is already {tier}; nothing to record")
    payload = {"employee_id": employee_id, "from_tier": current, "to_tier": tier, "reason": reason.strip()}
    if profiles is not None:
        row = profiles[profiles.employee_id == employee_id]
        if row.empty:
            raise TierChangeError(f"no profile for {employee_id}: the person holds no post on the profile date")
        payload.update(suggested_tier=row.suggested_tier.iloc[0], rules=list(row.rules.iloc[0]))
    return ledger.append(ledger_path, "tier_change", payload, actor_role, actor, key=key)
