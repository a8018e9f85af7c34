"""The sequential model's settings that follow from the data when left unset: window length,
softmax, patience, batch size, id dropout and the early-stopping sample.

Each rule looks at the dataset's shape (history lengths, catalog size, actions) and the
machine, so that a catalog unlike MovieLens 100K gets settings that fit it without flags.
A setting given explicitly is kept as it is.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from lmrec.models.seq.config import SequentialConfig

__all__ = [
    "FULL_SOFTMAX_MAX_ITEMS",
    "MAX_LEN_CAP",
    "REFERENCE_STEPS",
    "Resolved",
    "resolve",
]

#: the longest window chosen automatically (longer histories are cut into windows)
MAX_LEN_CAP = 50
#: the largest catalog trained with the full softmax when ``softmax="auto"``; above it, a
#: sampled softmax (its cost grows with the negatives drawn, not the catalog)
FULL_SOFTMAX_MAX_ITEMS = 5_000
#: optimiser steps without a better validation NDCG@10 before stopping, when ``patience`` is
#: None: patience in epochs is this over the steps of one epoch, clipped to [3, 20]
REFERENCE_STEPS = 600
#: id dropout when ``id_dropout`` is None and the items have text
TEXT_ID_DROPOUT = 0.3


@dataclass(frozen=True)
class Resolved:
    """The settings one fit uses: those given, and those derived from the data."""

    max_len: int
    stride: int
    softmax: str  # "full" | "sampled"
    negatives: int
    patience: int
    batch_size: int
    id_dropout: float
    valid_users: int | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def resolve(
    config: SequentialConfig,
    lengths: np.ndarray,
    n_items: int,
    has_text: bool,
    on_gpu: bool,
) -> Resolved:
    """The settings of a fit on sequences of ``lengths`` actions over ``n_items`` items:

    - ``max_len``: the 95th percentile of the history lengths rounded up to a multiple of 10,
      between 10 and :data:`MAX_LEN_CAP` (short histories are not padded to 50);
    - ``window_stride``: half of ``max_len``;
    - ``softmax``: full up to :data:`FULL_SOFTMAX_MAX_ITEMS` items, sampled above;
    - ``batch_size``: 128 on a CPU, 512 on a GPU (which 128 leaves idle);
    - ``patience``: :data:`REFERENCE_STEPS` optimiser steps in epochs, clipped to [3, 20]
      (on a large dataset one epoch is many steps);
    - ``id_dropout``: :data:`TEXT_ID_DROPOUT` when the items have text (so the text pathway
      can score an item alone, as it must for new items), else 0.
    """
    max_len = config.max_len
    if max_len is None:
        p95 = float(np.percentile(lengths, 95)) if len(lengths) else 1.0
        max_len = int(min(MAX_LEN_CAP, max(10, 10 * math.ceil(p95 / 10))))
    stride = config.window_stride if config.window_stride is not None else max(1, max_len // 2)
    softmax = config.softmax
    if softmax == "auto":
        softmax = "sampled" if n_items > FULL_SOFTMAX_MAX_ITEMS else "full"
    batch_size = config.batch_size or (512 if on_gpu else 128)
    patience = config.patience
    if patience is None:
        windows = sum(
            1 + math.ceil(max(0, int(n) - 1 - max_len) / stride) for n in lengths if n > 1
        )
        steps = max(1, math.ceil(windows / batch_size))
        patience = int(min(20, max(3, round(REFERENCE_STEPS / steps))))
    id_dropout = config.id_dropout
    if id_dropout is None:
        id_dropout = TEXT_ID_DROPOUT if has_text else 0.0
    return Resolved(
        max_len=max_len,
        stride=stride,
        softmax=softmax,
        negatives=config.negatives,
        patience=patience,
        batch_size=batch_size,
        id_dropout=id_dropout,
        valid_users=config.valid_users,
    )
