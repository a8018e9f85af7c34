"""The sequential model's networks in and out of its saved state (``net.*`` tensors, one
network or an ensemble's ``members.<i>.*``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from lmrec.models.seq.net import SeqConfig, SeqEnsemble, SeqNet

__all__ = ["load_networks", "network_state"]


def network_state(net: SeqNet | SeqEnsemble) -> dict[str, np.ndarray]:
    """The network's tensors as arrays named ``net.<parameter>``."""
    return {f"net.{k}": v.detach().cpu().numpy() for k, v in net.state_dict().items()}


def load_networks(
    state: dict[str, np.ndarray],
    fitted: dict[str, Any],
    legacy: Callable[[int, int, int], SeqConfig],
) -> tuple[SeqNet | SeqEnsemble, SeqConfig]:
    """The network (or ensemble) saved in ``state`` and its config, read from ``fitted``
    (the fitted config) or, for a model saved by lmrec 0.1 which kept only the weights, made
    by ``legacy(text_dim, n_context, n_event_types)`` from the weights' shapes."""
    nets = {k[4:]: v for k, v in state.items() if k.startswith("net.")}
    if "network" in fitted:
        cfg, n = SeqConfig(**fitted["network"]), int(fitted["members"])
    else:
        n = 1 + max((int(k.split(".")[1]) for k in nets if k.startswith("members.")), default=-1)
        prefix = "members.0." if n else ""
        first = {k[len(prefix) :]: v for k, v in nets.items() if k.startswith(prefix)}
        text_dim = first["text"].shape[1] if "text" in first else 0
        n_context = len(first["context_emb.weight"]) - 1 if "context_emb.weight" in first else 0
        n_events = len(first["event_emb.weight"]) - 1 if "event_emb.weight" in first else 0
        cfg = legacy(text_dim, n_context, n_events)
    members = []
    for prefix in [f"members.{i}." for i in range(n)] if n else [""]:
        net = SeqNet(cfg)
        net.load_state_dict(
            {k[len(prefix) :]: torch.from_numpy(v.copy()) for k, v in nets.items()
             if k.startswith(prefix)}
        )  # fmt: skip
        members.append(net.eval())
    return (members[0] if n == 0 else SeqEnsemble(members).eval()), cfg
