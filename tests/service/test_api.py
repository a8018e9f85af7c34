"""The HTTP API in-process (FastAPI's TestClient): contract, real time, auth, versions, limits."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from lmrec.artifacts import save_artifacts
from lmrec.data import split_loo, synthetic_dataset
from lmrec.evaluation import prepare
from lmrec.models.itemknn import ItemKNN
from lmrec.models.seq.model import SequentialRecommender
from lmrec.service import create_app
from lmrec.service.auth import KeyRing, parse_keys


@pytest.fixture(scope="module")
def versions(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("artifacts")
    data = prepare(split_loo(synthetic_dataset(n_users=60, n_items=50, seed=4))).train_valid
    seq = SequentialRecommender(epochs=3, text_encoder=None, embedding_size=16, max_len=20)
    save_artifacts(root / "v1", {"sequential": seq.fit(data)}, data)
    save_artifacts(root / "v2", {"itemknn": ItemKNN(k=20).fit(data)}, data)
    return root


@pytest.fixture(params=["sqlite", "postgresql"])
def client(versions: Path, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[TestClient]:
    """Every API test runs on both stores: embedded SQLite and a real PostgreSQL server."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'store.db'}"
    else:
        url = request.getfixturevalue("pg_url")
    app = create_app(versions, store=url, text_encoder="hashing", no_auth=True)
    with TestClient(app) as c:
        c.post("/v1/models/v1/activate")
        yield c


def _recs(client: TestClient, user: str, k: int = 10) -> dict:  # type: ignore[type-arg]
    r = client.post("/v1/recommendations", json={"user_id": user, "k": k})
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def test_recommendations_for_known_and_unknown_users(client: TestClient) -> None:
    body = _recs(client, "u1", 5)
    assert len(body["items"]) == 5
    assert body["cold_start"] is False
    assert body["version"] == "v1"
    assert all({"item_id", "score", "reason"} <= set(i) for i in body["items"])
    stranger = _recs(client, "nobody-yet")
    assert stranger["cold_start"] is True
    assert stranger["items"][0]["reason"] == "popular with everyone"


def test_events_change_the_next_recommendations(client: TestClient) -> None:
    before = _recs(client, "u2", 10)
    top = before["items"][0]["item_id"]
    second = before["items"][1]["item_id"]
    r = client.post("/v1/events", json={"events": [
        {"user_id": "u2", "item_id": top, "type": "click"},
        {"user_id": "u2", "item_id": second, "type": "not_interested"},
    ]})  # fmt: skip
    assert r.status_code == 200, r.text
    assert r.json() == {"accepted": 2, "stored": 2}
    after = _recs(client, "u2", 10)
    ids = [i["item_id"] for i in after["items"]]
    assert top not in ids  # consumed
    assert second not in ids  # not interested
    assert after["fresh_events"] == 1
    # the sequence model re-reads the history: scores move, not only the two removals
    old = {i["item_id"]: i["score"] for i in before["items"]}
    assert any(
        abs(old[i["item_id"]] - i["score"]) > 1e-6 for i in after["items"] if i["item_id"] in old
    )
    # a brand-new user who clicks is no longer cold
    client.post(
        "/v1/events", json={"events": [{"user_id": "fresh", "item_id": top, "type": "view"}]}
    )
    assert _recs(client, "fresh")["cold_start"] is False


def test_event_ids_make_retries_idempotent(client: TestClient) -> None:
    batch = {"events": [{"user_id": "u3", "item_id": "i1", "type": "view", "event_id": "e-1"}]}
    assert client.post("/v1/events", json=batch).json()["stored"] == 1
    assert client.post("/v1/events", json=batch).json()["stored"] == 0
    activity = client.get("/v1/users/u3/profile").json()["activity"]
    assert activity["by_type"]["view"] == 1


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("post", "/v1/recommendations", {"user_id": "u1", "k": 0}, 422),
        ("post", "/v1/recommendations", {"user_id": "u1", "k": 101}, 422),
        ("post", "/v1/recommendations", {"user_id": "", "k": 5}, 422),
        ("post", "/v1/recommendations", {"user_id": "u1", "k": "ten"}, 422),
        ("post", "/v1/recommendations", {"user_id": "u1", "colour": "red"}, 422),
        ("post", "/v1/events", {"events": []}, 422),
        (
            "post",
            "/v1/events",
            {"events": [{"user_id": "u", "item_id": "i1", "type": "like"}]},
            422,
        ),
        (
            "post",
            "/v1/events",
            {"events": [{"user_id": "u", "item_id": "zzz", "type": "view"}]},
            404,
        ),
        ("get", "/v1/items/zzz/similar", None, 404),
        ("get", "/v1/items/i1/similar?k=0", None, 422),
        ("post", "/v1/models/v9/activate", None, 404),
    ],
)
def test_bad_requests_get_4xx(client: TestClient, method: str, path: str, body: object,
                              status: int) -> None:  # fmt: skip
    r = client.request(method.upper(), path, json=body)
    assert r.status_code == status, r.text
    assert "detail" in r.json()


