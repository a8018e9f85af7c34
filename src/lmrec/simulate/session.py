"""Simulated sessions: users built from held-out ratings interact with the recommender.

A simulated user clicks every shown item they rated at least ``like_threshold`` in the held-out
part of a split. Each session lasts ``rounds`` rounds of ``k`` items. Three policies:

- ``static``: one ranked list computed before the session, shown ``k`` items per round;
- ``realtime``: before every round the service's online path (:mod:`lmrec.online`) makes a
  list with the session's clicks as the user's fresh events, and items already shown left out;
- ``realtime_rerank``: ``realtime`` with the re-ranker on.

Clicks per session and rounds to the first click are the offline stand-ins for satisfaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from lmrec import metrics as M
from lmrec.models.base import Recommender
from lmrec.online import ModelVersion, Request, UserState, recommend
from lmrec.progress import track
from lmrec.rerank import RerankConfig

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
    v: ModelVersion, users: np.ndarray, liked: sp.csr_matrix, cfg: SimConfig
) -> dict[str, Any]:
    """Run the policies for ``users`` (indices; -1 = not in training) whose liked held-out
    items are the rows of ``liked`` (one row per user, all items), with version ``v``'s model;
    the real-time lists come from the service's online path (:mod:`lmrec.online`)."""
    model = v.model
    policies = {"static": _static(model, users, cfg)}
    policies["realtime"] = _realtime(v, users, liked, cfg, None)
    if cfg.rerank is not None:
        policies["realtime_rerank"] = _realtime(v, users, liked, cfg, cfg.rerank)
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
    v: ModelVersion,
    users: np.ndarray,
    liked: sp.csr_matrix,
    cfg: SimConfig,
    rr: RerankConfig | None,
) -> np.ndarray:
    """users x rounds x k items: before each round, a list from the online path as the service
    serves it, with the session's clicks as fresh events and what was shown left out."""
    vocab = v.artifacts.item_vocab
    shown = np.full((len(users), cfg.rounds, cfg.k), -1, dtype=np.int64)
    clicks: list[list[int]] = [[] for _ in users]
    blocked: list[set[str]] = [set() for _ in users]
    liked_sets = [set(liked[u].indices.tolist()) for u in range(len(users))]
    request = Request(None, cfg.k, rerank=rr, explain=False)
    for r in track(range(cfg.rounds), "rounds", enabled=cfg.progress):
        for u, user in enumerate(users):
            state = UserState(int(user), tuple(clicks[u]), blocked=frozenset(blocked[u]))
            items = recommend(v, request, state)["items"]
            ids = vocab.indices([i["item_id"] for i in items])
            shown[u, r, : len(ids)] = ids
            for item, i in zip(items, ids, strict=True):
                blocked[u].add(item["item_id"])
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
