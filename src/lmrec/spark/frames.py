"""Spark DataFrames in lmrec's file formats: rows numbered in file order, and one Parquet
file written from a distributed frame."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["ROW", "read_rows", "with_row_numbers", "write_single_parquet"]

#: the column that holds a row's 0-based position in its file (ties in time keep file order)
ROW = "_row"


def with_row_numbers(frame: Any, name: str = ROW) -> Any:
    """``frame`` with ``name``: 0, 1, 2, ... in the frame's current partition order (file
    order right after a read, sort order right after a sort), without one-partition windows:
    each partition's rows are counted, and a partition starts after the ones before it."""
    from pyspark.sql import functions as F

    tagged = frame.withColumn("_pid", F.spark_partition_id()).withColumn(
        "_mid", F.monotonically_increasing_id()
    )
    # monotonically_increasing_id is (partition << 33) + position within the partition
    counts = dict(tagged.groupBy("_pid").count().collect())
    starts, total = {}, 0
    for pid in sorted(counts):
        starts[pid] = total
        total += counts[pid]
    spark = frame.sparkSession
    offsets = spark.createDataFrame(list(starts.items()), "_pid int, _start long")
    return (
        tagged.join(F.broadcast(offsets), "_pid")
        .withColumn(
            name, F.col("_start") + F.col("_mid") - F.shiftleft(F.col("_pid").cast("long"), 33)
        )
        .drop("_pid", "_mid", "_start")
    )


def read_rows(spark: Any, path: str | Path) -> Any:
    """A Parquet file as a DataFrame with :data:`ROW`, its rows' positions in the file."""
    return with_row_numbers(spark.read.parquet(str(path)))


def write_single_parquet(
    frame: Any, path: str | Path, *, order: str | Sequence[str] | None = ROW
) -> Path:
    """Write ``frame`` as the one Parquet file ``path`` (what polars and the single-machine
    path read), rows sorted by ``order`` (a column or columns), :data:`ROW` left out."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    # one partition, sorted within it: the order the file's rows keep
    frame = frame.repartition(1)
    if order is not None:
        frame = frame.sortWithinPartitions(*([order] if isinstance(order, str) else order))
    if ROW in frame.columns:
        frame = frame.drop(ROW)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".spark-") as tmp:
        folder = Path(tmp) / "out"
        frame.write.mode("overwrite").parquet(str(folder))
        parts = sorted(folder.glob("part-*.parquet"))
        if len(parts) != 1:  # an empty frame still writes one (empty) part
            raise RuntimeError(f"Spark wrote {len(parts)} files for {target}, not one")
        shutil.move(str(parts[0]), target)
    return target
