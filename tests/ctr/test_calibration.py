"""Choosing and fitting the mapping from a CTR model's log-odds to probabilities."""

from __future__ import annotations

import numpy as np
import pytest

from lmrec.ctr.calibration import fit_calibration
from lmrec.errors import UsageError


def _clicks(z: np.ndarray, a: float, b: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (rng.random(len(z)) < 1.0 / (1.0 + np.exp(-(a * z + b)))).astype(np.float64)


def test_temperature_recovers_the_slope_and_keeps_zero_intercept() -> None:
    z = np.random.default_rng(1).normal(0.0, 2.0, 40_000)
    fitted = fit_calibration(z, _clicks(z, 0.5, 0.0), "temperature")
    assert fitted.weights[1] == 0.0
    assert fitted.weights[0] == pytest.approx(0.5, abs=0.03)


def test_platt_recovers_slope_and_intercept() -> None:
    z = np.random.default_rng(2).normal(0.0, 2.0, 40_000)
    a, b = fit_calibration(z, _clicks(z, 1.5, -1.0), "platt").weights
    assert a == pytest.approx(1.5, abs=0.06)
    assert b == pytest.approx(-1.0, abs=0.06)


def test_auto_keeps_scores_that_are_already_calibrated() -> None:
    z = np.random.default_rng(3).normal(0.0, 1.5, 20_000)
    fitted = fit_calibration(z, _clicks(z, 1.0, 0.0), "auto")
    assert fitted.method == "none"
    assert list(fitted.weights) == [1.0, 0.0]
    assert set(fitted.check) == {"none", "temperature", "platt"}


def test_auto_rescales_overconfident_scores() -> None:
    z = np.random.default_rng(4).normal(0.0, 3.0, 20_000)
    fitted = fit_calibration(z, _clicks(z, 0.4, 0.0), "auto")
    assert fitted.method in ("temperature", "platt")
    assert fitted.weights[0] == pytest.approx(0.4, abs=0.05)
    assert fitted.check[fitted.method] < fitted.check["none"]


def test_auto_does_not_use_a_rate_that_changed_between_the_halves() -> None:
    """The earlier half clicks more than the model says, the later half as it says: a
    calibrator fitted on the earlier half would mislead on the later one, so none is used."""
    z = np.random.default_rng(5).normal(0.0, 1.0, 20_000)
    y = np.concatenate([_clicks(z[:10_000], 1.0, 1.0), _clicks(z[10_000:], 1.0, 0.0)])
    assert fit_calibration(z, y, "auto").method == "none"


def test_bad_calls_are_usage_errors() -> None:
    with pytest.raises(UsageError, match="one of auto, none, temperature, platt"):
        fit_calibration(np.zeros(100), np.zeros(100), "isotonic")
    with pytest.raises(UsageError, match="3 logits but 2 labels"):
        fit_calibration(np.zeros(3), np.zeros(2), "platt")
    with pytest.raises(UsageError, match="too few"):
        fit_calibration(np.zeros(8), np.zeros(8), "auto")
