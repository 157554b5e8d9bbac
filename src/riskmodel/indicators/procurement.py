"""Procurement red flags (``PRC-…``): budget, splitting, approvals, suppliers, prices, the document chain."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd
from scipy import stats

from riskmodel.data.dataset import Dataset
from riskmodel.indicators.base import Indicator, Params, as_of_quarters
from riskmodel.indicators.registry import register


@register
class OverBudget(Indicator):
    id = "PRC-001"
    title_zh = "超预算采购"
    title_en = "Purchase beyond its budget line"
    entity = "purchase_order"
    tables = ("purchase_orders", "requisitions", "budget_lines")
    severity = 2
    why = ("A purchase that takes its budget line past the approved amount was either not controlled or was pushed "
           "through on purpose; over-budget purchasing is one of the red flags the supervision platform must prompt on.")
    source = "袁畅, 数字赋能基层纪检监察与思政工作协同, §1.1 (超预算采购); OCP Red Flags for Integrity (2016), budget overruns."
    methodology = ("Orders are charged to the budget line of their requisition and summed in order date order; the value of an "
                   "order is the line's cumulative spend after it divided by the line's budgeted amount.")
    example = "Budget line 100,000; orders of 60,000 and 50,000: the second order has value 1.10 and fires."
    output = "value: cumulative spend / budget after this order (1.10 = 10 % over)."
    exclusions = "Orders whose requisition names no budget line are not scored."
    reason_zh = "该订单使预算科目{budget_line_id}累计支出达到预算的{value:.1%}"
    reason_en = "this order takes budget line {budget_line_id} to {value:.1%} of its budget"

    class Params(Params):
        threshold: float = 1.0

    def compute(self, data: Dataset) -> pd.DataFrame:
        return data.sql("""
            SELECT po.po_id AS entity_id, po.order_date AS period, po.buyer_id AS employee_id, po.department_id,
                   po.supplier_id, r.budget_line_id,
                   sum(po.amount) OVER (PARTITION BY r.budget_line_id ORDER BY po.order_date, po.po_id
                                        ROWS UNBOUNDED PRECEDING) / nullif(b.amount, 0) AS value,
                   po.po_id AS evidence
            FROM purchase_orders po
            JOIN requisitions r USING (requisition_id)
            JOIN budget_lines b ON b.budget_line_id = r.budget_line_id""")


@register
class SplitPurchase(Indicator):
    id = "PRC-002"
    title_zh = "化整为零规避招标"
    title_en = "Split purchase under the tender limit"
    entity = "purchase_order"
    tables = ("purchase_orders",)
    severity = 3
    why = ("Splitting one need into several orders, each under the limit above which a tender (or a higher approval) is "
           "required, avoids competition and oversight (化整为零规避招标, 应招未招).")
    source = "OCP Red Flags for Integrity (2016): contract splitting; 《招标投标法实施条例》第二十四条 (no splitting to avoid tendering)."
    methodology = ("For each order placed without a tender and under the limit, the orders by the same buyer to the same supplier "
                   "within the preceding `window_days` (itself included) are summed; the value is that sum divided by the limit. "
                   "It fires when the value reaches `threshold` and at least `min_orders` orders make up the sum.")
    example = "Three orders of 180,000 by one buyer to one supplier within 12 days, tender limit 200,000: the third has value 2.7."
    output = "value: window sum / limit; evidence: the orders in the window."
    exclusions = "Orders placed through a tender and orders above the limit themselves (those are what a tender is for)."
    reason_zh = "{n_orders}笔同一采购人向同一供应商的订单在{window}天内合计达限额的{value:.2f}倍，单笔均低于限额"
    reason_en = "{n_orders} orders by one buyer to one supplier within {window} days add up to {value:.2f}x the limit, each under it"

    class Params(Params):
        window_days: int = 30
        limit: str = "tender_limit"
        threshold: float = 1.0
        min_orders: int = 2

    def compute(self, data: Dataset) -> pd.DataFrame:
        limit = float(getattr(self.policy, self.params.limit))
        w = int(self.params.window_days)
        df = data.sql(f"""
            WITH small AS (
                SELECT * FROM purchase_orders WHERE tender_id IS NULL AND amount < {limit})
            SELECT po_id AS entity_id, order_date AS period, buyer_id AS employee_id, department_id, supplier_id,
                   sum(amount) OVER win / {limit} AS value,
                   count(*) OVER win AS n_orders,
                   list_sort(list(po_id) OVER win) AS evidence,
                   {w} AS window
            FROM small
            WINDOW win AS (PARTITION BY buyer_id, supplier_id ORDER BY order_date
                           RANGE BETWEEN INTERVAL {w} DAYS PRECEDING AND CURRENT ROW)""")
        df.loc[df.n_orders < self.params.min_orders, "value"] = 0.0
        return df


# -- helpers shared by the indicators below ------------------------------------------------------------------------
def _tukey_fence(values: pd.Series, groups: pd.Series | None, k: float, floor: float | None, min_group: int,
                 periods: pd.Series | None = None) -> pd.Series:
    """Per-row Tukey fence Q3 + k·IQR of ``values`` within each group.

    Groups with fewer than ``min_group`` values (and rows without a group) get the fence of all values; every fence
    is raised to ``floor`` where one is given.  With ``periods`` (the rows' dates), each row's fence comes from the
    rows dated up to the end of its quarter only, so no row is judged by later data.  Returns a float Series
    aligned with ``values``.

    Examples
    --------
    >>> v = pd.Series([1.0, 2, 3, 4, 100, 101])
    >>> d = pd.Series(pd.to_datetime(["2024-01-05"] * 4 + ["2024-05-01"] * 2))
    >>> _tukey_fence(v, None, 1.5, None, 1, d).round(2).tolist()  # Q1 knows 1–4; Q2 all six
    [5.5, 5.5, 5.5, 5.5, 186.62, 186.62]
    """
    if periods is not None and pd.to_datetime(periods).notna().any():
        return pd.Series(as_of_quarters(periods, lambda known: _tukey_fence(
            values[known], groups[known] if groups is not None else None, k, floor, min_group).reindex(values.index)),
            index=values.index, dtype=float)
    v = values.astype(float)
    q1, q3 = np.nanpercentile(v, [25, 75]) if v.notna().any() else (np.nan, np.nan)
    pooled = q3 + k * (q3 - q1)
    fence = pd.Series(pooled, index=v.index, dtype=float)
    if groups is not None:
        g = v.groupby(groups)
        per = g.quantile(0.75) + k * (g.quantile(0.75) - g.quantile(0.25))
        per = per[g.count() >= min_group]
        fence = groups.map(per).astype(float).fillna(pooled)
    return fence.clip(lower=floor) if floor is not None else fence


def _trailing_zeros(x: pd.Series, cap: int = 8) -> np.ndarray:
    """Trailing zeros of a number written in whole yuan (30000 → 4, 1500 → 2, 4285.71 → 0, 7 → 0)."""
    v = np.round(x.astype(float).to_numpy(), 2)
    whole = np.isclose(v, np.round(v)) & (v >= 1)
    n = np.round(v).astype(np.int64)
    out = np.zeros(len(v), dtype=int)
    for p in range(1, cap + 1):  # over powers of ten, not rows
        out += whole & (n % 10**p == 0)
    return out


BENFORD_FIRST = np.log10(1 + 1 / np.arange(1, 10))


@lru_cache(maxsize=4096)
def _benford_mad_quantile(n: int, q: float, draws: int = 20_000, seed: int = 20120101) -> float:
    """The ``q`` quantile of the first-digit MAD of ``n`` amounts that follow Benford's law exactly (simulated)."""
    rng = np.random.default_rng(seed + n)
    props = rng.multinomial(n, BENFORD_FIRST, size=draws) / n
    return float(np.quantile(np.abs(props - BENFORD_FIRST).mean(axis=1), q))


def _category_names(data: Dataset) -> str:
    """SQL for (category_id, category_zh, category_en): the category's Chinese and English names where the categories
    table gives them, else its id."""
    if data.has("categories"):
        return ("SELECT category_id, coalesce(nullif(name_zh, ''), category_id) AS category_zh, "
                "coalesce(nullif(name_en, ''), category_id) AS category_en FROM categories")
    return "SELECT DISTINCT category_id, category_id AS category_zh, category_id AS category_en FROM purchase_orders"


@register
class SelfApproval(Indicator):
    """Requester = approver: a requisition approved by the person who raised it (or placed its order)."""

    id = "PRC-003"
    title_zh = "申请人自批"
    title_en = "Requester approved their own requisition"
    entity = "purchase_order"
    tables = ("purchase_orders", "requisitions", "approvals")
    severity = 3
    why = ("Segregation of duties requires that whoever asks for a purchase is not the one who approves it. A department "
           "head who requests, approves and orders from the same chair removes the only check before money is committed — "
           "the pattern of heads buying from companies they are tied to.")
    source = ("COSO Internal Control — Integrated Framework (2013), principle 10 (segregation of duties); "
              "财政部等《企业内部控制基本规范》(财会〔2008〕7号), 不相容职务分离控制.")
    methodology = ("Every approved approval step of a requisition is compared with the requisition's requester and the buyer of "
                   "the order placed against it. An order whose requisition was approved, at one of the `levels` checked, by "
                   "its own requester or buyer gets value 1.")
    example = "Requisition R1 raised by E1 and approved at level 1 by E1; order PO1 placed against R1: PO1 has value 1 and fires."
    output = "value: 1 when self-approved; evidence: the requisition and the self-approval step(s)."
    exclusions = ("Requisitions that never became an order; rejected approval steps. Orders approved properly are omitted "
                  "(nothing to say).")
    reason_zh = "申请人在第{level}级审批中批准了自己提出的采购申请{requisition_id}"
    reason_en = "the requester approved their own requisition {requisition_id} at approval level {level}"

    class Params(Params):
        levels: tuple[int, ...] = (1, 2, 3)
        threshold: float = 1.0

    def compute(self, data: Dataset) -> pd.DataFrame:
        levels = ", ".join(str(int(x)) for x in self.params.levels) or "NULL"
        return data.sql(f"""
            SELECT po.po_id AS entity_id, any_value(po.order_date) AS period, any_value(r.requester_id) AS employee_id,
                   any_value(po.department_id) AS department_id, any_value(po.supplier_id) AS supplier_id,
                   1.0 AS value, any_value(r.requisition_id) AS requisition_id, min(a.level) AS level,
                   list_prepend(any_value(r.requisition_id), list(a.approval_id ORDER BY a.level, a.approval_id)) AS evidence
            FROM purchase_orders po
            JOIN requisitions r USING (requisition_id)
            JOIN approvals a USING (requisition_id)
            WHERE a.decision = 'approved' AND a.level IN ({levels})
              AND (a.approver_id = r.requester_id OR a.approver_id = po.buyer_id)
            GROUP BY po.po_id""")


@register
class ApprovalConcentration(Indicator):
    """An approver who approves far more orders from one supplier than the rest of the company's buying would explain."""

    id = "PRC-004"
    title_zh = "审批集中于同一供应商"
    title_en = "Approvals concentrated on one supplier"
    entity = "employee"
    grain = "year"
    tables = ("purchase_orders", "approvals")
    severity = 2
    why = ("An approver who waves through purchase after purchase from the same company — one the rest of the company "
           "hardly uses for the same items — is the usual shape of a favoured or related supplier (利益输送); the paper "
           "asks for approvals concentrated in one person to be flagged. Comparing with how everyone else buys the same "
           "categories keeps a supplier that simply dominates its market, or a department that simply buys a lot, from "
           "looking suspicious.")
    source = ("袁畅, 数字赋能基层纪检监察与思政工作协同, §1.1 (审批集中、异常交易); OCP Red Flags for Integrity (2016): "
              "'contracts repeatedly awarded to the same supplier'; ACFE Fraud Examiners Manual, purchasing schemes "
              "(approver–vendor favouritism).")
    methodology = ("Per approver and year, the direct orders (no tender) whose requisition they approved at any level. For each "
                   "supplier, the number of those orders `k` is compared with the number expected if, in every category, the "
                   "approver's orders went to suppliers in the proportions the other approvers' orders did that year: "
                   "`expected` = Σ over categories of (approver's orders in the category) × (others' orders with the "
                   "supplier + 1) / (others' orders + suppliers active in the category) — the +1 (Laplace smoothing) keeps a "
                   "supplier nobody else uses from having an expectation of zero; where the others placed fewer than "
                   "`min_benchmark_orders` orders in the category there is no benchmark, and the approver's own count is "
                   "expected, so the category adds nothing. The value is the surprise −log10 P(Poisson(expected) "
                   "≥ k) of the approver's most surprising supplier with at least `min_supplier_orders` orders (Poisson is "
                   "conservative against the binomial). It fires at `threshold` (4: a one-in-ten-thousand coincidence, "
                   "strict enough for the few thousand approver–supplier pairs a company tests in a year).")
    example = ("A head approves 60 direct orders a year, 8 of them office supplies from S9, which no other approver uses for "
               "office supplies (expected about 0.05): surprise ≈ 15, fires. A head of a large department approving 230 "
               "orders from the market's leading supplier where 200 were expected: surprise ≈ 1.8, silent.")
    output = "value: −log10 of the Poisson tail probability; evidence: the approver's orders with that supplier."
    exclusions = ("Orders placed through a tender (the winner is chosen by competition, not by the approver); rejected "
                  "approvals; suppliers with fewer than `min_supplier_orders` orders from the approver in the year; categories "
                  "the others rarely buy (no benchmark).")
    reason_zh = ("{period:%Y}年其审批的直接采购中有{n_supplier_orders}笔来自供应商{supplier_id}，"
                 "按其他审批人同类采购的供应商分布仅应约{expected:.1f}笔")
    reason_en = ("in {period:%Y} they approved {n_supplier_orders} direct orders from supplier {supplier_id}; other approvers' "
                 "buying of the same items would predict about {expected:.1f}")

    class Params(Params):
        min_supplier_orders: int = 3
        min_benchmark_orders: int = 20
        threshold: float = 4.0

    def compute(self, data: Dataset) -> pd.DataFrame:
        df = data.sql(f"""
            WITH po AS (
                SELECT po_id, requisition_id, supplier_id, category_id, department_id, date_trunc('year', order_date) AS yr
                FROM purchase_orders WHERE tender_id IS NULL),
            ap AS (  -- one row per approver and order (an approver may sign several levels)
                SELECT DISTINCT a.approver_id, po.po_id, po.supplier_id, po.category_id, po.department_id, po.yr
                FROM approvals a JOIN po USING (requisition_id) WHERE a.decision = 'approved'),
            a_cs AS (SELECT approver_id, yr, category_id, supplier_id, count(*) AS k FROM ap GROUP BY ALL),
            a_c AS (SELECT approver_id, yr, category_id, count(*) AS n FROM ap GROUP BY ALL),
            c_cs AS (SELECT yr, category_id, supplier_id, count(*) AS k FROM po GROUP BY ALL),
            c_c AS (SELECT yr, category_id, count(*) AS n, count(DISTINCT supplier_id) AS m FROM po GROUP BY ALL),
            observed AS (
                SELECT approver_id, yr, supplier_id, count(*) AS n_supplier_orders, list(po_id ORDER BY po_id) AS evidence,
                       mode(department_id ORDER BY department_id) AS department_id
                FROM ap GROUP BY ALL HAVING count(*) >= {int(self.params.min_supplier_orders)}),
            expected AS (
                SELECT ac.approver_id, ac.yr, o.supplier_id,
                       sum(ac.n * CASE WHEN cc.n - ac.n >= {int(self.params.min_benchmark_orders)}
                                       THEN (coalesce(cs.k, 0) - coalesce(own.k, 0) + 1) / (cc.n - ac.n + cc.m)
                                       ELSE coalesce(own.k, 0) / ac.n END) AS expected
                FROM observed o
                JOIN a_c ac ON ac.approver_id = o.approver_id AND ac.yr = o.yr
                JOIN c_c cc ON cc.yr = ac.yr AND cc.category_id = ac.category_id
                LEFT JOIN c_cs cs ON cs.yr = ac.yr AND cs.category_id = ac.category_id AND cs.supplier_id = o.supplier_id
                LEFT JOIN a_cs own ON own.approver_id = ac.approver_id AND own.yr = ac.yr
                                  AND own.category_id = ac.category_id AND own.supplier_id = o.supplier_id
                GROUP BY ALL)
            SELECT o.approver_id AS entity_id, o.approver_id AS employee_id, o.yr AS period, o.department_id, o.supplier_id,
                   o.n_supplier_orders, e.expected, o.evidence
            FROM observed o JOIN expected e USING (approver_id, yr, supplier_id)""")
        if df.empty:
            return df
        # −log10 P(X >= k), X ~ Poisson(expected); logsf keeps tiny tails finite
        df["value"] = -stats.poisson.logsf(df.n_supplier_orders - 1, df.expected.clip(lower=1e-9)) / np.log(10)
        return (df.sort_values(["value", "supplier_id"], ascending=[False, True])
                  .drop_duplicates(["entity_id", "period"]).reset_index(drop=True))


@register
class FrequentSupplierChanges(Indicator):
    """A buyer who keeps switching supplier for the same category more often than the market's structure explains."""

    id = "PRC-005"
    title_zh = "频繁更换供应商"
    title_en = "Frequent supplier changes in a category"
    entity = "employee"
    grain = "year"
    tables = ("purchase_orders",)
    severity = 1
    why = ("Changing supplier for the same item again and again, without a tender, can spread favours among several "
           "companies (rotating kickbacks), hide a related company among others, or break up a relationship that a "
           "regular supplier would expose; the paper names frequent supplier changes among the abnormal transactions to "
           "watch. Ordinary buyers tend to stay with a supplier that delivers.")
    source = ("袁畅, 数字赋能基层纪检监察与思政工作协同, §1.1 (频繁更换供应商); OECD (2016), Preventing Corruption in Public "
              "Procurement (red flags across the procurement cycle).")
    methodology = ("A buyer's direct orders (no tender) are taken per category in date order; an order *switches* when its "
                   "supplier differs from that of the buyer's previous order in the same category (the previous order may lie "
                   "in an earlier year). In a category and year where the company's direct orders are spread over suppliers "
                   "with shares p, a buyer choosing at random in proportion to the market would switch with probability "
                   "q = 1 − Σp² at each order. Per buyer and year, the switches S are compared with that expectation "
                   "E = Σq over the buyer's orders that had a predecessor: value z = (S − E) / sqrt(Σq(1−q)). It fires at "
                   "`threshold` (3: about one buyer-year in 700 by chance).")
    example = ("Company orders of fertiliser go 85 % to S1; buyer E1 alternates S1, S2, S1, S2… over 10 orders (9 switches "
               "where about 2.4 were expected): z ≈ 5, fires. A buyer who changed supplier once after a failed delivery: silent.")
    output = "value: z-score of the year's switches against the market-share expectation; evidence: the switching orders."
    exclusions = ("Orders placed through a tender (the competition picks the supplier); single-source categories (where the "
                  "categories table marks them); categories with one supplier in the year (nothing to switch to); "
                  "buyer-years with fewer than `min_switches` switches are not scored.")
    reason_zh = "{period:%Y}年同类物资直接采购中{n_switches}次更换供应商（{n_orders}笔订单），按市场份额随机选择也只应约{expected:.1f}次"
    reason_en = ("in {period:%Y} they changed supplier {n_switches} times for the same items ({n_orders} direct orders) where "
                 "choosing at random by market share would give about {expected:.1f}")

    class Params(Params):
        threshold: float = 3.0
        min_switches: int = 5

    def compute(self, data: Dataset) -> pd.DataFrame:
        single = ("AND category_id NOT IN (SELECT category_id FROM categories WHERE single_source)"
                  if data.has("categories") else "")
        df = data.sql(f"""
            WITH o AS (
                SELECT po_id, buyer_id, department_id, category_id, supplier_id, order_date,
                       date_trunc('year', order_date) AS yr,
                       lag(supplier_id) OVER (PARTITION BY buyer_id, category_id ORDER BY order_date, po_id) AS prev
                FROM purchase_orders WHERE tender_id IS NULL {single}),
            mkt AS (  -- probability that two orders drawn from the market go to different suppliers
                SELECT yr, category_id, 1 - sum(power(k / n, 2)) AS q
                FROM (SELECT yr, category_id, count(*) AS k, sum(count(*)) OVER (PARTITION BY yr, category_id) AS n
                      FROM o GROUP BY yr, category_id, supplier_id)
                GROUP BY ALL)
            SELECT o.buyer_id AS entity_id, o.buyer_id AS employee_id, o.yr AS period,
                   mode(o.department_id ORDER BY o.department_id) AS department_id, count(*) AS n_orders,
                   count(*) FILTER (o.prev IS NOT NULL AND o.prev <> o.supplier_id) AS n_switches,
                   sum(m.q) FILTER (o.prev IS NOT NULL) AS expected,
                   sum(m.q * (1 - m.q)) FILTER (o.prev IS NOT NULL) AS variance,
                   list(o.po_id ORDER BY o.order_date, o.po_id)
                       FILTER (o.prev IS NOT NULL AND o.prev <> o.supplier_id) AS evidence
            FROM o JOIN mkt m USING (yr, category_id)
            GROUP BY o.buyer_id, o.yr
            HAVING sum(m.q * (1 - m.q)) FILTER (o.prev IS NOT NULL) > 0""")
        df = df[df.n_switches >= self.params.min_switches].reset_index(drop=True)
        df["value"] = (df.n_switches - df.expected) / np.sqrt(df.variance)
        return df.drop(columns="variance")


@register
class NewSupplierAward(Indicator):
    """A supplier given business without competition soon after (or even before) it was registered."""

    id = "PRC-006"
    title_zh = "新注册供应商短期内获得订单"
    title_en = "Supplier registered shortly before its first award"
    entity = "supplier"
    tables = ("suppliers", "purchase_orders")
    severity = 2
    direction = "low"
    why = ("A company set up weeks before it is handed orders — with no track record, often by a relative or front of an "
           "insider — is a classic vehicle for kickbacks and diverted funds (关联公司、空壳公司). A new company that wins an "
           "open tender against established bidders is ordinary market entry, so competitive awards do not count.")
    source = ("OCP Red Flags for Integrity (2016): 'supplier was recently established'; World Bank INT, Fraud and Corruption "
              "Awareness Handbook (2013), 'newly formed company'; 袁畅, 数字赋能基层纪检监察与思政工作协同, §1.1 (异常交易).")
    methodology = ("Awards are purchase orders (dated by order date) and tender wins (dated by close date, where the tenders "
                   "table is there). An award is competitive when it came through a tender with at least `min_bids` bids "
                   "(counted in the bids table; without it no award counts as competitive). The value is the number of days "
                   "between the supplier's registration and its first non-competitive award — negative when the order "
                   "predates the registration. It fires at or below `threshold` days.")
    example = ("S1 registered on 2024-01-01 receives a direct order on 2024-02-15: value 45, fires. S2, registered the same "
               "day, wins an open tender with four bids on 2024-03-01 and has no other award: not scored.")
    output = ("value: days from registration to the first non-competitive award; evidence: the non-competitive awards within "
              "`threshold` days of registration (the first at least).")
    exclusions = "Suppliers whose every award came through a competitive tender; suppliers without awards."
    reason_zh = "供应商于{registration_date:%Y-%m-%d}注册，{gap_zh}即未经竞争获得首笔业务（{first_award_id}）"
    reason_en = ("the supplier, registered on {registration_date:%Y-%m-%d}, got its first award without competition {gap_en} "
                 "({first_award_id})")

    class Params(Params):
        threshold: float = 180.0
        min_bids: int = 3

    def compute(self, data: Dataset) -> pd.DataFrame:
        p = self.params
        n_bids = ("SELECT tender_id, count(DISTINCT supplier_id) AS n FROM bids GROUP BY tender_id" if data.has("bids")
                  else "SELECT NULL::VARCHAR AS tender_id, 0 AS n WHERE false")
        wins = ("UNION ALL SELECT tender_id, winner_supplier_id, close_date, tender_id, department_id, NULL FROM tenders "
                "WHERE winner_supplier_id IS NOT NULL" if data.has("tenders") else "")
        df = data.sql(f"""
            WITH nb AS ({n_bids}),
            award AS (
                SELECT po_id AS award_id, supplier_id, order_date AS award_date, tender_id, department_id, buyer_id
                FROM purchase_orders {wins}),
            open_award AS (  -- awards not won in a competitive tender
                SELECT a.*, s.registration_date FROM award a JOIN suppliers s USING (supplier_id)
                LEFT JOIN nb USING (tender_id)
                WHERE a.tender_id IS NULL OR coalesce(nb.n, 0) < {int(p.min_bids)})
            SELECT supplier_id AS entity_id, supplier_id, any_value(registration_date) AS registration_date,
                   min(award_date) AS period,
                   datediff('day', any_value(registration_date), min(award_date))::DOUBLE AS value,
                   arg_min(award_id, (award_date, award_id)) AS first_award_id,
                   arg_min(department_id, (award_date, award_id)) AS department_id,
                   arg_min(buyer_id, (award_date, award_id)) AS employee_id,
                   list(award_id ORDER BY award_date, award_id) FILTER (
                       datediff('day', registration_date, award_date) <= {float(p.threshold)}) AS evidence
            FROM open_award GROUP BY supplier_id""")
        df["evidence"] = [list(e) if isinstance(e, (list, np.ndarray)) and len(e) else [f]
                          for e, f in zip(df.evidence, df.first_award_id)]  # per supplier, not per transaction
        days = df.value.abs().astype(int).astype(str)
        df["gap_zh"] = np.where(df.value >= 0, "注册后" + days + "天", "注册前" + days + "天")
        df["gap_en"] = np.where(df.value >= 0, days + " days after registering", days + " days before registering")
        return df


@register
class SpendConcentration(Indicator):
    """A buyer whose year's spend is concentrated on few suppliers, compared with buyers in the same post."""

    id = "PRC-007"
    title_zh = "采购人支出集中于少数供应商"
    title_en = "Buyer's spend concentrated on few suppliers"
    entity = "employee"
    grain = "year"
    tables = ("purchase_orders",)
    severity = 2
    threshold_method = "given"
    why = ("When most of what one person buys goes to one or two companies, the relationship deserves a look: steady "
           "business is what a kickback buys (长期固定供应商、利益输送). Posts buy differently — a station manager buys coal "
           "and jute from a handful of local suppliers, a procurement officer buys everything — so each buyer is compared "
           "with others in the same post.")
    source = ("OECD (2016), Preventing Corruption in Public Procurement, risk indicators of supplier concentration; "
              "Fazekas, Tóth & King (2016), 'An Objective Corruption Risk Index Using Public Procurement Data', European "
              "Journal on Criminal Policy and Research 22:369–397 (supplier concentration); the Herfindahl–Hirschman index "
              "and its 0.25 (2,500) 'highly concentrated' mark: U.S. DOJ/FTC Horizontal Merger Guidelines (2010), §5.3.")
    methodology = ("Per buyer and year with at least `min_orders` orders, the Herfindahl–Hirschman index of their spend over "
                   "suppliers, HHI = Σ s², s the supplier's share of the buyer's spend (1/n for n equal suppliers, 1 for one "
                   "supplier). Buyers are grouped by the post they held at most of those orders (post_history and positions, "
                   "where present); the threshold is the Tukey fence Q3 + `fence_k`×IQR of the HHIs of the same post "
                   "in that year and the years before (all such buyer-years when the post has fewer than `min_peers`), never below "
                   "`min_threshold` (0.25, where merger practice calls a market 'highly concentrated').")
    example = ("A procurement officer with 40 orders, 45 % of the spend with S1 and the rest spread over 20 suppliers: "
               "HHI ≈ 0.32 where the officers' fence is 0.25: fires. A station manager buying coal and jute "
               "from five local suppliers (HHI 0.22): silent.")
    output = "value: HHI (0–1); evidence: the buyer's orders with the top supplier; supplier_id: that supplier."
    exclusions = "Buyer-years with fewer than `min_orders` orders."
    reason_zh = ("{period:%Y}年采购支出集中度HHI={value:.2f}（{peers_zh}阈值{threshold:.2f}），"
                 "{top_share:.0%}支出流向供应商{supplier_id}（共{n_orders}笔订单、{n_suppliers}家供应商）")
    reason_en = ("in {period:%Y} their spend had HHI {value:.2f} ({peers_en} threshold {threshold:.2f}); {top_share:.0%} went to "
                 "supplier {supplier_id} ({n_orders} orders, {n_suppliers} suppliers)")

    class Params(Params):
        min_orders: int = 10
        fence_k: float = 1.5
        min_threshold: float = 0.25
        min_peers: int = 8

    def compute(self, data: Dataset) -> pd.DataFrame:
        p = self.params
        post = ("""SELECT o.po_id, pos.post_code FROM purchase_orders o
                   JOIN post_history h ON h.employee_id = o.buyer_id AND o.order_date >= h.start_date
                                      AND (h.end_date IS NULL OR o.order_date <= h.end_date)
                   JOIN positions pos USING (position_id)""" if data.has("post_history", "positions")
                else "SELECT NULL::VARCHAR AS po_id, NULL::VARCHAR AS post_code WHERE false")
        df = data.sql(f"""
            WITH o AS (SELECT po.*, date_trunc('year', po.order_date) AS yr, pp.post_code
                       FROM purchase_orders po LEFT JOIN ({post}) pp USING (po_id)),
            bs AS (SELECT buyer_id, yr, supplier_id, sum(amount) AS amt, list(po_id ORDER BY po_id) AS ids
                   FROM o GROUP BY ALL),
            bt AS (SELECT buyer_id, yr, sum(amount) AS tot, count(*) AS n_orders, mode(post_code ORDER BY post_code) AS post_code,
                          mode(department_id ORDER BY department_id) AS department_id
                   FROM o GROUP BY ALL HAVING count(*) >= {int(p.min_orders)} AND sum(amount) > 0)
            SELECT bt.buyer_id AS entity_id, bt.buyer_id AS employee_id, bt.yr AS period, bt.department_id, bt.post_code,
                   bt.n_orders, count(*) AS n_suppliers, sum(power(bs.amt / bt.tot, 2)) AS value,
                   max(bs.amt) / any_value(bt.tot) AS top_share, arg_max(bs.supplier_id, (bs.amt, bs.supplier_id)) AS supplier_id,
                   arg_max(bs.ids, (bs.amt, bs.supplier_id)) AS evidence
            FROM bt JOIN bs USING (buyer_id, yr)
            GROUP BY bt.buyer_id, bt.yr, bt.department_id, bt.post_code, bt.n_orders""")
        if df.empty:
            return df
        df["threshold"] = _tukey_fence(df.value, df.post_code, p.fence_k, p.min_threshold, p.min_peers, pd.to_datetime(df.period))
        own = df.post_code.map(df.post_code.value_counts()).fillna(0) >= p.min_peers
        df["peers_zh"] = np.where(own, "同岗位", "全体采购人")
        df["peers_en"] = np.where(own, "same-post", "all-buyer")
        return df


@register
class PriceAboveMarket(Indicator):
    """An order whose unit price stands well above the category's market reference price for its month."""

    id = "PRC-008"
    title_zh = "采购单价高于市场价"
    title_en = "Unit price above the market reference"
    entity = "purchase_order"
    tables = ("purchase_orders", "market_prices")
    severity = 2
    threshold_method = "given"
    why = ("Paying well above the going rate is how a kickback is usually funded: the supplier inflates the price and "
           "returns part of the margin (虚高定价、利益输送). The paper names bid prices compared with the market average as "
           "a bribery signal. Categories differ in how far prices normally stray from the reference, so the cut-off is "
           "learnt per category.")
    source = ("袁畅, 数字赋能基层纪检监察与思政工作协同, §1.1 (投标价格与市场均价比对); OCP Red Flags for Integrity (2016): "
              "'contract price significantly above market price'.")
    methodology = ("value = unit_price / reference_unit_price − 1, the reference being the market price of the order's "
                   "category in the order's month. The threshold of each category is the Tukey fence Q3 + `fence_k`×IQR of "
                   "its orders' values up to the end of the order's quarter (the fence of all such orders where the category has "
                   "fewer than `min_category_orders`), never below `min_threshold`.")
    example = ("Compound fertiliser at 4,384 a tonne in a month whose reference is 3,200: value 0.37; the category's "
               "fence is 0.13, floored to 0.15: fires.")
    output = "value: relative price premium (0.37 = 37 % above the reference); threshold: the category's fence."
    exclusions = "Orders of a category or month without a reference price, or with a zero reference or quantity."
    reason_zh = "单价高于同类市场均价{value:.0%}（类别：{category_zh}）"
    reason_en = "unit price {value:.0%} above the market reference (category: {category_en})"

    class Params(Params):
        fence_k: float = 1.5
        min_threshold: float = 0.15
        min_category_orders: int = 20

    def compute(self, data: Dataset) -> pd.DataFrame:
        p = self.params
        df = data.sql(f"""
            SELECT po.po_id AS entity_id, po.order_date AS period, po.buyer_id AS employee_id, po.department_id,
                   po.supplier_id, po.category_id, c.category_zh, c.category_en, po.unit_price, m.reference_unit_price,
                   po.unit_price / m.reference_unit_price - 1 AS value, po.po_id AS evidence
            FROM purchase_orders po
            JOIN market_prices m ON m.category_id = po.category_id AND m.month = date_trunc('month', po.order_date)
            LEFT JOIN ({_category_names(data)}) c ON c.category_id = po.category_id
            WHERE m.reference_unit_price > 0 AND po.quantity > 0""")
        if df.empty:
            return df
        for col in ("category_zh", "category_en"):  # an order whose category the categories table lacks: its id
            df[col] = df[col].fillna(df.category_id)
        df["threshold"] = _tukey_fence(df.value, df.category_id, p.fence_k, p.min_threshold, p.min_category_orders,
                                       pd.to_datetime(df.period))
        return df


@register
class InvoiceBeforeOrder(Indicator):
    """An order whose supplier invoice is dated before the order itself."""

    id = "PRC-009"
    title_zh = "发票日期早于订单"
    title_en = "Invoice dated before its order"
    entity = "purchase_order"
    tables = ("purchase_orders", "invoices")
    severity = 2
    why = ("An invoice cannot precede the order it bills unless the order was raised after the fact to cover a purchase "
           "already agreed off the books — or the goods and the invoice are fictitious (虚开发票, 先票后单). Either way the "
           "approval chain was bypassed.")
    source = ("ACFE Fraud Examiners Manual, billing schemes (invoices predating purchase orders); 《中华人民共和国发票管理办法》 "
              "(不得虚开与实际经营业务情况不符的发票).")
    methodology = ("value = order date − earliest invoice date of the order, in days. It fires when the invoice came at least "
                   "`threshold` days before the order.")
    example = ("Order on 2024-03-20, invoice dated 2024-03-08: value 12, fires. Invoice on the order day (a shop sale): "
               "value 0, silent.")
    output = "value: days the first invoice precedes the order; evidence: the invoices dated before the order."
    exclusions = "Orders without invoices."
    reason_zh = "发票（{first_invoice_id}）开具日期早于订单{value:.0f}天"
    reason_en = "invoice {first_invoice_id} is dated {value:.0f} days before the order"

    class Params(Params):
        threshold: float = 1.0

    def compute(self, data: Dataset) -> pd.DataFrame:
        return data.sql("""
            SELECT po.po_id AS entity_id, po.order_date AS period, po.buyer_id AS employee_id, po.department_id, po.supplier_id,
                   datediff('day', min(i.invoice_date), po.order_date)::DOUBLE AS value,
                   arg_min(i.invoice_id, (i.invoice_date, i.invoice_id)) AS first_invoice_id,
                   coalesce(list(i.invoice_id ORDER BY i.invoice_date, i.invoice_id) FILTER (i.invoice_date < po.order_date),
                            []) AS evidence
            FROM purchase_orders po JOIN invoices i USING (po_id)
            GROUP BY po.po_id, po.order_date, po.buyer_id, po.department_id, po.supplier_id""")


@register
class PaymentWithoutReceipt(Indicator):
    """An order paid before its goods were received, or paid with no goods receipt at all."""

    id = "PRC-010"
    title_zh = "未收货先付款"
    title_en = "Payment without goods receipt"
    entity = "purchase_order"
    tables = ("purchase_orders", "payments", "goods_receipts")
    severity = 3
    why = ("Three-way matching (order, receipt, invoice) is the control that stops paying for goods that never arrived. "
           "Money paid with no receipt on record — or before anything was received — is how fictitious purchases from a "
           "related company are cashed out.")
    source = ("COSO Internal Control — Integrated Framework (2013), control activities (three-way match); 财政部等《企业内部"
              "控制应用指引第7号——采购业务》(财会〔2010〕11号), 验收与付款.")
    methodology = ("Per paid order: the first payment date and the first goods-receipt date. value = days from the first "
                   "payment to the first receipt; where no receipt exists, days from the first payment to the last date in "
                   "the receipts and payments tables (how long it has stayed unreceived). It fires at `threshold` days.")
    example = ("Paid on 2024-04-01, nothing received by the end of the data (2024-06-30): value 90, fires. Paid after the "
               "goods were received: value ≤ 0, silent.")
    output = "value: days paid ahead of (or without) a receipt; evidence: the payments."
    exclusions = ("Unpaid orders; orders of the `exempt_categories` (services that leave no goods receipt, where a company "
                  "records none); advance payments agreed in a contract are not visible in the data and must be "
                  "checked by the reviewer.")
    reason_zh = "订单已于{first_payment:%Y-%m-%d}付款{paid:,.0f}元，{status_zh}"
    reason_en = "the order was paid {paid:,.0f} on {first_payment:%Y-%m-%d}, {status_en}"

    class Params(Params):
        threshold: float = 1.0
        exempt_categories: tuple[str, ...] = ()

    def compute(self, data: Dataset) -> pd.DataFrame:
        exempt = ", ".join("'" + c.replace("'", "''") + "'" for c in self.params.exempt_categories)
        where = f"WHERE po.category_id IS NULL OR po.category_id NOT IN ({exempt})" if exempt else ""
        df = data.sql(f"""
            WITH pay AS (SELECT po_id, min(payment_date) AS first_payment, sum(amount) AS paid,
                                list(payment_id ORDER BY payment_date, payment_id) AS evidence
                         FROM payments GROUP BY po_id),
            rec AS (SELECT po_id, min(receipt_date) AS first_receipt FROM goods_receipts GROUP BY po_id),
            data_end AS (SELECT max(d) AS d FROM (SELECT max(payment_date) AS d FROM payments
                                              UNION ALL SELECT max(receipt_date) FROM goods_receipts))
            SELECT po.po_id AS entity_id, pay.first_payment AS period, po.buyer_id AS employee_id, po.department_id,
                   po.supplier_id, pay.first_payment, pay.paid, rec.first_receipt,
                   datediff('day', pay.first_payment, coalesce(rec.first_receipt, data_end.d))::DOUBLE AS value, pay.evidence
            FROM purchase_orders po JOIN pay USING (po_id) LEFT JOIN rec USING (po_id) CROSS JOIN data_end
            {where}""")
        none = df.first_receipt.isna()
        n = df.value.fillna(0).astype(int).astype(str)
        df["status_zh"] = np.where(none, "至今无收货记录", "比首次收货早" + n + "天")
        df["status_en"] = np.where(none, "with no goods receipt on record", n + " days before any goods were received")
        return df


@register
class RoundAmount(Indicator):
    """An order whose total is a round number that its unit price and quantity do not explain."""

    id = "PRC-011"
    title_zh = "订单金额为整数且与单价数量不符"
    title_en = "Round order amount not explained by price and quantity"
    entity = "purchase_order"
    tables = ("purchase_orders",)
    severity = 1
    why = ("Genuine purchases are priced per unit, so their totals rarely end in 000; a round total (30,000.00) split over "
           "an odd quantity at an odd unit price (7 × 4,285.71) suggests the sum was agreed first and the order dressed "
           "around it — a typical mark of fabricated or padded purchases. Categories priced in round units (a print run at "
           "3,000, office supplies at 1,500 a lot) give round totals honestly; those are recognised from the unit price.")
    source = ("Nigrini, M. J. (2011), Forensic Analytics: Methods and Techniques for Forensic Accounting Investigations, "
              "Wiley (round numbers and the last-digits tests); ACFE Fraud Examiners Manual (round-dollar disbursements).")
    methodology = ("For the amount, the unit price and the quantity, the number of trailing zeros in whole yuan (30,000 → 4; "
                   "1,500 → 2; 20 → 1; 4,285.71 → 0). value = zeros(amount) − zeros(unit price) − zeros(quantity): the "
                   "roundness of the total that its factors do not account for. It fires at `threshold` (3: a total ending "
                   "in 000 beyond what the price and quantity give).")
    example = ("30,000.00 for 7 units at 4,285.71: 4 − 0 − 0 = 4, fires. 30,000.00 for 20 lots of office supplies at 1,500: "
               "4 − 2 − 1 = 1, silent.")
    output = "value: unexplained trailing zeros of the amount."
    exclusions = ("Orders placed through a tender (bids are quoted as totals, so the unit price is derived from a round "
                  "total honestly). Lump sums of quantity 1 at a round price (a service contract at 50,000) carry their "
                  "price's roundness and are not flagged: the test cannot tell them from honest ones. Amounts under 1,000 "
                  "cannot reach the default threshold.")
    reason_zh = "订单金额{amount:,.0f}元为整数，但单价{unit_price:,.2f}元×数量{quantity:g}不能自然得出"
    reason_en = ("the order amount {amount:,.0f} is round, which unit price {unit_price:,.2f} × quantity {quantity:g} "
                 "does not explain")

    class Params(Params):
        threshold: float = 3.0

    def compute(self, data: Dataset) -> pd.DataFrame:
        df = data.sql("""
            SELECT po_id AS entity_id, order_date AS period, buyer_id AS employee_id, department_id, supplier_id,
                   amount, unit_price, quantity, po_id AS evidence
            FROM purchase_orders WHERE amount > 0 AND tender_id IS NULL""")
        df["value"] = (_trailing_zeros(df.amount) - _trailing_zeros(df.unit_price) - _trailing_zeros(df.quantity)).astype(float)
        return df


NIGRINI_FIRST_DIGIT = ((0.006, "高度符合", "close conformity"), (0.012, "可接受的符合", "acceptable conformity"),
                       (0.015, "边际可接受", "marginally acceptable conformity"), (np.inf, "不符合", "nonconformity"))


@register
class BenfordFirstDigit(Indicator):
    """A buyer whose order amounts' first digits stray from Benford's law (Nigrini's MAD test)."""

    id = "PRC-012"
    title_zh = "采购金额首位数字偏离本福特定律"
    title_en = "Order amounts deviate from Benford's law"
    entity = "employee"
    grain = "year"
    tables = ("purchase_orders",)
    severity = 1
    threshold_method = "given"
    why = ("Amounts produced by real prices times real quantities follow Benford's law: about 30 % start with 1, under 5 % "
           "with 9. Invented or manipulated amounts — totals kept just under a limit, figures made up to fit — favour some "
           "leading digits, and a buyer's amounts as a whole drift from the law. It is a screen for where to look, "
           "never proof.")
    source = ("Nigrini, M. J. (2012), Benford's Law: Applications for Forensic Accounting, Auditing, and Fraud Detection, "
              "Wiley (first-digit test; MAD conformity ranges 0.006 / 0.012 / 0.015 for close, acceptable, marginally "
              "acceptable, above that nonconformity).")
    methodology = ("Per buyer and year, the order amounts of at least `min_amount` yuan (smaller ones are dropped as Nigrini "
                   "advises); buyer-years with fewer than `min_amounts` amounts are not scored. value = MAD = mean over the "
                   "digits 1–9 of |observed share − log10(1 + 1/d)|. The threshold is Nigrini's nonconformity cut-off "
                   "(`cutoffs`[2], 0.015), raised for small samples to the MAD that `alpha` of samples of the same size drawn "
                   "from Benford's law itself exceed (simulated, fixed seed): Nigrini's ranges assume large data sets, and 50 "
                   "genuine amounts already have an expected MAD near 0.033.")
    example = ("A buyer with 400 orders in a year, a quarter of them starting with 8 or 9: MAD 0.031 against the threshold "
               "of 0.020 for 400 amounts: fires. A buyer with 60 ordinary orders and MAD 0.040: under the threshold of 0.052 "
               "for 60 amounts, silent.")
    output = "value: first-digit MAD; threshold: max(0.015, the small-sample critical MAD)."
    exclusions = "Amounts under `min_amount`; buyer-years with fewer than `min_amounts` amounts."
    reason_zh = "{period:%Y}年{n_amounts}笔采购金额的首位数字偏离本福特分布（MAD={value:.3f}，{conformity_zh}；阈值{threshold:.3f}）"
    reason_en = ("in {period:%Y} the first digits of their {n_amounts} order amounts deviate from Benford's law "
                 "(MAD {value:.3f}, {conformity_en}; threshold {threshold:.3f})")

    class Params(Params):
        min_amounts: int = 50
        min_amount: float = 10.0
        cutoffs: tuple[float, float, float] = (0.006, 0.012, 0.015)
        alpha: float = 0.01

    def compute(self, data: Dataset) -> pd.DataFrame:
        p = self.params
        df = data.sql(f"""
            WITH a AS (
                SELECT buyer_id, department_id, date_trunc('year', order_date) AS yr,
                       CAST(left(printf('%.6e', amount), 1) AS INTEGER) AS digit
                FROM purchase_orders WHERE amount >= {float(p.min_amount)}),
            n AS (SELECT buyer_id, yr, count(*) AS n_amounts, mode(department_id ORDER BY department_id) AS department_id
                  FROM a GROUP BY ALL HAVING count(*) >= {int(p.min_amounts)}),
            d AS (SELECT buyer_id, yr, digit, count(*) AS k FROM a GROUP BY ALL)
            SELECT n.buyer_id AS entity_id, n.buyer_id AS employee_id, n.yr AS period, n.department_id, n.n_amounts,
                   sum(abs(coalesce(d.k, 0) / n.n_amounts - log10(1 + 1 / g.digit))) / 9 AS value
            FROM n CROSS JOIN range(1, 10) g(digit)
            LEFT JOIN d ON d.buyer_id = n.buyer_id AND d.yr = n.yr AND d.digit = g.digit
            GROUP BY n.buyer_id, n.yr, n.department_id, n.n_amounts""")
        if df.empty:
            return df
        crit = {n: _benford_mad_quantile(int(n), 1 - p.alpha) for n in df.n_amounts.unique()}  # per sample size
        df["threshold"] = np.maximum(p.cutoffs[2], df.n_amounts.map(crit).astype(float))
        bounds = np.array([c for c, _, _ in NIGRINI_FIRST_DIGIT[:3]])
        k = np.searchsorted(bounds, df.value.to_numpy(), side="left")
        df["conformity_zh"] = np.array([z for _, z, _ in NIGRINI_FIRST_DIGIT])[k]
        df["conformity_en"] = np.array([e for _, _, e in NIGRINI_FIRST_DIGIT])[k]
        return df
