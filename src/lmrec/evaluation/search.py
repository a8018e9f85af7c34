"""Hyper-parameter search with Optuna: TPE over the space a model declares
(:meth:`~lmrec.models.base.Recommender.tuning_space`), within a budget of trials and seconds,
the model's defaults tried first; a study kept in a storage (``sqlite:///study.db``) resumes
where it stopped. A model that reports a validation curve while it trains (an
``epoch_callback``, as the sequential model has) is pruned when its curve falls below the
median of the earlier trials at the same epoch."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import scipy.sparse as sp

from lmrec.data.interactions import Interactions
from lmrec.errors import UsageError
from lmrec.evaluation.collect import accuracy_per_user
from lmrec.models.base import Recommender
from lmrec.models.registry import create_model
from lmrec.progress import track
from lmrec.search_space import Choice, FloatRange, IntRange, Space

__all__ = ["PRUNE_AFTER", "pruning_callback", "startup_trials", "tpe_search"]

#: epochs a neural trial always trains before its curve is compared with earlier trials'
PRUNE_AFTER = 3


def startup_trials(trials: int) -> int:
    """Trials sampled at random (the defaults among them) before TPE models the results: a
    third of the budget, at most Optuna's 10, so that a small budget is not all random search."""
    return max(1, min(10, trials // 3))


def _suggest(trial: Any, space: Space) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for key, what in space.items():
        if isinstance(what, FloatRange):
            params[key] = trial.suggest_float(key, what.low, what.high, log=what.log)
        elif isinstance(what, IntRange):
            params[key] = trial.suggest_int(key, what.low, what.high, log=what.log)
        elif isinstance(what, Choice):
            params[key] = trial.suggest_categorical(key, list(what.options))
        else:
            params[key] = what
    return params


def _within(value: Any, what: Any) -> bool:
    if isinstance(what, FloatRange | IntRange):
        return isinstance(value, int | float) and what.low <= value <= what.high
    return value in what.options if isinstance(what, Choice) else True


def tpe_search(
    name: str,
    space: Space,
    defaults: dict[str, Any],
    fit_data: Interactions,
    rank: Callable[[Recommender], Any],
    truth: sp.csr_matrix,
    *,
    k: int,
    trials: int,
    timeout_s: float | None = None,
    seed: int = 0,
    storage: str | None = None,
    progress: bool = False,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Up to ``trials`` fits of model ``name`` (fewer when ``timeout_s`` runs out), each
    scored by validation NDCG@``k`` of ``rank(model)`` against ``truth``; the first is
    ``defaults``. Returns the best setting and every trial of the study (earlier runs of a
    stored study included)."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    label = f"NDCG@{k}"
    try:
        study = optuna.create_study(
            study_name=f"lmrec-{name}", storage=storage, load_if_exists=True,
            direction="maximize",
            sampler=optuna.samplers.TPESampler(n_startup_trials=startup_trials(trials), seed=seed),
            pruner=optuna.pruners.MedianPruner(n_startup_trials=1, n_warmup_steps=PRUNE_AFTER),
        )  # fmt: skip
    except Exception as exc:  # a storage URL SQLAlchemy cannot open, or not an Optuna study
        first = str(exc).strip().splitlines()
        raise UsageError(
            f"cannot open the study storage {storage}: {first[0] if first else type(exc).__name__}"
        ) from None
    fixed = {
        key: v for key, v in space.items() if not isinstance(v, FloatRange | IntRange | Choice)
    }
    if not study.trials:
        # the defaults first, where they lie in the space (a config table may narrow it)
        tunable = {key: v for key, v in defaults.items()
                   if key in space and key not in fixed and _within(v, space[key])}  # fmt: skip
        study.enqueue_trial(tunable, skip_if_exists=True)

    def objective(trial: Any) -> float:
        params = _suggest(trial, space)
        trial.set_user_attr("params", params)
        start = time.perf_counter()
        model = create_model(name, **params)
        if hasattr(model, "epoch_callback"):
            model.epoch_callback = pruning_callback(trial, start)
        model.fit(fit_data)
        value = float(accuracy_per_user(rank(model), truth, k)[label].mean())
        trial.set_user_attr("seconds", round(time.perf_counter() - start, 3))
        return value

    deadline = None if timeout_s is None else time.monotonic() + timeout_s
    for n in track(range(trials), f"tune {name}", enabled=progress):
        if n > 0 and deadline is not None and time.monotonic() >= deadline:
            break  # the first trial always runs: a search returns a fitted setting
        study.optimize(objective, n_trials=1)
    done = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    out = [{"params": t.user_attrs["params"], f"valid_{label}": t.value,
            "seconds": t.user_attrs["seconds"], "trial": t.number} for t in done]  # fmt: skip
    if not out:
        raise UsageError(f"every trial of {name} was pruned; give more trials")
    best = max(range(len(out)), key=lambda i: (out[i][f"valid_{label}"], -i))
    pruned = [
        {"params": t.user_attrs.get("params", {}), "pruned_at_epoch": t.user_attrs.get("epoch"),
         "seconds": t.user_attrs.get("seconds"), "trial": t.number}
        for t in study.trials if t.state == optuna.trial.TrialState.PRUNED
    ]  # fmt: skip
    return out[best]["params"], sorted(out + pruned, key=lambda t: t["trial"])


def pruning_callback(trial: Any, start: float) -> Callable[[Any, dict[str, Any]], None]:
    """An ``epoch_callback`` that reports each epoch's held-out NDCG@10 to ``trial`` and
    stops the fit (``optuna.TrialPruned``) when the study's pruner says so."""
    import optuna

    def report(_net: Any, row: dict[str, Any]) -> None:
        if "valid_ndcg@10" not in row or row.get("refit"):
            return
        trial.report(float(row["valid_ndcg@10"]), int(row["epoch"]))
        if trial.should_prune():
            trial.set_user_attr("epoch", int(row["epoch"]))
            trial.set_user_attr("seconds", round(time.perf_counter() - start, 3))
            raise optuna.TrialPruned(f"held-out NDCG@10 {row['valid_ndcg@10']:.4f}")

    return report
