"""The sequential model on large catalogs: the sampled softmax and the settings derived from
the data."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lmrec.errors import UsageError
from lmrec.models.seq import SeqConfig, SeqNet, SequentialRecommender
from lmrec.models.seq.model import SequentialConfig
from lmrec.models.seq.settings import resolve
from lmrec.models.seq.train import NegativeSampler, SeqBatch, make_windows
from lmrec.testing import cycle

FAST = {
    "embedding_size": 32,
    "n_layers": 1,
    "n_heads": 1,
    "learning_rate": 0.01,
    "dropout": 0.0,
    "batch_size": 64,
    "text_encoder": None,
    "num_threads": 1,
}


def _windows(targets: list[list[int]]) -> SeqBatch:
    tokens = [np.array([1, *t]) for t in targets]
    zeros = [np.zeros(len(t), np.int64) for t in tokens]
    return make_windows(tokens, zeros, max_len=8)


def test_each_item_is_covered_as_often_as_its_log_q_correction_says() -> None:
    # training targets (tokens): item 1 (token 2) four times, items 2 and 3 once each; 10 items
    windows = _windows([[2, 2, 3], [2, 4, 2]])
    present = torch.ones(10, dtype=torch.bool)
    sampler = NegativeSampler(windows, present, negatives=3)
    share = torch.tensor([0, 4, 1, 1, 0, 0, 0, 0, 0, 0]) / 6
    gen = torch.Generator().manual_seed(0)
    counts = torch.zeros(10)
    draws = 4000
    for _ in range(draws):  # batches of two targets drawn as training draws them
        targets = torch.multinomial(share, 2, replacement=True, generator=gen)
        covered, bias = sampler.draw(targets, gen)
        counts += covered
    expected = 1 - (1 - share) ** 2 * (1 - 1 / 10) ** 3
    torch.testing.assert_close(bias, -torch.log(expected[covered]).float())
    np.testing.assert_allclose((counts / draws).numpy(), expected.numpy(), atol=0.03)


def test_negatives_are_drawn_only_from_items_that_occur_in_training() -> None:
    windows = _windows([[2, 3]])
    present = torch.tensor([True, True, True, False, False])
    sampler = NegativeSampler(windows, present, negatives=50)
    covered, _ = sampler.draw(torch.tensor([1]), torch.Generator().manual_seed(0))
    assert covered.tolist() == [True, True, True, False, False]
    with pytest.raises(ValueError, match="negatives must be at least 1"):
        NegativeSampler(windows, present, negatives=0)


def test_a_sampled_softmax_covering_every_item_is_the_full_softmax() -> None:
    torch.manual_seed(0)
    net = SeqNet(SeqConfig(n_items=7, max_len=4, dim=8, n_layers=1, n_heads=1, dropout=0.0))
    net.eval()
    seq = torch.tensor([[0, 1, 2, 3]])
    tgt = torch.tensor([[0, 2, 3, 5]])
    everything = torch.ones(7, dtype=torch.bool)
    for smoothing, exclude in [(0.0, False), (0.3, True)]:
        full = net.loss(seq, tgt, label_smoothing=smoothing, exclude_seen=exclude)
        # a bias shared by every item changes no softmax
        shifted = net.loss(
            seq, tgt, candidates=everything, label_smoothing=smoothing, exclude_seen=exclude,
            logit_bias=torch.full((7,), 2.5),
        )  # fmt: skip
        torch.testing.assert_close(shifted, full)


def test_the_log_q_bias_enters_every_part_of_the_loss() -> None:
    torch.manual_seed(0)
    net = SeqNet(SeqConfig(n_items=6, max_len=4, dim=8, n_layers=1, n_heads=1, dropout=0.0))
    net.eval()
    seq = torch.tensor([[0, 1, 2, 1]])
    tgt = torch.tensor([[0, 2, 1, 5]])  # items 1, 0, 4 (0-based)
    cand = torch.tensor([True, True, False, True, True, False])  # columns: items 0, 1, 3, 4
    bias = torch.tensor([0.5, -1.0, 2.0, 0.0])
    z = net.encode(seq)[0, 1:] @ net.item_vectors()[1:][cand].T + bias  # (3, 4)
    allowed = torch.ones(3, 4, dtype=torch.bool)
    allowed[0, 0] = False  # position 1 has seen item 0
    allowed[1, 1] = False  # position 2 has seen 0 and 1, and its target is 0
    allowed[2, [0, 1]] = False  # position 3 has seen 0 and 1
    logp = torch.log_softmax(z.masked_fill(~allowed, float("-inf")), dim=1)
    cols = torch.tensor([1, 0, 3])
    eps = 0.2
    nll = -logp[torch.arange(3), cols]
    spread = -torch.stack([logp[r, allowed[r]].mean() for r in range(3)])
    loss = net.loss(
        seq, tgt, candidates=cand, label_smoothing=eps, exclude_seen=True, logit_bias=bias
    )
    torch.testing.assert_close(loss, ((1 - eps) * nll + eps * spread).mean())


def test_the_sampled_softmax_learns_a_deterministic_sequence() -> None:
    n_users, n_items = 120, 80
    data = cycle(n_users, n_items, 8)
    model = SequentialRecommender(
        **FAST, softmax="sampled", negatives=16, epochs=150, patience=150
    ).fit(data)
    assert model.settings_.softmax == "sampled"
    ids, _ = model.recommend(np.arange(n_users), 1)
    expected = [(u + 8) % n_items for u in range(n_users)]
    assert np.mean(ids[:, 0] == expected) > 0.9


def test_settings_follow_the_shape_of_the_data() -> None:
    short = resolve(SequentialConfig(), np.full(100, 9), 20_000, has_text=False, on_gpu=False)
    # histories of 9: windows of 10, not 50; 20,000 items: a sampled softmax
    assert (short.max_len, short.stride, short.softmax, short.batch_size) == (10, 5, "sampled", 128)
    # 100 windows of one batch each epoch: patience is 600 steps but at most 20 epochs
    assert short.patience == 20
    assert short.id_dropout == 0.0
    lengths = np.array([120] * 95 + [5] * 5)
    long = resolve(SequentialConfig(), lengths, 1_682, has_text=True, on_gpu=True)
    assert (long.max_len, long.stride, long.softmax, long.batch_size) == (50, 25, "full", 512)
    # 95 users x (1 + ceil((119 - 50) / 25)) = 95 x 4 windows + 5 -> 385 windows, one step
    assert long.patience == 20
    many = resolve(SequentialConfig(), np.full(100_000, 9), 50_000, has_text=False, on_gpu=False)
    # 100,000 windows = 782 steps an epoch: 600 steps is less than an epoch, so 3
    assert many.patience == 3
    given = resolve(
        SequentialConfig(max_len=30, softmax="full", patience=7, batch_size=32, id_dropout=0.1),
        np.full(100, 9), 50_000, has_text=True, on_gpu=True,
    )  # fmt: skip
    assert (given.max_len, given.softmax, given.patience, given.batch_size) == (30, "full", 7, 32)
    assert given.id_dropout == 0.1


def test_the_fitted_settings_are_saved_with_the_model(tmp_path) -> None:  # type: ignore[no-untyped-def]
    data = cycle(30, 12, 6)
    model = SequentialRecommender(**FAST, epochs=2).fit(data)
    assert model.settings_.max_len == 10  # histories of 6 actions
    assert model.net_.cfg.max_len == 10
    loaded = SequentialRecommender.load(model.save(tmp_path / "m"))
    assert isinstance(loaded, SequentialRecommender)
    assert loaded.settings_ == model.settings_
    np.testing.assert_allclose(
        loaded.recommend(np.arange(30), 3)[1], model.recommend(np.arange(30), 3)[1], rtol=1e-5
    )


def test_the_early_stopping_check_uses_a_sample_of_the_users() -> None:
    data = cycle(50, 20, 6)
    model = SequentialRecommender(**FAST, epochs=1, valid_users=10)
    from lmrec.models.seq.fit import training_data

    prep = training_data(model, data, torch.device("cpu"))
    assert prep.valid is not None
    assert len(prep.valid.targets) == 10
    # the 40 users outside the sample keep their last action to train on: 40 x 5 + 10 x 4
    assert int((prep.windows.targets > 0).sum()) == 40 * 5 + 10 * 4


def test_a_catalog_known_only_by_its_ids_has_no_text_to_encode() -> None:
    data = cycle(5, 4, 3)
    assert data.item_texts() is None
    model = SequentialRecommender(**{**FAST, "text_encoder": "hashing-16"}, epochs=1).fit(data)
    assert model.net_.cfg.text_dim == 0


def test_an_unknown_softmax_is_refused() -> None:
    with pytest.raises(UsageError, match="softmax must be auto, full or sampled"):
        SequentialRecommender(**FAST, softmax="approximate").fit(cycle(5, 4, 3))
