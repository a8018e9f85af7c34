"""The record of served lists, written off the request path: a request only appends to an
in-memory queue; a background thread writes what queued in one transaction every
:data:`FLUSH_EVERY_S`. A list served in the last fraction of a second before a crash can be
lost; an event is never (events are written before they are acknowledged)."""

from __future__ import annotations

import logging
import threading
from collections import deque

from lmrec.service.store import Impression, Store, StoreUnavailable

__all__ = ["FLUSH_EVERY_S", "MAX_PENDING", "ImpressionLog"]

FLUSH_EVERY_S = 0.25
#: lists kept while the store cannot take them; beyond this the oldest are dropped (counted)
MAX_PENDING = 200_000

log = logging.getLogger(__name__)


class ImpressionLog:
    """Queues served lists and writes them to ``store`` in batches from its own thread."""

    def __init__(self, store: Store, *, every_s: float = FLUSH_EVERY_S) -> None:
        self.store = store
        self.every_s = every_s
        self.dropped = 0
        self.written = 0
        self._pending: deque[Impression] = deque()
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="impressions", daemon=True)
        self._thread.start()

    def add(self, impression: Impression) -> None:
        with self._lock:
            self._pending.append(impression)
            while len(self._pending) > MAX_PENDING:
                self._pending.popleft()
                self.dropped += 1

    def flush(self) -> int:
        """Write everything queued now; how many lists were written. What the store refused
        stays queued for the next try (and :class:`StoreUnavailable` is raised)."""
        with self._write_lock:
            with self._lock:
                batch = list(self._pending)
                self._pending.clear()
            if not batch:
                return 0
            try:
                self.store.add_impressions(batch)
            except BaseException:
                with self._lock:
                    self._pending.extendleft(reversed(batch))
                raise
            self.written += len(batch)
            return len(batch)

    def _loop(self) -> None:
        while not self._stop.wait(self.every_s):
            try:
                self.flush()
            except StoreUnavailable as exc:
                log.warning("served lists not written yet (kept for the next try): %s", exc)
            except Exception:  # never let the writer die silently
                log.exception("served lists not written")

    def close(self) -> None:
        """Stop the thread and write what is left."""
        self._stop.set()
        self._thread.join()
        try:
            self.flush()
        except StoreUnavailable as exc:
            log.error("%d served lists lost at shutdown: %s", len(self._pending), exc)
