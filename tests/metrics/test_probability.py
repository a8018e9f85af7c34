from __future__ import annotations

import math

import numpy as np
import pytest

from lmrec import metrics as M
from lmrec.errors import UsageError


def test_auc_by_hand() -> None:
    # pairs (pos, neg): (0.35 > 0.1) yes, (0.35 > 0.4) no, (0.8 > both) yes yes -> 3/4
    assert M.auc(np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8])) == pytest.approx(0.75)
    # a tie between a positive and a negative counts half
    assert M.auc(np.array([0, 1]), np.array([0.5, 0.5])) == pytest.approx(0.5)
    assert M.auc(np.array([0, 1, 1]), np.array([0.2, 0.2, 0.9])) == pytest.approx(0.75)
    assert math.isnan(M.auc(np.array([1, 1]), np.array([0.2, 0.3])))


def test_log_loss_by_hand() -> None:
    y = np.array([1, 0])
    p = np.array([0.8, 0.4])
    assert M.log_loss(y, p) == pytest.approx(-(math.log(0.8) + math.log(0.6)) / 2)
    assert np.isfinite(M.log_loss(np.array([1]), np.array([0.0])))  # clipped, not inf


def test_ece_by_hand() -> None:
    # bin [0.1, 0.2): predictions 0.1, 0.1 -> mean 0.1, observed 0.5 (gap 0.4, weight 2/4)
    # bin [0.9, 1.0]: predictions 0.9, 0.9 -> mean 0.9, observed 1.0 (gap 0.1, weight 2/4)
    y = np.array([0, 1, 1, 1])
    p = np.array([0.1, 0.1, 0.9, 0.9])
    assert M.expected_calibration_error(y, p) == pytest.approx(0.5 * 0.4 + 0.5 * 0.1)
    mean_p, rate, counts = M.reliability(y, p)
    assert counts.sum() == 4
    assert counts[1] == 2
    assert counts[9] == 2
    assert rate[1] == pytest.approx(0.5)
    assert np.isnan(mean_p[5])
    # perfectly calibrated bins give 0
    assert M.expected_calibration_error(np.array([0, 1]), np.array([0.55, 0.55])) == pytest.approx(
        0.05
    )


def test_bad_labels() -> None:
    with pytest.raises(UsageError, match="0 or 1"):
        M.auc(np.array([0, 2]), np.array([0.1, 0.2]))
    with pytest.raises(UsageError, match="differ in length"):
        M.log_loss(np.array([0, 1]), np.array([0.1]))
