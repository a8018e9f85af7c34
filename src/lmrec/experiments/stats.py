"""The statistics of online experiments, computed over users (never over impressions: one
user's impressions are not independent of each other).

- :func:`ratio`: a ratio metric such as CTR (clicks over impressions, summed per user) with
  its delta-method standard error over users;
- :func:`compare`: relative lift of a variant against the control, its 95% interval, a
  fixed-horizon p-value and an always-valid one;
- :func:`srm_p`: the sample-ratio mismatch test of the assignment;
- :func:`msprt_p` / :func:`always_valid_p`: the mixture sequential probability ratio test
  (Johari et al., "Always valid inference", 2017), valid however often it is looked at;
- :func:`preference`: an interleaving's share of credited clicks won by one side.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

__all__ = [
    "TAU_LIFT",
    "TAU_PREFERENCE",
    "Comparison",
    "Estimate",
    "always_valid_p",
    "compare",
    "msprt_p",
    "preference",
    "ratio",
    "srm_p",
]

#: the mixture's spread for the log of a lift: effects of about 10% are the ones looked for
TAU_LIFT = 0.1
#: the mixture's spread for an interleaving preference share around 0.5
TAU_PREFERENCE = 0.05
_Z = float(stats.norm.ppf(0.975))


def _num(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


@dataclass(frozen=True)
class Estimate:
    """A mean with its standard error and 95% interval (symmetric unless given)."""

    mean: float
    se: float
    interval: tuple[float, float] | None = None

    @property
    def ci95(self) -> tuple[float, float]:
        if self.interval is not None:
            return self.interval
        return (self.mean - _Z * self.se, self.mean + _Z * self.se)

    def to_dict(self) -> dict[str, Any]:
        lo, hi = self.ci95
        mean = _num(self.mean)
        return {"mean": mean, "ci95": None if mean is None else [_num(lo), _num(hi)]}


def ratio(num: Sequence[float] | np.ndarray, den: Sequence[float] | np.ndarray) -> Estimate:
    """``sum(num) / sum(den)`` over users with the delta-method standard error: users are the
    independent units, each with their own ``num`` (clicks) and ``den`` (impressions)."""
    y = np.asarray(num, dtype=np.float64)
    x = np.asarray(den, dtype=np.float64)
    n = len(x)
    total = x.sum()
    if n == 0 or total <= 0:
        return Estimate(float("nan"), float("nan"))
    r = float(y.sum() / total)
    if n < 2:
        return Estimate(r, float("nan"))
    resid = y - r * x
    var = float((resid**2).sum() / (n - 1) / n / (total / n) ** 2)
    return Estimate(r, math.sqrt(var))


@dataclass(frozen=True)
class Comparison:
    """A variant against the control: ``lift`` is ``ctr_variant / ctr_control - 1``."""

    lift: Estimate
    p_value: float
    log_lift: float
    log_var: float

    def to_dict(self, always_valid: float | None = None) -> dict[str, Any]:
        return {
            "lift": self.lift.to_dict(),
            "p_value": _num(self.p_value),
            "always_valid_p": None if always_valid is None else _num(always_valid),
        }


def compare(control: Estimate, variant: Estimate) -> Comparison:
    """Relative lift of two ratio estimates of disjoint (so independent) groups of users. The
    test and the interval are on the log of the ratio (delta method), where the estimate is
    closer to normal: the interval is ``exp(log lift +- 1.96 se) - 1`` and the p-value is that
    of the two-sided z-test of no change."""
    a, b = control, variant
    nan = float("nan")
    ok = a.mean > 0 and b.mean > 0 and math.isfinite(a.se) and math.isfinite(b.se)
    if not ok:
        return Comparison(Estimate(nan, nan), nan, nan, nan)
    rel = b.mean / a.mean
    log_lift = math.log(rel)
    log_var = a.se**2 / a.mean**2 + b.se**2 / b.mean**2
    se = math.sqrt(log_var)
    interval = (math.exp(log_lift - _Z * se) - 1.0, math.exp(log_lift + _Z * se) - 1.0)
    lift = Estimate(rel - 1.0, rel * se, interval)
    p = 2.0 * float(stats.norm.sf(abs(log_lift) / se)) if se > 0 else nan
    return Comparison(lift, p, log_lift, log_var)


def srm_p(counts: Sequence[int], shares: Sequence[float]) -> float:
    """Sample-ratio mismatch: the chi-square p-value of the users seen per variant against the
    shares they were assigned with (small: the assignment or the logging is broken)."""
    n = np.asarray(counts, dtype=np.float64)
    s = np.asarray(shares, dtype=np.float64)
    if n.sum() <= 0 or len(n) < 2:
        return 1.0
    return float(stats.chisquare(n, f_exp=n.sum() * s / s.sum()).pvalue)


def msprt_p(theta: float, var: float, tau: float) -> float:
    """One look of the mixture SPRT of ``theta = 0`` for an estimate ``theta`` with variance
    ``var`` and a normal mixture of spread ``tau``: ``min(1, 1 / likelihood ratio)``."""
    if not (math.isfinite(theta) and math.isfinite(var) and var > 0):
        return 1.0
    t2 = tau * tau
    log_lr = 0.5 * math.log(var / (var + t2)) + t2 * theta * theta / (2.0 * var * (var + t2))
    return float(min(1.0, math.exp(-log_lr)))


def always_valid_p(thetas: Sequence[float], variances: Sequence[float], tau: float) -> float:
    """The always-valid p-value after a sequence of looks (cumulative data at each): the
    smallest :func:`msprt_p` so far. Stopping at the first look below 0.05 keeps the false
    positive rate at most 5%, however many looks there are."""
    p = 1.0
    for theta, var in zip(thetas, variances, strict=True):
        p = min(p, msprt_p(theta, var, tau))
    return p


def preference(a_credit: np.ndarray, b_credit: np.ndarray) -> tuple[Estimate, float]:
    """An interleaving's preference for side B: the share of credited clicks that went to B's
    items (over users, delta method) and the two-sided p-value of no preference (0.5)."""
    a = np.asarray(a_credit, dtype=np.float64)
    b = np.asarray(b_credit, dtype=np.float64)
    share = ratio(b, a + b)
    if not (math.isfinite(share.se) and share.se > 0):
        return share, float("nan")
    return share, 2.0 * float(stats.norm.sf(abs(share.mean - 0.5) / share.se))
