"""Ranking metrics of lists already made (a Parquet file of ``user_id, item_id, rank``, as
``lmrec recommend --users`` writes) against held-out actions (a split's ``test.parquet``);
:func:`lmrec.spark.evaluate_lists_on_spark` computes the same on Spark."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import scipy.sparse as sp

from lmrec.data.vocab import Vocabulary
from lmrec.errors import DataError
from lmrec.metrics.ranking import hit_rate, hits_matrix, ndcg, recall, reciprocal_rank

__all__ = ["evaluate_lists"]


def evaluate_lists(lists: str | Path, truth: str | Path, *, k: int = 10) -> dict[str, float]:
    """NDCG@k, Recall@k, HR@k and MRR@k averaged over the users with held-out items; a user
    without a list counts as all misses."""
    recs = pl.read_parquet(lists)
    held = pl.read_parquet(truth)
    for frame, path, cols in ((recs, lists, ("user_id", "item_id", "rank")),
                              (held, truth, ("user_id", "item_id"))):  # fmt: skip
        missing = [c for c in cols if c not in frame.columns]
        if missing:
            raise DataError(f"no column {', '.join(missing)}", path=path)
    held = held.select("user_id", "item_id").unique(maintain_order=True)
    users = Vocabulary(held["user_id"].cast(pl.String).unique(maintain_order=True).to_list())
    items = Vocabulary(
        pl.concat([held["item_id"], recs["item_id"]]).cast(pl.String).unique(maintain_order=True)
    )
    truth_m = sp.csr_matrix(
        (np.ones(held.height), (users.indices(held["user_id"]), items.indices(held["item_id"]))),
        shape=(len(users), len(items)),
    )
    top = np.full((len(users), k), -1, dtype=np.int64)
    kept = recs.filter(pl.col("rank").is_between(1, k))
    u = users.indices(kept["user_id"])
    ok = u >= 0
    top[u[ok], kept["rank"].to_numpy()[ok] - 1] = items.indices(kept["item_id"])[ok]
    hits = hits_matrix(top, truth_m)
    n_rel = np.asarray(truth_m.sum(axis=1)).ravel().astype(np.int64)
    return {
        f"NDCG@{k}": float(ndcg(hits, n_rel, k).mean()),
        f"Recall@{k}": float(recall(hits, n_rel, k).mean()),
        f"HR@{k}": float(hit_rate(hits, k).mean()),
        f"MRR@{k}": float(reciprocal_rank(hits, k).mean()),
        "users": len(users),
    }
