"""The basket protocol: hold out a seeded share of baskets, hide one item of each."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from lmrec._types import IntArray
from lmrec.data.dataset import Dataset
from lmrec.data.interactions import Interactions
from lmrec.data.vocab import Vocabulary
from lmrec.errors import DataError, UsageError

__all__ = ["BasketSplit", "CartCases", "split_baskets"]


@dataclass(frozen=True, eq=False)
class CartCases:
    """Carts (item indices in the order added), the hidden item of each, and basket ids."""

    carts: list[IntArray]
    hidden: IntArray
    baskets: list[str]

    def __len__(self) -> int:
        return len(self.carts)


@dataclass(frozen=True, eq=False)
class BasketSplit:
    """``train``: all training baskets (one "user" per basket); ``fit`` is ``train`` without the
    validation baskets, for tuning; ``valid``/``test``: the held-out cases."""

    train: Interactions
    fit: Interactions
    valid: CartCases
    test: CartCases
    meta: dict[str, Any] = field(default_factory=dict)


def split_baskets(
    data: Dataset, *, test_share: float = 0.2, valid_share: float = 0.1, seed: int = 0
) -> BasketSplit:
    """Every ``user_id`` of ``data`` is one basket (see :func:`lmrec.data.baskets_by_day` for
    user logs). A seeded ``test_share`` of the baskets with at least two distinct items is held
    out; each gives one case: one item picked at random is hidden, the rest is the cart. A
    ``valid_share`` of the remaining multi-item baskets is held out the same way from ``fit``.
    Single-item baskets always stay in training (with nothing left they make no case).
    """
    for name, share in (("test share", test_share), ("validation share", valid_share)):
        if not 0 <= share < 1:
            raise UsageError(f"{name} must be in [0, 1), not {share}")
    frame = data.interactions.select("user_id", "item_id").unique(maintain_order=True)
    if frame.height == 0:
        raise DataError("no baskets: the dataset has no interactions")
    grouped = frame.group_by("user_id", maintain_order=True).agg(pl.col("item_id"))
    ids: list[str] = grouped["user_id"].to_list()
    contents: list[list[str]] = grouped["item_id"].to_list()
    rng = np.random.default_rng(seed)
    multi = np.flatnonzero(np.array([len(c) >= 2 for c in contents], dtype=bool))
    if len(multi) < 2:
        raise DataError(
            f"{len(multi)} basket(s) with two or more items: too few to hold any out "
            "(is each user one basket? for user logs use baskets by day)"
        )
    shuffled = rng.permutation(multi)
    n_test = round(test_share * len(multi))
    n_valid = round(valid_share * (len(multi) - n_test))
    test_rows = np.sort(shuffled[:n_test])
    valid_rows = np.sort(shuffled[n_test : n_test + n_valid])
    item_ids = sorted(set(data.items["item_id"].to_list()) | set(frame["item_id"].to_list()))
    items = Vocabulary(item_ids)
    held = np.zeros(len(ids), dtype=bool)
    held[test_rows] = True
    train_frame = data.interactions.filter(
        pl.col("user_id").is_in([ids[i] for i in np.flatnonzero(~held)])
    )
    in_valid = pl.col("user_id").is_in([ids[i] for i in valid_rows])
    time_is_order = bool(data.meta.get("time_is_order"))

    def encode(frame_: pl.DataFrame) -> Interactions:
        users = Vocabulary(frame_["user_id"].unique(maintain_order=True).to_list())
        return Interactions.from_frame(
            frame_, users, items, items=data.items, users=data.users, time_is_order=time_is_order
        )

    def cases(rows: IntArray) -> CartCases:
        carts, hidden = [], []
        for r in rows:
            basket = items.indices(contents[r]).astype(np.int64)
            h = int(rng.integers(len(basket)))
            hidden.append(int(basket[h]))
            carts.append(np.delete(basket, h))
        return CartCases(carts, np.array(hidden, dtype=np.int64), [ids[r] for r in rows])

    test = cases(test_rows)
    valid = cases(valid_rows)
    meta = {
        "protocol": "basket",
        "seed": seed,
        "test_share": test_share,
        "valid_share": valid_share,
        "baskets": len(ids),
        "multi_item_baskets": len(multi),
        "test_cases": len(test),
        "valid_cases": len(valid),
    }
    return BasketSplit(
        encode(train_frame), encode(train_frame.filter(~in_valid)), valid, test, meta
    )
