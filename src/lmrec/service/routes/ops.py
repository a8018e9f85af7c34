"""For the people who run the service: liveness, readiness and metrics."""

from __future__ import annotations

import os
import time
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST

from lmrec.service.deps import ERRORS, require

router = APIRouter()


@router.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "Still starting"}})
def readyz(request: Request) -> JSONResponse:
    """Whether this worker has loaded its model, and which worker process answered (with
    ``--workers N``, each answers for itself)."""
    ready = hasattr(request.app.state, "engine")
    return JSONResponse({"ready": ready, "worker": os.getpid()}, status_code=200 if ready else 503)


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"description": "Prometheus text format",
                     "content": {"text/plain": {"schema": {"type": "string"}}}}},
)  # fmt: skip
def metrics(request: Request) -> Response:
    return Response(request.app.state.telemetry.exposition(), media_type=CONTENT_TYPE_LATEST)


@router.get("/v1/ops/traffic", dependencies=[require("admin")], responses=ERRORS)
def traffic(request: Request) -> dict[str, Any]:
    """The service's own counters since start (this worker): requests by route and status,
    and the latency histogram by route. The console turns two readings into rates and
    percentiles over the time between them."""
    telemetry = request.app.state.telemetry
    requests: list[dict[str, Any]] = []
    buckets: dict[str, list[list[float]]] = {}
    for metric in telemetry.registry.collect():
        for sample in metric.samples:
            if sample.name == "lmrec_requests_total":
                requests.append({**sample.labels, "count": sample.value})
            elif sample.name == "lmrec_request_seconds_bucket":
                le = sample.labels["le"]
                buckets.setdefault(sample.labels["route"], []).append(
                    [float("inf") if le == "+Inf" else float(le), sample.value]
                )
    latency = {
        route: [[b if b != float("inf") else None, n] for b, n in sorted(rows)]
        for route, rows in buckets.items()
    }
    return {"at": time.time(), "requests": requests, "latency": latency}
