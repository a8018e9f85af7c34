"""The learning loop: the store's events back into a dataset (``lmrec data export``), and a
challenger activated only when it is not worse on the newest actions (``lmrec retrain``)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import polars as pl
import pytest

from lmrec.artifacts import save_artifacts
from lmrec.data import Dataset, synthetic_dataset
from lmrec.data.interactions import Interactions
from lmrec.errors import UsageError
from lmrec.models.registry import create_model
from lmrec.service.learning import export_dataset, retrain
from lmrec.service.store import Event, Store, open_store

Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[Path, Store, pl.DataFrame, float]]:
    """Version v1 (EASE) trained on the oldest 30% of a synthetic dataset; the store empty."""
    data = synthetic_dataset(n_users=200, n_items=120, mean_events=20, seed=1)
    inter = data.interactions
    cut = float(inter["timestamp"].quantile(0.3))  # type: ignore[arg-type]
    old = Interactions.from_dataset(
        data.with_interactions(inter.filter(pl.col("timestamp") <= cut))
    )
    save_artifacts(tmp_path / "versions" / "v1", {"ease": create_model("ease").fit(old)}, old)
    store = open_store(f"sqlite:///{tmp_path / 'store.db'}")
    yield tmp_path / "versions", store, inter, cut
    store.close()


def _feed(store: Store, frame: pl.DataFrame) -> None:
    store.add_events([
        Event(r["user_id"], r["item_id"], "view", float(r["timestamp"]))
        for r in frame.iter_rows(named=True)
    ])  # fmt: skip


def test_export_names_known_users_and_leaves_out_who_asked(world: tuple) -> None:  # type: ignore[type-arg]
    _, store, inter, cut = world
    old = Dataset.build(inter.filter(pl.col("timestamp") <= cut))
    fresh = inter.filter(pl.col("timestamp") > cut)
    _feed(store, fresh)
    store.add_events([Event("newcomer", "i3", "click", 2e9, context={"device": "tv"})])
    gone, private = old.interactions["user_id"][0], fresh["user_id"][-1]
    store.delete_user(gone)  # their events go, and their earlier data must not be used
    store.set_personalise(private, False)
    store.upsert_items([{"item_id": "brand-new", "title": "Brand new", "categories": ["x"]}])
    data, counts = export_dataset(store, old)
    users = set(data.interactions["user_id"].to_list())
    assert gone not in users
    assert private not in users
    assert store.vault.pseudonym("newcomer") in users  # never named to the store by id
    assert fresh["user_id"][0] in users  # a known user keeps their id
    assert counts["store_events_left_out"] == int((fresh["user_id"] == private).sum())
    assert counts["base_users_left_out"] >= 1
    assert data.interactions["timestamp"].is_sorted()
    theirs = data.interactions.filter(pl.col("user_id") == store.vault.pseudonym("newcomer"))
    assert theirs.select("item_id", "event", "device").rows() == [("i3", "click", "tv")]
    row = data.items.filter(pl.col("item_id") == "brand-new")
    assert row["title"].to_list() == ["Brand new"]
    assert row["categories"].to_list() == [["x"]]


def test_retrain_activates_a_better_version_and_keeps_a_worse_one(
    world: tuple,  # type: ignore[type-arg]
) -> None:
    root, store, inter, cut = world
    later = float(inter["timestamp"].quantile(0.65))  # type: ignore[arg-type]
    _feed(store, inter.filter((pl.col("timestamp") > cut) & (pl.col("timestamp") <= later)))
    up = retrain(root, store, version="v2")  # EASE on more data than v1 had
    assert up.activated
    assert up.challenger_ndcg >= up.champion_ndcg
    assert store.get_setting("active_version") == "v2"
    _feed(store, inter.filter(pl.col("timestamp") > later))
    down = retrain(root, store, models=["pop"], version="v3")  # popularity against EASE
    assert not down.activated
    assert down.champion == "v2"
    assert down.challenger_ndcg < down.champion_ndcg
    assert store.get_setting("active_version") == "v2"
    assert (root / "v3" / "manifest.json").is_file()  # written, not served
    decision = json.loads((root / "v3" / "retrain.json").read_text())
    assert decision["activated"] is False
    actions = [r["action"] for r in store.audit_log() if r["actor"] == "lmrec retrain"]
    assert sorted(actions) == ["activate version", "keep version"]
    store.set_setting("active_version", "v3")  # trained on every event there is
    with pytest.raises(UsageError, match="no actions newer than what v3 was trained on"):
        retrain(root, store, version="v4")


def test_a_kept_challenger_does_not_become_active_by_being_newest(
    world: tuple,  # type: ignore[type-arg]
) -> None:
    root, store, inter, cut = world
    assert store.get_setting("active_version") is None  # v1 served as the only (newest) folder
    _feed(store, inter.filter(pl.col("timestamp") > cut))
    kept = retrain(root, store, models=["pop"], version="v2")
    assert not kept.activated
    assert store.get_setting("active_version") == "v1"  # a restarted service serves v1, not v2
    again = retrain(root, store, models=["pop"], version="v3")
    assert again.champion == "v1"


def test_retrain_needs_a_folder_of_versions(world: tuple) -> None:  # type: ignore[type-arg]
    root, store, _, _ = world
    with pytest.raises(UsageError, match="retrain writes a new one beside it"):
        retrain(root / "v1", store)


def test_the_cli_exports_and_retrains(cli: Run, world: tuple, tmp_path: Path) -> None:  # type: ignore[type-arg]
    root, store, inter, cut = world
    _feed(store, inter.filter(pl.col("timestamp") > cut))
    url = store.where if store.where.startswith("sqlite") else f"sqlite:///{tmp_path / 'store.db'}"
    code, out, err = cli("data", "export", "--store", url, "--artifacts", root / "v1",
                         "--out", tmp_path / "ds")  # fmt: skip
    assert code == 0, err
    assert Dataset.load(tmp_path / "ds").interactions.height == inter.height
    code, out, err = cli("retrain", root, "--store", url, "--version", "v2", "--json")
    assert code == 0, err
    assert json.loads(out)["version"] == "v2"
    code, _, err = cli("retrain", root, "--store", url, "--holdout", "2")
    assert code == 2
    assert "--holdout must be between 0 and 1" in err
    code, _, err = cli("retrain", root, "--store", url, "--k", "0")
    assert code == 2
    assert "--k must be at least 1, not 0" in err
    for bad in ("../elsewhere", "a/b", ".hidden", "x" * 129):
        code, _, err = cli("retrain", root, "--store", url, "--version", bad)
        assert code == 2, bad
        assert "is not a folder name" in err
    assert not (root.parent / "elsewhere").exists()
    missing = tmp_path / "no" / "store.db"
    for args in (["data", "export", "--out", tmp_path / "ds2"], ["retrain", root]):
        code, _, err = cli(*args, "--store", f"sqlite:///{missing}")
        assert code == 2, args
        assert f"no store at {missing}" in err
    assert not missing.parent.exists()  # a read is not a new, empty store
