"""Writing datasets and outputs atomically, and fingerprinting them.

Outputs are first written next to their destination and moved into place only
when complete, so a failed run leaves earlier results intact.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from riskmodel.errors import OutputError
from riskmodel.provenance import fingerprint_files

MANIFEST = "manifest.json"


@contextlib.contextmanager
def atomic_dir(dest: str | Path) -> Iterator[Path]:
    """Yield a temporary folder that replaces ``dest`` only if the block succeeds.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "out"
    >>> with atomic_dir(out) as tmp:
    ...     _ = (tmp / "x.txt").write_text("done")
    >>> (out / "x.txt").read_text()
    'done'
    """
    dest = Path(dest).resolve()
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.tmp-", dir=dest.parent))
    except OSError as exc:
        raise OutputError(f"cannot write to {dest.parent}: {exc.strerror}; choose another --out") from exc
    try:
        yield tmp
        old = None
        if dest.exists():
            old = dest.with_name(f".{dest.name}.old-{os.getpid()}")
            os.replace(dest, old)
        os.replace(tmp, dest)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write a file through a temporary sibling and ``os.replace``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


#: rows converted to Arrow at a time by :func:`write_table`
CHUNK_ROWS = 262_144


def write_table(df: pd.DataFrame, path: str | Path, schema=None, chunk_rows: int = CHUNK_ROWS) -> None:
    """Write one table as Parquet (deterministic: no pandas index, fixed compression).

    The frame goes to Arrow ``chunk_rows`` rows at a time, one row group each, so a table of millions of rows is
    never held twice (pandas and Arrow) in memory.  ``schema`` (a :class:`pyarrow.Schema`) fixes the column types;
    by default they are inferred from the whole frame, as :meth:`pandas.DataFrame.to_parquet` does.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    if schema is None:
        schema = pa.Schema.from_pandas(df, preserve_index=False)
    with pq.ParquetWriter(path, schema, compression="zstd") as out:
        for start in range(0, max(len(df), 1), chunk_rows):
            out.write_table(pa.Table.from_pandas(df.iloc[start:start + chunk_rows], schema=schema, preserve_index=False))


def dataset_files(root: str | Path) -> dict[str, Path]:
    """Every Parquet table under ``root`` (truth included, keyed ``truth/name``)."""
    root = Path(root)
    return {str(p.relative_to(root).with_suffix("")): p for p in sorted(root.rglob("*.parquet"))}


def data_files(root: str | Path) -> dict[str, Path]:
    """The data tables under ``root``, the ground truth left out: what a data fingerprint covers."""
    return {k: v for k, v in dataset_files(root).items() if not k.startswith("truth/")}


def folder_fingerprint(root: str | Path) -> str | None:
    """The fingerprint of ``root``'s data tables as they are now, as ``manifest.json`` records it; None for a
    folder without Parquet tables."""
    files = data_files(root)
    return fingerprint_files(files) if files else None


def write_manifest(root: str | Path, info: dict) -> dict:
    """Write ``manifest.json`` with the data fingerprint (over the data tables, not truth)."""
    root = Path(root)
    files = data_files(root)
    manifest = {**info, "fingerprint": fingerprint_files(files),
                "tables": {k: int(pd.read_parquet(v, columns=[]).shape[0]) for k, v in files.items()}}
    atomic_write_bytes(root / MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=2, default=str).encode())
    return manifest


def read_manifest(root: str | Path) -> dict | None:
    p = Path(root) / MANIFEST
    return json.loads(p.read_text(encoding="utf-8")) if p.is_file() else None
