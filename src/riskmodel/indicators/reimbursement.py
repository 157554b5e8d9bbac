"""Reimbursement red flags (``RMB-…``): claims against travel records, the calendar, limits, invoices and peers.

Claims are checked in three ways:

* against other records: an away-from-home claim needs an approved trip of the
  claimant covering that city and day (RMB-001, RMB-002); a fapiao number may
  be used once (RMB-003);
* against the calendar: hospitality, fuel and tolls on rest days
  (RMB-004, RMB-005), from the maintained ``chinesecalendar`` package so that
  make-up workdays (调休) count as workdays and statutory holidays as rest days;
* against the claimant's peers, per person and year: the share of claims just
  under a limit (RMB-006), of round amounts (RMB-007), first-digit conformity
  (RMB-008) and hospitality spend (RMB-009), each judged against holders of
  the same post in the same year.

Peer groups are the post (``position_id``) a person held for most of the year
in ``post_history``.  A peer group with fewer than ``min_peers`` members is
replaced by the whole company in that year.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import chinese_calendar
import numpy as np
import pandas as pd
from pydantic import Field

from riskmodel.data.dataset import Dataset
from riskmodel.indicators.base import Indicator, Params
from riskmodel.indicators.registry import register

HOLIDAY_ZH = {"New Year's Day": "元旦", "Spring Festival": "春节", "Tomb-sweeping Day": "清明节", "Labour Day": "劳动节",
              "Dragon Boat Festival": "端午节", "National Day": "国庆节", "Mid-autumn Festival": "中秋节",
              "Anti-Fascist 70th Day": "抗战胜利纪念日"}
CATEGORY_ZH = {"travel": "交通费", "lodging": "住宿费", "meals": "餐费", "hospitality": "业务招待费", "fuel": "燃油费",
               "toll": "过路过桥费", "office": "办公用品费"}
_MONTH_DAY = r"^(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$"
#: Benford's first-digit probabilities log10(1 + 1/d), d = 1…9
BENFORD_FIRST = np.log10(1 + 1 / np.arange(1, 10))
#: Nigrini's (2012, table 7.1) MAD ranges for the first-digit test
NIGRINI_FIRST = ((0.006, "近似符合", "close conformity"), (0.012, "可接受", "acceptable conformity"),
                 (0.015, "边缘符合", "marginally acceptable conformity"), (np.inf, "不符合", "nonconformity"))


# -- shared helpers ---------------------------------------------------------------------------------
def day_calendar(days: pd.Series) -> pd.DataFrame:
    """Chinese working calendar of the given days (vectorised over the distinct days).

    Returns one row per distinct day: ``day``, ``weekend`` (Saturday or Sunday), ``holiday`` (English name of the
    statutory holiday period the day falls in, else None), ``holiday_zh``, ``makeup_workday`` (a weekend day worked
    in lieu, 调休上班), ``workday`` and ``known`` (whether ``chinesecalendar`` covers the day's year; outside it
    only weekends are known and no day is a holiday).

    Examples
    --------
    >>> cal = day_calendar(pd.Series(pd.to_datetime(["2024-10-01", "2024-10-12", "2024-10-13"])))
    >>> cal[["holiday", "makeup_workday", "workday"]].to_dict("list")
    {'holiday': ['National Day', None, None], 'makeup_workday': [False, True, False], 'workday': [False, True, False]}
    """
    day = pd.Series(pd.DatetimeIndex(pd.to_datetime(np.asarray(days))).dropna().normalize().unique().sort_values())
    hol = pd.Series({pd.Timestamp(k): v for k, v in chinese_calendar.holidays.items()}, dtype=object)
    makeup = pd.DatetimeIndex([pd.Timestamp(k) for k in chinese_calendar.workdays])
    first, last = min(chinese_calendar.holidays).year, max(chinese_calendar.holidays).year
    known = day.dt.year.between(first, last).to_numpy()
    weekend = (day.dt.day_of_week >= 5).to_numpy()
    holiday = day.map(hol).where(known, None).astype(object)
    holiday = holiday.where(holiday.notna(), None)
    mk = day.isin(makeup).to_numpy() & known
    workday = (~weekend & holiday.isna().to_numpy()) | mk
    return pd.DataFrame({"day": day, "weekend": weekend, "holiday": holiday, "holiday_zh": holiday.map(HOLIDAY_ZH),
                         "makeup_workday": mk, "workday": workday, "known": known})


def _season_sql(date_col: str, start: str, end: str) -> str:
    """SQL test that ``date_col``'s month-day lies in [start, end] (wrapping over the new year when start > end)."""
    md = f"strftime({date_col}, '%m-%d')"
    return f"({md} BETWEEN '{start}' AND '{end}')" if start <= end else f"({md} >= '{start}' OR {md} <= '{end}')"


def _station_season_claims(data: Dataset, where: str, start: str, end: str, dept_types: tuple[str, ...]) -> set[str]:
    """Claims (matching ``where``) by someone posted to a station department on the day, inside the season."""
    types = ", ".join(f"'{t}'" for t in dept_types)
    df = data.sql(f"""
        SELECT DISTINCT c.claim_id FROM claims c
        JOIN post_history ph ON ph.employee_id = c.employee_id AND c.expense_date >= ph.start_date
                             AND (ph.end_date IS NULL OR c.expense_date <= ph.end_date)
        JOIN departments d ON d.department_id = ph.department_id
        WHERE d.dept_type IN ({types}) AND {_season_sql('c.expense_date', start, end)} AND ({where})""")
    return set(df.claim_id)


