"""Each model's top-100 lists on the MovieLens 100K leave-one-out splits, fitted once and cached,
and what the re-ranking benchmarks measure on them.

The cache key holds a digest of lmrec's source but the parts that only consume a model's lists
(re-ranking, the service, the CLI, explanations, evaluation reports...), so a change to any
model or to the code it uses refits instead of reusing lists a former version made, while a
change to a report does not cost a refit.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
SRC = HERE.parent / "src" / "lmrec"
CACHE = HERE / "out" / "rerank_candidates"


#: packages of lmrec that no model imports: they read lists, they do not make them
CONSUMERS = {"rerank", "service", "cli", "explain", "profiles", "simulate", "cart", "ctr"}
#: of lmrec.evaluation, only the data preparation shapes what a model is fitted on
EVALUATION_INPUTS = {"protocol.py"}


def source_digest() -> str:
    """A short digest of the lmrec source a model's lists depend on (paths and contents)."""
    h = hashlib.sha256()
    for path in sorted(SRC.rglob("*.py")):
        top = path.relative_to(SRC).parts[0]
        if top in CONSUMERS or (top == "evaluation" and path.name not in EVALUATION_INPUTS):
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


def stages(data: Any) -> dict[str, tuple[Any, Any, Any, Any]]:
    """(train, users, truth, at) of the validation split (fitted on train) and of the test split
    (fitted on train + validation), from :func:`lmrec.evaluation.prepare`'s data."""
    return {
        "valid": (data.train, data.valid_users, data.valid_truth, data.valid_at),
        "test": (data.train_valid, data.test_users, data.test_truth, data.test_at),
    }


def list_context(train: Any) -> Any:
    """What the beyond-accuracy metrics need of ``train``: popularity, users, genres."""
    from lmrec import metrics as M
    from lmrec.evaluation.collect import ListContext

    return ListContext(
        item_counts=train.item_counts,
        n_train_users=int((np.diff(train.matrix.indptr) > 0).sum()),
        categories=M.category_matrix(train.item_categories()),
    )


def list_metrics(ids: np.ndarray, truth: Any, ctx: Any, n_items: int) -> list[float]:
    """NDCG@10, ILD@10 (genres) and Coverage@10 of the lists ``ids``."""
    from lmrec import metrics as M
    from lmrec.evaluation.collect import accuracy_per_user, beyond_per_user

    ndcg = float(accuracy_per_user(ids, truth, 10)["NDCG@10"].mean())
    ild = float(beyond_per_user(ids, ctx, 10)["ILD@10"].mean())
    return [ndcg, ild, M.coverage(ids, n_items)]
