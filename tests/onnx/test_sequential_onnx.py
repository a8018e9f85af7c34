"""The sequential model scored through ONNX Runtime agrees with PyTorch."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from lmrec.data.interactions import Interactions
from lmrec.data.vocab import Vocabulary
from lmrec.errors import UsageError
from lmrec.models.seq import SequentialRecommender

pytest.importorskip("onnxruntime")

PARAMS = {
    "embedding_size": 32,
    "n_layers": 2,
    "n_heads": 2,
    "max_len": 12,
    "epochs": 4,
    "patience": 4,
    "learning_rate": 0.01,
    "dropout": 0.0,
    "batch_size": 64,
    "text_encoder": "hashing-64",
    "num_threads": 1,
}


def _data(n_users: int = 40, n_items: int = 30) -> Interactions:
    rng = np.random.default_rng(0)
    rows = [
        (f"u{u}", f"i{int(i)}", 1_000_000 + 5_000 * t + 997 * u)
        for u in range(n_users)
        for t, i in enumerate(rng.integers(0, n_items, int(rng.integers(3, 16))))
    ]
    frame = pl.DataFrame(rows, schema=["user_id", "item_id", "timestamp"], orient="row")
    return Interactions.from_frame(
        frame,
        Vocabulary([f"u{u}" for u in range(n_users)]),
        Vocabulary([f"i{i}" for i in range(n_items)]),
    )


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Interactions]:
    data = _data()
    model = SequentialRecommender(**PARAMS).fit(data)
    folder = model.save(tmp_path_factory.mktemp("onnx") / "sequential")
    SequentialRecommender.load(folder).export_onnx(precision="int8")
    return folder, data


def test_onnx_scores_equal_pytorch_scores(saved: tuple[Path, Interactions]) -> None:
    folder, _ = saved
    torch_model = SequentialRecommender.load(folder)
    assert torch_model.use_runtime("torch") == "torch"
    onnx_model = SequentialRecommender.load(folder)
    assert onnx_model.use_runtime("onnx", "float32") == "onnx"
    users = np.arange(40)
    at = np.full(40, 2_000_000)
    np.testing.assert_allclose(
        onnx_model.score(users, at=at), torch_model.score(users, at=at), rtol=1e-4, atol=1e-5
    )
    # random carts, with and without a user before them
    rng = np.random.default_rng(1)
    carts = [rng.integers(0, 30, int(rng.integers(0, 20))) for _ in range(25)]
    for who in (None, rng.integers(0, 40, 25)):
        np.testing.assert_allclose(
            onnx_model.score_carts(carts, who),
            torch_model.score_carts(carts, who),
            rtol=1e-4,
            atol=1e-5,
        )
    recs_t, _ = torch_model.recommend(users, 10)
    recs_o, _ = onnx_model.recommend(users, 10)
    np.testing.assert_array_equal(recs_o, recs_t)


def test_int8_scores_stay_close_to_float32(saved: tuple[Path, Interactions]) -> None:
    folder, _ = saved
    f32 = SequentialRecommender.load(folder)
    int8 = SequentialRecommender.load(folder)
    assert int8.use_runtime("onnx", "int8") == "onnx"
    users = np.arange(40)
    a, b = f32.score(users), int8.score(users)
    assert np.abs(a - b).max() < 0.05 * np.abs(a).max()
    top_a = np.argsort(-a, axis=1)[:, :5]
    top_b = np.argsort(-b, axis=1)[:, :5]
    overlap = np.mean([len(set(x) & set(y)) / 5 for x, y in zip(top_a, top_b, strict=True)])
    assert overlap >= 0.8


def test_a_loaded_model_scores_with_onnx_by_default_when_an_export_is_there(
    saved: tuple[Path, Interactions],
) -> None:
    folder, _ = saved
    manifest = json.loads((folder / "onnx" / "manifest.json").read_text())
    assert manifest["default"] == "int8"
    assert set(manifest["files"]) == {"float32", "int8"}
    model = SequentialRecommender.load(folder)
    assert model.use_runtime() == "onnx"
    assert model._onnx().precision == "int8"


def test_graphs_of_other_weights_are_not_used(
    saved: tuple[Path, Interactions], tmp_path: Path
) -> None:
    folder, data = saved
    other = SequentialRecommender(**{**PARAMS, "random_state": 5}).fit(data)
    copy = other.save(tmp_path / "other")
    import shutil

    shutil.copytree(folder / "onnx", copy / "onnx")
    stale = SequentialRecommender.load(copy)
    assert stale.use_runtime("auto") == "torch"
    with pytest.raises(UsageError, match="exported from other weights"):
        stale.use_runtime("onnx")
    with pytest.raises(UsageError, match="runtime must be one of"):
        stale.use_runtime("tensorrt")
    with pytest.raises(UsageError, match="save the model"):
        other.export_onnx()
    fresh = SequentialRecommender.load(copy)
    with pytest.raises(UsageError, match="precision must be one of"):
        fresh.export_onnx(precision="int4")
    assert other.use_runtime("auto") == "torch"
    with pytest.raises(UsageError, match="scores saved models"):
        other.use_runtime("onnx")


def test_an_ensemble_exports_as_one_graph(tmp_path: Path) -> None:
    data = _data(n_users=20, n_items=15)
    model = SequentialRecommender(**{**PARAMS, "epochs": 2, "n_layers": 1}, n_models=2).fit(data)
    folder = model.save(tmp_path / "ensemble")
    loaded = SequentialRecommender.load(folder)
    loaded.export_onnx()
    users = np.arange(20)
    assert loaded.use_runtime("torch") == "torch"
    reference = loaded.score(users)
    assert loaded.use_runtime("onnx") == "onnx"
    np.testing.assert_allclose(loaded.score(users), reference, rtol=1e-4, atol=1e-5)


def test_occlusion_carts_through_the_shared_graph_equal_each_cart_alone(
    saved: tuple[Path, Interactions], tmp_path: Path
) -> None:
    from lmrec.explain.occlusion import occlusion_carts

    folder, _ = saved
    manifest = json.loads((folder / "onnx" / "manifest.json").read_text())
    assert manifest["files"]["float32"]["shared"] == "shared.onnx"
    onnx_model = SequentialRecommender.load(folder)
    onnx_model.use_runtime("onnx", "float32")
    assert onnx_model._onnx().shared is not None
    torch_model = SequentialRecommender.load(folder)
    torch_model.use_runtime("torch")
    rng = np.random.default_rng(2)
    for n in (3, 4, 6, 11, 12, 13, 14, 30):  # max_len 12: shorter, as long, and longer
        _, carts = occlusion_carts(rng.integers(0, 30, n), 5)
        alone = np.vstack([torch_model.query_vectors([c]) for c in carts])  # no shared part
        for model in (onnx_model, torch_model):
            np.testing.assert_allclose(model.query_vectors(carts), alone, rtol=1e-4, atol=1e-5)
    # graphs exported before the shared one existed: the whole carts are encoded
    import shutil

    old = tmp_path / "old"
    shutil.copytree(folder, old)
    manifest["files"] = {p: {k: v for k, v in f.items() if k != "shared"}
                         for p, f in manifest["files"].items()}  # fmt: skip
    (old / "onnx" / "manifest.json").write_text(json.dumps(manifest))
    legacy = SequentialRecommender.load(old)
    assert legacy.use_runtime("onnx", "float32") == "onnx"
    assert legacy._onnx().shared is None
    np.testing.assert_allclose(legacy.query_vectors(carts), alone, rtol=1e-4, atol=1e-5)
