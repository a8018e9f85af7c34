"""Ranking metrics on Spark, from a Parquet file of top-k lists and the held-out actions:
the definitions of :mod:`lmrec.metrics.ranking`, averaged over the users with held-out items."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

__all__ = ["evaluate_lists_on_spark"]


def evaluate_lists_on_spark(
    spark: Any, lists: str | Path, truth: str | Path, *, k: int = 10
) -> dict[str, float]:
    """NDCG@k, Recall@k, HR@k and MRR@k of the lists in ``lists`` (``user_id, item_id,
    rank``) against the (user, item) pairs of ``truth`` (a split's test.parquet); a user with
    held-out items but no list counts as all misses."""
    from pyspark.sql import functions as F

    recs = (
        spark.read.parquet(str(lists))
        .filter(F.col("rank") <= k)
        .select("user_id", "item_id", "rank")
    )
    held = spark.read.parquet(str(truth)).select("user_id", "item_id").distinct()
    relevant = held.groupBy("user_id").agg(F.count(F.lit(1)).alias("n_rel"))
    hits = (
        recs.join(held, ["user_id", "item_id"])
        .groupBy("user_id")
        .agg(
            F.sum(1.0 / F.log2(F.col("rank") + 1.0)).alias("dcg"),
            F.count(F.lit(1)).alias("n_hit"),
            F.min("rank").alias("first"),
        )
    )
    # the ideal DCG of min(n_rel, k) hits on top, from a table of its k values
    ideal = [(n, sum(1.0 / math.log2(i + 2) for i in range(n))) for n in range(1, k + 1)]
    ideal_df = spark.createDataFrame(ideal, "n_ideal int, idcg double")
    per_user = (
        relevant.join(hits, "user_id", "left")
        .withColumn("n_ideal", F.least(F.col("n_rel"), F.lit(k)).cast("int"))
        .join(F.broadcast(ideal_df), "n_ideal")
        .select(
            (F.coalesce(F.col("dcg"), F.lit(0.0)) / F.col("idcg")).alias("ndcg"),
            (F.coalesce(F.col("n_hit"), F.lit(0)) / F.col("n_rel")).alias("recall"),
            F.when(F.col("n_hit") > 0, 1.0).otherwise(0.0).alias("hit"),
            F.coalesce(1.0 / F.col("first"), F.lit(0.0)).alias("rr"),
        )
    )
    row = per_user.agg(
        F.avg("ndcg").alias("ndcg"), F.avg("recall").alias("recall"), F.avg("hit").alias("hit"),
        F.avg("rr").alias("rr"), F.count(F.lit(1)).alias("users"),
    ).first()  # fmt: skip
    return {
        f"NDCG@{k}": float(row["ndcg"] or 0.0),
        f"Recall@{k}": float(row["recall"] or 0.0),
        f"HR@{k}": float(row["hit"] or 0.0),
        f"MRR@{k}": float(row["rr"] or 0.0),
        "users": int(row["users"]),
    }
