"""Distillation: a student sequential network learns from a saved teacher's scores."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from lmrec.errors import UsageError
from lmrec.models.seq import SequentialRecommender
from lmrec.models.seq.distill import distillation_loss
from lmrec.models.seq.net import LeftOut
from lmrec.testing import cycle

FAST = {
    "embedding_size": 32,
    "n_layers": 1,
    "n_heads": 1,
    "max_len": 8,
    "dropout": 0.0,
    "label_smoothing": 0.0,
    "learning_rate": 0.01,
    "text_encoder": None,
    "num_threads": 1,
}


def test_the_distillation_loss_by_hand() -> None:
    student = torch.tensor([[0.0, 0.0], [1.0, 3.0]])
    teacher = torch.tensor([[0.0, 0.0], [2.0, 0.0]])
    target = torch.tensor([0, 1])
    # row 0: equal softmaxes, KL 0; row 1 at temperature 2: p = softmax([1, 0]),
    # q = softmax([0.5, 1.5]); KL(p || q) * 4, averaged over the two rows
    p = torch.softmax(torch.tensor([1.0, 0.0]), 0)
    q = torch.softmax(torch.tensor([0.5, 1.5]), 0)
    expected = (p * (p.log() - q.log())).sum() * 4 / 2
    got = distillation_loss(student, teacher, target, None, 2.0)
    torch.testing.assert_close(got, expected)
    assert float(distillation_loss(teacher, teacher, target, None, 1.0)) == pytest.approx(0.0)
    # a left-out column takes no part: with column 2 left out of row 0, it is as if absent
    left = LeftOut(
        columns=torch.tensor([[2], [0]]),
        out=torch.tensor([[True], [False]]),
        out_sum=torch.zeros(2),
        total=torch.zeros(2),
        target_logit=torch.zeros(2),
    )
    wide_s = torch.cat([student, torch.tensor([[9.0], [-90.0]])], dim=1)
    wide_t = torch.cat([teacher, torch.tensor([[-9.0], [-90.0]])], dim=1)
    narrow = distillation_loss(
        torch.cat([student[:1], torch.tensor([[1.0, 3.0]])]),
        torch.cat([teacher[:1], torch.tensor([[2.0, 0.0]])]),
        target, None, 2.0,
    )  # fmt: skip
    masked = distillation_loss(wide_s, wide_t, target, left, 2.0)
    assert float(masked) == pytest.approx(float(narrow), abs=1e-6)  # row 1: -90, no mass


def test_a_student_learns_from_the_teachers_scores_alone(tmp_path: Path) -> None:
    data = cycle(60, 40, 8)
    teacher = SequentialRecommender(**FAST, epochs=60, patience=60).fit(data)
    folder = teacher.save(tmp_path / "teacher")
    users = np.arange(60)
    expected = [(u + 8) % 40 for u in users]
    assert np.mean(teacher.recommend(users, 1)[0][:, 0] == expected) > 0.9
    # distill_weight 1: nothing of the actions, only the teacher's softmax at each position
    small = {**FAST, "embedding_size": 16, "epochs": 60, "patience": 60}
    student = SequentialRecommender(**small, teacher=str(folder), distill_weight=1.0).fit(data)
    assert np.mean(student.recommend(users, 1)[0][:, 0] == expected) > 0.9
    assert student.net_.cfg.dim == 16
    with pytest.raises(UsageError, match="must share the student's catalog"):
        SequentialRecommender(**small, teacher=str(folder)).fit(cycle(60, 41, 8))
    with pytest.raises(UsageError, match="distill_weight must be in"):
        SequentialRecommender(**small, teacher=str(folder), distill_weight=0.0).fit(data)
    with pytest.raises(UsageError, match="fewer than the student's"):
        SequentialRecommender(**{**small, "max_len": 20}, teacher=str(folder)).fit(data)
