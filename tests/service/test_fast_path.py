"""The service's cheap path: reasons computed ahead by ``lmrec export`` give the same lists and
reasons as reasons computed on request, and plain requests are computed on the event loop
only when nothing slow is due."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from lmrec.artifacts import save_artifacts
from lmrec.data import split_loo, synthetic_dataset
from lmrec.errors import UsageError
from lmrec.evaluation import prepare
from lmrec.explain.occlusion import history_effects, user_history
from lmrec.explain.states import REASON_STATES_FILE, ReasonStates, write_reason_states
from lmrec.models.capabilities import LinearInHistory, OrderedHistory, TwoTower, capable
from lmrec.models.itemknn import ItemKNN
from lmrec.models.seq.model import SequentialRecommender
from lmrec.online import Request, ServingOptions
from lmrec.service.engine import Engine
from lmrec.service.store import Event, open_store


@pytest.fixture(scope="module")
def art(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("fast") / "v1"
    data = prepare(split_loo(synthetic_dataset(n_users=40, n_items=40, seed=6))).train_valid
    seq = SequentialRecommender(epochs=2, text_encoder=None, embedding_size=16, max_len=12)
    return save_artifacts(root, {"sequential": seq.fit(data)}, data)


def _engine(art: Path, tmp_path: Path, name: str = "store") -> Engine:
    store = open_store(f"sqlite:///{tmp_path / name}.db")
    return Engine(art, store, options=ServingOptions(text_encoder=None, runtime="torch"))


def test_capable_answers_as_isinstance_does() -> None:
    for model in (SequentialRecommender(), ItemKNN()):
        for protocol in (TwoTower, LinearInHistory, OrderedHistory):
            assert capable(model, protocol) == isinstance(model, protocol)
            assert capable(model, protocol) == isinstance(model, protocol)  # from the cache
    assert capable(SequentialRecommender(), TwoTower)
    assert not capable(ItemKNN(), TwoTower)


def test_states_written_ahead_give_the_effects_computed_on_request(
    art: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "m"
    shutil.copytree(art / "sequential", folder)
    model = SequentialRecommender.load(folder)
    seen: list[int] = []
    write_reason_states(model, folder, progress=lambda done, total: seen.append(done))
    assert seen[-1] == model.n_users_
    states = ReasonStates.open(folder, model)
    assert states is not None
    targets = np.arange(model.n_items_)
    for user in range(model.n_users_):
        history = user_history(model, user)
        recent, fresh = history_effects(model, history, targets)
        recent2, ahead = history_effects(model, history, targets, states=states.rows(user))
        np.testing.assert_array_equal(recent, recent2)
        np.testing.assert_allclose(ahead, fresh, atol=1e-5)
    with pytest.raises(UsageError, match="no reason states"):
        write_reason_states(ItemKNN(k=5), folder)
    assert ReasonStates.open(tmp_path, model) is None  # none written there
    with pytest.raises(UsageError, match="no saved model"):
        write_reason_states(model, tmp_path)


def test_states_of_other_weights_are_not_used(
    art: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "m"
    shutil.copytree(art / "sequential", folder)
    model = SequentialRecommender.load(folder)
    write_reason_states(model, folder)
    assert ReasonStates.open(folder, model) is not None
    # retrained in place: the same users, items and sizes, other weights
    data = prepare(split_loo(synthetic_dataset(n_users=40, n_items=40, seed=6))).train_valid
    again = SequentialRecommender(
        epochs=2, text_encoder=None, embedding_size=16, max_len=12, random_state=1
    )
    save_artifacts(tmp_path / "again", {"sequential": again.fit(data)}, data)
    shutil.copy(tmp_path / "again" / "sequential" / "state.safetensors", folder)
    retrained = SequentialRecommender.load(folder)
    with caplog.at_level("WARNING", logger="lmrec.explain.states"):
        assert ReasonStates.open(folder, retrained) is None
    assert "run 'lmrec export' again" in caplog.text
    # another model's states (other users): not used either
    small = prepare(split_loo(synthetic_dataset(n_users=30, n_items=40, seed=7))).train_valid
    other = SequentialRecommender(epochs=1, text_encoder=None, embedding_size=16, max_len=12)
    save_artifacts(tmp_path / "other", {"sequential": other.fit(small)}, small)
    write_reason_states(other, tmp_path / "other" / "sequential")
    shutil.copy(tmp_path / "other" / "sequential" / REASON_STATES_FILE, folder)
    assert ReasonStates.open(folder, retrained) is None
    (folder / REASON_STATES_FILE).write_bytes(b"not safetensors")
    with pytest.raises(UsageError, match="not a file of reason states"):
        ReasonStates.open(folder, retrained)


def test_served_lists_and_reasons_are_the_same_with_states_ahead(art: Path, tmp_path: Path) -> None:
    ahead = tmp_path / "ahead"
    shutil.copytree(art, ahead)
    write_reason_states(SequentialRecommender.load(ahead / "sequential"), ahead / "sequential")
    plain, fast = _engine(art, tmp_path, "a"), _engine(ahead, tmp_path, "b")
    assert plain.active.reason_states is None
    assert fast.active.reason_states is not None
    assert not fast.active.reasons.get((0, (), ())), "the load's own list keeps no reasons"
    users = [f"u{i}" for i in range(1, 15)]
    for user in users:
        a, b = plain.run(Request(user, 5)), fast.run(Request(user, 5))
        assert [i["item_id"] for i in a["items"]] == [i["item_id"] for i in b["items"]]
        for x, y in zip(a["items"], b["items"], strict=True):
            assert x["reason"] == y["reason"]
            if x["explanation"]["effect"] is not None:
                assert x["explanation"]["effect"] == pytest.approx(y["explanation"]["effect"])
    # an event since training: another history, so its states are computed on request
    for eng in (plain, fast):
        eng.store.add_events([Event("u3", "i7", "view", 1.7e9, event_id="e1")])
    a, b = plain.run(Request("u3", 5)), fast.run(Request("u3", 5))
    assert [i["reason"] for i in a["items"]] == [i["reason"] for i in b["items"]]
    plain.store.close()
    fast.store.close()


def test_plain_requests_are_quick_and_slow_ones_are_not(art: Path, tmp_path: Path) -> None:
    eng = _engine(art, tmp_path)
    plain = Request("u1", 5)
    assert eng.quick(plain)
    assert eng.quick(Request(None, 5))
    assert not eng.quick(Request("u1", 5, query="space adventure"))
    from lmrec.rerank import RerankConfig

    assert not eng.quick(Request("u1", 5, rerank=RerankConfig(strength=0.5)))
    # another worker activated a version this one has not loaded: the thread loads it
    eng.store.set_setting("active_version", "v9")
    eng._checked = 0.0
    assert not eng.quick(plain)
    assert eng.current().version == "v1"  # v9 cannot be seen here: keep serving v1
    assert eng.quick(plain)
    # catalog additions with text to embed are embedded off the loop
    eng.upsert_items([{"item_id": "new-1", "title": "A new thing", "text": "a new thing"}])
    assert eng.quick(plain) == (not getattr(eng.active.model, "text_encoder", None))
    eng.store.close()


def test_a_sqlite_store_reads_locally_and_postgres_does_not() -> None:
    from lmrec.service.postgres import PostgresStore
    from lmrec.service.sqlite import SQLiteStore

    assert SQLiteStore.local_reads
    assert not PostgresStore.local_reads
