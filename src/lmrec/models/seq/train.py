"""Training the sequence network: windows, batches, full-softmax loss, early stopping."""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import torch

from lmrec.models.seq.distill import Teacher, distillation_loss
from lmrec.models.seq.net import SeqNet, _cross_entropy
from lmrec.progress import task

__all__ = [
    "N_CONTEXT_CODES",
    "VALUE_CODES",
    "SeqBatch",
    "TrainConfig",
    "Validation",
    "event_codes",
    "gap_buckets",
    "make_windows",
    "next_context_codes",
    "right_align",
    "train",
]

_GAP_CODES = 32  # log2 buckets of the seconds since the previous action
#: codes of :func:`next_context_codes`: 4 parts of the day x weekday/weekend x 32 gap buckets
N_CONTEXT_CODES = 4 * 2 * _GAP_CODES
#: codes of an action's value in :func:`event_codes`: unknown, or rounded and clipped to 0..10
VALUE_CODES = 12


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 200
    batch_size: int = 128
    learning_rate: float = 1e-3
    weight_decay: float = 0.0
    label_smoothing: float = 0.0
    #: leave each position's earlier items out of its softmax, as scoring leaves them out
    exclude_seen: bool = False
    #: share of training positions whose next-action context is hidden (code 0), so the
    #: network also ranks well for requests that come without a time
    context_dropout: float = 0.1
    #: decay of an exponential moving average of the weights over steps (0: none); when set,
    #: validation and the kept state are those of the average
    weight_averaging: float = 0.0
    patience: int = 10  # epochs without a better validation NDCG@10 before stopping
    #: halve the learning rate after this many epochs without a better validation NDCG@10
    #: (0: never); the count starts again after each halving
    lr_plateau: int = 0
    time_budget_s: float | None = None  # stop after this much training time
    #: "full": every position's softmax covers the catalog; "sampled": it covers the batch's
    #: targets and ``negatives`` items drawn uniformly, each logit corrected by the log of its
    #: chance of being among them (log-Q), so the cost follows the batch, not the catalog
    softmax: str = "full"
    negatives: int = 1024
    seed: int = 0
    progress: bool = False


@dataclass(frozen=True)
class SeqBatch:
    """Right-aligned token windows (W, T): inputs, next-token targets, time-gap buckets, the
    codes of the next action's context and the inputs' event codes (zeros where not used)."""

    inputs: torch.Tensor
    targets: torch.Tensor
    gaps: torch.Tensor
    contexts: torch.Tensor
    events: torch.Tensor


@dataclass(frozen=True)
class Validation:
    """Held-out next actions: right-aligned prefixes, their gaps, next-action contexts and
    event codes (None where the network does not use them), target item indices, items to
    exclude."""

    prefixes: torch.Tensor
    gaps: torch.Tensor | None
    contexts: torch.Tensor | None
    targets: torch.Tensor
    seen: list[np.ndarray]
    events: torch.Tensor | None = None


def gap_buckets(timestamps: np.ndarray, n_buckets: int) -> np.ndarray:
    """1 + floor(log2(1 + seconds since the previous action)), clipped; the first action gets 1."""
    if n_buckets == 0:
        return np.zeros(len(timestamps), dtype=np.int64)
    gaps = np.diff(timestamps.astype(np.float64), prepend=timestamps[:1].astype(np.float64))
    b = np.floor(np.log2(1.0 + np.maximum(gaps, 0.0))).astype(np.int64) + 1
    return np.clip(b, 1, n_buckets)


