"""Turn top-K lists into the metrics of a report: per-user values, means and intervals."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp

from lmrec import metrics as M

__all__ = ["ListContext", "accuracy_per_user", "summarise"]


@dataclass(frozen=True, eq=False)
class ListContext:
    """What beyond-accuracy metrics need: training popularity and item categories."""

    item_counts: np.ndarray  # distinct training users per item
    n_train_users: int
    categories: sp.csr_matrix | None = None  # items x categories
    embeddings: np.ndarray | None = None  # items x dims (when text embeddings exist)
    extra: dict[str, Any] = field(default_factory=dict)


def accuracy_per_user(recs: np.ndarray, truth: sp.csr_matrix, k: int) -> dict[str, np.ndarray]:
    hits = M.hits_matrix(recs[:, :k], truth)
    n_rel = np.diff(truth.tocsr().indptr)
    return {
        f"NDCG@{k}": M.ndcg(hits, n_rel, k),
        f"HR@{k}": M.hit_rate(hits, k),
        f"Recall@{k}": M.recall(hits, n_rel, k),
        f"Precision@{k}": M.precision(hits, k),
        f"MRR@{k}": M.reciprocal_rank(hits, k),
        f"MAP@{k}": M.average_precision(hits, n_rel, k),
    }


def beyond_per_user(recs: np.ndarray, ctx: ListContext, k: int) -> dict[str, np.ndarray]:
    r = recs[:, :k]
    out = {
        f"Novelty@{k}": M.novelty(r, ctx.item_counts, ctx.n_train_users),
        f"ARP@{k}": M.average_popularity(r, ctx.item_counts),
    }
    if ctx.embeddings is not None:
        out[f"ILD@{k}"] = M.intra_list_diversity(r, ctx.embeddings, kind="cosine")
    elif ctx.categories is not None:
        out[f"ILD@{k}"] = M.intra_list_diversity(r, ctx.categories, kind="jaccard")
    return out


def summarise(
    recs: np.ndarray,
    truth: sp.csr_matrix,
    ctx: ListContext,
    k: int,
    *,
    n_boot: int = 1000,
    seed: int = 0,
) -> tuple[dict[str, dict[str, Any]], dict[str, np.ndarray]]:
    """``{label: {mean, ci95}}`` for every metric, and the per-user arrays behind them."""
    n_items = truth.shape[1]
    per_user = accuracy_per_user(recs, truth, k) | beyond_per_user(recs, ctx, k)
    out: dict[str, dict[str, Any]] = {}
    for label, values in per_user.items():
        lo, hi = M.bootstrap_ci(values, n_boot=n_boot, seed=seed)
        out[label] = {
            "mean": float(values.mean()) if len(values) else float("nan"),
            "ci95": [lo, hi],
        }
    r = recs[:, :k]
    catalog: dict[str, Callable[[np.ndarray], float]] = {
        f"Coverage@{k}": lambda idx: M.coverage(r[idx], n_items),
        f"Gini@{k}": lambda idx: M.gini(r[idx], n_items),
        f"Personalization@{k}": lambda idx: M.personalization(r[np.unique(idx)[:2000]], n_items),
    }
    all_rows = np.arange(len(r))
    for label, fn in catalog.items():
        boots = max(50, n_boot // 10) if "Personalization" in label else max(100, n_boot // 5)
        lo, hi = M.bootstrap_statistic_ci(len(r), fn, n_boot=boots, seed=seed)
        out[label] = {"mean": fn(all_rows), "ci95": [lo, hi]}
    return out, per_user
