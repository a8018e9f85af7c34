"""Basket protocol, cart completion, substitutes and the basket evaluation."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from lmrec.cart import complete_carts, split_baskets, substitute_matrix
from lmrec.cart.evaluation import BasketConfig, evaluate_baskets
from lmrec.data import Dataset, baskets_by_day, read_baskets
from lmrec.errors import DataError, UsageError
from lmrec.models.itemknn import ItemKNN
from lmrec.models.rules import AssociationRules
from lmrec.testing import toy_interactions


@pytest.fixture
def shop(basket_file: Path) -> Dataset:
    return read_baskets(basket_file)


def test_split_holds_out_whole_baskets(shop: Dataset) -> None:
    s = split_baskets(shop, test_share=0.2, valid_share=0.1, seed=3)
    sizes = shop.interactions.group_by("user_id").len()
    multi = sizes.filter(pl.col("len") >= 2).height
    assert len(s.test) == round(0.2 * multi)
    assert len(s.valid) == round(0.1 * (multi - len(s.test)))
    train_ids = set(s.train.user_vocab.ids)
    assert not train_ids & set(s.test.baskets)  # held-out baskets are not trained on
    assert set(s.valid.baskets) <= train_ids
    assert not set(s.fit.user_vocab.ids) & set(s.valid.baskets)
    # single-item baskets stay in training
    singles = set(sizes.filter(pl.col("len") == 1)["user_id"].to_list())
    assert singles <= train_ids
    vocab = s.train.item_vocab
    contents = dict(shop.interactions.group_by("user_id").agg(pl.col("item_id")).iter_rows())
    for cart, hidden, basket in zip(s.test.carts, s.test.hidden, s.test.baskets, strict=True):
        assert hidden not in cart
        assert sorted(vocab.raws([*cart, hidden])) == sorted(contents[basket])
    again = split_baskets(shop, test_share=0.2, valid_share=0.1, seed=3)
    np.testing.assert_array_equal(again.test.hidden, s.test.hidden)
    other = split_baskets(shop, test_share=0.2, valid_share=0.1, seed=4)
    assert other.test.baskets != s.test.baskets


def test_split_rejects_bad_input(shop: Dataset, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="test share"):
        split_baskets(shop, test_share=1.5)
    single = tmp_path / "single.csv"
    single.write_text("milk\nbread\n")
    with pytest.raises(DataError, match="two or more items"):
        split_baskets(read_baskets(single))


def test_substitutes_need_close_text_and_shared_category() -> None:
    emb = np.array([[1.0, 0.0], [0.99, 0.1], [0.0, 1.0], [0.98, 0.12]])
    cats = [["dairy"], ["dairy"], ["dairy"], ["bakery"]]
    m = substitute_matrix(emb, cats, threshold=0.9).toarray()
    assert m[0, 1]
    assert m[1, 0]
    assert not m[0, 2]  # same category, orthogonal text
    assert not m[0, 3]  # close text, other category
    assert not m.diagonal().any()
    no_cats = substitute_matrix(emb, [[], [], [], []], threshold=0.9).toarray()
    assert no_cats[0, 3]  # without categories, text alone decides


def test_complete_carts_excludes_cart_and_substitutes() -> None:
    data = toy_interactions(
        [("a", "x"), ("a", "y"), ("a", "z"), ("b", "x"), ("b", "y"), ("c", "x"), ("c", "w")]
    )
    model = ItemKNN(k=10, shrink=0.0).fit(data)
    v = data.item_vocab
    x, y, z, w = (v.index(i) for i in "xyzw")
    cart = [np.array([x])]
    ids, _ = complete_carts(model, cart, 3)
    assert x not in ids[0]
    assert ids[0][0] == y  # y goes with x most often
    subs = substitute_matrix(np.eye(4)[[0, 0, 2, 3]], [[]] * 4)  # x and y "identical" in text
    ids, _ = complete_carts(model, cart, 3, substitutes=subs)
    assert y not in ids[0]
    assert x not in ids[0]
    ids, _ = complete_carts(model, cart, 3, substitutes=subs, allow_substitutes=True)
    assert ids[0][0] == y
    ids, _ = complete_carts(model, cart, 4, allow_cart_items=True)
    assert x in ids[0]
    assert {z, w} <= set(ids[0].tolist())


def test_cart_of_a_known_user_adds_their_history() -> None:
    data = toy_interactions(
        [("a", "x"), ("a", "y"), ("b", "y"), ("b", "z"), ("c", "x"), ("c", "w")]
    )
    model = AssociationRules(min_count=1).fit(data)
    v = data.item_vocab
    cart = [np.array([v.index("x")])]
    alone = model.score_carts(cart)
    with_user = model.score_carts(cart, users=np.array([data.user_vocab.index("b")]))
    # b's history (y, z) adds rules y -> x and z -> y; an unknown user index changes nothing
    assert not np.allclose(alone, with_user)
    np.testing.assert_allclose(model.score_carts(cart, users=np.array([99])), alone)
    with pytest.raises(UsageError, match="one entry per cart"):
        model.score_carts(cart, users=np.array([0, 1]))


def test_baskets_by_day(tmp_path: Path) -> None:
    inter = pl.DataFrame(
        {
            "user_id": ["u1", "u1", "u1", "u2"],
            "item_id": ["a", "b", "c", "a"],
            "timestamp": [0, 3600, 86_400 + 5, 10],
        }
    )
    days = baskets_by_day(Dataset.build(inter))
    assert sorted(set(days.interactions["user_id"].to_list())) == [
        "u1@1970-01-01",
        "u1@1970-01-02",
        "u2@1970-01-01",
    ]
    with pytest.raises(DataError, match="only an order"):
        baskets_by_day(Dataset.build(inter, meta={"time_is_order": True}))


def test_evaluate_baskets_finds_complements(shop: Dataset, tmp_path: Path) -> None:
    cfg = BasketConfig(n_boot=100, progress=False, text_encoder="hashing")
    report = evaluate_baskets(shop, ["pop", "rules", "itemknn"], cfg, out=tmp_path / "r")
    ndcg = {n: e["metrics"]["NDCG@10"]["mean"] for n, e in report["models"].items()}
    # co-occurrence knows which kind of shopper this is; popularity does not
    assert ndcg["rules"] > ndcg["pop"] * 1.1
    assert ndcg["itemknn"] > ndcg["pop"] * 1.1
    assert report["task"] == "basket"
    assert report["counts"]["test_users"] == report["split"]["test_cases"] > 0
    assert report["models"]["rules"]["config"]["tuning"]  # tuned on validation carts
    saved = json.loads((tmp_path / "r" / "report.json").read_text())
    assert saved["models"].keys() == report["models"].keys()
    recs = pl.read_parquet(tmp_path / "r" / "recs" / "rules.parquet")
    assert recs.columns == ["basket_id", "cart", "hidden_item_id", "item_id", "rank", "score"]
    for cart, item in recs.select("cart", "item_id").iter_rows():
        assert item not in cart.split(",")
    assert "Basket completion" in (tmp_path / "r" / "report.html").read_text()


def test_evaluate_baskets_rejects_per_user_models(shop: Dataset) -> None:
    with pytest.raises(UsageError, match="cannot complete a cart"):
        evaluate_baskets(shop, ["als"], BasketConfig(progress=False))
