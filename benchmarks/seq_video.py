"""The default sequential model on the Amazon Video Games sequences, as ``lmrec evaluate`` fits
it (train + validation, early stopping on the validation items), one thread; every epoch's
held-out NDCG@10 is printed as it comes, then the test NDCG@10, fit seconds and peak memory.

    .venv/bin/python benchmarks/seq_video.py benchmarks/out/seq_video

It uses only the API that lmrec has had since 0.1, so the same script measures an older
commit's defaults side by side (as benchmarks/RESULTS.md does for 09a37b0):

    git worktree add /tmp/legacy 09a37b0
    PYTHONPATH=/tmp/legacy/src .venv/bin/python benchmarks/seq_video.py /tmp/legacy-out
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path

import torch

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "sasrec-video"


def main() -> None:
    torch.set_num_threads(1)
    from lmrec.data import read_sequences, split_loo
    from lmrec.evaluation import EvalConfig, evaluate
    from lmrec.models.seq.model import SequentialRecommender

    def show(_net: object, row: dict[str, object]) -> None:
        print(json.dumps(row), flush=True)

    SequentialRecommender.epoch_callback = staticmethod(show)  # type: ignore[assignment]
    split = split_loo(read_sequences(DATA / "Video.txt"))
    start = time.perf_counter()
    report = evaluate(
        split, ["sequential"], EvalConfig(progress=False, tune=False, n_boot=200), out=sys.argv[1]
    )
    e = report["models"]["sequential"]
    print(
        json.dumps(
            {
                "wall_seconds": round(time.perf_counter() - start, 1),
                "fit_seconds": e["fit_seconds"],
                "NDCG@10": e["metrics"]["NDCG@10"],
                "HR@10": e["metrics"]["HR@10"]["mean"],
                "fitted": e.get("fitted"),
                "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
