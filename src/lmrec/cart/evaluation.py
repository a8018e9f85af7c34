"""``lmrec evaluate --task basket``: hide one item of each held-out basket, rank all items."""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from lmrec import metrics as M
from lmrec._version import __version__
from lmrec.cart.complete import complete_carts
from lmrec.cart.split import BasketSplit, CartCases, split_baskets
from lmrec.cart.substitutes import substitute_matrix
from lmrec.data.dataset import Dataset
from lmrec.errors import UsageError
from lmrec.evaluation.collect import ListContext, accuracy_per_user, summarise
from lmrec.evaluation.outputs import recs_frame
from lmrec.evaluation.runner import ModelResult, compare_to_best, grid_search
from lmrec.models.base import Recommender
from lmrec.models.registry import create_model, get_model_class, search_space
from lmrec.progress import track

__all__ = ["BasketConfig", "evaluate_baskets"]


@dataclass(frozen=True)
class BasketConfig:
    k: int = 10
    seed: int = 0
    tune: bool = True
    n_boot: int = 1000
    test_share: float = 0.2
    valid_share: float = 0.1
    #: leave near-substitutes of cart items out of the lists (as ``recommend --cart`` does)
    substitutes: bool = True
    substitute_threshold: float = 0.9
    text_encoder: str = "all-MiniLM-L6-v2"
    progress: bool = True


def _truth(cases: CartCases, n_items: int) -> sp.csr_matrix:
    n = len(cases)
    return sp.csr_matrix(
        (np.ones(n, dtype=np.float32), (np.arange(n), cases.hidden)), shape=(n, n_items)
    )


def _rank(
    model: Recommender, cases: CartCases, k: int, subs: sp.csr_matrix | None
) -> tuple[np.ndarray, np.ndarray]:
    return complete_carts(model, cases.carts, k, substitutes=subs)


