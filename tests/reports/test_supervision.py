"""The supervision report's review queue: the quarter asked for (a month's report lists its quarter), all of it or the
top N with the rest counted, a quarter column, headers and labels in the report's language, de-identified for
leadership."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pandas as pd
import pytest

from riskmodel.reports import supervision as S
from riskmodel.reports.rundata import RunData

CJK = re.compile(r"[\u4e00-\u9fff]")
ZH_HEADERS = ["季度", "排名", "对象类型", "对象", "单位", "岗位", "风险分", "主要原因"]
EN_HEADERS = ["quarter", "rank", "type", "entity", "unit", "post", "score", "main reasons"]


@pytest.fixture(scope="module")
def run(small_run):
    return RunData(small_run)


def _quarters(run) -> pd.Series:
    return pd.to_datetime(run.alerts.period).dt.to_period("Q").astype(str)


@pytest.fixture(scope="module")
def quarter(run):
    """A test quarter after the first one (so a filter by year would show an earlier quarter's rows first)."""
    qs = sorted(_quarters(run).unique())
    assert len(qs) >= 2
    return qs[-1]


def test_the_queue_is_the_quarters_with_its_column_and_chinese_headers(run, quarter):
    q = S.queue(run, quarter, "zh", top=None, audience="leadership")
    mine = run.alerts[_quarters(run) == quarter]
    assert list(q.columns) == ZH_HEADERS and q.index.name == "预警编号"
    assert (q["季度"] == quarter).all()
    assert len(q) == len(mine), "the whole quarter's queue, nothing from other quarters"
    assert sorted(q["排名"]) == sorted(mine["rank"])
    # people first, by rank
    people = q[q["对象类型"] == "人员"]
    assert len(people) == (mine.entity_type == "employee").sum() and list(people["排名"]) == sorted(people["排名"])
    assert list(q["对象类型"][: len(people)]) == ["人员"] * len(people)
    assert not set(q["对象类型"]) & {"employee", "claim", "tender", "purchase_order", "supplier", "grower"}


def test_leadership_sees_pseudonyms_only(run, quarter):
    from riskmodel.linkage.deid import find_leaks

    for lang in ("zh", "en"):
        q = S.queue(run, quarter, lang, top=None, audience="leadership")
        assert find_leaks({"queue": q.reset_index()}, run.data).empty
        assert not set(q.index) & set(run.alerts.alert_id) and q.index.str.startswith("ALT-").all()
        entity = q.iloc[:, 3]
        assert not set(entity) & set(run.alerts.entity_id) and entity.str.match(r"^(EMP|SUP|GRW|TND|PO|CLM|LPU)-").all()


def test_english_report_reads_english(run, quarter):
    q = S.queue(run, quarter, "en", top=None, audience="leadership")
    assert list(q.columns) == EN_HEADERS and q.index.name == "alert"
    assert "person" in set(q["type"])
    for col in ("type", "unit", "post"):
        assert not q[col].str.contains(CJK).any(), f"{col}: {sorted(set(q[col]))}"
    sup = S.queue(run, quarter, "en", top=None, audience="supervisor")
    assert list(sup.columns) == EN_HEADERS and set(sup.index) == set(run.alerts.alert_id[_quarters(run) == quarter])


def test_a_monthly_report_lists_its_quarter(run, quarter):
    month = str(pd.Period(quarter, "Q").asfreq("M", "end"))
    by_month = S.queue(run, month, "zh", top=None, audience="leadership")
    pd.testing.assert_frame_equal(by_month, S.queue(run, quarter, "zh", top=None, audience="leadership"))
    assert f"{month} 所在季度 {quarter}" in S.queue_caption(run, month, "zh", None)
    assert f"the quarter of {month} ({quarter})" in S.queue_caption(run, month, "en", None)


def test_top_n_and_the_rest_is_counted(run, quarter):
    mine = run.alerts[_quarters(run) == quarter]
    n, people = len(mine), int((mine.entity_type == "employee").sum())
    top = people + 2
    assert n > top
    q = S.queue(run, quarter, "zh", top=top, audience="leadership")
    assert len(q) == top and list(q["排名"][:people]) == list(range(1, people + 1))
    assert (q["对象类型"][:people] == "人员").all() and (q["对象类型"][people:] != "人员").all()
    assert list(q["排名"][people:]) == [1, 1], "the top events of two kinds, not one kind's whole list"
    assert S.queue_caption(run, quarter, "zh", top) == (
        f"{quarter} 的待核查预警共 {n} 条（人员 {people} 条，事项 {n - people} 条），按排名列出前 {top} 条，其余 {n - top} 条未列出。")
    assert S.queue_caption(run, quarter, "en", top).endswith(f"the first {top} by rank are listed, the other {n - top} are not.")
    assert S.queue_caption(run, quarter, "en", None).endswith(", all listed.")
    assert "没有待核查预警" in S.queue_caption(run, "2023Q1", "zh", 5) and S.queue(run, "2023Q1", "zh", audience="leadership").empty


def test_a_post_is_hidden_where_the_reports_year_would_undo_its_generalisation():
    """Level 3 hides a row's year; a quarter's report tells it, so the post shows only if k held it that year."""
    positions = pd.DataFrame({"position_id": ["P1", "P2"], "sensitivity": [3, 1]})
    holders = pd.DataFrame({"employee_id": ["E1", "E2", "E3", "E4"], "sensitivity": [3, 3, 3, 1]})
    rv = SimpleNamespace(data=SimpleNamespace(table=lambda name: positions),
                         deid=SimpleNamespace(k=3, holders=lambda year: holders))
    a = pd.DataFrame({"period": pd.to_datetime(["2025-10-01"] * 4), "position_id": ["P1", "P2", "P2", None]})
    view = pd.DataFrame({"post_zh": ["高风险岗位", "一般岗位", "一般岗位", "—"], "gen_level": [3, 3, 2, 3]})
    assert list(S._year_known_posts(rv, a, view)) == ["高风险岗位", "*", "一般岗位", "—"]


def test_other_tables_have_headers_in_the_reports_language(run, quarter):
    grid, rect = S.archive_statistics(run, quarter, "zh")
    assert grid.columns.name == "立案年份" and not any(c in rect.columns for c in ("n_items", "done", "on_time_rate"))
    assert "完成率" in rect.columns
    assert S.high_risk_posts(run, quarter, "zh").index.name == "岗位"
    assert "岗位" not in S.high_risk_posts(run, quarter, "zh").columns
    assert S.section(5, "zh") == "## 5 · 待核查预警" and "Review queue" in S.section(5, "en")


def test_decisions_are_on_the_previous_quarters_queue_in_the_reports_language(run, quarter):
    a = run.alerts[_quarters(run) == quarter]
    prev = str(pd.Period(quarter, "Q") - 1)
    later = str(pd.Period(quarter, "Q") + 1)
    end = pd.Period(later, "Q").end_time
    # three of this run's decisions, two of the office's earlier reviews (one decided after the report's period)
    rev = pd.DataFrame({"alert_id": [*a.alert_id[:3], "RV1", "RV2"], "period": [*a.period[:3], a.period.iloc[0], a.period.iloc[0]],
                        "decision": ["confirmed", "dismissed", "confirmed", "needs_information", "dismissed"],
                        "decided_at": [pd.NaT, pd.NaT, pd.NaT, end - pd.Timedelta(days=3), end + pd.Timedelta(days=3)],
                        "recorded_in": ["run", "run", "run", "archive", "archive"]})
    r = RunData(run.run_dir)
    r.__dict__["reviews"] = rev
    out = S.decisions(r, later, "zh")
    assert out.to_dict()["件数"] == {"属实": 2, "排除": 1, "需补充材料": 1}, "a decision after the period is not known yet"
    assert out.index.name == f"{quarter} 预警的核查结论"
    month = str(pd.Period(later, "Q").asfreq("M", "end"))
    pd.testing.assert_frame_equal(S.decisions(r, month, "zh"), out)
    first = str(pd.Period(later, "Q").asfreq("M", "start"))
    assert S.decisions(r, first, "zh").to_dict()["件数"] == {"属实": 2, "排除": 1}, "decided in the quarter's last days"
    assert "confirmed" in S.decisions(r, later, "en").index
    assert f"{prev}" in S.decisions(r, quarter, "zh").iloc[0, 0]


def test_reviews_are_the_archives_and_the_runs(run, tmp_path):
    import shutil

    from riskmodel.scoring.feedback import record_decision

    folder = tmp_path / "run"
    shutil.copytree(run.run_dir, folder)
    a = run.alerts[run.alerts.entity_type == "employee"].iloc[0]
    record_decision(folder, a.alert_id, "confirmed", reviewer_role="supervisor")
    r = RunData(folder)
    archive = r.data.table("alert_reviews")
    assert len(r.reviews) == len(archive) + 1
    assert (r.reviews.recorded_in == "archive").sum() == len(archive)
    mine = r.reviews[r.reviews.recorded_in == "run"].iloc[0]
    assert (mine.alert_id, mine.entity_id, mine.decision) == (a.alert_id, a.entity_id, "confirmed")
    assert set(r.reviews.alert_id[r.reviews.recorded_in == "archive"]) == set(archive.review_id)


def test_headline_compares_a_quarter_with_the_quarter_before_and_names_both(run, quarter):
    q = _quarters(run)
    prev = str(pd.Period(quarter, "Q") - 1)
    this, before = int((q == quarter).sum()), int((q == prev).sum())
    h = S.headline(run, quarter, "zh")
    assert list(h.columns) == [f"本期 {quarter}", f"上期 {prev}"]
    assert h.loc["预警（待核查）"].tolist() == [this, before]
    assert list(S.headline(run, quarter, "en").columns) == [f"this period {quarter}", f"previous period {prev}"]


def test_a_monthly_headline_compares_the_month_with_the_month_before(run, quarter):
    """Not with the quarter before: each column counts its own month's red flags and its own month's quarter's queue."""
    q = _quarters(run)
    this, before = int((q == quarter).sum()), int((q == str(pd.Period(quarter, "Q") - 1)).sum())
    fired = run.flags[run.flags.fired.astype(bool)]

    def flags_in(month: pd.Period) -> int:
        return int((fired.month == month.start_time).sum())

    last = pd.Period(quarter, "Q").asfreq("M", "end")  # the month before it is in the same quarter: the same queue
    h = S.headline(run, str(last), "zh")
    assert list(h.columns) == [f"本期 {last}（预警：{quarter}）", f"上期 {last - 1}（预警：{quarter}）"]
    assert h.loc["触发红旗（项次）"].tolist() == [flags_in(last), flags_in(last - 1)]
    assert h.loc["预警（待核查，所在季度）"].tolist() == [this, this]
    assert flags_in(last) + flags_in(last - 1) > 0, "the test needs red flags in those months"
    first = pd.Period(quarter, "Q").asfreq("M", "start")  # the month before it is the quarter before's last
    h = S.headline(run, str(first), "en")
    assert list(h.columns) == [f"this period {first} (alerts: {quarter})", f"previous period {first - 1} (alerts: {pd.Period(quarter, 'Q') - 1})"]
    assert h.loc["alerts for review, in the month's quarter"].tolist() == [this, before]
    assert h.loc["red flags fired"].tolist() == [flags_in(first), flags_in(first - 1)]


def test_an_alert_the_deidentified_view_leaves_out_is_counted_and_the_rest_listed(run, quarter, monkeypatch):
    from riskmodel.linkage.roles import RoleView

    full = S.queue(run, quarter, "en", top=None, audience="leadership")
    assert len(full) > 2
    gone = full.index[1]
    view = RoleView.alerts

    def fewer(self, run_dir):
        v = view(self, run_dir)
        return v[v.alert_ref != gone]

    monkeypatch.setattr(RoleView, "alerts", fewer)
    with pytest.warns(UserWarning, match=rf"gives {len(full) - 1} of the {len(full)} alerts of {quarter} to be listed: 1 is left out"):
        q = S.queue(run, quarter, "en", top=None, audience="leadership")
    assert gone not in q.index
    pd.testing.assert_frame_equal(q, full.drop(gone))
    assert (q.attrs["left_out"], full.attrs["left_out"]) == (1, 0)
