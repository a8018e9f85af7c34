from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from lmrec.ctr.ads import AdPolicy, fit_ctr, parse_context, rank_ads
from lmrec.ctr.synthetic import synthetic_ad_log
from lmrec.errors import UsageError


@pytest.fixture(scope="module")
def served():  # type: ignore[no-untyped-def]
    data = synthetic_ad_log(n_users=100, n_ads=30, n_events=6_000, seed=3)
    model, enc = fit_ctr(data, "logreg", text_encoder="hashing")
    return data, model, enc


def _rank(served, **kw):  # type: ignore[no-untyped-def]
    data, model, enc = served
    return rank_ads(model, enc, user_id=kw.pop("user_id", "user1"), users=data.users,
                    items=data.items, **kw)  # fmt: skip


def test_ranked_by_expected_value(served) -> None:  # type: ignore[no-untyped-def]
    ads = _rank(served, context={"device": "mobile", "time": "2026-11-28T20:00"}, k=5)
    assert ads.height == 5
    ev = ads["expected_value"].to_numpy()
    assert (np.diff(ev) <= 1e-12).all()
    np.testing.assert_allclose(ev, ads["pctr"].to_numpy() * ads["bid"].to_numpy())
    everything = _rank(served, context={"device": "mobile", "time": "2026-11-28T20:00"}, k=100)
    assert everything.height == 30
    assert everything["expected_value"].max() == ads["expected_value"][0]


def test_min_pctr_and_frequency_cap(served) -> None:  # type: ignore[no-untyped-def]
    all_ads = _rank(served, k=100, context={"time": "1700000000"})
    floor = float(np.median(all_ads["pctr"].to_numpy()))
    high = _rank(served, k=100, context={"time": "1700000000"}, policy=AdPolicy(min_pctr=floor))
    assert (high["pctr"] >= floor).all()
    assert high.height < all_ads.height
    top = all_ads["item_id"][0]
    capped = _rank(served, k=100, context={"time": "1700000000"}, impressions={top: 3},
                   policy=AdPolicy(frequency_cap=3))  # fmt: skip
    assert top not in capped["item_id"].to_list()
    under = _rank(served, k=100, context={"time": "1700000000"}, impressions={top: 2},
                  policy=AdPolicy(frequency_cap=3))  # fmt: skip
    assert top in under["item_id"].to_list()


def test_candidates_and_unknown_user(served) -> None:  # type: ignore[no-untyped-def]
    ads = _rank(served, candidates=["ad1", "ad2"], k=10, user_id="someone-new")
    assert sorted(ads["item_id"].to_list()) == ["ad1", "ad2"]
    with pytest.raises(UsageError, match="unknown ad id"):
        _rank(served, candidates=["ad1", "nope"])
    with pytest.raises(UsageError, match="k must be"):
        _rank(served, k=0)
    with pytest.raises(UsageError, match="neither Unix seconds nor ISO"):
        _rank(served, context={"time": "teatime"})
    empty = _rank(
        served, candidates=["ad1"], impressions={"ad1": 9}, policy=AdPolicy(frequency_cap=1)
    )
    assert empty.height == 0
    assert empty.schema["pctr"] == pl.Float64


def test_parse_context() -> None:
    assert parse_context("device=mobile, location=home") == {"device": "mobile", "location": "home"}
    assert parse_context(None) == {}
    with pytest.raises(UsageError, match="key=value"):
        parse_context("mobile")
