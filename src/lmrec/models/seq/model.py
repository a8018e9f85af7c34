"""The ``sequential`` recommender: the sequence network behind the Recommender interface."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any, ClassVar, cast

import numpy as np
import scipy.sparse as sp
import torch

from lmrec._types import FloatArray, IntArray
from lmrec.data.interactions import Interactions
from lmrec.errors import UsageError
from lmrec.models.base import Recommender, cart_items, cart_times, request_times
from lmrec.models.seq.carts import CartInputs, cart_inputs
from lmrec.models.seq.cold import calibrated_scale, fill_cold_rows, new_item_vectors
from lmrec.models.seq.config import SequentialConfig, pick_device
from lmrec.models.seq.fit import fit_networks, network_config, training_data
from lmrec.models.seq.inputs import StoredSequences
from lmrec.models.seq.net import SeqEnsemble, SeqNet
from lmrec.models.seq.onnx import export_sequential, runtime_choice
from lmrec.models.seq.settings import MAX_LEN_CAP, Resolved
from lmrec.models.seq.shared import encode_last_shared, split_shared
from lmrec.models.seq.storage import load_networks, network_state
from lmrec.models.seq.train import (
    next_context_codes,
    right_align,
)
from lmrec.onnx.saved import ExportsOnnx
from lmrec.search_space import Choice, FloatRange, Space
from lmrec.text.encoder import TextEncoder
from lmrec.text.finetune import FineTuned

__all__ = ["SequentialConfig", "SequentialRecommender"]


class SequentialRecommender(ExportsOnnx, Recommender):
    """Next-item prediction with a causal Transformer over each user's time-ordered actions.

    Trained with softmax cross-entropy at every position of overlapping windows (``max_len``
    actions ending every ``window_stride``), each position's softmax leaving out the items
    before it (``exclude_seen``) and spreading ``label_smoothing`` of its target over the
    items it covers: the whole catalog (``softmax="full"``) or the batch's targets and
    ``negatives`` sampled items with the log-Q correction (``"sampled"``). Held-out last
    actions (of at most ``valid_users`` users) stop training after ``patience`` epochs without
    a better NDCG@10, and a moving average of the weights (``weight_averaging``) is what is
    judged and kept. Settings left as None (or ``"auto"``) follow from the data
    (:func:`~lmrec.models.seq.settings.resolve`; the fitted ones are ``settings_``).

    An item's vector is its id embedding plus a learned projection of its text embedding. An
    item never seen in training (or added after it) takes, by default
    (``cold_items="neighbours"``), the mean vector of the trained items with the nearest texts,
    times a factor the fit calibrates on trained items (``cold_scale``,
    :mod:`~lmrec.models.seq.cold`); with ``"text"``, its text's projection alone, a pathway
    ``id_dropout`` trains to carry an item. ``finetune_encoder`` first fine-tunes the text
    encoder on the items users take one after the other (saved with the model, used for new
    items).
    ``next_context`` gives each position the part of the day, weekday and time since the
    previous action of the action it predicts; when scoring, pass the request's time as
    ``at``. Options: ``time_gaps``, ``event_features``, ``n_models`` (an ensemble), ``refit``
    (train again on every action), ``lr_plateau``. A fit stops after ``time_budget_s`` of
    training (an hour by default; None: no limit). What each default bought
    is in ``benchmarks/RESULTS.md`` and ``benchmarks/notes/``.
    """

    name: ClassVar[str] = "sequential"
    uses_history: ClassVar[bool] = True
    #: Called after every epoch with (network, history row); for benchmarks, not a parameter.
    epoch_callback: Callable[[SeqNet, dict[str, Any]], None] | None = None
    #: the text encoder fine-tuned by this fit (or loaded with the model), when there is one
    encoder_: FineTuned | None = None
    _encoder_dir: Path | None = None

    def __init__(self, config: SequentialConfig | None = None, **params: Any) -> None:
        """``config``, with any of its fields given by name in ``params`` replacing its own."""
        self.config = replace(config or SequentialConfig(), **params)

    def get_params(self) -> dict[str, Any]:
        return asdict(self.config)

    @classmethod
    def tuning_space(cls) -> Space:
        """What ``--search tpe`` may try; each trial's held-out curve can prune it."""
        return {
            "dropout": FloatRange(0.1, 0.5),
            "learning_rate": FloatRange(1e-3, 6e-3, log=True),
            "label_smoothing": FloatRange(0.0, 0.4),
            "embedding_size": Choice((32, 64, 128)),
        }

    @property
    def text_encoder(self) -> str | TextEncoder | None:
        """The sentence encoder of the item texts (None: no text): the one fine-tuned on this
        model's training data where ``finetune_encoder`` made one, else ``text_encoder``."""
        encoder = self.encoder_
        if encoder is None and self._encoder_dir is not None:
            from lmrec.text.finetune import load_finetuned

            encoder = self.encoder_ = load_finetuned(self._encoder_dir)
        return encoder if encoder is not None else self.config.text_encoder

    @property
    def stride(self) -> int:
        """Actions between the ends of consecutive training windows: that of the fit when
        fitted, else ``window_stride``, or half of ``max_len`` (its cap when None)."""
        if hasattr(self, "settings_"):
            return self.settings_.stride
        if self.config.window_stride is not None:
            return self.config.window_stride
        return max(1, (self.config.max_len or MAX_LEN_CAP) // 2)

    @property
    def max_len(self) -> int:
        """The window length the network reads (that of the fit when fitted)."""
        if hasattr(self, "network_"):
            return int(self.network_.max_len)
        return self.config.max_len or MAX_LEN_CAP

    # -- fitting --------------------------------------------------------------------------------
    def _fit(self, data: Interactions) -> None:
        if self.config.n_models < 1:
            raise UsageError(f"n_models must be at least 1, not {self.config.n_models}")
        if self.config.softmax not in ("auto", "full", "sampled"):
            raise UsageError(f"softmax must be auto, full or sampled, not {self.config.softmax!r}")
        if self.config.cold_items not in ("neighbours", "text"):
            raise UsageError(
                f"cold_items must be neighbours or text, not {self.config.cold_items!r}"
            )
        scale = self.config.cold_scale
        if scale is not None and not (np.isfinite(scale) and scale > 0):
            raise UsageError(f"cold_scale must be a positive number or None, not {scale!r}")
        if self.config.num_threads:
            torch.set_num_threads(self.config.num_threads)
        torch.manual_seed(self.config.random_state)
        device = pick_device(self.config.device)
        prep = training_data(self, data, device)
        fitted = fit_networks(self, prep, device)
        self.net_: SeqNet | SeqEnsemble = fitted.net
        self.network_ = prep.cfg
        self.settings_ = prep.settings
        self.history_ = fitted.history
        self.best_epoch_ = fitted.best_epochs[0]
        self.best_epochs_ = fitted.best_epochs
        self.train_seconds_ = fitted.train_seconds
        self.windows_ = len(prep.windows.inputs)
        self.sequences_ = prep.sequences
        neighbours = self.config.cold_items == "neighbours" and prep.cfg.text_dim > 0
        never = prep.never.numpy()[1:]
        self.cold_rows_ = np.flatnonzero(never) if neighbours else np.zeros(0, np.int64)
        self.cold_scale_ = 1.0 if scale is None else float(scale)
        if neighbours and scale is None:
            self.cold_scale_ = calibrated_scale(
                self._first_network(),
                prep.windows,
                ~never,
                self._text_table(),
                seed=self.config.random_state,
            )
        self._item_cache: tuple[tuple[int, float], torch.Tensor] | None = None
        self._runtime = runtime_choice(None)

    def fit_summary(self) -> dict[str, Any]:
        """What the fit chose and did: the settings derived from the data, the epochs trained
        before early stopping, what stopped them (``patience``, ``time budget`` or
        ``epochs``), the best one, and the training seconds; a loaded model gives the summary
        saved with it."""
        self._check_fitted()
        if not hasattr(self, "history_"):
            saved = self.fitted_config_.get("summary")
            if saved is None:
                raise UsageError("this sequential model was saved without its fit summary")
            return dict(saved)
        stopping = [h for h in self.history_ if not h.get("refit")]
        return {
            "settings": self.settings_.to_dict(),
            "epochs": len(stopping),
            "stopped": stopping[-1].get("stopped", "epochs") if stopping else "epochs",
            "best_epoch": self.best_epoch_,
            "train_seconds": round(self.train_seconds_, 1),
            "cold_scale": round(self._cold_scale(), 3),
        }

    # -- scoring --------------------------------------------------------------------------------
    def user_tokens(self, user: int) -> tuple[np.ndarray, np.ndarray]:
        span = self.sequences_.span(user)
        return self.sequences_.tokens[span], self.sequences_.gaps[span]

    def user_events(self, user: int) -> np.ndarray:
        """Event codes of the user's training sequence (zeros without ``event_features``)."""
        return self.sequences_.events[self.sequences_.span(user)]

    def user_contexts(self, user: int, at: int | None = None) -> np.ndarray:
        """Next-action context codes of the user's training sequence, the last one that of a
        request at Unix time ``at`` (unknown when None)."""
        return next_context_codes(self.sequences_.times[self.sequences_.span(user)], at)

    @torch.no_grad()
    def score_sequences(
        self,
        tokens: list[np.ndarray],
        gaps: list[np.ndarray] | None = None,
        contexts: list[np.ndarray] | None = None,
        events: list[np.ndarray] | None = None,
    ) -> FloatArray:
        """Next-item scores (len(tokens), n_items) for token sequences (item index + 1)."""
        net = self.net_
        seqs = torch.from_numpy(right_align(tokens, self.max_len))
        g = c = e = None
        if net.cfg.n_gap_buckets and gaps is not None:
            g = torch.from_numpy(right_align(gaps, self.max_len))
        if net.cfg.n_context and contexts is not None:
            c = torch.from_numpy(right_align(contexts, self.max_len))
        if net.cfg.n_event_types and events is not None:
            e = torch.from_numpy(right_align(events, self.max_len))
        onnx = self._onnx()
        if onnx is not None:
            return onnx.scores(onnx.encode_last(seqs, g, e, c))
        items = self._item_vectors()
        h = net.encode_last(seqs, g, e, items, c)
        return (h @ items[1:].T).numpy().astype(np.float32)

    @torch.no_grad()
    def score_new_items(
        self, carts: Sequence[IntArray], users: IntArray | None, text_embeddings: np.ndarray
    ) -> FloatArray:
        """Scores (len(carts), n_new) of items added after training, through their text alone
        (as for cold items in training): ``text_embeddings`` from this model's encoder."""
        if not self.net_.cfg.text_dim:
            raise UsageError(
                "this sequential model was trained without text; it cannot score new items"
            )
        h = self._cart_states(carts, users)
        texts = np.asarray(text_embeddings, np.float32)
        if self.config.cold_items == "neighbours":
            new = new_item_vectors(
                self._item_vectors(), self._text_table(), self._cold_rows(), texts,
                self._cold_scale(),
            )  # fmt: skip
        else:
            new = self.net_.text_proj(torch.from_numpy(texts))
        return (h @ new.T).numpy().astype(np.float32)

    @torch.no_grad()
    def _cart_states(
        self,
        carts: Sequence[IntArray],
        users: IntArray | None,
        at: int | IntArray | None = None,
        times: Sequence[IntArray] | None = None,
    ) -> torch.Tensor:
        """The newest position's hidden state (len(carts), C) of each user's sequence + cart."""
        inputs = self._cart_inputs(carts, users, at, times)
        tokens = right_align(inputs.tokens, self.max_len)
        ctx, ev = inputs.contexts, inputs.events
        c = None if ctx is None else right_align(ctx, self.max_len)
        e = None if ev is None else right_align(ev, self.max_len)
        onnx = self._onnx()
        unknown = not (c is not None and c.any()) and not (e is not None and e.any())
        shared = split_shared(tokens) if unknown else None  # e.g. the carts of reasons
        if shared is not None and (onnx is None or onnx.shared is not None):
            if onnx is not None:
                return onnx.encode_last_shared(shared.prefixes, shared.tails, shared.group)
            prefixes, tails, group = (
                torch.from_numpy(a) for a in (shared.prefixes, shared.tails, shared.group)
            )
            return encode_last_shared(self.net_, prefixes, tails, group, self._item_vectors())
        seqs = torch.from_numpy(tokens)
        ct = None if c is None else torch.from_numpy(c)
        et = None if e is None else torch.from_numpy(e)
        if onnx is not None:
            return onnx.encode_last(seqs, None, et, ct)
        return self.net_.encode_last(seqs, None, et, self._item_vectors(), ct)

    def _cart_inputs(
        self,
        carts: Sequence[IntArray],
        users: IntArray | None,
        at: int | IntArray | None = None,
        times: Sequence[IntArray] | None = None,
    ) -> CartInputs:
        cart_items(carts, self.n_items_)
        u = self._cart_users(len(carts), users)
        when = request_times(at, len(carts))
        return cart_inputs(self.sequences_, self.net_.cfg, carts, u, when, cart_times(times, carts))

    def _score(self, users: IntArray, history: sp.csr_matrix) -> FloatArray:
        return self._score_at(users, history, None)

    def _score_at(self, users: IntArray, history: sp.csr_matrix, at: IntArray | None) -> FloatArray:
        toks, gaps = zip(*(self.user_tokens(int(u)) for u in users), strict=True)
        events = [self.user_events(int(u)) for u in users]
        ctx = None
        if self.net_.cfg.n_context:
            when = [None if at is None or at[i] < 0 else int(at[i]) for i in range(len(users))]
            ctx = [self.user_contexts(int(u), w) for u, w in zip(users, when, strict=True)]
        out = np.empty((len(users), self.n_items_), dtype=np.float32)
        for start in range(0, len(users), 256):
            end = start + 256
            out[start:end] = self.score_sequences(
                list(toks[start:end]),
                list(gaps[start:end]),
                None if ctx is None else ctx[start:end],
                events[start:end],
            )
        empty = np.array([len(t) == 0 for t in toks])
        if empty.any():
            out[empty] = self.popularity_
        return out

    def score_carts(
        self,
        carts: Sequence[IntArray],
        users: IntArray | None = None,
        *,
        at: int | IntArray | None = None,
        times: Sequence[IntArray] | None = None,
    ) -> FloatArray:
        """Next-item scores with each cart as the most recent actions, after the user's own
        training sequence when ``users`` names a known user; ``at`` (the request's time) and
        ``times`` (when each cart item was added) set the next-action contexts."""
        self._check_fitted()
        inputs = self._cart_inputs(carts, users, at, times)
        tokens, ctx, ev = inputs.tokens, inputs.contexts, inputs.events
        out = np.empty((len(tokens), self.n_items_), dtype=np.float32)
        for start in range(0, len(tokens), 256):
            end = start + 256
            out[start:end] = self.score_sequences(
                tokens[start:end],
                None,
                None if ctx is None else ctx[start:end],
                None if ev is None else ev[start:end],
            )
        none = np.array([len(t) == 0 for t in tokens], dtype=bool)
        if none.any():
            out[none] = self.popularity_
        return out

    # -- two towers: score = query_vectors @ item_matrix().T (for ANN retrieval) --------------
    def item_matrix(self) -> FloatArray:
        """The cached item table as a read-only float32 view: no copy of the catalog per call
        (reasons and retrieval read it on every request)."""
        out = self._item_vectors()[1:].detach().numpy().astype(np.float32, copy=False).view()
        out.flags.writeable = False
        return out

    @torch.no_grad()
    def query_vectors(
        self,
        carts: Sequence[IntArray],
        users: IntArray | None = None,
        *,
        at: int | IntArray | None = None,
        times: Sequence[IntArray] | None = None,
    ) -> FloatArray:
        """The hidden state each :meth:`score_carts` row is scored with."""
        return self._cart_states(carts, users, at, times).numpy().astype(np.float32)

    def _item_vectors(self) -> torch.Tensor:
        """The network's item table, computed once per fitted state (the text projection over
        the whole catalog is half the cost of scoring one sequence otherwise)."""
        key = (id(self.net_), self._cold_scale())
        cache: tuple[tuple[int, float], torch.Tensor] | None = getattr(self, "_item_cache", None)
        if cache is None or cache[0] != key:
            with torch.no_grad():
                vec = self.net_.eval().item_vectors()
            rows = self._cold_rows()  # items without training actions: from their neighbours
            cache = (
                key,
                fill_cold_rows(vec, self._text_table(), rows, key[1]) if len(rows) else vec,
            )
            self._item_cache = cache
        return cache[1]

    def _cold_rows(self) -> np.ndarray:
        """The items without training actions whose vectors come from their neighbours."""
        return getattr(self, "cold_rows_", np.zeros(0, np.int64))

    def _cold_scale(self) -> float:
        """The factor of the neighbours' mean vectors (1.0 for a model saved without one)."""
        return float(getattr(self, "cold_scale_", 1.0))

    def _first_network(self) -> SeqNet:
        """The network, or an ensemble's first one."""
        net = self.net_.members[0] if isinstance(self.net_, SeqEnsemble) else self.net_
        return cast(SeqNet, net)

    def _text_table(self) -> np.ndarray:
        """The item texts' embeddings the network was built with (n_items, text_dim)."""
        text: torch.Tensor = self._first_network().text  # type: ignore[assignment]
        return text[1:].numpy()

    def item_vectors(self) -> FloatArray:
        """Each item's vector (n_items, embedding_size), as it is scored."""
        return self._item_vectors()[1:].numpy().astype(np.float32)

    # -- storage --------------------------------------------------------------------------------
    def _state(self) -> dict[str, np.ndarray]:
        cold = {
            "cold_rows": self._cold_rows().astype(np.int64),
            "cold_scale": np.array([self._cold_scale()], dtype=np.float64),
        }
        return network_state(self.net_) | self.sequences_.state() | cold

    def _fitted_config(self) -> dict[str, Any]:
        n = len(self.net_.members) if isinstance(self.net_, SeqEnsemble) else 0
        out: dict[str, Any] = {"network": self.network_.to_dict(), "members": n}
        if hasattr(self, "settings_"):
            out["settings"] = self.settings_.to_dict()
        if hasattr(self, "history_") or "summary" in getattr(self, "fitted_config_", {}):
            out["summary"] = self.fit_summary()
        return out

    def _save_files(self, folder: Path) -> None:
        encoder = self.text_encoder
        if isinstance(encoder, FineTuned):
            encoder.save(folder / "encoder")

    def _load_files(self, folder: Path) -> None:
        self.encoder_ = None
        self._encoder_dir = folder / "encoder" if (folder / "encoder").is_dir() else None
        self._runtime = runtime_choice(folder)

    # -- ONNX Runtime (lmrec.onnx.saved.ExportsOnnx) -----------------------------------------
    def _require_fitted(self) -> None:
        self._check_fitted()

    def _write_onnx(self, folder: Path, precision: str) -> dict[str, Any]:
        return export_sequential(self.net_, self._item_vectors(), folder, precision=precision)

    def _runtime_for(self, folder: Path | None) -> Any:
        return runtime_choice(folder)

    def _set_state(self, state: dict[str, np.ndarray]) -> None:
        self.net_, self.network_ = load_networks(
            state,
            self.fitted_config_,
            lambda text, context, events: network_config(
                self, self.n_items_, text, context, events
            ),
        )
        if "settings" in self.fitted_config_:
            self.settings_ = Resolved(**self.fitted_config_["settings"])
        self._item_cache = None
        self.cold_rows_ = state.get("cold_rows", np.zeros(0, np.int64)).astype(np.int64)
        self.cold_scale_ = float(state["cold_scale"][0]) if "cold_scale" in state else 1.0
        self.sequences_ = StoredSequences.from_state(state)
