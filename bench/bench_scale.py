"""Benchmark: the whole run (indicators, graph features, training, scoring, queue) at scale, on one machine.

Runs ``run_pipeline`` on a baseline company (the ``large`` preset, ~19 M rows) and on a national one
(``--provinces`` id-disjoint provinces of it, ~116 M rows with 6), in the same process one after the
other, with the engine's memory limit, and prints for each: rows, wall time, rows per second, the
indicator catalogue's share of the time, and the peak resident memory of the process.  Goals
(issue #9): peak RSS ≤ 8 GiB at 100 M rows; per-row throughput within 2× of the baseline run's.
Writes a JSON record to bench/results/.

Usage::

    python bench/bench_scale.py                       # generates what it needs under data/interim/scale/
    python bench/bench_scale.py --base DIR --national DIR2   # reuse companies already written
    python bench/bench_scale.py --provinces 6 --memory-limit 4GB
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import pandas as pd

from riskmodel import config
from riskmodel.provenance import code_version
from riskmodel.scoring.pipeline import run_pipeline
from riskmodel.settings import load_settings

from _measure import Peak  # noqa: E402  (bench/ is on sys.path when run as a script)

GOAL_PEAK_GIB = 8.0
GOAL_SLOWDOWN = 2.0


def rows_of(data_dir: Path) -> int:
    m = json.loads((data_dir / "manifest.json").read_text())
    return int(sum(m["tables"].values()))


def measure(data_dir: Path, settings, label: str) -> dict:
    rows = rows_of(data_dir)
    print(f"\n-- {label}: {data_dir} ({rows:,} rows)", flush=True)
    with tempfile.TemporaryDirectory(prefix="riskmodel-scale-") as tmp, Peak() as p:
        run_pipeline(data_dir, Path(tmp) / "run", settings=settings, progress=True)
        th = pd.read_parquet(Path(tmp) / "run" / "indicator_thresholds.parquet")
        alerts = len(pd.read_parquet(Path(tmp) / "run" / "alerts.parquet"))
    rec = {"label": label, "data": str(data_dir), "rows": rows, "seconds": round(p.seconds, 1),
           "rows_per_s": round(rows / p.seconds), "indicator_seconds": round(float(th.seconds.sum()), 1),
           "slowest_indicators": th.nlargest(5, "seconds")[["indicator_id", "seconds"]].values.tolist(),
           "peak_rss_gib": round(p.mb / 1024, 2), "alerts": alerts}
    print(f"   {rec['seconds']:.0f} s, {rec['rows_per_s']:,} rows/s, indicators {rec['indicator_seconds']:.0f} s, "
          f"peak RSS {rec['peak_rss_gib']:.2f} GiB, {alerts} alerts", flush=True)
    return rec


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    scale = config.INTERIM_DATA_DIR / "scale"
    ap.add_argument("--base", type=Path, default=scale / "large", help="baseline company (generated with --preset large if absent)")
    ap.add_argument("--national", type=Path, default=None, help="national company (built from --base if absent)")
    ap.add_argument("--provinces", type=int, default=6)
    ap.add_argument("--seed", type=int, default=2)
    ap.add_argument("--memory-limit", default="4GB", help="engine.memory_limit for both runs")
    ap.add_argument("--threads", type=int, default=None, help="engine.threads (default: all cores)")
    args = ap.parse_args()
    national = args.national or scale / f"national{args.provinces}"
    if not (args.base / "manifest.json").is_file():
        from riskmodel.data.synthetic import generate_company

        print(f"generating the large preset into {args.base} (minutes)", flush=True)
        generate_company("large", seed=args.seed, out=args.base)
    if not (national / "manifest.json").is_file():
        from riskmodel.data.synthetic.national import national_company

        print(f"building {args.provinces} provinces into {national}", flush=True)
        national_company(args.base, national, args.provinces)
    settings = load_settings(overrides={"engine": {"memory_limit": args.memory_limit, "threads": args.threads}})
    base = measure(args.base, settings, "baseline (large)")
    nat = measure(national, settings, f"national ({args.provinces} provinces)")
    slowdown = base["rows_per_s"] / nat["rows_per_s"]
    print(f"\nper-row throughput at {nat['rows'] / 1e6:.0f} M rows vs {base['rows'] / 1e6:.0f} M: {slowdown:.2f}x slower "
          f"(goal ≤ {GOAL_SLOWDOWN:.0f}x) -> {'met' if slowdown <= GOAL_SLOWDOWN else 'NOT met'}")
    print(f"peak RSS at {nat['rows'] / 1e6:.0f} M rows: {nat['peak_rss_gib']:.2f} GiB (goal ≤ {GOAL_PEAK_GIB:.0f} GiB) -> "
          f"{'met' if nat['peak_rss_gib'] <= GOAL_PEAK_GIB else 'NOT met'}")
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    rec = {"bench": "scale", "runs": [base, nat], "slowdown_per_row": round(slowdown, 2), "memory_limit": args.memory_limit,
           "threads": args.threads, "goal_peak_gib": GOAL_PEAK_GIB, "goal_slowdown": GOAL_SLOWDOWN,
           "code_version": code_version(), "when": time.strftime("%Y-%m-%dT%H:%M:%S")}
    (out / f"scale-{time.strftime('%Y%m%dT%H%M%S')}.json").write_text(json.dumps(rec, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
