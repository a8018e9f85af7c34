"""``lmrec train --engine spark``: a dataset or split folder read, encoded and learned from on
Spark, and written as the artifacts folder the single-machine path writes (same vocabularies,
history, seen items, context prior). This process holds the vocabularies, the models' state
and the held-out actions, never the interactions as a table."""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pyarrow.parquet as pq
import scipy.sparse as sp

from lmrec.artifacts import HISTORY, finish_artifacts
from lmrec.context import ContextPrior
from lmrec.context.features import DAYPARTS
from lmrec.data.dataset import empty_items
from lmrec.data.interactions import align_rows
from lmrec.data.vocab import Vocabulary
from lmrec.errors import DataError, UsageError
from lmrec.evaluation.protocol import HeldOut, held_out
from lmrec.models.base import Recommender
from lmrec.models.registry import create_model
from lmrec.spark.frames import ROW, read_rows, write_single_parquet
from lmrec.spark.train import check_spark_model, check_spark_settings, learn_on_spark

__all__ = ["SparkTraining", "train_folder_on_spark"]

#: the files of each kind of folder: those fitted on, then those only in the vocabularies
_SPLIT = (("train", "valid"), ("test",))
_DATASET = (("interactions",), ())
#: a row's place across the folder's files: file number << _FILE_SHIFT, plus its row
_FILE_SHIFT = 40
_COLUMNS = ("user_id", "item_id", "timestamp")


@dataclass(frozen=True)
class SparkTraining:
    """What :func:`train_folder_on_spark` fitted and wrote."""

    models: dict[str, Recommender]
    #: the split's test actions, encoded (None for a dataset folder)
    test: HeldOut | None
    source: str
    interactions: int


def train_folder_on_spark(
    spark: Any, folder: str | Path, params: dict[str, dict[str, Any]], out: str | Path
) -> SparkTraining:
    """Fit each model of ``params`` (name -> settings; names from
    :data:`lmrec.spark.SPARK_MODELS`) on Spark from ``folder`` (a split: train + validation;
    a dataset: all of it) and write the artifacts folder ``out``."""
    from pyspark.sql import functions as F

    for name in params:
        check_spark_model(name)
    # settings checked before any Spark work
    models = {name: create_model(name, **settings) for name, settings in params.items()}
    for model in models.values():
        check_spark_settings(model)
    src = Path(folder)
    is_split = (src / "split.json").is_file()
    if not is_split and not (src / "dataset.json").is_file():
        raise UsageError(f"{src}: neither a split (split.json) nor a dataset (dataset.json)")
    meta = json.loads((src / ("split.json" if is_split else "dataset.json")).read_text())
    real_time = not meta.get("time_is_order", False)
    fit_names, other_names = _SPLIT if is_split else _DATASET
    frames = [_read(spark, src / f"{n}.parquet", i) for i, n in enumerate(fit_names + other_names)]
    fit = frames[0]
    for more in frames[1 : len(fit_names)]:
        fit = fit.unionByName(more, allowMissingColumns=True)
    if fit.isEmpty():
        raise UsageError(f"{src}: no interactions to train on ({', '.join(fit_names)} empty)")
    everything = frames[0].select("user_id", "item_id", ROW)
    for more in frames[1:]:
        everything = everything.unionByName(more.select("user_id", "item_id", ROW))
    catalog = (
        pl.read_parquet(src / "items.parquet")
        if (src / "items.parquet").is_file()
        else empty_items()
    )
    root = Path(out)
    root.mkdir(parents=True, exist_ok=True)
    users = Vocabulary(_first_seen(everything, "user_id"))
    catalog_ids = catalog["item_id"].cast(pl.String).to_list()
    items = Vocabulary(
        [*catalog_ids, *_first_seen(everything, "item_id", besides=catalog_ids)]
        if is_split
        else catalog_ids  # a dataset's items are its catalog, as on one machine
    )
    with tempfile.TemporaryDirectory(prefix="lmrec-spark-") as tmp:
        users.save(root / "users.parquet")
        items.save(Path(tmp) / "items.parquet")
        encoded = (
            fit.join(_indices(spark, root / "users.parquet", "user"), "user_id")
            .join(F.broadcast(_indices(spark, Path(tmp) / "items.parquet", "item")), "item_id")
            .drop("user_id", "item_id")
            .persist()
        )
        n = encoded.count()
        kept = ["user", "item", "timestamp"] + (["value"] if "value" in encoded.columns else [])
        history = encoded.select(*kept, ROW)
        if "value" in kept:
            history = history.withColumn("value", history["value"].cast("double"))
        write_single_parquet(history, root / HISTORY, order=["user", "timestamp", ROW])
        prior = ContextPrior().fit_counts(
            _item_counts(encoded, len(items)), _context_pairs(encoded, real_time)
        )
        pairs = encoded.select("user", "item").distinct().persist()
        seen = _seen(pairs, Path(tmp) / "pairs", len(users), len(items))
        for model in models.values():
            learn_on_spark(model.prepare_seen(seen), pairs)
        pairs.unpersist()
        encoded.unpersist()
    source = f"{'split' if is_split else 'dataset'} {src}"
    finish_artifacts(
        root, models, align_rows(catalog, "item_id", items), prior,
        n_users=len(users), interactions=n, source=source,
    )  # fmt: skip
    test = None
    if is_split:
        frame = pl.read_parquet(src / "test.parquet", columns=list(_COLUMNS))
        test = held_out(frame, users, items, real_time=real_time)
    return SparkTraining(models, test, source, n)


