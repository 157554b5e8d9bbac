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


def test_a_monthly_report_lists_the_last_quarter_complete_by_its_end(run, quarter):
    """A quarter's queue is made from the whole quarter's data: its last month lists it; its first two months list
    the quarter before's, never one made from data past their end."""
    month = str(pd.Period(quarter, "Q").asfreq("M", "end"))
    by_month = S.queue(run, month, "zh", top=None, audience="leadership")
    pd.testing.assert_frame_equal(by_month, S.queue(run, quarter, "zh", top=None, audience="leadership"))
    assert f"截至 {month} 月末的最近一季 {quarter}" in S.queue_caption(run, month, "zh", None)
    assert f"the latest quarter complete by the end of {month} ({quarter})" in S.queue_caption(run, month, "en", None)
    prev = str(pd.Period(quarter, "Q") - 1)
    assert (_quarters(run) == prev).any(), "the test needs alerts in the quarter before"
    for early in (pd.Period(quarter, "Q").asfreq("M", "start"), pd.Period(quarter, "Q").asfreq("M", "start") + 1):
        q = S.queue(run, str(early), "zh", top=None, audience="leadership")
        assert (q["季度"] == prev).all() and len(q) == (_quarters(run) == prev).sum()
        assert f"截至 {early} 月末的最近一季 {prev}" in S.queue_caption(run, str(early), "zh", None)


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
    month = str(pd.Period(later, "Q").asfreq("M", "end"))  # the month whose end completes the quarter
    pd.testing.assert_frame_equal(S.decisions(r, month, "zh"), out)
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
    """Not with the quarter before: each column counts its own month's red flags and the queue of the last quarter
    complete by its month's end."""
    q = _quarters(run)
    this, before = int((q == quarter).sum()), int((q == str(pd.Period(quarter, "Q") - 1)).sum())
    fired = run.flags[run.flags.fired.astype(bool)]

    def flags_in(month: pd.Period) -> int:
        return int((fired.month == month.start_time).sum())

    prev = pd.Period(quarter, "Q") - 1
    last = pd.Period(quarter, "Q").asfreq("M", "end")  # it completes the quarter; the month before it does not
    h = S.headline(run, str(last), "zh")
    assert list(h.columns) == [f"本期 {last}（预警：{quarter}）", f"上期 {last - 1}（预警：{prev}）"]
    assert h.loc["触发红旗（项次）"].tolist() == [flags_in(last), flags_in(last - 1)]
    assert h.loc["预警（待核查，截至月末的最近一季）"].tolist() == [this, before]
    assert flags_in(last) + flags_in(last - 1) > 0, "the test needs red flags in those months"
    first = pd.Period(quarter, "Q").asfreq("M", "start")  # the month before it is the quarter before's last
    h = S.headline(run, str(first), "en")
    assert list(h.columns) == [f"this period {first} (alerts: {prev})", f"previous period {first - 1} (alerts: {prev})"]
    assert h.loc["alerts for review, latest quarter by the month's end"].tolist() == [before, before]
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


