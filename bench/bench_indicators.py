"""Benchmark: the whole indicator catalogue end to end, and indicators against hand-written DuckDB queries.

Part 1 runs the catalogue (``compute_flags``) over a dataset and reports the source rows it reads (every contract
table that one of its queries names, each counted once), the end-to-end seconds, source rows/s against the goal of
2 million rows/s on 2 cores, the peak resident memory (sampled) and the seconds of every indicator.  The REL-
indicators build the relationship graph first; they run as a second ``compute_flags`` call and are reported on
their own line as well as in the total (``--skip-graph`` leaves them out).

Part 2 takes representative indicators and times, in the same run and on the same connection, ``Indicator.run``
(compute, threshold, reason texts) next to one hand-written DuckDB query over the same Parquet views that computes
the same scored rows (entity, period, value, threshold, fired, evidence) with the same parameters.  Goal: ours ≤ 2×
the query.  The query's fired (entity, period) keys are compared with ours and the differences counted.  Each side
is timed ``--repeat`` times, alternating, and the fastest run kept (the machine may be shared).

Prints the figures and writes a JSON record to ``bench/results/``.

Usage: python bench/bench_indicators.py (--data DIR | --preset {small,demo,large} [--seed 1]) [--only ID ...]
                                        [--skip-graph] [--threads 2] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import pandas as pd

from riskmodel.data.dataset import Dataset
from riskmodel.data.store import read_manifest
from riskmodel.indicators.base import Indicator
from riskmodel.indicators.registry import all_indicators, configured
from riskmodel.indicators.runner import compute_flags
from riskmodel.provenance import code_version

from _measure import Peak  # noqa: E402  (bench/ is on sys.path when run as a script)

GOAL_ROWS_PER_S = 2_000_000
GOAL_RATIO = 2.0
_FAR = "DATE '9999-12-31'"


# -- measuring ----------------------------------------------------------------------------------------------------


def record_queries(data: Dataset) -> list[str]:
    """Log every query ``data`` runs (indicators read through ``Dataset.sql``); returns the growing list."""
    log: list[str] = []
    run = data.sql

    def sql(query: str, params: list | None = None) -> pd.DataFrame:
        log.append(query)
        return run(query, params)

    data.sql = sql
    return log


def tables_named(queries: list[str], tables: set[str]) -> list[str]:
    """The contract tables that any of the queries names (as a whole word)."""
    text = "\n".join(queries)
    return sorted(t for t in tables if re.search(rf"\b{re.escape(t)}\b", text))


# -- the hand-written baselines: one DuckDB statement each, same semantics and parameters as the indicator ------------
def _prc_002(ind: Indicator) -> str:
    p = ind.params
    limit = float(getattr(ind.policy, p.limit))
    return f"""
        SELECT po_id AS entity_id, order_date AS period, buyer_id AS employee_id, supplier_id,
               CASE WHEN count(*) OVER w >= {int(p.min_orders)} THEN sum(amount) OVER w / {limit} ELSE 0 END AS value,
               {float(p.threshold)} AS threshold, value >= threshold AS fired, list(po_id) OVER w AS evidence
        FROM purchase_orders
        WHERE tender_id IS NULL AND amount < {limit}
        WINDOW w AS (PARTITION BY buyer_id, supplier_id ORDER BY order_date
                     RANGE BETWEEN INTERVAL {int(p.window_days)} DAYS PRECEDING AND CURRENT ROW)"""


def _tukey_sql(values: str, group: str, k: float, floor: float, min_group: int) -> str:
    """SQL for a per-group Tukey fence Q3 + k·IQR with a pooled fence for small groups, raised to ``floor``
    (``values`` is a relation with columns ``value`` and ``{group}``); linear-interpolated quantiles as numpy's."""
    return f"""
        pooled AS (SELECT quantile_cont(value, 0.75) + {k} * (quantile_cont(value, 0.75) - quantile_cont(value, 0.25)) AS f
                   FROM {values}),
        grp AS (SELECT {group}, count(value) AS n,
                       quantile_cont(value, 0.75) + {k} * (quantile_cont(value, 0.75) - quantile_cont(value, 0.25)) AS f
                FROM {values} GROUP BY {group}),
        fence AS (SELECT grp.{group}, CASE WHEN grp.n >= {int(min_group)} THEN grp.f ELSE pooled.f END AS f
                  FROM grp, pooled),
        scored AS (SELECT v.*, greatest(coalesce(fence.f, pooled.f), {floor}) AS threshold
                   FROM {values} v CROSS JOIN pooled LEFT JOIN fence ON fence.{group} = v.{group})"""


