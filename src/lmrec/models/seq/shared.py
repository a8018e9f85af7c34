"""Newest-position states of sequences that share their older part, that part encoded once.

The carts that occlusion reasons are measured with (a history, then the history without each
of its latest items) are, once right-aligned, equal in all their older positions but the last
few: the network is causal, so those positions' hidden states, keys and values are the same in
every cart. They are computed once per distinct older part (a *prefix*); only each cart's last
few positions (its *tail*) attend to them and to each other. The result is the network's
``encode_last`` of the whole sequences, computed over a fraction of the positions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from lmrec.models.seq.net import Block, SeqEnsemble, SeqNet

__all__ = ["SharedPrefix", "encode_last_shared", "split_shared"]

#: the shared path is taken when it encodes at most this share of the positions
WORTH_IT = 0.6


@dataclass(frozen=True)
class SharedPrefix:
    """Right-aligned sequences (B, P + K) as prefixes (G, P), tails (B, K) and, per sequence,
    the row of its prefix (B,)."""

    prefixes: np.ndarray
    tails: np.ndarray
    group: np.ndarray


def split_shared(seqs: np.ndarray) -> SharedPrefix | None:
    """Split right-aligned token sequences (B, T) whose rows after the first share a long
    left part (the first row may share it or have its own): None when that would not save
    at least ``1 - WORTH_IT`` of the positions."""
    b, t = seqs.shape
    if b < 3:
        return None
    differ = (seqs[2:] != seqs[1]).any(axis=0)  # (T,) columns where the rows 1.. disagree
    p = int(np.argmax(differ)) if differ.any() else t - 1
    p = min(p, t - 1)  # every sequence keeps a tail: its newest position
    if p == 0:
        return None
    own = bool((seqs[0, :p] != seqs[1, :p]).any())
    prefixes = seqs[:2, :p] if own else seqs[1:2, :p]
    if len(prefixes) * p + b * (t - p) > WORTH_IT * b * t:
        return None
    group = np.ones(b, dtype=np.int64) if own else np.zeros(b, dtype=np.int64)
    group[0] = 0
    return SharedPrefix(np.ascontiguousarray(prefixes), np.ascontiguousarray(seqs[:, p:]), group)


def _heads(z: torch.Tensor, n_heads: int) -> torch.Tensor:
    """(B, T, C) -> (B, H, T, C/H)."""
    b, t, c = z.shape
    return z.reshape(b, t, n_heads, c // n_heads).transpose(1, 2)


def _merge(y: torch.Tensor) -> torch.Tensor:
    """(B, H, T, C/H) -> (B, T, C)."""
    b, h, t, d = y.shape
    return y.transpose(1, 2).reshape(b, t, h * d)


def _finish(block: Block, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    x = x + block.proj(_merge(y))
    return x + block.mlp(block.ln2(x))


def _masks(
    pad_p: torch.Tensor, pad_t: torch.Tensor, group: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """The keys each prefix position may see (G, 1, P, P) and each tail position
    (B, 1, K, P + K): earlier positions but padding; padding sees itself, as in Block."""
    p, k = pad_p.shape[1], pad_t.shape[1]
    dev = pad_p.device

    def causal(pad: torch.Tensor, t: int) -> torch.Tensor:
        own = torch.ones(t, t, dtype=torch.bool, device=dev).tril()[None, None]
        eye = torch.eye(t, dtype=torch.bool, device=dev)[None, None]
        return (own & ~pad[:, None, None, :]) | eye

    past = (~pad_p[group])[:, None, None, :].expand(pad_t.shape[0], 1, k, p)
    return causal(pad_p, p), torch.cat([past, causal(pad_t, k)], dim=3)


def _prefix_block(
    block: Block, x: torch.Tensor, mask: torch.Tensor, last: bool
) -> tuple[torch.Tensor | None, torch.Tensor, torch.Tensor]:
    """The prefixes (G, P, C) through ``block``: their output (None in the last block, where
    only the tails' newest positions go on) and their keys and values (G, H, P, C/H)."""
    c = x.shape[2]
    h = block.ln1(x)
    if last:
        k, v = (h @ block.qkv.weight[c:].T + block.qkv.bias[c:]).split(c, dim=2)
        return None, _heads(k, block.n_heads), _heads(v, block.n_heads)
    q, k, v = (_heads(z, block.n_heads) for z in block.qkv(h).split(c, dim=2))
    return _finish(block, x, F.scaled_dot_product_attention(q, k, v, attn_mask=mask)), k, v


def _tail_block(
    block: Block,
    x: torch.Tensor,
    mask: torch.Tensor,
    past_k: torch.Tensor,
    past_v: torch.Tensor,
    last: bool,
) -> torch.Tensor:
    """The tails (B, K, C) through ``block``, attending to their prefix's keys and values
    (B, H, P, C/H) and causally to each other; in the last block only the newest position
    goes on: (B, 1, C)."""
    c = x.shape[2]
    q, k, v = (_heads(z, block.n_heads) for z in block.qkv(block.ln1(x)).split(c, dim=2))
    keys, values = torch.cat([past_k, k], dim=2), torch.cat([past_v, v], dim=2)
    if last:
        q, mask, x = q[:, :, -1:], mask[:, :, -1:], x[:, -1:]
    return _finish(block, x, F.scaled_dot_product_attention(q, keys, values, attn_mask=mask))


def _net_shared(
    net: SeqNet,
    prefixes: torch.Tensor,
    tails: torch.Tensor,
    group: torch.Tensor,
    items: torch.Tensor,
) -> torch.Tensor:
    p, k = prefixes.shape[1], tails.shape[1]
    scale = net.cfg.dim**0.5
    pos = net.pos_emb(torch.arange(net.cfg.max_len - p - k, net.cfg.max_len, device=tails.device))
    pad_p, pad_t = prefixes == 0, tails == 0
    xp = (items[prefixes] * scale + pos[:p][None]) * (~pad_p)[..., None]  # (G, P, C)
    xt = (items[tails] * scale + pos[p:][None]) * (~pad_t)[..., None]  # (B, K, C)
    mask_p, mask_t = _masks(pad_p, pad_t, group)
    *first, end = net.blocks
    for block in first:
        assert isinstance(block, Block)
        out, kp, vp = _prefix_block(block, xp, mask_p, last=False)
        xt = _tail_block(block, xt, mask_t, kp[group], vp[group], last=False)
        assert out is not None
        xp = out
    assert isinstance(end, Block)
    _, kp, vp = _prefix_block(end, xp, mask_p, last=True)
    xt = _tail_block(end, xt, mask_t, kp[group], vp[group], last=True)
    return net.ln_f(xt)[:, 0]  # (B, C)


def encode_last_shared(
    net: SeqNet | SeqEnsemble,
    prefixes: torch.Tensor,
    tails: torch.Tensor,
    group: torch.Tensor,
    items: torch.Tensor,
) -> torch.Tensor:
    """The network's ``encode_last`` (B, C) of the sequences ``prefixes[group]`` followed by
    ``tails`` (see :class:`SharedPrefix`), with the item table ``items`` (N+1, C); in eval
    mode, with no side inputs (all unknown)."""
    if isinstance(net, SeqNet):
        return _net_shared(net, prefixes, tails, group, items)
    nets = net._nets()
    parts = items.chunk(len(nets), dim=1)
    states = [_net_shared(m, prefixes, tails, group, it) for m, it in zip(nets, parts, strict=True)]
    return torch.cat(states, dim=1) / len(nets)
