"""Inputs and faults that used to break the service: odd characters and numbers in bodies,
oversized bodies, a full disk, a held lock, a PostgreSQL restart, a flood of requests. None
gives a 500, and no event is acknowledged that was not stored."""

from __future__ import annotations

import fcntl
import math
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from lmrec.artifacts import save_artifacts
from lmrec.data import split_loo, synthetic_dataset
from lmrec.errors import UsageError
from lmrec.evaluation import prepare
from lmrec.models.itemknn import ItemKNN
from lmrec.service import create_app
from lmrec.service.app import MAX_BODY
from lmrec.service.auth import KeyRing, parse_keys
from lmrec.service.sqlite import SQLiteStore
from lmrec.service.store import Event, StoreUnavailable, open_store


@pytest.fixture(scope="module")
def art(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("hard")
    data = prepare(split_loo(synthetic_dataset(n_users=40, n_items=30, seed=8))).train_valid
    return save_artifacts(root / "v1", {"itemknn": ItemKNN(k=10).fit(data)}, data)


@pytest.fixture
def client(art: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setattr("lmrec.service.sqlite.LOCK_WAIT_S", 0.5)
    app = create_app(art, store=f"sqlite:///{tmp_path / 'store.db'}", text_encoder="hashing",
                     no_auth=True)  # fmt: skip
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def _raw(client: TestClient, path: str, text: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    r = client.post(path, content=text.encode(), headers={"content-type": "application/json"})
    return r.status_code, r.json()


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/recommendations", r'{"user_id": "\ud800"}'),
        ("/v1/recommendations", '{"user_id": "u1", "context_weight": NaN}'),
        ("/v1/recommendations", '{"user_id": "u1", "query_weight": Infinity}'),
        ("/v1/recommendations", r'{"user_id": "u\u0000"}'),
        ("/v1/events", r'{"events": [{"user_id": "u1", "item_id": "i1", "type": "view",'
                       r' "context": {"device": "\udfff"}}]}'),
        ("/v1/events", '{"events": [{"user_id": "u1", "item_id": "i1", "type": "view",'
                       ' "timestamp": 1e19}]}'),
        ("/v1/events", '{"events": [{"user_id": "u1", "item_id": "i1", "type": "view",'
                       ' "value": -Infinity}]}'),
        ("/v1/cart/recommendations", r'{"items": ["i1\ud83d"]}'),
    ],
)  # fmt: skip
def test_odd_characters_and_numbers_are_422_with_a_readable_answer(
    client: TestClient, path: str, body: str
) -> None:
    status, answer = _raw(client, path, body)
    assert status == 422, answer
    assert answer["detail"]


def test_a_paired_surrogate_is_an_ordinary_character(client: TestClient) -> None:
    status, answer = _raw(client, "/v1/recommendations", r'{"user_id": "emoji-\ud83d\ude00"}')
    assert status == 200, answer
    assert answer["user_id"] == "emoji-\U0001f600"


def test_odd_profile_edits_and_catalog_entries_cannot_break_later_reads(
    client: TestClient,
) -> None:
    status, _ = _raw(client, "/v1/users/u1/profile", "")  # GET only: 405, not 500
    assert status == 405
    r = client.patch("/v1/users/u1/profile", content=rb'{"mute_categories": ["\ud800"]}',
                     headers={"content-type": "application/json"})  # fmt: skip
    assert r.status_code == 422
    r = client.put("/v1/items", content=rb'[{"item_id": "n1", "title": "x", "categories": ["\udc00"]}]',
                   headers={"content-type": "application/json"})  # fmt: skip
    assert r.status_code == 422
    assert client.get("/v1/users/u1/profile").status_code == 200
    assert client.get("/v1/items").status_code == 200
    assert client.get("/v1/users/%00/profile").status_code == 400
    assert client.get("/v1/users/%ED%A0%80/profile").status_code in (400, 404, 200)


@pytest.mark.parametrize(
    "when", ["99999999999999999999", "²", "-99999999999", "1e400", "2026-13-40", "   "]
)
def test_odd_request_times_are_422(client: TestClient, when: str) -> None:
    r = client.post("/v1/recommendations", json={"user_id": "u1", "context": {"time": when}})
    assert r.status_code in (200, 422), r.text  # blank: no time given
    if when.strip():
        assert r.status_code == 422
        assert "context time" in r.json()["detail"]


def test_good_request_times_work(client: TestClient) -> None:
    for when in ("1767225600", "2026-01-01T08:00:00", "2026-01-01T08:00:00+02:00"):
        r = client.post("/v1/recommendations", json={"user_id": "u1", "context": {"time": when}})
        assert r.status_code == 200, (when, r.text)


def test_lists_and_maps_have_length_limits(client: TestClient) -> None:
    long = "x" * 257
    for body in (
        {"user_id": "u1", "exclude": [long]},
        {"user_id": "u1", "filters": {"categories": [long]}},
        {"user_id": "u1", "rerank": {"pinned": [long]}},
    ):
        assert client.post("/v1/recommendations", json=body).status_code == 422
    many = {f"k{i}": "v" for i in range(21)}
    event = {"user_id": "u1", "item_id": "i1", "type": "view", "context": many}
    assert client.post("/v1/events", json={"events": [event]}).status_code == 422
    event["context"] = {"device": "v" * 257}
    assert client.post("/v1/events", json={"events": [event]}).status_code == 422
    assert client.post("/v1/cart/recommendations", json={"items": [long]}).status_code == 422


def test_muted_categories_are_bounded(client: TestClient) -> None:
    from lmrec.profiles.edits import MAX_MUTED

    for start in range(0, MAX_MUTED, 100):
        batch = [f"c{j}" for j in range(start, start + 100)]
        assert (
            client.patch("/v1/users/u1/profile", json={"mute_categories": batch}).status_code == 200
        )
    r = client.patch("/v1/users/u1/profile", json={"mute_categories": ["one-more"]})
    assert r.status_code == 422
    assert "muted categories" in r.json()["detail"]


def test_a_chunked_body_over_the_limit_is_refused_before_authentication(
    art: Path, tmp_path: Path
) -> None:
    app = create_app(art, store=f"sqlite:///{tmp_path / 's.db'}", text_encoder="hashing",
                     keys=KeyRing(parse_keys("k:read")))  # fmt: skip
    read: list[int] = []

    def chunks() -> Iterator[bytes]:
        yield b'{"user_id": "u1", "exclude": ['
        for _ in range(MAX_BODY // 1000 + 10):
            read.append(1)
            yield b'"' + b"x" * 996 + b'",'
        yield b'"y"]}'

    with TestClient(app) as c:
        r = c.post("/v1/recommendations", content=chunks(),
                   headers={"content-type": "application/json"})  # fmt: skip
        assert r.status_code == 413  # not 401: the limit comes first
        big = b"x" * (MAX_BODY + 1)
        r = c.post("/v1/events", content=big, headers={"content-type": "application/json"})
        assert r.status_code == 413


def test_a_held_write_lock_gives_503_and_reads_go_on(client: TestClient, tmp_path: Path) -> None:
    other = sqlite3.connect(tmp_path / "store.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process holds SQLite's write lock
    event = {"events": [{"user_id": "u1", "item_id": "i1", "type": "view", "event_id": "L1"}]}
    try:
        start = time.perf_counter()
        r = client.post("/v1/events", json=event)
        assert r.status_code == 503
        assert r.headers["retry-after"] == "1"
        assert time.perf_counter() - start < 3
        rec = client.post("/v1/recommendations", json={"user_id": "u1"})
        assert rec.status_code == 200  # the recommendation route does not wait for the writer
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert client.post("/v1/events", json=event).json() == {"accepted": 1, "stored": 1}
    # lmrec's own writers (all processes) queue on a file lock: held too long, also 503
    with open(tmp_path / "store.db.writelock", "a+b") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        event["events"][0]["event_id"] = "L2"
        assert client.post("/v1/events", json=event).status_code == 503
        fcntl.flock(lock, fcntl.LOCK_UN)
    assert client.post("/v1/events", json=event).json()["stored"] == 1
    assert client.get("/metrics").text.count("lmrec_store_unavailable_total 2.0") == 1


def test_a_full_disk_gives_503_and_never_a_false_ack(tmp_path: Path) -> None:
    """SQLite's page limit stands for a full disk. Eight threads post at once, so group
    commits fail with several callers in them: every caller whose batch was not written is
    told (an error), and every batch acknowledged is on disk."""
    store = SQLiteStore(tmp_path / "s.db")
    pages = store._db.execute("PRAGMA page_count").fetchone()[0]
    store._db.execute(f"PRAGMA max_page_count = {pages + 3}")
    acked: list[str] = []
    refused = 0
    lock = threading.Lock()

    def post(t: int) -> None:
        nonlocal refused
        for j in range(40):
            ids = [f"e{t}-{j}-{n}" for n in range(5)]
            events = [Event(f"u{t}", "i" * 200, "view", 1.0, None, None, i) for i in ids]
            try:
                store.add_events(events)
            except StoreUnavailable:
                with lock:
                    refused += 1
            else:
                with lock:
                    acked.extend(ids)

    threads = [threading.Thread(target=post, args=(t,)) for t in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert refused > 0, "the page limit was never reached"
    stored = {e.event_id for t in range(8) for e in store.user_events(f"u{t}")}
    assert set(acked) <= stored
    assert stored <= set(acked)  # nor anything stored that the caller was told failed
    store._db.execute(f"PRAGMA max_page_count = {pages + 10_000}")
    assert store.add_events([Event("u0", "i1", "view", 1.0, None, None, "later")]) == 1
    store.close()


def test_postgresql_restart_costs_only_the_requests_in_flight(pg_url: str) -> None:
    from lmrec.testing.postgres import restart_postgres

    store = open_store(pg_url)
    try:
        assert store.add_events([Event("u", "i1", "view", 1.0, None, None, "p1")]) == 1
        restart_postgres(pg_url)
        outcomes = []
        for n in range(2, 6):
            try:
                outcomes.append(
                    store.add_events([Event("u", "i1", "view", 1.0, None, None, f"p{n}")])
                )
            except StoreUnavailable:
                outcomes.append(-1)
        assert outcomes[-1] == 1  # working again without a restart of lmrec
        stored = {e.event_id for e in store.user_events("u")}
        assert {f"p{n}" for n, o in zip(range(2, 6), outcomes, strict=True) if o == 1} <= stored
    finally:
        store.close()


def test_rate_limit_per_key_is_429_with_retry_after(art: Path, tmp_path: Path) -> None:
    app = create_app(art, store=f"sqlite:///{tmp_path / 's.db'}", text_encoder="hashing",
                     keys=KeyRing(parse_keys("a:read;b:read")), rate_limit="3/minute")  # fmt: skip
    with TestClient(app) as c:
        codes = [c.get("/v1/models", headers={"X-API-Key": "a"}).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        r = c.get("/v1/models", headers={"X-API-Key": "a"})
        assert int(r.headers["retry-after"]) >= 1
        assert c.get("/v1/models", headers={"X-API-Key": "b"}).status_code == 200  # per key


def test_security_headers_request_id_and_openapi_security(client: TestClient) -> None:
    r = client.get("/v1/models")
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["x-frame-options"] == "DENY"
    assert "default-src 'none'" in r.headers["content-security-policy"]
    assert len(r.headers["x-request-id"]) == 32
    mine = client.get("/v1/models", headers={"X-Request-ID": "abc-123"})
    assert mine.headers["x-request-id"] == "abc-123"
    odd = client.get("/v1/models", headers={"X-Request-ID": "<script>"})
    assert odd.headers["x-request-id"] != "<script>"
    assert "cdn.jsdelivr.net" in client.get("/docs").headers["content-security-policy"]
    spec = client.get("/openapi.json").json()
    assert set(spec["components"]["securitySchemes"]) == {"apiKey", "userToken"}
    assert spec["components"]["securitySchemes"]["apiKey"]["name"] == "X-API-Key"


def test_access_log_names_the_route_not_the_user(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level("INFO", logger="lmrec.access"):
        client.get("/v1/users/secret-person/profile", headers={"X-Request-ID": "r-1"})
    (line,) = [r.getMessage() for r in caplog.records if r.name == "lmrec.access"]
    assert "GET /v1/users/{user_id}/profile 200" in line
    assert "id=r-1" in line
    assert "secret-person" not in line


def test_the_service_refuses_to_start_open_unless_asked(art: Path, tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(UsageError, match="--no-auth"):
        create_app(art, store=f"sqlite:///{tmp_path / 's.db'}")
    code, _, err = cli("serve", art, "--store", f"sqlite:///{tmp_path / 's.db'}")
    assert code == 2
    assert "--no-auth" in err


def test_added_items_are_paged(client: TestClient) -> None:
    items = [{"item_id": f"n{j}", "title": f"New {j}"} for j in range(30)]
    assert client.put("/v1/items", json=items).status_code == 200
    page = client.get("/v1/items", params={"offset": 10, "limit": 5}).json()
    assert page["total_added"] == 30
    assert [i["item_id"] for i in page["added"]] == [f"n{j}" for j in range(10, 15)]


@pytest.mark.parametrize("name", ["als", "bpr", "content", "ease"])
def test_similar_with_k_over_the_catalog_never_returns_the_item(name: str, tmp_path: Path) -> None:
    from lmrec.models.registry import create_model

    data = prepare(split_loo(synthetic_dataset(n_users=40, n_items=30, seed=8))).train_valid
    params = {"text_encoder": "hashing"} if name == "content" else {}
    art = save_artifacts(tmp_path / "a", {name: create_model(name, **params).fit(data)}, data)
    app = create_app(art, store=f"sqlite:///{tmp_path / 's.db'}", text_encoder="hashing",
                     no_auth=True)  # fmt: skip
    with TestClient(app) as c:
        r = c.get("/v1/items/i1/similar", params={"k": 100})  # the catalog has 30 items
        assert r.status_code == 200, r.text
        items = r.json()["items"]
        assert "i1" not in [i["item_id"] for i in items]
        assert all(math.isfinite(i["score"]) for i in items)
