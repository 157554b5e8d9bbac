"""A national company from a provincial one: the scale benchmark's data (100 M rows and more).

A national tobacco company is many provincial companies under one roof.  :func:`national_company`
writes ``provinces`` copies of a generated company side by side, each province with its own id
namespace: every id, key and reference column and every column that identifies a person or firm
(names, ID numbers, phones, addresses, bank accounts, credit codes) is prefixed with the province
code, so no employee, supplier, grower or link is shared across provinces.  So are document numbers
(:data:`DOCUMENT_NUMBERS`): a fapiao's code carries the region of the tax bureau that issued it, so
two provinces never print the same number, and copies that shared them would look like duplicate
claims (RMB-003) on every row.  Dates, amounts and
codes are unchanged; reference tables keyed by codes alone (grade prices) are national and written once.  The work it takes (rows, distinct entities, group sizes, graph size) grows
with the number of provinces, which is what a scale benchmark needs; the provinces repeat each
other's patterns, so it is not a dataset to judge models on.

It runs in DuckDB, streaming from Parquet to Parquet, so memory stays bounded whatever the size.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import duckdb

from riskmodel import config
from riskmodel.data.schema import TABLES_BY_NAME
from riskmodel.data.store import atomic_dir, read_manifest, write_manifest
from riskmodel.errors import RiskModelError


#: Columns holding numbers printed on documents issued within a province (fapiao numbers).
DOCUMENT_NUMBERS = frozenset({"invoice_number"})


def _prefixed(table: str, columns: list[str]) -> set[str]:
    """Columns of ``table`` that get the province prefix."""
    t = TABLES_BY_NAME.get(table)
    if t is None:  # ground-truth tables: their ids
        return {c for c in columns if c.endswith("_id")}
    out = set()
    for c in t.columns:
        if c.dtype == "str" and c.allowed is None and (c.name.endswith("_id") or c.name in t.key_columns or c.references
                                                        or c.unique or c.identifier or c.name in DOCUMENT_NUMBERS):
            out.add(c.name)
    return out & set(columns)


def national_company(source: str | Path, out: str | Path, provinces: int, memory_limit: str = "4GB",
                     progress: bool = True) -> dict:
    """Write ``provinces`` id-disjoint copies of the company in ``source`` to ``out`` (atomically).

    Parameters
    ----------
    source : path
        A generated company (Parquet folder with ``manifest.json``).
    out : path
        Output folder; replaced only when everything is written.
    provinces : int
        Number of provinces (≥ 1).  The first keeps the source's ids prefixed with ``P01-``.
    memory_limit : str
        DuckDB's memory limit while copying (it streams; this bounds its buffers).

    Returns
    -------
    dict
        The manifest written to ``out/manifest.json``.
    """
    source, out = Path(source), Path(out)
    if provinces < 1:
        raise RiskModelError(f"provinces must be at least 1, not {provinces}")
    src_manifest = read_manifest(source)
    if src_manifest is None:
        raise RiskModelError(f"{source} has no manifest.json: generate a company there first (riskmodel generate)")
    files = sorted(source.glob("*.parquet")) + sorted((source / config.TRUTH_DIRNAME).glob("*.parquet"))
    t0 = time.perf_counter()
    with atomic_dir(out) as tmp:
        (tmp / config.TRUTH_DIRNAME).mkdir(exist_ok=True)
        con = duckdb.connect()
        con.execute(f"SET memory_limit = '{memory_limit}'")
        con.execute(f"SET temp_directory = '{(tmp / '.spill').as_posix()}'")
        con.execute("SET preserve_insertion_order = false")
        con.execute("SET enable_progress_bar = false")
        for i, f in enumerate(files, 1):
            cols = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM read_parquet('{f.as_posix()}')").fetchall()]
            pre = _prefixed(f.stem, cols)
            t = TABLES_BY_NAME.get(f.stem)
            # reference data keyed by codes alone (grade prices) is national: one copy
            shared = t is not None and not set(t.key_columns) & pre
            parts = []
            for p in range(1, 2 if shared else provinces + 1):
                code = f"P{p:02d}-"
                sel = ", ".join(f"'{code}' || \"{c}\" AS \"{c}\"" if c in pre else f'"{c}"' for c in cols)
                parts.append(f"SELECT {sel} FROM read_parquet('{f.as_posix()}')")
            dest = tmp / f.relative_to(source)
            con.execute(f"COPY ({' UNION ALL '.join(parts)}) TO '{dest.as_posix()}' (FORMAT parquet, COMPRESSION zstd)")
            if progress:
                print(f"[{i}/{len(files)}] {f.relative_to(source)} x {provinces} ({time.perf_counter() - t0:.0f} s)", flush=True)
        con.close()
        shutil.rmtree(tmp / ".spill", ignore_errors=True)
        manifest = write_manifest(tmp, {"generator": "riskmodel national company (provinces of one generated company)",
                                        "provinces": provinces, "source": str(source),
                                        "source_fingerprint": src_manifest.get("fingerprint"), "preset": src_manifest.get("preset"),
                                        "seed": src_manifest.get("seed"), "period": src_manifest.get("period")})
    return manifest
