"""The main job: data -> split -> train and evaluate every model -> report -> the best model
saved for ``lmrec serve``."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from lmrec.artifacts import save_artifacts
from lmrec.data import Dataset, Split, fetch, read_movielens_100k, split_loo, synthetic_dataset
from lmrec.errors import LmrecError
from lmrec.evaluation import EvalConfig, evaluate, prepare
from lmrec.evaluation.outputs import write_version_evaluation
from lmrec.models.registry import create_model

__all__ = ["load_demo_data", "run_demo", "serve_best"]

log = logging.getLogger(__name__)

DEMO_MODELS = ["pop", "itemknn", "ease", "als", "bpr", "content", "sequential", "hybrid"]
#: Kept small so that the whole demo stays near six minutes on two cores; the full-size runs
#: are in benchmarks/. A minute stops the sequential model's training long before early stopping
#: would, so it goes to one longer fit rather than half to a refit on every action.
DEMO_PARAMS: dict[str, dict[str, Any]] = {
    "sequential": {"time_budget_s": 60.0, "refit": False},
    "hybrid": {"components": ["sequential", "ease", "als", "itemknn", "content"]},
}


def load_demo_data(ml100k: Path, work: Path, *, download: bool = True) -> tuple[Dataset, str]:
    """MovieLens 100K from ``ml100k`` if present, else downloaded, else a synthetic dataset."""
    if (ml100k / "u.data").is_file():
        return read_movielens_100k(ml100k), f"MovieLens 100K from {ml100k}"
    if download:
        try:
            folder = fetch("movielens-100k", work / "downloads", timeout=20)
            return read_movielens_100k(folder), f"MovieLens 100K downloaded to {folder}"
        except LmrecError as exc:
            log.warning("download failed, using synthetic data: %s", exc)
    return synthetic_dataset(), "synthetic dataset (no MovieLens copy found or downloadable)"


def run_demo(
    ml100k: Path, out: Path, *, download: bool = True, models: list[str] | None = None
) -> tuple[dict[str, Any], str]:
    data, source = load_demo_data(ml100k, out, download=download)
    data.save(out / "dataset")
    split = split_loo(data)
    split.save(out / "split")
    names = models or DEMO_MODELS
    params = {n: p for n, p in DEMO_PARAMS.items() if n in names}
    report = evaluate(split, names, EvalConfig(k=10), out=out / "report", params=params)
    serve_best(report, split, out / "artifacts")
    return report, source


def serve_best(report: dict[str, Any], split: Split, out: Path) -> str:
    """Refit the report's best model (by NDCG@10) with its chosen settings on train +
    validation and save it, with its test numbers, as artifacts for ``lmrec serve``."""
    k = report["k"]
    best = max(report["models"], key=lambda n: report["models"][n]["metrics"][f"NDCG@{k}"]["mean"])
    data = prepare(split)
    model = create_model(best, **report["models"][best]["config"]["params"]).fit(data.train_valid)
    save_artifacts(out, {best: model}, data.train_valid, source="lmrec demo")
    write_version_evaluation(out, {best: model}, data.test, "lmrec demo (leave-one-out)")
    return best
