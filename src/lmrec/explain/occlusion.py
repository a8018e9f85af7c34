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

__all__ = ["MAX_HISTORY", "can_cite_history", "history_effects", "user_history"]

#: Only the most recent items of a history are candidates for a reason (older ones rarely
#: matter). Linear models read every contribution from their weights at once; the others
#: re-score once per candidate, so they look at fewer.
MAX_HISTORY = 50
MAX_RESCORED = 5


def can_cite_history(model: Recommender) -> bool:
    """Whether the model scores from a history it is given (so removing an item is defined)."""
    return model.can_score_carts() and model.name != "pop"


def history_effects(
    model: Recommender,
    history: IntArray,
    targets: IntArray,
    *,
    max_history: int | None = None,
) -> tuple[IntArray, FloatArray]:
    """The last ``max_history`` items of ``history`` (item indices, oldest first) and, for each,
    the drop in every target's score when it alone is removed: shape (n_recent, len(targets)).
    By default :data:`MAX_HISTORY` for linear models, :data:`MAX_RESCORED` for the others.
    """
    if not can_cite_history(model):
        raise UsageError(f"model '{model.name}' does not score from a history; nothing to cite")
    history = np.asarray(history, dtype=np.int64)
    targets = np.asarray(targets, dtype=np.int64)
    linear = getattr(model, "item_weights", None)
    if max_history is None:
        max_history = MAX_HISTORY if callable(linear) else MAX_RESCORED
    start = max(0, len(history) - max_history)
    recent = history[start:]
    if len(recent) == 0 or len(targets) == 0:
        return recent, np.zeros((len(recent), len(targets)), dtype=np.float32)
    if callable(linear):
        # score = sum over the (distinct) history items of W[j, target]
        weights = np.asarray(linear(recent, targets), dtype=np.float32)
        counts = np.bincount(recent, minlength=int(recent.max()) + 1)[recent]
        weights[counts > 1] = 0.0  # removing one copy leaves the other
        return recent, weights
    carts = [history] + [np.delete(history, start + j) for j in range(len(recent))]
    towers = getattr(model, "query_vectors", None)
    if callable(towers):  # score only the targets: the same numbers, without the catalog
        empty = np.array([len(c) == 0 for c in carts])
        scores = towers(carts) @ model.item_matrix()[targets].T  # type: ignore[attr-defined]
        scores[empty] = model.popularity_[targets]
    else:
        scores = model.score_carts(carts)[:, targets]
    return recent, (scores[0][None, :] - scores[1:]).astype(np.float32)


def user_history(model: Recommender, user: int) -> IntArray:
    """A training user's history as the model sees it, oldest first where it keeps the order
    (the sequence model), else in item order. Unknown users have none."""
    if not 0 <= user < model.n_users_:
        return np.zeros(0, dtype=np.int64)
    tokens = getattr(model, "user_tokens", None)
    if callable(tokens):
        return np.asarray(tokens(user)[0], dtype=np.int64) - 1
    return np.asarray(model.seen_[user].indices, dtype=np.int64)