def _post_years(data: Dataset) -> pd.DataFrame:
    """The post (and department) each employee held for most of each claim year: ``employee_id, year, position_id,
    department_id``, for everyone in ``post_history`` during the years the claims span (peers with no claims
    included)."""
    return data.sql("""
        WITH years AS (
            SELECT unnest(range(CAST(min(year(expense_date)) AS BIGINT), CAST(max(year(expense_date)) AS BIGINT) + 1)) AS year
            FROM claims),
        ov AS (
            SELECT ph.employee_id, y.year, ph.position_id, ph.department_id, ph.start_date,
                   date_diff('day', greatest(CAST(ph.start_date AS DATE), make_date(y.year, 1, 1)),
                             least(coalesce(CAST(ph.end_date AS DATE), DATE '9999-12-31'), make_date(y.year, 12, 31))) AS days
            FROM post_history ph JOIN years y
              ON CAST(ph.start_date AS DATE) <= make_date(y.year, 12, 31)
             AND coalesce(CAST(ph.end_date AS DATE), DATE '9999-12-31') >= make_date(y.year, 1, 1))
        SELECT employee_id, year, position_id, department_id FROM ov
        QUALIFY row_number() OVER (PARTITION BY employee_id, year ORDER BY days DESC, start_date DESC) = 1""")


def peer_fence(df: pd.DataFrame, value: str, k: float, min_peers: int) -> pd.DataFrame:
    """Tukey fence Q3 + k·IQR of ``value`` among holders of the same post in the same year.

    ``df`` has ``position_id``, ``year`` and ``value``; returns ``fence``, ``peer_n`` (size of the group used),
    ``peer_median`` and ``peer_group`` ('post' or 'company': a post with fewer than ``min_peers`` holders is
    replaced by everyone in that year), aligned with ``df``'s index.

    Examples
    --------
    >>> d = pd.DataFrame({"position_id": ["P"] * 5, "year": 2024, "v": [1.0, 2, 3, 4, 50]})
    >>> peer_fence(d, "v", 1.5, 5).fence.iloc[0]
    np.float64(7.0)
    """
    def stats(keys: list[str]) -> pd.DataFrame:
        g = df.groupby(keys)[value]
        s = pd.DataFrame({"q1": g.quantile(0.25), "q3": g.quantile(0.75), "peer_median": g.median(), "peer_n": g.size()})
        s["fence"] = s.q3 + k * (s.q3 - s.q1)
        return df[keys].join(s, on=keys)[["fence", "peer_n", "peer_median"]]

    post = stats(["position_id", "year"]) if df.position_id.notna().any() else None
    company = stats(["year"])
    if post is None:
        return company.assign(peer_group="company")
    small = (post.peer_n.isna() | (post.peer_n < min_peers)).to_numpy()
    out = post.copy()
    out.loc[small] = company.loc[small]
    out["peer_group"] = np.where(small, "company", "post")
    return out


_PEER_LABEL = {"post": ("同岗位", "same-post peers'"), "company": ("全公司", "company-wide")}


def _year_start(year: pd.Series) -> pd.Series:
    return pd.to_datetime(year.astype(int).astype(str) + "-01-01")


class _PeerParams(Params):
    fence_k: float = Field(1.5, gt=0, description="Tukey fence multiplier over the peers' IQR")
    min_peers: int = Field(5, ge=2, description="smaller post groups are compared with the whole company")


# -- travel records ---------------------------------------------------------------------------------
@register
class ClaimWithoutTrip(Indicator):
    """Claim away from home with no approved trip covering it (see the catalogue fields)."""

    id = "RMB-001"
    title_zh = "异地报销无对应出差审批"
    title_en = "Away-from-home claim with no approved trip"
    entity = "claim"
    tables = ("claims", "travel_records")
    severity = 3
    why = ("An expense in another city is only legitimate on an approved business trip. A claim in a city where the "
           "claimant had no approved trip on that day is the classic false travel claim (虚报差旅费, 虚开发票): a trip "
           "that never happened, or private travel charged to the company. The paper names comparing reimbursements "
           "with travel records as the way to find false claims.")
    source = ("袁畅, 数字赋能基层纪检监察与思政工作协同, §1.1 (报销记录与差旅记录比对发现虚假报销); "
              "《中央和国家机关差旅费管理办法》(财行〔2013〕531号) 第四条 (出差必须按规定报经单位有关领导批准).")
    methodology = ("Every claim whose city is not the company's home city (`policy.home_city`) is checked against the "
                   "claimant's approved trips: it is covered when one of them goes to that city and its dates, widened by "
                   "`grace_days` on both sides (tickets bought the day before, a late return), contain the expense date. "
                   "The value is 1 for an uncovered claim and 0 for a covered one; it fires at `threshold` (1). The trip "
                   "the claim declares (`trip_id`) is not trusted: a trip of someone else, to another city or on other "
                   "dates does not cover it.")
    example = ("Claimant E1 has one approved trip to 北京 on 3–5 March. Lodging in 北京 on 4 March: covered (0). Lodging in "
               "上海 on 4 March, or in 北京 on 20 March: uncovered (1, fires).")
    output = "value: 1 uncovered, 0 covered; evidence: the claim."
    exclusions = ("Claims in the home city. Expense dates within `grace_days` of an approved trip to the same city. "
                  "Companies with several seats should list the other seats' cities in `other_home_cities`.")
    reason_zh = "{city}的{category_zh}报销（{day}）无对应的出差审批记录"
    reason_en = "{category} claim in {city} on {day} with no approved trip of the claimant to that city covering the day"

    class Params(Params):
        threshold: float = 1.0
        grace_days: int = Field(1, ge=0, description="days before and after an approved trip still covered by it")
        other_home_cities: list[str] = Field(default_factory=list, description="cities besides policy.home_city that need no trip")

    def compute(self, data: Dataset) -> pd.DataFrame:
        homes = [self.policy.home_city, *self.params.other_home_cities]
        g = int(self.params.grace_days)
        df = data.sql(f"""
            SELECT c.claim_id AS entity_id, c.expense_date AS period, c.employee_id, c.city, c.category, c.amount,
                   strftime(c.expense_date, '%Y-%m-%d') AS day,
                   CASE WHEN EXISTS (
                       SELECT 1 FROM travel_records t
                       WHERE t.employee_id = c.employee_id AND t.destination_city = c.city
                         AND c.expense_date BETWEEN t.start_date - INTERVAL {g} DAYS AND t.end_date + INTERVAL {g} DAYS)
                   THEN 0.0 ELSE 1.0 END AS value,
                   c.claim_id AS evidence
            FROM claims c
            WHERE NOT list_contains(?, c.city)""", [homes])
        df["category_zh"] = df.category.map(CATEGORY_ZH).fillna(df.category)
        return df


