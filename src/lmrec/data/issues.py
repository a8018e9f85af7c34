"""Row-level problems found while importing: fail on the first, or skip and count per reason."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import polars as pl

from lmrec.errors import DataError, UsageError

__all__ = ["OnError", "RowIssues"]

OnError = Literal["fail", "skip"]


@dataclass
class RowIssues:
    """Collects bad rows of one import.

    With ``on_error="fail"`` the first problem raises a :class:`DataError` naming file, line and
    column. With ``"skip"`` the row is dropped and counted under its reason, so nothing is lost
    silently: the counts go into the dataset's metadata and the CLI prints them.
    """

    on_error: OnError = "fail"
    skipped: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        if self.on_error not in ("fail", "skip"):
            raise UsageError(f"--on-error must be 'fail' or 'skip', not '{self.on_error}'")

    def row(
        self,
        reason: str,
        *,
        path: str | Path,
        line: int | None,
        column: str | None = None,
        detail: str = "",
        unit: Literal["line", "row"] = "line",
    ) -> None:
        """One bad row; raises in fail mode, counts it otherwise."""
        if self.on_error == "fail":
            message = f"{reason}{': ' + detail if detail else ''}"
            if unit == "row":
                raise DataError(message, path=path, row=line, column=column)
            raise DataError(message, path=path, line=line, column=column)
        self.skipped[reason] += 1

    def check(
        self,
        frame: pl.DataFrame,
        bad: pl.Series,
        reason: str,
        *,
        path: str | Path,
        column: str | None,
        detail_col: str | None = None,
        unit: Literal["line", "row"] = "line",
    ) -> pl.DataFrame:
        """Drop (or fail on) rows where ``bad`` is true; ``frame`` must carry a ``_line`` column."""
        mask = bad.fill_null(False)
        n_bad = int(mask.sum())
        if n_bad == 0:
            return frame
        if self.on_error == "fail":
            first = int(np.flatnonzero(mask.to_numpy())[0])
            line = int(frame["_line"][first])
            detail = ""
            if detail_col is not None:
                detail = repr(frame[detail_col][first])
            self.row(reason, path=path, line=line, column=column, detail=detail, unit=unit)
        self.skipped[reason] += n_bad
        return frame.filter(~mask)

    @property
    def total(self) -> int:
        return sum(self.skipped.values())

    def as_dict(self) -> dict[str, int]:
        return dict(sorted(self.skipped.items()))

    def import_meta(
        self, source: object, source_format: str, *, time_is_order: bool
    ) -> dict[str, object]:
        """What an import records in ``dataset.json``: where the data came from, in what
        format, whether file order is time order, and the bad rows skipped by reason."""
        return {
            "source": str(source),
            "source_format": source_format,
            "time_is_order": time_is_order,
            "skipped_rows": self.as_dict(),
        }
