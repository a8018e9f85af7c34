"""Batch jobs over saved artifacts: every user's top-k list written to Parquet."""

from lmrec.batch.score import RECS_SCHEMA, batch_recommend, read_user_ids

__all__ = ["RECS_SCHEMA", "batch_recommend", "read_user_ids"]
