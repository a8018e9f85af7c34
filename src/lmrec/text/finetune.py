"""Fine-tuning the sentence encoder on a catalog's interactions (transfer learning).

Items that users take one after the other are positive pairs; the other items of a batch are
the negatives (sentence-transformers' ``MultipleNegativesRankingLoss``). The encoder then
places items that are consumed together near each other, and, through their words, also the
items that nobody has consumed yet.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from lmrec._types import FloatArray
from lmrec.errors import UsageError
from lmrec.progress import task

__all__ = ["FineTuned", "FineTuning", "finetune_encoder", "load_finetuned", "successive_pairs"]


@dataclass(frozen=True)
class FineTuning:
    """How the encoder is fine-tuned: at most ``max_pairs`` pairs, ``epochs`` passes over
    them in batches of ``batch_size``, AdamW at ``learning_rate``; the last ``train_layers``
    Transformer layers learn (all of them when None), the others stay as pretrained."""

    max_pairs: int = 20_000
    epochs: int = 1
    batch_size: int = 64
    learning_rate: float = 5e-5
    train_layers: int | None = None
    seed: int = 0
    time_budget_s: float | None = None


def successive_pairs(
    sequences: Sequence[np.ndarray], max_pairs: int, *, seed: int = 0
) -> np.ndarray:
    """(P, 2) item indices: each user's consecutive distinct items, at most ``max_pairs`` of
    them drawn without replacement (seeded)."""
    parts = [np.stack([s[:-1], s[1:]], axis=1)[s[:-1] != s[1:]] for s in sequences if len(s) >= 2]
    pairs = np.concatenate(parts) if parts else np.zeros((0, 2), dtype=np.int64)
    if len(pairs) > max_pairs:
        rng = np.random.default_rng(seed)
        pairs = pairs[np.sort(rng.choice(len(pairs), max_pairs, replace=False))]
    return pairs.astype(np.int64)


class FineTuned:
    """A fine-tuned sentence-transformers model, named by a digest of its weights (so caches
    keyed by encoder name never mix it up with another); saved as safetensors."""

    def __init__(self, model: Any, history: list[dict[str, float]]) -> None:
        self._model = model
        self.history = history
        self.dim = int(model.get_embedding_dimension() or 0)
        digest = hashlib.sha256()
        for tensor in model.state_dict().values():
            digest.update(tensor.detach().cpu().float().numpy().tobytes()[:4096])
        self.name = f"finetuned-{digest.hexdigest()[:16]}"

    def encode(self, texts: Sequence[str], *, progress: bool = False) -> FloatArray:
        self._model.eval()
        out = self._model.encode(
            list(texts), batch_size=64, normalize_embeddings=True, show_progress_bar=False,
            convert_to_numpy=True,
        )  # fmt: skip
        return np.asarray(out, dtype=np.float32).reshape(-1, self.dim)

    def save(self, folder: Path) -> Path:
        self._model.save(str(folder), safe_serialization=True)
        return folder


def finetune_encoder(
    base: str,
    texts: Sequence[str],
    pairs: np.ndarray,
    cfg: FineTuning | None = None,
    *,
    progress: bool = False,
) -> FineTuned:
    """``base`` (a sentence-transformers name or folder) fine-tuned so that ``texts[a]`` and
    ``texts[b]`` of each pair in ``pairs`` are near, the batch's other texts far."""
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss

    from lmrec.text.encoder import _default_device, _resolve_model_path

    cfg = cfg or FineTuning()
    if len(pairs) < 2:
        raise UsageError("fine-tuning the text encoder needs at least two item pairs")
    if base.startswith("hashing"):
        raise UsageError(f"the text encoder '{base}' has no weights to fine-tune")
    model = SentenceTransformer(_resolve_model_path(base), device=_default_device())
    _freeze_lower_layers(model, cfg.train_layers)
    loss_fn = MultipleNegativesRankingLoss(model)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=cfg.learning_rate)
    rng = np.random.default_rng(cfg.seed)
    steps_per_epoch = -(-len(pairs) // cfg.batch_size)
    history: list[dict[str, float]] = []
    start = time.perf_counter()
    model.train()
    with task(
        "fine-tune text encoder (steps)", cfg.epochs * steps_per_epoch, enabled=progress
    ) as bar:
        for epoch in range(cfg.epochs):
            order = rng.permutation(len(pairs))
            total = 0.0
            for step in range(steps_per_epoch):
                batch = pairs[order[step * cfg.batch_size : (step + 1) * cfg.batch_size]]
                if len(batch) < 2:
                    continue
                features = [_inputs(model, [texts[i] for i in col]) for col in batch.T]
                loss = loss_fn(features, None)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                total += float(loss.detach())
                bar.advance()
                if (
                    cfg.time_budget_s is not None
                    and time.perf_counter() - start > cfg.time_budget_s
                ):
                    break
            history.append(
                {"epoch": epoch + 1, "loss": total / max(steps_per_epoch, 1),
                 "seconds": round(time.perf_counter() - start, 1)}
            )  # fmt: skip
            if cfg.time_budget_s is not None and time.perf_counter() - start > cfg.time_budget_s:
                break
    model.eval()
    return FineTuned(model, history)


def _inputs(model: Any, texts: list[str]) -> dict[str, Any]:
    """The model's tokenised inputs for ``texts``, on its device."""
    return {
        k: v.to(model.device) if hasattr(v, "to") else v for k, v in model.preprocess(texts).items()
    }


def _freeze_lower_layers(model: Any, train_layers: int | None) -> None:
    """Only the last ``train_layers`` Transformer layers (and nothing below them) learn."""
    if train_layers is None:
        return
    for p in model.parameters():
        p.requires_grad_(False)
    layers = [m for name, m in model.named_modules() if name.endswith(("layer", "layers"))]
    blocks = list(layers[0]) if layers else []
    for block in blocks[len(blocks) - train_layers :] if train_layers else []:
        for p in block.parameters():
            p.requires_grad_(True)


def load_finetuned(folder: Path) -> FineTuned:
    """A fine-tuned encoder saved by :meth:`FineTuned.save`."""
    from sentence_transformers import SentenceTransformer

    from lmrec.text.encoder import _default_device

    try:
        model = SentenceTransformer(str(folder), device=_default_device())
    except OSError as exc:
        raise UsageError(f"cannot load the fine-tuned text encoder in {folder}: {exc}") from None
    return FineTuned(model.eval(), [])
