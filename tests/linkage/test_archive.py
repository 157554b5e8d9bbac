"""The case archive: Chinese full-text search, filters and the statistics the supervision report calls."""

from __future__ import annotations

import pandas as pd
import pytest

from riskmodel.errors import RiskModelError
from riskmodel.linkage.archive import Archive, case_counts, match_scores, rectification_completion, time_to_close

# a keyword a reader would type for each kind of case the generator writes, and a phrase the record itself does not hold
KEYWORDS = {"受贿": "收受好处", "违规采购": "规避招标", "围标串标": "串通投标", "虚假报销": "虚构出差",
            "烟叶收购违规": "烟叶收购", "违反八项规定": "公款吃喝", "工作作风": "作风问题", "违规饮酒": "午间饮酒"}


@pytest.fixture(scope="module")
def archive(small_ds) -> Archive:
    return Archive.from_data(small_ds)


def _planted(small_tables) -> Archive:
    """The small archive plus planted cases whose words differ from the query's."""
    cases = small_tables["cases"]
    extra = pd.DataFrame({
        "case_id": ["CASE9001", "CASE9002", "CASE9003"], "case_type": ["虚假报销", "围标串标", "工作作风"],
        "title": ["某员工套取公款问题", "某项目招标问题", "某员工作风问题"],
        "summary": ["经查，该员工多次虚开增值税发票，套取公款。", "经查，三家供应商围标、串标，其余陪标。", "经查，该员工开发票时态度生硬。"],
        "department_id": ["D002", "D003", "D002"], "source": "report",
        "opened_date": pd.to_datetime(["2024-05-01", "2025-02-01", "2025-03-01"]),
        "closed_date": pd.to_datetime(["2024-09-01", None, None]), "status": ["closed", "open", "open"],
        "disposition": ["党内警告", None, None]})
    frames = {**small_tables, "cases": pd.concat([cases, extra], ignore_index=True)}
    return Archive.from_data(frames)


def test_search_finds_every_case_of_the_archive_by_a_chinese_keyword(archive):
    cases = archive.cases
    assert len(cases) >= 5
    for case in cases.itertuples():
        hits = archive.search(KEYWORDS[case.case_type], limit=None)
        assert case.case_id in set(hits.case_id), (case.case_type, case.summary)


def test_search_finds_false_invoices_written_as_vat_invoices(small_tables):
    a = _planted(small_tables)
    hits = a.search("虚开发票", limit=None)
    assert "CASE9001" in set(hits.case_id)
    row = hits[hits.record_id == "CASE9001"].iloc[0]
    assert row.score == pytest.approx(0.5) and "虚开增值税发票" in row.snippet
    # a record that holds the exact phrase ranks above one that needs a gap
    exact = hits[hits.text.str.contains("虚开发票")]
    if len(exact):
        assert exact.score.min() > row.score
    # the characters must come in order and close together: 开发票 alone is not 虚开发票
    assert "CASE9003" not in set(hits.case_id)
    assert "CASE9001" not in set(a.search("发票虚开", limit=None).case_id)


def test_search_terms_are_and_and_words_may_be_split(small_tables):
    a = _planted(small_tables)
    assert "CASE9002" in set(a.search("围标串标", limit=None).case_id)  # written 围标、串标
    assert "CASE9002" in set(a.search("围标 陪标", limit=None).case_id)
    assert "CASE9002" not in set(a.search("围标 发票", limit=None).case_id)


def test_search_filters(archive, small_tables):
    cp = small_tables["case_people"]
    case = archive.cases.merge(cp, on="case_id").iloc[0]
    q = KEYWORDS[case.case_type]
    by_type = archive.search(q, case_type=case.case_type, limit=None)
    assert set(by_type.case_type) == {case.case_type}
    by_dept = archive.search(q, department=case.department_id, limit=None)
    assert set(by_dept.department_id) == {case.department_id} and case.case_id in set(by_dept.case_id)
    year = case.opened_date.year
    assert set(archive.search(q, year=year, record_types=["case"], limit=None).year) == {year}
    by_person = archive.search(q, person=case.employee_id, limit=None)
    assert case.case_id in set(by_person.case_id)
    assert all(case.employee_id in p for p in by_person.people)
    assert archive.search(q, person="E99999", limit=None).empty


