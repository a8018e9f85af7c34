"""What differential privacy costs: NDCG@10 of EASE on MovieLens 100K without privacy and with
(epsilon, 1e-6)-differential privacy (``ease-dp``) at epsilon 1, 3 and 8.

    .venv/bin/python benchmarks/dp_ease.py [--seeds 3] [--threads 1]

Leave-one-out split; every model is tuned on validation (its own search space), refit on
train + validation and ranks the full catalog for the test users. Each private model is fitted
with ``--seeds`` noise draws; the table gives each draw's NDCG@10 with its 95% bootstrap
interval over users, and the mean over draws. Writes a section of RESULTS.md and a plot,
``benchmarks/plots/dp_ease.png``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import time
from pathlib import Path

from threadpoolctl import threadpool_limits

import lmrec
from common import machine, write_section
from lmrec.evaluation import prepare, tune

HERE = Path(__file__).resolve().parent
ML100K = HERE.parents[1] / "shared" / "data" / "ml-100k"
EPSILONS = (1.0, 3.0, 8.0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=ML100K)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--results", type=Path, default=HERE / "RESULTS.md")
    args = ap.parse_args()
    split = lmrec.split_dataset(lmrec.import_dataset(args.data, "movielens-100k"), "loo")
    cfg = lmrec.EvalConfig(progress=False)
    rows: list[tuple[str, float, int, float, list[float], dict]] = []  # type: ignore[type-arg]
    start = time.perf_counter()
    data = prepare(split)
    with threadpool_limits(args.threads):
        base = lmrec.evaluate(split, ["ease"], cfg)["models"]["ease"]
        rows.append(("ease", float("inf"), 0, base["metrics"]["NDCG@10"]["mean"],
                     base["metrics"]["NDCG@10"]["ci95"], base["config"]["params"]))  # fmt: skip
        for eps in EPSILONS:
            for seed in range(args.seeds):
                # tuned on validation with this budget and noise draw, then refit and tested
                chosen, _ = tune("ease-dp", data, cfg, overrides={"epsilon": eps, "seed": seed})
                report = lmrec.evaluate(split, ["ease-dp"], cfg, params={"ease-dp": chosen})
                e = report["models"]["ease-dp"]
                ndcg = e["metrics"]["NDCG@10"]
                rows.append(("ease-dp", eps, seed, ndcg["mean"], ndcg["ci95"],
                             e["config"]["params"]))  # fmt: skip
                print(f"epsilon {eps:g} seed {seed}: NDCG@10 {ndcg['mean']:.4f}", flush=True)
    elapsed = time.perf_counter() - start
    plot = _plot(rows, HERE / "plots" / "dp_ease.png")
    base_ndcg = rows[0][3]
    lines = [
        "## Differential privacy: EASE at epsilon 1, 3, 8 (MovieLens 100K)",
        "",
        f"{dt.date.today().isoformat()}, {machine()}, {args.threads} BLAS thread(s), "
        f"{elapsed:.0f} s in all. Command: `.venv/bin/python benchmarks/dp_ease.py "
        f"--seeds {args.seeds} --threads {args.threads}`.",
        "",
        "Leave-one-out, full-catalog ranking, tuned on validation, delta = 1e-6, at most 50 "
        "interactions per user. The guarantee covers the weights; the tuning on the same data "
        "is not private. How the defaults were found: `notes/2026-12-01-dp-ease.md`.",
        "",
        "| model | epsilon | noise draw | NDCG@10 [95% CI] | vs non-private | chosen |",
        "|---|---|---|---|---|---|",
    ]
    for name, eps, seed, mean, ci, params in rows:
        chosen = ", ".join(f"{k}={params[k]:g}" for k in ("reg", "rank") if k in params)
        lines.append(
            f"| {name} | {'none' if eps == float('inf') else f'{eps:g}'} | "
            f"{seed if name != 'ease' else '-'} | {mean:.4f} [{ci[0]:.4f}, {ci[1]:.4f}] | "
            f"{mean / base_ndcg:.0%} | {chosen} |"
        )
    lines += ["", "Mean over noise draws:", ""]
    for eps in EPSILONS:
        vals = [m for n, e, _, m, _, _ in rows if n == "ease-dp" and e == eps]
        lines.append(
            f"- epsilon {eps:g}: {statistics.mean(vals):.4f} ({statistics.mean(vals) / base_ndcg:.0%} "
            f"of non-private), draws {min(vals):.4f} to {max(vals):.4f}"
        )
    if plot:
        lines += ["", f"![NDCG@10 against epsilon]({plot.relative_to(HERE)})"]
    write_section(args.results, lines[0], "\n".join(lines) + "\n")


def _plot(rows: list, path: Path) -> Path | None:  # type: ignore[type-arg]
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ModuleNotFoundError:
        return None
    base = rows[0]
    fig, ax = plt.subplots(figsize=(5.5, 3.5))
    private = [r for r in rows if r[0] == "ease-dp"]
    for seed in sorted({r[2] for r in private}):
        pts = [r for r in private if r[2] == seed]
        ax.errorbar([r[1] for r in pts], [r[3] for r in pts],
                    yerr=[[r[3] - r[4][0] for r in pts], [r[4][1] - r[3] for r in pts]],
                    marker="o", capsize=3, alpha=0.8, label=f"ease-dp, draw {seed}")  # fmt: skip
    ax.axhline(base[3], color="black", linestyle="--", label="ease (no privacy)")
    ax.axhspan(base[4][0], base[4][1], color="grey", alpha=0.15)
    ax.set_xscale("log")
    ax.minorticks_off()
    ax.set_xticks(EPSILONS, [f"{e:g}" for e in EPSILONS])
    ax.set_xlabel("epsilon (delta = 1e-6)")
    ax.set_ylabel("NDCG@10 (95% CI)")
    ax.set_title("EASE with differential privacy, MovieLens 100K")
    ax.legend(fontsize=7)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


if __name__ == "__main__":
    main()
