"""What routes depend on: the engine, the CTR artifacts, and API-key scopes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request

from lmrec.service.auth import KeyRing
from lmrec.service.engine import Engine

__all__ = ["Eng", "require"]


async def _engine(request: Request) -> Engine:
    # async: FastAPI runs a plain-def dependency in its thread pool, a hop that costs more
    # than the lookup
    eng: Engine = request.app.state.engine
    return eng


#: route parameter type: the app's engine
Eng = Annotated[Engine, Depends(_engine)]


def require(scope: str) -> Any:
    """A dependency that lets a request through only with an API key that has ``scope``
    (every request, when the app has no keys)."""

    def check_factory() -> Callable[[Request], Awaitable[None]]:
        async def check(request: Request) -> None:
            keyring: KeyRing = request.app.state.keys
            if not keyring.enabled:
                return
            scopes = keyring.scopes(request.headers.get("x-api-key"))
            if scopes is None:
                raise HTTPException(401, "missing or unknown API key (header X-API-Key)")
            if scope not in scopes:
                raise HTTPException(403, f"this API key lacks the '{scope}' scope")

        return check

    return Depends(check_factory())
