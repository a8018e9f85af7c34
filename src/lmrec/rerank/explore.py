"""Exploration: Thompson sampling on items' observed click rates."""

from __future__ import annotations

import threading

import numpy as np

from lmrec._types import Float64Array, IntArray

__all__ = ["ThompsonExplorer"]


class ThompsonExplorer:
    """A Beta(prior_clicks + clicks, prior_misses + shows - clicks) posterior per item.

    ``sample`` draws one click rate per candidate; items rarely shown have wide posteriors and
    get their chance, items that are shown and not clicked sink. Safe to update from several
    threads.
    """

    def __init__(self, n_items: int, prior_clicks: float = 1.0, prior_misses: float = 1.0) -> None:
        self.shows = np.zeros(n_items, dtype=np.float64)
        self.clicks = np.zeros(n_items, dtype=np.float64)
        self.prior = (prior_clicks, prior_misses)
        self._lock = threading.Lock()

    def _grow(self, n: int) -> None:
        if n > len(self.shows):
            self.shows = np.pad(self.shows, (0, n - len(self.shows)))
            self.clicks = np.pad(self.clicks, (0, n - len(self.clicks)))

    def shown(self, items: IntArray) -> None:
        items = np.asarray(items, dtype=np.int64)
        items = items[items >= 0]
        with self._lock:
            if len(items):
                self._grow(int(items.max()) + 1)
            np.add.at(self.shows, items, 1.0)

    def clicked(self, items: IntArray) -> None:
        items = np.asarray(items, dtype=np.int64)
        items = items[items >= 0]
        with self._lock:
            if len(items):
                self._grow(int(items.max()) + 1)
            np.add.at(self.clicks, items, 1.0)

    def rates(self, items: IntArray) -> Float64Array:
        """Posterior mean click rate of ``items``."""
        a, b = self._posterior(np.asarray(items, dtype=np.int64))
        return a / (a + b)

    def sample(self, items: IntArray, rng: np.random.Generator) -> Float64Array:
        a, b = self._posterior(np.asarray(items, dtype=np.int64))
        return rng.beta(a, b)

    def _posterior(self, items: IntArray) -> tuple[Float64Array, Float64Array]:
        self._grow(int(items.max()) + 1 if len(items) else 0)
        clicks = self.clicks[items]
        misses = np.maximum(self.shows[items] - clicks, 0.0)
        return self.prior[0] + clicks, self.prior[1] + misses
