"""Lists for people: recommendations, cart completion and ads."""

from __future__ import annotations

import json
from typing import Any

import anyio
from fastapi import APIRouter, HTTPException, Request, Response

from lmrec.errors import UsageError
from lmrec.online import Request as RecRequest
from lmrec.rerank import RerankConfig
from lmrec.service.deps import ERRORS, Eng, Who, caller_for_user
from lmrec.service.engine import Engine
from lmrec.service.schemas import (
    AdsRequest,
    CartRequest,
    RecommendationRequest,
    RecommendationResponse,
    Rerank,
)
from lmrec.service.strict import StrictRoute

router = APIRouter(route_class=StrictRoute, responses=ERRORS)


@router.post("/v1/recommendations", response_model=RecommendationResponse)
async def recommendations(
    body: RecommendationRequest, eng: Eng, caller: Who, request: Request
) -> Response:
    caller_for_user(caller, "read", body.user_id)
    # a plain list is computed on the event loop; anything slower off it, one request at a
    # time per process (threads computing at once only contend for the interpreter);
    # serialised once, without re-validation
    rec = RecRequest(
        body.user_id,
        body.k,
        exclude=tuple(body.exclude or ()),
        query=body.query,
        query_weight=body.query_weight,
        categories=None
        if body.filters is None or body.filters.categories is None
        else tuple(body.filters.categories),
        rerank=_rerank_config(body.rerank, eng),
        explain=body.explain,
        context=body.context.model_dump() if body.context else None,
        context_weight=body.context_weight,
    )
    if eng.quick(rec):  # a millisecond of work: less than the hop to a thread and back costs
        result = eng.serve(rec)
    else:
        result = await anyio.to_thread.run_sync(eng.serve, rec, limiter=request.app.state.compute)
    return Response(json.dumps(result, ensure_ascii=True), media_type="application/json")


@router.post("/v1/cart/recommendations", responses={409: {"description": "No cart model"}})
def cart(body: CartRequest, eng: Eng, caller: Who) -> dict[str, Any]:
    if body.user_id is not None:
        caller_for_user(caller, "read", body.user_id)
    elif not (caller.may("read") or caller.user is not None):
        raise HTTPException(403, "this caller lacks the 'read' scope")
    vocab = eng.active.artifacts.item_vocab
    unknown = [i for i in body.items if i not in vocab]
    if unknown:
        raise HTTPException(404, f"unknown item id(s) in the cart: {', '.join(unknown[:5])}")
    if not eng.active.model.uses_history:
        raise HTTPException(409, f"the active model '{eng.active.model.name}' cannot score a cart")
    return eng.complete_cart(
        body.items, body.k, user_id=body.user_id, allow_substitutes=body.allow_substitutes
    )


@router.post("/v1/ads/rank")
def ads(body: AdsRequest, request: Request, caller: Who) -> dict[str, Any]:
    from lmrec.ctr.ads import AdPolicy, rank_ads

    caller_for_user(caller, "read", body.user_id)
    ctr = request.app.state.ctr
    if ctr is None:
        raise HTTPException(404, "no CTR model is served; train one with --task ctr")
    try:
        ranked = rank_ads(
            ctr.model(), ctr.encoder, user_id=body.user_id, users=ctr.users, items=ctr.items,
            context=body.context, candidates=body.candidates,
            impressions=ctr.impressions_of(body.user_id), k=body.k, history=ctr.history,
            policy=AdPolicy(min_pctr=body.min_pctr, frequency_cap=body.frequency_cap),
        )  # fmt: skip
    except UsageError as exc:
        raise HTTPException(422, str(exc)) from None
    return {"user_id": body.user_id, "ads": ranked.to_dicts()}


def _rerank_config(body: Rerank | None, eng: Engine) -> RerankConfig | None:
    if body is None:
        return None
    vocab = eng.active.artifacts.item_vocab
    unknown = [i for i in body.pinned if i not in vocab]
    if unknown:
        raise HTTPException(404, f"unknown pinned item id(s): {', '.join(unknown[:5])}")
    fields = body.model_dump(exclude={"pinned"})
    return RerankConfig(**fields, pinned=tuple(vocab.index(i) for i in body.pinned))
