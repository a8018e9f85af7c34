"""``lmrec recommend`` with reasons and re-ranking, ``lmrec profile`` with edits."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest

from lmrec.data import split_loo, synthetic_dataset

Run = Callable[..., tuple[int, str, str]]


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from lmrec.artifacts import save_artifacts
    from lmrec.evaluation import prepare
    from lmrec.models.itemknn import ItemKNN

    root = tmp_path_factory.mktemp("art")
    data = prepare(split_loo(synthetic_dataset(n_users=60, n_items=50, seed=6))).train_valid
    return save_artifacts(root / "v1", {"itemknn": ItemKNN(k=20).fit(data)}, data)


def _recs(cli: Run, art: Path, *args: object) -> list[dict]:  # type: ignore[type-arg]
    code, out, err = cli("recommend", art, "--user", "u1", "--json", *args)
    assert code == 0, err
    return json.loads(out)["items"]  # type: ignore[no-any-return]


def test_recommend_gives_reasons_citing_history(cli: Run, artifacts: Path) -> None:
    items = _recs(cli, artifacts)
    assert len(items) == 10
    cited = [i for i in items if i["explanation"]["kind"] == "history"]
    assert cited
    assert all(i["reason"].startswith("because you liked ") for i in cited)
    reranked = _recs(cli, artifacts, "--rerank", "0.9")
    assert [i["item_id"] for i in reranked] != [i["item_id"] for i in items]
    code, _, err = cli("recommend", artifacts, "--user", "u1", "--rerank", "3")
    assert code == 2
    assert "strength" in err


def test_profile_edits_change_recommendations(cli: Run, artifacts: Path, tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'store.db'}"
    code, out, err = cli("profile", artifacts, "--user", "u1", "--store", store, "--json")
    assert code == 0, err
    prof = json.loads(out)
    assert prof["known"] is True
    top = prof["interests"][0]["category"]
    code, out, _ = cli("profile", artifacts, "--user", "u1", "--store", store, "--mute", top)
    assert code == 0
    assert "muted" in out
    cats = dict(
        pl.read_parquet(artifacts / "items.parquet").select("item_id", "categories").iter_rows()
    )
    after = _recs(cli, artifacts, "--store", store)
    assert after
    assert all(top not in cats[i["item_id"]] for i in after)
    first = after[0]["explanation"]
    if first["kind"] == "history":
        cli("profile", artifacts, "--user", "u1", "--store", store, "--remove", first["item"])
        again = _recs(cli, artifacts, "--store", store)
        assert all(i["explanation"].get("item") != first["item"] for i in again)
    code, _, err = cli("profile", artifacts, "--user", "u1", "--store", store, "--remove", "zz")
    assert code == 2
    assert "unknown item" in err
