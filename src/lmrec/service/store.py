"""The service's store: events, catalog additions and the active model version.

One narrow interface (:class:`Store`) chosen by URL (PostgreSQL: :mod:`lmrec.service.postgres`). ``sqlite:///path.db`` (the default) is an
embedded SQLite database in WAL mode with ``synchronous=FULL``: :meth:`Store.add_events`
returns only once the batch is on disk, so an acknowledged event survives a crash.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lmrec.errors import UsageError

__all__ = ["Event", "SQLiteStore", "Store", "open_store"]

EVENT_TYPES = ("view", "click", "cart", "purchase", "rating", "not_interested")


@dataclass(frozen=True)
class Event:
    user_id: str
    item_id: str
    type: str
    timestamp: float
    value: float | None = None
    context: dict[str, str] | None = None
    event_id: str | None = None


@dataclass
class _Ticket:
    rows: list[tuple[Any, ...]]
    result: int = 0
    done: bool = False


def _rows(events: list[Event]) -> list[tuple[Any, ...]]:
    return [
        (e.event_id, e.user_id, e.item_id, e.type, e.value, e.timestamp,
         json.dumps(e.context) if e.context else None)
        for e in events
    ]  # fmt: skip


class Store:
    """What the service keeps between requests and restarts."""

    def add_events(self, events: list[Event]) -> int:
        """Append durably; events whose ``event_id`` is already stored are skipped. Returns how
        many were new."""
        raise NotImplementedError

    def user_events(self, user_id: str, limit: int = 1000) -> list[Event]:
        """The user's events, oldest first (at most the latest ``limit``)."""
        raise NotImplementedError

    def count_events(self) -> int:
        raise NotImplementedError

    def upsert_items(self, items: list[dict[str, Any]]) -> None:
        raise NotImplementedError

    def items(self) -> dict[str, dict[str, Any]]:
        """Catalog entries added or changed through the API, by item id."""
        raise NotImplementedError

    def get_setting(self, key: str) -> str | None:
        raise NotImplementedError

    def set_setting(self, key: str, value: str) -> None:
        raise NotImplementedError

    def get_profile_edits(self, user_id: str) -> str | None:
        """The user's profile edits as JSON (see :class:`lmrec.profiles.ProfileEdits`)."""
        raise NotImplementedError

    def set_profile_edits(self, user_id: str, edits: str) -> None:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError


_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT UNIQUE,
    user_id TEXT NOT NULL,
    item_id TEXT NOT NULL,
    type TEXT NOT NULL,
    value REAL,
    timestamp REAL NOT NULL,
    context TEXT
);
CREATE INDEX IF NOT EXISTS events_user ON events (user_id, seq);
CREATE TABLE IF NOT EXISTS items (item_id TEXT PRIMARY KEY, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS profile_edits (user_id TEXT PRIMARY KEY, edits TEXT NOT NULL);
"""


class SQLiteStore(Store):
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._commit_lock = threading.Lock()
        self._queue_lock = threading.Lock()
        self._queue: list[_Ticket] = []
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("PRAGMA busy_timeout=10000")  # several worker processes share it
        # Writers of all processes queue on one file lock: a blocked writer wakes the moment the
        # lock is free, instead of SQLite's busy handler sleeping in growing steps.
        memory = str(path) == ":memory:"
        self._flock = None if memory else open(f"{self.path}.writelock", "a+b")  # noqa: SIM115
        self._db.executescript(_SCHEMA)

    @contextlib.contextmanager
    def _writing(self) -> Iterator[None]:
        with self._lock:
            if self._flock is None:
                yield
                return
            fcntl.flock(self._flock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(self._flock, fcntl.LOCK_UN)

    def add_events(self, events: list[Event]) -> int:
        """Group commit: concurrent callers (the server's threads) queue their batches; one of
        them commits everything queued in one transaction, one fsync, and each caller returns
        once its own batch is on disk."""
        ticket = _Ticket(_rows(events))
        with self._queue_lock:
            self._queue.append(ticket)
        with self._commit_lock:
            if ticket.done:
                return ticket.result  # committed by the caller before us
            with self._queue_lock:
                group, self._queue = self._queue, []
            with self._writing():
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    for t in group:
                        before = self._db.total_changes
                        self._db.executemany(
                            "INSERT OR IGNORE INTO events "
                            "(event_id, user_id, item_id, type, value, timestamp, context) "
                            "VALUES (?, ?, ?, ?, ?, ?, ?)",
                            t.rows,
                        )
                        t.result = self._db.total_changes - before
                    self._db.execute("COMMIT")
                except BaseException:
                    self._db.execute("ROLLBACK")
                    for t in group:  # nothing of the group is stored: every caller retries
                        t.result = 0
                    if any(t is not ticket for t in group):
                        with self._queue_lock:
                            self._queue = [t for t in group if t is not ticket] + self._queue
                    raise
            for t in group:
                t.done = True
            return ticket.result

    def user_events(self, user_id: str, limit: int = 1000) -> list[Event]:
        with self._lock:
            rows = self._db.execute(
                "SELECT user_id, item_id, type, timestamp, value, context, event_id FROM "
                "(SELECT * FROM events WHERE user_id = ? ORDER BY seq DESC LIMIT ?) ORDER BY seq",
                (user_id, limit),
            ).fetchall()
        return [
            Event(r[0], r[1], r[2], r[3], r[4], json.loads(r[5]) if r[5] else None, r[6])
            for r in rows
        ]

    def count_events(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM events").fetchone()[0])

    def upsert_items(self, items: list[dict[str, Any]]) -> None:
        with self._writing():
            self._db.execute("BEGIN IMMEDIATE")
            self._db.executemany(
                "INSERT INTO items (item_id, body) VALUES (?, ?) "
                "ON CONFLICT(item_id) DO UPDATE SET body = excluded.body",
                [(i["item_id"], json.dumps(i)) for i in items],
            )
            self._db.execute("COMMIT")

    def items(self) -> dict[str, dict[str, Any]]:
        with self._lock:
            rows = self._db.execute("SELECT item_id, body FROM items").fetchall()
        return {r[0]: json.loads(r[1]) for r in rows}

    def get_setting(self, key: str) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_setting(self, key: str, value: str) -> None:
        with self._writing():
            self._db.execute(
                "INSERT INTO settings (key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    def get_profile_edits(self, user_id: str) -> str | None:
        with self._lock:
            row = self._db.execute(
                "SELECT edits FROM profile_edits WHERE user_id = ?", (user_id,)
            ).fetchone()
        return None if row is None else str(row[0])

    def set_profile_edits(self, user_id: str, edits: str) -> None:
        with self._writing():
            self._db.execute(
                "INSERT INTO profile_edits (user_id, edits) VALUES (?, ?) "
                "ON CONFLICT(user_id) DO UPDATE SET edits = excluded.edits",
                (user_id, edits),
            )

    def close(self) -> None:
        with self._lock:
            self._db.close()
            if self._flock is not None:
                self._flock.close()


def open_store(url: str) -> Store:
    """``sqlite:///relative/or/absolute.db``, ``sqlite:///:memory:``, a plain file path, or
    ``postgresql://user[:password]@host[:port]/database``."""
    if url.startswith("sqlite:///"):
        return SQLiteStore(url[len("sqlite:///") :])
    if url.startswith(("postgresql://", "postgres://")):
        from lmrec.service.postgres import PostgresStore

        return PostgresStore(url)
    if "://" in url:
        raise UsageError(f"unknown store URL '{url}'; use sqlite:///PATH or postgresql://...")
    return SQLiteStore(url)
