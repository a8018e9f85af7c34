"""EASE: a closed-form linear item-item model (Steck, WWW 2019)."""

from __future__ import annotations

import logging
import math
import os
import time
from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp

from lmrec._types import FloatArray, IntArray
from lmrec.data.interactions import Interactions
from lmrec.errors import UsageError
from lmrec.models.base import Recommender
from lmrec.search_space import FloatRange, Space

__all__ = ["EASE", "items_within"]

log = logging.getLogger(__name__)

#: bytes of memory per item-item entry while solving (the Gram matrix, its inverse and the
#: weights in float64, the weights again in float32)
_BYTES_PER_ENTRY = 28
#: the side of the matrix whose inversion is timed to estimate a larger one's cost (BLAS is
#: faster per entry on larger matrices, so the estimate errs long)
_PROBE = 1024
#: the solve's work in inversions of the same size: one, and the Gram product and scaling
_SOLVE_INVERSIONS = 1.5


def _available_bytes() -> int | None:
    """Memory the system can still give (Linux's MemAvailable), None where unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def _seconds_per_cubed_item() -> float:
    """Seconds of one ``_PROBE``-sided inversion divided by ``_PROBE ** 3`` (best of three)."""
    rng = np.random.default_rng(0)
    a = rng.random((_PROBE, _PROBE))
    a = a @ a.T + _PROBE * np.eye(_PROBE)
    best = math.inf
    for _ in range(3):
        start = time.perf_counter()
        np.linalg.inv(a)
        best = min(best, time.perf_counter() - start)
    return best / _PROBE**3


def items_within(n_items: int, top_items: int | None, time_budget_s: float | None) -> int:
    """How many items EASE can solve for: at most ``top_items``, those whose solve fits in
    half the memory available now, and, with a budget, those whose solve (an inversion, the
    Gram product and the scaling) is estimated, from a small timed inversion, to take at most
    ``time_budget_s`` seconds."""
    keep = n_items if top_items is None else min(n_items, top_items)
    free = _available_bytes()
    if free is not None:
        keep = min(keep, max(1, int(math.sqrt(free / 2 / _BYTES_PER_ENTRY))))
    if time_budget_s is not None:
        per_cube = _seconds_per_cubed_item()
        keep = min(keep, max(1, int((time_budget_s / (_SOLVE_INVERSIONS * per_cube)) ** (1 / 3))))
    return keep


def _check_penalty(key: str, value: float | None, *, none_ok: bool) -> None:
    if value is None and none_ok:
        return
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < math.inf:
        raise UsageError(f"ease: {key} must be a positive finite number, not {value!r}")


class EASE(Recommender):
    """Item weights ``B`` minimising ``||X - XB||^2 + reg ||B||^2`` with ``diag(B) = 0``.

    Closed form: ``P = (X^T X + reg I)^-1``, ``B = -P / diag(P)``. Memory is ``n_items^2``
    floats and time ``n_items^3``, so on a large catalog the weights are learned among the
    most popular items only: at most ``top_items``, as many as half the available memory
    holds, and, with ``time_budget_s``, as many as that budget solves (:func:`items_within`).
    The other items are ranked after them by popularity, and add nothing to a score as history.

    ``reg`` is the ridge penalty; left None it is ``reg_per_count`` times the mean diagonal
    of ``X^T X`` (the items' mean number of users, over the items solved for). The penalty
    is measured against that diagonal, so the solution of the data with every user repeated
    ``t`` times is that of the data itself at ``t`` times the penalty: a penalty relative
    to the counts carries from one dataset to another, an absolute one does not.
    """

    name: ClassVar[str] = "ease"
    uses_history: ClassVar[bool] = True

    def __init__(
        self,
        reg: float | None = None,
        reg_per_count: float = 2.0,
        top_items: int | None = None,
        time_budget_s: float | None = None,
    ) -> None:
        self.reg = reg
        self.reg_per_count = reg_per_count
        self.top_items = top_items
        self.time_budget_s = time_budget_s

    @staticmethod
    def search_space() -> list[dict[str, Any]]:
        return [{"reg": r} for r in (50.0, 100.0, 200.0, 300.0, 500.0, 800.0, 1200.0)]

    @classmethod
    def tuning_space(cls) -> Space:
        return {"reg_per_count": FloatRange(0.1, 50.0, log=True)}

    def _fit(self, data: Interactions) -> None:
        _check_penalty("reg", self.reg, none_ok=True)
        _check_penalty("reg_per_count", self.reg_per_count, none_ok=False)
        if self.top_items is not None and self.top_items < 1:
            raise UsageError(f"ease: top_items must be at least 1, not {self.top_items}")
        if self.time_budget_s is not None and not self.time_budget_s > 0:
            raise UsageError(
                f"ease: time_budget_s must be a positive number of seconds, not {self.time_budget_s}"
            )
        x = data.matrix
        keep = items_within(data.n_items, self.top_items, self.time_budget_s)
        kept = None
        if keep < data.n_items:
            kept = np.sort(np.argsort(-data.item_counts, kind="stable")[:keep])
            log.info("ease: weights among the %d most popular of %d items", keep, data.n_items)
            x = x[:, kept]
        gram = (x.T @ x).toarray().astype(np.float64)
        self._solve(gram, self._penalty(gram), kept)

    def _penalty(self, gram: FloatArray) -> float:
        """``reg``, or ``reg_per_count`` times the mean of ``gram``'s diagonal (at least a
        tiny positive number, so an empty matrix still inverts)."""
        if self.reg is not None:
            return float(self.reg)
        diagonal = np.diag(gram)
        mean = float(diagonal.mean()) if diagonal.size else 0.0
        return max(float(self.reg_per_count) * mean, 1e-6)

    def _solve(self, gram: FloatArray, reg: float, kept: IntArray | None = None) -> None:
        """The weights from the item-item Gram matrix ``X^T X`` of the ``kept`` items (all
        items when None) under the ridge penalty ``reg``."""
        self.reg_ = reg
        gram[np.diag_indices_from(gram)] += reg
        p = np.linalg.inv(gram)
        b = -p / np.diag(p)
        b[np.diag_indices_from(b)] = 0.0
        self.weights_ = b.astype(np.float32)
        self._set_kept(kept)

    def _set_kept(self, kept: IntArray | None) -> None:
        self.kept_ = None if kept is None else np.asarray(kept, dtype=np.int64)
        if self.kept_ is not None:
            self.position_ = np.full(self.n_items_, -1, dtype=np.int64)
            self.position_[self.kept_] = np.arange(len(self.kept_))

    def fit_summary(self) -> dict[str, Any]:
        """How many items the weights were learned among (all of them unless capped) and the
        penalty they were solved under."""
        self._check_fitted()
        reg = getattr(self, "reg_", None)
        if reg is None:  # a loaded model: the penalty saved with it
            reg = getattr(self, "fitted_config_", {}).get("reg")
        return {"items_kept": self.n_items_ if self.kept_ is None else len(self.kept_),
                "reg": None if reg is None else round(float(reg), 4)}  # fmt: skip

    def _fitted_config(self) -> dict[str, Any]:
        return {**super()._fitted_config(), "reg": self.reg_}

    def _score(self, users: IntArray, history: sp.csr_matrix) -> FloatArray:
        if self.kept_ is None:
            return np.asarray(history @ self.weights_, dtype=np.float32)
        kept_scores = np.asarray(history[:, self.kept_] @ self.weights_, dtype=np.float32)
        # the other items rank after every kept one, by popularity
        floor = kept_scores.min(axis=1, keepdims=True) - 1.0
        scores = np.broadcast_to(floor + self.popularity_, (len(users), self.n_items_)).copy()
        scores[:, self.kept_] = kept_scores
        return scores

    def item_weights(self, history: IntArray, targets: IntArray) -> FloatArray:
        """What each history item adds to each target's score (the score is their sum)."""
        if self.kept_ is None:
            return self.weights_[np.ix_(history, targets)]
        rows, cols = self.position_[history], self.position_[targets]
        out = np.zeros((len(history), len(targets)), dtype=np.float32)
        r, c = rows >= 0, cols >= 0
        out[np.ix_(r, c)] = self.weights_[np.ix_(rows[r], cols[c])]
        return out

    def _state(self) -> dict[str, np.ndarray]:
        state: dict[str, np.ndarray] = {"weights": self.weights_}
        if self.kept_ is not None:
            state["kept"] = self.kept_
        return state

    def _set_state(self, state: dict[str, np.ndarray]) -> None:
        self.weights_ = state["weights"]
        self._set_kept(state.get("kept"))
