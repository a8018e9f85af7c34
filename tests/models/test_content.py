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