def test_malformed_json_and_oversized_bodies(client: TestClient) -> None:
    r = client.post(
        "/v1/recommendations", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert r.status_code == 422
    big = json.dumps({"user_id": "u1", "k": 5, "exclude": ["x" * 1000] * 1100})
    r = client.post(
        "/v1/recommendations", content=big, headers={"content-type": "application/json"}
    )
    assert r.status_code == 413


def test_similar_items_profile_catalog_and_metrics(client: TestClient) -> None:
    sim = client.get("/v1/items/i1/similar?k=3").json()
    assert len(sim["items"]) == 3
    assert "i1" not in [i["item_id"] for i in sim["items"]]
    prof = client.get("/v1/users/u1/profile").json()
    assert prof["known"] is True
    assert prof["activity"]["interactions"] > 0
    shares = [c["share"] for c in prof["interests"]]
    assert shares == sorted(shares, reverse=True)
    assert abs(sum(shares) - 1) < 0.05 or len(shares) == 10
    page = client.get("/v1/items?limit=5").json()
    assert page["total"] == 50
    assert len(page["items"]) == 5
    r = client.put("/v1/items", json=[{"item_id": "new1", "title": "A new film", "text": "space"}])
    assert r.json() == {"upserted": 1}
    assert client.get("/v1/items").json()["added"][0]["item_id"] == "new1"
    assert client.post("/v1/events", json={"events": [
        {"user_id": "u1", "item_id": "new1", "type": "view"}]}).status_code == 200  # fmt: skip
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"ready": True, "worker": os.getpid()}
    metrics = client.get("/metrics").text
    assert 'lmrec_requests_total{route="/v1/items/{item_id}/similar",status="200"}' in metrics
    assert "lmrec_events_total 1.0" in metrics
    assert client.get("/docs").status_code == 200


def test_hot_swap_between_versions(client: TestClient) -> None:
    assert client.get("/v1/models").json()["versions"] == ["v1", "v2"]
    assert _recs(client, "u1")["model"] == "sequential"
    r = client.post("/v1/models/v2/activate")
    assert r.status_code == 200
    assert r.json()["active"]["model"] == "itemknn"
    body = _recs(client, "u1")
    assert body["model"] == "itemknn"
    assert body["version"] == "v2"


def test_api_keys_and_scopes(versions: Path, tmp_path: Path) -> None:
    keys = KeyRing(parse_keys("reader:read;writer:read,events;boss:admin,read"))
    app = create_app(versions, store=f"sqlite:///{tmp_path / 's.db'}", keys=keys)
    event = {"events": [{"user_id": "u1", "item_id": "i1", "type": "view"}]}
    with TestClient(app) as c:
        assert c.post("/v1/recommendations", json={"user_id": "u1"}).status_code == 401
        bad = c.post("/v1/recommendations", json={"user_id": "u1"}, headers={"X-API-Key": "nope"})
        assert bad.status_code == 401
        ok = c.post("/v1/recommendations", json={"user_id": "u1"}, headers={"X-API-Key": "reader"})
        assert ok.status_code == 200
        assert c.post("/v1/events", json=event, headers={"X-API-Key": "reader"}).status_code == 403
        assert c.post("/v1/events", json=event, headers={"X-API-Key": "writer"}).status_code == 200
        swap = c.post("/v1/models/v2/activate", headers={"X-API-Key": "writer"})
        assert swap.status_code == 403
        assert "admin" in swap.json()["detail"]
        assert c.post("/v1/models/v2/activate", headers={"X-API-Key": "boss"}).status_code == 200
        assert c.get("/healthz").status_code == 200  # probes need no key