def _prc_008(ind: Indicator) -> str:
    p = ind.params
    return f"""
        WITH v AS (
            SELECT po.po_id AS entity_id, po.order_date AS period, po.buyer_id AS employee_id, po.supplier_id,
                   po.category_id, po.unit_price / m.reference_unit_price - 1 AS value, [po.po_id] AS evidence
            FROM purchase_orders po
            JOIN market_prices m ON m.category_id = po.category_id AND m.month = date_trunc('month', po.order_date)
            WHERE m.reference_unit_price > 0 AND po.quantity > 0),
        {_tukey_sql("v", "category_id", p.fence_k, p.min_threshold, p.min_category_orders)}
        SELECT *, coalesce(value >= threshold, false) AS fired FROM scored"""


def _rmb_001(ind: Indicator) -> str:
    homes = ", ".join("'" + c.replace("'", "''") + "'" for c in [ind.policy.home_city, *ind.params.other_home_cities])
    g = int(ind.params.grace_days)
    return f"""
        SELECT c.claim_id AS entity_id, c.expense_date AS period, c.employee_id,
               CASE WHEN t.employee_id IS NULL THEN 1.0 ELSE 0.0 END AS value, {float(ind.params.threshold)} AS threshold,
               value >= threshold AS fired, [c.claim_id] AS evidence
        FROM claims c
        LEFT JOIN (SELECT DISTINCT c.claim_id, t.employee_id FROM claims c JOIN travel_records t
                   ON t.employee_id = c.employee_id AND t.destination_city = c.city
                  AND c.expense_date BETWEEN t.start_date - INTERVAL {g} DAYS AND t.end_date + INTERVAL {g} DAYS) t
          ON t.claim_id = c.claim_id
        WHERE NOT list_contains([{homes}], c.city)"""


def _rmb_003(ind: Indicator) -> str:
    norm = "upper(regexp_replace(coalesce({}, ''), '[^0-9A-Za-z]', '', 'g'))"
    m = int(ind.params.min_length)
    return f"""
        WITH c AS (SELECT claim_id, employee_id, expense_date, category, {norm.format('invoice_number')} AS num FROM claims),
        uses AS (  -- one use per supplier invoice, or per claimant, day and repeat within a category
            SELECT num, 'claim' AS kind, claim_id AS doc_id, CAST(NULL AS VARCHAR) AS supplier_id,
                   concat_ws('|', employee_id, CAST(expense_date AS DATE),
                             row_number() OVER (PARTITION BY num, employee_id, CAST(expense_date AS DATE), category
                                                ORDER BY claim_id)) AS use_key
            FROM c
            UNION ALL
            SELECT {norm.format('invoice_number')}, 'invoice', invoice_id, CAST(supplier_id AS VARCHAR), 'invoice|' || invoice_id
            FROM invoices),
        nums AS (
            SELECT num, count(DISTINCT use_key) AS n_uses, list(doc_id ORDER BY kind, doc_id) AS evidence,
                   any_value(supplier_id) AS supplier_id
            FROM uses WHERE length(num) >= {m} AND NOT regexp_full_match(num, '0+')
            GROUP BY num HAVING count(*) > 1)
        SELECT c.claim_id AS entity_id, c.expense_date AS period, c.employee_id, n.supplier_id,
               CAST(n.n_uses AS DOUBLE) AS value, {float(ind.params.threshold)} AS threshold, value >= threshold AS fired,
               n.evidence
        FROM c JOIN nums n USING (num)"""


