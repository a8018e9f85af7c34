"""What the service computes: recommendations from the active model version and the fresh
events in the store, similar items, profiles; and hot swaps between model versions."""

from __future__ import annotations

import contextlib
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from lmrec.artifacts import Artifacts
from lmrec.context.features import request_time
from lmrec.errors import UsageError
from lmrec.explain import explain as explain_items
from lmrec.explain import query_reason, user_history
from lmrec.explain.rewrite import ReasonRewriter
from lmrec.index import VectorIndex
from lmrec.models.base import Recommender, top_n
from lmrec.models.capabilities import OrderedHistory, ScoresNewItems, SimilarItems, TwoTower
from lmrec.profiles import HistoryEntry, ProfileEdits, build_profile
from lmrec.rerank import ItemFeatures, RerankConfig, ThompsonExplorer
from lmrec.service.store import Store

__all__ = ["Engine", "ModelVersion", "discover_versions"]

#: With ``ann="auto"``, catalogs this large are served through an ANN index.
ANN_MIN_ITEMS = 100_000
#: Candidates fetched from the ANN index per request (more when exclusions need them).
ANN_CANDIDATES = 200

#: Events that say the user consumed or engaged with the item (it is not recommended again).
ENGAGED = ("view", "click", "cart", "purchase", "rating")


class _ReasonCache:
    """Reasons by history (an LRU of ``max_histories`` entries, each item -> reason); a
    history changes with every event or edit, so a stale reason is never served."""

    def __init__(self, max_histories: int = 20_000) -> None:
        self.max = max_histories
        self._data: OrderedDict[Any, dict[int, dict[str, Any]]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Any) -> dict[int, dict[str, Any]] | None:
        with self._lock:
            found = self._data.get(key)
            if found is not None:
                self._data.move_to_end(key)
            return found

    def put(self, key: Any, reasons: dict[int, dict[str, Any]]) -> dict[int, dict[str, Any]]:
        with self._lock:
            merged = {**self._data.get(key, {}), **reasons}
            self._data[key] = merged
            self._data.move_to_end(key)
            while len(self._data) > self.max:
                self._data.popitem(last=False)
            return merged


