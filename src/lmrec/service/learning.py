"""The learning loop: what the service stored becomes training data, and a challenger trained
on it replaces the active version only when it is not worse on the newest actions.

:func:`export_dataset` turns the store's events and catalog changes into a :class:`Dataset`,
after the data the active version was trained on (its ``history.parquet``) or a given one;
users who turned personalisation off are left out entirely, and the earlier data of users
whose data was deleted is left out (what they did since is kept, as the service keeps it).
The store knows people only by pseudonym: a pseudonym of a user the earlier data names gets
that user's id back; the others stay pseudonyms.

:func:`retrain` holds out the newest actions, fits the active version's models (same
settings) on the rest, scores both versions on the held-out actions the same way (a model
that reads histories gets each user's actions up to the cut, as the service gives it; only
actions newer than everything the active version was trained on are held out), and
then refits the challenger on everything into a new version folder, which is activated only
when its NDCG is not lower; a challenger that is kept back never becomes the active version
by being the newest folder (the champion is recorded as active). The decision is written beside it (``retrain.json``) and in the
store's audit log.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import scipy.sparse as sp

from lmrec.artifacts import Artifacts, save_artifacts
from lmrec.data import Dataset, split_temporal
from lmrec.data.interactions import Interactions
from lmrec.errors import UsageError
from lmrec.metrics.ranking import hits_matrix, ndcg
from lmrec.models.base import Recommender
from lmrec.models.registry import create_model
from lmrec.online import discover_versions
from lmrec.service.store import Store

__all__ = ["VERSION_NAME", "RetrainResult", "dataset_from_artifacts", "export_dataset", "retrain"]

#: a new version's name: one folder under the versions' root
VERSION_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


def dataset_from_artifacts(art: Artifacts) -> Dataset:
    """The interactions a version was trained on (from its ``history.parquet``), raw ids."""
    path = art.root / "history.parquet"
    if not path.is_file():
        raise UsageError(f"{art.root}: no history.parquet; give the training data with --base")
    history = pl.read_parquet(path)
    users = np.asarray(art.user_vocab.ids, dtype=object)
    items = np.asarray(art.item_vocab.ids, dtype=object)
    frame = pl.DataFrame(
        {
            "user_id": users[history["user"].to_numpy()].tolist(),
            "item_id": items[history["item"].to_numpy()].tolist(),
            "timestamp": history["timestamp"].cast(pl.Int64),
            "value": history["value"] if "value" in history.columns else None,
        },
        schema_overrides={"value": pl.Float64},
    ).sort("timestamp", maintain_order=True)
    return Dataset.build(frame, art.items, meta={"source": f"artifacts {art.root}"})


def export_dataset(store: Store, base: Dataset | None = None) -> tuple[Dataset, dict[str, int]]:
    """``base`` (if any) followed by the store's events, with the store's catalog changes;
    and counts of what was kept and left out."""
    opted, forgotten = store.opted_out(), store.forgotten()
    back: dict[str, str] = {}
    base_rows = pl.DataFrame(schema={"user_id": pl.String})
    if base is not None:
        users = base.interactions["user_id"].unique(maintain_order=True).to_list()
        back = {store.vault.pseudonym(u): u for u in users}
        dropped = [u for p, u in back.items() if p in opted or p in forgotten]
        base_rows = base.interactions.filter(
            ~pl.col("user_id").is_in(pl.Series(dropped, dtype=pl.String).implode())
        )
    rows: list[dict[str, Any]] = []
    left_out = 0
    for pseudonym, event in store.all_events():
        if pseudonym in opted:
            left_out += 1
            continue
        rows.append({
            "user_id": back.get(pseudonym, pseudonym), "item_id": event.item_id,
            "timestamp": int(event.timestamp), "event": event.type, "value": event.value,
            **(event.context or {}),
        })  # fmt: skip
    fresh = pl.DataFrame(rows, infer_schema_length=None) if rows else pl.DataFrame()
    parts = [f for f in (base_rows, fresh) if f.height]
    if not parts:
        raise UsageError("nothing to export: the store holds no events and no base data was given")
    inter = pl.concat(parts, how="diagonal_relaxed").sort("timestamp", maintain_order=True)
    items = base.items if base is not None else None
    added = store.items()
    if added:
        extra = pl.DataFrame([
            {"item_id": i, "title": body.get("title") or i, "text": body.get("text") or
             body.get("title") or i, "categories": list(body.get("categories") or [])}
            for i, body in added.items()
        ], schema={"item_id": pl.String, "title": pl.String, "text": pl.String,
                   "categories": pl.List(pl.String)})  # fmt: skip
        if items is not None:
            items = pl.concat(
                [items.filter(~pl.col("item_id").is_in(extra["item_id"].implode())), extra],
                how="diagonal_relaxed",
            )
        else:
            items = extra
    counts = {
        "base_interactions": base_rows.height,
        "base_users_left_out": len([p for p in back if p in opted or p in forgotten]),
        "store_events": len(rows),
        "store_events_left_out": left_out,
        "catalog_changes": len(added),
    }
    data = Dataset.build(inter, items, base.users if base is not None else None,
                         meta={"source": f"store {store.where}", "exported": counts})  # fmt: skip
    return data, counts


@dataclass(frozen=True)
class RetrainResult:
    version: str
    path: Path
    champion: str
    champion_ndcg: float
    challenger_ndcg: float
    activated: bool
    test_users: int

    def to_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "path": str(self.path)}


def retrain(
    root: str | Path,
    store: Store,
    *,
    base: Dataset | None = None,
    models: list[str] | None = None,
    holdout: float = 0.1,
    k: int = 10,
    version: str | None = None,
) -> RetrainResult:
    """One turn of the loop over the versions under ``root`` (see the module docstring)."""
    root = Path(root)
    if (root / "manifest.json").is_file():
        raise UsageError(
            f"{root} is one version; retrain writes a new one beside it: keep versions in "
            f"a folder (e.g. {root.parent / 'versions' / root.name}) and serve that folder"
        )
    if not 0 < holdout < 1:
        raise UsageError(f"--holdout must be between 0 and 1, not {holdout}")
    if k < 1:
        raise UsageError(f"--k must be at least 1, not {k}")
    if version is not None and not VERSION_NAME.fullmatch(version):
        raise UsageError(
            f"--version {version!r} is not a folder name: letters, digits, '.', '_' and '-', "
            "starting with a letter or digit, at most 128 characters"
        )
    versions = discover_versions(root)
    wanted = store.get_setting("active_version")
    active = wanted if wanted in versions else sorted(versions)[-1]
    champ_art = Artifacts.open(versions[active])
    names = models or list(champ_art.manifest["models"])
    trained_on = dataset_from_artifacts(champ_art)
    data, _ = export_dataset(store, base if base is not None else trained_on)
    split = split_temporal(data, valid_frac=0.0, test_frac=holdout)
    # only actions newer than all the active version learned from can judge it
    last = trained_on.interactions["timestamp"].max()
    test = split.test.filter(pl.col("timestamp") > last)
    rest = pl.concat([split.train, split.test.filter(pl.col("timestamp") <= last)])
    if test.height == 0 or rest.height == 0:
        raise UsageError(
            f"no actions newer than what {active} was trained on among the newest "
            f"{holdout:.0%}; collect more events (or raise --holdout) first"
        )
    train = Interactions.from_dataset(Dataset(rest, data.items, data.users, data.meta))
    champion = champ_art.model(names[0] if names[0] in champ_art.manifest["models"] else None)
    settings = {n: _settings(champ_art, n) for n in names}
    challenger = create_model(names[0], **settings[names[0]]).fit(train)
    truth = _held_out(test, rest)
    if not truth:
        raise UsageError("the newest actions repeat earlier ones only; nothing new to judge on")
    champ_score = _ndcg(champion, champ_art.user_vocab, champ_art.item_vocab, truth, rest, k)
    chall_score = _ndcg(challenger, train.user_vocab, train.item_vocab, truth, rest, k)
    full = Interactions.from_dataset(data)
    fitted = {n: create_model(n, **settings[n]).fit(full) for n in names}
    name = version or time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    if name in versions:
        raise UsageError(f"{root / name} exists already; give another --version")
    path = save_artifacts(root / name, fitted, full, source=f"retrain from {store.where}")
    activated = chall_score >= champ_score
    result = RetrainResult(name, path, active, champ_score, chall_score, activated,
                           len(truth))  # fmt: skip
    (path / "retrain.json").write_text(json.dumps({**result.to_dict(), "k": k,
                                                   "holdout": holdout}, indent=2) + "\n")  # fmt: skip
    detail = (f"NDCG@{k} on the newest {holdout:.0%} of actions: {chall_score:.4f} for the "
              f"challenger, {champ_score:.4f} for {active}")  # fmt: skip
    if activated:
        store.set_setting("previous_version", active)
        store.set_setting("active_version", name)
    elif wanted != active:
        # the champion was active only as the newest folder; the kept challenger is newer now
        store.set_setting("active_version", active)
    store.audit("lmrec retrain", "activate version" if activated else "keep version", name, detail)
    return result


def _settings(art: Artifacts, name: str) -> dict[str, Any]:
    """A saved model's constructor settings (none for a model the version lacks)."""
    cfg = art.root / name / "config.json"
    return dict(json.loads(cfg.read_text()).get("params") or {}) if cfg.is_file() else {}


