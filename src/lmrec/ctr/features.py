"""Features of an impression (user, item, context) for click-through-rate models.

:func:`join_events` puts an event's user attributes, item attributes and context in one row;
:class:`FeatureEncoder` learns, from training rows only, how to turn such rows into numbers:

- categorical fields (user id, item id, user attributes, low-cardinality item attributes,
  context columns, hour and weekday, numeric attributes cut into quantile buckets), each value
  a code, 0 for unknown or missing;
- a multi-hot block for item categories (genres);
- a dense block: numeric attributes standardised, and the item's text embedding reduced by PCA.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

import numpy as np
import polars as pl
import scipy.sparse as sp
from safetensors.numpy import load_file, save_file

from lmrec.data.dataset import INTERACTION_SCHEMA, Dataset
from lmrec.errors import DataError, UsageError

__all__ = ["ORACLE_COLUMN", "FeatureEncoder", "FeatureTable", "join_events"]

#: A column with true click probabilities (synthetic logs): kept for the oracle, never a feature.
ORACLE_COLUMN = "p_true"
_ITEM_TEXT_COLUMNS = ("title", "text", "categories")


@dataclass(frozen=True, eq=False)
class FeatureTable:
    cat: np.ndarray  # (n, n_fields) int64 codes, 0 = unknown
    multi: sp.csr_matrix  # (n, n_categories) multi-hot, float32
    dense: np.ndarray  # (n, n_dense) float32

    def __len__(self) -> int:
        return len(self.cat)

    def rows(self, idx: np.ndarray | slice) -> FeatureTable:
        return FeatureTable(self.cat[idx], self.multi[idx], self.dense[idx])


def join_events(
    interactions: pl.DataFrame,
    users: pl.DataFrame,
    items: pl.DataFrame,
    *,
    time_is_order: bool = False,
) -> pl.DataFrame:
    """One row per event with its user's and item's attributes (prefixed ``user_``/``item_``)
    and, for real timestamps, ``hour`` and ``weekday`` (UTC)."""
    user_cols = [c for c in users.columns if c != "user_id"]
    item_cols = [c for c in items.columns if c not in ("item_id", "title")]
    frame = interactions.join(
        users.select("user_id", *[pl.col(c).alias(f"user_{c}") for c in user_cols]),
        on="user_id",
        how="left",
        maintain_order="left",
    ).join(
        items.select("item_id", *[pl.col(c).alias(f"item_{c}") for c in item_cols]),
        on="item_id",
        how="left",
        maintain_order="left",
    )
    if not time_is_order and "timestamp" in frame.columns:
        stamp = pl.from_epoch(pl.col("timestamp"), time_unit="s")
        frame = frame.with_columns(
            stamp.dt.hour().cast(pl.String).alias("hour"),
            stamp.dt.weekday().cast(pl.String).alias("weekday"),
        )
    return frame


def dataset_events(data: Dataset) -> pl.DataFrame:
    return join_events(
        data.interactions,
        data.users,
        data.items,
        time_is_order=bool(data.meta.get("time_is_order")),
    )


class FeatureEncoder:
    """Learns field vocabularies, bucket edges, scalings and a text projection from training
    rows; turns rows of :func:`join_events` into a :class:`FeatureTable`."""

    def __init__(
        self,
        *,
        text_encoder: str | None = "all-MiniLM-L6-v2",
        text_dims: int = 16,
        n_buckets: int = 10,
        max_attribute_values: int = 100,
        min_count: int = 1,
        progress: bool = False,
    ) -> None:
        self.text_encoder = text_encoder
        self.text_dims = text_dims
        self.n_buckets = n_buckets
        self.max_attribute_values = max_attribute_values
        self.min_count = min_count
        self.progress = progress

    # -- fitting --------------------------------------------------------------------------------
    def fit(self, events: pl.DataFrame, items: pl.DataFrame) -> Self:
        """``events``: training rows of :func:`join_events`; ``items``: the whole catalog (for
        item text)."""
        if events.height == 0:
            raise DataError("no training events to learn features from")
        self.categorical_: list[str] = ["user_id", "item_id"]
        self.numeric_: list[str] = []
        skip = set(INTERACTION_SCHEMA) | {ORACLE_COLUMN, "label"}
        for col in events.columns:
            if col in skip or col in ("item_text", "item_categories"):
                continue
            dtype = events.schema[col]
            if dtype.is_numeric():
                self.numeric_.append(col)
            elif dtype == pl.String:
                many = events[col].n_unique() > self.max_attribute_values
                if col.startswith("item_") and many:
                    continue  # id-like item strings (URLs, dates): item_id covers them
                self.categorical_.append(col)
        self.vocab_: dict[str, list[str]] = {}
        for c in self.categorical_:
            counts = events[c].drop_nulls().value_counts()
            kept = counts.filter(pl.col("count") >= self.min_count)[c].to_list()
            self.vocab_[c] = sorted(kept)  # rarer values share the unknown code 0
        self.edges_: dict[str, list[float]] = {}
        self.scale_: dict[str, tuple[float, float]] = {}
        for col in self.numeric_:
            values = events[col].drop_nulls().cast(pl.Float64).to_numpy()
            if len(values) == 0:
                values = np.zeros(1)
            qs = np.quantile(values, np.linspace(0, 1, self.n_buckets + 1)[1:-1])
            self.edges_[col] = sorted(set(qs.tolist()))
            self.scale_[col] = (float(values.mean()), float(values.std() or 1.0))
        cats = (
            events["item_categories"].explode().drop_nulls().unique().to_list()
            if "item_categories" in events.columns
            else []
        )
        self.categories_: list[str] = sorted(cats)
        self._fit_text(items)
        return self

    def _fit_text(self, items: pl.DataFrame) -> None:
        self.text_items_: list[str] = []
        self.text_table_ = np.zeros((0, 0), dtype=np.float32)
        if self.text_encoder is None or "text" not in items.columns or items.height == 0:
            return
        from lmrec.text import encode_items

        emb = encode_items(
            items["text"].fill_null("").to_list(), self.text_encoder, progress=self.progress
        ).astype(np.float64)
        centred = emb - emb.mean(axis=0)
        dims = min(self.text_dims, *centred.shape)
        _, s, vt = np.linalg.svd(centred, full_matrices=False)
        proj = centred @ vt[:dims].T
        proj /= np.maximum(s[:dims] / np.sqrt(len(emb)), 1e-9)  # unit variance per component
        self.text_items_ = items["item_id"].to_list()
        self.text_table_ = proj.astype(np.float32)

    # -- shape ----------------------------------------------------------------------------------
    @property
    def fields(self) -> list[str]:
        """Categorical fields: the named columns, then one bucket field per numeric column."""
        return [*self.categorical_, *(f"{c}:bucket" for c in self.numeric_)]

    @property
    def cardinalities(self) -> list[int]:
        """Codes per field, the unknown code 0 included."""
        return [len(self.vocab_[c]) + 1 for c in self.categorical_] + [
            len(self.edges_[c]) + 2 for c in self.numeric_
        ]

    @property
    def n_dense(self) -> int:
        return len(self.numeric_) + self.text_table_.shape[1]

    # -- transforming ---------------------------------------------------------------------------
    def transform(self, events: pl.DataFrame) -> FeatureTable:
        n = events.height
        cols = []
        for c in self.categorical_:
            values = events[c].cast(pl.String) if c in events.columns else pl.Series([None] * n)
            lookup = {v: i + 1 for i, v in enumerate(self.vocab_[c])}
            cols.append(np.array([lookup.get(v, 0) for v in values.to_list()], dtype=np.int64))
        dense = []
        for c in self.numeric_:
            raw = (
                events[c].cast(pl.Float64).to_numpy() if c in events.columns else np.full(n, np.nan)
            )
            missing = np.isnan(raw)
            codes = np.searchsorted(self.edges_[c], np.nan_to_num(raw), side="right") + 1
            cols.append(np.where(missing, 0, codes).astype(np.int64))
            mean, std = self.scale_[c]
            dense.append(np.where(missing, 0.0, (raw - mean) / std))
        if self.text_table_.size:
            pos = {v: i for i, v in enumerate(self.text_items_)}
            rows = np.array([pos.get(v, -1) for v in events["item_id"].to_list()])
            text = np.where(rows[:, None] >= 0, self.text_table_[np.maximum(rows, 0)], 0.0)
            dense.extend(text.T)
        cat = np.stack(cols, axis=1) if cols else np.zeros((n, 0), dtype=np.int64)
        dense_arr = (
            np.stack(dense, axis=1).astype(np.float32) if dense else np.zeros((n, 0), np.float32)
        )
        return FeatureTable(cat, self._multi(events), dense_arr)

    def _multi(self, events: pl.DataFrame) -> sp.csr_matrix:
        n = events.height
        if not self.categories_ or "item_categories" not in events.columns:
            empty = np.zeros(0, dtype=np.int64)
            return sp.csr_matrix(
                (np.zeros(0, dtype=np.float32), (empty, empty)), shape=(n, len(self.categories_))
            )
        pos = {c: i for i, c in enumerate(self.categories_)}
        rows, cols = [], []
        for r, cats in enumerate(events["item_categories"].to_list()):
            for c in cats or []:
                if c in pos:
                    rows.append(r)
                    cols.append(pos[c])
        return sp.csr_matrix(
            (np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(n, len(self.categories_))
        )

    # -- storage --------------------------------------------------------------------------------
    def save(self, folder: str | Path) -> None:
        out = Path(folder)
        out.mkdir(parents=True, exist_ok=True)
        config: dict[str, Any] = {
            "format": "lmrec-ctr-features",
            "params": {
                "text_encoder": self.text_encoder,
                "text_dims": self.text_dims,
                "n_buckets": self.n_buckets,
                "max_attribute_values": self.max_attribute_values,
                "min_count": self.min_count,
            },
            "categorical": self.categorical_,
            "numeric": self.numeric_,
            "vocab": self.vocab_,
            "edges": self.edges_,
            "scale": self.scale_,
            "categories": self.categories_,
            "text_items": self.text_items_,
        }
        (out / "features.json").write_text(json.dumps(config) + "\n")
        save_file({"text_table": self.text_table_}, str(out / "features.safetensors"))

    @classmethod
    def load(cls, folder: str | Path) -> FeatureEncoder:
        src = Path(folder)
        path = src / "features.json"
        if not path.is_file():
            raise UsageError(f"{src}: no features.json (not a saved CTR model)")
        cfg = json.loads(path.read_text())
        enc = cls(**cfg["params"])
        enc.categorical_ = cfg["categorical"]
        enc.numeric_ = cfg["numeric"]
        enc.vocab_ = cfg["vocab"]
        enc.edges_ = cfg["edges"]
        enc.scale_ = {k: (float(v[0]), float(v[1])) for k, v in cfg["scale"].items()}
        enc.categories_ = cfg["categories"]
        enc.text_items_ = cfg["text_items"]
        enc.text_table_ = load_file(str(src / "features.safetensors"))["text_table"]
        return enc
