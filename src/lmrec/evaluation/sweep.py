"""How much accuracy re-ranking costs and what it buys: a sweep of the re-ranking strength."""

from __future__ import annotations

from typing import Any

import numpy as np

from lmrec import metrics as M
from lmrec.data.interactions import Interactions
from lmrec.evaluation.collect import ListContext, accuracy_per_user, beyond_per_user
from lmrec.evaluation.protocol import EvalData
from lmrec.models.base import Recommender
from lmrec.rerank import DEFAULT_STRENGTH, ItemFeatures, RerankConfig, category_mix, rerank_lists

__all__ = ["STRENGTHS", "item_features", "rerank_sweep"]

STRENGTHS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.7, 0.9)


def item_features(train: Interactions, embeddings: np.ndarray | None = None) -> ItemFeatures:
    """Re-ranking signals from training data: popularity, categories, first appearance."""
    cats = train.item_categories()
    first = np.full(train.n_items, np.nan)
    if len(train):
        ts = np.asarray(train.timestamps, dtype=np.float64)
        order = np.argsort(ts, kind="stable")[::-1]  # latest first, so the earliest wins below
        first[train.item_idx[order]] = ts[order]
    return ItemFeatures.build(
        train.item_counts,
        int((np.diff(train.matrix.indptr) > 0).sum()),
        categories=M.category_matrix(cats) if any(cats) else None,
        embeddings=embeddings,
        first_seen=first,
    )


def rerank_sweep(
    model: Recommender,
    data: EvalData,
    ctx: ListContext,
    features: ItemFeatures,
    k: int,
    *,
    base: RerankConfig | None = None,
    strengths: tuple[float, ...] = STRENGTHS,
    default: float = DEFAULT_STRENGTH,
    n_boot: int = 200,
    seed: int = 0,
) -> list[dict[str, Any]]:
    """NDCG@k, ILD@k, Coverage@k and Novelty@k of the test lists at each strength (0 = the
    model's own order), re-ranking the model's top ``base.candidates`` for every test user.

    Each row also has ``NDCG@k change``, NDCG@k relative to strength 0, with a 95% paired
    bootstrap interval over users (``NDCG@k change ci95``): whether a loss is more than noise.
    """
    base = base or RerankConfig()
    users = data.test_users
    cand_ids, cand_scores = model.recommend(users, base.candidates, at=data.test_at)
    mix = None
    if base.calibration > 0 and features.categories is not None:
        mix = category_mix(data.train_valid.matrix[users], features.categories)
    rows = []
    plain: np.ndarray | None = None
    for s in sorted(set(strengths) | {0.0, default}):
        ids, _ = rerank_lists(
            cand_ids, cand_scores, k, features, base.with_strength(s), user_mix=mix
        )
        acc = accuracy_per_user(ids, data.test_truth, k)
        beyond = beyond_per_user(ids, ctx, k)
        row: dict[str, Any] = {
            "strength": s,
            f"NDCG@{k}": float(acc[f"NDCG@{k}"].mean()),
            f"HR@{k}": float(acc[f"HR@{k}"].mean()),
            f"ILD@{k}": float(beyond[f"ILD@{k}"].mean()) if f"ILD@{k}" in beyond else None,
            f"Coverage@{k}": M.coverage(ids, data.train.n_items),
            f"Novelty@{k}": float(beyond[f"Novelty@{k}"].mean()),
        }
        ndcg = np.asarray(acc[f"NDCG@{k}"], dtype=np.float64)
        plain = ndcg if plain is None else plain  # strength 0 comes first
        change = M.relative_change_ci(ndcg, plain, n_boot=n_boot, seed=seed)
        row[f"NDCG@{k} change"] = None if change is None else change[0]
        row[f"NDCG@{k} change ci95"] = None if change is None else list(change[1:])
        if s == default:
            row["default"] = True
        rows.append(row)
    return rows
