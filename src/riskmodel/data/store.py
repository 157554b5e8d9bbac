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


def write_table(df: pd.DataFrame, path: str | Path) -> None:
    """Write one table as Parquet (deterministic: no pandas index, fixed compression)."""
    df.to_parquet(path, index=False, compression="zstd")


def dataset_files(root: str | Path) -> dict[str, Path]:
    """Every Parquet table under ``root`` (truth included, keyed ``truth/name``)."""
    root = Path(root)
    return {str(p.relative_to(root).with_suffix("")): p for p in sorted(root.rglob("*.parquet"))}


def write_manifest(root: str | Path, info: dict) -> dict:
    """Write ``manifest.json`` with the data fingerprint (over the data tables, not truth)."""
    root = Path(root)
    files = {k: v for k, v in dataset_files(root).items() if not k.startswith("truth/")}
    manifest = {**info, "fingerprint": fingerprint_files(files),
                "tables": {k: int(pd.read_parquet(v, columns=[]).shape[0]) for k, v in files.items()}}
    atomic_write_bytes(root / MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=2, default=str).encode())
    return manifest


def read_manifest(root: str | Path) -> dict | None:
    p = Path(root) / MANIFEST
    return json.loads(p.read_text(encoding="utf-8")) if p.is_file() else None
