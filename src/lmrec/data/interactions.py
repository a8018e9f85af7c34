"""Interactions encoded with vocabularies: the numeric form every model is fitted on."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import polars as pl
import scipy.sparse as sp

from lmrec._types import Int32Array
from lmrec.data.dataset import Dataset, empty_items, empty_users
from lmrec.data.vocab import Vocabulary

__all__ = ["Interactions", "align_rows"]


@dataclass(frozen=True, eq=False)
class Interactions:
    """Time-ordered interactions as index arrays, with the vocabularies and side tables.

    ``items`` has one row per item index (row ``i`` describes item ``i``); ``users`` one row per
    user index, null where a user has no attributes. ``frame`` keeps every original column
    (event, value, context) next to ``user_idx``/``item_idx``.
    """

    frame: pl.DataFrame
    user_vocab: Vocabulary
    item_vocab: Vocabulary
    items: pl.DataFrame
    users: pl.DataFrame
    time_is_order: bool = False

    @classmethod
    def from_frame(
        cls,
        frame: pl.DataFrame,
        user_vocab: Vocabulary,
        item_vocab: Vocabulary,
        *,
        items: pl.DataFrame | None = None,
        users: pl.DataFrame | None = None,
        time_is_order: bool = False,
    ) -> Interactions:
        """Encode ``frame`` (raw ids); rows whose ids are not in the vocabularies are dropped."""
        encoded = frame.with_columns(
            pl.Series("user_idx", user_vocab.indices(frame["user_id"])),
            pl.Series("item_idx", item_vocab.indices(frame["item_id"])),
        ).filter((pl.col("user_idx") >= 0) & (pl.col("item_idx") >= 0))
        encoded = (
            encoded.with_row_index("_row")
            .sort(["timestamp", "_row"], maintain_order=True)
            .drop("_row")
        )
        return cls(
            encoded,
            user_vocab,
            item_vocab,
            align_rows(items if items is not None else empty_items(), "item_id", item_vocab),
            align_rows(users if users is not None else empty_users(), "user_id", user_vocab),
            time_is_order,
        )

    @classmethod
    def from_dataset(cls, data: Dataset) -> Interactions:
        """Every interaction of ``data`` encoded for fitting: users in order of first
        appearance, items in catalog order."""
        users = Vocabulary(data.interactions["user_id"].unique(maintain_order=True).to_list())
        items = Vocabulary(data.items["item_id"].to_list())
        return cls.from_frame(
            data.interactions,
            users,
            items,
            items=data.items,
            users=data.users,
            time_is_order=bool(data.meta.get("time_is_order")),
        )

    @property
    def n_users(self) -> int:
        return len(self.user_vocab)

    @property
    def n_items(self) -> int:
        return len(self.item_vocab)

    @property
    def user_idx(self) -> Int32Array:
        return self.frame["user_idx"].to_numpy().astype(np.int32)

    @property
    def item_idx(self) -> Int32Array:
        return self.frame["item_idx"].to_numpy().astype(np.int32)

    @property
    def timestamps(self) -> np.ndarray:
        return self.frame["timestamp"].to_numpy()

    def __len__(self) -> int:
        return self.frame.height

    @cached_property
    def matrix(self) -> sp.csr_matrix:
        """Binary user x item matrix (1 where the user interacted with the item), float32."""
        m = sp.csr_matrix(
            (np.ones(len(self), dtype=np.float32), (self.user_idx, self.item_idx)),
            shape=(self.n_users, self.n_items),
        )
        m.sum_duplicates()
        m.data[:] = 1.0
        return m

    def weighted_matrix(self, weights: np.ndarray) -> sp.csr_matrix:
        """User x item matrix summing ``weights`` (one per interaction) over repeats."""
        m = sp.csr_matrix(
            (weights.astype(np.float32), (self.user_idx, self.item_idx)),
            shape=(self.n_users, self.n_items),
        )
        m.sum_duplicates()
        return m

    @cached_property
    def item_counts(self) -> np.ndarray:
        """Number of distinct users per item (float64)."""
        return np.asarray(self.matrix.sum(axis=0)).ravel().astype(np.float64)

    def sequences(self) -> list[Int32Array]:
        """Each user's item indices in time order (ties in file order)."""
        order = np.argsort(self.user_idx, kind="stable")
        users = self.user_idx[order]
        items = self.item_idx[order]
        bounds = np.searchsorted(users, np.arange(self.n_users + 1))
        return [items[bounds[u] : bounds[u + 1]] for u in range(self.n_users)]

    def item_texts(self) -> list[str] | None:
        """Each item's text ("" where missing), or None when no item has a text other than its
        id (a catalog known only from interactions: nothing for a text encoder to read)."""
        if "text" not in self.items.columns:
            return None
        texts = self.items["text"].fill_null("").to_list()
        ids = self.items["item_id"].cast(pl.String).to_list()
        if all(t == "" or t == i for t, i in zip(texts, ids, strict=True)):
            return None
        return [str(t) for t in texts]

    def item_categories(self) -> list[list[str]]:
        return [c or [] for c in self.items["categories"].to_list()]


def align_rows(table: pl.DataFrame, key: str, vocab: Vocabulary) -> pl.DataFrame:
    """One row per vocabulary index, in index order (nulls where the table has no row)."""
    ids = pl.DataFrame({key: vocab.ids}, schema={key: pl.String})
    table = table.with_columns(pl.col(key).cast(pl.String)).unique(
        key, keep="first", maintain_order=True
    )
    return ids.join(table, on=key, how="left", maintain_order="left")
