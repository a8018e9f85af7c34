"""Ranking ads for one person in one moment: expected value = pCTR x bid, with a minimum pCTR
and a per-user frequency cap; and the artifacts folder a CTR model is served from."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from lmrec._version import __version__
from lmrec.context.features import parse_time
from lmrec.ctr.base import CTRModel, create_ctr_model
from lmrec.ctr.features import FeatureEncoder, dataset_events, join_events
from lmrec.ctr.history import UserState, with_user_history
from lmrec.data.dataset import Dataset
from lmrec.errors import DataError, UsageError

__all__ = ["AdPolicy", "CTRArtifacts", "fit_ctr", "parse_context", "rank_ads"]


@dataclass(frozen=True)
class AdPolicy:
    """``min_pctr``: ads below it are not shown; ``frequency_cap``: an ad this user has already
    been shown this many times is not shown again (None: no cap)."""

    min_pctr: float = 0.0
    frequency_cap: int | None = None


def parse_context(text: str | None) -> dict[str, str]:
    """``"device=mobile,location=home"`` -> ``{"device": "mobile", "location": "home"}``."""
    out: dict[str, str] = {}
    for part in (text or "").split(","):
        if not part.strip():
            continue
        key, sep, value = part.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"context must look like key=value,key=value; bad part '{part}'")
        out[key.strip()] = value.strip()
    return out


def _timestamp(context: dict[str, str]) -> int:
    raw = context.pop("time", None)
    if raw is None:
        return int(dt.datetime.now(dt.UTC).timestamp())
    return parse_time(raw)


def rank_ads(
    model: CTRModel,
    encoder: FeatureEncoder,
    *,
    user_id: str,
    users: pl.DataFrame,
    items: pl.DataFrame,
    context: dict[str, str] | None = None,
    candidates: list[str] | None = None,
    impressions: dict[str, int] | None = None,
    k: int = 10,
    policy: AdPolicy | None = None,
    history: UserState | None = None,
) -> pl.DataFrame:
    """The ``k`` ads (rows of ``items``; all of them unless ``candidates``) with the highest
    expected value for ``user_id`` in ``context`` (keys such as device, location; ``time`` as
    Unix seconds or ISO 8601, default now). ``bid`` comes from the catalog's ``bid`` column
    (1.0 where there is none). ``impressions``: how often this user has seen each ad, for the
    frequency cap. ``history``: the users' event and click counts, for models trained with
    them. An unknown user is scored from the context and the ads alone."""
    policy = policy or AdPolicy()
    if k < 1:
        raise UsageError(f"k must be at least 1, not {k}")
    ctx = dict(context or {})
    ts = _timestamp(ctx)
    taken = {"user_id", "item_id", "timestamp"} | set(users.columns) | set(items.columns)
    clash = sorted(set(ctx) & taken)
    if clash:
        raise UsageError(
            f"context key(s) {', '.join(repr(c) for c in clash[:5])} name columns of the "
            "ads' data; use other names"
        )
    pool = items
    if candidates is not None:
        known = set(items["item_id"].to_list())
        unknown = [c for c in candidates if c not in known]
        if unknown:
            raise UsageError(f"unknown ad id(s): {', '.join(repr(u) for u in unknown[:5])}")
        pool = items.filter(pl.col("item_id").is_in(candidates))
    if policy.frequency_cap is not None and impressions:
        capped = [a for a, n in impressions.items() if n >= policy.frequency_cap]
        pool = pool.filter(~pl.col("item_id").is_in(capped))
    if pool.height == 0:
        return pl.DataFrame(
            schema={"item_id": pl.String, "title": pl.String, "pctr": pl.Float64,
                    "bid": pl.Float64, "expected_value": pl.Float64}
        )  # fmt: skip
    rows = pl.DataFrame(
        {
            "user_id": [user_id] * pool.height,
            "item_id": pool["item_id"].to_list(),
            "timestamp": [ts] * pool.height,
        }
    ).with_columns(*(pl.lit(v).alias(key) for key, v in ctx.items()))
    frame = join_events(rows, users, items)
    if history is not None:
        frame = frame.hstack(history.features(user_id, frame.height))
    pctr = model.predict_proba(encoder.transform(frame)).astype(np.float64)
    bid = (
        pool["bid"].cast(pl.Float64).fill_null(1.0).to_numpy()
        if "bid" in pool.columns
        else np.ones(pool.height)
    )
    out = pl.DataFrame(
        {
            "item_id": pool["item_id"],
            "title": pool["title"],
            "pctr": pctr,
            "bid": bid,
            "expected_value": pctr * bid,
        }
    ).filter(pl.col("pctr") >= policy.min_pctr)
    return out.sort(["expected_value", "item_id"], descending=[True, False]).head(k)


def labelled_events(
    data: Dataset, label_threshold: float | None = None
) -> tuple[pl.DataFrame, np.ndarray]:
    """The dataset's events in time order with their attributes, and a 0/1 label each."""
    from lmrec.ctr.evaluation import labels

    threshold = label_threshold
    if threshold is None:
        threshold = float(data.meta.get("ctr_label_threshold", 4.0))
    events = dataset_events(data).sort("timestamp", maintain_order=True)
    return events, labels(events, threshold)


