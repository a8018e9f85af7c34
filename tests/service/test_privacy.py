"""What the store keeps about people, and their rights over it: pseudonyms, encryption at
rest, user tokens, export, delete, opting out, retention and the audit log."""

from __future__ import annotations

import os
import sqlite3
import stat
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
from lmrec.service.auth import KeyRing, parse_keys
from lmrec.service.sqlite import SQLiteStore
from lmrec.service.store import Event, Impression, open_store
from lmrec.service.vault import SECRET_ENV, Vault

RAW_USER = "alice.raw-id@example.org"
WATCHED = "i7"  # an item id the user watched: its id must not be readable in the file


@pytest.fixture(scope="module")
def art(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("priv")
    data = prepare(split_loo(synthetic_dataset(n_users=40, n_items=30, seed=3))).train_valid
    return save_artifacts(root / "v1", {"itemknn": ItemKNN(k=10).fit(data)}, data)


KEYS = "reader:read;writer:read,events;boss:admin,read,events"


@pytest.fixture
def client(art: Path, tmp_path: Path) -> Iterator[TestClient]:
    app = create_app(art, store=f"sqlite:///{tmp_path / 'store.db'}", text_encoder="hashing",
                     keys=KeyRing(parse_keys(KEYS)))  # fmt: skip
    with TestClient(app) as c:
        yield c


def _file_bytes(path: Path) -> bytes:
    return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*") if p.is_file())


def test_the_store_file_holds_no_raw_id_and_no_watched_item(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    store = SQLiteStore(path)
    store.add_events([Event(RAW_USER, WATCHED, "view", 1.7e9, None, {"device": "tv"}, "ev-1")])
    store.set_profile_edits(RAW_USER, '{"muted_categories": ["Horror"], "removed_items": []}')
    store.close()
    raw = _file_bytes(path)
    for secret in (RAW_USER, f'"{WATCHED}"', "Horror", '"tv"', "ev-1"):
        assert secret.encode() not in raw, secret
    # and they come back, with the secret
    again = SQLiteStore(path)
    (event,) = again.user_events(RAW_USER)
    assert (event.item_id, event.context, event.event_id) == (WATCHED, {"device": "tv"}, "ev-1")
    assert "Horror" in (again.get_profile_edits(RAW_USER) or "")
    again.close()


def test_secret_file_is_private_and_a_wrong_secret_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(SECRET_ENV)
    path = tmp_path / "s.db"
    SQLiteStore(path).close()
    secret = Path(f"{path}.secret")
    assert stat.S_IMODE(os.stat(secret).st_mode) == 0o600
    secret.write_text("ab" * 32 + "\n")  # another key: its events could not be read
    with pytest.raises(UsageError, match="another secret key"):
        SQLiteStore(path)
    secret.write_text("not hex")
    with pytest.raises(UsageError, match="64 hex digits"):
        SQLiteStore(path)


def test_pseudonyms_are_keyed_and_sealed_rows_stay_with_their_user() -> None:
    a, b = Vault(b"a" * 32), Vault(b"b" * 32)
    assert a.pseudonym("u1") == a.pseudonym("u1") != b.pseudonym("u1")
    assert a.pseudonym("u1") != a.tag("event", "u1")
    blob = a.seal(b"data", a.pseudonym("u1"))
    assert a.unseal(blob, a.pseudonym("u1")) == b"data"
    with pytest.raises(UsageError):
        a.unseal(blob, a.pseudonym("u2"))  # moved to another user
    with pytest.raises(UsageError):
        b.unseal(blob, a.pseudonym("u1"))


def test_old_plain_text_store_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE events (seq INTEGER PRIMARY KEY, user_id TEXT)")
    with pytest.raises(UsageError, match="plain user ids"):
        open_store(f"sqlite:///{path}")


def _post(c: TestClient, user: str, items: list[str], key: str = "writer") -> None:
    events = [{"user_id": user, "item_id": i, "type": "click", "event_id": f"{user}-{i}"}
              for i in items]  # fmt: skip
    r = c.post("/v1/events", json={"events": events}, headers={"X-API-Key": key})
    assert r.status_code == 200, r.text


def test_export_then_delete_leaves_nothing_and_the_user_is_cold(
    client: TestClient, tmp_path: Path
) -> None:
    boss = {"X-API-Key": "boss"}
    user = "u1"  # in the training data: the model knows them
    assert client.post("/v1/recommendations", json={"user_id": user}, headers=boss).json()[
        "cold_start"
    ] is False  # fmt: skip
    _post(client, user, ["i3", "i4"])
    r = client.patch(f"/v1/users/{user}/profile", json={"mute_categories": ["c1"]}, headers=boss)
    assert r.status_code == 200
    exported = client.get(f"/v1/users/{user}/export", headers=boss).json()
    assert [e["item_id"] for e in exported["events"]] == ["i3", "i4"]
    assert exported["profile_edits"]["muted_categories"] == ["c1"]
    assert exported["user_id"] == user
    assert len(exported["shown"]) == 1  # the list served to them above

    gone = client.delete(f"/v1/users/{user}", headers=boss)
    assert gone.status_code == 200
    assert gone.json()["deleted"] == {"events": 2, "profile_edits": 1, "impressions": 1}
    after = client.get(f"/v1/users/{user}/export", headers=boss).json()
    assert after["events"] == []
    assert after["profile_edits"] is None
    assert after["forgotten"]
    recs = client.post("/v1/recommendations", json={"user_id": user}, headers=boss).json()
    assert recs["cold_start"] is True  # the model's history of them is no longer used
    prof = client.get(f"/v1/users/{user}/profile", headers=boss).json()
    assert prof["activity"]["interactions"] == 0
    raw = _file_bytes(tmp_path / "store.db")
    store = client.app.state.engine.store  # type: ignore[attr-defined]
    sealed = store._read("SELECT COUNT(*) FROM events WHERE user_key = ?",
                         (store.vault.pseudonym(user),))  # fmt: skip
    assert sealed == [(0,)]
    assert user.encode() not in raw
    # the audit log recorded the export and the delete, by whom, about whom (as a pseudonym)
    log = client.get("/v1/audit", headers=boss).json()["records"]
    actions = [(r["action"], r["target"]) for r in log]
    assert ("delete", store.vault.pseudonym(user)) in actions
    assert ("export", store.vault.pseudonym(user)) in actions
    assert all(r["actor"].startswith("key:") for r in log)


def test_opt_out_gives_the_same_list_as_a_stranger(client: TestClient) -> None:
    boss = {"X-API-Key": "boss"}
    stranger = client.post("/v1/recommendations", json={"user_id": "zz-new"}, headers=boss)
    mine = client.post("/v1/recommendations", json={"user_id": "u2"}, headers=boss).json()
    r = client.put("/v1/users/u2/personalisation", json={"enabled": False}, headers=boss)
    assert r.json() == {"user_id": "u2", "personalised": False}
    off = client.post("/v1/recommendations", json={"user_id": "u2"}, headers=boss).json()
    assert [i["item_id"] for i in off["items"]] == [
        i["item_id"] for i in stranger.json()["items"]
    ]  # fmt: skip
    assert [i["item_id"] for i in off["items"]] != [i["item_id"] for i in mine["items"]]
    assert client.get("/v1/users/u2/profile", headers=boss).json()["personalised"] is False
    client.put("/v1/users/u2/personalisation", json={"enabled": True}, headers=boss)
    back = client.post("/v1/recommendations", json={"user_id": "u2"}, headers=boss).json()
    assert [i["item_id"] for i in back["items"]] == [i["item_id"] for i in mine["items"]]


def test_user_tokens_act_for_one_user_only(client: TestClient) -> None:
    assert client.post("/v1/users/u3/token", headers={"X-API-Key": "writer"}).status_code == 403
    issued = client.post("/v1/users/u3/token", headers={"X-API-Key": "boss"})
    assert issued.status_code == 200
    body = issued.json()
    assert body["user_id"] == "u3"
    assert body["expires_at"] > time.time()
    mine = {"Authorization": f"Bearer {body['token']}"}
    assert (
        client.post("/v1/recommendations", json={"user_id": "u3"}, headers=mine).status_code == 200
    )
    assert client.get("/v1/users/u3/profile", headers=mine).status_code == 200
    assert client.get("/v1/users/u3/export", headers=mine).status_code == 200
    _post_ok = client.post(
        "/v1/events", json={"events": [{"user_id": "u3", "item_id": "i1", "type": "view"}]},
        headers=mine,
    )  # fmt: skip
    assert _post_ok.status_code == 200
    assert client.get("/v1/items", headers=mine).status_code == 200  # the catalog is not personal
    # another user's data, and admin routes, are closed to it
    for r in (
        client.post("/v1/recommendations", json={"user_id": "u4"}, headers=mine),
        client.get("/v1/users/u4/profile", headers=mine),
        client.delete("/v1/users/u4", headers=mine),
        client.post("/v1/events", json={"events": [{"user_id": "u4", "item_id": "i1",
                                                    "type": "view"}]}, headers=mine),
        client.post("/v1/models/v1/activate", headers=mine),
        client.get("/v1/audit", headers=mine),
    ):  # fmt: skip
        assert r.status_code == 403, r.request.url
    forged = body["token"][:-3] + ("AAA" if not body["token"].endswith("AAA") else "BBB")
    bad = client.get("/v1/users/u3/profile", headers={"Authorization": f"Bearer {forged}"})
    assert bad.status_code == 401
    # the user can delete their own data
    assert client.delete("/v1/users/u3", headers=mine).status_code == 200


def test_expired_token_is_refused(art: Path, tmp_path: Path) -> None:
    app = create_app(art, store=f"sqlite:///{tmp_path / 's.db'}", text_encoder="hashing",
                     keys=KeyRing(parse_keys(KEYS)), token_ttl_s=1)  # fmt: skip
    with TestClient(app) as c:
        token = c.post("/v1/users/u1/token", headers={"X-API-Key": "boss"}).json()["token"]
        time.sleep(2.1)
        r = c.get("/v1/users/u1/profile", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 401
        assert "expired" in r.json()["detail"]


def test_retention_purges_old_events_and_the_audit_log_is_append_only(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "s.db")
    store.add_events([Event("u", "i1", "view", 1.0), Event("u", "i2", "view", 2.0)])
    store._write([("UPDATE events SET stored_day = stored_day - 400 WHERE seq = 1", (), False)])
    assert store.purge_events(365) == 1
    assert [e.item_id for e in store.user_events("u")] == ["i2"]
    store.audit("key:x", "delete", "abc")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        store._write([("DELETE FROM audit", (), False)])
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        store._write([("UPDATE audit SET actor = 'me'", (), False)])
    assert [r["action"] for r in store.audit_log()] == ["delete"]
    store.close()


def test_privacy_on_postgresql(pg_url: str) -> None:
    store = open_store(pg_url)
    try:
        rec = "0" * 32
        store.add_impressions([Impression(rec, RAW_USER, time.time(), "v1", [WATCHED], [1.0])])
        store.add_events([Event(RAW_USER, WATCHED, "click", 1.0, None, None, "e1", rec)])
        store.set_profile_edits(RAW_USER, '{"muted_categories": ["x"], "removed_items": []}')
        assert store.export_user(RAW_USER)["events"][0]["item_id"] == WATCHED
        [served] = store.impressions()
        assert served.feedback == (("click", 0),)  # tied to the list, on PostgreSQL too
        import psycopg

        with psycopg.connect(pg_url) as db:
            users = {r[0] for r in db.execute("SELECT user_key FROM events").fetchall()}
        assert RAW_USER not in users
        assert store.vault.pseudonym(RAW_USER) in users
        assert store.delete_user(RAW_USER) == {"events": 1, "profile_edits": 1, "impressions": 1}
        assert store.user_events(RAW_USER) == []
        assert store.impressions() == []
        assert store.person(RAW_USER).forgotten
        store.audit("key:x", "delete", "t")
        with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
            store._write([("DELETE FROM audit", (), False)])
    finally:
        store.close()


def test_the_next_training_data_leaves_deleted_users_out(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    from lmrec.data import Dataset

    data = synthetic_dataset(n_users=20, n_items=15, seed=1)
    data.save(tmp_path / "data")
    url = f"sqlite:///{tmp_path / 's.db'}"
    store = open_store(url)
    store.delete_user("u3")
    store.delete_user("not-in-the-data")
    store.close()
    code, _, err = cli(
        "data", "forget", tmp_path / "data", "--store", url, "--out", tmp_path / "clean"
    )
    assert code == 0, err
    clean = Dataset.load(tmp_path / "clean")
    assert "u3" not in clean.interactions["user_id"].to_list()
    before = data.interactions.filter(data.interactions["user_id"] != "u3").height
    assert clean.interactions.height == before
    assert clean.meta["forgotten"]["users_forgotten"] == 1


def test_old_plain_text_postgresql_store_is_refused(pg_url: str) -> None:
    import psycopg

    with psycopg.connect(pg_url, autocommit=True) as db:
        db.execute("CREATE TABLE events (seq BIGSERIAL PRIMARY KEY, user_id TEXT)")
    with pytest.raises(UsageError, match="plain user ids"):
        open_store(pg_url)
