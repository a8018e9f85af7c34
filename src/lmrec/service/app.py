"""The HTTP API (FastAPI): thin routes over :class:`~lmrec.service.engine.Engine`."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Query, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)

from lmrec.errors import UsageError
from lmrec.explain.rewrite import ReasonRewriter
from lmrec.online import Request as RecRequest
from lmrec.online import ServingOptions
from lmrec.rerank import RerankConfig
from lmrec.service.auth import KeyRing
from lmrec.service.engine import Engine
from lmrec.service.schemas import (
    MAX_K,
    AdsRequest,
    CartRequest,
    EventsIn,
    ItemIn,
    ProfileEdit,
    RecommendationRequest,
    RecommendationResponse,
    Rerank,
)
from lmrec.service.store import Event, open_store

__all__ = ["app_from_env", "create_app"]

MAX_BODY = 1 << 20  # 1 MiB


class _Limits:
    """Pure ASGI middleware (cheaper than ``@app.middleware``): refuses bodies over
    :data:`MAX_BODY` with 413 and records each request's route, status and latency."""

    def __init__(self, app: Any, *, requests: Counter, latency: Histogram) -> None:
        self.app = app
        self.requests = requests
        self.latency = latency

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        size = dict(scope.get("headers") or []).get(b"content-length")
        if size is not None and (not size.isdigit() or int(size) > MAX_BODY):
            response = JSONResponse({"detail": f"request body over {MAX_BODY} bytes"}, 413)
            await response(scope, receive, send)
            return
        start = time.perf_counter()
        status = {"code": 500}

        async def send_wrapper(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            path = getattr(scope.get("route"), "path", "unmatched")
            self.latency.labels(path).observe(time.perf_counter() - start)
            self.requests.labels(path, str(status["code"])).inc()


def _ctr(root: Path) -> Any:
    """The CTR artifacts under ``root`` (``lmrec train --task ctr`` wrote ``root/ctr``), if any."""
    from lmrec.ctr.ads import CTRArtifacts

    return CTRArtifacts.open(root) if (root / "ctr" / "manifest.json").is_file() else None


async def _engine(request: Request) -> Engine:
    # async: FastAPI runs a plain-def dependency in its thread pool, a hop that cost more than
    # the lookup (as did the scope check below)
    eng: Engine = request.app.state.engine
    return eng


#: route parameter type: the app's engine (module level, so FastAPI can resolve the annotation)
Eng = Annotated[Engine, Depends(_engine)]


def create_app(
    artifacts: str | Path,
    *,
    store_url: str = "sqlite:///lmrec-store.db",
    keys: KeyRing | None = None,
    model: str | None = None,
    text_encoder: str = "all-MiniLM-L6-v2",
    reason_verb: str = "liked",
    rewriter: ReasonRewriter | None = None,
    ann: str = "auto",
) -> FastAPI:
    keyring = keys or KeyRing({})
    registry = CollectorRegistry()
    requests = Counter(
        "lmrec_requests_total", "HTTP requests", ["route", "status"], registry=registry
    )
    latency = Histogram(
        "lmrec_request_seconds", "Request latency", ["route"], registry=registry,
        buckets=(0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1.0),
    )  # fmt: skip
    ingested = Counter("lmrec_events_total", "Events stored", registry=registry)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        store = open_store(store_url)
        app.state.ctr = _ctr(Path(artifacts))
        options = ServingOptions(text_encoder=text_encoder, reason_verb=reason_verb, ann=ann)
        app.state.engine = Engine(Path(artifacts), store, model, options=options, rewriter=rewriter)
        try:
            yield
        finally:
            store.close()

    app = FastAPI(title="lmrec", version="1", lifespan=lifespan)

    app.add_middleware(_Limits, requests=requests, latency=latency)

    @app.exception_handler(UsageError)
    async def usage_error(_: Request, exc: UsageError) -> JSONResponse:
        # bad input found past validation (e.g. an unreadable context time): the caller's fault
        return JSONResponse({"detail": str(exc)}, status_code=422)

    def scope(name: str) -> Callable[[Request], Awaitable[None]]:
        async def check(request: Request) -> None:
            if not keyring.enabled:
                return
            scopes = keyring.scopes(request.headers.get("x-api-key"))
            if scopes is None:
                raise HTTPException(401, "missing or unknown API key (header X-API-Key)")
            if name not in scopes:
                raise HTTPException(403, f"this API key lacks the '{name}' scope")

        return check

    @app.post(
        "/v1/recommendations",
        dependencies=[Depends(scope("read"))],
        response_model=RecommendationResponse,
    )
    async def recommendations(body: RecommendationRequest, eng: Eng) -> Response:
        # the hot path: computed on the event loop (one short CPU burst, no thread hop) and
        # serialised once, without FastAPI re-validating the response
        result = eng.run(
            RecRequest(
                body.user_id,
                body.k,
                exclude=tuple(body.exclude or ()),
                query=body.query,
                query_weight=body.query_weight,
                categories=tuple(body.filters.categories)
                if body.filters and body.filters.categories is not None
                else None,
                rerank=_rerank_config(body.rerank, eng),
                explain=body.explain,
                context=body.context.model_dump() if body.context else None,
                context_weight=body.context_weight,
            )
        )
        return Response(json.dumps(result), media_type="application/json")

    @app.post("/v1/events", dependencies=[Depends(scope("events"))])
    def events(body: EventsIn, eng: Eng) -> dict[str, Any]:
        vocab = eng.active.artifacts.item_vocab
        unknown = sorted({e.item_id for e in body.events if e.item_id not in vocab})
        if unknown:  # perhaps added through the catalog API (read only when needed)
            added = eng.store.items()
            unknown = [i for i in unknown if i not in added]
        if unknown:
            raise HTTPException(404, f"unknown item id(s): {', '.join(unknown[:5])}")
        now = time.time()
        stored = eng.store.add_events(
            [
                Event(
                    e.user_id,
                    e.item_id,
                    e.type,
                    e.timestamp if e.timestamp is not None else now,
                    e.value,
                    e.context,
                    e.event_id,
                )
                for e in body.events
            ]
        )
        ingested.inc(stored)
        eng.record_events(body.events)
        return {"accepted": len(body.events), "stored": stored}

    @app.post("/v1/cart/recommendations", dependencies=[Depends(scope("read"))])
    def cart(body: CartRequest, eng: Eng) -> dict[str, Any]:
        vocab = eng.active.artifacts.item_vocab
        unknown = [i for i in body.items if i not in vocab]
        if unknown:
            raise HTTPException(404, f"unknown item id(s) in the cart: {', '.join(unknown[:5])}")
        if not eng.active.model.uses_history:
            raise HTTPException(
                409, f"the active model '{eng.active.model.name}' cannot score a cart"
            )
        return eng.complete_cart(
            body.items, body.k, user_id=body.user_id, allow_substitutes=body.allow_substitutes
        )

    @app.post("/v1/ads/rank", dependencies=[Depends(scope("read"))])
    def ads(body: AdsRequest, request: Request) -> dict[str, Any]:
        from lmrec.ctr.ads import AdPolicy, rank_ads

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

    @app.get("/v1/items/{item_id}/similar", dependencies=[Depends(scope("read"))])
    def similar(
        item_id: str, eng: Eng, k: Annotated[int, Query(ge=1, le=MAX_K)] = 10
    ) -> dict[str, Any]:
        if item_id not in eng.active.artifacts.item_vocab:
            raise HTTPException(404, f"unknown item id '{item_id}'")
        return {"item_id": item_id, "items": eng.similar(item_id, k)}

    @app.get("/v1/items", dependencies=[Depends(scope("read"))])
    def items(
        eng: Eng,
        offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> dict[str, Any]:
        catalog = eng.active.artifacts.items.select("item_id", "title")
        page = catalog.slice(offset, limit).to_dicts()
        return {"total": catalog.height, "items": page, "added": list(eng.store.items().values())}

    @app.put("/v1/items", dependencies=[Depends(scope("admin"))])
    def put_items(body: list[ItemIn], eng: Eng) -> dict[str, Any]:
        if len(body) > 1000:
            raise HTTPException(422, "at most 1000 items per request")
        eng.upsert_items([i.model_dump() for i in body])
        return {"upserted": len(body)}

    @app.get("/v1/users/{user_id}/profile", dependencies=[Depends(scope("read"))])
    def profile(user_id: str, eng: Eng) -> dict[str, Any]:
        return eng.profile(user_id)

    @app.patch("/v1/users/{user_id}/profile", dependencies=[Depends(scope("events"))])
    def edit_profile(user_id: str, body: ProfileEdit, eng: Eng) -> dict[str, Any]:
        vocab = eng.active.artifacts.item_vocab
        added = eng.store.items()
        unknown = [i for i in body.remove_items if i not in vocab and i not in added]
        if unknown:
            raise HTTPException(404, f"unknown item id(s): {', '.join(unknown[:5])}")
        return eng.edit_profile(
            user_id,
            mute=body.mute_categories,
            unmute=body.unmute_categories,
            remove=body.remove_items,
            restore=body.restore_items,
        )

    @app.get("/v1/models", dependencies=[Depends(scope("read"))])
    def models(eng: Eng) -> dict[str, Any]:
        return {"active": eng.active.describe(), "versions": sorted(eng.versions)}

    @app.post("/v1/models/{version}/activate", dependencies=[Depends(scope("admin"))])
    def activate(version: str, eng: Eng) -> dict[str, Any]:
        try:
            loaded = eng.activate(version)
        except KeyError:
            raise HTTPException(404, f"unknown model version '{version}'") from None
        return {"active": loaded.describe()}

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz")
    def readyz(request: Request) -> JSONResponse:
        ready = getattr(request.app.state, "engine", None) is not None
        return JSONResponse({"ready": ready}, status_code=200 if ready else 503)

    @app.get("/metrics")
    def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return app


def _rerank_config(body: Rerank | None, eng: Engine) -> RerankConfig | None:
    if body is None:
        return None
    vocab = eng.active.artifacts.item_vocab
    unknown = [i for i in body.pinned if i not in vocab]
    if unknown:
        raise HTTPException(404, f"unknown pinned item id(s): {', '.join(unknown[:5])}")
    fields = body.model_dump(exclude={"pinned"})
    return RerankConfig(**fields, pinned=tuple(vocab.index(i) for i in body.pinned))


def app_from_env() -> FastAPI:
    """The app configured by ``LMREC_SERVE_*`` variables: the factory each worker process of
    ``lmrec serve --workers N`` calls."""
    import os

    return create_app(
        os.environ["LMREC_SERVE_ARTIFACTS"],
        store_url=os.environ["LMREC_SERVE_STORE"],
        keys=KeyRing.from_config(os.environ.get("LMREC_API_KEYS")),
        model=os.environ.get("LMREC_SERVE_MODEL") or None,
        text_encoder=os.environ["LMREC_SERVE_TEXT_ENCODER"],
        reason_verb=os.environ.get("LMREC_SERVE_REASON_VERB", "liked"),
        rewriter=rewriter_from_env(),
        ann=os.environ.get("LMREC_SERVE_ANN", "auto"),
    )


def rewriter_from_env() -> ReasonRewriter | None:
    """``LMREC_REASON_LLM_URL`` (off when unset), ``LMREC_REASON_LLM_MODEL``,
    ``LMREC_REASON_LLM_TIMEOUT`` (seconds), ``LMREC_REASON_LLM_API_KEY``."""
    import os

    url = os.environ.get("LMREC_REASON_LLM_URL")
    if not url:
        return None
    return ReasonRewriter(
        url,
        os.environ.get("LMREC_REASON_LLM_MODEL", "default"),
        float(os.environ.get("LMREC_REASON_LLM_TIMEOUT", "0.5")),
        os.environ.get("LMREC_REASON_LLM_API_KEY") or None,
    )
