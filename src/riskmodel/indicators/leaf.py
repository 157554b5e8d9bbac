"""Leaf-purchasing red flags (``LEAF-…``): grading, contracts, plans, opening hours.

The industry's purchasing rules (the "严禁" lists county tobacco bureaus publish for station managers, graders and
inspectors) name what this family watches:

* grade manipulation — a grader whose grade structure is far from the other graders at the same station and season
  (LEAF-001), a grader who gives particular growers better levels than those growers get from everyone else
  (抬级抬价, 人情烟, LEAF-002) or worse ones (压级压价, LEAF-003), with the evidence of the seasons a favour has
  gone on for pooled (earlier seasons only: a season's result is final when it ends);
* quantities — purchases beyond a grower's contract (超合同, LEAF-004), without a contract or from growers of
  another station's area (无合同, 跨区收购, LEAF-005), beyond the station's plan (超计划, LEAF-007), a station whose
  share of over-contract purchasing stands out from the other stations (LEAF-008), and deliveries implausible for
  the planted area (LEAF-009, the trace leaf trafficking leaves: 倒买倒卖);
* hours — purchasing at night (夜间收购, LEAF-006).

Grades are position letter (B upper, C cutter, X lug) + level (1 best … 4) + colour, e.g. ``C2F``; only the level is
compared between graders, after removing the station's, season's and stalk position's average level, so a station
whose leaf really is better is compared with itself.

Station-level breaches (LEAF-006, LEAF-007, LEAF-008) are linked to the station manager (站长) in post at the time,
from ``post_history``, where that table, ``positions`` and ``stations`` are present: the station manager answers for
what the station buys and when.  Grower-level quantity flags (LEAF-004, LEAF-005, LEAF-009) link the grower and the
station only — a single grower's overrun says little about the manager, the station's share of them (LEAF-008) does.
Grading flags link the grader.  Crop year = calendar year of the purchase (the season runs September–December).

When a flag is dated (``period``): when its evidence is complete, never before.  A season-level row (a grower's,
station's or grader's season, a grader × grower pair's season) is dated at the last purchase its value, threshold or
test reads: the unit's last purchase of the season where only the unit's lots count (LEAF-004, LEAF-005, LEAF-007,
LEAF-008), the last purchase of its peer group where peers set the threshold (LEAF-009), and the company's last
purchase of the season where the p-values are adjusted across every grader of the season (LEAF-001, LEAF-002,
LEAF-003).  A night session (LEAF-006) is dated at its last lot.  So a quarter's features hold only what could be
known by its end: a season's flags light the quarter of its last purchase (October–December here), not the quarters
before it, and the station manager linked is the one in post on that date.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

from riskmodel.data.dataset import Dataset
from riskmodel.indicators.base import Indicator, Params, dataset_cache
from riskmodel.indicators.registry import register

_NO_END = pd.Timestamp("2262-04-11")
#: grader × grower comparisons per dataset and parameters (LEAF-002 and LEAF-003 share them)
_PAIRS = dataset_cache()
#: the indicators that read the grader × grower pairs (the cached pairs are dropped once all of them have)
PAIR_USERS = frozenset({"LEAF-002", "LEAF-003"})
#: the baselines a low-baseline pair can be compared with (``baseline_prior``)
_PRIORS = ("station", "none")


# -- shared helpers ---------------------------------------------------------------------------------------------------
def station_managers(data: Dataset) -> pd.DataFrame:
    """Station managers' terms: ``station_id, employee_id, start_date, end_date`` (open end: far future).

    Empty when ``post_history``, ``positions`` or ``stations`` is missing.
    """
    cols = ["station_id", "employee_id", "start_date", "end_date"]
    if not data.has("post_history", "positions", "stations"):
        return pd.DataFrame(columns=cols)
    m = data.sql("""
        SELECT s.station_id, ph.employee_id, CAST(ph.start_date AS TIMESTAMP) AS start_date,
               CAST(ph.end_date AS TIMESTAMP) AS end_date
        FROM post_history ph
        JOIN positions p USING (position_id)
        JOIN stations s ON s.department_id = ph.department_id
        WHERE p.post_code = 'station_manager'""")
    m["end_date"] = m.end_date.fillna(_NO_END)
    return m[cols]


def attach_manager(data: Dataset, df: pd.DataFrame, at: str = "period") -> pd.DataFrame:
    """Set ``employee_id`` to the manager of the row's ``station_id`` on the row's ``at`` date (the latest appointed
    where terms overlap; empty where none is known).  Vectorised: one merge on station, one filter on dates."""
    df = df.reset_index(drop=True)
    m = station_managers(data)
    if m.empty or df.empty:
        df["employee_id"] = None
        return df
    key = df[["station_id", at]].reset_index(names="_row")
    key[at] = pd.to_datetime(key[at])
    j = key.merge(m, on="station_id")
    j = j[(j[at] >= j.start_date) & (j[at] <= j.end_date + pd.Timedelta(days=1))]
    j = j.sort_values("start_date").drop_duplicates("_row", keep="last").set_index("_row").employee_id
    df["employee_id"] = df.index.map(j)
    df["employee_id"] = df.employee_id.astype(object).where(df.employee_id.notna(), None)
    return df


def _lots_sql() -> str:
    """Lots with season (crop year), level 1–4 and stalk position parsed from the grade code."""
    return """
        SELECT purchase_id, station_id, grader_id, grower_id, purchased_at, weight_kg,
               year(purchased_at) AS yr,
               TRY_CAST(substr(grade, 2, 1) AS INTEGER) AS lvl,
               substr(grade, 1, 1) AS pos
        FROM leaf_purchases
        WHERE TRY_CAST(substr(grade, 2, 1) AS INTEGER) BETWEEN 1 AND 4"""


def _season_end_sql() -> str:
    """The company's last purchase of each crop year: ``yr, season_end``."""
    return "SELECT year(purchased_at) AS yr, max(purchased_at) AS season_end FROM leaf_purchases GROUP BY ALL"


