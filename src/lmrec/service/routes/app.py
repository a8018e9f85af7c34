"""The web pages, served by the service itself: the app for the people who get the
recommendations (``/``) and the operator console (``/console``). Both call the same API (and
so the same online path) as any client."""

from __future__ import annotations

from importlib.resources import files
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response

router = APIRouter(include_in_schema=False)

_WEB = files("lmrec.service") / "web"
_TYPES = {
    "app.js": "text/javascript", "console.js": "text/javascript", "common.js": "text/javascript",
    "app.css": "text/css",
}  # fmt: skip


@router.get("/")
def page() -> Response:
    return Response((_WEB / "index.html").read_bytes(), media_type="text/html; charset=utf-8")


@router.get("/console")
def console() -> Response:
    """The operator console (the admin key is asked for on the page)."""
    return Response((_WEB / "console.html").read_bytes(), media_type="text/html; charset=utf-8")


@router.get("/app/config.json")
def config(request: Request) -> dict[str, Any]:
    """What the page needs to know: whether the service asks for a token, and whether users
    can rate items (the model's data has ratings)."""
    engine = getattr(request.app.state, "engine", None)
    ratings = bool(engine is not None and engine.active.has_ratings)
    return {"open": bool(request.app.state.settings.no_auth), "ratings": ratings}


@router.get("/app/{name}")
def asset(name: str) -> Response:
    if name not in _TYPES:
        raise HTTPException(404, "no such file")
    return Response((_WEB / name).read_bytes(), media_type=f"{_TYPES[name]}; charset=utf-8")
