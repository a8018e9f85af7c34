"""The audit log: who did what to the service and to whose data, and when."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from lmrec.service.deps import ERRORS, Eng, require
from lmrec.service.strict import StrictRoute

router = APIRouter(route_class=StrictRoute, responses=ERRORS)


@router.get("/v1/audit", dependencies=[require("admin")])
def audit(
    eng: Eng,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    before: Annotated[int | None, Query(ge=1, le=2**62)] = None,
) -> dict[str, Any]:
    """Records newest first; page with ``before`` = the last ``seq`` seen."""
    return {"records": eng.store.audit_log(limit=limit, before=before)}
