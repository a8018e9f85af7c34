"""How many users an experiment needs: an A/B test of `sequential` against `pop` on MovieLens
100K (temporal split, simulated users, see online_sim.py) against a team-draft interleaving of
the same two, both analysed by the service's own code (lmrec.service.measure).

    .venv/bin/python benchmarks/experiments_power.py [--reps 200]

Each simulated user has a session of 5 lists of 10, as `lmrec simulate --url` plays it against
the service: before each list, the clicks so far are the user's fresh events and what was
shown is left out (A/B: the lists of their arm's model; interleaving: both models' lists merged
by team draft). Sessions are precomputed (16 per user and arm, clicks drawn at random) and
drawn with replacement for each experiment. Power at N users is the share of `--reps` experiments
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
from lmrec.online import Request, UserState, recommend  # noqa: E402
from lmrec.service.measure import Traffic, experiment_results  # noqa: E402
from online_sim import Population, versions  # noqa: E402

HEADING = "## Experiments: A/B against interleaving"
K = 10
ROUNDS = 5
SESSIONS = 16  # sessions precomputed per user and arm
FULL_AB = 6400  # people in the one A/B test reported in full


def traffic(clicks: np.ndarray, arm: np.ndarray, a: np.ndarray, b: np.ndarray) -> Traffic:
    n = len(clicks)
    return Traffic(np.arange(n), arm, np.zeros(n), np.full(n, float(K * ROUNDS)), clicks, a, b)


def session(vs: dict, pop: Population, u: int, arm: str, rng: np.random.Generator  # type: ignore[type-arg]
            ) -> tuple[float, float, float]:  # fmt: skip
    """One session of user ``u``: (clicks, clicks credited to pop, to sequential); ``arm`` is
    a model name or ``interleaving``."""
    user = int(pop.users[u])
    fresh: list[int] = []
    shown: set[str] = set()
    total = credit_a = credit_b = 0.0
    request = Request(None, K, explain=False)
    for _ in range(ROUNDS):
        state = UserState(user, tuple(fresh), blocked=frozenset(shown))
        names = ["pop", "sequential"] if arm == "interleaving" else [arm]
        lists = [[i["item_id"] for i in recommend(vs[n], request, state)["items"]] for n in names]
        if arm == "interleaving":
            items, teams = team_draft(lists[0], lists[1], K, rng)
        else:
            items, teams = lists[0], [0] * len(lists[0])
        idx = vs["pop"].artifacts.item_vocab.indices(items)
        hit = rng.random(len(idx)) < pop.click_prob(u, idx)
        shown.update(items)
        fresh.extend(int(i) for i in idx[hit])
        total += float(hit.sum())
        credit_a += float(sum(h for h, t in zip(hit, teams, strict=True) if t == 0))
        credit_b += float(sum(h for h, t in zip(hit, teams, strict=True) if t == 1))
    return total, credit_a, credit_b


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
    n_users = len(pop.users)
    started = time.perf_counter()
    sessions = {arm: np.array([[session(vs, pop, u, arm, rng) for _ in range(SESSIONS)]
                               for u in range(n_users)])
                for arm in ("pop", "sequential", "interleaving")}  # fmt: skip
    sim_s = time.perf_counter() - started
    ab = Experiment("ab", (Variant("pop", "pop"), Variant("sequential", "sequential")))
    il = Experiment("il", ab.variants, kind="interleaving")

    def draw(n: int, r: np.random.Generator, arm: str) -> np.ndarray:
        return sessions[arm][r.integers(n_users, size=n), r.integers(SESSIONS, size=n)]

    def run_ab(n: int, r: np.random.Generator) -> bool:
        arm = (r.random(n) < 0.5).astype(np.int64)
        clicks = np.where(arm == 1, draw(n, r, "sequential")[:, 0], draw(n, r, "pop")[:, 0])
        zero = np.zeros(n)
        c = experiment_results(ab, traffic(clicks, arm, zero, zero), looks=1)
        comp = c["comparisons"][0]
        return comp["p_value"] is not None and comp["p_value"] < 0.05 and comp["lift"]["mean"] > 0

    def run_il(n: int, r: np.random.Generator) -> bool:
        s = draw(n, r, "interleaving")
        c = experiment_results(il, traffic(s[:, 0], np.full(n, -1), s[:, 1], s[:, 2]), looks=1)
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
    per_list = K * ROUNDS
    true_ctr = {
        arm: float(sessions[arm][:, :, 0].mean() / per_list) for arm in ("pop", "sequential")
    }
    il_all = sessions["interleaving"]
    share = float(il_all[:, :, 2].sum() / (il_all[:, :, 1] + il_all[:, :, 2]).sum())
    # one A/B as an operator would run it: FULL_AB people (the simulated users drawn with
    # replacement), assigned by the experiment's salted hash of their ids
    arm = np.array([0 if ab.assign(f"person-{j}").name == "pop" else 1 for j in range(FULL_AB)])
    who = rng.integers(n_users, size=FULL_AB)
    pick = rng.integers(SESSIONS, size=FULL_AB)
    clicks = np.where(arm == 1, sessions["sequential"][who, pick, 0],
                      sessions["pop"][who, pick, 0])  # fmt: skip
    zero = np.zeros(FULL_AB)
    full = [experiment_results(ab, traffic(clicks, arm, zero, zero), looks=1)]
    comp = full[0]["comparisons"][0]
    _plot(grid_ab, power_ab, grid_il, power_il)
    ratio = None if n_ab is None or n_il is None else n_ab / n_il
    fmt_n = lambda n: "not reached on the grid" if n is None else f"{n:,.0f}"  # noqa: E731
    lines = [
        HEADING, "",
        f"Date: {dt.date.today().isoformat()}. Machine: {machine()}. {sim_s:.0f} s for the "
        f"sessions, {wall:.0f} s for the power curves (training not counted).",
        f"Command: `.venv/bin/python benchmarks/experiments_power.py {' '.join(sys.argv[1:])}`",
        "",
        f"MovieLens 100K, temporal split; {n_users} simulated users (those with a held-out "
        "rating >= 4; users new to training get both models' cold-start list). Each clicks a "
        f"shown item they liked with probability 0.8, any other with 0.01; sessions of {ROUNDS} "
        f"lists of {K}, real time. CTR of the sessions: pop {true_ctr['pop']:.4f}, sequential {true_ctr['sequential']:.4f} (lift "
        f"{true_ctr['sequential'] / true_ctr['pop'] - 1:+.1%}); sequential's share of "
        f"an interleaving's clicks {share:.3f}.",
        "",
        f"One A/B test of {FULL_AB:,} people (the simulated users drawn with replacement, "
        "assigned by the salted hash of their ids), as `GET /v1/experiments/{name}` reports it: lift "
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
