"""Splitting a Dataset into train / validation / test: leave-one-out, temporal, random."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import polars as pl

from lmrec.data.dataset import Dataset, empty_items, empty_users
from lmrec.errors import DataError, UsageError

__all__ = [
    "PROTOCOLS",
    "Split",
    "check_fracs",
    "split_dataset",
    "split_loo",
    "split_random",
    "split_temporal",
]

Protocol = Literal["loo", "temporal", "random"]
PROTOCOLS: tuple[Protocol, ...] = ("loo", "temporal", "random")


@dataclass(frozen=True)
class Split:
    """Three interaction tables with the dataset's columns, plus its catalog and users."""

    train: pl.DataFrame
    valid: pl.DataFrame
    test: pl.DataFrame
    items: pl.DataFrame = field(default_factory=empty_items)
    users: pl.DataFrame = field(default_factory=empty_users)
    meta: dict[str, Any] = field(default_factory=dict)

    def train_valid(self) -> pl.DataFrame:
        """Train and validation together, in time order (for the final refit)."""
        both = pl.concat([self.train, self.valid], how="vertical_relaxed")
        return both.sort("timestamp", maintain_order=True)

    def save(self, path: str | Path) -> Path:
        out = Path(path)
        out.mkdir(parents=True, exist_ok=True)
        for name in ("train", "valid", "test"):
            getattr(self, name).write_parquet(out / f"{name}.parquet")
        self.items.write_parquet(out / "items.parquet")
        self.users.write_parquet(out / "users.parquet")
        meta = {
            **self.meta,
            "format": "lmrec-split",
            "counts": {n: getattr(self, n).height for n in ("train", "valid", "test")},
        }
        (out / "split.json").write_text(json.dumps(meta, indent=2, default=str) + "\n")
        return out

    @classmethod
    def load(cls, path: str | Path) -> Split:
        src = Path(path)
        if not (src / "split.json").is_file():
            raise UsageError(
                f"{src}: not an lmrec split (no split.json); make one with 'lmrec data split'"
            )
        try:
            meta = json.loads((src / "split.json").read_text())
        except json.JSONDecodeError as exc:
            raise DataError(f"not valid JSON ({exc.msg})", path=src / "split.json") from None
        frames = {}
        for name in ("train", "valid", "test"):
            file = src / f"{name}.parquet"
            if not file.is_file():
                raise DataError(f"missing {name}.parquet", path=src)
            frames[name] = pl.read_parquet(file)
            for col in ("user_id", "item_id", "timestamp"):
                if col not in frames[name].columns:
                    raise DataError(f"no column '{col}'", path=file, column=col)
        items = (
            pl.read_parquet(src / "items.parquet") if (src / "items.parquet").is_file() else None
        )
        users = (
            pl.read_parquet(src / "users.parquet") if (src / "users.parquet").is_file() else None
        )
        return cls(
            frames["train"], frames["valid"], frames["test"],
            items if items is not None else empty_items(),
            users if users is not None else empty_users(),
            meta,
        )  # fmt: skip


def _position_in_user(inter: pl.DataFrame) -> pl.DataFrame:
    """Add ``_pos`` (0-based, time order, ties in file order) and ``_n`` per user."""
    return inter.with_row_index("_row").with_columns(
        (pl.struct("timestamp", "_row").rank("ordinal").over("user_id") - 1)
        .cast(pl.Int64)
        .alias("_pos"),
        pl.len().over("user_id").cast(pl.Int64).alias("_n"),
    )


def split_loo(data: Dataset) -> Split:
    """Leave-one-out by time: each user's last interaction is test, the second last validation.

    Users with two interactions give one to test; users with one keep it in train.
    """
    tagged = _position_in_user(data.interactions)
    is_test = (pl.col("_pos") == pl.col("_n") - 1) & (pl.col("_n") >= 2)
    is_valid = (pl.col("_pos") == pl.col("_n") - 2) & (pl.col("_n") >= 3)
    drop = ["_row", "_pos", "_n"]
    return Split(
        tagged.filter(~is_test & ~is_valid).drop(drop),
        tagged.filter(is_valid).drop(drop),
        tagged.filter(is_test).drop(drop),
        data.items,
        data.users,
        {"protocol": "loo", "source": data.meta.get("source")},
    )


def split_temporal(data: Dataset, *, valid_frac: float = 0.1, test_frac: float = 0.1) -> Split:
    """Global temporal split: the latest ``test_frac`` of interactions are test, the
    ``valid_frac`` before them validation, the rest train."""
    check_fracs(valid_frac, test_frac)
    inter = data.interactions.with_row_index("_row").sort(
        ["timestamp", "_row"], maintain_order=True
    )
    n = inter.height
    n_test = round(n * test_frac)
    n_valid = round(n * valid_frac)
    cut1, cut2 = n - n_test - n_valid, n - n_test
    parts = [inter.slice(0, cut1), inter.slice(cut1, cut2 - cut1), inter.slice(cut2)]
    t, v, s = (p.sort("_row").drop("_row") for p in parts)
    meta = {
        "protocol": "temporal",
        "valid_frac": valid_frac,
        "test_frac": test_frac,
        "source": data.meta.get("source"),
    }
    return Split(t, v, s, data.items, data.users, meta)


def split_random(
    data: Dataset, *, valid_frac: float = 0.1, test_frac: float = 0.1, seed: int = 0
) -> Split:
    """Each interaction goes to test / validation / train at random (seeded)."""
    check_fracs(valid_frac, test_frac)
    draw = np.random.default_rng(seed).random(data.interactions.height)
    inter = data.interactions.with_columns(pl.Series("_r", draw))
    meta = {
        "protocol": "random",
        "seed": seed,
        "valid_frac": valid_frac,
        "test_frac": test_frac,
        "source": data.meta.get("source"),
    }
    return Split(
        inter.filter(pl.col("_r") >= test_frac + valid_frac).drop("_r"),
        inter.filter((pl.col("_r") >= test_frac) & (pl.col("_r") < test_frac + valid_frac)).drop(
            "_r"
        ),
        inter.filter(pl.col("_r") < test_frac).drop("_r"),
        data.items,
        data.users,
        meta,
    )


def split_dataset(
    data: Dataset,
    protocol: str,
    *,
    seed: int = 0,
    valid_frac: float = 0.1,
    test_frac: float = 0.1,
) -> Split:
    if protocol == "loo":
        return split_loo(data)
    if protocol == "temporal":
        return split_temporal(data, valid_frac=valid_frac, test_frac=test_frac)
    if protocol == "random":
        return split_random(data, valid_frac=valid_frac, test_frac=test_frac, seed=seed)
    raise UsageError(f"unknown split protocol '{protocol}'; use one of {', '.join(PROTOCOLS)}")


def check_fracs(valid_frac: float, test_frac: float) -> None:
    if not (0 <= valid_frac < 1 and 0 < test_frac < 1 and valid_frac + test_frac < 1):
        raise UsageError(
            f"fractions must satisfy 0 <= valid < 1, 0 < test < 1, valid + test < 1 "
            f"(got valid={valid_frac}, test={test_frac})"
        )
