"""How the ``sequential`` model is fitted: its training windows and held-out actions built
from the interactions, then one network per ensemble member trained on them (and, with
``refit``, trained again on every action)."""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from lmrec.data.interactions import Interactions
from lmrec.errors import UsageError
from lmrec.models.seq.config import N_GAP_BUCKETS
from lmrec.models.seq.inputs import StoredSequences, user_event_codes, user_sequences
from lmrec.models.seq.net import SeqConfig, SeqEnsemble, SeqNet
from lmrec.models.seq.settings import Resolved, resolve
from lmrec.models.seq.train import (
    N_CONTEXT_CODES,
    VALUE_CODES,
    SeqBatch,
    TrainConfig,
    Validation,
    gap_buckets,
    make_windows,
    next_context_codes,
    right_align,
    train,
)

if TYPE_CHECKING:
    from lmrec.models.seq.model import SequentialRecommender

__all__ = [
    "Fitted",
    "TrainingData",
    "fit_networks",
    "network_config",
    "text_embeddings",
    "training_data",
]


@dataclass(frozen=True)
class TrainingData:
    """What the networks are trained on: their config, the item texts' embeddings, training
    windows without each user's last action (``windows``) and with it (``full``, for the
    refit), the held-out last actions, the items that never occur in training, and every
    user's sequence as the fitted model keeps it."""

    cfg: SeqConfig
    settings: Resolved
    text: np.ndarray | None
    windows: SeqBatch
    full: SeqBatch
    valid: Validation | None
    never: torch.Tensor
    sequences: StoredSequences


@dataclass(frozen=True)
class Fitted:
    net: SeqNet | SeqEnsemble
    history: list[dict[str, Any]]
    best_epochs: list[int]
    train_seconds: float


def network_config(
    model: SequentialRecommender,
    n_items: int,
    text_dim: int,
    n_context: int,
    n_event_types: int = 0,
    settings: Resolved | None = None,
) -> SeqConfig:
    """The network ``model``'s parameters describe, for a catalog of ``n_items`` items (with
    the window length and id dropout of ``settings`` when given)."""
    config = model.config
    id_dropout = settings.id_dropout if settings is not None else config.id_dropout
    return SeqConfig(
        n_items=n_items,
        max_len=settings.max_len if settings is not None else model.max_len,
        dim=config.embedding_size,
        n_layers=config.n_layers,
        n_heads=config.n_heads,
        dropout=config.dropout,
        text_dim=text_dim,
        use_ids=config.use_ids,
        n_gap_buckets=N_GAP_BUCKETS if config.time_gaps else 0,
        id_dropout=id_dropout or 0.0,
        n_context=n_context,
        n_event_types=n_event_types,
    )


def text_embeddings(model: SequentialRecommender, data: Interactions) -> np.ndarray | None:
    """The item texts' embeddings by the model's ``text_encoder`` (None without text, or when
    every item's text is only its id); with ``finetune_encoder``, by that encoder fine-tuned
    on the items users take one after the other in ``data`` (kept as ``model.encoder_``)."""
    model.encoder_ = None
    model._encoder_dir = None
    config = model.config
    if config.text_encoder is None:
        return None
    from lmrec.text import encode_items

    texts = data.item_texts()
    if texts is None:
        return None
    if not config.finetune_encoder:
        return encode_items(texts, config.text_encoder, progress=config.progress)
    from lmrec.text.finetune import FineTuning, finetune_encoder, successive_pairs

    cfg = FineTuning(
        max_pairs=config.finetune_pairs, epochs=config.finetune_epochs, seed=config.random_state
    )
    pairs = successive_pairs(data.sequences(), cfg.max_pairs, seed=cfg.seed)
    model.encoder_ = finetune_encoder(
        config.text_encoder, texts, pairs, cfg, progress=config.progress
    )
    return encode_items(texts, model.encoder_, progress=config.progress)


