from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from lmrec.errors import UsageError
from lmrec.rerank import ItemFeatures, RerankConfig, ThompsonExplorer, category_mix, rerank

# items 0, 1: category X; 2, 3: category Y; 4: both
CATS = sp.csr_matrix(np.array([[1, 0], [1, 0], [0, 1], [0, 1], [1, 1]], dtype=np.float32))
COUNTS = np.array([8.0, 4.0, 2.0, 1.0, 1.0])


def features(**kw: object) -> ItemFeatures:
    return ItemFeatures.build(COUNTS, 8, categories=CATS, **kw)  # type: ignore[arg-type]


def test_strength_zero_keeps_the_model_order() -> None:
    ids, scores = rerank(
        np.array([3, 1, 0, 2]), np.array([0.9, 0.8, 0.7, 0.1], dtype=np.float32), 3,
        features(), RerankConfig(strength=0.0, dedupe=None),
    )  # fmt: skip
    assert ids.tolist() == [3, 1, 0]
    np.testing.assert_allclose(scores, [0.9, 0.8, 0.7])


def test_diversity_picks_the_other_category_second() -> None:
    # relevance scaled over candidates: 0 -> 1.0, 1 -> 0.8, 2 -> 0.0. Second slot, strength 0.5,
    # diversity only: item 1 scores 0.5*0.8 + 0.5*(1 - 1) = 0.4, item 2 0.5*0 + 0.5*1 = 0.5.
    cfg = RerankConfig(strength=0.5, exposure=0.0, relevance="minmax", dedupe=None)
    ids, _ = rerank(np.array([0, 1, 2]), np.array([1.0, 0.9, 0.5], np.float32), 2, features(), cfg)
    assert ids.tolist() == [0, 2]
    # a little less strength: 0.4*0.8*... item 1: 0.6*0.8 = 0.48 > item 2: 0.4 -> keeps order
    cfg = RerankConfig(strength=0.4, exposure=0.0, relevance="minmax", dedupe=None)
    ids, _ = rerank(np.array([0, 1, 2]), np.array([1.0, 0.9, 0.5], np.float32), 2, features(), cfg)
    assert ids.tolist() == [0, 1]


def test_novelty_lifts_rare_items() -> None:
    f = features()
    # self-information -log2(count / 8): 0, 1, 2, 3, 3 -> scaled 0, 1/3, 2/3, 1, 1
    np.testing.assert_allclose(f.novelty, [0, 1 / 3, 2 / 3, 1, 1], atol=1e-6)
    cfg = RerankConfig(strength=0.9, diversity=0.0, novelty=1.0, exposure=0.0, dedupe=None)
    ids, _ = rerank(np.array([0, 1, 3]), np.array([1.0, 0.9, 0.8], np.float32), 1, f, cfg)
    assert ids.tolist() == [3]


def test_calibration_follows_the_users_category_mix() -> None:
    mix = category_mix(sp.csr_matrix(np.array([[1, 0, 1, 0, 0]], dtype=np.float32)), CATS)[0]
    np.testing.assert_allclose(mix, [0.5, 0.5])
    cands, scores = np.array([0, 1, 2, 3]), np.array([1.0, 0.95, 0.9, 0.85], np.float32)
    plain = RerankConfig(strength=0.0, dedupe=None)
    assert rerank(cands, scores, 2, features(), plain, user_mix=mix)[0].tolist() == [0, 1]
    cal = RerankConfig(strength=0.5, diversity=0.0, exposure=0.0, calibration=1.0, dedupe=None)
    ids, _ = rerank(cands, scores, 2, features(), cal, user_mix=mix)
    assert ids.tolist() == [0, 2]


def test_list_objective_takes_each_slots_exact_gain_in_the_list_objective() -> None:
    """Each slot's pick is the best one-item extension of the documented list objective,
    (1 - s) * sum(rel * w_slot) / sum(w) + s * (ILD + novelty averaged over the list) / 2,
    computed here from its definition: relevance 1 / log2(1 + rank), w_slot = 1 / log2(slot + 2),
    ILD = mean over pairs of 1 - category Jaccard."""
    rng = np.random.default_rng(7)
    n_items, k, s = 12, 5, 0.6
    cats = (rng.random((n_items, 4)) < 0.4).astype(np.float32)
    cats[cats.sum(axis=1) == 0, 0] = 1.0
    counts = rng.integers(1, 30, n_items).astype(np.float64)
    f = ItemFeatures.build(counts, 30, categories=sp.csr_matrix(cats))
    ids = rng.permutation(n_items)
    scores = np.sort(rng.random(n_items))[::-1].astype(np.float32)
    rel = {int(i): 1 / np.log2(2 + r) for r, i in enumerate(ids)}
    inter = cats @ cats.T
    union = cats.sum(1)[:, None] + cats.sum(1)[None, :] - inter
    dist = 1 - inter / union
    w = 1 / np.log2(np.arange(k) + 2)

    def objective(items: list[int]) -> float:
        gain = sum(rel[i] * w[j] for j, i in enumerate(items)) / w.sum()
        ild = sum(dist[a, b] for x, a in enumerate(items) for b in items[x + 1 :])
        spread = ild / (k * (k - 1) / 2) + sum(float(f.novelty[i]) for i in items) / k
        return (1 - s) * gain + s * spread / 2

    cfg = RerankConfig(
        strength=s, novelty=1.0, exposure=0.0, objective="list", dedupe=None, candidates=n_items
    )
    got, _ = rerank(ids, scores, k, f, cfg)
    for j in range(k):
        head = got[:j].tolist()
        best = max((i for i in ids.tolist() if i not in head), key=lambda i: objective([*head, i]))
        assert got[j] == best, j
    # the list objective differs from the per-item one here
    item, _ = rerank(
        ids,
        scores,
        k,
        f,
        RerankConfig(strength=s, novelty=1.0, exposure=0.0, dedupe=None, candidates=n_items),
    )
    assert item.tolist() != got.tolist()


