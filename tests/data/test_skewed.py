"""The synthetic interactions of the scale benchmark have the skew they promise."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from lmrec.data.skewed import skewed_dataset
from lmrec.errors import UsageError


def test_size_skew_and_sessions() -> None:
    data = skewed_dataset(50_000, seed=3)
    inter = data.interactions
    assert inter.height == 50_000
    assert inter["user_id"].n_unique() == 1_000  # one user per 50 actions
    assert data.items.height == 1_000  # at least 1,000 items
    assert inter["timestamp"].is_sorted()
    counts = np.sort(inter.group_by("item_id").len()["len"].to_numpy())[::-1]
    assert counts[:10].sum() / counts.sum() > 0.15  # the top 1% of items: over 15% of actions
    per_user = inter.group_by("user_id").len()["len"]
    assert per_user.max() > 5 * per_user.median()  # a heavy tail of active users
    gaps = (
        inter.sort("user_id", "timestamp")
        .with_columns(pl.col("timestamp").diff().over("user_id").alias("gap"))["gap"]
        .drop_nulls()
        .to_numpy()
    )
    assert (gaps < 3600).mean() > 0.6  # most next actions in the same session
    assert (gaps > 86_400).mean() > 0.05  # and some days later


def test_deterministic_and_checked() -> None:
    a, b = skewed_dataset(2_000, seed=1), skewed_dataset(2_000, seed=1)
    assert a.interactions.equals(b.interactions)
    assert not a.interactions.equals(skewed_dataset(2_000, seed=2).interactions)
    with pytest.raises(UsageError, match="at least 1"):
        skewed_dataset(0)
