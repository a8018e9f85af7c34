"""The statistics of experiments against hand-computed cases and independent
implementations (bootstrap over users, scipy), and their calibration on simulated A/A tests."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from lmrec.experiments import (
    Estimate,
    Experiment,
    Variant,
    always_valid_p,
    compare,
    explore,
    msprt_p,
    preference,
    ratio,
    snips,
    srm_p,
    team_draft,
)
from lmrec.experiments.interleave import credit
from lmrec.experiments.offpolicy import propensities


def test_ratio_by_hand() -> None:
    # r = 3/25; residuals -0.2, 0.8, -0.6; var = 1.04 / 2 / 3 / (25/3)^2
    e = ratio([1, 2, 0], [10, 10, 5])
    assert e.mean == pytest.approx(0.12)
    assert e.se == pytest.approx(math.sqrt(1.04 / 2 / 3 / (25 / 3) ** 2))
    assert math.isnan(ratio([], []).mean)
    assert ratio([1], [0]).to_dict() == {"mean": None, "ci95": None}


def test_ratio_standard_error_agrees_with_a_bootstrap_over_users() -> None:
    rng = np.random.default_rng(0)
    shown = rng.geometric(0.1, size=3000).astype(float)
    ctr = rng.beta(1, 15, size=3000)
    clicks = rng.binomial(shown.astype(int), ctr).astype(float)
    e = ratio(clicks, shown)
    idx = rng.integers(0, 3000, size=(2000, 3000))
    boot = clicks[idx].sum(axis=1) / shown[idx].sum(axis=1)
    assert e.se == pytest.approx(boot.std(), rel=0.08)


def test_compare_by_hand() -> None:
    c = compare(Estimate(0.1, 0.01), Estimate(0.12, 0.012))
    se = math.sqrt(0.01 + 0.01)  # (0.01/0.1)^2 + (0.012/0.12)^2 on the log scale
    assert c.lift.mean == pytest.approx(0.2)
    assert c.lift.ci95[0] == pytest.approx(math.exp(math.log(1.2) - 1.959964 * se) - 1)
    assert c.lift.ci95[1] == pytest.approx(math.exp(math.log(1.2) + 1.959964 * se) - 1)
    assert c.p_value == pytest.approx(2 * stats.norm.sf(math.log(1.2) / se))
    assert math.isnan(compare(Estimate(0.0, 0.01), Estimate(0.1, 0.01)).p_value)


def test_srm_p_is_the_chi_square_test() -> None:
    assert srm_p([600, 400], [0.5, 0.5]) == pytest.approx(stats.chisquare([600, 400]).pvalue)
    assert srm_p([700, 300], [0.7, 0.3]) == pytest.approx(1.0)
    assert srm_p([0, 0], [0.5, 0.5]) == 1.0


def test_msprt_by_hand() -> None:
    assert msprt_p(0.0, 1.0, 1.0) == 1.0  # 1 / sqrt(1/2) > 1
    # log LR = 0.5 ln(1/2) + 9 / (2 * 1 * 2)
    assert msprt_p(3.0, 1.0, 1.0) == pytest.approx(math.exp(-(0.5 * math.log(0.5) + 2.25)))
    assert always_valid_p([3.0, 0.0, 1.0], [1.0, 1.0, 1.0], 1.0) == msprt_p(3.0, 1.0, 1.0)
    assert msprt_p(float("nan"), 1.0, 1.0) == 1.0


def test_always_valid_p_keeps_false_positives_down_under_repeated_looks() -> None:
    """120 A/A tests, each looked at 20 times: stopping at the first fixed-horizon p < 0.05
    rejects far more often than 5%; the always-valid p-value at most about 5%."""
    rng = np.random.default_rng(1)
    naive = valid = 0
    runs = 120
    for _ in range(runs):
        ctr = rng.beta(2, 30, size=4000)
        shown = rng.poisson(8, size=4000).astype(float) + 1
        clicks = rng.binomial(shown.astype(int), ctr).astype(float)
        arm = rng.random(4000) < 0.5
        ps, thetas, variances = [], [], []
        for n in np.linspace(400, 4000, 20).astype(int):
            a = ratio(clicks[:n][~arm[:n]], shown[:n][~arm[:n]])
            b = ratio(clicks[:n][arm[:n]], shown[:n][arm[:n]])
            c = compare(a, b)
            ps.append(c.p_value)
            thetas.append(c.log_lift)
            variances.append(c.log_var)
        naive += min(ps) < 0.05
        valid += always_valid_p(thetas, variances, 0.1) < 0.05
    assert naive / runs > 0.12  # peeking inflates the fixed-horizon test
    assert valid / runs <= 0.06


def test_assignment_is_sticky_salted_and_follows_the_shares() -> None:
    exp = Experiment("e", (Variant("a", "v1", share=0.2), Variant("b", "v2", share=0.8)))
    users = [f"user-{n}" for n in range(20000)]
    arms = [exp.assign(u).name for u in users]
    assert arms == [exp.assign(u).name for u in users]  # the same every time
    assert np.mean([a == "a" for a in arms]) == pytest.approx(0.2, abs=0.01)
    other = Experiment("e", exp.variants)  # another salt: another split
    assert np.mean([other.assign(u).name == a for u, a in zip(users, arms, strict=True)]) < 0.8
    again = Experiment.from_json(exp.to_json())
    assert [again.assign(u).name for u in users[:100]] == arms[:100]


def test_team_draft_alternates_and_keeps_each_sides_order() -> None:
    rng = np.random.default_rng(0)
    a, b = list("abcdefgh"), list("bdfhaceg")
    for _ in range(50):
        merged, teams = team_draft(a, b, 6, rng)
        assert len(merged) == len(set(merged)) == 6
        assert abs(teams.count(0) - teams.count(1)) <= 1
        for side, ranked in ((0, a), (1, b)):
            picked = [i for i, t in zip(merged, teams, strict=True) if t == side]
            assert picked == sorted(picked, key=ranked.index)  # in that side's order
    # identical lists: the clicks split evenly between the sides in expectation
    wins = np.array([credit(team_draft(a, a, 4, rng)[1], [0]) for _ in range(4000)])
    assert wins[:, 1].mean() == pytest.approx(0.5, abs=0.03)
    assert team_draft(["x"], ["y"], 5, rng)[0] in (["x", "y"], ["y", "x"])


def test_preference_by_hand() -> None:
    share, p = preference(np.array([1, 0, 2]), np.array([3, 1, 2]))
    assert share.mean == pytest.approx(6 / 9)
    assert 0 < p < 1


def test_exploration_shows_each_item_with_its_recorded_propensity() -> None:
    rng = np.random.default_rng(3)
    m, k, eps = 12, 4, 0.3
    counts = np.zeros(m)
    for _ in range(20000):
        chosen, prop, _ = explore(m, k, eps, rng)
        assert np.all(np.diff(chosen) > 0)
        assert prop == pytest.approx(propensities(m, k, eps)[chosen])
        counts[chosen] += 1
    assert counts / 20000 == pytest.approx(propensities(m, k, eps), abs=0.015)
    assert propensities(m, k, eps).sum() == pytest.approx(k)


def test_snips_recovers_another_rankers_ctr_from_explored_logs() -> None:
    """Users click items with a known probability; a logging ranker explores; SNIPS of a
    different ranker's list lands near that list's true CTR, within its interval."""
    rng = np.random.default_rng(5)
    n_users, m, k, eps = 3000, 20, 5, 0.5
    p_click = rng.beta(1, 6, size=(n_users, m))
    target = np.argsort(-p_click, axis=1)[:, :k]  # the candidate ranks by the truth
    truth = np.take_along_axis(p_click, target, axis=1).mean()
    clicks, weights, users = [], [], []
    for u in range(n_users):
        chosen, prop, _ = explore(m, k, eps, rng)  # the logging ranker's pool is 0..m-1
        mine = set(target[u].tolist())
        for j, p in zip(chosen, prop, strict=True):
            if j in mine:
                clicks.append(float(rng.random() < p_click[u, j]))
                weights.append(1 / p)
                users.append(u)
    est, ess = snips(np.array(clicks), np.array(weights), np.array(users))
    lo, hi = est.ci95
    assert lo <= truth <= hi
    assert 0 < ess <= len(clicks)
