"""Top-N model names as the CLI and reports know them (a view of :mod:`lmrec.registry`)."""

from __future__ import annotations

import inspect
from typing import Any

from lmrec.models.base import Recommender
from lmrec.registry import registry

__all__ = [
    "MODEL_NAMES",
    "create_model",
    "get_model_class",
    "model_names",
    "search_space",
    "takes_time_budget",
    "with_time_budget",
]

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


def takes_time_budget(name: str) -> bool:
    """Whether model ``name`` bounds its fit by a ``time_budget_s`` (iterative models stop
    training, EASE solves for fewer items); the others fit in one pass over the data."""
    klass = get_model_class(name)
    params = inspect.signature(klass.__init__).parameters
    if "time_budget_s" in params:
        return True
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        try:  # settings taken by name into a config (the sequential model)
            return "time_budget_s" in klass().get_params()
        except Exception:  # a user's model that needs arguments
            return False
    return False


def with_time_budget(
    names: list[str], params: dict[str, dict[str, Any]], seconds: float | None
) -> dict[str, dict[str, Any]]:
    """``params`` with ``time_budget_s=seconds`` for each model of ``names`` that takes one
    and was not given its own."""
    out = {n: dict(p) for n, p in params.items()}
    if seconds is None:
        return out
    for name in names:
        if takes_time_budget(name):
            out.setdefault(name, {}).setdefault("time_budget_s", seconds)
    return out
