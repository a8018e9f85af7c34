"""One development dataset, every model side by side: leave-one-out, full ranking, NDCG@10 with
its 95% interval, HR@10, fit seconds and the fit's peak memory.

    .venv/bin/python benchmarks/datasets.py ml100k
    .venv/bin/python benchmarks/datasets.py video
    .venv/bin/python benchmarks/datasets.py synthetic

``ml100k`` reads ../shared/data/ml-100k, ``video`` the Amazon Video Games sequences in
../shared/data/sasrec-video/Video.txt (no item text: ``content`` is left out), ``synthetic``
a generated catalog. Baselines are tuned on validation (``--search tpe --trials N`` for a
budgeted search); the neural models run at their defaults. Writes benchmarks/out/datasets/NAME/
and the "Every model on NAME" section of RESULTS.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
from pathlib import Path
from typing import Any

import torch

HERE = Path(__file__).resolve().parent
from common import machine, write_section  # noqa: E402

DATA = HERE.parent.parent / "shared" / "data"
MODELS = {
    "ml100k": ["pop", "itemknn", "als", "ease", "content", "sequential", "hybrid"],
    "video": ["pop", "itemknn", "als", "ease", "sequential", "hybrid"],
    "synthetic": ["pop", "itemknn", "als", "ease", "content", "sequential", "hybrid"],
}
TITLES = {
    "ml100k": "MovieLens 100K",
    "video": "Amazon Video Games",
    "synthetic": "a synthetic catalog (5,000 users, 3,000 items)",
}


def load(name: str) -> Any:
    from lmrec.data import read_movielens_100k, read_sequences, synthetic_dataset

    if name == "ml100k":
        return read_movielens_100k(DATA / "ml-100k")
    if name == "video":
        return read_sequences(DATA / "sasrec-video" / "Video.txt")
    return synthetic_dataset(n_users=5_000, n_items=3_000, mean_events=30, seed=0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("dataset", choices=sorted(MODELS))
    ap.add_argument("--models", help="comma-separated, instead of the dataset's list")
    ap.add_argument("--search", choices=["grid", "tpe"], default="grid")
    ap.add_argument("--trials", type=int, default=None)
    ap.add_argument("--no-tune", action="store_true", help="every model at its defaults")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--time-budget", type=float, default=None, help="seconds per fit")
    ap.add_argument("--n-boot", type=int, default=1000)
    ap.add_argument("--results", type=Path, default=HERE / "RESULTS.md")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    from lmrec.data import split_loo
    from lmrec.evaluation import EvalConfig, evaluate

    models = args.models.split(",") if args.models else MODELS[args.dataset]
    split = split_loo(load(args.dataset))
    cfg = EvalConfig(
        progress=True, search=args.search, trials=args.trials, n_boot=args.n_boot,
        tune=not args.no_tune, time_budget_s=args.time_budget,
    )  # fmt: skip
    params = {"sequential": {"num_threads": args.threads}}
    if "hybrid" in models and "content" not in models:
        params["hybrid"] = {"components": [m for m in models if m not in ("pop", "hybrid")]}
    if "hybrid" in models and args.time_budget:
        # the hybrid fits each component twice: its budget gives each fit the budget of a
        # model fitted alone
        from lmrec.models.hybrid import HybridRanker
        from lmrec.models.registry import takes_time_budget

        parts = params.get("hybrid", {}).get("components") or HybridRanker().components
        budgeted = sum(takes_time_budget(m) for m in parts)
        params.setdefault("hybrid", {})["time_budget_s"] = args.time_budget * 2 * max(1, budgeted)
    start = time.perf_counter()
    report = evaluate(
        split, models, cfg, out=HERE / "out" / "datasets" / args.dataset,
        params={k: v for k, v in params.items() if k in models},
    )  # fmt: skip
    total = time.perf_counter() - start
    command = (
        f"`.venv/bin/python benchmarks/datasets.py {args.dataset}"
        + (f" --models {args.models}" if args.models else "")
        + (f" --search tpe --trials {args.trials}" if args.search == "tpe" else "")
        + (" --no-tune" if args.no_tune else "")
        + (f" --time-budget {args.time_budget:g}" if args.time_budget else "")
        + "`"
    )
    write_section(
        args.results, f"## Every model on {TITLES[args.dataset]}",
        section(args.dataset, report, total, command, args.threads, tuned=not args.no_tune),
    )  # fmt: skip


def section(
    name: str, report: dict[str, Any], total: float, command: str, threads: int, *, tuned: bool
) -> str:
    rows = [
        "| model | NDCG@10 [95% CI] | HR@10 | fit s | fit peak MB | settings |",
        "|---|---|---|---|---|---|",
    ]
    for model, e in report["models"].items():
        m = e["metrics"]
        ci = m["NDCG@10"]["ci95"]
        rows.append(
            f"| {model} | {m['NDCG@10']['mean']:.4f} [{ci[0]:.4f}, {ci[1]:.4f}] | "
            f"{m['HR@10']['mean']:.4f} | {e['fit_seconds']:.1f} | "
            f"{e.get('fit_peak_rss_mb', 0.0):.0f} | {_settings(e)} |"
        )
    counts = report["counts"]
    return "\n".join(
        [
            f"## Every model on {TITLES[name]}",
            "",
            f"Date: {dt.date.today()}. Machine: {machine()}; torch {torch.__version__}, "
            f"{threads} thread(s).",
            f"Command: {command} (whole run {total:.0f} s).",
            "",
            f"{counts['users']:,} users, {counts['items']:,} items, {counts['train_valid']:,} "
            "training actions; leave-one-out, full ranking, each user's earlier items excluded. "
            + ("Baselines tuned on validation; the sequential model" if tuned else "Every model")
            + " at its defaults (settings derived from the data, shown); `fit peak MB` is the "
            "resident memory the final fit added.",
            "",
            *rows,
            "",
        ]
    )


def _settings(entry: dict[str, Any]) -> str:
    fitted = entry.get("fitted", {})
    if "settings" in fitted:
        s = fitted["settings"]
        return (
            f"max_len {s['max_len']}, {s['softmax']} softmax, patience {s['patience']}, "
            f"{fitted.get('epochs', '?')} epochs"
        )
    params = entry["config"]["params"]
    shown = "defaults"
    if entry["config"].get("tuning"):
        shown = ", ".join(
            f"{k}={v}" for k, v in params.items()
            if not isinstance(v, (list, dict)) and k not in ("time_budget_s", "num_threads")
        )  # fmt: skip
    if "items_kept" in fitted:
        shown += f"; weights among {fitted['items_kept']:,} items"
    if "epochs_trained" in fitted:
        shown += f"; {fitted['epochs_trained']} epochs"
    return shown


if __name__ == "__main__":
    main()
