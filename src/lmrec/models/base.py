"""The contract every top-N recommender follows (fit, score, recommend, save, load)."""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np
import scipy.sparse as sp
from safetensors.numpy import load_file, save_file

from lmrec._types import FloatArray, IntArray
from lmrec._version import __version__
from lmrec.data.interactions import Interactions
from lmrec.errors import UsageError
from lmrec.fileformat import check_format
from lmrec.params import get_params
from lmrec.search_space import Space, space_from_grid

__all__ = [
    "FORMAT_VERSION",
    "Recommender",
    "cart_items",
    "cart_matrix",
    "cart_times",
    "request_times",
    "top_n",
]

FORMAT_VERSION = 1


class Recommender(ABC):
    """A top-N recommender over item indices.

    Subclasses store hyper-parameters in ``__init__`` (nothing else), learn in ``_fit``, and
    score a batch of users in ``_score``. This base class remembers what each user has seen (for
    exclusion), item popularity (the fallback for users with no history), and does ranking,
    exclusion, candidate restriction and storage the same way for every model.
    """

    #: The registered name (see :func:`lmrec.register_model`); reports and artifacts use it.
    name: ClassVar[str] = ""
    #: Which of the registry's kinds this is.
    model_kind: ClassVar[str] = "topn"
    #: Users scored at once by :meth:`recommend` (bounds the memory of a batch).
    recommend_batch: ClassVar[int] = 1024
    #: On a loaded model: what :meth:`_fitted_config` saved.
    fitted_config_: dict[str, Any]
    #: Whether ``_score`` computes from the ``history`` rows passed to it (so fresh history
    #: changes the scores without refitting) rather than from state learned per user.
    #: Such a model can score carts and sessions it never saw (:meth:`score_carts`).
    uses_history: ClassVar[bool] = False
    #: Whether scores differ between users or histories (not so for popularity), so a
    #: recommendation can be explained by the user's own actions.
    personal: ClassVar[bool] = True

    # -- learning -----------------------------------------------------------------------------
    def fit(self, data: Interactions) -> Self:
        self.prepare(data)
        self._fit(data)
        return self

    def prepare(self, data: Interactions) -> Self:
        """What every model keeps of ``data`` the same way (its sizes, each user's seen items,
        item popularity), before its own fitting."""
        return self.prepare_seen(data.matrix)

    def prepare_seen(self, seen: sp.csr_matrix) -> Self:
        """As :meth:`prepare`, from the binary user x item matrix alone: what a trainer that
        learns the model's state elsewhere (on Spark, say) calls before setting that state."""
        self.n_users_, self.n_items_ = (int(n) for n in seen.shape)
        self.seen_ = seen.astype(np.float32)
        counts = np.asarray(seen.sum(axis=0), dtype=np.float64).ravel()
        self.popularity_ = (counts / max(1.0, counts.max(initial=0.0))).astype(np.float32)
        return self

    @abstractmethod
    def _fit(self, data: Interactions) -> None: ...

    @abstractmethod
    def _score(self, users: IntArray, history: sp.csr_matrix) -> FloatArray:
        """Scores of all items for ``users`` (known, in range): shape (len(users), n_items)."""

    def _score_at(self, users: IntArray, history: sp.csr_matrix, at: IntArray | None) -> FloatArray:
        """As :meth:`_score`, for requests at Unix times ``at`` (-1: unknown); models that
        use the time of the request override this."""
        return self._score(users, history)

    @property
    def is_fitted(self) -> bool:
        return hasattr(self, "seen_")

    def _check_fitted(self) -> None:
        if not self.is_fitted:
            raise UsageError(f"{type(self).__name__} is not fitted; call fit() first")

    # -- scoring and ranking --------------------------------------------------------------------
    def score(
        self,
        users: int | IntArray,
        *,
        history: sp.csr_matrix | None = None,
        at: int | IntArray | None = None,
    ) -> FloatArray:
        """Scores for all items: 1-D for one user, 2-D for an array of users.

        ``at``: the time of each request (Unix seconds, -1 unknown), for models that use it
        (``sequential``: the part of the day, weekday and time since the user's last action).
        Unknown users (outside ``0..n_users-1``) get NaN rows. Known users without any history
        get the popularity fallback.
        """
        self._check_fitted()
        single = np.ndim(users) == 0
        u = np.atleast_1d(np.asarray(users, dtype=np.int64))
        when = request_times(at, len(u))
        known = (u >= 0) & (u < self.n_users_)
        out = np.full((len(u), self.n_items_), np.nan, dtype=np.float32)
        if known.any():
            ku = u[known]
            hist = select_rows(self.seen_ if history is None else history, ku)
            scores = np.asarray(
                self._score_at(ku, hist, None if when is None else when[known]), dtype=np.float32
            )
            empty = np.diff(hist.indptr) == 0
            if empty.any():
                scores[empty] = self.popularity_
            out[known] = scores
        return out[0] if single else out

    def score_carts(
        self,
        carts: Sequence[IntArray],
        users: IntArray | None = None,
        *,
        at: int | IntArray | None = None,
        times: Sequence[IntArray] | None = None,
    ) -> FloatArray:
        """Scores of all items, shape (len(carts), n_items), for item sets not seen in training:
        shopping carts, anonymous sessions. A cart is an array of item indices in the order
        they were added.

        With ``users``, each known user's training history comes before their cart. Only models
        that score from the history they are given can do this (``uses_history``); the others
        learned one vector per training user and raise :class:`UsageError`. An empty cart of an
        unknown user gets the popularity fallback. ``at`` (each request's time) and ``times``
        (when each cart item was added), in Unix seconds, are for models that use time
        (``sequential``); the others ignore them.
        """
        self._check_fitted()
        request_times(at, len(carts))
        cart_times(times, carts)
        if not self.uses_history:
            raise UsageError(
                f"model '{self.name}' learns state per training user and cannot score a cart; "
                "use pop, rules, itemknn, ease, content or sequential"
            )
        u = self._cart_users(len(carts), users)
        hist = self._cart_history(carts, u)
        scores = np.asarray(self._score(u, hist), dtype=np.float32)
        empty = np.diff(hist.indptr) == 0
        if empty.any():
            scores[empty] = self.popularity_
        return scores

    def _cart_history(self, carts: Sequence[IntArray], u: IntArray) -> sp.csr_matrix:
        """Binary rows: each cart, joined with its user's training history where ``u >= 0``."""
        hist = cart_matrix(carts, self.n_items_)
        known = u >= 0
        if known.any():
            mask = known[:, None].astype(np.float32)
            own = select_rows(self.seen_, np.where(known, u, 0)).multiply(mask)
            hist = sp.csr_matrix(((hist + own) > 0).astype(np.float32))
        return hist

    def _cart_users(self, n: int, users: IntArray | None) -> IntArray:
        """Users for :meth:`score_carts`: -1 where unknown or not given."""
        if users is None:
            return np.full(n, -1, dtype=np.int64)
        u = np.asarray(users, dtype=np.int64)
        if u.shape != (n,):
            raise UsageError(f"users must have one entry per cart ({n}), not shape {u.shape}")
        return np.where((u >= 0) & (u < self.n_users_), u, -1)

    def recommend(
        self,
        users: int | IntArray,
        n: int = 10,
        *,
        exclude_seen: bool = True,
        candidates: IntArray | None = None,
        at: int | IntArray | None = None,
    ) -> tuple[IntArray, FloatArray]:
        """Top-``n`` item indices and scores, best first.

        One user gives 1-D arrays, an array of users 2-D ones. Seen items (the training history)
        are excluded unless ``exclude_seen=False``; ``candidates``
        restricts the ranking to those items; ``at`` gives the request times (see :meth:`score`).
        Where fewer than ``n`` items qualify the row is
        padded with id -1 and score NaN. Unknown users get the popularity fallback.
        """
        self._check_fitted()
        if n < 1:
            raise UsageError(f"n must be at least 1, not {n}")
        single = np.ndim(users) == 0
        u = np.atleast_1d(np.asarray(users, dtype=np.int64))
        when = request_times(at, len(u))
        allowed = None
        if candidates is not None:
            cand = np.asarray(candidates, dtype=np.int64)
            cand = cand[(cand >= 0) & (cand < self.n_items_)]
            allowed = np.zeros(self.n_items_, dtype=bool)
            allowed[cand] = True
        seen = self.seen_
        batch_size = self.recommend_batch
        ids = np.full((len(u), n), -1, dtype=np.int64)
        vals = np.full((len(u), n), np.nan, dtype=np.float32)
        for start in range(0, len(u), batch_size):
            chunk = u[start : start + batch_size]
            chunk_at = None if when is None else when[start : start + batch_size]
            scores = self.score(chunk, at=chunk_at)
            unknown = np.isnan(scores).all(axis=1)
            if unknown.any():
                scores[unknown] = self.popularity_
            scores = np.nan_to_num(scores, nan=-np.inf)
            if exclude_seen:
                known = np.flatnonzero((chunk >= 0) & (chunk < seen.shape[0]))
                starts, ends = seen.indptr[chunk[known]], seen.indptr[chunk[known] + 1]
                rows = np.repeat(known, ends - starts)
                cols = seen.indices[_spans(starts, ends)]
                scores[rows, cols] = -np.inf
            if allowed is not None:
                scores[:, ~allowed] = -np.inf
            top, top_scores = top_n(scores, n)
            ids[start : start + len(chunk)] = top
            vals[start : start + len(chunk)] = top_scores
        if single:
            return ids[0], vals[0]
        return ids, vals

    # -- parameters and storage ----------------------------------------------------------------
    @staticmethod
    def search_space() -> list[dict[str, Any]]:
        """The settings a grid search tries on validation, the first being the default
        (override)."""
        return [{}]

    @classmethod
    def tuning_space(cls) -> Space:
        """What the Optuna search may try (override with ranges); by default the grid's
        values of each parameter as choices."""
        return space_from_grid(cls.search_space())

    def get_params(self) -> dict[str, Any]:
        """Constructor arguments, in JSON's form (tuples as lists), as saved in config.json."""
        return get_params(self)

    def _state(self) -> dict[str, np.ndarray]:
        """Learned arrays beyond what the base class stores (override in models)."""
        return {}

    def _fitted_config(self) -> dict[str, Any]:
        """What fitting decided beyond the parameters (say, a network's shape), in JSON's
        form: saved in config.json and, on load, in ``fitted_config_`` before
        :meth:`_set_state` runs (override in models)."""
        return {}

    def _set_state(self, state: dict[str, np.ndarray]) -> None:  # noqa: B027 - optional hook
        """Restore what :meth:`_state` returned (override in models)."""

    def _save_files(self, folder: Path) -> None:  # noqa: B027 - optional hook
        """Write state that is not arrays (e.g. sub-models) into ``folder`` (override)."""

    def _load_files(self, folder: Path) -> None:  # noqa: B027 - optional hook
        """Read what :meth:`_save_files` wrote (override)."""

    def save(self, path: str | Path) -> Path:
        self._check_fitted()
        out = Path(path)
        out.mkdir(parents=True, exist_ok=True)
        seen = self.seen_.tocsr()
        state = {
            "_seen_indptr": seen.indptr.astype(np.int64),
            "_seen_indices": seen.indices.astype(np.int32),
            "_popularity": self.popularity_,
            **{k: np.ascontiguousarray(v) for k, v in self._state().items()},
        }
        save_file(state, str(out / "state.safetensors"))
        self._save_files(out)
        config = {
            "format": "lmrec-model",
            "version": FORMAT_VERSION,
            "lmrec_version": __version__,
            "model": self.name,
            "class": f"{type(self).__module__}:{type(self).__qualname__}",
            "params": self.get_params(),
            "fitted": self._fitted_config(),
            "n_users": self.n_users_,
            "n_items": self.n_items_,
        }
        (out / "config.json").write_text(json.dumps(config, indent=2) + "\n")
        return out

    @classmethod
    def load(cls, path: str | Path) -> Recommender:
        """Load any saved model (the class is read from ``config.json``)."""
        src = Path(path)
        cfg_path = src / "config.json"
        if not cfg_path.is_file():
            raise UsageError(f"{src}: not a saved lmrec model (no config.json)")
        config = json.loads(cfg_path.read_text())
        check_format(config, "lmrec-model", FORMAT_VERSION, cfg_path)
        klass = _saved_class(config)
        if cls is not Recommender and not issubclass(klass, cls):
            raise UsageError(f"{src} holds a '{config['model']}' model, not {cls.__name__}")
        model = klass(**config["params"])
        state = load_file(str(src / "state.safetensors"))
        model.n_users_ = int(config["n_users"])
        model.n_items_ = int(config["n_items"])
        indptr = state.pop("_seen_indptr")
        indices = state.pop("_seen_indices")
        model.seen_ = sp.csr_matrix(
            (np.ones(len(indices), dtype=np.float32), indices, indptr),
            shape=(model.n_users_, model.n_items_),
        )
        model.popularity_ = state.pop("_popularity")
        model.fitted_config_ = dict(config.get("fitted") or {})
        model._set_state(state)
        model._load_files(src)
        return model

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"