def _leaf_004(ind: Indicator) -> str:
    return f"""
        WITH con AS (SELECT grower_id, year AS yr, sum(contracted_kg) AS contracted_kg FROM grower_contracts GROUP BY ALL),
        lots AS (SELECT purchase_id, grower_id, station_id, purchased_at, weight_kg, year(purchased_at) AS yr FROM leaf_purchases),
        gy AS (SELECT grower_id, yr, sum(kg) AS delivered_kg, arg_max(station_id, kg) AS station_id
               FROM (SELECT grower_id, yr, station_id, sum(weight_kg) AS kg FROM lots GROUP BY ALL) GROUP BY ALL),
        ev AS (  -- the running sum only for growers over their contract
            SELECT grower_id, yr, list(purchase_id ORDER BY purchased_at) AS evidence
            FROM (SELECT l.*, con.contracted_kg,
                         sum(l.weight_kg) OVER (PARTITION BY l.grower_id, l.yr ORDER BY l.purchased_at, l.purchase_id
                                                ROWS UNBOUNDED PRECEDING) AS cum
                  FROM lots l JOIN con USING (grower_id, yr)
                  SEMI JOIN gy ON gy.grower_id = l.grower_id AND gy.yr = l.yr AND gy.delivered_kg > con.contracted_kg)
            WHERE cum > contracted_kg GROUP BY ALL)
        SELECT gy.grower_id AS entity_id, make_date(gy.yr, 1, 1) AS period, gy.station_id,
               gy.delivered_kg / con.contracted_kg AS value, {float(ind.params.threshold)} AS threshold,
               value >= threshold AS fired, coalesce(ev.evidence, []) AS evidence
        FROM gy JOIN con USING (grower_id, yr) LEFT JOIN ev USING (grower_id, yr)
        WHERE con.contracted_kg > 0"""


def _leaf_006(ind: Indicator, data: Dataset) -> str:
    o, c = (int(h) * 60 + int(m) for h, m in (t.split(":") for t in ind.policy.station_hours))
    managers = ("""SELECT s.station_id, ph.employee_id, CAST(ph.start_date AS TIMESTAMP) AS start_date,
                          coalesce(CAST(ph.end_date AS TIMESTAMP), TIMESTAMP '2262-04-11') AS end_date
                   FROM post_history ph JOIN positions p USING (position_id)
                   JOIN stations s ON s.department_id = ph.department_id WHERE p.post_code = 'station_manager'"""
                if data.has("post_history", "positions", "stations")
                else "SELECT NULL::VARCHAR AS station_id, NULL::VARCHAR AS employee_id, NULL::TIMESTAMP AS start_date, "
                     "NULL::TIMESTAMP AS end_date WHERE false")
    return f"""
        WITH x AS (
            SELECT purchase_id, station_id, purchased_at,
                   hour(purchased_at) * 60 + minute(purchased_at) + second(purchased_at) / 60.0 AS mins,
                   CASE WHEN mins < {o} THEN least({o} - mins, mins + 1440 - {c})
                        WHEN mins > {c} THEN least(mins - {c}, {o} + 1440 - mins) ELSE 0 END AS outside,
                   CAST(purchased_at - INTERVAL {o} MINUTE AS DATE) AS day
            FROM leaf_purchases),
        sess AS (
            SELECT station_id AS entity_id, station_id, CAST(day AS TIMESTAMP) AS period, max(outside) AS value,
                   list(purchase_id ORDER BY purchased_at) AS evidence
            FROM x WHERE outside > 0 GROUP BY station_id, day),
        mgr AS ({managers})
        SELECT sess.*, {float(ind.params.threshold)} AS threshold, value >= threshold AS fired, mgr.employee_id
        FROM sess LEFT JOIN mgr ON mgr.station_id = sess.station_id
                               AND sess.period BETWEEN mgr.start_date AND mgr.end_date + INTERVAL 1 DAY
        QUALIFY row_number() OVER (PARTITION BY sess.station_id, sess.period ORDER BY mgr.start_date DESC NULLS LAST) = 1"""


