"""Human-resources red flags (``HR-…``): rotation of sensitive posts and who acts in which post.

Rotation (轮岗交流) of the people in sensitive posts — station managers, graders, procurement officers, cashiers — is
the standing control against relationship networks (关系网) that grow around a person who stays too long in one
place.  HR-001 measures how long each holder has been in place against the company's rule
(``policy.rotation_years``); HR-002 narrows that list to the long-tenured holders whose festival-day hospitality and
fuel spending stands out from others in the same post, the pattern of favours a network is kept with; HR-003
checks that leaf grading is done by the people posted to grade at that station.

Tenure is continuous time in sensitive posts at one department: consecutive sensitive assignments at the same
department (a grader made station manager of the same station, or an assignment re-recorded) are one stay, because
rotation is about leaving the unit and its growers and suppliers, not about a new title.
"""

from __future__ import annotations

import datetime as dt

import chinese_calendar
import numpy as np
import pandas as pd

from riskmodel.data.dataset import Dataset
from riskmodel.errors import DataContractError
from riskmodel.indicators.base import Indicator, Params
from riskmodel.indicators.registry import register

_FAR = "DATE '9999-12-31'"


def _as_of_dates(data: Dataset) -> list[dt.date]:
    """The dates tenure is measured at: each year-end inside the data's period and the period's last day.

    The period is the span of dated activity (orders, claims, leaf purchases) where there is any, else the span of
    ``post_history`` dates.
    """
    try:
        lo, hi = data.period()
    except DataContractError:  # no activity tables: fall back to the post history's own dates
        r = data.sql("SELECT min(start_date) AS lo, greatest(max(start_date), max(end_date)) AS hi FROM post_history")
        if r.lo.isna().all():
            return []
        lo, hi = pd.Timestamp(r.lo[0]), pd.Timestamp(r.hi[0])
    ends = [dt.date(y, 12, 31) for y in range(lo.year, hi.year + 1) if dt.date(y, 12, 31) <= hi.date()]
    if not ends or ends[-1] != hi.date():
        ends.append(hi.date())
    return ends


def sensitive_stays(data: Dataset, min_sensitivity: int, gap_days: int) -> pd.DataFrame:
    """Each employee's stay in sensitive posts at one department at every measuring date (see :func:`_as_of_dates`).

    Returns ``employee_id, department_id, position_id`` (the post held on the date), ``title_zh, title_en, since``
    (first day of the stay), ``as_of`` and ``tenure`` (years, 365.25 days).  Assignments at the same department
    that follow each other within ``gap_days`` are one stay.
    """
    dates = _as_of_dates(data)
    if not dates:
        return pd.DataFrame(columns=["employee_id", "department_id", "position_id", "title_zh", "title_en", "since",
                                     "as_of", "tenure"])
    ends = ", ".join(f"DATE '{d.isoformat()}'" for d in dates)
    return data.sql(f"""
        WITH a AS (
            SELECT ph.employee_id, ph.department_id, ph.position_id, p.title_zh, p.title_en,
                   CAST(ph.start_date AS DATE) AS start_date, coalesce(CAST(ph.end_date AS DATE), {_FAR}) AS end_date
            FROM post_history ph JOIN positions p USING (position_id)
            WHERE p.sensitivity >= {int(min_sensitivity)}),
        b AS (
            SELECT *, CASE WHEN lag(department_id) OVER w = department_id
                            AND start_date <= lag(end_date) OVER w + INTERVAL {int(gap_days) + 1} DAY THEN 0 ELSE 1 END AS new_stay
            FROM a WINDOW w AS (PARTITION BY employee_id ORDER BY start_date, end_date)),
        c AS (
            SELECT *, sum(new_stay) OVER (PARTITION BY employee_id ORDER BY start_date, end_date
                                          ROWS UNBOUNDED PRECEDING) AS stay
            FROM b),
        s AS (
            SELECT *, min(start_date) OVER (PARTITION BY employee_id, stay) AS since FROM c),
        d AS (SELECT unnest([{ends}]) AS as_of)
        SELECT s.employee_id, s.department_id, s.position_id, s.title_zh, s.title_en, s.since, d.as_of,
               date_diff('day', s.since, d.as_of) / 365.25 AS tenure
        FROM s JOIN d ON d.as_of BETWEEN s.start_date AND s.end_date
        QUALIFY row_number() OVER (PARTITION BY s.employee_id, d.as_of ORDER BY s.start_date DESC, s.position_id, s.department_id) = 1""")


def _stations_of(data: Dataset) -> dict[str, str]:
    """department_id → station_id, where the stations table is present."""
    if not data.has("stations"):
        return {}
    s = data.sql("SELECT department_id, station_id FROM stations")
    return dict(zip(s.department_id, s.station_id))


