"""Tender and bid red flags (``BID-…``): single bids, repeated winners, awards above the market, bid-rigging screens,
co-bidding rotation.

The screen indicators (BID-004 … BID-010) wrap the pure functions of :mod:`riskmodel.indicators.screens` (Huber &
Imhof 2019; Imhof 2019; Imhof, Karagök & Rutz 2018) as catalogue entries on the ``tenders``/``bids`` tables: one row
per tender with enough bids, the tender's bid ids as evidence, its winner as ``supplier_id`` and its department as
``department_id``.  Each screen alone is weak evidence; they are meant to be read together (and by the scoring models)
and then by a person who opens the bid file.  The screens and the rotation indicator (BID-011) describe what the
bidders did, so they name no employee; the single-bid and price indicators (BID-001, BID-003) also link the requester
of the tender's requisition as ``employee_id`` where requisitions are loaded, because there the buyer's side decides.

Every indicator except BID-003 leaves out single-source procurement (method ``single_source`` or a category whose
``categories.single_source`` is true): one bid there is what the law allows (《政府采购法》第三十一条), not a failed
competition.  BID-003 keeps it: a sole supplier charging far above the market is worth a look.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pandas as pd
from scipy.stats import hypergeom

from riskmodel.data.dataset import Dataset
from riskmodel.indicators.base import Indicator, Params, dataset_cache
from riskmodel.indicators.registry import register
from riskmodel.indicators.screens import SCREENS

_LAW_28 = "《招标投标法》第二十八条 (fewer than three bidders: re-tender)"
_LAW_40 = "《招标投标法实施条例》第三十九条、第四十条 (collusive bidding; bids in a regular pattern presumed collusive)"
_IMHOF = ("Imhof, D. (2019), Detecting bid-rigging cartels with descriptive statistics, Journal of Competition Law & "
          "Economics 15(4); Huber, M. & Imhof, D. (2019), Machine learning with screens for detecting bid-rigging cartels, "
          "International Journal of Industrial Organization 65:277–301")
_IKR = ("Imhof, D., Karagök, Y. & Rutz, S. (2018), Screening for bid rigging — does it work?, Journal of Competition Law & "
        "Economics 14(2):235–261")


# -- shared queries -------------------------------------------------------------------------------

def _single_source_sql(data: Dataset, alias: str = "t") -> tuple[str, str]:
    """(join, predicate): whether a tender is single-source procurement, by method or by category."""
    if data.has("categories"):
        return (f"LEFT JOIN categories c ON c.category_id = {alias}.category_id",
                f"({alias}.method = 'single_source' OR coalesce(c.single_source, false))")
    return "", f"({alias}.method = 'single_source')"


def _named(df: pd.DataFrame, data: Dataset) -> pd.DataFrame:
    """``df`` with ``category_zh`` and ``category_en``: the category's names for the reason texts (its id where the
    categories table does not name it)."""
    if df is None or "category_id" not in df:
        return df
    names = (data.table("categories").set_index("category_id") if data.has("categories")
             else pd.DataFrame(columns=["name_zh", "name_en"]))
    ids = df.category_id.astype(object)
    out = df.copy()
    for lang in ("zh", "en"):
        col = names.get(f"name_{lang}", pd.Series(dtype=object))
        out[f"category_{lang}"] = ids.map(col).where(lambda v: v.notna() & (v.astype(str) != ""), ids)
    return out


def _tender_facts(data: Dataset) -> str:
    """SQL for one row per tender: dates, links (winner, department, requester) and the single-source flag."""
    cat_join, single = _single_source_sql(data)
    req_col, req_join = ("r.requester_id", "LEFT JOIN requisitions r ON r.requisition_id = t.requisition_id") \
        if data.has("requisitions") else ("CAST(NULL AS VARCHAR)", "")
    win_col, win_join = ("w.supplier_id", """LEFT JOIN (SELECT tender_id, min(supplier_id) AS supplier_id FROM bids
                                              WHERE is_winner GROUP BY tender_id) w ON w.tender_id = t.tender_id""") \
        if data.has("bids") else ("CAST(NULL AS VARCHAR)", "")
    return f"""
        SELECT t.tender_id, t.close_date AS period, t.department_id, t.category_id, t.method, t.quantity,
               t.estimated_amount, t.awarded_amount, coalesce(t.winner_supplier_id, {win_col}) AS supplier_id,
               {req_col} AS employee_id, {single} AS single_source
        FROM tenders t {cat_join} {req_join} {win_join}"""


def _competitive_bids(data: Dataset) -> pd.DataFrame:
    """Bids with a positive amount in tenders that are not single-source (one row per bid)."""
    cat_join, single = _single_source_sql(data)
    return data.sql(f"""
        SELECT b.bid_id, b.tender_id, b.supplier_id, b.bid_amount, b.is_winner
        FROM bids b JOIN tenders t ON t.tender_id = b.tender_id {cat_join}
        WHERE b.bid_amount > 0 AND NOT {single}""")


# -- single bids, repeated winners, prices ------------------------------------------------------------

@register
class SingleBid(Indicator):
    """Competitive tender awarded on a single bid (BID-001)."""

    id = "BID-001"
    title_zh = "单一投标人中标"
    title_en = "Tender awarded on a single bid"
    entity = "tender"
    tables = ("tenders", "bids", "categories")
    severity = 2
    direction = "low"
    threshold_method = "policy"
    why = ("A tender that draws one bid had no competition: the specification or the notice may have been tailored to "
           "one supplier, or other firms were kept out (未招先定、明招暗定). Single bidding is the core of objective "
           "corruption-risk indices in public procurement, and Chinese law requires a tender with fewer than three "
           "bidders to be re-run.")
    source = (f"{_LAW_28}; Fazekas, M., Tóth, I. J. & King, L. P. (2016), An objective corruption risk index using public "
              "procurement data, European Journal on Criminal Policy and Research 22:369–397; OCP Red Flags for "
              "Integrity (2016): only one bid received.")
    methodology = ("Counts the bids of each awarded tender; the value is that count. It fires when the count is at most "
                   "`threshold` (1: a single bid; 2 applies the law's 'fewer than three bidders' rule).")
    example = "An open tender for compound fertiliser closes with one bid, which wins: value 1, fires."
    output = "value: number of bids; evidence: the bid ids; supplier_id: the winner."
    exclusions = ("Single-source procurement (method `single_source`, or a category marked `single_source`: a patented "
                  "machine part, the one licensed testing lab) — one bid is expected there; tenders with no bid or no "
                  "winner (failed tenders, re-tendered).")
    reason_zh = "招标（{category_zh}类）仅收到{value:.0f}份投标即定标，且不属于单一来源采购"
    reason_en = "the tender ({category_en}) was awarded on {value:.0f} bid(s) and is not single-source procurement"

    class Params(Params):
        threshold: float = 1.0

    def compute(self, data: Dataset) -> pd.DataFrame:
        return _named(data.sql(f"""
            WITH tf AS ({_tender_facts(data)})
            SELECT tf.tender_id AS entity_id, tf.period, tf.department_id, tf.supplier_id, tf.employee_id, tf.category_id,
                   count(*)::DOUBLE AS value, list(b.bid_id ORDER BY b.bid_id) AS evidence
            FROM tf JOIN bids b ON b.tender_id = tf.tender_id
            WHERE NOT tf.single_source AND tf.supplier_id IS NOT NULL
            GROUP BY ALL"""), data)


@register
class RepeatedWinner(Indicator):
    """A supplier winning an outsized share of a category's tenders in a year (BID-002)."""

    id = "BID-002"
    title_zh = "同一供应商反复中标"
    title_en = "Same supplier wins a category's tenders again and again"
    entity = "supplier"
    grain = "year"
    tables = ("tenders", "bids")
    severity = 2
    threshold_method = "policy"
    why = ("When one supplier wins most of a category's competitive tenders year after year, competition may be only on "
           "paper: a favoured supplier (利益输送), specifications written around it, or a ring that lets it win. "
           "Supervision practice lists 'the same winner again and again' among procurement red flags.")
    source = ("OCP Red Flags for Integrity (2016): the same supplier repeatedly wins; Fazekas, Tóth & King (2016), "
              "supplier concentration of a buyer's contracts.")
    methodology = ("Awarded, non-single-source tenders are grouped by category and calendar year of closing; a supplier's "
                   "value is the share of that category-year's tenders it won. It fires when the share reaches `threshold` "
                   "and the supplier won at least `min_wins` tenders (below that the value is set to 0: two wins out of "
                   "three tenders is not a pattern).")
    example = "Category C05 held 8 tenders in 2024 and S00015 won 5: value 0.625, fires (threshold 0.5, min_wins 3)."
    output = ("value: share of the category-year's tenders won; evidence: the tenders won; department_id: the department "
              "that ran most of them.")
    exclusions = ("Single-source tenders (the sole supplier wins by definition); suppliers with fewer than `min_wins` "
                  "wins in the category-year.")
    reason_zh = "{year}年在{category_zh}类{n_tenders}次招标中中标{wins}次（占{value:.0%}）"
    reason_en = "won {wins} of the {n_tenders} tenders for {category_en} of {year} ({value:.0%})"

    class Params(Params):
        threshold: float = 0.5
        min_wins: int = 3

    def compute(self, data: Dataset) -> pd.DataFrame:
        df = data.sql(f"""
            WITH tf AS (SELECT *, date_trunc('year', period) AS yr FROM ({_tender_facts(data)})
                        WHERE NOT single_source AND supplier_id IS NOT NULL),
                 n AS (SELECT category_id, yr, count(*) AS n_tenders FROM tf GROUP BY ALL)
            SELECT tf.supplier_id AS entity_id, tf.supplier_id, tf.yr AS period, year(tf.yr) AS year, tf.category_id,
                   count(*) AS wins, any_value(n.n_tenders) AS n_tenders,
                   count(*) / any_value(n.n_tenders) AS value, mode(tf.department_id ORDER BY tf.department_id) AS department_id,
                   list(tf.tender_id ORDER BY tf.period, tf.tender_id) AS evidence
            FROM tf JOIN n USING (category_id, yr)
            GROUP BY tf.supplier_id, tf.yr, tf.category_id""")
        df.loc[df.wins < self.params.min_wins, "value"] = 0.0
        return _named(df, data)


