"""The online path of one recommendation request, as small steps over a score vector:

personal scores (or popularity for a cold user; ANN candidates for large catalogs) ->
exclusions -> context -> query blend -> filters -> new catalog items -> ranking or re-ranking
-> reasons -> the response. The service, ``lmrec recommend`` and ``lmrec profile`` all run it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from lmrec.context.features import request_time
from lmrec.explain import explain as explain_items
from lmrec.explain import query_reason, user_history
from lmrec.explain.rewrite import ReasonRewriter
from lmrec.index import VectorIndex
from lmrec.models.base import top_n
from lmrec.models.capabilities import OrderedHistory, ScoresNewItems, TwoTower, capable
from lmrec.online.request import NewItems, Request, UserState
from lmrec.online.version import ModelVersion
from lmrec.rerank import RerankConfig

__all__ = ["ANN_CANDIDATES", "history_of", "recommend"]

#: Candidates fetched from the ANN index per request (more when exclusions need them).
ANN_CANDIDATES = 200


def recommend(
    v: ModelVersion,
    request: Request,
    state: UserState,
    new: NewItems | None = None,
    *,
    rewriter: ReasonRewriter | None = None,
) -> dict[str, Any]:
    """The response to ``request`` from version ``v`` for the user in ``state``."""
    at = request_time(request.context)
    scores, pool, history = personal_scores(v, state, request.k, at)
    scores = exclude(v, scores, state)
    used = context_fields(v, request.context) if request.context_weight > 0 else {}
    if used:
        scores = blend_context(v, scores, used, request.context_weight)
    if request.query is not None:
        weight = 1.0 if state.cold else request.query_weight
        scores = blend_query(v, scores, request.query, weight)
    scores = filter_categories(v, scores, request.categories, state.muted)
    reranking = request.rerank is not None and request.rerank.active
    new = new or NewItems()
    plain = request.query is None and request.categories is None and not reranking
    if new.ids and plain and not state.cold:
        scores, pool = add_new_items(v, scores, pool, state, new)
    if reranking and request.rerank is not None:
        ids, vals = rerank(v, scores, request.k, request.rerank, state, pool)
    else:
        ids, vals = top(scores, request.k, pool)
    keep = ids >= 0
    ids, vals = ids[keep], vals[keep]
    reasons = reasons_for(v, ids, state, request, history)
    items = render(v, ids, vals, reasons, new)
    if rewriter is not None and request.explain and items:
        texts = rewriter.rewrite(
            [str(i["title"] or i["item_id"]) for i in items], [i["reason"] for i in items]
        )
        for item, text in zip(items, texts, strict=True):
            item["reason"] = text  # the explanation keeps the template and its evidence
    return {
        "user_id": request.user_id,
        "items": items,
        "cold_start": state.cold,
        "model": v.model.name,
        "version": v.version,
        "fresh_events": len(state.fresh),
        "reranked": reranking,
        "context_used": sorted(used),
    }


def personal_scores(
    v: ModelVersion, state: UserState, k: int, at: int | None
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """Scores of every item for the user (``-inf`` outside the ANN candidates, when the
    version retrieves through an index), those candidates, and the history used when it had
    to be built (the user removed items from it)."""
    model = v.model
    user = state.user
    cart = np.array(state.fresh, dtype=np.int64)
    users = np.array([user]) if user >= 0 else None
    times = None if state.fresh_times is None else [np.array(state.fresh_times, dtype=np.int64)]
    if state.cold:
        return model.popularity_.astype(np.float32), None, None
    if model.uses_history and state.removed:
        history = history_of(v, state, removed=True)
        if not len(history):
            return model.popularity_.astype(np.float32), None, history
        return model.score_carts([history], at=at)[0], None, history
    if v.ann is not None and capable(model, TwoTower):
        depth = k + len(state.blocked)
        scores, pool = retrieve(v.ann, model, v, cart, users, depth, at, times)
        return scores, pool, None
    if model.uses_history:
        return model.score_carts([cart], users, at=at, times=times)[0], None, None
    if user >= 0:
        return model.score(user, at=at), None, None
    return model.popularity_.astype(np.float32), None, None


def retrieve(
    index: VectorIndex,
    model: TwoTower,
    v: ModelVersion,
    cart: np.ndarray,
    users: np.ndarray | None,
    depth: int,
    at: int | None,
    times: list[np.ndarray] | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Exact two-tower scores of the index's nearest items (enough of them to survive the
    exclusions); every other item ``-inf``."""
    q = model.query_vectors([cart], users, at=at, times=times)
    n_items = v.model.n_items_
    n_seen = len(v.model.seen_[users[0]].indices) if users is not None else 0
    wanted = int(min(n_items, max(ANN_CANDIDATES, 2 * (depth + n_seen))))
    cand, _ = index.search(q, wanted)
    cand = cand[0][cand[0] >= 0]
    scores = np.full(n_items, -np.inf, dtype=np.float32)
    scores[cand] = model.item_matrix()[cand] @ q[0]
    return scores, cand