# -- HR-001 -----------------------------------------------------------------------------------------------------------
@register
class UnrotatedTenure(Indicator):
    """Years in a sensitive post at one unit beyond the rotation rule."""

    id = "HR-001"
    title_zh = "敏感岗位长期未轮岗"
    title_en = "Sensitive post held beyond the rotation period"
    entity = "employee"
    grain = "year"
    tables = ("post_history", "positions")
    severity = 1
    threshold_method = "given"
    why = ("The longer one person holds a post with discretion over money, grades or suppliers in one unit, the more "
           "the relationships around the post become personal (关系网); rotation of key posts (重要岗位轮岗交流) is the "
           "standing control, and a holder past the rotation period is a gap in it.  Long tenure is a condition, not "
           "misconduct: it tells the office where a look at the person's business is most worthwhile.")
    source = ("中共中央《党政领导干部交流工作规定》(2006) 第四条、第六条 (rotation after long tenure in one post); 国家烟草专卖局 "
              "烟草行业重要岗位人员轮岗交流 rules; 中央纪委国家监委 廉洁风险防控 (关键岗位定期轮岗); the company's rule "
              "policy.rotation_years.")
    methodology = ("From post_history joined to positions (sensitivity ≥ `min_sensitivity`): each employee's consecutive "
                   "sensitive assignments at one department (gaps of at most `gap_days`) make one stay.  At each year-end "
                   "in the data's period and at the period's last day, the value is the years since the stay began for "
                   "everyone then in such a stay.  The threshold is `rotation_years`, or the company's policy."
                   "rotation_years when that is left empty; it fires at or beyond it.")
    example = ("Station manager E5 has run station ST12 since 2014-03-01; at 2024-12-31 the value is 10.8 years against a "
               "rule of 5: fires.")
    output = ("One row per employee and measuring date: value = years in the stay; threshold = the rotation period; "
              "since, title; department_id and station_id of the unit.")
    exclusions = ("Fires on tenure alone: a manager of a remote station that nobody wants to rotate into, or a specialist "
                  "kept in post on purpose, fires as surely as one who has built a network — HR-002 and the office's "
                  "judgement tell them apart.  Leaders and department heads hold sensitivity-3 posts and fire too; their "
                  "rotation may follow cadre rules with longer periods, which can be set through `rotation_years` only "
                  "for all posts at once.  Time before the first recorded assignment is unknown and not counted.")
    reason_zh = "自{since:%Y-%m-%d}起在同一单位担任{title_zh}等敏感岗位已{value:.1f}年，超过{threshold:.0f}年轮岗要求"
    reason_en = ("has held {title_en} (a sensitive post) in the same unit since {since:%Y-%m-%d}, {value:.1f} years, "
                 "beyond the {threshold:.0f}-year rotation rule")

    class Params(Params):
        rotation_years: float | None = None
        min_sensitivity: int = 3
        gap_days: int = 31

    def compute(self, data: Dataset) -> pd.DataFrame:
        p = self.params
        df = sensitive_stays(data, p.min_sensitivity, p.gap_days)
        if df.empty:
            return df
        years = float(p.rotation_years if p.rotation_years is not None else self.policy.rotation_years)
        st = _stations_of(data)
        return pd.DataFrame({
            "entity_id": df.employee_id, "employee_id": df.employee_id, "department_id": df.department_id,
            "station_id": df.department_id.map(st), "period": pd.to_datetime(df.as_of), "value": df.tenure.astype(float),
            "threshold": years, "since": pd.to_datetime(df.since), "title_zh": df.title_zh, "title_en": df.title_en,
            "position_id": df.position_id})


# -- HR-002 -----------------------------------------------------------------------------------------------------------
def _holiday_dates(years: range) -> list[dt.date]:
    """Statutory holiday days (the whole break, weekends inside it included; make-up workdays excluded) in the years
    ``chinesecalendar`` covers."""
    return sorted(d for d in chinese_calendar.holidays if d.year in years)


