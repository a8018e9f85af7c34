"""The ``sequential`` recommender: the sequence network behind the Recommender interface."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp
import torch

from lmrec._types import FloatArray, IntArray
from lmrec.data.interactions import Interactions
from lmrec.errors import UsageError
from lmrec.models.base import Recommender, cart_times, request_times
from lmrec.models.seq.net import SeqConfig, SeqEnsemble, SeqNet
from lmrec.models.seq.train import (
    N_CONTEXT_CODES,
    VALUE_CODES,
    TrainConfig,
    Validation,
    event_codes,
    gap_buckets,
    make_windows,
    next_context_codes,
    right_align,
    train,
)

__all__ = ["SequentialRecommender"]

N_GAP_BUCKETS = 32


def pick_device(device: str) -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


class SequentialRecommender(Recommender):
    """Next-item prediction with a causal Transformer over each user's time-ordered actions.

    Trained with full-softmax cross-entropy at every position. The last action of each user in
    the fitted data is held out for early stopping on NDCG@10 (in ``lmrec evaluate``'s final
    fit on train + validation, that is exactly the validation split). An item's vector is its id
    embedding plus a learned projection of its text embedding, so items that never occurred in
    training are still scored through their text.

    ``label_smoothing`` (default 0.3) spreads that share of each target over all items: on
    MovieLens 100K it raised the held-out-action NDCG@10 from 0.123 (none) to 0.127 (0.1) and
    0.129 (0.3) on validation (benchmarks/RESULTS.md, "Sequential model: settings tried").

    ``exclude_seen`` (default on): each training position leaves the items before it in its
    window out of its softmax (its target excepted), as scoring leaves a user's earlier items
    out of the ranking; the network no longer spends itself pushing them down. Fitted on the
    training split of MovieLens 100K and judged on the validation split (no refit), NDCG@10
    was 0.1292 without and 0.1345 with it. On the test split the gain is small: 0.1175 without
    and 0.1185 with it, both with patience 20 and the refit (benchmarks/RESULTS.md).

    ``window_stride`` (default None: half of ``max_len``): a training window ends every that
    many actions, so windows overlap and each action is the target of the window where the
    most actions precede it (:func:`~lmrec.models.seq.train.make_windows`); ``max_len`` cuts
    disjoint windows, whose first positions see only a few actions, unlike the requests they
    must answer. Each epoch costs about a fifth more. Fitted on the training split of
    MovieLens 100K and judged on the validation split (no refit, patience 20), NDCG@10 was
    0.1365 with disjoint windows, 0.1431 with stride 40 and 0.1449 with 25.

    ``dropout`` (default 0.4) on embeddings, attention and feed-forward layers. With the
    overlapping windows (more training positions per user), validation NDCG@10 (as above) was
    0.1416 with 0.3, **0.1468** with 0.4 and 0.1449 with 0.5, the former default.

    ``patience`` (default 20): epochs without a better held-out NDCG@10 before training stops.
    That curve rises slowly for 100 epochs and more under noise of a few thousandths, so 10
    stopped some fits early: on the validation split (as above, no refit) 0.1264 after 43
    epochs with 10, 0.1365 after 123 with 20.

    ``lr_plateau`` (default 0: off) halves the learning rate after that many epochs without a
    better held-out NDCG@10, and again after as many more. On the validation split (as above,
    overlapping windows) 5 stopped after 79 epochs at 0.1351, against 0.1449 without: the
    smaller steps did not find a better held-out score before ``patience`` ran out.

    ``event_features`` (default off) gives each action its event type and value (a star rating,
    say; see :func:`~lmrec.models.seq.train.event_codes`) as input. Actions that reach the model
    without them (a cart, events sent to the service) are unknown (code 0). On the validation
    split of MovieLens 100K (as above, no refit, patience 20) the ratings did not help: NDCG@10
    0.1336 with them, 0.1365 without.

    ``weight_averaging`` (default 0.9) is the decay of a moving average of the weights over
    training steps; validation and the kept model use the average, which is less noisy than the
    last step's weights. Fitted on the training split and judged on the validation split of
    MovieLens 100K, NDCG@10 was 0.1167 without, 0.1194 with 0.9 and 0.1188 with 0.97.

    ``next_context`` (default on, for data with real timestamps) gives each position the context
    of the action it predicts: that action's part of the day, weekday or weekend, and the time
    since the previous action (:func:`~lmrec.models.seq.train.next_context_codes`). When
    scoring, the last position gets the request's: pass ``at`` (Unix seconds) to
    :meth:`score` or :meth:`recommend`; without it the context is unknown, as for a tenth of
    the training positions (``context_dropout``). Fitted on the training split of MovieLens
    100K and judged on the validation split (each user scored at the time of their held-out
    action), NDCG@10 was 0.1194 without and 0.1292 with it.

    ``refit`` (default off): once early stopping has chosen the number of epochs, a network is
    trained again from the same seed on every action, the held-out ones included, for that many
    epochs (without a held-out set, there is nothing to refit). The most recent action of every
    user, the one most like the next, then takes part in training; fitting takes about twice as
    long. Fitted on the training split of MovieLens 100K and judged on the validation split,
    NDCG@10 was 0.1292 without, 0.1333 with it, and 0.1316 when the early-stopped network was
    instead trained 3 more epochs on every action at a third of the learning rate; on the test
    split 0.1082 without and 0.1102 with it (benchmarks/RESULTS.md). ``time_budget_s`` is shared
    by the two fits: under a budget that stops training long before early stopping would, one
    longer fit (``refit=False``) is the better use of it. It was the default until the
    overlapping windows: they gain more on validation by themselves (0.1449 against 0.1379
    with disjoint windows and the refit) and, with them, the refit added nothing on test
    (0.1197 without, 0.1193 with it) while the whole fit grew to 641 s on 2 threads, past the
    10 minutes a fit may take on this CPU.

    ``n_models`` (default 1) trains that many networks, from seeds ``random_state``,
    ``random_state + 1``, ..., on the same data and scores with the mean of their logits
    (:class:`~lmrec.models.seq.net.SeqEnsemble`); training and scoring cost that many times
    more, and ``time_budget_s`` is shared among them. Judged as above, two networks reached
    NDCG@10 0.1322 against 0.1292 and 0.1280 for each alone; on the test split the gain was
    small (0.1082 -> 0.1086, benchmarks/RESULTS.md), so the default stays one network.
    """

    name: ClassVar[str] = "sequential"
    uses_history: ClassVar[bool] = True
    #: Called after every epoch with (network, history row); for benchmarks, not a parameter.
    epoch_callback: Callable[[SeqNet, dict[str, Any]], None] | None = None

    def __init__(
        self,
        max_len: int = 50,
        window_stride: int | None = None,
        embedding_size: int = 64,
        n_layers: int = 2,
        n_heads: int = 2,
        dropout: float = 0.4,
        epochs: int = 200,
        batch_size: int = 128,
        learning_rate: float = 3e-3,
        patience: int = 20,
        lr_plateau: int = 0,
        text_encoder: str | None = "all-MiniLM-L6-v2",
        use_ids: bool = True,
        time_gaps: bool = False,
        next_context: bool = True,
        event_features: bool = False,
        id_dropout: float = 0.0,
        label_smoothing: float = 0.3,
        exclude_seen: bool = True,
        weight_averaging: float = 0.9,
        time_budget_s: float | None = None,
        random_state: int = 0,
        n_models: int = 1,
        refit: bool = False,
        device: str = "auto",
        num_threads: int | None = None,
        progress: bool = False,
    ) -> None:
        self.max_len = max_len
        self.window_stride = window_stride
        self.embedding_size = embedding_size
        self.n_layers = n_layers
        self.n_heads = n_heads
        self.dropout = dropout
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.patience = patience
        self.lr_plateau = lr_plateau
        self.text_encoder = text_encoder
        self.use_ids = use_ids
        self.time_gaps = time_gaps
        self.next_context = next_context
        self.event_features = event_features
        self.id_dropout = id_dropout
        self.label_smoothing = label_smoothing
        self.exclude_seen = exclude_seen
        self.weight_averaging = weight_averaging
        self.time_budget_s = time_budget_s
        self.random_state = random_state
        self.n_models = n_models
        self.refit = refit
        self.device = device
        self.num_threads = num_threads
        self.progress = progress

    @property
    def stride(self) -> int:
        """Actions between the ends of consecutive training windows (``window_stride``, or
        half of ``max_len`` when that is None)."""
        return self.window_stride if self.window_stride is not None else max(1, self.max_len // 2)

    # -- fitting --------------------------------------------------------------------------------
    def _fit(self, data: Interactions) -> None:
        if self.n_models < 1:
            raise UsageError(f"n_models must be at least 1, not {self.n_models}")
        stride = self.stride
        if not 0 < stride <= self.max_len:
            raise UsageError(f"window_stride must be in [1, max_len={self.max_len}], not {stride}")
        if self.num_threads:
            torch.set_num_threads(self.num_threads)
        torch.manual_seed(self.random_state)
        device = pick_device(self.device)
        text = self._text_embeddings(data)
        use_context = self.next_context and not data.time_is_order
        seqs, stamps = self._user_sequences(data)
        names, codes = self._user_event_codes(data, seqs)
        cfg = self._net_config(
            data.n_items,
            0 if text is None else text.shape[1],
            N_CONTEXT_CODES * use_context,
            len(names) * VALUE_CODES,
        )
        net = SeqNet(cfg, None if text is None else torch.from_numpy(text)).to(device)
        tokens = [s.astype(np.int64) + 1 for s in seqs]
        gaps = [gap_buckets(t, cfg.n_gap_buckets) for t in stamps]
        contexts = [
            next_context_codes(t) if use_context else np.zeros(len(t), np.int64) for t in stamps
        ]
        held = [u for u, s in enumerate(seqs) if len(s) >= 3]
        is_held = _mask(len(seqs), held)

        def drop_held(rows: list[np.ndarray]) -> list[np.ndarray]:
            return [r[:-1] if h else r for r, h in zip(rows, is_held, strict=True)]

        windows = make_windows(
            drop_held(tokens),
            drop_held(gaps),
            self.max_len,
            drop_held(contexts),
            drop_held(codes),
            stride=stride,
        )
        valid = None
        if held:

            def prefixes(rows: list[np.ndarray]) -> torch.Tensor:
                return torch.from_numpy(right_align([rows[u][:-1] for u in held], self.max_len))

            valid = Validation(
                prefixes=prefixes(tokens),
                gaps=prefixes(gaps) if cfg.n_gap_buckets else None,
                # the last prefix position holds the held-out action's context (its request)
                contexts=prefixes(contexts) if cfg.n_context else None,
                targets=torch.tensor([int(seqs[u][-1]) for u in held]),
                seen=[np.unique(seqs[u][:-1]) for u in held],
                events=prefixes(codes) if cfg.n_event_types else None,
            )
        budget = self.time_budget_s
        refitting = bool(self.refit and held)
        tcfg = TrainConfig(
            epochs=self.epochs,
            batch_size=self.batch_size,
            learning_rate=self.learning_rate,
            patience=self.patience,
            lr_plateau=self.lr_plateau,
            label_smoothing=self.label_smoothing,
            exclude_seen=self.exclude_seen,
            weight_averaging=self.weight_averaging,
            # shared by the networks and, when refitting, by both of each network's fits
            time_budget_s=None if budget is None else budget / self.n_models / (1 + refitting),
            seed=self.random_state,
            progress=self.progress,
        )
        full = windows
        if refitting:
            full = make_windows(tokens, gaps, self.max_len, contexts, codes, stride=stride)
        # Items that never occurred as a training token keep a random id vector: zero it, so
        # they are scored by their text alone.
        occurred = np.zeros(data.n_items + 1, dtype=bool)
        occurred[np.unique(full.inputs.numpy())] = True
        occurred[np.unique(full.targets.numpy())] = True
        never = torch.from_numpy(~occurred)

        def fresh(seed: int) -> SeqNet:
            torch.manual_seed(seed)
            return SeqNet(cfg, None if text is None else torch.from_numpy(text)).to(device)

        start = time.perf_counter()
        members, history, bests = [], [], []
        for i in range(self.n_models):  # each from its own seed, on the same windows
            seed = self.random_state + i
            if i > 0:
                net = fresh(seed)
            rows, best = train(
                net, windows, valid, replace(tcfg, seed=seed), device, on_epoch=self.epoch_callback
            )
            if full is not windows:  # again from the same seed, on every action, as long
                net = fresh(seed)
                again, _ = train(net, full, None, replace(tcfg, seed=seed, epochs=best), device)
                rows += [{**r, "refit": True} for r in again]
            history += [{**r, "member": i} for r in rows] if self.n_models > 1 else rows
            bests.append(best)
            with torch.no_grad():
                net.item_emb.weight[never] = 0.0
            members.append(net.cpu().eval())
        self.net_: SeqNet | SeqEnsemble = (
            members[0] if len(members) == 1 else SeqEnsemble(members).eval()
        )
        self.history_ = history
        self.best_epoch_ = bests[0]
        self.best_epochs_ = bests
        self._item_cache: tuple[int, torch.Tensor] | None = None
        self.train_seconds_ = time.perf_counter() - start
        self.windows_ = len(windows.inputs)
        self._store_sequences(tokens, gaps, stamps, codes)

    def _net_config(
        self, n_items: int, text_dim: int, n_context: int, n_event_types: int = 0
    ) -> SeqConfig:
        return SeqConfig(
            n_items=n_items,
            max_len=self.max_len,
            dim=self.embedding_size,
            n_layers=self.n_layers,
            n_heads=self.n_heads,
            dropout=self.dropout,
            text_dim=text_dim,
            use_ids=self.use_ids,
            n_gap_buckets=N_GAP_BUCKETS if self.time_gaps else 0,
            id_dropout=self.id_dropout,
            n_context=n_context,
            n_event_types=n_event_types,
        )

    def _text_embeddings(self, data: Interactions) -> np.ndarray | None:
        if self.text_encoder is None:
            return None
        from lmrec.text import encode_items

        texts = data.items["text"].fill_null("").to_list() if "text" in data.items.columns else []
        if not texts:
            return None
        return encode_items(texts, self.text_encoder, progress=self.progress)

    @staticmethod
    def _user_sequences(data: Interactions) -> tuple[list[np.ndarray], list[np.ndarray]]:
        order = np.argsort(data.user_idx, kind="stable")  # data is in time order already
        users, items, stamps = data.user_idx[order], data.item_idx[order], data.timestamps[order]
        bounds = np.searchsorted(users, np.arange(data.n_users + 1))
        return (
            [items[bounds[u] : bounds[u + 1]] for u in range(data.n_users)],
            [stamps[bounds[u] : bounds[u + 1]] for u in range(data.n_users)],
        )

    def _user_event_codes(
        self, data: Interactions, seqs: list[np.ndarray]
    ) -> tuple[list[str], list[np.ndarray]]:
        """With ``event_features``, the event types of ``data`` and each user's actions' codes
        (:func:`~lmrec.models.seq.train.event_codes`), aligned with the sequences ``seqs`` of
        :meth:`_user_sequences`; else no types and zeros."""
        frame = data.frame
        if not self.event_features or "event" not in frame.columns:
            return [], [np.zeros(len(s), np.int64) for s in seqs]
        names = sorted(str(e) for e in frame["event"].drop_nulls().unique().to_list())
        values = (
            frame["value"].cast(float).fill_null(float("nan")).to_numpy()
            if "value" in frame.columns
            else np.full(len(frame), np.nan)
        )
        codes = event_codes(frame["event"].to_numpy(), values, names)
        order = np.argsort(data.user_idx, kind="stable")
        bounds = np.searchsorted(data.user_idx[order], np.arange(data.n_users + 1))
        return names, [codes[order[bounds[u] : bounds[u + 1]]] for u in range(data.n_users)]

    def _store_sequences(
        self,
        tokens: list[np.ndarray],
        gaps: list[np.ndarray],
        stamps: list[np.ndarray],
        codes: list[np.ndarray],
    ) -> None:
        lengths = np.array([len(t) for t in tokens], dtype=np.int64)
        self.seq_offsets_ = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)

        def flat(rows: list[np.ndarray]) -> np.ndarray:
            return (np.concatenate(rows) if rows else np.zeros(0)).astype(np.int64)

        self.seq_tokens_, self.seq_gaps_, self.seq_times_ = flat(tokens), flat(gaps), flat(stamps)
        self.seq_events_ = flat(codes)

    # -- scoring --------------------------------------------------------------------------------
    def user_tokens(self, user: int) -> tuple[np.ndarray, np.ndarray]:
        a, b = self.seq_offsets_[user], self.seq_offsets_[user + 1]
        return self.seq_tokens_[a:b], self.seq_gaps_[a:b]

    def user_events(self, user: int) -> np.ndarray:
        """Event codes of the user's training sequence (zeros without ``event_features``)."""
        return self.seq_events_[self.seq_offsets_[user] : self.seq_offsets_[user + 1]]

    def user_contexts(self, user: int, at: int | None = None) -> np.ndarray:
        """Next-action context codes of the user's training sequence, the last one that of a
        request at Unix time ``at`` (unknown when None)."""
        a, b = self.seq_offsets_[user], self.seq_offsets_[user + 1]
        return next_context_codes(self.seq_times_[a:b], at)

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
        new = self.net_.text_proj(torch.from_numpy(np.asarray(text_embeddings, np.float32)))
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
        seqs = torch.from_numpy(right_align(self._cart_tokens(carts, users), self.max_len))
        ctx = self._cart_contexts(carts, users, at, times)
        c = None if ctx is None else torch.from_numpy(right_align(ctx, self.max_len))
        ev = self._cart_events(carts, users)
        e = None if ev is None else torch.from_numpy(right_align(ev, self.max_len))
        return self.net_.encode_last(seqs, None, e, self._item_vectors(), c)

    def _cart_events(
        self, carts: Sequence[IntArray], users: IntArray | None
    ) -> list[np.ndarray] | None:
        """Event codes aligned with :meth:`_cart_tokens`: the user's training codes, then
        unknown (0) for the cart items."""
        if not self.net_.cfg.n_event_types:
            return None
        u = self._cart_users(len(carts), users)
        empty = np.zeros(0, dtype=np.int64)
        return [
            np.concatenate(
                [self.user_events(int(x)) if x >= 0 else empty, np.zeros(len(c), np.int64)]
            )
            for x, c in zip(u, carts, strict=True)
        ]

    def _cart_contexts(
        self,
        carts: Sequence[IntArray],
        users: IntArray | None,
        at: int | IntArray | None = None,
        times: Sequence[IntArray] | None = None,
    ) -> list[np.ndarray] | None:
        """Next-action context codes aligned with :meth:`_cart_tokens`: from the user's training
        times, the cart items' ``times`` and the request time ``at`` where given; unknown (0)
        where a time is missing (the gap to an item added at an unknown time is unknown)."""
        if not self.net_.cfg.n_context:
            return None
        u = self._cart_users(len(carts), users)
        when = request_times(at, len(carts))
        added = cart_times(times, carts)
        empty = np.zeros(0, dtype=np.int64)
        out = []
        for i, (x, c) in enumerate(zip(u, carts, strict=True)):
            request = None if when is None or when[i] < 0 else int(when[i])
            own = (
                self.seq_times_[self.seq_offsets_[x] : self.seq_offsets_[x + 1]]
                if x >= 0
                else empty
            )
            if added is not None:
                out.append(next_context_codes(np.concatenate([own, added[i]]), request))
            elif len(c) == 0:
                out.append(next_context_codes(own, request))
            else:
                out.append(np.concatenate([next_context_codes(own), np.zeros(len(c), np.int64)]))
        return out

    def _cart_tokens(self, carts: Sequence[IntArray], users: IntArray | None) -> list[np.ndarray]:
        """Token sequences: each user's training sequence (when known), then the cart."""
        u = self._cart_users(len(carts), users)
        empty = np.zeros(0, dtype=np.int64)
        return [
            np.concatenate(
                [self.user_tokens(int(x))[0] if x >= 0 else empty, np.asarray(c, np.int64) + 1]
            )
            for x, c in zip(u, carts, strict=True)
        ]

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
        tokens = self._cart_tokens(carts, users)
        ctx = self._cart_contexts(carts, users, at, times)
        ev = self._cart_events(carts, users)
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
        return self._item_vectors()[1:].detach().numpy().astype(np.float32)

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
        cache: tuple[int, torch.Tensor] | None = getattr(self, "_item_cache", None)
        if cache is None or cache[0] != id(self.net_):
            with torch.no_grad():
                cache = (id(self.net_), self.net_.eval().item_vectors())
            self._item_cache = cache
        return cache[1]

    def item_vectors(self) -> FloatArray:
        """Each item's learned vector (n_items, embedding_size)."""
        with torch.no_grad():
            return self.net_.item_vectors()[1:].numpy().astype(np.float32)

    # -- storage --------------------------------------------------------------------------------
    def _state(self) -> dict[str, np.ndarray]:
        state = {f"net.{k}": v.detach().cpu().numpy() for k, v in self.net_.state_dict().items()}
        state["seq_offsets"] = self.seq_offsets_
        state["seq_tokens"] = self.seq_tokens_
        state["seq_gaps"] = self.seq_gaps_
        state["seq_times"] = self.seq_times_
        state["seq_events"] = self.seq_events_
        return state

    def _set_state(self, state: dict[str, np.ndarray]) -> None:
        nets = {k[4:]: v for k, v in state.items() if k.startswith("net.")}
        n = 1 + max((int(k.split(".")[1]) for k in nets if k.startswith("members.")), default=-1)
        prefixes = [f"members.{i}." for i in range(n)] if n else [""]
        first = {k[len(prefixes[0]) :]: v for k, v in nets.items() if k.startswith(prefixes[0])}
        text_dim = first["text"].shape[1] if "text" in first else 0
        n_context = len(first["context_emb.weight"]) - 1 if "context_emb.weight" in first else 0
        n_events = len(first["event_emb.weight"]) - 1 if "event_emb.weight" in first else 0
        cfg = self._net_config(self.n_items_, text_dim, n_context, n_events)
        members = []
        for prefix in prefixes:
            net = SeqNet(cfg)
            net.load_state_dict(
                {k[len(prefix) :]: torch.from_numpy(v.copy()) for k, v in nets.items()
                 if k.startswith(prefix)}
            )  # fmt: skip
            members.append(net.eval())
        self.net_ = members[0] if n == 0 else SeqEnsemble(members).eval()
        self._item_cache = None
        self.seq_offsets_ = state["seq_offsets"]
        self.seq_tokens_ = state["seq_tokens"]
        self.seq_gaps_ = state["seq_gaps"]
        self.seq_times_ = state.get("seq_times", np.zeros_like(self.seq_gaps_))
        self.seq_events_ = state.get("seq_events", np.zeros_like(self.seq_gaps_))


def _mask(n: int, idx: list[int]) -> list[bool]:
    out = [False] * n
    for i in idx:
        out[i] = True
    return out