@register
class AwardAboveMarket(Indicator):
    """Winning price above the market reference price (BID-003)."""

    id = "BID-003"
    title_zh = "中标价高于市场参考价"
    title_en = "Winning price above the market reference"
    entity = "tender"
    tables = ("tenders",)
    severity = 3
    threshold_method = "iqr"
    why = ("A winning price well above what the market charges is how a kickback or a cartel's overcharge is paid for "
           "(中标价明显高于市场均价 — the paper's 'bid price vs market average' red flag for bribery). Competition should "
           "pull the winning bid to or under the reference, not above it.")
    source = ("袁畅, 数字赋能基层纪检监察与思政工作协同, §1.2 (对比招标价同市场均价查找可能的受贿之处); OCP Red Flags for Integrity (2016): "
              "winning bid too high compared with cost estimates.")
    methodology = ("value = awarded amount / (tendered quantity × the category's market reference unit price for the month "
                   "the bids closed). Where the category has no reference for that month (or the quantity is 0) the "
                   "tender's own estimated amount is the denominator instead, and the reason says so. The threshold is "
                   "Tukey's fence Q3 + `fence_k` × IQR of the tenders' ratios known by then, never below `min_threshold`.")
    example = "1,000 t at a reference of 3,000 CNY/t, awarded at 3.6 million: value 1.20; fence 1.12: fires."
    output = "value: winning price / market reference (1.20 = 20 % above); basis: market or estimate."
    exclusions = ("Tenders with no award, or with neither a market reference nor an estimate. Single-source tenders are "
                  "scored too: a sole supplier charging far above the market is exactly what to look at.")
    reason_zh = "中标价为{basis_zh}的{value:.0%}（{category_zh}类，阈值{threshold:.0%}）"
    reason_en = "the winning price is {value:.0%} of the {basis_en} ({category_en}; fence {threshold:.0%})"

    class Params(Params):
        fence_k: float = 1.5
        min_threshold: float = 1.05

    def compute(self, data: Dataset) -> pd.DataFrame:
        ref_join = ("LEFT JOIN market_prices m ON m.category_id = tf.category_id "
                    "AND m.month = date_trunc('month', tf.period)") if data.has("market_prices") else ""
        ref = "m.reference_unit_price" if ref_join else "CAST(NULL AS DOUBLE)"
        df = data.sql(f"""
            WITH tf AS ({_tender_facts(data)})
            SELECT tf.tender_id AS entity_id, tf.period, tf.department_id, tf.supplier_id, tf.employee_id, tf.category_id,
                   tf.awarded_amount / nullif(tf.quantity * {ref}, 0) AS by_market,
                   tf.awarded_amount / nullif(tf.estimated_amount, 0) AS by_estimate,
                   tf.tender_id AS evidence
            FROM tf {ref_join}
            WHERE tf.awarded_amount IS NOT NULL""")
        market = df.by_market.notna()
        df["value"] = df.by_market.where(market, df.by_estimate)
        df["basis_zh"] = np.where(market, "市场参考价", "招标预估金额")
        df["basis_en"] = np.where(market, "market reference price", "tender's own estimate")
        return _named(df[df.value.notna()].drop(columns=["by_market", "by_estimate"]), data)