def test_search_covers_interviews_and_the_rectification_ledger(archive):
    assert set(archive.search("书面检查", limit=None).record_type) == {"interview"}
    assert "rectification" in set(archive.search("整改措施 轮岗", limit=None).record_type)


def test_empty_query_says_what_to_do(archive):
    with pytest.raises(RiskModelError, match="query is empty"):
        archive.search("  ")


def test_match_scores_latin_terms_ignore_case():
    s = match_scores(pd.Series(["ERP系统", "无"]), "erp")
    assert s.tolist() == [1.0, 0.0]


def _tiny() -> dict[str, pd.DataFrame]:
    cases = pd.DataFrame({
        "case_id": ["C1", "C2", "C3"], "case_type": ["受贿", "受贿", "虚假报销"], "title": "", "summary": "",
        "department_id": ["D1", "D1", "D2"], "source": "report",
        "opened_date": pd.to_datetime(["2024-01-01", "2024-03-01", "2025-01-01"]),
        "closed_date": pd.to_datetime(["2024-03-01", "2024-12-01", None]), "status": ["closed", "closed", "open"],
        "disposition": ["记过", "降级", None]})
    rect = pd.DataFrame({
        "rectification_id": ["R1", "R2", "R3", "R4"], "case_id": ["C1", "C1", "C2", "C3"], "department_id": ["D1", "D1", "D1", "D2"],
        "issue_text": "", "measure_text": "",
        "due_date": pd.to_datetime(["2024-06-01", "2024-06-01", "2025-01-01", "2025-02-01"]),
        "completed_date": pd.to_datetime(["2024-05-01", "2024-08-01", None, None]),
        "status": ["done", "done", "overdue", "overdue"]})
    return {"cases": cases, "rectifications": rect}


def test_statistics_on_a_hand_made_archive():
    a = Archive.from_data(_tiny())
    counts = case_counts(a)
    assert counts.n_cases.sum() == 3
    assert counts.set_index(["case_type", "year", "department_id"]).n_cases[("受贿", 2024, "D1")] == 2
    rc = rectification_completion(a, as_of="2025-03-01").set_index("department_id")
    assert rc.loc["D1", ["n_items", "done", "done_on_time", "overdue"]].tolist() == [3, 2, 1, 1]
    assert rc.loc["D1", "completion_rate"] == pytest.approx(2 / 3)
    assert rc.loc["D2", "overdue"] == 1
    ttc = time_to_close(a, as_of="2025-03-01").set_index("case_type")
    assert ttc.loc["受贿", "n_closed"] == 2 and ttc.loc["受贿", "median_days"] == pytest.approx((60 + 275) / 2)
    assert ttc.loc["虚假报销", "n_open"] == 1 and ttc.loc["虚假报销", "open_median_age_days"] == 59


def test_statistics_on_the_small_company(archive):
    counts = case_counts(archive)
    assert counts.n_cases.sum() == len(archive.cases)
    rc = rectification_completion(archive)
    assert rc.n_items.sum() == len(archive.rectifications)
    assert ((rc.completion_rate >= 0) & (rc.completion_rate <= 1)).all()
    ttc = time_to_close(archive)
    assert ttc.n_cases.sum() == len(archive.cases)
    assert (ttc.median_days.dropna() > 0).all()


def test_statistics_as_of_a_day_see_no_later_case(small_tables):
    from riskmodel.linkage.roles import RoleView

    cases = small_tables["cases"]
    day = cases.opened_date.sort_values().iloc[len(cases) // 2]
    opened = int((cases.opened_date <= day).sum())
    closed_later = int(((cases.opened_date <= day) & (cases.closed_date > day)).sum())
    stats = RoleView("supervisor", small_tables).archive_statistics(as_of=day)
    assert stats["case_counts"].n_cases.sum() == opened < len(cases)
    ttc = stats["time_to_close"]
    assert ttc.n_cases.sum() == opened and ttc.n_open.sum() >= closed_later, "a case closed later was open that day"
    assert stats["rectification_completion"].n_items.sum() == small_tables["rectifications"].case_id.isin(
        cases.case_id[cases.opened_date <= day]).sum()
