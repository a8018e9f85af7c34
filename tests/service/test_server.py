"""``lmrec serve`` as a real process over real HTTP: start-up, and crash safety (SIGKILL)."""

from __future__ import annotations

import os
import signal
import sqlite3
import threading
import time
from pathlib import Path

import httpx
import pytest

from lmrec.artifacts import save_artifacts
from lmrec.data import split_loo, synthetic_dataset
from lmrec.evaluation import prepare
from lmrec.models.itemknn import ItemKNN
from lmrec.service.store import open_store
from lmrec.testing.server import free_port, start_server


@pytest.fixture
def artifacts(tmp_path: Path) -> Path:
    data = prepare(split_loo(synthetic_dataset(n_users=40, n_items=30, seed=5))).train_valid
    return save_artifacts(tmp_path / "art", {"itemknn": ItemKNN(k=10).fit(data)}, data)


def _stored_ids(store: str, ids: list[str]) -> set[str]:
    """Which of ``ids`` the store holds (it keeps event ids as keyed hashes)."""
    opened = open_store(store)
    try:
        tags = {opened.vault.tag("event", i): i for i in ids}
    finally:
        opened.close()
    if store.startswith("sqlite:///"):
        with sqlite3.connect(store[len("sqlite:///") :]) as db:
            keys = {r[0] for r in db.execute("SELECT event_key FROM events")}
    else:
        import psycopg

        with psycopg.connect(store) as db:
            keys = {r[0] for r in db.execute("SELECT event_key FROM events").fetchall()}
    return {i for t, i in tags.items() if t in keys}


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_acknowledged_events_survive_sigkill(
    artifacts: Path, tmp_path: Path, kind: str, request: pytest.FixtureRequest
) -> None:
    store = (
        f"sqlite:///{tmp_path / 'store.db'}"
        if kind == "sqlite"
        else request.getfixturevalue("pg_url")
    )
    log = tmp_path / "server.log"
    port = free_port()
    proc = start_server(artifacts, store, port, log)
    acked: list[str] = []
    stop = threading.Event()

    def post() -> None:
        n = 0
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5) as client:
            while not stop.is_set():
                batch = [
                    {"user_id": f"u{(n + j) % 40}", "item_id": f"i{(n + j) % 30}",
                     "type": "view", "event_id": f"ev{n + j}"}
                    for j in range(10)
                ]  # fmt: skip
                try:
                    r = client.post("/v1/events", json={"events": batch})
                except httpx.TransportError:
                    return  # the server is gone
                if r.status_code == 200:
                    acked.extend(e["event_id"] for e in batch)
                n += 10

    writer = threading.Thread(target=post)
    writer.start()
    while len(acked) < 300:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)  # mid-stream, no chance to flush anything
    proc.wait()
    stop.set()
    writer.join(10)
    stored = _stored_ids(store, acked)
    lost = set(acked) - stored
    assert not lost, f"{len(lost)} acknowledged events lost"
    # the restarted server reads them back
    proc = start_server(artifacts, store, port, log)
    try:
        prof = httpx.get(f"http://127.0.0.1:{port}/v1/users/u1/profile", timeout=5).json()
        assert prof["activity"]["by_type"]["view"] > 0
    finally:
        proc.terminate()
        proc.wait(10)


def test_serve_rejects_bad_arguments(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    code, _, err = cli("serve", tmp_path)
    assert code == 2
    assert "no lmrec artifacts here" in err
    code, _, err = cli("serve", tmp_path, "--port", "70000")
    assert code == 2
    assert "--port" in err
    code, _, err = cli("serve", tmp_path, "--store", "postgresql://nobody@127.0.0.1:1/none")
    assert code == 2


def test_unreachable_postgres_is_one_line(cli) -> None:  # type: ignore[no-untyped-def]
    from lmrec.errors import UsageError
    from lmrec.service.store import open_store

    with pytest.raises(UsageError, match="cannot connect to PostgreSQL at postgresql://nobody@"):
        open_store("postgresql://nobody:secret@127.0.0.1:1/none")
    with pytest.raises(UsageError, match="unknown store URL"):
        open_store("redis://x")


def test_two_workers_answer_without_nagle_delays(artifacts: Path, tmp_path: Path) -> None:
    """``--workers 2``: both serve, and a keep-alive client is not held up ~40 ms per request
    by Nagle's algorithm meeting delayed ACKs (uvicorn's own multi-worker socket did that)."""
    port = free_port()
    store = f"sqlite:///{tmp_path / 's.db'}"
    proc = start_server(
        artifacts, store, port, tmp_path / "server.log", "--no-auth", "--workers", "2"
    )
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5) as client:
            for _ in range(5):  # warm-up
                client.post("/v1/recommendations", json={"user_id": "u1", "k": 5})
            start = time.perf_counter()
            for j in range(40):
                body = {"events": [{"user_id": "u1", "item_id": "i1", "type": "view",
                                    "event_id": f"n{j}"}]}  # fmt: skip
                assert client.post("/v1/events", json=body).status_code == 200
            elapsed = time.perf_counter() - start
        assert elapsed < 1.2, f"40 single events took {elapsed:.2f} s"
    finally:
        proc.terminate()
        proc.wait(20)