def _bid_004(ind: Indicator, data: Dataset) -> str:
    p = ind.params
    cat_join, single = (("LEFT JOIN categories c ON c.category_id = t.category_id",
                         "(t.method = 'single_source' OR coalesce(c.single_source, false))")
                        if data.has("categories") else ("", "(t.method = 'single_source')"))
    q = (100 - p.percentile) / 100  # direction low: the lower tail
    return f"""
        WITH tb AS (
            SELECT t.tender_id, any_value(t.close_date) AS period, any_value(t.department_id) AS department_id,
                   coalesce(any_value(t.winner_supplier_id), any_value(w.supplier_id)) AS supplier_id,
                   count(*) AS n_bids, stddev_samp(b.bid_amount) / avg(b.bid_amount) AS value,
                   list(b.bid_id ORDER BY b.bid_amount, b.bid_id) AS evidence
            FROM tenders t {cat_join} JOIN bids b ON b.tender_id = t.tender_id
            LEFT JOIN (SELECT tender_id, min(supplier_id) AS supplier_id FROM bids WHERE is_winner GROUP BY tender_id) w
                   ON w.tender_id = t.tender_id
            WHERE b.bid_amount > 0 AND NOT {single}
            GROUP BY t.tender_id
            HAVING count(*) >= {max(int(p.min_bids), 2)} AND NOT isnan(value))
        SELECT tender_id AS entity_id, period, department_id, supplier_id, n_bids, value,
               quantile_cont(value, {q}) OVER () AS threshold, value <= threshold AS fired, evidence
        FROM tb"""


def _activity_span(data: Dataset) -> str:
    parts = [f"SELECT min({c}) AS lo, max({c}) AS hi FROM {t}" for t, c in
             (("purchase_orders", "order_date"), ("claims", "expense_date"), ("leaf_purchases", "purchased_at"))
             if data.has(t)]
    return f"SELECT CAST(min(lo) AS DATE) AS lo, CAST(max(hi) AS DATE) AS hi FROM ({' UNION ALL '.join(parts)})"


def _hr_001(ind: Indicator, data: Dataset) -> str:
    p = ind.params
    years = float(p.rotation_years if p.rotation_years is not None else ind.policy.rotation_years)
    station = ("LEFT JOIN stations st ON st.department_id = s.department_id", "st.station_id") if data.has("stations") \
        else ("", "NULL")
    return f"""
        WITH span AS ({_activity_span(data)}),
        d AS (  -- every year-end inside the span, and its last day
            SELECT make_date(y, 12, 31) AS as_of FROM span, range(year(lo), year(hi) + 1) r(y) WHERE make_date(y, 12, 31) <= hi
            UNION SELECT hi FROM span),
        a AS (
            SELECT ph.employee_id, ph.department_id, ph.position_id, CAST(ph.start_date AS DATE) AS start_date,
                   coalesce(CAST(ph.end_date AS DATE), {_FAR}) AS end_date
            FROM post_history ph JOIN positions p USING (position_id) WHERE p.sensitivity >= {int(p.min_sensitivity)}),
        s AS (  -- consecutive assignments at one department (gap ≤ gap_days) are one stay
            SELECT *, min(start_date) OVER (PARTITION BY employee_id, stay) AS since
            FROM (SELECT *, sum(new_stay) OVER (PARTITION BY employee_id ORDER BY start_date, end_date ROWS UNBOUNDED PRECEDING) AS stay
                  FROM (SELECT *, CASE WHEN lag(department_id) OVER w = department_id
                                        AND start_date <= lag(end_date) OVER w + INTERVAL {int(p.gap_days) + 1} DAY
                                       THEN 0 ELSE 1 END AS new_stay
                        FROM a WINDOW w AS (PARTITION BY employee_id ORDER BY start_date, end_date))))
        SELECT s.employee_id AS entity_id, CAST(d.as_of AS TIMESTAMP) AS period, s.department_id, {station[1]} AS station_id,
               date_diff('day', s.since, d.as_of) / 365.25 AS value, {years} AS threshold, value >= threshold AS fired
        FROM s JOIN d ON d.as_of BETWEEN s.start_date AND s.end_date {station[0]}
        QUALIFY row_number() OVER (PARTITION BY s.employee_id, d.as_of ORDER BY s.start_date DESC) = 1"""


