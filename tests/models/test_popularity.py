from __future__ import annotations

import numpy as np

from lmrec.models.popularity import Popularity
from lmrec.testing import RecommenderContract, toy_interactions


class TestPopularity(RecommenderContract):
    expected_ndcg = 0.05  # 80% of the 0.0634 measured
    solves_checkerboard = False

    def model_factory(self) -> Popularity:
        return Popularity()


class TestDecayedPopularity(RecommenderContract):
    expected_ndcg = 0.046  # 80% of the 0.0582 measured
    solves_checkerboard = False

    def model_factory(self) -> Popularity:
        return Popularity(half_life_days=30.0)


def test_counts_rank_items() -> None:
    data = toy_interactions(
        [("a", "x"), ("b", "x"), ("c", "x"), ("a", "y"), ("b", "y"), ("c", "z")]
    )
    model = Popularity().fit(data)
    ids, _scores = model.recommend(-1, 3)
    assert data.item_vocab.raws(ids) == ["x", "y", "z"]
    np.testing.assert_allclose(model.item_scores_, [3, 2, 1])


def test_decay_prefers_recent_items() -> None:
    # "old" was popular long ago (two users), "new" recently (one user); timestamps are the
    # positions here and time_is_order makes the unit one step.
    data = toy_interactions([("a", "old"), ("b", "old"), ("c", "new")])
    data = type(data)(data.frame, data.user_vocab, data.item_vocab, data.items, data.users, True)
    plain = Popularity().fit(data)
    decayed = Popularity(half_life_days=0.5).fit(data)
    assert data.item_vocab.raws(plain.recommend(-1, 1)[0]) == ["old"]
    assert data.item_vocab.raws(decayed.recommend(-1, 1)[0]) == ["new"]
    # weights: old = 0.5**(2/0.5) + 0.5**(1/0.5) = 0.0625 + 0.25; new = 1
    np.testing.assert_allclose(decayed.item_scores_, [0.3125, 1.0])
