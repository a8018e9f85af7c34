"""A/A calibration of the experiment statistics: many A/A tests (both variants the same) over
simulated traffic, analysed by the service's own code (lmrec.service.measure). A test at 5%
should reject in about 5% of them; looking after every batch of traffic and stopping at the
first fixed-horizon p < 0.05 rejects far more often; the always-valid p-value, looked at after
every batch, at most 5%.

    .venv/bin/python benchmarks/experiments_calibration.py [--experiments 1000]

Traffic: 2000 users per experiment, each with their own CTR (Beta(2, 30), mean 6%); 20
batches, in each a user comes back with probability 0.3 and gets a list of 10 items, clicking
each with their CTR. Users are assigned by the experiment's salted hash (a new salt each
time). Writes the "Experiments: A/A calibration" section of RESULTS.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path

import numpy as np
from scipy import stats

HERE = Path(__file__).resolve().parent
from common import machine, write_section  # noqa: E402
from lmrec.experiments import Experiment, Variant  # noqa: E402
from lmrec.service.measure import Traffic, experiment_results  # noqa: E402

HEADING = "## Experiments: A/A calibration"


def one(rng: np.random.Generator, users: int, batches: int, k: int) -> tuple[float, float, float,
                                                                              float]:  # fmt: skip
    """(final fixed-horizon p, always-valid p after every batch, smallest fixed-horizon p over
    the batches, SRM p) of one A/A test."""
    exp = Experiment("aa", (Variant("a", "v1"), Variant("b", "v1")))
    arm = np.array([0 if exp.assign(f"user-{rng.integers(1 << 62)}").name == "a" else 1
                    for _ in range(users)])  # fmt: skip
    ctr = rng.beta(2, 30, size=users)
    came = rng.random((batches, users)) < 0.3
    b_idx, u_idx = np.nonzero(came)
    clicks = rng.binomial(k, ctr[u_idx]).astype(float)
    t = Traffic(u_idx, arm[u_idx], b_idx.astype(float), np.full(len(u_idx), float(k)), clicks,
                np.zeros(len(u_idx)), np.zeros(len(u_idx)))  # fmt: skip
    final = experiment_results(exp, t, looks=batches)
    comp = final["comparisons"][0]
    peeks = []
    for b in range(batches):  # what an operator peeking at the fixed-horizon p would see
        mask = t.at <= b
        part = Traffic(*(np.asarray(a)[mask] for a in (t.users, t.variants, t.at, t.shown,
                                                      t.clicks, t.credit_a, t.credit_b)))  # fmt: skip
        p = experiment_results(exp, part, looks=1)["comparisons"][0]["p_value"]
        peeks.append(1.0 if p is None else p)
    return comp["p_value"], comp["always_valid_p"], min(peeks), final["srm_p"]


def wilson(hits: int, n: int) -> tuple[float, float]:
    z = 1.959964
    p = hits / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--experiments", type=int, default=1000)
    ap.add_argument("--users", type=int, default=2000)
    ap.add_argument("--batches", type=int, default=20)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--results", type=Path, default=HERE / "RESULTS.md")
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    start = time.perf_counter()
    rows = np.array([one(rng, args.users, args.batches, 10) for _ in range(args.experiments)])
    wall = time.perf_counter() - start
    n = args.experiments
    lines = [
        HEADING, "",
        f"Date: {dt.date.today().isoformat()}. Machine: {machine()}. {wall:.0f} s.",
        f"Command: `.venv/bin/python benchmarks/experiments_calibration.py {' '.join(sys.argv[1:])}`",
        "",
        f"{n} simulated A/A tests ({args.users} users each, heterogeneous CTRs with mean 6%, "
        f"{args.batches} batches of traffic, lists of 10), analysed by `GET "
        "/v1/experiments/{name}`'s code (`lmrec.service.measure.experiment_results`): the "
        "share rejected at 5%, with its 95% Wilson interval.",
        "",
        "| test | rejected at 5% | 95% interval | target |",
        "|---|---|---|---|",
    ]  # fmt: skip
    for label, col, target in (
        ("fixed horizon (`p_value`, once at the end)", 0, "3-7%"),
        ("always valid (`always_valid_p`, after every batch)", 1, "<= 5%"),
        ("fixed horizon, peeked at after every batch", 2, "(why the always-valid p exists)"),
        ("sample-ratio mismatch (`srm_p`)", 3, "about 5%"),
    ):
        hits = int((rows[:, col] < 0.05).sum())
        lo, hi = wilson(hits, n)
        lines.append(f"| {label} | {hits / n:.1%} ({hits}/{n}) | [{lo:.1%}, {hi:.1%}] | "
                     f"{target} |")  # fmt: skip
    ks = stats.kstest(rows[:, 0], "uniform").pvalue
    lines += ["", f"Under A/A the fixed-horizon p-values should be uniform: Kolmogorov-Smirnov "
              f"p = {ks:.2f}.", ""]  # fmt: skip
    write_section(args.results, HEADING, "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
