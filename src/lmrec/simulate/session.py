"""Simulated sessions: users built from held-out ratings interact with the recommender.

A simulated user clicks every shown item they rated at least ``like_threshold`` in the held-out
part of a split. Each session lasts ``rounds`` rounds of ``k`` items. Three policies:

- ``static``: one ranked list computed before the session, shown ``k`` items per round;
- ``realtime``: before every round the model re-scores with the session's clicks added to the
  user's history (as the service does with fresh events), and items already shown are left out;
- ``realtime_rerank``: ``realtime`` with the re-ranker on.

Clicks per session and rounds to the first click are the offline stand-ins for satisfaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from lmrec import metrics as M
from lmrec.models.base import Recommender, top_n
from lmrec.progress import track
from lmrec.rerank import ItemFeatures, RerankConfig, rerank

__all__ = ["SimConfig", "simulate_sessions"]


@dataclass(frozen=True)
class SimConfig:
    rounds: int = 10
    k: int = 10
    seed: int = 0
    n_boot: int = 1000
    rerank: RerankConfig | None = None
    progress: bool = False


def simulate_sessions(
    model: Recommender,
    users: np.ndarray,
    liked: sp.csr_matrix,
    cfg: SimConfig,
    *,
    features: ItemFeatures | None = None,
) -> dict[str, Any]:
    """Run the policies for ``users`` (indices; -1 = not in training) whose liked held-out
    items are the rows of ``liked`` (one row per user, all items)."""
    policies = {"static": _static(model, users, cfg)}
    policies["realtime"] = _realtime(model, users, liked, cfg, None, features)
    if cfg.rerank is not None and features is not None:
        policies["realtime_rerank"] = _realtime(model, users, liked, cfg, cfg.rerank, features)
    out: dict[str, Any] = {
        "users": len(users),
        "rounds": cfg.rounds,
        "k": cfg.k,
        "realtime_capable": model.uses_history,
    }
    for name, shown in policies.items():
        out[name] = _summary(shown, liked, cfg)
    base = out["static"]["clicks_per_session"]["mean"]
    for name in policies:
        if name != "static":
            value = out[name]["clicks_per_session"]["mean"]
            out[name]["clicks_vs_static"] = value / base - 1.0 if base > 0 else None
    return out


def _static(model: Recommender, users: np.ndarray, cfg: SimConfig) -> np.ndarray:
    """users x rounds x k items: one list, paged."""
    ids, _ = model.recommend(users, cfg.rounds * cfg.k)
    return ids.reshape(len(users), cfg.rounds, cfg.k)


def _realtime(
    model: Recommender,
    users: np.ndarray,
    liked: sp.csr_matrix,
    cfg: SimConfig,
    rr: RerankConfig | None,
    features: ItemFeatures | None,
) -> np.ndarray:
    n_items = model.n_items_
    shown = np.full((len(users), cfg.rounds, cfg.k), -1, dtype=np.int64)
    clicks: list[list[int]] = [[] for _ in users]
    blocked = sp.lil_matrix((len(users), n_items), dtype=bool)
    liked_sets = [set(liked[u].indices.tolist()) for u in range(len(users))]
    seen = model.seen_
    exposure = np.zeros(n_items)
    for r in track(range(cfg.rounds), "rounds", enabled=cfg.progress):
        if model.uses_history:
            carts = [np.array(c, dtype=np.int64) for c in clicks]
            scores = model.score_carts(carts, users)
        else:  # a model with learned user vectors cannot take in the clicks
            scores = np.nan_to_num(model.score(users), nan=0.0)
            unknown = (users < 0) | (users >= model.n_users_)
            scores[unknown] = model.popularity_
        scores = np.nan_to_num(scores.astype(np.float32), nan=-np.inf)
        known = (users >= 0) & (users < model.n_users_)
        sub = seen[users[known]].tocoo()
        scores[np.flatnonzero(known)[sub.row], sub.col] = -np.inf
        b = blocked.tocoo()
        scores[b.row, b.col] = -np.inf
        if rr is None or features is None:
            ids, _ = top_n(scores, cfg.k)
        else:
            cand, cand_scores = top_n(scores, rr.candidates)
            ids = np.stack([
                rerank(cand[u], cand_scores[u], cfg.k, features, rr, shown=exposure)[0]
                for u in range(len(users))
            ])  # fmt: skip
        shown[:, r] = ids
        for u in range(len(users)):
            row = ids[u][ids[u] >= 0]
            exposure[row] += 1.0
            for i in row:
                blocked[u, int(i)] = True
                if int(i) in liked_sets[u]:
                    clicks[u].append(int(i))
    return shown


def _summary(shown: np.ndarray, liked: sp.csr_matrix, cfg: SimConfig) -> dict[str, Any]:
    n_users, rounds, _ = shown.shape
    hits = np.zeros((n_users, rounds))
    for u in range(n_users):
        row = liked[u].indices
        hits[u] = np.isin(shown[u], row).sum(axis=1)
    per_session = hits.sum(axis=1)
    clicked = per_session > 0
    first = np.where(clicked, np.argmax(hits > 0, axis=1) + 1, rounds + 1).astype(np.float64)
    return {
        "clicks_per_session": {
            "mean": float(per_session.mean()),
            "ci95": list(M.bootstrap_ci(per_session, n_boot=cfg.n_boot, seed=cfg.seed)),
        },
        "rounds_to_first_click": {
            "mean": float(first[clicked].mean()) if clicked.any() else None,
            "ci95": list(M.bootstrap_ci(first[clicked], n_boot=cfg.n_boot, seed=cfg.seed))
            if clicked.any()
            else None,
            "definition": "mean over sessions with a click",
        },
        "sessions_with_a_click": float(clicked.mean()),
        "clicks_by_round": hits.mean(axis=0).round(4).tolist(),
        "coverage": M.coverage(shown.reshape(n_users, -1), liked.shape[1]),
    }
