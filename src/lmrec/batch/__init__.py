"""Batch jobs over saved artifacts: every user's top-k list written to Parquet."""

from lmrec.batch.score import (
    RECS_SCHEMA,
    batch_recommend,
    check_batch,
    open_model,
    read_user_ids,
    score_users,
)

__all__ = [
    "RECS_SCHEMA",
    "batch_recommend",
    "check_batch",
    "open_model",
    "read_user_ids",
    "score_users",
]
