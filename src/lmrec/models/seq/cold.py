"""Vectors for items the sequential network never saw in training, from the items it did see.

The network's vector of an item is its id vector plus a projection of its text; an item with
no training actions has no id vector worth the name, and the projection alone ranks it far
below the items whose ids carry them. Instead, such an item takes the similarity-weighted mean
of the full vectors of the ``k`` trained items whose texts are nearest to its own (cosine of
the text embeddings): a new film is placed where the films most like it already are, on the
same scale as every trained item, and the trained items' vectors are left as they are.
"""

from __future__ import annotations

import numpy as np
import torch

__all__ = ["NEIGHBOURS", "fill_cold_rows", "neighbour_vectors", "new_item_vectors"]

#: trained items each cold item's vector is drawn from
NEIGHBOURS = 5


def neighbour_vectors(
    texts: np.ndarray,
    warm_texts: np.ndarray,
    warm_vectors: np.ndarray,
    k: int = NEIGHBOURS,
    chunk: int = 4096,
) -> np.ndarray:
    """For each row of ``texts`` (L2-normalised text embeddings), the mean of the
    ``warm_vectors`` of the ``k`` rows of ``warm_texts`` most similar to it, weighted by that
    similarity (clipped at 0; the plain mean of the ``k`` when none is positive)."""
    n, k = len(texts), min(k, len(warm_texts))
    out = np.zeros((n, warm_vectors.shape[1]), dtype=np.float32)
    if n == 0 or k == 0:
        return out
    for start in range(0, n, chunk):
        sims = texts[start : start + chunk] @ warm_texts.T  # (chunk, N_warm)
        top = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        w = np.maximum(np.take_along_axis(sims, top, axis=1), 0.0)
        total = w.sum(axis=1, keepdims=True)
        w = np.where(total > 0, w / np.where(total > 0, total, 1.0), 1.0 / k)
        out[start : start + chunk] = np.einsum("nk,nkc->nc", w, warm_vectors[top])
    return out


def fill_cold_rows(vec: torch.Tensor, table: np.ndarray, rows: np.ndarray) -> torch.Tensor:
    """The network's item table ``vec`` (N+1, C; row 0 padding) with the rows of the items
    ``rows`` (without training actions) replaced by their :func:`neighbour_vectors`, drawn
    from the other items by the texts' embeddings ``table`` (N, D)."""
    if not len(rows):
        return vec
    out = vec.clone()
    warm = np.ones(len(vec) - 1, dtype=bool)
    warm[rows] = False
    items = vec[1:].numpy()
    out[1:][torch.from_numpy(rows)] = torch.from_numpy(
        neighbour_vectors(table[rows], table[warm], items[warm])
    )
    return out


def new_item_vectors(
    vec: torch.Tensor, table: np.ndarray, rows: np.ndarray, texts: np.ndarray
) -> torch.Tensor:
    """Vectors (len(texts), C) of items added after training, from their texts' embeddings
    ``texts``: the :func:`neighbour_vectors` among the trained items (all but ``rows``)."""
    warm = np.ones(len(vec) - 1, dtype=bool)
    warm[rows] = False
    return torch.from_numpy(neighbour_vectors(texts, table[warm], vec[1:].numpy()[warm]))
