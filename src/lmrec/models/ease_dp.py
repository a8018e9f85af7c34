"""EASE with differential privacy: the item-item Gram matrix is released through the Gaussian
mechanism, so the model's weights are (epsilon, delta)-private for each user's interactions."""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp

from lmrec.data.interactions import Interactions
from lmrec.errors import UsageError
from lmrec.models.ease import EASE
from lmrec.privacy import PrivacyBudget, gaussian_sigma
from lmrec.search_space import Space, space_from_grid

__all__ = ["PrivateEASE", "clip_users"]


def clip_users(x: sp.csr_matrix, max_items: int, rng: np.random.Generator) -> sp.csr_matrix:
    """``x`` (binary, users x items) with at most ``max_items`` items per user, the kept ones
    drawn at random: one user's row then changes the Gram matrix by a bounded amount."""
    x = sp.csr_matrix(x)
    rows: list[np.ndarray] = [np.zeros(0, np.int64)]
    cols: list[np.ndarray] = [np.zeros(0, np.int64)]
    for u in range(x.shape[0]):
        items = x.indices[x.indptr[u] : x.indptr[u + 1]]
        if len(items) > max_items:
            items = rng.choice(items, size=max_items, replace=False)
        rows.append(np.full(len(items), u, dtype=np.int64))
        cols.append(items.astype(np.int64))
    r, c = np.concatenate(rows), np.concatenate(cols)
    return sp.csr_matrix((np.ones(len(r), np.float64), (r, c)), shape=x.shape)


class PrivateEASE(EASE):
    """EASE fitted on a noised Gram matrix ``X^T X + Z`` (Gaussian mechanism).

    Each user keeps at most ``max_items`` interactions (drawn at random), so adding or removing
    one user changes the upper triangle of ``X^T X`` by at most
    ``sqrt(max_items (max_items + 1) / 2)`` in L2; symmetric noise of the scale
    :func:`lmrec.privacy.gaussian_sigma` gives for ``epsilon`` and ``delta`` makes the Gram
    matrix, and so the weights computed from it, (epsilon, delta)-differentially private. The
    budget is saved with the model (``privacy`` in its config) and shown in the report.

    What follows the noise is post-processing, which costs no privacy: entries below
    ``floor`` noise scales are set to zero (most co-occurrences are smaller than the noise),
    and the matrix is replaced by its ``rank`` leading eigen-components (the noise spreads
    over every direction, the co-occurrence signal over a few); ``rank = 0`` keeps them all.

    The guarantee covers the weights. It does not cover what else an artifacts folder keeps
    (the training interactions, used to leave out what a user has seen), nor hyper-parameters
    chosen by tuning on the same data.
    """

    name: ClassVar[str] = "ease-dp"

    def __init__(
        self,
        reg: float = 4000.0,
        epsilon: float = 8.0,
        delta: float = 1e-6,
        max_items: int = 50,
        floor: float = 1.0,
        rank: int = 128,
        seed: int = 0,
    ) -> None:
        super().__init__(reg=reg)
        self.epsilon = epsilon
        self.delta = delta
        self.max_items = max_items
        self.floor = floor
        self.rank = rank
        self.seed = seed

    @staticmethod
    def search_space() -> list[dict[str, Any]]:
        return [{"reg": r, "rank": k} for r in (1000.0, 4000.0, 16000.0) for k in (64, 128, 256)]

    @classmethod
    def tuning_space(cls) -> Space:
        """The grid's values as choices: the penalty stays absolute here, since it must
        outweigh the noise, whose scale does not follow the counts."""
        return space_from_grid(cls.search_space())

    def _fit(self, data: Interactions) -> None:
        if self.max_items < 1:
            raise UsageError(f"ease-dp: max_items must be at least 1, not {self.max_items}")
        sensitivity = math.sqrt(self.max_items * (self.max_items + 1) / 2.0)
        sigma = gaussian_sigma(self.epsilon, self.delta, sensitivity)
        rng = np.random.default_rng(self.seed)
        x = clip_users(data.matrix, self.max_items, rng)
        gram = (x.T @ x).toarray()
        noise = np.triu(rng.normal(0.0, sigma, size=gram.shape))
        gram += noise + np.triu(noise, 1).T  # one draw per entry of the upper triangle
        counts = np.maximum(np.diag(gram), 0.0)
        gram[gram < self.floor * sigma] = 0.0
        gram[np.diag_indices_from(gram)] = counts
        if 0 < self.rank < gram.shape[0]:
            values, vectors = np.linalg.eigh(gram)
            top = np.argsort(values)[::-1][: self.rank]
            gram = (vectors[:, top] * values[top]) @ vectors[:, top].T
        self.budget_ = PrivacyBudget(
            epsilon=self.epsilon, delta=self.delta, mechanism="gaussian", sigma=sigma,
            sensitivity=sensitivity,
            unit=f"one user's interactions (at most {self.max_items} kept per user)",
            covers="the item-item Gram matrix and the weights computed from it",
        )  # fmt: skip
        self._solve(gram, self._penalty(gram))

    def _fitted_config(self) -> dict[str, Any]:
        return {**super()._fitted_config(), "privacy": self.budget_.to_dict()}

    @property
    def privacy(self) -> dict[str, Any]:
        """The (epsilon, delta) guarantee of the fitted (or loaded) weights."""
        if hasattr(self, "budget_"):
            return self.budget_.to_dict()
        return dict(getattr(self, "fitted_config_", {}).get("privacy", {}))
