"""Train / validation / test on Spark: the single-machine protocols (:mod:`lmrec.data.split`)
row for row, the same tie-breaking (time, then file order), written as an lmrec split."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from lmrec.data.split import PROTOCOLS, check_fracs
from lmrec.errors import UsageError
from lmrec.spark.frames import ROW, read_rows, with_row_numbers, write_single_parquet

__all__ = ["split_on_spark"]


def split_on_spark(
    spark: Any,
    dataset: str | Path,
    out: str | Path,
    protocol: str,
    *,
    seed: int = 0,
    valid_frac: float = 0.1,
    test_frac: float = 0.1,
) -> dict[str, int]:
    """Split the dataset folder ``dataset`` into the split folder ``out``; the three parts'
    row counts."""
    src, dst = Path(dataset), Path(out)
    meta_path = src / "dataset.json"
    if not meta_path.is_file():
        raise UsageError(
            f"{src}: not an lmrec dataset (no dataset.json); create one with 'lmrec data import'"
        )
    if protocol not in PROTOCOLS:
        raise UsageError(f"unknown split protocol '{protocol}'; use one of {', '.join(PROTOCOLS)}")
    if protocol != "loo":
        check_fracs(valid_frac, test_frac)
    data_meta = json.loads(meta_path.read_text())
    inter = read_rows(spark, src / "interactions.parquet")
    if protocol == "loo":
        parts = _loo(inter)
        meta: dict[str, Any] = {"protocol": "loo"}
    elif protocol == "temporal":
        parts = _temporal(inter, valid_frac, test_frac)
        meta = {"protocol": "temporal", "valid_frac": valid_frac, "test_frac": test_frac}
    else:
        parts = _random(inter, seed, valid_frac, test_frac)
        meta = {"protocol": "random", "seed": seed, "valid_frac": valid_frac,
                "test_frac": test_frac}  # fmt: skip
    dst.mkdir(parents=True, exist_ok=True)
    counts = {}
    for name, frame in zip(("train", "valid", "test"), parts, strict=True):
        write_single_parquet(frame, dst / f"{name}.parquet")
        counts[name] = spark.read.parquet(str(dst / f"{name}.parquet")).count()
    for table in ("items.parquet", "users.parquet"):
        shutil.copyfile(src / table, dst / table)
    meta |= {
        "source": data_meta.get("source"),
        "dataset": str(dataset),
        "time_is_order": bool(data_meta.get("time_is_order")),
        "engine": "spark",
        "format": "lmrec-split",
        "counts": counts,
    }
    (dst / "split.json").write_text(json.dumps(meta, indent=2, default=str) + "\n")
    return counts


def _loo(inter: Any) -> tuple[Any, Any, Any]:
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    by_user = Window.partitionBy("user_id")
    tagged = inter.withColumn(
        "_pos", F.row_number().over(by_user.orderBy("timestamp", ROW)) - 1
    ).withColumn("_n", F.count(F.lit(1)).over(by_user))
    is_test = (F.col("_pos") == F.col("_n") - 1) & (F.col("_n") >= 2)
    is_valid = (F.col("_pos") == F.col("_n") - 2) & (F.col("_n") >= 3)
    tagged = tagged.persist()
    drop = ("_pos", "_n")
    return (
        tagged.filter(~is_test & ~is_valid).drop(*drop),
        tagged.filter(is_valid).drop(*drop),
        tagged.filter(is_test).drop(*drop),
    )


def _temporal(inter: Any, valid_frac: float, test_frac: float) -> tuple[Any, Any, Any]:
    from pyspark.sql import functions as F

    n = inter.count()
    n_test, n_valid = round(n * test_frac), round(n * valid_frac)
    cut1, cut2 = n - n_test - n_valid, n - n_test
    ordered = inter.orderBy("timestamp", ROW).persist()  # numbered once, from one sort
    ranked = with_row_numbers(ordered, "_rank").persist()
    rank = F.col("_rank")
    return (
        ranked.filter(rank < cut1).drop("_rank"),
        ranked.filter((rank >= cut1) & (rank < cut2)).drop("_rank"),
        ranked.filter(rank >= cut2).drop("_rank"),
    )


def _random(inter: Any, seed: int, valid_frac: float, test_frac: float) -> tuple[Any, Any, Any]:
    """Row ``r`` gets the ``r``-th draw of ``np.random.default_rng(seed).random(n)``, as on
    one machine: each batch of rows jumps the generator to its first row."""
    import pyarrow as pa
    from pyspark.sql import functions as F
    from pyspark.sql.types import DoubleType, StructField, StructType

    def draws(batches: Any) -> Any:
        for batch in batches:
            rows = batch.column(ROW).to_numpy()
            if len(rows) == 0:
                yield batch.append_column("_r", pa.array([], pa.float64()))
                continue
            first = int(rows.min())
            bits = np.random.PCG64(seed)
            bits.advance(first)
            values = np.random.Generator(bits).random(int(rows.max()) - first + 1)
            yield batch.append_column("_r", pa.array(values[rows - first]))

    schema = StructType([*inter.schema.fields, StructField("_r", DoubleType())])
    drawn = inter.mapInArrow(draws, schema).persist()
    r = F.col("_r")
    return (
        drawn.filter(r >= test_frac + valid_frac).drop("_r"),
        drawn.filter((r >= test_frac) & (r < test_frac + valid_frac)).drop("_r"),
        drawn.filter(r < test_frac).drop("_r"),
    )
