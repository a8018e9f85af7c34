"""Top-k lists for many users at once, from saved artifacts, as a Parquet file.

One row per (user, rank): ``user_id, item_id, rank, score, reason``. Users are scored
``batch_size`` at a time; a user the artifacts do not know gets the most popular items with
the reason "popular with everyone" (and is counted in the summary)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from lmrec.artifacts import Artifacts
from lmrec.errors import DataError, UsageError
from lmrec.explain import explain
from lmrec.explain.occlusion import user_history
from lmrec.models.base import Recommender
from lmrec.progress import track

__all__ = [
    "RECS_SCHEMA",
    "batch_recommend",
    "check_batch",
    "open_model",
    "read_user_ids",
    "score_users",
]

RECS_SCHEMA = {
    "user_id": pl.String(),
    "item_id": pl.String(),
    "rank": pl.Int32(),
    "score": pl.Float32(),
    "reason": pl.String(),
}
POPULAR = "popular with everyone"


def read_user_ids(path: str | Path) -> list[str]:
    """User ids from a file: one per line (.txt), or the ``user_id`` column of a CSV or
    Parquet file."""
    src = Path(path)
    if not src.is_file():
        raise UsageError(f"--users: {src} not found (give 'all' or a file of user ids)")
    try:
        if src.suffix == ".parquet":
            frame = pl.read_parquet(src)
        elif src.suffix in (".csv", ".tsv"):
            frame = pl.read_csv(src, separator="\t" if src.suffix == ".tsv" else ",",
                                infer_schema=False)  # fmt: skip
        else:
            lines = src.read_text(encoding="utf-8").splitlines()
            return [line.strip() for line in lines if line.strip()]
    except (OSError, UnicodeDecodeError, pl.exceptions.PolarsError) as e:
        raise DataError(f"{src}: cannot read user ids ({e})") from None
    if "user_id" not in frame.columns:
        raise DataError(f"{src}: no user_id column (it has {', '.join(frame.columns)})")
    return [str(u) for u in frame["user_id"].drop_nulls().to_list()]


def batch_recommend(
    artifacts: str | Path,
    out: str | Path,
    *,
    model: str | None = None,
    users: Sequence[str] | None = None,
    k: int = 10,
    batch_size: int = 1024,
    reasons: bool = True,
    runtime: str = "auto",
    progress: bool = True,
) -> dict[str, Any]:
    """Write the top ``k`` of each of ``users`` (None: every user of the artifacts) by
    ``model`` (default: the first saved; a neural one scored by ``runtime``) to the Parquet
    file ``out``; returns a summary."""
    check_batch(k, batch_size)
    art, rec = open_model(artifacts, model, runtime)
    ids = art.user_vocab.ids if users is None else list(dict.fromkeys(users))
    unknown = sum(1 for u in ids if u not in art.user_vocab)
    frames = []
    starts = range(0, len(ids), batch_size)
    for start in track(starts, f"recommend ({batch_size} users a batch)", enabled=progress):
        frames.append(score_users(art, rec, ids[start : start + batch_size], k, reasons=reasons))
    result = pl.concat(frames) if frames else pl.DataFrame(schema=RECS_SCHEMA)
    target = Path(out)
    target.parent.mkdir(parents=True, exist_ok=True)
    result.write_parquet(target)
    return {
        "out": str(target),
        "model": rec.name,
        "users": len(ids),
        "unknown_users": unknown,
        "rows": len(result),
        "k": k,
    }


def check_batch(k: int, batch_size: int) -> None:
    """A batch job's list length and batch size, or a one-line error naming the flag."""
    if not 1 <= k <= 1000:
        raise UsageError(f"--k must be between 1 and 1000, not {k}")
    if batch_size < 1:
        raise UsageError(f"--batch-size must be at least 1, not {batch_size}")


def open_model(
    artifacts: str | Path, model: str | None = None, runtime: str = "auto"
) -> tuple[Artifacts, Recommender]:
    """The artifacts and one of their models (default: the first saved), a neural one set to
    score with ``runtime`` (auto, torch or onnx)."""
    art = Artifacts.open(artifacts)
    rec = art.model(model)
    use_runtime = getattr(rec, "use_runtime", None)
    if callable(use_runtime):
        use_runtime(runtime)
    elif runtime == "onnx":
        raise UsageError(f"model '{rec.name}' has no ONNX runtime; use --runtime torch")
    return art, rec


def score_users(
    art: Artifacts, rec: Recommender, users: Sequence[str], k: int, *, reasons: bool = True
) -> pl.DataFrame:
    """The top ``k`` of ``users`` by ``rec`` as rows of :data:`RECS_SCHEMA`, in the order of
    ``users``; a user the artifacts do not know gets the most popular items."""
    item_ids = np.asarray(art.item_vocab.ids, dtype=object)
    titles: list[str | None] = (
        art.items["title"].to_list() if "title" in art.items.columns else [None] * len(item_ids)
    )
    idx = np.asarray(art.user_vocab.indices(list(users)), dtype=np.int64)
    top = np.full((len(idx), k), -1, dtype=np.int64)
    scores = np.zeros((len(idx), k), dtype=np.float32)
    why: list[list[str | None]] = [[] for _ in idx]
    known = np.flatnonzero(idx >= 0)
    if len(known):
        top_k, score_k = rec.recommend(idx[known], k)
        width = top_k.shape[1]
        top[known, :width], scores[known, :width] = top_k, score_k
        for j, u in enumerate(idx[known]):
            row = top_k[j][top_k[j] >= 0]
            why[known[j]] = (
                [r.text for r in explain(rec, user_history(rec, int(u)), row, titles)]
                if reasons
                else [None] * len(row)
            )
    missing = np.flatnonzero(idx < 0)
    if len(missing):
        order = np.argsort(-np.asarray(rec.popularity_), kind="stable")[:k]
        top[missing, : len(order)] = order
        scores[missing, : len(order)] = np.asarray(rec.popularity_, np.float32)[order]
        for m in missing:
            why[m] = [POPULAR] * len(order)
    return _rows(users, top, scores, why, item_ids)


def _rows(
    users: Sequence[str],
    top: np.ndarray,
    scores: np.ndarray,
    reasons: Sequence[Sequence[str | None]],
    item_ids: np.ndarray,
) -> pl.DataFrame:
    """The rows of ``users``' lists (``top`` item indices, -1 = none, and their scores)."""
    valid = top >= 0
    n = valid.sum(axis=1)
    ranks = np.concatenate([np.arange(1, c + 1) for c in n]) if len(n) else np.zeros(0)
    return pl.DataFrame(
        {
            "user_id": np.repeat(np.asarray(users, dtype=object), n),
            "item_id": item_ids[top[valid]],
            "rank": ranks.astype(np.int32),
            "score": scores[valid].astype(np.float32),
            "reason": [r for row in reasons for r in row],
        },
        schema=RECS_SCHEMA,
    )
