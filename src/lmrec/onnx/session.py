"""An ONNX Runtime session on one graph, with its thread count set and inputs named."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from lmrec.errors import UsageError

__all__ = ["Session", "require_runtime"]


def require_runtime() -> Any:
    """The ``onnxruntime`` module, or a UsageError naming the extra to install."""
    try:
        import onnxruntime
    except ImportError as e:
        raise UsageError("the onnx runtime needs the onnx extra: pip install 'lmrec[onnx]'") from e
    return onnxruntime


class Session:
    """The graph at ``path`` run by ONNX Runtime on the CPU with ``threads`` threads (0: as
    many as ONNX Runtime chooses)."""

    def __init__(self, path: str | Path, *, threads: int = 1) -> None:
        ort = require_runtime()
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.log_severity_level = 3
        self.path = Path(path)
        if not self.path.is_file():
            raise UsageError(f"{self.path}: no such ONNX graph")
        self._session = ort.InferenceSession(
            str(self.path), opts, providers=["CPUExecutionProvider"]
        )
        self.inputs = [i.name for i in self._session.get_inputs()]
        self.outputs = [o.name for o in self._session.get_outputs()]

    def run(self, **feeds: np.ndarray) -> list[np.ndarray]:
        """The graph's outputs for the named inputs (every input of the graph, no other)."""
        missing = set(self.inputs) - set(feeds)
        if missing:
            raise ValueError(f"{self.path.name}: missing inputs {sorted(missing)}")
        return list(self._session.run(None, {k: feeds[k] for k in self.inputs}))