@register
class TwoCitiesOneDay(Indicator):
    """Claims in two cities on one day by one person (see the catalogue fields).

    The event is a person-day, so the entity is the employee with ``period`` the day (one row per person-day; a
    day with many claims counts once in roll-ups) and the claims are the evidence.
    """

    id = "RMB-002"
    title_zh = "同日异地报销"
    title_en = "Claims in two cities on one day"
    entity = "employee"
    tables = ("claims", "travel_records")
    severity = 3
    why = ("One person cannot dine in 哈尔滨 and sleep in 北京 on the same ordinary day. Claims in two cities on one day "
           "mean that at least one of them is false: a fabricated trip with a local claim on the same day, or a local "
           "expense claimed while the person was away on an approved trip (someone else's bill on one's own name).")
    source = ("袁畅, 数字赋能基层纪检监察与思政工作协同, §1.1 (报销记录与差旅记录交叉比对); ACFE, Fraud Examiners Manual, "
              "Expense reimbursement schemes: fictitious and overstated expenses.")
    methodology = ("Claims are grouped by claimant and expense date. On a travel day — the first or last day of one of the "
                   "claimant's approved trips — the home city and the destinations of the trips starting or ending that "
                   "day count together as one place (the route). The value is the number of distinct places of that "
                   "person's claims that day; it fires at `threshold` (2). The entity is the employee and the period the "
                   "day (one row per person-day, so a day with many claims counts once); the evidence lists every "
                   "claim of that day.")
    example = ("E1 claims lodging in 北京 and a meal in 哈尔滨 on 4 March with no trip: value 2, fires. E2 claims a meal in "
               "哈尔滨 and a meal in 北京 on 3 March, the first day of an approved trip to 北京: one route, value 1.")
    output = "value: distinct places that day; evidence: the claims of that person-day."
    exclusions = "Departure and return days of approved trips (home and destination count as one route)."
    reason_zh = "同一天（{day}）在{n_places}个地点报销：{cities}，共{n_claims}笔"
    reason_en = "claims in {n_places} places on one day ({day}): {cities_en}, {n_claims} claims"

    class Params(Params):
        threshold: float = 2.0

    def compute(self, data: Dataset) -> pd.DataFrame:
        df = data.sql("""
            WITH c AS (
                SELECT c.*, CAST(c.expense_date AS DATE) AS day,
                       EXISTS (SELECT 1 FROM travel_records t
                               WHERE t.employee_id = c.employee_id
                                 AND CAST(c.expense_date AS DATE) IN (CAST(t.start_date AS DATE), CAST(t.end_date AS DATE))
                                 AND (c.city = t.destination_city OR c.city = ?)) AS on_route
                FROM claims c),
            multi AS (
                SELECT employee_id, day FROM c GROUP BY ALL HAVING count(DISTINCT city) > 1)
            SELECT c.employee_id AS entity_id, c.employee_id, c.day AS period, strftime(c.day, '%Y-%m-%d') AS day,
                   CAST(count(DISTINCT CASE WHEN on_route THEN '<route>' ELSE city END) AS DOUBLE) AS value,
                   count(DISTINCT CASE WHEN on_route THEN '<route>' ELSE city END) AS n_places,
                   string_agg(DISTINCT city, '、' ORDER BY city) AS cities,
                   string_agg(DISTINCT city, ', ' ORDER BY city) AS cities_en,
                   count(*) AS n_claims, list(claim_id ORDER BY claim_id) AS evidence
            FROM c JOIN multi USING (employee_id, day)
            GROUP BY c.employee_id, c.day""", [self.policy.home_city])
        return df


