"""Near-substitutes: items so alike (same category, very close text) that a cart needs one."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

__all__ = ["substitute_matrix"]


def substitute_matrix(
    embeddings: np.ndarray, categories: list[list[str]], *, threshold: float = 0.9
) -> sp.csr_matrix:
    """Boolean item x item matrix: ``[a, b]`` is true when the cosine of the two items' text
    embeddings is at least ``threshold`` and they share a category. Items without categories
    are compared on their text alone. The diagonal is false (the cart's own items are excluded
    separately)."""
    emb = np.asarray(embeddings, dtype=np.float32)
    norms = np.linalg.norm(emb, axis=1, keepdims=True)
    emb = np.divide(emb, norms, out=np.zeros_like(emb), where=norms > 0)
    n = len(emb)
    cats = [set(c) for c in categories]
    rows, cols = [], []
    for start in range(0, n, 1024):
        sims = emb[start : start + 1024] @ emb.T
        r, c = np.nonzero(sims >= threshold)
        r = r + start
        keep = (r != c) & np.array(
            [
                not cats[a] or not cats[b] or bool(cats[a] & cats[b])
                for a, b in zip(r, c, strict=True)
            ],
            dtype=bool,
        )
        rows.append(r[keep])
        cols.append(c[keep])
    r_all = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
    c_all = np.concatenate(cols) if cols else np.zeros(0, dtype=np.int64)
    return sp.csr_matrix((np.ones(len(r_all), dtype=bool), (r_all, c_all)), shape=(n, n))
