"""The contract every top-N model passes: subclass, set ``model_factory`` and ``expected_ndcg``.

Example::

    class TestEASE(RecommenderContract):
        expected_ndcg = 0.2

        def model_factory(self):
            return EASE(reg=10.0)
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest

from lmrec.data.split import split_loo
from lmrec.data.synthetic import synthetic_dataset
from lmrec.errors import UsageError
from lmrec.evaluation.collect import accuracy_per_user
from lmrec.evaluation.protocol import prepare
from lmrec.models.base import Recommender
from lmrec.testing.toy import checkerboard

__all__ = ["RecommenderContract"]


class RecommenderContract:
    """Shared behaviour tests; a model's test file only sets the factory and its floor."""

    #: Lowest acceptable test NDCG@10 on the fixed synthetic leave-one-out split: about 80% of
    #: what the model measures there, so a regression that costs a fifth fails.
    expected_ndcg: ClassVar[float] = 0.05
    #: Whether the checkerboard toy must be solved exactly (own-parity items on top).
    solves_checkerboard: ClassVar[bool] = True

    def model_factory(self) -> Recommender:
        raise NotImplementedError

    @pytest.fixture(scope="class")
    @classmethod
    def board(cls):  # type: ignore[no-untyped-def]
        return checkerboard()

    @pytest.fixture(scope="class")
    @classmethod
    def fitted(cls, board):  # type: ignore[no-untyped-def]
        return cls().model_factory().fit(board)

    def test_fit_returns_self_and_sets_state(self, board) -> None:  # type: ignore[no-untyped-def]
        model = self.model_factory()
        assert not model.is_fitted
        assert model.fit(board) is model
        assert model.is_fitted

    def test_unfitted_model_raises(self) -> None:
        with pytest.raises(UsageError, match="not fitted"):
            self.model_factory().recommend(0, 5)

    def test_constructor_only_stores_parameters(self) -> None:
        model = self.model_factory()
        params = model.get_params()
        assert not any(k.endswith("_") for k in vars(model)), "learned state set in __init__"
        assert type(model)(**params).get_params() == params

    def test_checkerboard(self, fitted) -> None:  # type: ignore[no-untyped-def]
        if not self.solves_checkerboard:
            pytest.skip("this model does not use collaborative signal")
        # Each user has exactly one unseen item of their own parity: it must come first.
        ids, _ = fitted.recommend(np.arange(20), 3)
        for u in range(20):
            assert ids[u][0] % 2 == u % 2, (u, ids[u])
            assert all(i % 2 != u % 2 for i in ids[u][1:]), (u, ids[u])

    def test_batch_equals_single(self, fitted) -> None:  # type: ignore[no-untyped-def]
        users = np.array([0, 3, 7, 12])
        ids, scores = fitted.recommend(users, 5)
        assert ids.shape == (4, 5)
        assert scores.shape == (4, 5)
        assert ids.dtype == np.int64
        assert scores.dtype == np.float32
        batch_scores = fitted.score(users)
        for row, u in enumerate(users):
            i1, s1 = fitted.recommend(int(u), 5)
            assert i1.shape == (5,)
            # BLAS may round a batch differently from one row: compare scores, not tie order
            np.testing.assert_allclose(
                fitted.score(int(u)), batch_scores[row], rtol=1e-4, atol=1e-6
            )
            np.testing.assert_allclose(s1, scores[row], rtol=1e-4, atol=1e-6)
            assert i1[0] == ids[row][0]

    def test_seen_items_excluded(self, fitted, board) -> None:  # type: ignore[no-untyped-def]
        ids, _ = fitted.recommend(np.arange(20), 10)
        seen = board.matrix
        for u in range(20):
            assert not set(ids[u][ids[u] >= 0]) & set(seen[u].indices)
        ids_all, _ = fitted.recommend(0, 20, exclude_seen=False)
        assert set(seen[0].indices) <= set(ids_all)

    def test_scores_sorted_descending(self, fitted) -> None:  # type: ignore[no-untyped-def]
        _, scores = fitted.recommend(np.arange(20), 8)
        finite = np.where(np.isnan(scores), -np.inf, scores)
        assert (np.diff(finite, axis=1) <= 1e-6).all()

    def test_unknown_user(self, fitted) -> None:  # type: ignore[no-untyped-def]
        assert np.isnan(fitted.score(10_000)).all()
        assert np.isnan(fitted.score(-1)).all()
        ids, scores = fitted.recommend(-1, 5)
        assert (ids >= 0).all()
        assert np.isfinite(scores).all()

    def test_candidates(self, fitted) -> None:  # type: ignore[no-untyped-def]
        cand = np.array([1, 3, 4, 5])
        ids, _ = fitted.recommend(0, 10, candidates=cand, exclude_seen=False)
        kept = ids[ids >= 0]
        assert set(kept) <= set(cand.tolist())
        assert len(kept) == 4
        ids, scores = fitted.recommend(0, 3, candidates=np.array([], dtype=np.int64))
        assert (ids == -1).all()
        assert np.isnan(scores).all()

    def test_n_larger_than_catalog_pads(self, fitted) -> None:  # type: ignore[no-untyped-def]
        ids, scores = fitted.recommend(0, 50)
        assert ids.shape == (50,)
        assert (ids[-30:] == -1).all()
        assert np.isnan(scores[-30:]).all()

    def test_score_carts(self, fitted) -> None:  # type: ignore[no-untyped-def]
        from lmrec.cart import complete_carts

        carts = [np.array([0, 2, 4]), np.array([1, 3]), np.array([], dtype=np.int64)]
        if not fitted.uses_history:
            with pytest.raises(UsageError, match="cannot score a cart"):
                fitted.score_carts(carts)
            return
        scores = fitted.score_carts(carts)
        assert scores.shape == (3, fitted.n_items_)
        assert np.isfinite(scores).all()
        np.testing.assert_allclose(scores[2], fitted.popularity_)  # empty cart: fallback
        for bad in (fitted.n_items_, -1):
            with pytest.raises(UsageError, match="out of range"):
                fitted.score_carts([np.array([0, bad])])
        ids, _ = complete_carts(fitted, carts, 5)
        assert not {0, 2, 4} & set(ids[0].tolist())
        assert not {1, 3} & set(ids[1].tolist())
        if self.solves_checkerboard:  # a cart of even items gets even complements
            assert ids[0][0] % 2 == 0
            assert ids[1][0] % 2 == 1

    def test_explanations_are_faithful(self, fitted) -> None:  # type: ignore[no-untyped-def]
        """A reason citing a history item: removing that item lowers the recommended item's
        score, by exactly the effect the reason reports (re-scored here independently)."""
        from lmrec.explain import can_cite_history, explain, user_history

        titles = [f"t{i}" for i in range(fitted.n_items_)]
        cited = 0
        for user in range(6):
            hist = user_history(fitted, user)
            ids, _ = fitted.recommend(user, 5)
            reasons = explain(fitted, hist, ids, titles)
            assert len(reasons) == len(ids)
            if not can_cite_history(fitted):
                assert {r.kind for r in reasons} <= {"collaborative", "popular"}
                continue
            for target, reason in zip(ids, reasons, strict=True):
                if reason.kind != "history":
                    continue
                assert reason.item is not None
                assert reason.effect is not None
                pos = int(np.flatnonzero(hist == reason.item)[-1])
                full, without = fitted.score_carts([hist, np.delete(hist, pos)])[:, target]
                assert without < full, f"removing {reason.item} did not lower {target}"
                assert full - without == pytest.approx(reason.effect, rel=1e-3, abs=1e-5)
                assert reason.text == f"because you liked t{reason.item}"
                cited += 1
        if can_cite_history(fitted) and self.solves_checkerboard:
            assert cited > 0, "no reason cited a history item"

    def test_save_load_round_trip(self, fitted, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
        fitted.save(tmp_path / "m")
        loaded = Recommender.load(tmp_path / "m")
        assert type(loaded) is type(fitted)
        assert loaded.get_params() == fitted.get_params()
        users = np.arange(20)
        a, sa = fitted.recommend(users, 5)
        b, sb = loaded.recommend(users, 5)
        np.testing.assert_array_equal(a, b)
        np.testing.assert_allclose(sa, sb, rtol=1e-5)
        assert not list((tmp_path / "m").glob("*.pkl"))

    def test_quality_floor(self) -> None:
        data = prepare(split_loo(synthetic_dataset(n_users=200, n_items=150, seed=1)))
        model = self.model_factory().fit(data.train_valid)
        recs, _ = model.recommend(data.test_users, 10)
        ndcg = accuracy_per_user(recs, data.test_truth, 10)["NDCG@10"].mean()
        assert ndcg >= self.expected_ndcg, f"NDCG@10 {ndcg:.4f} < floor {self.expected_ndcg}"
