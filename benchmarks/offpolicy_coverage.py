"""Off-policy estimates against the truth: lists served by one model with exploration on are
logged with their propensities; the SNIPS estimate of another model's CTR (the code of `lmrec
evaluate --off-policy`, lmrec.service.replay.off_policy) is checked against the CTR measured by
actually serving that model to the same simulated users (MovieLens 100K, temporal split, see
online_sim.py), over repeated runs.

    .venv/bin/python benchmarks/offpolicy_coverage.py [--runs 100] [--logging pop]
        [--candidate sequential] [--epsilon 0.3] [--pool 100]

Each run draws the users again (with replacement), serves each `--lists` lists of 10 from the
logging model with exploration, and the same number from the candidate without. Writes the
"Experiments: off-policy estimates" section of RESULTS.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path

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
    ap.add_argument("--logging", default="pop")
    ap.add_argument("--candidate", default="sequential")
    ap.add_argument("--epsilon", type=float, default=0.3)
    ap.add_argument("--pool", type=int, default=100)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--results", type=Path, default=HERE / "RESULTS.md")
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    vs, pop = versions(args.ml100k, tuple(dict.fromkeys(("pop", "sequential", args.logging,
                                                         args.candidate))))  # fmt: skip
    pool = top_lists(vs[args.logging], pop, args.pool)
    cand = top_lists(vs[args.candidate], pop, K)
    n_users = len(pop.users)
    cand_prob = np.array([pop.click_prob(u, cand[u]) for u in range(n_users)])
    pool_prob = np.array([pop.click_prob(u, pool[u]) for u in range(n_users)])
    start = time.perf_counter()
    rows = []
    for _ in range(args.runs):
        people = rng.integers(n_users, size=n_users)
        served = []
        for j, u in enumerate(people):
            for n in range(args.lists):
                chosen, prop, _ = explore(args.pool, K, args.epsilon, rng)
                clicked = rng.random(K) < pool_prob[u, chosen]
                served.append(Impression(
                    f"{j}-{n}", f"p{j}", 0.0, args.logging, [str(i) for i in pool[u, chosen]],
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
    wall = time.perf_counter() - start
    r = np.array(rows)
    covered = (r[:, 1] <= r[:, 3]) & (r[:, 3] <= r[:, 2])
    covered_truth = (r[:, 1] <= r[:, 4]) & (r[:, 4] <= r[:, 2])
    lines = [
        HEADING, "",
        f"Date: {dt.date.today().isoformat()}. Machine: {machine()}. {wall:.0f} s "
        "(training not counted).",
        f"Command: `.venv/bin/python benchmarks/offpolicy_coverage.py {' '.join(sys.argv[1:])}`",
        "",
        f"Logging: `{args.logging}` with exploration (epsilon {args.epsilon}, pool of its best "
        f"{args.pool}); candidate: `{args.candidate}`, never served while logging. {n_users} "
        f"simulated users per run (drawn with replacement), {args.lists} lists of {K} each; "
        f"{args.runs} runs. Clicks: 0.8 on a liked item, 0.01 on any other.",
        "",
        "| | mean over runs |",
        "|---|---|",
        f"| SNIPS estimate of the candidate's CTR@10 | {r[:, 0].mean():.4f} (interval width "
        f"{(r[:, 2] - r[:, 1]).mean():.4f}) |",
        f"| CTR@10 measured by serving the candidate | {r[:, 3].mean():.4f} |",
        f"| the candidate's true expected CTR@10 | {r[:, 4].mean():.4f} |",
        f"| the logging model's own CTR (with exploration) | {r[:, 7].mean():.4f} |",
        f"| support (candidate items inside the logging pool) | {r[:, 5].mean():.1%} |",
        f"| effective sample size (items) | {r[:, 6].mean():,.0f} |",
        "",
        f"The measured CTR fell inside the estimate's 95% interval in **{covered.mean():.0%}** "
        f"of {args.runs} runs (target: >= 90%); the true CTR in {covered_truth.mean():.0%}.",
        "",
    ]  # fmt: skip
    write_section(args.results, HEADING, "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