def _saved_class(config: dict[str, Any]) -> type[Recommender]:
    """The class of a saved model: by its registered name, else by its import path."""
    from lmrec.models.registry import get_model_class

    try:
        return get_model_class(config["model"])
    except UsageError:
        if ":" not in str(config.get("class", "")):
            raise
        return get_model_class(config["class"])


def request_times(at: int | IntArray | None, n: int) -> IntArray | None:
    """``at`` as one request time per user (a single time applies to all)."""
    if at is None:
        return None
    when = np.asarray(at)
    if when.ndim == 0:
        when = np.full(n, when)
    if when.shape != (n,) or not np.issubdtype(when.dtype, np.integer):
        raise UsageError(
            f"at must be one integer Unix time per user ({n}), not {when.dtype} of shape "
            f"{when.shape}"
        )
    return when.astype(np.int64)


def cart_times(
    times: Sequence[IntArray] | None, carts: Sequence[IntArray]
) -> list[IntArray] | None:
    """``times`` as one integer array per cart, as long as its cart."""
    if times is None:
        return None
    if len(times) != len(carts):
        raise UsageError(f"times must have one array per cart ({len(carts)}), not {len(times)}")
    out = []
    for i, (t, c) in enumerate(zip(times, carts, strict=True)):
        arr = np.asarray(t)
        if arr.shape != (len(c),) or (len(arr) and not np.issubdtype(arr.dtype, np.integer)):
            raise UsageError(
                f"times[{i}] must hold one integer Unix time per item of cart {i} ({len(c)}), "
                f"not {arr.dtype} of shape {arr.shape}"
            )
        out.append(arr.astype(np.int64))
    return out


