"""What routes depend on: the engine, and who the caller is and what they may do (application
keys with scopes, user tokens for one user, rate limits per caller)."""

from __future__ import annotations

import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import FixedWindowRateLimiter

from lmrec.errors import UsageError
from lmrec.service.auth import Caller, KeyRing, UserTokens
from lmrec.service.engine import Engine

__all__ = ["ERRORS", "Access", "Eng", "RateLimits", "Who", "caller_for_user", "require"]


async def _engine(request: Request) -> Engine:
    # async: FastAPI runs a plain-def dependency in its thread pool, a hop that costs more
    # than the lookup
    eng: Engine = request.app.state.engine
    return eng


#: route parameter type: the app's engine
Eng = Annotated[Engine, Depends(_engine)]

# the two ways to authenticate, declared so that the OpenAPI spec (and /docs) knows them
_api_key = APIKeyHeader(
    name="X-API-Key", auto_error=False, scheme_name="apiKey",
    description="An application key with scopes read, events or admin.",
)  # fmt: skip
_bearer = HTTPBearer(
    auto_error=False, scheme_name="userToken", bearerFormat="JWT",
    description="A user token (POST /v1/users/{user_id}/token): acts for that user only.",
)  # fmt: skip


class RateLimits:
    """Requests per second per caller (an application key, a user, or a client address
    when the API is open), in this worker process: over it, 429 with Retry-After."""

    def __init__(self, per_key: str, per_user: str) -> None:
        try:
            self.per_key: RateLimitItem = parse(per_key)
            self.per_user: RateLimitItem = parse(per_user)
        except ValueError as exc:
            raise UsageError(f"rate limit: {exc} (use e.g. '100/second')") from None
        # the asyncio storage expires counters in a task on the event loop; the threaded
        # one starts a thread every 10 ms under load, and the loop waits for each to start
        self._limiter = FixedWindowRateLimiter(MemoryStorage())

    async def check(self, item: RateLimitItem, who: str) -> float | None:
        """None when ``who`` may go on, else the seconds until they may."""
        if await self._limiter.hit(item, who):
            return None
        reset = (await self._limiter.get_window_stats(item, who)).reset_time
        return max(0.0, reset - time.time())


@dataclass(frozen=True)
class Access:
    """How the app lets callers in."""

    keys: KeyRing
    tokens: UserTokens | None
    limits: RateLimits
    open: bool  # --no-auth: every request may do everything


async def _caller(
    request: Request,
    key: Annotated[str | None, Depends(_api_key)],
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Caller:
    access: Access = request.app.state.access
    if access.open:
        who = request.client.host if request.client else "local"
        caller = Caller("open", frozenset(("read", "events", "admin")))
        limit = access.limits.per_key
    elif key is not None:
        found = access.keys.identify(key)
        if found is None:
            raise HTTPException(401, "unknown API key (header X-API-Key)")
        caller = Caller(*found)
        who, limit = caller.actor, access.limits.per_key
    elif bearer is not None and access.tokens is not None:
        user = access.tokens.user_of(bearer.credentials)
        if user is None:
            raise HTTPException(401, "invalid or expired user token")
        caller = Caller("user-token", user=user)
        who, limit = f"user:{user}", access.limits.per_user
    else:
        raise HTTPException(
            401, "missing credentials: an API key (header X-API-Key) or a user token "
            "(Authorization: Bearer)", headers={"WWW-Authenticate": "Bearer"},
        )  # fmt: skip
    wait = await access.limits.check(limit, who)
    if wait is not None:
        request.app.state.telemetry.limited.inc()
        raise HTTPException(
            429, "too many requests from this caller", {"Retry-After": str(max(1, math.ceil(wait)))}
        )
    return caller


#: route parameter type: who is calling (authenticated and within their rate limit)
Who = Annotated[Caller, Depends(_caller)]


def require(scope: str, *, users: bool = False) -> Any:
    """A dependency that lets a request through only from a caller with ``scope`` (or, when
    ``users``, any user token: routes that show nothing personal, such as the catalog)."""

    def check_factory() -> Callable[[Caller], Awaitable[None]]:
        async def check(caller: Who) -> None:
            if caller.may(scope) or (users and caller.user is not None):
                return
            raise HTTPException(403, f"this caller lacks the '{scope}' scope")

        return check

    return Depends(check_factory())


def caller_for_user(caller: Caller, scope: str, user_id: str) -> None:
    """Let through a caller with ``scope``, or the user's own token; else 403."""
    if not caller.may(scope, user_id):
        if caller.user is not None:
            raise HTTPException(403, "a user token acts only for its own user")
        raise HTTPException(403, f"this caller lacks the '{scope}' scope")


def _error(text: str) -> dict[str, Any]:
    return {"description": text, "content": {"application/json": {"schema": {
        "type": "object", "properties": {"detail": {}}}}}}  # fmt: skip


#: the error answers every authenticated route can give (documented in the OpenAPI spec)
ERRORS: dict[int | str, dict[str, Any]] = {
    400: _error("A path with control or unpaired characters"),
    401: _error("Missing or unknown credentials"),
    403: _error("The credentials do not allow this"),
    404: _error("An unknown id"),
    413: {"description": "A body over the size limit"},
    422: _error("A body or parameter that breaks the schema"),
    429: _error("Over the caller's rate limit; retry after Retry-After seconds"),
    503: _error("The store cannot answer now; retry after Retry-After seconds"),
}
