"""ONNX export of networks, int8 quantization of the exported graphs, and ONNX Runtime
sessions to score with them (the ``onnx`` extra)."""

from lmrec.onnx.export import export_module
from lmrec.onnx.quantize import input_outliers, quantize_int8, weight_products
from lmrec.onnx.session import Session, require_runtime

__all__ = [
    "Session",
    "export_module",
    "input_outliers",
    "quantize_int8",
    "require_runtime",
    "weight_products",
]
