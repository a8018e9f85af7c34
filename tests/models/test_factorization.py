from __future__ import annotations

import numpy as np

from lmrec.models.factorization import ALS, BPR
from lmrec.testing import RecommenderContract, checkerboard


class TestALS(RecommenderContract):
    expected_ndcg = 0.138  # 80% of the 0.1727 measured

    def model_factory(self) -> ALS:
        return ALS(embedding_size=4, reg=1.0, epochs=10)  # more factors memorise the toy


class TestBPR(RecommenderContract):
    expected_ndcg = 0.182  # 80% of the 0.2278 measured

    def model_factory(self) -> BPR:
        return BPR(embedding_size=16, learning_rate=0.05, epochs=100)


def test_als_is_deterministic_given_seed() -> None:
    data = checkerboard()
    a = ALS(embedding_size=8, epochs=5, random_state=3).fit(data)
    b = ALS(embedding_size=8, epochs=5, random_state=3).fit(data)
    np.testing.assert_allclose(a.item_factors_, b.item_factors_, rtol=1e-5)


def test_bpr_is_deterministic_given_seed() -> None:
    data = checkerboard()
    a = BPR(embedding_size=8, epochs=20, random_state=3).fit(data)
    b = BPR(embedding_size=8, epochs=20, random_state=3).fit(data)
    np.testing.assert_allclose(a.item_factors_, b.item_factors_, rtol=1e-5)


def test_similar_items_excludes_itself() -> None:
    model = ALS(embedding_size=8, epochs=5).fit(checkerboard())
    ids, sims = model.similar_items(2, 5)
    assert 2 not in ids
    assert (np.diff(sims) <= 1e-6).all()
