"""Vectors for items the sequential network never saw in training, from the items it did see.

The network's vector of an item is its id vector plus a projection of its text; an item with
no training actions has no id vector worth the name, and the projection alone ranks it far
below the items whose ids carry them. Instead, such an item takes the similarity-weighted mean
of the full vectors of the ``k`` trained items whose texts are nearest to its own (cosine of
the text embeddings): a new film is placed where the films most like it already are, on the
same scale as every trained item, and the trained items' vectors are left as they are.

A mean of several vectors is shorter than they are, and in a dot-product model a short vector
is an unpopular item: left as it is, the mean ranks a new item below nearly every trained one.
:func:`calibrated_scale` chooses the factor the means are multiplied by from the training data
itself: a share of the trained items is made cold for a moment (their vectors replaced by the
mean of their neighbours among the rest), and the factor is the one under which the frozen
network best predicts the training actions (softmax cross-entropy, a proper scoring rule), so
an item known only by its text is ranked as often as such items are taken.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch
from scipy.optimize import minimize_scalar

if TYPE_CHECKING:
    from lmrec.models.seq.net import SeqNet
    from lmrec.models.seq.train import SeqBatch

__all__ = [
    "NEIGHBOURS",
    "best_scale",
    "calibrated_scale",
    "fill_cold_rows",
    "neighbour_vectors",
    "new_item_vectors",
]

#: trained items each cold item's vector is drawn from
NEIGHBOURS = 20
#: training positions, trained items made cold, and draws of them, for :func:`calibrated_scale`
CALIBRATION_POSITIONS = 20_000
CALIBRATION_ITEMS = 2_000
CALIBRATION_DRAWS = 3
#: the factors :func:`calibrated_scale` chooses among
SCALE_BOUNDS = (0.1, 10.0)


def neighbour_vectors(
    texts: np.ndarray,
    warm_texts: np.ndarray,
    warm_vectors: np.ndarray,
    k: int = NEIGHBOURS,
    chunk: int = 4096,
) -> np.ndarray:
    """For each row of ``texts`` (L2-normalised text embeddings), the mean of the
    ``warm_vectors`` of the ``k`` rows of ``warm_texts`` most similar to it, weighted by that
    similarity (clipped at 0; the plain mean of the ``k`` when none is positive)."""
    n, k = len(texts), min(k, len(warm_texts))
    out = np.zeros((n, warm_vectors.shape[1]), dtype=np.float32)
    if n == 0 or k == 0:
        return out
    for start in range(0, n, chunk):
        sims = texts[start : start + chunk] @ warm_texts.T  # (chunk, N_warm)
        top = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        w = np.maximum(np.take_along_axis(sims, top, axis=1), 0.0)
        total = w.sum(axis=1, keepdims=True)
        w = np.where(total > 0, w / np.where(total > 0, total, 1.0), 1.0 / k)
        out[start : start + chunk] = np.einsum("nk,nkc->nc", w, warm_vectors[top])
    return out


def fill_cold_rows(
    vec: torch.Tensor, table: np.ndarray, rows: np.ndarray, scale: float = 1.0
) -> torch.Tensor:
    """The network's item table ``vec`` (N+1, C; row 0 padding) with the rows of the items
    ``rows`` (without training actions) replaced by ``scale`` times their
    :func:`neighbour_vectors`, drawn from the other items by the texts' embeddings ``table``
    (N, D)."""
    if not len(rows):
        return vec
    out = vec.clone()
    warm = np.ones(len(vec) - 1, dtype=bool)
    warm[rows] = False
    items = vec[1:].numpy()
    out[1:][torch.from_numpy(rows)] = torch.from_numpy(
        scale * neighbour_vectors(table[rows], table[warm], items[warm])
    )
    return out


def new_item_vectors(
    vec: torch.Tensor,
    table: np.ndarray,
    rows: np.ndarray,
    texts: np.ndarray,
    scale: float = 1.0,
) -> torch.Tensor:
    """Vectors (len(texts), C) of items added after training, from their texts' embeddings
    ``texts``: ``scale`` times the :func:`neighbour_vectors` among the trained items (all but
    ``rows``)."""
    warm = np.ones(len(vec) - 1, dtype=bool)
    warm[rows] = False
    return torch.from_numpy(scale * neighbour_vectors(texts, table[warm], vec[1:].numpy()[warm]))


@torch.no_grad()
def calibrated_scale(
    net: SeqNet,
    windows: SeqBatch,
    warm: np.ndarray,
    table: np.ndarray,
    *,
    seed: int = 0,
    positions: int = CALIBRATION_POSITIONS,
    items: int = CALIBRATION_ITEMS,
    n_draws: int = CALIBRATION_DRAWS,
) -> float:
    """The factor for :func:`neighbour_vectors` under which the trained network ``net`` best
    predicts its training ``windows`` when a random tenth of the trained items (``warm``,
    N booleans; at most ``items`` of them, ``n_draws`` times) take the vectors of their
    neighbours by text (``table``, N x D) among the other trained items.

    :func:`best_scale` over at most ``positions`` training targets; 1.0 when there are too
    few trained items or targets to judge."""
    rng = np.random.default_rng(seed)
    trained = np.flatnonzero(warm)
    n_cold = min(items, len(trained) // 10)
    if n_cold < 1:
        return 1.0
    states, targets = _training_states(net, windows, warm, positions, rng)
    if len(targets) < 100:
        return 1.0
    vec = net.item_vectors()[1:]
    draws = []
    for _ in range(n_draws):
        cold = np.zeros(len(warm), dtype=bool)
        cold[rng.choice(trained, size=n_cold, replace=False)] = True
        pool = warm & ~cold
        means = neighbour_vectors(table[cold], table[pool], vec[pool].numpy())
        draws.append((pool, cold, torch.from_numpy(means)))
    return best_scale(states, targets, vec, draws)


@torch.no_grad()
def best_scale(
    states: torch.Tensor,
    targets: torch.Tensor,
    vec: torch.Tensor,
    draws: list[tuple[np.ndarray, np.ndarray, torch.Tensor]],
) -> float:
    """The factor in :data:`SCALE_BOUNDS` that minimises the mean softmax cross-entropy of the
    ``targets`` (P,) given the hidden ``states`` (P, C), over the draws: in each, the items
    ``cold`` (N booleans) score by ``scale * means`` (n_cold, C) and the items ``pool`` by
    their rows of ``vec`` (N, C); the other items are left out."""
    parts = [_Draw.of(states, targets, vec, pool, cold, means) for pool, cold, means in draws]

    def loss(log_scale: float) -> float:
        return float(np.mean([d.cross_entropy(float(np.exp(log_scale))) for d in parts]))

    low, high = np.log(SCALE_BOUNDS[0]), np.log(SCALE_BOUNDS[1])
    found = minimize_scalar(loss, bounds=(low, high), method="bounded", options={"xatol": 0.01})
    return float(np.exp(found.x))


@dataclass(frozen=True)
class _Draw:
    """One draw of :func:`calibrated_scale`, reduced to what the cross-entropy at any factor
    needs: the parts of the logits that do not depend on it."""

    pool_lse: torch.Tensor  # (P,) log-sum-exp over the items that stay trained
    cold_logits: torch.Tensor  # (P, n_cold) logits of the neighbour means at factor 1
    target: torch.Tensor  # (P,) the target's logit where it stays trained
    cold_target: torch.Tensor  # (P,) the target's column in cold_logits, -1 if it stays trained

    @classmethod
    def of(
        cls,
        states: torch.Tensor,
        targets: torch.Tensor,
        vec: torch.Tensor,
        pool: np.ndarray,
        cold: np.ndarray,
        means: torch.Tensor,
    ) -> _Draw:
        outside = torch.from_numpy(~pool)
        lse, target = torch.empty(len(states)), torch.empty(len(states))
        for start in range(0, len(states), 1024):
            rows = slice(start, start + 1024)
            logits = (states[rows] @ vec.T).masked_fill(outside, float("-inf"))  # (B, N)
            lse[rows] = torch.logsumexp(logits, dim=1)
            target[rows] = logits.gather(1, targets[rows, None])[:, 0]
        column = torch.full((len(cold),), -1, dtype=torch.long)
        column[torch.from_numpy(cold)] = torch.arange(int(cold.sum()))
        return cls(lse, states @ means.T, target, column[targets])

    def cross_entropy(self, scale: float) -> float:
        cold = self.cold_logits * scale
        total = torch.logaddexp(self.pool_lse, torch.logsumexp(cold, dim=1))
        made_cold = self.cold_target >= 0
        target = self.target.clone()
        target[made_cold] = cold[made_cold, self.cold_target[made_cold]]
        return float((total - target).mean())


def _training_states(
    net: SeqNet, windows: SeqBatch, warm: np.ndarray, positions: int, rng: np.random.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """Hidden states (P, C) of at most ``positions`` training positions of random windows
    whose target is a trained item, and those targets (P,), from the network in eval mode."""
    net.eval()
    items = net.item_vectors()
    trained = torch.from_numpy(warm)
    cfg = net.cfg
    order = torch.from_numpy(rng.permutation(len(windows.inputs)))
    states, targets, count = [], [], 0
    for start in range(0, len(order), 256):
        idx = order[start : start + 256]
        h = net.encode(
            windows.inputs[idx],
            windows.gaps[idx] if cfg.n_gap_buckets else None,
            windows.events[idx] if cfg.n_event_types else None,
            items,
            windows.contexts[idx] if cfg.n_context else None,
        )
        tgt = windows.targets[idx]
        keep = tgt > 0
        keep[keep.clone()] = trained[tgt[keep] - 1]
        states.append(h[keep])
        targets.append(tgt[keep] - 1)
        count += int(keep.sum())
        if count >= positions:
            break
    if not states:
        return torch.zeros(0, cfg.dim), torch.zeros(0, dtype=torch.long)
    return torch.cat(states)[:positions], torch.cat(targets)[:positions]
