from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from lmrec.errors import UsageError
from lmrec.index import VectorIndex


@pytest.fixture(scope="module")
def vectors() -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.normal(size=(5000, 16)).astype(np.float32)


def test_exact_matches_brute_force(vectors: np.ndarray) -> None:
    q = vectors[:5] + 0.1
    ids, scores = VectorIndex("exact").build(vectors).search(q, 10)
    truth = np.argsort(-(q @ vectors.T), axis=1)[:, :10]
    np.testing.assert_array_equal(ids, truth)
    assert (np.diff(scores, axis=1) <= 1e-5).all()


def test_hnsw_recall_and_round_trip(vectors: np.ndarray, tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    q = rng.normal(size=(200, 16)).astype(np.float32)
    truth, _ = VectorIndex("exact").build(vectors).search(q, 10)
    index = VectorIndex("hnsw", m=16, ef_search=128).build(vectors)
    ids, _ = index.search(q, 10)
    recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(ids, truth, strict=True)])
    assert recall >= 0.95
    index.set_ef_search(1)
    low, _ = index.search(q, 10)
    low_recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(low, truth, strict=True)])
    assert low_recall < recall  # the knob does something
    index.set_ef_search(128)
    index.save(tmp_path / "items.faiss")
    back = VectorIndex.load(tmp_path / "items.faiss")
    assert back.kind == "hnsw"
    assert back.size == 5000
    np.testing.assert_array_equal(back.search(q, 10)[0], ids)


def test_ivf_recall_probe_knob_and_round_trip(vectors: np.ndarray, tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    q = rng.normal(size=(200, 16)).astype(np.float32)
    truth, _ = VectorIndex("exact").build(vectors).search(q, 10)
    index = VectorIndex("ivf", n_lists=64, n_probe=64).build(vectors)
    ids, _ = index.search(q, 10)
    full = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(ids, truth, strict=True)])
    assert full == 1.0  # every cell probed: exact
    index.set_n_probe(1)
    low, _ = index.search(q, 10)
    one = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(low, truth, strict=True)])
    assert one < 0.9
    index.save(tmp_path / "ivf.faiss")
    back = VectorIndex.load(tmp_path / "ivf.faiss")
    assert (back.kind, back.n_probe, back.size) == ("ivf", 1, 5000)
    np.testing.assert_array_equal(back.search(q, 10)[0], low)


def test_errors(vectors: np.ndarray, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="'exact', 'hnsw' or 'ivf'"):
        VectorIndex("lsh")  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="call build"):
        VectorIndex().search(vectors[:1], 5)
    with pytest.raises(UsageError, match="dimensions"):
        VectorIndex("exact").build(vectors).search(np.zeros((1, 3)), 5)
    with pytest.raises(UsageError, match="non-empty 2-D"):
        VectorIndex().build(np.zeros((0, 4)))
    with pytest.raises(UsageError, match="no index file"):
        VectorIndex.load(tmp_path / "missing.faiss")
