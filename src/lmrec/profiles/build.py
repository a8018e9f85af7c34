"""A user's profile from their history: interests by category, favourites, activity."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from lmrec.profiles.edits import ProfileEdits

__all__ = ["HistoryEntry", "build_profile", "category_weights"]


@dataclass(frozen=True)
class HistoryEntry:
    item_id: str
    timestamp: float | None
    type: str = "interaction"  # training data, or an event type from the service
    value: float | None = None


def category_weights(
    categories: Sequence[Sequence[str]], half_life: float | None = 20.0
) -> dict[str, float]:
    """Interest per category from the categories of the history's items (oldest first): each
    item's weight ``0.5 ** (age / half_life)`` (age in actions, 0 = latest) split evenly over
    its categories."""
    n = len(categories)
    out: dict[str, float] = {}
    for pos, cats in enumerate(categories):
        if not cats:
            continue
        age = n - 1 - pos
        w = 1.0 if half_life is None else 0.5 ** (age / half_life)
        for c in cats:
            out[c] = out.get(c, 0.0) + w / len(cats)
    return out


def build_profile(
    user_id: str,
    history: list[HistoryEntry],
    catalog: dict[str, tuple[str | None, list[str]]],
    edits: ProfileEdits,
    *,
    known: bool,
    half_life: float | None = 20.0,
    n_categories: int = 10,
    n_favourites: int = 5,
) -> dict[str, Any]:
    """The profile a user sees: ``catalog`` maps item id -> (title, categories). Removed items
    are listed as such and left out of the interests; muted categories are marked."""
    removed = set(edits.removed_items)
    engaged = [h for h in history if h.type != "not_interested"]
    kept = [h for h in engaged if h.item_id not in removed]
    cats = [catalog.get(h.item_id, (None, []))[1] for h in kept]
    weights = category_weights(cats, half_life)
    total = sum(weights.values()) or 1.0
    muted = set(edits.muted_categories)
    interests = [
        {"category": c, "weight": round(w, 4), "share": round(w / total, 4), "muted": c in muted}
        for c, w in sorted(weights.items(), key=lambda kv: (-kv[1], kv[0]))[:n_categories]
    ]
    interests += [
        {"category": c, "weight": 0.0, "share": 0.0, "muted": True}
        for c in sorted(muted - set(weights))
    ]
    stamps = [h.timestamp for h in engaged if h.timestamp is not None]
    types: dict[str, int] = {}
    for h in history:
        types[h.type] = types.get(h.type, 0) + 1
    return {
        "user_id": user_id,
        "known": known,
        "interests": interests,
        "favourites": _favourites(kept, catalog, n_favourites),
        "activity": {
            "interactions": len(engaged),
            "by_type": types,
            "first_seen": min(stamps) if stamps else None,
            "last_seen": max(stamps) if stamps else None,
            "active_days": len({int(t // 86400) for t in stamps}),
        },
        "recent": [
            {"item_id": h.item_id, "title": catalog.get(h.item_id, (None, []))[0], "type": h.type}
            for h in history[-10:][::-1]
        ],
        "not_interested": sorted({h.item_id for h in history if h.type == "not_interested"}),
        "edits": edits.to_dict(),
    }


def _favourites(
    kept: list[HistoryEntry], catalog: dict[str, tuple[str | None, list[str]]], n: int
) -> list[dict[str, Any]]:
    """The highest-rated items (most recent first among equals); without ratings, the latest."""
    if not kept:
        return []
    values = np.array([h.value if h.value is not None else -np.inf for h in kept])
    order = np.lexsort((-np.arange(len(kept)), -values))
    seen: set[str] = set()
    out = []
    for j in order:
        h = kept[int(j)]
        if h.item_id in seen:
            continue
        seen.add(h.item_id)
        entry: dict[str, Any] = {
            "item_id": h.item_id,
            "title": catalog.get(h.item_id, (None, []))[0],
        }
        if h.value is not None:
            entry["value"] = h.value
        out.append(entry)
        if len(out) == n:
            break
    return out
