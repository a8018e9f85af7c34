"""Every metric against an independent implementation on random cases: ranking metrics against
trec_eval (through pytrec_eval), probability metrics against scikit-learn."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from lmrec import metrics as M

pytrec_eval = pytest.importorskip("pytrec_eval")
sk_metrics = pytest.importorskip("sklearn.metrics")
sk_calibration = pytest.importorskip("sklearn.calibration")

K = 10


def random_cases(seed: int, n_users: int = 200, n_items: int = 60, max_relevant: int = 15):
    """Top-K lists (some padded with -1) and relevant sets of random size."""
    rng = np.random.default_rng(seed)
    recs = np.stack([rng.choice(n_items, K, replace=False) for _ in range(n_users)])
    short = rng.random(n_users) < 0.2
    recs[short, rng.integers(3, K) :] = -1  # lists shorter than K
    rows, cols = [], []
    for u in range(n_users):
        rel = rng.choice(n_items, int(rng.integers(1, max_relevant + 1)), replace=False)
        rows += [u] * len(rel)
        cols += rel.tolist()
    truth = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n_users, n_items))
    return recs, truth


def trec_eval(recs: np.ndarray, truth: sp.csr_matrix, measures: set[str]) -> dict[str, np.ndarray]:
    qrels = {f"u{u}": {f"i{i}": 1 for i in truth[u].indices} for u in range(truth.shape[0])}
    run = {
        f"u{u}": {f"i{i}": float(K - r) for r, i in enumerate(row) if i >= 0}
        for u, row in enumerate(recs)
    }
    scores = pytrec_eval.RelevanceEvaluator(qrels, measures).evaluate(run)
    out: dict[str, list[float]] = {}
    for u in range(truth.shape[0]):
        for name, value in scores.get(f"u{u}", {}).items():
            out.setdefault(name, []).append(value)
    return {name: np.array(values) for name, values in out.items()}


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_ranking_metrics_match_trec_eval(seed: int) -> None:
    recs, truth = random_cases(seed)
    run_has_items = (recs >= 0).any(axis=1)
    assert run_has_items.all()
    ref = trec_eval(recs, truth, {"ndcg_cut.10", "recall.10", "P.10", "recip_rank"})
    hits = M.hits_matrix(recs, truth)
    n_rel = np.diff(truth.indptr)
    np.testing.assert_allclose(M.ndcg(hits, n_rel, K), ref["ndcg_cut_10"], atol=1e-4)
    np.testing.assert_allclose(M.recall(hits, n_rel, K), ref["recall_10"], atol=1e-4)
    np.testing.assert_allclose(M.precision(hits, K), ref["P_10"], atol=1e-4)
    np.testing.assert_allclose(M.reciprocal_rank(hits, K), ref["recip_rank"], atol=1e-4)


def test_average_precision_matches_trec_eval_within_the_cutoff() -> None:
    # trec_eval's map_cut divides by every relevant item; AP@K by min(relevant, K): they agree
    # when no user has more than K relevant items
    recs, truth = random_cases(3, max_relevant=K)
    ref = trec_eval(recs, truth, {"map_cut.10"})
    hits = M.hits_matrix(recs, truth)
    ap = M.average_precision(hits, np.diff(truth.indptr), K)
    np.testing.assert_allclose(ap, ref["map_cut_10"], atol=1e-4)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_probability_metrics_match_scikit_learn(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(50, 2000))
    p = rng.beta(0.5 + seed, 2.0, n)
    y = (rng.random(n) < p ** (1 + seed / 2)).astype(float)
    if seed == 3:
        p = np.round(p, 1)  # many ties
    assert M.auc(y, p) == pytest.approx(sk_metrics.roc_auc_score(y, p), abs=1e-12)
    clipped = np.clip(p, 1e-7, 1 - 1e-7)
    assert M.log_loss(y, p) == pytest.approx(sk_metrics.log_loss(y, clipped), rel=1e-9)
    if seed == 3:
        return  # rounded values sit on bin edges, where the two binnings differ by design
    prob_true, prob_pred = sk_calibration.calibration_curve(y, p, n_bins=10, strategy="uniform")
    counts = np.bincount(np.searchsorted(np.linspace(0, 1, 11)[1:-1], p), minlength=10)
    counts = counts[counts > 0]
    ece = float((counts * np.abs(prob_true - prob_pred)).sum() / counts.sum())
    assert M.expected_calibration_error(y, p) == pytest.approx(ece, abs=1e-12)
