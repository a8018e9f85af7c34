"""How a model declares what tuning may try: ranges and choices per hyper-parameter (read by
the Optuna search in :mod:`lmrec.evaluation.search`), without importing Optuna."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from lmrec.errors import UsageError

__all__ = ["Choice", "FloatRange", "IntRange", "Space", "space_from_grid", "space_from_table"]


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


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def space_from_table(table: dict[str, Any], where: str) -> Space:
    """A space from a config table (``[tuning.als]``): ``{low = 0.01, high = 10, log = true}``
    is a range (of integers when both ends are), a list a choice, anything else a fixed
    value. ``where`` names the table in errors."""
    out: Space = {}
    for key, value in table.items():
        if isinstance(value, dict):
            extra = sorted(set(value) - {"low", "high", "log"})
            low: Any = value.get("low")
            high: Any = value.get("high")
            log: Any = value.get("log", False)
            if extra or not _number(low) or not _number(high) or not isinstance(log, bool):
                raise UsageError(
                    f"{where}: {key} must be {{low = N, high = N, log = true|false}}, not {value}"
                )
            if not low <= high or (log and low <= 0):
                raise UsageError(
                    f"{where}: {key} needs low <= high" + (" and low > 0 with log" if log else "")
                )
            both_int = isinstance(low, int) and isinstance(high, int)
            out[key] = IntRange(low, high, log) if both_int else FloatRange(low, high, log)
        elif isinstance(value, list):
            if not value:
                raise UsageError(f"{where}: {key} lists no choices")
            out[key] = Choice(tuple(value))
        else:
            out[key] = value
    return out