def bh_adjust(p: np.ndarray) -> np.ndarray:
    """Benjamini–Hochberg adjusted p-values (q-values); NaN stays NaN.

    Examples
    --------
    >>> bh_adjust(np.array([0.01, 0.04, np.nan, 0.03])).round(3).tolist()
    [0.03, 0.04, nan, 0.04]
    """
    p = np.asarray(p, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    if ok.any():
        out[ok] = stats.false_discovery_control(p[ok], method="bh")
    return out


def _chi_square_rows(obs_a: np.ndarray, obs_b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pearson's chi-square test of homogeneity of two count vectors per row (2 × k tables, vectorised over rows).

    Returns the statistic and its p-value; columns empty in both rows are dropped from the degrees of freedom.
    """
    tab = np.stack([obs_a, obs_b], axis=1).astype(float)  # rows × 2 × k
    row = tab.sum(axis=2, keepdims=True)
    col = tab.sum(axis=1, keepdims=True)
    n = tab.sum(axis=(1, 2), keepdims=True)
    exp = row * col / np.where(n > 0, n, 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        stat = np.where(exp > 0, (tab - exp) ** 2 / exp, 0.0).sum(axis=(1, 2))
    dof = (col[:, 0, :] > 0).sum(axis=1) - 1
    p = np.where(dof > 0, stats.chi2.sf(stat, np.maximum(dof, 1)), 1.0)
    return stat, p


# -- LEAF-001 ---------------------------------------------------------------------------------------------------------
@register
class GraderGradeStructure(Indicator):
    """A grader's grade-level structure far from the other graders at the same station and season."""

    id = "LEAF-001"
    title_zh = "定级员等级结构偏离同站同季其他定级员"
    title_en = "Grader's grade structure far from the station's other graders"
    entity = "employee"
    grain = "year"
    tables = ("leaf_purchases",)
    severity = 2
    why = ("Graders at one station in one season see the same leaf (growers queue to whichever line is free), so their "
           "grade structures should agree.  A grader who consistently grades higher than the colleagues beside him "
           "raises prices for someone (抬级抬价, 人情烟); one who grades lower presses growers' prices (压级压价).  The "
           "rules ask stations to watch graders' and stations' grade structures against their peers.")
    source = ("烟叶收购“八严禁”/“十严禁” rules of county tobacco bureaus (严禁压级压价、抬级抬价、人情烟); 国家烟草专卖局"
              "《烟叶收购质量管理办法》(grade structure monitoring); Agresti, Categorical Data Analysis (2013) §3.2 "
              "(chi-square test of homogeneity); Benjamini & Hochberg (1995) (false discovery rate).")
    methodology = ("For each grader × station × season (crop year) with at least `min_lots` lots, the counts of levels 1–4 "
                   "are compared with the pooled counts of all other graders at that station in that season (who must have "
                   "at least `min_lots` lots between them) by Pearson's chi-square test of homogeneity (2 × 4 table).  "
                   "P-values are adjusted for the number of grader-stations tested in the season, company-wide "
                   "(Benjamini–Hochberg per season: a later season never changes an earlier one's result).  The effect is "
                   "the shift in mean level, peers' mean minus the grader's (positive: the grader grades better); the "
                   "Jensen–Shannon divergence of the two level distributions is reported beside it.  The value is the "
                   "absolute shift where the adjusted p-value is below `alpha`, else 0; it fires at `threshold` levels.  The "
                   "row is dated at the season's last purchase in the company (the adjustment reads every station's "
                   "season), so it enters the features of the quarter in which its evidence is complete.")
    example = ("Station ST01, 2024: grader E1 gives level 1–2 to 70 % of 600 lots, the four other graders together to "
               "45 % of 2,400 lots; mean levels 2.05 vs 2.60, q < 0.001: value 0.55, fires.")
    output = ("value: |peers' mean level − grader's mean level| when significant (0 otherwise); shift: the signed shift; "
              "jsd: Jensen–Shannon divergence (bits); q: the adjusted p-value; period: the season's last purchase in the "
              "company (when the evidence is complete); employee_id: the grader.")
    exclusions = ("A station whose leaf really is better is compared with itself (peers are the same station's graders), "
                  "so it does not fire.  Grader-seasons with fewer than `min_lots` lots, or whose station has no other "
                  "grader with enough lots, are not scored.  Only the level is compared (stalk position and colour are "
                  "not); growers are assumed to reach graders without regard to the grader — where a station assigns "
                  "graders to villages, differences in villages' leaf show up here and need a human look.  With two or "
                  "three graders at a station, one grader far off makes the others look off the other way: read the "
                  "station's graders together.")
    reason_zh = "{year}年该定级员在{station_id}定级{n_lots}批，平均等级比同站其他定级员{direction_zh}{value:.2f}级（校正后p={q:.1g}）"
    reason_en = ("in {year} this grader graded {n_lots} lots at {station_id}, {value:.2f} levels {direction_en} on average "
                 "than the station's other graders (adjusted p={q:.1g})")

    class Params(Params):
        min_lots: int = 100
        alpha: float = 0.01
        threshold: float = 0.25

    def compute(self, data: Dataset) -> pd.DataFrame:
        p = self.params
        c = data.sql(f"""
            WITH lots AS ({_lots_sql()})
            SELECT station_id, yr, grader_id, lvl, count(*) AS n FROM lots GROUP BY ALL""")
        season_end = data.sql(_season_end_sql()).set_index("yr").season_end
        if c.empty:
            return pd.DataFrame()
        w = c.pivot_table(index=["station_id", "yr", "grader_id"], columns="lvl", values="n", fill_value=0, aggfunc="sum")
        w = w.reindex(columns=[1, 2, 3, 4], fill_value=0)
        own = w.to_numpy(dtype=float)
        tot = w.groupby(level=["station_id", "yr"]).transform("sum").to_numpy(dtype=float)
        peer = tot - own
        n_own, n_peer = own.sum(axis=1), peer.sum(axis=1)
        keep = (n_own >= p.min_lots) & (n_peer >= p.min_lots)
        if not keep.any():
            return pd.DataFrame()
        idx = w.index[keep].to_frame(index=False)
        own, peer, n_own, n_peer = own[keep], peer[keep], n_own[keep], n_peer[keep]
        _, pv = _chi_square_rows(own, peer)
        # one family per season: a season's result is final when the season is (later seasons do not move it)
        q = np.full(len(pv), np.nan)
        for yr in np.unique(idx.yr):
            m = (idx.yr == yr).to_numpy()
            q[m] = bh_adjust(pv[m])
        levels = np.arange(1, 5)
        shift = (peer @ levels) / n_peer - (own @ levels) / n_own
        pa, pb = own / n_own[:, None], peer / n_peer[:, None]
        mid = (pa + pb) / 2
        with np.errstate(divide="ignore", invalid="ignore"):
            kl = lambda a: np.where(a > 0, a * np.log2(a / mid), 0.0).sum(axis=1)  # noqa: E731
            jsd = (kl(pa) + kl(pb)) / 2
        sig = q < p.alpha
        out = pd.DataFrame({
            "entity_id": idx.grader_id, "employee_id": idx.grader_id, "station_id": idx.station_id,
            "year": idx.yr.astype(int), "period": pd.to_datetime(idx.yr.map(season_end)),
            "value": np.where(sig, np.abs(shift), 0.0), "shift": shift, "jsd": jsd, "q": q, "n_lots": n_own.astype(int),
            "direction_zh": np.where(shift >= 0, "高", "低"), "direction_en": np.where(shift >= 0, "better", "worse")})
        return out


# -- LEAF-002 / LEAF-003 ----------------------------------------------------------------------------------------------
def grader_grower_pairs(data: Dataset, min_lots: int, min_other_lots: int, min_share: float,
                        max_seasons: int = 3, baseline_prior: str = "station", user: str | None = None) -> pd.DataFrame:
    """Grade each grader gives each of his regular growers, pooled over the seasons the grower has been his regular up
    to the current one, against the grade the grower gets from the station's other graders in those seasons and the
    earlier ones.

    Levels are first made comparable: from each lot's level the average level of its station × season × stalk
    position is subtracted (station and year quality, position mix), then the grader's own average residual at that
    station and season over the growers who are not his regulars that season (a generally lenient or strict grader is
    LEAF-001's subject, not favour to a person; his regulars are left out of that average so that favour does not hide
    in it).  A grower is the grader's *regular* in a season when the grader graded at least ``min_share`` of the
    grower's lots at the station that season.  For each grader × grower × station and each season S in which the
    grower is his regular, the grader's lots of the grower in every season up to S in which the grower was his regular
    are pooled (residuals are season-adjusted, so seasons pool; a favour that goes on accumulates evidence instead of
    starting afresh every season) and their mean residual is compared with the mean residual of the grower's lots
    graded by anyone else at the station in S or an earlier season (the baseline: a favoured grower brings most of a
    season's lots to his grader, so one season's other lots are often too few).  Nothing after S is read: a pooled row
    for S is final when S is.

    Where the others graded fewer than ``min_other_lots`` of the grower's lots up to S — a first-season grower, or one
    favoured from his first season on, who brings nearly every lot to his grader — their mean says too little.  With
    ``baseline_prior="station"`` (the default) such a pair is compared with an empirical-Bayes baseline instead of
    being left out: the others' mean (if any) shrunk towards the station's average over the same seasons (close to 0
    after the adjustments above) with weight ``n0·τ² / (n0·τ² + σ²)``, where σ² is the per-lot variance of a grower's
    mean (the within-grower variance times the design effect below) and τ² the variance of growers' true levels at the
    station over the seasons up to S (one-way random-effects moment estimator, :func:`station_grower_variance`); the
    baseline's variance ``σ²·τ² / (n0·τ² + σ²)`` goes into the standard error, so the spread of growers' leaf counts
    against the pair.  Pairs with at least ``min_other_lots`` lots by others keep the others' mean (variance σ²/n0):
    their own record with the other graders is the fairer baseline for a grower whose leaf really is better.  With
    ``"none"`` the low-baseline pairs are left out, as before the prior existed (use it where a station assigns
    graders to villages: there the station's average is no baseline for one village's growers).

    ``diff`` = baseline − this grader's mean (positive: the grader grades this grower better) and ``z`` = diff /
    ``se``, its standard error, from the within-grower variance of the station over the seasons up to S, a design
    effect for lots of one delivery being alike (from the intra-delivery correlation of the residuals), the
    baseline's variance and ``var_g``, the variance of the pooled leniency correction (the lot-weighted per-season
    variances of the grader's leniency estimate, cluster-robust over his occasional growers; that error is shared by
    all his pairs of a season).

    Returns the eligible pair-seasons only — the grower is the grader's regular in S, the pooled seasons hold at least
    ``min_lots`` of the grader's lots of the grower, and others graded at least ``min_other_lots`` of the grower's
    lots up to S — with ``grader_id, grower_id, station_id, yr, n1, n0, share, diff, se, z, var_g, base_from,
    seasons, n_seasons, last_at, season_end`` and, for k = 0 … ``max_seasons`` − 1, ``season_k, lots_k, var_g_k``
    (``yr``: the season S; ``n1``: the grader's pooled lots; ``share``: his share of the grower's lots at the station in
    the pooled seasons; ``n0``: the others' lots of the grower; ``base_weight``: the weight of the others' mean in the
    baseline (1 where it is their mean alone, less where the prior fills in); ``seasons``: the pooled seasons as a
    label, ``"2023–2025"``; ``season_k``: the k-th season before S if it is pooled (the grower was the grader's regular
    in it; else missing), with ``lots_k`` the grader's lots of the grower and ``var_g_k`` the variance of his leniency
    estimate in it — plain numeric columns, not lists, so that millions of pairs stay compact; ``base_from``: the
    baseline's first season; ``last_at``: the grader's last lot of the grower in S; ``season_end``: the company's last
    purchase of S).  Cached per dataset and parameters; ``user`` (an indicator id of :data:`PAIR_USERS`) says who reads
    it, and once every one of them has, the entry is dropped (at national scale it is more than a gigabyte, and the
    catalogue goes on for long after).
    """
    if baseline_prior not in _PRIORS:
        raise ValueError(f"baseline_prior must be one of {_PRIORS}, not {baseline_prior!r}")
    key = (int(min_lots), int(min_other_lots), float(min_share), int(max_seasons), str(baseline_prior))
    cached = _PAIRS.setdefault(data, {})
    if key not in cached:
        cached[key] = (_grader_grower_pairs(data, *key), set())
    frame, users = cached[key]
    if user is not None:
        users.add(user)
        if users >= PAIR_USERS:
            del cached[key]
    return frame.copy()


_PAIR_KEY = ["station_id", "grower_id", "grader_id", "yr"]


def _season_label(seasons) -> str:
    """``[2023, 2024, 2025]`` → ``"2023–2025"``; ``[2023, 2025]`` → ``"2023, 2025"``; ``[2024]`` → ``"2024"``."""
    s = [int(v) for v in seasons]
    if len(s) > 1 and s == list(range(s[0], s[-1] + 1)):
        return f"{s[0]}–{s[-1]}"
    return ", ".join(str(v) for v in s)


def pair_lots(data: Dataset, pairs: pd.DataFrame) -> list[list[str]]:
    """The grader's lots of the grower at the station in the pooled seasons (purchase ids in time order), per row of
    ``pairs`` (``station_id``, ``grower_id``, ``grader_id``, ``yr`` and the pooled seasons' ``season_0`` … columns of
    :func:`grader_grower_pairs`; without them, season ``yr`` alone).  Fetched for the pairs that fired only: the lists of every eligible pair would
    cost more memory at scale than everything else the indicator holds."""
    if pairs.empty:
        return []
    pairs = pairs.reset_index(drop=True)
    p = pairs[_PAIR_KEY].reset_index(names="_row")
    long = (_pooled_seasons(pairs) if "season_0" in pairs
            else pd.DataFrame({"_row": np.arange(len(pairs)), "s": pairs.yr.to_numpy().astype("int64")}))
    p = p.merge(long[["_row", "s"]], on="_row")
    keys = p[["station_id", "grower_id", "grader_id", "s"]].drop_duplicates()
    with data.registered("_leaf_pairs", keys):
        ev = data.sql(f"""
            WITH lots AS ({_lots_sql()})
            SELECT station_id, grower_id, grader_id, yr AS s, list(purchase_id ORDER BY purchased_at, purchase_id) AS evidence
            FROM lots SEMI JOIN _leaf_pairs ON _leaf_pairs.station_id = lots.station_id
                 AND _leaf_pairs.grower_id = lots.grower_id AND _leaf_pairs.grader_id = lots.grader_id
                 AND _leaf_pairs.s = lots.yr
            GROUP BY ALL""")
    m = p.merge(ev.astype({"s": "int64"}), how="left", on=["station_id", "grower_id", "grader_id", "s"])
    m = m.sort_values(["_row", "s"], kind="stable")
    out: list[list[str]] = [[] for _ in range(len(pairs))]
    for row, e in zip(m._row.to_numpy(), m.evidence.to_numpy()):
        if isinstance(e, (list, np.ndarray)):
            out[row].extend(e)
    return out


def _season_columns(max_seasons: int) -> list[str]:
    return [f"{c}_{k}" for k in range(max_seasons) for c in ("season", "lots", "var_g")]


def _grader_grower_pairs(data: Dataset, min_lots: int, min_other_lots: int, min_share: float,
                         max_seasons: int, baseline_prior: str) -> pd.DataFrame:
    prior = baseline_prior == "station"
    per_season = ", ".join(f"any_value(r.yr) FILTER (WHERE c.yi - r.yi = {k}) AS season_{k}, "
                           f"any_value(r.n1) FILTER (WHERE c.yi - r.yi = {k}) AS lots_{k}, "
                           f"any_value(r.var_g) FILTER (WHERE c.yi - r.yi = {k}) AS var_g_{k}" for k in range(int(max_seasons)))
    season_cols = ", ".join(f"c.{c}" for c in _season_columns(int(max_seasons)))
    df = data.sql(f"""
        WITH lots AS ({_lots_sql()}),
        pm AS (SELECT station_id, yr, pos, avg(lvl) AS m FROM lots GROUP BY ALL),
        -- one row per delivery (grower × grader × day) with the level residuals' sums: everything below is
        -- aggregated from these
        dlv0 AS (
            SELECT l.station_id, l.grower_id, l.grader_id, l.yr, CAST(l.purchased_at AS DATE) AS dy, count(*) AS m,
                   sum(l.lvl - pm.m) AS s0, sum((l.lvl - pm.m) * (l.lvl - pm.m)) AS ss0, max(l.purchased_at) AS last_at
            FROM lots l JOIN pm USING (station_id, yr, pos) GROUP BY ALL),
        share AS (
            SELECT station_id, grower_id, grader_id, yr,
                   sum(m) / sum(sum(m)) OVER (PARTITION BY station_id, grower_id, yr) AS share
            FROM dlv0 GROUP BY station_id, grower_id, grader_id, yr),
        -- a grader's general leniency in the season, from the growers he sees only now and then (not his regulars,
        -- whose lots would carry any favour into it), and its variance (cluster-robust, growers as clusters): its
        -- error is shared by all his pairs of the season
        gm0 AS (
            SELECT d.station_id, d.yr, d.grader_id, d.grower_id, sum(d.s0) AS s, sum(d.m) AS m
            FROM dlv0 d JOIN share USING (station_id, grower_id, grader_id, yr)
            WHERE share.share < {float(min_share)} GROUP BY ALL),
        gm1 AS (SELECT station_id, yr, grader_id, sum(s) / sum(m) AS g FROM gm0 GROUP BY ALL),
        gm AS (
            SELECT station_id, yr, grader_id, gm1.g,
                   sum((gm0.s - gm0.m * gm1.g) * (gm0.s - gm0.m * gm1.g)) / (sum(gm0.m) * sum(gm0.m)) AS var_g
            FROM gm0 JOIN gm1 USING (station_id, yr, grader_id) GROUP BY ALL),
        dlv AS (
            SELECT d.station_id, d.grower_id, d.grader_id, d.yr, d.dy, d.m, d.last_at,
                   d.s0 - d.m * coalesce(gm.g, 0) AS s,
                   d.ss0 - 2 * coalesce(gm.g, 0) * d.s0 + d.m * coalesce(gm.g, 0) * coalesce(gm.g, 0) AS ss
            FROM dlv0 d LEFT JOIN gm USING (station_id, yr, grader_id)),
        -- grader × grower × station × season
        ps AS (
            SELECT station_id, grower_id, grader_id, yr, sum(m) AS n1, sum(s) AS s1, max(last_at) AS last_at
            FROM dlv GROUP BY ALL),
        -- the seasons in order (yi: 1, 2, …)
        yrs AS (SELECT yr, row_number() OVER (ORDER BY yr) AS yi FROM (SELECT DISTINCT yr FROM lots)),
        -- the seasons in which the grower is the grader's regular
        reg AS (
            SELECT p.*, yrs.yi, sum(p.n1) OVER (PARTITION BY station_id, grower_id, yr) AS n_all, coalesce(gm.var_g, 0) AS var_g
            FROM ps p JOIN yrs USING (yr) LEFT JOIN gm USING (station_id, grader_id, yr)
            QUALIFY p.n1 / sum(p.n1) OVER (PARTITION BY station_id, grower_id, yr) >= {float(min_share)}),
        -- windows: the seasons window_from … S that a test at season S pools (at most max_seasons of them, never a later one)
        win AS (
            SELECT a.yr, b.yr AS window_from FROM yrs a JOIN yrs b ON b.yr <= a.yr
            QUALIFY row_number() OVER (PARTITION BY a.yr ORDER BY b.yr DESC) <= {int(max_seasons)}),
        -- pooled: at each season S of a regular pair and each window window_from … S, the pair's regular seasons in the
        -- window, k seasons before S (k = 0 … max_seasons - 1) in plain columns: season_k, lots_k, var_g_k (NULL where the
        -- grower was not the grader's regular that season)
        cand1 AS (
            SELECT c.station_id, c.grower_id, c.grader_id, c.yr, win.window_from, any_value(c.last_at) AS last_at,
                   sum(r.n1) AS n1, sum(r.s1) AS s1, sum(r.n1) / sum(r.n_all) AS share,
                   any_value(c.n1) AS n1_now, any_value(c.s1) AS s1_now, {per_season},
                   sum(r.n1 * r.n1 * r.var_g) / (sum(r.n1) * sum(r.n1)) AS var_g
            FROM reg c JOIN win ON win.yr = c.yr
            JOIN reg r ON r.station_id = c.station_id AND r.grower_id = c.grower_id AND r.grader_id = c.grader_id
                      AND r.yr <= c.yr AND r.yr >= win.window_from
            GROUP BY c.station_id, c.grower_id, c.grader_id, c.yr, win.window_from
            HAVING sum(r.n1) >= {int(min_lots)}),
        -- the baseline: the grower's lots by the station's other graders, this season and the earlier ones
        base AS (
            SELECT c.station_id, c.grower_id, c.grader_id, c.yr, sum(o.n1) AS n0, sum(o.s1) AS s0, min(o.yr) AS base_from
            FROM (SELECT DISTINCT station_id, grower_id, grader_id, yr FROM cand1) c JOIN ps o ON o.station_id = c.station_id AND o.grower_id = c.grower_id AND o.yr <= c.yr
                                  AND o.grader_id <> c.grader_id
            GROUP BY ALL),
        seasons AS (SELECT DISTINCT station_id, yr FROM lots),
        -- variance within a grower (between his lots, over the same seasons as the baseline) and within one
        -- delivery, per station: their ratio gives the intra-delivery correlation, hence the design effect of
        -- counting lots rather than deliveries
        gr AS (SELECT station_id, grower_id, yr, sum(m) AS n, sum(s) AS s, sum(ss) AS ss FROM dlv GROUP BY ALL),
        grc AS (
            SELECT y.station_id, y.yr, g.grower_id, sum(g.n) AS n, sum(g.s) AS s, sum(g.ss) AS ss
            FROM seasons y JOIN gr g ON g.station_id = y.station_id AND g.yr <= y.yr GROUP BY ALL),
        v AS (
            SELECT station_id, yr, sum(ss - s * s / n) / nullif(sum(n) - count(*), 0) AS v_within_grower,
                   -- for the spread of growers' true levels (the baseline's prior): growers, lots, Σn², and the
                   -- between-grower sum of squares Σ n (mean − overall mean)²
                   count(*) AS n_growers, sum(n) AS n_lots, sum(n * n) AS n_sq, sum(s) / sum(n) AS station_mean,
                   sum(s * s / n) - sum(s) * sum(s) / sum(n) AS ss_between
            FROM grc GROUP BY ALL),
        w0 AS (
            SELECT station_id, yr, sum(ss - s * s / m) AS r, sum(m) AS n, count(*) AS k FROM dlv GROUP BY ALL),
        w AS (
            SELECT y.station_id, y.yr, sum(w0.r) / nullif(sum(w0.n) - sum(w0.k), 0) AS v_within_delivery,
                   sum(w0.n) / sum(w0.k) AS m_bar
            FROM seasons y JOIN w0 ON w0.station_id = y.station_id AND w0.yr <= y.yr GROUP BY ALL),
        se AS ({_season_end_sql()}),
        elig AS (
            SELECT c.station_id, c.grower_id, c.grader_id, c.yr, c.window_from, c.n1, coalesce(b.n0, 0) AS n0, c.share,
                   coalesce(b.s0, 0) AS s0, c.s1, c.n1_now, c.s1_now, coalesce(b.base_from, c.yr) AS base_from,
                   {season_cols},
                   c.last_at, se.season_end, v.v_within_grower, v.n_growers, v.n_lots, v.n_sq, v.ss_between,
                   v.station_mean,
                   w.v_within_delivery, w.m_bar, c.var_g
            FROM cand1 c
            LEFT JOIN base b USING (station_id, grower_id, grader_id, yr)
            JOIN v USING (station_id, yr)
            JOIN w USING (station_id, yr)
            JOIN se USING (yr)
            WHERE {"TRUE" if prior else f"coalesce(b.n0, 0) >= {int(min_other_lots)}"})
        SELECT * FROM elig ORDER BY station_id, yr, grader_id, grower_id, window_from""")
    if df.empty:
        return df
    vw = df.v_within_grower.astype(float)
    icc = ((vw - df.v_within_delivery.astype(float)) / vw).clip(lower=0, upper=1).fillna(0)
    deff = 1 + (df.m_bar.astype(float) - 1).clip(lower=0) * icc
    sigma2 = (vw * deff).fillna(0.0)  # per-lot variance of a grower's mean, clustering included
    n0, s0 = df.n0.astype(float), df.s0.astype(float)
    # the others' mean where they graded enough of the grower's lots; the empirical-Bayes baseline where they did not
    weight = pd.Series(1.0, index=df.index)
    with np.errstate(divide="ignore", invalid="ignore"):
        base, var_base = s0 / n0, sigma2 / n0
    low = (n0 < min_other_lots).to_numpy()
    if prior and low.any():
        tau2 = station_grower_variance(df.ss_between, df.n_growers, df.n_lots, df.n_sq, sigma2)
        den = n0 * tau2 + sigma2
        mean = df.station_mean.astype(float).fillna(0.0)
        weight = weight.mask(low, (n0 * tau2 / den).where(den > 0, 0.0))
        base = base.mask(low, ((s0 * tau2 + sigma2 * mean) / den).where(den > 0, mean))
        var_base = var_base.mask(low, (sigma2 * tau2 / den).where(den > 0, 0.0))
    df["diff"] = base - df.s1.astype(float) / df.n1
    df["diff_now"] = base - df.s1_now.astype(float) / df.n1_now
    df["base_weight"] = weight
    se = np.sqrt(sigma2 / df.n1 + var_base + df.var_g.astype(float))
    df["se"] = se.where(se > 0)
    df["z"] = df["diff"] / df.se
    seasons = df[[f"season_{k}" for k in range(int(max_seasons))]]
    df["n_seasons"] = seasons.notna().sum(axis=1)
    # the label of each distinct set of pooled seasons, made once per set
    sets = seasons.groupby(list(seasons.columns), dropna=False, sort=False).ngroup().to_numpy()
    first = pd.Series(np.arange(len(df))).groupby(sets).first()
    labels = {g: _season_label(sorted(v for v in seasons.iloc[i] if pd.notna(v))) for g, i in first.items()}
    df["seasons"] = pd.Series(sets).map(labels).to_numpy()
    return df.drop(columns=["v_within_grower", "v_within_delivery", "m_bar", "n_growers", "n_lots", "n_sq",
                            "ss_between", "station_mean", "s0", "s1", "n1_now", "s1_now"])


def station_grower_variance(ss_between, n_growers, n_lots, n_sq, sigma2):
    """Variance τ² of growers' true mean levels at a station: the one-way random-effects moment estimator.

    With growers g = 1 … G of nₘ lots (N in all) and the between-grower sum of squares B = Σ nₘ (ȳₘ − ȳ)²,
    E[B] = (G − 1) σ² + (N − Σ nₘ² / N) τ², so τ² = max(0, (B − (G − 1) σ²) / (N − Σ nₘ² / N)), σ² being the per-lot
    variance of a grower's mean (clustering included).  0 where it cannot be estimated.

    Parameters
    ----------
    ss_between, n_growers, n_lots, n_sq, sigma2 : array-like
        B, G, N, Σ nₘ² and σ², one value per station (and season window).

    Returns
    -------
    pandas.Series or numpy.ndarray
        τ², never negative.

    Examples
    --------
    >>> float(station_grower_variance(12.0, 5, 50, 500, 1.0))
    0.2
    """
    ss_between, n_growers, n_lots, n_sq, sigma2 = (np.asarray(v, dtype=float) if not isinstance(v, pd.Series)
                                                    else v.astype(float)
                                                    for v in (ss_between, n_growers, n_lots, n_sq, sigma2))
    den = n_lots - n_sq / n_lots
    tau2 = (ss_between - (n_growers - 1) * sigma2) / den
    tau2 = np.where((den > 0) & np.isfinite(tau2), tau2, 0.0)
    out = np.clip(tau2, 0.0, None)
    return pd.Series(out, index=ss_between.index) if isinstance(ss_between, pd.Series) else out


def _pooled_seasons(df: pd.DataFrame) -> pd.DataFrame:
    """The pooled seasons of each row of a pairs frame, long: ``_row`` (position in ``df``), ``k`` (seasons before
    the row's season S), ``s`` (the season), ``n_s`` (the grader's lots of the grower in it) and ``var_g`` (the
    variance of his leniency estimate in it), in ascending season order per row."""
    ks = sorted(int(c.rsplit("_", 1)[1]) for c in df.columns if c.startswith("season_") and c[7:].isdigit())
    parts = []
    for k in reversed(ks):
        have = df[f"season_{k}"].notna().to_numpy()
        rows = np.flatnonzero(have)
        parts.append(pd.DataFrame({"_row": rows, "k": k, "s": df[f"season_{k}"].to_numpy()[rows].astype("int64"),
                                   "n_s": df[f"lots_{k}"].to_numpy()[rows].astype(float),
                                   "var_g": df[f"var_g_{k}"].to_numpy()[rows].astype(float)}))
    long = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["_row", "k", "s", "n_s", "var_g"])
    return long.sort_values(["_row", "s"], kind="stable", ignore_index=True)


def _shared_leniency_variance(df: pd.DataFrame, w: pd.Series, key: list[str]) -> pd.Series:
    """The part of Var(Σ wᵢ zᵢ) over a grader's pairs that the shared leniency error adds, per row's group.

    Pair i's difference carries aᵢₛ = nᵢₛ / nᵢ of the grader's leniency error of season s (variance ``var_g``ₛ), so
    Cov(dᵢ, dⱼ) = Σₛ aᵢₛ aⱼₛ var_gₛ and, with zᵢ = dᵢ / seᵢ and wᵢ = 1 / seᵢ, the cross terms of Var(Σ wᵢ zᵢ) sum to
    Σₛ var_gₛ ((Σᵢ aᵢₛ wᵢ²)² − Σᵢ aᵢₛ² wᵢ⁴).
    """
    long = _pooled_seasons(df)
    long["a"] = long.n_s / df.n1.to_numpy(float)[long._row]
    w2 = (w.to_numpy(float) ** 2)[long._row]
    for k in key:
        long[k] = df[k].to_numpy()[long._row]
    long["aw2"], long["a2w4"] = long.a * w2, long.a ** 2 * w2 ** 2
    g = long.groupby([*key, "s"], sort=False).agg(aw2=("aw2", "sum"), a2w4=("a2w4", "sum"), var_g=("var_g", "first"))
    term = (g.var_g * (g.aw2 ** 2 - g.a2w4).clip(lower=0)).groupby(level=list(range(len(key)))).sum()
    return pd.Series(pd.MultiIndex.from_frame(df[key]).map(term), index=df.index).fillna(0.0)


def circle_count_p(z: pd.Series, groups, cut: float) -> pd.Series:
    """One-sided p-value, per row's group, of the number of z-scores at or above ``cut``.

    Under the null hypothesis the group's z-scores are standard normal (independent), so the count of those reaching
    ``cut`` among the group's n scores is Binomial(n, Φ̄(cut)); the p-value is its upper tail at the count observed.
    Missing z-scores do not count in n.

    Parameters
    ----------
    z : pandas.Series
        z-scores, NaN where a row has none.
    groups : list of pandas.Series or str
        the grouping (as for ``Series.groupby``).
    cut : float
        the z-score a row must reach to count.

    Returns
    -------
    pandas.Series
        the group's p-value on every row of the group.

    Examples
    --------
    >>> z = pd.Series([2.0, 2.5, 0.1, -0.3, 1.9, 0.0, -1.0, 0.2, 0.4, -0.2])
    >>> round(float(circle_count_p(z, [pd.Series(["g"] * 10)], 1.645).iloc[0]), 4)  # 3 of 10 at 5 % each
    0.0115
    """
    hit = (z >= cut).astype(float).where(z.notna())
    g = hit.groupby(groups)
    k, n = g.transform("sum"), g.transform("count")
    return pd.Series(stats.binom.sf(k - 1, n, stats.norm.sf(cut)), index=z.index).where(n > 0, 1.0)


def simes(p: np.ndarray) -> np.ndarray:
    """Simes' combination of each row's p-values: min over k of m·p₍ₖ₎ / k (valid under positive dependence).

    Examples
    --------
    >>> simes(np.array([[0.01, 0.04], [0.5, 0.2]])).round(3).tolist()
    [0.02, 0.4]
    """
    p = np.sort(np.asarray(p, dtype=float), axis=1)
    m = p.shape[1]
    return np.minimum((m * p / np.arange(1, m + 1)).min(axis=1), 1.0)


class _GraderFavour(Indicator):
    """Shared logic of LEAF-002 (sign +1: better levels) and LEAF-003 (sign −1: worse levels)."""

    sign: int = 1
    entity = "grower"
    grain = "year"
    tables = ("leaf_purchases",)
    severity = 3
    source = ("烟叶收购“严禁” rules of county tobacco bureaus (严禁抬级抬价、人情烟、关系烟；严禁压级压价); 国家烟草专卖局"
              "《烟叶收购质量管理办法》; Stouffer et al. (1949) and Lipták (1958) (combining z-scores, weighted); Strube (1985) "
              "(combining correlated tests); Cameron & Miller (2015) (cluster-robust variance); Simes (1986) and "
              "Sarkar (1998) (combining the nested windows' p-values, valid under positive dependence); Morris (1983) "
              "(empirical-Bayes shrinkage); Searle, Casella & McCulloch (1992) (one-way random-effects moment estimator "
              "of the between-grower variance); Benjamini & "
              "Hochberg (1995).")

    class Params(Params):
        min_lots: int = 6
        min_other_lots: int = 3
        min_share: float = 0.5
        alpha: float = 0.05
        pair_z: float = 1.28
        threshold: float = 0.3
        max_seasons: int = 3
        baseline_prior: Literal["station", "none"] = "station"
        circle_z: tuple[float, ...] = (1.645, 2.326)

    def compute(self, data: Dataset) -> pd.DataFrame:
        p = self.params
        df = grader_grower_pairs(data, p.min_lots, p.min_other_lots, p.min_share, p.max_seasons, p.baseline_prior, user=self.id)
        if df.empty:
            return pd.DataFrame()
        z = self.sign * df.z.astype(float).fillna(0.0)
        # stage 1: is this grader's set of regular growers of the season, each with the evidence of the seasons he
        # has been their grader in a window of seasons ending now, graded in this direction as a group?  Weighted
        # Stouffer per grader × station × season × window (weights 1/se: the inverse-variance test of a common shift;
        # regulars graded on more lots weigh more).  The pairs share the error of the grader's leniency estimates, so
        # their z-scores are correlated; the weighted sum's variance is Σ w² plus the cross terms of
        # _shared_leniency_variance.
        kw = ["grader_id", "station_id", "yr", "window_from"]
        groups = [df[k] for k in kw]
        w = (1 / df.se.astype(float)).where(z != 0, 0.0)  # pairs without a z-score (no variance) add nothing
        w2 = (w * w).groupby(groups).transform("sum")
        var = w2 + _shared_leniency_variance(df, w, kw)
        window_z = ((w * z).groupby(groups).transform("sum") / np.sqrt(var)).where(var > 0, 0.0)
        window_p = pd.Series(stats.norm.sf(window_z), index=df.index)
        if p.circle_z:
            # a favoured circle is often a few of many regulars: Stouffer's sum dilutes it among the fair ones.  The
            # number of regulars at least `c` standard errors in this direction, against the binomial count of
            # chance, is sensitive to a small circle; Simes' test combines it with Stouffer's (one hypothesis,
            # positively dependent statistics), so a group shift and a small circle are both found.
            tests = [window_p.to_numpy()] + [circle_count_p(z.where(w > 0), groups, c).to_numpy() for c in p.circle_z]
            window_p = pd.Series(simes(np.column_stack(tests)), index=df.index)
        # the windows of a grader-season (this season alone, the last two, … up to max_seasons) test one hypothesis
        # on nested data: Simes' combination of their p-values (valid for positively dependent tests) gives the
        # grader-season's p-value, so a favour that goes on accumulates evidence and one that starts now is not
        # diluted by the clean seasons before it; the window with the smallest p-value is the one reported
        gw = df[kw].assign(p=window_p).drop_duplicates(kw)
        gw = gw.sort_values(["grader_id", "station_id", "yr", "p", "window_from"], ascending=[True, True, True, True, False])
        kg = ["grader_id", "station_id", "yr"]
        rank = gw.groupby(kg).cumcount() + 1
        size = gw.groupby(kg).p.transform("size")
        gw["simes"] = (size * gw.p / rank).groupby([gw[k] for k in kg]).transform("min").clip(upper=1.0)
        best = gw.drop_duplicates(kg)  # the first (smallest p) window of each grader-season
        # one family per season (Benjamini–Hochberg across the season's graders): a later season never moves an
        # earlier one's result
        best = best.assign(q=np.nan)
        for _, g in best.groupby("yr"):
            best.loc[g.index, "q"] = bh_adjust(g.simes.to_numpy())
        df = df.assign(z=z).merge(best[[*kg, "window_from", "q"]].rename(columns={"window_from": "chosen"}), on=kg)
        # one row per pair-season: the reported window's where the pair has one, else its widest window (unfired)
        df["is_chosen"] = df.window_from == df.chosen
        df = df.sort_values([*_PAIR_KEY, "is_chosen", "window_from"], ascending=[True] * 4 + [False, True], kind="stable")
        df = df.drop_duplicates(_PAIR_KEY).sort_values(["station_id", "yr", "grader_id", "grower_id"]).reset_index(drop=True)
        z, q = df.z, df.q
        gain = self.sign * df["diff"].astype(float)
        # stage 2: the growers of a significant grader who are themselves graded that way over the window, and still
        # are this season (the season's own gain reaches the threshold: a grower graded fairly now does not fire now
        # on the strength of earlier seasons)
        fired = df.is_chosen & (q < p.alpha) & (z >= p.pair_z) & (self.sign * df.diff_now.astype(float) >= p.threshold)
        yr = df.yr.astype(int)
        base_from = df.base_from.astype(int)
        lots = iter(pair_lots(data, df[fired.to_numpy()]))
        evidence = [next(lots) if f else () for f in fired.to_numpy()]
        baseline_seasons = np.where(base_from == yr, yr.astype(str), base_from.astype(str) + "–" + yr.astype(str))
        base_zh, base_en = self._baseline_texts(df, fired.to_numpy(), baseline_seasons)
        return pd.DataFrame({
            "entity_id": df.grower_id, "grower_id": df.grower_id, "employee_id": df.grader_id, "station_id": df.station_id,
            "period": pd.to_datetime(df.season_end), "value": np.where(fired, gain.clip(lower=0), 0.0),
            "gain": gain, "season_gain": self.sign * df.diff_now.astype(float), "z": z, "grader_q": q, "n_lots": df.n1.astype(int), "n_other": df.n0.astype(int),
            "share": df.share.astype(float), "year": yr, "seasons": df.seasons,
            "n_seasons": df.n_seasons.astype(int),
            "baseline_seasons": baseline_seasons,
            "base_weight": df.base_weight.astype(float), "baseline_zh": base_zh, "baseline_en": base_en,
            "evidence": evidence})

    def _baseline_texts(self, df: pd.DataFrame, fired: np.ndarray, seasons: np.ndarray):
        """What the grader's levels were compared with (over the baseline ``seasons``), in words, for the fired rows
        ('' elsewhere)."""
        low = (df.n0 < self.params.min_other_lots).to_numpy()
        n0 = df.n0.astype(int).astype(str).to_numpy()
        zh = np.where(low, "该烟农的经验贝叶斯基准（同站其他定级员" + seasons + "年仅定其" + n0 + "批，向本站同期平均收缩）",
                      "同站其他定级员（" + seasons + "年）给该烟农的")
        en = np.where(low, "the grower's empirical-Bayes baseline (the station's other graders graded only " + n0
                      + " of his lots in " + seasons + ", shrunk towards the station's average)",
                      "the station's other graders graded the same grower (" + seasons + ")")
        return np.where(fired, zh, ""), np.where(fired, en, "")


@register
class GraderUpgradesGrower(_GraderFavour):
    """A grader gives particular growers better levels than they get from the station's other graders (人情烟)."""

    id = "LEAF-002"
    sign = 1
    title_zh = "定级员对特定烟农抬级抬价（人情烟）"
    title_en = "Grader up-grades particular growers (favour leaf)"
    why = ("人情烟、关系烟、面子烟: a grader who gives relatives and friends a better level than their leaf deserves pays them "
           "a higher price out of the company's money; it is one of the commonest leaf-purchasing violations and "
           "shows as growers who get better levels from one grader than from every other grader at the station, and "
           "who keep coming to that grader.")
    methodology = ("Pairs of grader × grower at a station: a grower is the grader's regular in a season when the grader "
                   "graded at least `min_share` of the grower's lots there that season.  Levels are compared after "
                   "removing the station × season × stalk-position average and each grader's own average leniency in the "
                   "season.  At each season S and for each window of seasons ending at S (S alone, the last two, … up to "
                   "`max_seasons`; never a later season), the grader's lots of each grower who is his regular in S are "
                   "pooled over the window's seasons in which the grower was his regular (at least `min_lots` lots) and "
                   "compared with the grower's lots graded by the station's other graders in S and the earlier seasons "
                   "(a favoured grower brings most of a season's lots to his grader).  Where the others graded fewer than "
                   "`min_other_lots` of them (a first-season grower, or one favoured from the start), the baseline is "
                   "empirical Bayes (`baseline_prior: station`): their mean shrunk towards the station's average with "
                   "weight n0·τ²/(n0·τ² + σ²), τ² the spread of growers' true levels at the station (one-way "
                   "random-effects moments), σ² the per-lot variance, and the baseline's variance in the standard error; "
                   "with `baseline_prior: none` such pairs are not scored.  `gain` = "
                   "the baseline level minus the level this grader gives (positive: better), `z` its "
                   "standard score (within-grower variance over those seasons, design effect for lots of one delivery, "
                   "the baseline's variance, the error of the grader's leniency estimates).  Stage 1: per grader, season "
                   "and window, Stouffer's "
                   "combined z over his regulars (weighted by 1/standard error, with the correlation the shared leniency "
                   "estimates put between his pairs in its variance) tests whether he grades his regulars better as a "
                   "group, and for each cut-off c in `circle_z` the number of his regulars with z ≥ c against the "
                   "binomial count of chance tests for a small favoured circle among many fair regulars (a sum dilutes "
                   "it); the tests' p-values are combined by Simes' test; "
                   "the windows' one-sided p-values are combined by Simes' test (nested windows: positively "
                   "dependent), so evidence accumulates while a favour goes on and a favour that starts now is not "
                   "diluted by the fair seasons before it; the grader-seasons' p-values are adjusted across the season's "
                   "graders (Benjamini–Hochberg).  Stage 2: in a grader significant at `alpha`, a grower fires in the "
                   "window with the smallest p-value when his z ≥ `pair_z`, the window's gain reaches `threshold` levels "
                   "and so does the gain of season S alone (a grower graded fairly now does not fire now).  One grower "
                   "pair alone rarely has the lots to be significant; a grader's favoured circle together, over the "
                   "seasons, does.  The row is dated at S's last purchase in the company (stage 1 reads every grader's "
                   "season).")
    example = ("Grader E7 graded 9 of grower G12's 11 lots at ST03 in 2024 and 10 of 12 in 2025; pooled, they average 0.7 "
               "levels better than G12's 6 lots with the other graders in 2023–2025 (z = 2.6).  E7's 30 regular growers "
               "give Stouffer z = 2.9 in 2025 alone and z = 4.6 pooled over 2024–2025 (Simes p = 4·10⁻⁶, q < 0.01 across "
               "the season's graders): G12 fires for 2025 with value 0.7, seasons 2024–2025 and employee E7, dated at the "
               "2025 season's last purchase.")
    output = ("One row per eligible grader × grower × station × season: value = gain in levels when both stages pass "
              "(else 0); season_gain: the gain in the season alone; employee_id = the grader; evidence = the grader's "
              "lots of that grower in the pooled seasons; seasons: the pooled seasons (n_seasons of them); "
              "baseline_seasons: the seasons of the other graders' lots compared; n_other: their lots (below "
              "`min_other_lots`: the empirical-Bayes baseline was used); grader_q: the grader-season's adjusted "
              "p-value; period = the season's last purchase in the company (when the evidence is complete).")
    exclusions = ("Growers whose lots nearly all go to one grader (fewer than `min_other_lots` by others in the season and "
                  "the earlier ones) are compared with the station's average through the empirical-Bayes baseline; at a "
                  "station that assigns graders to villages that average is no fair baseline for one village's growers: "
                  "set `baseline_prior: none` there, and such growers are not scored.  Growers seen by "
                  "a grader only now and then (below `min_lots` over the pooled seasons, or below `min_share` in the "
                  "season) are not scored either.  A grader who is lenient with everyone is LEAF-001's subject and is "
                  "removed here.  Better leaf at a station or in a season is removed by the station × season × position "
                  "average.")
    reason_zh = ("该定级员{seasons}年为烟农{grower_id}定级{n_lots}批（占其同期在该站交售的{share:.0%}），平均等级比"
                 "{baseline_zh}高{value:.2f}级，且其常来烟农整体偏高（校正后p={grader_q:.1g}），"
                 "疑似人情烟")
    reason_en = ("in {seasons} this grader graded {n_lots} of grower {grower_id}'s lots ({share:.0%} of his lots at the "
                 "station in those seasons), {value:.2f} levels better on average than {baseline_en}, and his regular growers as a group get better levels "
                 "(adjusted p={grader_q:.1g}): possible favour leaf")


@register
class GraderDowngradesGrower(_GraderFavour):
    """A grader gives particular growers worse levels than they get from the station's other graders (压级压价)."""

    id = "LEAF-003"
    sign = -1
    title_zh = "定级员对特定烟农压级压价"
    title_en = "Grader down-grades particular growers"
    why = ("压级压价: pressing growers' levels (and so their price) below what the leaf deserves, to extort favours, to "
           "punish, or to create a margin sold on elsewhere; it harms growers and the company's standing, and the rules "
           "forbid it.  It shows as growers who get worse levels from one grader than from every other grader at the "
           "station.")
    methodology = ("As LEAF-002 with the sign reversed: `gain` = the level this grader gives minus the level the others "
                   "give the grower (positive: worse with this grader), pooled over windows of seasons ending at the "
                   "current one (the grower's seasons as the grader's regular), against the same baseline (the others' "
                   "mean, or the empirical-Bayes baseline where they graded fewer than `min_other_lots` lots); stage 1 "
                   "tests, per grader and season, whether his regular growers as a group, or a circle of them, are "
                   "graded worse (Stouffer and the `circle_z` count tests per window, combined by Simes; Simes across the "
                   "windows, Benjamini–Hochberg across the season's graders); stage 2 fires the growers with z ≥ "
                   "`pair_z` and a gain of at least `threshold` levels over the window and in the season itself.  The row "
                   "is dated at the season's last purchase in the company.")
    example = ("Grader E9 graded 10 of grower G40's 13 lots in 2024 and 11 of 14 in 2025; pooled, they average 0.6 levels "
               "worse than G40's lots with the other graders in 2023–2025 (z = 2.2), and E9's regular growers pooled over "
               "2024–2025 give Stouffer z = 5.1 (q < 0.001): G40 fires for 2025.")
    output = ("One row per eligible grader × grower × station × season: value = levels lost when both stages pass (else "
              "0); employee_id = the grader; evidence = the grader's lots of that grower in the pooled seasons; "
              "season_gain, seasons, n_seasons, baseline_seasons, grader_q and period as LEAF-002 (period: the season's "
              "last purchase in the company).")
    exclusions = ("As LEAF-002: growers with too few lots by others are compared with the station's average "
                  "(empirical-Bayes baseline; not scored with `baseline_prior: none`), growers not regulars of this "
                  "grader are not scored; a grader strict with everyone is LEAF-001's subject; poorer leaf at a station or in a season "
                  "is removed by the station × season × position average.")
    reason_zh = ("该定级员{seasons}年为烟农{grower_id}定级{n_lots}批（占其同期在该站交售的{share:.0%}），平均等级比"
                 "{baseline_zh}低{value:.2f}级，且其常来烟农整体偏低（校正后p={grader_q:.1g}），"
                 "疑似压级压价")
    reason_en = ("in {seasons} this grader graded {n_lots} of grower {grower_id}'s lots ({share:.0%} of his lots at the "
                 "station in those seasons), {value:.2f} levels worse on average than {baseline_en}, and his regular growers as a group get worse levels "
                 "(adjusted p={grader_q:.1g}): possible down-grading")


# -- LEAF-004 ---------------------------------------------------------------------------------------------------------
@register
class BeyondContract(Indicator):
    """A grower's deliveries in a season beyond the contracted quantity (超合同收购)."""

    id = "LEAF-004"
    title_zh = "超合同收购"
    title_en = "Purchases beyond the grower's contracted quantity"
    entity = "grower"
    grain = "year"
    tables = ("leaf_purchases", "grower_contracts")
    severity = 3
    why = ("Purchases are capped by the grower's contract (以合同为依据、严禁超合同收购).  Leaf bought beyond it has no "
           "place in the plan; it is how trafficked leaf (倒买倒卖) is laundered through a real grower's name, and how "
           "stations buy favours.  The rules name 超合同收购 among the prohibited practices.")
    source = ("《烟草专卖法实施条例》第十一条 (purchases by contract, 按合同收购); county tobacco bureaus' 烟叶收购“严禁” "
              "rules (严禁无合同、超合同收购).")
    methodology = ("Per grower and crop year: kilograms bought from the grower (all stations) divided by the contracted "
                   "kilograms of the grower's contracts that year.  Fires at `threshold` (1.2 = 20 % over: a tolerance "
                   "for weighing, moisture and in-season contract adjustments the data do not show).  The evidence is the "
                   "lots bought after the contracted quantity was reached, in time order.  The row is dated at the "
                   "grower's last delivery of the season, when the season's total is known.")
    example = "Contract 3,000 kg; 6,300 kg bought in the season: value 2.1, fires; the last lots past 3,000 kg are evidence."
    output = ("value: delivered / contracted kg; delivered_kg, contracted_kg; station_id: the station that bought most; "
              "evidence: the lots past the contracted quantity; period: the grower's last delivery of the season.  No "
              "employee is linked: the station's share of such "
              "purchases, judged against other stations, is LEAF-008's and is linked to the station manager.")
    exclusions = ("Cooperatives and large farms deliver large volumes against large contracts: the ratio, not the volume, is "
                  "judged, so they fire only when they too exceed their contract.  Growers with no contract that year are "
                  "LEAF-005's subject.")
    reason_zh = "{year}年烟农{grower_id}交售{delivered_kg:,.0f}公斤，为合同量{contracted_kg:,.0f}公斤的{value:.0%}，超合同收购"
    reason_en = ("in {year} grower {grower_id} delivered {delivered_kg:,.0f} kg, {value:.0%} of the contracted "
                 "{contracted_kg:,.0f} kg: purchases beyond the contract")

    class Params(Params):
        threshold: float = 1.2

    def compute(self, data: Dataset) -> pd.DataFrame:
        return data.sql("""
            WITH con AS (
                SELECT grower_id, year AS yr, sum(contracted_kg) AS contracted_kg FROM grower_contracts GROUP BY ALL),
            lots AS (
                SELECT purchase_id, grower_id, station_id, purchased_at, weight_kg, year(purchased_at) AS yr
                FROM leaf_purchases),
            gy AS (
                SELECT grower_id, yr, sum(kg) AS delivered_kg, arg_max(station_id, (kg, station_id)) AS station_id,
                       max(last_at) AS last_at FROM (
                    SELECT grower_id, yr, station_id, sum(weight_kg) AS kg, max(purchased_at) AS last_at
                    FROM lots GROUP BY ALL) GROUP BY ALL),
            over AS (
                SELECT * FROM gy JOIN con USING (grower_id, yr) WHERE delivered_kg > contracted_kg),
            -- the lots past the contracted quantity, in time order (only for growers over their contract)
            ev AS (
                SELECT grower_id, yr, list(purchase_id ORDER BY purchased_at, purchase_id) AS evidence FROM (
                    SELECT l.*, o.contracted_kg,
                           sum(l.weight_kg) OVER (PARTITION BY l.grower_id, l.yr ORDER BY l.purchased_at, l.purchase_id
                                                  ROWS UNBOUNDED PRECEDING) AS cum
                    FROM lots l JOIN over o USING (grower_id, yr))
                WHERE cum > contracted_kg GROUP BY ALL)
            SELECT gy.grower_id AS entity_id, gy.grower_id, gy.yr AS year, gy.last_at AS period, gy.station_id,
                   gy.delivered_kg, c.contracted_kg, gy.delivered_kg / c.contracted_kg AS value,
                   ev.evidence
            FROM gy JOIN con c USING (grower_id, yr) LEFT JOIN ev USING (grower_id, yr)
            WHERE c.contracted_kg > 0""")


# -- LEAF-005 ---------------------------------------------------------------------------------------------------------
@register
class NoContractOrCrossArea(Indicator):
    """Leaf bought without a valid contract at that station, or from a grower of another station's area."""

    id = "LEAF-005"
    title_zh = "无合同收购或跨区收购"
    title_en = "Purchases without a contract or from outside the station's area"
    entity = "grower"
    grain = "year"
    tables = ("leaf_purchases", "grower_contracts")
    severity = 3
    why = ("Every purchase must rest on the grower's contract with that station for that year, and a station buys only "
           "from growers of its own area (按合同收购、严禁跨区收购).  Leaf bought without a contract or from another "
           "area is how trafficked leaf enters the company (内外勾结、倒买倒卖) and how one station takes another's "
           "growers; the rules list 无合同收购 and 跨区收购 among the prohibited practices.")
    source = ("《烟草专卖法》第十七条、《烟草专卖法实施条例》第十一条 (purchases by contract within the planned area); county "
              "tobacco bureaus' 烟叶收购“严禁” rules (严禁无合同收购、严禁跨区域收购).")
    methodology = ("A lot has no valid contract when its contract_id is empty or names no contract of the same grower with "
                   "the same station for the same crop year; it is cross-area when the grower's home station (growers."
                   "station_id, where the table is present) is not the buying station.  Per grower × buying station × "
                   "crop year, the value is the kilograms of such lots; it fires at `threshold` kg (any real purchase).  "
                   "The row is dated at the last of those lots in the season.")
    example = ("Grower G9 of station ST02 sells 3,400 kg at ST05 in 2024 with no contract: value 3,400 (3,400 kg without "
               "a contract, 3,400 kg cross-area), fires.")
    output = ("value: kg bought without a valid contract or cross-area; no_contract_kg, cross_area_kg; evidence: those "
              "lots; station_id: the buying station; period: the last of those lots.  No employee is linked (LEAF-008 "
              "judges the station).")
    exclusions = ("A missing contract_id on a grower who does have a contract with the station that year is counted as "
                  "valid (a data-entry gap, not a purchase outside the contract); cross-area needs the growers table.")
    reason_zh = ("{year}年{station_id}收购烟农{grower_id}的烟叶{value:,.0f}公斤不合规：无有效合同{no_contract_kg:,.0f}公斤，"
                 "跨区收购{cross_area_kg:,.0f}公斤")
    reason_en = ("in {year} {station_id} bought {value:,.0f} kg from grower {grower_id} irregularly: {no_contract_kg:,.0f} kg "
                 "without a valid contract, {cross_area_kg:,.0f} kg from outside its area")

    class Params(Params):
        threshold: float = 1.0

    def compute(self, data: Dataset) -> pd.DataFrame:
        home = ("LEFT JOIN growers g ON g.grower_id = l.grower_id", "coalesce(g.station_id <> l.station_id, false)") \
            if data.has("growers") else ("", "false")
        return data.sql(f"""
            WITH con AS (
                SELECT DISTINCT grower_id, station_id, year AS yr FROM grower_contracts),
            chk AS (
                SELECT l.purchase_id, l.grower_id, l.station_id, year(l.purchased_at) AS yr, l.purchased_at, l.weight_kg,
                       c.grower_id IS NULL AS no_contract,
                       {home[1]} AS cross_area
                FROM leaf_purchases l
                LEFT JOIN con c ON c.grower_id = l.grower_id AND c.station_id = l.station_id
                               AND c.yr = year(l.purchased_at)
                {home[0]})
            SELECT grower_id AS entity_id, grower_id, station_id, yr AS year, max(purchased_at) AS period,
                   sum(weight_kg) AS value,
                   coalesce(sum(weight_kg) FILTER (WHERE no_contract), 0) AS no_contract_kg,
                   coalesce(sum(weight_kg) FILTER (WHERE cross_area), 0) AS cross_area_kg,
                   list(purchase_id ORDER BY purchased_at, purchase_id) AS evidence
            FROM chk WHERE no_contract OR cross_area
            GROUP BY grower_id, station_id, yr""")


# -- LEAF-006 ---------------------------------------------------------------------------------------------------------
def _minutes(hhmm: str) -> int:
    h, m = hhmm.split(":")
    return int(h) * 60 + int(m)


@register
class NightPurchase(Indicator):
    """A station buying leaf far outside its opening hours (夜间收购)."""

    id = "LEAF-006"
    title_zh = "夜间收购（营业时间外收购）"
    title_en = "Night purchasing outside the station's opening hours"
    entity = "station"
    grain = "event"
    tables = ("leaf_purchases",)
    severity = 2
    why = ("Purchasing at night, away from the inspectors, the queue and the public notice board, is how leaf without a "
           "contract, over-contract leaf and trafficked leaf is bought unseen; the rules forbid night purchasing "
           "(严禁夜间收购) outright.")
    source = ("County tobacco bureaus' 烟叶收购“严禁” rules (严禁夜间收购); the company's station opening hours "
              "(settings: policy.station_hours).")
    methodology = ("Each lot's minutes outside the station's opening hours (policy.station_hours, e.g. 07:00–18:00; 0 inside), "
                   "measured round the clock to the nearer end of the hours (01:00 is 7 h after closing but 6 h before "
                   "opening: 360 minutes).  Lots are grouped into "
                   "sessions per station and 'night' (the purchase time less the opening hour, so a lot at 01:00 belongs to "
                   "the previous evening).  The value of a session is its largest number of minutes outside; it fires at "
                   "`threshold` minutes: with the default 120 and hours 07:00–18:00, purchases from 20:00 to 05:00.  "
                   "The night window 21:00–05:00 is the strong signal; the tolerance keeps a busy station that stays open "
                   "into the early evening in the peak weeks quiet.")
    example = ("ST04 buys 14 lots between 21:40 and 01:15 on the night of 12 October: 21:40 is 220 minutes past 18:00, "
               "01:15 is 345 minutes before 07:00; value 345, fires.")
    output = ("One row per station × night with any lot outside hours: value = largest minutes outside; n_lots, kg; "
              "last_time; evidence: the lots outside hours; period: the last of them; employee_id: the station manager "
              "at that time.")
    exclusions = ("Busy stations that keep buying for an hour or so after closing in the peak weeks (the queue is served "
                  "to the end) stay under the tolerance.  Lots stamped with a wrong clock would fire too: check the "
                  "scales' clock before concluding.")
    reason_zh = "{station_id}于{day}当晚在营业时间（{hours}）外收购{n_lots}批、{kg:,.0f}公斤，最远至{last_time}（超出{value:.0f}分钟），疑似夜间收购"
    reason_en = ("on the night of {day} {station_id} bought {n_lots} lot(s), {kg:,.0f} kg, outside its hours {hours}, "
                 "the farthest at {last_time} ({value:.0f} minutes outside): possible night purchasing")

    class Params(Params):
        threshold: float = 120.0

    def compute(self, data: Dataset) -> pd.DataFrame:
        o, c = (_minutes(t) for t in self.policy.station_hours)
        df = data.sql(f"""
            WITH m AS (
                SELECT purchase_id, station_id, purchased_at, weight_kg,
                       hour(purchased_at) * 60 + minute(purchased_at) + second(purchased_at) / 60.0 AS mins
                FROM leaf_purchases),
            x AS (
                SELECT *, CASE WHEN mins < {o} THEN least({o} - mins, mins + 1440 - {c})
                               WHEN mins > {c} THEN least(mins - {c}, {o} + 1440 - mins)
                               ELSE 0 END AS outside,
                       CAST(purchased_at - INTERVAL {o} MINUTE AS DATE) AS day
                FROM m)
            SELECT station_id AS entity_id, station_id, day, max(purchased_at) AS period,
                   max(outside) AS value, count(*) AS n_lots, sum(weight_kg) AS kg,
                   strftime(arg_max(purchased_at, (outside, purchased_at)), '%H:%M') AS last_time,
                   list(purchase_id ORDER BY purchased_at, purchase_id) AS evidence
            FROM x WHERE outside > 0
            GROUP BY station_id, day""")
        df["hours"] = "–".join(self.policy.station_hours)
        df["day"] = pd.to_datetime(df["day"]).dt.strftime("%Y-%m-%d") if len(df) else df.get("day")
        return attach_manager(data, df, at="period")


# -- LEAF-007 ---------------------------------------------------------------------------------------------------------
@register
class BeyondPlan(Indicator):
    """A station's purchases in a season beyond its annual plan (超计划收购)."""

    id = "LEAF-007"
    title_zh = "超计划收购"
    title_en = "Station purchases beyond its annual plan"
    entity = "station"
    grain = "year"
    tables = ("leaf_purchases", "station_plans")
    severity = 2
    why = ("Leaf purchasing is planned (计划收购): each station has an annual quantity.  Buying beyond it means leaf "
           "from outside the contracts — over-contract, no-contract or trafficked leaf — or a plan pushed aside; the "
           "rules name 超计划收购 among the prohibited practices.")
    source = ("《烟草专卖法》第十七条 (收购计划); county tobacco bureaus' 烟叶收购“严禁” rules (严禁超计划收购).")
    methodology = ("Per station and crop year: kilograms bought divided by the station's plan (station_plans.plan_kg).  "
                   "Fires at `threshold` (1.0: any excess over the plan).  The row is dated at the station's last "
                   "purchase of the season, when the season's total is known.")
    example = "Plan 2,000,000 kg, bought 2,090,000 kg: value 1.045, fires."
    output = ("value: bought / planned kg; kg, plan_kg; period: the station's last purchase of the season; employee_id: "
              "the station manager at that time.")
    exclusions = "Stations without a plan for the year are not scored (check the plan table rather than the station)."
    reason_zh = "{year}年{station_id}收购{kg:,.0f}公斤，为计划{plan_kg:,.0f}公斤的{value:.1%}，超计划收购"
    reason_en = "in {year} {station_id} bought {kg:,.0f} kg, {value:.1%} of its plan of {plan_kg:,.0f} kg"

    class Params(Params):
        threshold: float = 1.0

    def compute(self, data: Dataset) -> pd.DataFrame:
        df = data.sql("""
            SELECT l.station_id AS entity_id, l.station_id, l.yr AS year, l.last_at AS period,
                   l.kg, p.plan_kg, l.kg / p.plan_kg AS value
            FROM (SELECT station_id, year(purchased_at) AS yr, sum(weight_kg) AS kg, max(purchased_at) AS last_at
                  FROM leaf_purchases GROUP BY ALL) l
            JOIN station_plans p ON p.station_id = l.station_id AND p.year = l.yr
            WHERE p.plan_kg > 0""")
        return attach_manager(data, df, at="period")


# -- LEAF-008 ---------------------------------------------------------------------------------------------------------
@register
class StationOffContractShare(Indicator):
    """A station whose share of purchases outside contracts stands out from the other stations."""

    id = "LEAF-008"
    title_zh = "收购站合同外收购占比异常"
    title_en = "Station's share of off-contract purchasing far above other stations"
    entity = "station"
    grain = "year"
    tables = ("leaf_purchases", "grower_contracts")
    severity = 2
    threshold_method = "iqr"
    why = ("Contract fulfilment (合同履约) is monitored station by station: where one station buys markedly more leaf "
           "beyond its growers' contracts or without contracts than the others, the station — not a single grower — "
           "is the unit to look at, and its manager answers for it.  Abnormal contract fulfilment rates are a named "
           "warning sign in the industry's purchasing supervision.")
    source = ("County tobacco bureaus' 烟叶收购“严禁” rules (严禁无合同、超合同收购); 国家烟草专卖局 烟叶合同管理 rules "
              "(合同履约率 monitoring); Tukey (1977) (outer fence).")
    methodology = ("Per grower × station × crop year, the off-contract kilograms are the kilograms bought beyond the "
                   "grower's contracted quantity with that station that year (all of them where there is no such "
                   "contract).  Per station and year the value is their sum divided by all kilograms the station bought.  "
                   "It fires above Q3 + `fence_k` × IQR of the station-years known by then (Tukey's outer fence at the default 3), and "
                   "never below `min_threshold`.  The row is dated at the station's last purchase of the season.")
    example = ("Stations' off-contract shares run 0.5–1.5 %; ST21 bought 46,000 of 876,000 kg (5.3 %) beyond or without "
               "contracts: fires.")
    output = ("value: off-contract kg / kg bought; off_contract_kg, kg, n_growers_over (growers over their contract); "
              "period: the station's last purchase of the season; employee_id: the station manager at that time.")
    exclusions = ("Small overruns (weighing, moisture) are summed too, but they are common to all stations and move the "
                  "fence, not the station.  A station with large cooperatives is judged on the share, not the volume.")
    reason_zh = ("{year}年{station_id}合同外收购{off_contract_kg:,.0f}公斤，占该站收购量的{value:.1%}，明显高于其他收购站"
                 "（{n_growers_over}户超合同或无合同）")
    reason_en = ("in {year} {station_id} bought {off_contract_kg:,.0f} kg beyond or without contracts, {value:.1%} of its "
                 "purchases, far above other stations ({n_growers_over} growers over or without a contract)")

    class Params(Params):
        fence_k: float = 3.0
        min_threshold: float = 0.01

    def compute(self, data: Dataset) -> pd.DataFrame:
        df = data.sql("""
            WITH con AS (
                SELECT grower_id, station_id, year AS yr, sum(contracted_kg) AS ckg FROM grower_contracts GROUP BY ALL),
            g AS (
                SELECT grower_id, station_id, year(purchased_at) AS yr, sum(weight_kg) AS kg, max(purchased_at) AS last_at
                FROM leaf_purchases GROUP BY ALL),
            x AS (
                SELECT g.*, greatest(g.kg - coalesce(c.ckg, 0), 0) AS off_kg
                FROM g LEFT JOIN con c USING (grower_id, station_id, yr))
            SELECT station_id AS entity_id, station_id, yr AS year, max(last_at) AS period,
                   sum(off_kg) AS off_contract_kg, sum(kg) AS kg, sum(off_kg) / sum(kg) AS value,
                   count(*) FILTER (WHERE off_kg > 0.05 * kg) AS n_growers_over
            FROM x GROUP BY station_id, yr
            HAVING sum(kg) > 0""")
        return attach_manager(data, df, at="period")


# -- LEAF-009 ---------------------------------------------------------------------------------------------------------
@register
class ImplausibleYield(Indicator):
    """A grower delivering far more per planted mu than the growers around him."""

    id = "LEAF-009"
    title_zh = "烟农单产异常（交售量与种植面积不符）"
    title_en = "Grower delivering implausibly much per planted area"
    entity = "grower"
    grain = "year"
    tables = ("leaf_purchases", "grower_contracts")
    severity = 2
    threshold_method = "given"
    why = ("Tobacco yields per mu are bounded by agronomy and similar between neighbours in one season.  A grower who "
           "delivers far more per mu than his neighbours is selling someone else's leaf under his name — leaf bought "
           "from traffickers or other areas (倒买倒卖, 内外勾结), or 'extra yield' that the station lets through; the "
           "contract may even be sized to cover it, which LEAF-004 would miss.")
    source = ("County tobacco bureaus' 烟叶收购“严禁” rules (严禁收购倒买倒卖烟叶); 烟叶种植收购合同 (contracted area and "
              "quantity by 单产); Tukey (1977) (outer fence).")
    methodology = ("Per grower and crop year: kilograms bought from the grower (all stations) divided by the planted area of "
                   "his contracts that year (area_mu).  The threshold is Tukey's outer fence Q3 + `fence_k` × IQR of the "
                   "same ratio among growers contracted with the same station that year (at least `min_peers` of them; "
                   "otherwise all growers that year).  The row is dated at the last delivery of the season among the "
                   "growers the fence is taken from (the grower among them): then both the value and the fence are "
                   "final.")
    example = ("Neighbours at ST07 deliver 120–160 kg/mu (fence 215); grower G33 delivers 9,600 kg from 30 mu, 320 kg/mu: "
               "fires.")
    output = ("value: kg per mu; threshold: the peer fence; kg, area_mu, peer_median; station_id: the contract station; "
              "period: the peer group's last delivery of the season.")
    exclusions = ("Cooperatives and large farms have large areas and large deliveries alike: the ratio is judged, not the "
                  "volume.  Growers without a contracted area are not scored.  Irrigated or exceptional plots can be "
                  "legitimately high; the peers are the same station's growers in the same season, so weather is shared.")
    reason_zh = ("{year}年烟农{grower_id}交售{kg:,.0f}公斤、合同面积{area_mu:,.1f}亩，单产{value:.0f}公斤/亩，"
                 "远高于同站烟农（中位数{peer_median:.0f}，上限{threshold:.0f}）")
    reason_en = ("in {year} grower {grower_id} delivered {kg:,.0f} kg from {area_mu:,.1f} mu contracted, {value:.0f} kg/mu, "
                 "far above the station's growers (median {peer_median:.0f}, fence {threshold:.0f})")

    class Params(Params):
        fence_k: float = 3.0
        min_peers: int = 20

    def compute(self, data: Dataset) -> pd.DataFrame:
        p = self.params
        return data.sql(f"""
            WITH con AS (
                SELECT grower_id, year AS yr, sum(area_mu) AS area_mu, arg_max(station_id, (area_mu, station_id)) AS station_id
                FROM grower_contracts GROUP BY ALL),
            d AS (
                SELECT grower_id, year(purchased_at) AS yr, sum(weight_kg) AS kg, max(purchased_at) AS last_at
                FROM leaf_purchases GROUP BY ALL),
            x AS (
                SELECT c.grower_id, c.station_id, c.yr, d.kg, d.last_at, c.area_mu, d.kg / c.area_mu AS value
                FROM con c JOIN d USING (grower_id, yr) WHERE c.area_mu > 0),
            fence AS (
                SELECT station_id, yr, count(*) AS n, median(value) AS med, max(last_at) AS last_at,
                       quantile_cont(value, 0.75) + {float(p.fence_k)} * (quantile_cont(value, 0.75) - quantile_cont(value, 0.25)) AS f
                FROM x GROUP BY ALL),
            yfence AS (
                SELECT yr, median(value) AS med, max(last_at) AS last_at,
                       quantile_cont(value, 0.75) + {float(p.fence_k)} * (quantile_cont(value, 0.75) - quantile_cont(value, 0.25)) AS f
                FROM x GROUP BY ALL)
            SELECT x.grower_id AS entity_id, x.grower_id, x.station_id, x.yr AS year,
                   CASE WHEN fence.n >= {int(p.min_peers)} THEN fence.last_at ELSE yfence.last_at END AS period,
                   x.kg, x.area_mu, x.value,
                   CASE WHEN fence.n >= {int(p.min_peers)} THEN fence.f ELSE yfence.f END AS threshold,
                   CASE WHEN fence.n >= {int(p.min_peers)} THEN fence.med ELSE yfence.med END AS peer_median
            FROM x JOIN fence USING (station_id, yr) JOIN yfence USING (yr)""")
