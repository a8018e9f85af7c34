"""What a CTR model may know about a user's own past at the moment of an impression.

A user's earlier events and their outcomes are known when the next impression is served, so
they are fair features (a live system keeps these counters per user). Most impressions in a
temporal test period come from users who were not in the training period at all; for them the
count of earlier events and their smoothed click rate are the only personal signal.

Only events with an earlier timestamp count: events of the same second are simultaneous, so
none of them sees another's outcome.
"""

from __future__ import annotations

import numpy as np
import polars as pl

__all__ = ["HISTORY_COLUMNS", "PRIOR_STRENGTH", "UserState", "with_user_history"]

#: dense features added to every event: log(1 + earlier events), smoothed earlier click rate
HISTORY_COLUMNS = ("user_events_before", "user_click_rate_before")
#: the click rate is shrunk toward the training rate as if by this many events at that rate
PRIOR_STRENGTH = 5.0


def _columns(n: pl.Expr, pos: pl.Expr, prior: float) -> list[pl.Expr]:
    return [
        n.cast(pl.Float64).log1p().alias(HISTORY_COLUMNS[0]),
        ((pos + prior * PRIOR_STRENGTH) / (n + PRIOR_STRENGTH)).alias(HISTORY_COLUMNS[1]),
    ]


def with_user_history(events: pl.DataFrame, y: np.ndarray, prior: float) -> pl.DataFrame:
    """``events`` with :data:`HISTORY_COLUMNS` from each user's strictly earlier events;
    ``y`` holds each event's label, ``prior`` the click rate of a user with no history."""
    if len(y) != events.height:
        raise ValueError(f"{events.height} events but {len(y)} labels")
    has_time = "timestamp" in events.columns
    # without timestamps, row order is time: each row is its own moment
    moment = pl.col("timestamp") if has_time else pl.int_range(pl.len()).alias("_moment")
    frame = events.select(
        pl.col("user_id"), moment.alias("_moment"), pl.Series("_y", y, dtype=pl.Float64)
    )
    per_moment = (
        frame.group_by("user_id", "_moment")
        .agg(pl.len().alias("_n"), pl.col("_y").sum().alias("_pos"))
        .sort("user_id", "_moment")
        .with_columns(
            (pl.col("_n").cum_sum().over("user_id") - pl.col("_n")).alias("_before"),
            (pl.col("_pos").cum_sum().over("user_id") - pl.col("_pos")).alias("_pos_before"),
        )
    )
    joined = frame.join(
        per_moment.select("user_id", "_moment", "_before", "_pos_before"),
        on=["user_id", "_moment"],
        how="left",
        maintain_order="left",
    )
    stats = joined.select(*_columns(pl.col("_before"), pl.col("_pos_before"), prior))
    return events.drop(HISTORY_COLUMNS, strict=False).hstack(stats)


class UserState:
    """Per-user event and click counts at the end of the training data, for serving."""

    def __init__(self, table: pl.DataFrame, prior: float) -> None:
        self.table = table  # user_id, events, clicks
        self.prior = prior
        self._counts = dict(
            zip(
                table["user_id"].to_list(),
                zip(table["events"].to_list(), table["clicks"].to_list(), strict=True),
                strict=True,
            )
        )

    @classmethod
    def from_events(cls, events: pl.DataFrame, y: np.ndarray, prior: float) -> UserState:
        table = (
            pl.DataFrame({"user_id": events["user_id"], "clicks": np.asarray(y, np.float64)})
            .group_by("user_id")
            .agg(pl.len().alias("events"), pl.col("clicks").sum())
            .sort("user_id")
        )
        return cls(table, prior)

    def features(self, user_id: str, n: int) -> pl.DataFrame:
        """:data:`HISTORY_COLUMNS` for ``n`` rows of ``user_id`` (none known: no history)."""
        events, clicks = self._counts.get(user_id, (0, 0.0))
        one = pl.DataFrame({"_n": [float(events)], "_pos": [float(clicks)]}).select(
            *_columns(pl.col("_n"), pl.col("_pos"), self.prior)
        )
        return one.select(pl.all().repeat_by(n).explode())
