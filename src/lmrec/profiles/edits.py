"""What a user changed in their own profile: muted categories and removed interests."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from lmrec.errors import UsageError

__all__ = ["MAX_MUTED", "MAX_REMOVED", "ProfileEdits"]

#: how many categories one user can mute, and items remove
MAX_MUTED = 500
MAX_REMOVED = 5000


@dataclass(frozen=True)
class ProfileEdits:
    """``muted_categories``: never recommend items in these categories. ``removed_items``:
    these items no longer count as the user's taste (they are left out of the history the
    model scores from, and not recommended). ``variety``: how adventurous the user wants their
    list (0 to 1: the re-ranking strength for variety and exploration; None: the model's
    order)."""

    muted_categories: tuple[str, ...] = field(default_factory=tuple)
    removed_items: tuple[str, ...] = field(default_factory=tuple)
    variety: float | None = None

    @property
    def empty(self) -> bool:
        return not self.muted_categories and not self.removed_items

    def change(
        self,
        *,
        mute: list[str] | None = None,
        unmute: list[str] | None = None,
        remove: list[str] | None = None,
        restore: list[str] | None = None,
        variety: float | None = None,
    ) -> ProfileEdits:
        muted = (set(self.muted_categories) | set(mute or [])) - set(unmute or [])
        removed = (set(self.removed_items) | set(remove or [])) - set(restore or [])
        if len(muted) > MAX_MUTED:
            raise UsageError(f"at most {MAX_MUTED} muted categories; unmute some first")
        if len(removed) > MAX_REMOVED:
            raise UsageError(f"at most {MAX_REMOVED} removed items; restore some first")
        if variety is not None and not 0.0 <= variety <= 1.0:
            raise UsageError(f"variety must be between 0 and 1, not {variety}")
        keep = self.variety if variety is None else (variety or None)
        return ProfileEdits(tuple(sorted(muted)), tuple(sorted(removed)), keep)

    def to_dict(self) -> dict[str, Any]:
        return {
            "muted_categories": list(self.muted_categories),
            "removed_items": list(self.removed_items),
            "variety": self.variety,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    @classmethod
    def from_json(cls, text: str | None) -> ProfileEdits:
        if not text:
            return cls()
        d = json.loads(text)
        return cls(
            tuple(d.get("muted_categories", [])), tuple(d.get("removed_items", [])),
            d.get("variety"),
        )  # fmt: skip