def history_of(v: ModelVersion, state: UserState, *, removed: bool = False) -> np.ndarray:
    """What the user did, oldest first: the training history (in time order where the model
    or the artifacts keep it), then the fresh events; with ``removed``, without the items the
    user removed."""
    base = user_history(v.model, state.user)
    if state.user >= 0 and not capable(v.model, OrderedHistory):
        ordered = v.artifacts.user_history(state.user)["item"].to_numpy().astype(np.int64)
        if len(ordered):
            base = ordered
    hist = np.concatenate([base, np.asarray(state.fresh, dtype=np.int64)])
    if removed and state.removed:
        hist = hist[~np.isin(hist, list(state.removed))]
    return hist


def exclude(v: ModelVersion, scores: np.ndarray, state: UserState) -> np.ndarray:
    """``scores`` with NaN, the user's training items and every blocked item at ``-inf``."""
    scores = scores.astype(np.float32, copy=False)
    scores[np.isnan(scores)] = -np.inf
    if state.user >= 0:
        seen = v.model.seen_  # the row's columns, read without building a one-row matrix
        scores[seen.indices[seen.indptr[state.user] : seen.indptr[state.user + 1]]] = -np.inf
    vocab = v.artifacts.item_vocab
    scores[[vocab.index(i) for i in state.blocked if i in vocab]] = -np.inf
    return scores


def context_fields(v: ModelVersion, context: dict[str, str | None] | None) -> dict[str, str]:
    """The request's context values that the version's context prior knows."""
    prior = v.context_prior
    if prior is None or not context:
        return {}
    from lmrec.context import context_of_request

    wanted = context_of_request(context)
    return {k: val for k, val in wanted.items() if val in prior.values_.get(k, [])}


def blend_context(
    v: ModelVersion, scores: np.ndarray, used: dict[str, str], weight: float
) -> np.ndarray:
    """Shift ``scores`` toward what is chosen in the context ``used``."""
    from lmrec.context import apply_context

    lift = v.context_prior.lift(used, len(scores))
    return apply_context(scores, lift, weight)


def blend_query(v: ModelVersion, scores: np.ndarray, query: str, weight: float) -> np.ndarray:
    """``weight * z(cosine to the query) + (1 - weight) * z(personal score)``; items left out
    before stay out (``weight`` 1: pure search)."""
    from lmrec.models.content import zscore
    from lmrec.text import encode_items

    emb = v.text_embeddings
    assert v.encoder is not None  # text_embeddings refused otherwise
    q = encode_items([query], v.encoder, use_cache=False)[0]
    sims = zscore(emb @ q)
    blended = sims if weight >= 1.0 else weight * sims + (1.0 - weight) * zscore(scores)
    blended[~np.isfinite(scores)] = -np.inf
    return blended.astype(np.float32)


def filter_categories(
    v: ModelVersion,
    scores: np.ndarray,
    wanted: tuple[str, ...] | None,
    muted: tuple[str, ...],
) -> np.ndarray:
    """Only items in one of the ``wanted`` categories (when given), none in a ``muted`` one."""
    if wanted is not None:
        scores[~in_categories(v, set(wanted))] = -np.inf
    if muted:
        scores[in_categories(v, set(muted))] = -np.inf
    return scores


def in_categories(v: ModelVersion, wanted: set[str]) -> np.ndarray:
    """Per item: whether it is in one of the ``wanted`` categories."""
    return np.array([bool(wanted & set(c)) for c in v.categories], dtype=bool)


def add_new_items(
    v: ModelVersion,
    scores: np.ndarray,
    pool: np.ndarray | None,
    state: UserState,
    new: NewItems,
) -> tuple[np.ndarray, np.ndarray | None]:
    """``scores`` extended by the items added after training, scored through their text by
    models that can (indices from ``n_items`` on); unchanged for the others."""
    model = v.model
    if not isinstance(model, ScoresNewItems):
        return scores, pool
    users = np.array([state.user]) if state.user >= 0 else None
    carts = [np.array(state.fresh, dtype=np.int64)]
    extra = np.asarray(model.score_new_items(carts, users, new.embeddings)[0], dtype=np.float32)
    extra[[j for j, i in enumerate(new.ids) if i in state.blocked]] = -np.inf
    n = v.n_items
    if pool is not None:
        pool = np.concatenate([pool, np.arange(n, n + len(new.ids))])
    return np.concatenate([scores, extra]), pool


