"""Experiments and their variants, and which variant a user gets: a salted hash of the user
id, so the same user gets the same variant for the experiment's whole life, in every worker
process, without storing anything per user."""

from __future__ import annotations

import hashlib
import json
import math
import secrets
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from lmrec.errors import UsageError

__all__ = ["KINDS", "Experiment", "Variant"]

#: ``ab``: each user sees one variant; ``interleaving``: each list merges two variants' lists
KINDS = ("ab", "interleaving")


@dataclass(frozen=True)
class Variant:
    """One arm: a model version, optionally with re-ranking settings, and its share of users
    (an interleaving's variants have no share: every user sees both)."""

    name: str
    version: str
    rerank: dict[str, Any] | None = None
    share: float = 0.5


@dataclass(frozen=True)
class Experiment:
    name: str
    variants: tuple[Variant, ...]
    kind: Literal["ab", "interleaving"] = "ab"
    salt: str = field(default_factory=lambda: secrets.token_hex(8))
    started_at: float = field(default_factory=time.time)
    stopped_at: float | None = None

    def __post_init__(self) -> None:
        names = [v.name for v in self.variants]
        if len(set(names)) != len(names):
            raise UsageError(f"experiment '{self.name}': variant names repeat: {names}")
        if self.kind not in KINDS:
            raise UsageError(f"experiment kind must be one of {KINDS}, not '{self.kind}'")
        if self.kind == "interleaving" and len(self.variants) != 2:
            raise UsageError(f"interleaving '{self.name}' needs exactly 2 variants")
        if self.kind == "ab":
            if len(self.variants) < 2:
                raise UsageError(f"experiment '{self.name}' needs at least 2 variants")
            shares = [v.share for v in self.variants]
            if any(not (0 < s <= 1) for s in shares) or not math.isclose(
                sum(shares), 1.0, abs_tol=1e-6
            ):
                raise UsageError(
                    f"experiment '{self.name}': variant shares must be in (0, 1] and sum to 1, "
                    f"not {shares}"
                )

    @property
    def running(self) -> bool:
        return self.stopped_at is None

    def position(self, user_id: str) -> float:
        """The user's point in [0, 1) for this experiment (uniform over users)."""
        digest = hashlib.sha256(f"{self.salt}\x00{self.name}\x00{user_id}".encode()).digest()
        return int.from_bytes(digest[:8], "big") / 2.0**64

    def assign(self, user_id: str) -> Variant:
        """The user's variant of an A/B experiment: sticky, with each variant's share of users."""
        point = self.position(user_id)
        edge = 0.0
        for v in self.variants:
            edge += v.share
            if point < edge:
                return v
        return self.variants[-1]

    def versions(self) -> set[str]:
        return {v.version for v in self.variants}

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> Experiment:
        d = json.loads(text)
        d["variants"] = tuple(Variant(**v) for v in d["variants"])
        return cls(**d)
