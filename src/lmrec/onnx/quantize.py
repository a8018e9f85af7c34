"""int8 versions of ONNX graphs: weights stored as int8 and activations quantized on the fly
(dynamic quantization, no calibration data needed), and which products to keep in float32
when some data is at hand (:func:`input_outliers`)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["input_outliers", "quantize_int8", "weight_products"]


def _products(graph: Any) -> list[Any]:
    """The graph's matrix products (MatMul, Gemm) by a constant weight, in graph order."""
    weights = {i.name for i in graph.initializer}
    return [n for n in graph.node if n.op_type in ("MatMul", "Gemm") and n.input[1] in weights]


def weight_products(src: str | Path) -> list[str]:
    """The names of ``src``'s matrix products (MatMul, Gemm) by a constant weight, in graph
    order: the nodes :func:`quantize_int8` turns into int8."""
    import onnx

    return [n.name for n in _products(onnx.load(str(src), load_external_data=False).graph)]


def input_outliers(src: str | Path, feeds: Iterable[Mapping[str, np.ndarray]]) -> dict[str, float]:
    """How badly dynamic quantization fits each weight product's input: the largest, over the
    ``feeds`` (one graph call each), of ``max|x| / rms(x)`` of the tensor it multiplies.
    Dynamic quantization gives that whole tensor one scale, so a tensor a few large values
    stretch (as after a GELU) loses the most precision; a product not reached gives 0."""
    import onnxruntime as ort

    import onnx

    model = onnx.load(str(src))
    inputs = {n.name: n.input[0] for n in _products(model.graph)}
    tensors = list(dict.fromkeys(inputs.values()))
    known = {o.name for o in model.graph.output}
    for name in tensors:
        if name not in known:
            model.graph.output.append(onnx.ValueInfoProto(name=name))
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.log_severity_level = 3
    session = ort.InferenceSession(
        model.SerializeToString(), opts, providers=["CPUExecutionProvider"]
    )
    worst = dict.fromkeys(tensors, 0.0)
    for feed in feeds:
        for name, x in zip(tensors, session.run(tensors, dict(feed)), strict=True):
            x = np.asarray(x, dtype=np.float64)
            rms = float(np.sqrt(np.mean(x * x))) if x.size else 0.0
            if rms > 0:
                worst[name] = max(worst[name], float(np.abs(x).max()) / rms)
    return {node: worst[tensor] for node, tensor in inputs.items()}


def quantize_int8(
    src: str | Path,
    dst: str | Path,
    *,
    keep_float: Callable[[str], bool] | None = None,
    keep_nodes: Iterable[str] = (),
) -> Path:
    """Write ``src``'s graph to ``dst`` with its matrix products (MatMul, Gemm) in int8: signed
    int8 weights per output channel, activations quantized per call; products whose weight's
    name ``keep_float`` accepts, and the nodes named in ``keep_nodes``, stay float32."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    import onnx

    out = Path(dst)
    exclude: list[str] = []
    for name in keep_nodes:
        exclude += [name, f"{name}_MatMul"]  # the quantizer rewrites a Gemm as MatMul + Add
    if keep_float is not None:
        graph = onnx.load(str(src), load_external_data=False).graph
        for n in graph.node:
            if n.op_type in ("MatMul", "Gemm") and any(keep_float(w) for w in n.input[1:2]):
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