def test_bad_key_config() -> None:
    from lmrec.errors import UsageError

    with pytest.raises(UsageError, match="unknown API key scope"):
        parse_keys("k:root")
    with pytest.raises(UsageError, match="key:scope"):
        parse_keys("justakey")


def test_cart_endpoint(client: TestClient) -> None:
    r = client.post("/v1/cart/recommendations", json={"items": ["i1", "i2"], "k": 4})
    assert r.status_code == 200, r.text
    body = r.json()
    ids = [i["item_id"] for i in body["items"]]
    assert len(ids) == 4
    assert not {"i1", "i2"} & set(ids)
    with_user = client.post("/v1/cart/recommendations", json={"items": ["i1"], "user_id": "u1"})
    assert with_user.status_code == 200
    assert client.post("/v1/cart/recommendations", json={"items": []}).status_code == 422
    missing = client.post("/v1/cart/recommendations", json={"items": ["i1", "nope"]})
    assert missing.status_code == 404
    assert "nope" in missing.json()["detail"]


def test_ads_endpoint_without_a_ctr_model(client: TestClient) -> None:
    r = client.post("/v1/ads/rank", json={"user_id": "u1"})
    assert r.status_code == 404
    assert "no CTR model" in r.json()["detail"]


def test_ads_endpoint(tmp_path: Path) -> None:
    from lmrec.ctr.ads import CTRArtifacts, fit_ctr
    from lmrec.ctr.synthetic import synthetic_ad_log
    from lmrec.data.interactions import Interactions
    from lmrec.data.vocab import Vocabulary
    from lmrec.models.popularity import Popularity

    data = synthetic_ad_log(n_users=50, n_ads=20, n_events=3000, seed=6)
    inter = Interactions.from_frame(
        data.interactions,
        Vocabulary(data.interactions["user_id"].unique(maintain_order=True).to_list()),
        Vocabulary(data.items["item_id"].to_list()),
        items=data.items,
    )
    art = save_artifacts(tmp_path / "art", {"pop": Popularity().fit(inter)}, inter)
    model, enc = fit_ctr(data, "logreg", text_encoder="hashing")
    CTRArtifacts.save(art, {"logreg": model}, enc, data)
    app = create_app(
        art, store=f"sqlite:///{tmp_path / 's.db'}", text_encoder="hashing", no_auth=True
    )
    with TestClient(app) as c:
        r = c.post(
            "/v1/ads/rank",
            json={
                "user_id": "user1",
                "k": 3,
                "context": {"device": "mobile", "time": "1700000000"},
            },
        )
        assert r.status_code == 200, r.text
        ads = r.json()["ads"]
        assert len(ads) == 3
        assert ads[0]["expected_value"] >= ads[1]["expected_value"]
        assert {"item_id", "pctr", "bid", "expected_value"} <= set(ads[0])
        bad = c.post("/v1/ads/rank", json={"user_id": "user1", "candidates": ["ad1", "zzz"]})
        assert bad.status_code == 422
        assert "zzz" in bad.json()["detail"]
        assert c.post("/v1/ads/rank", json={"user_id": "user1", "k": 0}).status_code == 422


def test_workers_follow_a_version_activated_elsewhere(versions: Path, tmp_path: Path) -> None:
    from lmrec.service.engine import Engine
    from lmrec.service.store import open_store

    store = open_store(f"sqlite:///{tmp_path / 'shared.db'}")
    first, second = Engine(versions, store), Engine(versions, store)
    first.activate("v1")
    second._checked = float("-inf")  # its once-a-second check is due now
    assert second.recommend("u1", 3)["version"] == "v1"
    first.activate("v2")
    assert second.recommend("u1", 3)["version"] == "v1"  # checked less than a second ago
    second._checked = float("-inf")
    assert second.recommend("u1", 3)["version"] == "v2"
    store.close()


