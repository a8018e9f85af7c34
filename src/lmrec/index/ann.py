"""Top-k items by inner product with a query vector, exact or through an HNSW graph.

For catalogs too large to score every item per request: the sequence model's user vector (or a
text query's embedding) is the query, the items' vectors are the index. Saved in faiss's own
file format (no pickle).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, Self

import numpy as np

from lmrec._types import FloatArray, IntArray
from lmrec.errors import UsageError

__all__ = ["VectorIndex"]


class VectorIndex:
    """``kind="exact"``: brute force (faiss ``IndexFlatIP``). ``kind="hnsw"``: a navigable
    small-world graph with ``m`` links per node, built with ``ef_construction`` candidates and
    searched with ``ef_search`` (higher: better recall, slower). ``kind="ivf"``: k-means cells
    (``n_lists``, default ``4 * sqrt(n)``), searched in the ``n_probe`` cells closest to the
    query. Graph search can stall on queries that mix several regions (a user profile averaging
    distant tastes); cell probing does not (RESULTS.md, "ANN served over HTTP")."""

    def __init__(
        self,
        kind: Literal["exact", "hnsw", "ivf"] = "hnsw",
        *,
        m: int = 32,
        ef_construction: int = 100,
        ef_search: int = 64,
        n_lists: int | None = None,
        n_probe: int = 32,
        seed: int = 0,
    ) -> None:
        if kind not in ("exact", "hnsw", "ivf"):
            raise UsageError(f"index kind must be 'exact', 'hnsw' or 'ivf', not {kind!r}")
        self.kind = kind
        self.m = m
        self.ef_construction = ef_construction
        self.ef_search = ef_search
        self.n_lists = n_lists
        self.n_probe = n_probe
        self.seed = seed

    def build(self, vectors: np.ndarray) -> Self:
        import faiss

        x = np.ascontiguousarray(vectors, dtype=np.float32)
        if x.ndim != 2 or len(x) == 0:
            raise UsageError(f"item vectors must be a non-empty 2-D array, not shape {x.shape}")
        d = x.shape[1]
        index: Any
        if self.kind == "exact":
            index = faiss.IndexFlatIP(d)
        elif self.kind == "ivf":
            lists = self.n_lists or max(1, min(len(x) // 39, int(4 * np.sqrt(len(x)))))
            quantizer = faiss.IndexFlatIP(d)
            index = faiss.IndexIVFFlat(quantizer, d, lists, faiss.METRIC_INNER_PRODUCT)
            rng = np.random.default_rng(self.seed)
            sample = (
                x if len(x) <= 256 * lists else x[rng.choice(len(x), 256 * lists, replace=False)]
            )
            index.train(np.ascontiguousarray(sample))
            self._quantizer = quantizer  # the index refers to it; keep it alive
        else:
            index = faiss.IndexHNSWFlat(d, self.m, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = self.ef_construction
        index.add(x)
        self.index_: Any = index
        self.set_ef_search(self.ef_search)
        self.set_n_probe(self.n_probe)
        return self

    def set_ef_search(self, ef: int) -> None:
        self.ef_search = ef
        if self.kind == "hnsw":
            self.index_.hnsw.efSearch = ef

    def set_n_probe(self, n: int) -> None:
        self.n_probe = n
        if self.kind == "ivf":
            self.index_.nprobe = n

    @property
    def size(self) -> int:
        return int(self.index_.ntotal)

    def search(self, queries: np.ndarray, k: int) -> tuple[IntArray, FloatArray]:
        """(ids, scores) of the ``k`` best items per query row, best first (-1 where fewer)."""
        if not hasattr(self, "index_"):
            raise UsageError("the index is empty; call build() first")
        q = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
        if q.shape[1] != self.index_.d:
            raise UsageError(f"queries have {q.shape[1]} dimensions, the index {self.index_.d}")
        scores, ids = self.index_.search(q, k)
        return ids.astype(np.int64), scores.astype(np.float32)

    def save(self, path: str | Path) -> Path:
        import faiss

        out = Path(path)
        out.parent.mkdir(parents=True, exist_ok=True)
        faiss.write_index(self.index_, str(out))
        return out

    @classmethod
    def load(cls, path: str | Path) -> VectorIndex:
        import faiss

        src = Path(path)
        if not src.is_file():
            raise UsageError(f"{src}: no index file")
        index: Any = faiss.read_index(str(src))
        kind: Literal["exact", "hnsw", "ivf"] = (
            "hnsw" if hasattr(index, "hnsw") else "ivf" if hasattr(index, "nprobe") else "exact"
        )
        out = cls(kind)
        out.index_ = index
        if kind == "hnsw":
            out.ef_search = int(index.hnsw.efSearch)
        if kind == "ivf":
            out.n_probe = int(index.nprobe)
        return out
