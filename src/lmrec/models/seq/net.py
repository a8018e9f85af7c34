"""A causal Transformer over a user's actions (SASRec family), item vectors drawing on text.

Index 0 is padding; item ``i`` of the vocabulary is token ``i + 1``. Sequences are right-aligned
(the newest action is the last position), so position embeddings count back from the end.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["LeftOut", "SeqConfig", "SeqEnsemble", "SeqNet"]


@dataclass(frozen=True)
class SeqConfig:
    n_items: int
    max_len: int = 200
    dim: int = 64
    n_layers: int = 2
    n_heads: int = 2
    dropout: float = 0.2
    text_dim: int = 0  # 0: no text pathway
    use_ids: bool = True  # False: items are represented by their text alone
    n_gap_buckets: int = 0  # 0: no time-gap encoding; else log2-bucketed gaps
    n_event_types: int = 0  # 0: no event-type side information
    #: 0: none; else the number of codes for the context of the action each position predicts
    #: (its part of the day, weekday or weekend, time since the previous action): at serving
    #: time, the request's
    n_context: int = 0
    id_dropout: float = 0.0  # training: share of items whose id vector is dropped (text only)

    def to_dict(self) -> dict[str, int | float | bool]:
        return asdict(self)


class Dropout(nn.Module):
    """Inverted dropout whose mask comes from ``torch.rand``: on CPU it takes half the time
    of ``nn.Dropout`` (whose ``bernoulli_`` was a fifth of a training step), same result in
    distribution."""

    def __init__(self, p: float) -> None:
        super().__init__()
        self.p = p

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0:
            return x
        return x * ((torch.rand_like(x) >= self.p) * (1.0 / (1.0 - self.p)))


class Block(nn.Module):
    """Pre-norm Transformer block with causal self-attention."""

    def __init__(self, cfg: SeqConfig) -> None:
        super().__init__()
        self.ln1 = nn.LayerNorm(cfg.dim)
        self.qkv = nn.Linear(cfg.dim, 3 * cfg.dim)
        self.proj = nn.Linear(cfg.dim, cfg.dim)
        self.ln2 = nn.LayerNorm(cfg.dim)
        self.mlp = nn.Sequential(
            nn.Linear(cfg.dim, 4 * cfg.dim),
            nn.GELU(),
            Dropout(cfg.dropout),
            nn.Linear(4 * cfg.dim, cfg.dim),
        )
        self.drop = Dropout(cfg.dropout)
        self.attn_drop = Dropout(cfg.dropout)
        self.n_heads = cfg.n_heads

    def forward(self, x: torch.Tensor, pad: torch.Tensor, last_only: bool = False) -> torch.Tensor:
        """(B, T, C) -> (B, T, C); with ``last_only``, (B, 1, C): only the newest position
        attends and goes through the MLP (what scoring needs; its keys and values are all T)."""
        b, t, c = x.shape  # (B, T, C)
        h = self.ln1(x)
        if last_only:
            k, v = (h @ self.qkv.weight[c:].T + self.qkv.bias[c:]).split(c, dim=2)
            q = self.qkv(h[:, -1:])[..., :c]
            x = x[:, -1:]
            mask = ~pad[:, None, None, :]  # (B, 1, 1, T): the newest position sees every key
            mask[..., -1] = True  # an empty sequence's padding sees itself
        else:
            q, k, v = self.qkv(h).split(c, dim=2)
            causal = torch.ones(t, t, dtype=torch.bool, device=x.device).tril()
            # (B, 1, T, T): the keys each position may see; padding sees itself
            mask = causal[None, None] & ~pad[:, None, None, :]
            mask = mask | torch.eye(t, dtype=torch.bool, device=x.device)[None, None]
        heads = c // self.n_heads
        q = q.reshape(b, q.shape[1], self.n_heads, heads).transpose(1, 2)  # (B, H, T_q, C/H)
        k, v = (z.reshape(b, t, self.n_heads, heads).transpose(1, 2) for z in (k, v))
        if self.training and self.attn_drop.p > 0:  # SDPA's own dropout draws with bernoulli_
            att = (q @ k.transpose(-2, -1)) * heads**-0.5  # (B, H, T_q, T)
            att = self.attn_drop(att.masked_fill(~mask, float("-inf")).softmax(dim=-1))
            y = att @ v
        else:
            y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        y = y.transpose(1, 2).reshape(b, q.shape[2], c)  # (B, T_q, C)
        x = x + self.drop(self.proj(y))
        return x + self.drop(self.mlp(self.ln2(x)))


class SeqNet(nn.Module):
    def __init__(self, cfg: SeqConfig, text: torch.Tensor | None = None) -> None:
        super().__init__()
        self.cfg = cfg
        self.item_emb = nn.Embedding(cfg.n_items + 1, cfg.dim, padding_idx=0)
        nn.init.normal_(self.item_emb.weight, std=0.02)
        with torch.no_grad():
            self.item_emb.weight[0].zero_()
        if cfg.text_dim:
            if text is None:
                text = torch.zeros(cfg.n_items, cfg.text_dim)
            padded = torch.cat([torch.zeros(1, cfg.text_dim), text.float()], dim=0)
            self.register_buffer("text", padded)  # (N+1, D_text), fixed
            self.text_proj = nn.Sequential(
                nn.Linear(cfg.text_dim, cfg.dim), nn.GELU(), nn.Linear(cfg.dim, cfg.dim)
            )
        self.pos_emb = nn.Embedding(cfg.max_len, cfg.dim)
        if cfg.n_gap_buckets:
            self.gap_emb = nn.Embedding(cfg.n_gap_buckets + 1, cfg.dim, padding_idx=0)
        if cfg.n_event_types:
            self.event_emb = nn.Embedding(cfg.n_event_types + 1, cfg.dim, padding_idx=0)
        if cfg.n_context:
            self.context_emb = nn.Embedding(cfg.n_context + 1, cfg.dim, padding_idx=0)
        self.drop = Dropout(cfg.dropout)
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layers))
        self.ln_f = nn.LayerNorm(cfg.dim)

    def item_vectors(self) -> torch.Tensor:
        """Representation of every token (N+1, C): id embedding + projected text embedding.

        In training, ``id_dropout`` drops the id vector of a random share of items, so that the
        text pathway alone must represent items (as it must for items never seen in training).
        """
        vec = self.item_emb.weight if self.cfg.use_ids else torch.zeros_like(self.item_emb.weight)
        if self.training and self.cfg.id_dropout > 0 and self.cfg.text_dim:
            keep = torch.rand(len(vec), 1, device=vec.device) >= self.cfg.id_dropout
            vec = vec * keep
        if self.cfg.text_dim:
            vec = vec + self.text_proj(self.text)
            vec = vec.masked_fill(torch.arange(len(vec), device=vec.device)[:, None] == 0, 0.0)
        return vec

    def _embed(
        self,
        seq: torch.Tensor,
        gaps: torch.Tensor | None,
        events: torch.Tensor | None,
        items: torch.Tensor | None,
        contexts: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Input vectors (B, T, C) and the padding mask (B, T) of right-aligned sequences."""
        _b, t = seq.shape
        items = self.item_vectors() if items is None else items
        x = items[seq] * (self.cfg.dim**0.5)  # (B, T, C)
        pos = torch.arange(self.cfg.max_len - t, self.cfg.max_len, device=seq.device)
        x = x + self.pos_emb(pos)[None]
        if gaps is not None and self.cfg.n_gap_buckets:
            x = x + self.gap_emb(gaps)
        if events is not None and self.cfg.n_event_types:
            x = x + self.event_emb(events)
        if contexts is not None and self.cfg.n_context:
            x = x + self.context_emb(contexts)
        pad = seq == 0
        return self.drop(x) * (~pad)[..., None], pad

    def encode(
        self,
        seq: torch.Tensor,
        gaps: torch.Tensor | None = None,
        events: torch.Tensor | None = None,
        items: torch.Tensor | None = None,
        contexts: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Hidden states (B, T, C) for right-aligned token sequences (B, T)."""
        x, pad = self._embed(seq, gaps, events, items, contexts)
        for block in self.blocks:
            x = block(x, pad)
        return self.ln_f(x)  # (B, T, C)

    def encode_last(
        self,
        seq: torch.Tensor,
        gaps: torch.Tensor | None = None,
        events: torch.Tensor | None = None,
        items: torch.Tensor | None = None,
        contexts: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """The newest position's hidden state (B, C), as ``encode(...)[:, -1]`` but with the
        last block computed for that position alone (what scoring needs, with less work)."""
        x, pad = self._embed(seq, gaps, events, items, contexts)
        *first, last = self.blocks
        for block in first:
            x = block(x, pad)
        return self.ln_f(last(x, pad, last_only=True))[:, 0]  # (B, C)

    def forward(
        self,
        seq: torch.Tensor,
        targets: torch.Tensor | None = None,
        gaps: torch.Tensor | None = None,
        events: torch.Tensor | None = None,
        candidates: torch.Tensor | None = None,
        label_smoothing: float = 0.0,
        contexts: torch.Tensor | None = None,
        exclude_seen: bool = False,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """With ``targets`` (B, T; 0 = none): the :meth:`loss` and the logits of the target
        positions (N_targets, N_items), -inf where an item is left out of the softmax. Without:
        logits of the last position (B, N_items)."""
        if targets is None:
            items = self.item_vectors()
            h = self.encode(seq, gaps, events, items, contexts)  # (B, T, C)
            return h[:, -1] @ items[1:].T, None
        logits, target, left = self._target_logits(
            seq, targets, gaps, events, candidates, contexts, exclude_seen
        )
        loss = _cross_entropy(logits, target, left, label_smoothing)
        if left is not None:
            logits = logits + left.bias(logits, target)
        if candidates is not None:  # back to one column per item
            full = logits.new_full((len(logits), self.cfg.n_items), float("-inf"))
            full[:, candidates] = logits
            logits = full
        return logits, loss

    def loss(
        self,
        seq: torch.Tensor,
        targets: torch.Tensor,
        gaps: torch.Tensor | None = None,
        events: torch.Tensor | None = None,
        candidates: torch.Tensor | None = None,
        label_smoothing: float = 0.0,
        contexts: torch.Tensor | None = None,
        exclude_seen: bool = False,
        logit_bias: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Full-softmax cross-entropy at every target position (``targets`` (B, T); 0 = none).

        ``candidates`` (N_items booleans): the items the softmax covers (those absent from
        training are not taught as negatives); None: all. ``label_smoothing`` spreads that
        share of each target over the covered items. ``exclude_seen`` leaves the items of the
        window up to each position out of that position's softmax (unless one is the target),
        as they are left out of the ranking when scoring. ``logit_bias`` (N_candidates,): added
        to each covered item's logit (a sampled softmax's log-Q correction)."""
        logits, target, left = self._target_logits(
            seq, targets, gaps, events, candidates, contexts, exclude_seen, logit_bias
        )
        return _cross_entropy(logits, target, left, label_smoothing)

    def _target_logits(
        self,
        seq: torch.Tensor,
        targets: torch.Tensor,
        gaps: torch.Tensor | None,
        events: torch.Tensor | None,
        candidates: torch.Tensor | None,
        contexts: torch.Tensor | None,
        exclude_seen: bool,
        bias: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor, LeftOut | None]:
        """Logits (N_targets, N_candidates) of the target positions, the target columns and,
        with ``exclude_seen``, what each position leaves out of its softmax (else None)."""
        items = self.item_vectors()
        h = self.encode(seq, gaps, events, items, contexts)  # (B, T, C)
        keep = targets > 0
        target = targets[keep] - 1
        weights = items[1:]  # (N, C): padding is never a prediction
        tokens = seq  # token -> 1 + its column among the candidates (0: none)
        if candidates is not None:
            # the candidates' rows of the item table: gathering those few rows costs far less
            # than selecting columns of the logits (and scattering their gradient back)
            weights = weights[candidates]
            column = torch.zeros(len(items), dtype=torch.long, device=seq.device)
            column[1:][candidates] = torch.arange(1, len(weights) + 1, device=seq.device)
            target = column[1:][target] - 1
            tokens = column[seq]
        hk = h[keep]  # (N_targets, C)
        logits = hk @ weights.T  # (N_targets, N_candidates)
        if bias is not None:
            logits = logits + bias
        if not exclude_seen:
            return logits, target, None
        return logits, target, LeftOut.of(h, tokens, keep, target, hk, weights, bias)


@dataclass(frozen=True)
class LeftOut:
    """What each target position leaves out of its softmax: the distinct items of its window
    up to it, its target excepted. Held as (N_targets, T) tables over the window's tokens
    rather than a catalog-wide mask, with the sums the loss needs already taken in embedding
    space, so that leaving them out costs one more pass over the logits, not several."""

    columns: torch.Tensor  # (N_targets, T): the window's tokens' columns
    out: torch.Tensor  # (N_targets, T) booleans: which of them this position leaves out
    out_sum: torch.Tensor  # (N_targets,): the sum of the left-out logits
    total: torch.Tensor  # (N_targets,): the sum of all the row's logits
    target_logit: torch.Tensor  # (N_targets,)

    @classmethod
    def of(
        cls,
        h: torch.Tensor,
        tokens: torch.Tensor,
        keep: torch.Tensor,
        target: torch.Tensor,
        hk: torch.Tensor,
        weights: torch.Tensor,
        bias: torch.Tensor | None = None,
    ) -> LeftOut:
        """From the hidden states ``h`` (B, T, C) of windows of ``tokens`` (B, T; column + 1,
        0 = none), the kept positions, their target columns and states ``hk``, the item
        vectors ``weights`` (N_candidates, C) and the bias added to their logits."""
        b, t = tokens.shape
        earlier = torch.ones(t, t, dtype=torch.bool, device=tokens.device).tril(-1)  # s' < s
        repeat = ((tokens[:, :, None] == tokens[:, None, :]) & earlier).any(dim=2)  # (B, T)
        first = (tokens > 0) & ~repeat  # (B, T): a token's first occurrence in the window
        upto = earlier | torch.eye(t, dtype=torch.bool, device=tokens.device)  # s <= t
        col = (tokens - 1).clamp(min=0)  # (B, T)
        columns = col[:, None, :].expand(b, t, t)[keep]  # (N_targets, T)
        out = (first[:, None, :] & upto[None]).expand(b, t, t)[keep]
        out = out & (columns != target[:, None])
        pair = h @ weights[col].transpose(1, 2)  # (B, T, T): position t's logit of token s
        total = hk @ weights.sum(dim=0)
        target_logit = (hk * weights[target]).sum(dim=1)
        if bias is not None:
            pair = pair + bias[col][:, None, :]
            total = total + bias.sum()
            target_logit = target_logit + bias[target]
        return cls(
            columns=columns,
            out=out,
            out_sum=(pair[keep] * out).sum(dim=1),
            total=total,
            target_logit=target_logit,
        )

    def bias(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """0, and -inf in each row's left-out columns (no gradient: add it to the logits)."""
        rows = target[:, None]
        bias = torch.zeros_like(logits, requires_grad=False)
        bias.scatter_(1, torch.where(self.out, self.columns, rows), float("-inf"))
        return bias.scatter_(1, rows, 0.0)


def _cross_entropy(
    logits: torch.Tensor, target: torch.Tensor, left: LeftOut | None, label_smoothing: float
) -> torch.Tensor:
    """Mean cross-entropy of rows of logits, each row's ``left`` out columns taking no part in
    its softmax nor in its label smoothing."""
    if left is None:
        return F.cross_entropy(logits, target, label_smoothing=label_smoothing)
    masked = logits + left.bias(logits.detach(), target)
    if not label_smoothing:
        return F.cross_entropy(masked, target)
    nll = F.cross_entropy(masked, target, reduction="none")
    lse = nll + left.target_logit  # the log of the softmax's denominator
    allowed = logits.shape[1] - left.out.sum(dim=1)
    spread = lse - (left.total - left.out_sum) / allowed  # mean -log p over the allowed
    return ((1.0 - label_smoothing) * nll + label_smoothing * spread).mean()


class SeqEnsemble(nn.Module):
    """Several :class:`SeqNet` trained from different seeds, scored as one: the mean of their
    logits. Item vectors and hidden states are the members' side by side (width members x dim),
    the hidden states divided by the number of members, so ``h @ items.T`` is that mean and the
    model stays two towers (one query vector, one vector per item) for ANN retrieval."""

    def __init__(self, members: list[SeqNet]) -> None:
        super().__init__()
        if not members:
            raise ValueError("an ensemble needs at least one network")
        self.members = nn.ModuleList(members)
        self.cfg = members[0].cfg

    def _nets(self) -> list[SeqNet]:
        return [m for m in self.members if isinstance(m, SeqNet)]

    def item_vectors(self) -> torch.Tensor:
        return torch.cat([m.item_vectors() for m in self._nets()], dim=1)

    def text_proj(self, text: torch.Tensor) -> torch.Tensor:
        return torch.cat([m.text_proj(text) for m in self._nets()], dim=1)

    def encode_last(
        self,
        seq: torch.Tensor,
        gaps: torch.Tensor | None = None,
        events: torch.Tensor | None = None,
        items: torch.Tensor | None = None,
        contexts: torch.Tensor | None = None,
    ) -> torch.Tensor:
        nets = self._nets()
        parts = items.chunk(len(nets), dim=1) if items is not None else [None] * len(nets)
        states = [
            m.encode_last(seq, gaps, events, it, contexts)
            for m, it in zip(nets, parts, strict=True)
        ]
        return torch.cat(states, dim=1) / len(nets)
