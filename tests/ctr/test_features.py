from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest

from lmrec.ctr.features import FeatureEncoder, join_events
from lmrec.errors import DataError, UsageError


@pytest.fixture
def tables():  # type: ignore[no-untyped-def]
    inter = pl.DataFrame(
        {
            "user_id": ["u1", "u2", "u1", "u3"],
            "item_id": ["a", "b", "b", "a"],
            # 1970-01-01 00:00 (Thursday), 1970-01-01 13:00, 1970-01-02 23:00, 1970-01-05 01:00
            "timestamp": [0, 13 * 3600, 47 * 3600, 97 * 3600],
            "event": ["view"] * 4,
            "value": [1.0, 0.0, 1.0, 0.0],
            "device": ["mobile", "tv", "mobile", "tv"],
            "p_true": ["0.5"] * 4,
        }
    )
    users = pl.DataFrame({"user_id": ["u1", "u2", "u3"], "gender": ["F", "M", "F"],
                          "age": [20, 40, 60]})  # fmt: skip
    items = pl.DataFrame(
        {
            "item_id": ["a", "b"],
            "title": ["Alpha", "Beta"],
            "text": ["space adventure", "kitchen recipes"],
            "categories": [["scifi"], ["food", "home"]],
            "url": ["http://a", "http://b"],
        }
    )
    return inter, users, items


def test_join_adds_attributes_and_time(tables) -> None:  # type: ignore[no-untyped-def]
    inter, users, items = tables
    ev = join_events(inter, users, items)
    assert ev["user_gender"].to_list() == ["F", "M", "F", "F"]
    assert ev["item_categories"].to_list()[1] == ["food", "home"]
    assert ev["hour"].to_list() == ["0", "13", "23", "1"]
    assert ev["weekday"].to_list() == ["4", "4", "5", "1"]  # ISO weekday: Thursday = 4
    assert "hour" not in join_events(inter, users, items, time_is_order=True).columns


def test_encoder_codes_buckets_and_unknowns(tables) -> None:  # type: ignore[no-untyped-def]
    inter, users, items = tables
    ev = join_events(inter, users, items)
    enc = FeatureEncoder(text_encoder="hashing", text_dims=2, n_buckets=2, max_attribute_values=1)
    enc.fit(ev, items)
    assert "p_true" not in enc.fields  # the oracle is never a feature
    assert "value" not in enc.fields
    assert "item_url" not in enc.fields  # id-like item strings are left to item_id
    assert {"user_id", "item_id", "device", "user_gender", "hour", "weekday"} <= set(enc.fields)
    assert "user_age:bucket" in enc.fields
    x = enc.transform(ev)
    assert x.cat.shape == (4, len(enc.fields))
    assert (x.cat > 0).all()  # every training value is known
    assert x.multi.toarray().tolist()[1] == [1.0, 1.0, 0.0]  # food, home, scifi
    assert x.dense.shape == (4, 1 + 2)  # standardised age + 2 text dims
    assert x.dense[:, 0].mean() == pytest.approx(0.0, abs=1e-6)
    new = join_events(
        pl.DataFrame(
            {"user_id": ["stranger"], "item_id": ["zz"], "timestamp": [0], "device": ["fridge"]}
        ),
        users,
        items,
    )
    y = enc.transform(new)
    fields = enc.fields
    for name in ("user_id", "item_id", "device", "user_gender"):
        assert y.cat[0, fields.index(name)] == 0, name
    assert y.cat[0, fields.index("user_age:bucket")] == 0  # missing numeric
    assert (y.dense[0, 1:] == 0).all()  # unknown item: no text vector


def test_encoder_round_trip(tables, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    inter, users, items = tables
    ev = join_events(inter, users, items)
    enc = FeatureEncoder(text_encoder="hashing", text_dims=2).fit(ev, items)
    enc.save(tmp_path / "f")
    back = FeatureEncoder.load(tmp_path / "f")
    a, b = enc.transform(ev), back.transform(ev)
    np.testing.assert_array_equal(a.cat, b.cat)
    np.testing.assert_allclose(a.dense, b.dense)
    assert (a.multi != b.multi).nnz == 0
    with pytest.raises(UsageError, match=r"no features\.json"):
        FeatureEncoder.load(tmp_path)


def test_no_events(tables) -> None:  # type: ignore[no-untyped-def]
    inter, users, items = tables
    with pytest.raises(DataError, match="no training events"):
        FeatureEncoder().fit(join_events(inter.head(0), users, items), items)