def _top(scores: np.ndarray, k: int, pool: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` best items (ids, scores), among ``pool`` only when given (then the catalog-
    sized array is never sorted)."""
    if pool is None:
        top, vals = top_n(scores[None, :], k)
        return top[0], vals[0]
    top, vals = top_n(scores[pool][None, :], k)
    return np.where(top[0] >= 0, pool[np.maximum(top[0], 0)], -1), vals[0]


def discover_versions(root: Path) -> dict[str, Path]:
    """Artifact folders under ``root`` by version name: ``root`` itself when it is one (named
    by its manifest's ``version``, else its folder name), else each sub-folder that is one."""
    if (root / "manifest.json").is_file():
        return {root.name: root}
    found = {
        p.name: p for p in sorted(root.iterdir()) if p.is_dir() and (p / "manifest.json").is_file()
    } if root.is_dir() else {}  # fmt: skip
    if not found:
        raise UsageError(f"{root}: no lmrec artifacts here (no manifest.json); run 'lmrec train'")
    return found


@dataclass(frozen=True, eq=False)
class ModelVersion:
    version: str
    artifacts: Artifacts
    model: Recommender
    loaded_at: float

    @cached_property
    def titles(self) -> list[str | None]:
        """Item titles by index (built once per version, not per request)."""
        return list(self.artifacts.items["title"].to_list())

    @cached_property
    def context_prior(self) -> Any:
        return self.artifacts.context_prior()

    @cached_property
    def categories(self) -> list[list[str]]:
        """Item categories by index (empty lists when the catalog has none)."""
        items = self.artifacts.items
        if "categories" not in items.columns:
            return [[] for _ in range(items.height)]
        return [list(c or []) for c in items["categories"].to_list()]

    def describe(self) -> dict[str, Any]:
        m = self.artifacts.manifest
        return {
            "version": self.version,
            "model": self.model.name,
            "trained_at": m.get("trained_at"),
            "users": m.get("n_users"),
            "items": m.get("n_items"),
        }


class Engine:
    def __init__(
        self,
        root: Path,
        store: Store,
        model_name: str | None = None,
        *,
        text_encoder: str = "all-MiniLM-L6-v2",
        reason_verb: str = "liked",
        rewriter: ReasonRewriter | None = None,
        ann: str = "auto",
        ann_ef: int = 128,
        ann_probe: int = 32,
    ) -> None:
        self.root = root
        self.text_encoder = text_encoder
        self.reason_verb = reason_verb
        self.rewriter = rewriter
        if ann not in ("auto", "on", "off"):
            raise UsageError(f"ann must be auto, on or off, not '{ann}'")
        self.ann = ann
        self.ann_ef = ann_ef
        self.ann_probe = ann_probe
        self._anns: dict[str, VectorIndex | None] = {}
        self._explained = _ReasonCache()
        self._feats: dict[tuple[str, bool], ItemFeatures] = {}
        self._explorers: dict[str, ThompsonExplorer] = {}
        self._catalogs: dict[str, dict[str, tuple[str | None, list[str]]]] = {}
        self._subs: dict[str, Any] = {}
        self._texts: dict[str, np.ndarray] = {}
        self._new: dict[str, tuple[float, tuple[list[str], list[str], np.ndarray]]] = {}
        self.store = store
        self.model_name = model_name
        self.versions = discover_versions(root)
        self._swap = threading.Lock()
        self._checked = time.monotonic()
        wanted = store.get_setting("active_version")
        first = wanted if wanted in self.versions else sorted(self.versions)[-1]
        self.active = self._load(first)

    def _load(self, version: str) -> ModelVersion:
        art = Artifacts.open(self.versions[version])
        return ModelVersion(version, art, art.model(self.model_name), time.time())

    def activate(self, version: str) -> ModelVersion:
        """Load ``version`` fully, then switch to it in one step: requests already running
        finish on the old version, new ones get the new one."""
        self.versions = discover_versions(self.root)  # versions trained since start-up
        if version not in self.versions:
            raise KeyError(version)
        with self._swap:
            loaded = self._load(version)
            self.active = loaded
            self.store.set_setting("active_version", version)
        return loaded

    def current(self) -> ModelVersion:
        """The active version, following the store: when another worker process activated a
        version, this one loads it too (checked at most once a second)."""
        now = time.monotonic()
        if now - self._checked < 1.0:
            return self.active
        self._checked = now
        wanted = self.store.get_setting("active_version")
        if wanted is not None and wanted != self.active.version:
            # a version this worker cannot see: keep serving the one it has
            with contextlib.suppress(KeyError):
                self.activate(wanted)
        return self.active

    # -- recommendations ------------------------------------------------------------------------
    def recommend(
        self,
        user_id: str,
        k: int,
        *,
        exclude: list[str] | None = None,
        query: str | None = None,
        query_weight: float = 0.5,
        categories: list[str] | None = None,
        rerank: RerankConfig | None = None,
        explain: bool = True,
        context: dict[str, str | None] | None = None,
        context_weight: float = 0.5,
    ) -> dict[str, Any]:
        v = self.current()  # one version for the whole request
        art, model = v.artifacts, v.model
        vocab = art.item_vocab
        events = self.store.user_events(user_id)
        edits = ProfileEdits.from_json(self.store.get_profile_edits(user_id))
        user = art.user_vocab.index(user_id) if user_id in art.user_vocab else -1
        engaged = [e for e in events if e.type in ENGAGED and e.item_id in vocab]
        fresh = [vocab.index(e.item_id) for e in engaged]
        # the request's and the fresh events' times: the sequential model's next-action context
        at = request_time(context)
        added = [np.array([int(e.timestamp) for e in engaged], dtype=np.int64)]
        removed = {vocab.index(i) for i in edits.removed_items if i in vocab}
        blocked = {e.item_id for e in events} | set(exclude or []) | set(edits.removed_items)
        cold = user < 0 and not fresh
        history: np.ndarray | None = None  # oldest first, built when edits or reasons need it
        pool: np.ndarray | None = None  # with ANN retrieval: the only items that can rank
        if cold:
            scores = model.popularity_.astype(np.float32).copy()
        elif model.uses_history and removed:
            history = self._history(v, user, fresh, removed)
            scores = (
                model.score_carts([history], at=at)[0]
                if len(history)
                else model.popularity_.astype(np.float32).copy()
            )
        elif (ann := self._ann(v)) is not None:
            scores, pool = self._retrieve(v, ann, user, fresh, k + len(blocked), at, added)
        elif model.uses_history:
            cart = np.array(fresh, dtype=np.int64)
            users = np.array([user]) if user >= 0 else None
            scores = model.score_carts([cart], users, at=at, times=added)[0]
        elif user >= 0:
            scores = model.score(user, at=at)
        else:
            scores = model.popularity_.astype(np.float32).copy()
        scores = np.nan_to_num(scores.astype(np.float32, copy=False), nan=-np.inf, copy=False)
        if user >= 0:
            scores[model.seen_[user].indices] = -np.inf
        held = [vocab.index(i) for i in blocked if i in vocab]
        scores[held] = -np.inf
        used = self._context_fields(v, context) if context_weight > 0 else {}
        if used:
            from lmrec.context import apply_context

            lift = v.context_prior.lift(used, len(scores))
            scores = apply_context(scores, lift, context_weight)
        if query is not None:
            scores = self._blend_query(v, scores, query, 1.0 if cold else query_weight)
        if categories is not None:
            scores[~self._in_categories(v, set(categories))] = -np.inf
        if edits.muted_categories:
            scores[self._in_categories(v, set(edits.muted_categories))] = -np.inf
        n = len(vocab)
        new_ids, new_titles, new_emb = self._new_items(v)
        reranking = rerank is not None and rerank.active
        if (
            new_ids and isinstance(model, ScoresNewItems) and not cold and query is None
            and categories is None and not reranking
        ):  # fmt: skip
            # items added through the catalog API after training: scored through their text
            users = np.array([user]) if user >= 0 else None
            carts = [np.array(fresh, dtype=np.int64)]
            extra = np.asarray(model.score_new_items(carts, users, new_emb)[0])
            extra[[j for j, i in enumerate(new_ids) if i in blocked]] = -np.inf
            scores = np.concatenate([scores, extra.astype(np.float32)])
            if pool is not None:
                pool = np.concatenate([pool, np.arange(n, n + len(new_ids))])
        if reranking and rerank is not None:
            ids_1d, vals_1d = self._rerank(v, scores, k, rerank, user, fresh, pool)
        else:
            ids_1d, vals_1d = _top(scores, k, pool)
        keep = ids_1d >= 0
        ids_1d, vals_1d = ids_1d[keep], vals_1d[keep]
        reasons = self._reasons(
            v, ids_1d, cold=cold, query=query, explain=explain, history=history,
            user=user, fresh=fresh, removed=removed,
        )  # fmt: skip
        titles = v.titles
        items = [
            {
                "item_id": vocab.raw(int(i)) if i < n else new_ids[i - n],
                "title": titles[int(i)] if i < n else new_titles[i - n],
                "score": float(s),
                "reason": r["text"],
                "explanation": r,
            }
            for i, s, r in zip(ids_1d, vals_1d, reasons, strict=True)
        ]
        if self.rewriter is not None and explain and items:
            texts = self.rewriter.rewrite(
                [str(i["title"] or i["item_id"]) for i in items], [i["reason"] for i in items]
            )
            for item, text in zip(items, texts, strict=True):
                item["reason"] = text  # the explanation keeps the template and its evidence
        return {
            "user_id": user_id,
            "items": items,
            "cold_start": cold,
            "model": model.name,
            "version": v.version,
            "fresh_events": len(fresh),
            "reranked": reranking,
            "context_used": sorted(used),
        }

    def _context_fields(
        self, v: ModelVersion, context: dict[str, str | None] | None
    ) -> dict[str, str]:
        """The request's context values the version's context prior knows."""
        prior = v.context_prior
        if prior is None or not context:
            return {}
        from lmrec.context import context_of_request

        wanted = context_of_request(context)
        return {k: val for k, val in wanted.items() if val in prior.values_.get(k, [])}

    def _ann(self, v: ModelVersion) -> VectorIndex | None:
        """The version's ANN index over item vectors (IVF, 32 cells probed; any index saved as
        ``MODEL/ann.faiss`` is used as it is), when this engine serves through one:
        ``ann="on"``, or ``"auto"`` for catalogs of at least :data:`ANN_MIN_ITEMS` items.
        Built on first use and saved next to the model (``ann.faiss``) for the next start."""
        if v.version in self._anns:
            return self._anns[v.version]
        model = v.model
        wanted = self.ann == "on" or (self.ann == "auto" and model.n_items_ >= ANN_MIN_ITEMS)
        index = None
        if isinstance(model, TwoTower) and wanted:
            from lmrec.index import VectorIndex

            path = v.artifacts.root / model.name / "ann.faiss"
            if path.is_file():
                index = VectorIndex.load(path)
            else:
                index = VectorIndex("ivf")
                index.build(model.item_matrix())
                with contextlib.suppress(OSError):
                    index.save(path)
            index.set_ef_search(self.ann_ef)
            index.set_n_probe(self.ann_probe)
        self._anns[v.version] = index
        return index

    def _retrieve(
        self,
        v: ModelVersion,
        ann: VectorIndex,
        user: int,
        fresh: list[int],
        k: int,
        at: int | None = None,
        added: list[np.ndarray] | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Scores of the ANN index's candidates (exact, from the model's two towers); every
        other item -inf. Enough candidates are fetched to survive the exclusions."""
        model = v.model
        if not isinstance(model, TwoTower):
            raise TypeError(f"model '{model.name}' has no two towers to retrieve with")
        users = np.array([user]) if user >= 0 else None
        cart = [np.array(fresh, dtype=np.int64)]
        q = model.query_vectors(cart, users, at=at, times=added)
        n_seen = len(model.seen_[user].indices) if user >= 0 else 0
        depth = int(min(model.n_items_, max(ANN_CANDIDATES, 2 * (k + n_seen))))
        cand, _ = ann.search(q, depth)
        cand = cand[0][cand[0] >= 0]
        scores = np.full(model.n_items_, -np.inf, dtype=np.float32)
        items = model.item_matrix()
        scores[cand] = items[cand] @ q[0]
        return scores, cand

    def _history(
        self, v: ModelVersion, user: int, fresh: list[int], removed: set[int] | None = None
    ) -> np.ndarray:
        """What the user did, oldest first: the training history (in time order where the
        artifacts kept it), then the fresh events; without the items they removed."""
        base = user_history(v.model, user)
        if user >= 0 and not isinstance(v.model, OrderedHistory):
            ordered = v.artifacts.user_history(user)["item"].to_numpy().astype(np.int64)
            if len(ordered):
                base = ordered
        hist = np.concatenate([base, np.asarray(fresh, dtype=np.int64)])
        if removed:
            hist = hist[~np.isin(hist, list(removed))]
        return hist

    def _in_categories(self, v: ModelVersion, wanted: set[str]) -> np.ndarray:
        cats = v.categories
        return np.array([bool(wanted & set(c)) for c in cats], dtype=bool)

    def _reasons(
        self,
        v: ModelVersion,
        ids: np.ndarray,
        *,
        cold: bool,
        query: str | None,
        explain: bool,
        history: np.ndarray | None,
        user: int,
        fresh: list[int],
        removed: set[int],
    ) -> list[dict[str, Any]]:
        """One reason per item, from the model's own signals (see :mod:`lmrec.explain`)."""
        n = len(v.artifacts.item_vocab)
        name = v.model.name
        if query is not None:
            return [query_reason(query, with_history=not cold).to_dict() for _ in ids]
        if cold:
            return [{"kind": "popular", "text": "popular with everyone"} for _ in ids]
        out: list[dict[str, Any]] = [
            {"kind": "new", "text": f"new in the catalog, close to your taste ({name})"}
            for _ in ids
        ]
        known = np.flatnonzero(ids < n)
        if not explain:
            for j in known:
                out[j] = {"kind": "model", "text": f"from your history ({name})"}
            return out
        # a reason depends only on the model and the history: cached per (version, history)
        key = (v.version, user, tuple(fresh), tuple(sorted(removed)))
        cached = self._explained.get(key)
        missing = [j for j in known if int(ids[j]) not in cached] if cached else list(known)
        if missing:
            if history is None:
                history = self._history(v, user, fresh, removed)
            vocab = v.artifacts.item_vocab
            found = explain_items(v.model, history, ids[missing], v.titles, verb=self.reason_verb)
            fresh_reasons = {}
            for j, r in zip(missing, found, strict=True):
                d = r.to_dict()
                if r.item is not None:
                    d["item"] = vocab.raw(r.item)
                fresh_reasons[int(ids[j])] = d
            cached = self._explained.put(key, fresh_reasons)
        assert cached is not None
        for j in known:
            out[j] = dict(cached[int(ids[j])])
        return out

    def _rerank(
        self,
        v: ModelVersion,
        scores: np.ndarray,
        k: int,
        cfg: RerankConfig,
        user: int,
        fresh: list[int],
        pool: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        from lmrec.rerank import category_mix, rerank

        feats = self._features(v, text=cfg.dedupe is not None or cfg.diversity > 0)
        explorer = self._explorer(v)
        head = scores[: feats.n_items]
        top, top_scores = _top(
            head, cfg.candidates, None if pool is None else pool[pool < len(head)]
        )
        cand, cand_scores = top[None, :], top_scores[None, :]
        mix = None
        if cfg.calibration > 0 and feats.categories is not None:
            hist = self._history(v, user, fresh)
            row = np.zeros((1, feats.n_items), dtype=np.float32)
            row[0, hist] = 1.0
            mix = category_mix(sp.csr_matrix(row), feats.categories)[0]
        ids, vals = rerank(
            cand[0], cand_scores[0], k, feats, cfg,
            user_mix=mix, explorer=explorer, shown=explorer.shows[: feats.n_items],
        )  # fmt: skip
        explorer.shown(ids)
        return ids, vals

    def _features(self, v: ModelVersion, *, text: bool) -> ItemFeatures:
        """Re-ranking signals of the version's catalog (built once; text when asked)."""
        key = (v.version, text)
        cached = self._feats.get(key)
        if cached is None:
            from lmrec import metrics as M

            model = v.model
            emb = self._catalog_embeddings(v) if text and self.text_encoder else None
            cats = v.categories
            cached = self._feats[key] = ItemFeatures.build(
                np.asarray(model.seen_.sum(axis=0)).ravel(),
                int((np.diff(model.seen_.indptr) > 0).sum()),
                categories=M.category_matrix(cats) if any(cats) else None,
                embeddings=emb,
            )
        return cached

    def _explorer(self, v: ModelVersion) -> ThompsonExplorer:
        ex = self._explorers.get(v.version)
        if ex is None:
            ex = self._explorers[v.version] = ThompsonExplorer(len(v.artifacts.item_vocab))
        return ex

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
            self._explorer(v).clicked(np.array(clicked, dtype=np.int64))

    def _catalog_embeddings(self, v: ModelVersion) -> np.ndarray:
        from lmrec.text import encode_items

        emb = self._texts.get(v.version)
        if emb is None:
            texts = v.artifacts.items["text"].fill_null("").to_list()
            emb = self._texts[v.version] = encode_items(texts, self.text_encoder)
        return emb

    def _blend_query(
        self, v: ModelVersion, scores: np.ndarray, query: str, weight: float
    ) -> np.ndarray:
        """``weight * z(cosine to the request) + (1 - weight) * z(personal score)``; items
        left out before stay out."""
        from lmrec.models.content import zscore
        from lmrec.text import encode_items

        emb = self._catalog_embeddings(v)
        q = encode_items([query], self.text_encoder, use_cache=False)[0]
        sims = zscore(emb @ q)
        blended = sims if weight >= 1.0 else weight * sims + (1.0 - weight) * zscore(scores)
        blended[~np.isfinite(scores)] = -np.inf
        return blended.astype(np.float32)

    def upsert_items(self, items: list[dict[str, Any]]) -> None:
        self.store.upsert_items(items)
        self._new.clear()  # recomputed on the next request

    def _new_items(self, v: ModelVersion) -> tuple[list[str], list[str], np.ndarray]:
        """Items added through the API that the version's model has never seen: ids, titles
        and their text embeddings from the model's own encoder (refreshed at most once a
        second, at once after an upsert through this engine)."""
        now = time.monotonic()
        cached = self._new.get(v.version)
        if cached is not None and now - cached[0] < 1.0:
            return cached[1]
        added = [
            i for i in self.store.items().values() if i["item_id"] not in v.artifacts.item_vocab
        ]
        encoder = v.model.text_encoder if isinstance(v.model, ScoresNewItems) else None
        result: tuple[list[str], list[str], np.ndarray] = ([], [], np.zeros((0, 0), np.float32))
        if added and encoder:
            from lmrec.text import encode_items

            texts = [i.get("text") or i["title"] for i in added]
            emb = encode_items(texts, encoder)
            result = ([i["item_id"] for i in added], [i["title"] for i in added], emb)
        self._new[v.version] = (now, result)
        return result

    def complete_cart(
        self, items: list[str], k: int, *, user_id: str | None = None,
        allow_substitutes: bool = False,
    ) -> dict[str, Any]:  # fmt: skip
        """Complements for a cart (raw item ids, all known) with the active model."""
        from lmrec.cart import complete_carts

        v = self.current()
        art, vocab = v.artifacts, v.artifacts.item_vocab
        cart = np.array([vocab.index(i) for i in items], dtype=np.int64)
        user = art.user_vocab.index(user_id) if user_id and user_id in art.user_vocab else -1
        subs = None if allow_substitutes else self._substitutes(v)
        ids, vals = complete_carts(
            v.model, [cart], k, users=np.array([user]) if user >= 0 else None, substitutes=subs
        )
        titles = v.titles
        return {
            "items": [
                {"item_id": vocab.raw(int(i)), "title": titles[int(i)], "score": float(s)}
                for i, s in zip(ids[0], vals[0], strict=True)
                if i >= 0
            ],
            "model": v.model.name,
            "version": v.version,
        }

    def _substitutes(self, v: ModelVersion) -> Any:
        """Near-substitute pairs of the version's catalog (computed once per version)."""
        cached = self._subs.get(v.version)
        if cached is None:
            from lmrec.cart import substitute_matrix
            from lmrec.text import encode_items

            items = v.artifacts.items
            emb = encode_items(items["text"].fill_null("").to_list(), self.text_encoder)
            cats = (
                [c or [] for c in items["categories"].to_list()]
                if "categories" in items.columns
                else [[] for _ in range(items.height)]
            )
            cached = self._subs[v.version] = substitute_matrix(emb, cats)
        return cached

    def similar(self, item_id: str, k: int) -> list[dict[str, Any]]:
        """Items most like ``item_id``: the model's own similarity where it has one, else the
        cosine of the items' columns in the training interactions."""
        v = self.current()
        vocab = v.artifacts.item_vocab
        item = vocab.index(item_id)
        if isinstance(v.model, SimilarItems):
            ids, sims = v.model.similar_items(item, k)
        else:
            x = v.model.seen_.tocsc()
            col = x[:, item]
            co = np.asarray((x.T @ col).todense()).ravel().astype(np.float64)
            norms = np.sqrt(np.asarray(x.sum(axis=0)).ravel() * max(float(col.sum()), 1e-12))
            sims = np.divide(co, norms, out=np.zeros_like(co), where=norms > 0)
            sims[item] = -np.inf
            top, vals = top_n(sims[None, :].astype(np.float32), k)
            keep = (top[0] >= 0) & (vals[0] > 0)
            ids, sims = top[0][keep], vals[0][keep]
        titles = v.titles
        return [
            {"item_id": vocab.raw(int(i)), "title": titles[int(i)], "score": float(s)}
            for i, s in zip(ids, sims, strict=True)
        ]

    def profile(self, user_id: str) -> dict[str, Any]:
        """What the user can see and edit: interests by category (time-decayed), favourites,
        activity, recent events and their edits."""
        v = self.current()
        art = v.artifacts
        known = user_id in art.user_vocab
        history: list[HistoryEntry] = []
        if known:
            user = art.user_vocab.index(user_id)
            frame = art.user_history(user)
            if frame.height:
                values = frame["value"].to_list() if "value" in frame.columns else None
                history = [
                    HistoryEntry(art.item_vocab.raw(int(i)), float(t), "interaction",
                                 None if values is None else values[j])
                    for j, (i, t) in enumerate(zip(frame["item"], frame["timestamp"], strict=True))
                ]  # fmt: skip
            else:  # artifacts without a kept history: the model's own record, unordered
                history = [
                    HistoryEntry(i, None) for i in art.item_vocab.raws(user_history(v.model, user))
                ]
        for e in self.store.user_events(user_id):
            history.append(HistoryEntry(e.item_id, e.timestamp, e.type, e.value))
        catalog = self._catalog(v)
        edits = ProfileEdits.from_json(self.store.get_profile_edits(user_id))
        return build_profile(user_id, history, catalog, edits, known=known)

    def _catalog(self, v: ModelVersion) -> dict[str, tuple[str | None, list[str]]]:
        cached = self._catalogs.get(v.version)
        if cached is None:
            ids = v.artifacts.item_vocab.raws(np.arange(len(v.artifacts.item_vocab)))
            cached = dict(zip(ids, zip(v.titles, v.categories, strict=True), strict=True))
            self._catalogs[v.version] = cached
        added = {
            i["item_id"]: (i.get("title"), list(i.get("categories") or []))
            for i in self.store.items().values()
        }
        return cached | added if added else cached

    def edit_profile(
        self,
        user_id: str,
        *,
        mute: list[str] | None = None,
        unmute: list[str] | None = None,
        remove: list[str] | None = None,
        restore: list[str] | None = None,
    ) -> dict[str, Any]:
        """Change the user's edits (durably) and return the new profile."""
        edits = ProfileEdits.from_json(self.store.get_profile_edits(user_id))
        changed = edits.change(mute=mute, unmute=unmute, remove=remove, restore=restore)
        self.store.set_profile_edits(user_id, changed.to_json())
        return self.profile(user_id)
