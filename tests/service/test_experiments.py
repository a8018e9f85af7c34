"""Served lists are recorded and feedback is tied to them; online metrics, A/B experiments
and interleavings over HTTP; exploration's propensities and the off-policy estimate."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from lmrec.artifacts import save_artifacts
from lmrec.data import split_loo, synthetic_dataset
from lmrec.evaluation import prepare
from lmrec.models.itemknn import ItemKNN
from lmrec.models.popularity import Popularity
from lmrec.online import Request, ServingOptions, UserState, load_version, recommend
from lmrec.service import create_app
from lmrec.service.auth import KeyRing, parse_keys
from lmrec.service.impressions import ImpressionLog
from lmrec.service.replay import off_policy_estimate
from lmrec.service.store import Event, Impression, StoreUnavailable, open_store

KEYS = "boss:admin,read,events;reader:read,events"
BOSS = {"X-API-Key": "boss"}


@pytest.fixture(scope="module")
def versions(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("exp")
    data = prepare(split_loo(synthetic_dataset(n_users=60, n_items=40, seed=11))).train_valid
    save_artifacts(root / "v1", {"pop": Popularity().fit(data)}, data)
    save_artifacts(root / "v2", {"itemknn": ItemKNN(k=10).fit(data)}, data)
    return root


def _app(versions: Path, tmp_path: Path, **settings: Any) -> TestClient:
    app = create_app(versions, store=f"sqlite:///{tmp_path / 'store.db'}", text_encoder="hashing",
                     keys=KeyRing(parse_keys(KEYS)), **settings)  # fmt: skip
    return TestClient(app)


@pytest.fixture
def client(versions: Path, tmp_path: Path) -> Iterator[TestClient]:
    with _app(versions, tmp_path) as c:
        c.post("/v1/models/v1/activate", headers=BOSS)
        yield c


def _recommend(c: TestClient, user: str, k: int = 5) -> dict[str, Any]:
    r = c.post("/v1/recommendations", json={"user_id": user, "k": k}, headers=BOSS)
    assert r.status_code == 200, r.text
    out: dict[str, Any] = r.json()
    return out


def _click(c: TestClient, user: str, item: str, rec: str | None, event_id: str, kind: str = "click"
           ) -> None:  # fmt: skip
    body = {"user_id": user, "item_id": item, "type": kind, "event_id": event_id,
            "recommendation_id": rec}  # fmt: skip
    r = c.post("/v1/events", json={"events": [body]}, headers=BOSS)
    assert r.status_code == 200, r.text


def test_a_click_is_tied_to_its_list_and_position_once(client: TestClient) -> None:
    rec = _recommend(client, "u1")
    assert re.fullmatch(r"[0-9a-f]{32}", rec["recommendation_id"])
    assert rec["variant"] is None
    assert rec["experiment"] is None
    items = [i["item_id"] for i in rec["items"]]
    _click(client, "u1", items[2], rec["recommendation_id"], "e1")
    _click(client, "u1", items[2], rec["recommendation_id"], "e1")  # a retry: stored once
    _click(client, "u1", items[2], rec["recommendation_id"], "e2", "purchase")  # same item
    _click(client, "u2", items[0], rec["recommendation_id"], "e3")  # not this user's list
    other = next(i for i in ["i0", "i1", "i2", "i3", "i4", "i5", "i6"] if i not in items)
    _click(client, "u1", other, rec["recommendation_id"], "e4")  # not in the list
    _click(client, "u1", items[4], None, "e5")  # not tied to any list
    m = client.get("/v1/metrics/online", headers=BOSS, params={"k": 5}).json()
    [g] = m["groups"]
    assert (g["version"], g["variant"], g["lists"], g["users"]) == ("v1", None, 1, 1)
    assert (g["impressions"], g["clicks"]) == (5, 1)
    assert g["ctr"]["mean"] == pytest.approx(0.2)
    assert g["position_ctr"] == [0.0, 0.0, 1.0, 0.0, 0.0]
    assert g["conversion"] == {"cart": 1.0, "purchase": 1.0}  # a purchase is a conversion
    assert g["coverage"] == pytest.approx(5 / 40)
    assert g["latency_ms"]["p50"] > 0
    # a window before the list was served holds nothing
    early = client.get("/v1/metrics/online", headers=BOSS, params={"until": "1000"}).json()
    assert early["groups"] == []
    text = client.get("/metrics").text
    assert 'lmrec_online_ctr{variant="",version="v1"} 0.2' in text


def test_bad_recommendation_ids_and_times_are_refused(client: TestClient) -> None:
    body = {"user_id": "u1", "item_id": "i1", "type": "click", "recommendation_id": "x" * 32}
    r = client.post("/v1/events", json={"events": [body]}, headers=BOSS)
    assert r.status_code == 422
    assert "recommendation_id" in r.text
    r = client.get("/v1/metrics/online", headers=BOSS, params={"since": "yesterday"})
    assert r.status_code == 422
    assert "since" in r.text
    assert client.get("/v1/metrics/online", headers={"X-API-Key": "reader"}).status_code == 403


def test_an_ab_experiment_assigns_users_stickily_and_reports(client: TestClient) -> None:
    body = {"name": "pop-vs-knn", "variants": [
        {"name": "control", "version": "v1"}, {"name": "knn", "version": "v2"}]}  # fmt: skip
    r = client.post("/v1/experiments", json=body, headers=BOSS)
    assert r.status_code == 201, r.text
    assert [v["share"] for v in r.json()["variants"]] == [0.5, 0.5]
    assert client.post("/v1/experiments", json=body, headers=BOSS).status_code == 409
    other = {**body, "name": "another"}
    assert client.post("/v1/experiments", json=other, headers=BOSS).status_code == 409
    seen: dict[str, str] = {}
    for n in range(40):
        user = f"u{n}"
        for _ in range(2):
            rec = _recommend(client, user)
            assert rec["experiment"] == "pop-vs-knn"
            assert seen.setdefault(user, rec["variant"]) == rec["variant"]  # sticky
            assert rec["version"] == {"control": "v1", "knn": "v2"}[rec["variant"]]
            _click(client, user, rec["items"][0]["item_id"], rec["recommendation_id"],
                   rec["recommendation_id"])  # fmt: skip
    assert set(seen.values()) == {"control", "knn"}
    res = client.get("/v1/experiments/pop-vs-knn", headers=BOSS).json()
    assert [v["name"] for v in res["variants"]] == ["control", "knn"]
    for v in res["variants"]:
        assert v["users"] == sum(1 for x in seen.values() if x == v["name"])
        assert v["impressions"] == 2 * 5 * v["users"]
        assert v["clicks"] == 2 * v["users"]
        assert v["ctr"]["mean"] == pytest.approx(0.2)
        assert set(v) >= {"name", "users", "impressions", "clicks", "ctr"}
    assert 0.0 <= res["srm_p"] <= 1.0
    [comp] = res["comparisons"]
    assert comp["variant"] == "knn"
    assert set(comp) >= {"variant", "lift", "p_value", "always_valid_p"}
    assert comp["lift"]["mean"] == pytest.approx(0.0, abs=1e-9)
    assert set(comp["lift"]) == {"mean", "ci95"}
    stopped = client.post("/v1/experiments/pop-vs-knn/stop", headers=BOSS).json()
    assert stopped["running"] is False
    client.app.state.engine._experiment = None  # type: ignore[attr-defined]  # no 1 s wait
    assert _recommend(client, "u1")["variant"] is None
    listed = client.get("/v1/experiments", headers=BOSS).json()["experiments"]
    assert [(e["name"], e["running"]) for e in listed] == [("pop-vs-knn", False)]
    assert client.get("/v1/experiments/nope", headers=BOSS).status_code == 404


def test_experiment_requests_that_cannot_run_get_clear_errors(client: TestClient) -> None:
    def start(body: dict[str, Any]) -> Any:
        return client.post("/v1/experiments", json=body, headers=BOSS)

    two = [{"name": "a", "version": "v1"}, {"name": "b", "version": "v9"}]
    r = start({"name": "x", "variants": two})
    assert r.status_code == 404
    assert "v9" in r.text
    same = [{"name": "a", "version": "v1"}, {"name": "a", "version": "v2"}]
    assert start({"name": "x", "variants": same}).status_code == 422
    shares = [{"name": "a", "version": "v1", "share": 0.7}, {"name": "b", "version": "v2",
                                                             "share": 0.7}]  # fmt: skip
    assert "sum to 1" in start({"name": "x", "variants": shares}).text
    three = [*two[:1], {"name": "b", "version": "v2"}, {"name": "c", "version": "v2"}]
    assert start({"name": "x", "kind": "interleaving", "variants": three}).status_code == 422


def test_an_interleaving_merges_both_lists_and_credits_clicks(client: TestClient) -> None:
    body = {"name": "il", "kind": "interleaving", "variants": [
        {"name": "pop", "version": "v1"}, {"name": "knn", "version": "v2"}]}  # fmt: skip
    assert client.post("/v1/experiments", json=body, headers=BOSS).status_code == 201
    engine = client.app.state.engine  # type: ignore[attr-defined]
    knn = engine.version("v2")
    for n in range(12):
        rec = _recommend(client, f"u{n}")
        assert rec["variant"] == "interleaved"
        ids = [i["item_id"] for i in rec["items"]]
        assert len(ids) == len(set(ids)) == 5
        # the user clicks what the knn side would have put first
        first = recommend(knn, Request(None, 5, explain=False),
                          UserState(knn.artifacts.user_vocab.index(f"u{n}")))["items"][0]  # fmt: skip
        assert first["item_id"] in ids  # team draft always takes each side's best
        _click(client, f"u{n}", first["item_id"], rec["recommendation_id"], f"c{n}")
    res = client.get("/v1/experiments/il", headers=BOSS).json()
    pref = res["preference"]
    assert pref["variant"] == "knn"
    assert pref["preference"]["mean"] > 0.5  # clicks went (mostly) to knn's picks
    assert set(pref) >= {"preference", "p_value", "always_valid_p"}
    assert res["comparisons"][0]["variant"] == "knn"


def test_exploration_records_propensities_and_the_pool(versions: Path, tmp_path: Path) -> None:
    with _app(versions, tmp_path, explore=1.0, explore_pool=20) as c:
        c.post("/v1/models/v1/activate", headers=BOSS)
        ids = set()
        for _ in range(5):
            rec = _recommend(c, "u3", k=5)
            ids |= {i["item_id"] for i in rec["items"]}
        served = c.app.state.engine.served(0, 1e11)  # type: ignore[attr-defined]
    assert len(ids) > 5  # explored beyond the top 5
    for imp in served:
        assert imp.propensities == pytest.approx([5 / 20] * 5)  # always exploring
        assert imp.pool is not None
        assert len(imp.pool) == 20
        assert set(imp.items) <= set(imp.pool)


def test_the_log_keeps_lists_the_store_refused_and_writes_them_later(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 's.db'}")
    calls = {"n": 0}
    real = store.add_impressions

    def flaky(batch: list[Impression]) -> int:
        calls["n"] += 1
        if calls["n"] == 1:
            raise StoreUnavailable("disk full")
        return real(batch)

    store.add_impressions = flaky  # type: ignore[method-assign]
    log = ImpressionLog(store, every_s=3600)
    log.add(Impression("a" * 32, "u", 1.0, "v1", ["i1"], [1.0]))
    with pytest.raises(StoreUnavailable):
        log.flush()
    log.add(Impression("b" * 32, "u", 2.0, "v1", ["i2"], [1.0]))
    log.close()  # writes what is left
    assert [i.recommendation_id for i in store.impressions()] == ["a" * 32, "b" * 32]
    store.close()


def test_retention_purges_served_lists_with_events(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 's.db'}")
    store.add_impressions([Impression("c" * 32, "u", 10.0, "v1", ["i1"], [1.0])])
    store._write([("UPDATE impressions SET stored_day = 0", (), False)])
    store.purge_events(30)
    assert store.impressions() == []
    store.close()


def test_off_policy_estimate_from_the_store_matches_a_hand_count(
    versions: Path, tmp_path: Path
) -> None:
    store = open_store(f"sqlite:///{tmp_path / 's.db'}")
    # two logged lists for u1 with propensities; the candidate (v2's knn) list for u1 is known
    v = load_version("v2", versions / "v2", None, ServingOptions(text_encoder=None))
    cand = [i["item_id"] for i in recommend(v, Request(None, 3, explain=False),
                                            UserState(v.artifacts.user_vocab.index("u1")))["items"]]  # fmt: skip
    others = [i for i in (f"i{n}" for n in range(40)) if i not in cand][:3]
    lists = [
        Impression("d" * 32, "u1", 5.0, "v1", [cand[0], others[0], others[1]], [0.0] * 3,
                   propensities=[0.5, 0.25, 0.25], pool=cand + others),
        Impression("e" * 32, "u1", 6.0, "v1", [others[2], cand[1], cand[2]], [0.0] * 3,
                   propensities=[0.25, 0.5, 0.2], pool=cand + others),
    ]  # fmt: skip
    store.add_impressions(lists)
    store.add_events([Event("u1", cand[0], "click", 1.0, None, None, "x1", "d" * 32),
                      Event("u1", cand[2], "click", 1.0, None, None, "x2", "e" * 32)])  # fmt: skip
    out = off_policy_estimate(store, versions / "v2", k=3)
    # candidate items logged: cand0 (w 2, click), cand1 (w 2, none), cand2 (w 5, click)
    assert out["estimate"]["mean"] == pytest.approx((2 + 5) / (2 + 2 + 5))
    assert out["support"] == 1.0
    assert out["logged_ctr"]["mean"] == pytest.approx(2 / 6)
    store.close()


def test_experiments_need_the_record_of_served_lists(versions: Path, tmp_path: Path) -> None:
    body = {
        "name": "x",
        "variants": [{"name": "a", "version": "v1"}, {"name": "b", "version": "v2"}],
    }
    with _app(versions, tmp_path, impressions=False) as c:
        r = c.post("/v1/experiments", json=body, headers=BOSS)
        assert r.status_code == 409
        assert "--no-impressions" in r.text
        assert _recommend(c, "u1")["recommendation_id"]  # lists still carry their id
