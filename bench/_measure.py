"""Shared by the benchmarks: wall time and peak resident memory of a block (sampled by a thread)."""

from __future__ import annotations

import os
import threading
import time

_PAGE = os.sysconf("SC_PAGE_SIZE")


def rss() -> int:
    """Resident set size of this process, bytes."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * _PAGE


class Peak:
    """``with Peak() as p: ...`` then ``p.seconds`` and ``p.mb``: the largest RSS while the block ran, in MiB —
    absolute, or the rise above the start with ``relative=True``."""

    def __init__(self, relative: bool = False, every: float = 0.005):
        self.relative = relative
        self.every = every

    def __enter__(self):
        self.start = self.peak = rss()
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._sample, daemon=True)
        self._t.start()
        self.t0 = time.perf_counter()
        return self

    def _sample(self):
        while not self._stop.wait(self.every):
            self.peak = max(self.peak, rss())

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.t0
        self._stop.set()
        self._t.join()
        self.peak = max(self.peak, rss())
        self.mb = ((self.peak - self.start) if self.relative else self.peak) / 2**20
