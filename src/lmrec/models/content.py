"""The ``content`` model: items ranked by text-embedding similarity to the user's history."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp

from lmrec._types import FloatArray, IntArray
from lmrec.data.interactions import Interactions
from lmrec.models.base import Recommender, cart_items, cart_times, request_times

__all__ = ["ContentRecommender", "zscore"]


class ContentRecommender(Recommender):
    """A user is the time-decayed mean of the text embeddings of what they interacted with;
    items are scored by cosine similarity to it.

    Needs no interactions for an item, only its text: a brand-new item is recommendable at once.
    ``half_life`` counts actions: the action ``half_life`` places before the latest weighs half
    as much as it (``None`` = all equal). The default, half a step, makes the profile mostly the
    last few actions. A cart or a user's fresh events (:meth:`score_carts`) are the newest
    actions, after the training history, and decay the same way.
    """

    name: ClassVar[str] = "content"
    uses_history: ClassVar[bool] = True

    def __init__(
        self,
        text_encoder: str = "all-MiniLM-L6-v2",
        half_life: float | None = 0.5,
        progress: bool = False,
    ) -> None:
        self.text_encoder = text_encoder
        self.half_life = half_life
        self.progress = progress

    @staticmethod
    def search_space() -> list[dict[str, Any]]:
        return [{"half_life": h} for h in (0.5, 1.0, 2.0, 5.0, 20.0, None)]

    def _fit(self, data: Interactions) -> None:
        from lmrec.text import encode_items

        texts = data.items["text"].fill_null("").to_list()
        self.item_embeddings_ = encode_items(texts, self.text_encoder, progress=self.progress)
        profiles = self._profiles(data)
        self.profile_norms_ = np.linalg.norm(profiles, axis=1).astype(np.float32)
        self.user_profiles_ = _normalise(profiles)

    def _decay(self, age: np.ndarray) -> np.ndarray:
        """The weight of an action ``age`` actions older than the latest (0 = latest)."""
        if self.half_life is None:
            return np.ones(len(age))
        return np.power(0.5, age / float(self.half_life))

    def _profiles(self, data: Interactions) -> FloatArray:
        """Each user's decayed sum of the embeddings of their actions (not normalised)."""
        users, items = data.user_idx, data.item_idx  # in time order
        if self.half_life is None:
            weights = np.ones(len(users))
        else:
            # rank of each action from the user's most recent one (0 = latest)
            order = np.argsort(users, kind="stable")
            counts = np.bincount(users, minlength=data.n_users)
            starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
            pos = np.empty(len(users), dtype=np.int64)
            pos[order] = np.arange(len(users)) - np.repeat(starts, counts)
            weights = self._decay(counts[users] - 1 - pos)
        m = sp.csr_matrix((weights, (users, items)), shape=(data.n_users, data.n_items))
        return np.asarray(m @ self.item_embeddings_, dtype=np.float32)

    def _profile_rows(self, users: IntArray, history: sp.csr_matrix) -> FloatArray:
        """The fitted, time-decayed profiles when ``history`` is the users' own training
        history; else an unweighted profile from the history given."""
        own = self.seen_[np.maximum(users, 0)]
        if (
            (users >= 0).all()
            and np.array_equal(history.indptr, own.indptr)
            and np.array_equal(history.indices, own.indices)
        ):
            return self.user_profiles_[users]
        return _normalise(np.asarray(history @ self.item_embeddings_, dtype=np.float32))

    def _score(self, users: IntArray, history: sp.csr_matrix) -> FloatArray:
        profiles = self._profile_rows(users, history)
        return np.asarray(profiles @ self.item_embeddings_.T, dtype=np.float32)

    def score_carts(
        self,
        carts: Sequence[IntArray],
        users: IntArray | None = None,
        *,
        at: int | IntArray | None = None,
        times: Sequence[IntArray] | None = None,
    ) -> FloatArray:
        """Cosine of every item to :meth:`query_vectors`: each cart's items are the newest
        actions, after the user's training history where ``users`` names a known user. A row
        with neither gets the popularity fallback."""
        self._check_fitted()
        request_times(at, len(carts))
        cart_times(times, carts)
        profiles = self.query_vectors(carts, users)
        scores = np.asarray(profiles @ self.item_embeddings_.T, dtype=np.float32)
        empty = ~profiles.any(axis=1)
        if empty.any():
            scores[empty] = self.popularity_
        return scores

    def score_new_items(
        self, carts: Sequence[IntArray], users: IntArray | None, text_embeddings: np.ndarray
    ) -> FloatArray:
        """Scores (len(carts), n_new) of items added after training, from their text, on the
        same profiles as :meth:`score_carts`."""
        profiles = self.query_vectors(carts, users)
        return np.asarray(profiles @ _normalise(np.asarray(text_embeddings)).T, dtype=np.float32)

    # -- two towers: score = query_vectors @ item_matrix().T (for ANN retrieval) --------------
    def item_matrix(self) -> FloatArray:
        return self.item_embeddings_

    def query_vectors(
        self,
        carts: Sequence[IntArray],
        users: IntArray | None = None,
        *,
        at: int | IntArray | None = None,
        times: Sequence[IntArray] | None = None,
    ) -> FloatArray:
        """The profile each :meth:`score_carts` row is scored with: the user's decayed training
        profile, aged by the cart's length, plus the cart's items decayed from its last one
        (``at`` and ``times`` are accepted for the common interface; this model does not use
        time)."""
        u = self._cart_users(len(carts), users)
        norms = getattr(self, "profile_norms_", None)
        if norms is None:  # saved before profiles kept their weight: the unweighted union
            return self._profile_rows(u, self._cart_history(carts, u))
        lengths = np.array([len(c) for c in carts], dtype=np.int64)
        items = cart_items(carts, self.n_items_)
        starts = np.cumsum(lengths) - lengths
        within = np.arange(len(items)) - np.repeat(starts, lengths)  # position in its cart
        age = np.repeat(lengths, lengths) - 1 - within  # 0 = the cart's last item
        rows = np.repeat(np.arange(len(carts)), lengths)
        weights = sp.csr_matrix(
            (self._decay(age), (rows, items)), shape=(len(carts), self.n_items_)
        )
        out = np.asarray(weights @ self.item_embeddings_, dtype=np.float32)
        known = u >= 0
        if known.any():
            aged = self._decay(lengths[known]) * norms[u[known]]
            out[known] += (aged[:, None] * self.user_profiles_[u[known]]).astype(np.float32)
        return _normalise(out)

    def encode_query(self, query: str) -> FloatArray:
        from lmrec.text import encode_items

        return encode_items([query], self.text_encoder, use_cache=False)[0]

    def similar_items(self, item: int, n: int = 10) -> tuple[IntArray, FloatArray]:
        sims = self.item_embeddings_ @ self.item_embeddings_[item]
        sims[item] = -np.inf
        order = np.argsort(-sims, kind="stable")[:n]
        return order.astype(np.int64), sims[order].astype(np.float32)

    def _state(self) -> dict[str, np.ndarray]:
        return {
            "item_embeddings": self.item_embeddings_,
            "user_profiles": self.user_profiles_,
            "profile_norms": self.profile_norms_,
        }

    def _set_state(self, state: dict[str, np.ndarray]) -> None:
        self.item_embeddings_ = state["item_embeddings"]
        self.user_profiles_ = state["user_profiles"]
        if "profile_norms" in state:
            self.profile_norms_ = state["profile_norms"]


def _normalise(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return np.divide(x, norms, out=np.zeros_like(x), where=norms > 0)


def zscore(x: np.ndarray) -> np.ndarray:
    """Standardise each row (finite entries); constant rows become 0."""
    x = np.asarray(x, dtype=np.float64)
    finite = np.isfinite(x)
    safe = np.where(finite, x, np.nan)
    mean = np.nanmean(safe, axis=-1, keepdims=True)
    std = np.nanstd(safe, axis=-1, keepdims=True)
    out = np.divide(safe - mean, std, out=np.zeros_like(safe), where=std > 0)
    return np.where(finite, out, -np.inf)
