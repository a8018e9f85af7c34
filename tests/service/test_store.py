"""The Store interface, the same on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from lmrec.service.store import Event, Store, open_store


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    url = (
        f"sqlite:///{tmp_path / 's.db'}" if request.param == "sqlite"
        else request.getfixturevalue("pg_url")
    )  # fmt: skip
    s = open_store(url)
    yield s
    s.close()


def _ev(n: int, user: str = "u", event_id: str | None = None) -> Event:
    return Event(user, f"i{n}", "view", float(n), None, {"device": "tv"}, event_id)


def test_events_in_order_idempotent_and_limited(store: Store) -> None:
    assert store.add_events([_ev(1, event_id="a"), _ev(2, event_id="b"), _ev(3)]) == 3
    assert store.add_events([_ev(1, event_id="a"), _ev(4, event_id="c")]) == 1  # a: a retry
    got = store.user_events("u")
    assert [e.item_id for e in got] == ["i1", "i2", "i3", "i4"]
    assert got[0].context == {"device": "tv"}
    assert [e.item_id for e in store.user_events("u", limit=2)] == ["i3", "i4"]
    assert store.count_events() == 4
    assert store.user_events("nobody") == []


def test_items_settings_and_profile_edits(store: Store) -> None:
    store.upsert_items([{"item_id": "x", "title": "X"}])
    store.upsert_items([{"item_id": "x", "title": "X2"}, {"item_id": "y", "title": "Y"}])
    assert {k: v["title"] for k, v in store.items().items()} == {"x": "X2", "y": "Y"}
    assert store.get_setting("active_version") is None
    store.set_setting("active_version", "v1")
    store.set_setting("active_version", "v2")
    assert store.get_setting("active_version") == "v2"
    assert store.get_profile_edits("u") is None
    store.set_profile_edits("u", '{"muted_categories": ["a"]}')
    assert store.get_profile_edits("u") == '{"muted_categories": ["a"]}'


def test_concurrent_writers_lose_nothing_and_count_right(store: Store) -> None:
    """Many threads at once (the server's pool): with group commit each caller still gets
    the number of its own new events, and a retried id is stored once."""
    counts: list[int] = []
    lock = threading.Lock()

    def post(t: int) -> None:
        for j in range(20):
            n = store.add_events([_ev(100 * t + j, user=f"u{t}", event_id=f"e{t}-{j}"),
                                  _ev(0, user="shared", event_id="same")])  # fmt: skip
            with lock:
                counts.append(n)

    threads = [threading.Thread(target=post, args=(t,)) for t in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert store.count_events() == 8 * 20 + 1
    assert sum(counts) == 8 * 20 + 1
    assert all(len(store.user_events(f"u{t}")) == 20 for t in range(8))


def test_sqlite_log_is_copied_into_the_database_file_by_the_store_thread(tmp_path: Path) -> None:
    """No commit waits for a checkpoint: the write connection never checkpoints, the store's
    thread does, so committed events reach the database file itself while the store is open
    (a copy of that file alone, without its log, holds them)."""
    import shutil
    import sqlite3
    import time

    from lmrec.service.sqlite import CHECKPOINT_EVERY_S, SQLiteStore

    store = SQLiteStore(tmp_path / "s.db")
    try:
        assert store._db.execute("PRAGMA wal_autocheckpoint").fetchone() == (0,)
        store.add_events([_ev(n, event_id=f"e{n}") for n in range(50)])
        deadline = time.monotonic() + 20 * CHECKPOINT_EVERY_S
        rows = 0
        while rows < 50 and time.monotonic() < deadline:
            time.sleep(CHECKPOINT_EVERY_S)
            shutil.copy(tmp_path / "s.db", tmp_path / "copy.db")
            copy = sqlite3.connect(tmp_path / "copy.db")
            try:
                rows = copy.execute("SELECT count(*) FROM events").fetchone()[0]
            except sqlite3.DatabaseError:  # copied halfway through a checkpoint: look again
                rows = 0
            finally:
                copy.close()
        assert rows == 50
    finally:
        store.close()
    assert store._checkpointer is not None
    assert not store._checkpointer.is_alive()
