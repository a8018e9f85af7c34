"""A user's profile as the online path shows it: history, interests and edits."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from lmrec.explain import user_history
from lmrec.online.version import ModelVersion
from lmrec.profiles import HistoryEntry, ProfileEdits, build_profile

__all__ = ["user_profile"]


def user_profile(
    v: ModelVersion,
    user_id: str,
    events: Iterable[HistoryEntry],
    edits: ProfileEdits,
    added: dict[str, tuple[str | None, list[str]]] | None = None,
    *,
    trained: bool = True,
) -> dict[str, Any]:
    """What the user can see and edit: interests by category (recent actions weigh more),
    favourites, activity, history (training unless not ``trained``, then ``events``) and their
    ``edits``. ``added``: catalog items added after training (id -> title, categories)."""
    art = v.artifacts
    known = trained and user_id in art.user_vocab
    history: list[HistoryEntry] = []
    if known:
        user = art.user_vocab.index(user_id)
        frame = art.user_history(user)
        if frame.height:
            values = frame["value"].to_list() if "value" in frame.columns else None
            history = [
                HistoryEntry(art.item_vocab.raw(int(i)), float(t), "interaction",
                             None if values is None else values[j])
                for j, (i, t) in enumerate(zip(frame["item"], frame["timestamp"], strict=True))
            ]  # fmt: skip
        else:  # artifacts without a kept history: the model's own record, unordered
            history = [
                HistoryEntry(i, None) for i in art.item_vocab.raws(user_history(v.model, user))
            ]
    history.extend(events)
    catalog = v.catalog | added if added else v.catalog
    return build_profile(user_id, history, catalog, edits, known=known)
