"""The hyper-parameters of the ``sequential`` model (one dataclass, saved and loaded as it is)
and the device a fit runs on."""

from __future__ import annotations

from dataclasses import dataclass

import torch

__all__ = ["N_GAP_BUCKETS", "SequentialConfig", "pick_device"]

#: log2 buckets of the time since the previous action, with ``time_gaps``
N_GAP_BUCKETS = 32


def pick_device(device: str) -> torch.device:
    """The device ``device`` names; ``"auto"``: CUDA when there is one, else the CPU."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


@dataclass(frozen=True)
class SequentialConfig:
    """The hyper-parameters of :class:`SequentialRecommender`, saved and loaded as they are."""

    max_len: int | None = None
    window_stride: int | None = None
    embedding_size: int = 64
    n_layers: int = 2
    n_heads: int = 2
    dropout: float = 0.4
    epochs: int = 200
    batch_size: int | None = None
    learning_rate: float = 3e-3
    patience: int | None = None
    lr_plateau: int = 0
    text_encoder: str | None = "all-MiniLM-L6-v2"
    use_ids: bool = True
    time_gaps: bool = False
    next_context: bool = True
    event_features: bool = False
    id_dropout: float | None = 0.0
    #: how items without training actions get a vector: the mean of the vectors of the trained
    #: items with the nearest texts (``neighbours``), or their text's projection alone (``text``)
    cold_items: str = "neighbours"
    #: the factor the neighbours' mean vector is multiplied by (None: calibrated by the fit,
    #: :func:`~lmrec.models.seq.cold.calibrated_scale`; 1.0: the mean as it is)
    cold_scale: float | None = None
    finetune_encoder: bool = False
    finetune_pairs: int = 20_000
    finetune_epochs: int = 1
    label_smoothing: float = 0.3
    softmax: str = "auto"
    negatives: int = 1024
    valid_users: int | None = 5000
    exclude_seen: bool = True
    weight_averaging: float = 0.9
    #: seconds of training after which a fit stops (with the best weights so far); None: none
    time_budget_s: float | None = 3600.0
    #: a saved ``sequential`` model (its folder) to distil from: the student learns from its
    #: scores (``distill_weight`` of the loss, at ``distill_temperature``) and the actions
    teacher: str | None = None
    distill_weight: float = 0.5
    distill_temperature: float = 2.0
    random_state: int = 0
    n_models: int = 1
    refit: bool = False
    device: str = "auto"
    num_threads: int | None = None
    progress: bool = False
