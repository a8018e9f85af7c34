"""How many users an experiment needs: an A/B test of `sequential` against `pop` on MovieLens
100K (temporal split, simulated users, see online_sim.py) against a team-draft interleaving of
the same two, both analysed by the service's own code (lmrec.service.measure).

    .venv/bin/python benchmarks/experiments_power.py [--reps 200]

Each simulated user gets one list of 10 (A/B: from their arm's model; interleaving: both
models' lists merged by team draft). Power at N users is the share of `--reps` experiments
with p < 0.05 and the right sign; the users needed for 80% power are interpolated on a grid
of N (log scale). Writes the "Experiments: A/B against interleaving" section of RESULTS.md
and benchmarks/plots/experiment_power.png.
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
from lmrec.experiments import Experiment, Variant, team_draft  # noqa: E402
from lmrec.service.measure import Traffic, experiment_results  # noqa: E402
from online_sim import top_lists, versions  # noqa: E402

HEADING = "## Experiments: A/B against interleaving"
K = 10
MERGES = 16  # team-draft merges precomputed per user (the coin flips differ per list)


def traffic(users: np.ndarray, arm: np.ndarray, clicks: np.ndarray, a: np.ndarray,
            b: np.ndarray) -> Traffic:  # fmt: skip
    n = len(users)
    return Traffic(np.arange(n), arm, np.zeros(n), np.full(n, float(K)), clicks, a, b)


def power_curve(run, grid: list[int], reps: int, rng: np.random.Generator) -> list[float]:  # type: ignore[no-untyped-def]
    return [float(np.mean([run(n, rng) for _ in range(reps)])) for n in grid]


def n_for(power: list[float], grid: list[int], target: float = 0.8) -> float | None:
    for j in range(1, len(grid)):
        if power[j] >= target > power[j - 1]:
            lo, hi = np.log(grid[j - 1]), np.log(grid[j])
            f = (target - power[j - 1]) / (power[j] - power[j - 1])
            return float(np.exp(lo + f * (hi - lo)))
    return float(grid[0]) if power and power[0] >= target else None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--ml100k", type=Path, default=Path("../shared/data/ml-100k"))
    ap.add_argument("--reps", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--results", type=Path, default=HERE / "RESULTS.md")
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    vs, pop = versions(args.ml100k)
    lists = {name: top_lists(v, pop, K) for name, v in vs.items()}
    n_users = len(pop.users)
    prob = {name: np.array([pop.click_prob(u, lists[name][u]) for u in range(n_users)])
            for name in lists}  # fmt: skip
    il_prob = np.zeros((n_users, MERGES, K))
    il_team = np.zeros((n_users, MERGES, K), dtype=np.int64)
    for u in range(n_users):
        for m in range(MERGES):
            merged, teams = team_draft(list(lists["pop"][u]), list(lists["sequential"][u]), K, rng)
            il_prob[u, m] = pop.click_prob(u, np.array(merged))
            il_team[u, m] = teams
    ab = Experiment("ab", (Variant("pop", "pop"), Variant("sequential", "sequential")))
    il = Experiment("il", ab.variants, kind="interleaving")

    def run_ab(n: int, r: np.random.Generator) -> bool:
        users = r.integers(n_users, size=n)
        arm = (r.random(n) < 0.5).astype(np.int64)
        p = np.where(arm[:, None] == 1, prob["sequential"][users], prob["pop"][users])
        clicks = (r.random((n, K)) < p).sum(axis=1).astype(float)
        zero = np.zeros(n)
        c = experiment_results(ab, traffic(users, arm, clicks, zero, zero), looks=1)
        comp = c["comparisons"][0]
        return comp["p_value"] is not None and comp["p_value"] < 0.05 and comp["lift"]["mean"] > 0

    def run_il(n: int, r: np.random.Generator) -> bool:
        users = r.integers(n_users, size=n)
        m = r.integers(MERGES, size=n)
        hit = r.random((n, K)) < il_prob[users, m]
        team = il_team[users, m]
        a = (hit & (team == 0)).sum(axis=1).astype(float)
        b = (hit & (team == 1)).sum(axis=1).astype(float)
        c = experiment_results(il, traffic(users, np.full(n, -1), a + b, a, b), looks=1)
        pref = c["preference"]
        return pref["p_value"] is not None and pref["p_value"] < 0.05 and \
            pref["preference"]["mean"] > 0.5  # fmt: skip

    start = time.perf_counter()
    grid_ab = [100 * 2**j for j in range(10)]  # 100 .. 51200
    grid_il = [25 * 2**j for j in range(9)]  # 25 .. 6400
    power_ab = power_curve(run_ab, grid_ab, args.reps, rng)
    power_il = power_curve(run_il, grid_il, args.reps, rng)
    wall = time.perf_counter() - start
    n_ab, n_il = n_for(power_ab, grid_ab), n_for(power_il, grid_il)
    true_ctr = {name: float(p.mean()) for name, p in prob.items()}
    share = float(np.mean([(il_prob[u] * (il_team[u] == 1)).sum() / il_prob[u].sum()
                           for u in range(n_users)]))  # fmt: skip
    # one A/B over the whole population, as an operator would run it
    full = []
    for _ in range(1):
        arm = np.array([0 if ab.assign(f"ml-{u}").name == "pop" else 1 for u in range(n_users)])
        p = np.where(arm[:, None] == 1, prob["sequential"], prob["pop"])
        clicks = (rng.random((n_users, K)) < p).sum(axis=1).astype(float)
        zero = np.zeros(n_users)
        full.append(experiment_results(ab, traffic(np.arange(n_users), arm, clicks, zero, zero),
                                       looks=1))  # fmt: skip
    comp = full[0]["comparisons"][0]
    _plot(grid_ab, power_ab, grid_il, power_il)
    ratio = None if n_ab is None or n_il is None else n_ab / n_il
    fmt_n = lambda n: "not reached on the grid" if n is None else f"{n:,.0f}"  # noqa: E731
    lines = [
        HEADING, "",
        f"Date: {dt.date.today().isoformat()}. Machine: {machine()}. {wall:.0f} s for the "
        "power curves (training not counted).",
        f"Command: `.venv/bin/python benchmarks/experiments_power.py {' '.join(sys.argv[1:])}`",
        "",
        f"MovieLens 100K, temporal split; {n_users} simulated users (those with a held-out "
        "rating >= 4; users new to training get both models' cold-start list). Each clicks a "
        "shown item they liked with probability 0.8, any other with 0.01. True CTR@10 of the "
        f"lists: pop {true_ctr['pop']:.4f}, sequential {true_ctr['sequential']:.4f} (lift "
        f"{true_ctr['sequential'] / true_ctr['pop'] - 1:+.1%}); sequential's expected share of "
        f"an interleaving's clicks {share:.3f}.",
        "",
        f"One A/B over all {n_users} users (assigned by the salted hash): lift "
        f"{comp['lift']['mean']:+.1%} [{comp['lift']['ci95'][0]:+.1%}, "
        f"{comp['lift']['ci95'][1]:+.1%}], p = {comp['p_value']:.2g}, sample-ratio p = "
        f"{full[0]['srm_p']:.2f}: {'detected, right sign' if comp['p_value'] < 0.05 and comp['lift']['mean'] > 0 else 'NOT detected'}.",
        "",
        f"Power ({args.reps} experiments per N; p < 0.05 with the right sign):",
        "",
        "| users | A/B power | | users | interleaving power |",
        "|---|---|---|---|---|",
    ]  # fmt: skip
    for j in range(max(len(grid_ab), len(grid_il))):
        left = f"| {grid_ab[j]:,} | {power_ab[j]:.2f} |" if j < len(grid_ab) else "| | |"
        right = f" | {grid_il[j]:,} | {power_il[j]:.2f} |" if j < len(grid_il) else " | | |"
        lines.append(left + right)
    lines += [
        "",
        f"Users for 80% power: A/B {fmt_n(n_ab)}, interleaving {fmt_n(n_il)}"
        + ("" if ratio is None else f": interleaving needs {ratio:.1f}x fewer (target: >= 5x)")
        + ".",
        "",
        "![power against users](plots/experiment_power.png)",
        "",
    ]
    write_section(args.results, HEADING, "\n".join(lines) + "\n")


def _plot(grid_ab: list[int], power_ab: list[float], grid_il: list[int],
          power_il: list[float]) -> None:  # fmt: skip
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 4))
    ax.plot(grid_ab, power_ab, marker="o", label="A/B (CTR lift)")
    ax.plot(grid_il, power_il, marker="s", label="team-draft interleaving")
    ax.axhline(0.8, color="grey", linestyle="--", linewidth=1)
    ax.set_xscale("log")
    ax.set_xlabel("users in the experiment")
    ax.set_ylabel("power (p < 0.05, right sign)")
    ax.set_title("sequential against pop, MovieLens 100K, simulated users")
    ax.legend()
    ax.grid(alpha=0.3)
    (HERE / "plots").mkdir(exist_ok=True)
    fig.savefig(HERE / "plots" / "experiment_power.png", dpi=110, bbox_inches="tight")
    plt.close(fig)


if __name__ == "__main__":
    main()