def _hr_003(ind: Indicator) -> str:
    posts = ", ".join("'" + c.replace("'", "''") + "'" for c in ind.params.grading_posts)
    return f"""
        WITH posted AS (
            SELECT ph.employee_id, s.station_id, CAST(ph.start_date AS DATE) AS start_date,
                   coalesce(CAST(ph.end_date AS DATE), {_FAR}) AS end_date
            FROM post_history ph JOIN positions p USING (position_id)
            JOIN stations s ON s.department_id = ph.department_id WHERE p.post_code IN ({posts}))
        SELECT grader_id AS entity_id, make_date(year(purchased_at), 1, 1) AS period, station_id,
               CAST(count(*) AS DOUBLE) AS value, {float(ind.params.threshold)} AS threshold, value >= threshold AS fired,
               list(purchase_id ORDER BY purchased_at) AS evidence
        FROM leaf_purchases l
        ANTI JOIN posted q ON q.employee_id = l.grader_id AND q.station_id = l.station_id
                          AND CAST(l.purchased_at AS DATE) BETWEEN q.start_date AND q.end_date
        GROUP BY grader_id, station_id, year(purchased_at)"""


#: indicator id → (what the query does, SQL builder taking the configured indicator and the dataset)
BASELINES: dict[str, tuple[str, Callable[[Indicator, Dataset], str]]] = {
    "PRC-002": ("split purchases: 30-day window sum per buyer × supplier", lambda i, d: _prc_002(i)),
    "PRC-008": ("price vs market: premium and per-category Tukey fence", lambda i, d: _prc_008(i)),
    "RMB-001": ("claim without trip: range join to approved trips", lambda i, d: _rmb_001(i)),
    "RMB-003": ("duplicate fapiao numbers: normalised, uses counted", lambda i, d: _rmb_003(i)),
    "LEAF-004": ("over contract: grower-year kg vs contract, lots past it", lambda i, d: _leaf_004(i)),
    "LEAF-006": ("night purchases: sessions, minutes outside hours, manager", _leaf_006),
    "BID-004": ("bid CV per tender, 5th-percentile cut", _bid_004),
    "HR-001": ("tenure in sensitive posts at each year-end", _hr_001),
    "HR-003": ("graded out of post: anti join to graders' terms", lambda i, d: _hr_003(i)),
}


def fired_keys(df: pd.DataFrame) -> set[tuple[str, pd.Timestamp | None]]:
    """(entity id, period) of the fired rows."""
    f = df[df.fired.fillna(False).astype(bool)]
    periods = pd.to_datetime(f.period) if "period" in f else pd.Series(pd.NaT, index=f.index)
    return {(str(e), None if pd.isna(p) else pd.Timestamp(p)) for e, p in zip(f.entity_id, periods)}


def compare(data: Dataset, ind: Indicator, repeat: int) -> dict:
    """Time ``ind.run`` and its baseline query alternately ``repeat`` times; the fastest of each and the fired keys."""
    what, build = BASELINES[ind.id]
    sql = build(ind, data)
    ours_s = base_s = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        ours = ind.run(data)
        ours_s = min(ours_s, time.perf_counter() - t)
        t = time.perf_counter()
        base = data.con.execute(sql).df()
        base_s = min(base_s, time.perf_counter() - t)
    a, b = fired_keys(ours), fired_keys(base)
    return {"indicator_id": ind.id, "baseline": what, "ours_s": round(ours_s, 3), "baseline_s": round(base_s, 3),
            "ratio": round(ours_s / base_s, 2) if base_s > 0 else None, "scored_ours": len(ours), "scored_baseline": len(base),
            "fired_ours": len(a), "fired_baseline": len(b), "mismatches": len(a ^ b)}