def cart_items(carts: Sequence[IntArray], n_items: int) -> IntArray:
    """The carts' item indices, concatenated in order; an index outside ``0..n_items - 1``
    is an error."""
    parts = [np.asarray(c, dtype=np.int64) for c in carts]
    cols: IntArray = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
    if len(cols) and (cols.min() < 0 or cols.max() >= n_items):
        raise UsageError(f"cart item index out of range 0..{n_items - 1}")
    return cols


def cart_matrix(carts: Sequence[IntArray], n_items: int) -> sp.csr_matrix:
    """One binary row per cart over ``n_items`` items (indices out of range are an error)."""
    lengths = [len(c) for c in carts]
    cols = cart_items(carts, n_items)
    rows = np.repeat(np.arange(len(carts)), lengths)
    m: sp.csr_matrix = sp.csr_matrix(
        (np.ones(len(cols), dtype=np.float32), (rows, cols)), shape=(len(carts), n_items)
    )
    m.data[:] = 1.0  # an item twice in a cart counts once
    return m


def _spans(starts: np.ndarray, ends: np.ndarray) -> IntArray:
    """The positions ``starts[i] .. ends[i] - 1`` of every span, concatenated."""
    lengths = ends - starts
    if not len(lengths):
        return np.zeros(0, dtype=np.int64)
    offsets = np.repeat(starts - np.concatenate([[0], np.cumsum(lengths)[:-1]]), lengths)
    return np.arange(int(lengths.sum()), dtype=np.int64) + offsets


