from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from lmrec.context import ContextPrior, apply_context, context_of_request, context_table
from lmrec.data import split_loo, synthetic_dataset
from lmrec.evaluation import EvalConfig, evaluate
from lmrec.testing.toy import toy_interactions


def test_context_fields_from_time_and_columns() -> None:
    # 2026-11-28 21:00 UTC: Saturday evening; 2026-11-25 03:00: Wednesday night
    frame = pl.DataFrame({"timestamp": [1795899600, 1795575600], "device": ["tv", None]})
    table = context_table(frame)
    assert table.to_dicts() == [
        {"daypart": "evening", "daytype": "weekend", "device": "tv", "location": None},
        {"daypart": "night", "daytype": "weekday", "device": None, "location": None},
    ]
    assert context_of_request({"time": "2026-11-28T21:00", "device": "tv"}) == {
        "daypart": "evening", "daytype": "weekend", "device": "tv",
    }  # fmt: skip
    assert context_of_request({"time": None, "location": "home"}) == {"location": "home"}


def test_lift_is_log_conditional_over_marginal() -> None:
    data = toy_interactions([("u", "a"), ("u", "b"), ("v", "a"), ("v", "a")])
    frame = data.frame.with_columns(pl.Series("device", ["tv", "tv", "mobile", "mobile"]))
    data = type(data)(frame, data.user_vocab, data.item_vocab, data.items, data.users, True)
    prior = ContextPrior(smoothing=2.0).fit(data)
    # p(a) = (3 + 1) / (4 + 2) = 2/3, p(b) = 1/3; two pseudo-interactions spread by p:
    # p(a | tv) = (1 + 4/3) / 4 = 7/12 -> lift log(7/8); p(b | tv) = (1 + 2/3) / 4 -> log(5/4)
    # p(a | mobile) = (2 + 4/3) / 4 -> log(5/4); p(b | mobile) = (2/3) / 4 -> log(1/2)
    np.testing.assert_allclose(prior.lift({"device": "tv"}), np.log([7 / 8, 5 / 4]), rtol=1e-6)
    np.testing.assert_allclose(prior.lift({"device": "mobile"}), np.log([5 / 4, 1 / 2]), rtol=1e-6)
    assert prior.lift({"device": "fridge"}).tolist() == [0.0, 0.0]
    assert prior.fields == ["device"]  # the times are only an order: no daypart


def test_no_context_gives_no_fields_and_counts_give_the_same_lifts() -> None:
    data = toy_interactions([("u", "a"), ("u", "b"), ("v", "a")])  # times only an order
    assert ContextPrior().fit(data).fields == []
    frame = data.frame.with_columns(pl.Series("device", ["tv", "tv", "mobile"]))
    data = type(data)(frame, data.user_vocab, data.item_vocab, data.items, data.users, True)
    fitted = ContextPrior(smoothing=2.0).fit(data)
    counts = pl.DataFrame({"value": ["tv", "tv", "mobile"], "item": [0, 1, 0], "count": [1, 1, 1]})
    given = ContextPrior(smoothing=2.0).fit_counts(np.array([2, 1]), {"device": counts})
    assert given.values_ == fitted.values_ == {"device": ["mobile", "tv"]}
    np.testing.assert_array_equal(given.lifts_["device"], fitted.lifts_["device"])


def test_apply_context_keeps_excluded_items_out() -> None:
    out = apply_context(np.array([1.0, 2.0, -np.inf]), np.array([5.0, 0.0, 9.0]), 1.0)
    assert out[0] > out[1]
    assert out[2] == -np.inf


@pytest.mark.parametrize(("effect", "helps"), [(0.6, True), (0.0, False)])
def test_context_helps_only_where_there_is_an_effect(effect: float, helps: bool) -> None:
    data = synthetic_dataset(n_users=200, n_items=150, context_effect=effect, seed=2)
    cfg = EvalConfig(tune=False, context=True, progress=False, n_boot=100)
    m = evaluate(split_loo(data), ["pop"], cfg)["context"]["models"]["pop"]
    gain = m["test_NDCG@10_with"] - m["test_NDCG@10_without"]
    if helps:
        assert m["chosen_weight"] > 0
        assert m["paired"]["ci95"][0] > 0, m
    else:
        assert abs(gain) < 0.02, m