# -- invoices ---------------------------------------------------------------------------------------
@register
class DuplicateInvoice(Indicator):
    """The same fapiao number used more than once (see the catalogue fields)."""

    id = "RMB-003"
    title_zh = "发票号码重复报销"
    title_en = "Duplicate invoice (fapiao) number"
    entity = "claim"
    tables = ("claims", "invoices")
    severity = 3
    why = ("A fapiao can be reimbursed once. The same number on claims of different days or people, or on a claim and a "
           "supplier's invoice, means the expense was claimed twice or the claimant presented a fapiao that belongs to "
           "a purchase the company already paid for (重复报销, 虚开发票).")
    source = ("《中华人民共和国发票管理办法》第二十一条 (不得使用伪造、变造、作废或重复的发票); ACFE, Fraud Examiners Manual, "
              "Expense reimbursement schemes: multiple reimbursements.")
    methodology = ("Invoice numbers are normalised (non-alphanumerics removed, upper case) on claims and on supplier "
                   "invoices. A *use* of a number is a supplier invoice, or a claimant's claim lines of one expense date "
                   "(lines in different categories are one fapiao split over categories; a second line in the same "
                   "category is a second use). Every claim whose number has at least `threshold` (2) uses fires; the value is the number of "
                   "uses and the evidence all the claims and supplier invoices that carry the number.  A row is dated "
                   "when its claim is a known duplicate: its own date, or the day the number reached `threshold` uses if "
                   "that is later (the first claim of a number is no duplicate until the second use appears).")
    example = ("Number 2301…42 on a meals claim of E1 on 3 May, an office claim of E1 on 20 June and supplier invoice "
               "INV9: three uses, both claims fire. A hotel fapiao split into a lodging line and a meals line by E2 on "
               "the same day: one use, silent.")
    output = "value: uses of the number; evidence: the claims and supplier invoices carrying it."
    exclusions = ("Numbers shorter than `min_length` characters after normalisation or made only of zeros (placeholders "
                  "for a missing fapiao). Lines of one claimant on one day in different categories sharing a number (one "
                  "hotel fapiao split into lodging and meals) are one use.")
    reason_zh = "发票号码{invoice_number}出现在{n_claims}笔报销、{n_invoices}张供应商发票上，计{n_uses:.0f}次使用"
    reason_en = ("fapiao number {invoice_number} appears on {n_claims} claim line(s) and {n_invoices} supplier invoice(s): "
                 "{n_uses:.0f} separate uses")

    class Params(Params):
        threshold: float = 2.0
        min_length: int = Field(8, ge=1, description="shorter normalised numbers are placeholders, not fapiao numbers")

    def compute(self, data: Dataset) -> pd.DataFrame:
        norm = "upper(regexp_replace(coalesce({}, ''), '[^0-9A-Za-z]', '', 'g'))"
        m = int(self.params.min_length)
        k = max(2, int(np.ceil(self.params.threshold)))
        df = data.sql(f"""
            WITH docs AS (
                SELECT num, claim_id AS doc_id, 'claim' AS kind, CAST(NULL AS VARCHAR) AS supplier_id,
                       CAST(expense_date AS DATE) AS d,
                       -- lines of one claimant and day in different categories are one fapiao split; a repeated
                       -- category is a second use
                       concat_ws('|', employee_id, CAST(expense_date AS DATE),
                                 row_number() OVER (PARTITION BY num, employee_id, CAST(expense_date AS DATE), category
                                                    ORDER BY claim_id)) AS use_key
                FROM (SELECT *, {norm.format('invoice_number')} AS num FROM claims)
                UNION ALL
                SELECT {norm.format('invoice_number')}, invoice_id, 'invoice', CAST(supplier_id AS VARCHAR),
                       CAST(invoice_date AS DATE), 'invoice|' || invoice_id
                FROM invoices),
            uses AS (SELECT num, use_key, min(d) AS d FROM docs GROUP BY num, use_key),
            nums AS (
                SELECT num, count(DISTINCT use_key) AS n_uses, count(*) FILTER (kind = 'claim') AS n_claims,
                       count(*) FILTER (kind = 'invoice') AS n_invoices, list(doc_id ORDER BY kind, doc_id) AS evidence,
                       any_value(supplier_id) AS supplier_id
                FROM docs
                WHERE length(num) >= {m} AND NOT regexp_full_match(num, '0+')
                GROUP BY num HAVING count(*) > 1),
            -- the day the number reached `threshold` uses: before it, no claim carrying it was a known duplicate
            known AS (
                SELECT num, (list(d ORDER BY d))[least(count(*), {k})] AS known_at FROM uses GROUP BY num)
            SELECT c.claim_id AS entity_id, greatest(CAST(c.expense_date AS DATE), coalesce(k.known_at, CAST(c.expense_date AS DATE))) AS period,
                   c.employee_id, n.supplier_id,
                   c.invoice_number, CAST(n.n_uses AS DOUBLE) AS value, n.n_uses, n.n_claims, n.n_invoices, n.evidence
            FROM claims c JOIN nums n ON n.num = {norm.format('c.invoice_number')} JOIN known k ON k.num = n.num""")
        df["supplier_id"] = df.supplier_id.astype(object).where(df.supplier_id.notna(), None)
        return df


# -- the calendar -----------------------------------------------------------------------------------
class _RestDayParams(Params):
    threshold: float = 1.0
    season_start: str = Field("09-25", pattern=_MONTH_DAY, description="first day (MM-DD) of the leaf-purchasing season")
    season_end: str = Field("12-25", pattern=_MONTH_DAY, description="last day (MM-DD) of the leaf-purchasing season")
    season_dept_types: list[str] = Field(default_factory=lambda: ["station"],
                                         description="department types whose staff work weekends in the season")
    season_covers_holidays: bool = Field(False, description="whether the season exclusion also covers statutory holidays")


def _rest_day_claims(ind: Indicator, data: Dataset, categories: list[str], weekends: bool) -> pd.DataFrame:
    """Claims of ``categories`` on rest days, valued 1, or 0 when excused by the station season."""
    p = ind.params
    cats = ", ".join(f"'{c}'" for c in categories)
    c = data.sql(f"""
        SELECT claim_id AS entity_id, expense_date AS period, employee_id, category, amount, claim_id AS evidence,
               strftime(expense_date, '%Y-%m-%d') AS day
        FROM claims WHERE category IN ({cats})""")
    if c.empty:
        return c
    cal = day_calendar(c.period).set_index("day")
    d = pd.to_datetime(c.period).dt.normalize()
    holiday = d.map(cal.holiday)
    weekend_rest = d.map(cal.weekend).astype(bool) & ~d.map(cal.makeup_workday).astype(bool) & holiday.isna()
    rest = holiday.notna() | (weekend_rest if weekends else False)
    c = c[rest.to_numpy()].copy()
    if c.empty:
        return c
    holiday = holiday[rest.to_numpy()]
    c["is_holiday"] = holiday.notna().to_numpy()
    c["day_zh"] = np.where(c.is_holiday, holiday.map(HOLIDAY_ZH).fillna("法定节假日").to_numpy(), "周末")
    c["day_en"] = np.where(c.is_holiday, holiday.fillna("statutory").to_numpy() + " holiday", "weekend")
    season = _station_season_claims(data, f"category IN ({cats})", p.season_start, p.season_end, tuple(p.season_dept_types))
    excused = c.entity_id.isin(season) & (~c.is_holiday | p.season_covers_holidays)
    c["value"] = np.where(excused, 0.0, 1.0)
    c["category_zh"] = c.category.map(CATEGORY_ZH).fillna(c.category)
    return c


