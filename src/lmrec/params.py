"""The hyper-parameters of a model object: its constructor's named arguments, read back."""

from __future__ import annotations

import inspect
from typing import Any

__all__ = ["get_params"]

_NAMED = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)


def get_params(obj: object) -> dict[str, Any]:
    """``obj``'s constructor arguments by name, as stored on it, in JSON's form (tuples as
    lists). A constructor that takes ``**params`` passes them up, so its parent's named
    arguments count too."""
    names: list[str] = []
    for klass in type(obj).__mro__:
        if "__init__" not in klass.__dict__ or klass is object:
            continue
        params = inspect.signature(klass.__dict__["__init__"]).parameters.values()
        names += [p.name for p in params if p.name != "self" and p.kind in _NAMED]
        if not any(p.kind == inspect.Parameter.VAR_KEYWORD for p in params):
            break
    out = {name: getattr(obj, name) for name in dict.fromkeys(names)}
    return {k: list(v) if isinstance(v, tuple) else v for k, v in out.items()}
