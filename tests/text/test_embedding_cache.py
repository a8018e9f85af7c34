"""The embedding cache: concurrent writers (server workers, parallel runs) never clash."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import load_file

from lmrec.text.encoder import encode_items


class CountingEncoder:
    """A deterministic stand-in for a sentence encoder."""

    name = "counting-test-encoder"
    dim = 4

    def encode(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        out = np.array([[len(t), t.count("a"), t.count("e"), 1.0] for t in texts], np.float32)
        return out / np.linalg.norm(out, axis=1, keepdims=True)


def test_concurrent_writers_leave_one_whole_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LMREC_CACHE", str(tmp_path))
    errors: list[BaseException] = []

    def write(t: int) -> None:
        try:
            for j in range(10):
                encode_items([f"text {t} {j} {'a' * j}"], CountingEncoder())
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(t,)) for t in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    folder = tmp_path / "embeddings"
    assert list(folder.glob("*.tmp")) == []  # no writer left its file behind
    (cache,) = folder.glob("*.safetensors")
    stored = load_file(str(cache))
    assert stored["vectors"].shape[1] == 4
    assert len(stored["keys"]) >= 10  # the last writer's view: whole, readable
