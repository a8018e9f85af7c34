"""The sequential model's scoring path as ONNX graphs, and scoring through ONNX Runtime.

``lmrec export ART --format onnx`` writes, into the model's folder, ``onnx/encoder.onnx``
(right-aligned token sequences and their side inputs -> the newest position's hidden state)
``onnx/scorer.onnx`` (hidden states -> a score for every item, the item table baked in) and
``onnx/shared.onnx`` (the same states for sequences sharing their older part, that part
encoded once: :mod:`lmrec.models.seq.shared`), with ``--precision int8`` their int8 versions too, and ``onnx/manifest.json``: which files,
which precision scores by default, and the digest of the weights they were exported from
(graphs from other weights are not used)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import nn

from lmrec.onnx.saved import RuntimeChoice, check_precision, exported_files, write_manifest

if TYPE_CHECKING:
    from lmrec.models.seq.net import SeqEnsemble, SeqNet

__all__ = ["OnnxScorer", "export_sequential", "open_exported", "runtime_choice"]

#: the side inputs of the encoder graph, in order, and the config field that turns each on
SIDE_INPUTS = (("gaps", "n_gap_buckets"), ("events", "n_event_types"), ("contexts", "n_context"))


class _Encoder(nn.Module):
    """The network's newest-position state (export only); the side inputs its config does not
    use are left out of the graph by the exporter."""

    def __init__(self, net: SeqNet | SeqEnsemble, items: torch.Tensor) -> None:
        super().__init__()
        self.net = net
        self.items: torch.Tensor
        self.register_buffer("items", items)

    def forward(
        self,
        tokens: torch.Tensor,
        gaps: torch.Tensor,
        events: torch.Tensor,
        contexts: torch.Tensor,
    ) -> torch.Tensor:
        return self.net.encode_last(tokens, gaps, events, self.items, contexts)


class _SharedEncoder(nn.Module):
    """:func:`lmrec.models.seq.shared.encode_last_shared` (export only)."""

    def __init__(self, net: SeqNet | SeqEnsemble, items: torch.Tensor) -> None:
        super().__init__()
        self.net = net
        self.items: torch.Tensor
        self.register_buffer("items", items)

    def forward(
        self, prefixes: torch.Tensor, tails: torch.Tensor, group: torch.Tensor
    ) -> torch.Tensor:
        from lmrec.models.seq.shared import encode_last_shared

        return encode_last_shared(self.net, prefixes, tails, group, self.items)


class _Scorer(nn.Module):
    def __init__(self, items: torch.Tensor) -> None:
        super().__init__()
        self.weights: torch.Tensor
        self.register_buffer("weights", items[1:].T.contiguous())  # (C, N)

    def forward(self, state: torch.Tensor) -> torch.Tensor:
        return state @ self.weights


def export_sequential(
    net: SeqNet | SeqEnsemble,
    items: torch.Tensor,
    folder: Path,
    *,
    precision: str = "float32",
) -> dict[str, Any]:
    """Write ``net`` (its item table ``items`` (N+1, C) fixed) as the graphs of this module's
    docstring into ``folder / "onnx"``; returns the manifest."""
    from lmrec.onnx import export_module, quantize_int8

    check_precision(precision)
    out = folder / "onnx"
    out.mkdir(parents=True, exist_ok=True)
    t = net.cfg.max_len
    example = [torch.ones(2, t, dtype=torch.long)] + [
        torch.zeros(2, t, dtype=torch.long) for _ in SIDE_INPUTS
    ]
    names = ["tokens", *(name for name, _ in SIDE_INPUTS)]
    export_module(_Encoder(net, items), example, out / "encoder.onnx", names, ["state"])
    from lmrec.onnx import Session

    inputs = Session(out / "encoder.onnx").inputs  # those the network reads
    export_module(
        _Scorer(items), [torch.zeros(2, items.shape[1])], out / "scorer.onnx", ["state"], ["scores"]
    )
    shared = [
        torch.ones(2, t - 3, dtype=torch.long),
        torch.ones(4, 3, dtype=torch.long),
        torch.tensor([0, 1, 1, 1]),
    ]
    export_module(
        _SharedEncoder(net, items), shared, out / "shared.onnx", ["prefixes", "tails", "group"],
        ["state"], free=[{0: "prefix", 1: "older"}, {0: "batch", 1: "newer"}, {0: "batch"}],
    )  # fmt: skip
    parts = ("encoder", "scorer", "shared")
    files = {"float32": {part: f"{part}.onnx" for part in parts}}
    if precision == "int8":
        for part in parts:
            quantize_int8(out / f"{part}.onnx", out / f"{part}.int8.onnx")
        files["int8"] = {part: f"{part}.int8.onnx" for part in parts}
    return write_manifest(folder, "sequential", files, precision, inputs=inputs, max_len=t)


@dataclass
class OnnxScorer:
    """The exported graphs of one precision, as ONNX Runtime sessions."""

    encoder: Any
    scorer: Any
    inputs: list[str]
    precision: str
    shared: Any = None  # None: exported before the shared graph existed

    def encode_last_shared(
        self, prefixes: np.ndarray, tails: np.ndarray, group: np.ndarray
    ) -> torch.Tensor:
        """As :func:`lmrec.models.seq.shared.encode_last_shared`."""
        (state,) = self.shared.run(prefixes=prefixes, tails=tails, group=group)
        return torch.from_numpy(state)

    def encode_last(
        self,
        seq: torch.Tensor,
        gaps: torch.Tensor | None = None,
        events: torch.Tensor | None = None,
        contexts: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """As the network's ``encode_last``: the newest position's state (B, C); a side input
        the graph takes but the caller does not have is unknown (0)."""
        given = {"gaps": gaps, "events": events, "contexts": contexts}
        feeds = {"tokens": seq.numpy()}
        for name in self.inputs:
            if name == "tokens":
                continue
            value = given[name]
            feeds[name] = np.zeros_like(feeds["tokens"]) if value is None else value.numpy()
        (state,) = self.encoder.run(**feeds)
        return torch.from_numpy(state)

    def scores(self, state: torch.Tensor) -> np.ndarray:
        (out,) = self.scorer.run(state=state.numpy().astype(np.float32))
        return np.asarray(out, dtype=np.float32)


def open_exported(folder: Path, precision: str | None = None, threads: int = 1) -> OnnxScorer:
    """ONNX Runtime sessions on the graphs exported beside the model saved in ``folder``
    (``precision``, or the one the export chose)."""
    from lmrec.onnx import Session

    manifest, chosen, files = exported_files(folder, precision)
    return OnnxScorer(
        Session(files["encoder"], threads=threads),
        Session(files["scorer"], threads=threads),
        list(manifest["inputs"]),
        chosen,
        Session(files["shared"], threads=threads) if "shared" in files else None,
    )


def runtime_choice(folder: Path | None) -> RuntimeChoice[OnnxScorer]:
    """The runtime of a sequential model loaded from ``folder`` (None: fitted here)."""
    return RuntimeChoice(folder, open_exported)
