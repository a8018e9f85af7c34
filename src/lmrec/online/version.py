"""A loaded model version and everything computed once per version (its caches).

All per-version state hangs off one :class:`ModelVersion`, so swapping versions drops the old
object and frees what it held: the ANN index, re-ranking features, the exploration counts,
the catalog's text embeddings, the near-substitute pairs and the reason cache.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import polars as pl

from lmrec.artifacts import Artifacts
from lmrec.errors import UsageError
from lmrec.index import VectorIndex
from lmrec.models.base import Recommender
from lmrec.models.capabilities import TwoTower
from lmrec.rerank import ItemFeatures, ThompsonExplorer

if TYPE_CHECKING:
    from lmrec.explain.states import ReasonStates
    from lmrec.text.encoder import TextEncoder

__all__ = [
    "ANN_MIN_ITEMS",
    "TEXT_ENCODER_DIR",
    "ModelVersion",
    "ReasonCache",
    "ServingOptions",
    "discover_versions",
    "load_version",
]

#: With ``ann="auto"``, catalogs this large are served through an ANN index.
ANN_MIN_ITEMS = 100_000


#: where ``lmrec export --text-encoder`` writes the exported encoder in an artifacts folder
TEXT_ENCODER_DIR = "text-encoder"


@dataclass(frozen=True)
class ServingOptions:
    """How versions are served: the text encoder of queries, diversity and substitutes, the
    verb of reasons, ANN retrieval (``auto``: from :data:`ANN_MIN_ITEMS` items), and the
    runtime that scores a neural model (``auto``: ONNX Runtime where ``lmrec export`` wrote
    graphs of the model, else PyTorch; ``torch``; ``onnx``)."""

    text_encoder: str | None = "all-MiniLM-L6-v2"
    reason_verb: str = "liked"
    ann: str = "auto"
    ann_ef: int = 128
    ann_probe: int = 32
    runtime: str = "auto"

    def __post_init__(self) -> None:
        if self.ann not in ("auto", "on", "off"):
            raise UsageError(f"ann must be auto, on or off, not '{self.ann}'")
        if self.runtime not in ("auto", "torch", "onnx"):
            raise UsageError(f"runtime must be auto, torch or onnx, not '{self.runtime}'")


class ReasonCache:
    """Reasons by history (an LRU of ``max_histories`` entries, each item -> reason); a
    history changes with every event or edit, so a stale reason is never served."""

    def __init__(self, max_histories: int = 20_000) -> None:
        self.max = max_histories
        self._data: OrderedDict[Any, dict[int, dict[str, Any]]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Any) -> dict[int, dict[str, Any]] | None:
        with self._lock:
            found = self._data.get(key)
            if found is not None:
                self._data.move_to_end(key)
            return found

    def put(self, key: Any, reasons: dict[int, dict[str, Any]]) -> dict[int, dict[str, Any]]:
        with self._lock:
            merged = {**self._data.get(key, {}), **reasons}
            self._data[key] = merged
            self._data.move_to_end(key)
            while len(self._data) > self.max:
                self._data.popitem(last=False)
            return merged

    def clear(self) -> None:
        with self._lock:
            self._data.clear()


def discover_versions(root: Path) -> dict[str, Path]:
    """Artifact folders under ``root`` by version name: ``root`` itself when it is one (named
    by its folder), else each sub-folder that is one."""
    if (root / "manifest.json").is_file():
        return {root.name: root}
    found = {
        p.name: p for p in sorted(root.iterdir()) if p.is_dir() and (p / "manifest.json").is_file()
    } if root.is_dir() else {}  # fmt: skip
    if not found:
        raise UsageError(f"{root}: no lmrec artifacts here (no manifest.json); run 'lmrec train'")
    return found


@dataclass(eq=False)
class ModelVersion:
    """One served version: its artifacts, its model, and its caches."""

    version: str
    artifacts: Artifacts
    model: Recommender
    options: ServingOptions = field(default_factory=ServingOptions)
    loaded_at: float = field(default_factory=time.time)
    reasons: ReasonCache = field(default_factory=ReasonCache)
    model_dir: Path | None = None  # the folder the model was loaded from
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _features: dict[bool, ItemFeatures] = field(default_factory=dict, repr=False)

    @property
    def n_items(self) -> int:
        return len(self.artifacts.item_vocab)

    @cached_property
    def titles(self) -> list[str | None]:
        """Item titles by index."""
        return list(self.artifacts.items["title"].to_list())

    @cached_property
    def categories(self) -> list[list[str]]:
        """Item categories by index (empty lists when the catalog has none)."""
        items = self.artifacts.items
        if "categories" not in items.columns:
            return [[] for _ in range(items.height)]
        return [list(c or []) for c in items["categories"].to_list()]

    @cached_property
    def catalog(self) -> dict[str, tuple[str | None, list[str]]]:
        """Raw item id -> (title, categories)."""
        ids = self.artifacts.item_vocab.raws(np.arange(self.n_items))
        return dict(zip(ids, zip(self.titles, self.categories, strict=True), strict=True))

    @cached_property
    def context_prior(self) -> Any:
        """The :class:`~lmrec.context.ContextPrior` saved with the version, or None."""
        return self.artifacts.context_prior()

    @cached_property
    def explorer(self) -> ThompsonExplorer:
        """Click and show counts for exploration."""
        return ThompsonExplorer(self.n_items)

    @cached_property
    def encoder(self) -> str | TextEncoder | None:
        """The encoder of item texts and queries: the model's own when it was fine-tuned on
        the catalog (``finetune_encoder``), else :attr:`ServingOptions.text_encoder`, run by
        ONNX Runtime when ``lmrec export --text-encoder`` exported it into the artifacts
        (unless the runtime is ``torch``)."""
        own = getattr(self.model, "text_encoder", None)
        if own is not None and not isinstance(own, str):
            return cast("TextEncoder", own)
        name = self.options.text_encoder or None
        if name is not None and self.options.runtime != "torch":
            from lmrec.text.onnx_encoder import exported_from

            folder = self.artifacts.root / TEXT_ENCODER_DIR
            if exported_from(folder) == name:
                return str(folder)
        return name

    @cached_property
    def text_embeddings(self) -> np.ndarray:
        """The catalog's text embeddings by :attr:`encoder`."""
        from lmrec.text import encode_items

        if self.encoder is None:
            raise UsageError("no text encoder is configured for this service")
        texts = self.artifacts.items["text"].fill_null("").to_list()
        return encode_items(texts, self.encoder)

    @cached_property
    def reason_states(self) -> ReasonStates | None:
        """The occlusion states ``lmrec export`` computed for the training users, if any."""
        from lmrec.explain.states import ReasonStates

        return None if self.model_dir is None else ReasonStates.open(self.model_dir, self.model)

    @cached_property
    def substitutes(self) -> Any:
        """Near-substitute pairs of the catalog (same category, very similar text)."""
        from lmrec.cart import substitute_matrix

        return substitute_matrix(self.text_embeddings, self.categories)

    @cached_property
    def ann(self) -> VectorIndex | None:
        """An ANN index over the item vectors of a two-tower model, when this version is served
        through one (``ann="on"``, or ``"auto"`` for large catalogs). Built on first use and
        saved as ``MODEL/ann.faiss`` for the next start; a saved index is used as it is."""
        model, opts = self.model, self.options
        wanted = opts.ann == "on" or (opts.ann == "auto" and model.n_items_ >= ANN_MIN_ITEMS)
        if not (wanted and isinstance(model, TwoTower)):
            return None
        path = self.artifacts.root / model.name / "ann.faiss"
        if path.is_file():
            index = VectorIndex.load(path)
        else:
            index = VectorIndex("ivf")
            index.build(model.item_matrix())
            with contextlib.suppress(OSError):
                index.save(path)
        index.set_ef_search(opts.ann_ef)
        index.set_n_probe(opts.ann_probe)
        return index

    def features(self, *, text: bool) -> ItemFeatures:
        """Re-ranking signals of the catalog (popularity, categories; text embeddings when
        ``text`` and an encoder is configured)."""
        with self._lock:
            cached = self._features.get(text)
            if cached is None:
                from lmrec import metrics as M

                seen = self.model.seen_
                emb = self.text_embeddings if text and self.encoder is not None else None
                cats = self.categories
                cached = self._features[text] = ItemFeatures.build(
                    np.asarray(seen.sum(axis=0)).ravel(),
                    int((np.diff(seen.indptr) > 0).sum()),
                    categories=M.category_matrix(cats) if any(cats) else None,
                    embeddings=emb,
                )
            return cached

    def describe(self) -> dict[str, Any]:
        m = self.artifacts.manifest
        return {
            "version": self.version,
            "model": self.model.name,
            "trained_at": m.get("trained_at"),
            "lmrec_version": m.get("lmrec_version"),
            "users": m.get("n_users"),
            "items": m.get("n_items"),
            "evaluation": self.evaluation,
        }

    @cached_property
    def has_ratings(self) -> bool:
        """Whether the training interactions carry a value (a rating) that users can give."""
        path = self.artifacts.root / "history.parquet"
        return path.is_file() and "value" in pl.read_parquet_schema(path)

    @cached_property
    def evaluation(self) -> dict[str, float] | None:
        """This model's test numbers, where ``lmrec train`` on a split wrote them."""
        path = self.artifacts.root / "evaluation.json"
        if not path.is_file():
            return None
        try:
            numbers = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError):
            return None
        mine = numbers.get(self.model.name) if isinstance(numbers, dict) else None
        return dict(mine) if isinstance(mine, dict) else None


def load_version(
    name: str, path: Path, model: str | None = None, options: ServingOptions | None = None
) -> ModelVersion:
    """Open the artifacts at ``path`` and load ``model`` (default: the first saved)."""
    art = Artifacts.open(path)
    options = options or ServingOptions()
    loaded = art.model(model)
    use_runtime = getattr(loaded, "use_runtime", None)
    if callable(use_runtime):
        use_runtime(options.runtime)
    elif options.runtime == "onnx":
        raise UsageError(f"model '{loaded.name}' has no ONNX runtime; serve it with torch")
    chosen = model or art.manifest["models"][0]
    return ModelVersion(name, art, loaded, options, model_dir=art.root / chosen)