def _tune(
    name: str, split: BasketSplit, cfg: BasketConfig, subs: sp.csr_matrix | None
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    space = search_space(name)
    if not cfg.tune or len(space) == 1 or len(split.valid) == 0:
        return {}, []
    return grid_search(
        name,
        space,
        split.fit,
        lambda model: _rank(model, split.valid, cfg.k, subs)[0],
        _truth(split.valid, split.fit.n_items),
        k=cfg.k,
        progress=cfg.progress,
    )


def _segments(
    recs: np.ndarray, split: BasketSplit, truth: sp.csr_matrix, cfg: BasketConfig
) -> dict[str, dict[str, Any]]:
    sizes = np.array([len(c) for c in split.test.carts])
    counts = split.train.item_counts
    head = np.zeros(len(counts), dtype=bool)
    head[np.argsort(-counts, kind="stable")[: max(1, round(0.2 * len(counts)))]] = True
    groups = {
        "carts:1": (sizes == 1, "carts of one item"),
        "carts:2-3": ((sizes >= 2) & (sizes <= 3), "carts of two or three items"),
        "carts:4+": (sizes >= 4, "carts of four or more items"),
        "items:head": (head[split.test.hidden], "hidden item in the top 20% by popularity"),
        "items:tail": (~head[split.test.hidden], "hidden item in the bottom 80% by popularity"),
    }
    out = {}
    for seg, (mask, definition) in groups.items():
        if not mask.any():
            continue
        acc = accuracy_per_user(recs[mask], truth[mask], cfg.k)
        out[seg] = {
            "n": int(mask.sum()),
            "definition": definition,
            "metrics": {
                label: {
                    "mean": float(v.mean()),
                    "ci95": list(
                        M.bootstrap_ci(v, n_boot=max(200, cfg.n_boot // 5), seed=cfg.seed)
                    ),
                }
                for label, v in acc.items()
                if label.split("@")[0] in ("NDCG", "HR", "Recall")
            },
        }
    return out


def evaluate_baskets(
    data: Dataset,
    model_names: list[str],
    cfg: BasketConfig | None = None,
    *,
    out: str | Path | None = None,
    params: dict[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Tune on validation carts, refit on all training baskets, complete the test carts.

    Each model ranks every item except the cart's own (and, with ``cfg.substitutes``, the cart
    items' near-substitutes). With ``out``: report.json, report.html and recs/<model>.parquet.
    """
    cfg = cfg or BasketConfig()
    for name in model_names:
        if not get_model_class(name).uses_history:
            raise UsageError(
                f"model '{name}' cannot complete a cart (it learns one vector per training "
                "basket); basket models: pop, rules, itemknn, ease, content, sequential"
            )
    split = split_baskets(
        data, test_share=cfg.test_share, valid_share=cfg.valid_share, seed=cfg.seed
    )
    if len(split.test) == 0:
        raise UsageError("no test baskets: raise the test share")
    n_items = split.train.n_items
    subs = None
    if cfg.substitutes:
        from lmrec.text import encode_items

        texts = split.train.items["text"].fill_null("").to_list()
        emb = encode_items(texts, cfg.text_encoder, progress=cfg.progress)
        subs = substitute_matrix(
            emb, split.train.item_categories(), threshold=cfg.substitute_threshold
        )
    truth = _truth(split.test, n_items)
    ctx = ListContext(
        item_counts=split.train.item_counts,
        n_train_users=split.train.n_users,
        categories=None,
    )
    results: dict[str, ModelResult] = {}
    for name in track(model_names, "models", enabled=cfg.progress):
        fixed = (params or {}).get(name)
        chosen, trials = (fixed, []) if fixed is not None else _tune(name, split, cfg, subs)
        model = create_model(name, **chosen)
        start = time.perf_counter()
        model.fit(split.train)
        fit_seconds = time.perf_counter() - start
        start = time.perf_counter()
        recs, scores = _rank(model, split.test, cfg.k, subs)
        seconds = time.perf_counter() - start
        metrics, per_case = summarise(recs, truth, ctx, cfg.k, n_boot=cfg.n_boot, seed=cfg.seed)
        entry = {
            "metrics": metrics,
            "segments": _segments(recs, split, truth, cfg),
            "fit_seconds": round(fit_seconds, 3),
            "recommend_seconds": round(seconds, 3),
            "users_per_second": round(len(split.test) / max(seconds, 1e-9), 1),
            "config": {
                "class": type(model).__name__,
                "model": model.name,
                "params": model.get_params(),
                "selected_on": f"valid NDCG@{cfg.k}",
                "tuning": trials,
            },
        }
        results[name] = ModelResult(name, model, recs, scores, per_case, entry)
    report: dict[str, Any] = {
        "format": "lmrec-report",
        "lmrec_version": __version__,
        "task": "basket",
        "k": cfg.k,
        "config": asdict(cfg),
        "split": split.meta,
        "counts": {
            "baskets": split.meta["baskets"],
            "items": n_items,
            "train_baskets": split.train.n_users,
            "test_users": len(split.test),
            "substitute_pairs": int(subs.nnz) if subs is not None else 0,
        },
        "models": {name: r.entry for name, r in results.items()},
        "comparisons": compare_to_best(results, cfg.k, cfg.seed),
    }
    if out is not None:
        _write(Path(out), report, results, split)
    return report


def _write(
    out: Path, report: dict[str, Any], results: dict[str, ModelResult], split: BasketSplit
) -> None:
    from lmrec.evaluation.html import write_html

    out.mkdir(parents=True, exist_ok=True)
    (out / "recs").mkdir(exist_ok=True)
    vocab = split.train.item_vocab
    cases = split.test
    columns = {
        "basket_id": cases.baskets,
        "cart": [",".join(vocab.raws(c)) for c in cases.carts],
        "hidden_item_id": vocab.raws(cases.hidden),
    }
    for name, r in results.items():
        frame = recs_frame(columns, r.recs, r.scores, vocab)
        frame.write_parquet(out / "recs" / f"{name}.parquet")
    (out / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    write_html(
        out / "report.html",
        report,
        results,
        item_counts=split.train.item_counts,
        held_items=cases.hidden,
        protocol=(
            f"Basket completion: {len(cases)} held-out baskets, one item hidden in each, all "
            f"{report['counts']['items']} items ranked given the rest (cart items"
            + (" and their near-substitutes" if report["config"]["substitutes"] else "")
            + " excluded)"
        ),
    )
