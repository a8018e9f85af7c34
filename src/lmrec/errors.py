"""Errors a user can cause, each with a one-line message naming what and where.

The CLI turns an :class:`LmrecError` into that line on stderr and exit code 2; everything else is a
bug in lmrec and is allowed to show a traceback.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["DataError", "LmrecError", "UsageError"]


class LmrecError(Exception):
    """Base class for errors caused by the user's input or configuration."""

    exit_code = 2


class UsageError(LmrecError):
    """A bad option or argument (unknown model name, out-of-range value, missing folder)."""


class DataError(LmrecError):
    """Bad data in a file: names the file and, where known, the line (or row) and the column."""

    def __init__(
        self,
        message: str,
        *,
        path: str | Path | None = None,
        line: int | None = None,
        column: str | None = None,
        row: int | None = None,
    ) -> None:
        self.path = None if path is None else str(path)
        self.line = line
        self.row = row
        self.column = column
        self.reason = message
        super().__init__(self._format())

    def _format(self) -> str:
        where = []
        if self.path is not None:
            where.append(self.path)
        if self.line is not None:
            where.append(f"line {self.line}")
        elif self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column '{self.column}'")
        prefix = ", ".join(where)
        return f"{prefix}: {self.reason}" if prefix else self.reason