@register
class HospitalityOnRestDay(Indicator):
    """Hospitality claimed on a weekend or a statutory holiday (see the catalogue fields)."""

    id = "RMB-004"
    title_zh = "节假日及周末业务招待"
    title_en = "Hospitality on a weekend or statutory holiday"
    entity = "claim"
    tables = ("claims", "post_history", "departments")
    severity = 2
    why = ("Business hospitality is work: on rest days, and above all around festivals (Spring Festival, Mid-autumn, "
           "National Day), a hospitality claim is more likely a private banquet on public funds (公款吃喝) or a festive "
           "favour (违规收送礼品礼金) than business. The Central Commission for Discipline Inspection publishes "
           "violations of the eight-point rules around every festival.")
    source = ("中共中央政治局关于改进工作作风、密切联系群众的八项规定 (2012) and its implementing rules; 《党政机关国内公务接待管理规定》"
              "(2013); 袁畅, 数字赋能基层纪检监察与思政工作协同 (高风险时段).")
    methodology = ("Each hospitality claim's expense date is looked up in the Chinese working calendar of the maintained "
                   "`chinesecalendar` package: a statutory holiday period (法定节假日) or a weekend that is not a make-up "
                   "workday (调休上班) is a rest day. A rest-day claim has value 1 and fires at `threshold` (1); one "
                   "excused by the season rule (see exclusions) has value 0.")
    example = ("Hospitality 1,900 on Saturday 2024-03-09: fires (weekend). On Saturday 2024-10-12, a make-up workday: "
               "not a rest day, not scored. A station manager's hospitality on Saturday 2024-11-09 in the purchasing "
               "season: value 0. The same on 2024-10-03 (National Day): fires.")
    output = "value: 1 on a rest day, 0 when excused by the season; evidence: the claim."
    exclusions = ("Weekend claims by staff posted (post_history) to a department of type `season_dept_types` (stations) "
                  "on a day inside the leaf-purchasing season `season_start`–`season_end`: stations buy leaf on weekends "
                  "then. Statutory holidays are not excused unless `season_covers_holidays`. Days in years the "
                  "installed `chinesecalendar` does not cover are judged by the weekend alone (update the package "
                  "each December, when the State Council publishes the next year's holidays).")
    reason_zh = "{day_zh}（{day}）报销业务招待费{amount:,.0f}元"
    reason_en = "hospitality of {amount:,.0f} CNY claimed for a {day_en} ({day})"

    class Params(_RestDayParams):
        pass

    def compute(self, data: Dataset) -> pd.DataFrame:
        return _rest_day_claims(self, data, ["hospitality"], weekends=True)


@register
class VehicleOnHoliday(Indicator):
    """Fuel and toll claims on statutory holidays (see the catalogue fields)."""

    id = "RMB-005"
    title_zh = "节假日车辆燃油及通行费报销"
    title_en = "Fuel or toll claims on holidays"
    entity = "claim"
    tables = ("claims", "post_history", "departments")
    severity = 1  # one holiday fuel receipt is weak on its own (drivers on duty); repetition shows in the roll-ups
    why = ("Fuel and road tolls on a holiday are the trace of an official car used privately (公车私用), one of the "
           "'four winds' (四风) problems that discipline inspection checks around every festival.")
    source = ("中共中央办公厅、国务院办公厅《党政机关公务用车管理办法》(2017) (严禁公车私用); 八项规定实施细则; 袁畅, "
              "数字赋能基层纪检监察与思政工作协同 (高风险时段).")
    methodology = ("Fuel and toll claims (`categories`) dated on a statutory holiday period in the `chinesecalendar` "
                   "package have value 1 and fire at `threshold` (1). With `weekends` on, ordinary weekends that are not "
                   "make-up workdays count too.")
    example = "Fuel 780 on 2024-02-12 (Spring Festival): fires. Fuel 300 on Saturday 2024-10-12 (a make-up workday): not scored."
    output = "value: 1 on a holiday, 0 when excused by the station season; evidence: the claim."
    exclusions = ("Ordinary weekends by default (`weekends: false`): drivers on duty and station staff drive on weekends. "
                  "Claims by staff posted to a station department (`season_dept_types`) inside the leaf-purchasing season "
                  "(`season_start`–`season_end`) have value 0, holidays included (`season_covers_holidays: true`: "
                  "stations keep buying through National Day, and the managers drive to them). Years the installed "
                  "`chinesecalendar` does not cover have no holidays.")
    reason_zh = "{day_zh}（{day}）报销{category_zh}{amount:,.0f}元，疑似公车私用"
    reason_en = "{category} of {amount:,.0f} CNY claimed on a {day_en} ({day}): possible private use of an official car"

    class Params(_RestDayParams):
        categories: list[str] = Field(default_factory=lambda: ["fuel", "toll"])
        weekends: bool = Field(False, description="also flag ordinary weekends")
        season_covers_holidays: bool = Field(True, description="station staff drive to the stations on holidays in the season too")

    def compute(self, data: Dataset) -> pd.DataFrame:
        return _rest_day_claims(self, data, list(self.params.categories), weekends=self.params.weekends)


# -- per person and year, against peers -------------------------------------------------------------
def _limits_sql(policy: Any) -> str:
    """A VALUES table of (category, limit) from ``policy.claim_limits``."""
    lim = policy.claim_limits.model_dump()
    return "(VALUES " + ", ".join(f"('{k}', {float(v)})" for k, v in lim.items()) + ") AS lim(category, lim)"


def _with_peers(rows: pd.DataFrame, posts: pd.DataFrame, p: _PeerParams) -> pd.DataFrame:
    """Attach post and department, then the peer fence of ``value`` (peers: same post and year among ``rows``)."""
    rows = rows.merge(posts, on=["employee_id", "year"], how="left")
    fence = peer_fence(rows, "value", p.fence_k, p.min_peers)
    return _label_peers(pd.concat([rows, fence], axis=1))


def _label_peers(df: pd.DataFrame) -> pd.DataFrame:
    """Reason-text labels of the peer group used (``peers_zh``, ``peers_en``)."""
    df["peers_zh"] = df.peer_group.map({g: zh for g, (zh, _) in _PEER_LABEL.items()})
    df["peers_en"] = df.peer_group.map({g: en for g, (_, en) in _PEER_LABEL.items()})
    return df


