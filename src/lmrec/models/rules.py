"""Association rules ``a -> b`` over baskets (or users' histories): support, confidence, lift."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

import numpy as np
import polars as pl
import scipy.sparse as sp

from lmrec._types import FloatArray, IntArray
from lmrec.data.interactions import Interactions
from lmrec.data.vocab import Vocabulary
from lmrec.errors import UsageError
from lmrec.models.base import Recommender

__all__ = ["AssociationRules"]


class AssociationRules(Recommender):
    """Pairwise association rules, the market-basket classic.

    Every user row of the training data is a transaction (a basket, or a user's whole history).
    For items ``a`` and ``b``: support = share of transactions holding both, confidence =
    P(b | a) = n(a, b) / (n(a) + ``shrinkage``), lift = confidence / P(b). A rule is kept when
    both items occur together in at least ``min_count`` transactions and its confidence is at
    least ``min_confidence``. A cart scores item ``b`` by the confidences of the rules from the
    cart's items to ``b``, summed (``aggregate="sum"``) or the strongest one (``"max"``, which
    makes every score the confidence of one rule that explains it).
    """

    name: ClassVar[str] = "rules"
    uses_history: ClassVar[bool] = True

    def __init__(
        self,
        min_count: int = 2,
        min_confidence: float = 0.0,
        shrinkage: float = 0.0,
        aggregate: Literal["sum", "max"] = "sum",
    ) -> None:
        self.min_count = min_count
        self.min_confidence = min_confidence
        self.shrinkage = shrinkage
        self.aggregate = aggregate

    @staticmethod
    def search_space() -> list[dict[str, Any]]:
        return [{"aggregate": a, "shrinkage": s} for a in ("sum", "max") for s in (0.0, 10.0, 50.0)]

    def _fit(self, data: Interactions) -> None:
        if self.aggregate not in ("sum", "max"):
            raise UsageError(f"rules: aggregate must be 'sum' or 'max', not {self.aggregate!r}")
        x = data.matrix.astype(np.float32)
        x.data[:] = 1.0
        co = sp.csr_matrix(x.T @ x)
        co.setdiag(0)
        co.eliminate_zeros()
        counts = np.asarray(x.sum(axis=0)).ravel()
        coo = co.tocoo()
        conf = coo.data / (counts[coo.row] + self.shrinkage)
        keep = (coo.data >= self.min_count) & (conf >= self.min_confidence)
        self.confidence_ = sp.csr_matrix(
            (conf[keep].astype(np.float32), (coo.row[keep], coo.col[keep])), shape=co.shape
        )
        self.pair_counts_ = sp.csr_matrix(
            (coo.data[keep].astype(np.float32), (coo.row[keep], coo.col[keep])), shape=co.shape
        )
        self.item_support_ = (counts / max(1, x.shape[0])).astype(np.float32)
        self.n_transactions_ = int(x.shape[0])

    def _score(self, users: IntArray, history: sp.csr_matrix) -> FloatArray:
        if self.aggregate == "sum":
            return np.asarray((history @ self.confidence_).toarray(), dtype=np.float32)
        out = np.zeros((history.shape[0], self.n_items_), dtype=np.float32)
        for row in range(history.shape[0]):
            items = history.indices[history.indptr[row] : history.indptr[row + 1]]
            if len(items):
                out[row] = self.confidence_[items].max(axis=0).toarray().ravel()
        return out

    def strongest_rule(self, cart: IntArray, item: int) -> tuple[int, float] | None:
        """The cart item whose rule to ``item`` has the highest confidence, and that confidence."""
        cart = np.asarray(cart, dtype=np.int64)
        if len(cart) == 0:
            return None
        conf = self.confidence_[cart][:, [item]].toarray().ravel()
        best = int(np.argmax(conf))
        return (int(cart[best]), float(conf[best])) if conf[best] > 0 else None

    def rules(self, vocab: Vocabulary | None = None, *, min_lift: float = 0.0) -> pl.DataFrame:
        """All kept rules with support, confidence and lift, strongest (by lift) first."""
        c = self.confidence_.tocoo()
        n = self.pair_counts_.tocoo()
        lift = c.data / np.maximum(self.item_support_[c.col], 1e-12)
        frame = pl.DataFrame(
            {
                "antecedent": c.row.astype(np.int64),
                "consequent": c.col.astype(np.int64),
                "support": n.data / max(1, self.n_transactions_),
                "confidence": c.data.astype(np.float64),
                "lift": lift.astype(np.float64),
            }
        ).filter(pl.col("lift") >= min_lift)
        if vocab is not None:
            frame = frame.with_columns(
                pl.Series("antecedent", vocab.raws(frame["antecedent"].to_numpy())),
                pl.Series("consequent", vocab.raws(frame["consequent"].to_numpy())),
            )
        return frame.sort(["lift", "confidence"], descending=True)

    def _state(self) -> dict[str, np.ndarray]:
        c, n = self.confidence_.tocsr(), self.pair_counts_.tocsr()
        return {
            "conf_indptr": c.indptr.astype(np.int64),
            "conf_indices": c.indices.astype(np.int32),
            "conf_data": c.data.astype(np.float32),
            "pair_counts": n.data.astype(np.float32),
            "item_support": self.item_support_,
            "n_transactions": np.array([self.n_transactions_], dtype=np.int64),
        }

    def _set_state(self, state: dict[str, np.ndarray]) -> None:
        shape = (self.n_items_, self.n_items_)
        parts = (state["conf_indices"], state["conf_indptr"])
        self.confidence_ = sp.csr_matrix((state["conf_data"], *parts), shape=shape)
        self.pair_counts_ = sp.csr_matrix((state["pair_counts"], *parts), shape=shape)
        self.item_support_ = state["item_support"]
        self.n_transactions_ = int(state["n_transactions"][0])
