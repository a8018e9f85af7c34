"""The data layer: import, clean, split; raw ids become indices only in the Vocabulary."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import polars as pl

from lmrec.data.baskets import baskets_by_day, read_baskets
from lmrec.data.clean import binarize, drop_bots, drop_duplicates, kcore
from lmrec.data.dataset import EVENT_TYPES, Dataset
from lmrec.data.fetch import SOURCES, fetch
from lmrec.data.issues import OnError, RowIssues
from lmrec.data.movielens import read_movielens, read_movielens_100k, read_movielens_dat
from lmrec.data.recbole import read_recbole
from lmrec.data.sequences import read_sequences
from lmrec.data.split import (
    PROTOCOLS,
    Split,
    split_dataset,
    split_loo,
    split_random,
    split_temporal,
)
from lmrec.data.synthetic import synthetic_dataset
from lmrec.data.tabular import ColumnMapping, import_table, read_table
from lmrec.data.vocab import Vocabulary
from lmrec.errors import DataError, UsageError

__all__ = [
    "EVENT_TYPES",
    "FORMATS",
    "PROTOCOLS",
    "SOURCES",
    "ColumnMapping",
    "Dataset",
    "OnError",
    "Split",
    "Vocabulary",
    "baskets_by_day",
    "binarize",
    "drop_bots",
    "drop_duplicates",
    "fetch",
    "import_dataset",
    "kcore",
    "read_baskets",
    "read_movielens",
    "read_movielens_100k",
    "read_movielens_dat",
    "read_recbole",
    "read_sequences",
    "split_dataset",
    "split_loo",
    "split_random",
    "split_temporal",
    "synthetic_dataset",
]

Format = Literal[
    "movielens-100k", "movielens", "movielens-dat", "recbole", "sequences", "csv", "tsv",
    "parquet", "jsonl", "baskets",
]  # fmt: skip
FORMATS: tuple[str, ...] = (
    "movielens-100k",
    "movielens",
    "movielens-dat",
    "recbole",
    "sequences",
    "csv",
    "tsv",
    "parquet",
    "jsonl",
    "baskets",
)


def import_dataset(
    src: str | Path,
    fmt: str,
    mapping: ColumnMapping | None = None,
    *,
    on_error: OnError = "fail",
    items_path: str | Path | None = None,
    users_path: str | Path | None = None,
) -> Dataset:
    """Read ``src`` in format ``fmt`` into a Dataset (see :data:`FORMATS`)."""
    path = Path(src)
    if not path.exists():
        raise DataError("no such file or folder", path=path)
    if fmt == "movielens-100k":
        return read_movielens_100k(path, on_error=on_error)
    if fmt == "movielens":
        return read_movielens(path, on_error=on_error)
    if fmt == "movielens-dat":
        return read_movielens_dat(path, on_error=on_error)
    if fmt == "recbole":
        return read_recbole(path, on_error=on_error)
    if fmt == "sequences":
        m = mapping or ColumnMapping()
        return read_sequences(path, encoding=m.encoding, on_error=on_error)
    if fmt == "baskets":
        m = mapping or ColumnMapping()
        return read_baskets(path, sep=m.sep, encoding=m.encoding, on_error=on_error)
    if fmt not in ("csv", "tsv", "parquet", "jsonl"):
        raise UsageError(f"unknown format '{fmt}'; use one of {', '.join(FORMATS)}")
    items = side_table(items_path, "item_id", on_error) if items_path else None
    users = side_table(users_path, "user_id", on_error) if users_path else None
    return import_table(path, fmt, mapping, on_error=on_error, items=items, users=users)  # type: ignore[arg-type]


def side_table(path: str | Path, key: str, on_error: OnError) -> pl.DataFrame:
    """An item catalog or user table in CSV/TSV/Parquet/JSONL (by extension); needs ``key``."""
    p = Path(path)
    ext = p.suffix.lower().lstrip(".")
    fmt = {"csv": "csv", "tsv": "tsv", "parquet": "parquet", "jsonl": "jsonl", "json": "jsonl"}.get(
        ext, "csv"
    )
    table, unit = read_table(p, fmt, issues=RowIssues(on_error))  # type: ignore[arg-type]
    if key not in table.columns:
        cols = ", ".join(c for c in table.columns if c != "_line")
        raise DataError(
            f"no column '{key}' (the file has: {cols})",
            path=p,
            column=key,
            line=1 if unit == "line" else None,
        )
    return table.drop("_line")
