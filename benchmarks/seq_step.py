"""Seconds per training step of the sequential network at its MovieLens 100K size (1,682 items,
windows of 50, batch 128, text pathway and next-action context), median of 15 steps, 1 thread.

    .venv/bin/python benchmarks/seq_step.py

To compare with an earlier commit, run the same file against that commit's sources:
``git worktree add /tmp/old COMMIT && PYTHONPATH=/tmp/old/src .venv/bin/python
benchmarks/seq_step.py`` (the earlier network has no ``loss`` method nor ``exclude_seen``).
"""

from __future__ import annotations

import time
from typing import Any

import torch

from lmrec.models.seq.net import SeqConfig, SeqNet


def main() -> None:
    torch.set_num_threads(1)
    torch.manual_seed(0)
    n, b, t = 1682, 128, 50
    cfg = SeqConfig(
        n_items=n, max_len=t, dim=64, n_layers=2, n_heads=2, dropout=0.5, text_dim=384,
        n_context=256,
    )  # fmt: skip
    net = SeqNet(cfg, torch.randn(n, 384)).train()
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    seq = torch.randint(2, n + 1, (b, t))
    tgt = torch.randint(2, n + 1, (b, t))
    ctx = torch.randint(1, 257, (b, t))
    candidates = torch.ones(n, dtype=torch.bool)
    candidates[0] = False  # one item never occurs in training (token 1 is not drawn above)
    has_loss = hasattr(net, "loss")

    def step(**kw: Any) -> None:
        args = (seq, tgt, None)
        kwargs = {"candidates": candidates, "label_smoothing": 0.3, "contexts": ctx, **kw}
        loss = net.loss(*args, **kwargs) if has_loss else net(*args, **kwargs)[1]
        opt.zero_grad()
        torch.autograd.backward(loss)
        opt.step()

    settings: dict[str, dict[str, Any]] = {"default loss": {}}
    if has_loss:
        settings["exclude_seen"] = {"exclude_seen": True}
    for name, kw in settings.items():
        for _ in range(3):
            step(**kw)
        times = []
        for _ in range(15):
            start = time.perf_counter()
            step(**kw)
            times.append(time.perf_counter() - start)
        print(f"{name}: {sorted(times)[7] * 1000:.0f} ms per step (median of 15)", flush=True)


if __name__ == "__main__":
    main()
