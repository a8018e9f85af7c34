"""Natural-language requests: semantic search, or a user's ranking blended with the request."""

from __future__ import annotations

import numpy as np

from lmrec._types import FloatArray, IntArray
from lmrec.models.base import Recommender, top_n
from lmrec.models.content import zscore

__all__ = ["blend_query", "search"]


def search(
    item_embeddings: FloatArray, query: FloatArray, n: int = 10
) -> tuple[IntArray, FloatArray]:
    """Items whose text is closest (cosine) to the query's: semantic search over the catalog."""
    sims = item_embeddings @ query
    ids, scores = top_n(sims[None, :].astype(np.float32), n)
    return ids[0], scores[0]


def blend_query(
    model: Recommender,
    user: int,
    item_embeddings: FloatArray,
    query: FloatArray,
    n: int = 10,
    *,
    weight: float = 0.5,
    exclude_seen: bool = True,
) -> tuple[IntArray, FloatArray]:
    """Rank by ``weight * z(query similarity) + (1 - weight) * z(personal score)``.

    Both signals are standardised per request so that neither dominates by scale. An unknown
    user falls back to pure search.
    """
    if not 0.0 <= weight <= 1.0:
        raise ValueError("weight must be between 0 and 1")
    sims = zscore(item_embeddings @ query)
    personal = model.score(user)
    if np.isnan(personal).all():
        blended = sims
    else:
        blended = weight * sims + (1.0 - weight) * zscore(personal)
    blended = blended.astype(np.float32)
    if exclude_seen and 0 <= user < model.seen_.shape[0]:
        blended[model.seen_[user].indices] = -np.inf
    ids, scores = top_n(blended[None, :], n)
    return ids[0], scores[0]