def test_new_catalog_items_are_recommended_through_their_text(tmp_path: Path) -> None:
    from lmrec.models.content import ContentRecommender

    data_set = synthetic_dataset(n_users=40, n_items=30, seed=8)
    data = prepare(split_loo(data_set)).train_valid
    seq = SequentialRecommender(epochs=2, text_encoder="hashing", embedding_size=16, max_len=20)
    save_artifacts(tmp_path / "a" / "seq", {"sequential": seq.fit(data)}, data)
    content = ContentRecommender("hashing").fit(data)
    save_artifacts(tmp_path / "a" / "txt", {"content": content}, data)
    app = create_app(
        tmp_path / "a", store=f"sqlite:///{tmp_path / 's.db'}", text_encoder="hashing", no_auth=True
    )
    u = data.user_vocab.ids[0]
    liked = data.item_vocab.raw(int(data.matrix[0].indices[0]))
    text = data.items["text"].to_list()[data.item_vocab.index(liked)]
    with TestClient(app) as c:
        c.post("/v1/models/txt/activate")
        put = c.put(
            "/v1/items", json=[{"item_id": "brand-new", "title": "Brand new", "text": text}]
        )
        assert put.status_code == 200
        body = _recs(c, u, 30)
        new = next(i for i in body["items"] if i["item_id"] == "brand-new")
        assert new["reason"].startswith("new in the catalog")
        # the same text as an item the user liked, so exactly that item's score
        own = content.score_carts([np.zeros(0, dtype=np.int64)], np.array([0]))[0]
        assert new["score"] == pytest.approx(float(own[data.item_vocab.index(liked)]), abs=1e-5)
        c.post("/v1/models/seq/activate")
        everything = _recs(c, u, 100)["items"]
        assert "brand-new" in [i["item_id"] for i in everything]  # scored through its text
        # once consumed, it is left out like any other item
        c.post(
            "/v1/events", json={"events": [{"user_id": u, "item_id": "brand-new", "type": "click"}]}
        )
        assert "brand-new" not in [i["item_id"] for i in _recs(c, u, 100)["items"]]


def test_query_and_category_filter(client: TestClient) -> None:
    items = client.get("/v1/items?limit=1000").json()["items"]
    assert items
    from lmrec.data import synthetic_dataset as make

    catalog = make(n_users=60, n_items=50, seed=4).items
    cats = dict(zip(catalog["item_id"].to_list(), catalog["categories"].to_list(), strict=True))
    wanted = cats["i1"][0]
    r = client.post("/v1/recommendations", json={"user_id": "u1", "k": 5,
                                                 "filters": {"categories": [wanted]}})  # fmt: skip
    assert r.status_code == 200, r.text
    assert all(wanted in cats[i["item_id"]] for i in r.json()["items"])
    search = client.post("/v1/recommendations", json={"user_id": "newcomer", "k": 3,
                                                      "query": wanted})  # fmt: skip
    body = search.json()
    assert body["items"][0]["reason"] == f"matches your request '{wanted}'"
    assert wanted in cats[body["items"][0]["item_id"]]  # search by the request's meaning
    blended = client.post("/v1/recommendations", json={"user_id": "u1", "k": 3, "query": wanted,
                                                       "query_weight": 0.9}).json()  # fmt: skip
    assert blended["items"][0]["reason"].endswith("and your history")
    bad = client.post("/v1/recommendations", json={"user_id": "u1", "query_weight": 2})
    assert bad.status_code == 422


def test_every_item_has_a_faithful_reason(client: TestClient) -> None:
    """Sequential model: each reason citing a history item names one the user really has;
    removing that item through a profile edit lowers the item's score."""
    body = _recs(client, "u4", 5)
    cited = [i for i in body["items"] if i["explanation"]["kind"] == "history"]
    assert cited, body
    first = cited[0]
    because = first["explanation"]["item"]
    assert first["reason"].startswith("because you liked")
    assert first["explanation"]["effect"] > 0
    scores = {i["item_id"]: i["score"] for i in body["items"]}
    r = client.patch("/v1/users/u4/profile", json={"remove_items": [because]})
    assert r.status_code == 200, r.text
    assert r.json()["edits"]["removed_items"] == [because]
    after = client.post(
        "/v1/recommendations", json={"user_id": "u4", "k": 50}
    ).json()["items"]  # fmt: skip
    after_scores = {i["item_id"]: i["score"] for i in after}
    target = first["item_id"]
    assert after_scores.get(target, -np.inf) < scores[target]
    plain = client.post(
        "/v1/recommendations", json={"user_id": "u4", "k": 3, "explain": False}
    ).json()  # fmt: skip
    assert {i["explanation"]["kind"] for i in plain["items"]} == {"model"}


