"""What a recommendation request asks for, and what is known of the user who asks."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from lmrec.online.version import ModelVersion
from lmrec.profiles import ProfileEdits
from lmrec.rerank import RerankConfig

__all__ = ["ENGAGED", "FreshEvent", "NewItems", "Request", "UserState", "user_state"]

#: Events that say the user consumed or engaged with the item (it is not recommended again).
ENGAGED = ("view", "click", "cart", "purchase", "rating")


@dataclass(frozen=True)
class Request:
    """A request for ``k`` items: for a user (raw id; None or unknown: cold start), optionally
    with a plain-language ``query`` (blended with the user's taste by ``query_weight``),
    ``exclude``\\ d items, a category filter, re-ranking, context and whether to explain."""

    user_id: str | None
    k: int = 10
    query: str | None = None
    query_weight: float = 0.5
    exclude: tuple[str, ...] = ()
    categories: tuple[str, ...] | None = None
    rerank: RerankConfig | None = None
    explain: bool = True
    context: dict[str, str | None] | None = None
    context_weight: float = 0.5


class FreshEvent(Protocol):
    """An action stored since training: what a user did, to which item, and when."""

    @property
    def item_id(self) -> str: ...
    @property
    def type(self) -> str: ...
    @property
    def timestamp(self) -> float: ...


@dataclass(frozen=True)
class UserState:
    """The user as the version sees them: the training index (-1: unknown), fresh engaged
    items (indices, oldest first) with their times, items left out (raw ids), items the user
    removed from their history (indices), and muted categories."""

    user: int
    fresh: tuple[int, ...] = ()
    fresh_times: tuple[int, ...] | None = None  # None: when they happened is unknown
    blocked: frozenset[str] = frozenset()
    removed: frozenset[int] = frozenset()
    muted: tuple[str, ...] = ()

    @property
    def cold(self) -> bool:
        return self.user < 0 and not self.fresh


@dataclass(frozen=True)
class NewItems:
    """Items added to the catalog after the version was trained: ids, titles and their text
    embeddings from the model's own encoder."""

    ids: list[str] = field(default_factory=list)
    titles: list[str | None] = field(default_factory=list)
    embeddings: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.float32))


def user_state(
    v: ModelVersion,
    user_id: str | None,
    events: Iterable[FreshEvent] = (),
    edits: ProfileEdits | None = None,
    exclude: Sequence[str] = (),
) -> UserState:
    """What ``v`` knows of ``user_id`` given their fresh ``events`` and profile ``edits``."""
    art = v.artifacts
    vocab = art.item_vocab
    edits = edits or ProfileEdits()
    events = list(events)
    user = (
        art.user_vocab.index(user_id) if user_id is not None and user_id in art.user_vocab else -1
    )
    engaged = [e for e in events if e.type in ENGAGED and e.item_id in vocab]
    return UserState(
        user=user,
        fresh=tuple(vocab.index(e.item_id) for e in engaged),
        fresh_times=tuple(_unix(e.timestamp) for e in engaged),
        blocked=frozenset({e.item_id for e in events} | set(exclude) | set(edits.removed_items)),
        removed=frozenset(vocab.index(i) for i in edits.removed_items if i in vocab),
        muted=tuple(edits.muted_categories),
    )


def _unix(timestamp: float) -> int:
    """An event time as whole Unix seconds, clipped to the range a model can read."""
    if not np.isfinite(timestamp):
        return 0
    return int(min(max(timestamp, 0.0), 2.0**62))
