"""Model names as the CLI and reports know them."""

from __future__ import annotations

from typing import Any

from lmrec.errors import UsageError
from lmrec.models.base import Recommender

__all__ = ["MODEL_NAMES", "create_model", "get_model_class", "search_space"]

_ALIASES = {
    "popularity": "pop",
    "item-knn": "itemknn",
    "knn": "itemknn",
    "sasrec": "sequential",
    "seq": "sequential",
    "association-rules": "rules",
    "arules": "rules",
}
MODEL_NAMES = (
    "pop", "rules", "itemknn", "als", "bpr", "ease", "content", "sequential", "hybrid",
)  # fmt: skip


def get_model_class(name: str) -> type[Recommender]:
    from lmrec.models.ease import EASE
    from lmrec.models.factorization import ALS, BPR
    from lmrec.models.itemknn import ItemKNN
    from lmrec.models.popularity import Popularity
    from lmrec.models.rules import AssociationRules

    classes: dict[str, type[Recommender]] = {
        "pop": Popularity, "rules": AssociationRules, "itemknn": ItemKNN, "als": ALS, "bpr": BPR, "ease": EASE,
    }  # fmt: skip
    key = _ALIASES.get(name.lower(), name.lower())
    if key == "hybrid":
        from lmrec.models.hybrid import HybridRanker

        return HybridRanker
    if key == "content":
        from lmrec.models.content import ContentRecommender

        return ContentRecommender
    if key == "sequential":
        from lmrec.models.seq.model import SequentialRecommender

        return SequentialRecommender
    if key not in classes:
        raise UsageError(f"unknown model '{name}'; known models: {', '.join(MODEL_NAMES)}")
    return classes[key]


def create_model(name: str, **params: Any) -> Recommender:
    klass = get_model_class(name)
    try:
        return klass(**params)
    except TypeError as exc:
        raise UsageError(f"bad parameters for model '{name}': {exc}") from None


def search_space(name: str) -> list[dict[str, Any]]:
    """The hyper-parameter settings tried on validation for ``name`` (first = default)."""
    klass = get_model_class(name)
    space = getattr(klass, "search_space", None)
    return list(space()) if callable(space) else [{}]
