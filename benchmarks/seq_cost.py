"""What one training epoch of the sequential model costs, full against sampled softmax, as the
catalog and the number of actions grow (synthetic catalogs, no text, one thread).

    .venv/bin/python benchmarks/seq_cost.py

Each configuration is fitted for one epoch in a process of its own, so its peak resident
memory is its own. Writes the "Sequential model: training cost" section of RESULTS.md and
plots/seq_cost.png.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
from common import machine, write_section  # noqa: E402

#: (items, users) at 20 actions per user: the catalog grows at 100,000 actions, then the actions
#: grow at 16,000 items
CATALOGS = [(2_000, 5_000), (8_000, 5_000), (32_000, 5_000), (64_000, 5_000)]
ACTIONS = [(16_000, 2_500), (16_000, 10_000), (16_000, 20_000)]
ACTIONS_PER_USER = 20


def one(items: int, users: int, softmax: str) -> dict[str, float]:
    """Fit one epoch; the training seconds and this process's peak RSS."""
    import resource

    import torch

    from lmrec.data.interactions import Interactions
    from lmrec.data.synthetic import synthetic_dataset
    from lmrec.models.seq.model import SequentialRecommender

    torch.set_num_threads(1)
    data = Interactions.from_dataset(
        synthetic_dataset(n_users=users, n_items=items, mean_events=ACTIONS_PER_USER, seed=0)
    )
    model = SequentialRecommender(
        softmax=softmax, epochs=1, text_encoder=None, num_threads=1, valid_users=1000
    ).fit(data)
    return {
        "items": items,
        "users": users,
        "actions": len(data),
        "softmax": softmax,
        "epoch_seconds": model.history_[0]["train_seconds"],
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--one", nargs=3, metavar=("ITEMS", "USERS", "SOFTMAX"), help=argparse.SUPPRESS)
    ap.add_argument("--results", type=Path, default=HERE / "RESULTS.md")
    args = ap.parse_args()
    if args.one:
        print(json.dumps(one(int(args.one[0]), int(args.one[1]), args.one[2])))
        return
    rows = []
    for items, users in dict.fromkeys(CATALOGS + ACTIONS):
        for softmax in ("full", "sampled"):
            out = subprocess.run(
                [sys.executable, __file__, "--one", str(items), str(users), softmax],
                capture_output=True, text=True, check=True,
            )  # fmt: skip
            rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
            print(rows[-1], flush=True)
    (HERE / "out").mkdir(exist_ok=True)
    (HERE / "out" / "seq_cost.json").write_text(json.dumps(rows, indent=2))
    plot(rows, HERE / "plots" / "seq_cost.png")
    write_section(args.results, "## Sequential model: training cost", section(rows))


def plot(rows: list[dict[str, float]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    by_items = [r for r in rows if r["users"] == CATALOGS[0][1]]
    by_actions = [r for r in rows if r["items"] == ACTIONS[0][0]]
    for softmax, style in (("full", "o-"), ("sampled", "s-")):
        a = sorted((r for r in by_items if r["softmax"] == softmax), key=lambda r: r["items"])
        b = sorted((r for r in by_actions if r["softmax"] == softmax), key=lambda r: r["actions"])
        axes[0].plot([r["items"] for r in a], [r["epoch_seconds"] for r in a], style, label=softmax)
        axes[1].plot([r["items"] for r in a], [r["peak_mb"] for r in a], style, label=softmax)
        axes[2].plot(
            [r["actions"] for r in b], [r["epoch_seconds"] for r in b], style, label=softmax
        )
    axes[0].set(xscale="log", yscale="log", xlabel="items (100,000 actions)", ylabel="s / epoch")
    axes[1].set(xscale="log", xlabel="items (100,000 actions)", ylabel="peak RSS, MB")
    axes[2].set(xlabel=f"actions ({ACTIONS[0][0]:,} items)", ylabel="s / epoch")
    sizes = [items for items, _ in CATALOGS]
    for ax in axes[:2]:
        ax.set_xticks(sizes, [f"{n // 1000}k" for n in sizes])
        ax.minorticks_off()
    axes[0].set_yticks([10, 30, 100, 300], ["10", "30", "100", "300"])
    axes[2].set_xticks([100_000, 200_000, 300_000, 400_000], ["100k", "200k", "300k", "400k"])
    for ax in axes:
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle("Sequential model: one epoch, full vs sampled softmax (1 thread, CPU)")
    fig.tight_layout()
    path.parent.mkdir(exist_ok=True)
    fig.savefig(path, dpi=110)


def section(rows: list[dict[str, float]]) -> str:
    table = ["| items | actions | full s/epoch | sampled s/epoch | speed-up | full peak MB | "
             "sampled peak MB |", "|---|---|---|---|---|---|---|"]  # fmt: skip
    keys = dict.fromkeys((r["items"], r["actions"]) for r in rows)
    for items, actions in keys:
        f, s = (
            next(r for r in rows if (r["items"], r["actions"], r["softmax"]) == (items, actions, x))
            for x in ("full", "sampled")
        )
        table.append(
            f"| {items:,} | {actions:,} | {f['epoch_seconds']:.1f} | {s['epoch_seconds']:.1f} | "
            f"{f['epoch_seconds'] / s['epoch_seconds']:.1f}x | {f['peak_mb']:.0f} | "
            f"{s['peak_mb']:.0f} |"
        )
    return "\n".join(
        [
            "## Sequential model: training cost",
            "",
            f"Date: {dt.date.today()}. Machine: {machine()}; 1 thread, CPU only.",
            "Command: `.venv/bin/python benchmarks/seq_cost.py`",
            "",
            f"Synthetic catalogs (`synthetic_dataset`, {ACTIONS_PER_USER} actions per user, no "
            "text); one epoch of the default network (settings from the data, batches of 128), "
            "each in a process of its own. The sampled softmax covers each batch's targets and "
            "1,024 uniform negatives with the log-Q correction; the full one the catalog's items "
            "that occur in training (far from all 64,000 at 100,000 actions).",
            "",
            *table,
            "",
            "![cost curve](plots/seq_cost.png)",
            "",
        ]
    )


if __name__ == "__main__":
    main()