def select_rows(matrix: sp.csr_matrix, rows: IntArray) -> sp.csr_matrix:
    """``matrix[rows]`` for a CSR matrix, built from its arrays directly: for the few rows of
    one request, scipy's fancy indexing costs more than the model's scoring."""
    starts, ends = matrix.indptr[rows], matrix.indptr[rows + 1]
    take = _spans(starts, ends)
    indptr = np.concatenate([[0], np.cumsum(ends - starts)]).astype(matrix.indptr.dtype)
    return sp.csr_matrix(
        (matrix.data[take], matrix.indices[take], indptr), shape=(len(rows), matrix.shape[1])
    )


def top_n(scores: np.ndarray, n: int) -> tuple[IntArray, FloatArray]:
    """Per row, the ``n`` highest finite scores (ties: lower item index first), padded with -1/NaN."""
    n_rows, n_items = scores.shape
    k = min(n, n_items)
    if k < n_items:
        part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    else:
        part = np.tile(np.arange(n_items), (n_rows, 1))
    part_scores = np.take_along_axis(scores, part, axis=1)
    order = np.lexsort((part, -part_scores), axis=1)
    ids = np.take_along_axis(part, order, axis=1).astype(np.int64)
    vals = np.take_along_axis(part_scores, order, axis=1).astype(np.float32)
    bad = ~np.isfinite(vals)
    ids[bad] = -1
    vals[bad] = np.nan
    if k < n:
        ids = np.pad(ids, ((0, 0), (0, n - k)), constant_values=-1)
        vals = np.pad(vals, ((0, 0), (0, n - k)), constant_values=np.nan)
    return ids, vals
