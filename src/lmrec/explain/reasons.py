"""Reasons for recommended items, grounded in the signal the model actually used."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from lmrec._types import FloatArray, IntArray
from lmrec.explain.occlusion import can_cite_history, history_effects
from lmrec.models.base import Recommender

__all__ = ["Reason", "explain", "query_reason"]


@dataclass(frozen=True)
class Reason:
    """``kind``: history (``item`` is the history item whose removal lowers the score most,
    ``effect`` that drop), collaborative (a model of users' shared tastes), popular, query,
    new (an item added after training, scored through its text)."""

    kind: str
    text: str
    item: int | None = None
    effect: float | None = None

    def to_dict(self, item_ids: Any = None) -> dict[str, Any]:
        item = self.item if item_ids is None or self.item is None else item_ids(self.item)
        return {"kind": self.kind, "text": self.text, "item": item, "effect": self.effect}


def query_reason(query: str, with_history: bool) -> Reason:
    """The reason of an item ranked for a plain-language request: the request's relevance,
    blended with the user's own ranking where ``with_history``."""
    text = f"matches your request '{query}'" + (" and your history" if with_history else "")
    return Reason("query", text)


def explain(
    model: Recommender,
    history: IntArray,
    targets: IntArray,
    titles: Sequence[str | None],
    *,
    verb: str = "liked",
    max_history: int | None = None,
    states: FloatArray | None = None,
) -> list[Reason]:
    """One reason per target item for a user whose history (item indices, oldest first) is
    ``history``. Models that score from history cite the history item that contributes most
    (a two-tower model's occlusion ``states`` are used where they were computed ahead);
    models with learned user vectors say so; without history the reason is popularity."""
    targets = np.asarray(targets, dtype=np.int64)
    history = np.asarray(history, dtype=np.int64)
    if len(history) == 0 or not model.personal:
        return [Reason("popular", "popular with everyone") for _ in targets]
    if not can_cite_history(model):
        text = "liked by people whose tastes are like yours"
        return [Reason("collaborative", text) for _ in targets]
    recent, effects = history_effects(
        model, history, targets, max_history=max_history, states=states
    )
    out = []
    for col in range(len(targets)):
        j = int(np.argmax(effects[:, col])) if len(recent) else -1
        if j < 0 or effects[j, col] <= 0:
            out.append(Reason("collaborative", "close to your taste overall"))
            continue
        item = int(recent[j])
        title = titles[item] if item < len(titles) and titles[item] else f"item {item}"
        out.append(Reason("history", f"because you {verb} {title}", item, float(effects[j, col])))
    return out