def next_context_codes(timestamps: np.ndarray, request: int | None = None) -> np.ndarray:
    """Per action, a code (1..N_CONTEXT_CODES) of the context of the action that follows it:
    that action's part of the day (UTC) and weekday or weekend, and the log2-bucketed seconds
    between the two. The last action is followed by the request at Unix time ``request``
    (0, unknown, when None)."""
    t = np.asarray(timestamps, dtype=np.int64)
    if len(t) == 0:
        return np.zeros(0, dtype=np.int64)
    nxt = np.append(t[1:], t[-1] if request is None else int(request))
    daypart = (nxt % 86_400) // 3600 // 6
    weekend = ((nxt // 86_400 + 3) % 7 >= 5).astype(np.int64)  # 1970-01-01 was a Thursday
    seconds = np.maximum(nxt - t, 0).astype(np.float64)
    gap = np.minimum(np.floor(np.log2(1.0 + seconds)).astype(np.int64), _GAP_CODES - 1)
    codes = 1 + (daypart * 2 + weekend) * _GAP_CODES + gap
    if request is None:
        codes[-1] = 0
    return codes.astype(np.int64)


def event_codes(events: np.ndarray, values: np.ndarray, names: list[str]) -> np.ndarray:
    """Per action, a code (1..len(names) x VALUE_CODES) of its event type (its index in
    ``names``) and its value (a star rating, say): 0 where the value is missing, else 1 +
    the value rounded and clipped to 0..10. An event type not in ``names`` gets 0 (unknown)."""
    index = {name: i for i, name in enumerate(names)}
    kind = np.array([index.get(e, -1) if e is not None else -1 for e in events], dtype=np.int64)
    v = np.asarray(values, dtype=np.float64)
    known = np.isfinite(v)
    value = np.where(known, 1 + np.clip(np.round(np.where(known, v, 0.0)), 0, 10), 0)
    return np.where(kind >= 0, 1 + kind * VALUE_CODES + value.astype(np.int64), 0)


def right_align(rows: list[np.ndarray], length: int) -> np.ndarray:
    """Stack sequences into (len(rows), length), keeping the last ``length`` and left-padding 0."""
    out = np.zeros((len(rows), length), dtype=np.int64)
    for r, s in enumerate(rows):
        s = s[-length:]
        if len(s):
            out[r, length - len(s) :] = s
    return out


def make_windows(
    tokens: list[np.ndarray],
    gaps: list[np.ndarray],
    max_len: int,
    contexts: list[np.ndarray] | None = None,
    events: list[np.ndarray] | None = None,
    stride: int | None = None,
) -> SeqBatch:
    """Next-token training windows: a sequence of length L gives inputs s[:-1] and targets s[1:],
    cut from the end into windows of ``max_len`` so every action is a target exactly once.
    ``gaps``, ``contexts`` and ``events`` (per action, as long as its sequence) follow the
    inputs.

    With ``stride`` below ``max_len``, a window ends every ``stride`` actions and they overlap:
    each window's targets are its last ``stride`` (all of them in a sequence's first window),
    the others are padding (0) there, context only. Every action is still a target once, in
    the window where it has the most actions before it: at least ``max_len - stride`` (but
    those of a sequence's first window)."""
    step = max_len if stride is None else stride
    if not 0 < step <= max_len:
        raise ValueError(f"stride must be in [1, max_len={max_len}], not {stride}")
    ctx = contexts if contexts is not None else [np.zeros(len(s), np.int64) for s in tokens]
    ev = events if events is not None else [np.zeros(len(s), np.int64) for s in tokens]
    inp, tgt, gp, cx, evs = [], [], [], [], []
    for s, g, c, e in zip(tokens, gaps, ctx, ev, strict=True):
        if len(s) < 2:
            continue
        for end in range(len(s) - 1, 0, -step):
            start = max(0, end - max_len)
            inp.append(s[start:end])
            target = s[start + 1 : end + 1]
            if start > 0:  # the targets before its last ``step`` belong to an earlier window
                target = np.where(np.arange(start + 1, end + 1) > end - step, target, 0)
            tgt.append(target)
            gp.append(g[start:end])
            cx.append(c[start:end])
            evs.append(e[start:end])
            if start == 0:  # an earlier window would hold only actions already in this one
                break
    return SeqBatch(
        *(torch.from_numpy(right_align(rows, max_len)) for rows in (inp, tgt, gp, cx, evs))
    )


@torch.no_grad()
def last_position_scores(
    net: SeqNet,
    seqs: torch.Tensor,
    gaps: torch.Tensor | None,
    device: torch.device,
    batch_size: int = 256,
    contexts: torch.Tensor | None = None,
    events: torch.Tensor | None = None,
) -> torch.Tensor:
    """Scores (B, N_items) of the next item after each right-aligned sequence."""
    net.eval()
    items = net.item_vectors()
    out = []
    for start in range(0, len(seqs), batch_size):
        s = seqs[start : start + batch_size].to(device)
        g = None if gaps is None else gaps[start : start + batch_size].to(device)
        c = None if contexts is None else contexts[start : start + batch_size].to(device)
        e = None if events is None else events[start : start + batch_size].to(device)
        h = net.encode_last(s, g, e, items, c)  # (B, C)
        out.append((h @ items[1:].T).float().cpu())
    return torch.cat(out) if out else torch.zeros(0, net.cfg.n_items)


def validation_ndcg(
    net: SeqNet, valid: Validation, device: torch.device, chunk: int = 512
) -> float:
    """Mean NDCG@10 of the held-out actions, scored ``chunk`` sequences at a time (never the
    whole users x items matrix at once)."""
    total = 0.0
    for start in range(0, len(valid.targets), chunk):
        end = start + chunk
        scores = last_position_scores(
            net,
            valid.prefixes[start:end],
            None if valid.gaps is None else valid.gaps[start:end],
            device,
            batch_size=chunk,
            contexts=None if valid.contexts is None else valid.contexts[start:end],
            events=None if valid.events is None else valid.events[start:end],
        )
        total += ndcg_at_10(scores, valid.targets[start:end], valid.seen[start:end]) * len(scores)
    return total / max(len(valid.targets), 1)


def ndcg_at_10(scores: torch.Tensor, targets: torch.Tensor, seen: list[np.ndarray]) -> float:
    """Mean NDCG@10 of one target per row, the row's earlier items excluded."""
    scores = scores.clone()
    for r, items in enumerate(seen):
        scores[r, torch.from_numpy(items)] = -math.inf
    target_scores = scores[torch.arange(len(targets)), targets]
    rank = (scores > target_scores[:, None]).sum(dim=1)
    gains = torch.where(rank < 10, 1.0 / torch.log2(rank.float() + 2.0), torch.zeros(()))
    return float(gains.mean()) if len(gains) else 0.0


class NegativeSampler:
    """Per batch, the items a sampled softmax covers and their log-Q corrections.

    The set is the batch's targets (in-batch negatives for the other positions) and
    ``negatives`` draws, uniform over the items that occur in training. An item is in it with
    probability ``1 - (1 - p)^n_targets (1 - 1/n_present)^negatives`` (``p`` its share of all
    training targets); subtracting the log of that from its logit makes the sampled softmax an
    estimate of the full one, which popular items would otherwise dominate.
    """

    def __init__(self, windows: SeqBatch, present: torch.Tensor, negatives: int) -> None:
        if negatives < 1:
            raise ValueError(f"negatives must be at least 1, not {negatives}")
        targets = windows.targets[windows.targets > 0] - 1
        n_items = len(present)
        share = torch.bincount(targets, minlength=n_items).double() / max(len(targets), 1)
        self.items = present.nonzero().flatten()
        self.negatives = negatives
        self.log_miss_target = torch.log1p(-share.clamp(max=1.0 - 1e-12))
        self.log_miss_draw = math.log1p(-1.0 / max(len(self.items), 2))
        self.n_items = n_items

    def draw(
        self, targets: torch.Tensor, gen: torch.Generator
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """The covered items (N_items booleans) and their logit corrections (in their order)."""
        picked = self.items[torch.randint(len(self.items), (self.negatives,), generator=gen)]
        covered = torch.zeros(self.n_items, dtype=torch.bool)
        covered[targets] = True
        covered[picked] = True
        log_miss = (
            len(targets) * self.log_miss_target[covered] + self.negatives * self.log_miss_draw
        )
        inclusion = -torch.expm1(log_miss)  # chance of being in the set
        return covered, (-torch.log(inclusion.clamp(min=1e-30))).float()


def train(
    net: SeqNet,
    windows: SeqBatch,
    valid: Validation | None,
    cfg: TrainConfig,
    device: torch.device,
    *,
    on_epoch: Callable[[SeqNet, dict[str, Any]], None] | None = None,
    teacher: Teacher | None = None,
) -> tuple[list[dict[str, Any]], int]:
    """Adam on full-softmax cross-entropy (with a ``teacher``, blended with the distillation
    loss of :mod:`~lmrec.models.seq.distill`); keeps the weights of the best validation epoch.

    Returns the per-epoch history and the best epoch (1-based).
    """
    gen = torch.Generator().manual_seed(cfg.seed)
    opt = torch.optim.Adam(net.parameters(), lr=cfg.learning_rate, weight_decay=cfg.weight_decay)
    plateau = None
    if cfg.lr_plateau and valid is not None:
        plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(
            # threshold 0: "better" means what early stopping means, strictly higher
            opt,
            mode="max",
            factor=0.5,
            patience=cfg.lr_plateau - 1,
            threshold=0.0,
        )
    use_amp = device.type == "cuda"
    # only items that occur in training take part in the softmax
    present = torch.zeros(net.cfg.n_items + 1, dtype=torch.bool)
    present[windows.inputs.flatten()] = True
    present[windows.targets.flatten()] = True
    candidates = None if bool(present[1:].all()) else present[1:].to(device)
    sampler = None
    if cfg.softmax == "sampled":
        sampler = NegativeSampler(windows, present[1:], cfg.negatives)
    elif cfg.softmax != "full":
        raise ValueError(f"softmax must be full or sampled, not {cfg.softmax!r}")
    avg = _averager(net, cfg.weight_averaging)
    judged: SeqNet = net if avg is None else cast(SeqNet, avg.module)
    history: list[dict[str, Any]] = []
    best, best_epoch, best_state, stale = -1.0, 0, None, 0
    trained = 0.0
    with task("train sequential (epochs)", cfg.epochs, enabled=cfg.progress) as bar:
        for epoch in range(1, cfg.epochs + 1):
            net.train()
            start = time.perf_counter()
            order = torch.randperm(len(windows.inputs), generator=gen)
            total, count = 0.0, 0
            for i in range(0, len(order), cfg.batch_size):
                idx = order[i : i + cfg.batch_size]
                seq = windows.inputs[idx].to(device)
                rows = windows.targets[idx]
                tgt = rows.to(device)
                gaps = windows.gaps[idx].to(device) if net.cfg.n_gap_buckets else None
                events = windows.events[idx].to(device) if net.cfg.n_event_types else None
                ctx = None
                if net.cfg.n_context:
                    ctx = windows.contexts[idx]
                    if cfg.context_dropout > 0:
                        hide = torch.rand(ctx.shape, generator=gen) < cfg.context_dropout
                        ctx = ctx.masked_fill(hide, 0)
                    ctx = ctx.to(device)
                covered, bias = candidates, None
                if sampler is not None:
                    covered, bias = sampler.draw(rows[rows > 0] - 1, gen)
                    covered, bias = covered.to(device), bias.to(device)
                with torch.autocast(device.type, dtype=torch.bfloat16, enabled=use_amp):
                    if teacher is None:
                        loss = net.loss(
                            seq,
                            tgt,
                            gaps,
                            events,
                            candidates=covered,
                            label_smoothing=cfg.label_smoothing,
                            contexts=ctx,
                            exclude_seen=cfg.exclude_seen,
                            logit_bias=bias,
                        )
                    else:
                        loss = _distilled_loss(
                            net, teacher, cfg, seq, tgt, gaps, events, covered, ctx, bias
                        )
                opt.zero_grad(set_to_none=True)
                torch.autograd.backward(loss)
                opt.step()
                if avg is not None:
                    avg.update_parameters(net)
                n = int((tgt > 0).sum())
                total += loss.item() * n
                count += n
            trained += time.perf_counter() - start
            row: dict[str, Any] = {
                "epoch": epoch,
                "loss": total / max(count, 1),
                "train_seconds": round(trained, 2),
            }
            if valid is not None:
                row["valid_ndcg@10"] = validation_ndcg(judged, valid, device)
                if row["valid_ndcg@10"] > best:
                    best, best_epoch, stale = row["valid_ndcg@10"], epoch, 0
                    best_state = copy.deepcopy(judged.state_dict())
                else:
                    stale += 1
                if plateau is not None:
                    plateau.step(row["valid_ndcg@10"])
                    row["learning_rate"] = opt.param_groups[0]["lr"]
            history.append(row)
            if on_epoch is not None:
                on_epoch(net, row)
            bar.advance()
            valid_note = (
                f"  valid NDCG@10 {row['valid_ndcg@10']:.4f}" if "valid_ndcg@10" in row else ""
            )
            bar.note(f"loss {row['loss']:.3f}{valid_note}")
            if valid is not None and stale >= cfg.patience:
                row["stopped"] = "patience"
                break
            if cfg.time_budget_s is not None and trained >= cfg.time_budget_s:
                row["stopped"] = "time budget"
                break
    if best_state is not None:
        net.load_state_dict(best_state)
    elif avg is not None:
        net.load_state_dict(avg.module.state_dict())
    return history, best_epoch or len(history)


def _distilled_loss(
    net: SeqNet,
    teacher: Teacher,
    cfg: TrainConfig,
    seq: torch.Tensor,
    tgt: torch.Tensor,
    gaps: torch.Tensor | None,
    events: torch.Tensor | None,
    covered: torch.Tensor | None,
    ctx: torch.Tensor | None,
    bias: torch.Tensor | None,
) -> torch.Tensor:
    """``(1 - w)`` cross-entropy on the actions + ``w`` KL from the teacher's softmax."""
    logits, target, left = net._target_logits(
        seq, tgt, gaps, events, covered, ctx, cfg.exclude_seen, bias
    )
    actions = _cross_entropy(logits, target, left, cfg.label_smoothing)
    taught = teacher.logits(seq, tgt, gaps, events, covered, ctx, bias)
    soft = distillation_loss(logits, taught, target, left, teacher.temperature)
    return (1.0 - teacher.weight) * actions + teacher.weight * soft


def _averager(net: SeqNet, decay: float) -> torch.optim.swa_utils.AveragedModel | None:
    if not decay:
        return None
    if not 0.0 < decay < 1.0:
        raise ValueError(f"weight_averaging must be in [0, 1), got {decay}")
    ema = torch.optim.swa_utils.get_ema_multi_avg_fn(decay)  # type: ignore[no-untyped-call]
    return torch.optim.swa_utils.AveragedModel(net, multi_avg_fn=ema, use_buffers=True)
