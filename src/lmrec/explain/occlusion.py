"""How much each history item adds to a recommended item's score, measured on the model.

An item's contribution is the drop in the target's score when that one item is taken out of
the history (occlusion). That is the model's own behaviour, so a reason citing the item with
the largest drop is faithful by construction; linear models (item-kNN, EASE) give the same
number from their weights without re-scoring.
"""

from __future__ import annotations

import numpy as np

from lmrec._types import FloatArray, IntArray
from lmrec.errors import UsageError
from lmrec.models.base import Recommender
from lmrec.models.capabilities import LinearInHistory, OrderedHistory, TwoTower, capable

__all__ = [
    "MAX_HISTORY", "MAX_RESCORED", "can_cite_history", "history_effects", "occlusion_carts",
    "user_history",
]  # fmt: skip

#: Only the most recent items of a history are candidates for a reason (older ones rarely
#: matter). Linear models read every contribution from their weights at once; the others
#: re-score once per candidate, so they look at fewer.
MAX_HISTORY = 50
MAX_RESCORED = 5


def can_cite_history(model: Recommender) -> bool:
    """Whether the model scores from a history it is given (so removing an item is defined)."""
    return model.uses_history and model.personal


def occlusion_carts(history: IntArray, max_history: int) -> tuple[IntArray, list[IntArray]]:
    """The last ``max_history`` items of ``history``, and the carts their effects are measured
    with: the whole history, then the history without each of them."""
    history = np.asarray(history, dtype=np.int64)
    start = max(0, len(history) - max_history)
    recent = history[start:]
    return recent, [history] + [np.delete(history, start + j) for j in range(len(recent))]


def history_effects(
    model: Recommender,
    history: IntArray,
    targets: IntArray,
    *,
    max_history: int | None = None,
    states: FloatArray | None = None,
) -> tuple[IntArray, FloatArray]:
    """The last ``max_history`` items of ``history`` (item indices, oldest first) and, for each,
    the drop in every target's score when it alone is removed: shape (n_recent, len(targets)).
    By default :data:`MAX_HISTORY` for linear models, :data:`MAX_RESCORED` for the others.
    A two-tower model's ``states`` of the carts of :func:`occlusion_carts`, where they were
    computed ahead (:mod:`lmrec.explain.states`), are used instead of encoding them again.
    """
    if not can_cite_history(model):
        raise UsageError(f"model '{model.name}' does not score from a history; nothing to cite")
    targets = np.asarray(targets, dtype=np.int64)
    linear = capable(model, LinearInHistory)
    if max_history is None:
        max_history = MAX_HISTORY if linear else MAX_RESCORED
    recent, carts = occlusion_carts(history, max_history)
    if len(recent) == 0 or len(targets) == 0:
        return recent, np.zeros((len(recent), len(targets)), dtype=np.float32)
    if capable(model, LinearInHistory):  # (a TypeGuard: narrows only here)
        # score = sum over the (distinct) history items of W[j, target]
        weights = np.asarray(model.item_weights(recent, targets), dtype=np.float32)
        counts = np.bincount(recent, minlength=int(recent.max()) + 1)[recent]
        weights[counts > 1] = 0.0  # removing one copy leaves the other
        return recent, weights
    popularity = model.popularity_
    if capable(model, TwoTower):  # score only the targets: the same numbers, no catalog
        if states is None or len(states) != len(carts):
            states = model.query_vectors(carts)
        empty = np.array([len(c) == 0 for c in carts])
        scores = states @ model.item_matrix()[targets].T
        scores[empty] = popularity[targets]
    else:
        scores = model.score_carts(carts)[:, targets]
    return recent, (scores[0][None, :] - scores[1:]).astype(np.float32)


def user_history(model: Recommender, user: int) -> IntArray:
    """A training user's history as the model sees it, oldest first where it keeps the order
    (the sequence model), else in item order. Unknown users have none."""
    if not 0 <= user < model.n_users_:
        return np.zeros(0, dtype=np.int64)
    if capable(model, OrderedHistory):
        return np.asarray(model.user_tokens(user)[0], dtype=np.int64) - 1
    return np.asarray(model.seen_[user].indices, dtype=np.int64)
