"""Benchmark: generating the synthetic company.

Prints rows, seconds, rows/s and peak memory per preset, against the goal that
``demo`` generates in under a minute on 2 cores, and against a same-run
baseline: writing the same number of rows of random columns to Parquet (the
floor any generator pays for its output).  Writes a JSON record to
``bench/results/``.

Usage: python bench/bench_generate.py [--preset demo] [--seed 1]
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from riskmodel.data.synthetic import generate_company
from riskmodel.provenance import code_version

GOAL_SECONDS = {"demo": 60.0}


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _baseline(rows: int, out: Path) -> float:
    rng = np.random.default_rng(0)
    t = time.perf_counter()
    df = pd.DataFrame({"id": np.arange(rows).astype(str), "a": rng.random(rows), "b": rng.integers(0, 100, rows),
                       "t": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 10**8, rows), unit="s")})
    df.to_parquet(out / "baseline.parquet", compression="zstd", index=False)
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="demo", choices=["small", "demo", "large"])
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        m = generate_company(args.preset, seed=args.seed, out=Path(tmp) / "co", progress=True)
        secs = time.perf_counter() - t
        rows = sum(m["tables"].values())
        base = _baseline(rows, Path(tmp))
    rec = {"bench": "generate", "preset": args.preset, "seed": args.seed, "rows": rows, "seconds": round(secs, 2),
           "rows_per_s": round(rows / secs), "peak_rss_mb": round(_peak_rss_mb()), "baseline_parquet_seconds": round(base, 2),
           "goal_seconds": GOAL_SECONDS.get(args.preset), "code_version": code_version(), "when": pd.Timestamp.now().isoformat()}
    print(f"generate --preset {args.preset}: {rows:,} rows in {secs:.1f}s ({rows / secs:,.0f} rows/s), peak RSS {rec['peak_rss_mb']} MB")
    print(f"  baseline (write {rows:,} random rows to Parquet): {base:.1f}s -> generator costs {secs / base:.1f}x the write floor")
    if rec["goal_seconds"]:
        print(f"  goal: < {rec['goal_seconds']:.0f}s -> {'met' if secs < rec['goal_seconds'] else 'NOT met'}")
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    (out / f"generate-{args.preset}-{time.strftime('%Y%m%dT%H%M%S')}.json").write_text(json.dumps(rec, indent=2))


if __name__ == "__main__":
    main()
