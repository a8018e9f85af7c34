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
    assert fitted.gain_z["temperature"] > 10


def test_auto_acts_on_a_mild_miscalibration_only_when_the_rows_show_it_clearly() -> None:
    """Slope 0.85: invisible in 300 later-half rows (a rescaling fitted there is mostly noise),
    plain in 100,000."""

    def choose(n: int, seed: int) -> tuple[str, float]:
        z = np.random.default_rng(10 + seed).normal(0.0, 1.5, n)
        fitted = fit_calibration(z, _clicks(z, 0.85, 0.0, seed), "auto")
        return fitted.method, fitted.weights[0]

    assert [choose(600, seed)[0] for seed in range(5)].count("none") >= 4
    method, slope = choose(200_000, 1)
    assert method == "temperature"
    assert slope == pytest.approx(0.85, abs=0.02)


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