def test_muting_a_category_changes_the_next_recommendations(
    client: TestClient, versions: Path
) -> None:
    import polars as pl

    catalog = pl.read_parquet(versions / "v1" / "items.parquet")
    cats = dict(zip(catalog["item_id"].to_list(), catalog["categories"].to_list(), strict=True))
    before = _recs(client, "u5", 10)["items"]
    top_cat = cats[before[0]["item_id"]][0]
    prof = client.patch("/v1/users/u5/profile", json={"mute_categories": [top_cat]}).json()
    assert {"category": top_cat, "muted": True}.items() <= next(
        c for c in prof["interests"] if c["category"] == top_cat
    ).items()
    after = _recs(client, "u5", 10)["items"]
    assert all(top_cat not in cats[i["item_id"]] for i in after)
    client.patch("/v1/users/u5/profile", json={"unmute_categories": [top_cat]})
    assert _recs(client, "u5", 10)["items"][0]["item_id"] == before[0]["item_id"]
    bad = client.patch("/v1/users/u5/profile", json={"remove_items": ["no-such-item"]})
    assert bad.status_code == 404


def test_rerank_per_request(client: TestClient) -> None:
    plain = _recs(client, "u6", 10)
    assert plain["reranked"] is False
    body = {"user_id": "u6", "k": 10, "rerank": {"strength": 0.0, "pinned": ["i7"]}}
    pinned = client.post("/v1/recommendations", json=body).json()
    assert pinned["reranked"] is True
    assert pinned["items"][0]["item_id"] == "i7"
    rest = [i["item_id"] for i in plain["items"] if i["item_id"] != "i7"][:9]
    assert [i["item_id"] for i in pinned["items"][1:]] == rest
    strong = client.post(
        "/v1/recommendations", json={"user_id": "u6", "k": 10, "rerank": {"strength": 0.9}}
    ).json()  # fmt: skip
    assert len(strong["items"]) == 10
    assert [i["item_id"] for i in strong["items"]] != [i["item_id"] for i in plain["items"]]
    for kinds in (
        {"strength": 0.5, "exposure_kind": "inverse"},
        {"strength": 0.6, "relevance": "zsoftmax", "sharpness": 0.6, "diversity_kind": "mean"},
        {"strength": 0.3, "objective": "list"},
        {"strength": 0.05, "objective": "list", "relevance": "probability", "sharpness": 2},
    ):
        r = client.post("/v1/recommendations", json={"user_id": "u6", "k": 10, "rerank": kinds})
        assert r.status_code == 200
        assert len(r.json()["items"]) == 10
    bad_bodies = (
        {"strength": 2}, {"pinned": ["nope"]}, {"colour": 1}, {"exposure_kind": "log"},
        {"relevance": "loud"}, {"sharpness": 0}, {"diversity_kind": "max"},
        {"objective": "page"},
    )  # fmt: skip
    for bad in bad_bodies:
        r = client.post("/v1/recommendations", json={"user_id": "u6", "rerank": bad})
        assert r.status_code in (404, 422), r.text


def test_context_shifts_the_ranking(client: TestClient) -> None:
    """The synthetic data has devices and real timestamps: the artifacts carry a context prior
    and a request's context is applied (and reported); nonsense time is a 422."""
    plain = _recs(client, "u7", 10)
    assert plain["context_used"] == []
    body = {"user_id": "u7", "k": 10, "context": {"device": "tv", "time": "2026-11-28T21:00"},
            "context_weight": 5.0}  # fmt: skip
    r = client.post("/v1/recommendations", json=body)
    assert r.status_code == 200, r.text
    assert r.json()["context_used"] == ["daypart", "daytype", "device"]
    assert [i["item_id"] for i in r.json()["items"]] != [i["item_id"] for i in plain["items"]]
    body["context"] = {"time": "yesterday-ish"}
    bad = client.post("/v1/recommendations", json=body)
    assert bad.status_code == 422
    assert "time" in bad.json()["detail"]


