"""Metrics of predicted probabilities (click-through rates): AUC, log loss, calibration."""

from __future__ import annotations

import numpy as np
from scipy.stats import rankdata

from lmrec.errors import UsageError

__all__ = ["auc", "expected_calibration_error", "log_loss", "reliability"]


def _check(y: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y, dtype=np.float64).ravel()
    p = np.asarray(p, dtype=np.float64).ravel()
    if y.shape != p.shape:
        raise UsageError(f"labels and predictions differ in length ({len(y)} vs {len(p)})")
    if len(y) and not np.isin(y, (0.0, 1.0)).all():
        raise UsageError("labels must be 0 or 1")
    return y, p


def auc(y: np.ndarray, p: np.ndarray) -> float:
    """Area under the ROC curve: the chance that a random positive scores above a random
    negative (ties count half). NaN when only one class is present."""
    y, p = _check(y, p)
    n_pos = float(y.sum())
    n_neg = len(y) - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = rankdata(p)  # average ranks for ties
    return float((ranks[y == 1].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def log_loss(y: np.ndarray, p: np.ndarray, eps: float = 1e-7) -> float:
    """Mean negative log-likelihood of the labels (probabilities clipped to [eps, 1 - eps])."""
    y, p = _check(y, p)
    p = np.clip(p, eps, 1 - eps)
    return float(-(y * np.log(p) + (1 - y) * np.log(1 - p)).mean())


def reliability(
    y: np.ndarray, p: np.ndarray, n_bins: int = 10
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per equal-width probability bin: mean prediction, observed rate, count (empty bins: NaN)."""
    y, p = _check(y, p)
    bins = np.clip((p * n_bins).astype(np.int64), 0, n_bins - 1)
    counts = np.bincount(bins, minlength=n_bins).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_p = np.bincount(bins, weights=p, minlength=n_bins) / counts
        rate = np.bincount(bins, weights=y, minlength=n_bins) / counts
    return mean_p, rate, counts


def expected_calibration_error(y: np.ndarray, p: np.ndarray, n_bins: int = 10) -> float:
    """ECE: the count-weighted mean gap |observed rate - mean prediction| over equal-width bins."""
    mean_p, rate, counts = reliability(y, p, n_bins)
    used = counts > 0
    if not used.any():
        return float("nan")
    return float((counts[used] * np.abs(rate[used] - mean_p[used])).sum() / counts.sum())
