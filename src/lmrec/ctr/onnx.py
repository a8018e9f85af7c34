"""The neural CTR models (DeepFM, DCN) as one ONNX graph each: categorical codes, the
multi-hot categories and the dense block -> the mean log-odds of the model's seeds, written
into ``MODEL/onnx/`` beside the saved model (see :mod:`lmrec.onnx.saved`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import nn

from lmrec._types import FloatArray
from lmrec.onnx.saved import RuntimeChoice, check_precision, exported_files, write_manifest

if TYPE_CHECKING:
    from lmrec.ctr.deepfm import DeepFMNet
    from lmrec.ctr.features import FeatureTable

__all__ = ["OnnxCTR", "export_ctr", "runtime_choice"]

#: rows per ONNX Runtime call, as the PyTorch path scores them
CHUNK = 8192


class _Mean(nn.Module):
    def __init__(self, nets: list[DeepFMNet]) -> None:
        super().__init__()
        self.nets = nn.ModuleList(nets)

    def forward(self, cat: torch.Tensor, multi: torch.Tensor, dense: torch.Tensor) -> torch.Tensor:
        return torch.stack([net(cat, multi, dense) for net in self.nets]).mean(dim=0)


def export_ctr(
    nets: list[DeepFMNet], widths: tuple[int, int, int], folder: Path, name: str, precision: str
) -> dict[str, Any]:
    """Write the mean of ``nets`` (inputs of ``widths``: fields, categories, dense columns)
    as ``folder/onnx/ctr.onnx`` (and ``ctr.int8.onnx``); returns the manifest."""
    from lmrec.onnx import export_module, quantize_int8

    check_precision(precision)
    out = folder / "onnx"
    out.mkdir(parents=True, exist_ok=True)
    fields, multi, dense = widths
    example = [
        torch.zeros(2, fields, dtype=torch.long),
        torch.zeros(2, max(multi, 1)),
        torch.zeros(2, max(dense, 1)),
    ]
    export_module(
        _Mean(nets).eval(), example, out / "ctr.onnx", ["cat", "multi", "dense"], ["logit"]
    )
    files = {"float32": {"ctr": "ctr.onnx"}}
    if precision == "int8":
        # the input projections and first-order terms read raw feature values, whose range
        # one int8 scale per call covers badly: only the MLP and cross layers are quantized
        quantize_int8(out / "ctr.onnx", out / "ctr.int8.onnx", keep_float=_reads_inputs)
        files["int8"] = {"ctr": "ctr.int8.onnx"}
    return write_manifest(folder, name, files, precision)


def _reads_inputs(weight: str) -> bool:
    return any(
        f".{part}." in weight for part in ("multi_emb", "dense_emb", "multi_lin", "dense_lin")
    )


@dataclass
class OnnxCTR:
    session: Any
    precision: str

    def logits(self, x: FeatureTable) -> FloatArray:
        """The mean log-odds of the exported networks for each row of ``x``."""
        parts = []
        for s in range(0, len(x), CHUNK):
            rows = x.rows(slice(s, s + CHUNK))
            multi = rows.multi.toarray() if rows.multi.shape[1] else np.zeros((len(rows), 1))
            dense = rows.dense if rows.dense.shape[1] else np.zeros((len(rows), 1))
            (out,) = self.session.run(
                cat=np.ascontiguousarray(rows.cat, dtype=np.int64),
                multi=np.ascontiguousarray(multi, dtype=np.float32),
                dense=np.ascontiguousarray(dense, dtype=np.float32),
            )
            parts.append(np.asarray(out, dtype=np.float32))
        return np.concatenate(parts) if parts else np.zeros(0, np.float32)


def _open(folder: Path, precision: str | None, threads: int) -> OnnxCTR:
    from lmrec.onnx import Session

    _, chosen, files = exported_files(folder, precision)
    return OnnxCTR(Session(files["ctr"], threads=threads), chosen)


def runtime_choice(folder: Path | None) -> RuntimeChoice[OnnxCTR]:
    """The runtime of a CTR network loaded from ``folder`` (None: fitted here)."""
    return RuntimeChoice(folder, _open)