def test_ann_retrieval_serves_the_exact_lists(versions: Path, tmp_path: Path) -> None:
    """Through an HNSW index (ann="on") the lists equal full scoring on a small catalog; the
    index is saved next to the model and reused."""
    from lmrec.online import ServingOptions
    from lmrec.service.engine import Engine
    from lmrec.service.store import open_store

    store = open_store(f"sqlite:///{tmp_path / 's.db'}")
    exact = Engine(versions, store, options=ServingOptions(ann="off"))
    exact.activate("v1")
    served = Engine(versions, store, options=ServingOptions(ann="on"))
    served.activate("v1")
    for user in ("u1", "u8", "u30", "stranger"):
        a = [i["item_id"] for i in exact.recommend(user, 10)["items"]]
        b = [i["item_id"] for i in served.recommend(user, 10)["items"]]
        assert a == b, user
    assert (versions / "v1" / "sequential" / "ann.faiss").is_file()
    store.close()


def test_request_time_and_event_times_reach_the_sequential_network(
    client: TestClient, versions: Path
) -> None:
    from lmrec.artifacts import Artifacts

    art = Artifacts.open(versions / "v1")
    model = art.model("sequential")
    assert model.net_.cfg.n_context > 0  # synthetic data has real timestamps
    user = "u3"
    u = art.user_vocab.index(user)
    at = 1_700_000_000 + 8 * 3600

    def scores(body: dict) -> dict[str, float]:  # type: ignore[type-arg]
        r = client.post("/v1/recommendations", json={"user_id": user, "k": 20, **body})
        assert r.status_code == 200, r.text
        return {i["item_id"]: i["score"] for i in r.json()["items"]}

    timed = scores({"context": {"time": str(at)}, "context_weight": 0.0})
    want = model.score_carts([np.zeros(0, np.int64)], np.array([u]), at=at)[0]
    for item, s in timed.items():
        assert s == pytest.approx(float(want[art.item_vocab.index(item)]), abs=1e-5)
    untimed = scores({})
    assert any(abs(untimed[i] - s) > 1e-6 for i, s in timed.items() if i in untimed)
    # a fresh event carries its time into the next-action context
    item = next(iter(timed))
    r = client.post("/v1/events", json={"events": [
        {"user_id": user, "item_id": item, "type": "click", "timestamp": at - 600},
    ]})  # fmt: skip
    assert r.status_code == 200, r.text
    after = scores({"context": {"time": str(at)}, "context_weight": 0.0})
    cart = [np.array([art.item_vocab.index(item)])]
    want = model.score_carts(cart, np.array([u]), at=at, times=[np.array([at - 600])])[0]
    for i, s in after.items():
        assert s == pytest.approx(float(want[art.item_vocab.index(i)]), abs=1e-5)
    bad = client.post(
        "/v1/recommendations", json={"user_id": user, "context": {"time": "yesterday"}}
    )
    assert bad.status_code == 422
    assert "context time" in bad.text


def test_variety_in_the_profile_reranks_the_users_lists(client: TestClient) -> None:
    plain = _recs(client, "u7")
    assert client.patch("/v1/users/u7/profile", json={"variety": 0.75}).status_code == 200
    chosen = _recs(client, "u7")  # exploration draws at random: compare the flag, not the order
    assert chosen["reranked"] is True
    assert plain["reranked"] is False
    assert client.patch("/v1/users/u7/profile", json={"variety": 1.5}).status_code == 422
    client.patch("/v1/users/u7/profile", json={"variety": 0})
    assert [i["item_id"] for i in _recs(client, "u7")["items"]] == [
        i["item_id"] for i in plain["items"]
    ]  # fmt: skip


def test_the_objects_of_startup_are_kept_out_of_the_collectors_sight(
    versions: Path, tmp_path: Path
) -> None:
    """A full garbage collection would scan the models and libraries loaded at startup: they
    are frozen while the app runs (and unfrozen when it stops, so that they can go)."""
    import gc

    app = create_app(versions, store=f"sqlite:///{tmp_path / 's.db'}", no_auth=True)
    with TestClient(app) as c:
        assert c.get("/readyz").status_code == 200
        assert gc.get_freeze_count() > 10_000
    assert gc.get_freeze_count() == 0
