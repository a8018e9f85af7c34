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
    return {"active": eng.active.describe(), "versions": sorted(eng.versions)}


@router.post("/v1/models/{version}/activate", dependencies=[require("admin")])
def activate(version: PathId, eng: Eng, caller: Who) -> dict[str, Any]:
    try:
        loaded = eng.activate(version)
    except KeyError:
        raise HTTPException(404, f"unknown model version '{version}'") from None
    eng.store.audit(caller.actor, "activate", None, version)
    return {"active": loaded.describe()}
