"""Items without training actions take the vectors of the trained items with the nearest texts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest
import torch

from lmrec.data.interactions import Interactions
from lmrec.data.vocab import Vocabulary
from lmrec.errors import UsageError
from lmrec.models.seq import SequentialRecommender
from lmrec.models.seq.cold import neighbour_vectors

FAST = {
    "embedding_size": 16,
    "n_layers": 1,
    "n_heads": 1,
    "max_len": 8,
    "epochs": 3,
    "patience": 3,
    "dropout": 0.0,
    "text_encoder": "hashing-64",
    "num_threads": 1,
}


def test_neighbour_vectors_by_hand() -> None:
    warm_texts = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]])
    warm_vectors = np.array([[10.0, 0.0], [0.0, 10.0], [5.0, 5.0]])
    s = np.sqrt(0.5)
    texts = np.array([[1.0, 0.0], [s, s], [0.0, -1.0]])
    got = neighbour_vectors(texts, warm_texts, warm_vectors, k=2)
    # row 0: neighbours 0 (sim 1) and 1 (sim 0): all weight on 0
    # row 1: neighbours 0 and 1, both sim s: the plain mean
    # row 2: sims 0, -1, 0: the top two (rows 0 and 2) have weight 0, so their plain mean
    np.testing.assert_allclose(got[0], [10.0, 0.0])
    np.testing.assert_allclose(got[1], [5.0, 5.0])
    np.testing.assert_allclose(got[2], [7.5, 2.5])
    assert neighbour_vectors(texts[:0], warm_texts, warm_vectors).shape == (0, 2)


def _data() -> Interactions:
    texts = {
        "a": "space robots on mars", "b": "romantic comedy in paris",
        "c": "space war robots", "d": "a comedy of errors",
        "new": "space robots on mars",
    }  # fmt: skip
    items = pl.DataFrame({"item_id": list(texts), "text": list(texts.values())})
    rng = np.random.default_rng(0)
    rows = [
        (f"u{u}", str(rng.choice(["a", "b", "c", "d"])), t) for u in range(20) for t in range(6)
    ]
    frame = pl.DataFrame(rows, schema=["user_id", "item_id", "timestamp"], orient="row")
    return Interactions.from_frame(
        frame, Vocabulary([f"u{u}" for u in range(20)]), Vocabulary(list(texts)), items=items
    )


def test_an_unseen_item_scores_as_its_nearest_trained_items(tmp_path: Path) -> None:
    data = _data()
    model = SequentialRecommender(**FAST).fit(data)
    assert model.cold_rows_.tolist() == [4]
    vec = model.item_vectors()
    with torch.no_grad():
        trained = model.net_.item_vectors()[1:].numpy()
    table = model._text_table()
    sims = table[:4] @ table[4]
    top = np.argsort(-sims)[:4]  # k=5 covers all four trained items
    w = np.maximum(sims[top], 0) / np.maximum(sims[top], 0).sum()
    np.testing.assert_allclose(vec[4], w @ trained[top], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(vec[:4], trained[:4])  # the trained items are left as they are
    # an item added after training, with the same text, scores as the unseen one
    users = np.arange(5)
    carts = [np.zeros(0, np.int64)] * 5
    new = model.score_new_items(carts, users, table[4:5])
    np.testing.assert_allclose(new[:, 0], model.score_carts(carts, users)[:, 4], rtol=1e-5)
    loaded = SequentialRecommender.load(model.save(tmp_path / "m"))
    assert loaded.cold_rows_.tolist() == [4]
    np.testing.assert_allclose(loaded.item_vectors(), vec, rtol=1e-6)


def test_the_text_pathway_alone_with_cold_items_text() -> None:
    model = SequentialRecommender(**FAST, cold_items="text").fit(_data())
    assert len(model.cold_rows_) == 0
    with torch.no_grad():
        text = model.net_.text_proj(model.net_.text[5:6])  # type: ignore[index]
    np.testing.assert_allclose(model.item_vectors()[4], text[0].numpy(), rtol=1e-5, atol=1e-6)
    with pytest.raises(UsageError, match="cold_items must be neighbours or text"):
        SequentialRecommender(**FAST, cold_items="zero").fit(_data())
