"""Progress of long work: one live display on stderr, one row per running step.

Steps nest (evaluate -> tune a model -> train its epochs): each adds a row to the same display,
and a finished inner step's row goes away, so a log never fills with half-drawn bars. When
stderr is not a terminal nothing is drawn (``LMREC_PROGRESS=always`` or ``never`` overrides).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Iterator, Sized
from contextlib import contextmanager
from typing import TypeVar

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

__all__ = ["Task", "task", "track"]

T = TypeVar("T")

_lock = threading.Lock()
_live: Progress | None = None
_depth = 0


def _console() -> Console:
    return Console(stderr=True)


def _wanted(enabled: bool) -> bool:
    if not enabled:
        return False
    mode = os.environ.get("LMREC_PROGRESS", "auto").lower()
    if mode in ("never", "0", "off"):
        return False
    return mode in ("always", "1", "on") or _console().is_terminal


class Task:
    """A row of the display: ``advance`` it and ``note`` what is happening (loss, score)."""

    def __init__(self, progress: Progress | None, task_id: TaskID | None) -> None:
        self._progress = progress
        self._id = task_id

    def advance(self, steps: float = 1) -> None:
        if self._progress is not None and self._id is not None:
            self._progress.advance(self._id, steps)

    def note(self, text: str) -> None:
        if self._progress is not None and self._id is not None:
            self._progress.update(self._id, note=text)


@contextmanager
def task(description: str, total: float | None = None, *, enabled: bool = True) -> Iterator[Task]:
    """A step of ``total`` units (unknown: None) shown while the block runs."""
    global _live, _depth
    if not _wanted(enabled):
        yield Task(None, None)
        return
    with _lock:
        if _live is None:
            _live = Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(bar_width=24),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                TextColumn("{task.fields[note]}"),
                console=_console(),
                transient=False,
            )
            _live.start()
        _depth += 1
        progress = _live
        task_id = progress.add_task(description, total=total, note="")
    try:
        yield Task(progress, task_id)
    finally:
        with _lock:
            _depth -= 1
            if _depth > 0:
                progress.remove_task(task_id)
            else:
                progress.stop()
                _live = None


def track(
    items: Iterable[T], description: str, total: int | None = None, *, enabled: bool = True
) -> Iterator[T]:
    """``items`` one by one, each counted as a unit of a step named ``description``."""
    if total is None and isinstance(items, Sized):
        total = len(items)
    with task(description, total, enabled=enabled) as row:
        for item in items:
            yield item
            row.advance()
