"""Exploration that records its propensities, and the self-normalised inverse propensity
estimate (SNIPS) of another ranker's CTR from what was logged.

A list served with exploration rate ``epsilon`` over a pool of the ``M`` best items is, with
probability ``1 - epsilon``, the ranker's top ``k``; otherwise ``k`` items drawn uniformly from
the pool (kept in the ranker's order). Each shown item's propensity is the probability that it
is in the list at all: ``(1 - epsilon) [item in the top k] + epsilon k / M``.

The estimate treats a click as depending on the user and the item (not its position): the
CTR a candidate ranker would get is ``sum(w * click) / sum(w)`` over logged shown items, with
``w = [item in the candidate's top k] / propensity``. Items of the candidate's lists outside
the logging pool have no propensity: the estimate covers only ``support`` of them.
"""

from __future__ import annotations

import numpy as np

from lmrec.experiments.stats import Estimate, ratio

__all__ = ["explore", "propensities", "snips"]


def propensities(m: int, k: int, epsilon: float) -> np.ndarray:
    """The inclusion probability of each of the pool's ``m`` ranked positions."""
    if m <= k:
        return np.ones(m)
    p = np.full(m, epsilon * k / m)
    p[:k] += 1.0 - epsilon
    return p


def explore(
    m: int, k: int, epsilon: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, bool]:
    """Which of a ranked pool of ``m`` items to show (positions into the pool, in order), their
    propensities, and whether this list explored."""
    prop = propensities(m, k, epsilon)
    if m > k and rng.random() < epsilon:
        chosen = np.sort(rng.choice(m, size=k, replace=False))
        return chosen, prop[chosen], True
    chosen = np.arange(min(m, k))
    return chosen, prop[chosen], False


def snips(clicks: np.ndarray, weights: np.ndarray, users: np.ndarray) -> tuple[Estimate, float]:
    """The SNIPS estimate over logged shown items (one entry each: click 0/1, importance
    weight, user), with its delta-method interval over users, and the effective sample size
    ``sum(w)^2 / sum(w^2)``."""
    c = np.asarray(clicks, dtype=np.float64)
    w = np.asarray(weights, dtype=np.float64)
    u = np.asarray(users)
    _, group = np.unique(u, return_inverse=True)
    n = int(group.max()) + 1 if len(group) else 0
    num = np.bincount(group, weights=w * c, minlength=n)
    den = np.bincount(group, weights=w, minlength=n)
    ess = float(w.sum() ** 2 / (w**2).sum()) if (w**2).sum() > 0 else 0.0
    return ratio(num, den), ess
