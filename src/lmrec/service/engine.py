"""The service's model versions over its store: which version is active, hot swaps between
versions, and the online path (:mod:`lmrec.online`) fed with the store's fresh events,
profile edits and catalog additions."""

from __future__ import annotations

import contextlib
import json
import threading
import time
import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from lmrec.experiments import Experiment, explore, team_draft
from lmrec.explain.rewrite import ReasonRewriter
from lmrec.online import (
    ModelVersion,
    Request,
    ServingOptions,
    complete_cart,
    discover_versions,
    load_version,
    recommend,
    similar_items,
    user_profile,
    user_state,
)
from lmrec.profiles import HistoryEntry, ProfileEdits
from lmrec.rerank import RerankConfig
from lmrec.service.additions import CatalogAdditions
from lmrec.service.impressions import ImpressionLog
from lmrec.service.store import Impression, Store

__all__ = ["Engine", "discover_versions"]


class Engine:
    """The active :class:`~lmrec.online.ModelVersion` of the artifacts under ``root`` and
    the store of fresh events; one per worker process."""

    def __init__(
        self,
        root: Path,
        store: Store,
        model_name: str | None = None,
        *,
        options: ServingOptions | None = None,
        rewriter: ReasonRewriter | None = None,
        explore: float = 0.0,
        explore_pool: int = 50,
        log: ImpressionLog | None = None,
    ) -> None:
        self.root = root
        self.explore_rate = explore
        self.explore_pool = explore_pool
        self.log = log
        self._loaded: dict[str, ModelVersion] = {}  # other versions that experiments serve
        self._experiment: tuple[float, Experiment | None] | None = None
        self.store = store
        self.model_name = model_name
        self.options = options or ServingOptions()
        self.rewriter = rewriter
        self.versions = discover_versions(root)
        self._swap = threading.Lock()
        self._checked = time.monotonic()
        self._wanted: str | None = None  # the active version the store names
        self.additions = CatalogAdditions(store)
        wanted = store.get_setting("active_version")
        first = wanted if wanted in self.versions else sorted(self.versions)[-1]
        self.active = self._load(first)

    def _load(self, version: str) -> ModelVersion:
        """Load ``version`` and compute one list with it (for its first training user; the
        reasons found are not kept), so that what the model builds on first use (runtime
        sessions, item tables, an ANN index) is built before it serves a request."""
        v = load_version(version, self.versions[version], self.model_name, self.options)
        users = v.artifacts.user_vocab
        if len(users):
            first = users.raw(0)
            recommend(v, Request(first, 1), user_state(v, first), self.additions.new_items(v))
            v.reasons.clear()
        return v

    def activate(self, version: str) -> ModelVersion:
        """Load ``version`` fully, then switch to it in one step: requests already running
        finish on the old version, new ones get the new one (and the old one's caches go
        with it)."""
        self.versions = discover_versions(self.root)  # versions trained since start-up
        if version not in self.versions:
            raise KeyError(version)
        with self._swap:
            loaded = self._load(version)
            previous = self.active.version
            self.active = loaded
            self.additions.forget_embeddings()
            if previous != version:
                self.store.set_setting("previous_version", previous)
            self.store.set_setting("active_version", version)
        return loaded

    def version_details(self) -> dict[str, dict[str, Any]]:
        """Each version's manifest facts and test numbers, read from disk (no model loaded)."""
        out: dict[str, dict[str, Any]] = {}
        for name, path in sorted(self.versions.items()):
            facts: dict[str, Any] = {}
            for file in ("manifest.json", "evaluation.json"):
                with contextlib.suppress(OSError, ValueError):
                    facts[file.removesuffix(".json")] = json.loads((path / file).read_text())
            manifest = facts.get("manifest", {})
            out[name] = {
                "models": manifest.get("models"), "trained_at": manifest.get("trained_at"),
                "evaluation": facts.get("evaluation"),
            }  # fmt: skip
        return out

    def current(self) -> ModelVersion:
        """The active version, following the store: when another worker process activated a
        version, this one loads it too (checked at most once a second)."""
        wanted = self._wanted_version()
        if wanted is not None:
            try:
                self.activate(wanted)
            except KeyError:  # a version this worker cannot see: keep serving the one it has
                self._wanted = None
        return self.active

    def _wanted_version(self) -> str | None:
        """The version the store names as active when it is not this worker's (the store is
        read at most once a second)."""
        now = time.monotonic()
        if now - self._checked >= 1.0:
            self._checked = now
            self._wanted = self.store.get_setting("active_version")
        wanted = self._wanted
        return wanted if wanted is not None and wanted != self.active.version else None

    # -- the online path over the store ---------------------------------------------------------
    def recommend(self, user_id: str, k: int, **fields: Any) -> dict[str, Any]:
        """:func:`lmrec.online.recommend` for ``user_id`` with the store's fresh events and
        edits; ``fields`` are those of :class:`~lmrec.online.Request`."""
        return self.run(Request(user_id, k, **fields))

    def run(self, request: Request, v: ModelVersion | None = None) -> dict[str, Any]:
        """One list from version ``v`` (the active one by default)."""
        v = v or self.current()  # one version for the whole request
        hidden = self.hidden_items()
        if hidden:
            request = replace(request, exclude=(*request.exclude, *hidden))
        user_id = request.user_id
        edits = ProfileEdits()
        if user_id is None:
            state = user_state(v, None, [], edits, request.exclude)
        else:
            person, stored_edits = self.store.user_record(user_id)
            edits = ProfileEdits.from_json(stored_edits)
            if not person.personalise:  # opted out: a list that uses nothing of theirs
                state = user_state(v, None, [], edits, request.exclude)
            else:  # forgotten: only what they did since, not the model's history of them
                events = self.store.user_events(user_id)
                known = None if person.forgotten else user_id
                state = user_state(v, known, events, edits, request.exclude)
        if request.rerank is None and user_id is not None and edits.variety:
            # the user's own choice of variety, when the request does not set re-ranking
            strength = edits.variety
            request = replace(request, rerank=RerankConfig(strength=strength, explore=strength / 2))
        return recommend(v, request, state, self.additions.new_items(v), rewriter=self.rewriter)

    # -- served lists: experiments, exploration, the record of what was shown -------------------
    def serve(self, request: Request) -> dict[str, Any]:
        """:meth:`run` for the user's variant when an experiment runs (both variants' lists
        merged for an interleaving), with exploration when it is on; the response carries a
        ``recommendation_id`` and its ``variant``, and the list is recorded."""
        start = time.perf_counter()
        rec_id = uuid.uuid4().hex
        exp = self.running_experiment() if request.user_id is not None else None
        drawn = self.explore_rate > 0 or (exp is not None and exp.kind != "ab")
        rng = np.random.default_rng(int(rec_id[:16], 16)) if drawn else None
        teams = prop = pool = None
        variant = None
        if exp is None:
            result, prop, pool = self._explored(self.current(), request, rng)
        elif exp.kind == "ab":
            assert request.user_id is not None
            arm = exp.assign(request.user_id)
            variant = arm.name
            if arm.rerank is not None:
                request = replace(request, rerank=RerankConfig(**arm.rerank))
            result, prop, pool = self._explored(self.version(arm.version), request, rng)
        else:
            assert rng is not None
            result, teams = self._interleaved(exp, request, rng)
            variant = "interleaved"
        result["recommendation_id"] = rec_id
        result["experiment"] = None if exp is None else exp.name
        result["variant"] = variant
        if self.log is not None and request.user_id is not None:
            self.log.add(Impression(
                rec_id, request.user_id, time.time(), result["version"],
                [i["item_id"] for i in result["items"]], [i["score"] for i in result["items"]],
                result["experiment"], variant, (time.perf_counter() - start) * 1000.0,
                prop, teams, pool, None if request.rerank is None else request.rerank.to_dict(),
                request.context,
            ))  # fmt: skip
        return result

    def quick(self, request: Request) -> bool:
        """Whether :meth:`serve` of ``request`` has no slow step now, so that it is cheaper to
        compute on the event loop than to hand to a thread: the store reads a local file; no
        query to encode, re-ranking or reason rewriter to call; every version the request may
        use is loaded and has no new catalog text to embed. The once-a-second reads of the store (active
        version, experiment, catalog additions) are done here when due."""
        if not self.store.local_reads or request.query is not None or request.rerank is not None:
            return False
        if self.rewriter is not None and request.explain:
            return False
        if self._wanted_version() is not None:  # a version to load first
            return False
        names = {self.active.version}
        if request.user_id is not None:
            exp = self.running_experiment()
            names |= set() if exp is None else exp.versions()
        for name in names:
            v = self.active if name == self.active.version else self._loaded.get(name)
            if v is None or self.additions.new_items(v, encode=False) is None:
                return False
        return True

    def _explored(
        self, v: ModelVersion, request: Request, rng: np.random.Generator | None
    ) -> tuple[dict[str, Any], list[float] | None, list[str] | None]:
        """The list, and with exploration on its items' propensities and the pool drawn from
        (:func:`lmrec.experiments.explore`)."""
        if self.explore_rate <= 0:
            return self.run(request, v), None, None
        pool_k = max(request.k, self.explore_pool)
        result = self.run(replace(request, k=pool_k), v)
        items = result["items"]
        assert rng is not None  # drawn whenever exploration is on
        chosen, prop, _ = explore(len(items), request.k, self.explore_rate, rng)
        result["items"] = [items[j] for j in chosen]
        return result, [float(p) for p in prop], [i["item_id"] for i in items]

    def _interleaved(
        self, exp: Experiment, request: Request, rng: np.random.Generator
    ) -> tuple[dict[str, Any], list[int]]:
        """Both variants' lists merged by team draft; which side each item came from."""
        lists = []
        for arm in exp.variants:
            req = request if arm.rerank is None else replace(
                request, rerank=RerankConfig(**arm.rerank))  # fmt: skip
            lists.append(self.run(req, self.version(arm.version)))
        by_id = {i["item_id"]: i for r in reversed(lists) for i in r["items"]}
        ids, teams = team_draft(
            [i["item_id"] for i in lists[0]["items"]], [i["item_id"] for i in lists[1]["items"]],
            request.k, rng,
        )  # fmt: skip
        result = dict(lists[0])
        result["items"] = [by_id[i] for i in ids]
        result["version"] = "+".join(r["version"] for r in lists)
        result["reranked"] = any(r["reranked"] for r in lists)
        return result, teams

    def served(self, since: float, until: float, experiment: str | None = None) -> list[Impression]:
        """The lists served in ``[since, until)`` with their feedback (this worker's queued
        lists written first, so a list just served is in)."""
        if self.log is not None:
            self.log.flush()
        return self.store.impressions(since, until, experiment=experiment)

    def online_metrics(self, since: float, until: float, k: int) -> dict[str, Any]:
        """:func:`lmrec.service.measure.online_metrics` of the lists served in the window."""
        from lmrec.service.measure import online_metrics

        v = self.current()
        catalog = {
            **{i: c for i, (_, c) in v.catalog.items()},
            **{i: list(b.get("categories") or []) for i, b in self.added_items().items()},
        }
        has_categories = any(catalog.values())
        out = online_metrics(
            self.served(since, until), k=k, catalog_size=v.n_items + len(self.added_items()),
            categories=(lambda i: catalog.get(i, [])) if has_categories else None,
        )  # fmt: skip
        return {"since": since, "until": until, **out}

    def experiment_results(self, name: str) -> dict[str, Any]:
        from lmrec.service.measure import experiment_results, traffic

        exp = self.experiments()[name]  # KeyError: no such experiment
        until = exp.stopped_at if exp.stopped_at is not None else time.time() + 1.0
        served = self.served(exp.started_at, until, experiment=name)
        return experiment_results(exp, traffic(exp, served))

    def version(self, name: str) -> ModelVersion:
        """Version ``name``: the active one, or one loaded for an experiment (KeyError when
        there is no such version)."""
        v = self.current()
        if name == v.version:
            return v
        found = self._loaded.get(name)
        if found is None:
            with self._swap:
                found = self._loaded.get(name)
                if found is None:
                    if name not in self.versions:
                        self.versions = discover_versions(self.root)
                    if name not in self.versions:
                        raise KeyError(name)
                    found = self._loaded[name] = self._load(name)
        return found

    def experiments(self) -> dict[str, Experiment]:
        return {n: Experiment.from_json(b) for n, b in sorted(self.store.experiments().items())}

    def running_experiment(self) -> Experiment | None:
        """The experiment running now, if any (re-read from the store at most once a second,
        so every worker process follows a start or a stop)."""
        now = time.monotonic()
        cached = self._experiment
        if cached is not None and now - cached[0] < 1.0:
            return cached[1]
        running = [e for e in self.experiments().values() if e.running]
        exp = running[0] if running else None
        wanted = set() if exp is None else exp.versions()
        for name in list(self._loaded):  # versions no experiment serves any more
            if name not in wanted:
                self._loaded.pop(name, None)
        self._experiment = (now, exp)
        return exp

    def start_experiment(self, exp: Experiment) -> None:
        """Load the experiment's versions, then store it (KeyError: an unknown version;
        ValueError: the name is taken or another experiment is running)."""
        for name in sorted(exp.versions()):
            self.version(name)
        self._experiment = None
        if self.running_experiment() is not None:
            raise ValueError("another experiment is running; stop it first")
        if not self.store.add_experiment(exp.name, exp.to_json()):
            raise ValueError(f"an experiment named '{exp.name}' exists")
        self._experiment = None

    def stop_experiment(self, name: str) -> Experiment:
        exp = self.experiments()[name]  # KeyError: no such experiment
        if exp.running:
            exp = replace(exp, stopped_at=time.time())
            self.store.set_experiment(name, exp.to_json())
        self._experiment = None
        return exp

    def complete_cart(
        self, items: list[str], k: int, *, user_id: str | None = None,
        allow_substitutes: bool = False,
    ) -> dict[str, Any]:  # fmt: skip
        return complete_cart(
            self.current(), items, k, user_id=user_id, allow_substitutes=allow_substitutes
        )

    def similar(self, item_id: str, k: int) -> list[dict[str, Any]]:
        hidden = self.hidden_items()
        found = similar_items(self.current(), item_id, k + len(hidden))
        return [i for i in found if i["item_id"] not in hidden][:k]

    def hidden_items(self) -> frozenset[str]:
        """Items an operator hid (``PUT /v1/items`` with ``hidden``): never recommended."""
        return self.additions.hidden()

    def profile(self, user_id: str) -> dict[str, Any]:
        v = self.current()
        person, edits = self.store.user_record(user_id)
        fresh = [
            HistoryEntry(e.item_id, e.timestamp, e.type, e.value)
            for e in self.store.user_events(user_id)
        ]
        added = {
            i["item_id"]: (i.get("title"), list(i.get("categories") or []))
            for i in self.added_items().values()
        }
        out = user_profile(
            v, user_id, fresh, ProfileEdits.from_json(edits), added, trained=not person.forgotten
        )
        out["personalised"] = person.personalise
        return out

    def edit_profile(
        self,
        user_id: str,
        *,
        mute: list[str] | None = None,
        unmute: list[str] | None = None,
        remove: list[str] | None = None,
        restore: list[str] | None = None,
        variety: float | None = None,
    ) -> dict[str, Any]:
        """Change the user's edits (durably) and return the new profile."""
        changed = self._edits(user_id).change(
            mute=mute, unmute=unmute, remove=remove, restore=restore, variety=variety
        )
        self.store.set_profile_edits(user_id, changed.to_json())
        return self.profile(user_id)

    def record_events(self, events: list[Any]) -> None:
        """Clicks, carts and purchases count as clicks for exploration's click rates."""
        v = self.active
        vocab = v.artifacts.item_vocab
        clicked = [
            vocab.index(e.item_id)
            for e in events
            if e.type in ("click", "cart", "purchase") and e.item_id in vocab
        ]
        if clicked:
            v.explorer.clicked(np.array(clicked, dtype=np.int64))

    def upsert_items(self, items: list[dict[str, Any]]) -> None:
        self.additions.upsert(items)

    def added_items(self) -> dict[str, dict[str, Any]]:
        """The store's catalog additions (re-read at most once a second, at once after an
        upsert through this engine)."""
        return self.additions.items()

    # -- people's data --------------------------------------------------------------------------
    def export_user(self, user_id: str) -> dict[str, Any]:
        if self.log is not None:  # the lists just served to them are part of it
            self.log.flush()
        return self.store.export_user(user_id)

    def delete_user(self, user_id: str) -> dict[str, int]:
        """Remove the user's data from the store (the record of lists shown to them with it);
        their next lists are cold-start."""
        if self.log is not None:  # no queued list of theirs is written after the delete
            self.log.flush()
        return self.store.delete_user(user_id)

    def set_personalise(self, user_id: str, personalise: bool) -> None:
        self.store.set_personalise(user_id, personalise)

    def _edits(self, user_id: str) -> ProfileEdits:
        return ProfileEdits.from_json(self.store.get_profile_edits(user_id))
