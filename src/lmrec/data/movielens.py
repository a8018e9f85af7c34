"""Readers for MovieLens folders: the 100K release and the "latest"/25M-style CSV releases."""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl

from lmrec.data.dataset import Dataset
from lmrec.data.issues import OnError, RowIssues
from lmrec.data.tabular import ColumnMapping, read_interactions, read_table
from lmrec.errors import DataError

__all__ = ["read_movielens", "read_movielens_100k", "read_movielens_dat"]

ML100K_GENRES = (
    "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime", "Documentary",
    "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi",
    "Thriller", "War", "Western",
)  # fmt: skip
_YEAR = re.compile(r"\((\d{4})\)\s*$")


def _need(folder: Path, name: str) -> Path:
    path = folder / name
    if not path.is_file():
        raise DataError(f"missing {name}: is this a MovieLens folder?", path=folder)
    return path


def read_movielens_100k(folder: str | Path, *, on_error: OnError = "fail") -> Dataset:
    """``u.data`` (ratings), ``u.item`` (latin-1 catalog with 19 genre flags), ``u.user``."""
    root = Path(folder)
    issues = RowIssues(on_error)
    genres = list(ML100K_GENRES)
    if (root / "u.genre").is_file():
        table, _ = read_table(
            root / "u.genre",
            "csv",
            sep="|",
            header=False,
            encoding="latin-1",
            quoting=False,
            issues=issues,
        )
        genres = table["0"].to_list()
    items = _ml100k_items(_need(root, "u.item"), genres, issues)
    users = None
    if (root / "u.user").is_file():
        table, _ = read_table(
            root / "u.user",
            "csv",
            sep="|",
            header=False,
            encoding="latin-1",
            quoting=False,
            issues=issues,
        )
        users = table.select(
            pl.col("0").alias("user_id"),
            pl.col("1").cast(pl.Int64, strict=False).alias("age"),
            pl.col("2").alias("gender"),
            pl.col("3").alias("occupation"),
            pl.col("4").alias("zip"),
        )
    mapping = ColumnMapping(
        user="0",
        item="1",
        value="2",
        time="3",
        sep="\t",
        header=False,
        quoting=False,
        default_event="rating",
    )
    inter, _ = read_interactions(
        _need(root, "u.data"),
        "csv",
        mapping,
        catalog=set(items["item_id"].to_list()),
        issues=issues,
    )
    meta = issues.import_meta(root, "movielens-100k", time_is_order=False)
    return Dataset.build(inter, items, users, meta)


def _ml100k_items(path: Path, genres: list[str], issues: RowIssues) -> pl.DataFrame:
    table, _ = read_table(
        path, "csv", sep="|", header=False, encoding="latin-1", quoting=False, issues=issues
    )
    n_fixed = 5
    if table.width - 1 != n_fixed + len(genres):
        raise DataError(
            f"expected {n_fixed + len(genres)} '|'-separated fields, found {table.width - 1}",
            path=path,
            line=1,
        )
    flags = table.select(pl.col(str(n_fixed + i)) == "1" for i in range(len(genres))).to_numpy()
    cats = [[g for g, on in zip(genres, row, strict=True) if on] for row in flags]
    titles = table["1"].to_list()
    texts = [
        f"{t}. Genres: {', '.join(c) or 'unknown'}." for t, c in zip(titles, cats, strict=True)
    ]
    years = [int(m.group(1)) if (m := _YEAR.search(t or "")) else None for t in titles]
    return pl.DataFrame(
        {
            "item_id": table["0"],
            "title": titles,
            "text": texts,
            "categories": cats,
            "year": years,
            "release_date": table["2"],
            "imdb_url": table["4"],
        },
        schema_overrides={"categories": pl.List(pl.String), "year": pl.Int64},
    )


