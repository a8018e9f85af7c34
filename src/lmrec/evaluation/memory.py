"""The memory a block of work needs: the process's peak resident memory while it runs."""

from __future__ import annotations

import os
import resource
import threading
from types import TracebackType

__all__ = ["PeakMemory", "resident_mb"]


def resident_mb() -> float:
    """This process's resident memory now, in MiB (its peak so far where /proc is missing)."""
    try:
        with open("/proc/self/statm") as f:
            pages = int(f.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class PeakMemory:
    """Samples the resident memory every ``interval_s`` while in the ``with`` block:
    ``peak_mb`` is the most it reached, ``extra_mb`` that above what it was on entry (what the
    block itself needed: native buffers such as torch's included, which tracemalloc misses)."""

    def __init__(self, interval_s: float = 0.02) -> None:
        self.interval_s = interval_s
        self.start_mb = self.peak_mb = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def extra_mb(self) -> float:
        return max(0.0, self.peak_mb - self.start_mb)

    def _sample(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.peak_mb = max(self.peak_mb, resident_mb())

    def __enter__(self) -> PeakMemory:
        self.start_mb = self.peak_mb = resident_mb()
        self._thread = threading.Thread(target=self._sample, name="peak-memory", daemon=True)
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.peak_mb = max(self.peak_mb, resident_mb())
