"""``data clean`` on Spark: the rules of :mod:`lmrec.data.clean` (dedupe keeping each pair's
last row, a value threshold, bot users by event rate, the k-core) in the same order, rows
kept in file order, written as an lmrec dataset."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from lmrec.errors import UsageError
from lmrec.spark.frames import ROW, read_rows, write_single_parquet

__all__ = ["clean_on_spark"]


def clean_on_spark(
    spark: Any,
    dataset: str | Path,
    out: str | Path,
    *,
    dedupe: bool = True,
    min_value: float | None = None,
    min_user: int = 1,
    min_item: int = 1,
    drop_bots: bool = False,
    max_per_minute: int = 60,
    max_per_day: int = 5000,
    max_rounds: int = 100,
) -> dict[str, int]:
    """Clean the dataset folder ``dataset`` into ``out``; the counts ``data clean`` prints."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    src, dst = Path(dataset), Path(out)
    if not (src / "dataset.json").is_file():
        raise UsageError(
            f"{src}: not an lmrec dataset (no dataset.json); create one with 'lmrec data import'"
        )
    if min_user < 1 or min_item < 1:
        raise UsageError("k-core thresholds must be at least 1")
    meta = json.loads((src / "dataset.json").read_text())
    inter = read_rows(spark, src / "interactions.parquet").persist()
    report = {"before": inter.count()}
    if dedupe:
        last = F.max(ROW).over(Window.partitionBy("user_id", "item_id"))
        tagged = inter.withColumn("_last", last)
        kept = tagged.filter(F.col(ROW) == F.col("_last")).drop("_last").persist()
        report["duplicates_removed"] = report["before"] - kept.count()
        inter = kept
    if min_value is not None:
        n = inter.count()
        inter = inter.filter(F.col("value").isNull() | (F.col("value") >= min_value)).persist()
        report["below_threshold_removed"] = n - inter.count()
    if drop_bots:
        if meta.get("time_is_order"):
            report |= {"bot_users_removed": 0, "bot_interactions_removed": 0}
        else:
            n = inter.count()
            by_time = Window.partitionBy("user_id").orderBy("timestamp")
            flagged = inter.select(
                "user_id",
                F.count(F.lit(1)).over(by_time.rangeBetween(0, 59)).alias("_minute"),
                F.count(F.lit(1)).over(by_time.rangeBetween(0, 86_399)).alias("_day"),
            )
            bots = flagged.filter(
                (F.col("_minute") > max_per_minute) | (F.col("_day") > max_per_day)
            ).select("user_id").distinct().persist()  # fmt: skip
            report["bot_users_removed"] = bots.count()
            inter = inter.join(bots, "user_id", "left_anti").persist()
            report["bot_interactions_removed"] = n - inter.count()
    if min_user > 1 or min_item > 1:
        n = before = inter.count()
        for _ in range(max_rounds):
            users = inter.groupBy("user_id").count().filter(F.col("count") >= min_user)
            items = inter.groupBy("item_id").count().filter(F.col("count") >= min_item)
            nxt = (
                inter.join(users.select("user_id"), "user_id", "left_semi")
                .join(items.select("item_id"), "item_id", "left_semi")
                .localCheckpoint()  # each round reads the last, not the whole lineage
            )
            m = nxt.count()
            inter = nxt
            if m == n:
                break
            n = m
        report["kcore_removed"] = before - n
    columns = [c for c in spark.read.parquet(str(src / "interactions.parquet")).columns]
    dst.mkdir(parents=True, exist_ok=True)
    write_single_parquet(inter.select(*columns, ROW), dst / "interactions.parquet")
    report["after"] = spark.read.parquet(str(dst / "interactions.parquet")).count()
    for table in ("items.parquet", "users.parquet"):
        shutil.copyfile(src / table, dst / table)
    (dst / "dataset.json").write_text(
        json.dumps({**meta, "cleaning": report}, indent=2, default=str) + "\n"
    )
    return report
