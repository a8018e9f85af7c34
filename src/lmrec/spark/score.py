"""Top-k lists for every user on Spark: the users spread over partitions, each Python worker
loading the artifacts once and scoring its users with :func:`lmrec.batch.score_users` (any
lmrec model, the sequential one included); one Parquet file of the single-machine form."""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from lmrec.batch import check_batch, open_model, score_users
from lmrec.spark.frames import ROW, with_row_numbers, write_single_parquet

__all__ = ["recommend_on_spark"]

#: what a Python worker has loaded: (artifacts folder, model, runtime) -> (artifacts, model)
_LOADED: dict[tuple[str, str | None, str], Any] = {}
RECS_DDL = "user_id string, item_id string, rank int, score float, reason string, _row long"


def recommend_on_spark(
    spark: Any,
    artifacts: str | Path,
    out: str | Path,
    *,
    model: str | None = None,
    users: Sequence[str] | None = None,
    k: int = 10,
    batch_size: int = 1024,
    reasons: bool = True,
    runtime: str = "auto",
    partitions: int | None = None,
) -> dict[str, Any]:
    """Write the top ``k`` of ``users`` (None: every user of the artifacts) by ``model`` to
    the Parquet file ``out`` (``user_id, item_id, rank, score, reason``, users in the order
    given, then by rank); returns a summary."""
    check_batch(k, batch_size)
    root = str(Path(artifacts).resolve())
    art, rec = open_model(root, model, runtime)  # fails here, not in a worker, when wrong
    if users is None:
        # the user vocabulary (users.parquet: one id per row, in index order)
        frame = spark.read.parquet(str(Path(root) / "users.parquet")).toDF("user_id")
    else:
        ids = list(dict.fromkeys(users))
        frame = spark.createDataFrame([(u,) for u in ids], "user_id string")
    frame = with_row_numbers(frame)
    n = partitions or max(2, 2 * spark.sparkContext.defaultParallelism)
    key = (root, rec.name if model is None else model, runtime)

    def score(batches: Iterator[Any]) -> Iterator[Any]:
        import pyarrow as pa

        schema = pa.schema([("user_id", pa.string()), ("item_id", pa.string()),
                            ("rank", pa.int32()), ("score", pa.float32()),
                            ("reason", pa.string())])  # fmt: skip

        if key not in _LOADED:
            _LOADED[key] = open_model(*key)
            if "torch" in sys.modules:  # one thread per worker: Spark runs one per core
                sys.modules["torch"].set_num_threads(1)
        art, rec = _LOADED[key]
        for batch in batches:
            ids = batch.column("user_id").to_pylist()
            rows = batch.column(ROW).to_pylist()
            for start in range(0, len(ids), batch_size):
                chunk = ids[start : start + batch_size]
                lists = score_users(art, rec, chunk, k, reasons=reasons)
                where = dict(zip(chunk, rows[start : start + batch_size], strict=True))
                table = lists.to_arrow().cast(schema)
                order = pa.array([where[u] for u in lists["user_id"].to_list()], pa.int64())
                yield from table.append_column(ROW, order).to_batches()

    lists = frame.repartition(n).mapInArrow(score, RECS_DDL)
    target = write_single_parquet(lists, out, order=(ROW, "rank"))
    written = spark.read.parquet(str(target))
    summary = written.selectExpr("count(*) as rows", "count(distinct user_id) as users").first()
    known = set(art.user_vocab.ids) if users is not None else None
    unknown = 0 if known is None else sum(1 for u in dict.fromkeys(users or ()) if u not in known)
    return {
        "out": str(target),
        "model": rec.name,
        "users": int(summary["users"]),
        "unknown_users": unknown,
        "rows": int(summary["rows"]),
        "k": k,
        "engine": "spark",
        "partitions": n,
    }
