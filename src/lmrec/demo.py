"""The main job: data -> split -> train and evaluate every model -> report."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from lmrec.data import Dataset, fetch, read_movielens_100k, split_loo, synthetic_dataset
from lmrec.errors import LmrecError
from lmrec.evaluation import EvalConfig, evaluate

__all__ = ["load_demo_data", "run_demo"]

log = logging.getLogger(__name__)


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
    names = models or ["pop", "itemknn", "ease", "als", "bpr"]
    report = evaluate(split, names, EvalConfig(k=10), out=out / "report")
    return report, source
