"""How a model declares what tuning may try: ranges and choices per hyper-parameter (read by
the Optuna search in :mod:`lmrec.evaluation.search`), without importing Optuna."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["Choice", "FloatRange", "IntRange", "Space", "space_from_grid"]


@dataclass(frozen=True)
class FloatRange:
    low: float
    high: float
    log: bool = False


@dataclass(frozen=True)
class IntRange:
    low: int
    high: int
    log: bool = False


@dataclass(frozen=True)
class Choice:
    options: tuple[Any, ...]


#: hyper-parameter name -> what may be tried; anything else is passed as it is
Space = dict[str, FloatRange | IntRange | Choice | Any]


def space_from_grid(grid: Sequence[dict[str, Any]]) -> Space:
    """A space from a list of settings: each parameter whose value varies becomes a
    :class:`Choice` of its values (in the grid's order); a constant one stays fixed."""
    out: Space = {}
    for key in dict.fromkeys(k for setting in grid for k in setting):
        values = list(dict.fromkeys(setting[key] for setting in grid if key in setting))
        out[key] = values[0] if len(values) == 1 else Choice(tuple(values))
    return out
