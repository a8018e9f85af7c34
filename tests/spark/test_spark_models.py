"""Training on Spark (ALS on MLlib, popularity and item-kNN as sums), scoring every user on
Spark with any saved model, and ranking metrics on Spark."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest
import scipy.sparse as sp

from lmrec.artifacts import Artifacts, save_artifacts
from lmrec.batch import batch_recommend
from lmrec.data import Dataset, Split, split_loo, synthetic_dataset
from lmrec.data.interactions import Interactions
from lmrec.evaluation import prepare
from lmrec.metrics.ranking import hit_rate, hits_matrix, ndcg, recall, reciprocal_rank
from lmrec.models.registry import create_model
from lmrec.models.seq.model import SequentialRecommender
from lmrec.spark import (
    evaluate_lists_on_spark,
    recommend_on_spark,
    train_folder_on_spark,
    train_on_spark,
)

pytestmark = pytest.mark.spark
Run = Callable[..., tuple[int, str, str]]


@pytest.fixture(scope="module")
def split_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = synthetic_dataset(n_users=80, n_items=60, mean_events=12, seed=3)
    return split_loo(data).save(tmp_path_factory.mktemp("split") / "s")


@pytest.fixture(scope="module")
def local_artifacts(split_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    full = prepare(Split.load(split_dir)).train_valid
    seq = SequentialRecommender(embedding_size=16, n_layers=1, n_heads=1, max_len=8, epochs=2,
                                patience=2, random_state=0)  # fmt: skip
    models = {"ease": create_model("ease").fit(full), "sequential": seq.fit(full)}
    return save_artifacts(tmp_path_factory.mktemp("art") / "a", models, full)


@pytest.mark.parametrize("name", ["pop", "itemknn"])
def test_sums_on_spark_give_the_single_machine_model(
    spark: Any, split_dir: Path, name: str
) -> None:
    full = prepare(Split.load(split_dir)).train_valid
    got = train_on_spark(spark, name, {}, full)
    want = create_model(name).fit(full)
    users = np.arange(full.n_users)
    np.testing.assert_allclose(got.score(users), want.score(users), rtol=1e-5, atol=1e-6)


def test_als_on_spark_is_an_ordinary_als_artifact(
    spark: Any, split_dir: Path, tmp_path: Path
) -> None:
    full = prepare(Split.load(split_dir)).train_valid
    model = train_on_spark(spark, "als", {"embedding_size": 8, "epochs": 5}, full)
    assert model.user_factors_.shape == (full.n_users, 8)
    assert np.abs(model.item_factors_).sum() > 0
    save_artifacts(tmp_path / "a", {"als": model}, full)
    loaded = Artifacts.open(tmp_path / "a").model("als")
    assert type(loaded).__name__ == "ALS"
    np.testing.assert_allclose(loaded.score(np.arange(5)), model.score(np.arange(5)), rtol=1e-6)
    top, _ = loaded.recommend(np.arange(full.n_users), 5)
    seen = full.matrix.toarray().astype(bool)
    assert not seen[np.arange(full.n_users)[:, None], top].any()  # seen items left out


def _same_folders(got: Path, want: Path) -> None:
    """Two artifacts folders hold the same data, models and context prior."""
    for name in ("users.parquet", "items.parquet", "history.parquet"):
        assert pl.read_parquet(got / name).equals(pl.read_parquet(want / name)), name
    a, b = Artifacts.open(got), Artifacts.open(want)
    for key in ("n_users", "n_items", "interactions", "source"):
        assert a.manifest[key] == b.manifest[key], key
    prior, expected = a.context_prior(), b.context_prior()
    assert prior is not None
    assert expected is not None
    assert prior.values_ == expected.values_
    assert set(prior.values_) >= {"daypart", "device"}
    for field in expected.lifts_:
        np.testing.assert_allclose(prior.lifts_[field], expected.lifts_[field], rtol=1e-6)
    for name in b.manifest["models"]:
        mine, theirs = a.model(name), b.model(name)
        assert (mine.seen_ != theirs.seen_).nnz == 0
        np.testing.assert_array_equal(mine.popularity_, theirs.popularity_)
        users = np.arange(b.manifest["n_users"])
        np.testing.assert_allclose(mine.score(users), theirs.score(users), rtol=1e-5, atol=1e-6)


def test_a_split_trained_from_files_on_spark_is_the_single_machine_artifact(
    spark: Any, split_dir: Path, tmp_path: Path
) -> None:
    data = prepare(Split.load(split_dir))
    full = data.train_valid
    models = {"pop": create_model("pop").fit(full), "itemknn": create_model("itemknn").fit(full)}
    want = save_artifacts(tmp_path / "local", models, full, source=f"split {split_dir}")
    done = train_folder_on_spark(spark, split_dir, {"pop": {}, "itemknn": {}}, tmp_path / "spark")
    _same_folders(tmp_path / "spark", want)
    assert done.interactions == len(full)
    assert done.source == f"split {split_dir}"
    assert done.test is not None
    assert data.test_at is not None
    assert done.test.at is not None
    np.testing.assert_array_equal(done.test.users, data.test_users)
    np.testing.assert_array_equal(done.test.at, data.test_at)
    assert (done.test.truth != data.test_truth).nnz == 0


def test_a_dataset_trained_from_files_on_spark_is_the_single_machine_artifact(
    spark: Any, tmp_path: Path
) -> None:
    data = synthetic_dataset(n_users=50, n_items=40, mean_events=10, seed=5)
    folder = data.save(tmp_path / "d")
    full = Interactions.from_dataset(Dataset.load(folder))
    want = save_artifacts(tmp_path / "local", {"pop": create_model("pop").fit(full)}, full,
                          source=f"dataset {folder}")  # fmt: skip
    done = train_folder_on_spark(spark, folder, {"pop": {}}, tmp_path / "spark")
    _same_folders(tmp_path / "spark", want)
    assert done.test is None


def test_training_from_files_on_spark_names_what_is_wrong(spark: Any, tmp_path: Path) -> None:
    from lmrec.errors import DataError, UsageError

    with pytest.raises(UsageError, match="neither a split"):
        train_folder_on_spark(spark, tmp_path, {"pop": {}}, tmp_path / "a")
    with pytest.raises(UsageError, match="--engine spark trains als, pop, itemknn, not 'ease'"):
        train_folder_on_spark(spark, tmp_path, {"ease": {}}, tmp_path / "a")
    with pytest.raises(UsageError, match="als on Spark takes no time_budget_s"):
        train_folder_on_spark(spark, tmp_path, {"als": {"time_budget_s": 5.0}}, tmp_path / "a")
    split = split_loo(synthetic_dataset(n_users=20, n_items=15, seed=1))
    folder = split.save(tmp_path / "s")
    split.valid.drop("timestamp").write_parquet(folder / "valid.parquet")
    with pytest.raises(DataError, match="no column 'timestamp'") as err:
        train_folder_on_spark(spark, folder, {"pop": {}}, tmp_path / "a")
    assert "valid.parquet" in str(err.value)
    split.valid.write_parquet(folder / "valid.parquet")
    (folder / "test.parquet").unlink()
    with pytest.raises(DataError, match=r"missing test\.parquet"):
        train_folder_on_spark(spark, folder, {"pop": {}}, tmp_path / "a")


@pytest.mark.parametrize("model", ["ease", "sequential"])
def test_lists_scored_on_spark_equal_the_single_machine_lists(
    spark: Any, local_artifacts: Path, tmp_path: Path, model: str
) -> None:
    summary = recommend_on_spark(spark, local_artifacts, tmp_path / "spark.parquet", model=model,
                                 k=5, batch_size=7, partitions=3)  # fmt: skip
    batch_recommend(local_artifacts, tmp_path / "local.parquet", model=model, k=5, progress=False)
    got = pl.read_parquet(tmp_path / "spark.parquet")
    want = pl.read_parquet(tmp_path / "local.parquet")
    assert got.columns == ["user_id", "item_id", "rank", "score", "reason"]
    assert got.select("user_id", "item_id", "rank", "reason").equals(
        want.select("user_id", "item_id", "rank", "reason")
    )
    np.testing.assert_allclose(got["score"].to_numpy(), want["score"].to_numpy(), rtol=1e-5)
    assert summary["users"] == Artifacts.open(local_artifacts).manifest["n_users"]


def test_unknown_users_get_popular_items_on_spark(
    spark: Any, local_artifacts: Path, tmp_path: Path
) -> None:
    art = Artifacts.open(local_artifacts)
    ids = [art.user_vocab.ids[2], "nobody", art.user_vocab.ids[0]]
    summary = recommend_on_spark(spark, local_artifacts, tmp_path / "r.parquet", model="ease",
                                 users=ids, k=3, reasons=False)  # fmt: skip
    got = pl.read_parquet(tmp_path / "r.parquet")
    assert got["user_id"].unique(maintain_order=True).to_list() == ids  # in the order given
    assert summary["unknown_users"] == 1
    nobody = got.filter(pl.col("user_id") == "nobody")
    assert nobody["reason"].to_list() == ["popular with everyone"] * 3


def test_metrics_on_spark_equal_lmrecs_metrics(spark: Any, tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    n_users, n_items, k = 40, 30, 5
    recs = np.stack([rng.permutation(n_items)[:k] for _ in range(n_users)])
    truth = sp.random(n_users, n_items, density=0.1, format="csr", random_state=1)
    truth.data[:] = 1.0
    has = np.asarray(truth.sum(axis=1)).ravel() > 0
    rows = [(f"u{u}", f"i{i}", r + 1) for u in range(n_users) for r, i in enumerate(recs[u])]
    pl.DataFrame(rows, schema=["user_id", "item_id", "rank"], orient="row").write_parquet(
        tmp_path / "lists.parquet"
    )
    held = [(f"u{u}", f"i{i}") for u, i in zip(*truth.nonzero(), strict=True)]
    pl.DataFrame(held, schema=["user_id", "item_id"], orient="row").write_parquet(
        tmp_path / "test.parquet"
    )
    got = evaluate_lists_on_spark(spark, tmp_path / "lists.parquet", tmp_path / "test.parquet", k=k)
    hits = hits_matrix(recs, truth)[has]
    n_rel = np.asarray(truth.sum(axis=1)).ravel()[has].astype(int)
    assert got["users"] == int(has.sum())
    assert got["NDCG@5"] == pytest.approx(ndcg(hits, n_rel, k).mean())
    assert got["Recall@5"] == pytest.approx(recall(hits, n_rel, k).mean())
    assert got["HR@5"] == pytest.approx(hit_rate(hits, k).mean())
    assert got["MRR@5"] == pytest.approx(reciprocal_rank(hits, k).mean())


def test_metrics_on_spark_by_hand(spark: Any, tmp_path: Path) -> None:
    # a: hit at rank 2 of its one item; b: its two items at ranks 1 and 3; c: no list at all
    lists = [
        ("a", "x", 1),
        ("a", "y", 2),
        ("a", "z", 3),
        ("b", "x", 1),
        ("b", "y", 2),
        ("b", "z", 3),
    ]
    held = [("a", "y"), ("b", "x"), ("b", "z"), ("c", "x")]
    pl.DataFrame(lists, schema=["user_id", "item_id", "rank"], orient="row").write_parquet(
        tmp_path / "l.parquet"
    )
    pl.DataFrame(held, schema=["user_id", "item_id"], orient="row").write_parquet(
        tmp_path / "t.parquet"
    )
    got = evaluate_lists_on_spark(spark, tmp_path / "l.parquet", tmp_path / "t.parquet", k=3)
    ndcg_a = 1 / np.log2(3)
    ndcg_b = (1 + 1 / np.log2(4)) / (1 + 1 / np.log2(3))
    assert got["NDCG@3"] == pytest.approx((ndcg_a + ndcg_b + 0) / 3)
    assert got["HR@3"] == pytest.approx(2 / 3)
    assert got["MRR@3"] == pytest.approx((0.5 + 1 + 0) / 3)
    assert got["Recall@3"] == pytest.approx((1 + 1 + 0) / 3)


def test_lists_evaluated_on_spark_and_on_one_machine_agree(
    spark: Any, cli: Run, local_artifacts: Path, split_dir: Path, tmp_path: Path
) -> None:
    recs = tmp_path / "recs.parquet"
    batch_recommend(local_artifacts, recs, model="ease", k=10, reasons=False, progress=False)
    numbers = {}
    for engine in ("local", "spark"):
        code, _, err = cli("evaluate", "--lists", recs, "--split", split_dir, "--engine", engine,
                             "--out", tmp_path / engine)  # fmt: skip
        assert code == 0, err
        numbers[engine] = json.loads((tmp_path / engine / "lists.json").read_text())
    assert numbers["local"] == pytest.approx(numbers["spark"])
    full = prepare(Split.load(split_dir))
    art = Artifacts.open(local_artifacts)
    top, _ = art.model("ease").recommend(full.test_users, 10)
    hits = hits_matrix(top, full.test_truth)
    n_rel = np.asarray(full.test_truth.sum(axis=1)).ravel().astype(np.int64)
    assert numbers["local"]["NDCG@10"] == pytest.approx(ndcg(hits, n_rel, 10).mean())


def test_the_cli_trains_on_spark_and_scores_on_spark(
    spark: Any, cli: Run, split_dir: Path, tmp_path: Path
) -> None:
    art = tmp_path / "art"
    code, out, err = cli("train", split_dir, "--models", "als,pop", "--engine", "spark",
                         "--param", "als.embedding_size=8", "--out", art)  # fmt: skip
    assert code == 0, err
    assert "trained als" in out
    assert "on Spark" in out
    recs = tmp_path / "recs.parquet"
    code, out, err = cli("recommend", art, "--model", "als", "--users", "all", "--k", "4",
                         "--engine", "spark", "--out", recs)  # fmt: skip
    assert code == 0, err
    assert pl.read_parquet(recs)["rank"].max() == 4
    code, _, err = cli("train", split_dir, "--models", "ease", "--engine", "spark", "--out", art)
    assert code == 2
    assert "--engine spark trains als, pop, itemknn, not ease" in err
    code, _, err = cli("recommend", art, "--user", "u1", "--engine", "spark")
    assert code == 2
    assert "--engine spark scores a batch" in err
