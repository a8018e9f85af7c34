"""RecBole's atomic files: ``NAME.inter`` (interactions) and optional ``NAME.item`` and
``NAME.user``, tab-separated, each header field ``name:type`` (``token``, ``token_seq``,
``float``, ``float_seq``)."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from lmrec.data.dataset import Dataset
from lmrec.data.issues import OnError, RowIssues
from lmrec.data.tabular import ColumnMapping, read_interactions, read_table
from lmrec.errors import DataError

__all__ = ["read_recbole"]

_TITLE = ("title", "movie_title", "name", "item_name")
_CATEGORIES = ("genre", "categories", "category", "class", "genres")


def read_recbole(path: str | Path, *, on_error: OnError = "fail") -> Dataset:
    """``path`` is a ``.inter`` file or the folder holding one; ``user_id``, ``item_id``,
    ``rating`` and ``timestamp`` become the user, item, value and time (the usual names of
    RecBole's datasets). A ``.item`` file beside it gives the catalog: a title field,
    categories from a genre-like ``token_seq`` field, and text from every text field."""
    inter_path = _inter_file(Path(path))
    issues = RowIssues(on_error)
    header = _fields(inter_path)
    mapping = ColumnMapping(
        user=header.get("user_id"), item=header.get("item_id"), value=header.get("rating"),
        time=header.get("timestamp"), sep="\t", quoting=False,
        default_event="rating" if "rating" in header else "view",
    )  # fmt: skip
    items = _items(inter_path.with_suffix(".item"), issues)
    catalog = None if items is None else set(items["item_id"].to_list())
    inter, time_is_order = read_interactions(
        inter_path, "csv", mapping, catalog=catalog, issues=issues
    )
    meta = issues.import_meta(inter_path, "recbole", time_is_order=time_is_order)
    return Dataset.build(inter, items, None, meta)


def _inter_file(path: Path) -> Path:
    if path.is_dir():
        found = sorted(path.glob("*.inter"))
        if len(found) != 1:
            raise DataError(f"expected one .inter file here, found {len(found)}", path=path)
        return found[0]
    if path.suffix != ".inter":
        raise DataError("a RecBole interactions file ends in .inter", path=path)
    return path


def _fields(path: Path) -> dict[str, str]:
    """Field name (without its ``:type``) -> the header cell, of a RecBole file."""
    with path.open(encoding="utf-8", errors="replace") as fh:
        first = fh.readline().rstrip("\n")
    cells = first.split("\t")
    if not first or any(":" not in c for c in cells):
        raise DataError("the header must be name:type fields separated by tabs", path=path, line=1)
    return {c.split(":", 1)[0]: c for c in cells}


def _items(path: Path, issues: RowIssues) -> pl.DataFrame | None:
    if not path.is_file():
        return None
    header = _fields(path)
    if "item_id" not in header:
        raise DataError("no item_id field", path=path, line=1)
    table, _ = read_table(path, "csv", sep="\t", quoting=False, issues=issues)
    texts = [c for c in header.values() if c.split(":", 1)[1] == "token_seq"]
    title = next((header[n] for n in _TITLE if n in header), None)
    genre = next((header[n] for n in _CATEGORIES if n in header), None)
    columns = [pl.col(header["item_id"]).alias("item_id")]
    columns.append((pl.col(title) if title else pl.col(header["item_id"])).alias("title"))
    columns.append(
        (pl.col(genre).str.split(" ") if genre else pl.lit([], dtype=pl.List(pl.String))).alias(
            "categories"
        )
    )
    text_parts = [pl.col(c).fill_null("") for c in texts] or [pl.col(header["item_id"])]
    columns.append(pl.concat_str(text_parts, separator=". ").alias("text"))
    return table.select(columns)