def training_data(
    model: SequentialRecommender, data: Interactions, device: torch.device
) -> TrainingData:
    """Windows of ``max_len`` actions ending every ``stride`` actions (both from
    :func:`~lmrec.models.seq.settings.resolve` where not given), each user's last action held
    out for early stopping (users with at least three; a seeded sample of ``valid_users`` of
    them when there are more)."""
    text = text_embeddings(model, data)
    use_context = model.config.next_context and not data.time_is_order
    seqs, stamps = user_sequences(data)
    names, codes = user_event_codes(data, seqs, model.config.event_features)
    settings = resolve(
        model.config,
        np.array([len(s) for s in seqs]),
        data.n_items,
        has_text=text is not None,
        on_gpu=device.type == "cuda",
    )
    if not 0 < settings.stride <= settings.max_len:
        raise UsageError(
            f"window_stride must be in [1, max_len={settings.max_len}], not {settings.stride}"
        )
    cfg = network_config(
        model,
        data.n_items,
        0 if text is None else text.shape[1],
        N_CONTEXT_CODES * use_context,
        len(names) * VALUE_CODES,
        settings,
    )
    tokens = [s.astype(np.int64) + 1 for s in seqs]
    gaps = [gap_buckets(t, cfg.n_gap_buckets) for t in stamps]
    contexts = [
        next_context_codes(t) if use_context else np.zeros(len(t), np.int64) for t in stamps
    ]
    held = [u for u, s in enumerate(seqs) if len(s) >= 3]
    if settings.valid_users is not None and len(held) > settings.valid_users:
        # a seeded sample is enough to stop on; the others keep their last action to train on
        rng = np.random.default_rng(model.config.random_state)
        held = sorted(rng.choice(held, settings.valid_users, replace=False).tolist())
    is_held = np.zeros(len(seqs), dtype=bool)
    is_held[held] = True

    def drop_held(rows: list[np.ndarray]) -> list[np.ndarray]:
        return [r[:-1] if h else r for r, h in zip(rows, is_held, strict=True)]

    stride, max_len = settings.stride, settings.max_len
    windows = make_windows(
        drop_held(tokens), drop_held(gaps), max_len, drop_held(contexts), drop_held(codes),
        stride=stride,
    )  # fmt: skip
    valid = None
    if held:

        def prefixes(rows: list[np.ndarray]) -> torch.Tensor:
            return torch.from_numpy(right_align([rows[u][:-1] for u in held], max_len))

        valid = Validation(
            prefixes=prefixes(tokens),
            gaps=prefixes(gaps) if cfg.n_gap_buckets else None,
            # the last prefix position holds the held-out action's context (its request)
            contexts=prefixes(contexts) if cfg.n_context else None,
            targets=torch.tensor([int(seqs[u][-1]) for u in held]),
            seen=[np.unique(seqs[u][:-1]) for u in held],
            events=prefixes(codes) if cfg.n_event_types else None,
        )
    full = windows
    if model.config.refit and held:
        full = make_windows(tokens, gaps, max_len, contexts, codes, stride=stride)
    occurred = np.zeros(data.n_items + 1, dtype=bool)
    occurred[np.unique(full.inputs.numpy())] = True
    occurred[np.unique(full.targets.numpy())] = True
    return TrainingData(
        cfg, settings, text, windows, full, valid, torch.from_numpy(~occurred),
        StoredSequences.from_rows(tokens, gaps, stamps, codes),
    )  # fmt: skip


def fit_networks(model: SequentialRecommender, prep: TrainingData, device: torch.device) -> Fitted:
    """``model.config.n_models`` networks, each from its own seed, early-stopped on the held-out
    actions; with a refit, each trained again from its seed on every action for as many
    epochs. Items that never occur in training get a zero id vector, so their text alone
    scores them."""
    refitting = prep.full is not prep.windows
    budget = model.config.time_budget_s
    tcfg = TrainConfig(
        epochs=model.config.epochs,
        batch_size=prep.settings.batch_size,
        learning_rate=model.config.learning_rate,
        patience=prep.settings.patience,
        softmax=prep.settings.softmax,
        negatives=prep.settings.negatives,
        lr_plateau=model.config.lr_plateau,
        label_smoothing=model.config.label_smoothing,
        exclude_seen=model.config.exclude_seen,
        weight_averaging=model.config.weight_averaging,
        # shared by the networks and, when refitting, by both of each network's fits
        time_budget_s=None if budget is None else budget / model.config.n_models / (1 + refitting),
        seed=model.config.random_state,
        progress=model.config.progress,
    )
    text = None if prep.text is None else torch.from_numpy(prep.text)
    teacher = None
    if model.config.teacher is not None:
        from lmrec.models.seq.distill import load_teacher

        teacher = load_teacher(
            model.config.teacher,
            prep.cfg.n_items,
            prep.cfg.max_len,
            model.config.distill_weight,
            model.config.distill_temperature,
        )
        teacher = replace(teacher, net=teacher.net.to(device))

    def fresh(seed: int) -> SeqNet:
        torch.manual_seed(seed)
        return SeqNet(prep.cfg, text).to(device)

    start = time.perf_counter()
    members: list[SeqNet] = []
    history: list[dict[str, Any]] = []
    bests: list[int] = []
    for i in range(model.config.n_models):
        seed = model.config.random_state + i
        # the first network from the generator as the model seeded it, the others afresh
        net = SeqNet(prep.cfg, text).to(device) if i == 0 else fresh(seed)
        rows, best = train(
            net, prep.windows, prep.valid, replace(tcfg, seed=seed), device,
            on_epoch=model.epoch_callback, teacher=teacher,
        )  # fmt: skip
        if refitting:  # again from the same seed, on every action, as long
            net = fresh(seed)
            again, _ = train(
                net, prep.full, None, replace(tcfg, seed=seed, epochs=best), device,
                teacher=teacher,
            )  # fmt: skip
            rows += [{**r, "refit": True} for r in again]
        history += [{**r, "member": i} for r in rows] if model.config.n_models > 1 else rows
        bests.append(best)
        with torch.no_grad():
            net.item_emb.weight[prep.never] = 0.0
        members.append(net.cpu().eval())
    net_: SeqNet | SeqEnsemble = members[0] if len(members) == 1 else SeqEnsemble(members).eval()
    return Fitted(net_, history, bests, time.perf_counter() - start)
