"""What some models can do beyond :class:`~lmrec.models.Recommender`, declared as protocols.

Code that needs a capability asks ``isinstance(model, TwoTower)`` (or, on a request's path,
the cached :func:`capable`) and then calls it, typed; a user's own model gains the capability
by defining the methods.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol, TypeGuard, TypeVar, runtime_checkable

import numpy as np

from lmrec._types import FloatArray, IntArray

if TYPE_CHECKING:
    from lmrec.text.encoder import TextEncoder

__all__ = [
    "DifferentiallyPrivate",
    "LinearInHistory",
    "OrderedHistory",
    "ScoresNewItems",
    "SimilarItems",
    "TwoTower",
    "capable",
]


@runtime_checkable
class TwoTower(Protocol):
    """Scores are ``query_vectors(carts) @ item_matrix().T``, so an ANN index over the item
    matrix can retrieve candidates."""

    def item_matrix(self) -> FloatArray:
        """One vector per item, shape (n_items, dim)."""
        ...

    def query_vectors(
        self,
        carts: Sequence[IntArray],
        users: IntArray | None = None,
        *,
        at: int | IntArray | None = None,
        times: Sequence[IntArray] | None = None,
    ) -> FloatArray:
        """The vector each :meth:`~lmrec.models.Recommender.score_carts` row is scored with."""
        ...


@runtime_checkable
class ScoresNewItems(Protocol):
    """Scores items added after training from their text, embedded by ``text_encoder`` (a
    name, or the model's own fine-tuned encoder)."""

    text_encoder: str | TextEncoder | None

    def score_new_items(
        self, carts: Sequence[IntArray], users: IntArray | None, text_embeddings: np.ndarray
    ) -> FloatArray:
        """Scores (len(carts), n_new) of the new items whose embeddings are given."""
        ...


@runtime_checkable
class LinearInHistory(Protocol):
    """A score is the sum over the (distinct) history items ``j`` of ``W[j, target]``."""

    def item_weights(self, history: IntArray, targets: IntArray) -> FloatArray:
        """``W[history][:, targets]``, shape (len(history), len(targets))."""
        ...


@runtime_checkable
class OrderedHistory(Protocol):
    """Keeps each training user's actions in time order."""

    def user_tokens(self, user: int) -> tuple[np.ndarray, np.ndarray]:
        """The user's items (index + 1), oldest first, and the time-gap bucket of each."""
        ...


@runtime_checkable
class SimilarItems(Protocol):
    """Has its own item-to-item similarity."""

    def similar_items(self, item: int, n: int = 10) -> tuple[IntArray, FloatArray]:
        """The ``n`` items most like ``item`` (never ``item`` itself), most similar first."""
        ...


@runtime_checkable
class DifferentiallyPrivate(Protocol):
    """Trained with a formal privacy guarantee, which it reports."""

    @property
    def privacy(self) -> dict[str, Any]:
        """epsilon, delta, the mechanism, and what the guarantee covers."""
        ...


P = TypeVar("P")

_KNOWN: dict[tuple[type, type], bool] = {}


def capable(model: object, protocol: type[P]) -> TypeGuard[P]:
    """``isinstance(model, protocol)`` for a protocol of methods, answered once per class (a
    runtime protocol check looks up every member each time: tens of microseconds)."""
    key = (type(model), protocol)
    found = _KNOWN.get(key)
    if found is None:
        found = _KNOWN[key] = isinstance(model, protocol)
    return found
