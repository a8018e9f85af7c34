"""int8 versions of ONNX graphs: weights stored as int8 and activations quantized on the fly
(dynamic quantization, no calibration data needed)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

__all__ = ["quantize_int8"]


def quantize_int8(
    src: str | Path, dst: str | Path, *, keep_float: Callable[[str], bool] | None = None
) -> Path:
    """Write ``src``'s graph to ``dst`` with its matrix products (MatMul, Gemm) in int8: signed
    int8 weights per output channel, activations quantized per call; products whose weight's
    name ``keep_float`` accepts stay float32."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    import onnx

    out = Path(dst)
    exclude: list[str] = []
    if keep_float is not None:
        graph = onnx.load(str(src), load_external_data=False).graph
        for n in graph.node:
            if n.op_type in ("MatMul", "Gemm") and any(keep_float(w) for w in n.input[1:2]):
                # the quantizer rewrites a Gemm as MatMul + Add, named after it
                exclude += [n.name, f"{n.name}_MatMul"]
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)  # it suggests a pre-processing pass on every call
    try:
        quantize_dynamic(
            Path(src),
            out,
            weight_type=QuantType.QInt8,
            per_channel=True,
            op_types_to_quantize=["MatMul", "Gemm"],
            nodes_to_exclude=exclude,
        )
    finally:
        root.setLevel(level)
    return out