def top(scores: np.ndarray, k: int, pool: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` best items (ids, scores), among ``pool`` only when given (then the catalog-
    sized array is never sorted)."""
    if pool is None:
        ids, vals = top_n(scores[None, :], k)
        return ids[0], vals[0]
    ids, vals = top_n(scores[pool][None, :], k)
    return np.where(ids[0] >= 0, pool[np.maximum(ids[0], 0)], -1), vals[0]


def rerank(
    v: ModelVersion,
    scores: np.ndarray,
    k: int,
    cfg: RerankConfig,
    state: UserState,
    pool: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray]:
    """The top ``cfg.candidates`` items re-ranked for diversity, exposure, novelty and the
    rest of ``cfg`` (:mod:`lmrec.rerank`); what was shown is counted for exploration."""
    from lmrec.rerank import category_mix
    from lmrec.rerank import rerank as rerank_list

    feats = v.features(text=cfg.dedupe is not None or cfg.diversity > 0)
    head = scores[: feats.n_items]
    cand, cand_scores = top(head, cfg.candidates, None if pool is None else pool[pool < len(head)])
    mix = None
    if cfg.calibration > 0 and feats.categories is not None:
        row = np.zeros((1, feats.n_items), dtype=np.float32)
        row[0, history_of(v, state)] = 1.0
        mix = category_mix(sp.csr_matrix(row), feats.categories)[0]
    explorer = v.explorer
    ids, vals = rerank_list(
        cand, cand_scores, k, feats, cfg,
        user_mix=mix, explorer=explorer, shown=explorer.shows[: feats.n_items],
    )  # fmt: skip
    explorer.shown(ids)
    return ids, vals


def reasons_for(
    v: ModelVersion,
    ids: np.ndarray,
    state: UserState,
    request: Request,
    history: np.ndarray | None,
) -> list[dict[str, Any]]:
    """One reason per item, from the model's own signals (see :mod:`lmrec.explain`), cached
    per history in the version."""
    n = v.n_items
    name = v.model.name
    if request.query is not None:
        reason = query_reason(request.query, with_history=not state.cold).to_dict()
        return [dict(reason) for _ in ids]
    if state.cold:
        return [{"kind": "popular", "text": "popular with everyone"} for _ in ids]
    out: list[dict[str, Any]] = [
        {"kind": "new", "text": f"new in the catalog, close to your taste ({name})"} for _ in ids
    ]
    known = np.flatnonzero(ids < n)
    if not len(known):
        return out
    if not request.explain:
        for j in known:
            out[j] = {"kind": "model", "text": f"from your history ({name})"}
        return out
    key = (state.user, state.fresh, tuple(sorted(state.removed)))
    cached = v.reasons.get(key)
    missing = [j for j in known if int(ids[j]) not in cached] if cached else list(known)
    if missing:
        if history is None:
            history = history_of(v, state, removed=True)
        vocab = v.artifacts.item_vocab
        states = None
        if state.user >= 0 and not state.fresh and not state.removed and v.reason_states:
            states = v.reason_states.rows(state.user)  # the training history: computed ahead
        found = explain_items(
            v.model, history, ids[missing], v.titles, verb=v.options.reason_verb, states=states
        )
        computed = {}
        for j, r in zip(missing, found, strict=True):
            d = r.to_dict()
            if r.item is not None:
                d["item"] = vocab.raw(r.item)
            computed[int(ids[j])] = d
        cached = v.reasons.put(key, computed)
    assert cached is not None
    for j in known:
        out[j] = dict(cached[int(ids[j])])
    return out


def render(
    v: ModelVersion,
    ids: np.ndarray,
    vals: np.ndarray,
    reasons: list[dict[str, Any]],
    new: NewItems,
) -> list[dict[str, Any]]:
    """The response's items: raw id, title, categories, score, reason text and explanation."""
    n = v.n_items
    vocab, titles, cats = v.artifacts.item_vocab, v.titles, v.categories
    return [
        {
            "item_id": vocab.raw(int(i)) if i < n else new.ids[i - n],
            "title": titles[int(i)] if i < n else new.titles[i - n],
            "categories": cats[int(i)] if i < n else [],
            "score": float(s),
            "reason": r["text"],
            "explanation": r,
        }
        for i, s, r in zip(ids, vals, reasons, strict=True)
    ]
