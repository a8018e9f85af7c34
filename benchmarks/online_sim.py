"""What the online benchmarks share: MovieLens 100K split in time, `pop` and `sequential`
trained on the earlier part (saved once under benchmarks/out/online/ and reused), and
simulated users who click held-out items they rated >= 4. Scripts import it by name.

The click model: a user clicks a shown item they liked with probability 0.8 and any other
with probability 0.01, wherever it is in the list (no position bias).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

HERE = Path(__file__).resolve().parent
OUT = HERE / "out" / "online"
P_LIKED, P_OTHER = 0.8, 0.01


@dataclass
class Population:
    """Simulated users: their index in training (-1: new), and per user the click probability
    of every item."""

    users: np.ndarray
    liked: list[set[int]]
    n_items: int

    def click_prob(self, u: int, items: np.ndarray) -> np.ndarray:
        mine = self.liked[u]
        return np.array([P_LIKED if int(i) in mine else P_OTHER for i in items])


def versions(
    ml100k: Path, names: tuple[str, ...] = ("pop", "sequential")
) -> tuple[dict, Population]:  # type: ignore[type-arg]
    """The trained versions by model name, and the simulated population."""
    import torch

    from lmrec.artifacts import Artifacts, save_artifacts
    from lmrec.data import read_movielens_100k, split_dataset
    from lmrec.evaluation import prepare
    from lmrec.models.registry import create_model
    from lmrec.online import ModelVersion, ServingOptions

    torch.set_num_threads(1)
    split = split_dataset(read_movielens_100k(ml100k), "temporal")
    data = prepare(split)
    out = {}
    for name in names:
        path = OUT / name
        if not (path / "manifest.json").is_file():
            print(f"training {name} on the temporal split ...", flush=True)
            model = create_model(name).fit(data.train)
            save_artifacts(path, {model.name: model}, data.train)
        art = Artifacts.open(path)
        out[name] = ModelVersion(name, art, art.model(None), ServingOptions(text_encoder=None,
                                                                          ann="off"))  # fmt: skip
    held = pl.concat([split.valid, split.test], how="diagonal_relaxed").filter(pl.col("value") >= 4)
    vocab_u = out[names[0]].artifacts.user_vocab
    vocab_i = out[names[0]].artifacts.item_vocab
    liked: dict[str, set[int]] = {}
    for user, item in zip(held["user_id"].cast(pl.String), held["item_id"].cast(pl.String),
                          strict=True):  # fmt: skip
        j = vocab_i.index(item) if item in vocab_i else -1
        if j >= 0:
            liked.setdefault(user, set()).add(j)
    users = sorted(liked)
    idx = np.array([vocab_u.index(u) if u in vocab_u else -1 for u in users])
    return out, Population(idx, [liked[u] for u in users], len(vocab_i))


def top_lists(v, pop: Population, k: int) -> np.ndarray:  # type: ignore[no-untyped-def]
    """Each simulated user's top-``k`` item indices from version ``v`` (the online path)."""
    from lmrec.online import Request, UserState, recommend

    vocab = v.artifacts.item_vocab
    request = Request(None, k, explain=False)
    rows = []
    for u in pop.users:
        items = recommend(v, request, UserState(int(u)))["items"]
        rows.append(vocab.indices([i["item_id"] for i in items]))
    return np.array(rows, dtype=np.int64)
