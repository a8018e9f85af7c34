"""The ASGI middleware every request passes: a request id, security headers, a path check,
the access log and the service's metrics."""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from typing import Any

from lmrec.service.telemetry import Telemetry

__all__ = ["ACCESS_LOG", "SECURITY_HEADERS", "Guard", "enable_access_log"]

#: the logger of one line per request (method, path, status, milliseconds, request id)
ACCESS_LOG = logging.getLogger("lmrec.access")

SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
    (b"strict-transport-security", b"max-age=31536000"),
]
_API_HEADERS = [
    (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'"),
    (b"cache-control", b"no-store"),
]
# the interactive docs load Swagger UI's script and style from its CDN
_DOCS_HEADERS = [
    (b"content-security-policy",
     b"default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
     b"style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
     b"img-src 'self' data: https://fastapi.tiangolo.com; frame-ancestors 'none'"),
]  # fmt: skip
# the web app: its own script, style and API calls, nothing from elsewhere
_APP_HEADERS = [
    (b"content-security-policy",
     b"default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
     b"form-action 'self'; frame-ancestors 'none'"),
    (b"cache-control", b"no-cache"),
]  # fmt: skip
_DOCS = ("/docs", "/redoc", "/docs/oauth2-redirect")
_REQUEST_ID = re.compile(rb"[A-Za-z0-9._:-]{1,64}")


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _readable(path: str) -> bool:
    """A path without control characters and without lone surrogates."""
    if _CONTROL.search(path):
        return False
    if not path.isascii():
        try:
            path.encode("utf-8")
        except UnicodeEncodeError:
            return False
    return True


class Guard:
    """Pure ASGI middleware (cheaper than ``@app.middleware``). Gives each request an id
    (the caller's ``X-Request-ID`` when it is a plain token, else a new one) returned in
    ``X-Request-ID``; adds security headers; refuses paths with control characters or lone
    surrogates (400); logs one access line and records route, status and latency."""

    def __init__(self, app: Any, *, telemetry: Telemetry) -> None:
        self.app = app
        self.telemetry = telemetry

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        given = next((v for k, v in scope.get("headers") or [] if k == b"x-request-id"), None)
        rid = given if given is not None and _REQUEST_ID.fullmatch(given) else None
        request_id = rid or uuid.uuid4().hex.encode()
        scope.setdefault("state", {})["request_id"] = request_id.decode()
        path = scope["path"]
        extra = (
            _DOCS_HEADERS if path in _DOCS
            else _APP_HEADERS if path in ("/", "/console") or path.startswith("/app/")
            else _API_HEADERS
        )  # fmt: skip
        status = {"code": 500}

        async def send_wrapper(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                headers = list(message.get("headers") or [])
                headers += [(b"x-request-id", request_id), *SECURITY_HEADERS, *extra]
                message = {**message, "headers": headers}
            await send(message)

        try:
            if not _readable(scope["path"]):
                body = json.dumps({"detail": "the path holds control or unpaired characters"})
                await send_wrapper({
                    "type": "http.response.start", "status": 400,
                    "headers": [(b"content-type", b"application/json")],
                })  # fmt: skip
                await send_wrapper({"type": "http.response.body", "body": body.encode()})
                return
            await self.app(scope, receive, send_wrapper)
        finally:
            elapsed = time.perf_counter() - start
            route = scope.get("route")
            path = route.path if route is not None and hasattr(route, "path") else "unmatched"
            self.telemetry.latency.labels(path).observe(elapsed)
            self.telemetry.requests.labels(path, str(status["code"])).inc()
            if ACCESS_LOG.isEnabledFor(logging.INFO):
                ACCESS_LOG.info(
                    "%s %s %d %.1fms id=%s", scope["method"], path, status["code"],
                    elapsed * 1000, request_id.decode(),
                )  # fmt: skip


def enable_access_log(on: bool) -> None:
    """Access lines on stderr (``on``) or none: for ``lmrec serve`` and its workers."""
    ACCESS_LOG.setLevel(logging.INFO if on else logging.WARNING)
    if on and not ACCESS_LOG.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
        ACCESS_LOG.addHandler(handler)
        ACCESS_LOG.propagate = False
