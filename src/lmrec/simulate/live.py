"""Simulated users against a running service over HTTP (``lmrec simulate --url``): each asks
for lists, clicks the shown items it liked in the held-out part of a split (as the offline
simulator's users do), and posts those clicks as events tied to the list. An experiment on the
server sees them as it would see people, so it can be rehearsed end to end."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from lmrec.errors import LmrecError, UsageError
from lmrec.experiments import ratio
from lmrec.progress import track

__all__ = ["LiveConfig", "liked_by_user", "simulate_live"]


@dataclass(frozen=True)
class LiveConfig:
    rounds: int = 3
    k: int = 10
    #: the chance that a user clicks a shown item they liked
    click_prob: float = 1.0
    concurrency: int = 8
    seed: int = 0
    timeout_s: float = 30.0
    progress: bool = False


def liked_by_user(held_out: pl.DataFrame, threshold: float) -> dict[str, set[str]]:
    """Raw user id -> the held-out items they valued >= ``threshold`` (any when no values)."""
    frame = held_out
    if "value" in frame.columns and frame["value"].null_count() < frame.height:
        frame = frame.filter(pl.col("value") >= threshold)
    if frame.height == 0:
        raise UsageError(f"no held-out interaction is valued >= {threshold}: nobody would click")
    out: dict[str, set[str]] = {}
    for user, item in zip(frame["user_id"].cast(pl.String), frame["item_id"].cast(pl.String),
                          strict=True):  # fmt: skip
        out.setdefault(user, set()).add(item)
    return out


@dataclass
class _Tally:
    lock: threading.Lock = field(default_factory=threading.Lock)
    by_variant: dict[str, dict[str, list[int]]] = field(default_factory=dict)

    def add(self, variant: str, user: str, shown: int, clicks: int) -> None:
        with self.lock:
            row = self.by_variant.setdefault(variant, {}).setdefault(user, [0, 0, 0])
            row[0] += 1
            row[1] += shown
            row[2] += clicks


def simulate_live(
    url: str, key: str | None, liked: dict[str, set[str]], cfg: LiveConfig
) -> dict[str, Any]:
    """Play a session of ``cfg.rounds`` lists for each user of ``liked`` against the service
    at ``url``; what each variant's users saw and clicked, as the client measured it."""
    import httpx

    headers = {"X-API-Key": key} if key else {}
    tally = _Tally()
    users = sorted(liked)
    seeds = np.random.default_rng(cfg.seed).integers(0, 2**63, size=len(users))
    with httpx.Client(base_url=url.rstrip("/"), headers=headers, timeout=cfg.timeout_s,
                      limits=httpx.Limits(max_connections=cfg.concurrency)) as client:  # fmt: skip
        _check(client, url)

        def session(j: int) -> None:
            _session(client, users[j], liked[users[j]], cfg, np.random.default_rng(seeds[j]),
                     tally)  # fmt: skip

        with ThreadPoolExecutor(cfg.concurrency) as pool:
            done = pool.map(session, range(len(users)))
            for _ in track(done, "users", total=len(users), enabled=cfg.progress):
                pass
    variants = {}
    for name, rows in sorted(tally.by_variant.items()):
        per_user = np.array(list(rows.values()), dtype=np.float64)
        variants[name] = {
            "users": len(rows), "lists": int(per_user[:, 0].sum()),
            "impressions": int(per_user[:, 1].sum()), "clicks": int(per_user[:, 2].sum()),
            "ctr": ratio(per_user[:, 2], per_user[:, 1]).to_dict(),
        }  # fmt: skip
    return {"format": "lmrec-live-simulation", "url": url, "users": len(users),
            "rounds": cfg.rounds, "k": cfg.k, "click_prob": cfg.click_prob,
            "variants": variants}  # fmt: skip


def _check(client: Any, url: str) -> None:
    import httpx

    try:
        client.get("/readyz")
    except httpx.TransportError as exc:
        raise UsageError(f"cannot reach the service at {url}: {exc}") from None


def _call(client: Any, path: str, body: dict[str, Any]) -> dict[str, Any]:
    import httpx

    try:
        r = client.post(path, json=body)
    except httpx.TransportError as exc:
        raise LmrecError(f"POST {path} failed: {exc}") from None
    if r.status_code >= 400:
        try:
            detail = r.json().get("detail", r.text)
        except ValueError:
            detail = r.text
        raise LmrecError(f"POST {path} answered {r.status_code}: {str(detail)[:300]}")
    out: dict[str, Any] = r.json()
    return out


def _session(
    client: Any, user: str, liked: set[str], cfg: LiveConfig, rng: np.random.Generator,
    tally: _Tally,
) -> None:  # fmt: skip
    shown: list[str] = []
    for _ in range(cfg.rounds):
        body = {"user_id": user, "k": cfg.k, "explain": False, "exclude": shown[-1000:]}
        rec = _call(client, "/v1/recommendations", body)
        items = [i["item_id"] for i in rec["items"]]
        shown.extend(items)
        clicks = [i for i in items if i in liked and rng.random() < cfg.click_prob]
        if clicks:
            rec_id = rec["recommendation_id"]
            events = [{"user_id": user, "item_id": i, "type": "click",
                       "recommendation_id": rec_id, "event_id": f"sim-{rec_id}-{n}"}
                      for n, i in enumerate(clicks)]  # fmt: skip
            _call(client, "/v1/events", {"events": events})
        tally.add(rec.get("variant") or "(none)", user, len(items), len(clicks))