def test_the_case_archive_stands_as_at_the_periods_end(run):
    """A report counts the cases opened by its period's last day, and their rectification items only."""
    cases = run.data.table("cases")
    rect = run.data.table("rectifications")
    opened = pd.to_datetime(cases.opened_date)
    month = opened.sort_values().iloc[len(opened) // 2].to_period("M")
    hi = month.end_time.normalize()
    known = cases[opened <= hi]
    assert 0 < len(known) < len(cases), "the test needs cases opened before and after the period"
    for period in (str(month), str(month.asfreq("Q"))):
        end = S.parse_period(period)[1]
        grid, items = S.archive_statistics(run, period, "zh")
        assert grid.to_numpy().sum() == (opened <= end).sum()
        partial = f"{end.year}（截至{end.month}月{end.day}日）" if end.month < 12 else str(end.year)
        assert list(grid.columns)[-1] == partial and grid.columns.name == "立案年份"
        assert items["整改事项"].sum() == rect.case_id.isin(cases.case_id[opened <= end]).sum()
    en = S.archive_statistics(run, str(month), "en")[0]
    assert en.columns.name == "year opened" and list(en.columns)[-1] == f"{hi.year} (to {hi.day} {hi:%b})"


def test_the_english_report_names_case_types_and_units_in_english(run, quarter):
    grid, items = S.archive_statistics(run, quarter, "en")
    assert not any(CJK.search(str(c)) for c in grid.index), list(grid.index)
    assert {"bribery", "false expense claims"} & set(grid.index) or set(grid.index) <= set(S.CASE_TYPE_EN.values())
    tables = {"department × month": S.department_month(run, end=pd.Period(quarter, "Q").end_time, lang="en"),
              "cross comparison": S.cross_comparison(run, quarter, "department", "en"), "rectification": items}
    deps = run.departments.set_index("department_id")
    for name, tab in tables.items():
        assert len(tab), name
        for label in tab.index:
            kind, dep = str(label).rsplit(" ", 1)
            assert not CJK.search(str(label)) and dep in deps.index, f"{name}: {label}"
            assert kind == S._DEPT_TYPE_EN[deps.dept_type[dep]]
    # the Chinese report keeps the units' own names
    zh = S.cross_comparison(run, quarter, "department", "zh")
    assert set(zh.index) <= set(deps.name) and all(CJK.search(str(i)) for i in zh.index)
    assert set(S.archive_statistics(run, quarter, "zh")[0].index) <= set(S.CASE_TYPE_EN)


def test_every_case_type_the_archive_knows_has_an_english_name():
    from riskmodel.data.synthetic.archive import CASE_TEXT, MINOR
    from riskmodel.linkage.topics import CASE_TYPE_TOPICS
    from riskmodel.scoring.labels import MISCONDUCT_CASE_TYPES

    known = {c for c, _, _ in CASE_TEXT.values()} | {c for c, _, _ in MINOR} | set(CASE_TYPE_TOPICS) | set(MISCONDUCT_CASE_TYPES)
    assert known <= set(S.CASE_TYPE_EN), known - set(S.CASE_TYPE_EN)
    assert not any(CJK.search(v) for v in S.CASE_TYPE_EN.values())


def test_the_deidentified_queue_names_a_kept_unit_in_english(run):
    """Where the de-identification keeps a unit's own (Chinese) name, the English report gives its English label."""
    deps = run.departments
    en = S._label_en(run)
    station = deps[deps.dept_type == "station"].iloc[0]
    assert en[station["name"]] == f"leaf-purchasing station {station.department_id}"
    assert en["烟叶收购站"] == "leaf-purchasing station" and en["全公司"] == "company-wide"


def test_heatmaps_colour_each_row_on_its_own_scale_and_say_so(run, quarter):
    """A December peak in a few rows must not wash out the rest: every row with flags reaches the top colour, the
    cells carry the severities, the marks stay, and the colour bar says what the colour is, in the report's language."""
    end = pd.Period(quarter, "Q").end_time
    for lang, words in (("zh", "占本行最高月的比例"), ("en", "share of the row's peak")):
        figs = S.heatmaps(run, quarter, lang)
        for fig, tab in zip(figs, (S.department_month(run, end=end), S.business_month(run, end=end))):  # the numbers
            ax, bar = fig.axes
            shown = ax.images[0].get_array()
            values = tab.to_numpy(dtype=float)
            assert shown.shape == values.shape
            busy = values.max(axis=1) > 0
            assert (shown.max(axis=1)[busy] == 1).all() and (shown[~busy] == 0).all()
            assert (abs(shown * values.max(axis=1, keepdims=True) - values) < 1e-9).all()
            assert ax.images[0].get_clim() == (0, 1)
            assert words in bar.get_ylabel()
            assert len(ax.patches) == int(S.abnormal(tab).to_numpy().sum())
            assert sorted(x.get_text() for x in ax.texts) == sorted(f"{v:,.0f}" for v in values[values != 0])
        assert (values.max(axis=1).min() < values.max() / 4), "the test needs rows of very different sizes"


def test_heatmap_rejects_an_unknown_scale():
    from riskmodel.errors import RiskModelError
    from riskmodel.reports.figures import heatmap

    with pytest.raises(RiskModelError, match="'table' or 'row'"):
        heatmap(pd.DataFrame({"a": [1]}), "t", "c", scale="column")


def test_a_months_post_holders_are_those_in_the_post_that_month():
    """Someone who takes a post up later in the quarter is not its holder in the quarter's first month (the
    quarter's features name the post they end the quarter in)."""
    ph = pd.DataFrame({"assignment_id": ["A1", "A2", "A3"], "employee_id": ["E1", "E2", "E3"], "position_id": "P1",
                       "department_id": "D1", "start_date": pd.to_datetime(["2020-03-01", "2025-02-15", "2020-03-01"]),
                       "end_date": pd.to_datetime([None, None, "2024-12-31"])})
    tables = {"post_history": ph}
    run = SimpleNamespace(
        data=SimpleNamespace(has=lambda name: name in tables, table=lambda name: tables[name]),
        flags=pd.DataFrame({"fired": True, "month": pd.to_datetime(["2025-01-01"]), "position_id": "P1", "severity": 3,
                            "employee_id": "E1", "department_id": "D1"}),
        positions=pd.DataFrame({"position_id": ["P1"], "title_zh": ["站长"], "title_en": ["Station manager"], "sensitivity": [3]}),
        features=pd.DataFrame({"entity_id": ["E1", "E2"], "position_id": "P1", "period": pd.to_datetime(["2025-01-01"] * 2)}))
    jan = S.high_risk_posts(run, "2025-01", "en")
    assert jan.loc["Station manager", "holders"] == 1 and jan.loc["Station manager", "severity per holder"] == 3
    assert S.post_holders(run, *S.parse_period("2025Q1")[:2])["P1"] == 2
    assert S.post_holders(run, *S.parse_period("2024Q4")[:2])["P1"] == 2, "E3 held it until the last day"
    del tables["post_history"]  # without a post history: the posts the quarter's features give
    assert S.high_risk_posts(run, "2025-01", "en").loc["Station manager", "holders"] == 2
