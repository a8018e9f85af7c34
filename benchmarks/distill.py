"""Distillation of sequential models, side by side (MovieLens 100K, leave-one-out, k = 10,
one thread).

    .venv/bin/python benchmarks/distill.py [--teacher DIR] [--ensemble DIR]

Two teachers, fitted on train + validation: the default ``sequential`` (the one
benchmarks/onnx_runtime.py keeps, trained here when absent) and an ensemble of three default
networks (``n_models=3``, kept in --ensemble). Students, fitted on the same data: a smaller
network (embedding 32, one Transformer block) on the actions alone and distilled from the
default model, and one default network distilled from the ensemble (``distill_weight`` 0.5,
``distill_temperature`` 2). For each: NDCG@10 on the test users with its 95% interval, its
share of its teacher's NDCG, the fit time, and the scoring cost (PyTorch: one user's top 10,
p50 over the test users; every test user 256 at a time). Writes the "Sequential model:
distillation" section of RESULTS.md.
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
    ap.add_argument("--ensemble", type=Path, default=HERE / "out" / "distill" / "ensemble")
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
    folder, ensemble = args.teacher / "sequential", args.ensemble / "sequential"
    for root, params in ((args.teacher, {}), (args.ensemble, {"n_models": 3})):
        if not (root / "sequential" / "config.json").is_file():
            start = time.perf_counter()
            model = SequentialRecommender(num_threads=1, **params).fit(data.train_valid)
            print(f"fitted {root} in {time.perf_counter() - start:.0f} s", flush=True)
            save_artifacts(root, {"sequential": model}, data.train_valid)
    users = data.test_users
    rows = []
    teacher = {"teacher": str(folder)}
    # (label, the teacher it is compared with, a saved teacher or a student's settings)
    variants: list[tuple[str, str, Any]] = [
        ("teacher: the default (64 wide, 2 blocks)", "default", folder),
        ("student 32 wide, 1 block, actions only", "default", STUDENT),
        ("student 32 wide, 1 block, distilled", "default", {**STUDENT, **DISTIL, **teacher}),
        ("teacher: ensemble of 3 default networks", "ensemble", ensemble),
        ("student: 1 default network, distilled", "ensemble",
         {**DISTIL, "teacher": str(ensemble)}),
    ]  # fmt: skip
    teachers: dict[str, float] = {}  # NDCG@10 of each teacher
    for label, of, params in variants:
        fit_s = None
        if isinstance(params, Path):
            model = SequentialRecommender.load(params)
            model.use_runtime("torch")
        else:
            start = time.perf_counter()
            model = SequentialRecommender(num_threads=1, **params).fit(data.train_valid)
            fit_s = time.perf_counter() - start
        recs = np.concatenate(
            [model.recommend(users[i : i + 256], 10)[0] for i in range(0, len(users), 256)]
        )
        ndcg = accuracy_per_user(recs, data.test_truth, 10)["NDCG@10"]
        if isinstance(params, Path):
            teachers[of] = float(ndcg.mean())
        n_params = sum(p.numel() for p in model.net_.parameters())
        row = {
            "model": label,
            "ndcg": float(ndcg.mean()),
            "ci": M.bootstrap_ci(ndcg, n_boot=1000, seed=0),
            "share": float(ndcg.mean()) / teachers[of],
            "fit_s": fit_s,
            "params": n_params,
            **cost(model, users),
        }
        rows.append(row)
        print(row, flush=True)
    lines = [
        "## Sequential model: distillation",
        "",
        f"Date: {dt.date.today()}. Machine: {machine()}; torch {torch.__version__}, 1 thread.",
        "Command: `.venv/bin/python benchmarks/distill.py` (MovieLens 100K, leave-one-out, "
        f"{len(users)} test users; students fitted with `teacher=FOLDER`, "
        "`distill_weight=0.5`, `distill_temperature=2`, or without one).",
        "",
        "Cost in PyTorch float32: one user's top 10 (p50, shuffled test users); every test "
        "user, 256 per call. Parameters include the item table.",
        "",
        "| model | NDCG@10 [95% CI] | share of its teacher's | parameters | p50 ms | batch users/s "
        "| fit s |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        fit = "" if r["fit_s"] is None else f"{r['fit_s']:.0f}"
        lines.append(
            f"| {r['model']} | {r['ndcg']:.4f} [{r['ci'][0]:.4f}, {r['ci'][1]:.4f}] "
            f"| {r['share']:.3f} | {r['params']:,} | {r['p50_ms']:.2f} "
            f"| {r['users_s']:.0f} | {fit} |"
        )
    write_section(args.results, "## Sequential model: distillation", "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
