"""Optuna's TPE against the hand grid: the best validation NDCG@10 each finds for ALS, itemknn
and EASE on MovieLens 100K (leave-one-out, full ranking), TPE with a third of the grid's fits
(at least 2), over several seeds.

    .venv/bin/python benchmarks/tuning.py [--seeds 3] [--startup third|optuna]

``--startup optuna`` samples Optuna's 10 random trials before TPE models the results, in place
of lmrec's third of the budget (``startup_trials``), to compare the two rules.

Writes the "Tuning: Optuna TPE against the grid" section of RESULTS.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
import lmrec.evaluation.search as search  # noqa: E402
from common import machine, write_section  # noqa: E402
from lmrec.data import read_movielens_100k, split_loo  # noqa: E402
from lmrec.evaluation import prepare  # noqa: E402
from lmrec.evaluation.runner import grid_search  # noqa: E402
from lmrec.models.registry import get_model_class, search_space  # noqa: E402

HEADING = "## Tuning: Optuna TPE against the grid"
MODELS = ("ease", "itemknn", "als")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--ml100k", type=Path, default=Path("../shared/data/ml-100k"))
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--startup", choices=("third", "optuna"), default="third")
    ap.add_argument("--results", type=Path, default=HERE / "RESULTS.md")
    args = ap.parse_args()
    data = prepare(split_loo(read_movielens_100k(args.ml100k)))
    if args.startup == "optuna":
        search.startup_trials = lambda trials: 10  # Optuna's default n_startup_trials

    def rank(model):  # type: ignore[no-untyped-def]
        return model.recommend(data.valid_users, 10, at=data.valid_at)[0]

    rows = []
    for name in MODELS:
        grid = search_space(name)
        start = time.perf_counter()
        _, g_trials = grid_search(name, grid, data.train, rank, data.valid_truth, k=10)
        g_time = time.perf_counter() - start
        g_best = max(t["valid_NDCG@10"] for t in g_trials)
        budget = max(2, len(grid) // 3)
        found, times = [], []
        for seed in range(args.seeds):
            start = time.perf_counter()
            _, t_trials = search.tpe_search(
                name, get_model_class(name).tuning_space(), get_model_class(name)().get_params(),
                data.train, rank,
                data.valid_truth, k=10, trials=budget, seed=seed,
            )  # fmt: skip
            times.append(time.perf_counter() - start)
            found.append(max(t["valid_NDCG@10"] for t in t_trials))
        rows.append((name, len(grid), g_best, g_time, budget, found, statistics.median(times)))
        print(rows[-1], flush=True)
    lines = [
        HEADING, "",
        f"Date: {dt.date.today().isoformat()}. Machine: {machine()}.",
        f"Command: `.venv/bin/python benchmarks/tuning.py {' '.join(sys.argv[1:])}`",
        "",
        "MovieLens 100K, leave-one-out; each setting is fitted on train and scored by NDCG@10 "
        "on the validation actions. TPE searches each model's declared ranges "
        "(`tuning_space()`), its first trial the model's default; the grid tries every setting "
        f"of `search_space()`. TPE over {args.seeds} seeds, random for its first "
        + ("10 trials (Optuna's default)." if args.startup == "optuna" else
           "third of the trials (`startup_trials`)."),
        "",
        "| model | grid fits | grid best | grid s | TPE fits | TPE best per seed | TPE s (median) | "
        "TPE >= grid |",
        "|---|---|---|---|---|---|---|---|",
    ]  # fmt: skip
    for name, n_grid, g_best, g_time, budget, found, t_time in rows:
        wins = sum(f >= g_best - 1e-12 for f in found)
        lines.append(
            f"| {name} | {n_grid} | {g_best:.4f} | {g_time:.0f} | {budget} | "
            f"{_spread(found)} | {t_time:.0f} | {wins}/{len(found)} |"
        )
    lines.append("")
    write_section(args.results, HEADING, "\n".join(lines) + "\n")


def _spread(found: list[float]) -> str:
    """Every seed's best for a few seeds, else the median and the range."""
    if len(found) <= 4:
        return ", ".join(f"{f:.4f}" for f in found)
    return f"median {statistics.median(found):.4f} ({min(found):.4f}-{max(found):.4f})"


if __name__ == "__main__":
    main()