def test_relevance_by_rank_is_the_dcg_discount() -> None:
    from lmrec.rerank.greedy import _relevance

    np.testing.assert_allclose(
        _relevance(np.array([0.2, 5.0, 1.0]), "rank"), [0.5, 1.0, 1 / np.log2(3)]
    )
    np.testing.assert_allclose(_relevance(np.array([0.0, 1.0, 0.5]), "minmax"), [0.0, 1.0, 0.5])


def test_zsoftmax_relevance_is_the_softmax_of_standardized_scores() -> None:
    from lmrec.rerank.greedy import _relevance

    # gaps to the best -4, -2, 0 have standard deviation sqrt(8/3) = 1.633
    expected = [np.exp(-4 / 1.63299), np.exp(-2 / 1.63299), 1.0]
    got = _relevance(np.array([0.0, 2.0, 4.0]), "zsoftmax")
    np.testing.assert_allclose(got, expected, rtol=1e-5)
    # the same for any scale or offset of the scores; plain softmax is not
    np.testing.assert_allclose(_relevance(np.array([7.0, 207.0, 407.0]), "zsoftmax"), got)
    assert _relevance(np.array([7.0, 207.0, 407.0]), "softmax")[1] < 1e-80
    np.testing.assert_allclose(
        _relevance(np.array([0.0, 2.0, 4.0]), "zsoftmax", 0.5), np.sqrt(expected), rtol=1e-5
    )
    np.testing.assert_allclose(_relevance(np.array([3.0, 3.0]), "zsoftmax"), [1.0, 1.0])
    with pytest.raises(UsageError, match="sharpness"):
        RerankConfig(relevance="zsoftmax", sharpness=0.0)
    with pytest.raises(UsageError, match="zsoftmax"):
        RerankConfig(relevance="nope")


def test_probability_relevance_is_the_softmax_over_the_candidates() -> None:
    from lmrec.rerank.greedy import _relevance

    e = np.exp([-2.0, 0.0, -1.0])
    np.testing.assert_allclose(_relevance(np.array([1.0, 3.0, 2.0]), "probability"), e / e.sum())
    np.testing.assert_allclose(  # offsets do not matter, sharpness is an inverse temperature
        _relevance(np.array([101.0, 103.0, 102.0]), "probability", 2.0),
        e**2 / (e**2).sum(),
    )


def test_probability_relevance_diversifies_unsure_users_and_not_confident_ones() -> None:
    # candidates 0, 1 share category X, 2 is Y; the model ranks 0, 1, 2 for both users but is
    # sure that 2 is a poor match for user A (p = .498, .498, .003) and unsure for B (.378,
    # .342, .280). Second slot (DCG weight share 0.631 / 1.631 = .387), strength 0.05, distance
    # to item 0: 0 for item 1, 1 for item 2.
    cfg = RerankConfig(strength=0.05, relevance="probability", objective="list", exposure=0.0,
                       dedupe=None)  # fmt: skip
    ids = np.array([0, 1, 2])
    sure, _ = rerank(ids, np.array([5.0, 5.0, 0.0]), 2, features(), cfg)
    unsure, _ = rerank(ids, np.array([0.3, 0.2, 0.0]), 2, features(), cfg)
    assert sure.tolist() == [0, 1]  # .95 * .498 * .387 = .183 beats .95 * .003 * .387 + .05
    assert unsure.tolist() == [0, 2]  # .95 * .280 * .387 + .05 = .153 beats .95 * .342 * .387
    # rank relevance sees the same ranks for both users, so it cannot tell them apart
    by_rank = RerankConfig(strength=0.05, objective="list", exposure=0.0, dedupe=None)
    assert (
        rerank(ids, np.array([5.0, 5.0, 0.0]), 2, features(), by_rank)[0].tolist()
        == rerank(ids, np.array([0.3, 0.2, 0.0]), 2, features(), by_rank)[0].tolist()
    )


