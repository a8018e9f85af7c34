"""Compare models on one split: tune on validation, refit on train + validation, test.

Every model is ranked over all items with each user's earlier items excluded, the same way for
every model family.
"""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from lmrec import metrics as M
from lmrec._version import __version__
from lmrec.data.interactions import Interactions
from lmrec.data.split import Split
from lmrec.errors import UsageError
from lmrec.evaluation.cold import cold_start, hold_out_items, restrict_columns
from lmrec.evaluation.collect import ListContext, accuracy_per_user, summarise
from lmrec.evaluation.memory import PeakMemory
from lmrec.evaluation.outputs import write_outputs
from lmrec.evaluation.protocol import EvalData, prepare
from lmrec.models.base import Recommender
from lmrec.models.capabilities import DifferentiallyPrivate
from lmrec.models.registry import create_model, get_model_class, search_space, with_time_budget
from lmrec.progress import track
from lmrec.search_space import Choice, FloatRange, IntRange, Space

__all__ = ["EvalConfig", "ModelResult", "compare_to_best", "evaluate", "grid_search", "tune"]


@dataclass(frozen=True)
class EvalConfig:
    k: int = 10
    seed: int = 0
    tune: bool = True
    n_boot: int = 1000
    cold_user_max: int = 20  # users with at most this many training interactions are "cold"
    head_share: float = 0.2  # the most popular 20% of items are the "head"
    cold_items: float = 0.0  # share of items removed from training entirely (cold-start protocol)
    progress: bool = True
    rerank_sweep: bool = False  # add NDCG/ILD/coverage/novelty at each re-ranking strength
    rerank_text_encoder: str | None = None  # text similarity for diversity (else categories)
    rerank_calibration: float = 0.0  # weight of Steck's calibration term in the sweep
    context: bool = False  # measure context-aware scoring (daypart, daytype, device, location)
    #: how tuning searches: "grid" (every setting of the model's search space) or "tpe"
    #: (Optuna over its tuning space, within ``trials`` and ``tune_timeout_s``)
    search: str = "grid"
    #: TPE fits per model (default: a third of the model's grid, at least 2)
    trials: int | None = None
    #: seconds a model's search may take (no new trial starts after)
    tune_timeout_s: float | None = None
    #: an Optuna storage URL (sqlite:///study.db): studies are kept there and resumed
    study: str | None = None
    #: seconds each fit may take, for the models that take a budget
    #: (:func:`~lmrec.models.registry.takes_time_budget`), unless their parameters set one
    time_budget_s: float | None = None
    #: per model, what replaces parts of its declared tuning space in a TPE search (the
    #: config file's ``[tuning.MODEL]`` tables)
    spaces: dict[str, Space] = field(default_factory=dict)


@dataclass
class ModelResult:
    name: str
    model: Recommender
    recs: np.ndarray  # test users x K item indices
    scores: np.ndarray
    per_user: dict[str, np.ndarray]
    entry: dict[str, Any]


