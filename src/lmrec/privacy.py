"""Differential privacy: the Gaussian mechanism, calibrated exactly.

A mechanism is (epsilon, delta)-differentially private when adding or removing one person's
data changes the probability of any outcome by at most a factor ``e^epsilon``, except with
probability ``delta``. The Gaussian mechanism adds ``N(0, sigma^2)`` noise to each
coordinate of a statistic whose L2 change from one person is at most ``sensitivity``;
:func:`gaussian_sigma` gives the least ``sigma`` that makes it (epsilon, delta)-private, from
its exact privacy profile (Balle and Wang, "Improving the Gaussian Mechanism for Differential
Privacy", ICML 2018, Theorem 8), valid for every epsilon > 0.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from scipy.special import log_ndtr
from scipy.stats import norm

from lmrec.errors import UsageError

__all__ = ["PrivacyBudget", "gaussian_delta", "gaussian_sigma"]


@dataclass(frozen=True)
class PrivacyBudget:
    """What a private model guarantees, recorded with it."""

    epsilon: float
    delta: float
    mechanism: str
    sigma: float
    sensitivity: float
    unit: str  # whose data the guarantee protects: one user's interactions
    covers: str  # which released statistic the guarantee is about

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def gaussian_delta(epsilon: float, sigma: float, sensitivity: float = 1.0) -> float:
    """The least delta for which ``N(0, sigma^2)`` noise on a statistic of L2 sensitivity
    ``sensitivity`` is (epsilon, delta)-private."""
    a = sensitivity / (2.0 * sigma)
    b = epsilon * sigma / sensitivity
    # Phi(a - b) - e^eps Phi(-a - b), the second term in log space so large epsilon stays finite
    second = math.exp(epsilon + float(log_ndtr(-a - b)))
    return max(0.0, float(norm.cdf(a - b)) - second)


def gaussian_sigma(epsilon: float, delta: float, sensitivity: float = 1.0) -> float:
    """The least noise scale that makes the Gaussian mechanism (epsilon, delta)-private
    (found by bisection to a relative precision of 1e-9)."""
    if not (epsilon > 0 and math.isfinite(epsilon)):
        raise UsageError(f"epsilon must be a positive number, not {epsilon}")
    if not 0 < delta < 1:
        raise UsageError(f"delta must be between 0 and 1, not {delta}")
    if not sensitivity > 0:
        raise UsageError(f"sensitivity must be positive, not {sensitivity}")
    lo, hi = 1e-6 * sensitivity, sensitivity
    while gaussian_delta(epsilon, hi, sensitivity) > delta:
        hi *= 2.0
    while (hi - lo) > 1e-9 * hi:
        mid = 0.5 * (lo + hi)
        if gaussian_delta(epsilon, mid, sensitivity) > delta:
            lo = mid
        else:
            hi = mid
    return hi
