"""Uncertainty: bootstrap confidence intervals over users and a paired comparison of two models."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy import stats

__all__ = ["bootstrap_ci", "bootstrap_statistic_ci", "paired_test", "relative_change_ci"]


def bootstrap_ci(
    values: np.ndarray, *, n_boot: int = 1000, seed: int = 0, level: float = 0.95
) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean, resampling users with replacement."""
    v = np.asarray(values, dtype=np.float64)
    if len(v) == 0:
        return (float("nan"), float("nan"))
    rng = np.random.default_rng(seed)
    means = np.empty(n_boot)
    for start in range(0, n_boot, 100):  # bounded memory for large user counts
        stop = min(n_boot, start + 100)
        idx = rng.integers(0, len(v), size=(stop - start, len(v)))
        means[start:stop] = v[idx].mean(axis=1)
    alpha = (1 - level) / 2
    lo, hi = np.quantile(means, [alpha, 1 - alpha])
    return float(lo), float(hi)


def bootstrap_statistic_ci(
    n: int,
    statistic: Callable[[np.ndarray], float],
    *,
    n_boot: int = 200,
    seed: int = 0,
    level: float = 0.95,
) -> tuple[float, float]:
    """Bootstrap interval of a statistic of a set of users (``statistic(indices)``).

    Catalog-level statistics such as coverage are biased under resampling with replacement (a
    resample holds only ~63% distinct users, so it covers fewer items). The percentile interval
    is therefore shifted by the bootstrap bias, ``statistic(all) - mean(resampled)``, so that it
    is centred where the full-sample value is.
    """
    if n == 0:
        return (float("nan"), float("nan"))
    rng = np.random.default_rng(seed)
    vals = np.array([statistic(rng.integers(0, n, n)) for _ in range(n_boot)])
    shift = statistic(np.arange(n)) - float(vals.mean())
    alpha = (1 - level) / 2
    lo, hi = np.quantile(vals, [alpha, 1 - alpha]) + shift
    return float(lo), float(hi)


def relative_change_ci(
    after: np.ndarray, before: np.ndarray, *, n_boot: int = 200, seed: int = 0
) -> tuple[float, float, float] | None:
    """``mean(after) / mean(before) - 1`` over the same users (e.g. NDCG with and without
    re-ranking), with its paired bootstrap 95% interval: ``(change, low, high)``; None when
    ``before`` is all zero."""
    a = np.asarray(after, dtype=np.float64)
    b = np.asarray(before, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError("relative_change_ci needs per-user values for the same users")
    if not b.sum() > 0:
        return None

    def change(idx: np.ndarray) -> float:
        base = b[idx].sum()
        return float(a[idx].sum() / base - 1) if base > 0 else 0.0

    lo, hi = bootstrap_statistic_ci(len(a), change, n_boot=n_boot, seed=seed)
    return change(np.arange(len(a))), lo, hi


def paired_test(
    a: np.ndarray, b: np.ndarray, *, n_boot: int = 2000, seed: int = 0
) -> dict[str, float | list[float]]:
    """Compare two models on the same users: mean difference ``a - b`` with a bootstrap 95% CI,
    a two-sided paired bootstrap p-value, and the paired t-test p-value."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError("paired_test needs per-user values for the same users")
    diff = a - b
    lo, hi = bootstrap_ci(diff, n_boot=n_boot, seed=seed)
    rng = np.random.default_rng(seed + 1)
    centred = diff - diff.mean()
    idx = rng.integers(0, len(diff), size=(n_boot, len(diff)))
    null_means = centred[idx].mean(axis=1)
    p_boot = float((np.abs(null_means) >= abs(diff.mean())).mean())
    if np.allclose(diff, diff[0]):
        p_t = 1.0 if diff[0] == 0 else 0.0
    else:
        p_t = float(stats.ttest_rel(a, b).pvalue)
    return {"diff": float(diff.mean()), "ci95": [lo, hi], "p_value": p_boot, "t_test_p": p_t}
