"""Beyond-accuracy metrics against values worked out by hand."""

from __future__ import annotations

import numpy as np

from lmrec import metrics as M


def test_coverage() -> None:
    assert M.coverage(np.array([[0, 1], [1, 2]]), 4) == 0.75
    assert M.coverage(np.array([[0, -1]]), 4) == 0.25


def test_gini() -> None:
    # counts per item [1, 2, 1, 0] sorted [0, 1, 1, 2]; sum((2i - n - 1) c) = -1 + 1 + 6 = 6
    # gini = 6 / (n * total) = 6 / 16
    assert np.isclose(M.gini(np.array([[0, 1], [1, 2]]), 4), 0.375)
    assert np.isclose(M.gini(np.array([[0, 1], [2, 3]]), 4), 0.0)  # all equal


def test_novelty() -> None:
    counts = np.array([2.0, 1.0, 0.0])  # share of 4 users: 1/2, 1/4, (unseen counts as 1) 1/4
    np.testing.assert_allclose(M.novelty(np.array([[0, 1], [2, -1]]), counts, 4), [1.5, 2.0])


def test_average_popularity() -> None:
    counts = np.array([10.0, 4.0, 1.0])
    np.testing.assert_allclose(M.average_popularity(np.array([[0, 1], [2, -1]]), counts), [7, 1])


def test_intra_list_diversity_by_categories() -> None:
    # A {x}, B {x, y}, C {z}: d(A,B) = 1 - 1/2, d(A,C) = 1, d(B,C) = 1 -> mean 2.5 / 3
    cats = M.category_matrix([["x"], ["x", "y"], ["z"]])
    ild = M.intra_list_diversity(np.array([[0, 1, 2], [0, -1, -1]]), cats)
    np.testing.assert_allclose(ild, [2.5 / 3, 0.0])


def test_intra_list_diversity_by_embeddings() -> None:
    emb = np.array([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]])
    # cos(0,1) = 0, cos(0,2) = cos(1,2) = 1/sqrt(2)
    expected = np.mean([1.0, 1 - 1 / np.sqrt(2), 1 - 1 / np.sqrt(2)])
    np.testing.assert_allclose(
        M.intra_list_diversity(np.array([[0, 1, 2]]), emb, kind="cosine"), [expected]
    )


def test_personalization() -> None:
    # overlaps / K: (u0, u1) = 1/2, (u0, u2) = 0, (u1, u2) = 0 -> mean 1/6
    recs = np.array([[0, 1], [0, 2], [3, 4]])
    assert np.isclose(M.personalization(recs, 5), 1 - 1 / 6)
    assert np.isclose(M.personalization(np.array([[0, 1], [1, 0]]), 5), 0.0)
