from __future__ import annotations

import numpy as np
import pytest

from lmrec import metrics as M


def test_bootstrap_ci_of_constant_is_a_point() -> None:
    lo, hi = M.bootstrap_ci(np.full(50, 0.3))
    assert np.isclose(lo, 0.3)
    assert np.isclose(hi, 0.3)


def test_bootstrap_ci_covers_mean_and_narrows_with_n() -> None:
    rng = np.random.default_rng(0)
    small = rng.binomial(1, 0.2, 100).astype(float)
    large = rng.binomial(1, 0.2, 10_000).astype(float)
    lo_s, hi_s = M.bootstrap_ci(small, seed=1)
    lo_l, hi_l = M.bootstrap_ci(large, seed=1)
    assert lo_s <= small.mean() <= hi_s
    assert lo_l <= large.mean() <= hi_l
    assert hi_l - lo_l < (hi_s - lo_s) / 5
    # normal approximation: half-width ~ 1.96 * sqrt(p(1-p)/n) = 0.0078 for n = 10,000
    assert abs((hi_l - lo_l) / 2 - 1.96 * np.sqrt(0.16 / 10_000)) < 0.002


def test_statistic_ci_is_centred_on_full_sample_value() -> None:
    recs = np.arange(200).reshape(100, 2) % 37
    full = M.coverage(recs, 40)
    lo, hi = M.bootstrap_statistic_ci(100, lambda idx: M.coverage(recs[idx], 40), seed=0)
    assert lo <= full <= hi


def test_paired_test() -> None:
    rng = np.random.default_rng(0)
    a = rng.binomial(1, 0.3, 2000).astype(float)
    same = M.paired_test(a, a.copy())
    assert same["diff"] == 0
    assert same["p_value"] == 1.0
    assert same["t_test_p"] == 1.0
    b = a * rng.binomial(1, 0.5, 2000)  # b loses half of a's hits
    res = M.paired_test(a, b)
    assert res["diff"] > 0.1
    assert res["p_value"] < 0.01
    assert res["t_test_p"] < 0.01
    lo, hi = res["ci95"]
    assert lo <= res["diff"] <= hi


def test_relative_change_ci_pairs_users() -> None:
    before = np.array([1.0, 1.0, 0.5, 0.5])
    after = np.array([1.0, 0.0, 0.5, 0.5])  # one user loses a hit: 2 / 3 - 1
    change, lo, hi = M.relative_change_ci(after, before, seed=0) or (0.0, 0.0, 0.0)
    assert change == pytest.approx(-1 / 3)
    assert lo < change < hi <= 0.0  # no resample can gain
    # a common shift of every user is not noise: the interval of a uniform 10% loss is a point
    rng = np.random.default_rng(0)
    base = rng.uniform(0.5, 1.0, 500)
    same = M.relative_change_ci(0.9 * base, base, seed=0)
    assert same is not None
    np.testing.assert_allclose(same, [-0.1, -0.1, -0.1], atol=1e-12)
    assert M.relative_change_ci(after, np.zeros(4)) is None
    with pytest.raises(ValueError, match="same users"):
        M.relative_change_ci(after, before[:3])
