"""DeepFM and DCN scored through ONNX Runtime agree with PyTorch; ``lmrec export`` finds them
in CTR artifacts."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from lmrec import metrics as M
from lmrec.ctr import CTRModel, FeatureEncoder, create_ctr_model
from lmrec.ctr.evaluation import labels
from lmrec.ctr.features import dataset_events
from lmrec.ctr.synthetic import synthetic_ad_log
from lmrec.errors import UsageError

pytest.importorskip("onnxruntime")


@pytest.fixture(scope="module")
def log():  # type: ignore[no-untyped-def]
    data = synthetic_ad_log(n_users=200, n_ads=40, n_events=12_000, seed=2)
    ev = dataset_events(data).sort("timestamp", maintain_order=True)
    y = labels(ev, 1.0)
    enc = FeatureEncoder(text_encoder="hashing", text_dims=4).fit(ev[:10_000], data.items)
    return enc, enc.transform(ev[:10_000]), y[:10_000], enc.transform(ev[10_000:]), y[10_000:]


@pytest.mark.parametrize("name", ["deepfm", "dcn"])
def test_onnx_logits_equal_pytorch_logits(name: str, log, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    enc, x, y, x_test, y_test = log
    model = create_ctr_model(name, epochs=5, n_seeds=2).fit(x, y, enc)
    with pytest.raises(UsageError, match="save the model"):
        model.export_onnx()  # type: ignore[attr-defined]
    model.save(tmp_path / name)
    torch_model = CTRModel.load(tmp_path / name)
    assert torch_model.use_runtime("auto") == "torch"  # type: ignore[attr-defined]
    manifest = torch_model.export_onnx(precision="int8")  # type: ignore[attr-defined]
    assert set(manifest["files"]) == {"float32", "int8"}
    assert torch_model.use_runtime("torch") == "torch"  # type: ignore[attr-defined]
    f32 = CTRModel.load(tmp_path / name)
    assert f32.use_runtime("onnx", "float32") == "onnx"  # type: ignore[attr-defined]
    reference = torch_model.predict_logit(x_test)
    np.testing.assert_allclose(f32.predict_logit(x_test), reference, rtol=1e-4, atol=1e-5)
    int8 = CTRModel.load(tmp_path / name)  # the export's default: int8
    assert int8.use_runtime() == "onnx"  # type: ignore[attr-defined]
    auc_t = M.auc(y_test, torch_model.predict_proba(x_test))
    auc_8 = M.auc(y_test, int8.predict_proba(x_test))
    assert auc_t > 0.53  # it learned something, so int8 has something to keep
    assert abs(auc_8 - auc_t) < 0.005


def test_export_cli_finds_ctr_models(
    cli: Callable[..., tuple[int, str, str]],
    log,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    from lmrec.ctr.ads import CTRArtifacts

    enc, x, y, _, _ = log
    data = synthetic_ad_log(n_users=200, n_ads=40, n_events=12_000, seed=2)
    models = {
        "deepfm": create_ctr_model("deepfm", epochs=1, n_seeds=1).fit(x, y, enc),
        "logreg": create_ctr_model("logreg").fit(x, y, enc),
    }
    CTRArtifacts.save(tmp_path / "art", models, enc, data)
    code, out, err = cli("export", tmp_path / "art", "--text-encoder", "none")
    assert code == 0, err
    assert "deepfm: ctr.onnx" in out
    assert (tmp_path / "art" / "ctr" / "models" / "deepfm" / "onnx" / "ctr.onnx").is_file()
    assert not (tmp_path / "art" / "ctr" / "models" / "logreg" / "onnx").exists()
    code, _, err = cli("export", tmp_path / "art", "--model", "logreg", "--text-encoder", "none")
    assert code == 2
    assert "has no ONNX export" in err