def fit_ctr(
    data: Dataset, name: str, params: dict[str, Any] | None = None, *, valid_share: float = 0.1,
    text_encoder: str | None = "all-MiniLM-L6-v2", label_threshold: float | None = None,
    refit: bool = True,
) -> tuple[CTRModel, FeatureEncoder]:  # fmt: skip
    """Fit on all events but the latest ``valid_share``, which early-stops and calibrates
    (``auto``: the calibration that carries over from its earlier to its later half, as
    ``lmrec evaluate --task ctr`` does by default); then, with
    ``refit``, fit again on all events for the epochs or trees chosen, keeping the calibration.
    Each event carries its user's earlier history (:mod:`lmrec.ctr.history`)."""
    events, y = labelled_events(data, label_threshold)
    events = with_user_history(events, y, prior=float(y.mean()))
    cut = round(events.height * (1 - valid_share))
    if min(cut, events.height - cut) < 10:
        raise DataError(f"{events.height} events are too few to fit and calibrate a CTR model")
    enc = FeatureEncoder(text_encoder=text_encoder).fit(events[:cut], data.items)
    x_fit, x_valid = enc.transform(events[:cut]), enc.transform(events[cut:])
    model = create_ctr_model(name, **(params or {}))
    model.fit(x_fit, y[:cut], enc, valid=(x_valid, y[cut:]))
    model.calibrate(x_valid, y[cut:], method="auto")
    if not refit:
        return model, enc
    enc = FeatureEncoder(text_encoder=text_encoder).fit(events, data.items)
    return model.refit(enc.transform(events), y, enc), enc


@dataclass
class CTRArtifacts:
    """``<folder>/ctr/``: models, the feature encoder, users, the ad catalog, impressions and
    each user's event and click counts."""

    models: dict[str, CTRModel]
    encoder: FeatureEncoder
    users: pl.DataFrame
    items: pl.DataFrame
    impressions: pl.DataFrame  # user_id, item_id, count
    history: UserState | None = None

    @staticmethod
    def save(
        folder: str | Path,
        models: dict[str, CTRModel],
        encoder: FeatureEncoder,
        data: Dataset,
        label_threshold: float | None = None,
    ) -> Path:
        out = Path(folder) / "ctr"
        out.mkdir(parents=True, exist_ok=True)
        for name, model in models.items():
            model.save(out / "models" / name)
        encoder.save(out / "features")
        data.users.write_parquet(out / "users.parquet")
        data.items.write_parquet(out / "items.parquet")
        data.interactions.group_by("user_id", "item_id").len("count").write_parquet(
            out / "impressions.parquet"
        )
        events, y = labelled_events(data, label_threshold)
        history = UserState.from_events(events, y, prior=float(y.mean()))
        history.table.write_parquet(out / "user_history.parquet")
        manifest = {
            "format": "lmrec-ctr-artifacts",
            "lmrec_version": __version__,
            "models": list(models),
            "history_prior": history.prior,
        }
        (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
        return out

    @classmethod
    def open(cls, folder: str | Path) -> CTRArtifacts:
        src = Path(folder) / "ctr"
        if not (src / "manifest.json").is_file():
            raise UsageError(
                f"{folder}: no CTR model here; train one with 'lmrec train DATASET --task ctr'"
            )
        manifest = json.loads((src / "manifest.json").read_text())
        history = None  # artifacts saved before user history was a feature have no such file
        if (src / "user_history.parquet").is_file():
            history = UserState(
                pl.read_parquet(src / "user_history.parquet"), float(manifest["history_prior"])
            )
        return cls(
            {n: CTRModel.load(src / "models" / n) for n in manifest["models"]},
            FeatureEncoder.load(src / "features"),
            pl.read_parquet(src / "users.parquet"),
            pl.read_parquet(src / "items.parquet"),
            pl.read_parquet(src / "impressions.parquet"),
            history,
        )

    def model(self, name: str | None = None) -> CTRModel:
        if name is None:
            return next(iter(self.models.values()))
        if name not in self.models:
            raise UsageError(f"no CTR model '{name}' here; have {', '.join(self.models)}")
        return self.models[name]

    def impressions_of(self, user_id: str) -> dict[str, int]:
        rows = self.impressions.filter(pl.col("user_id") == user_id)
        return dict(zip(rows["item_id"].to_list(), rows["count"].to_list(), strict=True))
