"""The service's store: what people did and chose (events, profile edits, consent), the lists
they were served (:mod:`lmrec.service.served`), catalog additions, settings and the audit log.

One interface (:class:`Store`) chosen by URL: ``sqlite:///path.db`` (the default,
:mod:`lmrec.service.sqlite`) or PostgreSQL (:mod:`lmrec.service.postgres`). Both keep user ids only as pseudonyms and seal
events and profile edits with the store's secret (:mod:`lmrec.service.vault`).
:meth:`Store.add_events` returns only once the batch is durably committed; when the store
cannot commit (a full disk, a lock held too long, a lost connection) it raises
:class:`StoreUnavailable` and nothing of the batch is acknowledged.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from lmrec.errors import LmrecError, UsageError
from lmrec.service.served import Impression, ServedLists
from lmrec.service.vault import SECRET_ENV, Vault, url_path

__all__ = [
    "EVENT_TYPES",
    "INSERT_EVENTS",
    "INSERT_FEEDBACK",
    "Event",
    "Impression",
    "Person",
    "Step",
    "Store",
    "StoreUnavailable",
    "open_store",
    "schema_sql",
]

EVENT_TYPES = ("view", "click", "cart", "purchase", "rating", "not_interested")
DAY = 86400.0
#: how long a writer waits for the store's write lock before giving up with 503
LOCK_WAIT_S = 5.0


class StoreUnavailable(LmrecError):
    """The store cannot answer now (full disk, held lock, lost connection); retry later."""


@dataclass(frozen=True)
class Event:
    user_id: str
    item_id: str
    type: str
    timestamp: float
    value: float | None = None
    context: dict[str, str] | None = None
    event_id: str | None = None
    #: the served list this event answers (``recommendation_id`` of the response)
    recommendation_id: str | None = None


@dataclass(frozen=True)
class Person:
    """A user's choices about their data."""

    personalise: bool = True  # False: the user opted out of personalised lists
    forgotten: bool = False  # their data was deleted: the model's history of them is not used


#: one write step: SQL, then one tuple of arguments or (``many``) a list of them
Step = tuple[str, Sequence[Any] | list[Sequence[Any]], bool]


