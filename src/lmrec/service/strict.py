"""Strict request bodies and error responses that always render.

JSON as Python reads it accepts ``NaN`` and ``Infinity`` and strings with lone surrogates
(``"\\ud800"``) or NUL characters, none of which a store, a model or a response can carry.
:class:`StrictRoute` refuses them with 422 before validation; the error handlers render every
error as ASCII JSON, without echoing the offending input.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine, Mapping
from typing import Any

from fastapi import FastAPI
from fastapi import Request as HTTPRequest
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException

from lmrec.errors import UsageError
from lmrec.service.store import StoreUnavailable
from lmrec.service.telemetry import Telemetry

__all__ = ["StrictRoute", "install_error_handlers", "safe_json"]


def safe_json(
    content: Any, status_code: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    """``content`` as ASCII JSON (any odd character escaped, never a failure to encode)."""
    body = json.dumps(content, ensure_ascii=True, allow_nan=False, default=str)
    return Response(body, status_code, headers, media_type="application/json")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _bad_string(value: str) -> str | None:
    if value.isascii():
        return "a NUL character" if "\x00" in value else None
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "an unpaired surrogate"
    return "a NUL character" if "\x00" in value else None


def _check(node: Any, where: str) -> None:
    if isinstance(node, str):
        problem = _bad_string(node)
        if problem:
            raise ValueError(f"{where or 'the body'} holds {problem}")
    elif isinstance(node, dict):
        for key, value in node.items():
            _check(key, f"{where}.{key!a}" if where else repr(key))
            _check(value, f"{where}.{key}" if where else str(key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            _check(value, f"{where}[{i}]")


class _StrictRequest(HTTPRequest):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            body = await self.body()
            try:
                parsed = json.loads(body, parse_constant=_reject_constant)
                _check(parsed, "")
            except ValueError as exc:
                if isinstance(exc, json.JSONDecodeError):
                    raise
                text = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body)
                raise json.JSONDecodeError(str(exc), text, 0) from None
            self._json = parsed
        return self._json


class StrictRoute(APIRoute):
    """A route whose JSON body is parsed strictly (see the module docstring)."""

    def get_route_handler(self) -> Callable[[HTTPRequest], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def strict(request: HTTPRequest) -> Response:
            return await handler(_StrictRequest(request.scope, request.receive))

        return strict


def install_error_handlers(app: FastAPI, telemetry: Telemetry) -> None:
    @app.exception_handler(RequestValidationError)
    async def invalid(_: HTTPRequest, exc: RequestValidationError) -> Response:
        errors = [
            {"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg", "")),
             "type": str(e.get("type", ""))}
            for e in exc.errors()
        ]  # fmt: skip
        for e, raw in zip(errors, exc.errors(), strict=True):
            if raw.get("type") == "json_invalid" and raw.get("ctx", {}).get("error"):
                e["msg"] = f"JSON decode error: {raw['ctx']['error']}"
        return safe_json({"detail": errors}, 422)

    @app.exception_handler(HTTPException)
    async def http_error(_: HTTPRequest, exc: HTTPException) -> Response:
        if exc.status_code in (204, 304):
            return Response(status_code=exc.status_code, headers=exc.headers)
        return safe_json({"detail": exc.detail}, exc.status_code, exc.headers)

    @app.exception_handler(UsageError)
    async def usage_error(_: HTTPRequest, exc: UsageError) -> Response:
        # bad input found past validation (e.g. an unreadable context time): the caller's fault
        return safe_json({"detail": str(exc)}, 422)

    @app.exception_handler(StoreUnavailable)
    async def unavailable(_: HTTPRequest, exc: StoreUnavailable) -> Response:
        # nothing was acknowledged: the client retries (event ids make a retry safe)
        telemetry.unavailable.inc()
        return safe_json({"detail": str(exc)}, 503, {"Retry-After": "1"})
