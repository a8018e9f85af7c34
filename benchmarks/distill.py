"""Distillation of the default sequential model into a smaller student, beside the same
student trained on the actions alone (MovieLens 100K, leave-one-out, k = 10, one thread).

    .venv/bin/python benchmarks/distill.py [--teacher DIR]

The teacher is the default ``sequential`` fitted on train + validation (the one
benchmarks/onnx_runtime.py keeps, trained here when absent). Each student (embedding 32, one
Transformer block) is fitted on the same data, with and without the teacher
(``distill_weight`` 0.5, ``distill_temperature`` 2). For each: NDCG@10 on the test users with
its 95% interval, its share of the teacher's NDCG, the fit time, and the scoring cost (PyTorch:
one user's top 10, p50 over the test users; every test user 256 at a time). Writes the
"Sequential model: distillation" section of RESULTS.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
from common import machine, write_section  # noqa: E402

STUDENT = {"embedding_size": 32, "n_layers": 1, "n_heads": 1}
DISTIL = {"distill_weight": 0.5, "distill_temperature": 2.0}


def cost(model: Any, users: np.ndarray) -> dict[str, float]:
    model.recommend(users[:8], 10)
    start = time.perf_counter()
    for i in range(0, len(users), 256):
        model.recommend(users[i : i + 256], 10)
    batch = time.perf_counter() - start
    single = []
    for u in np.random.default_rng(0).permutation(users):
        t = time.perf_counter()
        model.recommend(np.array([u]), 10)
        single.append(time.perf_counter() - t)
    return {"p50_ms": float(np.median(single)) * 1e3, "users_s": len(users) / batch}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--ml100k", type=Path, default=Path("../shared/data/ml-100k"))
    ap.add_argument("--teacher", type=Path, default=HERE / "out" / "onnx" / "artifacts")
    ap.add_argument("--results", type=Path, default=HERE / "RESULTS.md")
    args = ap.parse_args()

    import torch

    torch.set_num_threads(1)
    from lmrec import metrics as M
    from lmrec.artifacts import save_artifacts
    from lmrec.data import read_movielens_100k, split_loo
    from lmrec.evaluation import prepare
    from lmrec.evaluation.collect import accuracy_per_user
    from lmrec.models.seq.model import SequentialRecommender

    data = prepare(split_loo(read_movielens_100k(args.ml100k)))
    folder = args.teacher / "sequential"
    if not (folder / "config.json").is_file():
        model = SequentialRecommender(num_threads=1).fit(data.train_valid)
        save_artifacts(args.teacher, {"sequential": model}, data.train_valid)
    users = data.test_users
    rows = []
    variants: list[tuple[str, Any]] = [("teacher (default: 64 wide, 2 blocks)", None)]
    variants += [
        ("student 32 wide, 1 block, actions only", STUDENT),
        ("student 32 wide, 1 block, distilled", {**STUDENT, **DISTIL, "teacher": str(folder)}),
    ]
    for label, params in variants:
        fit_s = None
        if params is None:
            model = SequentialRecommender.load(folder)
            model.use_runtime("torch")
        else:
            start = time.perf_counter()
            model = SequentialRecommender(num_threads=1, **params).fit(data.train_valid)
            fit_s = time.perf_counter() - start
        recs = np.concatenate(
            [model.recommend(users[i : i + 256], 10)[0] for i in range(0, len(users), 256)]
        )
        ndcg = accuracy_per_user(recs, data.test_truth, 10)["NDCG@10"]
        n_params = sum(p.numel() for p in model.net_.parameters())
        row = {
            "model": label,
            "ndcg": float(ndcg.mean()),
            "ci": M.bootstrap_ci(ndcg, n_boot=1000, seed=0),
            "fit_s": fit_s,
            "params": n_params,
            **cost(model, users),
        }
        rows.append(row)
        print(row, flush=True)
    t = rows[0]
    lines = [
        "## Sequential model: distillation",
        "",
        f"Date: {dt.date.today()}. Machine: {machine()}; torch {torch.__version__}, 1 thread.",
        "Command: `.venv/bin/python benchmarks/distill.py` (MovieLens 100K, leave-one-out, "
        f"{len(users)} test users; the teacher is the default `sequential` of "
        "benchmarks/onnx_runtime.py; students fitted with `teacher=FOLDER`, `distill_weight=0.5`, "
        "`distill_temperature=2` or without a teacher).",
        "",
        "Scoring cost in PyTorch float32: one user's top 10 through `recommend` (p50 over the "
        "test users in a shuffled order) and every test user 256 per call. Parameters: the "
        "network's, item table included.",
        "",
        "| model | NDCG@10 [95% CI] | share of the teacher's | parameters | p50 ms | batch users/s "
        "| fit s |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        fit = "" if r["fit_s"] is None else f"{r['fit_s']:.0f}"
        lines.append(
            f"| {r['model']} | {r['ndcg']:.4f} [{r['ci'][0]:.4f}, {r['ci'][1]:.4f}] "
            f"| {r['ndcg'] / t['ndcg']:.3f} | {r['params']:,} | {r['p50_ms']:.2f} "
            f"| {r['users_s']:.0f} | {fit} |"
        )
    write_section(args.results, "## Sequential model: distillation", "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
