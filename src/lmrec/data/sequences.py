"""Sequence files: one ``user item`` pair per line, each user's lines in time order (the form
the SASRec repository ships the Amazon and Steam data in). No timestamps: file order is time."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from lmrec.data.dataset import Dataset
from lmrec.data.issues import OnError, RowIssues
from lmrec.data.tabular import read_text
from lmrec.errors import DataError

__all__ = ["read_sequences"]


def read_sequences(
    path: str | Path, *, encoding: str = "utf-8", on_error: OnError = "fail"
) -> Dataset:
    """Each non-blank line ``user item`` (separated by spaces or tabs); a line with another
    number of fields is a bad row. The catalog is the items seen, without text."""
    src = Path(path)
    issues = RowIssues(on_error)
    users: list[str] = []
    items: list[str] = []
    lines: list[int] = []
    for lineno, line in enumerate(read_text(src, encoding).splitlines(), start=1):
        fields = line.split()
        if not fields:
            continue
        if len(fields) != 2:
            issues.row("expected 'user item'", path=src, line=lineno, detail=f"{line[:60]!r}")
            continue
        users.append(fields[0])
        items.append(fields[1])
        lines.append(lineno)
    if not users:
        raise DataError("no 'user item' lines", path=src)
    inter = pl.DataFrame(
        {"user_id": users, "item_id": items, "timestamp": lines},
        schema={"user_id": pl.String, "item_id": pl.String, "timestamp": pl.Int64},
    ).with_columns(pl.lit("view").alias("event"))
    ids = inter["item_id"].unique(maintain_order=True)
    catalog = pl.DataFrame({"item_id": ids, "title": ids})
    meta = issues.import_meta(src, "sequences", time_is_order=True)
    return Dataset.build(inter, catalog, None, meta)
