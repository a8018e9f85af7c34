from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import scipy.sparse as sp

from lmrec.data import synthetic_dataset
from lmrec.data.vocab import Vocabulary
from lmrec.errors import UsageError
from lmrec.simulate.run import liked_items
from lmrec.simulate.session import SimConfig, _summary


def test_summary_hand_computed() -> None:
    # user 0 likes items 1 and 5; user 1 likes item 9; 3 rounds of 2 items
    liked = sp.csr_matrix(np.array([[0, 1, 0, 0, 0, 1, 0, 0, 0, 0], [0] * 9 + [1]], np.float32))
    shown = np.array([[[0, 2], [1, 3], [5, 4]], [[0, 1], [2, 3], [4, 5]]])
    s = _summary(shown, liked, SimConfig(rounds=3, k=2, n_boot=50))
    assert s["clicks_per_session"]["mean"] == 1.0  # (2 + 0) / 2
    assert s["rounds_to_first_click"]["mean"] == 2.0  # only user 0 clicked, first in round 2
    assert s["sessions_with_a_click"] == 0.5
    assert s["clicks_by_round"] == [0.0, 0.5, 0.5]
    assert s["coverage"] == 0.6  # items 0..5 of 10


def test_liked_items_keep_only_high_ratings() -> None:
    frame = pl.DataFrame(
        {
            "user_id": ["a", "a", "b", "c"],
            "item_id": ["x", "y", "x", "z"],
            "value": [5.0, 2.0, 3.0, 4.0],
        }
    )
    users, liked = liked_items(frame, Vocabulary(["a", "b", "c"]), Vocabulary(["x", "y", "z"]), 4.0)
    assert users.tolist() == [0, 2]  # b rated nothing >= 4
    assert liked.toarray().tolist() == [[1, 0, 0], [0, 0, 1]]
    with pytest.raises(UsageError, match="nobody would click"):
        liked_items(frame, Vocabulary(["a", "b", "c"]), Vocabulary(["x", "y", "z"]), 6.0)


def test_simulate_cli_writes_the_documented_json(
    cli: Callable[..., tuple[int, str, str]], tmp_path: Path
) -> None:
    synthetic_dataset(n_users=80, n_items=60, seed=5).save(tmp_path / "ds")
    out = tmp_path / "sim.json"
    code, stdout, err = cli(
        "simulate", "--dataset", tmp_path / "ds", "--model", "itemknn", "--rounds", "4",
        "--out", out, "--no-progress",
    )  # fmt: skip
    assert code == 0, err
    result = json.loads(out.read_text())
    for policy in ("static", "realtime", "realtime_rerank"):
        assert set(result[policy]) >= {"clicks_per_session", "rounds_to_first_click"}
        assert len(result[policy]["clicks_by_round"]) == 4
    assert result["realtime_capable"] is True
    assert "realtime" in stdout
    code, _, err = cli("simulate", "--dataset", tmp_path / "ds", "--model", "nope", "--out", out)
    assert code == 2
    assert "Traceback" not in err
