from __future__ import annotations

import numpy as np

from lmrec.evaluation.memory import PeakMemory, resident_mb


def test_the_peak_counts_memory_held_only_inside_the_block() -> None:
    before = resident_mb()
    with PeakMemory(interval_s=0.005) as memory:
        block = np.ones(200 * 2**20 // 8)  # 200 MiB, touched
        del block
    assert memory.start_mb >= before * 0.5
    assert 150 <= memory.extra_mb <= 400
    with PeakMemory() as idle:
        pass
    assert idle.extra_mb < 50
