"""What an evaluation needs from a Split: vocabularies, encoded train sets and relevance."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
import scipy.sparse as sp

from lmrec.data.interactions import Interactions
from lmrec.data.split import Split
from lmrec.data.vocab import Vocabulary
from lmrec.errors import UsageError

__all__ = ["EvalData", "HeldOut", "held_out", "prepare"]


@dataclass(frozen=True, eq=False)
class HeldOut:
    """Who should get what: user indices with at least one held-out item, their truth (one
    row per such user, in that order, over all items) and the time of each one's first
    held-out action (the request it answers; None when times are only an order)."""

    users: np.ndarray
    truth: sp.csr_matrix
    at: np.ndarray | None = None


def held_out(
    frame: pl.DataFrame, users: Vocabulary, items: Vocabulary, *, real_time: bool
) -> HeldOut:
    """The held-out actions of ``frame`` (raw ids) encoded with ``users`` and ``items``."""
    order, truth = _truth(frame, users, items)
    return HeldOut(order, truth, _first_times(frame, users, order) if real_time else None)


@dataclass(frozen=True, eq=False)
class EvalData:
    """Train (for tuning), train+valid (for the final fit), and who should get what.

    ``valid_users``/``test_users`` are user indices with at least one held-out item; the truth
    matrices have one row per such user (in that order) over all items.
    """

    train: Interactions
    train_valid: Interactions
    valid_users: np.ndarray
    valid_truth: sp.csr_matrix
    test_users: np.ndarray
    test_truth: sp.csr_matrix
    #: per valid/test user, the time of their first held-out action: the request it answers
    #: (Unix seconds; None when the data's times are only an order)
    valid_at: np.ndarray | None = None
    test_at: np.ndarray | None = None

    @property
    def test(self) -> HeldOut:
        return HeldOut(self.test_users, self.test_truth, self.test_at)

    @property
    def user_vocab(self) -> Vocabulary:
        return self.train.user_vocab

    @property
    def item_vocab(self) -> Vocabulary:
        return self.train.item_vocab


def prepare(split: Split) -> EvalData:
    frames = [split.train, split.valid, split.test]
    user_ids: list[str] = []
    for f in frames:
        user_ids.extend(f["user_id"].cast(pl.String).unique(maintain_order=True).to_list())
    item_ids = split.items["item_id"].cast(pl.String).to_list()
    for f in frames:
        item_ids.extend(f["item_id"].cast(pl.String).unique(maintain_order=True).to_list())
    users, items = Vocabulary(user_ids), Vocabulary(item_ids)
    if split.train.height == 0:
        raise UsageError("the split's train part is empty")
    if split.test.height == 0:
        raise UsageError("the split's test part is empty")
    time_is_order = bool(split.meta.get("time_is_order", False))
    train = Interactions.from_frame(
        split.train, users, items, items=split.items, users=split.users, time_is_order=time_is_order
    )
    full = Interactions.from_frame(
        split.train_valid(),
        users,
        items,
        items=split.items,
        users=split.users,
        time_is_order=time_is_order,
    )
    real = not time_is_order
    valid = held_out(split.valid, users, items, real_time=real)
    test = held_out(split.test, users, items, real_time=real)
    return EvalData(
        train, full, valid.users, valid.truth, test.users, test.truth, valid.at, test.at
    )


def _first_times(frame: pl.DataFrame, users: Vocabulary, order: np.ndarray) -> np.ndarray:
    """The earliest timestamp of each user in ``order`` within ``frame``."""
    if frame.height == 0:
        return np.zeros(0, dtype=np.int64)
    u = users.indices(frame["user_id"]).astype(np.int64)
    t = frame["timestamp"].to_numpy().astype(np.int64)
    first = np.full(len(order), np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(first, np.searchsorted(order, u), t)
    return first


def _truth(
    frame: pl.DataFrame, users: Vocabulary, items: Vocabulary
) -> tuple[np.ndarray, sp.csr_matrix]:
    if frame.height == 0:
        return np.zeros(0, dtype=np.int64), sp.csr_matrix(
            np.zeros((0, len(items)), dtype=np.float32)
        )
    u = users.indices(frame["user_id"]).astype(np.int64)
    i = items.indices(frame["item_id"]).astype(np.int64)
    order = np.unique(u)
    row = np.searchsorted(order, u)
    m = sp.csr_matrix((np.ones(len(u), dtype=np.float32), (row, i)), shape=(len(order), len(items)))
    m.sum_duplicates()
    m.data[:] = 1.0
    return order, m
