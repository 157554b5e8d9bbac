"""What every model and report records: code version, data fingerprint, parameters."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

from riskmodel import __version__, config


def code_version() -> str:
    """The package version plus the git commit (``+dirty`` when uncommitted changes exist).

    Examples
    --------
    >>> code_version().startswith(__version__)
    True
    """
    try:
        sha = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=config.PROJ_ROOT,
                             capture_output=True, text=True, timeout=5, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=config.PROJ_ROOT,
                               capture_output=True, text=True, timeout=5, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return __version__
    return f"{__version__}+g{sha}{'.dirty' if dirty else ''}"


def file_sha256(path: str | Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def fingerprint_files(paths: dict[str, Path]) -> str:
    """One hash over named files (names sorted), stable across machines.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp()); (d / "a").write_text("x")
    1
    >>> fingerprint_files({"a": d / "a"}) == fingerprint_files({"a": d / "a"})
    True
    """
    h = hashlib.sha256()
    for name in sorted(paths):
        h.update(name.encode())
        h.update(file_sha256(paths[name]).encode())
    return h.hexdigest()
