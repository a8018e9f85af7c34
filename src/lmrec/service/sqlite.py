"""The store in an embedded SQLite file (``sqlite:///path.db``, the default)."""

from __future__ import annotations

import contextlib
import fcntl
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lmrec.errors import UsageError
from lmrec.service.store import (
    INSERT_EVENTS,
    INSERT_FEEDBACK,
    LOCK_WAIT_S,
    Step,
    Store,
    StoreUnavailable,
    schema_sql,
)
from lmrec.service.vault import Vault, secret_file_for

__all__ = ["CHECKPOINT_EVERY_S", "SQLiteStore"]

#: how often the checkpointer copies committed pages from the log into the database file
CHECKPOINT_EVERY_S = 0.2

_SCHEMA = (
    schema_sql(serial="INTEGER PRIMARY KEY AUTOINCREMENT", blob="BLOB", real="REAL")
    + """
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
"""
)


@dataclass
class _Ticket:
    rows: list[tuple[Any, ...]]
    feedback: list[tuple[Any, ...]]
    result: int = 0
    done: bool = False
    error: BaseException | None = None


@contextlib.contextmanager
def _sqlite_errors(where: str) -> Iterator[None]:
    """SQLite's operational failures (locked, full, I/O) as :class:`StoreUnavailable`."""
    try:
        yield
    except sqlite3.OperationalError as exc:
        raise StoreUnavailable(f"the store {where} cannot answer now: {exc}") from None


