"""The store's record of served lists (:class:`Impression`), the feedback tied to them, and
experiments: the part of :class:`~lmrec.service.store.Store` that online measurement reads."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from lmrec.service.vault import Vault

__all__ = ["INSERT_IMPRESSIONS", "Impression", "ServedLists"]

_DAY = 86400.0


@dataclass(frozen=True)
class Impression:
    """One served list: what a user was shown, by which version and variant, and how.
    ``user`` is the raw id when written and the pseudonym when read back."""

    recommendation_id: str
    user: str
    at: float
    version: str
    items: list[str]
    scores: list[float]
    experiment: str | None = None
    variant: str | None = None
    latency_ms: float = 0.0
    #: each item's probability of being in the list (exploration on), for off-policy estimates
    propensities: list[float] | None = None
    #: an interleaving: the variant (0 or 1) whose list each item came from
    teams: list[int] | None = None
    #: exploration on: the ranked pool the list was drawn from
    pool: list[str] | None = None
    rerank: dict[str, Any] | None = None
    context: dict[str, Any] | None = None
    #: read back: the attributed feedback, ``(type, position)`` pairs
    feedback: tuple[tuple[str, int], ...] = ()

    def body(self) -> dict[str, Any]:
        return {
            "items": self.items, "scores": self.scores, "propensities": self.propensities,
            "teams": self.teams, "pool": self.pool, "rerank": self.rerank,
            "context": self.context,
        }  # fmt: skip


class ServedLists:
    """Served lists, their feedback and experiments over a store's SQL (:meth:`_read`,
    :meth:`_write`), sealed with its :attr:`vault`."""

    vault: Vault

    def _read(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    def _write(self, steps: list[Any]) -> list[int]:
        raise NotImplementedError

    # -- served lists and their feedback ----------------------------------------------------------
    def add_impressions(self, served: list[Impression]) -> int:
        """Record served lists (a retried ``recommendation_id`` is stored once)."""
        rows = []
        for imp in served:
            user = self.vault.pseudonym(imp.user)
            body = self.vault.seal(json.dumps(imp.body()).encode(), user)
            rows.append((
                imp.recommendation_id, user, imp.at, int(imp.at // _DAY), imp.version,
                imp.experiment, imp.variant, imp.latency_ms, body,
            ))  # fmt: skip
        return self._write([(INSERT_IMPRESSIONS, rows, True)])[0]

    def impressions(
        self, since: float = 0.0, until: float = float("inf"), *, experiment: str | None = None
    ) -> list[Impression]:
        """The lists served in ``[since, until)`` (oldest first), each with the feedback tied
        to it: events of the same user on one of its items, each (type, item) counted once."""
        where = "i.at >= ? AND i.at < ?"
        args: list[Any] = [since, min(until, 1e300)]
        if experiment is not None:
            where += " AND i.experiment = ?"
            args.append(experiment)
        lists = self._read(
            "SELECT rec_key, user_key, at, version, experiment, variant, latency_ms, body "
            f"FROM impressions AS i WHERE {where} ORDER BY at", args,
        )  # fmt: skip
        rows = self._read(
            "SELECT f.rec_key, f.user_key, f.type, f.body FROM feedback AS f "
            f"JOIN impressions AS i ON i.rec_key = f.rec_key WHERE {where}", args,
        )  # fmt: skip
        tied: dict[tuple[str, str], set[tuple[str, str]]] = {}
        for rec, user, kind, blob in rows:
            item = self.vault.unseal(bytes(blob), user).decode()
            tied.setdefault((rec, user), set()).add((kind, item))
        out = []
        for rec, user, at, version, exp, variant, latency, blob in lists:
            body = json.loads(self.vault.unseal(bytes(blob), user))
            where_is = {item: j for j, item in enumerate(body["items"])}
            feedback = tuple(sorted(
                (kind, where_is[item]) for kind, item in tied.get((rec, user), ())
                if item in where_is
            ))  # fmt: skip
            out.append(Impression(
                rec, user, float(at), version, body["items"], body["scores"], exp, variant,
                float(latency), body.get("propensities"), body.get("teams"), body.get("pool"),
                body.get("rerank"), body.get("context"), feedback,
            ))  # fmt: skip
        return out

    # -- experiments ----------------------------------------------------------------------------
    def add_experiment(self, name: str, body: str) -> bool:
        """Store a new experiment; False when one of that name exists (running or stopped)."""
        n = self._write([(
            "INSERT INTO experiments (name, body) VALUES (?, ?) ON CONFLICT DO NOTHING",
            (name, body), False,
        )])  # fmt: skip
        return n[0] == 1

    def set_experiment(self, name: str, body: str) -> None:
        self._write([("UPDATE experiments SET body = ? WHERE name = ?", (body, name), False)])

    def experiments(self) -> dict[str, str]:
        """Every experiment's JSON by name."""
        return {r[0]: r[1] for r in self._read("SELECT name, body FROM experiments")}

    def _shown_to(self, user: str) -> list[dict[str, Any]]:
        rows = self._read(
            "SELECT rec_key, at, version, variant, body FROM impressions WHERE user_key = ? "
            "ORDER BY at", (user,),
        )  # fmt: skip
        out = []
        for rec, at, version, variant, blob in rows:
            body = json.loads(self.vault.unseal(bytes(blob), user))
            out.append({"recommendation_id": rec, "at": at, "version": version,
                        "variant": variant, "items": body["items"]})  # fmt: skip
        return out


INSERT_IMPRESSIONS = (
    "INSERT INTO impressions (rec_key, user_key, at, stored_day, version, experiment, variant, "
    "latency_ms, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"
)
