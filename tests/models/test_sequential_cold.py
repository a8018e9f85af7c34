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
from lmrec.models.seq.cold import _Draw, best_scale, neighbour_vectors

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


def test_best_scale_recovers_the_factor_that_makes_the_means_the_true_vectors() -> None:
    gen = torch.Generator().manual_seed(0)
    n, c, p = 60, 8, 6000
    vec = torch.randn(n, c, generator=gen)
    states = torch.randn(p, c, generator=gen)
    # targets drawn from the softmax of the true vectors
    targets = torch.multinomial(torch.softmax(states @ vec.T, dim=1), 1, generator=gen)[:, 0]
    cold = np.zeros(n, dtype=bool)
    cold[::6] = True
    draws = [(~cold, cold, vec[torch.from_numpy(cold)] / 2.5)]  # means 2.5x too short
    assert best_scale(states, targets, vec, draws) == pytest.approx(2.5, rel=0.08)


def test_best_scale_cross_entropy_matches_a_direct_softmax() -> None:
    gen = torch.Generator().manual_seed(1)
    n, c, p = 30, 4, 500
    vec, states = torch.randn(n, c, generator=gen), torch.randn(p, c, generator=gen)
    targets = torch.randint(0, n - 3, (p,), generator=gen)  # the last 3 items are left out
    cold = np.zeros(n, dtype=bool)
    cold[[2, 5, 7]] = True
    pool = ~cold
    pool[-3:] = False
    means = torch.randn(3, c, generator=gen)
    draw = _Draw.of(states, targets, vec, pool, cold, means)
    for scale in (0.5, 1.0, 3.0):
        table = vec.clone()
        table[torch.from_numpy(cold)] = scale * means
        logits = (states @ table.T).masked_fill(torch.from_numpy(~(pool | cold)), float("-inf"))
        expected = torch.nn.functional.cross_entropy(logits, targets).item()
        assert draw.cross_entropy(scale) == pytest.approx(expected, rel=1e-5)


def test_the_fit_calibrates_the_factor_and_a_given_one_is_kept(tmp_path: Path) -> None:
    data = _ten_item_data()
    fitted = SequentialRecommender(**FAST).fit(data)
    scale = fitted.fit_summary()["cold_scale"]
    assert 0.1 <= scale <= 10
    assert scale != 1.0
    fitted.save(tmp_path / "m")
    loaded = SequentialRecommender.load(tmp_path / "m")
    assert loaded._cold_scale() == fitted._cold_scale()
    assert loaded.fit_summary() == fitted.fit_summary()  # saved with the model
    np.testing.assert_allclose(loaded.item_vectors(), fitted.item_vectors(), rtol=1e-6)
    plain = SequentialRecommender(**FAST, cold_scale=1.0).fit(data)
    doubled = SequentialRecommender(**FAST, cold_scale=2.0).fit(data)
    cold = plain.cold_rows_
    assert len(cold) == 1
    np.testing.assert_allclose(
        doubled.item_vectors()[cold], 2 * plain.item_vectors()[cold], rtol=1e-5, atol=1e-6
    )


@pytest.mark.parametrize("bad", [0.0, -1.0, float("nan"), float("inf")])
def test_a_cold_scale_that_is_not_a_positive_number_is_refused(bad: float) -> None:
    with pytest.raises(UsageError, match="cold_scale"):
        SequentialRecommender(**FAST, cold_scale=bad).fit(_data())


def _ten_item_data() -> Interactions:
    """Twenty-one items on two themes, one of them never taken, and enough actions for the
    calibration to judge (at least 100 training targets)."""
    themes = ["space robots", "romantic comedy"]
    names = [f"i{i}" for i in range(21)]
    texts = [f"{themes[i % 2]} number {i}" for i in range(21)]
    items = pl.DataFrame({"item_id": names, "text": texts})
    rng = np.random.default_rng(0)
    rows = []
    for u in range(40):
        theme = u % 2
        for t in range(8):
            rows.append((f"u{u}", f"i{2 * int(rng.integers(0, 10)) + theme}", t))
    frame = pl.DataFrame(rows, schema=["user_id", "item_id", "timestamp"], orient="row")
    return Interactions.from_frame(
        frame, Vocabulary([f"u{u}" for u in range(40)]), Vocabulary(names), items=items
    )