# -- data ---------------------------------------------------------------------------------------------------------
def dataset_dir(args) -> Path:
    """``--data``, or the preset generated into a cache folder (reused when its manifest matches)."""
    if args.data:
        return Path(args.data)
    from riskmodel.data.synthetic import generate_company

    out = Path(args.cache or Path(tempfile.gettempdir()) / "riskmodel-bench") / f"{args.preset}-seed{args.seed}"
    m = read_manifest(out) if out.exists() else None
    if m and m.get("preset") == args.preset and m.get("seed") == args.seed:
        print(f"using the cached {args.preset} company in {out}")
        return out
    free_gb = shutil.disk_usage(out.parent if out.parent.exists() else tempfile.gettempdir()).free / 2**30
    need = {"small": 0.1, "demo": 0.5, "large": 8.0}[args.preset]
    if free_gb < need:
        raise SystemExit(f"{free_gb:.1f} GB free where {out} would go; {args.preset} needs about {need:g} GB "
                         f"(choose another --cache or pass --data)")
    out.parent.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    generate_company(args.preset, seed=args.seed, out=out, progress=True)
    print(f"generated {args.preset} (seed {args.seed}) into {out} in {time.perf_counter() - t:.0f}s (kept for reuse)")
    return out


def table_rows(data: Dataset) -> dict[str, int]:
    return {t: int(data.con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]) for t in sorted(data.tables)}


def machine(threads: int) -> dict:
    with open("/proc/meminfo") as f:
        mem_kb = int(next(line for line in f if line.startswith("MemTotal")).split()[1])
    return {"nproc": os.cpu_count(), "cpus_usable": len(os.sched_getaffinity(0)), "duckdb_threads": threads,
            "memory_gb": round(mem_kb / 2**20, 1), "load_avg_at_start": [round(x, 2) for x in os.getloadavg()],
            "duckdb": duckdb.__version__, "pandas": pd.__version__}


