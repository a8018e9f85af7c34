"""Trained models with what serving them needs: vocabularies and the item catalog.

Layout of an artifacts folder::

    manifest.json        models, when and from what they were trained
    users.parquet        user vocabulary (row i = user index i)
    items.parquet        item vocabulary + catalog (row i = item index i)
    history.parquet      the training interactions (user, item, timestamp[, value]), by user
    context/             how each context value (part of day, device...) shifts each item
    <model>/config.json, <model>/state.safetensors
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from lmrec._version import __version__
from lmrec.data.interactions import Interactions
from lmrec.data.vocab import Vocabulary
from lmrec.errors import UsageError
from lmrec.models.base import Recommender

if TYPE_CHECKING:
    from lmrec.context import ContextPrior

__all__ = ["HISTORY", "Artifacts", "finish_artifacts", "save_artifacts"]

#: the training interactions in an artifacts folder (user, item, timestamp[, value]), by user
HISTORY = "history.parquet"


def save_artifacts(
    out: str | Path, models: dict[str, Recommender], data: Interactions, *, source: str = ""
) -> Path:
    """``models`` fitted on ``data``, with what serving them needs, as an artifacts folder."""
    root = Path(out)
    root.mkdir(parents=True, exist_ok=True)
    data.user_vocab.save(root / "users.parquet")
    cols = [pl.col("user_idx").alias("user"), pl.col("item_idx").alias("item"), "timestamp"]
    if "value" in data.frame.columns:
        cols.append(pl.col("value").cast(pl.Float64))
    history = data.frame.select(cols).with_row_index("_order")
    history.sort(["user", "_order"]).drop("_order").write_parquet(root / HISTORY)
    from lmrec.context import ContextPrior

    return finish_artifacts(
        root, models, data.items, ContextPrior().fit(data),
        n_users=data.n_users, interactions=len(data), source=source,
    )  # fmt: skip


def finish_artifacts(
    root: Path,
    models: dict[str, Recommender],
    items: pl.DataFrame,
    prior: ContextPrior,
    *,
    n_users: int,
    interactions: int,
    source: str,
) -> Path:
    """The rest of an artifacts folder whose ``users.parquet`` and ``history.parquet`` are
    written (by :func:`save_artifacts`, or by a batch engine): the catalog (``items``, one row
    per item index), the models, the context prior and the manifest."""
    catalog = items.drop([c for c in items.columns if items[c].dtype == pl.Null])
    catalog.write_parquet(root / "items.parquet")
    for name, model in models.items():
        model.save(root / name)
    if prior.fields:
        prior.save(root / "context")
    manifest = {
        "format": "lmrec-artifacts",
        "lmrec_version": __version__,
        "models": list(models),
        "source": source,
        "version": time.strftime("%Y%m%d-%H%M%S", time.gmtime()),
        "trained_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "n_users": n_users,
        "n_items": items.height,
        "interactions": interactions,
    }
    (root / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return root


@dataclass(frozen=True, eq=False)
class Artifacts:
    root: Path
    manifest: dict[str, Any]
    user_vocab: Vocabulary
    item_vocab: Vocabulary
    items: pl.DataFrame
    _history: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def open(cls, path: str | Path) -> Artifacts:
        root = Path(path)
        if not (root / "manifest.json").is_file():
            raise UsageError(
                f"{root}: not an lmrec artifacts folder (no manifest.json); "
                "make one with 'lmrec train'"
            )
        manifest = json.loads((root / "manifest.json").read_text())
        items = pl.read_parquet(root / "items.parquet")
        return cls(
            root,
            manifest,
            Vocabulary.load(root / "users.parquet"),
            Vocabulary(items["item_id"].to_list()),
            items,
        )

    def user_history(self, user: int) -> pl.DataFrame:
        """A training user's interactions, oldest first: ``item`` (index), ``timestamp`` and
        ``value`` when the data had one. Empty for unknown users or artifacts written before
        the history was kept."""
        if "frame" not in self._history:
            path = self.root / HISTORY
            frame = pl.read_parquet(path) if path.is_file() else pl.DataFrame(
                {"user": [], "item": [], "timestamp": []},
                schema={"user": pl.Int32, "item": pl.Int32, "timestamp": pl.Float64},
            )  # fmt: skip
            counts = frame["user"].cast(pl.Int64).to_numpy()
            bounds = np.searchsorted(counts, np.arange(len(self.user_vocab) + 1))
            self._history["frame"], self._history["bounds"] = frame, bounds
        frame, bounds = self._history["frame"], self._history["bounds"]
        if not 0 <= user < len(bounds) - 1:
            return frame.clear()
        return frame.slice(int(bounds[user]), int(bounds[user + 1] - bounds[user]))

    def context_prior(self) -> Any:
        """The :class:`~lmrec.context.ContextPrior` saved with the models, or None."""
        from lmrec.context import ContextPrior

        path = self.root / "context"
        return ContextPrior.load(path) if (path / "context.json").is_file() else None

    def model(self, name: str | None = None) -> Recommender:
        names = self.manifest["models"]
        chosen = name or names[0]
        if chosen not in names:
            raise UsageError(f"no model '{chosen}' in {self.root}; it has: {', '.join(names)}")
        return Recommender.load(self.root / chosen)
