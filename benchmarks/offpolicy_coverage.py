"""Off-policy estimates against the truth: lists served by one model with exploration on are
logged with their propensities; the SNIPS estimate of another model's CTR (the code of `lmrec
evaluate --off-policy`, lmrec.service.replay.off_policy) is checked against the CTR measured by
actually serving that model to the same simulated users (MovieLens 100K, temporal split, see
online_sim.py), over repeated runs.

    .venv/bin/python benchmarks/offpolicy_coverage.py [--runs 100]
        [--candidate sequential] [--configs ease:200:0.3,pop:100:0.3]

Each configuration is LOGGING:POOL:EPSILON: the logging model, how many of its best items
exploration draws from, and how often. Each run draws the users again (with replacement),
serves each `--lists` lists of 10 from the logging model with exploration, and the same number
from the candidate without. Writes the
"Experiments: off-policy estimates" section of RESULTS.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
from common import machine, write_section  # noqa: E402
from lmrec.experiments import explore  # noqa: E402
from lmrec.service.replay import off_policy  # noqa: E402
from lmrec.service.store import Impression  # noqa: E402
from online_sim import top_lists, versions  # noqa: E402

HEADING = "## Experiments: off-policy estimates"
K = 10


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--ml100k", type=Path, default=Path("../shared/data/ml-100k"))
    ap.add_argument("--runs", type=int, default=100)
    ap.add_argument("--lists", type=int, default=3)
    ap.add_argument("--candidate", default="sequential")
    ap.add_argument("--configs", default="ease:200:0.3,ease:400:0.5,pop:100:0.3")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--results", type=Path, default=HERE / "RESULTS.md")
    args = ap.parse_args()
    configs = [(c.split(":")[0], int(c.split(":")[1]), float(c.split(":")[2]))
               for c in args.configs.split(",")]  # fmt: skip
    rng = np.random.default_rng(args.seed)
    names = dict.fromkeys(("pop", "sequential", args.candidate, *(c[0] for c in configs)))
    vs, pop = versions(args.ml100k, tuple(names))
    cand = top_lists(vs[args.candidate], pop, K)
    n_users = len(pop.users)
    cand_prob = np.array([pop.click_prob(u, cand[u]) for u in range(n_users)])
    start = time.perf_counter()
    table = []
    for logging, pool_size, epsilon in configs:
        r = np.array(runs(args, rng, vs[logging], pop, cand, cand_prob, pool_size, epsilon))
        covered = (r[:, 1] <= r[:, 3]) & (r[:, 3] <= r[:, 2])
        truth = (r[:, 1] <= r[:, 4]) & (r[:, 4] <= r[:, 2])
        table.append(
            f"| `{logging}` | {pool_size} | {epsilon:g} | {r[:, 5].mean():.1%} | "
            f"{r[:, 0].mean():.4f} | {(r[:, 2] - r[:, 1]).mean():.4f} | {r[:, 3].mean():.4f} | "
            f"{r[:, 7].mean():.4f} | {r[:, 6].mean():,.0f} | **{covered.mean():.0%}** | "
            f"{truth.mean():.0%} |"
        )
    wall = time.perf_counter() - start
    lines = [
        HEADING, "",
        f"Date: {dt.date.today().isoformat()}. Machine: {machine()}. {wall:.0f} s "
        "(training not counted).",
        f"Command: `.venv/bin/python benchmarks/offpolicy_coverage.py {' '.join(sys.argv[1:])}`",
        "",
        f"Candidate: `{args.candidate}`, never served while logging. {n_users} simulated users "
        f"per run (drawn with replacement), {args.lists} lists of {K} each from the logging "
        f"model with exploration; {args.runs} runs per row. Clicks: 0.8 on a liked item, 0.01 "
        "on any other, wherever it is shown. Covered: the CTR measured by serving the "
        "candidate to the same users fell inside the estimate's 95% interval (target: >= 90% "
        "of runs).",
        "",
        "| logging | pool | epsilon | support | SNIPS CTR@10 | interval width | measured CTR@10 | "
        "logging's own CTR | effective n | covered | true CTR covered |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
        *table,
        "",
        "Support is the share of the candidate's items inside the logging pool: the estimate "
        "speaks only for those. Where the pool misses a fifth of them (`pop`, 100 items), the "
        "items it misses are ones people like less, and the estimate is biased upward.",
        "",
    ]  # fmt: skip
    write_section(args.results, HEADING, "\n".join(lines) + "\n")


def runs(args: argparse.Namespace, rng: np.random.Generator, logging: Any, pop: Any,
         cand: np.ndarray, cand_prob: np.ndarray, pool_size: int, epsilon: float
         ) -> list[tuple[float, ...]]:  # fmt: skip
    """Per run: (estimate, low, high, measured, true, support, effective n, logged CTR)."""
    pool = top_lists(logging, pop, pool_size)
    n_users = len(pop.users)
    pool_prob = np.array([pop.click_prob(u, pool[u]) for u in range(n_users)])
    rows = []
    for _ in range(args.runs):
        people = rng.integers(n_users, size=n_users)
        served = []
        for j, u in enumerate(people):
            for n in range(args.lists):
                chosen, prop, _ = explore(pool_size, K, epsilon, rng)
                clicked = rng.random(K) < pool_prob[u, chosen]
                served.append(Impression(
                    f"{j}-{n}", f"p{j}", 0.0, "logging", [str(i) for i in pool[u, chosen]],
                    [0.0] * K, propensities=[float(p) for p in prop],
                    pool=[str(i) for i in pool[u]],
                    feedback=tuple(("click", int(pos)) for pos in np.flatnonzero(clicked)),
                ))  # fmt: skip
        lists = {f"p{j}": [str(i) for i in cand[u]] for j, u in enumerate(people)}
        est = off_policy(served, lambda user, lists=lists: lists[user], K)  # type: ignore[misc]
        measured = float((rng.random((n_users, args.lists, K)) <
                          cand_prob[people][:, None, :]).mean())  # fmt: skip
        truth = float(cand_prob[people].mean())
        lo, hi = est["estimate"]["ci95"]
        rows.append((est["estimate"]["mean"], lo, hi, measured, truth, est["support"],
                     est["effective_sample_size"], est["logged_ctr"]["mean"]))  # fmt: skip
    return rows


if __name__ == "__main__":
    main()
