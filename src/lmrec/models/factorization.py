"""Matrix factorisation through the ``implicit`` library: ALS and BPR.

No ``implicit`` object leaves this module: the factors are copied to NumPy after fitting.
"""

from __future__ import annotations

import contextlib
import time
from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from lmrec._types import FloatArray, IntArray
from lmrec.data.interactions import Interactions
from lmrec.errors import UsageError
from lmrec.models.base import Recommender
from lmrec.search_space import Choice, FloatRange, Space

__all__ = ["ALS", "BPR"]


class _Factorization(Recommender):
    """Scores are dot products of user and item factors."""

    user_factors_: np.ndarray
    item_factors_: np.ndarray

    def _score(self, users: IntArray, history: sp.csr_matrix) -> FloatArray:
        return np.asarray(self.user_factors_[users] @ self.item_factors_.T, dtype=np.float32)

    def similar_items(self, item: int, n: int = 10) -> tuple[IntArray, FloatArray]:
        """Items whose factors are closest (cosine) to ``item``'s."""
        f = self.item_factors_
        norms = np.linalg.norm(f, axis=1) + 1e-12
        sims = (f @ f[item]) / (norms * norms[item])
        sims[item] = -np.inf
        order = np.argsort(-sims, kind="stable")[:n]
        return order.astype(np.int64), sims[order].astype(np.float32)

    def _state(self) -> dict[str, np.ndarray]:
        return {"user_factors": self.user_factors_, "item_factors": self.item_factors_}

    def fit_summary(self) -> dict[str, Any]:
        """The epochs trained (fewer than ``epochs`` when ``time_budget_s`` ended the fit)."""
        self._check_fitted()
        return self._fitted_config()

    def _fitted_config(self) -> dict[str, Any]:
        trained = getattr(self, "epochs_trained_", None)
        return {} if trained is None else {"epochs_trained": trained}

    def _set_state(self, state: dict[str, np.ndarray]) -> None:
        self.user_factors_ = state["user_factors"]
        self.item_factors_ = state["item_factors"]


class _BudgetSpent(Exception):
    """Raised from ``implicit``'s epoch callback to end training once the budget is spent."""


def _fit_within(model: Any, matrix: sp.csr_matrix, budget_s: float | None) -> int:
    """``model.fit(matrix)`` (an ``implicit`` model), ended after the first epoch that takes
    the training past ``budget_s`` seconds; the epochs trained. The factors are updated in
    place each epoch, so a model stopped this way holds the last finished epoch's factors."""
    start = time.perf_counter()
    epochs = [0]

    def after_epoch(epoch: int, *_: Any) -> None:
        epochs[0] = epoch + 1
        if budget_s is not None and time.perf_counter() - start >= budget_s:
            raise _BudgetSpent

    with contextlib.suppress(_BudgetSpent):
        model.fit(matrix, show_progress=False, callback=after_epoch)
    return epochs[0]


def _check_budget(budget_s: float | None) -> None:
    if budget_s is not None and not budget_s > 0:
        raise UsageError(f"time_budget_s must be a positive number of seconds, not {budget_s}")


def _to_numpy(array: Any) -> np.ndarray:
    return np.asarray(array.to_numpy() if hasattr(array, "to_numpy") else array, dtype=np.float32)


class ALS(_Factorization):
    """Implicit-feedback ALS (Hu, Koren & Volinsky 2008); confidence ``1 + alpha * r``.

    ``time_budget_s``: training ends after the first epoch that reaches it (``epochs_trained_``
    says how many ran)."""

    name: ClassVar[str] = "als"

    def __init__(
        self,
        embedding_size: int = 64,
        reg: float = 0.05,
        alpha: float = 1.0,
        epochs: int = 15,
        random_state: int = 0,
        num_threads: int = 0,
        time_budget_s: float | None = None,
    ) -> None:
        self.embedding_size = embedding_size
        self.reg = reg
        self.alpha = alpha
        self.epochs = epochs
        self.random_state = random_state
        self.num_threads = num_threads
        self.time_budget_s = time_budget_s

    @staticmethod
    def search_space() -> list[dict[str, Any]]:
        return [
            {"embedding_size": f, "reg": r, "alpha": a, "epochs": 15}
            for f in (32, 64, 128)
            for r in (0.01, 0.1, 1.0, 10.0)
            for a in (0.5, 1.0, 2.0, 5.0)
        ]

    @classmethod
    def tuning_space(cls) -> Space:
        return {"embedding_size": Choice((32, 64, 128)), "reg": FloatRange(0.003, 30.0, log=True),
                "alpha": FloatRange(0.2, 10.0, log=True), "epochs": 15}  # fmt: skip

    def _fit(self, data: Interactions) -> None:
        from implicit.cpu.als import AlternatingLeastSquares

        _check_budget(self.time_budget_s)
        with threadpool_limits(1, "blas"):
            model = AlternatingLeastSquares(
                factors=self.embedding_size,
                regularization=self.reg,
                alpha=self.alpha,
                iterations=self.epochs,
                random_state=self.random_state,
                num_threads=self.num_threads,
            )
            self.epochs_trained_ = _fit_within(model, data.matrix, self.time_budget_s)
        self.user_factors_ = _to_numpy(model.user_factors)
        self.item_factors_ = _to_numpy(model.item_factors)


class BPR(_Factorization):
    """Bayesian Personalised Ranking (Rendle et al. 2009) with SGD, through ``implicit``.

    ``num_threads=1`` by default: with more threads the updates race (Hogwild) and two runs with
    the same ``random_state`` differ. ``time_budget_s`` as for :class:`ALS`.
    """

    name: ClassVar[str] = "bpr"

    def __init__(
        self,
        embedding_size: int = 64,
        learning_rate: float = 0.01,
        reg: float = 0.01,
        epochs: int = 100,
        random_state: int = 0,
        num_threads: int = 1,
        time_budget_s: float | None = None,
    ) -> None:
        self.embedding_size = embedding_size
        self.learning_rate = learning_rate
        self.reg = reg
        self.epochs = epochs
        self.random_state = random_state
        self.num_threads = num_threads
        self.time_budget_s = time_budget_s

    @staticmethod
    def search_space() -> list[dict[str, Any]]:
        # Around what worked on MovieLens 100K; more epochs or a higher rate overfit there.
        return [
            {"embedding_size": f, "learning_rate": lr, "reg": r, "epochs": e}
            for f in (64, 128)
            for lr in (0.005, 0.01)
            for r in (0.001, 0.01)
            for e in (50, 100)
        ]

    def _fit(self, data: Interactions) -> None:
        from implicit.cpu.bpr import BayesianPersonalizedRanking

        _check_budget(self.time_budget_s)
        with threadpool_limits(1, "blas"):
            model = BayesianPersonalizedRanking(
                factors=self.embedding_size,
                learning_rate=self.learning_rate,
                regularization=self.reg,
                iterations=self.epochs,
                random_state=self.random_state,
                num_threads=self.num_threads,
            )
            self.epochs_trained_ = _fit_within(model, data.matrix, self.time_budget_s)
        self.user_factors_ = _to_numpy(model.user_factors)
        self.item_factors_ = _to_numpy(model.item_factors)
