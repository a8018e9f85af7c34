from __future__ import annotations

import numpy as np

from lmrec.models.ease import EASE
from lmrec.testing import RecommenderContract, toy_interactions


class TestEASE(RecommenderContract):
    expected_ndcg = 0.229  # 80% of the 0.2867 measured

    def model_factory(self) -> EASE:
        return EASE(reg=5.0)


def test_closed_form_matches_definition() -> None:
    data = toy_interactions([("a", "x"), ("a", "y"), ("b", "x"), ("b", "z"), ("c", "y")])
    reg = 2.0
    model = EASE(reg=reg).fit(data)
    x = data.matrix.toarray().astype(np.float64)
    p = np.linalg.inv(x.T @ x + reg * np.eye(3))
    expected = np.eye(3) - p / np.diag(p)
    np.testing.assert_allclose(model.weights_, expected, atol=1e-6)
    assert np.allclose(np.diag(model.weights_), 0)
