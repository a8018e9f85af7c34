"""Basket files: one basket per line, comma-separated item names (e.g. the Groceries data)."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from lmrec.data.dataset import Dataset
from lmrec.data.issues import OnError, RowIssues
from lmrec.data.tabular import read_text
from lmrec.errors import DataError

__all__ = ["baskets_by_day", "read_baskets"]


def read_baskets(
    path: str | Path, *, sep: str = ",", encoding: str = "utf-8", on_error: OnError = "fail"
) -> Dataset:
    """Each non-blank line is a basket (user ``basket<line>``); names are stripped of spaces.

    Time is file order (a basket's items share its line number as timestamp). An empty name
    between two separators is a bad row.
    """
    src = Path(path)
    issues = RowIssues(on_error)
    text = read_text(src, encoding)
    users: list[str] = []
    items: list[str] = []
    stamps: list[int] = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        names = [name.strip() for name in line.split(sep)]
        if any(not n for n in names):
            issues.row("empty item name", path=src, line=lineno, detail=f"{line[:60]!r}")
            continue
        seen: set[str] = set()
        for name in names:
            if name in seen:
                continue  # an item twice in one basket is one purchase
            seen.add(name)
            users.append(f"basket{lineno}")
            items.append(name)
            stamps.append(lineno)
    if not users:
        raise DataError("no baskets", path=src)
    inter = pl.DataFrame(
        {"user_id": users, "item_id": items, "timestamp": stamps},
        schema={"user_id": pl.String, "item_id": pl.String, "timestamp": pl.Int64},
    ).with_columns(pl.lit("purchase").alias("event"))
    names_sorted = sorted(set(items))
    catalog = pl.DataFrame({"item_id": names_sorted, "title": names_sorted, "text": names_sorted})
    meta = issues.import_meta(src, "baskets", time_is_order=True)
    return Dataset.build(inter, catalog, None, meta)


def baskets_by_day(data: Dataset) -> Dataset:
    """Each user's interactions of one calendar day (UTC) as one basket, ``<user>@<YYYY-MM-DD>``,
    for basket tasks on user logs. Needs real timestamps (Unix seconds)."""
    if data.meta.get("time_is_order"):
        raise DataError(
            "this dataset's timestamps are only an order, so days are unknown; "
            "import baskets with --format baskets instead"
        )
    day = pl.from_epoch(pl.col("timestamp"), time_unit="s").dt.strftime("%Y-%m-%d")
    inter = data.interactions.with_columns((pl.col("user_id") + pl.lit("@") + day).alias("user_id"))
    return Dataset.build(
        inter, data.items, None, {**data.meta, "baskets": "user-day", "source_format": "baskets"}
    )
