"""A PyTorch module written as an ONNX graph, its batch dimension left free."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from lmrec.errors import UsageError

__all__ = ["export_module"]

#: ONNX opset the graphs are written in (ONNX Runtime 1.18 and later run it)
OPSET = 18


def export_module(
    module: Any,
    inputs: Sequence[Any],
    path: str | Path,
    input_names: Sequence[str],
    output_names: Sequence[str],
    *,
    dynamic_dims: tuple[int, ...] = (0,),
    max_batch: int = 1 << 16,
    free: Sequence[dict[int, str]] | None = None,
) -> Path:
    """Write ``module`` (in eval mode) called on ``inputs`` (tensors whose first dimension is
    the batch) as the ONNX graph ``path``, with ``input_names`` and ``output_names``; the graph
    takes any batch size up to ``max_batch`` (and, with ``dynamic_dims=(0, 1)``, any length of
    the second dimension too: the same one across inputs, as for token sequences). ``free``
    instead names, per input, its free dimensions (inputs whose dimensions share a name share
    the size). The weights are stored inside the file."""
    import torch

    try:
        import onnxscript  # noqa: F401  (the exporter writes its graphs with it)
    except ImportError as e:
        raise UsageError("ONNX export needs the onnx extra: pip install 'lmrec[onnx]'") from e
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    dims = {0: torch.export.Dim("batch", min=1, max=max_batch)}
    if 1 in dynamic_dims:
        dims[1] = torch.export.Dim("length", min=2, max=4096)
    dynamic = tuple(dict(dims) for _ in inputs)
    if free is not None:
        named = {n: torch.export.Dim(n, min=1, max=max_batch) for d in free for n in d.values()}
        dynamic = tuple({axis: named[n] for axis, n in d.items()} for d in free)
    module.eval()
    quiet = logging.getLogger("torch.onnx")
    level = quiet.level
    quiet.setLevel(logging.ERROR)  # it logs every optional op library it does not find
    try:
        with warnings.catch_warnings(), torch.no_grad():
            # the exporter's own deprecation notices are not this module's to fix
            warnings.simplefilter("ignore", FutureWarning)
            warnings.simplefilter("ignore", DeprecationWarning)
            warnings.simplefilter("ignore", UserWarning)
            program = torch.onnx.export(
                module,
                tuple(inputs),
                input_names=list(input_names),
                output_names=list(output_names),
                dynamic_shapes=dynamic,
                opset_version=OPSET,
                dynamo=True,
                external_data=False,
                verbose=False,
            )
            if program is None:  # only the legacy exporter returns nothing
                raise RuntimeError("torch.onnx.export returned no program")
            program.save(str(out), external_data=False)
    finally:
        quiet.setLevel(level)
    return out
