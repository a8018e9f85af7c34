"""The store on PostgreSQL (``postgresql://user@host:port/db``): the same interface and the
same guarantees as SQLite. A batch of events is one transaction; PostgreSQL's commit is durable
(``synchronous_commit`` on, its default), so an acknowledged event survives a crash."""

from __future__ import annotations

import json
import threading
from typing import Any

from lmrec.errors import UsageError
from lmrec.service.store import Event, Store

__all__ = ["PostgresStore"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    seq BIGSERIAL PRIMARY KEY,
    event_id TEXT UNIQUE,
    user_id TEXT NOT NULL,
    item_id TEXT NOT NULL,
    type TEXT NOT NULL,
    value DOUBLE PRECISION,
    timestamp DOUBLE PRECISION NOT NULL,
    context JSONB
);
CREATE INDEX IF NOT EXISTS events_user ON events (user_id, seq);
CREATE TABLE IF NOT EXISTS items (item_id TEXT PRIMARY KEY, body JSONB NOT NULL);
CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS profile_edits (user_id TEXT PRIMARY KEY, edits TEXT NOT NULL);
"""


class PostgresStore(Store):
    def __init__(self, url: str) -> None:
        import psycopg

        try:
            self._db = psycopg.connect(url, autocommit=True, connect_timeout=10)
        except psycopg.OperationalError as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise UsageError(f"cannot connect to PostgreSQL at {_safe(url)}: {first}") from None
        self._lock = threading.Lock()
        with self._lock, self._db.transaction():
            # several workers may start at once: one creates the schema, the others wait
            self._db.execute("SELECT pg_advisory_xact_lock(727274)")
            self._db.execute(_SCHEMA)

    def add_events(self, events: list[Event]) -> int:
        rows = [
            (e.event_id, e.user_id, e.item_id, e.type, e.value, e.timestamp,
             json.dumps(e.context) if e.context else None)
            for e in events
        ]  # fmt: skip
        with self._lock, self._db.transaction(), self._db.cursor() as cur:
            cur.executemany(
                "INSERT INTO events (event_id, user_id, item_id, type, value, timestamp, context) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (event_id) DO NOTHING",
                rows,
            )
            return max(0, cur.rowcount)

    def user_events(self, user_id: str, limit: int = 1000) -> list[Event]:
        with self._lock:
            rows = self._db.execute(
                "SELECT user_id, item_id, type, timestamp, value, context, event_id FROM "
                "(SELECT * FROM events WHERE user_id = %s ORDER BY seq DESC LIMIT %s) AS recent "
                "ORDER BY seq",
                (user_id, limit),
            ).fetchall()
        return [Event(r[0], r[1], r[2], r[3], r[4], r[5], r[6]) for r in rows]

    def count_events(self) -> int:
        with self._lock:
            row = self._db.execute("SELECT COUNT(*) FROM events").fetchone()
        return int(row[0]) if row else 0

    def upsert_items(self, items: list[dict[str, Any]]) -> None:
        with self._lock, self._db.transaction(), self._db.cursor() as cur:
            cur.executemany(
                "INSERT INTO items (item_id, body) VALUES (%s, %s) "
                "ON CONFLICT (item_id) DO UPDATE SET body = excluded.body",
                [(i["item_id"], json.dumps(i)) for i in items],
            )

    def items(self) -> dict[str, dict[str, Any]]:
        with self._lock:
            rows = self._db.execute("SELECT item_id, body FROM items").fetchall()
        return {r[0]: r[1] for r in rows}

    def get_setting(self, key: str) -> str | None:
        return self._get("SELECT value FROM settings WHERE key = %s", key)

    def set_setting(self, key: str, value: str) -> None:
        self._put(
            "INSERT INTO settings (key, value) VALUES (%s, %s) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            key, value,
        )  # fmt: skip

    def get_profile_edits(self, user_id: str) -> str | None:
        return self._get("SELECT edits FROM profile_edits WHERE user_id = %s", user_id)

    def set_profile_edits(self, user_id: str, edits: str) -> None:
        self._put(
            "INSERT INTO profile_edits (user_id, edits) VALUES (%s, %s) "
            "ON CONFLICT (user_id) DO UPDATE SET edits = excluded.edits",
            user_id, edits,
        )  # fmt: skip

    def _get(self, sql: str, key: str) -> str | None:
        with self._lock:
            row = self._db.execute(sql, (key,)).fetchone()
        return None if row is None else str(row[0])

    def _put(self, sql: str, key: str, value: str) -> None:
        with self._lock:
            self._db.execute(sql, (key, value))

    def close(self) -> None:
        with self._lock:
            self._db.close()


def _safe(url: str) -> str:
    """The URL without its password."""
    head, at, tail = url.rpartition("@")
    if not at:
        return url
    scheme, _, cred = head.partition("://")
    user = cred.split(":", 1)[0]
    return f"{scheme}://{user}@{tail}"
