"""Each accuracy metric against values worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from lmrec import metrics as M


def truth_of(rows: list[list[int]], n_items: int = 10) -> sp.csr_matrix:
    r = [u for u, items in enumerate(rows) for _ in items]
    c = [i for items in rows for i in items]
    return sp.csr_matrix((np.ones(len(r)), (r, c)), shape=(len(rows), n_items))


# user 0: list [3, 1, 2], relevant {1, 5}: one hit at rank 2
# user 1: list [4, 6, 7], relevant {0}: no hit
# user 2: list [2, 0, -1] (padded), relevant {2, 0, 9}: hits at ranks 1 and 2
RECS = np.array([[3, 1, 2], [4, 6, 7], [2, 0, -1]])
TRUTH = truth_of([[1, 5], [0], [2, 0, 9]])
N_REL = np.array([2, 1, 3])


def test_hits_matrix() -> None:
    hits = M.hits_matrix(RECS, TRUTH)
    expected = [[False, True, False], [False, False, False], [True, True, False]]
    np.testing.assert_array_equal(hits, expected)


def test_padding_is_never_a_hit() -> None:
    truth = truth_of([[9]])
    assert not M.hits_matrix(np.array([[-1, -1]]), truth).any()


@pytest.fixture
def hits() -> np.ndarray:
    return M.hits_matrix(RECS, TRUTH)


def test_precision(hits: np.ndarray) -> None:
    np.testing.assert_allclose(M.precision(hits, 3), [1 / 3, 0, 2 / 3])


def test_recall(hits: np.ndarray) -> None:
    np.testing.assert_allclose(M.recall(hits, N_REL, 3), [1 / 2, 0, 2 / 3])


def test_hit_rate(hits: np.ndarray) -> None:
    np.testing.assert_allclose(M.hit_rate(hits, 3), [1, 0, 1])
    np.testing.assert_allclose(M.hit_rate(hits, 1), [0, 0, 1])


def test_ndcg(hits: np.ndarray) -> None:
    # user 0: DCG = 1/log2(3); ideal has min(2, 3) = 2 hits: 1 + 1/log2(3)
    u0 = (1 / np.log2(3)) / (1 + 1 / np.log2(3))
    # user 2: DCG = 1 + 1/log2(3); ideal 3 hits: 1 + 1/log2(3) + 1/2
    u2 = (1 + 1 / np.log2(3)) / (1 + 1 / np.log2(3) + 0.5)
    np.testing.assert_allclose(M.ndcg(hits, N_REL, 3), [u0, 0, u2])


def test_ndcg_perfect_list_is_one() -> None:
    hits = np.array([[True, False, False]])
    np.testing.assert_allclose(M.ndcg(hits, np.array([1]), 3), [1.0])


def test_reciprocal_rank(hits: np.ndarray) -> None:
    np.testing.assert_allclose(M.reciprocal_rank(hits, 3), [1 / 2, 0, 1])
    np.testing.assert_allclose(M.reciprocal_rank(hits, 1), [0, 0, 1])


def test_average_precision(hits: np.ndarray) -> None:
    # user 0: precision at rank 2 = 1/2, over min(2, 3) = 2 -> 0.25
    # user 2: (1/1 + 2/2) / min(3, 3) = 2/3
    np.testing.assert_allclose(M.average_precision(hits, N_REL, 3), [0.25, 0, 2 / 3])
