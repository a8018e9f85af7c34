"""Item-based k-nearest-neighbours with cosine similarity and shrinkage."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp

from lmrec._types import FloatArray, IntArray
from lmrec.data.interactions import Interactions
from lmrec.models.base import Recommender
from lmrec.search_space import FloatRange, IntRange, Space

__all__ = ["ItemKNN"]


def _top_k_per_column(sim: np.ndarray, k: int) -> np.ndarray:
    """A mask of each column's ``k`` largest positive entries, ties at the ``k``-th value
    broken by the lower row (as Spark's ``ORDER BY sim DESC, i`` breaks them), so the
    neighbours kept do not depend on the order a selection algorithm meets equal values in."""
    kth = -np.partition(-sim, k - 1, axis=0)[k - 1]  # (b,): each column's k-th largest value
    keep = sim > np.maximum(kth, 0.0)  # above the k-th, and positive
    tied = sim == kth
    room = k - keep.sum(axis=0)  # places left for the entries equal to the k-th
    n_tied = tied.sum(axis=0)
    positive = kth > 0
    keep |= tied & (positive & (n_tied <= room))[None, :]  # every tie fits
    cols = np.flatnonzero(positive & (n_tied > room))  # the first ties, by row, fill the room
    if len(cols):
        sub = tied[:, cols]
        keep[:, cols] |= sub & (np.cumsum(sub, axis=0) <= room[cols])
    return keep


class ItemKNN(Recommender):
    """Score of item ``j`` for a user = sum of ``sim(i, j)`` over the user's items ``i``, keeping
    for each ``j`` only its ``k`` most similar items.

    ``sim(i, j) = |U_i ∩ U_j| / (|U_i|^alpha |U_j|^(1-alpha) + shrink)``; ``alpha = 0.5`` is the
    cosine. Shrinkage damps similarities resting on few common users.
    """

    name: ClassVar[str] = "itemknn"
    uses_history: ClassVar[bool] = True

    def __init__(
        self, k: int = 20, shrink: float = 10.0, alpha: float = 0.5, block_size: int = 2048
    ) -> None:
        self.k = k
        self.shrink = shrink
        self.alpha = alpha
        self.block_size = block_size

    @staticmethod
    def search_space() -> list[dict[str, Any]]:
        return [
            {"k": k, "shrink": s, "alpha": a}
            for k in (20, 50, 100, 200, 400)
            for s in (0.0, 10.0, 50.0)
            for a in (0.5, 0.7)
        ]

    @classmethod
    def tuning_space(cls) -> Space:
        return {"k": IntRange(10, 500, log=True), "shrink": FloatRange(0.0, 100.0),
                "alpha": FloatRange(0.3, 0.9)}  # fmt: skip

    def _fit(self, data: Interactions) -> None:
        x = data.matrix.tocsc()
        n = data.n_items
        norms = np.asarray(x.sum(axis=0)).ravel().astype(np.float64)
        left = np.power(norms, self.alpha)
        right = np.power(norms, 1.0 - self.alpha)
        k = min(self.k, max(1, n - 1))
        rows, cols, vals = [], [], []
        xt = x.T.tocsr()
        for start in range(0, n, self.block_size):
            stop = min(n, start + self.block_size)
            block = (xt @ x[:, start:stop]).toarray().astype(np.float64)  # (n, b): co-counts
            denom = left[:, None] * right[None, start:stop] + self.shrink
            sim = np.divide(block, denom, out=np.zeros_like(block), where=denom > 0)
            sim[np.arange(start, stop), np.arange(stop - start)] = 0.0
            r, c = np.nonzero(_top_k_per_column(sim, k))
            rows.append(r)
            cols.append(c + start)
            vals.append(sim[r, c])
        self.similarity_ = sp.csr_matrix(
            (np.concatenate(vals).astype(np.float32), (np.concatenate(rows), np.concatenate(cols))),
            shape=(n, n),
        )

    def _score(self, users: IntArray, history: sp.csr_matrix) -> FloatArray:
        return np.asarray((history @ self.similarity_).toarray(), dtype=np.float32)

    def similar_items(self, item: int, n: int = 10) -> tuple[IntArray, FloatArray]:
        """The ``n`` items most similar to ``item`` (by this model's similarity)."""
        col = self.similarity_[:, item].toarray().ravel()
        order = np.argsort(-col, kind="stable")[:n]
        keep = col[order] > 0
        return order[keep].astype(np.int64), col[order][keep].astype(np.float32)

    def item_weights(self, history: IntArray, targets: IntArray) -> FloatArray:
        """What each history item adds to each target's score (the score is their sum)."""
        return np.asarray(self.similarity_[history][:, targets].toarray(), dtype=np.float32)

    def _state(self) -> dict[str, np.ndarray]:
        s = self.similarity_.tocsr()
        return {
            "sim_indptr": s.indptr.astype(np.int64),
            "sim_indices": s.indices.astype(np.int32),
            "sim_data": s.data.astype(np.float32),
        }

    def _set_state(self, state: dict[str, np.ndarray]) -> None:
        self.similarity_ = sp.csr_matrix(
            (state["sim_data"], state["sim_indices"], state["sim_indptr"]),
            shape=(self.n_items_, self.n_items_),
        )
