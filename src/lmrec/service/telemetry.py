"""The service's own measurements (Prometheus) and the middleware that takes them, which also
refuses bodies over :data:`MAX_BODY`."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from fastapi.responses import JSONResponse
from prometheus_client import CollectorRegistry, Counter, Histogram

__all__ = ["MAX_BODY", "Limits", "Telemetry"]

MAX_BODY = 1 << 20  # 1 MiB


@dataclass
class Telemetry:
    """Request counts by route and status, latency by route, events stored."""

    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        self.requests = Counter(
            "lmrec_requests_total", "HTTP requests", ["route", "status"], registry=self.registry
        )
        self.latency = Histogram(
            "lmrec_request_seconds", "Request latency", ["route"], registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1.0),
        )  # fmt: skip
        self.ingested = Counter("lmrec_events_total", "Events stored", registry=self.registry)


class Limits:
    """Pure ASGI middleware (cheaper than ``@app.middleware``): refuses bodies over
    :data:`MAX_BODY` with 413 and records each request's route, status and latency."""

    def __init__(self, app: Any, *, telemetry: Telemetry) -> None:
        self.app = app
        self.telemetry = telemetry

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
            route = scope.get("route")
            path = route.path if route is not None and hasattr(route, "path") else "unmatched"
            self.telemetry.latency.labels(path).observe(time.perf_counter() - start)
            self.telemetry.requests.labels(path, str(status["code"])).inc()
