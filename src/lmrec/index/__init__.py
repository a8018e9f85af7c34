"""Nearest-neighbour search over item vectors (faiss): exact or approximate (HNSW)."""

from lmrec.index.ann import VectorIndex

__all__ = ["VectorIndex"]
