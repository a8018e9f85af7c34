"""The HTTP API (FastAPI): the app, its lifespan and its error handlers; the routes live in
:mod:`lmrec.service.routes`."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from lmrec.errors import UsageError
from lmrec.explain.rewrite import ReasonRewriter
from lmrec.online import ServingOptions
from lmrec.service.auth import KeyRing
from lmrec.service.engine import Engine
from lmrec.service.routes import ROUTERS
from lmrec.service.settings import ServiceSettings
from lmrec.service.store import open_store
from lmrec.service.telemetry import Limits, Telemetry

__all__ = ["SETTINGS_ENV", "app_from_env", "create_app", "rewriter_for"]

#: The environment variable through which ``lmrec serve --workers N`` hands its settings
#: (as JSON) to each worker process.
SETTINGS_ENV = "LMREC_SERVE_SETTINGS_JSON"


def _ctr(root: Path) -> Any:
    """The CTR artifacts under ``root`` (``lmrec train --task ctr`` wrote ``root/ctr``), if any."""
    from lmrec.ctr.ads import CTRArtifacts

    return CTRArtifacts.open(root) if (root / "ctr" / "manifest.json").is_file() else None


def create_app(
    artifacts: str | Path | None = None,
    *,
    settings: ServiceSettings | None = None,
    keys: KeyRing | None = None,
    rewriter: ReasonRewriter | None = None,
    **fields: Any,
) -> FastAPI:
    """The app over ``settings`` (or over ``artifacts`` and any other settings' ``fields``);
    ``keys`` and ``rewriter`` default to what the settings configure."""
    if settings is None:
        given: dict[str, Any] = {"artifacts": artifacts} if artifacts is not None else {}
        settings = ServiceSettings(**given, **fields)
    keyring = keys if keys is not None else KeyRing.from_config(settings.api_keys)
    rewriter = rewriter if rewriter is not None else rewriter_for(settings)
    telemetry = Telemetry()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        store = open_store(settings.store)
        options = ServingOptions(
            text_encoder=settings.text_encoder, reason_verb=settings.reason_verb, ann=settings.ann
        )
        app.state.ctr = _ctr(settings.artifacts)
        app.state.compute = anyio.CapacityLimiter(1)  # recommendations computed one at a time
        app.state.engine = Engine(
            settings.artifacts, store, settings.model, options=options, rewriter=rewriter
        )
        try:
            yield
        finally:
            store.close()

    app = FastAPI(title="lmrec", version="1", lifespan=lifespan)
    app.state.keys = keyring
    app.state.telemetry = telemetry
    app.add_middleware(Limits, telemetry=telemetry)

    @app.exception_handler(UsageError)
    async def usage_error(_: Request, exc: UsageError) -> JSONResponse:
        # bad input found past validation (e.g. an unreadable context time): the caller's fault
        return JSONResponse({"detail": str(exc)}, status_code=422)

    for router in ROUTERS:
        app.include_router(router)
    return app


def app_from_env() -> FastAPI:
    """The app of the settings ``lmrec serve --workers N`` put in :data:`SETTINGS_ENV`: the
    factory each worker process calls."""
    return create_app(settings=ServiceSettings.model_validate_json(os.environ[SETTINGS_ENV]))


def rewriter_for(settings: ServiceSettings) -> ReasonRewriter | None:
    """The chat-model reason rewriter the settings configure (none without a URL)."""
    if not settings.reason_llm_url:
        return None
    return ReasonRewriter(
        settings.reason_llm_url,
        settings.reason_llm_model,
        settings.reason_llm_timeout,
        settings.reason_llm_api_key,
    )
