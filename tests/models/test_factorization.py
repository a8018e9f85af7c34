from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from lmrec.errors import UsageError
from lmrec.models import factorization
from lmrec.models.base import Recommender
from lmrec.models.factorization import ALS, BPR
from lmrec.testing import RecommenderContract, checkerboard


class TestALS(RecommenderContract):
    expected_ndcg = 0.138  # 80% of the 0.1727 measured

    def model_factory(self) -> ALS:
        return ALS(embedding_size=4, reg=1.0, epochs=10)  # more factors memorise the toy


class TestBPR(RecommenderContract):
    expected_ndcg = 0.182  # 80% of the 0.2278 measured

    def model_factory(self) -> BPR:
        return BPR(embedding_size=16, learning_rate=0.05, epochs=100)


def test_als_is_deterministic_given_seed() -> None:
    data = checkerboard()
    a = ALS(embedding_size=8, epochs=5, random_state=3).fit(data)
    b = ALS(embedding_size=8, epochs=5, random_state=3).fit(data)
    np.testing.assert_allclose(a.item_factors_, b.item_factors_, rtol=1e-5)


def test_bpr_is_deterministic_given_seed() -> None:
    data = checkerboard()
    a = BPR(embedding_size=8, epochs=20, random_state=3).fit(data)
    b = BPR(embedding_size=8, epochs=20, random_state=3).fit(data)
    np.testing.assert_allclose(a.item_factors_, b.item_factors_, rtol=1e-5)


def test_similar_items_excludes_itself() -> None:
    model = ALS(embedding_size=8, epochs=5).fit(checkerboard())
    ids, sims = model.similar_items(2, 5)
    assert 2 not in ids
    assert (np.diff(sims) <= 1e-6).all()


def _clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each reading of the training clock is one second after the one before."""
    ticks = iter(range(1_000_000))
    monkeypatch.setattr(factorization.time, "perf_counter", lambda: float(next(ticks)))


@pytest.mark.parametrize("cls", [ALS, BPR])
def test_time_budget_ends_training_after_the_epoch_that_reaches_it(
    cls: type[ALS] | type[BPR], monkeypatch: pytest.MonkeyPatch
) -> None:
    data = checkerboard()
    full = cls(embedding_size=8, epochs=3, random_state=3, num_threads=1).fit(data)
    assert full.epochs_trained_ == 3
    _clock(monkeypatch)
    # the clock reads 0 at the start and 1, 2, 3 after each epoch: a 2.5 s budget ends at 3
    budgeted = cls(embedding_size=8, epochs=50, random_state=3, num_threads=1, time_budget_s=2.5)
    budgeted.fit(data)
    assert budgeted.epochs_trained_ == 3
    assert budgeted.fit_summary() == {"epochs_trained": 3}
    np.testing.assert_allclose(budgeted.item_factors_, full.item_factors_, rtol=1e-5)


def test_epochs_trained_is_saved(tmp_path: Path) -> None:
    model = ALS(embedding_size=4, epochs=2).fit(checkerboard())
    loaded = Recommender.load(model.save(tmp_path / "als"))
    assert loaded.fitted_config_["epochs_trained"] == 2


@pytest.mark.parametrize("budget", [0.0, -1.0, float("nan")])
def test_time_budget_must_be_positive(budget: float) -> None:
    with pytest.raises(UsageError, match="time_budget_s must be a positive"):
        ALS(time_budget_s=budget).fit(checkerboard())
