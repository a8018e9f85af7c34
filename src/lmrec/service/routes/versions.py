"""Model versions: which are there, which is active, and switching between them."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException

from lmrec.service.deps import ERRORS, Eng, Who, require
from lmrec.service.schemas import PathId
from lmrec.service.strict import StrictRoute

router = APIRouter(route_class=StrictRoute, responses=ERRORS)


@router.get("/v1/models", dependencies=[require("read")])
def models(eng: Eng) -> dict[str, Any]:
    return {
        "active": eng.active.describe(),
        "versions": sorted(eng.versions),
        "details": eng.version_details(),
        "previous": eng.store.get_setting("previous_version"),
    }


@router.post(
    "/v1/models/rollback", dependencies=[require("admin")],
    responses={409: {"description": "No earlier version to go back to"}},
)  # fmt: skip
def rollback(eng: Eng, caller: Who) -> dict[str, Any]:
    """Activate the version that was active before the current one."""
    previous = eng.store.get_setting("previous_version")
    if previous is None or previous not in eng.versions:
        raise HTTPException(409, "no earlier version to go back to")
    loaded = eng.activate(previous)
    eng.store.audit(caller.actor, "rollback", None, previous)
    return {"active": loaded.describe()}


@router.post("/v1/models/{version}/activate", dependencies=[require("admin")])
def activate(version: PathId, eng: Eng, caller: Who) -> dict[str, Any]:
    try:
        loaded = eng.activate(version)
    except KeyError:
        raise HTTPException(404, f"unknown model version '{version}'") from None
    eng.store.audit(caller.actor, "activate", None, version)
    return {"active": loaded.describe()}