# -- bid-rigging screens ------------------------------------------------------------------------------

_SCREEN_INPUTS = dataset_cache()


def _screen_inputs(data: Dataset) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The competitive bids and the per-tender facts every screen needs, read once per dataset (seven screens share them)."""
    if data not in _SCREEN_INPUTS:
        per_tender = data.sql(f"""
            WITH tf AS ({_tender_facts(data)})
            SELECT tf.tender_id AS entity_id, tf.period, tf.department_id, tf.supplier_id,
                   tf.category_id, count(*) AS n_bids, list(b.bid_id ORDER BY b.bid_amount, b.bid_id) AS evidence
            FROM tf JOIN bids b ON b.tender_id = tf.tender_id
            WHERE b.bid_amount > 0 AND NOT tf.single_source
            GROUP BY ALL""")
        _SCREEN_INPUTS[data] = (_competitive_bids(data), per_tender)
    bids, per_tender = _SCREEN_INPUTS[data]
    return bids, per_tender.copy()


class _ScreenIndicator(Indicator):
    """One screen of :mod:`riskmodel.indicators.screens` as a tender indicator (not registered itself)."""

    screen: ClassVar[str]
    entity = "tender"
    tables = ("tenders", "bids")
    severity = 1
    _common_exclusions = ("Tenders with fewer than `min_bids` bids (the screen is undefined or meaningless there; "
                          f"under {_LAW_28} such a tender should not have been awarded at all, which BID-001 covers); "
                          "single-source procurement; tenders where the screen's denominator is zero (tied bids), left "
                          "NaN by the screen and not scored.")

    def compute(self, data: Dataset) -> pd.DataFrame:
        bids, per_tender = _screen_inputs(data)
        if bids.empty:
            return pd.DataFrame()
        s = SCREENS[self.screen]
        values = s.func(bids, tender_col="tender_id", bid_col="bid_amount").rename("value")
        df = per_tender.merge(values, left_on="entity_id", right_index=True, how="inner")
        df = df[(df.n_bids >= max(self.params.min_bids, s.min_bids)) & df.value.notna()]
        return df.reset_index(drop=True)


@register
class BidCoefficientOfVariation(_ScreenIndicator):
    """Bids unusually close together: low coefficient of variation (BID-004)."""

    id = "BID-004"
    screen = "cv"
    title_zh = "投标报价变异系数异常低"
    title_en = "Bids unusually close together (coefficient of variation)"
    direction = "low"
    threshold_method = "percentile"
    why = ("Firms that agree who will win need not compete on price; their cover bids are written close together and the "
           "spread of all bids shrinks (the variance screen). Chinese tendering rules deem bid prices that differ in a "
           "regular pattern (投标报价呈规律性差异) to be collusion.")
    source = f"{_IMHOF}; {_LAW_40}."
    methodology = ("Coefficient of variation of a tender's bids, s / mean (sample standard deviation), from "
                   "`screens.cv`. Low is suspicious: it fires on the tenders in the lowest (100 − `percentile`) % of the "
                   "scored tenders' values (a Tukey fence below Q1 is negative for a quantity bounded at 0, so the tail "
                   "share is the data-derived cut).")
    example = "Bids 1,180,000 / 1,190,000 / 1,205,000 / 1,210,000: CV 1.2 %, in the lowest 5 % of tenders: fires."
    output = "value: CV of the bids (0.012 = 1.2 %); evidence: the bid ids, lowest first."
    exclusions = _ScreenIndicator._common_exclusions
    reason_zh = "{n_bids}份投标报价的变异系数仅{value:.1%}（阈值{threshold:.1%}），报价异常接近，疑似陪标"
    reason_en = ("the {n_bids} bids vary by only {value:.1%} (coefficient of variation; fence {threshold:.1%}): "
                 "unusually close, a sign of cover bids")

    class Params(Params):
        percentile: float = 95.0
        min_bids: int = 3


@register
class BidSpread(_ScreenIndicator):
    """Narrow range between the highest and lowest bid (BID-005)."""

    id = "BID-005"
    screen = "spd"
    title_zh = "投标报价极差率异常低"
    title_en = "Narrow spread between highest and lowest bid"
    direction = "low"
    threshold_method = "percentile"
    why = ("A narrow range between the highest and the lowest bid, like a low CV, shows bids that were coordinated rather "
           "than priced independently; unlike the CV it does not hide one far-off bid inside the average.")
    source = f"{_IMHOF}; {_LAW_40}."
    methodology = ("Spread (highest − lowest) / lowest from `screens.spd`. Low is suspicious: it fires on the lowest "
                   "(100 − `percentile`) % of the scored tenders.")
    example = "Bids 100, 101, 103, 104: spread 4 %, in the lowest 5 %: fires."
    output = "value: (max − min) / min of the bids; evidence: the bid ids."
    exclusions = _ScreenIndicator._common_exclusions
    reason_zh = "{n_bids}份投标的最高价仅比最低价高{value:.1%}（阈值{threshold:.1%}），报价区间异常狭窄"
    reason_en = ("the highest of {n_bids} bids is only {value:.1%} above the lowest (fence {threshold:.1%}): "
                 "an unusually narrow range")

    class Params(Params):
        percentile: float = 95.0
        min_bids: int = 3


@register
class BidDifferenceTwoLowest(_ScreenIndicator):
    """Large gap between the two lowest bids (BID-006)."""

    id = "BID-006"
    screen = "diffp"
    title_zh = "最低两价差率异常大"
    title_en = "Large gap between the two lowest bids"
    direction = "high"
    threshold_method = "iqr"
    why = ("A designated winner is made safe by cover bids placed well above it: the gap between the lowest and the "
           "second-lowest bid widens while the losing bids stay close (cover bidding, 陪标).")
    source = f"{_IMHOF}."
    methodology = ("(second-lowest − lowest) / lowest from `screens.diffp`; high is suspicious. Threshold: Tukey's fence "
                   "Q3 + `fence_k` × IQR of the scored tenders' values.")
    example = "Bids 100, 115, 116, 117: the winner is 15 % under the next bid, above the fence of 11 %: fires."
    output = "value: (b2 − b1) / b1; evidence: the bid ids, lowest first."
    exclusions = _ScreenIndicator._common_exclusions
    reason_zh = "最低价比次低价低{value:.1%}（阈值{threshold:.1%}），中标价与其余报价拉开异常距离，疑似陪标保中"
    reason_en = "the lowest bid is {value:.1%} below the next (fence {threshold:.1%}): a gap that protects a designated winner"

    class Params(Params):
        fence_k: float = 1.5
        min_bids: int = 3


@register
class BidRelativeDistance(_ScreenIndicator):
    """Relative distance of the two lowest bids (Imhof et al.) (BID-007)."""

    id = "BID-007"
    screen = "rd"
    title_zh = "最低两价相对距离异常大"
    title_en = "Relative distance of the two lowest bids"
    direction = "high"
    threshold_method = "iqr"
    why = ("The relative distance compares the gap between the two lowest bids with the dispersion of the losing bids. "
           "Under competition it is about 1; a cartel's cover bids are bunched above an isolated winner, so it grows "
           "(the cover-bidding screen that led the Swiss Competition Commission to a road-construction cartel).")
    source = f"{_IKR}; {_IMHOF}."
    methodology = ("(b2 − b1) / s(b2 … bn), the gap over the sample standard deviation of the losing bids, from "
                   "`screens.rd`; high is suspicious. Threshold: Q3 + `fence_k` × IQR of the scored tenders' values, "
                   "never below `min_threshold` (1: the gap at least as wide as the losers' spread).")
    example = "Bids 100, 110, 111, 112: gap 10, losing bids' s = 1: value 10, fires."
    output = "value: relative distance; evidence: the bid ids, lowest first."
    exclusions = _ScreenIndicator._common_exclusions + " Needs 3 bids (two losing bids for a dispersion)."
    reason_zh = "最低两价之差为其余报价标准差的{value:.1f}倍（阈值{threshold:.1f}），落标报价扎堆、中标价孤立"
    reason_en = ("the gap between the two lowest bids is {value:.1f}x the losing bids' standard deviation "
                 "(fence {threshold:.1f}): an isolated winner over bunched cover bids")

    class Params(Params):
        fence_k: float = 1.5
        min_threshold: float = 1.0
        min_bids: int = 3


@register
class BidSkewness(_ScreenIndicator):
    """Negatively skewed bids (BID-008)."""

    id = "BID-008"
    screen = "skew"
    title_zh = "投标报价分布负偏"
    title_en = "Negatively skewed bids"
    direction = "low"
    threshold_method = "percentile"
    why = ("With a lone low winner and cover bids clustered above it, the distribution of a tender's bids is negatively "
           "skewed; competitive bids are roughly symmetric.")
    source = f"{_IMHOF}."
    methodology = ("Bias-corrected sample skewness of the bids from `screens.skew`; low (strongly negative) is "
                   "suspicious. Fires on the lowest (100 − `percentile`) % of the scored tenders (skewness of a few bids "
                   "is bounded, so a Tukey fence would never be reached).")
    example = "Bids 100, 110, 111, 112: skewness −1.87, in the lowest 5 %: fires."
    output = "value: skewness of the bids; evidence: the bid ids."
    exclusions = _ScreenIndicator._common_exclusions
    reason_zh = "{n_bids}份投标报价偏度为{value:.2f}（阈值{threshold:.2f}）：一家低价、其余扎堆"
    reason_en = "the {n_bids} bids have skewness {value:.2f} (fence {threshold:.2f}): one low bid, the rest bunched above"

    class Params(Params):
        percentile: float = 95.0
        min_bids: int = 3


@register
class BidKurtosis(_ScreenIndicator):
    """Peaked distribution of bids: high kurtosis (BID-009)."""

    id = "BID-009"
    screen = "kurt"
    title_zh = "投标报价峰度异常高"
    title_en = "Peaked distribution of bids (kurtosis)"
    direction = "high"
    threshold_method = "iqr"
    why = ("Collusion concentrates bids around a few agreed values, which raises the kurtosis of the bid distribution "
           "(the support of the bids narrows).")
    source = f"{_IMHOF}."
    methodology = ("Bias-corrected sample excess kurtosis from `screens.kurt`; high is suspicious. Threshold: Q3 + "
                   "`fence_k` × IQR of the scored tenders' values. Needs 4 bids (undefined below).")
    example = "Bids 100, 110, 111, 112: kurtosis 3.58, above the fence: fires."
    output = "value: excess kurtosis of the bids; evidence: the bid ids."
    exclusions = _ScreenIndicator._common_exclusions + " Needs 4 bids."
    reason_zh = "{n_bids}份投标报价峰度为{value:.2f}（阈值{threshold:.2f}），报价异常集中"
    reason_en = "the {n_bids} bids have excess kurtosis {value:.2f} (fence {threshold:.2f}): unusually concentrated"

    class Params(Params):
        fence_k: float = 1.5
        min_bids: int = 4


@register
class BidUniformity(_ScreenIndicator):
    """Bids far from an even spread: Kolmogorov–Smirnov statistic (BID-010)."""

    id = "BID-010"
    screen = "ks"
    title_zh = "投标报价分布偏离均匀（KS统计量）"
    title_en = "Bids far from an even spread (Kolmogorov–Smirnov)"
    direction = "high"
    threshold_method = "iqr"
    why = ("Independent bids spread roughly evenly over their range; a cartel's bids do not (a lone winner, a cluster of "
           "covers). The Kolmogorov–Smirnov distance to the uniform distribution measures how uneven they are.")
    source = f"Huber & Imhof (2019), IJIO 65:277–301 (uniformity screen); {_LAW_40}."
    methodology = ("KS distance between the standardised bids and a uniform distribution with the same mean and standard "
                   "deviation, from `screens.ks`; high is suspicious. Threshold: Q3 + `fence_k` × IQR of the scored "
                   "tenders' values.")
    example = "Bids 100, 110, 111, 112: KS 0.34, above the fence: fires."
    output = "value: KS distance (0 to 1); evidence: the bid ids."
    exclusions = _ScreenIndicator._common_exclusions
    reason_zh = "{n_bids}份投标报价分布明显偏离均匀分布（KS={value:.2f}，阈值{threshold:.2f}）"
    reason_en = "the {n_bids} bids are spread far from evenly (KS {value:.2f}; fence {threshold:.2f})"

    class Params(Params):
        fence_k: float = 1.5
        min_bids: int = 3


# -- co-bidding rotation --------------------------------------------------------------------------------

@register
class CoBiddingRotation(Indicator):
    """A group of suppliers who keep bidding together while the winner rotates among them (BID-011)."""

    id = "BID-011"
    title_zh = "固定投标人群体轮流中标"
    title_en = "Same group of bidders, winner rotating among them"
    entity = "tender"
    tables = ("tenders", "bids")
    severity = 3
    threshold_method = "policy"
    why = ("A bid-rigging ring shares out a market by taking turns (轮流坐庄): the same firms keep meeting in the same "
           "tenders, one wins and the others cover for it, and next time another member wins. Firms that meet far more "
           "often than their participation explains, and that each win when the other loses, are the pattern.")
    source = (f"{_IKR} (bid rotation); Imhof (2019), JCLE 15(4) (collusive interaction screen); {_LAW_40}; "
              "OCP Red Flags for Integrity (2016): rotation of winners.")
    methodology = (
        "Within each category, over the tenders closed by the end of the scored tender's quarter, for every pair of suppliers: how many competitive tenders (≥ 2 bids) "
        "both bid in (co), and the probability of meeting at least that often if each had picked its tenders at random "
        "(hypergeometric tail, given how many of the category's tenders each bid in). A pair is a *rotating partnership* "
        "when co ≥ `min_cobids`, that probability is ≤ `max_p`, and each of the two has won at least one of the tenders "
        "they both bid in. A tender's value is the number of its losing bidders in a rotating partnership with its "
        "winner; it fires when that reaches `threshold` (2: a group of at least three firms).")
    example = ("Four firms out of a category's 60 active bidders met in 9 of its 200 tenders and won 3, 2, 2 and 2 of them: "
               "a tender won by one of them with two of the others among the losers has value 2 and fires.")
    output = "value: losing bidders in a rotating partnership with the winner; evidence: their bids and the winner's."
    exclusions = (
        "Single-source procurement; tenders with fewer than `min_bids` bids. In a thin market where the same few firms bid in "
        "nearly every tender, meeting often is explained by participation (the probability stays high) and nothing fires: "
        "there a ring cannot be told from competition by who bids, only by how they price (BID-004 … BID-010). Pairs are "
        "counted from the data's start (an expanding window, not a rolling one); rings spanning several categories are found only within each. "
        "Graph analysis of the co-bidding network (communities, shared owners) belongs to the REL family.")
    reason_zh = ("中标人与本次另外{value:.0f}家投标人在{category_zh}类反复共同投标（每对至少{co_min:.0f}次，"
                 "随机相遇的概率不超过{p_max:.2%}）且互有胜负，疑似轮流坐庄")
    reason_en = ("the winner and {value:.0f} other bidder(s) of this tender keep bidding together in {category_en} tenders "
                 "(each pair at least {co_min:.0f} times, a chance of at most {p_max:.2%}) and take turns winning")

    class Params(Params):
        threshold: float = 2.0
        min_cobids: int = 4
        max_p: float = 0.01
        min_bids: int = 3

    def pairs(self, data: Dataset, until: pd.Timestamp | None = None) -> pd.DataFrame:
        """Supplier pairs per category: co-bids, each one's tenders, wins in shared tenders, chance and partnership;
        ``until``: from the tenders closed by then only."""
        cat_join, single = _single_source_sql(data)
        # undated tenders count from the start (as in graph.bidding.rings_as_of)
        until_sql = (f" AND (t.close_date IS NULL OR t.close_date < TIMESTAMP '{pd.Timestamp(until).normalize() + pd.Timedelta(days=1)}')"
                     if until is not None and not pd.isna(until) else "")
        p = data.sql(f"""
            WITH tb AS (
                SELECT b.tender_id, b.supplier_id, bool_or(b.is_winner) AS won, any_value(t.category_id) AS category_id
                FROM bids b JOIN tenders t ON t.tender_id = b.tender_id {cat_join}
                WHERE NOT {single}{until_sql} GROUP BY b.tender_id, b.supplier_id),
            multi AS (SELECT * FROM tb WHERE tender_id IN (SELECT tender_id FROM tb GROUP BY 1 HAVING count(*) >= 2)),
            cat AS (SELECT category_id, count(DISTINCT tender_id) AS n_cat FROM multi GROUP BY 1),
            sup AS (SELECT category_id, supplier_id, count(*) AS n_sup FROM multi GROUP BY 1, 2)
            SELECT a.category_id, a.supplier_id AS a, b.supplier_id AS b, count(*) AS co,
                   sum(a.won::INT) AS a_wins, sum(b.won::INT) AS b_wins,
                   any_value(cat.n_cat) AS n_cat, any_value(sa.n_sup) AS n_a, any_value(sb.n_sup) AS n_b
            FROM multi a JOIN multi b ON a.tender_id = b.tender_id AND a.supplier_id < b.supplier_id
            JOIN cat ON cat.category_id = a.category_id
            JOIN sup sa ON sa.category_id = a.category_id AND sa.supplier_id = a.supplier_id
            JOIN sup sb ON sb.category_id = a.category_id AND sb.supplier_id = b.supplier_id
            GROUP BY a.category_id, a.supplier_id, b.supplier_id""")
        # P(X >= co) for X ~ Hypergeometric(population n_cat, n_a marked, n_b drawn)
        p["chance"] = hypergeom.sf(p.co - 1, p.n_cat, p.n_a, p.n_b) if len(p) else []
        p["partners"] = (p.co >= self.params.min_cobids) & (p.chance <= self.params.max_p) & (p.a_wins > 0) & (p.b_wins > 0)
        return p

    def partnerships(self, data: Dataset, until: pd.Timestamp | None = None) -> pd.DataFrame:
        """The rotating partnerships known by ``until``, each pair in both orders: ``category_id, a, b, co, chance``."""
        pairs = self.pairs(data, until)
        linked = pairs[pairs.partners]
        cols = ["category_id", "a", "b", "co", "chance"]
        return pd.concat([linked[cols], linked[["category_id", "b", "a", "co", "chance"]].set_axis(cols, axis=1)],
                         ignore_index=True)

    def compute(self, data: Dataset) -> pd.DataFrame:
        bids = _competitive_bids(data)
        facts = data.sql(f"SELECT tender_id, period, department_id, supplier_id, category_id "
                         f"FROM ({_tender_facts(data)}) WHERE NOT single_source AND supplier_id IS NOT NULL")
        n = bids.groupby("tender_id").size().rename("n_bids")
        facts = facts.join(n, on="tender_id")
        facts = facts[facts.n_bids >= self.params.min_bids]
        # each tender's bids next to its winner: the winner's own bid, and the losing bidders paired with the winner
        tb = bids.merge(facts[["tender_id", "supplier_id", "category_id"]].rename(columns={"supplier_id": "winner"}),
                        on="tender_id")
        losers = tb[tb.supplier_id != tb.winner].merge(facts[["tender_id", "period"]], on="tender_id")
        # a tender is judged by the partnerships known at the end of its quarter: the pairs' co-bids up to then
        q_end = pd.to_datetime(losers.period).dt.to_period("Q").dt.end_time
        hit = pd.concat([g.merge(self.partnerships(data, qe), left_on=["category_id", "winner", "supplier_id"],
                                 right_on=["category_id", "a", "b"]) for qe, g in losers.groupby(q_end, dropna=False)]
                        or [pd.DataFrame(columns=[*losers.columns, "a", "b", "co", "chance"])], ignore_index=True)
        agg = hit.groupby("tender_id").agg(value=("supplier_id", "nunique"), co_min=("co", "min"), p_max=("chance", "max"))
        # evidence: the winner's bid, then the partners' bids
        ev = pd.concat([tb[(tb.supplier_id == tb.winner) & tb.tender_id.isin(agg.index)][["tender_id", "bid_id"]],
                        hit.sort_values("bid_id")[["tender_id", "bid_id"]]], ignore_index=True)
        df = facts.rename(columns={"tender_id": "entity_id"}).join(agg, on="entity_id")
        df = df.join(ev.groupby("tender_id").bid_id.agg(list).rename("evidence"), on="entity_id")
        df["value"] = df["value"].fillna(0.0).astype(float)
        df["evidence"] = df["evidence"].where(df["evidence"].notna(), pd.Series([[]] * len(df), index=df.index))
        return _named(df.drop(columns=["n_bids"]).reset_index(drop=True), data)
