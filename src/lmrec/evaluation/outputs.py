"""What an evaluation writes: report.json, report.html and one Parquet file of lists per
model."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from lmrec.data.vocab import Vocabulary
from lmrec.evaluation.collect import accuracy_per_user
from lmrec.evaluation.protocol import EvalData, HeldOut
from lmrec.models.base import Recommender

if TYPE_CHECKING:
    from lmrec.evaluation.runner import ModelResult

__all__ = ["VERSION_EVALUATION_USERS", "recs_frame", "write_outputs", "write_version_evaluation"]


def recs_frame(
    cases: dict[str, list[str]], recs: np.ndarray, scores: np.ndarray, items: Vocabulary
) -> pl.DataFrame:
    """One row per recommended item: the case's columns (e.g. ``user_id``; one value per row
    of ``recs``), then ``item_id, rank, score``. Padding (-1) is left out."""
    k = recs.shape[1]
    valid = recs >= 0
    keep = valid.ravel()
    columns: dict[str, Any] = {
        name: np.repeat(np.array(values, dtype=object), k)[keep].tolist()
        for name, values in cases.items()
    }
    columns |= {
        "item_id": items.raws(recs[valid]),
        "rank": np.tile(np.arange(1, k + 1), len(recs))[keep],
        "score": scores[valid].astype(np.float64),
    }
    schema = {name: pl.String for name in cases} | {
        "item_id": pl.String, "rank": pl.Int32, "score": pl.Float64,
    }  # fmt: skip
    return pl.DataFrame(columns, schema=schema)


def write_outputs(
    out: Path, report: dict[str, Any], results: dict[str, ModelResult], data: EvalData
) -> None:
    from lmrec.evaluation.html import write_html

    out.mkdir(parents=True, exist_ok=True)
    (out / "recs").mkdir(exist_ok=True)
    users = data.user_vocab.raws(data.test_users)
    for name, r in results.items():
        frame = recs_frame({"user_id": users}, r.recs, r.scores, data.item_vocab)
        frame.write_parquet(out / "recs" / f"{name}.parquet")
    (out / "report.json").write_text(json.dumps(report, indent=2, default=_json_default) + "\n")
    write_html(
        out / "report.html",
        report,
        results,
        item_counts=data.train_valid.item_counts,
        held_items=data.test_truth.tocoo().col,
    )


def _json_default(obj: object) -> object:
    if isinstance(obj, np.generic):
        return obj.item()
    return str(obj)


#: test users :func:`write_version_evaluation` scores at most (a seeded sample beyond)
VERSION_EVALUATION_USERS = 20_000


def write_version_evaluation(
    out: Path,
    fitted: dict[str, Recommender],
    test: HeldOut,
    source: str,
    *,
    max_users: int = VERSION_EVALUATION_USERS,
) -> dict[str, dict[str, float]]:
    """Each model's NDCG@10 and HR@10 on the ``test`` users (a seeded sample of
    ``max_users`` where there are more), written as ``evaluation.json`` beside the saved
    models (the operator console shows it with the version)."""
    rows = np.arange(len(test.users))
    if len(rows) > max_users:
        rows = np.sort(np.random.default_rng(0).choice(rows, max_users, replace=False))
    users = test.users[rows]
    at = None if test.at is None else test.at[rows]
    truth = test.truth[rows]
    numbers: dict[str, dict[str, float]] = {}
    for name, model in fitted.items():
        recs, _ = model.recommend(users, 10, at=at)
        acc = accuracy_per_user(recs, truth, 10)
        numbers[name] = {m: round(float(acc[m].mean()), 4) for m in ("NDCG@10", "HR@10")}
    meta = {"split": source, "test_users": len(users)}
    if len(users) < len(test.users):
        meta["test_users_in_split"] = len(test.users)
    (Path(out) / "evaluation.json").write_text(json.dumps({**meta, **numbers}, indent=2) + "\n")
    return numbers