@register
class NearLimitClaims(Indicator):
    """A claimant whose claims sit just under the per-claim limits far more often than peers' (see the catalogue fields)."""

    id = "RMB-006"
    title_zh = "报销金额贴近限额"
    title_en = "Claims just under the per-claim limit"
    entity = "employee"
    grain = "year"
    tables = ("claims", "post_history")
    severity = 2
    threshold_method = "given"
    why = ("Claims padded up to just under the limit — the most one can claim without a second approval or an "
           "explanation — are a sign of inflated or invented expenses. One such claim means little; a person whose "
           "claims sit there again and again, far more often than colleagues in the same post, is shaping amounts to "
           "the rule.")
    source = ("ACFE, Fraud Examiners Manual, Expense reimbursement schemes: overstated expenses; Nigrini (2012), "
              "Benford's Law, ch. 8 (number duplication and amounts just below authorisation limits).")
    methodology = ("A claim is near the limit when its amount lies in [(1 − `band`) × limit, limit) for its category "
                   "(`policy.claim_limits`). For each claimant and year with at least `min_claims` claims, the value is "
                   "the share of near-limit claims. The threshold of the row is the Tukey fence Q3 + `fence_k` × IQR "
                   "of that share among holders of the same post that year (the whole company when the post has fewer "
                   "than `min_peers` claimants), floored at `min_share` and at `min_near` / claims (so at least "
                   "`min_near` near-limit claims are needed).")
    example = ("A station manager with 60 claims in 2024, 8 of them between 1,900 and 1,999 (hospitality limit 2,000): "
               "value 0.13; peers' shares are mostly 0 with fence 0.02, floored at 0.05: fires.")
    output = "value: share of the year's claims near a limit; threshold: the peer fence (floored); evidence: the near-limit claims."
    exclusions = ("Claims exactly at the limit (capped reimbursements, where the company paid the limit of a larger bill). "
                  "Claimant-years with fewer than `min_claims` claims.")
    reason_zh = ("{year}年{n_claims}笔报销中{n_near}笔金额在限额以下{band_pct:.0%}以内（占{value:.0%}），"
                 "{peers_zh}中位数{peer_median:.0%}，阈值{threshold:.0%}")
    reason_en = ("{n_near} of {n_claims} claims in {year} within {band_pct:.0%} below their limit ({value:.0%}); "
                 "{peers_en} median {peer_median:.0%}, threshold {threshold:.0%}")

    class Params(_PeerParams):
        band: float = Field(0.10, gt=0, lt=1, description="how far below the limit counts as near it")
        min_claims: int = Field(10, ge=1)
        min_near: int = Field(3, ge=1)
        min_share: float = Field(0.05, ge=0, le=1)

    def compute(self, data: Dataset) -> pd.DataFrame:
        p = self.params
        rows = data.sql(f"""
            WITH c AS (
                SELECT c.claim_id, c.employee_id, year(c.expense_date) AS year,
                       c.amount >= (1 - {p.band}) * lim.lim AND c.amount < lim.lim AS near
                FROM claims c JOIN {_limits_sql(self.policy)} USING (category))
            SELECT employee_id, year, count(*) AS n_claims, count(*) FILTER (near) AS n_near,
                   count(*) FILTER (near) / count(*) AS value,
                   coalesce(list(claim_id ORDER BY claim_id) FILTER (near), []) AS evidence
            FROM c GROUP BY ALL HAVING count(*) >= {int(p.min_claims)}""")
        if rows.empty:
            return rows
        df = _with_peers(rows, _post_years(data), p)
        df["threshold"] = np.maximum.reduce([df.fence.fillna(0).to_numpy(), np.full(len(df), p.min_share),
                                             p.min_near / df.n_claims.to_numpy()])
        df["entity_id"] = df.employee_id
        df["period"] = _year_start(df.year)
        df["band_pct"] = p.band
        return df


@register
class RoundAmountClaims(Indicator):
    """A claimant with far more round-hundred amounts than peers (see the catalogue fields)."""

    id = "RMB-007"
    title_zh = "报销金额整数化"
    title_en = "Round amounts in a person's claims"
    entity = "employee"
    grain = "year"
    tables = ("claims", "post_history")
    severity = 1
    threshold_method = "given"
    why = ("Real bills rarely come to an exact hundred; invented or estimated amounts often do. A person whose claims "
           "are round hundreds far more often than colleagues' may be writing amounts rather than copying them from "
           "receipts.")
    source = ("Nigrini, M. J. (2012). Benford's Law: Applications for Forensic Accounting, Auditing, and Fraud "
              "Detection, Wiley, ch. 8 (round numbers test); ACFE, Fraud Examiners Manual (fictitious expenses).")
    methodology = ("A claim is round when its amount is a positive multiple of `round_to` (100). For each claimant and "
                   "year with at least `min_claims` claims (outside `exclude_categories`), the value is the share of "
                   "round claims; the threshold is the peer fence as in RMB-006 (same post and year, Q3 + `fence_k` × "
                   "IQR), floored at `min_share` and at `min_round` / claims.")
    example = "12 claims in 2024, 5 of them 300, 500, 800, 1,000 and 1,200: value 0.42 against peers' fence 0.1: fires."
    output = "value: share of round claims; threshold: the peer fence (floored); evidence: the round claims."
    exclusions = ("Categories paid as fixed allowances or in fixed top-ups (per-diems, fuel cards topped up by the "
                  "hundred) should be listed in `exclude_categories`. Claimant-years with fewer than `min_claims` claims.")
    reason_zh = "{year}年{n_claims}笔报销中{n_round}笔为{round_to:.0f}元整数倍（占{value:.0%}），{peers_zh}中位数{peer_median:.0%}"
    reason_en = "{n_round} of {n_claims} claims in {year} are multiples of {round_to:.0f} CNY ({value:.0%}); {peers_en} median {peer_median:.0%}"

    class Params(_PeerParams):
        round_to: float = Field(100.0, gt=0)
        exclude_categories: list[str] = Field(default_factory=list)
        min_claims: int = Field(10, ge=1)
        min_round: int = Field(3, ge=1)
        min_share: float = Field(0.1, ge=0, le=1)

    def compute(self, data: Dataset) -> pd.DataFrame:
        p = self.params
        rows = data.sql(f"""
            WITH c AS (
                SELECT claim_id, employee_id, year(expense_date) AS year,
                       amount > 0 AND abs(amount / {p.round_to} - round(amount / {p.round_to})) < 1e-9 AS rnd
                FROM claims WHERE NOT list_contains(?, category))
            SELECT employee_id, year, count(*) AS n_claims, count(*) FILTER (rnd) AS n_round,
                   count(*) FILTER (rnd) / count(*) AS value,
                   coalesce(list(claim_id ORDER BY claim_id) FILTER (rnd), []) AS evidence
            FROM c GROUP BY ALL HAVING count(*) >= {int(p.min_claims)}""", [list(p.exclude_categories)])
        if rows.empty:
            return rows
        df = _with_peers(rows, _post_years(data), p)
        df["threshold"] = np.maximum.reduce([df.fence.fillna(0).to_numpy(), np.full(len(df), p.min_share),
                                             p.min_round / df.n_claims.to_numpy()])
        df["entity_id"] = df.employee_id
        df["period"] = _year_start(df.year)
        df["round_to"] = p.round_to
        return df


