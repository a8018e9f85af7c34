"""The Dataset: interactions, an item catalog and user attributes, saved as Parquet + JSON."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import polars as pl

from lmrec.errors import DataError, UsageError

__all__ = [
    "EVENT_TYPES",
    "INTERACTION_SCHEMA",
    "ITEM_SCHEMA",
    "Dataset",
    "empty_items",
    "empty_users",
]

#: Event types lmrec knows; other strings are kept as they are.
EVENT_TYPES = ("view", "click", "cart", "purchase", "rating", "not_interested")

#: Columns every interactions table has, in this order; context columns (device, location, ...)
#: follow as strings.
INTERACTION_SCHEMA: dict[str, pl.DataType] = {
    "user_id": pl.String(),
    "item_id": pl.String(),
    "timestamp": pl.Int64(),
    "event": pl.String(),
    "value": pl.Float64(),
}
ITEM_SCHEMA: dict[str, pl.DataType] = {
    "item_id": pl.String(),
    "title": pl.String(),
    "text": pl.String(),
    "categories": pl.List(pl.String()),
}
FORMAT_VERSION = 1


def empty_items() -> pl.DataFrame:
    return pl.DataFrame(schema=ITEM_SCHEMA)


def empty_users() -> pl.DataFrame:
    return pl.DataFrame(schema={"user_id": pl.String()})


@dataclass(frozen=True)
class Dataset:
    """Interactions (in time order; ties keep file order), items and users.

    ``interactions`` has the columns of :data:`INTERACTION_SCHEMA` plus optional string context
    columns. ``items`` has :data:`ITEM_SCHEMA` plus any attribute columns; ``users`` has ``user_id``
    plus attributes. Raw ids are strings; numbering happens in :class:`~lmrec.data.Vocabulary`.
    """

    interactions: pl.DataFrame
    items: pl.DataFrame = field(default_factory=empty_items)
    users: pl.DataFrame = field(default_factory=empty_users)
    meta: dict[str, Any] = field(default_factory=dict)

    # -- construction -------------------------------------------------------------------------
    @classmethod
    def build(
        cls,
        interactions: pl.DataFrame,
        items: pl.DataFrame | None = None,
        users: pl.DataFrame | None = None,
        meta: dict[str, Any] | None = None,
    ) -> Dataset:
        """Normalise column types, add catalog rows for items seen only in interactions."""
        inter = normalise_interactions(interactions)
        items_df = normalise_items(items if items is not None else empty_items())
        known = set(items_df["item_id"].to_list())
        missing = inter.select(pl.col("item_id").unique(maintain_order=True)).filter(
            ~pl.col("item_id").is_in(list(known))
        )
        if missing.height:
            extra = missing.with_columns(
                pl.col("item_id").alias("title"),
                pl.col("item_id").alias("text"),
                pl.lit([], dtype=pl.List(pl.String())).alias("categories"),
            )
            items_df = pl.concat([items_df, extra], how="diagonal_relaxed")
        users_df = users if users is not None else empty_users()
        users_df = users_df.with_columns(pl.col("user_id").cast(pl.String))
        return cls(inter, items_df, users_df, dict(meta or {}))

    def with_interactions(self, interactions: pl.DataFrame, **meta: Any) -> Dataset:
        return replace(self, interactions=interactions, meta={**self.meta, **meta})

    # -- facts --------------------------------------------------------------------------------
    @property
    def context_columns(self) -> list[str]:
        return [c for c in self.interactions.columns if c not in INTERACTION_SCHEMA]

    def stats(self) -> dict[str, Any]:
        inter = self.interactions
        n_users = inter["user_id"].n_unique()
        n_items_used = inter["item_id"].n_unique()
        per_user = inter.group_by("user_id").len()["len"]
        per_item = inter.group_by("item_id").len()["len"]
        out: dict[str, Any] = {
            "interactions": inter.height,
            "users": n_users,
            "items_in_catalog": self.items.height,
            "items_with_interactions": n_items_used,
            "density": inter.height / max(1, n_users * max(1, self.items.height)),
            "interactions_per_user": _summary(per_user),
            "interactions_per_item": _summary(per_item),
            "events": dict(inter.group_by("event").len().sort("event").iter_rows()),
            "context_columns": self.context_columns,
            "user_attributes": [c for c in self.users.columns if c != "user_id"],
            "item_attributes": [c for c in self.items.columns if c not in ITEM_SCHEMA],
        }
        if inter.height:
            out["time_range"] = [int(inter["timestamp"].min()), int(inter["timestamp"].max())]  # type: ignore[arg-type]
        if inter["value"].null_count() < inter.height:
            out["value_mean"] = float(inter["value"].mean())  # type: ignore[arg-type]
        return out

    # -- storage ------------------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        out = Path(path)
        out.mkdir(parents=True, exist_ok=True)
        self.interactions.write_parquet(out / "interactions.parquet")
        self.items.write_parquet(out / "items.parquet")
        self.users.write_parquet(out / "users.parquet")
        meta = {**self.meta, "format": "lmrec-dataset", "version": FORMAT_VERSION}
        (out / "dataset.json").write_text(json.dumps(meta, indent=2, default=str) + "\n")
        return out

    @classmethod
    def load(cls, path: str | Path) -> Dataset:
        src = Path(path)
        meta_path = src / "dataset.json"
        if not meta_path.is_file():
            raise UsageError(
                f"{src}: not an lmrec dataset (no dataset.json); create one with 'lmrec data import'"
            )
        try:
            meta = json.loads(meta_path.read_text())
        except json.JSONDecodeError as exc:
            raise DataError(f"not valid JSON ({exc.msg})", path=meta_path, line=exc.lineno) from exc
        inter = pl.read_parquet(src / "interactions.parquet")
        items = pl.read_parquet(src / "items.parquet")
        users = pl.read_parquet(src / "users.parquet")
        return cls(inter, items, users, meta)


def normalise_interactions(frame: pl.DataFrame) -> pl.DataFrame:
    """Cast to :data:`INTERACTION_SCHEMA`, fill defaults, context columns as strings."""
    for col in ("user_id", "item_id"):
        if col not in frame.columns:
            raise UsageError(f"interactions need a '{col}' column (have {frame.columns})")
    exprs = [pl.col("user_id").cast(pl.String), pl.col("item_id").cast(pl.String)]
    if "timestamp" in frame.columns:
        exprs.append(pl.col("timestamp").cast(pl.Int64))
    else:
        exprs.append(pl.int_range(0, pl.len(), dtype=pl.Int64).alias("timestamp"))
    exprs.append(
        pl.col("event").cast(pl.String)
        if "event" in frame.columns
        else pl.lit("view").alias("event")
    )
    exprs.append(
        pl.col("value").cast(pl.Float64)
        if "value" in frame.columns
        else pl.lit(None, dtype=pl.Float64).alias("value")
    )
    context = [c for c in frame.columns if c not in INTERACTION_SCHEMA]
    exprs.extend(pl.col(c).cast(pl.String) for c in context)
    return frame.select(exprs)


def normalise_items(frame: pl.DataFrame) -> pl.DataFrame:
    if "item_id" not in frame.columns:
        raise UsageError(f"the item catalog needs an 'item_id' column (have {frame.columns})")
    frame = frame.with_columns(pl.col("item_id").cast(pl.String))
    if "title" not in frame.columns:
        frame = frame.with_columns(pl.col("item_id").alias("title"))
    if "text" not in frame.columns:
        frame = frame.with_columns(pl.col("title").alias("text"))
    if "categories" not in frame.columns:
        frame = frame.with_columns(pl.lit([], dtype=pl.List(pl.String())).alias("categories"))
    elif frame.schema["categories"] == pl.String:
        frame = frame.with_columns(
            pl.col("categories")
            .fill_null("")
            .str.split("|")
            .list.eval(pl.element().filter(pl.element() != ""))
        )
    rest = [c for c in frame.columns if c not in ITEM_SCHEMA]
    return frame.select(
        pl.col("item_id"),
        pl.col("title").cast(pl.String),
        pl.col("text").cast(pl.String),
        pl.col("categories").cast(pl.List(pl.String())),
        *rest,
    )


def _summary(series: pl.Series) -> dict[str, float]:
    if series.len() == 0:
        return {"min": 0, "median": 0, "mean": 0, "max": 0}
    return {
        "min": float(series.min()),  # type: ignore[arg-type]
        "median": float(series.median()),  # type: ignore[arg-type]
        "mean": float(series.mean()),  # type: ignore[arg-type]
        "max": float(series.max()),  # type: ignore[arg-type]
    }
