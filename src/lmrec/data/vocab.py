"""Vocabulary: raw ids (strings) <-> contiguous int32 indices, used once at the data edges."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import polars as pl

from lmrec._types import Int32Array

__all__ = ["Vocabulary"]


class Vocabulary:
    """An ordered set of raw ids. Index ``i`` is the ``i``-th id; unknown ids map to ``-1``."""

    def __init__(self, ids: Iterable[str]) -> None:
        seen: dict[str, int] = {}
        for raw in ids:
            if raw not in seen:
                seen[raw] = len(seen)
        self._index = seen
        self._ids = np.array(list(seen), dtype=object)

    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, raw: object) -> bool:
        return raw in self._index

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Vocabulary) and list(self._ids) == list(other._ids)

    def __hash__(self) -> int:  # pragma: no cover - vocabularies are not dict keys
        return hash(tuple(self._ids))

    def __repr__(self) -> str:
        return f"Vocabulary({len(self)} ids)"

    @property
    def ids(self) -> list[str]:
        return [str(x) for x in self._ids]

    def index(self, raw: str) -> int:
        """Index of one raw id, or -1 when unknown."""
        return self._index.get(raw, -1)

    def indices(self, raws: Sequence[str] | pl.Series) -> Int32Array:
        """Indices of many raw ids; unknown ids give -1."""
        if isinstance(raws, pl.Series):
            mapping = pl.DataFrame(
                {"_raw": list(self._index), "_idx": np.arange(len(self), dtype=np.int32)}
            )
            frame = pl.DataFrame({"_raw": raws.cast(pl.String)})
            joined = frame.join(mapping, on="_raw", how="left", maintain_order="left")
            return joined["_idx"].fill_null(-1).to_numpy().astype(np.int32)
        get = self._index.get
        return np.fromiter((get(r, -1) for r in raws), dtype=np.int32, count=len(raws))

    def raw(self, idx: int) -> str:
        return str(self._ids[idx])

    def raws(self, idx: Sequence[int] | np.ndarray) -> list[str]:
        return [str(x) for x in self._ids[np.asarray(idx, dtype=np.int64)]]

    def extend(self, ids: Iterable[str]) -> Vocabulary:
        """A new vocabulary with these ids appended (existing indices unchanged)."""
        return Vocabulary([*self.ids, *ids])

    def save(self, path: str | Path) -> None:
        pl.DataFrame({"id": self.ids}, schema={"id": pl.String}).write_parquet(path)

    @classmethod
    def load(cls, path: str | Path) -> Vocabulary:
        return cls(pl.read_parquet(path)["id"].to_list())