class SQLiteStore(Store):
    """An embedded SQLite database in WAL mode with ``synchronous=FULL`` and ``secure_delete``.
    Reads have a connection of their own, so a writer waiting for the lock never holds up a
    recommendation. Committed pages are copied from the log into the database file by a
    thread of the store's own (a passive checkpoint every :data:`CHECKPOINT_EVERY_S`), not by
    whichever commit fills the log: a checkpoint copies and syncs megabytes, and every writer
    of every process would wait for it."""

    local_reads = True

    def __init__(self, path: str | Path, vault: Vault | None = None) -> None:
        self.path = Path(path)
        self.where = str(path)
        memory = str(path) == ":memory:"
        if not memory:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self.vault = vault or (Vault.ephemeral() if memory else Vault.open(_secret(str(path))))
        self._lock = threading.Lock()  # the write connection
        self._read_lock = threading.Lock()
        self._commit_lock = threading.Lock()
        self._queue_lock = threading.Lock()
        self._queue: list[_Ticket] = []
        try:
            self._db = self._connect()
        except sqlite3.DatabaseError as exc:
            raise UsageError(f"cannot open the store {path}: {exc}") from None
        try:
            _check_schema(self._db, self.where)
            self._db.executescript(_SCHEMA)
            self._reader = self._db if memory else self._connect()
        except BaseException as exc:
            self._db.close()
            if isinstance(exc, sqlite3.DatabaseError):
                raise UsageError(f"cannot open the store {path}: {exc}") from None
            raise
        # Writers of all processes queue on one file lock: a blocked writer wakes the moment the
        # lock is free, instead of SQLite's busy handler sleeping in growing steps.
        self._flock = None if memory else open(f"{self.path}.writelock", "a+b")  # noqa: SIM115
        self._stop = threading.Event()
        self._checkpointer: threading.Thread | None = None
        try:
            with _sqlite_errors(self.where):
                self._check_secret()
        except BaseException:
            self.close()
            raise
        if not memory:
            self._db.execute("PRAGMA wal_autocheckpoint=0")
            self._checkpointer = threading.Thread(
                target=self._checkpoints, name="sqlite-checkpoint", daemon=True
            )
            self._checkpointer.start()

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        try:
            db.execute(f"PRAGMA busy_timeout={int(LOCK_WAIT_S * 1000)}")
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
            db.execute("PRAGMA secure_delete=ON")
        except BaseException:
            db.close()
            raise
        return db

    @contextlib.contextmanager
    def _writing(self) -> Iterator[None]:
        with self._lock:
            if self._flock is None:
                yield
                return
            deadline = time.monotonic() + LOCK_WAIT_S
            pause = 0.0001  # a commit holds the lock about a millisecond: look again soon
            while True:
                try:
                    fcntl.flock(self._flock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise StoreUnavailable(
                            f"the store {self.where} is locked by another writer"
                        ) from None
                    time.sleep(pause)
                    pause = min(2 * pause, 0.002)
            try:
                yield
            finally:
                fcntl.flock(self._flock, fcntl.LOCK_UN)

    def _read(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._read_lock, _sqlite_errors(self.where):
            return self._reader.execute(sql, args).fetchall()

    def _transaction(self, run: Any) -> Any:
        """``run()`` inside BEGIN IMMEDIATE ... COMMIT, rolled back on any failure."""
        with self._writing(), _sqlite_errors(self.where):
            self._db.execute("BEGIN IMMEDIATE")
            try:
                out = run()
                self._db.execute("COMMIT")
            except BaseException:
                if self._db.in_transaction:  # SQLite may have rolled back already (disk full)
                    with contextlib.suppress(sqlite3.Error):
                        self._db.execute("ROLLBACK")
                raise
            return out

    def _write(self, steps: list[Step]) -> list[int]:
        def run() -> list[int]:
            counts = []
            for sql, args, many in steps:
                before = self._db.total_changes
                if many:
                    self._db.executemany(sql, args)
                else:
                    self._db.execute(sql, args)
                counts.append(self._db.total_changes - before)
            return counts

        result: list[int] = self._transaction(run)
        return result

    def _insert_events(self, rows: list[tuple[Any, ...]], feedback: list[tuple[Any, ...]]) -> int:
        """Group commit: concurrent callers (the server's threads) queue their batches; one of
        them commits everything queued in one transaction, one fsync. Each caller returns once
        its own batch is on disk, or raises when the transaction holding it failed."""
        ticket = _Ticket(rows, feedback)
        with self._queue_lock:
            self._queue.append(ticket)
        with self._commit_lock:
            if not ticket.done:
                with self._queue_lock:
                    group, self._queue = self._queue, []

                def run() -> None:
                    for t in group:
                        before = self._db.total_changes
                        self._db.executemany(INSERT_EVENTS, t.rows)
                        t.result = self._db.total_changes - before
                        if t.feedback:
                            self._db.executemany(INSERT_FEEDBACK, t.feedback)

                try:
                    self._transaction(run)
                except BaseException as exc:
                    for t in group:  # nothing of the group is stored: every caller is told
                        t.error, t.result = exc, 0
                for t in group:
                    t.done = True
        if ticket.error is not None:
            if isinstance(ticket.error, StoreUnavailable):
                raise StoreUnavailable(str(ticket.error))
            raise ticket.error
        return ticket.result

    def _compact(self) -> None:
        # secure_delete zeroed the freed pages in the log; copy them over the database file
        # and empty the log, so the deleted bytes are nowhere on disk
        with self._writing(), _sqlite_errors(self.where):
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def _checkpoints(self) -> None:
        """Passive checkpoints until the store closes: they take no lock that writers or
        readers wait for, and skip what a reader still needs (copied at a later round)."""
        db = self._connect()
        try:
            db.execute("PRAGMA busy_timeout=0")  # never wait: a busy round is tried again
            while not self._stop.wait(CHECKPOINT_EVERY_S):
                with contextlib.suppress(sqlite3.Error):  # busy, full disk: the next round
                    db.execute("PRAGMA wal_checkpoint(PASSIVE)")
        finally:
            db.close()

    def close(self) -> None:
        self._stop.set()
        if self._checkpointer is not None:
            self._checkpointer.join()
        with self._lock, self._read_lock:
            if self._reader is not self._db:
                self._reader.close()
            self._db.close()
            if self._flock is not None:
                self._flock.close()


def _check_schema(db: sqlite3.Connection, where: str) -> None:
    columns = {r[1] for r in db.execute("PRAGMA table_info(events)")}
    if "user_id" in columns:
        raise UsageError(
            f"the store {where} keeps plain user ids (written by lmrec 0.2); "
            "start with a new store file"
        )


def _secret(store_url: str) -> Path:
    path = secret_file_for(store_url)
    assert path is not None
    return path
