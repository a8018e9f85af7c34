"""What a larger sequential network buys on MovieLens 100K: test NDCG@10 against its number of
parameters and its training compute (seconds of one thread), fitted on train + validation at
the defaults but for the width and depth.

    .venv/bin/python benchmarks/seq_scaling.py

Each size is fitted in a process of its own, two at a time (one thread each). Writes the
"Sequential model: scaling" section of RESULTS.md and plots/seq_scaling.png.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
from common import machine, write_section  # noqa: E402

#: (embedding_size, n_layers, n_heads)
SIZES = [(16, 1, 1), (32, 2, 2), (64, 2, 2), (128, 2, 2)]


def one(dim: int, layers: int, heads: int, budget: float) -> dict[str, float]:
    import torch

    from lmrec.data import read_movielens_100k, split_loo
    from lmrec.evaluation import prepare
    from lmrec.evaluation.collect import accuracy_per_user
    from lmrec.models.seq.model import SequentialRecommender

    torch.set_num_threads(1)
    data = prepare(split_loo(read_movielens_100k(HERE.parent.parent / "shared/data/ml-100k")))
    model = SequentialRecommender(
        embedding_size=dim, n_layers=layers, n_heads=heads, num_threads=1, time_budget_s=budget
    ).fit(data.train_valid)
    recs, _ = model.recommend(data.test_users, 10, at=data.test_at)
    acc = accuracy_per_user(recs, data.test_truth, 10)["NDCG@10"]
    n = len(acc)
    return {
        "dim": dim,
        "layers": layers,
        "parameters": sum(p.numel() for p in model.net_.parameters()),
        "ndcg": float(acc.mean()),
        "se": float(acc.std(ddof=1) / n**0.5),
        "train_seconds": model.train_seconds_,
        "epochs": len([h for h in model.history_ if not h.get("refit")]),
        "budget_hit": model.train_seconds_ >= budget,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--one", nargs=3, type=int, help=argparse.SUPPRESS)
    ap.add_argument("--budget", type=float, default=900.0, help="training seconds per size")
    ap.add_argument("--results", type=Path, default=HERE / "RESULTS.md")
    args = ap.parse_args()
    if args.one:
        print(json.dumps(one(*args.one, args.budget)))
        return

    def run(size: tuple[int, int, int]) -> dict[str, float]:
        cmd = [sys.executable, __file__, "--budget", str(args.budget), "--one", *map(str, size)]
        out = subprocess.run(cmd, capture_output=True, text=True, check=True)
        row: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
        print(row, flush=True)
        return row

    with ThreadPoolExecutor(2) as pool:
        rows = list(pool.map(run, SIZES))
    (HERE / "out").mkdir(exist_ok=True)
    (HERE / "out" / "seq_scaling.json").write_text(json.dumps(rows, indent=2))
    plot(rows, HERE / "plots" / "seq_scaling.png")
    write_section(args.results, "## Sequential model: scaling", section(rows, args.budget))


def plot(rows: list[dict[str, float]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    for ax, key, label in (
        (axes[0], "parameters", "parameters (log)"),
        (axes[1], "epochs", "epochs trained in the budget"),
    ):
        ax.errorbar(
            [r[key] for r in rows], [r["ndcg"] for r in rows],
            yerr=[r["se"] for r in rows], fmt="o-", capsize=3,
        )  # fmt: skip
        for r in rows:
            ax.annotate(f"{r['dim']}x{r['layers']}", (r[key], r["ndcg"]), fontsize=8,
                        textcoords="offset points", xytext=(4, -10))  # fmt: skip
        ax.set(xlabel=label, ylabel="test NDCG@10 (± 1 SE)")
        ax.grid(alpha=0.3)
    axes[0].set_xscale("log")
    axes[0].set_xticks(
        [r["parameters"] for r in rows], [f"{r['parameters'] / 1e3:.0f}k" for r in rows]
    )
    axes[0].minorticks_off()
    fig.suptitle("Sequential model on MovieLens 100K: what a larger network buys")
    fig.tight_layout()
    path.parent.mkdir(exist_ok=True)
    fig.savefig(path, dpi=110)


def section(rows: list[dict[str, float]], budget: float) -> str:
    table = [
        "| width x layers | parameters | test NDCG@10 ± SE | epochs | training s |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        cut = " (budget)" if r["budget_hit"] else ""
        table.append(
            f"| {r['dim']} x {r['layers']} | {r['parameters']:,} | {r['ndcg']:.4f} ± "
            f"{r['se']:.4f} | {r['epochs']} | {r['train_seconds']:.0f}{cut} |"
        )
    return "\n".join(
        [
            "## Sequential model: scaling",
            "",
            f"Date: {dt.date.today()}. Machine: {machine()}; 1 thread per fit, two fits at a time.",
            f"Command: `.venv/bin/python benchmarks/seq_scaling.py --budget {budget:.0f}`",
            "",
            "MovieLens 100K leave-one-out; each size fitted on train + validation at the defaults "
            f"but for its width and depth (early stopping, at most {budget:.0f} s of training), "
            "scored on the test actions.",
            "",
            *table,
            "",
            "![scaling curve](plots/seq_scaling.png)",
            "",
        ]
    )


if __name__ == "__main__":
    main()
