"""What re-ranking knows about items and users: similarity, novelty, freshness, category mix."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from lmrec._types import FloatArray, IntArray

__all__ = ["ItemFeatures", "category_mix"]


@dataclass(frozen=True, eq=False)
class ItemFeatures:
    """Per-item signals the re-ranker trades against relevance.

    ``categories`` is items x categories (binary), ``embeddings`` items x dims (L2-normalised
    text embeddings); either may be missing. ``novelty`` and ``freshness`` are in [0, 1]: the
    item's self-information ``-log2(share of users who had it)`` scaled over the catalog, and
    how recently the item first appeared (1 = newest).
    """

    novelty: FloatArray
    categories: sp.csr_matrix | None = None
    embeddings: FloatArray | None = None
    freshness: FloatArray | None = None
    text_weight: float = 0.5  # similarity = w * text cosine + (1 - w) * category Jaccard

    @classmethod
    def build(
        cls,
        item_counts: np.ndarray,
        n_users: int,
        *,
        categories: sp.csr_matrix | None = None,
        embeddings: np.ndarray | None = None,
        first_seen: np.ndarray | None = None,
        text_weight: float = 0.5,
    ) -> ItemFeatures:
        p = np.minimum(np.maximum(item_counts, 1.0) / max(1, n_users), 1.0)
        info = -np.log2(p)
        novelty = _scale(info)
        freshness = None
        if first_seen is not None:
            fs = np.asarray(first_seen, dtype=np.float64)
            known = np.isfinite(fs)
            oldest = float(fs[known].min()) if known.any() else 0.0
            freshness = _scale(np.where(known, fs, oldest))  # never seen counts as oldest
        emb = None
        if embeddings is not None:
            e = np.asarray(embeddings, dtype=np.float32)
            norms = np.linalg.norm(e, axis=1, keepdims=True)
            emb = np.divide(e, norms, out=np.zeros_like(e), where=norms > 0)
        cats = None
        if categories is not None and categories.shape[1] > 0 and categories.nnz > 0:
            cats = sp.csr_matrix(categories, dtype=np.float32)
        return cls(novelty.astype(np.float32), cats, emb, freshness, text_weight)

    @property
    def n_items(self) -> int:
        return len(self.novelty)

    def similarity(self, items: IntArray) -> FloatArray:
        """Pairwise similarity (len(items), len(items)) in [0, 1] (0 when nothing is known)."""
        m = len(items)
        parts: list[tuple[float, np.ndarray]] = []
        if self.embeddings is not None:
            e = self.embeddings[items]
            parts.append((self.text_weight, np.clip(e @ e.T, 0.0, 1.0)))
        if self.categories is not None:
            c = self.categories[items].toarray()
            inter = c @ c.T
            sizes = c.sum(axis=1)
            union = sizes[:, None] + sizes[None, :] - inter
            jac = np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)
            parts.append((1.0 - self.text_weight if parts else 1.0, jac))
        if not parts:
            return np.zeros((m, m), dtype=np.float32)
        total = sum(w for w, _ in parts)
        if total <= 0:
            return np.zeros((m, m), dtype=np.float32)
        combined = np.zeros((m, m))
        for w, s in parts:
            combined += w * s
        return (combined / total).astype(np.float32)

    def text_similarity(self, items: IntArray) -> FloatArray | None:
        if self.embeddings is None:
            return None
        e = self.embeddings[items]
        return (e @ e.T).astype(np.float32)

    def category_distribution(self, items: IntArray) -> FloatArray | None:
        """Each item's categories as a distribution (len(items), n_categories)."""
        if self.categories is None:
            return None
        c = self.categories[items].toarray().astype(np.float64)
        sums = c.sum(axis=1, keepdims=True)
        return np.divide(c, sums, out=np.zeros_like(c), where=sums > 0)


def category_mix(
    history: sp.csr_matrix, categories: sp.csr_matrix, weights: sp.csr_matrix | None = None
) -> FloatArray:
    """Each user's distribution over categories, p(g|u) of Steck (2018): the mean over their
    history items of each item's categories split evenly (rows with no history are zero).
    ``weights`` (same shape as ``history``) weighs the items, e.g. by recency."""
    c = sp.csr_matrix(categories, dtype=np.float64)
    sizes = np.asarray(c.sum(axis=1)).ravel()
    per_item = sp.diags(np.divide(1.0, sizes, out=np.zeros_like(sizes), where=sizes > 0)) @ c
    h = sp.csr_matrix(weights if weights is not None else history, dtype=np.float64)
    mix = np.asarray((h @ per_item).todense())
    sums = mix.sum(axis=1, keepdims=True)
    return np.divide(mix, sums, out=np.zeros_like(mix), where=sums > 0)


def _scale(x: np.ndarray) -> np.ndarray:
    lo, hi = float(np.min(x)), float(np.max(x))
    if hi <= lo:
        return np.zeros_like(x, dtype=np.float64)
    return (x - lo) / (hi - lo)
