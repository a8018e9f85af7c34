"""Try settings of the sequential model on MovieLens 100K leave-one-out (fit on train +
validation, test NDCG@10 / HR@10 with full ranking), one JSON object of parameters per argument.

    .venv/bin/python benchmarks/seq_settings.py '{"max_len": 200}' '{"embedding_size": 128}'

For exploring only: the test set is not for choosing settings, so a setting found better here
must still win on validation before it becomes a default.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from lmrec.data import read_movielens_100k, split_loo
from lmrec.evaluation import prepare
from lmrec.evaluation.collect import accuracy_per_user
from lmrec.models.seq.model import SequentialRecommender


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("settings", nargs="+", help="JSON objects of SequentialRecommender params")
    ap.add_argument("--ml100k", type=Path, default=Path("../shared/data/ml-100k"))
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    data = prepare(split_loo(read_movielens_100k(args.ml100k)))
    for spec in args.settings:
        params = json.loads(spec)
        start = time.perf_counter()
        model = SequentialRecommender(num_threads=args.threads, **params).fit(data.train_valid)
        recs, _ = model.recommend(data.test_users, 10)
        acc = accuracy_per_user(recs, data.test_truth, 10)
        row = {
            "params": params,
            "NDCG@10": round(float(acc["NDCG@10"].mean()), 4),
            "HR@10": round(float(acc["HR@10"].mean()), 4),
            "valid NDCG@10": round(max(h.get("valid_ndcg@10", 0.0) for h in model.history_), 4),
            "epochs": len(model.history_),
            "seconds": round(time.perf_counter() - start),
        }
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
