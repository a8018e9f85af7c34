from __future__ import annotations

import pytest

from lmrec.evaluation.html import _ndcg_error, _sweep_plot


def _row(strength: float, ndcg: float, ci: list[float] | None) -> dict[str, object]:
    return {"strength": strength, "NDCG@10": ndcg, "ILD@10": 0.5 + strength,
            "Coverage@10": 0.3, "Novelty@10": 2.0, "NDCG@10 change": ndcg / 0.1 - 1,
            "NDCG@10 change ci95": ci}  # fmt: skip


def test_sweep_error_bars_are_the_paired_interval_around_each_point() -> None:
    rows = [_row(0.0, 0.1, [0.0, 0.0]), _row(0.3, 0.09, [-0.2, 0.0]), _row(0.5, 0.08, None)]
    below, above = _ndcg_error(rows, 10)
    # strength 0.3: the change -10% has interval [-20%, 0%] of NDCG 0.1 -> [0.08, 0.10]
    assert below == pytest.approx([0.0, 0.01, 0.0])
    assert above == pytest.approx([0.0, 0.01, 0.0])


def test_sweep_plot_draws_rows_with_and_without_intervals() -> None:
    sweep = {"ease": [_row(0.0, 0.1, [0.0, 0.0]), _row(0.3, 0.09, [-0.2, 0.0])],
             "old": [{k: v for k, v in _row(0.0, 0.1, None).items() if "change" not in k}]}  # fmt: skip
    png = _sweep_plot(sweep, 10)
    assert len(png) > 1000  # an embedded image, not an empty string