@register
class TenureWithFestivalSpending(Indicator):
    """A long-tenured sensitive-post holder whose festival-day hospitality and fuel claims stand out from peers."""

    id = "HR-002"
    title_zh = "长期未轮岗人员节假日招待及用车费用异常"
    title_en = "Long-tenured post holder with festival-day hospitality and fuel far above peers"
    entity = "employee"
    grain = "year"
    tables = ("post_history", "positions", "claims")
    severity = 2
    threshold_method = "given"
    why = ("A relationship network around a long-held post is kept up with favours, and the favours show on festival "
           "days: banquets on public funds and official cars used privately over the Spring Festival, National Day and "
           "the other statutory holidays (节日期间公款吃喝、公车私用), the first things the eight-point rules (中央八项规定) "
           "inspections look for.  Either sign alone has an innocent reading; together, in the same person, they are "
           "what the tenure rule exists to prevent.")
    source = ("中共中央《关于改进工作作风、密切联系群众的八项规定》及其实施细则 (节日期间公款吃喝、公车私用); 中央纪委 节日"
              "期间纠治“四风” notices; 《党政领导干部交流工作规定》 (rotation); Tukey (1977) (fences).")
    methodology = ("Holders found by HR-001's rule (a stay in sensitive posts at one department of at least the rotation "
                   "period, measured at each year-end).  For each holder and year, the value is the amount of their claims "
                   "in `categories` dated on statutory holiday days (the whole break as the State Council sets it, from "
                   "the maintained chinesecalendar package; make-up workdays are workdays) in that year.  The threshold "
                   "is Tukey's fence Q3 + `fence_k` × IQR of the same amount among everyone holding the same post at that "
                   "year-end, long-tenured or not (fewer than `min_peers`: all sensitive-post holders), and never below "
                   "`min_amount`.")
    example = ("Station manager E8, 11 years at ST05, claimed 9 hospitality and 6 fuel items on holiday days in 2024, "
               "CNY 8,900; station managers' fence is CNY 2,900: fires.")
    output = ("One row per long-tenured holder and year: value = festival-day amount; threshold = the peer fence; "
              "n_claims, tenure; evidence: the claims.")
    exclusions = ("Holders within the rotation period are not scored (their spending is the reimbursement family's "
                  "subject).  A long-tenured holder with ordinary festival spending — the remote station's manager "
                  "who simply was not rotated — stays silent.  Years outside the calendar package's coverage have no "
                  "holidays and score 0.  Stations work through weekends in the season, so only statutory holidays "
                  "count, not weekends.")
    reason_zh = ("在{title_zh}岗位连续{tenure:.1f}年未轮岗，{year}年节假日报销招待、用车等费用{n_claims}笔共{value:,.0f}元，"
                 "高于同岗位人员上限{threshold:,.0f}元")
    reason_en = ("{tenure:.1f} years in {title_en} without rotation, and in {year} claimed {n_claims} hospitality and fuel "
                 "items on statutory holidays, CNY {value:,.0f}, above the fence for the post of CNY {threshold:,.0f}")

    class Params(Params):
        rotation_years: float | None = None
        min_sensitivity: int = 3
        gap_days: int = 31
        categories: tuple[str, ...] = ("hospitality", "fuel", "toll")
        fence_k: float = 1.5
        min_peers: int = 5
        min_amount: float = 2000.0

    def compute(self, data: Dataset) -> pd.DataFrame:
        p = self.params
        stays = sensitive_stays(data, p.min_sensitivity, p.gap_days)
        if stays.empty:
            return pd.DataFrame()
        stays["year"] = pd.to_datetime(stays.as_of).dt.year
        stays = stays.sort_values("as_of").drop_duplicates(["employee_id", "year"], keep="last")
        years = range(int(stays.year.min()), int(stays.year.max()) + 1)
        days = _holiday_dates(years)
        cats = ", ".join(f"'{c}'" for c in p.categories)
        if days:
            hol = ", ".join(f"DATE '{d.isoformat()}'" for d in days)
            claims = data.sql(f"""
                SELECT employee_id, year(expense_date) AS year, count(*) AS n_claims, sum(amount) AS amount,
                       list(claim_id ORDER BY expense_date, claim_id) AS evidence
                FROM claims
                WHERE category IN ({cats}) AND list_contains([{hol}], CAST(expense_date AS DATE))
                GROUP BY ALL""")
        else:
            claims = pd.DataFrame(columns=["employee_id", "year", "n_claims", "amount", "evidence"])
        df = stays.merge(claims, on=["employee_id", "year"], how="left")
        df["amount"] = df.amount.fillna(0.0).astype(float)
        df["n_claims"] = df.n_claims.fillna(0).astype(int)
        df["evidence"] = [e if isinstance(e, (list, np.ndarray)) else [] for e in df.evidence]
        # peer fence: everyone holding the same post at the year-end; small posts fall back to all holders that year
        grp = df.groupby(["position_id", "year"]).amount
        q1, q3, n = grp.transform(lambda v: v.quantile(0.25)), grp.transform(lambda v: v.quantile(0.75)), grp.transform("size")
        yr = df.groupby("year").amount
        y1, y3 = yr.transform(lambda v: v.quantile(0.25)), yr.transform(lambda v: v.quantile(0.75))
        fence = np.where(n >= p.min_peers, q3 + p.fence_k * (q3 - q1), y3 + p.fence_k * (y3 - y1))
        df["threshold"] = np.maximum(fence, p.min_amount)
        years_rule = float(p.rotation_years if p.rotation_years is not None else self.policy.rotation_years)
        df = df[df.tenure >= years_rule]
        st = _stations_of(data)
        return pd.DataFrame({
            "entity_id": df.employee_id, "employee_id": df.employee_id, "department_id": df.department_id,
            "station_id": df.department_id.map(st), "period": pd.to_datetime(df.year.astype(str) + "-01-01"),
            "year": df.year, "value": df.amount, "threshold": df.threshold, "n_claims": df.n_claims,
            "tenure": df.tenure.astype(float), "title_zh": df.title_zh, "title_en": df.title_en, "evidence": df.evidence})


