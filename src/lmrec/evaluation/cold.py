"""The cold-start protocol: items held out of training entirely, and accuracy on the test
cases whose item is one of them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl
import scipy.sparse as sp

from lmrec import metrics as M
from lmrec.data.split import Split
from lmrec.errors import UsageError
from lmrec.evaluation.collect import accuracy_per_user
from lmrec.evaluation.protocol import EvalData

if TYPE_CHECKING:
    from lmrec.evaluation.runner import EvalConfig, ModelResult

__all__ = ["cold_start", "hold_out_items", "restrict_columns"]


def restrict_columns(truth: sp.csr_matrix, keep: np.ndarray) -> sp.csr_matrix:
    """``truth`` with only the items where ``keep`` is true, without stored zeros (a stored zero
    would count as a relevant item)."""
    out = sp.csr_matrix(truth.multiply(keep[None, :].astype(np.float32)))
    out.eliminate_zeros()
    return out


def hold_out_items(split: Split, share: float, *, seed: int = 0) -> tuple[Split, list[str]]:
    """Remove a seeded random ``share`` of the items from train and validation entirely; the test
    part keeps them, so test cases whose target is such an item measure cold start."""
    if not 0 < share < 1:
        raise UsageError(f"--cold-items must be between 0 and 1, not {share}")
    ids = sorted(
        set(
            pl.concat([split.train["item_id"], split.valid["item_id"], split.test["item_id"]])
            .cast(pl.String)
            .to_list()
        )
    )
    rng = np.random.default_rng(seed)
    cold = sorted(rng.choice(ids, size=max(1, round(share * len(ids))), replace=False).tolist())
    keep = ~pl.col("item_id").cast(pl.String).is_in(cold)
    meta = {**split.meta, "cold_items": share, "cold_items_removed": len(cold)}
    return (
        Split(
            split.train.filter(keep),
            split.valid.filter(keep),
            split.test,
            split.items,
            split.users,
            meta,
        ),
        cold,
    )


def cold_start(
    results: dict[str, ModelResult],
    data: EvalData,
    cold_ids: list[str],
    cfg: EvalConfig,
    depth: int = 20,
) -> dict[str, Any]:
    """Accuracy on the test cases whose held-out item never occurred in training."""
    cold = np.zeros(data.train.n_items, dtype=bool)
    cold[data.item_vocab.indices(cold_ids)] = True
    truth = restrict_columns(data.test_truth, cold)
    rows = np.diff(truth.indptr) > 0
    out: dict[str, Any] = {
        "items_removed": len(cold_ids),
        "test_cases": int(rows.sum()),
        "depth": depth,
        "models": {},
    }
    if not rows.any():
        return out
    users = data.test_users[rows]
    for name, r in results.items():
        at = None if data.test_at is None else data.test_at[rows]
        recs, _ = r.model.recommend(users, depth, at=at)
        acc = accuracy_per_user(recs, truth[rows], depth)
        out["models"][name] = {
            label: {
                "mean": float(v.mean()),
                "ci95": list(M.bootstrap_ci(v, n_boot=cfg.n_boot, seed=cfg.seed)),
            }
            for label, v in acc.items()
            if label.split("@")[0] in ("Recall", "HR", "NDCG")
        }
    return out
