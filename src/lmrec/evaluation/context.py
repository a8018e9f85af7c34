"""Does context help? Each model's scores mixed with the context prior, the weight chosen on
validation (with the model refitted on the train part), measured on test."""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from lmrec import metrics as M
from lmrec.context import ContextPrior, apply_context
from lmrec.context.features import context_table
from lmrec.data.split import Split
from lmrec.data.vocab import Vocabulary
from lmrec.evaluation.collect import accuracy_per_user
from lmrec.evaluation.protocol import EvalData
from lmrec.models.base import Recommender, top_n

__all__ = ["WEIGHTS", "context_effect", "request_contexts"]

WEIGHTS = (0.0, 0.1, 0.25, 0.5, 1.0, 2.0)


def request_contexts(
    frame: pl.DataFrame, users: np.ndarray, vocab: Vocabulary, *, real_time: bool
) -> list[dict[str, str]]:
    """The context of each user's first held-out action (the request it answers)."""
    table = context_table(frame, real_time=real_time).with_columns(
        pl.Series("_user", vocab.indices(frame["user_id"].cast(pl.String)))
    )
    first = table.group_by("_user", maintain_order=True).first()
    by_user = {
        int(row["_user"]): {k: v for k, v in row.items() if k != "_user" and v is not None}
        for row in first.iter_rows(named=True)
    }
    return [by_user.get(int(u), {}) for u in users]


def _ndcg(
    model: Recommender,
    users: np.ndarray,
    truth: Any,
    lifts: np.ndarray,
    weight: float,
    k: int,
    at: np.ndarray | None,
) -> np.ndarray:
    scores = np.nan_to_num(model.score(users, at=at), nan=-np.inf)
    sub = model.seen_[users].tocoo()
    scores[sub.row, sub.col] = -np.inf
    ids, _ = top_n(apply_context(scores, lifts, weight), k)
    return accuracy_per_user(ids, truth, k)[f"NDCG@{k}"]


def context_effect(
    models: dict[str, tuple[Recommender, dict[str, Any]]],
    data: EvalData,
    split: Split,
    k: int,
    *,
    seed: int = 0,
) -> dict[str, Any]:
    """``models``: name -> (the final model, its parameters)."""
    real = not bool(split.meta.get("time_is_order", False))
    prior_train = ContextPrior().fit(data.train, real_time=real)
    prior_full = ContextPrior().fit(data.train_valid, real_time=real)
    n = data.train.n_items
    valid_ctx = request_contexts(split.valid, data.valid_users, data.user_vocab, real_time=real)
    test_ctx = request_contexts(split.test, data.test_users, data.user_vocab, real_time=real)
    out: dict[str, Any] = {"fields": prior_full.fields, "weights": list(WEIGHTS), "models": {}}
    if not prior_full.fields or len(data.valid_users) == 0:
        out["note"] = "no context in this data (no real timestamps, device or location)"
        return out
    valid_lift = prior_train.lift_rows(valid_ctx, n)
    test_lift = prior_full.lift_rows(test_ctx, n)
    for name, (final, params) in models.items():
        tuned = type(final)(**params).fit(data.train)
        trials = [
            float(
                _ndcg(
                    tuned, data.valid_users, data.valid_truth, valid_lift, w, k, data.valid_at
                ).mean()
            )
            for w in WEIGHTS
        ]
        chosen = WEIGHTS[int(np.argmax(trials))]
        without = _ndcg(final, data.test_users, data.test_truth, test_lift, 0.0, k, data.test_at)
        with_ctx = _ndcg(
            final, data.test_users, data.test_truth, test_lift, chosen, k, data.test_at
        )
        out["models"][name] = {
            "valid": [{"weight": w, f"NDCG@{k}": v} for w, v in zip(WEIGHTS, trials, strict=True)],
            "chosen_weight": chosen,
            f"test_NDCG@{k}_without": float(without.mean()),
            f"test_NDCG@{k}_with": float(with_ctx.mean()),
            "paired": M.paired_test(with_ctx, without, seed=seed),
        }
    return out