def tune(
    name: str, data: EvalData, cfg: EvalConfig, *, overrides: dict[str, Any] | None = None
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Search the model's settings on train, scored by validation NDCG@k: every setting of its
    grid (``cfg.search == "grid"``, the default) or TPE over its tuning space (``"tpe"``).

    Without tuning (or without validation users) the model's own defaults are used. Each fit
    keeps to ``cfg.time_budget_s`` where the model takes a budget.
    """
    overrides = _budgeted(name, overrides, cfg)
    space = [dict(p, **(overrides or {})) for p in search_space(name)]
    if not cfg.tune or len(data.valid_users) == 0:
        return dict(overrides or {}), []
    tpe_space = {**get_model_class(name).tuning_space(), **cfg.spaces.get(name, {}),
                 **(overrides or {})}  # fmt: skip
    ranges = any(isinstance(v, FloatRange | IntRange | Choice) for v in tpe_space.values())
    if len(space) == 1 and not (cfg.search == "tpe" and ranges):
        return space[0], []
    if cfg.search == "tpe":
        from lmrec.evaluation.search import tpe_search

        return tpe_search(
            name, tpe_space, {**create_model(name).get_params(), **(overrides or {})}, data.train,
            lambda model: model.recommend(data.valid_users, cfg.k, at=data.valid_at)[0],
            data.valid_truth, k=cfg.k, trials=cfg.trials or max(2, len(space) // 3),
            timeout_s=cfg.tune_timeout_s, seed=cfg.seed, storage=cfg.study,
            progress=cfg.progress,
        )  # fmt: skip
    if cfg.search != "grid":
        raise UsageError(f"search must be 'tpe' or 'grid', not '{cfg.search}'")
    return grid_search(
        name,
        space,
        data.train,
        lambda model: model.recommend(data.valid_users, cfg.k, at=data.valid_at)[0],
        data.valid_truth,
        k=cfg.k,
        progress=cfg.progress,
    )


def grid_search(
    name: str,
    space: list[dict[str, Any]],
    fit_data: Interactions,
    rank: Callable[[Recommender], np.ndarray],
    truth: sp.csr_matrix,
    *,
    k: int,
    progress: bool = False,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Fit model ``name`` with each setting of ``space`` on ``fit_data``; ``rank`` gives its
    top-``k`` lists for the validation cases whose relevant items are ``truth``. Returns the
    setting with the best NDCG@k (the earliest on ties) and every trial."""
    label = f"NDCG@{k}"
    trials: list[dict[str, Any]] = []
    for params in track(space, f"tune {name}", enabled=progress):
        start = time.perf_counter()
        model = create_model(name, **params).fit(fit_data)
        value = float(accuracy_per_user(rank(model), truth, k)[label].mean())
        trials.append(
            {
                "params": params,
                f"valid_{label}": value,
                "seconds": round(time.perf_counter() - start, 3),
            }
        )
    best = max(range(len(trials)), key=lambda i: (trials[i][f"valid_{label}"], -i))
    return trials[best]["params"], trials


def _segments(
    recs: np.ndarray, data: EvalData, ctx: ListContext, cfg: EvalConfig
) -> dict[str, dict[str, Any]]:
    k = cfg.k
    history = np.diff(data.train_valid.matrix.indptr)[data.test_users]
    order = np.argsort(-data.train_valid.item_counts, kind="stable")
    head = np.zeros(data.train_valid.n_items, dtype=bool)
    head[order[: max(1, round(cfg.head_share * len(order)))]] = True
    out: dict[str, dict[str, Any]] = {}
    for seg, mask in (
        ("users:cold", history <= cfg.cold_user_max),
        ("users:warm", history > cfg.cold_user_max),
    ):
        if mask.any():
            acc = accuracy_per_user(recs[mask], data.test_truth[mask], k)
            out[seg] = {
                "n": int(mask.sum()),
                "definition": f"{'<=' if 'cold' in seg else '>'} {cfg.cold_user_max} training interactions",
                "metrics": _means(acc, cfg),
            }
    truth = data.test_truth.tocsr()
    for seg, items in (("items:head", head), ("items:tail", ~head)):
        restricted = restrict_columns(truth, items)
        rows = np.diff(restricted.indptr) > 0
        if rows.any():
            acc = accuracy_per_user(recs[rows], restricted[rows], k)
            out[seg] = {
                "n": int(rows.sum()),
                "definition": f"held-out items in the {'top' if 'head' in seg else 'bottom'} "
                f"{round(100 * (cfg.head_share if 'head' in seg else 1 - cfg.head_share))}% "
                "by popularity",
                "metrics": _means(acc, cfg),
            }
    return out


def _means(acc: dict[str, np.ndarray], cfg: EvalConfig) -> dict[str, dict[str, Any]]:
    return {
        label: {
            "mean": float(v.mean()),
            "ci95": list(M.bootstrap_ci(v, n_boot=max(200, cfg.n_boot // 5), seed=cfg.seed)),
        }
        for label, v in acc.items()
        if label.split("@")[0] in ("NDCG", "HR", "Recall")
    }


def evaluate_model(
    name: str,
    data: EvalData,
    ctx: ListContext,
    cfg: EvalConfig,
    *,
    params: dict[str, Any] | None = None,
    model: Recommender | None = None,
) -> ModelResult:
    """Tune (unless ``params`` or a ``model`` object are given), refit on train + validation,
    rank for test users. A ``model`` is used with its own settings, on a fresh copy."""
    trials: list[dict[str, Any]] = []
    if model is not None:
        model = clone(model)
    else:
        if params is None:
            params, trials = tune(name, data, cfg)
        model = create_model(name, **_budgeted(name, params, cfg))
    tracemalloc.start()
    start = time.perf_counter()
    with PeakMemory() as memory:
        model.fit(data.train_valid)
    fit_seconds = time.perf_counter() - start
    _, fit_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    start = time.perf_counter()
    recs, scores = model.recommend(data.test_users, cfg.k, at=data.test_at)
    rec_seconds = time.perf_counter() - start
    metrics, per_user = summarise(
        recs, data.test_truth, ctx, cfg.k, n_boot=cfg.n_boot, seed=cfg.seed
    )
    entry = {
        "metrics": metrics,
        "segments": _segments(recs, data, ctx, cfg),
        "fit_seconds": round(fit_seconds, 3),
        "fit_peak_python_mb": round(fit_peak / 2**20, 1),
        "fit_peak_rss_mb": round(memory.extra_mb, 1),
        "recommend_seconds": round(rec_seconds, 3),
        "users_per_second": round(len(data.test_users) / max(rec_seconds, 1e-9), 1),
        "config": {
            "class": type(model).__name__,
            "model": model.name,
            "params": model.get_params(),
            "selected_on": f"valid NDCG@{cfg.k}",
            "search": cfg.search if trials else None,
            "tuning": trials,
        },
    }
    if isinstance(model, DifferentiallyPrivate):
        entry["privacy"] = model.privacy
    summary = getattr(model, "fit_summary", None)
    if callable(summary):
        entry["fitted"] = summary()
    return ModelResult(name, model, recs, scores, per_user, entry)


def evaluate(
    split: Split,
    models: Sequence[str | Recommender],
    cfg: EvalConfig | None = None,
    *,
    out: str | Path | None = None,
    params: dict[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Evaluate ``models`` on ``split``: registered names (tuned on validation unless
    ``params`` fix their settings) or model objects (used with their own settings); with
    ``out``, write report.json, report.html and recs/<model>.parquet there. Returns the
    report."""
    cfg = cfg or EvalConfig()
    chosen = _by_name(models)  # unknown names fail before any work
    cold_ids: list[str] = []
    if cfg.cold_items > 0:
        split, cold_ids = hold_out_items(split, cfg.cold_items, seed=cfg.seed)
    data = prepare(split)
    cats = data.train_valid.item_categories()
    ctx = ListContext(
        item_counts=data.train_valid.item_counts,
        n_train_users=int((np.diff(data.train_valid.matrix.indptr) > 0).sum()),
        categories=M.category_matrix(cats) if any(cats) else None,
    )
    results: dict[str, ModelResult] = {}
    for name, given in track(chosen.items(), "models", enabled=cfg.progress):
        fixed = (params or {}).get(name)
        if name == "hybrid" and given is None:
            fixed = _hybrid_params(fixed, results)
        results[name] = evaluate_model(name, data, ctx, cfg, params=fixed, model=given)
    report: dict[str, Any] = {
        "format": "lmrec-report",
        "lmrec_version": __version__,
        "k": cfg.k,
        "config": asdict(cfg),
        "split": {key: v for key, v in split.meta.items() if key != "format"},
        "counts": {
            "users": data.train.n_users,
            "items": data.train.n_items,
            "train": len(data.train),
            "train_valid": len(data.train_valid),
            "test_users": len(data.test_users),
        },
        "models": {name: r.entry for name, r in results.items()},
        "comparisons": compare_to_best(results, cfg.k, cfg.seed),
    }
    if cold_ids:
        report["cold_start"] = cold_start(results, data, cold_ids, cfg)
    if cfg.rerank_sweep:
        report["rerank_sweep"] = _sweep(results, data, ctx, cfg)
    if cfg.context:
        from lmrec.evaluation.context import context_effect

        fitted = {n: (r.model, r.model.get_params()) for n, r in results.items()}
        report["context"] = context_effect(fitted, data, split, cfg.k, seed=cfg.seed)
    if out is not None:
        write_outputs(Path(out), report, results, data)
    return report


def _hybrid_params(
    given: dict[str, Any] | None, results: dict[str, ModelResult]
) -> dict[str, Any] | None:
    """The hybrid's settings, its components taking the settings chosen for them earlier in
    this run (unless ``component_params`` is given): a hybrid of tuned models, not of their
    defaults."""
    from lmrec.models.hybrid import HybridRanker

    p = dict(given or {})
    components = p.get("components") or HybridRanker().components
    if "component_params" not in p:
        chosen = {c: results[c].entry["config"]["params"] for c in components if c in results}
        if chosen:
            p["component_params"] = chosen
    return p or given


def _budgeted(name: str, params: dict[str, Any] | None, cfg: EvalConfig) -> dict[str, Any]:
    """``params`` with ``cfg.time_budget_s`` where model ``name`` takes a budget and they
    set none."""
    return with_time_budget([name], {name: dict(params or {})}, cfg.time_budget_s)[name]


def clone(model: Recommender) -> Recommender:
    """An unfitted model of the same class with the same settings."""
    return type(model)(**model.get_params())


def _by_name(models: Sequence[str | Recommender]) -> dict[str, Recommender | None]:
    """Each model by the name its report entry gets (objects: their registered name, else
    their class name; repeats get ``-2``, ``-3``); names map to None."""
    out: dict[str, Recommender | None] = {}
    for m in models:
        if isinstance(m, str):
            get_model_class(m)
            name, obj = m, None
        elif isinstance(m, Recommender):
            name, obj = m.name or type(m).__name__.lower(), m
        else:
            raise UsageError(f"a model is a name or a Recommender, not {type(m).__name__}")
        key, n = name, 1
        while key in out:
            n += 1
            key = f"{name}-{n}"
        out[key] = obj
    return out


def _sweep(
    results: dict[str, ModelResult], data: EvalData, ctx: ListContext, cfg: EvalConfig
) -> dict[str, list[dict[str, Any]]]:
    from lmrec.evaluation.sweep import item_features, rerank_sweep
    from lmrec.rerank import RerankConfig

    emb = None
    if cfg.rerank_text_encoder and "text" in data.train_valid.items.columns:
        from lmrec.text import encode_items

        texts = data.train_valid.items["text"].fill_null("").to_list()
        emb = encode_items(texts, cfg.rerank_text_encoder, progress=cfg.progress)
    features = item_features(data.train_valid, emb)
    base = RerankConfig(calibration=cfg.rerank_calibration)
    return {
        name: rerank_sweep(
            r.model,
            data,
            ctx,
            features,
            cfg.k,
            base=base,
            n_boot=max(200, cfg.n_boot // 5),
            seed=cfg.seed,
        )
        for name, r in track(results.items(), "re-rank sweep", enabled=cfg.progress)
    }


def compare_to_best(results: dict[str, ModelResult], k: int, seed: int = 0) -> list[dict[str, Any]]:
    """Paired bootstrap test of NDCG@k: the best model against each other one."""
    label = f"NDCG@{k}"
    if len(results) < 2:
        return []
    best = max(results, key=lambda n: results[n].entry["metrics"][label]["mean"])
    out = []
    for name, r in results.items():
        if name == best:
            continue
        test = M.paired_test(results[best].per_user[label], r.per_user[label], seed=seed)
        out.append({"a": best, "b": name, "metric": label, **test})
    return out
