"""Items added to the catalog through the API (``PUT /v1/items``), as one worker sees them:
the store's additions re-read at most once a second, and per model version the new ones it
can score through their text, embedded once by that model's own encoder."""

from __future__ import annotations

import time
from typing import Any, overload

from lmrec.models.capabilities import ScoresNewItems
from lmrec.online import ModelVersion, NewItems
from lmrec.service.store import Store

__all__ = ["CatalogAdditions"]


class CatalogAdditions:
    """The catalog additions in ``store``, cached for a second (at once after an upsert
    through this object)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._added: tuple[float, dict[str, dict[str, Any]], frozenset[str]] | None = None
        # per version: when refreshed, what was added (ids and texts), their embeddings
        self._new: dict[str, tuple[float, tuple[Any, ...], NewItems]] = {}

    def upsert(self, items: list[dict[str, Any]]) -> None:
        self.store.upsert_items(items)
        self._new = {}  # recomputed on the next request
        self._added = None

    def items(self) -> dict[str, dict[str, Any]]:
        """The store's catalog additions by item id."""
        now = time.monotonic()
        cached = self._added
        if cached is not None and now - cached[0] < 1.0:
            return cached[1]
        added = self.store.items()
        hidden = frozenset(i for i, body in added.items() if body.get("hidden"))
        self._added = (now, added, hidden)
        return added

    def hidden(self) -> frozenset[str]:
        """Items an operator hid (``hidden`` set): never recommended."""
        self.items()  # refreshes the cache that holds them
        assert self._added is not None
        return self._added[2]

    def forget_embeddings(self) -> None:
        """Drop every version's embeddings of the additions (another version is active)."""
        self._new = {}

    @overload
    def new_items(self, v: ModelVersion) -> NewItems: ...
    @overload
    def new_items(self, v: ModelVersion, *, encode: bool) -> NewItems | None: ...

    def new_items(self, v: ModelVersion, *, encode: bool = True) -> NewItems | None:
        """The additions the version's model has never seen, embedded by the model's own
        encoder (texts already embedded are not embedded again). Without ``encode``, None
        where there are texts to embed."""
        now = time.monotonic()
        cached = self._new.get(v.version)
        if cached is not None and now - cached[0] < 1.0:
            return cached[2]
        encoder = v.model.text_encoder if isinstance(v.model, ScoresNewItems) else None
        added = [] if not encoder else [
            i for i in self.items().values() if i["item_id"] not in v.artifacts.item_vocab
        ]  # fmt: skip
        texts = [i.get("text") or i["title"] for i in added]
        key = tuple((i["item_id"], i["title"], t) for i, t in zip(added, texts, strict=True))
        if cached is not None and cached[1] == key:
            result = cached[2]
        elif not added:
            result = NewItems()
        elif not encode:
            return None
        else:
            from lmrec.text import encode_items

            assert encoder  # added is empty without one
            result = NewItems(
                [i["item_id"] for i in added], [i["title"] for i in added],
                encode_items(texts, encoder),
            )  # fmt: skip
        self._new[v.version] = (now, key, result)
        return result
