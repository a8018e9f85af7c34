"""One open registry: built-in names and aliases, a user's own model, missing extras."""

from __future__ import annotations

import json
import sys
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest
import scipy.sparse as sp

import lmrec
from lmrec.data import split_loo, synthetic_dataset
from lmrec.data.interactions import Interactions
from lmrec.errors import UsageError
from lmrec.evaluation import EvalConfig, evaluate
from lmrec.models import Recommender, create_model, get_model_class
from lmrec.models.capabilities import (
    LinearInHistory,
    OrderedHistory,
    ScoresNewItems,
    SimilarItems,
    TwoTower,
)
from lmrec.registry import Registry, registry
from lmrec.testing import checkerboard


class CoCount(Recommender):
    """A user's own model: items scored by how often they co-occur with the history."""

    uses_history: ClassVar[bool] = True

    def __init__(self, shrink: float = 0.0) -> None:
        self.shrink = shrink

    def _fit(self, data: Interactions) -> None:
        x = data.matrix.astype(np.float32)
        co = (x.T @ x).toarray()
        np.fill_diagonal(co, 0.0)
        self.co_ = co / (1.0 + self.shrink)

    def _score(self, users: np.ndarray, history: sp.csr_matrix) -> np.ndarray:
        return np.asarray(history @ self.co_, dtype=np.float32)

    def _state(self) -> dict[str, np.ndarray]:
        return {"co": self.co_}

    def _set_state(self, state: dict[str, np.ndarray]) -> None:
        self.co_ = state["co"]


@pytest.fixture
def own_model() -> Iterator[str]:
    lmrec.register_model("cocount", CoCount, aliases=["co-count"])
    yield "cocount"
    registry._entries.pop(("topn", "cocount"))
    registry._aliases.pop(("topn", "co-count"))


def test_builtin_names_and_aliases_resolve_lazily() -> None:
    assert registry.names("topn")[:6] == ("pop", "rules", "itemknn", "als", "bpr", "ease")
    assert registry.names("ctr") == ("logreg", "lightgbm", "deepfm", "dcn")
    assert get_model_class("KNN") is get_model_class("itemknn")
    assert get_model_class("sasrec").name == "sequential"
    with pytest.raises(UsageError, match="unknown model 'nosuch'; known: pop, rules"):
        get_model_class("nosuch")
    with pytest.raises(UsageError, match="bad parameters for model 'ease'"):
        create_model("ease", nosuch=1)


def test_a_users_model_goes_through_evaluate_and_save(own_model: str, tmp_path: Path) -> None:
    model = create_model("co-count", shrink=1.0).fit(checkerboard())
    assert model.name == "cocount"
    ids, _ = model.recommend(0, 3)
    assert ids[0] % 2 == 0  # the one even item user 0 has not seen comes first
    loaded = Recommender.load(model.save(tmp_path / "m"))
    assert isinstance(loaded, CoCount)
    assert loaded.shrink == 1.0
    np.testing.assert_array_equal(loaded.recommend(0, 3)[0], ids)

    split = split_loo(synthetic_dataset(n_users=80, n_items=60, seed=1))
    cfg = EvalConfig(k=5, n_boot=50, progress=False)
    report = evaluate(split, ["pop", own_model, CoCount(shrink=2.0)], cfg)
    assert list(report["models"]) == ["pop", "cocount", "cocount-2"]
    assert report["models"]["cocount-2"]["config"]["params"] == {"shrink": 2.0}
    assert report["models"]["cocount-2"]["config"]["tuning"] == []


def test_a_model_object_is_evaluated_on_a_fresh_copy() -> None:
    split = split_loo(synthetic_dataset(n_users=60, n_items=40, seed=2))
    given = get_model_class("ease")(reg=50.0)
    report = evaluate(split, [given], EvalConfig(k=5, n_boot=50, progress=False))
    assert not given.is_fitted
    assert report["models"]["ease"]["config"]["params"]["reg"] == 50.0
    with pytest.raises(UsageError, match="a model is a name or a Recommender"):
        evaluate(split, [3.5], EvalConfig(progress=False))  # type: ignore[list-item]


def test_an_import_path_names_a_model(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    module = types.ModuleType("my_recs")
    module.CoCount = CoCount  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "my_recs", module)
    model = create_model("my_recs:CoCount").fit(checkerboard())
    assert isinstance(model, CoCount)
    with pytest.raises(UsageError, match="no module named 'not_a_module'"):
        get_model_class("not_a_module:X")
    with pytest.raises(UsageError, match="module my_recs has no 'Missing'"):
        get_model_class("my_recs:Missing")


def test_a_missing_extra_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    reg = Registry()
    reg.register("gbdt", "lmrec_missing_dep_probe:Model", kind="topn")
    monkeypatch.setitem(sys.modules, "lmrec_missing_dep_probe", None)  # import fails
    with pytest.raises(UsageError, match="no module named 'lmrec_missing_dep_probe'"):
        reg.get("gbdt", "topn")
    reg.register("deep", "torch_probe_for_lmrec:Model", kind="topn")

    def no_torch(name: str, *args: Any, **kwargs: Any) -> Any:
        raise ModuleNotFoundError("No module named 'torch'", name="torch")

    monkeypatch.setattr("importlib.import_module", no_torch)
    with pytest.raises(UsageError, match=r"model 'deep' needs torch.*pip install 'lmrec\[deep\]'"):
        reg.get("deep", "topn")


def test_registering_checks_names_and_classes() -> None:
    reg = Registry()
    reg.register("a", CoCount, kind="topn")
    with pytest.raises(UsageError, match="registered already"):
        reg.register("A", CoCount, kind="topn")
    with pytest.raises(UsageError, match="letters, digits"):
        reg.register("a b", CoCount, kind="topn")
    with pytest.raises(UsageError, match="needs a Recommender or CTRModel class"):
        lmrec.register_model("x", dict)


def test_a_newer_format_is_refused(tmp_path: Path) -> None:
    path = create_model("pop").fit(checkerboard()).save(tmp_path / "m")
    config = json.loads((path / "config.json").read_text())
    assert config["lmrec_version"] == lmrec.__version__
    config["version"] = 99
    (path / "config.json").write_text(json.dumps(config))
    with pytest.raises(UsageError, match=r"format version 99 .* upgrade lmrec"):
        Recommender.load(path)


@pytest.mark.parametrize(
    ("name", "caps"),
    [
        ("pop", set()),
        ("itemknn", {LinearInHistory, SimilarItems}),
        ("ease", {LinearInHistory}),
        ("als", {SimilarItems}),
        ("content", {TwoTower, ScoresNewItems, SimilarItems}),
        ("sequential", {TwoTower, ScoresNewItems, OrderedHistory}),
    ],
)
def test_capabilities_are_declared(name: str, caps: set[type]) -> None:
    model = create_model(name)
    found = {
        c
        for c in (TwoTower, ScoresNewItems, LinearInHistory, OrderedHistory, SimilarItems)
        if isinstance(model, c)
    }
    assert found == caps
