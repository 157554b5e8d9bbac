"""Benchmark: how fast a risk portrait renders once the kernel has started (goal ≤ 3 s).

Executes the portrait notebook with papermill (``riskmodel report portrait``) for the top-ranked employee of a
run, and sums the cells' execution times that papermill records (the time after the kernel started).  The run is
copied to a temporary folder first, so that the benchmark's reports do not go on the real run's ledger.

Same-run baselines, printed next to every figure: the whole wall time (kernel start and HTML export included),
and a reference notebook executed the same way that only imports what any portrait needs (pandas, DuckDB,
networkx) — the floor on this machine at this moment, which on a shared box moves with its load (also recorded).
Writes a JSON record to bench/results/.

Usage: python bench/bench_portrait.py [--run data/processed/demo_run] [--entity-kind employee] [--entity-id top]
                                      [--lang zh] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

import nbformat

from riskmodel import config
from riskmodel.provenance import code_version
from riskmodel.reports.commands import portrait

GOAL_SECONDS = 3.0
REFERENCE = "import pandas, duckdb, networkx"


def _cells(path: Path) -> list[tuple[str, float]]:
    nb = nbformat.read(path, as_version=4)
    return [(c.source.splitlines()[-1][:50] if c.source else "", c.metadata.get("papermill", {}).get("duration") or 0.0)
            for c in nb.cells if c.cell_type == "code"]


def _reference(tmp: Path) -> float:
    """Seconds after kernel start of a notebook that only imports what every portrait needs."""
    import papermill as pm

    src, out = tmp / "reference.ipynb", tmp / "reference-out.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(REFERENCE)]), src)
    pm.execute_notebook(str(src), str(out), kernel_name="python3", progress_bar=False, cwd=str(config.PROJ_ROOT))
    return sum(d for _, d in _cells(out))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run", default=str(config.PROCESSED_DATA_DIR / "demo_run"))
    ap.add_argument("--entity-kind", default="employee")
    ap.add_argument("--entity-id", default="top")
    ap.add_argument("--lang", default="zh", choices=["zh", "en"])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        run = Path(scratch) / "run"
        shutil.copytree(args.run, run, ignore=shutil.ignore_patterns("*.lock"))
        for i in range(args.repeat):
            with tempfile.TemporaryDirectory() as tmp:
                load = os.getloadavg()[0]
                t = time.perf_counter()
                paths = portrait(args.entity_kind, args.entity_id, None, args.lang, "supervisor", run, tmp)
                wall = time.perf_counter() - t
                cells = _cells(paths["notebook"])
                reference = _reference(Path(tmp))
            rows.append({"after_kernel_start_s": round(sum(d for _, d in cells), 2), "wall_s": round(wall, 2),
                         "reference_s": round(reference, 2), "load_1min": round(load, 2),
                         "cells": [(src, round(d, 3)) for src, d in cells]})
            r = rows[-1]
            print(f"run {i + 1}: {r['after_kernel_start_s']:.2f} s after the kernel started (whole report incl. kernel start and "
                  f"HTML: {wall:.2f} s; reference '{REFERENCE}': {reference:.2f} s; load {load:.1f} on {os.cpu_count()} cores)")
            for src, d in sorted(cells, key=lambda x: -x[1])[:4]:
                print(f"    {d:6.2f} s  {src}")
    best = min(rows, key=lambda r: r["after_kernel_start_s"])
    print(f"best: {best['after_kernel_start_s']:.2f} s after kernel start (reference {best['reference_s']:.2f} s in the same run); "
          f"goal ≤ {GOAL_SECONDS:.0f} s -> {'met' if best['after_kernel_start_s'] <= GOAL_SECONDS else 'NOT met'}")
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    rec = {"bench": "portrait", "run": args.run, "entity": [args.entity_kind, args.entity_id], "lang": args.lang, "runs": rows,
           "best_s": best["after_kernel_start_s"], "goal_s": GOAL_SECONDS, "cpus": os.cpu_count(),
           "code_version": code_version(), "when": time.strftime("%Y-%m-%dT%H:%M:%S")}
    (out / f"portrait-{time.strftime('%Y%m%dT%H%M%S')}.json").write_text(json.dumps(rec, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
