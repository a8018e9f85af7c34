"""Item-side answers of the online path: similar items, and what goes with a cart."""

from __future__ import annotations

from typing import Any

import numpy as np

from lmrec.errors import UsageError
from lmrec.models.base import top_n
from lmrec.models.capabilities import SimilarItems
from lmrec.online.version import ModelVersion

__all__ = ["complete_cart", "similar_items"]


def similar_items(v: ModelVersion, item_id: str, k: int) -> list[dict[str, Any]]:
    """Items most like ``item_id`` (never the item itself): the model's own similarity where
    it has one, else the cosine of the items' columns in the training interactions."""
    vocab = v.artifacts.item_vocab
    item = vocab.index(item_id)
    if isinstance(v.model, SimilarItems):
        ids, sims = v.model.similar_items(item, k)
    else:
        x = v.model.seen_.tocsc()
        col = x[:, item]
        co = np.asarray((x.T @ col).todense()).ravel().astype(np.float64)
        norms = np.sqrt(np.asarray(x.sum(axis=0)).ravel() * max(float(col.sum()), 1e-12))
        sims = np.divide(co, norms, out=np.zeros_like(co), where=norms > 0)
        sims[item] = -np.inf
        top, vals = top_n(sims[None, :].astype(np.float32), k)
        keep = (top[0] >= 0) & (vals[0] > 0)
        ids, sims = top[0][keep], vals[0][keep]
    ids, sims = np.asarray(ids), np.asarray(sims)
    keep = (ids >= 0) & (ids != item) & np.isfinite(sims)
    titles = v.titles
    return [
        {"item_id": vocab.raw(int(i)), "title": titles[int(i)], "score": float(s)}
        for i, s in zip(ids[keep], sims[keep], strict=True)
    ]


def complete_cart(
    v: ModelVersion,
    items: list[str],
    k: int,
    *,
    user_id: str | None = None,
    allow_substitutes: bool = False,
) -> dict[str, Any]:
    """Complements for a cart of raw item ids (all in the catalog) from the version's model;
    the cart's items and, unless ``allow_substitutes``, their near-substitutes are left out.
    With association rules each item's reason is its strongest rule."""
    from lmrec.cart import complete_carts
    from lmrec.models.rules import AssociationRules

    art, vocab = v.artifacts, v.artifacts.item_vocab
    if not items:
        raise UsageError("the cart is empty: give at least one item id")
    unknown = [i for i in items if i not in vocab]
    if unknown:
        raise UsageError(f"{len(unknown)} unknown item id(s) in the cart: {', '.join(unknown[:5])}")
    if not v.model.uses_history:
        raise UsageError(f"model '{v.model.name}' learns state per training user; it cannot "
                         "score a cart")  # fmt: skip
    cart = np.array([vocab.index(i) for i in items], dtype=np.int64)
    user = art.user_vocab.index(user_id) if user_id and user_id in art.user_vocab else -1
    subs = None if allow_substitutes else v.substitutes
    ids, vals = complete_carts(
        v.model, [cart], k, users=np.array([user]) if user >= 0 else None, substitutes=subs
    )
    titles = v.titles
    out = []
    for i, s in zip(ids[0], vals[0], strict=True):
        if i < 0:
            continue
        entry: dict[str, Any] = {"item_id": vocab.raw(int(i)), "title": titles[int(i)],
                                 "score": float(s)}  # fmt: skip
        if isinstance(v.model, AssociationRules):
            rule = v.model.strongest_rule(cart, int(i))
            if rule is not None:
                entry["reason"] = f"with {titles[rule[0]]} (confidence {rule[1]:.2f})"
        out.append(entry)
    return {"items": out, "model": v.model.name, "version": v.version}
