"""Beyond-accuracy metrics of top-K lists: coverage, novelty, diversity, popularity bias,
personalization.

``recs`` is users x K item indices, -1 for padding. Per-user metrics return an array; catalog-
level ones a float.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from lmrec._types import Float64Array

__all__ = [
    "average_popularity",
    "category_matrix",
    "coverage",
    "gini",
    "intra_list_diversity",
    "novelty",
    "personalization",
]


def coverage(recs: np.ndarray, n_items: int) -> float:
    """Share of the catalog that appears in at least one list."""
    valid = recs[recs >= 0]
    return float(len(np.unique(valid)) / n_items) if n_items else 0.0


def novelty(recs: np.ndarray, item_counts: np.ndarray, n_users: int) -> Float64Array:
    """Mean self-information ``-log2(p_i)`` of each list's items, where ``p_i`` is the share of
    training users who interacted with item ``i`` (an item nobody had counts as one user)."""
    p = np.maximum(item_counts, 1.0) / max(1, n_users)
    info = -np.log2(np.minimum(p, 1.0))
    valid = recs >= 0
    vals = np.where(valid, info[np.where(valid, recs, 0)], 0.0)
    n = valid.sum(axis=1)
    return np.divide(vals.sum(axis=1), n, out=np.zeros(len(recs)), where=n > 0)


def average_popularity(recs: np.ndarray, item_counts: np.ndarray) -> Float64Array:
    """Mean training popularity (number of users) of each list's items (ARP)."""
    valid = recs >= 0
    vals = np.where(valid, item_counts[np.where(valid, recs, 0)], 0.0)
    n = valid.sum(axis=1)
    return np.divide(vals.sum(axis=1), n, out=np.zeros(len(recs)), where=n > 0)


def gini(recs: np.ndarray, n_items: int) -> float:
    """Gini index of how often each catalog item is recommended (0 = even, 1 = one item only)."""
    counts = np.sort(np.bincount(recs[recs >= 0], minlength=n_items).astype(np.float64))
    total = counts.sum()
    if total == 0 or n_items < 2:
        return 0.0
    idx = np.arange(1, n_items + 1)
    return float(((2 * idx - n_items - 1) * counts).sum() / (n_items * total))


def category_matrix(categories: list[list[str]]) -> sp.csr_matrix:
    """Items x categories binary matrix from each item's category names."""
    names = sorted({c for cats in categories for c in cats})
    index = {c: j for j, c in enumerate(names)}
    rows = [i for i, cats in enumerate(categories) for _ in cats]
    cols = [index[c] for cats in categories for c in cats]
    return sp.csr_matrix(
        (np.ones(len(rows), dtype=np.float64), (rows, cols)),
        shape=(len(categories), max(1, len(names))),
    )


def intra_list_diversity(
    recs: np.ndarray, features: sp.csr_matrix | np.ndarray, *, kind: str = "jaccard"
) -> Float64Array:
    """Mean pairwise distance between the items of each list.

    ``kind="jaccard"``: ``features`` is items x categories (binary); distance = 1 - Jaccard
    (two items without categories are at distance 0). ``kind="cosine"``: ``features`` is items x
    dims embeddings; distance = 1 - cosine similarity. Lists with fewer than 2 items give 0.
    """
    out = np.zeros(len(recs))
    dense = features.toarray() if sp.issparse(features) else np.asarray(features, dtype=np.float64)
    if kind == "cosine":
        norms = np.linalg.norm(dense, axis=1, keepdims=True)
        dense = np.divide(dense, norms, out=np.zeros_like(dense), where=norms > 0)
    for u, row in enumerate(recs):
        items = row[row >= 0]
        m = len(items)
        if m < 2:
            continue
        f = dense[items]
        inter = f @ f.T
        if kind == "cosine":
            sim = inter
        else:
            sizes = f.sum(axis=1)
            union = sizes[:, None] + sizes[None, :] - inter
            sim = np.divide(inter, union, out=np.ones_like(inter), where=union > 0)
        iu = np.triu_indices(m, k=1)
        out[u] = float((1.0 - sim[iu]).mean())
    return out


def personalization(recs: np.ndarray, n_items: int) -> float:
    """1 - mean overlap between two different users' lists (overlap = shared items / K)."""
    n_users, k = recs.shape
    if n_users < 2:
        return 0.0
    rows = np.repeat(np.arange(n_users), k)
    flat = recs.ravel()
    keep = flat >= 0
    m = sp.csr_matrix(
        (np.ones(int(keep.sum())), (rows[keep], flat[keep])), shape=(n_users, n_items)
    )
    m.data[:] = 1.0
    shared = m @ m.T
    total = shared.sum() - shared.diagonal().sum()
    mean_overlap = total / (n_users * (n_users - 1)) / k
    return float(1.0 - mean_overlap)
