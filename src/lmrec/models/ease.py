"""EASE: a closed-form linear item-item model (Steck, WWW 2019)."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp

from lmrec._types import FloatArray, IntArray
from lmrec.data.interactions import Interactions
from lmrec.models.base import Recommender
from lmrec.search_space import FloatRange, Space

__all__ = ["EASE"]


class EASE(Recommender):
    """Item weights ``B`` minimising ``||X - XB||^2 + reg ||B||^2`` with ``diag(B) = 0``.

    Closed form: ``P = (X^T X + reg I)^-1``, ``B = -P / diag(P)``. Memory is ``n_items^2``
    floats, so it suits catalogs up to a few tens of thousands of items.
    """

    name: ClassVar[str] = "ease"
    uses_history: ClassVar[bool] = True

    def __init__(self, reg: float = 250.0) -> None:
        self.reg = reg

    @staticmethod
    def search_space() -> list[dict[str, Any]]:
        return [{"reg": r} for r in (50.0, 100.0, 200.0, 300.0, 500.0, 800.0, 1200.0)]

    @classmethod
    def tuning_space(cls) -> Space:
        return {"reg": FloatRange(10.0, 5000.0, log=True)}

    def _fit(self, data: Interactions) -> None:
        x = data.matrix
        self._solve((x.T @ x).toarray().astype(np.float64))

    def _solve(self, gram: FloatArray) -> None:
        """The weights from the item-item Gram matrix ``X^T X``."""
        gram[np.diag_indices_from(gram)] += self.reg
        p = np.linalg.inv(gram)
        b = -p / np.diag(p)
        b[np.diag_indices_from(b)] = 0.0
        self.weights_ = b.astype(np.float32)

    def _score(self, users: IntArray, history: sp.csr_matrix) -> FloatArray:
        return np.asarray(history @ self.weights_, dtype=np.float32)

    def item_weights(self, history: IntArray, targets: IntArray) -> FloatArray:
        """What each history item adds to each target's score (the score is their sum)."""
        return self.weights_[np.ix_(history, targets)]

    def _state(self) -> dict[str, np.ndarray]:
        return {"weights": self.weights_}

    def _set_state(self, state: dict[str, np.ndarray]) -> None:
        self.weights_ = state["weights"]
