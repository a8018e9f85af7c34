from __future__ import annotations

import numpy as np

from lmrec.models.itemknn import ItemKNN
from lmrec.testing import RecommenderContract, toy_interactions


class TestItemKNN(RecommenderContract):
    expected_ndcg = 0.234  # 80% of the 0.2925 measured

    def model_factory(self) -> ItemKNN:
        return ItemKNN(k=20, shrink=0.0)


def test_similarity_by_hand() -> None:
    # x: users a, b, c; y: a, b; z: c. cos(x, y) = 2 / sqrt(3 * 2); cos(x, z) = 1 / sqrt(3 * 1).
    data = toy_interactions(
        [("a", "x"), ("a", "y"), ("b", "x"), ("b", "y"), ("c", "x"), ("c", "z")]
    )
    model = ItemKNN(k=5, shrink=0.0).fit(data)
    s = model.similarity_.toarray()
    np.testing.assert_allclose(s[0, 1], 2 / np.sqrt(6), rtol=1e-6)
    np.testing.assert_allclose(s[0, 2], 1 / np.sqrt(3), rtol=1e-6)
    assert s[1, 2] == 0
    assert np.allclose(np.diag(s), 0)
    shrunk = ItemKNN(k=5, shrink=1.0).fit(data).similarity_.toarray()
    np.testing.assert_allclose(shrunk[0, 1], 2 / (np.sqrt(6) + 1), rtol=1e-6)
    ids, _ = model.similar_items(0, 2)
    assert data.item_vocab.raws(ids) == ["y", "z"]  # 0.816 > 0.577


def test_k_limits_neighbours() -> None:
    data = toy_interactions([("a", "x"), ("a", "y"), ("a", "z"), ("b", "x"), ("b", "y")])
    model = ItemKNN(k=1, shrink=0.0).fit(data)
    per_item = np.diff(model.similarity_.tocsc().indptr)
    assert (per_item <= 1).all()
