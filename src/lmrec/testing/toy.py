"""Tiny datasets whose right answers are known."""

from __future__ import annotations

import polars as pl

from lmrec.data.interactions import Interactions
from lmrec.data.vocab import Vocabulary

__all__ = ["checkerboard", "cycle", "toy_interactions"]


def toy_interactions(pairs: list[tuple[str, str]], *, n_extra_items: int = 0) -> Interactions:
    """Interactions from (user, item) pairs in time order; ``n_extra_items`` unseen items added."""
    frame = pl.DataFrame(
        {
            "user_id": [u for u, _ in pairs],
            "item_id": [i for _, i in pairs],
            "timestamp": list(range(len(pairs))),
        },
        schema={"user_id": pl.String, "item_id": pl.String, "timestamp": pl.Int64},
    )
    users = Vocabulary(frame["user_id"].unique(maintain_order=True).to_list())
    item_ids = frame["item_id"].unique(maintain_order=True).to_list()
    items = Vocabulary(item_ids + [f"extra{j}" for j in range(n_extra_items)])
    return Interactions.from_frame(frame, users, items)


def checkerboard(n_users: int = 20, n_items: int = 20, *, holdout: bool = True) -> Interactions:
    """Two tastes: even users like even items, odd users odd items.

    With ``holdout`` each user misses one item of their own parity (the one a good model should
    recommend first). Item ids are ``"i<n>"``, user ids ``"u<n>"``.
    """
    pairs: list[tuple[str, str]] = []
    for u in range(n_users):
        own = [i for i in range(n_items) if i % 2 == u % 2]
        skip = own[u // 2 % len(own)] if holdout else None
        pairs.extend((f"u{u}", f"i{i}") for i in own if i != skip)
    frame = pl.DataFrame(
        {
            "user_id": [p[0] for p in pairs],
            "item_id": [p[1] for p in pairs],
            "timestamp": list(range(len(pairs))),
        },
        schema={"user_id": pl.String, "item_id": pl.String, "timestamp": pl.Int64},
    )
    users = Vocabulary([f"u{u}" for u in range(n_users)])
    items = Vocabulary([f"i{i}" for i in range(n_items)])
    return Interactions.from_frame(frame, users, items)


def cycle(n_users: int, n_items: int, steps: int) -> Interactions:
    """A deterministic sequence: user ``u`` takes items ``u, u+1, ... u+steps-1`` (mod
    ``n_items``) in that order, so the right next item of user ``u`` is ``u+steps``. Item ids
    are ``"i<n>"``, user ids ``"u<n>"``."""
    rows = [(f"u{u}", f"i{(u + t) % n_items}", t) for u in range(n_users) for t in range(steps)]
    frame = pl.DataFrame(rows, schema=["user_id", "item_id", "timestamp"], orient="row")
    return Interactions.from_frame(
        frame,
        Vocabulary([f"u{u}" for u in range(n_users)]),
        Vocabulary([f"i{i}" for i in range(n_items)]),
    )
