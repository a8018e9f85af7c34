"""Cleaning steps: pure functions ``Dataset -> (Dataset, counts)``, each one step."""

from __future__ import annotations

from typing import Literal

import numpy as np
import polars as pl

from lmrec.data.dataset import Dataset
from lmrec.errors import UsageError

__all__ = ["binarize", "drop_bots", "drop_duplicates", "kcore"]


def drop_duplicates(
    data: Dataset, *, keep: Literal["first", "last"] = "last", by: Literal["pair", "event"] = "pair"
) -> tuple[Dataset, dict[str, int]]:
    """Remove repeated interactions: one per (user, item) (``by="pair"``), or exact repeats of
    (user, item, timestamp, event). Rows stay in time order."""
    keys = ["user_id", "item_id"] if by == "pair" else ["user_id", "item_id", "timestamp", "event"]
    inter = data.interactions
    out = inter.unique(subset=keys, keep=keep, maintain_order=True)
    return data.with_interactions(out), {"duplicates_removed": inter.height - out.height}


def binarize(data: Dataset, *, threshold: float) -> tuple[Dataset, dict[str, int]]:
    """Keep interactions whose value is at least ``threshold`` (e.g. ratings >= 4 as positives);
    interactions without a value (views, clicks) are kept."""
    inter = data.interactions
    out = inter.filter(pl.col("value").is_null() | (pl.col("value") >= threshold))
    return data.with_interactions(out), {"below_threshold_removed": inter.height - out.height}


def kcore(
    data: Dataset, *, min_user: int = 5, min_item: int = 5, max_rounds: int = 100
) -> tuple[Dataset, dict[str, int]]:
    """Repeatedly drop users with fewer than ``min_user`` and items with fewer than ``min_item``
    interactions until both hold (the k-core)."""
    if min_user < 1 or min_item < 1:
        raise UsageError("k-core thresholds must be at least 1")
    inter = data.interactions
    before = inter.height
    for _ in range(max_rounds):
        users = inter.group_by("user_id").len().filter(pl.col("len") >= min_user)["user_id"]
        items = inter.group_by("item_id").len().filter(pl.col("len") >= min_item)["item_id"]
        nxt = inter.filter(
            pl.col("user_id").is_in(users.implode()) & pl.col("item_id").is_in(items.implode())
        )
        if nxt.height == inter.height:
            break
        inter = nxt
    return data.with_interactions(inter), {"kcore_removed": before - inter.height}


def drop_bots(
    data: Dataset, *, max_per_minute: int = 60, max_per_day: int = 5000
) -> tuple[Dataset, dict[str, int]]:
    """Drop users with an implausible event rate: more than ``max_per_minute`` events in any
    60-second window, or more than ``max_per_day`` in any 24-hour window (timestamps in seconds).

    Skipped (nothing dropped) when the dataset's time is file order rather than clock time.
    """
    if data.meta.get("time_is_order"):
        return data, {"bot_users_removed": 0, "bot_interactions_removed": 0}
    inter = data.interactions
    bots: set[str] = set()
    sorted_inter = inter.select("user_id", "timestamp").sort(
        ["user_id", "timestamp"], maintain_order=True
    )
    for (user,), group in sorted_inter.group_by(["user_id"], maintain_order=True):
        ts = group["timestamp"].to_numpy()
        for window, limit in ((60, max_per_minute), (86_400, max_per_day)):
            if len(ts) > limit:
                ends = np.searchsorted(ts, ts + window, side="left")
                if int((ends - np.arange(len(ts))).max()) > limit:
                    bots.add(str(user))
                    break
    out = inter.filter(~pl.col("user_id").is_in(list(bots)))
    return data.with_interactions(out), {
        "bot_users_removed": len(bots),
        "bot_interactions_removed": inter.height - out.height,
    }
