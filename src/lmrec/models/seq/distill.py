"""Knowledge distillation into the sequential network: a trained teacher (one network or an
ensemble, saved as a ``sequential`` model) scores every training position, and the student
learns from those scores as well as from the actions.

The student's loss is ``(1 - weight)`` times its cross-entropy on the actions plus ``weight``
times the KL divergence from the teacher's softmax to its own, both at ``temperature`` (and
scaled by its square, so the gradients keep their size; Hinton et al., 2015). Both softmaxes
cover the same items: the catalog, or the sampled ones, less the items each position leaves
out."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F

from lmrec.errors import UsageError

if TYPE_CHECKING:
    from lmrec.models.seq.net import LeftOut, SeqEnsemble, SeqNet

__all__ = ["Teacher", "distillation_loss", "load_teacher"]


@dataclass(frozen=True)
class Teacher:
    net: SeqNet | SeqEnsemble
    weight: float
    temperature: float

    def members(self) -> list[SeqNet]:
        from lmrec.models.seq.net import SeqEnsemble

        return list(self.net._nets()) if isinstance(self.net, SeqEnsemble) else [self.net]

    @torch.no_grad()
    def logits(
        self,
        seq: torch.Tensor,
        targets: torch.Tensor,
        gaps: torch.Tensor | None,
        events: torch.Tensor | None,
        candidates: torch.Tensor | None,
        contexts: torch.Tensor | None,
        bias: torch.Tensor | None,
    ) -> torch.Tensor:
        """The teacher's logits (N_targets, N_candidates) at the target positions: the mean of
        its members' logits."""
        parts = [
            m._target_logits(seq, targets, gaps, events, candidates, contexts, False, bias)[0]
            for m in self.members()
        ]
        return torch.stack(parts).mean(dim=0)


def load_teacher(
    path: str | Path, n_items: int, max_len: int, weight: float, temperature: float
) -> Teacher:
    """The sequential model saved at ``path`` as a teacher for a student over ``n_items``
    items reading windows of ``max_len`` actions."""
    from lmrec.models.seq.model import SequentialRecommender

    if not 0.0 < weight <= 1.0:
        raise UsageError(f"distill_weight must be in (0, 1], not {weight}")
    if not temperature > 0:
        raise UsageError(f"distill_temperature must be positive, not {temperature}")
    teacher = SequentialRecommender.load(path)
    if not isinstance(teacher, SequentialRecommender):  # load() checks; this tells mypy
        raise UsageError(f"teacher {path} is not a sequential model")
    if teacher.n_items_ != n_items:
        raise UsageError(
            f"teacher {path} was trained on {teacher.n_items_} items, not the {n_items} of this "
            "data; a teacher must share the student's catalog"
        )
    if teacher.max_len < max_len:
        raise UsageError(
            f"teacher {path} reads {teacher.max_len} actions, fewer than the student's "
            f"max_len={max_len}"
        )
    net = teacher.net_.eval()
    for p in net.parameters():
        p.requires_grad_(False)
    return Teacher(net, weight, temperature)


def distillation_loss(
    student: torch.Tensor,
    teacher: torch.Tensor,
    target: torch.Tensor,
    left: LeftOut | None,
    temperature: float,
) -> torch.Tensor:
    """Mean KL(teacher || student) over rows of logits (whose actions are the columns
    ``target``) at ``temperature``, times its square; each row's ``left``-out columns take no
    part in either softmax."""
    if left is not None:
        mask = left.bias(student.detach(), target)
        student, teacher = student + mask, teacher + mask
    log_s = F.log_softmax(student / temperature, dim=1)
    log_t = F.log_softmax(teacher / temperature, dim=1)
    keep = torch.isfinite(log_t)
    kl = torch.where(keep, log_t.exp() * (log_t - log_s), torch.zeros_like(log_s))
    return kl.sum(dim=1).mean() * temperature**2
