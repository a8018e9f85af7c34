"""Re-ranking objectives side by side on MovieLens 100K leave-one-out: the per-item greedy
objective (the default) against ``objective="list"``, for the sequential model and EASE.

    .venv/bin/python benchmarks/rerank_objectives.py

Each model is fitted with its defaults on train (validation split) and on train + validation
(test split); their top-100 lists are cached under benchmarks/out/rerank_candidates/ until
lmrec's source changes. Prints, per model and split, the change of NDCG@10, ILD@10 (genres) and
Coverage@10 against the model's own order; for reporting only, nothing is chosen here.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
from candidates import CACHE, list_context, list_metrics, stages, top100  # noqa: E402

SETTINGS: list[dict[str, Any]] = [
    {"strength": 0.3},  # the default
    *({"strength": s, "objective": "list"} for s in (0.1, 0.15, 0.2, 0.25, 0.3)),
]


def main() -> None:
    from lmrec.data import read_movielens_100k, split_loo
    from lmrec.evaluation import prepare
    from lmrec.evaluation.sweep import item_features
    from lmrec.rerank import RerankConfig, rerank_lists

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--ml100k", type=Path, default=Path("../shared/data/ml-100k"))
    ap.add_argument("--models", default="sequential,ease")
    ap.add_argument("--cache", type=Path, default=CACHE)
    ap.add_argument(
        "--settings", type=json.loads, default=SETTINGS,
        help="JSON list of RerankConfig keyword dicts to compare (default: the objectives)",
    )  # fmt: skip
    args = ap.parse_args()
    torch.set_num_threads(1)
    data = prepare(split_loo(read_movielens_100k(args.ml100k)))
    for name in args.models.split(","):
        for stage, (train, users, truth, at) in stages(data).items():
            ids, scores = top100(name, stage, train, users, at, args.cache)
            ctx = list_context(train)
            features = item_features(train)

            def measure(ids: np.ndarray, truth: Any = truth, ctx: Any = ctx) -> list[float]:
                return list_metrics(ids, truth, ctx, data.train.n_items)

            base = measure(ids[:, :10])
            print(f"{name} {stage} without: NDCG@10 {base[0]:.4f} ILD@10 {base[1]:.4f} "
                  f"Coverage@10 {base[2]:.4f}", flush=True)  # fmt: skip
            for setting in args.settings:
                out, _ = rerank_lists(ids, scores, 10, features, RerankConfig(**setting))
                change = [g / b - 1 for g, b in zip(measure(out), base, strict=True)]
                print(f"  {json.dumps(setting)}: " + " ".join(f"{c:+.1%}" for c in change))


if __name__ == "__main__":
    main()
