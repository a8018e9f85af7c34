from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest

from lmrec.ctr.ads import CTRArtifacts, fit_ctr, rank_ads
from lmrec.ctr.evaluation import CTRConfig, evaluate_ctr
from lmrec.ctr.history import HISTORY_COLUMNS, PRIOR_STRENGTH, UserState, with_user_history
from lmrec.data.dataset import Dataset


def test_history_counts_only_strictly_earlier_events() -> None:
    events = pl.DataFrame(
        {"user_id": ["a", "a", "b", "a"], "item_id": ["x", "y", "x", "z"],
         "timestamp": [1, 1, 2, 2]}
    )  # fmt: skip
    y = np.array([1.0, 0.0, 0.0, 1.0])
    out = with_user_history(events, y, prior=0.4)
    assert out.columns == [*events.columns, *HISTORY_COLUMNS]
    n, rate = (out[c].to_list() for c in HISTORY_COLUMNS)
    # a's two events at t=1 are simultaneous: neither sees the other's outcome
    assert n == pytest.approx([0.0, 0.0, 0.0, math.log1p(2)])
    prior = 0.4 * PRIOR_STRENGTH
    expected = [prior / PRIOR_STRENGTH] * 3 + [(1 + prior) / (2 + PRIOR_STRENGTH)]
    assert rate == pytest.approx(expected)


def test_history_without_timestamps_follows_row_order() -> None:
    events = pl.DataFrame({"user_id": ["a", "a", "a"], "item_id": ["x", "y", "z"]})
    out = with_user_history(events, np.array([1.0, 1.0, 0.0]), prior=0.5)
    assert out[HISTORY_COLUMNS[0]].to_list() == pytest.approx([0.0, math.log1p(1), math.log1p(2)])
    assert out[HISTORY_COLUMNS[1]][2] == pytest.approx((2 + 2.5) / (2 + PRIOR_STRENGTH))
    with pytest.raises(ValueError, match="3 events but 2 labels"):
        with_user_history(events, np.array([1.0, 0.0]), prior=0.5)


def test_user_state_gives_the_features_of_the_next_event() -> None:
    events = pl.DataFrame({"user_id": ["a", "a", "b"], "item_id": ["x", "y", "x"]})
    state = UserState.from_events(events, np.array([1.0, 1.0, 0.0]), prior=0.5)
    a = state.features("a", 3)
    assert a.height == 3
    assert a[HISTORY_COLUMNS[0]].to_list() == pytest.approx([math.log1p(2)] * 3)
    assert a[HISTORY_COLUMNS[1]][0] == pytest.approx((2 + 2.5) / (2 + PRIOR_STRENGTH))
    new = state.features("nobody", 1)
    assert new.row(0) == pytest.approx((0.0, 0.5))


def _new_users_log(seed: int = 0) -> Dataset:
    """Users arrive one after another, each clicking with their own rate (0.1 or 0.9) whatever
    the ad: in the test period every user is new, and only their own past tells them apart."""
    rng = np.random.default_rng(seed)
    rows = []
    for u in range(300):
        rate = 0.9 if u % 2 else 0.1
        for j in range(20):
            rows.append((f"u{u}", f"ad{rng.integers(10)}", 1_700_000_000 + 20 * u + j,
                         float(rng.random() < rate)))  # fmt: skip
    inter = pl.DataFrame(rows, schema=["user_id", "item_id", "timestamp", "value"], orient="row")
    items = pl.DataFrame({"item_id": [f"ad{j}" for j in range(10)], "title": ["ad"] * 10})
    users = pl.DataFrame({"user_id": [f"u{u}" for u in range(300)]})
    return Dataset.build(inter, items, users, {"ctr_label_threshold": 1.0})


def test_history_tells_new_users_apart() -> None:
    data = _new_users_log()
    cfg = CTRConfig(tune=False, n_boot=20, progress=False, text_encoder=None)
    with_h = evaluate_ctr(data, ["logreg"], cfg)
    without = evaluate_ctr(data, ["logreg"], CTRConfig(**{**cfg.__dict__, "user_history": False}))
    assert {f"{c}:bucket" for c in HISTORY_COLUMNS} <= set(with_h["features"]["fields"])
    assert not {f"{c}:bucket" for c in HISTORY_COLUMNS} & set(without["features"]["fields"])
    assert without["models"]["logreg"]["metrics"]["AUC"]["mean"] < 0.6
    assert with_h["models"]["logreg"]["metrics"]["AUC"]["mean"] > 0.85


def test_served_ranking_uses_the_users_history(tmp_path) -> None:  # type: ignore[no-untyped-def]
    data = _new_users_log()
    model, enc = fit_ctr(data, "logreg", text_encoder=None)
    CTRArtifacts.save(tmp_path, {"logreg": model}, enc, data)
    art = CTRArtifacts.open(tmp_path)
    assert art.history is not None
    assert art.history.table["events"].sum() == 6_000
    assert art.history.prior == pytest.approx(float(data.interactions["value"].mean()))

    def pctr(events: int, clicks: int) -> float:
        table = pl.DataFrame({"user_id": ["x"], "events": [events], "clicks": [float(clicks)]})
        history = UserState(table, art.history.prior)  # type: ignore[union-attr]
        ranked = rank_ads(art.model(), art.encoder, user_id="x", users=art.users,
                          items=art.items, candidates=["ad1"], k=1, history=history,
                          context={"time": "1700000000"})  # fmt: skip
        return float(ranked["pctr"][0])

    assert pctr(15, 14) > 0.7 > 0.3 > pctr(15, 1)