class Store(ServedLists):
    """What the service keeps between requests and restarts. Subclasses give the SQL backend
    (:meth:`_read`, :meth:`_write`, :meth:`_insert_events`, :meth:`_compact`); the sealing of
    what is stored about people is here, the same for every backend."""

    vault: Vault
    where: str
    #: whether reads come from a local file in microseconds (the service may then read on
    #: its event loop); a database over the network is read from a worker thread
    local_reads: bool = False

    # -- backend --------------------------------------------------------------------------------
    def _read(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    def _write(self, steps: list[Step]) -> list[int]:
        """Run ``steps`` in one transaction; the rows each changed."""
        raise NotImplementedError

    def _insert_events(self, rows: list[tuple[Any, ...]], feedback: list[tuple[Any, ...]]) -> int:
        """Insert events and their feedback rows (those tied to a served list) in one
        transaction; how many events were new."""
        return self._write([(INSERT_EVENTS, rows, True), (INSERT_FEEDBACK, feedback, True)])[0]

    def _compact(self) -> None:
        """Overwrite what deleted rows left in the files."""

    def close(self) -> None:
        raise NotImplementedError

    def _check_secret(self) -> None:
        stored = self.get_setting("key_check")
        if stored is None:
            self.set_setting("key_check", self.vault.check)
        elif stored != self.vault.check:
            raise UsageError(
                f"the store {self.where} was written with another secret key; point "
                f"{SECRET_ENV} at the key file it was written with"
            )

    # -- events ---------------------------------------------------------------------------------
    def add_events(self, events: list[Event]) -> int:
        """Append durably; events whose ``event_id`` is already stored are skipped. Returns how
        many were new."""
        now = time.time()
        day = int(now // DAY)
        rows, feedback = [], []
        for e in events:
            user = self.vault.pseudonym(e.user_id)
            body = json.dumps([
                e.item_id, e.type, e.value, e.timestamp, e.context or None, e.event_id,
                e.recommendation_id,
            ])  # fmt: skip
            key = None if e.event_id is None else self.vault.tag("event", e.event_id)
            rows.append((key, user, day, self.vault.seal(body.encode(), user)))
            if e.recommendation_id is not None:
                item = self.vault.seal(e.item_id.encode(), user)
                feedback.append((key, e.recommendation_id, user, e.type, now, day, item))
        return self._insert_events(rows, feedback)

    def user_events(self, user_id: str, limit: int = 1000) -> list[Event]:
        """The user's events, oldest first (at most the latest ``limit``)."""
        user = self.vault.pseudonym(user_id)
        rows = self._read(
            "SELECT body FROM (SELECT seq, body FROM events "
            "WHERE user_key = ? ORDER BY seq DESC LIMIT ?) AS recent ORDER BY seq",
            (user, limit),
        )
        return [self._event(user_id, user, bytes(r[0])) for r in rows]

    def _event(self, user_id: str, user: str, blob: bytes) -> Event:
        item, kind, value, ts, context, event_id, *rec = json.loads(self.vault.unseal(blob, user))
        return Event(user_id, item, kind, ts, value, context, event_id, rec[0] if rec else None)

    def all_events(self, batch: int = 10_000) -> Iterator[tuple[str, Event]]:
        """Every stored event, oldest first, with the pseudonym it is stored under (the raw
        user id is not stored: ``Event.user_id`` is that pseudonym too); read ``batch`` at a
        time."""
        last = -1
        while True:
            rows = self._read(
                "SELECT seq, user_key, body FROM events WHERE seq > ? ORDER BY seq LIMIT ?",
                (last, batch),
            )
            for _, user, body in rows:
                yield str(user), self._event(str(user), str(user), bytes(body))
            if len(rows) < batch:
                return
            last = int(rows[-1][0])

    def count_events(self) -> int:
        return int(self._read("SELECT COUNT(*) FROM events")[0][0])

    def purge_events(self, older_than_days: float) -> int:
        """Delete events stored more than ``older_than_days`` ago; how many went."""
        cutoff = int((time.time() - older_than_days * DAY) // DAY)
        counts = self._write([
            (f"DELETE FROM {table} WHERE stored_day < ?", (cutoff,), False)
            for table in ("events", "feedback", "impressions")
        ])  # fmt: skip
        n = counts[0]
        if any(counts):
            self._compact()
        return n

    # -- catalog and settings -------------------------------------------------------------------
    def upsert_items(self, items: list[dict[str, Any]]) -> None:
        self._write([(
            "INSERT INTO items (item_id, body) VALUES (?, ?) "
            "ON CONFLICT (item_id) DO UPDATE SET body = excluded.body",
            [(i["item_id"], json.dumps(i)) for i in items], True,
        )])  # fmt: skip

    def items(self) -> dict[str, dict[str, Any]]:
        """Catalog entries added or changed through the API, by item id."""
        return {r[0]: json.loads(r[1]) for r in self._read("SELECT item_id, body FROM items")}

    def get_setting(self, key: str) -> str | None:
        rows = self._read("SELECT value FROM settings WHERE key = ?", (key,))
        return str(rows[0][0]) if rows else None

    def set_setting(self, key: str, value: str) -> None:
        self._write([(
            "INSERT INTO settings (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value", (key, value), False,
        )])  # fmt: skip

    # -- what people chose ----------------------------------------------------------------------
    def get_profile_edits(self, user_id: str) -> str | None:
        """The user's profile edits as JSON (see :class:`lmrec.profiles.ProfileEdits`)."""
        user = self.vault.pseudonym(user_id)
        rows = self._read("SELECT body FROM profile_edits WHERE user_key = ?", (user,))
        return self.vault.unseal(bytes(rows[0][0]), user).decode() if rows else None

    def set_profile_edits(self, user_id: str, edits: str) -> None:
        user = self.vault.pseudonym(user_id)
        self._write([(
            "INSERT INTO profile_edits (user_key, body) VALUES (?, ?) "
            "ON CONFLICT (user_key) DO UPDATE SET body = excluded.body",
            (user, self.vault.seal(edits.encode(), user)), False,
        )])  # fmt: skip

    def user_record(self, user_id: str) -> tuple[Person, str | None]:
        """The user's choices and profile edits (JSON), in one read."""
        user = self.vault.pseudonym(user_id)
        rows = self._read(
            "SELECT p.personalise, p.forgotten, e.body FROM (SELECT ? AS user_key) AS k "
            "LEFT JOIN people AS p ON p.user_key = k.user_key "
            "LEFT JOIN profile_edits AS e ON e.user_key = k.user_key",
            (user,),
        )
        personalise, forgotten, body = rows[0]
        person = Person() if personalise is None else Person(bool(personalise), bool(forgotten))
        edits = None if body is None else self.vault.unseal(bytes(body), user).decode()
        return person, edits

    def person(self, user_id: str) -> Person:
        rows = self._read(
            "SELECT personalise, forgotten FROM people WHERE user_key = ?",
            (self.vault.pseudonym(user_id),),
        )
        return Person(bool(rows[0][0]), bool(rows[0][1])) if rows else Person()

    def set_personalise(self, user_id: str, personalise: bool) -> None:
        self._write([(
            "INSERT INTO people (user_key, personalise, forgotten) VALUES (?, ?, 0) "
            "ON CONFLICT (user_key) DO UPDATE SET personalise = excluded.personalise",
            (self.vault.pseudonym(user_id), int(personalise)), False,
        )])  # fmt: skip

    def opted_out(self) -> set[str]:
        """The pseudonyms of the users who turned personalisation off."""
        return {str(r[0]) for r in self._read("SELECT user_key FROM people WHERE personalise = 0")}

    def forgotten(self) -> set[str]:
        """The pseudonyms of the users whose data was deleted."""
        return {str(r[0]) for r in self._read("SELECT user_key FROM people WHERE forgotten = 1")}

    # -- data rights ----------------------------------------------------------------------------
    def export_user(self, user_id: str) -> dict[str, Any]:
        """Everything stored about ``user_id``."""
        user = self.vault.pseudonym(user_id)
        events = self.user_events(user_id, limit=1 << 62)
        edits = self.get_profile_edits(user_id)
        person = self.person(user_id)
        return {
            "user_id": user_id,
            "stored_as": user,
            "events": [
                {
                    "item_id": e.item_id,
                    "type": e.type,
                    "timestamp": e.timestamp,
                    "value": e.value,
                    "context": e.context,
                    "event_id": e.event_id,
                    "recommendation_id": e.recommendation_id,
                }
                for e in events
            ],
            "shown": self._shown_to(user),
            "profile_edits": json.loads(edits) if edits else None,
            "personalise": person.personalise,
            "forgotten": person.forgotten,
            "audit": self.audit_log(target=user),
        }

    def delete_user(self, user_id: str) -> dict[str, int]:
        """Remove the user's events and edits (and their bytes), and remember that the model's
        history of them must not be used. The audit log keeps its records of the request."""
        user = self.vault.pseudonym(user_id)
        counts = self._write([
            ("DELETE FROM events WHERE user_key = ?", (user,), False),
            ("DELETE FROM profile_edits WHERE user_key = ?", (user,), False),
            ("DELETE FROM impressions WHERE user_key = ?", (user,), False),
            ("DELETE FROM feedback WHERE user_key = ?", (user,), False),
            ("INSERT INTO people (user_key, personalise, forgotten) VALUES (?, 1, 1) "
             "ON CONFLICT (user_key) DO UPDATE SET personalise = 1, forgotten = 1",
             (user,), False),
        ])  # fmt: skip
        self._compact()
        return {"events": counts[0], "profile_edits": counts[1], "impressions": counts[2]}

    # -- audit ----------------------------------------------------------------------------------
    def audit(self, actor: str, action: str, target: str | None = None, detail: str = "") -> None:
        """Append one record (who, what, about whom, when); the log cannot be changed."""
        self._write([(
            "INSERT INTO audit (at, actor, action, target, detail) VALUES (?, ?, ?, ?, ?)",
            (time.time(), actor, action, target, detail), False,
        )])  # fmt: skip

    def audit_log(
        self, *, limit: int = 1000, before: int | None = None, target: str | None = None
    ) -> list[dict[str, Any]]:
        """Records newest first (``before``: a ``seq`` to page from)."""
        where: list[str] = ["1 = 1"]
        args: list[Any] = []
        if before is not None:
            where.append("seq < ?")
            args.append(before)
        if target is not None:
            where.append("target = ?")
            args.append(target)
        rows = self._read(
            "SELECT seq, at, actor, action, target, detail FROM audit "
            f"WHERE {' AND '.join(where)} ORDER BY seq DESC LIMIT ?",
            (*args, limit),
        )
        keys = ("seq", "at", "actor", "action", "target", "detail")
        return [dict(zip(keys, r, strict=True)) for r in rows]


def schema_sql(*, serial: str, blob: str, real: str) -> str:
    """The store's tables in a dialect: its auto-numbered key, byte string and float types."""
    return f"""
CREATE TABLE IF NOT EXISTS events (
    seq {serial},
    event_key TEXT UNIQUE,
    user_key TEXT NOT NULL,
    stored_day INTEGER NOT NULL,
    body {blob} NOT NULL
);
CREATE INDEX IF NOT EXISTS events_user ON events (user_key, seq);
CREATE INDEX IF NOT EXISTS events_day ON events (stored_day);
CREATE TABLE IF NOT EXISTS items (item_id TEXT PRIMARY KEY, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS profile_edits (user_key TEXT PRIMARY KEY, body {blob} NOT NULL);
CREATE TABLE IF NOT EXISTS people (
    user_key TEXT PRIMARY KEY,
    personalise INTEGER NOT NULL,
    forgotten INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS audit (
    seq {serial},
    at {real} NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT,
    detail TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_target ON audit (target, seq);
CREATE TABLE IF NOT EXISTS impressions (
    rec_key TEXT PRIMARY KEY,
    user_key TEXT NOT NULL,
    at {real} NOT NULL,
    stored_day INTEGER NOT NULL,
    version TEXT NOT NULL,
    experiment TEXT,
    variant TEXT,
    latency_ms {real} NOT NULL,
    body {blob} NOT NULL
);
CREATE INDEX IF NOT EXISTS impressions_at ON impressions (at);
CREATE INDEX IF NOT EXISTS impressions_user ON impressions (user_key);
CREATE INDEX IF NOT EXISTS impressions_day ON impressions (stored_day);
CREATE TABLE IF NOT EXISTS feedback (
    seq {serial},
    event_key TEXT UNIQUE,
    rec_key TEXT NOT NULL,
    user_key TEXT NOT NULL,
    type TEXT NOT NULL,
    at {real} NOT NULL,
    stored_day INTEGER NOT NULL,
    body {blob} NOT NULL
);
CREATE INDEX IF NOT EXISTS feedback_rec ON feedback (rec_key);
CREATE INDEX IF NOT EXISTS feedback_user ON feedback (user_key);
CREATE INDEX IF NOT EXISTS feedback_day ON feedback (stored_day);
CREATE TABLE IF NOT EXISTS experiments (name TEXT PRIMARY KEY, body TEXT NOT NULL);
"""


INSERT_EVENTS = (
    "INSERT INTO events (event_key, user_key, stored_day, body) VALUES (?, ?, ?, ?) "
    "ON CONFLICT DO NOTHING"
)
INSERT_FEEDBACK = (
    "INSERT INTO feedback (event_key, rec_key, user_key, type, at, stored_day, body) "
    "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"
)


def open_store(url: str, *, create: bool = True) -> Store:
    """``sqlite:///relative/or/absolute.db``, ``sqlite:///:memory:``, a plain file path, or
    ``postgresql://user[:password]@host[:port]/database``. With ``create=False`` (the
    commands that read what ``lmrec serve`` stored) a SQLite file that does not exist is an
    error, not a new empty store."""
    path = url_path(url)
    if path is not None:
        if not create and path != ":memory:" and not os.path.isfile(path):
            raise UsageError(f"no store at {path}: give the --store that 'lmrec serve' writes to")
        from lmrec.service.sqlite import SQLiteStore

        return SQLiteStore(path)
    if url.startswith(("postgresql://", "postgres://")):
        from lmrec.service.postgres import PostgresStore

        return PostgresStore(url)
    raise UsageError(f"unknown store URL '{url}'; use sqlite:///PATH or postgresql://...")
