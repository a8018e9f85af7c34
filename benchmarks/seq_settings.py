"""Try settings of the sequential model on MovieLens 100K (or a ``user item`` sequence file)
leave-one-out, one JSON object of parameters per argument; NDCG@10 / HR@10 with full ranking,
each user scored at the time of their held-out action.

    .venv/bin/python benchmarks/seq_settings.py --on valid '{}' '{"refit": false}'
    .venv/bin/python benchmarks/seq_settings.py --sequences ../shared/data/sasrec-video/Video.txt '{}'

``--on valid`` (for choosing) fits on the training split and scores the validation split;
``--on test`` (the default, for exploring only) fits on train + validation and scores the test
split: a setting found better on test must still win on validation before it becomes a default.
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from pathlib import Path

import torch

from lmrec.data import read_movielens_100k, read_sequences, split_loo
from lmrec.evaluation import prepare
from lmrec.evaluation.collect import accuracy_per_user
from lmrec.models.seq.model import SequentialRecommender


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("settings", nargs="+", help="JSON objects of SequentialRecommender params")
    ap.add_argument("--ml100k", type=Path, default=Path("../shared/data/ml-100k"))
    ap.add_argument("--sequences", type=Path, help="a user-item sequence file instead")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--on", choices=["valid", "test"], default="test")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    raw = read_sequences(args.sequences) if args.sequences else read_movielens_100k(args.ml100k)
    data = prepare(split_loo(raw))
    for spec in args.settings:
        params = json.loads(spec)
        start = time.perf_counter()
        if args.on == "valid":
            fit, users, at, truth = data.train, data.valid_users, data.valid_at, data.valid_truth
        else:
            fit, users, at, truth = data.train_valid, data.test_users, data.test_at, data.test_truth
        model = SequentialRecommender(num_threads=args.threads, **params).fit(fit)
        recs, _ = model.recommend(users, 10, at=at)
        acc = accuracy_per_user(recs, truth, 10)
        stopping = [h for h in model.history_ if not h.get("refit")]
        row = {
            "params": params,
            "on": args.on,
            "NDCG@10": round(float(acc["NDCG@10"].mean()), 4),
            "HR@10": round(float(acc["HR@10"].mean()), 4),
            "held-out NDCG@10": round(max(h.get("valid_ndcg@10", 0.0) for h in stopping), 4),
            "epochs": len(stopping),
            "best epoch": model.best_epoch_,
            "refit epochs": len(model.history_) - len(stopping),
            "seconds": round(time.perf_counter() - start),
            "train seconds": round(model.train_seconds_),
            "peak MB": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            "settings": model.settings_.to_dict(),
            "curve": [round(h.get("valid_ndcg@10", 0.0), 4) for h in stopping],
        }
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