# -- HR-003 -----------------------------------------------------------------------------------------------------------
@register
class GradingOutsidePost(Indicator):
    """Leaf graded by someone who was not posted as a grader at that station on that day."""

    id = "HR-003"
    title_zh = "非本站在岗定级员定级"
    title_en = "Leaf graded by someone not posted as grader at the station"
    entity = "employee"
    grain = "year"
    tables = ("leaf_purchases", "post_history", "positions", "stations")
    severity = 2
    why = ("Grading sets the price, so only certified graders posted to the station may grade there (持证上岗、定岗定责).  "
           "Grades entered under someone who was not posted there — a rotated-away grader still grading at the old "
           "station, a station manager or weigher grading himself, a borrowed login — break the separation of duties "
           "that the purchasing rules rely on and defeat rotation.")
    source = ("国家烟草专卖局《烟叶收购质量管理办法》 (定级员持证上岗); county tobacco bureaus' 烟叶收购“严禁” rules; COSO "
              "Internal Control — Integrated Framework (2013), principle 10 (segregation of duties).")
    methodology = ("Each lot's grader is looked up in post_history: the lot is in post when on the purchase day the grader "
                   "held a post with post code in `grading_posts` at the station's department.  Per grader × station × "
                   "crop year, the value is the number of lots graded out of post; it fires at `threshold` lots.")
    example = ("E31 was rotated from ST02 to ST09 on 1 March 2024; 140 lots at ST02 in October 2024 carry E31 as grader: "
               "value 140, fires.")
    output = "value: lots graded out of post; n_lots, kg; evidence: the lots; station_id; employee_id: the grader."
    exclusions = ("Authorised stand-ins (顶岗) recorded outside post_history fire and are cleared by the record of the "
                  "authorisation; a post history with missing assignments makes everyone in it fire, so check that first "
                  "when a whole station lights up.")
    reason_zh = "{year}年在{station_id}以定级员身份定级{value:.0f}批（{kg:,.0f}公斤），当时并未在该站定级岗位任职"
    reason_en = ("in {year} graded {value:.0f} lots ({kg:,.0f} kg) at {station_id} without holding a grading post there at "
                 "the time")

    class Params(Params):
        grading_posts: tuple[str, ...] = ("grader",)
        threshold: float = 1.0

    def compute(self, data: Dataset) -> pd.DataFrame:
        posts = ", ".join(f"'{c}'" for c in self.params.grading_posts)
        return data.sql(f"""
            WITH posted AS (
                SELECT ph.employee_id, s.station_id, CAST(ph.start_date AS DATE) AS start_date,
                       coalesce(CAST(ph.end_date AS DATE), {_FAR}) AS end_date
                FROM post_history ph
                JOIN positions p USING (position_id)
                JOIN stations s ON s.department_id = ph.department_id
                WHERE p.post_code IN ({posts})),
            out_of_post AS (  -- an anti join: DuckDB plans NOT EXISTS here as a delim join over all the lots' columns
                SELECT l.purchase_id, l.grader_id, l.station_id, l.purchased_at, l.weight_kg
                FROM leaf_purchases l
                ANTI JOIN posted q ON q.employee_id = l.grader_id AND q.station_id = l.station_id
                                  AND CAST(l.purchased_at AS DATE) BETWEEN q.start_date AND q.end_date)
            SELECT grader_id AS entity_id, grader_id AS employee_id, station_id, year(purchased_at) AS year,
                   make_date(year(purchased_at), 1, 1) AS period, count(*) AS value, count(*) AS n_lots,
                   sum(weight_kg) AS kg, list(purchase_id ORDER BY purchased_at, purchase_id) AS evidence
            FROM out_of_post
            GROUP BY grader_id, station_id, year(purchased_at)""")
