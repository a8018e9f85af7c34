"""Sequences sharing their older part (the carts of occlusion reasons) get the same states
when that part is encoded once as when every sequence is encoded whole."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lmrec.explain.occlusion import occlusion_carts
from lmrec.models.seq.net import SeqConfig, SeqEnsemble, SeqNet
from lmrec.models.seq.shared import encode_last_shared, split_shared
from lmrec.models.seq.train import right_align

MAX_LEN = 20


def _net(n_layers: int, seed: int = 0) -> SeqNet:
    torch.manual_seed(seed)
    cfg = SeqConfig(n_items=60, max_len=MAX_LEN, dim=16, n_layers=n_layers, n_heads=2,
                    text_dim=8, n_context=4)  # fmt: skip
    net = SeqNet(cfg, torch.randn(60, 8)).eval()
    with torch.no_grad():  # non-trivial position embeddings and layer norms
        for p in net.parameters():
            p.add_(0.1 * torch.randn_like(p))
    return net


def _carts(n: int, seed: int) -> np.ndarray:
    history = np.random.default_rng(seed).integers(0, 60, n)
    _, carts = occlusion_carts(history, 5)
    return right_align([c + 1 for c in carts], MAX_LEN)


@pytest.mark.parametrize("n_layers", [1, 2, 3])
@pytest.mark.parametrize("n", [3, 4, 5, 6, 7, 12, 19, 20, 21, 22, 45])
def test_shared_states_equal_whole_sequence_states(n_layers: int, n: int) -> None:
    net = _net(n_layers)
    seqs = _carts(n, seed=n)
    shared = split_shared(seqs)
    assert shared is not None
    k = min(n, 5) - 1  # each cart keeps its newest positions apart from the shared part
    assert shared.tails.shape == (len(seqs), k)
    assert shared.prefixes.shape == (2, MAX_LEN - k)
    items = net.item_vectors().detach()
    with torch.no_grad():
        whole = net.encode_last(torch.from_numpy(seqs), items=items)
        got = encode_last_shared(
            net, *(torch.from_numpy(a) for a in (shared.prefixes, shared.tails, shared.group)),
            items,
        )  # fmt: skip
    np.testing.assert_allclose(got.numpy(), whole.numpy(), atol=1e-5, rtol=1e-5)


def test_an_ensemble_gets_its_members_states() -> None:
    ens = SeqEnsemble([_net(2, seed=1), _net(2, seed=2)]).eval()
    seqs = _carts(30, seed=3)
    shared = split_shared(seqs)
    assert shared is not None
    items = ens.item_vectors().detach()
    with torch.no_grad():
        whole = ens.encode_last(torch.from_numpy(seqs), items=items)
        got = encode_last_shared(
            ens, *(torch.from_numpy(a) for a in (shared.prefixes, shared.tails, shared.group)),
            items,
        )  # fmt: skip
    np.testing.assert_allclose(got.numpy(), whole.numpy(), atol=1e-5, rtol=1e-5)


def test_the_first_row_may_share_the_prefix_too() -> None:
    carts = _carts(30, seed=4)
    seqs = np.vstack([carts[1], carts[1:]])  # the first row's older part is the others'
    shared = split_shared(seqs)
    assert shared is not None
    assert len(shared.prefixes) == 1
    assert (shared.group == 0).all()
    np.testing.assert_array_equal(
        np.concatenate([shared.prefixes[shared.group], shared.tails], axis=1), seqs
    )


def test_sequences_without_a_long_shared_part_are_left_whole() -> None:
    rng = np.random.default_rng(0)
    assert split_shared(rng.integers(1, 60, (6, MAX_LEN))) is None  # nothing shared
    assert split_shared(_carts(30, seed=5)[:2]) is None  # too few sequences to gain
    half = _carts(30, seed=6)
    half[1:, : MAX_LEN // 2] = rng.integers(1, 60, (len(half) - 1, MAX_LEN // 2))
    assert split_shared(half) is None  # a short shared part saves too little
