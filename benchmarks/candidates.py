"""Each model's top-100 lists on the MovieLens 100K leave-one-out splits, fitted once and cached.

The cache key holds a digest of lmrec's source (all of it but the re-ranker, which only reads
these lists), so a change to any model or to the data code refits instead of reusing lists a
former version made.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
SRC = HERE.parent / "src" / "lmrec"
CACHE = HERE / "out" / "rerank_candidates"


def source_digest() -> str:
    """A short digest of lmrec's Python files but the re-ranker's (paths and contents)."""
    h = hashlib.sha256()
    for path in sorted(SRC.rglob("*.py")):
        if path.parent.name == "rerank":
            continue
        h.update(str(path.relative_to(SRC)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:12]


def top100(
    name: str, stage: str, train: Any, users: np.ndarray, at: Any, cache: Path = CACHE
) -> tuple[np.ndarray, np.ndarray]:
    """Model ``name`` (default settings) fitted on ``train``: its top 100 for ``users``."""
    from lmrec.models import create_model

    path = cache / f"{name}_{stage}_{source_digest()}.npz"
    if not path.is_file():
        cache.mkdir(parents=True, exist_ok=True)
        ids, scores = create_model(name).fit(train).recommend(users, 100, at=at)
        np.savez(path, ids=ids, scores=scores)
    got = np.load(path)
    return got["ids"], got["scores"]
