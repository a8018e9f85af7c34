"""``time_budget_s`` for every model that takes one: handed out by the registry, split by the
hybrid over its component fits, applied by ``evaluate`` and by ``lmrec train --time-budget``."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from lmrec.data import split_dataset, synthetic_dataset
from lmrec.evaluation import EvalConfig, evaluate
from lmrec.models.hybrid import HybridRanker
from lmrec.models.registry import model_names, takes_time_budget, with_time_budget


def test_the_models_that_take_a_budget() -> None:
    takers = {n for n in model_names() if takes_time_budget(n)}
    assert takers == {"als", "bpr", "ease", "sequential", "hybrid"}


def test_with_time_budget_keeps_a_models_own() -> None:
    params = {"als": {"time_budget_s": 1.0, "reg": 2.0}, "pop": {}}
    out = with_time_budget(["als", "ease", "pop"], params, 30.0)
    assert out == {"als": {"time_budget_s": 1.0, "reg": 2.0}, "ease": {"time_budget_s": 30.0},
                   "pop": {}}  # fmt: skip
    assert params["als"] == {"time_budget_s": 1.0, "reg": 2.0}  # not changed in place
    assert with_time_budget(["als"], {}, None) == {}


def test_hybrid_shares_its_budget_over_its_component_fits() -> None:
    # ease and als each fit twice (for the ranker, then on everything): 40 s / 4 fits
    hybrid = HybridRanker(components=("ease", "als", "pop"), time_budget_s=40.0,
                          component_params={"als": {"time_budget_s": 3.0}})  # fmt: skip
    made = hybrid._make_components()
    assert made["ease"].get_params()["time_budget_s"] == 10.0
    assert made["als"].get_params()["time_budget_s"] == 3.0  # smaller than its share: kept
    assert "time_budget_s" not in made["pop"].get_params()
    big = HybridRanker(components=("ease",), time_budget_s=8.0,
                       component_params={"ease": {"time_budget_s": 100.0}})  # fmt: skip
    assert big._make_components()["ease"].get_params()["time_budget_s"] == 4.0


def test_evaluate_gives_each_fit_the_budget() -> None:
    split = split_dataset(synthetic_dataset(n_users=60, n_items=40, seed=1), "loo", seed=0)
    cfg = EvalConfig(time_budget_s=5.0, n_boot=20, progress=False, search="grid")
    report = evaluate(split, ["als", "pop"], cfg)
    als = report["models"]["als"]["config"]
    assert als["params"]["time_budget_s"] == 5.0
    assert all(t["params"]["time_budget_s"] == 5.0 for t in als["tuning"])
    assert "time_budget_s" not in report["models"]["pop"]["config"]["params"]


def test_train_time_budget_flag(cli: Callable[..., tuple[int, str, str]], tmp_path: Path) -> None:
    data = tmp_path / "ds"
    synthetic_dataset(n_users=40, n_items=30, seed=3).save(data)
    code, _, err = cli("train", data, "--models", "als,pop", "--time-budget", "7",
                       "--out", tmp_path / "art")  # fmt: skip
    assert code == 0, err
    saved = json.loads((tmp_path / "art" / "als" / "config.json").read_text())
    assert saved["params"]["time_budget_s"] == 7.0
    assert saved["fitted"]["epochs_trained"] >= 1


@pytest.mark.parametrize("value", ["0", "-3", "nan", "inf"])
def test_train_time_budget_must_be_positive(
    cli: Callable[..., tuple[int, str, str]], tmp_path: Path, value: str
) -> None:
    data = tmp_path / "ds"
    synthetic_dataset(n_users=20, n_items=10, seed=3).save(data)
    code, _, err = cli("train", data, "--models", "als", "--time-budget", value,
                       "--out", tmp_path / "art")  # fmt: skip
    assert code == 2
    assert "--time-budget must be a positive number of seconds" in err