def test_exposure_spreads_lists_over_the_catalog() -> None:
    from lmrec.rerank import rerank_lists

    cands = np.tile(np.array([0, 1, 2, 3]), (4, 1))
    scores = np.tile(np.array([4, 3, 2, 1], np.float32), (4, 1))
    plain = RerankConfig(strength=0.0, dedupe=None)
    assert set(rerank_lists(cands, scores, 1, features(), plain)[0].ravel()) == {0}
    spread = RerankConfig(strength=0.6, diversity=0.0, exposure=1.0, dedupe=None)
    ids, _ = rerank_lists(cands, scores, 1, features(), spread)
    # first user: model order; then item 0 (shown once) loses to the unshown item 1, and so on
    assert ids.ravel().tolist()[:2] == [0, 1]
    assert len(set(ids.ravel().tolist())) > 1


def test_exposure_kinds_share_and_inverse() -> None:
    """Items 0, 1, 2 shown 10, 1 and 0 times; relevance (minmax) 1, 1/3, 0; strength 0.7.
    share: bonus 1 - shown / 11 = 0.09, 0.91, 1; values 0.3 * rel + 0.7 * bonus = 0.36, 0.74,
    0.70: item 1. inverse: bonus 1 / (1 + shown) = 0.09, 0.5, 1; values 0.36, 0.45, 0.70: item 2."""
    shown = np.array([10.0, 1.0, 0.0, 0.0, 0.0])
    ids, scores = np.array([0, 1, 2]), np.array([1.0, 0.7, 0.55], np.float32)
    picks = {}
    for kind in ("share", "inverse"):
        cfg = RerankConfig(
            strength=0.7, diversity=0.0, exposure=1.0, exposure_kind=kind,
            relevance="minmax", dedupe=None,
        )  # fmt: skip
        picks[kind] = int(rerank(ids, scores, 1, features(), cfg, shown=shown.copy())[0][0])
    assert picks == {"share": 1, "inverse": 2}
    with pytest.raises(UsageError, match="exposure_kind must be 'share' or 'inverse'"):
        RerankConfig(exposure_kind="log")


def test_category_mix_splits_multi_category_items() -> None:
    # item 4 has two categories: half to each; with item 0 (X): X = 1.5 / 2, Y = 0.5 / 2
    mix = category_mix(sp.csr_matrix(np.array([[1, 0, 0, 0, 1]], dtype=np.float32)), CATS)
    np.testing.assert_allclose(mix, [[0.75, 0.25]])


def test_near_duplicates_are_removed_and_pinned_items_come_first() -> None:
    emb = np.array([[1, 0], [1, 0.01], [0, 1], [0.7, 0.7], [0.6, 0.8]], dtype=np.float32)
    f = features(embeddings=emb)
    cfg = RerankConfig(strength=0.0, dedupe=0.95)
    ids, _ = rerank(np.array([0, 1, 2, 3]), np.array([4, 3, 2, 1], np.float32), 3, f, cfg)
    assert ids.tolist() == [0, 2, 3]  # 1 is a near-copy of 0
    pinned = RerankConfig(strength=0.0, dedupe=None, pinned=(4,))
    ids, scores = rerank(np.array([0, 1, 2]), np.array([4, 3, 2], np.float32), 3, f, pinned)
    assert ids.tolist() == [4, 0, 1]
    assert scores[0] == 4  # pinned items take the top score


def test_exploration_slots_go_to_items_that_get_clicked() -> None:
    explorer = ThompsonExplorer(5)
    explorer.shown(np.repeat(np.arange(5), 100))
    explorer.clicked(np.repeat(3, 90))
    assert explorer.rates(np.array([3]))[0] == pytest.approx(91 / 102)
    cfg = RerankConfig(strength=0.0, dedupe=None, explore=0.5)
    ids, _ = rerank(
        np.array([0, 1, 2, 3]), np.array([4, 3, 2, 1], np.float32), 2, features(), cfg,
        explorer=explorer, rng=np.random.default_rng(0),
    )  # fmt: skip
    assert ids.tolist() == [0, 3]


def test_padding_when_too_few_candidates() -> None:
    ids, scores = rerank(
        np.array([0, -1]), np.array([1.0, np.nan], np.float32), 3, features(),
        RerankConfig(strength=0.5),
    )  # fmt: skip
    assert ids.tolist() == [0, -1, -1]
    assert np.isnan(scores[1:]).all()


@pytest.mark.parametrize(
    "kw", [{"strength": 1.5}, {"explore": -0.1}, {"dedupe": 0.0}, {"novelty": -1.0},
           {"candidates": 0}, {"diversity_kind": "max"}, {"objective": "page"}],
)  # fmt: skip
def test_bad_settings_are_refused(kw: dict[str, object]) -> None:
    with pytest.raises(UsageError):
        RerankConfig(**kw)  # type: ignore[arg-type]
