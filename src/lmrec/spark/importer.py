"""``data import`` on Spark for CSV, TSV and Parquet: the column mapping, row checks and
normal form of :func:`lmrec.data.import_table`, the file read and checked by Spark.

Two differences from one machine, both for files it cannot tell apart from valid ones: a CSV
row with too few fields has nulls in the missing ones (and fails the id checks when an id is
missing) and one with too many loses the extra ones, where one machine reports "wrong number
of fields"; without a time column, time is the row's position (plus 1, or 2 after a header),
which is its line number unless the file has blank lines or quoted line breaks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl

from lmrec.data import ColumnMapping, OnError, side_table
from lmrec.data.dataset import FORMAT_VERSION, empty_users, normalise_items
from lmrec.data.issues import RowIssues
from lmrec.data.tabular import resolve_columns
from lmrec.errors import DataError, UsageError
from lmrec.spark.frames import ROW, with_row_numbers, write_single_parquet

__all__ = ["SPARK_FORMATS", "import_on_spark"]

#: the formats ``data import --engine spark`` reads
SPARK_FORMATS = ("csv", "tsv", "parquet")


def import_on_spark(
    spark: Any,
    src: str | Path,
    fmt: str,
    out: str | Path,
    mapping: ColumnMapping | None = None,
    *,
    on_error: OnError = "fail",
    items_path: str | Path | None = None,
    users_path: str | Path | None = None,
) -> dict[str, Any]:
    """Import the interactions file ``src`` into the dataset folder ``out``; its counts."""
    from pyspark.sql import functions as F

    if fmt not in SPARK_FORMATS:
        raise UsageError(
            f"--engine spark imports {', '.join(SPARK_FORMATS)}, not '{fmt}'; "
            "import it with --engine local"
        )
    path, dst = Path(src), Path(out)
    if not path.is_file():
        raise DataError("no such file", path=path)
    mapping = mapping or ColumnMapping()
    issues = RowIssues(on_error)
    raw = _read(spark, path, fmt, mapping)
    first_line = 2 if fmt != "parquet" and mapping.header else 1
    frame = with_row_numbers(raw).withColumn("_line", F.col(ROW) + first_line)
    probe = pl.DataFrame(schema={c: pl.String for c in raw.columns})
    cols = resolve_columns(path, probe, mapping, positional=fmt != "parquet" and not mapping.header)
    user, item = cols["user"] or "", cols["item"] or ""  # resolve_columns raises without them
    time, value, event = cols["time"], cols["value"], cols["event"]
    catalog = side_table(items_path, "item_id", on_error) if items_path else None
    users = side_table(users_path, "user_id", on_error) if users_path else None

    text: dict[str, Any] = {c: F.trim(F.col(c)) for c in (user, item, time, value) if c}
    checks: list[tuple[str, str, Any]] = [
        ("missing user id", user, F.col(user).isNull() | (text[user] == "")),
        ("missing item id", item, F.col(item).isNull() | (text[item] == "")),
    ]
    if time is not None:
        frame = frame.withColumn("_ts", _seconds(time))
        checks.append(("timestamp is not a number or an ISO-8601 date-time", time,
                       F.col("_ts").isNull()))  # fmt: skip
    if value is not None:
        num = F.expr(f"try_cast(trim(`{value}`) as double)")
        bad = (
            (num.isNull() & F.col(value).isNotNull() & (text[value] != ""))
            | F.isnan(num)
            | (F.abs(num) == float("inf"))
        )
        checks.append(("value is not a number", value, bad))
    if catalog is not None:
        known = spark.createDataFrame(
            [(i,) for i in catalog["item_id"].cast(pl.String)], "_known string"
        )
        frame = frame.join(F.broadcast(known), text[item] == F.col("_known"), "left")
        checks.append(("item id is not in the item catalog", item, F.col("_known").isNull()))
    frame = _apply_checks(frame, checks, issues, path).persist()

    default = F.lit(mapping.default_event)
    columns = [
        text[user].alias("user_id"),
        text[item].alias("item_id"),
        (F.col("_ts") if time is not None else F.col("_line")).cast("long").alias("timestamp"),
        (F.coalesce(F.col(event), default) if event is not None else default).alias("event"),
        (F.expr(f"try_cast(trim(`{value}`) as double)") if value is not None
         else F.lit(None).cast("double")).alias("value"),
    ]  # fmt: skip
    used = {user, item, time, value, event}
    columns += [F.col(c).cast("string").alias(c) for c in raw.columns if c not in used]
    inter = frame.select(*columns, ROW)
    dst.mkdir(parents=True, exist_ok=True)
    write_single_parquet(inter, dst / "interactions.parquet")
    items = _catalog(spark, dst / "interactions.parquet", catalog)
    items.write_parquet(dst / "items.parquet")
    users_df = users if users is not None else empty_users()
    users_df.with_columns(pl.col("user_id").cast(pl.String)).write_parquet(dst / "users.parquet")
    meta = issues.import_meta(path, fmt, time_is_order=time is None)
    meta |= {"format": "lmrec-dataset", "version": FORMAT_VERSION, "engine": "spark"}
    (dst / "dataset.json").write_text(json.dumps(meta, indent=2, default=str) + "\n")
    written = spark.read.parquet(str(dst / "interactions.parquet"))
    counts = written.selectExpr(
        "count(*) as n", "count(distinct user_id) as users").first()  # fmt: skip
    return {"interactions": int(counts["n"]), "users": int(counts["users"]),
            "items_in_catalog": items.height, "skipped_rows": issues.as_dict()}  # fmt: skip


def _read(spark: Any, path: Path, fmt: str, mapping: ColumnMapping) -> Any:
    """The file with every column as a string."""
    from pyspark.sql import functions as F

    if fmt == "parquet":
        frame = spark.read.parquet(str(path))
        return frame.select(*[F.col(c).cast("string").alias(c) for c in frame.columns])
    sep = "\t" if fmt == "tsv" and mapping.sep == "," else mapping.sep
    reader = (
        spark.read.option("header", mapping.header).option("sep", sep)
        .option("encoding", mapping.encoding).option("inferSchema", False)
        .option("ignoreLeadingWhiteSpace", False).option("ignoreTrailingWhiteSpace", False)
        .option("quote", '"' if mapping.quoting else "\u0000").option("mode", "PERMISSIVE")
    )  # fmt: skip
    frame = reader.csv(str(path))
    if not mapping.header:  # named by position, as on one machine
        frame = frame.toDF(*[str(i) for i in range(len(frame.columns))])
    # Spark reads an empty field as null; in a CSV file it is the empty string
    return frame.select(*[F.coalesce(F.col(f"`{c}`"), F.lit("")).alias(c) for c in frame.columns])


def _seconds(column: str) -> Any:
    """Unix seconds from column ``column``: an integer, a decimal (floored) or an ISO-8601
    date-time string (null when none of them parses)."""
    from pyspark.sql import functions as F

    text = f"trim(`{column}`)"
    as_int = F.expr(f"try_cast({text} as bigint)")
    as_float = F.expr(f"try_cast({text} as double)")
    finite = F.when(~F.isnan(as_float) & (F.abs(as_float) != float("inf")), as_float)
    iso = F.expr(
        f"{text} rlike '^[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}T'"
    )  # a 'T' between date and time
    as_date = F.when(iso, F.unix_seconds(F.expr(f"try_to_timestamp({text})")))
    return F.coalesce(as_int, F.floor(finite).cast("bigint"), as_date)


def _apply_checks(
    frame: Any, checks: list[tuple[str, str, Any]], issues: RowIssues, path: Path
) -> Any:
    """Each check on the rows the earlier ones kept: fail at the first bad row (by line), or
    drop the bad rows and count them by reason."""
    from pyspark.sql import functions as F

    flags = [F.coalesce(bad, F.lit(False)) for _, _, bad in checks]
    firsts = []
    for k, flag in enumerate(flags):
        earlier = [~f for f in flags[:k]]
        only = flag
        for e in earlier:
            only = only & e
        firsts.append(only)
    tagged = frame.select("*", *[f.alias(f"_bad{k}") for k, f in enumerate(firsts)])
    aggs = [F.sum(F.col(f"_bad{k}").cast("long")).alias(f"n{k}") for k in range(len(checks))]
    aggs += [
        F.min(F.when(F.col(f"_bad{k}"), F.col("_line"))).alias(f"l{k}") for k in range(len(checks))
    ]
    summary = tagged.agg(*aggs).first()
    for k, (reason, column, _) in enumerate(checks):
        n_bad = int(summary[f"n{k}"] or 0)
        if n_bad == 0:
            continue
        if issues.on_error == "fail":
            line = int(summary[f"l{k}"])
            row = tagged.filter(F.col("_line") == line).select(column).first()
            issues.row(reason, path=path, line=line, column=column, detail=repr(row[0]))
        issues.skipped[reason] += n_bad
    keep = F.lit(True)
    for k in range(len(checks)):
        keep = keep & ~F.col(f"_bad{k}")
    return tagged.filter(keep).drop(*[f"_bad{k}" for k in range(len(checks))])


def _catalog(spark: Any, interactions: Path, catalog: pl.DataFrame | None) -> pl.DataFrame:
    """The catalog with a row (title and text = the id) for each item only the interactions
    name, in order of first appearance, as :meth:`lmrec.data.Dataset.build` adds them."""
    from pyspark.sql import functions as F

    items = normalise_items(
        catalog if catalog is not None else pl.DataFrame(schema={"item_id": pl.String})
    )
    seen = with_row_numbers(spark.read.parquet(str(interactions)).select("item_id"))
    firsts = seen.groupBy("item_id").agg(F.min(ROW).alias("_first"))
    if items.height:
        known = spark.createDataFrame([(i,) for i in items["item_id"]], "item_id string")
        firsts = firsts.join(F.broadcast(known), "item_id", "left_anti")
    table = firsts.orderBy("_first").select("item_id").toArrow()
    missing = pl.from_arrow(table)
    assert isinstance(missing, pl.DataFrame)
    if missing.height == 0:
        return items
    extra = missing.with_columns(
        pl.col("item_id").cast(pl.String),
    ).with_columns(
        pl.col("item_id").alias("title"),
        pl.col("item_id").alias("text"),
        pl.lit([], dtype=pl.List(pl.String())).alias("categories"),
    )
    return pl.concat([items, extra], how="diagonal_relaxed")