def _held_out(test: pl.DataFrame, train: pl.DataFrame) -> dict[str, list[str]]:
    """Each test user's held-out items that they had not had before the cut."""
    before = train.select("user_id", "item_id").unique()
    new = (
        test.select("user_id", "item_id")
        .unique(maintain_order=True)
        .join(before, on=["user_id", "item_id"], how="anti", maintain_order="left")
    )
    grouped = new.group_by("user_id", maintain_order=True).agg(pl.col("item_id"))
    return dict(zip(grouped["user_id"].to_list(), grouped["item_id"].to_list(), strict=True))


def _ndcg(
    model: Recommender,
    users: Any,
    items: Any,
    truth: dict[str, list[str]],
    train: pl.DataFrame,
    k: int,
) -> float:
    """Mean NDCG@k over the users of ``truth``; a model that reads histories is given each
    user's actions before the cut that it was not trained on (as the service gives them)."""
    ids = list(truth)
    idx = np.asarray(users.indices(ids), dtype=np.int64)
    if model.uses_history:
        grouped = train.group_by("user_id", maintain_order=True).agg(pl.col("item_id"))
        before = dict(zip(grouped["user_id"].to_list(), grouped["item_id"].to_list(), strict=True))
        carts = []
        for u, i in zip(ids, idx, strict=True):
            cart = np.asarray(items.indices(before.get(u, [])), dtype=np.int64)
            cart = cart[cart >= 0]
            if i >= 0:  # only what the model has not seen of this user
                cart = cart[~np.isin(cart, model.seen_[int(i)].indices)]
            carts.append(cart)
        scores = model.score_carts(carts, np.where(idx >= 0, idx, -1))
        for row, (cart, i) in enumerate(zip(carts, idx, strict=True)):
            scores[row, cart] = -np.inf
            if i >= 0:
                scores[row, model.seen_[int(i)].indices] = -np.inf
        top = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    else:
        top, _ = model.recommend(idx, k)
    cols = [np.asarray(items.indices(truth[u]), dtype=np.int64) for u in ids]
    rows = np.repeat(np.arange(len(ids)), [int((c >= 0).sum()) for c in cols])
    known = np.concatenate([c[c >= 0] for c in cols]) if cols else np.zeros(0, np.int64)
    matrix = sp.csr_matrix((np.ones(len(rows)), (rows, known)), shape=(len(ids), len(items)))
    n_rel = np.asarray([len(truth[u]) for u in ids])  # items a model does not know are misses
    return float(ndcg(hits_matrix(top, matrix), n_rel, k).mean())
