"""For the people who run the service: liveness, readiness and metrics."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

router = APIRouter()


@router.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "Still starting"}})
def readyz(request: Request) -> JSONResponse:
    ready = hasattr(request.app.state, "engine")
    return JSONResponse({"ready": ready}, status_code=200 if ready else 503)


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"description": "Prometheus text format",
                     "content": {"text/plain": {"schema": {"type": "string"}}}}},
)  # fmt: skip
def metrics(request: Request) -> Response:
    registry = request.app.state.telemetry.registry
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