def _read(spark: Any, path: Path, number: int) -> Any:
    """One of the folder's files with the ids as strings and :data:`ROW` as the row's place
    across the folder (file ``number`` first by number, then by position in the file)."""
    from pyspark.sql import functions as F

    if not path.is_file():
        raise DataError(f"missing {path.name}", path=path.parent)
    names = pq.read_schema(path).names
    for col in _COLUMNS:
        if col not in names:
            raise DataError(f"no column '{col}'", path=path, column=col)
    frame = read_rows(spark, path)
    place = F.col(ROW) + F.lit(number).cast("long") * F.lit(1 << _FILE_SHIFT)
    ids = [F.col(c).cast("string").alias(c) for c in ("user_id", "item_id")]
    context = [F.col(c).cast("string").alias(c) for c in ("device", "location") if c in names]
    rest = [c for c in ("timestamp", "value") if c in names]
    return frame.select(*ids, *rest, *context, place.alias(ROW))


def _first_seen(frame: Any, col: str, *, besides: list[str] | None = None) -> list[str]:
    """The distinct values of ``col`` in order of first appearance (by :data:`ROW`), leaving
    out those in ``besides``."""
    from pyspark.sql import functions as F

    rows = frame.select(col, ROW)
    if besides:
        known = frame.sparkSession.createDataFrame([(b,) for b in besides], f"{col} string")
        rows = rows.join(F.broadcast(known), col, "left_anti")
    firsts = rows.groupBy(col).agg(F.min(ROW).alias("_first")).orderBy("_first")
    return [str(v) for v in firsts.select(col).toArrow().column(0).to_pylist()]


def _indices(spark: Any, vocabulary: Path, name: str) -> Any:
    """A saved vocabulary (one id a row, in index order) as ``<name>_id, <name>``."""
    from pyspark.sql import functions as F

    frame = read_rows(spark, vocabulary)
    return frame.select(F.col("id").alias(f"{name}_id"), F.col(ROW).cast("int").alias(name))


def _item_counts(encoded: Any, n_items: int) -> np.ndarray:
    """Interactions per item index, repeats included."""
    table = encoded.groupBy("item").count().toArrow()
    counts = np.zeros(n_items, dtype=np.int64)
    counts[table.column("item").to_numpy()] = table.column("count").to_numpy()
    return counts


def _context_pairs(encoded: Any, real_time: bool) -> dict[str, pl.DataFrame]:
    """Per context field, the ``value, item, count`` table :meth:`ContextPrior.fit_counts`
    takes; the part of day and day type from UTC times as
    :func:`lmrec.context.context_table` has them."""
    from pyspark.sql import functions as F

    fields: dict[str, Any] = {}
    if real_time:
        stamp = F.timestamp_seconds(F.col("timestamp").cast("long"))
        names = F.array(*[F.lit(d) for d in DAYPARTS])
        fields["daypart"] = F.element_at(names, F.floor(F.hour(stamp) / 6).cast("int") + 1)
        fields["daytype"] = F.when(F.dayofweek(stamp).isin(1, 7), F.lit("weekend")).otherwise(
            F.lit("weekday")
        )
    for col in ("device", "location"):
        if col in encoded.columns:
            fields[col] = F.col(col)
    out = {}
    for name, value in fields.items():
        table = (
            encoded.select(value.alias("value"), "item")
            .dropna(subset=["value"])
            .groupBy("value", "item")
            .count()
            .toArrow()
        )
        out[name] = pl.from_arrow(table)
    return out  # type: ignore[return-value]


def _seen(pairs: Any, folder: Path, n_users: int, n_items: int) -> sp.csr_matrix:
    """The binary user x item matrix of distinct ``pairs``, read back from files Spark
    writes (not collected through the driver's result-size limit)."""
    pairs.write.parquet(str(folder))
    table = pq.read_table(folder, columns=["user", "item"])
    users = table.column("user").to_numpy()
    items = table.column("item").to_numpy()
    del table
    ones = np.ones(len(users), dtype=np.float32)
    return sp.csr_matrix((ones, (users, items)), shape=(n_users, n_items))
