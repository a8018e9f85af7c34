"""Mapping a CTR model's log-odds to probabilities that match observed click rates.

Each method fits ``sigmoid(a * logit + b)`` on held-out rows by maximum likelihood: ``platt``
fits ``a`` and ``b``, ``temperature`` only ``a`` (keeping the click rate the model learned from
all its training rows), ``none`` keeps ``a = 1, b = 0``. ``auto`` chooses among the three on the
held-out rows themselves: each is fitted on their earlier half and scored (log loss) on their
later half, so a calibrator that does not carry over to later events is not used. A more
flexible method replaces a simpler one only when its later-half gain is clear: the mean of the
per-row log-loss differences at least ``Z_GAIN`` standard errors above zero. A gain within
noise says nothing about the events after the held-out rows, and rescaling on it can only add
the held-out period's quirks. The winner is then fitted on all the held-out rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from lmrec.errors import UsageError

__all__ = ["METHODS", "Calibration", "fit_calibration"]

Method = Literal["auto", "none", "temperature", "platt"]
METHODS: tuple[str, ...] = ("auto", "none", "temperature", "platt")
#: what ``auto`` chooses from, simplest first
CANDIDATES: tuple[Literal["none", "temperature", "platt"], ...] = ("none", "temperature", "platt")
#: standard errors by which a method's later-half gain must exceed zero to replace a simpler one
Z_GAIN = 2.0


@dataclass(frozen=True)
class Calibration:
    """The fitted ``(a, b)``, the method they came from and, for ``auto``, the later-half log
    loss of each candidate (``check``) and, for each method that was weighed against a simpler
    one, its gain over that one in standard errors (``gain_z``)."""

    weights: np.ndarray
    method: str
    check: dict[str, float] = field(default_factory=dict)
    gain_z: dict[str, float] = field(default_factory=dict)


def fit_calibration(logits: np.ndarray, labels: np.ndarray, method: str = "auto") -> Calibration:
    """Fit ``method`` on held-out rows given in time order (earliest first)."""
    if method not in METHODS:
        raise UsageError(f"calibration must be one of {', '.join(METHODS)}, not {method!r}")
    z = np.asarray(logits, dtype=np.float64)
    t = np.asarray(labels, dtype=np.float64)
    if len(z) != len(t):
        raise UsageError(f"{len(z)} logits but {len(t)} labels")
    if method != "auto":
        return Calibration(_fit(z, t, method), method)
    half = len(z) // 2
    if min(half, len(z) - half) < 10:
        raise UsageError(f"{len(z)} held-out rows are too few to choose a calibration")
    rows: dict[str, np.ndarray] = {
        m: _row_losses(z[half:], t[half:], _fit(z[:half], t[:half], m)) for m in CANDIDATES
    }
    best: str = CANDIDATES[0]
    gain_z: dict[str, float] = {}
    for m in CANDIDATES[1:]:
        gain_z[m] = _z(rows[best] - rows[m])
        if gain_z[m] >= Z_GAIN:
            best = m
    check = {m: float(r.mean()) for m, r in rows.items()}
    return Calibration(_fit(z, t, best), best, check, gain_z)


def _z(diff: np.ndarray) -> float:
    """The mean of ``diff`` in standard errors (0 when the differences do not vary)."""
    sd = float(diff.std(ddof=1))
    return 0.0 if sd == 0.0 else float(diff.mean()) / (sd / np.sqrt(len(diff)))


def _row_losses(z: np.ndarray, t: np.ndarray, w: np.ndarray) -> np.ndarray:
    s = w[0] * z + w[1]
    return np.asarray(np.logaddexp(0.0, s) - t * s)


def _log_loss(z: np.ndarray, t: np.ndarray, w: np.ndarray) -> float:
    return float(_row_losses(z, t, w).mean())


def _fit(z: np.ndarray, t: np.ndarray, method: str) -> np.ndarray:
    if method == "none" or len(z) == 0:
        return np.array([1.0, 0.0])
    from scipy.optimize import minimize

    free = np.array([1.0, 1.0 if method == "platt" else 0.0])

    def nll(w: np.ndarray) -> tuple[float, np.ndarray]:
        s = w[0] * z + w[1] * free[1]
        g = 1.0 / (1.0 + np.exp(-np.clip(s, -40, 40))) - t
        return _log_loss(z, t, w * free), np.array([(g * z).mean(), g.mean()]) * free

    w = minimize(nll, np.array([1.0, 0.0]), jac=True, method="L-BFGS-B").x
    return np.asarray(w * free, dtype=np.float64)
