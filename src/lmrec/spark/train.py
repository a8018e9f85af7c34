"""Models whose state Spark computes: ALS through Spark MLlib, popularity and item-kNN as
sums over the interactions. Each becomes the ordinary lmrec model (same class, same saved
form), so ``recommend`` and ``serve`` load it without Spark."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import scipy.sparse as sp

from lmrec.data.interactions import Interactions
from lmrec.errors import UsageError
from lmrec.models.base import Recommender
from lmrec.models.registry import create_model

__all__ = [
    "SPARK_MODELS",
    "check_spark_model",
    "check_spark_settings",
    "learn_on_spark",
    "train_on_spark",
]

#: the models ``lmrec train --engine spark`` fits on Spark
SPARK_MODELS = ("als", "pop", "itemknn")


def check_spark_model(name: str) -> None:
    """Fail, saying what to do instead, when Spark cannot train ``name``."""
    if name not in SPARK_MODELS:
        raise UsageError(
            f"--engine spark trains {', '.join(SPARK_MODELS)}, not '{name}'; train it with "
            "--engine local, then score every user on Spark with 'lmrec recommend --engine spark'"
        )


def check_spark_settings(model: Recommender) -> None:
    """Fail when ``model`` is not one Spark trains or has settings Spark cannot honour."""
    check_spark_model(model.name)
    if getattr(model, "time_budget_s", None) is not None:
        raise UsageError(f"{model.name} on Spark takes no time_budget_s; set its epochs instead")


def train_on_spark(
    spark: Any, name: str, params: dict[str, Any], data: Interactions
) -> Recommender:
    """``name`` (one of :data:`SPARK_MODELS`) with ``params``, its state computed by Spark
    from ``data``'s (user, item) pairs; vocabularies and seen items as on one machine.
    :func:`lmrec.spark.train_folder_on_spark` does the same from files, without the
    interactions in this process."""
    check_spark_model(name)
    model = create_model(name, **params).prepare(data)
    with tempfile.TemporaryDirectory(prefix="lmrec-spark-") as tmp:
        path = Path(tmp) / "pairs.parquet"
        pairs = data.frame.select(
            pl.col("user_idx").cast(pl.Int32).alias("user"),
            pl.col("item_idx").cast(pl.Int32).alias("item"),
        ).unique()  # the binary matrix models learn from (repeats count once)
        pairs.write_parquet(path)
        frame = spark.read.parquet(str(path)).repartition(spark.sparkContext.defaultParallelism)
        learn_on_spark(model, frame)
    return model


def learn_on_spark(model: Recommender, pairs: Any) -> None:
    """Set the state of ``model`` (prepared: sizes and seen items known) from ``pairs``, a
    Spark DataFrame of distinct ``user, item`` indices."""
    check_spark_settings(model)
    if model.name == "als":
        _als(model, pairs)
    elif model.name == "pop":
        _pop(model, pairs)
    else:
        _itemknn(model, pairs, model.n_items_)


def _als(model: Any, pairs: Any) -> None:
    """Spark MLlib's implicit ALS (confidence ``1 + alpha``) into ``user/item_factors_``.
    MLlib scales the regularisation by each row's count (ALS-WR), so the same ``reg``
    regularises less per interaction than the ``implicit`` library's."""
    from pyspark.ml.recommendation import ALS
    from pyspark.sql import functions as F

    als = ALS(
        rank=model.embedding_size, maxIter=model.epochs, regParam=model.reg, alpha=model.alpha,
        implicitPrefs=True, userCol="user", itemCol="item", ratingCol="rating",
        seed=model.random_state, nonnegative=False, coldStartStrategy="nan",
    )  # fmt: skip
    fitted = als.fit(pairs.withColumn("rating", F.lit(1.0)))
    model.user_factors_ = _factors(fitted.userFactors, model.n_users_, model.embedding_size)
    model.item_factors_ = _factors(fitted.itemFactors, model.n_items_, model.embedding_size)


def _factors(frame: Any, n: int, width: int) -> np.ndarray:
    """An (id, features) factor table as an (n, width) array; ids without one stay 0."""
    out = np.zeros((n, width), dtype=np.float32)
    table = frame.toArrow()
    ids = table.column("id").to_numpy()
    if len(ids):
        flat = table.column("features").combine_chunks().flatten().to_numpy()
        out[ids] = flat.reshape(len(ids), width)
    return out


def _pop(model: Any, pairs: Any) -> None:
    """Users per item, counted on Spark (a decayed popularity needs the times: one machine)."""
    if model.half_life_days is not None:
        raise UsageError("--engine spark counts plain popularity; give pop.half_life_days locally")
    counts = np.zeros(model.n_items_, dtype=np.float32)
    table = pairs.groupBy("item").count().toArrow()
    counts[table.column("item").to_numpy()] = table.column("count").to_numpy()
    model.item_scores_ = counts
    model.popularity_ = counts / max(float(counts.max(initial=0.0)), 1e-12)


def _itemknn(model: Any, pairs: Any, n_items: int) -> None:
    """Co-occurrence counts from a self-join on users, the model's similarity
    ``|U_i ∩ U_j| / (|U_i|^alpha |U_j|^(1-alpha) + shrink)``, each item's ``k`` nearest kept."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    a, b = pairs.alias("a"), pairs.alias("b")
    co = (
        a.join(b, F.col("a.user") == F.col("b.user"))
        .filter(F.col("a.item") != F.col("b.item"))
        .groupBy(F.col("a.item").alias("i"), F.col("b.item").alias("j"))
        .count()
    )
    norms = pairs.groupBy("item").count()
    left = norms.select(F.col("item").alias("i"), F.col("count").alias("n_i"))
    right = norms.select(F.col("item").alias("j"), F.col("count").alias("n_j"))
    alpha, shrink = float(model.alpha), float(model.shrink)
    sim = (
        co.join(F.broadcast(left), "i").join(F.broadcast(right), "j")
        .withColumn("sim", F.col("count") / (F.pow("n_i", alpha) * F.pow("n_j", 1.0 - alpha) + shrink))
        .filter(F.col("sim") > 0)
    )  # fmt: skip
    k = min(int(model.k), max(1, n_items - 1))
    best = Window.partitionBy("j").orderBy(F.col("sim").desc(), F.col("i"))
    kept = sim.withColumn("_r", F.row_number().over(best)).filter(F.col("_r") <= k)
    table = kept.select("i", "j", "sim").toArrow()
    model.similarity_ = sp.csr_matrix(
        (table.column("sim").to_numpy().astype(np.float32),
         (table.column("i").to_numpy(), table.column("j").to_numpy())),
        shape=(n_items, n_items),
    )  # fmt: skip
