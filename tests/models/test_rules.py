from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from lmrec.errors import UsageError
from lmrec.models.base import Recommender
from lmrec.models.rules import AssociationRules
from lmrec.testing import RecommenderContract, toy_interactions


class TestRules(RecommenderContract):
    expected_ndcg = 0.097  # 80% of the 0.1217 measured

    def model_factory(self) -> AssociationRules:
        return AssociationRules(min_count=1)


# baskets: b1 {milk, bread}, b2 {milk, bread, butter}, b3 {milk, eggs}, b4 {bread, butter}
BASKETS = [
    ("b1", "milk"), ("b1", "bread"),
    ("b2", "milk"), ("b2", "bread"), ("b2", "butter"),
    ("b3", "milk"), ("b3", "eggs"),
    ("b4", "bread"), ("b4", "butter"),
]  # fmt: skip


@pytest.fixture
def baskets():  # type: ignore[no-untyped-def]
    return toy_interactions(BASKETS)


def test_confidence_support_lift_by_hand(baskets) -> None:  # type: ignore[no-untyped-def]
    model = AssociationRules(min_count=1).fit(baskets)
    v = baskets.item_vocab
    milk, bread, butter, eggs = (v.index(x) for x in ("milk", "bread", "butter", "eggs"))
    conf = model.confidence_.toarray()
    # milk in 3 baskets, with bread in 2: P(bread | milk) = 2/3; bread in 3, with butter in 2
    assert conf[milk, bread] == pytest.approx(2 / 3)
    assert conf[bread, butter] == pytest.approx(2 / 3)
    assert conf[butter, bread] == pytest.approx(1.0)
    assert conf[eggs, milk] == pytest.approx(1.0)
    assert conf[milk, milk] == 0
    rules = model.rules(v)
    row = rules.filter((rules["antecedent"] == "butter") & (rules["consequent"] == "bread"))
    assert row["support"].item() == pytest.approx(2 / 4)
    assert row["lift"].item() == pytest.approx(1.0 / (3 / 4))  # confidence / P(bread)
    assert rules["lift"].is_sorted(descending=True)


def test_min_count_and_confidence_prune(baskets) -> None:  # type: ignore[no-untyped-def]
    v = baskets.item_vocab
    pruned = AssociationRules(min_count=2).fit(baskets).confidence_.toarray()
    assert pruned[v.index("eggs"), v.index("milk")] == 0  # together only once
    assert pruned[v.index("butter"), v.index("bread")] == pytest.approx(1.0)
    strict = AssociationRules(min_count=1, min_confidence=0.9).fit(baskets).confidence_
    assert np.all(strict.data >= 0.9)


def test_sum_and_max_aggregation(baskets) -> None:  # type: ignore[no-untyped-def]
    v = baskets.item_vocab
    cart = [v.indices(["milk", "butter"]).astype(np.int64)]
    bread = v.index("bread")
    s = AssociationRules(min_count=1).fit(baskets).score_carts(cart)
    m = AssociationRules(min_count=1, aggregate="max").fit(baskets).score_carts(cart)
    assert s[0, bread] == pytest.approx(2 / 3 + 1.0)
    assert m[0, bread] == pytest.approx(1.0)
    model = AssociationRules(min_count=1).fit(baskets)
    assert model.strongest_rule(cart[0], bread) == (v.index("butter"), pytest.approx(1.0))
    assert model.strongest_rule(np.array([], dtype=np.int64), bread) is None


def test_bad_aggregate(baskets) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(UsageError, match="aggregate"):
        AssociationRules(aggregate="mean").fit(baskets)  # type: ignore[arg-type]


def test_rules_survive_save_load(baskets, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    model = AssociationRules(min_count=1).fit(baskets)
    model.save(tmp_path / "r")
    loaded = Recommender.load(tmp_path / "r")
    assert isinstance(loaded, AssociationRules)
    assert loaded.rules().equals(model.rules())
