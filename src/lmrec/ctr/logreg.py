"""Logistic regression on one-hot fields, multi-hot categories and dense features."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp

from lmrec._types import FloatArray
from lmrec.ctr.base import CTRModel
from lmrec.ctr.features import FeatureTable

__all__ = ["LogisticCTR", "one_hot"]


def one_hot(x: FeatureTable, cardinalities: list[int]) -> sp.csr_matrix:
    """``[one-hot of every field | multi-hot | dense]`` as one sparse matrix."""
    n = len(x)
    offsets = np.concatenate([[0], np.cumsum(cardinalities)[:-1]]).astype(np.int64)
    cols = (x.cat + offsets[None, :]).ravel()
    rows = np.repeat(np.arange(n), x.cat.shape[1])
    hot = sp.csr_matrix(
        (np.ones(len(cols), dtype=np.float32), (rows, cols)), shape=(n, int(sum(cardinalities)))
    )
    return sp.hstack([hot, x.multi, sp.csr_matrix(x.dense)], format="csr")


class LogisticCTR(CTRModel):
    """L2-regularised logistic regression (scikit-learn, lbfgs); ``c`` is the inverse strength."""

    name: ClassVar[str] = "logreg"

    def __init__(self, c: float = 0.1, max_iter: int = 1000) -> None:
        self.c = c
        self.max_iter = max_iter

    @staticmethod
    def search_space() -> list[dict[str, Any]]:
        return [{"c": c} for c in (0.1, 0.03, 0.3, 1.0)]

    def _fit(
        self, x: FeatureTable, y: np.ndarray, valid: tuple[FeatureTable, np.ndarray] | None
    ) -> None:
        from sklearn.linear_model import LogisticRegression

        clf = LogisticRegression(C=self.c, max_iter=self.max_iter)
        clf.fit(one_hot(x, self.cardinalities_), y)
        self.coef_ = clf.coef_.ravel().astype(np.float64)
        self.intercept_ = float(clf.intercept_[0])

    def _logits(self, x: FeatureTable) -> FloatArray:
        z = one_hot(x, self.cardinalities_) @ self.coef_ + self.intercept_
        return np.asarray(z, dtype=np.float32)

    def _state(self) -> dict[str, np.ndarray]:
        return {"coef": self.coef_, "intercept": np.array([self.intercept_])}

    def _set_state(self, state: dict[str, np.ndarray], folder: Path) -> None:
        self.coef_ = state["coef"]
        self.intercept_ = float(state["intercept"][0])
