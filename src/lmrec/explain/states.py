"""Occlusion states of every training user, computed in batch ahead of serving.

For a two-tower model a target's score is a state (the encoded history) times the target's
vector, so a reason (:mod:`lmrec.explain.occlusion`) needs only the states of the history and
of the history without each of its latest items, whatever the targets. ``lmrec export``
computes them for every training user in batches and writes them beside the model
(:data:`REASON_STATES_FILE`); the service reads a user's rows instead of encoding
``1 + MAX_RESCORED`` sequences on that user's first request. A user with events since
training, or who removed items, has another history and gets freshly computed states.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np

from lmrec._types import FloatArray, IntArray
from lmrec.errors import UsageError
from lmrec.explain.occlusion import MAX_RESCORED, can_cite_history, occlusion_carts, user_history
from lmrec.models.base import Recommender
from lmrec.models.capabilities import OrderedHistory, TwoTower, capable
from lmrec.onnx.saved import state_digest

log = logging.getLogger(__name__)

__all__ = ["REASON_STATES_FILE", "ReasonStates", "has_reason_states", "write_reason_states"]

REASON_STATES_FILE = "reason-states.safetensors"
#: sequences encoded per call when the states are written
BATCH = 1024


def has_reason_states(model: Recommender) -> bool:
    """Whether reasons of ``model`` come from states that can be computed ahead: a two-tower
    model that scores the ordered history it keeps of each training user."""
    return can_cite_history(model) and capable(model, TwoTower) and capable(model, OrderedHistory)


def write_reason_states(
    model: Recommender,
    folder: Path,
    *,
    progress: Callable[[int, int], None] | None = None,
) -> Path:
    """Write the occlusion states of each of ``model``'s training users into ``folder``, the
    folder ``model`` is saved in (the states record the SHA-256 of its weights);
    ``progress(users done, users)`` is called after each batch."""
    from safetensors.numpy import save_file

    if not has_reason_states(model):
        raise UsageError(f"model '{model.name}' has no reason states to compute ahead")
    if not (folder / "state.safetensors").is_file():
        raise UsageError(f"{folder}: no saved model (state.safetensors) to write reasons beside")
    assert isinstance(model, TwoTower)
    n_users = model.n_users_
    offsets = np.zeros(n_users + 1, dtype=np.int64)
    chunks: list[FloatArray] = []
    pending: list[IntArray] = []

    def encode() -> None:
        if pending:
            chunks.append(np.asarray(model.query_vectors(pending), dtype=np.float32))
            pending.clear()

    for user in range(n_users):
        _, carts = occlusion_carts(user_history(model, user), MAX_RESCORED)
        pending.extend(carts)
        offsets[user + 1] = offsets[user] + len(carts)
        if len(pending) >= BATCH or user == n_users - 1:
            encode()
            if progress is not None:
                progress(user + 1, n_users)
    dim = model.item_matrix().shape[1]
    states = np.concatenate(chunks) if chunks else np.zeros((0, dim), np.float32)
    path = folder / REASON_STATES_FILE
    save_file(
        {"states": states, "offsets": offsets}, str(path),
        metadata={
            "max_history": str(MAX_RESCORED),
            "n_items": str(model.n_items_),
            "state_sha256": state_digest(folder),
        },
    )  # fmt: skip
    return path


class ReasonStates:
    """The states written by :func:`write_reason_states`, by training user."""

    def __init__(self, states: FloatArray, offsets: IntArray) -> None:
        self.states = states
        self.offsets = offsets

    @classmethod
    def open(cls, folder: Path, model: Recommender) -> ReasonStates | None:
        """The states beside ``model`` in ``folder``, or None when none were written or they
        were written for other weights than ``folder``'s (then reasons are computed on
        request, and a warning says to export again); a file that is not one is refused."""
        from safetensors import SafetensorError, safe_open

        path = folder / REASON_STATES_FILE
        if not path.is_file() or not has_reason_states(model):
            return None
        assert isinstance(model, TwoTower)
        try:
            with safe_open(str(path), framework="numpy") as f:
                meta = f.metadata() or {}
                states, offsets = f.get_tensor("states"), f.get_tensor("offsets")
        except (SafetensorError, OSError, KeyError) as exc:
            raise UsageError(f"{path}: not a file of reason states ({exc})") from None
        dim = model.item_matrix().shape[1]
        if (
            len(offsets) != model.n_users_ + 1
            or states.ndim != 2
            or states.shape[1] != dim
            or int(offsets[-1]) != len(states)
            or meta.get("max_history") != str(MAX_RESCORED)
            or meta.get("n_items") != str(model.n_items_)
            or not (folder / "state.safetensors").is_file()
            or meta.get("state_sha256") != state_digest(folder)
        ):
            log.warning(
                "%s: these reason states are not of this model (written for other weights); "
                "reasons are computed on request; run 'lmrec export' again",
                path,
            )
            return None
        return cls(states, offsets)

    def rows(self, user: int) -> FloatArray:
        """The states of training user ``user``'s history, then of it without each of its
        latest items, oldest first (as :func:`lmrec.explain.occlusion.history_effects`)."""
        return self.states[self.offsets[user] : self.offsets[user + 1]]
