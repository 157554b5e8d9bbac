"""No flag is dated before the data that made it fire: a quarter's features never see later claims or orders."""

from __future__ import annotations

import pandas as pd
import pytest

from riskmodel.indicators.base import evidence_complete
from riskmodel.indicators.registry import all_indicators


@pytest.fixture(scope="module")
def fired_with_dates(small_run, small_tables):
    f = pd.read_parquet(small_run / "flags.parquet")
    f = f[f.fired.astype(bool)]
    t = small_tables
    dates = pd.concat([
        t["claims"][["claim_id", "expense_date"]].set_axis(["id", "d"], axis=1),
        t["purchase_orders"][["po_id", "order_date"]].set_axis(["id", "d"], axis=1),
        t["invoices"][["invoice_id", "invoice_date"]].set_axis(["id", "d"], axis=1),
        t["leaf_purchases"][["purchase_id", "purchased_at"]].set_axis(["id", "d"], axis=1)])
    dates["d"] = pd.to_datetime(dates.d).dt.normalize()
    ev = f[["indicator_id", "entity_id", "period", "evidence"]].reset_index(names="row").explode("evidence")
    return ev.merge(dates, left_on="evidence", right_on="id")


def test_yearly_flags_are_dated_when_their_year_is_complete(fired_with_dates):
    yearly = [k for k, v in all_indicators().items() if v.grain == "year"]
    ev = fired_with_dates[fired_with_dates.indicator_id.isin(yearly)]
    assert ev.indicator_id.nunique() >= 3  # claims, orders and leaf indicators fire on the small company
    late = ev[ev.d > pd.to_datetime(ev.period)]
    assert late.empty, late.groupby("indicator_id").size().to_dict()


def test_a_duplicate_fapiao_is_flagged_once_its_second_use_exists(fired_with_dates, small_tables):
    """At its date, the claim's number had been used at least twice: two claimant-days, or a claim and an invoice
    (two lines of one claimant and day are one split fapiao, one use)."""
    ev = fired_with_dates[fired_with_dates.indicator_id == "RMB-003"]
    assert ev.row.nunique() > 0
    who = small_tables["claims"].set_index("claim_id").employee_id
    ev = ev.assign(use=ev.evidence.map(who).fillna(ev.evidence) + "|" + ev.d.dt.strftime("%Y-%m-%d"))
    known = ev[ev.d <= pd.to_datetime(ev.period)].groupby("row").use.nunique()
    assert known.reindex(ev.row.unique(), fill_value=0).ge(2).all()


def test_evidence_complete_keeps_rows_dated_by_the_indicator():
    p = pd.Series(pd.to_datetime(["2024-01-01", "2024-03-05", "2025-01-01"]))
    out = evidence_complete(p, pd.Timestamp("2025-09-30"))
    assert out.tolist() == [pd.Timestamp("2024-12-31"), pd.Timestamp("2024-03-05"), pd.Timestamp("2025-09-30")]
    assert evidence_complete(p, None).iloc[2] == pd.Timestamp("2025-12-31")


def test_data_derived_fences_use_only_the_values_known_by_the_rows_quarter(small_run):
    """BID-003's and the other data-derived fences are set from the tenders dated up to each row's quarter end:
    recomputing the fence from those values alone gives every row's threshold, and adding later tenders would
    not change an earlier row's."""
    f = pd.read_parquet(small_run / "flags.parquet")
    derived = {k: v for k, v in all_indicators().items() if v.threshold_method in ("iqr", "percentile")}
    checked = 0
    for ind_id, cls in derived.items():
        g = f[f.indicator_id == ind_id]
        if g.period.nunique() < 2:
            continue
        ind = cls()
        q_end = g.period.dt.to_period("Q").dt.end_time
        for qe in sorted(q_end.unique())[:3]:
            expected = ind.threshold_for(g.value[g.period <= qe])
            assert g.threshold[q_end == qe].eq(expected).all(), (ind_id, qe)
            checked += 1
    assert checked >= 6
    # the early fences differ from the fence of all the data (else the test above would prove nothing)
    b = f[f.indicator_id == "BID-003"]
    assert b.threshold.nunique() > 1


def test_per_group_fences_use_only_the_rows_known_by_the_rows_quarter(small_run, small_tables):
    """PRC-008's per-category fences come from the orders up to each order's quarter end: recomputing them from
    those orders alone gives every row's threshold, and the early quarters' fences differ from the whole data's."""
    from riskmodel.indicators.procurement import _tukey_fence

    f = pd.read_parquet(small_run / "flags.parquet")
    g = f[f.indicator_id == "PRC-008"].reset_index(drop=True)
    g["category_id"] = g.entity_id.map(small_tables["purchase_orders"].set_index("po_id").category_id)
    p = all_indicators()["PRC-008"]().params
    q_end = g.period.dt.to_period("Q").dt.end_time
    assert q_end.nunique() >= 4
    for qe in sorted(q_end.unique())[:2]:
        known = g[g.period <= qe]
        fence = _tukey_fence(known.value, known.category_id, p.fence_k, p.min_threshold, p.min_category_orders)
        rows = g.index[q_end == qe]
        assert g.threshold[rows].to_numpy() == pytest.approx(fence.reindex(rows).to_numpy())
    whole = _tukey_fence(g.value, g.category_id, p.fence_k, p.min_threshold, p.min_category_orders)
    assert not g.threshold[q_end == q_end.min()].eq(whole[q_end == q_end.min()]).all()
