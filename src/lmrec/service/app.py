"""The HTTP API (FastAPI): the app, its lifespan and its error handlers; the routes live in
:mod:`lmrec.service.routes`."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
from fastapi import FastAPI

from lmrec.errors import UsageError
from lmrec.explain.rewrite import ReasonRewriter
from lmrec.online import ServingOptions
from lmrec.service.auth import KeyRing, UserTokens
from lmrec.service.deps import Access, RateLimits
from lmrec.service.engine import Engine
from lmrec.service.impressions import ImpressionLog
from lmrec.service.middleware import Guard, enable_access_log
from lmrec.service.routes import ROUTERS
from lmrec.service.settings import ServiceSettings
from lmrec.service.store import Store, StoreUnavailable, open_store
from lmrec.service.strict import install_error_handlers
from lmrec.service.telemetry import Telemetry

__all__ = ["MAX_BODY", "SETTINGS_ENV", "app_from_env", "create_app", "rewriter_for"]

#: the largest request body, refused with 413 whether or not it declares its length
MAX_BODY = 1 << 20
#: how often a worker purges events older than the retention period
PURGE_EVERY_S = 3600.0
#: event batches a worker hands to the store at once (the rest wait their turn)
WRITERS = 4

#: The environment variable through which ``lmrec serve --workers N`` hands its settings
#: (as JSON) to each worker process.
SETTINGS_ENV = "LMREC_SERVE_SETTINGS_JSON"


def _ctr(root: Path, runtime: str = "auto") -> Any:
    """The CTR artifacts under ``root`` (``lmrec train --task ctr`` wrote ``root/ctr``), if any,
    their neural models scored by ``runtime``."""
    from lmrec.ctr.ads import CTRArtifacts

    if not (root / "ctr" / "manifest.json").is_file():
        return None
    art = CTRArtifacts.open(root)
    for model in art.models.values():
        use_runtime = getattr(model, "use_runtime", None)
        if callable(use_runtime):
            use_runtime(runtime)
    return art


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
    if not keyring.enabled and not settings.no_auth:
        raise UsageError(
            "no API keys configured: give keys (--api-keys FILE or $LMREC_API_KEYS), "
            "or --no-auth to serve an open API"
        )
    rewriter = rewriter if rewriter is not None else rewriter_for(settings)
    telemetry = Telemetry()
    limits = RateLimits(settings.rate_limit, settings.user_rate_limit)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        store = open_store(settings.store)
        options = ServingOptions(
            text_encoder=settings.text_encoder,
            reason_verb=settings.reason_verb,
            ann=settings.ann,
            runtime=settings.runtime,
        )
        app.state.ctr = _ctr(settings.artifacts, settings.runtime)
        app.state.compute = anyio.CapacityLimiter(1)  # recommendations computed one at a time
        # event batches written at once per process: enough for group commits, and a bounded
        # number of threads (each one more to wait for the interpreter at every step)
        app.state.writes = anyio.CapacityLimiter(WRITERS)
        log = ImpressionLog(store) if settings.impressions else None
        app.state.impressions = log
        app.state.engine = Engine(
            settings.artifacts, store, settings.model, options=options, rewriter=rewriter,
            explore=settings.explore, explore_pool=settings.explore_pool, log=log,
        )  # fmt: skip
        telemetry.watch(app.state.engine)
        # the model, its tables and the libraries are some 300,000 objects that live as long
        # as the process: out of the collector's sight, a full collection takes a fraction
        # of a millisecond instead of ~75 ms (a pause every request waiting would feel)
        gc.collect()
        gc.freeze()
        app.state.access = Access(keyring, UserTokens(store.vault.token_key), limits,
                                  open=settings.no_auth)  # fmt: skip
        purge = asyncio.create_task(_purge_loop(store, settings.retention_days))
        try:
            yield
        finally:
            purge.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await purge
            if log is not None:
                await anyio.to_thread.run_sync(log.close)
            store.close()
            gc.unfreeze()

    app = FastAPI(title="lmrec", version="1", lifespan=lifespan, max_body_size=MAX_BODY)
    app.state.settings = settings
    app.state.telemetry = telemetry
    app.add_middleware(Guard, telemetry=telemetry)
    install_error_handlers(app, telemetry)
    for router in ROUTERS:
        app.include_router(router)
    return app


async def _purge_loop(store: Store, days: float | None) -> None:
    """Purge events past the retention period now and every :data:`PURGE_EVERY_S`."""
    if days is None:
        return
    while True:
        try:
            purged = await anyio.to_thread.run_sync(store.purge_events, days)
            if purged:
                await anyio.to_thread.run_sync(
                    store.audit, "service", "retention purge", None,
                    f"{purged} events stored over {days:g} days ago",
                )  # fmt: skip
        except StoreUnavailable:
            pass  # tried again at the next round
        await asyncio.sleep(PURGE_EVERY_S)


def app_from_env() -> FastAPI:
    """The app of the settings ``lmrec serve --workers N`` put in :data:`SETTINGS_ENV`: the
    factory each worker process calls."""
    settings = ServiceSettings.model_validate_json(os.environ[SETTINGS_ENV])
    enable_access_log(settings.access_log)
    return create_app(settings=settings)


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
