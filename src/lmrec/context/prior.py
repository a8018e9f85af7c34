"""How much each context value favours each item, learned from training interactions.

For a context field (daypart, daytype, device, location) and value ``v``, an item's lift is
``log p(i | v) - log p(i)``, with ``p(i | v)`` shrunk toward ``p(i)`` by ``smoothing``
pseudo-interactions, so rare items and rare values get lifts near zero. A request's context adds
up the lifts of its values; :func:`apply_context` mixes them into any model's scores.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from safetensors.numpy import load_file, save_file

from lmrec._types import FloatArray
from lmrec.context.features import CONTEXT_FIELDS, context_table
from lmrec.data.interactions import Interactions

__all__ = ["ContextPrior", "apply_context"]


class ContextPrior:
    def __init__(self, smoothing: float = 50.0) -> None:
        self.smoothing = smoothing
        self.values_: dict[str, list[str]] = {}
        self.lifts_: dict[str, np.ndarray] = {}  # field -> (n_values, n_items)

    def fit(self, data: Interactions, *, real_time: bool | None = None) -> ContextPrior:
        """Each field's lifts from counts of (value, item) pairs, grouped by polars."""
        real = not data.time_is_order if real_time is None else real_time
        items = data.item_idx.astype(np.int64)
        frame = data.frame.select(
            [c for c in ("timestamp", "device", "location") if c in data.frame.columns]
        ).with_columns(pl.Series("item", items))
        table = context_table(frame, real_time=real)
        pairs = {}
        for name in CONTEXT_FIELDS:
            col = table[name]
            if col.null_count() == len(col):  # also a field the data lacks (one null)
                continue
            pairs[name] = (
                pl.DataFrame({"value": col, "item": frame["item"]})
                .drop_nulls("value")
                .group_by(["value", "item"])
                .agg(pl.len().alias("count"))
            )
        return self.fit_counts(np.bincount(items, minlength=data.n_items), pairs)

    def fit_counts(self, item_counts: np.ndarray, pairs: dict[str, pl.DataFrame]) -> ContextPrior:
        """The lifts from counts alone: ``item_counts`` (interactions per item, repeats
        included) and, per field, a table of ``value, item, count`` (a batch engine such as
        Spark computes both). A field with fewer than two values is left out."""
        n_items = len(item_counts)
        counts = np.asarray(item_counts, dtype=np.float64)
        p = (counts + 1.0) / (counts.sum() + n_items)
        for name, table in pairs.items():
            values = sorted(str(v) for v in table["value"].unique().to_list())
            if len(values) < 2:
                continue
            codes = table["value"].cast(pl.String).replace_strict(values, range(len(values)))
            joint = np.zeros((len(values), n_items))
            where = (codes.to_numpy(), table["item"].to_numpy().astype(np.int64))
            np.add.at(joint, where, table["count"].to_numpy())
            totals = joint.sum(axis=1, keepdims=True)
            cond = (joint + self.smoothing * p[None, :]) / (totals + self.smoothing)
            self.values_[name] = values
            self.lifts_[name] = np.log(cond / p[None, :]).astype(np.float32)
        return self

    @property
    def fields(self) -> list[str]:
        return list(self.values_)

    def lift(self, context: dict[str, str], n_items: int | None = None) -> FloatArray:
        """Summed lift of every item under ``context`` (fields or values not seen in training
        add nothing)."""
        size = n_items or (next(iter(self.lifts_.values())).shape[1] if self.lifts_ else 0)
        out = np.zeros(size, dtype=np.float32)
        for name, value in context.items():
            values = self.values_.get(name)
            if values is None or value not in values:
                continue
            row = self.lifts_[name][values.index(value)]
            out[: len(row)] += row[:size]
        return out

    def lift_rows(self, contexts: list[dict[str, str]], n_items: int) -> FloatArray:
        return (
            np.stack([self.lift(c, n_items) for c in contexts])
            if contexts
            else np.zeros((0, n_items), dtype=np.float32)
        )

    def save(self, path: str | Path) -> Path:
        out = Path(path)
        out.mkdir(parents=True, exist_ok=True)
        save_file({k: np.ascontiguousarray(v) for k, v in self.lifts_.items()},
                  str(out / "lifts.safetensors"))  # fmt: skip
        meta: dict[str, Any] = {"smoothing": self.smoothing, "values": self.values_}
        (out / "context.json").write_text(json.dumps(meta, indent=2) + "\n")
        return out

    @classmethod
    def load(cls, path: str | Path) -> ContextPrior:
        src = Path(path)
        meta = json.loads((src / "context.json").read_text())
        prior = cls(meta["smoothing"])
        prior.values_ = {k: list(v) for k, v in meta["values"].items()}
        prior.lifts_ = dict(load_file(str(src / "lifts.safetensors"))) if prior.values_ else {}
        return prior


def apply_context(scores: np.ndarray, lift: np.ndarray, weight: float) -> FloatArray:
    """``z(scores) + weight * lift`` per row; items left out (-inf, NaN) stay out."""
    from lmrec.models.content import zscore

    if weight == 0:
        return np.asarray(scores, dtype=np.float32)
    z = zscore(np.asarray(scores, dtype=np.float64))
    out = z + weight * np.asarray(lift, dtype=np.float64)
    return np.where(np.isfinite(z), out, -np.inf).astype(np.float32)


def _frame_contexts(frame: pl.DataFrame, real_time: bool) -> list[dict[str, str]]:
    table = context_table(frame, real_time=real_time)
    return [{k: v for k, v in row.items() if v is not None} for row in table.iter_rows(named=True)]
