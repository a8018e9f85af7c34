"""ONNX export of networks, int8 quantization of the exported graphs, and ONNX Runtime
sessions to score with them (the ``onnx`` extra)."""

from lmrec.onnx.export import export_module
from lmrec.onnx.quantize import quantize_int8
from lmrec.onnx.session import Session, require_runtime

__all__ = ["Session", "export_module", "quantize_int8", "require_runtime"]
