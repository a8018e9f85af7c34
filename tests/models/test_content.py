from __future__ import annotations

import numpy as np
import polars as pl

from lmrec.data.interactions import Interactions
from lmrec.data.vocab import Vocabulary
from lmrec.models.content import ContentRecommender, zscore
from lmrec.testing import RecommenderContract


class TestContent(RecommenderContract):
    expected_ndcg = 0.127  # 80% of the 0.1595 measured
    solves_checkerboard = False  # the checkerboard has no text

    def model_factory(self) -> ContentRecommender:
        return ContentRecommender(text_encoder="hashing")


def catalog() -> Interactions:
    items = pl.DataFrame(
        {
            "item_id": ["a", "b", "c", "d"],
            "text": [
                "space robots galaxy",
                "space galaxy aliens",
                "romantic wedding comedy",
                "wedding comedy love",
            ],
        }
    )
    frame = pl.DataFrame({"user_id": ["u", "v"], "item_id": ["a", "c"], "timestamp": [1, 2]})
    return Interactions.from_frame(
        frame, Vocabulary(["u", "v"]), Vocabulary(["a", "b", "c", "d"]), items=items
    )


def test_recommends_by_text_including_never_seen_items() -> None:
    data = catalog()
    model = ContentRecommender(text_encoder="hashing").fit(data)
    # b and d were never interacted with; they are still ranked, by their text
    assert data.item_vocab.raws(model.recommend(0, 1)[0]) == ["b"]
    assert data.item_vocab.raws(model.recommend(1, 1)[0]) == ["d"]


def test_fresh_history_changes_the_profile() -> None:
    data = catalog()
    model = ContentRecommender(text_encoder="hashing").fit(data)
    fresh = data.matrix.copy().tolil()
    fresh[0, 0] = 0
    fresh[0, 2] = 1  # user u now only has the comedy
    scores = model.score(0, history=fresh.tocsr())
    scores[fresh.tocsr()[0].indices] = -np.inf  # what the user has now
    assert data.item_vocab.raws(np.array([np.argmax(scores)])) == ["d"]


def test_zscore() -> None:
    out = zscore(np.array([[1.0, 2.0, 3.0], [5.0, 5.0, -np.inf]]))
    np.testing.assert_allclose(out[0], [-1.2247449, 0, 1.2247449], rtol=1e-6)
    assert out[1, 0] == 0
    assert out[1, 2] == -np.inf


def test_cart_items_are_the_newest_actions_and_decay_by_position() -> None:
    data = catalog()
    model = ContentRecommender(text_encoder="hashing", half_life=0.5).fit(data)
    e = model.item_embeddings_
    a, b, c, d = range(4)
    # user u did "a" in training; a cart of "c" is one action newer, so "a" weighs 0.5 ** 2
    expected = 0.25 * e[a] + e[c]
    np.testing.assert_allclose(
        model.query_vectors([np.array([c])], np.array([0]))[0],
        expected / np.linalg.norm(expected),
        rtol=1e-5,
        atol=1e-6,
    )
    # without a cart the profile is the fitted one, so carts and recommend agree
    np.testing.assert_allclose(
        model.score_carts([np.array([], dtype=np.int64)], np.array([0]))[0],
        model.score(0),
        rtol=1e-5,
        atol=1e-6,
    )
    # an unknown user's cart: the last item added leads
    late_comedy = model.score_carts([np.array([a, c])])[0]
    late_space = model.score_carts([np.array([c, a])])[0]
    assert late_comedy[d] > late_comedy[b]
    assert late_space[b] > late_space[d]


def test_without_decay_a_cart_adds_to_the_history_equally() -> None:
    data = catalog()
    model = ContentRecommender(text_encoder="hashing", half_life=None).fit(data)
    e = model.item_embeddings_
    expected = e[0] + e[2]
    np.testing.assert_allclose(
        model.query_vectors([np.array([2])], np.array([0]))[0],
        expected / np.linalg.norm(expected),
        rtol=1e-5,
        atol=1e-6,
    )


def test_saved_profiles_keep_their_weight(tmp_path) -> None:  # type: ignore[no-untyped-def]
    data = catalog()
    model = ContentRecommender(text_encoder="hashing").fit(data)
    model.save(tmp_path / "m")
    loaded = ContentRecommender.load(tmp_path / "m")
    carts, users = [np.array([2]), np.array([1, 3])], np.array([0, 1])
    np.testing.assert_array_equal(loaded.score_carts(carts, users), model.score_carts(carts, users))
