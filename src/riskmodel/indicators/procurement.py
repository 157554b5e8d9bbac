"""Procurement red flags (``PRC-…``): budget, splitting, approvals, suppliers, prices, the document chain."""

from __future__ import annotations

import pandas as pd

from riskmodel.data.dataset import Dataset
from riskmodel.indicators.base import Indicator, Params
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
    reason_zh = "该订单使预算科目{budget_line_id}累计支出达到预算的{value:.0%}"
    reason_en = "this order takes budget line {budget_line_id} to {value:.0%} of its budget"

    class Params(Params):
        threshold: float = 1.0

    def compute(self, data: Dataset) -> pd.DataFrame:
        return data.sql("""
            SELECT po.po_id AS entity_id, po.order_date AS period, po.buyer_id AS employee_id, po.department_id,
                   po.supplier_id, r.budget_line_id,
                   sum(po.amount) OVER (PARTITION BY r.budget_line_id ORDER BY po.order_date, po.po_id
                                        ROWS UNBOUNDED PRECEDING) / nullif(b.amount, 0) AS value,
                   [po.po_id] AS evidence
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
    reason_zh = "{n_orders}笔同一采购人向同一供应商的订单在{window}天内合计达限额的{value:.1f}倍，单笔均低于限额"
    reason_en = "{n_orders} orders by one buyer to one supplier within {window} days add up to {value:.1f}x the limit, each under it"

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
                   list(po_id) OVER win AS evidence,
                   {w} AS window
            FROM small
            WINDOW win AS (PARTITION BY buyer_id, supplier_id ORDER BY order_date
                           RANGE BETWEEN INTERVAL {w} DAYS PRECEDING AND CURRENT ROW)""")
        df.loc[df.n_orders < self.params.min_orders, "value"] = 0.0
        return df
