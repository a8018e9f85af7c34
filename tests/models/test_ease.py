from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from lmrec.data.interactions import Interactions
from lmrec.errors import UsageError
from lmrec.models import ease
from lmrec.models.base import Recommender
from lmrec.models.ease import EASE
from lmrec.testing import RecommenderContract, toy_interactions


class TestEASE(RecommenderContract):
    expected_ndcg = 0.229  # 80% of the 0.2867 measured

    def model_factory(self) -> EASE:
        return EASE(reg=5.0)


def test_closed_form_matches_definition() -> None:
    data = toy_interactions([("a", "x"), ("a", "y"), ("b", "x"), ("b", "z"), ("c", "y")])
    reg = 2.0
    model = EASE(reg=reg).fit(data)
    x = data.matrix.toarray().astype(np.float64)
    p = np.linalg.inv(x.T @ x + reg * np.eye(3))
    expected = np.eye(3) - p / np.diag(p)
    np.testing.assert_allclose(model.weights_, expected, atol=1e-6)
    assert np.allclose(np.diag(model.weights_), 0)


def _popular_first() -> Interactions:
    # x: 3 users, y: 2, z: 1, w: 1 (w after z in the catalog, so z is kept before w on ties)
    return toy_interactions(
        [("a", "x"), ("b", "x"), ("c", "x"), ("a", "y"), ("b", "y"), ("c", "z"), ("b", "w")]
    )


def test_top_items_learns_among_the_most_popular_and_ranks_the_rest_after() -> None:
    data = _popular_first()
    model = EASE(reg=1.0, top_items=2).fit(data)
    x, y = (data.item_vocab.index(i) for i in "xy")
    assert model.kept_.tolist() == sorted([x, y])
    assert model.fit_summary() == {"items_kept": 2, "reg": 1.0}
    assert EASE(reg=1.0).fit(data).fit_summary() == {"items_kept": 4, "reg": 1.0}
    sub = data.matrix[:, model.kept_].toarray().astype(np.float64)
    p = np.linalg.inv(sub.T @ sub + np.eye(2))
    np.testing.assert_allclose(model.weights_, np.eye(2) - p / np.diag(p), atol=1e-6)
    scores = model.score(np.arange(data.n_users))
    others = np.setdiff1d(np.arange(data.n_items), model.kept_)
    assert (scores[:, others].max(axis=1) < scores[:, model.kept_].min(axis=1)).all()
    # an item outside the kept ones adds nothing to a score as history
    z, w = (data.item_vocab.index(i) for i in "zw")
    assert np.all(model.item_weights(np.array([z, x]), np.array([y, w]))[0] == 0)
    assert model.item_weights(np.array([x]), np.array([y]))[0, 0] == pytest.approx(
        model.weights_[model.position_[x], model.position_[y]]
    )


def test_top_items_survive_save_and_load(tmp_path: Path) -> None:
    data = _popular_first()
    model = EASE(reg=1.0, top_items=2).fit(data)
    loaded = Recommender.load(model.save(tmp_path / "ease"))
    np.testing.assert_array_equal(loaded.score(np.arange(3)), model.score(np.arange(3)))
    full = Recommender.load(EASE(reg=1.0).fit(data).save(tmp_path / "full"))
    assert full.kept_ is None


def test_memory_and_budget_bound_the_items(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ease, "_available_bytes", lambda: 2 * 28 * 3**2)  # room for 3 items
    assert ease.items_within(4, None, None) == 3
    assert ease.items_within(4, 2, None) == 2
    monkeypatch.setattr(ease, "_available_bytes", lambda: None)
    monkeypatch.setattr(ease, "_seconds_per_cubed_item", lambda: 1e-9)
    # a solve of 1,000 items is 1.5 inversions at 1e-9 s per item cubed: 1.5 s
    assert ease.items_within(5000, None, 1.5) == pytest.approx(1000, abs=1)
    assert ease.items_within(500, None, 1.5) == 500


def test_budget_and_top_items_are_checked() -> None:
    with pytest.raises(UsageError, match="top_items must be at least 1"):
        EASE(top_items=0).fit(_popular_first())
    with pytest.raises(UsageError, match="time_budget_s must be a positive"):
        EASE(time_budget_s=-2).fit(_popular_first())


def test_default_penalty_is_relative_to_the_item_counts(tmp_path: Path) -> None:
    data = _popular_first()  # counts x 3, y 2, z 1, w 1: mean 1.75
    model = EASE(reg_per_count=2.0).fit(data)
    assert model.fit_summary()["reg"] == pytest.approx(3.5)
    np.testing.assert_allclose(model.weights_, EASE(reg=3.5).fit(data).weights_, atol=1e-6)
    # over the kept items only: x and y, mean count 2.5
    assert EASE(top_items=2).fit(data).fit_summary()["reg"] == pytest.approx(5.0)
    # an explicit penalty wins over the relative one
    assert EASE(reg=7.0, reg_per_count=2.0).fit(data).fit_summary()["reg"] == 7.0
    loaded = Recommender.load(model.save(tmp_path / "ease"))
    assert loaded.fit_summary()["reg"] == pytest.approx(3.5)


def test_relative_penalty_gives_the_same_weights_when_every_user_is_repeated() -> None:
    pairs = [("a", "x"), ("a", "y"), ("b", "x"), ("b", "z"), ("c", "y"), ("c", "z"), ("d", "x")]
    once = toy_interactions(pairs)
    thrice = toy_interactions([(f"{u}{n}", i) for n in range(3) for u, i in pairs])
    np.testing.assert_allclose(EASE().fit(once).weights_, EASE().fit(thrice).weights_, atol=1e-5)
    # an absolute penalty does not carry over
    assert not np.allclose(EASE(reg=2.0).fit(once).weights_, EASE(reg=2.0).fit(thrice).weights_)


@pytest.mark.parametrize(
    ("key", "value"), [("reg", 0.0), ("reg", -1.0), ("reg", float("nan")),
                       ("reg_per_count", float("inf")), ("reg_per_count", None),
                       ("reg", True)],
)  # fmt: skip
def test_bad_penalties_are_refused(key: str, value: object) -> None:
    with pytest.raises(UsageError, match=key):
        EASE(**{key: value}).fit(_popular_first())  # type: ignore[arg-type]