@lru_cache(maxsize=8)
def _benford_mad_grid(q: float, sims: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``q``-quantile of the first-digit MAD of Benford samples on a fixed grid of sizes (10 … 10⁶)."""
    rng = np.random.default_rng(seed)
    grid = np.unique(np.geomspace(10, 1e6, 41).round().astype(np.int64))
    crit = [np.quantile(np.abs(rng.multinomial(int(m), BENFORD_FIRST, size=sims) / m - BENFORD_FIRST).mean(axis=1), q)
            for m in grid]  # one draw per grid size, not per transaction
    return grid, np.array(crit)


def benford_mad_critical(n: np.ndarray, q: float, sims: int = 4000, seed: int = 0) -> np.ndarray:
    """The ``q``-quantile of the first-digit MAD of ``n`` draws from Benford's law.

    Nigrini's MAD cut-offs assume large samples; a sample of a few dozen amounts that follows Benford exactly
    still shows a MAD well above them. This is the MAD a conforming sample of that size exceeds with probability
    ``1 - q``: simulated (fixed seed) on a grid of sample sizes and interpolated linearly in log(n)–log(MAD),
    where it falls almost exactly as 1/√n.

    Examples
    --------
    >>> c = benford_mad_critical(np.array([50, 5000]), 0.99)
    >>> bool(c[0] > 0.015 > c[1])
    True
    """
    grid, crit = _benford_mad_grid(float(q), int(sims), int(seed))
    n = np.clip(np.asarray(n, dtype=float), grid[0], grid[-1])
    return np.exp(np.interp(np.log(n), np.log(grid), np.log(crit)))


@register
class BenfordFirstDigit(Indicator):
    """A claimant's first digits far from Benford's law (see the catalogue fields)."""

    id = "RMB-008"
    title_zh = "报销金额首位数字偏离本福特定律"
    title_en = "Claim amounts' first digits far from Benford's law"
    entity = "employee"
    grain = "year"
    tables = ("claims", "post_history")
    severity = 1
    threshold_method = "given"
    why = ("Amounts that arise naturally follow Benford's law (a first digit 1 about 30 % of the time, 9 under 5 %); "
           "amounts people invent do not — they favour some digits (amounts just under a limit, habitual figures). A "
           "claimant's first-digit profile far from Benford, and further from it than colleagues' in the same post, "
           "points at amounts that were made up.")
    source = ("Nigrini, M. J. (2012). Benford's Law: Applications for Forensic Accounting, Auditing, and Fraud Detection. "
              "Wiley, ch. 5 and table 7.1 (first-digit MAD: 0.006 close, 0.012 acceptable, 0.015 marginal, above: "
              "nonconformity).")
    methodology = ("For each claimant and year with at least `min_claims` claims of `min_amount` or more, the value is the "
                   "mean absolute deviation (MAD) of the first-digit proportions from Benford's log10(1 + 1/d). The "
                   "threshold of the row is the largest of: Nigrini's nonconformity bound `nigrini_nonconformity` "
                   "(0.015); the `small_sample_q` quantile of the MAD a Benford-conforming sample of the same size shows "
                   "(Monte Carlo, since Nigrini's bounds assume large samples); and the Tukey fence of the MAD among "
                   "holders of the same post that year (claims are bounded by category limits, so every post has its "
                   "own typical profile). The evidence is the claims with the most over-represented first digit.")
    example = ("A claimant with 80 claims, 40 % starting with 9 (Benford: 4.6 %): MAD 0.08 against a small-sample "
               "bound 0.045 and a peer fence 0.06: fires; Nigrini's label: nonconformity.")
    output = "value: first-digit MAD; threshold: the largest of the three bounds; evidence: claims with the most over-represented digit."
    exclusions = ("Amounts under `min_amount` (Nigrini: small amounts carry little information and follow fixed prices). "
                  "Claimant-years with fewer than `min_claims` such claims.")
    reason_zh = ("{year}年{n_claims}笔报销金额首位数字偏离本福特分布（MAD {value:.3f}，Nigrini判定：{level_zh}），"
                 "首位为{top_digit}的占{top_share:.0%}（理论{top_expected:.0%}）")
    reason_en = ("first digits of {n_claims} claims in {year} far from Benford's law (MAD {value:.3f}, Nigrini: {level_en}); "
                 "{top_share:.0%} start with {top_digit} (expected {top_expected:.0%})")

    class Params(_PeerParams):
        min_claims: int = Field(30, ge=10)
        min_amount: float = Field(10.0, ge=0)
        nigrini_nonconformity: float = Field(0.015, gt=0)
        small_sample_q: float = Field(0.99, gt=0.5, lt=1)

    def compute(self, data: Dataset) -> pd.DataFrame:
        p = self.params
        by_digit = data.sql(f"""
            SELECT employee_id, year(expense_date) AS year,
                   least(greatest(CAST(floor(amount / pow(10, floor(log10(amount)))) AS INTEGER), 1), 9) AS digit,
                   count(*) AS n, list(claim_id ORDER BY claim_id) AS claims
            FROM claims WHERE amount >= {p.min_amount} AND amount > 0
            GROUP BY ALL""")
        if by_digit.empty:
            return by_digit
        counts = (by_digit.pivot(index=["employee_id", "year"], columns="digit", values="n")
                  .reindex(columns=range(1, 10)).fillna(0))
        n = counts.sum(axis=1)
        counts, n = counts[n >= p.min_claims], n[n >= p.min_claims]
        if counts.empty:
            return pd.DataFrame()
        share = counts.div(n, axis=0)
        dev = share - BENFORD_FIRST
        rows = pd.DataFrame({"n_claims": n.astype(int), "value": dev.abs().mean(axis=1),
                             "top_digit": dev.idxmax(axis=1).astype(int)}).reset_index()
        rows["top_share"] = share.to_numpy()[np.arange(len(rows)), rows.top_digit.to_numpy() - 1]
        rows["top_expected"] = BENFORD_FIRST[rows.top_digit.to_numpy() - 1]
        rows = rows.merge(by_digit.rename(columns={"digit": "top_digit", "claims": "evidence"})
                          [["employee_id", "year", "top_digit", "evidence"]], on=["employee_id", "year", "top_digit"], how="left")
        df = _with_peers(rows, _post_years(data), p)
        df["small_sample_bound"] = benford_mad_critical(df.n_claims.to_numpy(), p.small_sample_q)
        df["threshold"] = np.maximum.reduce([np.full(len(df), p.nigrini_nonconformity), df.small_sample_bound.to_numpy(),
                                             df.fence.fillna(0).to_numpy()])
        bounds = np.array([b for b, _, _ in NIGRINI_FIRST])
        level = np.searchsorted(bounds, df.value.to_numpy(), side="right").clip(max=len(bounds) - 1)
        df["level_zh"] = np.array([zh for _, zh, _ in NIGRINI_FIRST])[level]
        df["level_en"] = np.array([en for _, _, en in NIGRINI_FIRST])[level]
        df["entity_id"] = df.employee_id
        df["period"] = _year_start(df.year)
        return df


@register
class HospitalityAbovePeers(Indicator):
    """A claimant's hospitality spend far above peers in the same post (see the catalogue fields)."""

    id = "RMB-009"
    title_zh = "业务招待费显著高于同岗位"
    title_en = "Hospitality spend far above peers in the same post"
    entity = "employee"
    grain = "year"
    tables = ("claims", "post_history")
    severity = 2
    threshold_method = "given"
    why = ("A person's hospitality far above what colleagues in the same post spend is the 'lifestyle in the claims' "
           "of a kickback relationship (entertaining a favoured supplier, 公款吃喝) or of favours traded by a long-serving "
           "post holder. Comparing with the same post keeps leaders and station managers, who host by office, apart from "
           "clerks and buyers, who rarely do.")
    source = ("袁畅, 数字赋能基层纪检监察与思政工作协同, §1.1 (跨部门、跨时间、跨业务类型交叉比对); 《党政机关国内公务接待管理规定》"
              "(2013); Tukey, J. W. (1977). Exploratory Data Analysis (the IQR fence).")
    methodology = ("Hospitality claims are summed per claimant and year. Peers are everyone holding the same post for most "
                   "of that year in `post_history`, including those with no hospitality (zero). The threshold of the row "
                   "is the peers' Tukey fence Q3 + `fence_k` × IQR (the whole company's when the post has fewer than "
                   "`min_peers` holders), floored at `min_total_in_limits` × the hospitality per-claim limit.")
    example = ("A procurement officer with 9,600 of hospitality in 2024 while the other officers claim none: fence 0, floor "
               "3 × 2,000 = 6,000: fires. A leader with 11,000 where leaders' fence is 14,000: silent.")
    output = "value: hospitality total in the year, CNY; threshold: the peer fence (floored); evidence: the hospitality claims."
    exclusions = "Claimant-years with no hospitality are not scored (but count as peers with zero)."
    reason_zh = "{year}年业务招待费{value:,.0f}元（{n_claims}笔），{peers_zh}中位数{peer_median:,.0f}元，阈值{threshold:,.0f}元"
    reason_en = "hospitality of {value:,.0f} CNY in {year} ({n_claims} claims); {peers_en} median {peer_median:,.0f}, threshold {threshold:,.0f}"

    class Params(_PeerParams):
        min_total_in_limits: float = Field(3.0, ge=0, description="floor of the threshold, in hospitality per-claim limits")

    def compute(self, data: Dataset) -> pd.DataFrame:
        p = self.params
        spend = data.sql("""
            SELECT employee_id, year(expense_date) AS year, sum(amount) AS value, count(*) AS n_claims,
                   list(claim_id ORDER BY claim_id) AS evidence
            FROM claims WHERE category = 'hospitality' GROUP BY ALL""")
        if spend.empty:
            return spend
        posts = _post_years(data)
        everyone = posts.merge(spend, on=["employee_id", "year"], how="outer")
        everyone["value"] = everyone.value.fillna(0.0)
        fence = peer_fence(everyone, "value", p.fence_k, p.min_peers)
        df = _label_peers(pd.concat([everyone, fence], axis=1))
        df = df[df.n_claims.notna()].copy()
        df["threshold"] = np.maximum(df.fence.fillna(0).to_numpy(), p.min_total_in_limits * self.policy.claim_limits.hospitality)
        df["n_claims"] = df.n_claims.astype(int)
        df["entity_id"] = df.employee_id
        df["period"] = _year_start(df.year)
        return df
