"""Benchmark: the same features three ways — DuckDB over Parquet, pandas in memory, and a Dask cluster.

Computes the indicator catalogue and the graph features (``engine.flags_and_graph``) on one company:

1. **duckdb** — the default: DuckDB views over the Parquet files, with the engine's memory limit;
2. **pandas** — every table first read into pandas DataFrames and registered with DuckDB (how CSV exports
   and notebooks' in-memory tables are run); the read is timed apart;
3. **dask** — ``engine.backend: dask`` on a ``LocalCluster`` of ``--workers`` processes (start-up timed apart).

Prints seconds and peak resident memory of each path (the Dask workers' memory is their own processes', not
counted here), checks the three give identical flags, and writes a JSON record to bench/results/.

Usage: python bench/bench_backends.py [--data data/raw/demo] [--workers 2]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import pandas as pd

from riskmodel import config, engine
from riskmodel.data.dataset import Dataset
from riskmodel.provenance import code_version
from riskmodel.settings import load_settings

from _measure import Peak  # noqa: E402  (bench/ is on sys.path when run as a script)


def _same(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    try:
        pd.testing.assert_frame_equal(a, b)
    except AssertionError as exc:
        print(str(exc).splitlines()[0])
        if len(a) == len(b) and "evidence" in a:
            diff = a.evidence.map(tuple) != b.evidence.map(tuple)
            print("  rows with other evidence, by indicator:", a[diff].indicator_id.value_counts().to_dict())
        return False
    return True


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=config.DEMO_DATA_DIR)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    if not (args.data / "manifest.json").is_file():
        raise SystemExit(f"{args.data} has no company: run 'make demo' or 'riskmodel generate --out {args.data}' first")
    rows = sum(json.loads((args.data / "manifest.json").read_text())["tables"].values())
    local = load_settings()
    res, flags = {}, {}

    with Peak(relative=True) as p:
        data = engine.open_dataset(args.data, local)
        flags["duckdb"], _, graph = engine.flags_and_graph(data, local, progress=False)
    res["duckdb"] = {"seconds": round(p.seconds, 1), "peak_rise_mb": round(p.mb)}

    with Peak(relative=True) as load:
        frames = {f.stem: pd.read_parquet(f) for f in args.data.glob("*.parquet")}
    with Peak(relative=True) as p:
        data = Dataset.from_frames(frames, source=str(args.data), **engine.duck_options(local))
        flags["pandas"], _, _ = engine.flags_and_graph(data, local, progress=False)
    res["pandas"] = {"seconds": round(p.seconds, 1), "read_seconds": round(load.seconds, 1),
                     "peak_rise_mb": round(load.mb + p.mb)}
    del frames, data

    dask = load_settings(overrides={"engine": {"backend": "dask", "n_workers": args.workers}})
    t = time.perf_counter()
    with engine.session(dask):
        start = time.perf_counter() - t
        with Peak(relative=True) as p:
            data = engine.open_dataset(args.data, dask)
            flags["dask"], _, _ = engine.flags_and_graph(data, dask, progress=False)
    res["dask"] = {"seconds": round(p.seconds, 1), "cluster_start_seconds": round(start, 1), "peak_rise_mb": round(p.mb),
                   "workers": args.workers}

    same = {k: _same(flags[k], flags["duckdb"]) for k in ("pandas", "dask")}
    print(f"{args.data}: {rows:,} rows; indicator catalogue + graph features")
    for k, r in res.items():
        extra = (f" (+{r['read_seconds']} s reading into pandas)" if k == "pandas" else
                 f" (+{r['cluster_start_seconds']} s starting {args.workers} workers)" if k == "dask" else "")
        print(f"  {k:7s} {r['seconds']:7.1f} s{extra}; peak memory rise in this process {r['peak_rise_mb']:,} MiB"
              f"{'' if k == 'duckdb' else '; flags identical to duckdb: ' + str(same[k])}")
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    rec = {"bench": "backends", "data": str(args.data), "rows": rows, "results": res, "identical_flags": same,
           "code_version": code_version(), "when": time.strftime("%Y-%m-%dT%H:%M:%S")}
    (out / f"backends-{time.strftime('%Y%m%dT%H%M%S')}.json").write_text(json.dumps(rec, indent=2))
    if not all(same.values()):
        raise SystemExit("the backends disagree: see above")


if __name__ == "__main__":
    main()
