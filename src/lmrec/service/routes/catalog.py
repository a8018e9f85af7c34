"""The catalog: its items, items added through the API, and similar items."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query

from lmrec.service.deps import ERRORS, Eng, Who, require
from lmrec.service.schemas import MAX_K, ItemIn, PathId
from lmrec.service.strict import StrictRoute

router = APIRouter(route_class=StrictRoute, responses=ERRORS)


@router.get("/v1/items/{item_id}/similar", dependencies=[require("read", users=True)])
def similar(
    item_id: PathId, eng: Eng, k: Annotated[int, Query(ge=1, le=MAX_K)] = 10
) -> dict[str, Any]:
    if item_id not in eng.active.artifacts.item_vocab:
        raise HTTPException(404, f"unknown item id '{item_id}'")
    return {"item_id": item_id, "items": eng.similar(item_id, k)}


@router.get("/v1/items/{item_id}", dependencies=[require("read", users=True)])
def item(item_id: PathId, eng: Eng) -> dict[str, Any]:
    """One item: its title and categories (the trained catalog, or added through the API)."""
    added = eng.added_items().get(item_id)
    if added is not None:
        return {"item_id": item_id, "title": added["title"],
                "categories": list(added.get("categories") or [])}  # fmt: skip
    known = eng.active.catalog.get(item_id)
    if known is None:
        raise HTTPException(404, f"unknown item id '{item_id}'")
    return {"item_id": item_id, "title": known[0], "categories": list(known[1])}


@router.get("/v1/items", dependencies=[require("read", users=True)])
def items(
    eng: Eng,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    """A page of the trained catalog, and the same page of the items added through the API."""
    catalog = eng.active.artifacts.items.select("item_id", "title")
    page = catalog.slice(offset, limit).to_dicts()
    added = list(eng.added_items().values())
    return {
        "total": catalog.height, "items": page,
        "total_added": len(added), "added": added[offset : offset + limit],
    }  # fmt: skip


@router.put("/v1/items", dependencies=[require("admin")])
def put_items(body: list[ItemIn], eng: Eng, caller: Who) -> dict[str, Any]:
    if len(body) > 1000:
        raise HTTPException(422, "at most 1000 items per request")
    eng.upsert_items([i.model_dump() for i in body])
    eng.store.audit(caller.actor, "put items", None, f"{len(body)} items")
    return {"upserted": len(body)}