# -- the run ------------------------------------------------------------------------------------------------------
def run_catalogue(path: Path, ids: list[str], threads: int, rows: dict[str, int]) -> dict:
    """One ``compute_flags`` call over ``ids`` on a fresh connection: seconds, peak RSS, tables read, per indicator."""
    data = Dataset.from_dir(path, threads=threads)
    log = record_queries(data)
    with Peak() as p:
        flags, stats = compute_flags(data, only=ids)
    read = tables_named(log, data.tables)
    return {"seconds": p.seconds, "peak_rss_mb": p.mb, "tables_read": read, "source_rows": sum(rows[t] for t in read),
            "flags": len(flags), "fired": int(flags.fired.sum()) if len(flags) else 0,
            "per_indicator": stats[["indicator_id", "scored", "fired", "seconds"]].to_dict("records")}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    src = ap.add_mutually_exclusive_group()
    src.add_argument("--data", help="an existing dataset folder (Parquet)")
    src.add_argument("--preset", choices=["small", "demo", "large"], help="generate this synthetic company (cached)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--cache", help="folder for generated presets (default: <tmp>/riskmodel-bench)")
    ap.add_argument("--only", nargs="+", metavar="ID", help="limit to these indicator ids")
    ap.add_argument("--skip-graph", action="store_true", help="leave out the REL- indicators (they build a graph)")
    ap.add_argument("--threads", type=int, default=os.cpu_count(), help="DuckDB threads (the goal is for 2)")
    ap.add_argument("--repeat", type=int, default=3, help="runs per side in the baseline comparison (fastest kept)")
    args = ap.parse_args()
    if not args.data and not args.preset:
        args.preset = "demo"
    path = dataset_dir(args)
    host = machine(args.threads)

    ids = args.only or list(all_indicators())
    configured(only=ids)  # unknown ids fail here, before any timing
    rel = [i for i in ids if i.startswith("REL-")]
    main_ids = [i for i in ids if not i.startswith("REL-")]
    rows = table_rows(Dataset.from_dir(path, threads=args.threads))

    parts = {}
    if main_ids:
        print(f"running {len(main_ids)} indicators (without the graph) on {path} with {args.threads} DuckDB threads …")
        parts["catalogue"] = run_catalogue(path, main_ids, args.threads, rows)
    if rel and not args.skip_graph:
        print(f"running the {len(rel)} REL- indicators (relationship graph) …")
        parts["graph"] = run_catalogue(path, rel, args.threads, rows)

    read = sorted(set().union(*(p["tables_read"] for p in parts.values()))) if parts else []
    total_rows = sum(rows[t] for t in read)
    total_s = sum(p["seconds"] for p in parts.values())
    per = sorted((r for p in parts.values() for r in p["per_indicator"]), key=lambda r: -r["seconds"])

    data = Dataset.from_dir(path, threads=args.threads)
    chosen = [i for i in BASELINES if i in ids]
    comparisons = []
    with Peak() as pk:
        for ind in configured(only=chosen) if chosen else []:
            print(f"  baseline {ind.id} …", flush=True)
            comparisons.append(compare(data, ind, args.repeat))

    # -- report --------------------------------------------------------------------------------------------------
    print(f"\nindicator catalogue on {path} ({args.threads} DuckDB threads, {os.cpu_count()} CPUs, "
          f"load average at end {os.getloadavg()[0]:.1f})")
    print(f"  source rows: {total_rows:,} in {len(read)} tables read ({', '.join(f'{t} {rows[t]:,}' for t in read)})")
    for name, p in parts.items():
        label = "catalogue without REL-" if name == "catalogue" else "REL- (graph)          "
        print(f"  {label}: {len(p['per_indicator'])} indicators, {p['source_rows']:,} source rows in {p['seconds']:.1f}s "
              f"= {p['source_rows'] / p['seconds']:,.0f} rows/s; peak RSS {p['peak_rss_mb']:,.0f} MB; {p['fired']:,} fired")
    if total_s:
        rate = total_rows / total_s
        print(f"  end to end: {total_s:.1f}s = {rate:,.0f} source rows/s; goal ≥ {GOAL_ROWS_PER_S:,} rows/s -> "
              f"{'met' if rate >= GOAL_ROWS_PER_S else f'NOT met ({GOAL_ROWS_PER_S / rate:.1f}x short)'}"
              f"{'  (REL- skipped)' if args.skip_graph and rel else ''}")
    print("\n  indicator   scored     fired   seconds  share")
    for r in per:
        print(f"  {r['indicator_id']:<9} {r['scored']:>8,} {r['fired']:>9,} {r['seconds']:>9.2f} {r['seconds'] / (total_s or 1):>6.0%}")
    if comparisons:
        print(f"\nours (Indicator.run) vs one hand-written DuckDB query, fastest of {args.repeat}, goal ≤ {GOAL_RATIO:g}x:")
        print("  indicator  ours s  query s  ratio  goal  fired ours/query  mismatches  query")
        for c in comparisons:
            ok = "met" if c["ratio"] is not None and c["ratio"] <= GOAL_RATIO else "NOT"
            print(f"  {c['indicator_id']:<9} {c['ours_s']:>7.2f} {c['baseline_s']:>8.2f} {c['ratio']:>6.2f}  {ok:<4} "
                  f"{c['fired_ours']:>7,}/{c['fired_baseline']:<7,} {c['mismatches']:>10,}  {c['baseline']}")
        print(f"  peak RSS during the comparison: {pk.mb:,.0f} MB")
    print(f"  process peak RSS (getrusage, whole run): {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB")

    rec = {"bench": "indicators", "data": str(path), "preset": args.preset, "seed": args.seed if args.preset else None,
           "only": args.only, "skip_graph": args.skip_graph, "tables_read": {t: rows[t] for t in read},
           "source_rows": total_rows, "seconds": round(total_s, 2),
           "rows_per_s": round(total_rows / total_s) if total_s else None, "goal_rows_per_s": GOAL_ROWS_PER_S,
           "parts": {k: {"seconds": round(p["seconds"], 2), "source_rows": p["source_rows"],
                         "rows_per_s": round(p["source_rows"] / p["seconds"]), "peak_rss_mb": round(p["peak_rss_mb"]),
                         "tables_read": p["tables_read"], "flags": p["flags"], "fired": p["fired"]}
                     for k, p in parts.items()},
           "per_indicator": per, "baselines": comparisons, "goal_ratio": GOAL_RATIO, "repeat": args.repeat,
           "comparison_peak_rss_mb": round(pk.mb), "process_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
           "machine": host, "code_version": code_version(), "when": pd.Timestamp.now().isoformat()}
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    name = args.preset or Path(path).name
    (out / f"indicators-{name}-{time.strftime('%Y%m%dT%H%M%S')}.json").write_text(json.dumps(rec, indent=2, default=str))


if __name__ == "__main__":
    main()