def read_movielens(folder: str | Path, *, on_error: OnError = "fail") -> Dataset:
    """A MovieLens "latest" style folder: ``ratings.csv``, ``movies.csv`` and optional ``tags.csv``."""
    root = Path(folder)
    issues = RowIssues(on_error)
    movies, _ = read_table(_need(root, "movies.csv"), "csv", issues=issues)
    for col in ("movieId", "title", "genres"):
        if col not in movies.columns:
            raise DataError(f"no column '{col}'", path=root / "movies.csv", line=1, column=col)
    items = movies.select(
        pl.col("movieId").str.strip_chars().alias("item_id"),
        pl.col("title"),
        pl.col("genres")
        .str.split("|")
        .list.eval(pl.element().filter(pl.element() != "(no genres listed)"))
        .alias("categories"),
    )
    tags_text = None
    if (root / "tags.csv").is_file():
        tags, _ = read_table(root / "tags.csv", "csv", issues=issues)
        if {"movieId", "tag"} <= set(tags.columns):
            tags_text = (
                tags.group_by("movieId", maintain_order=True)
                .agg(pl.col("tag").str.to_lowercase().unique(maintain_order=True).alias("tags"))
                .rename({"movieId": "item_id"})
            )
    if tags_text is not None:
        items = items.join(tags_text, on="item_id", how="left")
    else:
        items = items.with_columns(pl.lit(None, dtype=pl.List(pl.String)).alias("tags"))
    items = items.with_columns(
        pl.col("title").str.extract(r"\((\d{4})\)\s*$").cast(pl.Int64, strict=False).alias("year"),
        pl.concat_str(
            pl.col("title"),
            pl.lit(". Genres: "),
            pl.col("categories").list.join(", "),
            pl.lit("."),
            pl.when(pl.col("tags").list.len() > 0)
            .then(pl.lit(" Tags: ") + pl.col("tags").list.join(", ") + pl.lit("."))
            .otherwise(pl.lit("")),
        ).alias("text"),
    ).select("item_id", "title", "text", "categories", "year", "tags")
    mapping = ColumnMapping(
        user="userId", item="movieId", value="rating", time="timestamp", default_event="rating"
    )
    inter, _ = read_interactions(
        _need(root, "ratings.csv"),
        "csv",
        mapping,
        catalog=set(items["item_id"].to_list()),
        issues=issues,
    )
    meta = issues.import_meta(root, "movielens", time_is_order=False)
    return Dataset.build(inter, items, None, meta)


def read_movielens_dat(folder: str | Path, *, on_error: OnError = "fail") -> Dataset:
    """A MovieLens 1M or 10M folder: ``ratings.dat`` (``user::item::rating::time``),
    ``movies.dat`` (``id::title::genres``) and, for 1M, ``users.dat``. 1M is latin-1, 10M UTF-8
    (either is read: UTF-8 first)."""
    root = Path(folder)
    issues = RowIssues(on_error)
    encoding = _dat_encoding(_need(root, "movies.dat"))

    def dat(path: Path) -> pl.DataFrame:
        table, _ = read_table(
            path, "csv", sep="::", header=False, encoding=encoding, quoting=False, issues=issues
        )
        return table

    movies = dat(root / "movies.dat")
    if movies.width < 4:  # three fields and the line number
        raise DataError("expected id::title::genres", path=root / "movies.dat", line=1)
    items = movies.select(
        pl.col("0").str.strip_chars().alias("item_id"),
        pl.col("1").alias("title"),
        pl.col("2").str.split("|").alias("categories"),
    ).with_columns(
        pl.col("title").str.extract(r"\((\d{4})\)\s*$").cast(pl.Int64, strict=False).alias("year"),
        (
            pl.col("title")
            + pl.lit(". Genres: ")
            + pl.col("categories").list.join(", ")
            + pl.lit(".")
        ).alias("text"),
    )
    users = None
    if (root / "users.dat").is_file():
        table = dat(root / "users.dat")
        names = ["user_id", "gender", "age", "occupation", "zip"]
        users = table.select(
            [pl.col(str(j)).alias(n) for j, n in enumerate(names) if str(j) in table.columns]
        )
    mapping = ColumnMapping(
        user="0", item="1", value="2", time="3", sep="::", header=False, encoding=encoding,
        quoting=False, default_event="rating",
    )  # fmt: skip
    inter, _ = read_interactions(
        _need(root, "ratings.dat"), "csv", mapping,
        catalog=set(items["item_id"].to_list()), issues=issues,
    )  # fmt: skip
    meta = issues.import_meta(root, "movielens-dat", time_is_order=False)
    return Dataset.build(inter, items, users, meta)


def _dat_encoding(path: Path) -> str:
    try:
        path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        return "latin-1"
    return "utf-8"
