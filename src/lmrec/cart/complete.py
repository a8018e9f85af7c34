"""Rank complements for carts with any model that can score a cart."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

from lmrec._types import FloatArray, IntArray
from lmrec.models.base import Recommender, cart_matrix, top_n

__all__ = ["complete_carts"]


def complete_carts(
    model: Recommender,
    carts: Sequence[IntArray],
    n: int = 10,
    *,
    users: IntArray | None = None,
    substitutes: sp.csr_matrix | None = None,
    allow_cart_items: bool = False,
    allow_substitutes: bool = False,
    batch_size: int = 1024,
) -> tuple[IntArray, FloatArray]:
    """Top-``n`` items (indices, scores) to add to each cart, best first.

    Items in the cart are left out unless ``allow_cart_items``; near-substitutes of cart items
    (a :func:`~lmrec.cart.substitute_matrix`) unless ``allow_substitutes``. Rows with fewer
    than ``n`` candidates are padded with -1 / NaN.
    """
    ids = np.full((len(carts), n), -1, dtype=np.int64)
    vals = np.full((len(carts), n), np.nan, dtype=np.float32)
    for start in range(0, len(carts), batch_size):
        chunk = list(carts[start : start + batch_size])
        u = None if users is None else np.asarray(users)[start : start + batch_size]
        scores = np.nan_to_num(model.score_carts(chunk, u), nan=-np.inf)
        held = cart_matrix(chunk, model.n_items_)
        if not allow_cart_items:
            r, c = held.nonzero()
            scores[r, c] = -np.inf
        if substitutes is not None and not allow_substitutes:
            r, c = (held @ substitutes.astype(np.float32)).nonzero()
            scores[r, c] = -np.inf
        top, top_scores = top_n(scores, n)
        ids[start : start + len(chunk)] = top
        vals[start : start + len(chunk)] = top_scores
    return ids, vals
