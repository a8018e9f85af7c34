"""The ``hybrid`` model: candidates from several models, re-ranked by LightGBM LambdaRank.

Fitting holds out each user's last action: the component models are fitted on the rest, their
candidates for those users become the ranker's training data (label = the held-out item), and
the components are then refitted on all the data for serving. In ``lmrec evaluate``'s final fit
on train + validation, the ranker is therefore trained on exactly the validation split.

The ranker is judged before it is kept: trained on all but a ``check_share`` of those users,
it must reach at least the NDCG@10 of its best component on the users it was not trained on;
otherwise the hybrid serves that component's ranking (``fallback_``), so it never loses to
its own parts on held-out data.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import polars as pl
import scipy.sparse as sp

from lmrec._types import FloatArray, IntArray
from lmrec.data.interactions import Interactions
from lmrec.errors import UsageError
from lmrec.models.base import Recommender
from lmrec.models.content import zscore

__all__ = ["BLOCK_BYTES", "HybridRanker", "hold_out_last"]

#: memory for the components' full score rows of one block of users while the features are
#: built; each score takes about :data:`BYTES_PER_SCORE` with its z-score, rank and partition
BLOCK_BYTES = 512 << 20
BYTES_PER_SCORE = 48


def hold_out_last(
    data: Interactions, min_length: int = 3
) -> tuple[Interactions, IntArray, IntArray]:
    """(data without each user's last action, those users, their last items); only users with
    at least ``min_length`` actions give one."""
    frame = data.frame.with_row_index("_row")
    last = frame.group_by("user_idx").agg(pl.col("_row").last(), pl.len().alias("_n"))
    last = last.filter(pl.col("_n") >= min_length)
    rows = last["_row"].to_numpy()
    held = frame.filter(pl.col("_row").is_in(rows)).sort("user_idx")
    rest = frame.filter(~pl.col("_row").is_in(rows)).drop("_row")
    prefix = Interactions(
        rest, data.user_vocab, data.item_vocab, data.items, data.users, data.time_is_order
    )
    return (
        prefix,
        held["user_idx"].to_numpy().astype(np.int64),
        held["item_idx"].to_numpy().astype(np.int64),
    )


class HybridRanker(Recommender):
    """Re-ranks the union of each component's top ``candidates`` items with LambdaRank.

    Features per (user, item): each component's score standardised over the user's catalog and
    its rank (``candidates`` + 1 when outside its top), with monotone constraints; with
    ``side_features`` also the item's log popularity and recent popularity and the user's log
    history length (off by default: on MovieLens-sized data the ranker learned popularity from
    the held-out items that did not carry over to test). Items outside every candidate list rank
    below all candidates, in the first component's order (the fallback chain).
    """

    name: ClassVar[str] = "hybrid"

    def __init__(
        self,
        components: tuple[str, ...] | list[str] = ("sequential", "ease", "als", "itemknn", "pop"),
        component_params: dict[str, dict[str, Any]] | None = None,
        candidates: int = 50,
        n_estimators: int = 100,
        learning_rate: float = 0.05,
        num_leaves: int = 7,
        min_child_samples: int = 50,
        side_features: bool = False,
        random_state: int = 0,
        check_share: float = 0.2,
        time_budget_s: float | None = None,
    ) -> None:
        self.components = components
        self.component_params = component_params
        self.candidates = candidates
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.side_features = side_features
        self.random_state = random_state
        self.check_share = check_share
        self.time_budget_s = time_budget_s

    # -- fitting --------------------------------------------------------------------------------
    def _make_components(self) -> dict[str, Recommender]:
        """The components, each fitted twice (for the ranker, then on all the data): those
        that take a time budget share ``time_budget_s`` equally over their fits (a smaller
        budget of their own in ``component_params`` stands)."""
        from lmrec.models.registry import create_model, takes_time_budget

        names = list(self.components)
        if not names or "hybrid" in names:
            raise UsageError("hybrid needs at least one component model, and not itself")
        params = dict(self.component_params or {})
        if self.time_budget_s is not None:
            budgeted = [n for n in names if takes_time_budget(n)]
            share = self.time_budget_s / max(1, 2 * len(budgeted))
            for n in budgeted:  # a component's own budget, if larger, is cut to its share
                own = params.get(n, {}).get("time_budget_s") or share
                params[n] = {**params.get(n, {}), "time_budget_s": min(share, own)}
        return {n: create_model(n, **params.get(n, {})) for n in names}

    def _fit(self, data: Interactions) -> None:
        prefix, users, targets = hold_out_last(data)
        if len(users) == 0:
            raise UsageError("hybrid needs users with at least 3 interactions to train its ranker")
        at = None
        if not data.time_is_order:  # the held-out action's time is its request's
            last = data.frame.group_by("user_idx").agg(pl.col("timestamp").last())
            when = dict(zip(last["user_idx"].to_list(), last["timestamp"].to_list(), strict=True))
            at = np.array([when[int(u)] for u in users], dtype=np.int64)
        first = {n: m.fit(prefix) for n, m in self._make_components().items()}
        self._set_item_stats(prefix)
        feats, cand, _ = self._features(first, users, prefix.matrix[users], at, fallback=False)
        labels = (cand == targets[:, None]).astype(np.float32)
        has_pos = labels.sum(axis=1) > 0
        check = np.random.default_rng(self.random_state).random(len(users)) < self.check_share
        if check.sum() < 20 or (has_pos & ~check).sum() < 20:
            check[:] = False  # too few users to judge on: the ranker is kept
        self.ranker_ = self._ranker(feats, labels, has_pos & ~check, len(first))
        self.check_: dict[str, float] = {}
        self.fallback_: str | None = None
        if check.any():
            self.check_ = {"hybrid": _ndcg_among(self.ranker_, feats[check], cand[check],
                                                 targets[check])}  # fmt: skip
            rows = prefix.matrix[users[check]]
            check_at = None if at is None else at[check]
            for n, m in first.items():
                self.check_[n] = _ndcg_full(m, users[check], rows, targets[check], check_at)
            best = max(first, key=lambda n: self.check_[n])
            if self.check_["hybrid"] < self.check_[best]:
                self.fallback_ = best
            else:  # kept: now trained on every held-out user
                self.ranker_ = self._ranker(feats, labels, has_pos, len(first))
        self.train_recall_ = float(has_pos.mean())  # share of held-out items among candidates
        self.components_ = {n: m.fit(data) for n, m in self._make_components().items()}
        self._set_item_stats(data)

    def _ranker(self, feats: np.ndarray, labels: np.ndarray, rows: np.ndarray, n_models: int
                ) -> Any:  # fmt: skip
        import lightgbm as lgb

        x = feats[rows].reshape(-1, feats.shape[2])
        y = labels[rows].ravel()
        group = np.full(int(rows.sum()), feats.shape[1])
        ranker = lgb.LGBMRanker(
            objective="lambdarank",
            n_estimators=self.n_estimators,
            learning_rate=self.learning_rate,
            num_leaves=self.num_leaves,
            min_child_samples=self.min_child_samples,
            random_state=self.random_state,
            verbose=-1,
            lambdarank_truncation_level=20,
            n_jobs=1,
            # a higher component score (or better rank) never lowers an item: this keeps a
            # ranker trained on one held-out item per user from learning noise
            monotone_constraints=[1, -1] * n_models + [0, 0, 0] * self.side_features,
            monotone_constraints_method="advanced",
        )
        ranker.fit(x, y, group=group)
        return ranker

    def _set_item_stats(self, data: Interactions) -> None:
        counts = data.item_counts
        ts = data.timestamps
        recent = np.zeros(data.n_items)
        if len(ts):
            cut = np.quantile(ts, 0.9)
            recent = np.bincount(data.item_idx[ts >= cut], minlength=data.n_items).astype(float)
        self.item_stats_ = np.stack([np.log1p(counts), np.log1p(recent)], axis=1).astype(np.float32)

    def _features(
        self,
        models: dict[str, Recommender],
        users: IntArray,
        history: sp.csr_matrix,
        at: IntArray | None = None,
        *,
        fallback: bool = True,
    ) -> tuple[np.ndarray, IntArray, FloatArray | None]:
        """Features (U, C, F) of each user's candidates (U, C), and (with ``fallback``) the
        first component's scores (U, N); ``at``: the request times, for components that use
        them. Users are taken a block at a time, so that every component's full score rows
        for a block fit in :data:`BLOCK_BYTES` (the rows of 31,000 users of a 24,000-item
        catalog for five components would take 15 GB at once)."""
        n_items = max(1, self.n_items_)
        block = max(1, BLOCK_BYTES // (BYTES_PER_SCORE * n_items * max(1, len(models))))
        parts = []
        for start in range(0, len(users), block):
            end = min(start + block, len(users))
            parts.append(self._block_features(
                models, users[start:end], history[start:end],
                None if at is None else at[start:end],
            ))  # fmt: skip
        if not parts:
            return self._block_features(models, users, history, at)
        feats = np.concatenate([p[0] for p in parts])  # every block has C * components columns
        cand = np.concatenate([p[1] for p in parts])
        first = np.concatenate([p[2] for p in parts]) if fallback else None
        return feats, cand, first

    def _block_features(
        self,
        models: dict[str, Recommender],
        users: IntArray,
        history: sp.csr_matrix,
        at: IntArray | None,
    ) -> tuple[np.ndarray, IntArray, FloatArray]:
        """:meth:`_features` of one block of users."""
        scores = {
            n: np.nan_to_num(m.score(users, history=None, at=at), nan=-np.inf)
            for n, m in models.items()
        }
        for s in scores.values():
            rows = np.repeat(np.arange(len(users)), np.diff(history.indptr))
            s[rows, history.indices] = -np.inf
        c = self.candidates
        tops = {
            n: np.argpartition(-s, min(c, s.shape[1] - 1), axis=1)[:, :c] for n, s in scores.items()
        }
        n_cand = c * len(models)
        cand = np.full((len(users), n_cand), -1, dtype=np.int64)
        for u in range(len(users)):
            pool = np.unique(np.concatenate([t[u] for t in tops.values()]))
            pool = pool[np.isfinite(scores[next(iter(scores))][u, pool])]
            cand[u, : len(pool)] = pool
        valid = cand >= 0
        safe = np.where(valid, cand, 0)
        cols = []
        for n, s in scores.items():
            z = zscore(s)
            cols.append(np.take_along_axis(z, safe, axis=1))
            ranks = np.full(s.shape, c + 1, dtype=np.float32)
            order = np.argsort(-np.take_along_axis(s, tops[n], axis=1), axis=1)
            np.put_along_axis(
                ranks,
                np.take_along_axis(tops[n], order, axis=1),
                np.arange(1, c + 1, dtype=np.float32)[None, :].repeat(len(users), 0),
                axis=1,
            )
            cols.append(np.take_along_axis(ranks, safe, axis=1))
        if self.side_features:
            cols.append(self.item_stats_[safe, 0])
            cols.append(self.item_stats_[safe, 1])
            length = np.log1p(np.diff(history.indptr)).astype(np.float32)
            cols.append(np.broadcast_to(length[:, None], cand.shape))
        feats = np.stack(cols, axis=2).astype(np.float32)
        feats[~valid] = np.nan
        cand[~valid] = -1
        return feats, cand, scores[next(iter(scores))]

    # -- scoring --------------------------------------------------------------------------------
    def _score(self, users: IntArray, history: sp.csr_matrix) -> FloatArray:
        return self._score_at(users, history, None)

    def _score_at(self, users: IntArray, history: sp.csr_matrix, at: IntArray | None) -> FloatArray:
        if getattr(self, "fallback_", None) is not None:  # the ranker did not beat this one
            model = self.components_[str(self.fallback_)]
            return np.asarray(model.score(users, history=None, at=at), dtype=np.float32)
        feats, cand, fallback = self._features(self.components_, users, history, at)
        assert fallback is not None
        out = (zscore(fallback) - 1e3).astype(np.float32)  # below every candidate
        out[~np.isfinite(out)] = -1e6
        pred = _predict(self.ranker_, feats, cand)
        rows, cols = np.nonzero(cand >= 0)
        out[rows, cand[rows, cols]] = pred[rows, cols]
        return out

    # -- storage --------------------------------------------------------------------------------
    def _state(self) -> dict[str, np.ndarray]:
        return {"item_stats": self.item_stats_}

    def _set_state(self, state: dict[str, np.ndarray]) -> None:
        self.item_stats_ = state["item_stats"]

    def _save_files(self, folder: Path) -> None:
        for name, model in self.components_.items():
            model.save(folder / "components" / name)
        (folder / "ranker.txt").write_text(self.ranker_.booster_.model_to_string())
        (folder / "hybrid.json").write_text(json.dumps({
            "train_recall": self.train_recall_, "fallback": self.fallback_, "check": self.check_,
        }))  # fmt: skip

    def _load_files(self, folder: Path) -> None:
        import lightgbm as lgb

        self.components_ = {n: Recommender.load(folder / "components" / n) for n in self.components}
        booster = lgb.Booster(model_str=(folder / "ranker.txt").read_text())
        self.ranker_ = _BoosterRanker(booster)
        saved = json.loads((folder / "hybrid.json").read_text())
        self.train_recall_ = saved["train_recall"]
        self.fallback_ = saved.get("fallback")  # artifacts saved before the check: None
        self.check_ = saved.get("check", {})


def _predict(ranker: Any, feats: np.ndarray, cand: IntArray) -> np.ndarray:
    """Each user's candidates (U, C) scored by their place in the ranker's order, 1 for the
    first down to 1/C, ties in the ranker's output broken by the first component's z-score
    (feature 0): the monotone trees give many candidates one value (with one component, most),
    and a tie left to the item index would reorder the component's own list. Places, not raw
    outputs, so that float32 scores keep the order. Missing candidates (-1) get -inf."""
    pred = np.asarray(ranker.predict(feats.reshape(-1, feats.shape[2])), dtype=np.float64)
    pred = pred.reshape(cand.shape)
    z = np.nan_to_num(feats[:, :, 0].astype(np.float64), nan=-np.inf)
    valid = cand >= 0
    pred[~valid] = -np.inf
    order = np.lexsort((-z, -pred), axis=-1)  # by the ranker, then the first component
    place = np.empty(cand.shape, dtype=np.int64)
    np.put_along_axis(place, order, np.arange(cand.shape[1])[None, :], axis=1)
    return np.where(valid, 1.0 - place / max(1, cand.shape[1]), -np.inf)


def _ndcg_among(ranker: Any, feats: np.ndarray, cand: IntArray, targets: IntArray) -> float:
    """Mean NDCG@10 of the ranker's order of each user's candidates (one relevant item)."""
    pred = _predict(ranker, feats, cand)  # missing candidates at -inf already
    gains = []
    for u in range(len(targets)):
        where = np.flatnonzero(cand[u] == targets[u])
        if not len(where):
            gains.append(0.0)
            continue
        rank = int((pred[u] > pred[u, where[0]]).sum())  # places: no two are equal
        gains.append(1.0 / np.log2(rank + 2) if rank < 10 else 0.0)
    return float(np.mean(gains))


def _ndcg_full(
    model: Recommender, users: IntArray, history: sp.csr_matrix, targets: IntArray,
    at: IntArray | None,
) -> float:  # fmt: skip
    """Mean NDCG@10 of the model's full ranking (seen items left out), one relevant item."""
    scores = np.nan_to_num(model.score(users, history=None, at=at), nan=-np.inf)
    rows = np.repeat(np.arange(len(users)), np.diff(history.indptr))
    scores[rows, history.indices] = -np.inf
    target = scores[np.arange(len(users)), targets]
    rank = (scores > target[:, None]).sum(axis=1)
    gains = np.where(np.isfinite(target) & (rank < 10), 1.0 / np.log2(rank + 2), 0.0)
    return float(gains.mean())


class _BoosterRanker:
    """A loaded LightGBM booster with the ``predict`` the ranker needs."""

    def __init__(self, booster: Any) -> None:
        self.booster_ = booster

    def predict(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(self.booster_.predict(x))
