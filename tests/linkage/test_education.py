"""Targeted education plans, recommendations, learning analytics, the effect estimate and the topic table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from riskmodel.linkage.education import (education_effect, education_plan, findings, flag_panel, leaderboard, learning_progress,
                                         learning_summary, recommend, widen_plans)
from riskmodel.linkage.topics import TOPICS, topics_for_case, topics_for_indicator
from riskmodel.settings import load_settings

AS_OF = pd.Timestamp("2025-12-31")


def _no_alert_trigger():
    return load_settings(overrides={"linkage": {"min_alerts": 1000}})


def _expected_case_posts(tables, as_of=AS_OF, months=24) -> set[tuple[str, str]]:
    """Posts of closed cases' subjects and of confirmed past reviews, worked out here from the tables
    (not by the code under test)."""
    since = as_of - pd.DateOffset(months=months)
    c = tables["cases"]
    c = c[(c.status == "closed") & (c.closed_date >= since) & (c.closed_date <= as_of)]
    s = tables["case_people"].query("role == 'subject'").merge(c[["case_id", "department_id", "opened_date"]], on="case_id")
    ph = tables["post_history"]
    out = set()
    for r in s.itertuples():
        held = ph[(ph.employee_id == r.employee_id) & (ph.department_id == r.department_id) & (ph.start_date <= r.opened_date)]
        out.add((r.department_id, held.sort_values("start_date").position_id.iloc[-1]))
    rv = tables.get("alert_reviews", pd.DataFrame(columns=["entity_type", "decision", "decided_at", "entity_id", "period"]))
    rv = rv[(rv.entity_type == "employee") & (rv.decision == "confirmed") & (rv.decided_at >= since) & (rv.decided_at <= as_of)]
    for r in rv.itertuples():
        held = ph[(ph.employee_id == r.entity_id) & (ph.start_date <= r.period) & (ph.end_date.isna() | (ph.end_date >= r.period))]
        last = held.sort_values("start_date").iloc[-1]
        out.add((last.department_id, last.position_id))
    return out


def test_plans_target_exactly_the_posts_of_confirmed_findings(small_ds, small_tables):
    p = education_plan(small_ds, as_of=AS_OF, settings=_no_alert_trigger())
    got = set(zip(p.plans.department_id, p.plans.position_id))
    assert got == _expected_case_posts(small_tables)
    assert set(p.signals.source) <= {"case", "confirmed_review"}
    assert set(p.plans.trigger) == {"confirmed"}


def test_plans_add_confirmed_alerts_and_alert_concentrations(small_ds, small_tables, small_run):
    p = education_plan(small_ds, small_run["dir"], as_of=AS_OF)
    confirmed = set(zip(p.plans.department_id[p.plans.trigger == "confirmed"], p.plans.position_id[p.plans.trigger == "confirmed"]))
    assert confirmed == _expected_case_posts(small_tables) | {small_run["confirmed_post"]}
    conc = p.plans[p.plans.trigger == "alert_concentration"]
    # four alerts in the cluster's post, one dismissed: three remain, which is min_alerts
    assert list(zip(conc.department_id, conc.position_id)) == [small_run["cluster_post"]]
    assert conc.n_alerts.iloc[0] == 3
    # one more dismissal would bring it under the threshold
    higher = education_plan(small_ds, small_run["dir"], as_of=AS_OF, settings=load_settings(overrides={"linkage": {"min_alerts": 4}}))
    assert "alert_concentration" not in set(higher.plans.trigger)


def test_plan_materials_match_topics_and_post_and_holders_are_current(small_ds, small_tables):
    p = education_plan(small_ds, as_of=AS_OF, settings=_no_alert_trigger())
    mats = small_tables["materials"].set_index("material_id")
    pos = small_tables["positions"].set_index("position_id")
    ph = small_tables["post_history"]
    for plan in p.plans.itertuples():
        assert 1 <= len(plan.material_ids) <= 5
        post_code = pos.post_code[plan.position_id]
        for m in plan.material_ids:
            tags = set(mats.topic_tags[m].split(";"))
            assert tags & (set(plan.topics) | {"integrity_general"})
            targets = mats.target_posts[m].split(";")
            assert post_code in targets or "all" in targets
        now = ph[(ph.department_id == plan.department_id) & (ph.position_id == plan.position_id) & (ph.start_date <= AS_OF)
                 & (ph.end_date.isna() | (ph.end_date >= AS_OF))]
        assert set(plan.holders) == set(now.employee_id)
        assert plan.due_date == AS_OF + pd.Timedelta(days=30)


def test_nobody_is_assigned_a_material_they_completed(small_ds, small_tables):
    p = education_plan(small_ds, as_of=AS_OF, settings=_no_alert_trigger())
    ev = small_tables["learning_events"]
    done = set(zip(ev.employee_id[ev.completed], ev.material_id[ev.completed]))
    pairs = set(zip(p.assignments.employee_id, p.assignments.material_id))
    assert pairs and not (pairs & done)
    assert p.assignments.groupby(["plan_id", "employee_id"]).size().max() <= 5


def test_concentration_counts_posts_departments_and_business_types(small_ds, small_run):
    p = education_plan(small_ds, small_run["dir"], as_of=AS_OF)
    c = p.concentration
    assert {"post", "department", "position", "business_type"} <= set(c.level)
    sig = findings(small_ds, small_run["dir"], AS_OF)
    assert c[c.level == "department"].n_confirmed.sum() == sig.source.isin(["case", "confirmed_review", "confirmed_alert"]).sum()


def test_widened_plans_never_single_anyone_out(small_ds, small_run):
    p = education_plan(small_ds, small_run["dir"], as_of=AS_OF)
    plans, todo = widen_plans(p, small_ds, k=3)
    assert (plans.n_audience >= 3).all()
    assert "holders" not in plans.columns and "employee_id" not in todo.columns
    small = p.plans[p.plans.n_holders < 3]
    if len(small):
        assert (plans.scope != "post").any()


def test_recommendations_skip_completed_and_follow_flags(small_ds, small_tables, small_run):
    r = recommend(small_ds, run_dir=small_run["dir"], as_of=AS_OF, n=5)
    ev = small_tables["learning_events"]
    done = set(zip(ev.employee_id[ev.completed], ev.material_id[ev.completed]))
    assert not (set(zip(r.employee_id, r.material_id)) & done)
    assert r.groupby("employee_id").size().max() == 5
    # the flagged people's top recommendation covers their flags' topic (RMB-001: reimbursement)
    flagged = small_run["confirmed_employee"]
    top = r[r.employee_id == flagged].iloc[0]
    assert "reimbursement" in top.topic_tags and "风险" in top.reason_zh
    # without a run nobody gets a flag reason
    plain = recommend(small_ds, [flagged], as_of=AS_OF)
    assert not plain.reason_zh.str.contains("风险").any()


def test_learning_progress_counts_each_completed_material_once(small_ds, small_tables):
    p = learning_progress(small_ds, 2024, as_of=AS_OF)
    ev = small_tables["learning_events"]
    mats = small_tables["materials"].set_index("material_id")
    person = p.sort_values("n_completed").employee_id.iloc[len(p) // 2]
    mine = ev[(ev.employee_id == person) & ev.completed & (ev.started_at.dt.year == 2024)]
    expected = mats.credits.reindex(mine.material_id.unique()).sum()
    row = p.set_index("employee_id").loc[person]
    assert row.credits == pytest.approx(expected)
    assert row.progress == pytest.approx(expected / row.required_credits)
    assert set(p.status) <= {"active", "normal", "lagging"}
    assert (p[p.status == "lagging"].progress < 0.5).all()
    s = learning_summary(p)
    assert s.n_people.sum() == len(p) and (s.n_lagging <= s.n_people).all()


def test_requirement_is_pro_rated_within_the_year(small_ds):
    mid = learning_progress(small_ds, 2025, as_of="2025-06-30")
    assert mid.expected_credits.iloc[0] == pytest.approx(mid.required_credits.iloc[0] * 181 / 365)


def test_leaderboards(small_ds):
    p = learning_progress(small_ds, 2025, as_of=AS_OF)
    b = leaderboard(p, n=5)
    assert b["rank"].tolist() == [1, 2, 3, 4, 5] and b.points.is_monotonic_decreasing
    d = leaderboard(p, "department_id", n=100)
    assert d.points_per_head.is_monotonic_decreasing and d.n_people.sum() == len(p)


def _panel(effect: float, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    q = pd.period_range("2024Q1", "2025Q4", freq="Q")
    rows = []
    for d in ("D1", "D2", "D3", "D4"):
        for i in range(40):
            for t in q:
                p = 0.3 + 0.05 * (t >= q[4]) + (effect if (d == "D1" and t >= q[4]) else 0)
                rows.append((f"{d}-{i}", d, "P1", t, float(rng.random() < p)))
    return pd.DataFrame(rows, columns=["employee_id", "department_id", "position_id", "quarter", "y"])


def test_difference_in_differences_recovers_a_planted_effect():
    treated = pd.DataFrame({"department_id": ["D1"], "position_id": ["P1"], "plan_date": ["2025-01-01"]})
    r = education_effect(_panel(-0.2), treated)
    assert r.did == pytest.approx(-0.2, abs=0.08) and r.did + 1.96 * r.se < 0
    assert r.n_comparison_units == 3
    null = education_effect(_panel(0.0, seed=1), treated)
    assert abs(null.did) < 2.5 * null.se + 0.02
    assert "difference-in-differences" in r.summary()


def test_flag_panel_from_a_run(small_ds, small_run):
    flags = pd.read_parquet(small_run["dir"] / "flags.parquet")
    panel = flag_panel(small_ds, flags)
    fired = flags.assign(quarter=pd.to_datetime(flags.period).dt.to_period("Q"))[["employee_id", "quarter"]].drop_duplicates()
    assert panel.y.sum() == len(fired) > 1
    assert panel.quarter.nunique() == len(pd.period_range(fired.quarter.min(), fired.quarter.max(), freq="Q"))
    assert set(panel.columns) >= {"employee_id", "department_id", "position_id", "quarter", "y"}


def test_every_indicator_and_case_type_maps_to_known_topics(small_tables):
    from riskmodel.indicators.registry import all_indicators

    for iid in all_indicators():
        assert set(topics_for_indicator(iid)) <= set(TOPICS), iid
    for c in small_tables["cases"].itertuples():
        assert set(topics_for_case(c.case_type, c.summary)) <= set(TOPICS)
    tags = {t for v in small_tables["materials"].topic_tags for t in v.split(";")}
    assert tags <= set(TOPICS)
    assert topics_for_indicator("LEAF-002") == ("leaf_grading",) and "official_car" in topics_for_indicator("RMB-005")
