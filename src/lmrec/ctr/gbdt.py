"""Gradient-boosted trees (LightGBM) with fields as categorical features."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from lmrec._types import FloatArray
from lmrec.ctr.base import CTRModel
from lmrec.ctr.features import FeatureTable

__all__ = ["LightGBMCTR"]


def _matrix(x: FeatureTable) -> np.ndarray:
    return np.hstack(
        [x.cat.astype(np.float32), x.multi.toarray().astype(np.float32), x.dense]
    ).astype(np.float32)


class LightGBMCTR(CTRModel):
    """LightGBM binary classifier; stops adding trees when validation log loss stops falling."""

    name: ClassVar[str] = "lightgbm"

    def __init__(
        self,
        num_leaves: int = 31,
        learning_rate: float = 0.05,
        n_estimators: int = 1000,
        min_child_samples: int = 50,
        cat_smooth: float = 10.0,
        early_stopping_rounds: int = 30,
        random_state: int = 0,
    ) -> None:
        self.num_leaves = num_leaves
        self.learning_rate = learning_rate
        self.n_estimators = n_estimators
        self.min_child_samples = min_child_samples
        self.cat_smooth = cat_smooth
        self.early_stopping_rounds = early_stopping_rounds
        self.random_state = random_state

    @staticmethod
    def search_space() -> list[dict[str, Any]]:
        return [{"num_leaves": n} for n in (31, 15, 63)]

    def _fit(
        self, x: FeatureTable, y: np.ndarray, valid: tuple[FeatureTable, np.ndarray] | None
    ) -> None:
        import lightgbm as lgb

        params = {
            "objective": "binary",
            "num_leaves": self.num_leaves,
            "learning_rate": self.learning_rate,
            "min_child_samples": self.min_child_samples,
            "cat_smooth": self.cat_smooth,
            "seed": self.random_state,
            "num_threads": 1,
            "verbose": -1,
        }
        cats = list(range(x.cat.shape[1]))
        train = lgb.Dataset(_matrix(x), y, categorical_feature=cats, free_raw_data=True)
        sets: list[Any] = []
        callbacks: list[Any] = []
        if valid is not None:
            sets = [lgb.Dataset(_matrix(valid[0]), valid[1], reference=train)]
            callbacks = [lgb.early_stopping(self.early_stopping_rounds, verbose=False)]
        self.booster_ = lgb.train(
            params, train, self.n_estimators, valid_sets=sets, callbacks=callbacks
        )

    def refit_params(self) -> dict[str, Any]:
        params = self.get_params()
        params["n_estimators"] = int(self.booster_.best_iteration or self.booster_.num_trees())
        return params

    def _logits(self, x: FeatureTable) -> FloatArray:
        z = self.booster_.predict(
            _matrix(x), raw_score=True, num_iteration=self.booster_.best_iteration or None
        )
        return np.asarray(z, dtype=np.float32)

    def _save_files(self, folder: Path) -> None:
        (folder / "booster.txt").write_text(self.booster_.model_to_string())

    def _set_state(self, state: dict[str, np.ndarray], folder: Path) -> None:
        import lightgbm as lgb

        self.booster_ = lgb.Booster(model_str=(folder / "booster.txt").read_text())
