"""The Optuna search: its budget of trials and seconds, the defaults first, a stored study that
resumes, and ``lmrec evaluate --search tpe``."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from lmrec.data import split_loo, synthetic_dataset
from lmrec.errors import UsageError
from lmrec.evaluation import EvalConfig, evaluate, prepare
from lmrec.evaluation.search import startup_trials, tpe_search
from lmrec.search_space import Choice, FloatRange, space_from_grid


@pytest.fixture(scope="module")
def data() -> Any:
    return prepare(split_loo(synthetic_dataset(n_users=80, n_items=60, seed=3)))


def _search(data: Any, **kw: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    return tpe_search(
        "ease", {"reg": FloatRange(1.0, 1000.0, log=True)}, {"reg": 250.0}, data.train,
        lambda m: m.recommend(data.valid_users, 10)[0], data.valid_truth, k=10, **kw,
    )  # fmt: skip


def test_space_from_grid_keeps_constants_and_makes_choices() -> None:
    grid = [{"a": 1, "b": 0.1, "c": "x"}, {"a": 2, "b": 0.1, "c": "x"}, {"a": 1, "b": 0.1}]
    assert space_from_grid(grid) == {"a": Choice((1, 2)), "b": 0.1, "c": "x"}


def test_the_budget_the_defaults_first_and_the_best_trial(data: Any) -> None:
    best, trials = _search(data, trials=5, seed=1)
    assert len(trials) == 5
    assert trials[0]["params"] == {"reg": 250.0}  # the model's default is tried first
    assert all(1.0 <= t["params"]["reg"] <= 1000.0 for t in trials)
    top = max(trials, key=lambda t: t["valid_NDCG@10"])
    assert best == top["params"]
    again, _ = _search(data, trials=5, seed=1)
    assert again == best  # seeded: the same search


def test_a_third_of_a_small_budget_is_random_and_tpe_models_the_rest(
    data: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert [startup_trials(n) for n in (1, 2, 3, 10, 30, 48)] == [1, 1, 1, 3, 10, 10]
    import optuna

    made: list[int] = []
    real = optuna.samplers.TPESampler

    def spy(**kw: Any) -> Any:
        made.append(kw["n_startup_trials"])
        return real(**kw)

    monkeypatch.setattr(optuna.samplers, "TPESampler", spy)
    _search(data, trials=9, seed=0)
    assert made == [3]  # not Optuna's 10, which would make a 9-trial budget all random


def test_a_timeout_stops_the_search_after_the_first_trial(data: Any) -> None:
    _, trials = _search(data, trials=50, timeout_s=1e-6)
    assert len(trials) == 1


def test_a_stored_study_resumes(data: Any, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'study.db'}"
    _, first = _search(data, trials=3, storage=url)
    _, both = _search(data, trials=2, storage=url)
    assert [t["trial"] for t in both] == [0, 1, 2, 3, 4]
    assert both[:3] == first
    with pytest.raises(UsageError, match="study storage"):
        _search(data, trials=1, storage="nonsense://x")


def test_evaluate_with_tpe_reports_its_trials(data: Any, tmp_path: Path) -> None:
    split = split_loo(synthetic_dataset(n_users=80, n_items=60, seed=3))
    cfg = EvalConfig(search="tpe", trials=3, n_boot=50, progress=False)
    report = evaluate(split, ["itemknn"], cfg, out=tmp_path / "r")
    chosen = report["models"]["itemknn"]["config"]
    assert chosen["search"] == "tpe"
    assert len(chosen["tuning"]) == 3
    best = max(chosen["tuning"], key=lambda t: t["valid_NDCG@10"])
    assert {k: chosen["params"][k] for k in best["params"]} == best["params"]


def test_the_cli_takes_the_search_flags(cli: Callable[..., tuple[int, str, str]],
                                        tmp_path: Path) -> None:  # fmt: skip
    synthetic_dataset(n_users=60, n_items=40, seed=2).save(tmp_path / "ds")
    code, _, err = cli("evaluate", "--dataset", tmp_path / "ds", "--models", "ease",
                       "--search", "tpe", "--trials", "2", "--out", tmp_path / "r",
                       "--no-progress", "--n-boot", "50")  # fmt: skip
    assert code == 0, err
    report = json.loads((tmp_path / "r" / "report.json").read_text())
    assert "ease" in report["models"]
    code, _, err = cli("evaluate", "--dataset", tmp_path / "ds", "--models", "ease",
                       "--search", "random", "--out", tmp_path / "r")  # fmt: skip
    assert code == 2
    assert "--search" in err


def test_a_neural_trial_whose_curve_falls_behind_is_pruned(data: Any) -> None:
    pytest.importorskip("torch")
    from lmrec.evaluation.search import PRUNE_AFTER

    fast = {
        "embedding_size": 16, "n_layers": 1, "n_heads": 1, "text_encoder": None,
        "num_threads": 1, "epochs": 12, "patience": 12, "dropout": 0.0,
    }  # fmt: skip
    # the defaults first (a rate that learns), then mostly rates too small to learn
    best, trials = tpe_search(
        "sequential", {**fast, "learning_rate": FloatRange(1e-9, 1e-2, log=True)},
        {"learning_rate": 1e-2}, data.train,
        lambda m: m.recommend(data.valid_users, 10)[0], data.valid_truth, k=10, trials=3,
    )  # fmt: skip
    assert best["learning_rate"] == 1e-2
    assert [t["trial"] for t in trials] == [0, 1, 2]
    pruned = [t for t in trials if "pruned_at_epoch" in t]
    assert pruned, trials
    assert all(t["pruned_at_epoch"] >= PRUNE_AFTER for t in pruned), pruned
    assert all(t["pruned_at_epoch"] < 12 for t in pruned)


def test_the_sequential_model_is_tuned_only_when_asked_to_search(data: Any) -> None:
    pytest.importorskip("torch")
    from lmrec.evaluation.runner import tune

    params, trials = tune("sequential", data, EvalConfig(progress=False))
    assert (params, trials) == ({}, [])  # the grid has nothing to try for it
