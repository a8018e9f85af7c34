"""Top-N model names as the CLI and reports know them (a view of :mod:`lmrec.registry`)."""

from __future__ import annotations

from typing import Any

from lmrec.models.base import Recommender
from lmrec.registry import registry

__all__ = ["MODEL_NAMES", "create_model", "get_model_class", "model_names", "search_space"]

#: The built-in top-N models, in the order reports list them.
MODEL_NAMES = registry.names("topn")


def model_names() -> tuple[str, ...]:
    """Every registered top-N model: the built-ins, then the user's own."""
    return registry.names("topn")


def get_model_class(name: str) -> type[Recommender]:
    klass: type[Recommender] = registry.get(name, "topn")
    return klass


def create_model(name: str, **params: Any) -> Recommender:
    model: Recommender = registry.create(name, "topn", **params)
    return model


def search_space(name: str) -> list[dict[str, Any]]:
    """The hyper-parameter settings tried on validation for ``name`` (first = default)."""
    return list(get_model_class(name).search_space())
