"""Accuracy metrics of top-K lists, one value per user.

Inputs: ``hits`` (users x K bool; ``hits[u, r]`` is true when the item at rank ``r`` of user
``u``'s list is relevant) and ``n_relevant`` (users; how many relevant items each user has).
Lists are padded with id -1 where a model had fewer than K items; padding is never a hit.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from lmrec._types import Float64Array

__all__ = [
    "average_precision",
    "hit_rate",
    "hits_matrix",
    "ndcg",
    "precision",
    "recall",
    "reciprocal_rank",
]


def hits_matrix(recs: np.ndarray, truth: sp.csr_matrix) -> np.ndarray:
    """``hits[u, r] = truth[u, recs[u, r]] > 0``; ``truth`` has one row per row of ``recs``."""
    n_rows, _k = recs.shape
    truth = sp.csr_matrix(truth, copy=True)
    truth.eliminate_zeros()
    truth.sum_duplicates()
    n_items = truth.shape[1]
    rows = np.repeat(np.arange(truth.shape[0], dtype=np.int64), np.diff(truth.indptr))
    keys = np.sort(rows * n_items + truth.indices.astype(np.int64))
    rec_keys = np.arange(n_rows, dtype=np.int64)[:, None] * n_items + recs.astype(np.int64)
    pos = np.searchsorted(keys, rec_keys)
    pos = np.clip(pos, 0, max(0, len(keys) - 1))
    found = (keys[pos] == rec_keys) if len(keys) else np.zeros_like(rec_keys, dtype=bool)
    return found & (recs >= 0)


def precision(hits: np.ndarray, k: int) -> Float64Array:
    return np.asarray(hits[:, :k].sum(axis=1) / float(k), dtype=np.float64)


def recall(hits: np.ndarray, n_relevant: np.ndarray, k: int) -> Float64Array:
    return hits[:, :k].sum(axis=1) / np.maximum(n_relevant, 1)


def hit_rate(hits: np.ndarray, k: int) -> Float64Array:
    return np.asarray(hits[:, :k].any(axis=1), dtype=np.float64)


def ndcg(hits: np.ndarray, n_relevant: np.ndarray, k: int) -> Float64Array:
    """DCG of the list over the DCG of an ideal list with ``min(n_relevant, k)`` hits on top."""
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    dcg = (hits[:, :k] * discounts[: hits[:, :k].shape[1]]).sum(axis=1)
    ideal_cum = np.concatenate([[0.0], np.cumsum(discounts)])
    idcg = ideal_cum[np.minimum(n_relevant, k)]
    return np.divide(dcg, idcg, out=np.zeros_like(dcg, dtype=np.float64), where=idcg > 0)


def reciprocal_rank(hits: np.ndarray, k: int) -> Float64Array:
    """1 / rank of the first relevant item within the top ``k`` (0 when none)."""
    h = hits[:, :k]
    first = np.argmax(h, axis=1)
    return np.where(h.any(axis=1), 1.0 / (first + 1), 0.0)


def average_precision(hits: np.ndarray, n_relevant: np.ndarray, k: int) -> Float64Array:
    """Sum of precision at each relevant rank, over ``min(n_relevant, k)`` (AP@k)."""
    h = hits[:, :k].astype(np.float64)
    prec_at = np.cumsum(h, axis=1) / np.arange(1, h.shape[1] + 1)
    denom = np.minimum(n_relevant, k).astype(np.float64)
    total = (prec_at * h).sum(axis=1)
    return np.divide(total, denom, out=np.zeros_like(total), where=denom > 0)
