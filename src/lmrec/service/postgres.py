"""The store on PostgreSQL (``postgresql://user@host:port/db``): the same interface and the
same guarantees as SQLite. A batch of events is one transaction; PostgreSQL's commit is durable
(``synchronous_commit`` on, its default), so an acknowledged event survives a crash.
Connections come from a pool that checks each one before use, so a server restart costs the
requests in flight (503) and no more."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any

from lmrec.errors import UsageError
from lmrec.service.store import LOCK_WAIT_S, Step, Store, StoreUnavailable, schema_sql
from lmrec.service.vault import Vault, secret_file_for

__all__ = ["PostgresStore"]

_SCHEMA = (
    schema_sql(serial="BIGSERIAL PRIMARY KEY", blob="BYTEA", real="DOUBLE PRECISION")
    + """
CREATE OR REPLACE FUNCTION lmrec_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS
$$ BEGIN RAISE EXCEPTION 'the audit log is append-only'; END $$;
CREATE OR REPLACE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON audit
FOR EACH ROW EXECUTE FUNCTION lmrec_audit_append_only();
"""
)


class PostgresStore(Store):
    def __init__(self, url: str, vault: Vault | None = None, *, pool_size: int = 4) -> None:
        import psycopg
        from psycopg_pool import ConnectionPool

        self.where = _safe(url)
        self._errors: tuple[type[BaseException], ...] = (psycopg.OperationalError,)
        path = secret_file_for(url)
        self.vault = vault or (Vault.open(path) if path is not None else Vault.ephemeral())
        self._pool = ConnectionPool(
            url, min_size=1, max_size=pool_size, kwargs={"autocommit": True},
            check=ConnectionPool.check_connection, timeout=LOCK_WAIT_S, open=False,
        )  # fmt: skip
        try:
            self._pool.open(wait=True, timeout=10)
        except Exception as exc:
            self._pool.close()
            text = str(exc).strip().splitlines()
            raise UsageError(
                f"cannot connect to PostgreSQL at {self.where}: {text[0] if text else type(exc).__name__}"
            ) from None
        from psycopg_pool import PoolTimeout

        self._errors = (psycopg.OperationalError, PoolTimeout)
        with self._pool.connection() as db, db.transaction():
            # several workers may start at once: one creates the schema, the others wait
            db.execute("SELECT pg_advisory_xact_lock(727274)")
            old = db.execute(
                "SELECT 1 FROM information_schema.columns "
                "WHERE table_name = 'events' AND column_name = 'user_id'"
            ).fetchone()
            if old is None:
                db.execute(_SCHEMA)
        if old is not None:
            self._pool.close()
            raise UsageError(
                f"the store {self.where} keeps plain user ids (written by lmrec 0.2); "
                "use a new database"
            )
        self._check_secret()

    @contextlib.contextmanager
    def _errors_as_unavailable(self) -> Iterator[None]:
        try:
            yield
        except self._errors as exc:
            first = str(exc).strip().splitlines()
            raise StoreUnavailable(
                f"the store {self.where} cannot answer now: {first[0] if first else type(exc).__name__}"
            ) from None

    def _read(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._errors_as_unavailable(), self._pool.connection() as db:
            return db.execute(sql.replace("?", "%s"), args).fetchall()

    def _write(self, steps: list[Step]) -> list[int]:
        counts = []
        with (
            self._errors_as_unavailable(),
            self._pool.connection() as db,
            db.transaction(),
            db.cursor() as cur,
        ):
            for sql, args, many in steps:
                if many:
                    cur.executemany(sql.replace("?", "%s"), args)
                else:
                    cur.execute(sql.replace("?", "%s"), args)
                counts.append(max(0, cur.rowcount))
        return counts

    def _compact(self) -> None:
        # the freed rows' space is marked for reuse; what is left of them is ciphertext
        with self._errors_as_unavailable(), self._pool.connection() as db:
            db.execute("VACUUM events, profile_edits, impressions, feedback")

    def close(self) -> None:
        self._pool.close()


def _safe(url: str) -> str:
    """The URL without its password."""
    head, at, tail = url.rpartition("@")
    if not at:
        return url
    scheme, _, cred = head.partition("://")
    user = cred.split(":", 1)[0]
    return f"{scheme}://{user}@{tail}"
