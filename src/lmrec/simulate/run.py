"""A simulation from a split: train on its train part, simulate on its held-out ratings."""

from __future__ import annotations

import tempfile
from typing import Any

import numpy as np
import polars as pl
import scipy.sparse as sp

from lmrec.artifacts import Artifacts, save_artifacts
from lmrec.data.interactions import Interactions
from lmrec.data.split import Split
from lmrec.data.vocab import Vocabulary
from lmrec.errors import UsageError
from lmrec.models.registry import create_model
from lmrec.online import ModelVersion, ServingOptions
from lmrec.simulate.session import SimConfig, simulate_sessions

__all__ = ["liked_items", "simulate_split"]


def liked_items(
    held_out: pl.DataFrame, users: Vocabulary, items: Vocabulary, threshold: float
) -> tuple[np.ndarray, sp.csr_matrix]:
    """Users (indices) with at least one held-out item valued >= ``threshold`` (any item when
    the data has no values), and those items as rows of a matrix."""
    frame = held_out
    if "value" in frame.columns and frame["value"].null_count() < frame.height:
        frame = frame.filter(pl.col("value") >= threshold)
    if frame.height == 0:
        raise UsageError(f"no held-out interaction is valued >= {threshold}: nobody would click")
    u = users.indices(frame["user_id"].cast(pl.String)).astype(np.int64)
    i = items.indices(frame["item_id"].cast(pl.String)).astype(np.int64)
    keep = (u >= 0) & (i >= 0)
    u, i = u[keep], i[keep]
    order = np.unique(u)
    rows = np.searchsorted(order, u)
    m = sp.csr_matrix(
        (np.ones(len(u), dtype=np.float32), (rows, i)), shape=(len(order), len(items))
    )
    m.sum_duplicates()
    m.data[:] = 1.0
    return order, m


def simulate_split(
    split: Split,
    model_name: str,
    cfg: SimConfig,
    *,
    params: dict[str, Any] | None = None,
    like_threshold: float = 4.0,
    text_encoder: str | None = None,
) -> dict[str, Any]:
    """Fit ``model_name`` on the train part; simulated users are the validation and test
    parts' ratings >= ``like_threshold`` (users new to training count as new users)."""
    from lmrec.evaluation.protocol import prepare

    data = prepare(split)
    train = Interactions.from_frame(
        split.train, data.user_vocab, data.item_vocab, items=split.items, users=split.users,
        time_is_order=bool(split.meta.get("time_is_order", False)),
    )  # fmt: skip
    held = pl.concat([split.valid, split.test], how="diagonal_relaxed")
    users, liked = liked_items(held, data.user_vocab, data.item_vocab, like_threshold)
    model = create_model(model_name, **(params or {})).fit(train)
    users = np.where(np.diff(train.matrix.indptr)[users] > 0, users, -1)
    options = ServingOptions(text_encoder=text_encoder, ann="off")
    with tempfile.TemporaryDirectory() as tmp:  # served as a trained version is
        save_artifacts(tmp, {model.name: model}, train, source="simulation")
        version = ModelVersion("simulation", Artifacts.open(tmp), model, options)
        result = simulate_sessions(version, users, liked, cfg)
    return {
        "format": "lmrec-simulation",
        "model": model_name,
        "params": model.get_params(),
        "like_threshold": like_threshold,
        "split": {key: v for key, v in split.meta.items() if key != "format"},
        "new_users": int((users < 0).sum()),
        "rerank": None if cfg.rerank is None else cfg.rerank.to_dict(),
        **result,
    }
